//! Applies StatefulSet plans through the API: adoption, the revision history, pod and claim writes with their events, status and pruning.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use serde_json::json;

use super::plan::{self, Action, ClaimRefs, Snapshot};
use super::revisions::{self, UpdateRevision};
use super::{is_member_of, status};
use crate::cache::Cache;
use crate::context::{Clock, Error};
use crate::events::{EventType, Recorder, object_reference};
use crate::pods;
use crate::queue;
use crate::replicaset::{error_message, ignore_not_found};

/// Most name collisions tolerated while creating one revision.
const MAX_COLLISIONS: i32 = 64;

/// What the StatefulSet controller reads and writes through.
pub(crate) struct StsCtx {
    pub client: kube::Client,
    pub clock: Arc<dyn Clock>,
    pub sets: Cache<StatefulSet>,
    pub pods: Cache<Pod>,
    pub claims: Cache<PersistentVolumeClaim>,
    pub revisions: Cache<ControllerRevision>,
    pub events: Recorder,
}

fn uid_precondition(uid: Option<&String>) -> DeleteParams {
    DeleteParams {
        preconditions: uid.map(|u| Preconditions {
            uid: Some(u.clone()),
            resource_version: None,
        }),
        ..Default::default()
    }
}

/// Sets the controller reference to `owner_ref` (adopt) or removes references to
/// `uid` (release) on an object, guarded by its uid.
fn ownership_patch(
    meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
    adopt: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>,
    release_uid: &str,
) -> serde_json::Value {
    let mut refs: Vec<_> = meta
        .owner_references
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.uid != release_uid)
        .collect();
    if let Some(r) = adopt {
        refs.push(r.clone());
    }
    json!({"metadata": {"ownerReferences": refs, "uid": meta.uid}})
}

/// Reconciles the StatefulSet `key` (`namespace/name`).
pub(crate) async fn reconcile(ctx: Arc<StsCtx>, key: String) -> Result<Option<Duration>, Error> {
    let (ns, name) = queue::split_key(&key);
    let Some(set) = ctx.sets.find(ns, name) else {
        return Ok(None);
    };
    let spec = set.spec.clone().unwrap_or_default();
    if pods::selector_is_empty(&spec.selector) {
        return Ok(None);
    }
    let uid = set.metadata.uid.clone().unwrap_or_default();
    let deleting = set.metadata.deletion_timestamp.is_some();
    let owner_ref = pods::new_controller_ref(set.as_ref());

    // Revisions selected by the set and owned by it or by nobody (then adopted).
    let rev_api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), ns);
    let mut revs = Vec::new();
    let no_labels = BTreeMap::new();
    for r in ctx
        .revisions
        .claimable_by(ns, &uid)
        .into_iter()
        .filter(|r| {
            pods::selector_matches(
                &spec.selector,
                r.metadata.labels.as_ref().unwrap_or(&no_labels),
            )
        })
    {
        match pods::controller_ref(&r.metadata) {
            Some(c) if c.uid == uid => revs.push(r),
            Some(_) => {}
            None if !deleting => {
                let patch = ownership_patch(&r.metadata, Some(&owner_ref), &uid);
                let rn = r.metadata.name.clone().unwrap_or_default();
                if let Some(a) = ignore_not_found(
                    rev_api
                        .patch(&rn, &PatchParams::default(), &Patch::Merge(&patch))
                        .await,
                )? {
                    revs.push(Arc::new(a));
                }
            }
            None => {}
        }
    }
    revisions::sort(&mut revs);

    let owned = claim_pods(&ctx, &set, ns, &owner_ref, deleting).await?;

    let mut collision_count = set
        .status
        .as_ref()
        .and_then(|s| s.collision_count)
        .unwrap_or(0);
    let update = match revisions::update_revision(&set, &revs, collision_count) {
        UpdateRevision::Latest(r) => r,
        UpdateRevision::Renumber(r, n) => {
            let rn = r.metadata.name.clone().unwrap_or_default();
            let patch = json!({"revision": n});
            Arc::new(
                rev_api
                    .patch(&rn, &PatchParams::default(), &Patch::Merge(&patch))
                    .await?,
            )
        }
        UpdateRevision::Create(candidate) => {
            Arc::new(create_revision(&rev_api, &set, *candidate, &mut collision_count).await?)
        }
    };
    let current_name = set.status.as_ref().and_then(|s| s.current_revision.clone());
    let current = revs
        .iter()
        .find(|r| r.metadata.name.is_some() && r.metadata.name == current_name)
        .cloned()
        .unwrap_or_else(|| update.clone());
    let current_template =
        revisions::template_of(&current).unwrap_or_else(|| spec.template.clone());
    let update_template = revisions::template_of(&update).unwrap_or_else(|| spec.template.clone());
    let current_rev_name = current.metadata.name.clone().unwrap_or_default();
    let update_rev_name = update.metadata.name.clone().unwrap_or_default();

    let claims: BTreeMap<String, Arc<PersistentVolumeClaim>> = ctx
        .claims
        .in_namespace(ns)
        .into_iter()
        .map(|c| (c.metadata.name.clone().unwrap_or_default(), c))
        .collect();
    let plan = plan::plan(&Snapshot {
        set: &set,
        pods: &owned,
        claims: &claims,
        current: (&current_rev_name, &current_template),
        update: (&update_rev_name, &update_template),
        collision_count,
        now: ctx.clock.now(),
    });

    let outcome = apply(&ctx, &set, ns, &plan.actions).await;

    if status::needs_write(&set, &plan.status) {
        let api: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), ns);
        let patch = json!({"status": plan.status});
        ignore_not_found(
            api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
    }
    for r in revisions::to_prune(&set, &owned, &revs, &current_rev_name, &update_rev_name) {
        ignore_not_found(rev_api.delete(&r, &DeleteParams::default()).await)?;
    }
    outcome?;
    Ok(plan.requeue_after)
}

