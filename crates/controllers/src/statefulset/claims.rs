//! persistentVolumeClaimRetentionPolicy: which owner references a replica's claims carry so the garbage collector deletes them when the set is deleted or scaled down.
//!
//! As Kubernetes: Retain/Retain means no reference from the set or pod;
//! whenDeleted=Delete a controller reference to the set; whenScaled=Delete a
//! controller reference to the pod once its ordinal is out of range (so the claim
//! goes with the condemned pod). Claims managed by another controller, or
//! referring to an earlier incarnation of the set or pod, are left alone.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::{in_ordinal_range, ordinal_of};

const DELETE: &str = "Delete";

/// The (whenDeleted, whenScaled) policy, true meaning Delete; unknown values are
/// treated as Retain, as Kubernetes does.
pub fn policy(set: &StatefulSet) -> (bool, bool) {
    let p = set
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_claim_retention_policy.as_ref());
    let is_delete = |v: Option<&String>| v.is_some_and(|v| v == DELETE);
    (
        is_delete(p.and_then(|p| p.when_deleted.as_ref())),
        is_delete(p.and_then(|p| p.when_scaled.as_ref())),
    )
}

/// Who a reference may point at: the set or the pod, by kind, name and uid.
struct Owner<'a> {
    api_version: &'a str,
    kind: &'a str,
    name: &'a str,
    uid: &'a str,
}

impl Owner<'_> {
    fn matches(&self, r: &OwnerReference) -> bool {
        r.api_version == self.api_version && r.kind == self.kind && r.name == self.name
    }

    fn controller_ref(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.into(),
            kind: self.kind.into(),
            name: self.name.into(),
            uid: self.uid.into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

fn set_owner(set: &StatefulSet) -> Owner<'_> {
    Owner {
        api_version: "apps/v1",
        kind: "StatefulSet",
        name: set.metadata.name.as_deref().unwrap_or_default(),
        uid: set.metadata.uid.as_deref().unwrap_or_default(),
    }
}

fn pod_owner(pod: &Pod) -> Owner<'_> {
    Owner {
        api_version: "v1",
        kind: "Pod",
        name: pod.metadata.name.as_deref().unwrap_or_default(),
        uid: pod.metadata.uid.as_deref().unwrap_or_default(),
    }
}

fn refs(claim: &PersistentVolumeClaim) -> &[OwnerReference] {
    claim
        .metadata
        .owner_references
        .as_deref()
        .unwrap_or_default()
}

fn has_ref(claim: &PersistentVolumeClaim, uid: &str) -> bool {
    refs(claim).iter().any(|r| r.uid == uid)
}

/// A reference naming the owner but with another uid: an earlier incarnation.
fn has_stale_ref(claim: &PersistentVolumeClaim, owner: &Owner<'_>) -> bool {
    refs(claim)
        .iter()
        .find(|r| owner.matches(r))
        .is_some_and(|r| r.uid != owner.uid)
}

/// Whether the claim is stale for a pod about to be created: the policy deletes
/// on scale down and the claim still refers to an earlier pod of that name (the
/// garbage collector has yet to remove it), so creating the pod must wait.
pub fn claim_is_stale(set: &StatefulSet, pod: &Pod, claim: &PersistentVolumeClaim) -> bool {
    let (_, when_scaled) = policy(set);
    when_scaled && has_stale_ref(claim, &pod_owner(pod))
}

/// Whether a controller other than this set and pod manages the claim (only
/// relevant when the policy deletes anything).
pub fn has_unexpected_controller(
    set: &StatefulSet,
    pod: &Pod,
    claim: &PersistentVolumeClaim,
) -> bool {
    let (when_deleted, when_scaled) = policy(set);
    if !when_deleted && !when_scaled {
        return false;
    }
    let (so, po) = (set_owner(set), pod_owner(pod));
    for r in refs(claim) {
        if so.matches(r) {
            if r.uid != so.uid {
                return true;
            }
            continue;
        }
        if po.matches(r) {
            if r.uid != po.uid {
                return true;
            }
            continue;
        }
        if r.controller == Some(true) {
            return true;
        }
    }
    false
}

fn has_non_controller_owner(set: &StatefulSet, pod: &Pod, claim: &PersistentVolumeClaim) -> bool {
    let (su, pu) = (set_owner(set).uid, pod_owner(pod).uid);
    refs(claim)
        .iter()
        .any(|r| (r.uid == su || r.uid == pu) && r.controller != Some(true))
}

/// Whether the claim's references already follow the policy (Kubernetes'
/// isClaimOwnerUpToDate); claims in a state it does not recognise count as up
/// to date so they are never touched.
pub fn owner_up_to_date(set: &StatefulSet, pod: &Pod, claim: &PersistentVolumeClaim) -> bool {
    let (so, po) = (set_owner(set), pod_owner(pod));
    if has_stale_ref(claim, &so) || has_stale_ref(claim, &po) {
        return true;
    }
    let (set_ref, pod_ref) = (has_ref(claim, so.uid), has_ref(claim, po.uid));
    if has_unexpected_controller(set, pod, claim) {
        return !(set_ref || pod_ref);
    }
    if has_non_controller_owner(set, pod, claim) {
        return false;
    }
    let scaled_down = !in_ordinal_range(set, ordinal_of(pod));
    match policy(set) {
        (false, false) => !set_ref && !pod_ref,
        (true, false) => set_ref && !pod_ref,
        (false, true) => !set_ref && scaled_down == pod_ref,
        (true, true) => scaled_down != set_ref && scaled_down == pod_ref,
    }
}

/// The owner references the claim should carry under the policy (Kubernetes'
/// updateClaimOwnerRefForSetAndPod): references to the set and pod are scrubbed
/// and the ones the policy wants added back as controller references.
pub fn desired_refs(
    set: &StatefulSet,
    pod: &Pod,
    claim: &PersistentVolumeClaim,
) -> Vec<OwnerReference> {
    let (so, po) = (set_owner(set), pod_owner(pod));
    let unexpected = has_unexpected_controller(set, pod, claim);
    let mut out: Vec<OwnerReference> = refs(claim)
        .iter()
        .filter(|r| !so.matches(r) && !po.matches(r))
        .cloned()
        .collect();
    if unexpected {
        return out;
    }
    let scaled_down = !in_ordinal_range(set, ordinal_of(pod));
    let mut add = |o: &Owner<'_>| {
        if !out.iter().any(|r| r.uid == o.uid) {
            out.push(o.controller_ref());
        }
    };
    match policy(set) {
        (false, false) => {}
        (true, false) => add(&so),
        (false, true) => {
            if scaled_down {
                add(&po);
            }
        }
        (true, true) => {
            if scaled_down {
                add(&po);
            } else {
                add(&so);
            }
        }
    }
    out
}
