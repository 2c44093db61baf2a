//! The filter plugins, in kube-scheduler's order, with its exact failure reasons.

use crate::interpod::AffinityState;
use crate::selectors::{node_selector_matches, tolerated};
use crate::snapshot::{NodeInfo, PodInfo};
use crate::volumebinding::VolumeState;
use k8s_openapi::api::core::v1::Taint;

/// NodeUnschedulable's reason.
pub const REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
/// TaintToleration's reason.
pub const REASON_TAINT: &str = "node(s) had untolerated taint(s)";
/// NodeAffinity's reason (nodeSelector and required node affinity).
pub const REASON_NODE_AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
/// NodePorts' reason.
pub const REASON_PORTS: &str = "node(s) didn't have free ports for the requested pod ports";
/// NodeResourcesFit's reason when the pod count is exhausted.
pub const REASON_TOO_MANY_PODS: &str = "Too many pods";

/// Whether preemption could help: kube-scheduler's Unschedulable versus
/// UnschedulableAndUnresolvable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Removing pods from the node could make it fit.
    Unschedulable,
    /// Nothing on the node can change the answer.
    Unresolvable,
}

/// Why one node was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    pub reasons: Vec<String>,
}

impl Status {
    fn new(code: Code, reason: &str) -> Self {
        Status {
            code,
            reasons: vec![reason.to_string()],
        }
    }
}

/// Per-pod state computed once per scheduling cycle (the PreFilter results).
#[derive(Debug, Default)]
pub struct CycleState {
    pub affinity: AffinityState,
    pub volumes: VolumeState,
}

/// NodeUnschedulable: `spec.unschedulable` unless the pod tolerates the taint that stands for it.
pub fn node_unschedulable(pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
    if !node.unschedulable {
        return Ok(());
    }
    let taint = Taint {
        key: "node.kubernetes.io/unschedulable".into(),
        value: None,
        effect: "NoSchedule".into(),
        time_added: None,
    };
    if tolerated(&pod.tolerations, &taint) {
        return Ok(());
    }
    Err(Status::new(Code::Unresolvable, REASON_UNSCHEDULABLE))
}

/// TaintToleration: every NoSchedule and NoExecute taint must be tolerated.
pub fn taint_toleration(pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
    let untolerated = node
        .taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .any(|t| !tolerated(&pod.tolerations, t));
    if untolerated {
        Err(Status::new(Code::Unresolvable, REASON_TAINT))
    } else {
        Ok(())
    }
}

/// NodeAffinity: `nodeSelector` and required node affinity both hold.
pub fn node_affinity(pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
    let selector_ok = pod
        .node_selector
        .iter()
        .all(|(k, v)| node.labels.get(k) == Some(v));
    let required = pod
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    let affinity_ok = required.is_none_or(|r| node_selector_matches(r, &node.name, &node.labels));
    if selector_ok && affinity_ok {
        Ok(())
    } else {
        Err(Status::new(Code::Unresolvable, REASON_NODE_AFFINITY))
    }
}

/// NodePorts: the pod's host ports are free on the node.
pub fn node_ports(pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
    let clash = pod
        .host_ports
        .iter()
        .any(|p| node.used_ports.iter().any(|u| u.conflicts(p)));
    if clash {
        Err(Status::new(Code::Unschedulable, REASON_PORTS))
    } else {
        Ok(())
    }
}

/// NodeResourcesFit: pod count and every requested resource fit in allocatable
/// minus what the node's pods request. A request beyond the node's whole
/// allocatable cannot be helped by preemption.
pub fn node_resources_fit(pod: &PodInfo, node: &NodeInfo) -> Result<(), Status> {
    let mut reasons = Vec::new();
    let mut unresolvable = false;
    if node.pods.len() as i64 + 1 > node.allowed_pods {
        reasons.push(REASON_TOO_MANY_PODS.to_string());
    }
    let r = &pod.requests;
    let a = &node.allocatable;
    let u = &node.requested;
    let mut check = |name: &str, want: i64, alloc: i64, used: i64| {
        if want > 0 && want > alloc - used {
            reasons.push(format!("Insufficient {name}"));
            unresolvable |= want > alloc;
        }
    };
    check("cpu", r.milli_cpu, a.milli_cpu, u.milli_cpu);
    check("memory", r.memory, a.memory, u.memory);
    check(
        "ephemeral-storage",
        r.ephemeral_storage,
        a.ephemeral_storage,
        u.ephemeral_storage,
    );
    for (name, want) in &r.scalar {
        let alloc = a.scalar.get(name).copied().unwrap_or(0);
        let used = u.scalar.get(name).copied().unwrap_or(0);
        check(name, *want, alloc, used);
    }
    if reasons.is_empty() {
        return Ok(());
    }
    Err(Status {
        code: if unresolvable {
            Code::Unresolvable
        } else {
            Code::Unschedulable
        },
        reasons,
    })
}

