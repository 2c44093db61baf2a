//! The single writer thread: group commit of queued writes, precondition checks, compaction.

use std::collections::HashMap;
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rusqlite::{Connection, params};
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::Error;
use crate::schema::sql;
use crate::types::{
    CommitSink, Committed, Event, EventKind, Op, Precondition, Revision, Stats, Write,
};

/// A message to the writer thread.
pub(crate) enum Request {
    Write(Write, oneshot::Sender<Result<Committed, Error>>),
    Compact(Revision, oneshot::Sender<Result<(), Error>>),
    /// Commit what is queued, then stop.
    Close,
}

/// Counters shared between the writer thread and the [`crate::Store`] handles.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) revision: AtomicU64,
    pub(crate) compacted: AtomicU64,
    commits: AtomicU64,
    writes: AtomicU64,
    failed_writes: AtomicU64,
    compactions: AtomicU64,
}

impl Shared {
    pub(crate) fn stats(&self) -> Stats {
        Stats {
            commits: self.commits.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            failed_writes: self.failed_writes.load(Ordering::Relaxed),
            compactions: self.compactions.load(Ordering::Relaxed),
        }
    }
}

/// How long the writer waits for the writers it just acknowledged to queue their next write.
const GATHER_WINDOW: Duration = Duration::from_micros(500);

/// Tops `queue` up towards `expected` requests, for at most [`GATHER_WINDOW`].
///
/// Writers acknowledged by one commit mostly come straight back, but a few microseconds apart; without this
/// wait the next group holds only the first of them and the rest wait a whole fsync, so groups alternate
/// between tiny and large. With one writer `expected` is 1 and nothing waits.
fn gather(rx: &mut mpsc::UnboundedReceiver<Request>, queue: &mut Vec<Request>, expected: usize) {
    let deadline = Instant::now() + GATHER_WINDOW;
    while queue.len() < expected {
        match rx.try_recv() {
            Ok(request) => queue.push(request),
            Err(mpsc::error::TryRecvError::Empty) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_micros(50));
            }
            Err(_) => break,
        }
    }
}

/// `(create_revision, mod_revision)` of a live key.
type Current = Option<(Revision, Revision)>;

type Waiter = oneshot::Sender<Result<Committed, Error>>;

pub(crate) struct Writer {
    pub(crate) conn: Connection,
    pub(crate) state: HashMap<String, (Revision, Revision)>,
    pub(crate) revision: Revision,
    pub(crate) compacted: Revision,
    pub(crate) shared: Arc<Shared>,
    pub(crate) sink: Arc<dyn CommitSink>,
    pub(crate) max_batch: usize,
    /// Held (locked) until the thread ends, so another open of the same file fails fast.
    pub(crate) lock: File,
    /// Dropped when the thread ends; `close()` waits for that.
    pub(crate) done: watch::Sender<()>,
}

