//! Deployment status: replica counts and the Available and Progressing conditions, as kube-controller-manager computes them.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::rolling::max_unavailable;

pub const PROGRESSING: &str = "Progressing";
pub const AVAILABLE: &str = "Available";
pub const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
pub const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub const RS_UPDATED: &str = "ReplicaSetUpdated";
pub const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub const TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub const PAUSED: &str = "DeploymentPaused";
pub const RESUMED: &str = "DeploymentResumed";

/// A condition stamped with `now` for both times.
pub fn condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: jiff::Timestamp,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_update_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// The condition of `type_`, if present.
pub fn get<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_)
}

/// `SetDeploymentCondition`: same status and reason is a no-op; same status keeps
/// the transition time.
pub fn set(status: &mut DeploymentStatus, mut c: DeploymentCondition) {
    if let Some(cur) = get(status, &c.type_) {
        if cur.status == c.status && cur.reason == c.reason {
            return;
        }
        if cur.status == c.status {
            c.last_transition_time = cur.last_transition_time.clone();
        }
    }
    remove(status, &c.type_);
    status.conditions.get_or_insert_with(Vec::new).push(c);
}

/// Drops the condition of `type_`.
pub fn remove(status: &mut DeploymentStatus, type_: &str) {
    if let Some(cs) = status.conditions.as_mut() {
        cs.retain(|c| c.type_ != type_);
    }
}

fn replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `progressDeadlineSeconds`, unless unset or MaxInt32 (no deadline).
pub fn progress_deadline(d: &Deployment) -> Option<i32> {
    d.spec
        .as_ref()
        .and_then(|s| s.progress_deadline_seconds)
        .filter(|s| *s != i32::MAX)
}

/// `calculateStatus`: counts from the ReplicaSets plus the Available condition.
pub fn calculate(
    d: &Deployment,
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    now: jiff::Timestamp,
) -> DeploymentStatus {
    let st = |r: &ReplicaSet| r.status.clone().unwrap_or_default();
    let available: i32 = all
        .iter()
        .map(|r| st(r).available_replicas.unwrap_or(0))
        .sum();
    let total_spec: i32 = all
        .iter()
        .map(|r| r.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0))
        .sum();
    let prev = d.status.clone().unwrap_or_default();
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation,
        replicas: Some(all.iter().map(|r| st(r).replicas).sum()),
        updated_replicas: Some(new_rs.map(|r| st(r).replicas).unwrap_or(0)),
        ready_replicas: Some(all.iter().map(|r| st(r).ready_replicas.unwrap_or(0)).sum()),
        available_replicas: Some(available),
        unavailable_replicas: Some((total_spec - available).max(0)),
        terminating_replicas: Some(
            all.iter()
                .map(|r| st(r).terminating_replicas.unwrap_or(0))
                .sum(),
        ),
        collision_count: prev.collision_count,
        conditions: prev.conditions,
    };
    if available >= replicas(d) - max_unavailable(d) {
        set(
            &mut status,
            condition(
                AVAILABLE,
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
                now,
            ),
        );
    } else {
        set(
            &mut status,
            condition(
                AVAILABLE,
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
                now,
            ),
        );
    }
    status
}

/// `DeploymentComplete`.
pub fn complete(d: &Deployment, s: &DeploymentStatus) -> bool {
    let r = replicas(d);
    s.updated_replicas == Some(r)
        && s.replicas == Some(r)
        && s.available_replicas == Some(r)
        && s.observed_generation >= d.metadata.generation
}

/// `DeploymentProgressing`: more updated, fewer old, more ready or more available pods.
pub fn progressing(d: &Deployment, s: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let n = |v: Option<i32>| v.unwrap_or(0);
    let old_old = n(old.replicas) - n(old.updated_replicas);
    let new_old = n(s.replicas) - n(s.updated_replicas);
    n(s.updated_replicas) > n(old.updated_replicas)
        || new_old < old_old
        || n(s.ready_replicas) > n(old.ready_replicas)
        || n(s.available_replicas) > n(old.available_replicas)
}

/// `DeploymentTimedOut` as seen at `now`.
pub fn timed_out(d: &Deployment, s: &DeploymentStatus, now: jiff::Timestamp) -> bool {
    let Some(deadline) = progress_deadline(d) else {
        return false;
    };
    let Some(c) = get(s, PROGRESSING) else {
        return false;
    };
    match c.reason.as_deref() {
        Some(NEW_RS_AVAILABLE) => false,
        Some(TIMED_OUT) => true,
        _ => c
            .last_update_time
            .as_ref()
            .is_some_and(|t| t.0 + jiff::SignedDuration::from_secs(i64::from(deadline)) < now),
    }
}

