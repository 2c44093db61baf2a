//! Read-only queries (historical range reads, event replay) on a small pool of WAL reader connections.

use std::path::PathBuf;
use std::sync::Mutex;

use bytes::Bytes;
use rusqlite::{Connection, Transaction, params};

use crate::error::Error;
use crate::schema::{self, key_value, read_meta, rev, sql};
use crate::types::{Event, EventKind, KeyValue, Revision};

/// Idle connections kept for reuse; more are opened on demand when readers overlap.
const MAX_IDLE: usize = 4;

pub(crate) struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    pub(crate) fn new(path: PathBuf) -> ReadPool {
        ReadPool {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` inside one read transaction, so everything it reads comes from a single snapshot.
    fn with_snapshot<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let mut conn = match taken {
            Some(conn) => conn,
            None => schema::open_reader(&self.path)?,
        };
        let result = conn.transaction().map_err(Error::from).and_then(|tx| {
            let out = f(&tx)?;
            tx.finish()?;
            Ok(out)
        });
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < MAX_IDLE && conn.is_autocommit() {
            idle.push(conn);
        }
        result
    }

    /// See [`crate::Store::range`].
    pub(crate) fn range(
        &self,
        start: &str,
        end: &str,
        after: Option<&str>,
        at: Revision,
        limit: usize,
    ) -> Result<(Vec<KeyValue>, bool), Error> {
        self.with_snapshot(|tx| {
            let (current, compacted) = read_meta(tx)?;
            let at = resolve(at, current, compacted)?;
            let (lower, exclusive) = match after {
                Some(after) if after >= start => (after, true),
                _ => (start, false),
            };
            if !end.is_empty() && lower >= end {
                return Ok((Vec::new(), false));
            }
            let fetch = if limit == 0 {
                -1
            } else {
                i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1
            };
            let mut stmt = tx.prepare_cached(range_sql(exclusive, !end.is_empty()))?;
            let mut items = stmt
                .query_map(params![lower, end, sql(at), fetch], key_value)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let more = limit != 0 && items.len() > limit;
            items.truncate(if limit == 0 { items.len() } else { limit });
            Ok((items, more))
        })
    }

    /// See [`crate::Store::events_since`].
    pub(crate) fn events_since(&self, from: Revision, limit: usize) -> Result<Vec<Event>, Error> {
        self.with_snapshot(|tx| {
            let (_, compacted) = read_meta(tx)?;
            if from < compacted {
                return Err(Error::Compacted {
                    requested: from,
                    compacted,
                });
            }
            let limit = if limit == 0 {
                -1
            } else {
                i64::try_from(limit).unwrap_or(i64::MAX)
            };
            let mut stmt = tx.prepare_cached(
                "SELECT rev, key, deleted, create_rev, value FROM log WHERE rev > ?1 ORDER BY rev LIMIT ?2",
            )?;
            let events = stmt
                .query_map(params![sql(from), limit], |row| {
                    let deleted: bool = row.get(2)?;
                    let value: Option<Vec<u8>> = row.get(4)?;
                    Ok(Event {
                        revision: rev(row, 0)?,
                        key: row.get(1)?,
                        kind: if deleted {
                            EventKind::Delete
                        } else {
                            EventKind::Put
                        },
                        value: if deleted {
                            None
                        } else {
                            Some(Bytes::from(value.unwrap_or_default()))
                        },
                        create_revision: rev(row, 3)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(events)
        })
    }
}

/// The revision a read at `at` (0 = latest) is served at, or why it cannot be.
fn resolve(at: Revision, current: Revision, compacted: Revision) -> Result<Revision, Error> {
    if at == 0 {
        return Ok(current);
    }
    if at < compacted {
        return Err(Error::Compacted {
            requested: at,
            compacted,
        });
    }
    if at > current {
        return Err(Error::FutureRevision {
            requested: at,
            current,
        });
    }
    Ok(at)
}

/// The range query for each bound shape: `?1` lower bound, `?2` end (unused when unbounded), `?3` revision,
/// `?4` row limit (-1 = none). A row is returned when it is its key's latest version at `?3` and not a delete.
fn range_sql(exclusive: bool, bounded: bool) -> &'static str {
    match (exclusive, bounded) {
        (false, true) => {
            "SELECT key, value, create_rev, rev FROM log AS l
             WHERE key >= ?1 AND key < ?2 AND rev <= ?3 AND deleted = 0
               AND rev = (SELECT MAX(n.rev) FROM log AS n WHERE n.key = l.key AND n.rev <= ?3)
             ORDER BY key LIMIT ?4"
        }
        (true, true) => {
            "SELECT key, value, create_rev, rev FROM log AS l
             WHERE key > ?1 AND key < ?2 AND rev <= ?3 AND deleted = 0
               AND rev = (SELECT MAX(n.rev) FROM log AS n WHERE n.key = l.key AND n.rev <= ?3)
             ORDER BY key LIMIT ?4"
        }
        (false, false) => {
            "SELECT key, value, create_rev, rev FROM log AS l
             WHERE key >= ?1 AND ?2 = ?2 AND rev <= ?3 AND deleted = 0
               AND rev = (SELECT MAX(n.rev) FROM log AS n WHERE n.key = l.key AND n.rev <= ?3)
             ORDER BY key LIMIT ?4"
        }
        (true, false) => {
            "SELECT key, value, create_rev, rev FROM log AS l
             WHERE key > ?1 AND ?2 = ?2 AND rev <= ?3 AND deleted = 0
               AND rev = (SELECT MAX(n.rev) FROM log AS n WHERE n.key = l.key AND n.rev <= ?3)
             ORDER BY key LIMIT ?4"
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn resolve_serves_latest_and_refuses_compacted_or_future_revisions() {
        assert_eq!(resolve(0, 9, 5).ok(), Some(9));
        assert_eq!(resolve(5, 9, 5).ok(), Some(5));
        assert!(matches!(
            resolve(4, 9, 5),
            Err(Error::Compacted {
                requested: 4,
                compacted: 5
            })
        ));
        assert!(matches!(
            resolve(10, 9, 5),
            Err(Error::FutureRevision {
                requested: 10,
                current: 9
            })
        ));
    }
}
