//! Durable revisioned (MVCC) key-value log in SQLite: the etcd of the embedded kernel.
//!
//! Every write gets a global revision; history is kept until compacted so that reads at an old revision
//! (paged LIST) and event replay (watch resume) work. One writer thread owns the write connection, checks
//! preconditions against an in-memory index of live keys and commits queued writes in groups (one transaction,
//! one fsync); reads use separate WAL reader connections.

mod error;
mod reader;
mod schema;
mod types;
mod writer;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::{mpsc, oneshot, watch};

pub use error::{Error, Result};
pub use types::{
    CommitSink, Committed, Encoder, Event, EventKind, KeyValue, NullSink, Op, Options,
    Precondition, Revision, Snapshot, Stats, Write,
};

use reader::ReadPool;
use writer::{Request, Shared, Writer};

/// Handle to an open store; cheap to clone, shared by every task.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    requests: mpsc::UnboundedSender<Request>,
    shared: Arc<Shared>,
    reads: ReadPool,
    stopped: watch::Receiver<()>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .field("revision", &self.revision())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens or creates the database file (e.g. `DATA_DIR/kernel.db`), checks its integrity, loads the current
    /// state and starts the writer thread. The directory must exist. A file that is damaged, not a database,
    /// already open elsewhere or not writable gives [`Error::Open`] with a hint saying what to do.
    pub fn open(
        path: &Path,
        options: Options,
        sink: Arc<dyn CommitSink>,
    ) -> Result<(Store, Snapshot)> {
        let started = std::time::Instant::now();
        let lock = lock(path)?;
        let conn = schema::open_writer(path, options.fsync)?;
        let loaded = schema::load(&conn).map_err(|e| schema::open_error(path, e))?;
        let shared = Arc::new(Shared::default());
        shared.revision.store(loaded.revision, Ordering::Release);
        shared.compacted.store(loaded.compacted, Ordering::Release);
        let (requests, rx) = mpsc::unbounded_channel();
        let (done, stopped) = watch::channel(());
        let snapshot = Snapshot {
            revision: loaded.revision,
            items: loaded.items,
            compacted: loaded.compacted,
        };
        let writer = Writer {
            conn,
            state: loaded.state,
            revision: loaded.revision,
            compacted: loaded.compacted,
            shared: shared.clone(),
            sink,
            max_batch: options.max_batch.max(1),
            lock,
            done,
        };
        std::thread::Builder::new()
            .name("store-writer".to_owned())
            .spawn(move || writer.run(rx))
            .map_err(|e| schema::open_io_error(path, "starting the writer thread", e))?;
        tracing::info!(
            path = %path.display(),
            revision = snapshot.revision,
            compacted = snapshot.compacted,
            objects = snapshot.items.len(),
            fsync = options.fsync,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "opened store"
        );
        let store = Store {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                requests,
                shared,
                reads: ReadPool::new(path.to_path_buf()),
                stopped,
            }),
        };
        Ok((store, snapshot))
    }

    /// One write; resolves when it is durable and the sink has seen it.
    ///
    /// Writes queued together are checked in order against the state left by the ones before them (a failed
    /// precondition or encoder fails only that write), committed in one transaction with one fsync, passed to
    /// the sink, then acknowledged. Dropping the future does not cancel a write already queued.
    pub async fn write(&self, write: Write) -> Result<Committed> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .requests
            .send(Request::Write(write, tx))
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// The live keys in `[start, end)` as of revision `rev` (0 = latest), ascending by key, at most `limit`
    /// (0 = no limit), starting strictly after `after` if given. An empty `end` means no upper bound.
    ///
    /// Returns the items and whether more follow. `rev` below the compaction point gives [`Error::Compacted`],
    /// above the latest revision [`Error::FutureRevision`]. Synchronous: it reads SQLite on the calling thread.
    pub fn range(
        &self,
        start: &str,
        end: &str,
        after: Option<&str>,
        rev: Revision,
        limit: usize,
    ) -> Result<(Vec<KeyValue>, bool)> {
        self.inner.reads.range(start, end, after, rev, limit)
    }

    /// The value of one key as of `rev` (0 = latest), if it was live then.
    pub fn get(&self, key: &str, rev: Revision) -> Result<Option<KeyValue>> {
        let mut end = key.to_owned();
        end.push('\0');
        let (mut items, _) = self.range(key, &end, None, rev, 1)?;
        Ok(items.pop())
    }

    /// Every event with revision greater than `from`, in revision order, at most `limit` (0 = all).
    /// [`Error::Compacted`] if `from` is below the compaction point. Synchronous, like [`Store::range`].
    pub fn events_since(&self, from: Revision, limit: usize) -> Result<Vec<Event>> {
        self.inner.reads.events_since(from, limit)
    }

    /// Drops history older than `rev`, keeping at every key its latest version as of `rev`; reads at `rev` and
    /// later still work. A `rev` at or below the current compaction point does nothing; one above the latest
    /// revision gives [`Error::FutureRevision`]. Runs on the writer thread, after the writes queued before it.
    pub async fn compact(&self, rev: Revision) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .requests
            .send(Request::Compact(rev, tx))
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// The latest committed revision.
    pub fn revision(&self) -> Revision {
        self.inner.shared.revision.load(Ordering::Acquire)
    }

    /// The compaction point: reads below it fail with [`Error::Compacted`].
    pub fn compacted_revision(&self) -> Revision {
        self.inner.shared.compacted.load(Ordering::Acquire)
    }

    /// Counters of the writer thread.
    pub fn stats(&self) -> Stats {
        self.inner.shared.stats()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Commits the writes already queued, then stops the writer thread and closes the database; later writes
    /// fail with [`Error::Closed`]. Returns once the writer thread has released the file.
    pub async fn close(&self) {
        let _ = self.inner.requests.send(Request::Close);
        let mut stopped = self.inner.stopped.clone();
        // The writer never sends on this channel: `changed` resolves with an error when it drops its end.
        while stopped.changed().await.is_ok() {}
    }
}

/// Takes the lock file beside the database, so that a second process (or store) refuses to open it.
fn lock(path: &Path) -> Result<File> {
    let lock_path = schema::lock_path(path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| schema::open_io_error(path, "creating the lock file", e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(Error::Open {
            path: path.to_path_buf(),
            hint: format!(
                "the store is already open in another process (it holds {}); stop that process first",
                lock_path.display()
            ),
            source: "lock held".into(),
        }),
        Err(TryLockError::Error(e)) => Err(schema::open_io_error(path, "locking the lock file", e)),
    }
}