/// Kubernetes' ClaimPods for a StatefulSet: owned members that still match stay,
/// owned ones that no longer match are released, matching orphans are adopted.
async fn claim_pods(
    ctx: &StsCtx,
    set: &StatefulSet,
    ns: &str,
    owner_ref: &k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference,
    deleting: bool,
) -> Result<Vec<Arc<Pod>>, Error> {
    let uid = set.metadata.uid.clone().unwrap_or_default();
    let selector = set.spec.clone().unwrap_or_default().selector;
    let pod_api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let mut owned = Vec::new();
    for p in ctx.pods.claimable_by(ns, &uid) {
        let matches =
            pods::selector_matches(&selector, &p.metadata.labels.clone().unwrap_or_default())
                && is_member_of(set, &p);
        let pn = p.metadata.name.clone().unwrap_or_default();
        match pods::controller_ref(&p.metadata) {
            Some(r) if r.uid == uid => {
                if matches || deleting {
                    owned.push(p);
                } else {
                    let patch = ownership_patch(&p.metadata, None, &uid);
                    ignore_not_found(
                        pod_api
                            .patch(&pn, &PatchParams::default(), &Patch::Merge(&patch))
                            .await,
                    )?;
                }
            }
            Some(_) => {}
            None => {
                if matches && !deleting && p.metadata.deletion_timestamp.is_none() {
                    let patch = ownership_patch(&p.metadata, Some(owner_ref), &uid);
                    if let Some(a) = ignore_not_found(
                        pod_api
                            .patch(&pn, &PatchParams::default(), &Patch::Merge(&patch))
                            .await,
                    )? {
                        owned.push(Arc::new(a));
                    }
                }
            }
        }
    }
    Ok(owned)
}

