//! The pure plan of one StatefulSet sync: which pods and claims to create, fix or delete, in kube-controller-manager's order, and the resulting status.
//!
//! With OrderedReady (monotonic) management the plan stops at the first replica
//! that is missing (after creating it), terminating, not Running and Ready, or
//! not yet available; scale down only starts once every replica is healthy and
//! removes the highest ordinal first, one at a time. Parallel management does
//! all of it at once. Rolling updates then delete the highest-ordinal pods at
//! or above the partition whose revision is not the update revision, while no
//! more than maxUnavailable replicas are unavailable; the recreated pods come
//! back from the update revision.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::status::{
    count, is_available, is_created, is_running_and_ready, is_terminating, is_unavailable,
};
use super::{claims, claims_for, identity_matches, new_pod, ordinal_of, pod_revision};
use crate::deployment::rolling::scaled_value;
use crate::pods;

/// What the plan is computed from.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// The set.
    pub set: &'a StatefulSet,
    /// The pods the set owns (after adoption and release), any order.
    pub pods: &'a [Arc<Pod>],
    /// The claims in the set's namespace, by name.
    pub claims: &'a BTreeMap<String, Arc<PersistentVolumeClaim>>,
    /// Name and template of the current revision (pods below the partition).
    pub current: (&'a str, &'a PodTemplateSpec),
    /// Name and template of the update revision.
    pub update: (&'a str, &'a PodTemplateSpec),
    /// The collision count used to name the update revision.
    pub collision_count: i32,
    /// The time availability is judged at.
    pub now: jiff::Timestamp,
}

/// New owner references for one claim.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRefs {
    /// The claim.
    pub name: String,
    /// Its uid, as a precondition.
    pub uid: Option<String>,
    /// The references it should carry.
    pub owner_references: Vec<OwnerReference>,
    /// Another controller manages it (a warning event is due).
    pub conflicting: bool,
}

/// Why a pod is deleted (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteReason {
    /// It failed or succeeded and is replaced.
    Finished,
    /// Its ordinal is out of range.
    ScaleDown,
    /// It is at an old revision.
    Update,
}

/// One step of a plan, applied in order; the wiring stops at the first failure.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create the missing claims, then the pod, then fix existing claims' references.
    CreatePod {
        pod: Box<Pod>,
        claims: Vec<PersistentVolumeClaim>,
        claim_refs: Vec<ClaimRefs>,
    },
    /// Create claims a pending pod lacks.
    CreateClaims {
        pod: String,
        claims: Vec<PersistentVolumeClaim>,
    },
    /// Restore a pod's identity labels, create its missing claims and fix its
    /// claims' references (Kubernetes' UpdateStatefulPod).
    UpdatePod {
        name: String,
        uid: Option<String>,
        labels: Option<BTreeMap<String, String>>,
        claims: Vec<PersistentVolumeClaim>,
        claim_refs: Vec<ClaimRefs>,
    },
    /// Fix the references of a condemned pod's claims before it goes.
    UpdateClaims(Vec<ClaimRefs>),
    /// Delete a pod (with its uid as precondition).
    DeletePod {
        name: String,
        uid: Option<String>,
        reason: DeleteReason,
    },
    /// A step that cannot proceed: record a warning and stop.
    Fail { reason: String, message: String },
}

/// The outcome of planning.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Steps to apply in order.
    pub actions: Vec<Action>,
    /// The status to record.
    pub status: StatefulSetStatus,
    /// Sync again after this long (a pod becoming available, a blocked step).
    pub requeue_after: Option<Duration>,
}

fn policy_str(set: &StatefulSet) -> &str {
    set.spec
        .as_ref()
        .and_then(|s| s.pod_management_policy.as_deref())
        .unwrap_or("OrderedReady")
}

fn strategy_type(set: &StatefulSet) -> &str {
    set.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        .unwrap_or("RollingUpdate")
}

/// Which revision a newly created replica gets (Kubernetes'
/// newVersionedStatefulSetPod, including its operator precedence).
fn versioned_pod(s: &Snapshot<'_>, ordinal: i64) -> Pod {
    let set = s.set;
    let ru = set
        .spec
        .as_ref()
        .and_then(|x| x.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref());
    let start = super::start_ordinal(set);
    let current_replicas = set
        .status
        .as_ref()
        .and_then(|x| x.current_replicas)
        .unwrap_or(0);
    let below_current = strategy_type(set) == "RollingUpdate"
        && ru.is_none()
        && ordinal < start + i64::from(current_replicas);
    let below_partition = ru.is_some_and(|r| ordinal < start + i64::from(r.partition.unwrap_or(0)));
    let (revision, template) = if below_current || below_partition {
        s.current
    } else {
        s.update
    };
    new_pod(set, template, ordinal, revision)
}

/// The claims of `pod` that exist, with their cached state.
fn existing_claims<'a>(
    s: &Snapshot<'a>,
    pod: &Pod,
) -> Vec<(
    PersistentVolumeClaim,
    Option<&'a Arc<PersistentVolumeClaim>>,
)> {
    claims_for(s.set, ordinal_of(pod))
        .into_iter()
        .map(|(_, c)| {
            let cached = s.claims.get(c.metadata.name.as_deref().unwrap_or_default());
            (c, cached)
        })
        .collect()
}

