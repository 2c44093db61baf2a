//! A simulated node for tests and benchmarks: registers a Node, heartbeats its Lease and moves bound pods through their phases on command, like kwok.

mod ipam;
pub mod objects;
mod runtime;

pub use runtime::SimNode;

use k8s_openapi::api::core::v1::Taint;
use std::collections::BTreeMap;
use std::time::Duration;

/// What a simulated node offers: its capacity is also its allocatable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capacity {
    /// CPU in Kubernetes quantity form (`"4"`, `"3500m"`).
    pub cpu: String,
    /// Memory in quantity form (`"16Gi"`).
    pub memory: String,
    /// How many pods the node accepts.
    pub pods: u32,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity {
            cpu: "32".into(),
            memory: "256Gi".into(),
            pods: 110,
        }
    }
}

/// How to start a [`SimNode`].
#[derive(Debug, Clone)]
pub struct SimNodeOptions {
    /// The Node's name (and hostname label).
    pub name: String,
    pub capacity: Capacity,
    /// Labels added to the kubelet's standard ones.
    pub labels: BTreeMap<String, String>,
    /// Taints registered with the node.
    pub taints: Vec<Taint>,
    /// Picks the node's InternalIP and pod /24; distinct indexes never collide.
    /// Defaults to a hash of the name.
    pub index: Option<u16>,
    /// `leaseDurationSeconds` of the node Lease (the kubelet's default is 40).
    pub lease_duration_seconds: i32,
    /// How often the Lease is renewed (the kubelet renews every 10 s).
    pub lease_renew_interval: Duration,
    /// How often the node status is posted even when nothing changed (kubelet: 5 min).
    pub status_report_interval: Duration,
    /// Pods with restartPolicy Never or OnFailure complete successfully this long
    /// after they start running; `None` waits for [`SimNode::succeed_pod`].
    pub auto_complete_after: Option<Duration>,
    /// Whether containers are ready as soon as they run (no readiness probe).
    pub ready_on_start: bool,
}

impl SimNodeOptions {
    /// A node named `name` with the default capacity (32 CPUs, 256Gi, 110 pods).
    pub fn new(name: impl Into<String>) -> Self {
        SimNodeOptions {
            name: name.into(),
            capacity: Capacity::default(),
            labels: BTreeMap::new(),
            taints: Vec::new(),
            index: None,
            lease_duration_seconds: 40,
            lease_renew_interval: Duration::from_secs(10),
            status_report_interval: Duration::from_secs(300),
            auto_complete_after: None,
            ready_on_start: true,
        }
    }

    /// Sets the capacity.
    pub fn capacity(mut self, cpu: &str, memory: &str, pods: u32) -> Self {
        self.capacity = Capacity {
            cpu: cpu.into(),
            memory: memory.into(),
            pods,
        };
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Adds a taint.
    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> Self {
        self.taints.push(Taint {
            key: key.into(),
            value: (!value.is_empty()).then(|| value.into()),
            effect: effect.into(),
            time_added: None,
        });
        self
    }
}

/// Why a simulated node operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API server refused or failed a request.
    #[error("API request failed: {0}")]
    Kube(#[from] kube::Error),
    /// The object could not be turned into its typed form.
    #[error("cannot encode object: {0}")]
    Encode(#[from] serde_json::Error),
    /// The pod is not bound to this node.
    #[error("pod {namespace}/{name} is not bound to node {node}")]
    NotOnThisNode {
        namespace: String,
        name: String,
        node: String,
    },
    /// The pod has not been started by this node yet (or already finished).
    #[error("pod {namespace}/{name} is not running on node {node}; wait until it is Running")]
    NotRunning {
        namespace: String,
        name: String,
        node: String,
    },
    /// The node's pod network has no free address left.
    #[error("node {node} has no free pod IP in {cidr}")]
    NoFreeIp { node: String, cidr: String },
}
