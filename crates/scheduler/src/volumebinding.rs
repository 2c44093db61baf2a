//! The VolumeBinding plugin as a pure function: which PersistentVolumeClaims a pod needs, and which nodes can satisfy them.

use crate::filters::{Code, Status};
use crate::resources::Resources;
use crate::selectors::{label_selector_matches, node_selector_matches};
use crate::snapshot::{NodeInfo, PodInfo};
use k8s_openapi::api::core::v1::{NodeSelector, PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use std::collections::BTreeMap;

/// Reason when a bound volume's node affinity excludes the node.
pub const REASON_NODE_CONFLICT: &str = "node(s) had volume node affinity conflict";
/// Reason when no static volume fits and none can be provisioned.
pub const REASON_BIND_CONFLICT: &str = "node(s) didn't find available persistent volumes to bind";
/// PreFilter message for unbound claims whose class binds immediately.
pub const MSG_UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";
/// Provisioner name meaning "static volumes only".
const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// The cluster's volumes as the scheduler caches them.
#[derive(Debug, Default)]
pub struct Catalog {
    pub claims: BTreeMap<(String, String), PersistentVolumeClaim>,
    pub volumes: BTreeMap<String, PersistentVolume>,
    pub classes: BTreeMap<String, StorageClass>,
}

/// How one unbound WaitForFirstConsumer claim can be satisfied.
#[derive(Debug, Clone)]
struct Unbound {
    claim: String,
    /// Matching Available volumes, smallest first, with their node affinity.
    candidates: Vec<(String, Option<NodeSelector>)>,
    can_provision: bool,
}

/// What to do for one claim once a node is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Bind the claim to this pre-provisioned volume.
    Static { claim: String, volume: String },
    /// Ask the provisioner for a volume on the node.
    Provision { claim: String },
}

/// The plugin's per-pod state.
#[derive(Debug, Default)]
pub struct VolumeState {
    bound_affinities: Vec<NodeSelector>,
    missing_volume: bool,
    unbound: Vec<Unbound>,
}

fn binding_mode_is_wait(class: &StorageClass) -> bool {
    class.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer")
}

fn claim_class(claim: &PersistentVolumeClaim) -> String {
    claim
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.clone())
        .unwrap_or_default()
}

fn pv_affinity(pv: &PersistentVolume) -> Option<NodeSelector> {
    pv.spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.clone())
}

/// Whether `pv` can hold `claim`: free (or pre-bound to it), same class and volume
/// mode, enough capacity, all requested access modes, selector satisfied.
pub fn volume_fits(claim: &PersistentVolumeClaim, pv: &PersistentVolume) -> bool {
    let (Some(cs), Some(ps)) = (claim.spec.as_ref(), pv.spec.as_ref()) else {
        return false;
    };
    if pv.metadata.deletion_timestamp.is_some() {
        return false;
    }
    if let Some(r) = ps.claim_ref.as_ref() {
        let same = r.name.as_deref() == claim.metadata.name.as_deref()
            && r.namespace.as_deref() == claim.metadata.namespace.as_deref()
            && r.uid
                .as_deref()
                .is_none_or(|u| Some(u) == claim.metadata.uid.as_deref());
        if !same {
            return false;
        }
    } else if pv
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .is_some_and(|p| p != "Available")
    {
        return false;
    }
    if ps.storage_class_name.clone().unwrap_or_default() != claim_class(claim) {
        return false;
    }
    let mode = |m: Option<&String>| m.cloned().unwrap_or_else(|| "Filesystem".into());
    if mode(cs.volume_mode.as_ref()) != mode(ps.volume_mode.as_ref()) {
        return false;
    }
    let want = Resources::from_list(cs.resources.as_ref().and_then(|r| r.requests.as_ref()));
    let have = Resources::from_list(ps.capacity.as_ref());
    if want.scalar.get("storage").copied().unwrap_or(0)
        > have.scalar.get("storage").copied().unwrap_or(0)
    {
        return false;
    }
    let modes = ps.access_modes.as_deref().unwrap_or(&[]);
    if !cs.access_modes.iter().flatten().all(|m| modes.contains(m)) {
        return false;
    }
    let labels = pv.metadata.labels.clone().unwrap_or_default();
    cs.selector
        .as_ref()
        .is_none_or(|s| label_selector_matches(s, &labels))
}

