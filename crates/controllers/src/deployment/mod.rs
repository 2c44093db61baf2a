//! The Deployment controller: ReplicaSets per pod template, RollingUpdate and Recreate, revisions, pause, progress deadlines.

pub mod hash;
pub mod rolling;
pub mod status;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::context::{Ctx, Error};
use crate::events::{EventType, object_reference};
use crate::pods;
use crate::queue;
use crate::replicaset::ignore_not_found;

/// Label that ties a ReplicaSet and its pods to one pod template.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// Annotation holding a ReplicaSet's (and its Deployment's) revision.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// Annotations of the Deployment not copied to its ReplicaSets (as Kubernetes' skipCopyAnnotation).
const SKIP_COPY: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

/// A ReplicaSet's revision (0 when unset or malformed).
pub fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Whether two pod templates are equal once pod-template-hash labels are ignored
/// (Kubernetes' EqualIgnoreHash), which is how `kubectl rollout undo` finds its way
/// back to an old ReplicaSet.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    let strip = |t: &PodTemplateSpec| {
        let mut t = t.clone();
        if let Some(m) = t.metadata.as_mut()
            && let Some(l) = m.labels.as_mut()
        {
            l.remove(POD_TEMPLATE_HASH);
            if l.is_empty() {
                m.labels = None;
            }
        }
        serde_json::to_value(t).unwrap_or_default()
    };
    strip(a) == strip(b)
}

/// The ReplicaSet a Deployment creates for its current template.
pub fn new_replica_set(d: &Deployment, hash: &str, revision: i64, replicas: i32) -> ReplicaSet {
    let spec = d.spec.clone().unwrap_or_default();
    let name = d.metadata.name.clone().unwrap_or_default();
    let mut template = spec.template.clone();
    let tmeta = template.metadata.get_or_insert_with(Default::default);
    tmeta
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH.into(), hash.into());
    let labels = tmeta.labels.clone();
    let mut selector = spec.selector.clone();
    selector
        .match_labels
        .get_or_insert_with(BTreeMap::new)
        .insert(POD_TEMPLATE_HASH.into(), hash.into());
    let mut annotations: BTreeMap<String, String> = d
        .metadata
        .annotations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !SKIP_COPY.contains(&k.as_str()))
        .collect();
    annotations.insert(REVISION.into(), revision.to_string());
    annotations.insert(
        DESIRED_REPLICAS.into(),
        spec.replicas.unwrap_or(1).to_string(),
    );
    annotations.insert(
        MAX_REPLICAS.into(),
        (spec.replicas.unwrap_or(1) + rolling::max_surge(d)).to_string(),
    );
    ReplicaSet {
        metadata: ObjectMeta {
            name: Some(format!("{name}-{hash}")),
            namespace: d.metadata.namespace.clone(),
            labels,
            annotations: Some(annotations),
            owner_references: Some(vec![pods::new_controller_ref(d)]),
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec {
            replicas: Some(replicas),
            min_ready_seconds: spec.min_ready_seconds,
            selector,
            template: Some(template),
        }),
        status: None,
    }
}

fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)
}

