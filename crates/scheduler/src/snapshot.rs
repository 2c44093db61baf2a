//! What the scheduler knows about pods and nodes, reduced to what decisions need.

use crate::resources::{Resources, pod_non_zero_requests, pod_requests};
use crate::selectors::Labels;
use k8s_openapi::api::core::v1::{Affinity, Node, Pod, Taint, Toleration};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A host port in use: protocol, host IP (`0.0.0.0` for any) and port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostPort {
    pub protocol: String,
    pub ip: String,
    pub port: i32,
}

impl HostPort {
    /// Whether two host ports cannot be bound at the same time.
    pub fn conflicts(&self, o: &HostPort) -> bool {
        self.port == o.port
            && self.protocol == o.protocol
            && (self.ip == o.ip || self.ip == "0.0.0.0" || o.ip == "0.0.0.0")
    }
}

/// A pod as the scheduler sees it.
#[derive(Debug, Clone)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub labels: Labels,
    pub requests: Resources,
    pub non_zero: Resources,
    pub priority: i32,
    pub preempt_never: bool,
    pub host_ports: Vec<HostPort>,
    pub node_selector: Labels,
    pub affinity: Option<Affinity>,
    pub tolerations: Vec<Toleration>,
    /// Names of PersistentVolumeClaims the pod mounts.
    pub claims: Vec<String>,
    pub node_name: Option<String>,
}

impl PodInfo {
    /// Extracts what scheduling needs from `pod`.
    pub fn new(pod: &Pod) -> Self {
        let spec = pod.spec.clone().unwrap_or_default();
        let mut host_ports = Vec::new();
        for c in spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
        {
            for p in c.ports.iter().flatten() {
                if let Some(hp) = p.host_port.filter(|p| *p > 0) {
                    host_ports.push(HostPort {
                        protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                        ip: p
                            .host_ip
                            .clone()
                            .filter(|i| !i.is_empty())
                            .unwrap_or_else(|| "0.0.0.0".into()),
                        port: hp,
                    });
                }
            }
        }
        let claims = spec
            .volumes
            .iter()
            .flatten()
            .filter_map(|v| {
                v.persistent_volume_claim
                    .as_ref()
                    .map(|c| c.claim_name.clone())
            })
            .collect();
        PodInfo {
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            labels: pod.metadata.labels.clone().unwrap_or_default(),
            requests: pod_requests(pod),
            non_zero: pod_non_zero_requests(pod),
            priority: spec.priority.unwrap_or(0),
            preempt_never: spec.preemption_policy.as_deref() == Some("Never"),
            host_ports,
            node_selector: spec.node_selector.clone().unwrap_or_default(),
            affinity: spec.affinity.clone(),
            tolerations: spec.tolerations.clone().unwrap_or_default(),
            claims,
            node_name: spec.node_name.clone().filter(|n| !n.is_empty()),
        }
    }

    /// Whether the pod declares any pod affinity or anti-affinity term.
    pub fn has_pod_affinity_terms(&self) -> bool {
        self.affinity.as_ref().is_some_and(|a| {
            a.pod_affinity.as_ref().is_some_and(|p| {
                p.required_during_scheduling_ignored_during_execution
                    .as_ref()
                    .is_some_and(|v| !v.is_empty())
                    || p.preferred_during_scheduling_ignored_during_execution
                        .as_ref()
                        .is_some_and(|v| !v.is_empty())
            }) || a.pod_anti_affinity.as_ref().is_some_and(|p| {
                p.required_during_scheduling_ignored_during_execution
                    .as_ref()
                    .is_some_and(|v| !v.is_empty())
                    || p.preferred_during_scheduling_ignored_during_execution
                        .as_ref()
                        .is_some_and(|v| !v.is_empty())
            })
        })
    }
}

/// A node with the pods assigned to it and what they use.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub name: String,
    pub labels: Labels,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    pub allocatable: Resources,
    pub allowed_pods: i64,
    pub requested: Resources,
    pub non_zero_requested: Resources,
    pub pods: BTreeMap<String, Arc<PodInfo>>,
    pub used_ports: BTreeSet<HostPort>,
}

impl NodeInfo {
    /// A node with no pods yet.
    pub fn new(node: &Node) -> Self {
        let mut n = NodeInfo {
            name: String::new(),
            labels: Labels::new(),
            taints: Vec::new(),
            unschedulable: false,
            allocatable: Resources::default(),
            allowed_pods: 0,
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pods: BTreeMap::new(),
            used_ports: BTreeSet::new(),
        };
        n.set_node(node);
        n
    }

    /// Refreshes the node's own fields, keeping its pods.
    pub fn set_node(&mut self, node: &Node) {
        let spec = node.spec.clone().unwrap_or_default();
        let alloc = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
        self.name = node.metadata.name.clone().unwrap_or_default();
        self.labels = node.metadata.labels.clone().unwrap_or_default();
        self.taints = spec.taints.unwrap_or_default();
        self.unschedulable = spec.unschedulable.unwrap_or(false);
        self.allocatable = Resources::from_list(alloc);
        self.allowed_pods = alloc
            .and_then(|a| a.get("pods"))
            .and_then(|q| q.0.parse::<apimachinery::quantity::Quantity>().ok())
            .map_or(0, |q| q.value());
    }

    /// Accounts `pod` to this node.
    pub fn add_pod(&mut self, pod: Arc<PodInfo>) {
        if self.pods.contains_key(&pod.uid) {
            return;
        }
        self.requested.add(&pod.requests);
        self.non_zero_requested.add(&pod.non_zero);
        for p in &pod.host_ports {
            self.used_ports.insert(p.clone());
        }
        self.pods.insert(pod.uid.clone(), pod);
    }

    /// Removes the pod with `uid`, returning whether it was here.
    pub fn remove_pod(&mut self, uid: &str) -> bool {
        let Some(pod) = self.pods.remove(uid) else {
            return false;
        };
        self.requested.sub(&pod.requests);
        self.non_zero_requested.sub(&pod.non_zero);
        self.used_ports = self
            .pods
            .values()
            .flat_map(|p| p.host_ports.iter().cloned())
            .collect();
        true
    }
}

/// Everything one scheduling decision reads.
#[derive(Debug, Default)]
pub struct Snapshot<'a> {
    pub nodes: Vec<&'a NodeInfo>,
    /// Namespace labels, for pod affinity terms with a namespaceSelector.
    pub namespaces: Option<&'a BTreeMap<String, Labels>>,
}