fn storage(pv: &PersistentVolume) -> i64 {
    let cap = Resources::from_list(pv.spec.as_ref().and_then(|s| s.capacity.as_ref()));
    cap.scalar.get("storage").copied().unwrap_or(0)
}

impl VolumeState {
    /// PreFilter: resolves the pod's claims, or returns the message that makes the
    /// pod unschedulable on every node.
    pub fn compute(pod: &PodInfo, cat: &Catalog) -> Result<VolumeState, String> {
        let mut st = VolumeState::default();
        for name in &pod.claims {
            let Some(claim) = cat.claims.get(&(pod.namespace.clone(), name.clone())) else {
                return Err(format!("persistentvolumeclaim \"{name}\" not found"));
            };
            if claim.metadata.deletion_timestamp.is_some() {
                return Err(format!("persistentvolumeclaim \"{name}\" is being deleted"));
            }
            let bound_to = claim
                .spec
                .as_ref()
                .and_then(|s| s.volume_name.clone())
                .filter(|v| !v.is_empty());
            if let Some(pv_name) = bound_to {
                match cat.volumes.get(&pv_name) {
                    Some(pv) => st.bound_affinities.extend(pv_affinity(pv)),
                    None => st.missing_volume = true,
                }
                continue;
            }
            let class_name = claim_class(claim);
            let class = cat.classes.get(&class_name);
            if !class.is_some_and(binding_mode_is_wait) {
                return Err(MSG_UNBOUND_IMMEDIATE.into());
            }
            let mut candidates: Vec<&PersistentVolume> = cat
                .volumes
                .values()
                .filter(|pv| volume_fits(claim, pv))
                .collect();
            candidates.sort_by_key(|pv| storage(pv));
            st.unbound.push(Unbound {
                claim: name.clone(),
                candidates: candidates
                    .into_iter()
                    .map(|pv| {
                        (
                            pv.metadata.name.clone().unwrap_or_default(),
                            pv_affinity(pv),
                        )
                    })
                    .collect(),
                can_provision: class
                    .is_some_and(|c| !c.provisioner.is_empty() && c.provisioner != NO_PROVISIONER),
            });
        }
        Ok(st)
    }

    /// Whether the pod has unbound claims the binder must act on.
    pub fn needs_binding(&self) -> bool {
        !self.unbound.is_empty()
    }

    /// The Filter for one node.
    pub fn filter(&self, node: &NodeInfo) -> Result<(), Status> {
        if self.missing_volume {
            return Err(Status {
                code: Code::Unresolvable,
                reasons: vec![
                    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
                        .into(),
                ],
            });
        }
        if !self
            .bound_affinities
            .iter()
            .all(|a| node_selector_matches(a, &node.name, &node.labels))
        {
            return Err(Status {
                code: Code::Unresolvable,
                reasons: vec![REASON_NODE_CONFLICT.into()],
            });
        }
        if self.decide(node).is_none() {
            return Err(Status {
                code: Code::Unresolvable,
                reasons: vec![REASON_BIND_CONFLICT.into()],
            });
        }
        Ok(())
    }