fn missing_claims(s: &Snapshot<'_>, pod: &Pod) -> Vec<PersistentVolumeClaim> {
    existing_claims(s, pod)
        .into_iter()
        .filter(|(_, cached)| cached.is_none())
        .map(|(c, _)| c)
        .collect()
}

/// Claims whose references do not follow the retention policy, with the fix.
fn claim_fixes(s: &Snapshot<'_>, pod: &Pod) -> Vec<ClaimRefs> {
    existing_claims(s, pod)
        .into_iter()
        .filter_map(|(_, cached)| cached)
        .filter(|c| !claims::owner_up_to_date(s.set, pod, c))
        .map(|c| ClaimRefs {
            name: c.metadata.name.clone().unwrap_or_default(),
            uid: c.metadata.uid.clone(),
            owner_references: claims::desired_refs(s.set, pod, c),
            conflicting: claims::has_unexpected_controller(s.set, pod, c),
        })
        .collect()
}

fn delete(pod: &Pod, reason: DeleteReason) -> Action {
    Action::DeletePod {
        name: pod.metadata.name.clone().unwrap_or_default(),
        uid: pod.metadata.uid.clone(),
        reason,
    }
}

/// Kubernetes' processReplica for `pod`; true means a monotonic sync stops here.
fn process_replica(s: &Snapshot<'_>, pod: &Pod, monotonic: bool, out: &mut Plan) -> bool {
    let set = s.set;
    let min_ready = set
        .spec
        .as_ref()
        .and_then(|x| x.min_ready_seconds)
        .unwrap_or(0);
    let phase = pods::phase(pod);
    if phase == "Failed" || phase == "Succeeded" {
        if !is_terminating(pod) {
            out.actions.push(delete(pod, DeleteReason::Finished));
        }
        return true;
    }
    if !is_created(pod) {
        let cached = existing_claims(s, pod);
        if cached
            .iter()
            .any(|(_, c)| c.is_some_and(|c| claims::claim_is_stale(set, pod, c)))
        {
            // The garbage collector has yet to remove the previous pod's claim.
            return true;
        }
        if let Some((c, _)) = cached
            .iter()
            .find(|(_, c)| c.is_some_and(|c| c.metadata.deletion_timestamp.is_some()))
        {
            out.actions.push(Action::Fail {
                reason: "FailedCreate".into(),
                message: format!(
                    "create Pod {} in StatefulSet {} failed error: pvc {} is being deleted",
                    pod.metadata.name.as_deref().unwrap_or_default(),
                    set.metadata.name.as_deref().unwrap_or_default(),
                    c.metadata.name.as_deref().unwrap_or_default(),
                ),
            });
            return true;
        }
        out.actions.push(Action::CreatePod {
            pod: Box::new(pod.clone()),
            claims: missing_claims(s, pod),
            claim_refs: claim_fixes(s, pod),
        });
        // A new pod has nothing further to check this round.
        return monotonic;
    }
    if phase == "Pending" {
        let missing = missing_claims(s, pod);
        if !missing.is_empty() {
            out.actions.push(Action::CreateClaims {
                pod: pod.metadata.name.clone().unwrap_or_default(),
                claims: missing,
            });
        }
    }
    if monotonic
        && (is_terminating(pod)
            || !is_running_and_ready(pod)
            || !is_available(pod, min_ready, s.now))
    {
        return true;
    }
    let fixes = claim_fixes(s, pod);
    let identity_ok = identity_matches(set, pod);
    let storage_ok = super::storage_matches(set, pod);
    if identity_ok && storage_ok && fixes.is_empty() {
        return false;
    }
    let labels = (!identity_ok).then(|| {
        let mut p = pod.clone();
        super::update_identity(set, &mut p);
        p.metadata.labels.unwrap_or_default()
    });
    out.actions.push(Action::UpdatePod {
        name: pod.metadata.name.clone().unwrap_or_default(),
        uid: pod.metadata.uid.clone(),
        labels,
        claims: if storage_ok {
            Vec::new()
        } else {
            missing_claims(s, pod)
        },
        claim_refs: fixes,
    });
    false
}