/// Runs every filter on one node, stopping at the first that rejects it, as the
/// scheduling framework does.
pub fn run_filters(pod: &PodInfo, node: &NodeInfo, state: &CycleState) -> Result<(), Status> {
    node_unschedulable(pod, node)?;
    taint_toleration(pod, node)?;
    node_affinity(pod, node)?;
    node_ports(pod, node)?;
    node_resources_fit(pod, node)?;
    state.volumes.filter(node)?;
    state.affinity.filter(node)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Node, Pod};
    use serde_json::{Value, json};
    use std::sync::Arc;

    pub(crate) fn node(v: Value) -> NodeInfo {
        let mut n: Value = json!({"metadata": {"name": "n1", "labels": {}},
            "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "3"}}});
        merge(&mut n, v);
        NodeInfo::new(&serde_json::from_value::<Node>(n).unwrap())
    }

    pub(crate) fn pod(spec: Value) -> PodInfo {
        let mut p = json!({"metadata": {"name": "p", "namespace": "ns", "uid": "u"},
            "spec": {"containers": [{"name": "c"}]}});
        merge(&mut p, spec);
        PodInfo::new(&serde_json::from_value::<Pod>(p).unwrap())
    }

    fn merge(a: &mut Value, b: Value) {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k).or_insert(Value::Null), v);
                }
            }
            (a, b) => *a = b,
        }
    }

    fn cpu_pod(cpu: &str, uid: &str) -> PodInfo {
        let mut p = pod(
            json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu}}}]}}),
        );
        p.uid = uid.into();
        p
    }

    #[test]
    fn unschedulable_node_unless_tolerated() {
        let n = node(json!({"spec": {"unschedulable": true}}));
        let err = node_unschedulable(&pod(json!({})), &n).unwrap_err();
        assert_eq!(err.reasons, [REASON_UNSCHEDULABLE]);
        assert_eq!(err.code, Code::Unresolvable);
        let tol = pod(
            json!({"spec": {"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}]}}),
        );
        assert!(node_unschedulable(&tol, &n).is_ok());
    }

    #[test]
    fn taints_must_be_tolerated_except_prefer() {
        let n = node(
            json!({"spec": {"taints": [{"key": "gpu", "effect": "NoSchedule"}, {"key": "soft", "effect": "PreferNoSchedule"}]}}),
        );
        assert_eq!(
            taint_toleration(&pod(json!({})), &n).unwrap_err().reasons,
            [REASON_TAINT]
        );
        let tol = pod(json!({"spec": {"tolerations": [{"key": "gpu", "operator": "Exists"}]}}));
        assert!(taint_toleration(&tol, &n).is_ok());
        let ne = node(json!({"spec": {"taints": [{"key": "x", "effect": "NoExecute"}]}}));
        assert!(taint_toleration(&pod(json!({})), &ne).is_err());
    }

    #[test]
    fn node_selector_and_required_affinity() {
        let n = node(json!({"metadata": {"labels": {"disk": "ssd", "zone": "a"}}}));
        assert!(
            node_affinity(&pod(json!({"spec": {"nodeSelector": {"disk": "ssd"}}})), &n).is_ok()
        );
        let err = node_affinity(&pod(json!({"spec": {"nodeSelector": {"disk": "hdd"}}})), &n)
            .unwrap_err();
        assert_eq!(err.reasons, [REASON_NODE_AFFINITY]);
        let aff = pod(
            json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}]}}}}}),
        );
        assert!(node_affinity(&aff, &n).is_err());
    }

    #[test]
    fn host_ports_conflict_by_protocol_and_ip() {
        let mut n = node(json!({}));
        let user = pod(
            json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}}),
        );
        n.add_pod(Arc::new(user));
        let same = pod(
            json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}}),
        );
        assert_eq!(node_ports(&same, &n).unwrap_err().reasons, [REASON_PORTS]);
        let udp = pod(
            json!({"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}]}]}}),
        );
        assert!(node_ports(&udp, &n).is_ok());
        n.remove_pod("u");
        assert!(node_ports(&same, &n).is_ok());
    }

    #[test]
    fn resources_fit_counts_bound_pods() {
        let mut n = node(json!({}));
        n.add_pod(Arc::new(cpu_pod("1500m", "a")));
        let err = node_resources_fit(&cpu_pod("1", "b"), &n).unwrap_err();
        assert_eq!(err.reasons, ["Insufficient cpu"]);
        assert_eq!(err.code, Code::Unschedulable);
        assert!(node_resources_fit(&cpu_pod("500m", "b"), &n).is_ok());
        let err = node_resources_fit(&cpu_pod("3", "b"), &n).unwrap_err();
        assert_eq!(err.code, Code::Unresolvable);
        n.add_pod(Arc::new(cpu_pod("0", "c")));
        n.add_pod(Arc::new(cpu_pod("0", "d")));
        let err = node_resources_fit(&cpu_pod("1", "e"), &n).unwrap_err();
        assert_eq!(err.reasons, ["Too many pods", "Insufficient cpu"]);
    }

    #[test]
    fn extended_resources_absent_on_node_are_insufficient() {
        let n = node(json!({}));
        let gpu = pod(
            json!({"spec": {"containers": [{"name": "c", "resources": {"requests": {"nvidia.com/gpu": "1"}}}]}}),
        );
        assert_eq!(
            node_resources_fit(&gpu, &n).unwrap_err().reasons,
            ["Insufficient nvidia.com/gpu"]
        );
    }
}
