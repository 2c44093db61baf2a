//! The scheduler's view of the cluster, fed by watches and by its own assumptions.

use crate::selectors::Labels;
use crate::snapshot::{NodeInfo, PodInfo, Snapshot};
use crate::volumebinding::Catalog;
use k8s_openapi::api::core::v1::{Node, Pod};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What changed, so the loop knows whether parked pods deserve another try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing that could make a pending pod schedulable.
    None,
    /// A pending pod (by uid) appeared or changed.
    Pending,
    /// Capacity, labels, taints or volumes changed.
    Cluster,
}

/// Nodes with their pods, pending pods and the volume catalog.
#[derive(Debug, Default)]
pub struct Cache {
    pub nodes: BTreeMap<String, NodeInfo>,
    /// Where each assigned (bound or assumed) pod is; kept even while its node is
    /// unknown, so a node that appears late gets its pods.
    pub assigned: HashMap<String, (String, Arc<PodInfo>)>,
    /// Pods this scheduler bound whose binding the watch has not shown yet.
    pub assumed: HashMap<String, String>,
    /// Unassigned pods for this scheduler, by uid.
    pub pending: HashMap<String, Arc<Pod>>,
    pub namespaces: BTreeMap<String, Labels>,
    pub catalog: Catalog,
    /// Assigned pods that declare pod (anti-)affinity terms.
    pub affinity_pods: usize,
    scheduler_name: String,
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded") | Some("Failed")
    )
}

impl Cache {
    /// An empty cache for pods naming `scheduler_name`.
    pub fn new(scheduler_name: &str) -> Self {
        Cache {
            scheduler_name: scheduler_name.to_string(),
            ..Default::default()
        }
    }

