//! The SQLite side: opening connections, the schema, integrity check, loading state, and open-error hints.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use rusqlite::{Connection, ErrorCode, OpenFlags, Row};

use crate::error::Error;
use crate::types::{KeyValue, Revision};

/// Bumped when the on-disk layout changes; a file with a newer version is refused.
pub(crate) const SCHEMA_VERSION: i64 = 1;

// `rev` is the rowid, so revision-ordered scans (events, compaction) walk the table itself and
// `(key, rev)` serves every per-key lookup. `meta.revision` is stored separately so revisions
// never go backwards when compaction removes the newest rows (a deleted key's tombstone).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log (
    rev INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    create_rev INTEGER NOT NULL,
    value BLOB
);
CREATE INDEX IF NOT EXISTS log_key_rev ON log (key, rev);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0), ('compacted', 0);
";

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes the WAL file is truncated to after a checkpoint.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Opens (creating if needed) the writer's connection: WAL, the requested sync level, schema, integrity check.
pub(crate) fn open_writer(path: &Path, fsync: bool) -> Result<Connection, Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| open_error(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| open_error(path, e))?;
    // quick_check first: on a file that is not a database this is the first statement that reads it.
    quick_check(&conn, path)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(|e| open_error(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Open {
            path: path.to_path_buf(),
            hint: format!(
                "SQLite refused WAL mode (journal_mode is {mode}); put the data dir on a local filesystem"
            ),
            source: format!("journal_mode={mode}").into(),
        });
    }
    let sync = if fsync { "FULL" } else { "NORMAL" };
    conn.pragma_update(None, "synchronous", sync)
        .map_err(|e| open_error(path, e))?;
    // After a large compaction the WAL grows; without a limit it would keep that size after checkpoints.
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
        .map_err(|e| open_error(path, e))?;
    conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))
        .map_err(|e| open_error(path, e))?;
    check_schema_version(&conn, path)?;
    Ok(conn)
}

/// Opens a connection for the read pool; it never writes.
pub(crate) fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    // Read-write flags without CREATE: a read-only WAL connection needs the -shm file to exist already,
    // which is not guaranteed after the writer closed; `query_only` keeps it from writing.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

fn quick_check(conn: &Connection, path: &Path) -> Result<(), Error> {
    let mut problems = Vec::new();
    conn.pragma_query(None, "quick_check", |row| {
        let line: String = row.get(0)?;
        if line != "ok" {
            problems.push(line);
        }
        Ok(())
    })
    .map_err(|e| open_error(path, e))?;
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Open {
        path: path.to_path_buf(),
        hint: format!(
            "the database file is damaged; stop sphere, move the file aside and restore it from a backup, \
             or delete the data dir to reset the installation ({} problems, first: {})",
            problems.len(),
            problems[0]
        ),
        source: problems.join("; ").into(),
    })
}

fn check_schema_version(conn: &Connection, path: &Path) -> Result<(), Error> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| open_error(path, e))?;
    if version == 0 {
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(|e| open_error(path, e))?;
    } else if version != SCHEMA_VERSION {
        return Err(Error::Open {
            path: path.to_path_buf(),
            hint: format!(
                "the file has schema version {version} but this build understands version {SCHEMA_VERSION}; \
                 run the sphere release that wrote it"
            ),
            source: format!("user_version={version}").into(),
        });
    }
    Ok(())
}

/// Turns an error met while opening into [`Error::Open`] with a hint an operator can act on.
pub(crate) fn open_error(path: &Path, err: rusqlite::Error) -> Error {
    let hint = match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            "the file is not a SQLite database (or its header is damaged); check that the path points at \
             the kernel database, move the file aside and restore it from a backup, or delete the data dir \
             to reset the installation"
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            "the database file is damaged; stop sphere, move the file aside and restore it from a backup, \
             or delete the data dir to reset the installation"
        }
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            "the file or its directory cannot be written; check that the data dir exists and that this \
             user owns it and can write to it"
        }
        Some(ErrorCode::DiskFull) => "the disk is full; free some space and start again",
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "another process holds the database locked; stop it first"
        }
        Some(ErrorCode::SystemIoFailure) => {
            "the operating system reported an I/O error; check the disk and the filesystem"
        }
        _ => "SQLite failed; see the cause below",
    };
    Error::Open {
        path: path.to_path_buf(),
        hint: hint.to_owned(),
        source: Box::new(err),
    }
}

