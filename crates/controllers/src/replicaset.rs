//! The ReplicaSet controller: a pure plan over a snapshot of pods, and the wiring that applies it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::context::{Ctx, Error};
use crate::events::{EventType, object_reference};
use crate::expectations::Seen;
use crate::pods;
use crate::queue;

/// Most pods created or deleted in one reconcile, as kube-controller-manager's burstReplicas.
pub const BURST_REPLICAS: usize = 500;

/// What one reconcile of a ReplicaSet should do.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Orphan pods that match the selector: take them over.
    pub adopt: Vec<String>,
    /// Owned pods that no longer match: let them go.
    pub release: Vec<String>,
    /// Pods to create from the template.
    pub create: usize,
    /// Pods to delete, most expendable first.
    pub delete: Vec<String>,
    /// The status to write.
    pub status: ReplicaSetStatus,
    /// Call again after this long (a ready pod turns available).
    pub requeue_after: Option<Duration>,
}

/// Plans a ReplicaSet against the pods it may claim: its own and its namespace's
/// orphans (pods of other controllers are skipped if given). `manage` is false while
/// expectations are pending: only status and ownership are then touched.
pub fn plan(rs: &ReplicaSet, ns_pods: &[Arc<Pod>], now: jiff::Timestamp, manage: bool) -> Plan {
    let uid = rs.metadata.uid.as_deref().unwrap_or_default();
    let spec = rs.spec.clone().unwrap_or_default();
    let deleting = rs.metadata.deletion_timestamp.is_some();
    let empty_selector = pods::selector_is_empty(&spec.selector);
    let mut plan = Plan::default();
    let mut claimed: Vec<&Pod> = Vec::new();
    let no_labels = BTreeMap::new();
    for p in ns_pods {
        let labels = p.metadata.labels.as_ref().unwrap_or(&no_labels);
        let matches = !empty_selector && pods::selector_matches(&spec.selector, labels);
        let name = || p.metadata.name.clone().unwrap_or_default();
        match pods::controller_ref(&p.metadata) {
            Some(r) if r.uid == uid => {
                if matches || deleting {
                    claimed.push(p);
                } else {
                    plan.release.push(name());
                }
            }
            Some(_) => {}
            None => {
                if matches && !deleting && p.metadata.deletion_timestamp.is_none() {
                    plan.adopt.push(name());
                    claimed.push(p);
                }
            }
        }
    }
    let mut active: Vec<&Pod> = claimed
        .iter()
        .copied()
        .filter(|p| pods::is_active(p))
        .collect();
    let want = spec.replicas.unwrap_or(1).max(0) as usize;
    if manage && !deleting {
        if active.len() < want {
            plan.create = (want - active.len()).min(BURST_REPLICAS);
        } else if active.len() > want {
            let n = (active.len() - want).min(BURST_REPLICAS);
            active.sort_by(|a, b| pods::deletion_order(a, b));
            plan.delete = active[..n]
                .iter()
                .filter_map(|p| p.metadata.name.clone())
                .collect();
        }
    }
    let min_ready = spec.min_ready_seconds.unwrap_or(0);
    let template_labels = spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    let mut status = ReplicaSetStatus {
        replicas: active.len() as i32,
        observed_generation: rs.metadata.generation,
        conditions: rs.status.as_ref().and_then(|s| s.conditions.clone()),
        ..Default::default()
    };
    let (mut labeled, mut ready, mut available) = (0, 0, 0);
    for p in &active {
        let labels = p.metadata.labels.as_ref().unwrap_or(&no_labels);
        if template_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
        {
            labeled += 1;
        }
        if pods::is_ready(p) {
            ready += 1;
            if pods::is_available(p, min_ready, now) {
                available += 1;
            } else if let Some(d) = pods::until_available(p, min_ready, now) {
                plan.requeue_after = Some(plan.requeue_after.map_or(d, |r| r.min(d)));
            }
        }
    }
    let terminating = claimed
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_some())
        .count() as i32;
    status.fully_labeled_replicas = Some(labeled);
    status.ready_replicas = Some(ready);
    status.available_replicas = Some(available);
    status.terminating_replicas = Some(terminating);
    plan.status = status;
    plan
}