impl Writer {
    pub(crate) fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        let mut queue = Vec::with_capacity(self.max_batch);
        let mut group = Vec::with_capacity(self.max_batch);
        let mut last_group = 0;
        // Returns 0 only once every sender is gone or the channel was closed and drained.
        while rx.blocking_recv_many(&mut queue, self.max_batch) > 0 {
            gather(&mut rx, &mut queue, last_group.min(self.max_batch));
            last_group = queue.len();
            for request in queue.drain(..) {
                match request {
                    Request::Write(write, waiter) => group.push((write, waiter)),
                    Request::Compact(rev, waiter) => {
                        // Writes queued before the compaction commit first, keeping request order.
                        self.commit_group(&mut group);
                        let _ = waiter.send(self.compact(rev));
                    }
                    Request::Close => rx.close(),
                }
            }
            self.commit_group(&mut group);
        }
        let Writer {
            conn, lock, done, ..
        } = self;
        if let Err((_, e)) = conn.close() {
            tracing::warn!(error = %e, "closing the store database failed");
        }
        drop(lock);
        drop(done);
        tracing::debug!("store writer stopped");
    }

    /// Applies `group` in order inside one transaction, commits it (one fsync), tells the sink, then answers.
    fn commit_group(&mut self, group: &mut Vec<(Write, Waiter)>) {
        if group.is_empty() {
            return;
        }
        let mut staged = Staged::new(self.revision);
        let mut failure = None;
        let mut lost: Vec<Waiter> = Vec::new();
        let mut pending = group.drain(..);
        if let Err(e) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            failure = Some(e);
        } else {
            for (write, waiter) in pending.by_ref() {
                if let Err((e, waiter)) = staged.apply(&self.conn, &self.state, write, waiter) {
                    lost.push(waiter);
                    failure = Some(e);
                    break;
                }
            }
            if failure.is_none() {
                failure = self.finish(&staged).err();
            }
        }
        lost.extend(pending.map(|(_, waiter)| waiter));
        let Some(e) = failure else {
            self.publish(staged);
            return;
        };
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        tracing::error!(error = %e, "store commit failed; the group was rolled back");
        let e = Arc::new(e);
        let failed = staged.outcomes.len() + lost.len();
        self.shared
            .failed_writes
            .fetch_add(failed as u64, Ordering::Relaxed);
        for (waiter, outcome) in staged.outcomes {
            // A write refused on its own merits keeps that answer; the others were lost with the commit.
            let answer = match outcome {
                Err(refusal) => Err(refusal),
                Ok(_) => Err(Error::CommitFailed(e.clone())),
            };
            let _ = waiter.send(answer);
        }
        for waiter in lost {
            let _ = waiter.send(Err(Error::CommitFailed(e.clone())));
        }
    }

    fn finish(&self, staged: &Staged) -> rusqlite::Result<()> {
        if staged.revision == self.revision {
            // Nothing was written (every write refused): no commit, no fsync.
            return self.conn.execute_batch("ROLLBACK");
        }
        self.conn
            .prepare_cached("UPDATE meta SET value = ?1 WHERE name = 'revision'")?
            .execute([sql(staged.revision)])?;
        self.conn.execute_batch("COMMIT")
    }

    /// After a durable commit: adopt the new state, tell the sink, answer the waiters.
    fn publish(&mut self, staged: Staged) {
        let Staged {
            revision,
            overlay,
            events,
            outcomes,
        } = staged;
        if revision != self.revision {
            for (key, current) in overlay {
                match current {
                    Some(revs) => self.state.insert(key, revs),
                    None => self.state.remove(&key),
                };
            }
            self.revision = revision;
            self.shared.revision.store(revision, Ordering::Release);
            self.shared.commits.fetch_add(1, Ordering::Relaxed);
            self.shared
                .writes
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            self.sink.committed(&events);
        }
        let refused = outcomes.iter().filter(|(_, o)| o.is_err()).count();
        self.shared
            .failed_writes
            .fetch_add(refused as u64, Ordering::Relaxed);
        for (waiter, outcome) in outcomes {
            let _ = waiter.send(outcome);
        }
    }

    /// Drops history before `rev`, keeping at every key its latest live version as of `rev`.
    fn compact(&mut self, rev: Revision) -> Result<(), Error> {
        if rev > self.revision {
            return Err(Error::FutureRevision {
                requested: rev,
                current: self.revision,
            });
        }
        if rev <= self.compacted {
            return Ok(());
        }
        let started = Instant::now();
        let removed = match self.compact_rows(rev) {
            Ok(removed) => removed,
            Err(e) => {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                tracing::error!(error = %e, revision = rev, "store compaction failed");
                return Err(e.into());
            }
        };
        self.compacted = rev;
        self.shared.compacted.store(rev, Ordering::Release);
        self.shared.compactions.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            revision = rev,
            removed,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "compacted store history"
        );
        Ok(())
    }

    fn compact_rows(&self, rev: Revision) -> rusqlite::Result<usize> {
        // Rows at or before the previous compaction point are each the latest live version of their key,
        // so only keys written since then can have rows to drop: the scan is bounded by recent history.
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let removed = self.conn.execute(
            "DELETE FROM log WHERE rev IN (
                 SELECT o.rev FROM log AS o
                 WHERE o.key IN (SELECT key FROM log WHERE rev > ?1 AND rev <= ?2)
                   AND o.rev <= ?2
                   AND (o.deleted = 1
                        OR o.rev < (SELECT MAX(n.rev) FROM log AS n WHERE n.key = o.key AND n.rev <= ?2)))",
            params![sql(self.compacted), sql(rev)],
        )?;
        self.conn.execute(
            "UPDATE meta SET value = ?1 WHERE name = 'compacted'",
            [sql(rev)],
        )?;
        self.conn.execute_batch("COMMIT")?;
        Ok(removed)
    }
}