/// Reconciles the Deployment `key`.
pub(crate) async fn reconcile(ctx: Arc<Ctx>, key: String) -> Result<Option<Duration>, Error> {
    let (ns, name) = queue::split_key(&key);
    let Some(d) = ctx.deployments.find(ns, name) else {
        return Ok(None);
    };
    let mut d = (*d).clone();
    let now = ctx.clock.now();
    let uid = d.metadata.uid.clone().unwrap_or_default();
    let spec = d.spec.clone().unwrap_or_default();
    let rs_api: Api<ReplicaSet> = Api::namespaced(ctx.client.clone(), ns);
    let deleting = d.metadata.deletion_timestamp.is_some();

    // Claim ReplicaSets: adopt matching orphans, release owned ones that stopped matching.
    let mut owned: Vec<ReplicaSet> = Vec::new();
    let empty = pods::selector_is_empty(&spec.selector);
    for rs in ctx.replicasets.claimable_by(ns, &uid) {
        let labels = rs.metadata.labels.clone().unwrap_or_default();
        let matches = !empty && pods::selector_matches(&spec.selector, &labels);
        let rs_name = rs.metadata.name.clone().unwrap_or_default();
        match pods::controller_ref(&rs.metadata) {
            Some(r) if r.uid == uid => {
                if matches || deleting {
                    owned.push((*rs).clone());
                } else {
                    let refs: Vec<_> = rs
                        .metadata
                        .owner_references
                        .clone()
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|r| r.uid != uid)
                        .collect();
                    let patch =
                        json!({"metadata": {"ownerReferences": refs, "uid": rs.metadata.uid}});
                    ignore_not_found(
                        rs_api
                            .patch(&rs_name, &PatchParams::default(), &Patch::Merge(&patch))
                            .await,
                    )?;
                }
            }
            Some(_) => {}
            None if matches && !deleting && rs.metadata.deletion_timestamp.is_none() => {
                let mut refs = rs.metadata.owner_references.clone().unwrap_or_default();
                refs.push(pods::new_controller_ref(&d));
                let patch = json!({"metadata": {"ownerReferences": refs, "uid": rs.metadata.uid}});
                if let Some(adopted) = ignore_not_found(
                    rs_api
                        .patch(&rs_name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await,
                )? {
                    owned.push(adopted);
                }
            }
            None => {}
        }
    }
    owned.sort_by(|a, b| {
        let t = |r: &ReplicaSet| r.metadata.creation_timestamp.as_ref().map(|t| t.0);
        t(a).cmp(&t(b))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });

    let mut st = d.status.clone().unwrap_or_default();
    status::paused_condition(&d, &mut st, now);
    let new_idx = owned.iter().position(|r| {
        r.spec
            .as_ref()
            .and_then(|s| s.template.as_ref())
            .is_some_and(|t| equal_ignore_hash(t, &spec.template))
    });
    let max_old_revision = owned
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != new_idx)
        .map(|(_, r)| revision(r))
        .max()
        .unwrap_or(0);
    let paused = spec.paused.unwrap_or(false);
    let rs_events = &ctx.deploy_events;
    let dref = object_reference(&d);

    let mut new_rs: Option<ReplicaSet> = new_idx.map(|i| owned.remove(i));
    if let Some(rs) = new_rs.as_mut().filter(|_| !deleting) {
        if revision(rs) < max_old_revision + 1 {
            let rev = (max_old_revision + 1).to_string();
            let patch = json!({"metadata": {"annotations": {REVISION: rev}}});
            if let Some(updated) = ignore_not_found(
                rs_api
                    .patch(
                        rs.metadata.name.as_deref().unwrap_or_default(),
                        &PatchParams::default(),
                        &Patch::Merge(&patch),
                    )
                    .await,
            )? {
                *rs = updated;
            }
        }
        if status::progress_deadline(&d).is_some()
            && status::get(&st, status::PROGRESSING).is_none()
        {
            let msg = format!(
                "Found new replica set \"{}\"",
                rs.metadata.name.as_deref().unwrap_or_default()
            );
            status::set(
                &mut st,
                status::condition(status::PROGRESSING, "True", status::FOUND_NEW_RS, msg, now),
            );
        }
    } else if new_rs.is_none() && !paused && !deleting {
        let hash = hash::compute_hash(&spec.template, st.collision_count);
        let olds: Vec<&ReplicaSet> = owned.iter().collect();
        let desired = spec.replicas.unwrap_or(1);
        let initial = if spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate")
        {
            0
        } else {
            let probe = new_replica_set(&d, &hash, 0, 0);
            let mut all = olds.clone();
            all.push(&probe);
            rolling::new_rs_new_replicas(desired, rolling::max_surge(&d), &all, &probe)
        };
        let rs = new_replica_set(&d, &hash, max_old_revision + 1, initial);
        match rs_api.create(&PostParams::default(), &rs).await {
            Ok(created) => {
                let n = created.metadata.name.clone().unwrap_or_default();
                if initial > 0 {
                    rs_events
                        .record(
                            &dref,
                            EventType::Normal,
                            "ScalingReplicaSet",
                            &format!("Scaled up replica set {n} from 0 to {initial}"),
                        )
                        .await;
                }
                if status::progress_deadline(&d).is_some() {
                    status::set(
                        &mut st,
                        status::condition(
                            status::PROGRESSING,
                            "True",
                            status::NEW_RS_CREATED,
                            format!("Created new replica set \"{n}\""),
                            now,
                        ),
                    );
                }
                new_rs = Some(created);
            }
            Err(kube::Error::Api(s)) if s.code == 409 => {
                // Same name, different template: a hash collision. Bump collisionCount
                // so the next hash differs, as Kubernetes does.
                let existing = rs_api
                    .get_opt(rs.metadata.name.as_deref().unwrap_or_default())
                    .await?;
                let ours = existing.as_ref().is_some_and(|e| {
                    pods::is_controlled_by(&e.metadata, &uid)
                        && e.spec
                            .as_ref()
                            .and_then(|s| s.template.as_ref())
                            .is_some_and(|t| equal_ignore_hash(t, &spec.template))
                });
                if !ours {
                    let cc = st.collision_count.unwrap_or(0) + 1;
                    let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), ns);
                    let patch = json!({"status": {"collisionCount": cc}});
                    ignore_not_found(
                        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                            .await,
                    )?;
                }
                return Ok(Some(Duration::from_millis(100)));
            }
            Err(e) => return Err(e.into()),
        }
    }
    // The Deployment carries the revision of its current ReplicaSet.
    if let Some(rs) = &new_rs {
        let rev = revision(rs).to_string();
        let cur = d
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVISION));
        if cur != Some(&rev) && !deleting {
            let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), ns);
            let patch = json!({"metadata": {"annotations": {REVISION: rev}}});
            if let Some(updated) = ignore_not_found(
                api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await,
            )? {
                d.metadata.annotations = updated.metadata.annotations;
            }
        }
    }

    let mut requeue = None;
    if !deleting {
        let olds: Vec<&ReplicaSet> = owned
            .iter()
            .filter(|r| spec_replicas(r) > 0 || r.status.as_ref().is_some_and(|s| s.replicas > 0))
            .collect();
        let steps = match (&new_rs, paused) {
            (Some(n), false)
                if spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) == Some("Recreate") =>
            {
                let old_uids: Vec<String> = owned
                    .iter()
                    .filter_map(|r| r.metadata.uid.clone())
                    .collect();
                let running = old_uids.iter().any(|u| {
                    ctx.pods
                        .controlled_by(ns, u)
                        .iter()
                        .any(|p| !matches!(pods::phase(p), "Succeeded" | "Failed"))
                });
                rolling::recreate_step(&d, n, &olds, running)
            }
            (Some(n), false) => rolling::rolling_step(&d, n, &olds),
            _ => paused_scale(&d, new_rs.as_ref(), &olds),
        };
        for step in steps {
            // The cached resourceVersion makes the scale a compare-and-swap, as
            // Kubernetes' Update is: a step computed from a stale cache gets a 409
            // and is recomputed, instead of scaling down too far.
            let rv = new_rs
                .iter()
                .chain(owned.iter())
                .find(|r| r.metadata.name.as_deref() == Some(step.name.as_str()))
                .and_then(|r| r.metadata.resource_version.clone());
            let patch = json!({
                "metadata": {"resourceVersion": rv, "annotations": {
                    DESIRED_REPLICAS: spec.replicas.unwrap_or(1).to_string(),
                    MAX_REPLICAS: (spec.replicas.unwrap_or(1) + rolling::max_surge(&d)).to_string(),
                }},
                "spec": {"replicas": step.to},
            });
            let Some(updated) = ignore_not_found(
                rs_api
                    .patch(&step.name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await,
            )?
            else {
                continue;
            };
            let dir = if step.to > step.from { "up" } else { "down" };
            rs_events
                .record(
                    &dref,
                    EventType::Normal,
                    "ScalingReplicaSet",
                    &format!(
                        "Scaled {dir} replica set {} from {} to {}",
                        step.name, step.from, step.to
                    ),
                )
                .await;
            if new_rs.as_ref().and_then(|r| r.metadata.name.as_deref()) == Some(step.name.as_str())
            {
                new_rs = Some(updated);
            } else if let Some(o) = owned
                .iter_mut()
                .find(|r| r.metadata.name.as_deref() == Some(step.name.as_str()))
            {
                *o = updated;
            }
        }
    }

    let mut all: Vec<&ReplicaSet> = owned.iter().collect();
    if let Some(n) = &new_rs {
        all.push(n);
    }
    d.status = Some(st);
    let new_status = if paused || deleting {
        status::calculate(&d, &all, new_rs.as_ref(), now)
    } else {
        let (s, r) = status::rollout(&d, &all, new_rs.as_ref(), now);
        requeue = r;
        s
    };
    if paused || status::complete(&d, &new_status) {
        cleanup(&ctx, &rs_api, &d, &owned).await?;
    }
    let old_status = ctx
        .deployments
        .find(ns, name)
        .and_then(|x| x.status.clone());
    if old_status.as_ref() != Some(&new_status) {
        let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), ns);
        let patch = json!({"status": new_status});
        ignore_not_found(
            api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
    }
    Ok(requeue)
}

