//! Controller expectations: creations and deletions issued but not yet seen in the cache.
//!
//! A reconcile that runs before the watch has delivered the pods it just created
//! would create them again; while expectations are pending the controllers only
//! update status. Expectations are checked against the cache itself (a created
//! name present, a deleted name gone or terminating), so the order in which the
//! create response and the watch event arrive does not matter, and they expire
//! after five minutes as client-go's do, in case an event was missed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// How long unmet expectations hold back a controller.
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Default)]
struct Pending {
    creates: HashSet<String>,
    deletes: HashSet<String>,
    since: Option<Instant>,
}

/// What the cache says about one child name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Not in the cache.
    Absent,
    /// In the cache and not being deleted.
    Live,
    /// In the cache with a deletionTimestamp.
    Terminating,
}

/// Pending child operations per owner key.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    inner: Arc<Mutex<HashMap<String, Pending>>>,
}

impl Expectations {
    /// No expectations.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that `owner` created the child `name`.
    pub fn expect_create(&self, owner: &str, name: &str) {
        let mut m = self.lock();
        let p = m.entry(owner.to_string()).or_default();
        p.creates.insert(name.to_string());
        p.since.get_or_insert_with(Instant::now);
    }

    /// Records that `owner` deleted the child `name`.
    pub fn expect_delete(&self, owner: &str, name: &str) {
        let mut m = self.lock();
        let p = m.entry(owner.to_string()).or_default();
        p.deletes.insert(name.to_string());
        p.since.get_or_insert_with(Instant::now);
    }

    /// Whether every operation `owner` issued is visible through `seen`; clears the
    /// ones that are. True after [`EXPECTATIONS_TIMEOUT`] regardless.
    pub fn satisfied(&self, owner: &str, seen: impl Fn(&str) -> Seen) -> bool {
        let mut m = self.lock();
        let Some(p) = m.get_mut(owner) else {
            return true;
        };
        p.creates.retain(|n| seen(n) == Seen::Absent);
        p.deletes.retain(|n| seen(n) == Seen::Live);
        let expired = p.since.is_some_and(|s| s.elapsed() >= EXPECTATIONS_TIMEOUT);
        if p.creates.is_empty() && p.deletes.is_empty() || expired {
            m.remove(owner);
            return true;
        }
        false
    }

    /// Forgets `owner` (it was deleted).
    pub fn forget(&self, owner: &str) {
        self.lock().remove(owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pending_until_seen_or_expired() {
        let e = Expectations::new();
        e.expect_create("ns/rs", "p1");
        e.expect_delete("ns/rs", "p2");
        let seen = |p1: Seen, p2: Seen| move |n: &str| if n == "p1" { p1 } else { p2 };
        assert!(!e.satisfied("ns/rs", seen(Seen::Absent, Seen::Live)));
        assert!(
            !e.satisfied("ns/rs", seen(Seen::Absent, Seen::Terminating)),
            "p1 not seen yet"
        );
        assert!(
            e.satisfied("ns/rs", seen(Seen::Live, Seen::Live)),
            "p2's deletion was seen before"
        );
        e.expect_create("ns/rs", "p3");
        tokio::time::advance(EXPECTATIONS_TIMEOUT).await;
        assert!(e.satisfied("ns/rs", |_| Seen::Absent));
        assert!(e.satisfied("other", |_| Seen::Absent));
    }
}