/// One group's writes as applied inside the open transaction, not yet committed.
struct Staged {
    /// Revision of the last write applied (the writer's revision if none).
    revision: Revision,
    /// Keys changed by this group: `None` once deleted.
    overlay: HashMap<String, Current>,
    events: Vec<Event>,
    outcomes: Vec<(Waiter, Result<Committed, Error>)>,
}

impl Staged {
    fn new(revision: Revision) -> Staged {
        Staged {
            revision,
            overlay: HashMap::new(),
            events: Vec::new(),
            outcomes: Vec::new(),
        }
    }

    /// Checks and inserts one write, recording its answer in `outcomes`. A SQLite failure hands the waiter
    /// back, since the whole group is then rolled back.
    fn apply(
        &mut self,
        conn: &Connection,
        state: &HashMap<String, (Revision, Revision)>,
        write: Write,
        waiter: Waiter,
    ) -> Result<(), (rusqlite::Error, Waiter)> {
        let Write {
            key,
            precondition,
            op,
        } = write;
        let current = match self.overlay.get(&key) {
            Some(current) => *current,
            None => state.get(&key).copied(),
        };
        let is_delete = matches!(op, Op::Delete);
        if !precondition_holds(precondition, is_delete, current) {
            let refused = Err(Error::PreconditionFailed { key, current });
            self.outcomes.push((waiter, refused));
            return Ok(());
        }
        let rev = self.revision + 1;
        let (create, value) = match op {
            Op::Put { encode } => {
                let encoded = match catch_unwind(AssertUnwindSafe(|| encode(rev))) {
                    Ok(Ok(bytes)) => bytes,
                    Ok(Err(message)) => {
                        self.outcomes.push((waiter, Err(Error::Encode(message))));
                        return Ok(());
                    }
                    Err(_) => {
                        let message = format!("the encoder for {key:?} panicked");
                        self.outcomes.push((waiter, Err(Error::Encode(message))));
                        return Ok(());
                    }
                };
                (current.map_or(rev, |(create, _)| create), Some(encoded))
            }
            // precondition_holds refuses a Delete of a missing key.
            Op::Delete => (current.map_or(rev, |(create, _)| create), None),
        };
        let inserted = conn
            .prepare_cached(
                "INSERT INTO log (rev, key, deleted, create_rev, value) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    sql(rev),
                    key,
                    value.is_none(),
                    sql(create),
                    value.as_deref()
                ])
            });
        if let Err(e) = inserted {
            return Err((e, waiter));
        }
        let value = value.map(Bytes::from);
        self.revision = rev;
        self.overlay
            .insert(key.clone(), value.as_ref().map(|_| (create, rev)));
        self.events.push(Event {
            revision: rev,
            key,
            kind: if value.is_some() {
                EventKind::Put
            } else {
                EventKind::Delete
            },
            value: value.clone(),
            create_revision: create,
        });
        let committed = Committed {
            revision: rev,
            create_revision: create,
            value,
        };
        self.outcomes.push((waiter, Ok(committed)));
        Ok(())
    }
}

/// Whether `precondition` holds for a write on a key whose state is `current`.
pub(crate) fn precondition_holds(
    precondition: Precondition,
    is_delete: bool,
    current: Current,
) -> bool {
    match precondition {
        Precondition::None => !is_delete || current.is_some(),
        Precondition::MustNotExist => !is_delete && current.is_none(),
        Precondition::ModRevision(want) => current.is_some_and(|(_, modified)| modified == want),
        Precondition::Exists => current.is_some(),
    }
}