/// Creates a revision, stepping the collision count while a different revision
/// holds the name (Kubernetes' CreateControllerRevision).
async fn create_revision(
    api: &Api<ControllerRevision>,
    set: &StatefulSet,
    mut candidate: ControllerRevision,
    collision_count: &mut i32,
) -> Result<ControllerRevision, Error> {
    loop {
        match api.create(&PostParams::default(), &candidate).await {
            Ok(r) => return Ok(r),
            Err(kube::Error::Api(s)) if s.code == 409 && *collision_count < MAX_COLLISIONS => {
                let name = candidate.metadata.name.clone().unwrap_or_default();
                let existing = api.get(&name).await?;
                if revisions::equal(&existing, &candidate) {
                    return Ok(existing);
                }
                *collision_count += 1;
                candidate = revisions::new_revision(set, candidate.revision, *collision_count);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Applies the actions in order, stopping at the first failure.
async fn apply(ctx: &StsCtx, set: &StatefulSet, ns: &str, actions: &[Action]) -> Result<(), Error> {
    let pod_api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let sref = object_reference(set);
    let set_name = set.metadata.name.clone().unwrap_or_default();
    for a in actions {
        match a {
            Action::CreatePod {
                pod,
                claims,
                claim_refs,
            } => {
                let pn = pod.metadata.name.clone().unwrap_or_default();
                create_claims(ctx, set, ns, &pn, claims).await?;
                match pod_api.create(&PostParams::default(), pod).await {
                    Ok(_) => {}
                    // Already there (the cache was behind): no event, try again later.
                    Err(kube::Error::Api(s)) if s.code == 409 => {
                        return Err(kube::Error::Api(s).into());
                    }
                    Err(e) => {
                        let msg = format!(
                            "create Pod {pn} in StatefulSet {set_name} failed error: {}",
                            error_message(&e)
                        );
                        ctx.events
                            .record(&sref, EventType::Warning, "FailedCreate", &msg)
                            .await;
                        return Err(e.into());
                    }
                }
                fix_claims(ctx, set, ns, claim_refs).await?;
                let msg = format!("create Pod {pn} in StatefulSet {set_name} successful");
                ctx.events
                    .record(&sref, EventType::Normal, "SuccessfulCreate", &msg)
                    .await;
            }
            Action::CreateClaims { pod, claims } => {
                create_claims(ctx, set, ns, pod, claims).await?
            }
            Action::UpdatePod {
                name,
                uid,
                labels,
                claims,
                claim_refs,
            } => {
                create_claims(ctx, set, ns, name, claims).await?;
                fix_claims(ctx, set, ns, claim_refs).await?;
                if let Some(labels) = labels {
                    let patch = json!({"metadata": {"labels": labels, "uid": uid}});
                    if let Err(e) = pod_api
                        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await
                    {
                        let msg = format!(
                            "update Pod {name} in StatefulSet {set_name} failed error: {}",
                            error_message(&e)
                        );
                        ctx.events
                            .record(&sref, EventType::Warning, "FailedUpdate", &msg)
                            .await;
                        return Err(e.into());
                    }
                }
                let msg = format!("update Pod {name} in StatefulSet {set_name} successful");
                ctx.events
                    .record(&sref, EventType::Normal, "SuccessfulUpdate", &msg)
                    .await;
            }
            Action::UpdateClaims(refs) => fix_claims(ctx, set, ns, refs).await?,
            Action::DeletePod { name, uid, reason } => {
                tracing::debug!(statefulset = %set_name, pod = %name, ?reason, "deleting pod");
                match pod_api.delete(name, &uid_precondition(uid.as_ref())).await {
                    Ok(_) => {
                        let msg = format!("delete Pod {name} in StatefulSet {set_name} successful");
                        ctx.events
                            .record(&sref, EventType::Normal, "SuccessfulDelete", &msg)
                            .await;
                    }
                    // Gone already, or replaced by a newer pod of that name.
                    Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
                    Err(e) => {
                        let msg = format!(
                            "delete Pod {name} in StatefulSet {set_name} failed error: {}",
                            error_message(&e)
                        );
                        ctx.events
                            .record(&sref, EventType::Warning, "FailedDelete", &msg)
                            .await;
                        return Err(e.into());
                    }
                }
            }
            Action::Fail { reason, message } => {
                ctx.events
                    .record(&sref, EventType::Warning, reason, message)
                    .await;
                return Ok(());
            }
        }
    }
    Ok(())
}

async fn create_claims(
    ctx: &StsCtx,
    set: &StatefulSet,
    ns: &str,
    pod: &str,
    claims: &[PersistentVolumeClaim],
) -> Result<(), Error> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), ns);
    let sref = object_reference(set);
    let set_name = set.metadata.name.as_deref().unwrap_or_default();
    for c in claims {
        let cn = c.metadata.name.as_deref().unwrap_or_default();
        match api.create(&PostParams::default(), c).await {
            Ok(_) => {
                let msg = format!("create Claim {cn} Pod {pod} in StatefulSet {set_name} success");
                ctx.events
                    .record(&sref, EventType::Normal, "SuccessfulCreate", &msg)
                    .await;
            }
            // Created by an earlier sync the cache has not shown yet.
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => {
                let msg = format!(
                    "create Claim {cn} for Pod {pod} in StatefulSet {set_name} failed error: {}",
                    error_message(&e)
                );
                ctx.events
                    .record(&sref, EventType::Warning, "FailedCreate", &msg)
                    .await;
                return Err(e.into());
            }
        }
    }
    Ok(())
}

async fn fix_claims(
    ctx: &StsCtx,
    set: &StatefulSet,
    ns: &str,
    refs: &[ClaimRefs],
) -> Result<(), Error> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), ns);
    let sref = object_reference(set);
    for r in refs {
        if r.conflicting {
            let msg = format!(
                "PersistentVolumeClaim {} has a conflicting OwnerReference that acts as a managing controller, the retention policy is ignored for this claim",
                r.name
            );
            ctx.events
                .record(&sref, EventType::Warning, "ConflictingController", &msg)
                .await;
        }
        let patch = json!({"metadata": {"ownerReferences": r.owner_references, "uid": r.uid}});
        ignore_not_found(
            api.patch(&r.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await,
        )?;
    }
    Ok(())
}
