//! The scheduling queue: active (priority order), backoff and unschedulable pods, on tokio's clock.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    Active,
    Backoff,
    Unschedulable,
    InFlight,
}

#[derive(Debug)]
struct Entry {
    priority: i32,
    seq: u64,
    attempts: u32,
    backoff_until: Instant,
    unschedulable_since: Instant,
    at: Where,
    /// A cluster event arrived while the pod was being scheduled, so a failure
    /// must not park it as unschedulable (the event might have been the fix).
    moved_in_flight: bool,
}

/// Timing of retries.
#[derive(Debug, Clone, Copy)]
pub struct QueueTiming {
    /// Backoff after the first failed attempt (kube-scheduler: 1 s), doubling.
    pub initial_backoff: Duration,
    /// Longest backoff (kube-scheduler: 10 s).
    pub max_backoff: Duration,
    /// Unschedulable pods are retried at least this often (kube-scheduler: 5 min).
    pub unschedulable_timeout: Duration,
}

impl Default for QueueTiming {
    fn default() -> Self {
        QueueTiming {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            unschedulable_timeout: Duration::from_secs(300),
        }
    }
}

/// Pods waiting to be scheduled, by uid.
#[derive(Debug, Default)]
pub struct Queue {
    timing: QueueTiming,
    entries: HashMap<String, Entry>,
    active: BTreeSet<(Reverse<i32>, u64, String)>,
    backoff: BTreeSet<(Instant, String)>,
    /// Unschedulable pods by the time they were parked, so the periodic retry
    /// and the next wakeup need not scan every entry.
    parked: BTreeSet<(Instant, String)>,
    in_flight: HashSet<String>,
    seq: u64,
}

impl Queue {
    /// An empty queue.
    pub fn new(timing: QueueTiming) -> Self {
        Queue {
            timing,
            ..Default::default()
        }
    }

    /// How many pods the queue holds in any state.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether some pod is ready to be scheduled now.
    pub fn has_active(&self) -> bool {
        !self.active.is_empty()
    }

    /// Whether the queue holds no pod.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a new pod to the active queue; a known pod is left where it is.
    pub fn add(&mut self, uid: &str, priority: i32, now: Instant) {
        if self.entries.contains_key(uid) {
            return;
        }
        self.seq += 1;
        self.entries.insert(
            uid.to_string(),
            Entry {
                priority,
                seq: self.seq,
                attempts: 0,
                backoff_until: now,
                unschedulable_since: now,
                at: Where::Active,
                moved_in_flight: false,
            },
        );
        self.active
            .insert((Reverse(priority), self.seq, uid.to_string()));
    }

    /// Forgets a pod (deleted, bound by someone else, no longer ours).
    pub fn remove(&mut self, uid: &str) {
        if let Some(e) = self.entries.remove(uid) {
            self.unlink(uid, &e);
        }
    }

    fn unlink(&mut self, uid: &str, e: &Entry) {
        match e.at {
            Where::Active => {
                self.active
                    .remove(&(Reverse(e.priority), e.seq, uid.to_string()));
            }
            Where::Backoff => {
                self.backoff.remove(&(e.backoff_until, uid.to_string()));
            }
            Where::Unschedulable => {
                self.parked
                    .remove(&(e.unschedulable_since, uid.to_string()));
            }
            Where::InFlight => {
                self.in_flight.remove(uid);
            }
        }
    }

    /// The next pod to schedule, highest priority first, then oldest.
    pub fn pop(&mut self) -> Option<String> {
        let (_, _, uid) = self.active.pop_first()?;
        if let Some(e) = self.entries.get_mut(&uid) {
            e.at = Where::InFlight;
            e.moved_in_flight = false;
            self.in_flight.insert(uid.clone());
        }
        Some(uid)
    }

    fn backoff_for(&self, attempts: u32) -> Duration {
        let shift = attempts.saturating_sub(1).min(16);
        self.timing
            .initial_backoff
            .saturating_mul(1u32 << shift)
            .min(self.timing.max_backoff)
    }

    /// The attempt found no node: park the pod until a cluster event, or back
    /// it off if one already happened meanwhile.
    pub fn unschedulable(&mut self, uid: &str, now: Instant) {
        let backoff = self
            .entries
            .get(uid)
            .map(|e| self.backoff_for(e.attempts + 1));
        let Some(e) = self.entries.get_mut(uid) else {
            return;
        };
        if e.at != Where::InFlight {
            return;
        }
        self.in_flight.remove(uid);
        e.attempts += 1;
        e.backoff_until = now + backoff.unwrap_or_default();
        if e.moved_in_flight {
            e.at = Where::Backoff;
            self.backoff.insert((e.backoff_until, uid.to_string()));
        } else {
            e.at = Where::Unschedulable;
            e.unschedulable_since = now;
            self.parked.insert((now, uid.to_string()));
        }
    }

    /// The attempt failed for a transient reason (binding error): back off.
    pub fn retry_later(&mut self, uid: &str, now: Instant) {
        let backoff = self
            .entries
            .get(uid)
            .map(|e| self.backoff_for(e.attempts + 1));
        let Some(e) = self.entries.get_mut(uid) else {
            return;
        };
        let old = (
            e.at,
            e.backoff_until,
            e.priority,
            e.seq,
            e.unschedulable_since,
        );
        e.attempts += 1;
        e.backoff_until = now + backoff.unwrap_or_default();
        e.at = Where::Backoff;
        let until = e.backoff_until;
        match old.0 {
            Where::Active => {
                self.active
                    .remove(&(Reverse(old.2), old.3, uid.to_string()));
            }
            Where::Backoff => {
                self.backoff.remove(&(old.1, uid.to_string()));
            }
            Where::Unschedulable => {
                self.parked.remove(&(old.4, uid.to_string()));
            }
            Where::InFlight => {
                self.in_flight.remove(uid);
            }
        }
        self.backoff.insert((until, uid.to_string()));
    }

