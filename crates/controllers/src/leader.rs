//! Leader election through coordination.k8s.io/v1 Leases, as client-go's leaderelection does.
//!
//! A candidate takes the lease when it does not exist or when its holder has not
//! renewed it for `leaseDurationSeconds` as observed on the candidate's own clock
//! (not by comparing `renewTime` with the local wall clock, which would trust
//! another machine's clock). The holder renews every two seconds; if it cannot
//! renew within the renew deadline it steps down and its work is cancelled.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use tokio::time::Instant;

/// `leaseDurationSeconds` written to the lease.
pub const LEASE_DURATION: Duration = Duration::from_secs(15);
/// How often the holder renews and candidates retry.
pub const RETRY_PERIOD: Duration = Duration::from_secs(2);
/// How long the holder keeps trying to renew before giving up leadership.
pub const RENEW_DEADLINE: Duration = Duration::from_secs(10);

/// Why a lease operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API server failed a read or write of the lease.
    #[error("lease {namespace}/{name}: {source}")]
    Api {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

/// One candidate for one lease.
pub struct LeaderElector {
    api: Api<Lease>,
    namespace: String,
    name: String,
    identity: String,
    /// The last lease record seen and when it was first seen in that state.
    observed: Option<(ObservedRecord, Instant)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ObservedRecord {
    holder: Option<String>,
    renew_time: Option<MicroTime>,
    duration_seconds: Option<i32>,
}

impl ObservedRecord {
    fn of(lease: &Lease) -> Self {
        let spec = lease.spec.clone().unwrap_or_default();
        ObservedRecord {
            holder: spec.holder_identity.filter(|h| !h.is_empty()),
            renew_time: spec.renew_time,
            duration_seconds: spec.lease_duration_seconds,
        }
    }
}

impl LeaderElector {
    /// A candidate named `identity` for the lease `lease_ns/lease_name`.
    pub fn new(client: kube::Client, lease_ns: &str, lease_name: &str, identity: &str) -> Self {
        LeaderElector {
            api: Api::namespaced(client, lease_ns),
            namespace: lease_ns.to_string(),
            name: lease_name.to_string(),
            identity: identity.to_string(),
            observed: None,
        }
    }

    fn err(&self, source: kube::Error) -> Error {
        Error::Api {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            source,
        }
    }

    /// One round of the election: takes or renews the lease when allowed. Returns
    /// whether this candidate holds the lease afterwards.
    pub async fn try_acquire_or_renew(&mut self) -> Result<bool, Error> {
        let now = MicroTime(jiff::Timestamp::now());
        let current = match self.api.get_opt(&self.name).await {
            Ok(l) => l,
            Err(e) => return Err(self.err(e)),
        };
        let Some(mut lease) = current else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    namespace: Some(self.namespace.clone()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(LEASE_DURATION.as_secs() as i32),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(created) => {
                    self.observe(&created);
                    Ok(true)
                }
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(self.err(e)),
            };
        };
        self.observe(&lease);
        let record = ObservedRecord::of(&lease);
        let held_by_me = record.holder.as_deref() == Some(self.identity.as_str());
        if !held_by_me && record.holder.is_some() && !self.observed_expired(&record) {
            return Ok(false);
        }
        let spec = lease.spec.get_or_insert_with(Default::default);
        if !held_by_me {
            spec.acquire_time = Some(now.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.holder_identity = Some(self.identity.clone());
        spec.lease_duration_seconds = Some(LEASE_DURATION.as_secs() as i32);
        spec.renew_time = Some(now);
        // The resourceVersion in `lease` makes this a compare-and-swap: a rival that
        // wrote first gets us a 409 and we stay a follower.
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(updated) => {
                self.observe(&updated);
                Ok(true)
            }
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }

    fn observe(&mut self, lease: &Lease) {
        let record = ObservedRecord::of(lease);
        let changed = self.observed.as_ref().is_none_or(|(r, _)| *r != record);
        if changed {
            self.observed = Some((record, Instant::now()));
        }
    }

    fn observed_expired(&self, record: &ObservedRecord) -> bool {
        let Some((seen, at)) = &self.observed else {
            return false;
        };
        if seen != record {
            return false;
        }
        let duration = record
            .duration_seconds
            .filter(|d| *d > 0)
            .map(|d| Duration::from_secs(d as u64))
            .unwrap_or(LEASE_DURATION);
        at.elapsed() >= duration
    }

    /// Gives the lease up so another candidate can take it at once.
    pub async fn release(&mut self) -> Result<(), Error> {
        let Some(mut lease) = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| self.err(e))?
        else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(Default::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(jiff::Timestamp::now()));
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) | Err(kube::Error::Api(_)) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    /// Waits for the lease, runs `make_work()` while holding it and cancels that
    /// work when the lease is lost; then campaigns again. Returns when a run of the
    /// work finishes on its own (after releasing the lease).
    pub async fn run_while_leader<F, Fut>(&mut self, make_work: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ()>,
    {
        loop {
            self.acquire().await;
            tracing::info!(identity = %self.identity, lease = %self.name, "became leader");
            let work = make_work();
            tokio::pin!(work);
            let mut last_renew = Instant::now();
            let mut tick = tokio::time::interval_at(Instant::now() + RETRY_PERIOD, RETRY_PERIOD);
            let finished = loop {
                tokio::select! {
                    () = &mut work => break true,
                    _ = tick.tick() => {
                        match self.try_acquire_or_renew().await {
                            Ok(true) => last_renew = Instant::now(),
                            Ok(false) => break false,
                            Err(e) => {
                                tracing::warn!(error = %e, "renewing lease");
                                if last_renew.elapsed() >= RENEW_DEADLINE {
                                    break false;
                                }
                            }
                        }
                    }
                }
            };
            if finished {
                if let Err(e) = self.release().await {
                    tracing::warn!(error = %e, "releasing lease");
                }
                return;
            }
            tracing::warn!(identity = %self.identity, lease = %self.name, "lost leadership; stopping work");
        }
    }

    async fn acquire(&mut self) {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => return,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "acquiring lease"),
            }
            tokio::time::sleep(RETRY_PERIOD).await;
        }
    }
}

/// Runs `make_work()` only while `identity` holds the lease `lease_ns/lease_name`;
/// see [`LeaderElector::run_while_leader`].
pub async fn run_while_leader<F, Fut>(
    client: kube::Client,
    lease_ns: &str,
    lease_name: &str,
    identity: &str,
    make_work: F,
) where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    LeaderElector::new(client, lease_ns, lease_name, identity)
        .run_while_leader(make_work)
        .await
}
