//! A deduplicating work queue of object keys with per-key failure backoff, as client-go's workqueue.
//!
//! A key added while it is queued is queued once; a key added while a worker holds
//! it is queued again only after that worker is done, so one object is never
//! reconciled by two workers at once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// First retry delay after a failed reconcile; doubles per consecutive failure.
const BASE_DELAY: Duration = Duration::from_millis(50);
/// Longest retry delay.
const MAX_DELAY: Duration = Duration::from_secs(60);

#[derive(Default)]
struct State {
    queue: VecDeque<String>,
    dirty: HashSet<String>,
    processing: HashSet<String>,
    failures: HashMap<String, u32>,
}

/// A queue of `namespace/name` keys shared by informer handlers and workers.
#[derive(Clone, Default)]
pub struct Queue {
    state: Arc<Mutex<State>>,
    notify: Arc<Notify>,
}

impl Queue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A worker that panicked while holding the lock left consistent sets behind
        // (every mutation is a single insert or remove), so keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `key` unless it is already waiting.
    pub fn add(&self, key: impl Into<String>) {
        let key = key.into();
        let mut s = self.lock();
        if !s.dirty.insert(key.clone()) {
            return;
        }
        if !s.processing.contains(&key) {
            s.queue.push_back(key);
            drop(s);
            self.notify.notify_one();
        }
    }

    /// Queues `key` after `delay` (tokio's clock, so tests can pause it).
    pub fn add_after(&self, key: impl Into<String>, delay: Duration) {
        let key = key.into();
        if delay.is_zero() {
            self.add(key);
            return;
        }
        let q = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            q.add(key);
        });
    }

    /// Keys waiting, for tests and metrics.
    pub fn len(&self) -> usize {
        self.lock().queue.len()
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn try_take(&self) -> Option<String> {
        let mut s = self.lock();
        let key = s.queue.pop_front()?;
        s.dirty.remove(&key);
        s.processing.insert(key.clone());
        Some(key)
    }

    async fn take(&self) -> String {
        loop {
            let notified = self.notify.notified();
            if let Some(k) = self.try_take() {
                return k;
            }
            notified.await;
        }
    }

    fn done(&self, key: &str) {
        let mut s = self.lock();
        s.processing.remove(key);
        if s.dirty.contains(key) {
            s.queue.push_back(key.to_string());
            drop(s);
            self.notify.notify_one();
        }
    }

    fn failed(&self, key: &str) -> Duration {
        let mut s = self.lock();
        let n = s.failures.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        backoff(*n)
    }

    fn forget(&self, key: &str) {
        self.lock().failures.remove(key);
    }

    /// Runs `workers` workers calling `reconcile(key)` until `cancel` fires. A
    /// reconcile returns `Ok(Some(d))` to be called again after `d`, and an error to
    /// be retried with exponential backoff.
    pub async fn run<F, Fut, E>(
        &self,
        workers: usize,
        cancel: CancellationToken,
        name: &'static str,
        reconcile: F,
    ) where
        F: Fn(String) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<Duration>, E>> + Send,
        E: std::fmt::Display,
    {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..workers.max(1) {
            let q = self.clone();
            let f = reconcile.clone();
            let cancel = cancel.clone();
            tasks.spawn(async move {
                loop {
                    let key = tokio::select! {
                        () = cancel.cancelled() => return,
                        k = q.take() => k,
                    };
                    let result = f(key.clone()).await;
                    q.done(&key);
                    match result {
                        Ok(None) => q.forget(&key),
                        Ok(Some(after)) => {
                            q.forget(&key);
                            q.add_after(key, after);
                        }
                        Err(e) => {
                            let delay = q.failed(&key);
                            tracing::debug!(controller = name, %key, error = %e, ?delay, "reconcile failed; retrying");
                            q.add_after(key, delay);
                        }
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// Retry delay after `failures` consecutive failures.
pub fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    BASE_DELAY.saturating_mul(1u32 << exp).min(MAX_DELAY)
}

/// The queue key of a namespaced object.
pub fn key(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

/// Splits a key into namespace and name.
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once('/').unwrap_or(("", key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedups_waiting_keys() {
        let q = Queue::new();
        q.add("a/b");
        q.add("a/b");
        q.add("a/c");
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn key_added_while_processing_is_requeued_after_done() {
        let q = Queue::new();
        q.add("k");
        let k = q.try_take().unwrap();
        q.add("k");
        assert_eq!(q.len(), 0, "not handed to a second worker while held");
        q.done(&k);
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_millis(50));
        assert_eq!(backoff(2), Duration::from_millis(100));
        assert_eq!(backoff(5), Duration::from_millis(800));
        assert_eq!(backoff(40), MAX_DELAY);
    }

    #[test]
    fn keys_round_trip() {
        assert_eq!(split_key(&key("ns", "n")), ("ns", "n"));
        assert_eq!(split_key(&key("", "node1")), ("", "node1"));
    }
}