    /// A pod the scheduler assumed is being bound; it leaves the queue.
    pub fn done(&mut self, uid: &str) {
        self.remove(uid);
    }

    /// Moves a parked pod to backoff or active.
    fn activate(&mut self, uid: &str, now: Instant) {
        let Some(e) = self.entries.get_mut(uid) else {
            return;
        };
        if e.at != Where::Unschedulable {
            return;
        }
        self.parked
            .remove(&(e.unschedulable_since, uid.to_string()));
        if e.backoff_until > now {
            e.at = Where::Backoff;
            self.backoff.insert((e.backoff_until, uid.to_string()));
        } else {
            e.at = Where::Active;
            self.active
                .insert((Reverse(e.priority), e.seq, uid.to_string()));
        }
    }

    /// A cluster change (node added or updated, pod removed, volume change) may
    /// make parked pods schedulable: move them to backoff or active.
    pub fn move_all(&mut self, now: Instant) {
        for uid in &self.in_flight {
            if let Some(e) = self.entries.get_mut(uid) {
                e.moved_in_flight = true;
            }
        }
        let parked: Vec<String> = self.parked.iter().map(|(_, u)| u.clone()).collect();
        for uid in parked {
            self.activate(&uid, now);
        }
    }

    /// The pod itself changed: retry it if it was parked.
    pub fn updated(&mut self, uid: &str, now: Instant) {
        if self
            .entries
            .get(uid)
            .is_some_and(|e| e.at == Where::Unschedulable)
        {
            self.activate(uid, now);
        }
    }

    /// Moves expired backoffs to active and re-tries pods parked too long.
    pub fn tick(&mut self, now: Instant) {
        while let Some((until, uid)) = self.backoff.first().cloned() {
            if until > now {
                break;
            }
            self.backoff.pop_first();
            if let Some(e) = self.entries.get_mut(&uid) {
                e.at = Where::Active;
                self.active.insert((Reverse(e.priority), e.seq, uid));
            }
        }
        let timeout = self.timing.unschedulable_timeout;
        while let Some((since, _)) = self.parked.first() {
            if now.duration_since(*since) < timeout {
                break;
            }
            if let Some((_, uid)) = self.parked.pop_first() {
                self.activate(&uid, now);
            }
        }
    }

    /// When `tick` next has work: the earliest backoff expiry or parking timeout.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let backoff = self.backoff.first().map(|(t, _)| *t);
        let parked = self
            .parked
            .first()
            .map(|(since, _)| *since + self.timing.unschedulable_timeout);
        match (backoff, parked) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn priority_then_fifo() {
        let now = Instant::now();
        let mut q = Queue::new(QueueTiming::default());
        q.add("a", 0, now);
        q.add("b", 10, now);
        q.add("c", 0, now);
        assert_eq!(q.pop().as_deref(), Some("b"));
        assert_eq!(q.pop().as_deref(), Some("a"));
        assert_eq!(q.pop().as_deref(), Some("c"));
        assert_eq!(q.pop(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn unschedulable_waits_for_an_event_then_backs_off() {
        let t0 = Instant::now();
        let mut q = Queue::new(QueueTiming::default());
        q.add("p", 0, t0);
        q.pop();
        q.unschedulable("p", t0);
        q.tick(t0 + Duration::from_secs(60));
        assert_eq!(q.pop(), None, "parked until a cluster event");
        // An event 0.5 s later: still inside the 1 s backoff.
        q.move_all(t0 + Duration::from_millis(500));
        assert_eq!(q.pop(), None);
        assert_eq!(q.next_wakeup(), Some(t0 + Duration::from_secs(1)));
        q.tick(t0 + Duration::from_secs(1));
        assert_eq!(q.pop().as_deref(), Some("p"));
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_doubles_up_to_the_cap() {
        let t0 = Instant::now();
        let mut q = Queue::new(QueueTiming::default());
        q.add("p", 0, t0);
        let mut now = t0;
        let mut waits = Vec::new();
        for _ in 0..6 {
            q.pop();
            q.retry_later("p", now);
            let w = q.next_wakeup().unwrap();
            waits.push(w.duration_since(now).as_secs());
            now = w;
            q.tick(now);
        }
        assert_eq!(waits, [1, 2, 4, 8, 10, 10]);
    }

    #[tokio::test(start_paused = true)]
    async fn event_during_attempt_skips_parking() {
        let t0 = Instant::now();
        let mut q = Queue::new(QueueTiming::default());
        q.add("p", 0, t0);
        q.pop();
        q.move_all(t0);
        q.unschedulable("p", t0);
        q.tick(t0 + Duration::from_secs(1));
        assert_eq!(q.pop().as_deref(), Some("p"));
    }

    #[tokio::test(start_paused = true)]
    async fn parked_pods_are_retried_after_five_minutes() {
        let t0 = Instant::now();
        let mut q = Queue::new(QueueTiming::default());
        q.add("p", 0, t0);
        q.pop();
        q.unschedulable("p", t0);
        assert_eq!(q.next_wakeup(), Some(t0 + Duration::from_secs(300)));
        q.tick(t0 + Duration::from_secs(300));
        assert_eq!(q.pop().as_deref(), Some("p"));
        q.remove("p");
        assert!(q.is_empty());
    }
}
