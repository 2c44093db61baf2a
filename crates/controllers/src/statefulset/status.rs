//! StatefulSet status arithmetic: replica counts per revision, completing a rolling update, and whether a write is needed.

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::Pod;

use super::pod_revision;
use crate::pods;

/// The server has seen the pod: the plan fills missing ordinals with pods built from
/// the template, which have no phase until the API server stores them (as Pending).
pub fn is_created(pod: &Pod) -> bool {
    !pods::phase(pod).is_empty()
}

/// Running with the Ready condition True.
pub fn is_running_and_ready(pod: &Pod) -> bool {
    pods::phase(pod) == "Running" && pods::is_ready(pod)
}

/// Being deleted.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// Ready for at least minReadySeconds.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: jiff::Timestamp) -> bool {
    pods::is_available(pod, min_ready_seconds, now)
}

/// Not serving: not running and ready, not yet available, or terminating.
pub fn is_unavailable(pod: &Pod, min_ready_seconds: i32, now: jiff::Timestamp) -> bool {
    !is_running_and_ready(pod) || is_terminating(pod) || !is_available(pod, min_ready_seconds, now)
}

/// Replica counts over `lists` (Kubernetes' updateStatus): created pods, running
/// and ready ones, available ones, and live pods at the current and update revisions.
pub fn count(
    status: &mut StatefulSetStatus,
    min_ready_seconds: i32,
    now: jiff::Timestamp,
    current: &str,
    update: &str,
    lists: &[&[Pod]],
) {
    let (mut replicas, mut ready, mut available, mut cur, mut upd) = (0, 0, 0, 0, 0);
    for pod in lists.iter().flat_map(|l| l.iter()) {
        if is_created(pod) {
            replicas += 1;
        }
        if is_running_and_ready(pod) {
            ready += 1;
            if is_available(pod, min_ready_seconds, now) {
                available += 1;
            }
        }
        if is_created(pod) && !is_terminating(pod) {
            let rev = pod_revision(pod);
            if rev == current {
                cur += 1;
            }
            if rev == update {
                upd += 1;
            }
        }
    }
    status.replicas = replicas;
    status.ready_replicas = Some(ready);
    status.available_replicas = Some(available);
    status.current_replicas = Some(cur);
    status.updated_replicas = Some(upd);
}

fn is_rolling_update(set: &StatefulSet) -> bool {
    set.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        .is_none_or(|t| t == "RollingUpdate")
}

/// Once every wanted replica is updated and ready, the update revision becomes
/// the current one (Kubernetes' completeRollingUpdate).
pub fn complete_rolling_update(set: &StatefulSet, status: &mut StatefulSetStatus) {
    let want = i32::try_from(super::replicas(set)).unwrap_or(i32::MAX);
    if is_rolling_update(set)
        && status.updated_replicas.unwrap_or(0) == want
        && status.ready_replicas.unwrap_or(0) == want
        && status.replicas == want
    {
        status.current_replicas = status.updated_replicas;
        status.current_revision = status.update_revision.clone();
    }
}

/// Whether `status` differs from what the set records (Kubernetes'
/// inconsistentStatus, plus the collision count so a collision is persisted).
pub fn needs_write(set: &StatefulSet, status: &StatefulSetStatus) -> bool {
    let Some(old) = set.status.as_ref() else {
        return true;
    };
    let n = |v: Option<i32>| v.unwrap_or(0);
    status.observed_generation.unwrap_or(0) > old.observed_generation.unwrap_or(0)
        || status.replicas != old.replicas
        || n(status.current_replicas) != n(old.current_replicas)
        || n(status.ready_replicas) != n(old.ready_replicas)
        || n(status.updated_replicas) != n(old.updated_replicas)
        || n(status.available_replicas) != n(old.available_replicas)
        || status.current_revision != old.current_revision
        || status.update_revision != old.update_revision
        || n(status.collision_count) != n(old.collision_count)
}