/// While paused only `spec.replicas` is followed, by the one ReplicaSet with pods
/// (proportional scaling across several is not done).
fn paused_scale(
    d: &Deployment,
    new_rs: Option<&ReplicaSet>,
    olds: &[&ReplicaSet],
) -> Vec<rolling::Scale> {
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let mut active: Vec<&ReplicaSet> = olds
        .iter()
        .copied()
        .filter(|r| spec_replicas(r) > 0)
        .collect();
    if let Some(n) = new_rs.filter(|r| spec_replicas(r) > 0) {
        active.push(n);
    }
    let target = match (active.as_slice(), new_rs) {
        ([only], _) => *only,
        ([], Some(n)) => n,
        _ => return Vec::new(),
    };
    if spec_replicas(target) == desired {
        return Vec::new();
    }
    vec![rolling::Scale {
        name: target.metadata.name.clone().unwrap_or_default(),
        from: spec_replicas(target),
        to: desired,
    }]
}

/// Deletes the oldest scaled-down ReplicaSets beyond `revisionHistoryLimit`.
async fn cleanup(
    ctx: &Ctx,
    api: &Api<ReplicaSet>,
    d: &Deployment,
    olds: &[ReplicaSet],
) -> Result<(), Error> {
    let limit = d
        .spec
        .as_ref()
        .and_then(|s| s.revision_history_limit)
        .unwrap_or(10)
        .max(0) as usize;
    let mut dead: Vec<&ReplicaSet> = olds
        .iter()
        .filter(|r| {
            spec_replicas(r) == 0
                && r.status.as_ref().is_none_or(|s| s.replicas == 0)
                && r.metadata.deletion_timestamp.is_none()
                && r.status.as_ref().and_then(|s| s.observed_generation) >= r.metadata.generation
        })
        .collect();
    if dead.len() <= limit {
        return Ok(());
    }
    dead.sort_by_key(|r| revision(r));
    for r in &dead[..dead.len() - limit] {
        let n = r.metadata.name.clone().unwrap_or_default();
        ignore_not_found(api.delete(&n, &DeleteParams::default()).await)?;
        tracing::debug!(rs = %n, deployment = ?ctx.deployments.len(), "cleaned up old replica set");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::DeploymentSpec;

    fn d() -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                name: Some("web".into()),
                namespace: Some("ns".into()),
                uid: Some("d-uid".into()),
                annotations: Some(
                    [
                        (
                            "kubectl.kubernetes.io/last-applied-configuration".to_string(),
                            "{}".to_string(),
                        ),
                        ("team".to_string(), "a".to_string()),
                    ]
                    .into(),
                ),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(4),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some([("app".to_string(), "web".to_string())].into()),
                        ..Default::default()
                    }),
                    spec: None,
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn new_replica_set_carries_hash_revision_and_owner() {
        let dep = d();
        let rs = new_replica_set(&dep, "abc", 3, 1);
        assert_eq!(rs.metadata.name.as_deref(), Some("web-abc"));
        let ann = rs.metadata.annotations.clone().unwrap();
        assert_eq!(ann[REVISION], "3");
        assert_eq!(ann[DESIRED_REPLICAS], "4");
        assert_eq!(ann[MAX_REPLICAS], "5");
        assert_eq!(ann["team"], "a");
        assert!(!ann.contains_key("kubectl.kubernetes.io/last-applied-configuration"));
        let spec = rs.spec.clone().unwrap();
        assert_eq!(
            spec.selector.match_labels.unwrap()[POD_TEMPLATE_HASH],
            "abc"
        );
        let t = spec.template.unwrap();
        assert_eq!(
            t.metadata.as_ref().unwrap().labels.as_ref().unwrap()[POD_TEMPLATE_HASH],
            "abc"
        );
        assert!(equal_ignore_hash(&t, &dep.spec.unwrap().template));
        let owner = &rs.metadata.owner_references.clone().unwrap()[0];
        assert_eq!(
            (
                owner.kind.as_str(),
                owner.controller,
                owner.block_owner_deletion
            ),
            ("Deployment", Some(true), Some(true))
        );
        assert_eq!(revision(&rs), 3);
    }

    #[test]
    fn paused_scales_the_single_active_replica_set() {
        let dep = d();
        let rs = new_replica_set(&dep, "abc", 1, 2);
        let steps = paused_scale(&dep, Some(&rs), &[]);
        assert_eq!(
            steps,
            vec![rolling::Scale {
                name: "web-abc".into(),
                from: 2,
                to: 4
            }]
        );
        let old = new_replica_set(&dep, "old", 1, 1);
        assert!(paused_scale(&dep, Some(&rs), &[&old]).is_empty());
    }
}