/// `syncRolloutStatus`: the status to write and when to look again for a deadline.
pub fn rollout(
    d: &Deployment,
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    now: jiff::Timestamp,
) -> (DeploymentStatus, Option<Duration>) {
    let mut s = calculate(d, all, new_rs, now);
    let deadline = progress_deadline(d);
    if deadline.is_none() {
        remove(&mut s, PROGRESSING);
    }
    let prev = d.status.clone().unwrap_or_default();
    let cur = get(&prev, PROGRESSING).cloned();
    let is_complete = s.replicas == s.updated_replicas
        && cur
            .as_ref()
            .is_some_and(|c| c.reason.as_deref() == Some(NEW_RS_AVAILABLE));
    let rs_name = new_rs
        .and_then(|r| r.metadata.name.clone())
        .unwrap_or_default();
    if deadline.is_some() && !is_complete {
        if complete(d, &s) {
            set(
                &mut s,
                condition(
                    PROGRESSING,
                    "True",
                    NEW_RS_AVAILABLE,
                    format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                    now,
                ),
            );
        } else if progressing(d, &s) {
            let mut c = condition(
                PROGRESSING,
                "True",
                RS_UPDATED,
                format!("ReplicaSet \"{rs_name}\" is progressing."),
                now,
            );
            if let Some(cur) = &cur {
                if cur.status == "True" {
                    c.last_transition_time = cur.last_transition_time.clone();
                }
                remove(&mut s, PROGRESSING);
            }
            set(&mut s, c);
        } else if timed_out(d, &s, now) {
            set(
                &mut s,
                condition(
                    PROGRESSING,
                    "False",
                    TIMED_OUT,
                    format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                    now,
                ),
            );
        }
    }
    let requeue = match (deadline, get(&s, PROGRESSING)) {
        (Some(secs), Some(c)) if !complete(d, &s) && !timed_out(d, &s, now) => {
            c.last_update_time.as_ref().map(|t| {
                let at = t.0 + jiff::SignedDuration::from_secs(i64::from(secs));
                let left = at.duration_since(now);
                Duration::try_from(left)
                    .unwrap_or_default()
                    .max(Duration::from_secs(1))
            })
        }
        _ => None,
    };
    (s, requeue)
}

/// `checkPausedConditions`: Progressing Unknown while paused, and once more on resume.
pub fn paused_condition(d: &Deployment, s: &mut DeploymentStatus, now: jiff::Timestamp) {
    if progress_deadline(d).is_none() {
        return;
    }
    let cur = get(s, PROGRESSING).and_then(|c| c.reason.clone());
    if cur.as_deref() == Some(TIMED_OUT) {
        return;
    }
    let paused = d.spec.as_ref().and_then(|x| x.paused).unwrap_or(false);
    let exists = cur.as_deref() == Some(PAUSED);
    if paused && !exists {
        set(
            s,
            condition(
                PROGRESSING,
                "Unknown",
                PAUSED,
                "Deployment is paused".into(),
                now,
            ),
        );
    } else if !paused && exists {
        set(
            s,
            condition(
                PROGRESSING,
                "Unknown",
                RESUMED,
                "Deployment is resumed".into(),
                now,
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentSpec, ReplicaSetSpec, ReplicaSetStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn d(replicas: i32, deadline: i32) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                generation: Some(1),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                progress_deadline_seconds: Some(deadline),
                ..Default::default()
            }),
            status: None,
        }
    }

    fn rs(spec: i32, actual: i32, avail: i32) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some("web-abc".into()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(spec),
                ..Default::default()
            }),
            status: Some(ReplicaSetStatus {
                replicas: actual,
                ready_replicas: Some(avail),
                available_replicas: Some(avail),
                ..Default::default()
            }),
        }
    }

    fn t(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn complete_rollout_reports_new_rs_available() {
        let dep = d(2, 600);
        let r = rs(2, 2, 2);
        let (s, requeue) = rollout(&dep, &[&r], Some(&r), t(1000));
        let c = get(&s, PROGRESSING).unwrap();
        assert_eq!(c.reason.as_deref(), Some(NEW_RS_AVAILABLE));
        assert_eq!(
            c.message.as_deref(),
            Some("ReplicaSet \"web-abc\" has successfully progressed.")
        );
        assert_eq!(
            get(&s, AVAILABLE).unwrap().reason.as_deref(),
            Some("MinimumReplicasAvailable")
        );
        assert_eq!(s.unavailable_replicas, Some(0));
        assert!(requeue.is_none());
    }

    #[test]
    fn stuck_rollout_times_out_after_deadline() {
        let mut dep = d(2, 10);
        let mut st = DeploymentStatus::default();
        set(
            &mut st,
            condition(
                PROGRESSING,
                "True",
                NEW_RS_CREATED,
                "Created new replica set \"web-abc\"".into(),
                t(1000),
            ),
        );
        st.replicas = Some(2);
        st.updated_replicas = Some(2);
        dep.status = Some(st);
        let r = rs(2, 2, 0);
        let (s, requeue) = rollout(&dep, &[&r], Some(&r), t(1005));
        assert_eq!(
            get(&s, PROGRESSING).unwrap().reason.as_deref(),
            Some(NEW_RS_CREATED)
        );
        assert_eq!(requeue, Some(Duration::from_secs(5)));
        assert_eq!(get(&s, AVAILABLE).unwrap().status, "False");
        let (s, requeue) = rollout(&dep, &[&r], Some(&r), t(1011));
        let c = get(&s, PROGRESSING).unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_deref()),
            ("False", Some(TIMED_OUT))
        );
        assert!(requeue.is_none());
    }

    #[test]
    fn pause_and_resume_conditions() {
        let mut dep = d(1, 600);
        if let Some(s) = dep.spec.as_mut() {
            s.paused = Some(true);
        }
        let mut s = DeploymentStatus::default();
        paused_condition(&dep, &mut s, t(1));
        assert_eq!(
            get(&s, PROGRESSING).unwrap().reason.as_deref(),
            Some(PAUSED)
        );
        if let Some(x) = dep.spec.as_mut() {
            x.paused = Some(false);
        }
        paused_condition(&dep, &mut s, t(2));
        let c = get(&s, PROGRESSING).unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_deref()),
            ("Unknown", Some(RESUMED))
        );
    }
}