/// Like [`open_error`] for failures outside SQLite (lock file, data dir).
pub(crate) fn open_io_error(path: &Path, what: &str, err: std::io::Error) -> Error {
    use std::io::ErrorKind;
    let hint = match err.kind() {
        ErrorKind::NotFound => "the data dir does not exist; create it first".to_owned(),
        ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => {
            "the data dir cannot be written; check that this user owns it and can write to it"
                .to_owned()
        }
        ErrorKind::NotADirectory => "a component of the path is a file, not a directory".to_owned(),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            "the disk is full; free some space and start again".to_owned()
        }
        _ => format!("{what} failed"),
    };
    Error::Open {
        path: path.to_path_buf(),
        hint,
        source: Box::new(err),
    }
}

/// The lock file beside the database, held while a store is open so that two processes never write it.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Reads a revision column, refusing negative values a damaged file could hold.
pub(crate) fn rev(row: &Row<'_>, idx: usize) -> rusqlite::Result<Revision> {
    let v: i64 = row.get(idx)?;
    Revision::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(idx, v))
}

/// Converts a revision for SQLite; revisions stay far below `i64::MAX` (one per write).
pub(crate) fn sql(rev: Revision) -> i64 {
    i64::try_from(rev).unwrap_or(i64::MAX)
}

/// `(revision, compacted)` from the meta table, as seen by `conn`'s current transaction.
pub(crate) fn read_meta(conn: &Connection) -> rusqlite::Result<(Revision, Revision)> {
    let mut stmt = conn.prepare_cached("SELECT name, value FROM meta")?;
    let mut rows = stmt.query([])?;
    let (mut revision, mut compacted) = (0, 0);
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        match name.as_str() {
            "revision" => revision = rev(row, 1)?,
            "compacted" => compacted = rev(row, 1)?,
            _ => {}
        }
    }
    Ok((revision, compacted))
}

/// Everything the writer needs at startup.
pub(crate) struct Loaded {
    pub(crate) revision: Revision,
    pub(crate) compacted: Revision,
    pub(crate) items: Vec<KeyValue>,
    pub(crate) state: HashMap<String, (Revision, Revision)>,
}

/// Loads the current objects and the revision counters.
pub(crate) fn load(conn: &Connection) -> rusqlite::Result<Loaded> {
    let (meta_revision, compacted) = read_meta(conn)?;
    let max_rev: Option<i64> = conn.query_row("SELECT MAX(rev) FROM log", [], |row| row.get(0))?;
    let max_rev = max_rev.map_or(Ok(0), |v| {
        Revision::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, v))
    })?;
    let mut stmt = conn.prepare(
        "SELECT key, value, create_rev, rev FROM log AS l
         WHERE deleted = 0 AND rev = (SELECT MAX(n.rev) FROM log AS n WHERE n.key = l.key)
         ORDER BY key",
    )?;
    let items = stmt
        .query_map([], key_value)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let state = items
        .iter()
        .map(|kv| (kv.key.clone(), (kv.create_revision, kv.mod_revision)))
        .collect();
    Ok(Loaded {
        revision: meta_revision.max(max_rev),
        compacted,
        items,
        state,
    })
}

/// Maps a `key, value, create_rev, rev` row.
pub(crate) fn key_value(row: &Row<'_>) -> rusqlite::Result<KeyValue> {
    let value: Option<Vec<u8>> = row.get(1)?;
    Ok(KeyValue {
        key: row.get(0)?,
        value: Bytes::from(value.unwrap_or_default()),
        create_revision: rev(row, 2)?,
        mod_revision: rev(row, 3)?,
    })
}
