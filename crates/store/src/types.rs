//! The values that cross the store's API: keys and revisions, writes and their outcomes, events, options.

use bytes::Bytes;

/// A global revision: strictly increasing, 1 for the first write; 0 means "nothing yet" (or "latest" in reads).
pub type Revision = u64;

/// One object as stored at some revision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The key chosen by the kernel, e.g. `/registry/configmaps/default/foo`.
    pub key: String,
    /// Opaque bytes (the kernel stores JSON).
    pub value: Bytes,
    /// Revision of the write that created this incarnation of the key.
    pub create_revision: Revision,
    /// Revision of the write that produced this value.
    pub mod_revision: Revision,
}

/// What an [`Event`] did to its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The key was created or updated.
    Put,
    /// The key was deleted.
    Delete,
}

/// One committed change, as replayed to watchers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Revision of the write.
    pub revision: Revision,
    /// The key written.
    pub key: String,
    /// Put or Delete.
    pub kind: EventKind,
    /// The new value for a Put; `None` for a Delete.
    pub value: Option<Bytes>,
    /// For a Put the create revision of the object; for a Delete the create revision of the deleted object.
    pub create_revision: Revision,
}

/// The condition a key must satisfy, checked against the state left by all earlier writes, for a write to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// No condition for a Put (create or update). For a Delete the key must exist, as for [`Precondition::Exists`].
    None,
    /// The key must not exist (create). A Delete with this precondition always fails.
    MustNotExist,
    /// The key must exist and its current mod revision must equal this one (compare-and-swap).
    ModRevision(Revision),
    /// The key must exist (update only).
    Exists,
}

/// Produces the bytes of a Put once its revision is known; an `Err` fails that write alone.
pub type Encoder = Box<dyn FnOnce(Revision) -> Result<Vec<u8>, String> + Send>;

/// What a [`Write`] does to its key.
pub enum Op {
    /// Store a new value. `encode` runs on the writer thread with the revision this write will get, so the
    /// kernel can embed `metadata.resourceVersion` in the bytes. If it returns `Err` (or panics) the write fails
    /// with [`crate::Error::Encode`] and nothing is written for it.
    Put {
        /// Builds the value from the write's revision.
        encode: Encoder,
    },
    /// Remove the key (it must exist).
    Delete,
}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Put { .. } => f.write_str("Put"),
            Op::Delete => f.write_str("Delete"),
        }
    }
}

/// One write request.
#[derive(Debug)]
pub struct Write {
    /// The key to write.
    pub key: String,
    /// Checked against the current state just before the write applies.
    pub precondition: Precondition,
    /// Put or Delete.
    pub op: Op,
}

impl Write {
    /// A Put whose value does not depend on its revision.
    pub fn put(
        key: impl Into<String>,
        precondition: Precondition,
        value: impl Into<Vec<u8>>,
    ) -> Write {
        let value = value.into();
        Write {
            key: key.into(),
            precondition,
            op: Op::Put {
                encode: Box::new(move |_| Ok(value)),
            },
        }
    }

    /// A Put whose value is built from the revision it gets.
    pub fn put_with<F>(key: impl Into<String>, precondition: Precondition, encode: F) -> Write
    where
        F: FnOnce(Revision) -> Result<Vec<u8>, String> + Send + 'static,
    {
        Write {
            key: key.into(),
            precondition,
            op: Op::Put {
                encode: Box::new(encode),
            },
        }
    }

    /// A Delete.
    pub fn delete(key: impl Into<String>, precondition: Precondition) -> Write {
        Write {
            key: key.into(),
            precondition,
            op: Op::Delete,
        }
    }
}

/// The outcome of a successful, durable write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The revision the write got.
    pub revision: Revision,
    /// Create revision of the object written (for a Delete: of the deleted object).
    pub create_revision: Revision,
    /// The stored bytes for a Put; `None` for a Delete (the kernel's cache holds the deleted object).
    pub value: Option<Bytes>,
}

/// Called on the writer thread after each group commit is durable and before its writers are acknowledged.
///
/// Receives that group's events in revision order. The kernel updates its in-memory cache here, which gives
/// read-your-writes. It must be fast and must not call back into the store (the writer thread is waiting).
pub trait CommitSink: Send + Sync + 'static {
    /// The events of one durable group commit, in revision order.
    fn committed(&self, events: &[Event]);
}

/// A sink that drops every event, for tools and tests that only read back through the store.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl CommitSink for NullSink {
    fn committed(&self, _events: &[Event]) {}
}

/// How the store commits.
#[derive(Clone, Debug)]
pub struct Options {
    /// `true` (default): every commit is fsynced (`synchronous=FULL`), so an acknowledged write survives power loss.
    /// `false`: `synchronous=NORMAL`, which survives a process crash but not a power loss.
    pub fsync: bool,
    /// Most writes grouped into one transaction and one fsync (default 256; 0 is treated as 1).
    pub max_batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            fsync: true,
            max_batch: 256,
        }
    }
}

/// The state found when the store was opened.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The latest committed revision (0 for a new store).
    pub revision: Revision,
    /// Every current object, sorted by key.
    pub items: Vec<KeyValue>,
    /// History before this revision is gone.
    pub compacted: Revision,
}

/// Counters of the writer thread, for tests, metrics and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// SQLite transactions committed for writes (each one fsync when `fsync` is on).
    pub commits: u64,
    /// Writes committed.
    pub writes: u64,
    /// Writes refused (precondition, encoder) or lost to a failed transaction.
    pub failed_writes: u64,
    /// Compactions that removed history.
    pub compactions: u64,
}