    /// For each unbound claim, the volume to bind or a provisioning request, given
    /// the node; `None` if some claim cannot be satisfied there.
    pub fn decide(&self, node: &NodeInfo) -> Option<Vec<Decision>> {
        let mut taken: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for u in &self.unbound {
            let pick = u.candidates.iter().find(|(name, aff)| {
                !taken.contains(&name.as_str())
                    && aff
                        .as_ref()
                        .is_none_or(|a| node_selector_matches(a, &node.name, &node.labels))
            });
            match pick {
                Some((name, _)) => {
                    taken.push(name);
                    out.push(Decision::Static {
                        claim: u.claim.clone(),
                        volume: name.clone(),
                    });
                }
                None if u.can_provision => out.push(Decision::Provision {
                    claim: u.claim.clone(),
                }),
                None => return None,
            }
        }
        Some(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::filters::tests::{node, pod};
    use serde_json::json;

    fn catalog(mode: &str, provisioner: &str) -> Catalog {
        let mut cat = Catalog::default();
        cat.classes.insert(
            "local".into(),
            serde_json::from_value(json!({
            "metadata": {"name": "local"}, "provisioner": provisioner, "volumeBindingMode": mode}))
            .unwrap(),
        );
        cat.claims.insert(
            ("ns".into(), "data".into()),
            serde_json::from_value(json!({
            "metadata": {"name": "data", "namespace": "ns", "uid": "c1"},
            "spec": {"storageClassName": "local", "accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "1Gi"}}}}))
            .unwrap(),
        );
        cat
    }

    fn pv(name: &str, size: &str, host: &str) -> PersistentVolume {
        serde_json::from_value(json!({"metadata": {"name": name}, "spec": {
            "capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"], "storageClassName": "local",
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [host]}]}]}}},
            "status": {"phase": "Available"}})).unwrap()
    }

    fn user() -> PodInfo {
        pod(
            json!({"spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]}}),
        )
    }

    fn host(name: &str) -> NodeInfo {
        node(json!({"metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}}}))
    }

    #[test]
    fn missing_claim_and_immediate_claims_fail_prefilter() {
        let cat = Catalog::default();
        assert_eq!(
            VolumeState::compute(&user(), &cat).unwrap_err(),
            "persistentvolumeclaim \"data\" not found"
        );
        let cat = catalog("Immediate", "x");
        assert_eq!(
            VolumeState::compute(&user(), &cat).unwrap_err(),
            MSG_UNBOUND_IMMEDIATE
        );
    }

    #[test]
    fn static_volumes_pin_the_node() {
        let mut cat = catalog("WaitForFirstConsumer", NO_PROVISIONER);
        cat.volumes
            .insert("small".into(), pv("small", "500Mi", "n1"));
        cat.volumes.insert("fits".into(), pv("fits", "2Gi", "n2"));
        let st = VolumeState::compute(&user(), &cat).unwrap();
        assert_eq!(
            st.filter(&host("n1")).unwrap_err().reasons,
            [REASON_BIND_CONFLICT]
        );
        assert!(st.filter(&host("n2")).is_ok());
        assert_eq!(
            st.decide(&host("n2")).unwrap(),
            [Decision::Static {
                claim: "data".into(),
                volume: "fits".into()
            }]
        );
    }

    #[test]
    fn provisioner_allows_any_node() {
        let cat = catalog("WaitForFirstConsumer", "ferrosphere.io/local-path");
        let st = VolumeState::compute(&user(), &cat).unwrap();
        assert_eq!(
            st.decide(&host("n1")).unwrap(),
            [Decision::Provision {
                claim: "data".into()
            }]
        );
    }

    #[test]
    fn bound_volume_affinity_conflict() {
        let mut cat = catalog("WaitForFirstConsumer", "x");
        cat.volumes.insert("pv1".into(), pv("pv1", "1Gi", "n1"));
        cat.claims
            .get_mut(&("ns".into(), "data".into()))
            .unwrap()
            .spec
            .as_mut()
            .unwrap()
            .volume_name = Some("pv1".into());
        let st = VolumeState::compute(&user(), &cat).unwrap();
        assert!(st.filter(&host("n1")).is_ok());
        assert_eq!(
            st.filter(&host("n2")).unwrap_err().reasons,
            [REASON_NODE_CONFLICT]
        );
    }
}