    /// Whether this scheduler is responsible for the pod.
    pub fn responsible(&self, pod: &Pod) -> bool {
        let name = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.as_deref())
            .unwrap_or("");
        name.is_empty() || name == self.scheduler_name
    }

    /// A snapshot over all nodes, in name order.
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            nodes: self.nodes.values().collect(),
            namespaces: Some(&self.namespaces),
        }
    }

    /// Adds or updates a node.
    pub fn apply_node(&mut self, node: &Node) -> Change {
        let name = node.metadata.name.clone().unwrap_or_default();
        match self.nodes.get_mut(&name) {
            Some(n) => n.set_node(node),
            None => {
                let mut n = NodeInfo::new(node);
                for (at, p) in self.assigned.values() {
                    if *at == name {
                        if p.has_pod_affinity_terms() {
                            self.affinity_pods += 1;
                        }
                        n.add_pod(p.clone());
                    }
                }
                self.nodes.insert(name, n);
            }
        }
        Change::Cluster
    }

    /// Removes a node.
    pub fn delete_node(&mut self, name: &str) -> Change {
        if let Some(n) = self.nodes.remove(name) {
            self.affinity_pods -= n
                .pods
                .values()
                .filter(|p| p.has_pod_affinity_terms())
                .count();
        }
        Change::Cluster
    }

    fn unassign(&mut self, uid: &str) -> bool {
        let Some((node, _)) = self.assigned.remove(uid) else {
            return false;
        };
        if let Some(n) = self.nodes.get_mut(&node) {
            if n.pods.get(uid).is_some_and(|p| p.has_pod_affinity_terms()) {
                self.affinity_pods -= 1;
            }
            n.remove_pod(uid);
        }
        true
    }

    fn assign(&mut self, info: Arc<PodInfo>, node: &str) {
        let uid = info.uid.clone();
        // Labels may have changed: replace any previous entry.
        self.unassign(&uid);
        if let Some(n) = self.nodes.get_mut(node) {
            if info.has_pod_affinity_terms() {
                self.affinity_pods += 1;
            }
            n.add_pod(info.clone());
        }
        self.assigned.insert(uid, (node.to_string(), info));
    }

    /// Records that this scheduler placed the pod on `node` before the API
    /// server confirmed it, so the next decisions already see it there.
    pub fn assume(&mut self, pod: &Pod, node: &str) {
        let mut info = PodInfo::new(pod);
        info.node_name = Some(node.to_string());
        let uid = info.uid.clone();
        self.pending.remove(&uid);
        self.assign(Arc::new(info), node);
        self.assumed.insert(uid, node.to_string());
    }

    /// Undoes [`Cache::assume`] after a failed binding; the pod is pending again.
    pub fn forget(&mut self, pod: Arc<Pod>) {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        if self.assumed.remove(&uid).is_some() {
            self.unassign(&uid);
            self.pending.insert(uid, pod);
        }
    }

    /// Applies a pod from the watch; returns what changed.
    pub fn apply_pod(&mut self, pod: Pod) -> Change {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty());
        if is_terminal(&pod) {
            self.pending.remove(&uid);
            self.assumed.remove(&uid);
            return if self.unassign(&uid) {
                Change::Cluster
            } else {
                Change::None
            };
        }
        match node {
            Some(node) => {
                self.pending.remove(&uid);
                self.assumed.remove(&uid);
                let is_new = !self.assigned.contains_key(&uid);
                self.assign(Arc::new(PodInfo::new(&pod)), &node);
                // A newly bound pod can satisfy other pods' affinity.
                if is_new && self.affinity_pods > 0 {
                    Change::Cluster
                } else {
                    Change::None
                }
            }
            None if self.assumed.contains_key(&uid) => Change::None,
            None if pod.metadata.deletion_timestamp.is_some() || !self.responsible(&pod) => {
                self.pending.remove(&uid);
                Change::None
            }
            None => {
                self.pending.insert(uid, Arc::new(pod));
                Change::Pending
            }
        }
    }

    /// Removes a deleted pod; returns what changed.
    pub fn delete_pod(&mut self, uid: &str) -> Change {
        self.pending.remove(uid);
        self.assumed.remove(uid);
        if self.unassign(uid) {
            Change::Cluster
        } else {
            Change::None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str) -> Node {
        serde_json::from_value(json!({"metadata": {"name": name},
            "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "10"}}}))
        .unwrap()
    }

    fn pod(uid: &str, node: Option<&str>, scheduler: Option<&str>) -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": uid, "namespace": "ns", "uid": uid},
            "spec": {"nodeName": node, "schedulerName": scheduler, "containers": [{"name": "c",
                "resources": {"requests": {"cpu": "300m"}}}]}}),
        )
        .unwrap()
    }

    #[test]
    fn pending_assumed_and_bound() {
        let mut c = Cache::new("default-scheduler");
        c.apply_node(&node("n1"));
        assert_eq!(c.apply_pod(pod("a", None, None)), Change::Pending);
        assert_eq!(
            c.apply_pod(pod("other", None, Some("custom"))),
            Change::None
        );
        assert!(c.pending.contains_key("a") && !c.pending.contains_key("other"));
        let a = c.pending["a"].clone();
        c.assume(&a, "n1");
        assert_eq!(c.nodes["n1"].requested.milli_cpu, 300);
        // The watch still shows the old, unbound version: it stays assumed.
        assert_eq!(c.apply_pod(pod("a", None, None)), Change::None);
        assert!(c.pending.is_empty());
        c.apply_pod(pod("a", Some("n1"), None));
        assert!(c.assumed.is_empty());
        assert_eq!(c.nodes["n1"].requested.milli_cpu, 300);
        assert_eq!(c.delete_pod("a"), Change::Cluster);
        assert_eq!(c.nodes["n1"].requested.milli_cpu, 0);
    }

    #[test]
    fn forget_returns_pod_to_pending() {
        let mut c = Cache::new("default-scheduler");
        c.apply_node(&node("n1"));
        c.apply_pod(pod("a", None, None));
        let a = c.pending["a"].clone();
        c.assume(&a, "n1");
        c.forget(a);
        assert!(c.pending.contains_key("a"));
        assert_eq!(c.nodes["n1"].requested.milli_cpu, 0);
    }

    #[test]
    fn terminal_pods_free_resources() {
        let mut c = Cache::new("default-scheduler");
        c.apply_node(&node("n1"));
        c.apply_pod(pod("a", Some("n1"), None));
        let mut done = pod("a", Some("n1"), None);
        done.status = Some(serde_json::from_value(json!({"phase": "Succeeded"})).unwrap());
        assert_eq!(c.apply_pod(done), Change::Cluster);
        assert_eq!(c.nodes["n1"].pods.len(), 0);
    }
}