/// Plans one sync of `s.set` (Kubernetes' updateStatefulSet and
/// updateStatefulSetStatus).
pub fn plan(s: &Snapshot<'_>) -> Plan {
    let set = s.set;
    let spec = set.spec.clone().unwrap_or_default();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let mut out = Plan {
        status: StatefulSetStatus {
            observed_generation: set.metadata.generation,
            current_revision: Some(s.current.0.to_string()),
            update_revision: Some(s.update.0.to_string()),
            collision_count: Some(s.collision_count),
            conditions: set.status.as_ref().and_then(|x| x.conditions.clone()),
            ..Default::default()
        },
        ..Default::default()
    };
    let owned: Vec<Pod> = s.pods.iter().map(|p| (**p).clone()).collect();
    if set.metadata.deletion_timestamp.is_some() {
        count(
            &mut out.status,
            min_ready,
            s.now,
            s.current.0,
            s.update.0,
            &[&owned],
        );
        finish(s, &mut out);
        return out;
    }

    let start = super::start_ordinal(set);
    let wanted = super::replicas(set);
    let mut slots: Vec<Option<Pod>> = vec![None; usize::try_from(wanted).unwrap_or(0)];
    let mut condemned: Vec<Pod> = Vec::new();
    for p in &owned {
        let o = ordinal_of(p);
        if super::in_ordinal_range(set, o) {
            if let Some(slot) = usize::try_from(o - start)
                .ok()
                .and_then(|i| slots.get_mut(i))
            {
                *slot = Some(p.clone());
            }
        } else if o >= 0 {
            condemned.push(p.clone());
        }
    }
    let replicas: Vec<Pod> = slots
        .into_iter()
        .enumerate()
        .map(|(i, slot)| slot.unwrap_or_else(|| versioned_pod(s, start + i as i64)))
        .collect();
    condemned.sort_by_key(|p| std::cmp::Reverse(ordinal_of(p)));
    let first_unavailable = replicas
        .iter()
        .chain(condemned.iter().rev())
        .find(|p| is_unavailable(p, min_ready, s.now))
        .and_then(|p| p.metadata.name.clone());

    let monotonic = policy_str(set) != "Parallel";
    let stop = |out: &mut Plan| {
        count(
            &mut out.status,
            min_ready,
            s.now,
            s.current.0,
            s.update.0,
            &[&replicas, &condemned],
        );
        finish(s, out);
    };

    for pod in &replicas {
        if process_replica(s, pod, monotonic, &mut out) && monotonic {
            stop(&mut out);
            return out;
        }
    }
    for pod in &condemned {
        let fixes = claim_fixes(s, pod);
        if !fixes.is_empty() {
            out.actions.push(Action::UpdateClaims(fixes));
        }
    }
    for pod in &condemned {
        if is_terminating(pod) {
            if monotonic {
                stop(&mut out);
                return out;
            }
            continue;
        }
        let first = pod.metadata.name == first_unavailable;
        if monotonic
            && !first
            && (!is_running_and_ready(pod) || !is_available(pod, min_ready, s.now))
        {
            stop(&mut out);
            return out;
        }
        out.actions.push(delete(pod, DeleteReason::ScaleDown));
        if monotonic {
            stop(&mut out);
            return out;
        }
    }
    stop(&mut out);
    if strategy_type(set) == "OnDelete" {
        return out;
    }
    rolling_update(s, &replicas, &mut out);
    out
}

/// Deletes old-revision pods at or above the partition, highest ordinal first,
/// while at most maxUnavailable replicas are unavailable (Kubernetes'
/// updateStatefulSetAfterInvariantEstablished; maxUnavailable defaults to 1,
/// which is the classic one-at-a-time update).
fn rolling_update(s: &Snapshot<'_>, replicas: &[Pod], out: &mut Plan) {
    let spec = s.set.spec.clone().unwrap_or_default();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let ru = spec.update_strategy.and_then(|u| u.rolling_update);
    let total = i32::try_from(replicas.len()).unwrap_or(i32::MAX);
    let (update_min, max_unavailable) = match &ru {
        Some(r) => (
            usize::try_from(r.partition.unwrap_or(0)).unwrap_or(0),
            scaled_value(r.max_unavailable.as_ref(), total, false, "1").max(1),
        ),
        None => (0, 1),
    };
    let unavailable = replicas
        .iter()
        .filter(|p| is_unavailable(p, min_ready, s.now))
        .count() as i32;
    if unavailable > max_unavailable {
        return;
    }
    let mut budget = max_unavailable - unavailable;
    for pod in replicas.iter().skip(update_min).rev() {
        if budget <= 0 {
            break;
        }
        if pod_revision(pod) != s.update.0 && !is_terminating(pod) {
            out.actions.push(delete(pod, DeleteReason::Update));
            budget -= 1;
            if let Some(c) = out.status.current_replicas.as_mut() {
                *c -= 1;
            }
        }
    }
}

/// Completes a finished rolling update in the status and decides when to look again.
fn finish(s: &Snapshot<'_>, out: &mut Plan) {
    super::status::complete_rolling_update(s.set, &mut out.status);
    let min_ready = s
        .set
        .spec
        .as_ref()
        .and_then(|x| x.min_ready_seconds)
        .unwrap_or(0);
    let want = i32::try_from(super::replicas(s.set)).unwrap_or(i32::MAX);
    if min_ready > 0 && out.status.available_replicas.unwrap_or(0) != want {
        let soonest = s
            .pods
            .iter()
            .filter_map(|p| pods::until_available(p, min_ready, s.now))
            .min();
        out.requeue_after =
            Some(soonest.unwrap_or(Duration::from_secs(u64::try_from(min_ready).unwrap_or(0))));
    }
    if out.actions.iter().any(|a| matches!(a, Action::Fail { .. })) {
        let again = Duration::from_secs(1);
        out.requeue_after = Some(out.requeue_after.map_or(again, |d| d.min(again)));
    }
}