/// Reconciles the ReplicaSet `key` (`namespace/name`).
pub(crate) async fn reconcile(ctx: Arc<Ctx>, key: String) -> Result<Option<Duration>, Error> {
    let (ns, name) = queue::split_key(&key);
    let Some(rs) = ctx.replicasets.find(ns, name) else {
        ctx.rs_expectations.forget(&key);
        return Ok(None);
    };
    let ns_pods = ctx
        .pods
        .claimable_by(ns, rs.metadata.uid.as_deref().unwrap_or_default());
    let manage = ctx
        .rs_expectations
        .satisfied(&key, |n| match ctx.pods.find(ns, n) {
            None => Seen::Absent,
            Some(p) if p.metadata.deletion_timestamp.is_some() => Seen::Terminating,
            Some(_) => Seen::Live,
        });
    let plan = plan(&rs, &ns_pods, ctx.clock.now(), manage);
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let owner_ref = pods::new_controller_ref(rs.as_ref());
    for p in &plan.adopt {
        let pod = ns_pods
            .iter()
            .find(|x| x.metadata.name.as_deref() == Some(p));
        let mut refs = pod
            .and_then(|x| x.metadata.owner_references.clone())
            .unwrap_or_default();
        refs.push(owner_ref.clone());
        let uid = pod.and_then(|x| x.metadata.uid.clone());
        let patch = json!({"metadata": {"ownerReferences": refs, "uid": uid}});
        ignore_not_found(
            pods_api
                .patch(p, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
    }
    for p in &plan.release {
        let pod = ns_pods
            .iter()
            .find(|x| x.metadata.name.as_deref() == Some(p));
        let refs: Vec<_> = pod
            .and_then(|x| x.metadata.owner_references.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|r| Some(&r.uid) != rs.metadata.uid.as_ref())
            .collect();
        let uid = pod.and_then(|x| x.metadata.uid.clone());
        let patch = json!({"metadata": {"ownerReferences": refs, "uid": uid}});
        ignore_not_found(
            pods_api
                .patch(p, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
    }
    let mut first_error = None;
    if plan.create > 0 {
        let template = rs
            .spec
            .as_ref()
            .and_then(|s| s.template.clone())
            .unwrap_or_default();
        let pod = pods::pod_from_template(
            &template,
            ns,
            Some(format!("{name}-")),
            None,
            owner_ref.clone(),
        );
        // Slow start, as client-go: a failing create (quota, admission) costs one
        // request rather than hundreds.
        let pp = PostParams::default();
        let mut remaining = plan.create;
        let mut batch = 1;
        'batches: while remaining > 0 {
            let n = batch.min(remaining);
            let results = join_all((0..n).map(|_| pods_api.create(&pp, &pod))).await;
            for r in results {
                match r {
                    Ok(created) => {
                        let pname = created.metadata.name.clone().unwrap_or_default();
                        ctx.rs_expectations.expect_create(&key, &pname);
                        ctx.rs_events
                            .record(
                                &object_reference(rs.as_ref()),
                                EventType::Normal,
                                "SuccessfulCreate",
                                &format!("Created pod: {pname}"),
                            )
                            .await;
                    }
                    Err(e) => {
                        ctx.rs_events
                            .record(
                                &object_reference(rs.as_ref()),
                                EventType::Warning,
                                "FailedCreate",
                                &format!("Error creating: {}", error_message(&e)),
                            )
                            .await;
                        first_error.get_or_insert(e);
                    }
                }
            }
            if first_error.is_some() {
                break 'batches;
            }
            remaining -= n;
            batch *= 2;
        }
    }
    if !plan.delete.is_empty() {
        for p in &plan.delete {
            ctx.rs_expectations.expect_delete(&key, p);
        }
        let dp = DeleteParams::default();
        let results = join_all(plan.delete.iter().map(|p| pods_api.delete(p, &dp))).await;
        for (p, r) in plan.delete.iter().zip(results) {
            match r {
                Ok(_) => {
                    ctx.rs_events
                        .record(
                            &object_reference(rs.as_ref()),
                            EventType::Normal,
                            "SuccessfulDelete",
                            &format!("Deleted pod: {p}"),
                        )
                        .await;
                }
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => {
                    ctx.rs_events
                        .record(
                            &object_reference(rs.as_ref()),
                            EventType::Warning,
                            "FailedDelete",
                            &format!("Error deleting: {}", error_message(&e)),
                        )
                        .await;
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    if rs.status.as_ref() != Some(&plan.status) {
        let api: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), ns);
        let patch = json!({"status": plan.status});
        ignore_not_found(
            api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
    }
    if let Some(e) = first_error {
        return Err(Error::Kube(e));
    }
    Ok(plan.requeue_after)
}

/// The message of an API error without the client's wrapping.
pub(crate) fn error_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

/// Treats 404 as success: the object is already gone.
pub(crate) fn ignore_not_found<T>(r: Result<T, kube::Error>) -> Result<Option<T>, Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => Err(Error::Kube(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::ReplicaSetSpec;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus, PodTemplateSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, Time};
    use std::collections::BTreeMap;

    fn labels() -> BTreeMap<String, String> {
        [("app".to_string(), "web".to_string())].into()
    }

    pub(crate) fn rs(replicas: i32) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("ns".into()),
                uid: Some("rs-uid".into()),
                generation: Some(3),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                selector: LabelSelector {
                    match_labels: Some(labels()),
                    ..Default::default()
                },
                template: Some(PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels()),
                        ..Default::default()
                    }),
                    spec: Some(PodSpec::default()),
                }),
                min_ready_seconds: None,
            }),
            status: None,
        }
    }

    fn pod(name: &str, owner: Option<&ReplicaSet>, ready: bool) -> Arc<Pod> {
        Arc::new(Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                labels: Some(labels()),
                owner_references: owner.map(|o| vec![pods::new_controller_ref(o)]),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("n1".into()),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some("Running".into()),
                conditions: ready.then(|| {
                    vec![PodCondition {
                        type_: "Ready".into(),
                        status: "True".into(),
                        last_transition_time: Some(Time(jiff::Timestamp::UNIX_EPOCH)),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            }),
        })
    }

    #[test]
    fn creates_missing_and_counts_status() {
        let r = rs(3);
        let p = plan(
            &r,
            &[pod("a", Some(&r), true)],
            jiff::Timestamp::now(),
            true,
        );
        assert_eq!(p.create, 2);
        assert_eq!(p.status.replicas, 1);
        assert_eq!(p.status.ready_replicas, Some(1));
        assert_eq!(p.status.available_replicas, Some(1));
        assert_eq!(p.status.observed_generation, Some(3));
    }

    #[test]
    fn pending_expectations_block_creates() {
        let r = rs(3);
        let p = plan(&r, &[], jiff::Timestamp::now(), false);
        assert_eq!(p.create, 0);
    }

    #[test]
    fn deletes_not_ready_first() {
        let r = rs(1);
        let pods = [
            pod("ready", Some(&r), true),
            pod("unready", Some(&r), false),
        ];
        let p = plan(&r, &pods, jiff::Timestamp::now(), true);
        assert_eq!(p.delete, ["unready"]);
    }

    #[test]
    fn adopts_orphans_and_releases_mismatches() {
        let r = rs(2);
        let mut stray = (*pod("stray", Some(&r), true)).clone();
        stray.metadata.labels = Some([("app".to_string(), "other".to_string())].into());
        let p = plan(
            &r,
            &[pod("orphan", None, true), Arc::new(stray)],
            jiff::Timestamp::now(),
            true,
        );
        assert_eq!(p.adopt, ["orphan"]);
        assert_eq!(p.release, ["stray"]);
        assert_eq!(p.create, 1);
    }

    #[test]
    fn min_ready_seconds_delays_availability() {
        let mut r = rs(1);
        if let Some(s) = r.spec.as_mut() {
            s.min_ready_seconds = Some(30);
        }
        let now = jiff::Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_secs(10);
        let p = plan(&r, &[pod("a", Some(&r), true)], now, true);
        assert_eq!(p.status.available_replicas, Some(0));
        assert_eq!(p.requeue_after, Some(Duration::from_secs(20)));
    }
}
