//! The StatefulSet controller: stable pod identities `<set>-<ordinal>`, their PersistentVolumeClaims, ordered or parallel scaling and partitioned rolling updates.
//!
//! The planning is a port of kube-controller-manager's `defaultStatefulSetControl`
//! over an informer snapshot ([`plan::plan`]); [`revisions`] keeps the
//! ControllerRevision history that `kubectl rollout undo` reads, [`claims`] the
//! PVC retention policy, [`status`] the status arithmetic, and `wiring` applies
//! a plan through the API.

pub mod claims;
pub mod plan;
pub mod revisions;
pub mod status;
mod wiring;

pub(crate) use wiring::{StsCtx, reconcile};

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodSpec, PodTemplateSpec, Volume,
};

use crate::pods;

/// Label carrying the name of the ControllerRevision a pod was made from.
pub const REVISION_LABEL: &str = "controller-revision-hash";
/// Label carrying a pod's own name, so a Service can select one replica.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// Label carrying a pod's ordinal.
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// The parent name and ordinal encoded in a pod name `<parent>-<ordinal>`, as
/// Kubernetes' `(.*)-([0-9]+)$`: the parent is None when the name has no such
/// suffix, the ordinal is -1 when the digits do not fit an int32.
pub fn parent_and_ordinal(name: &str) -> (Option<&str>, i64) {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let split = name.len() - digits;
    if digits == 0 || split == 0 || !name[..split].ends_with('-') {
        return (None, -1);
    }
    let ordinal = name[split..].parse::<i32>().map_or(-1, i64::from);
    (Some(&name[..split - 1]), ordinal)
}

/// The ordinal of a pod, or -1 when its name carries none.
pub fn ordinal_of(pod: &Pod) -> i64 {
    parent_and_ordinal(pod.metadata.name.as_deref().unwrap_or_default()).1
}

/// Whether `pod` belongs to `set` by name (Kubernetes' isMemberOf).
pub fn is_member_of(set: &StatefulSet, pod: &Pod) -> bool {
    let (parent, _) = parent_and_ordinal(pod.metadata.name.as_deref().unwrap_or_default());
    parent.is_some() && parent == set.metadata.name.as_deref()
}

/// `spec.ordinals.start`, 0 when unset.
pub fn start_ordinal(set: &StatefulSet) -> i64 {
    set.spec
        .as_ref()
        .and_then(|s| s.ordinals.as_ref())
        .and_then(|o| o.start)
        .map_or(0, i64::from)
}

/// `spec.replicas`, defaulting to 1 as the API server does.
pub fn replicas(set: &StatefulSet) -> i64 {
    set.spec
        .as_ref()
        .and_then(|s| s.replicas)
        .map_or(1, |r| i64::from(r.max(0)))
}

/// Whether a pod with `ordinal` is one of the set's current replicas.
pub fn in_ordinal_range(set: &StatefulSet, ordinal: i64) -> bool {
    let start = start_ordinal(set);
    ordinal >= start && ordinal < start + replicas(set)
}

/// `<set>-<ordinal>`.
pub fn pod_name(set: &StatefulSet, ordinal: i64) -> String {
    format!(
        "{}-{ordinal}",
        set.metadata.name.as_deref().unwrap_or_default()
    )
}

/// `<template>-<set>-<ordinal>`, the claim a replica keeps across restarts.
pub fn claim_name(set: &StatefulSet, template: &str, ordinal: i64) -> String {
    format!(
        "{template}-{}-{ordinal}",
        set.metadata.name.as_deref().unwrap_or_default()
    )
}

/// The value of a pod's revision label, "" when it has none.
pub fn pod_revision(pod: &Pod) -> &str {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_LABEL))
        .map_or("", String::as_str)
}

