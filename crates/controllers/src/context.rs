//! The state controllers share: the client, the informer caches, work queues, expectations, recorders and the clock.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, Deployment, ReplicaSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::cache::Cache;
use crate::events::Recorder;
use crate::expectations::Expectations;

/// Why a reconcile failed; the key is retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the API server failed.
    #[error(transparent)]
    Kube(#[from] kube::Error),
    /// An object could not be encoded for hashing or patching.
    #[error("encoding {what}: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// Wall-clock time for controllers whose logic compares timestamps (availability,
/// progress deadlines, cron schedules). Tests inject a manual clock.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> jiff::Timestamp;

    /// A signal that fires when the time jumps (a manual clock being set), so
    /// time-driven controllers look again at once. None for a real clock.
    fn jumps(&self) -> Option<tokio::sync::watch::Receiver<jiff::Timestamp>> {
        None
    }
}

/// A clock that only moves when told to, for tests that drive schedules.
#[derive(Debug, Clone)]
pub struct ManualClock {
    tx: Arc<tokio::sync::watch::Sender<jiff::Timestamp>>,
}

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: jiff::Timestamp) -> Self {
        ManualClock {
            tx: Arc::new(tokio::sync::watch::Sender::new(at)),
        }
    }

    /// Moves the clock to `at` and wakes time-driven controllers.
    pub fn set(&self, at: jiff::Timestamp) {
        self.tx.send_replace(at);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> jiff::Timestamp {
        *self.tx.borrow()
    }

    fn jumps(&self) -> Option<tokio::sync::watch::Receiver<jiff::Timestamp>> {
        Some(self.tx.subscribe())
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// Everything a reconcile reads or writes through.
pub(crate) struct Ctx {
    pub client: kube::Client,
    pub clock: Arc<dyn Clock>,
    pub pods: Cache<Pod>,
    pub replicasets: Cache<ReplicaSet>,
    pub deployments: Cache<Deployment>,
    pub jobs: Cache<Job>,
    pub nodes: Cache<Node>,
    pub daemonsets: Cache<DaemonSet>,
    pub revisions: Cache<ControllerRevision>,
    pub cronjobs: Cache<CronJob>,
    pub services: Cache<Service>,
    pub endpoint_slices: Cache<EndpointSlice>,
    pub rs_expectations: Expectations,
    pub job_state: crate::job::JobState,
    pub job_events: Recorder,
    pub ds_events: Recorder,
    pub cronjob_events: Recorder,
    pub rs_events: Recorder,
    pub deploy_events: Recorder,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_signals_jumps() {
        let clock = ManualClock::new(jiff::Timestamp::UNIX_EPOCH);
        let dynclock: Arc<dyn Clock> = Arc::new(clock.clone());
        let mut rx = dynclock.jumps().unwrap();
        let later = jiff::Timestamp::from_second(60).unwrap();
        clock.set(later);
        tokio::time::timeout(std::time::Duration::from_secs(1), rx.changed())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(dynclock.now(), later);
    }
}
