//! The store's error type.

use std::path::PathBuf;
use std::sync::Arc;

use crate::types::Revision;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The write's precondition does not hold; `current` is the key's `(create, mod)` revisions if it exists.
    #[error("precondition failed for key {key:?} (current revisions: {current:?})")]
    PreconditionFailed {
        /// The key written.
        key: String,
        /// `(create_revision, mod_revision)` of the key as it is, or `None` if it does not exist.
        current: Option<(Revision, Revision)>,
    },
    /// The requested revision is older than the compaction point; its history is gone.
    #[error("revision {requested} has been compacted (history starts at revision {compacted})")]
    Compacted {
        /// The revision asked for.
        requested: Revision,
        /// The compaction point.
        compacted: Revision,
    },
    /// The requested revision has not been written yet.
    #[error("revision {requested} is newer than the current revision {current}")]
    FutureRevision {
        /// The revision asked for.
        requested: Revision,
        /// The latest committed revision.
        current: Revision,
    },
    /// The write's encoder refused (or panicked); nothing was written for it.
    #[error("encoding the value failed: {0}")]
    Encode(String),
    /// The store could not be opened; `hint` says what to do about it.
    #[error("cannot open the store at {}: {hint}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// What went wrong and what the operator should do.
        hint: String,
        /// The underlying failure.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A SQLite call failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The transaction holding this write failed (e.g. disk full), so the whole group was rolled back.
    #[error("the commit holding this write failed: {0}")]
    CommitFailed(#[source] Arc<rusqlite::Error>),
    /// The store has been closed (or its writer thread has stopped).
    #[error("the store is closed")]
    Closed,
}

/// `Result` with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