/// The claims replica `ordinal` of `set` uses, each paired with its template
/// name: the templates renamed, in the set's namespace, labelled with the set's
/// matchLabels.
pub fn claims_for(set: &StatefulSet, ordinal: i64) -> Vec<(String, PersistentVolumeClaim)> {
    let spec = set.spec.clone().unwrap_or_default();
    let match_labels = spec.selector.match_labels.clone().unwrap_or_default();
    spec.volume_claim_templates
        .unwrap_or_default()
        .into_iter()
        .map(|mut claim| {
            let template = claim.metadata.name.clone().unwrap_or_default();
            claim.metadata.name = Some(claim_name(set, &template, ordinal));
            claim.metadata.namespace = set.metadata.namespace.clone();
            let labels = claim.metadata.labels.get_or_insert_with(BTreeMap::new);
            labels.extend(match_labels.clone());
            // A template is a pattern, never an object the server has seen.
            claim.metadata.resource_version = None;
            claim.metadata.uid = None;
            claim.status = None;
            (template, claim)
        })
        .collect()
}

/// Points the pod's volumes named after claim templates at the replica's claims,
/// keeping its other volumes (Kubernetes' updateStorage).
pub fn update_storage(set: &StatefulSet, pod: &mut Pod) {
    let ordinal = ordinal_of(pod);
    let claims = claims_for(set, ordinal);
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    let current = spec.volumes.take().unwrap_or_default();
    let mut volumes: Vec<Volume> = claims
        .iter()
        .map(|(template, claim)| Volume {
            name: template.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.metadata.name.clone().unwrap_or_default(),
                read_only: Some(false),
            }),
            ..Default::default()
        })
        .collect();
    volumes.extend(
        current
            .into_iter()
            .filter(|v| !claims.iter().any(|(t, _)| *t == v.name)),
    );
    spec.volumes = Some(volumes);
}

/// Sets the name, namespace and identity labels of a pod for its ordinal.
pub fn update_identity(set: &StatefulSet, pod: &mut Pod) {
    let ordinal = ordinal_of(pod);
    let name = pod_name(set, ordinal);
    pod.metadata.namespace = set.metadata.namespace.clone();
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(POD_NAME_LABEL.into(), name.clone());
    labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
    pod.metadata.name = Some(name);
}

/// Whether the pod's name, namespace and pod-name label fit the set.
pub fn identity_matches(set: &StatefulSet, pod: &Pod) -> bool {
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let (parent, ordinal) = parent_and_ordinal(name);
    ordinal >= 0
        && parent == set.metadata.name.as_deref()
        && name == pod_name(set, ordinal)
        && pod.metadata.namespace == set.metadata.namespace
        && pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(POD_NAME_LABEL))
            .map(String::as_str)
            == Some(name)
}

/// Whether the pod mounts every claim the set's templates give its ordinal.
pub fn storage_matches(set: &StatefulSet, pod: &Pod) -> bool {
    let ordinal = ordinal_of(pod);
    if ordinal < 0 {
        return false;
    }
    let volumes = pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or_default();
    claims_for(set, ordinal).iter().all(|(template, claim)| {
        volumes.iter().any(|v| {
            v.name == *template
                && v.persistent_volume_claim.as_ref().map(|c| &c.claim_name)
                    == claim.metadata.name.as_ref()
        })
    })
}

/// Replica `ordinal` of `set` built from `template` and labelled with `revision`
/// (Kubernetes' newStatefulSetPod plus setPodRevision).
pub fn new_pod(set: &StatefulSet, template: &PodTemplateSpec, ordinal: i64, revision: &str) -> Pod {
    let ns = set.metadata.namespace.clone().unwrap_or_default();
    let name = pod_name(set, ordinal);
    let mut pod = pods::pod_from_template(
        template,
        &ns,
        None,
        Some(name.clone()),
        pods::new_controller_ref(set),
    );
    update_identity(set, &mut pod);
    let service = set.spec.as_ref().and_then(|s| s.service_name.clone());
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    spec.hostname = Some(name);
    spec.subdomain = service.filter(|s| !s.is_empty());
    update_storage(set, &mut pod);
    pod.metadata
        .labels
        .get_or_insert_with(BTreeMap::new)
        .insert(REVISION_LABEL.into(), revision.into());
    pod
}

#[cfg(test)]
pub(crate) mod tests;
