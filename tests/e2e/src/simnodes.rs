//! Simulated nodes (crates/simnode) registered with the cluster under test from the test process, each dedicated to one test by a label and a taint.
//!
//! Tests in one binary share one `sphere up` and run in parallel, so a test's pods
//! must land only on its own nodes: every [`TestNode`] carries the label and the
//! `NoSchedule` taint [`DEDICATED`]`=<group>`, and the test's pod templates select
//! and tolerate them ([`placement`]). A test whose assertions count every node of
//! the cluster (the scheduler's `0/N nodes are available`) takes
//! [`node_set_exclusive`]; every test that starts nodes holds [`node_set_shared`]
//! while its nodes exist.

use std::future::Future;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, DeleteParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};
use simnode::{SimNode, SimNodeOptions};
use tokio::runtime::Runtime;

use crate::cluster::Cluster;

/// Label and taint key that tie a simulated node to one test.
pub const DEDICATED: &str = "e2e.ferrosphere.io/dedicated";

/// How long removing a Node may take to show in the API.
const REMOVE_TIMEOUT: Duration = Duration::from_secs(60);

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static CLIENT: OnceLock<Result<kube::Client, String>> = OnceLock::new();
static NODE_SET: RwLock<()> = RwLock::new(());
/// Simulated nodes pick their InternalIP and pod /24 from an index; distinct ones never collide.
static NEXT_INDEX: AtomicU16 = AtomicU16::new(1);

/// The runtime simulated nodes run on. Tests are synchronous (they drive kubectl),
/// so the nodes' heartbeats and pod loops live on worker threads of their own.
pub fn runtime() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("simnodes")
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start the simulated nodes' runtime: {e}"))
    })
}

/// Runs `f` to completion on [`runtime`]; call it from a synchronous test only.
pub fn block_on<F: Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

/// A kube client with the cluster-admin kubeconfig kubectl uses.
pub fn client() -> kube::Client {
    let client = CLIENT.get_or_init(|| {
        let path = Cluster::shared().kubeconfig().to_owned();
        block_on(async move {
            let kc = Kubeconfig::read_from(&path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                .await
                .map_err(|e| format!("loading {}: {e}", path.display()))?;
            kube::Client::try_from(config).map_err(|e| format!("building a client: {e}"))
        })
    });
    match client {
        Ok(c) => c.clone(),
        Err(e) => panic!("no kube client for the cluster under test: {e}"),
    }
}

/// Held by a test while its simulated nodes exist; many tests may hold it at once.
pub fn node_set_shared() -> RwLockReadGuard<'static, ()> {
    // A test that panicked while holding the lock left no state behind it.
    NODE_SET.read().unwrap_or_else(|e| e.into_inner())
}

/// Held by a test that needs the cluster's node set to stay as it is (no other
/// test's nodes come or go meanwhile).
pub fn node_set_exclusive() -> RwLockWriteGuard<'static, ()> {
    NODE_SET.write().unwrap_or_else(|e| e.into_inner())
}

/// What a pod spec needs to run on the nodes of `group` only: their label as
/// nodeSelector and a toleration of their taint. Merge it into the pod spec.
pub fn placement(group: &str) -> Value {
    json!({
        "nodeSelector": {DEDICATED: group},
        "tolerations": [{"key": DEDICATED, "operator": "Equal", "value": group, "effect": "NoSchedule"}],
    })
}

/// `placement(group)` merged into `pod_spec` (a JSON object).
pub fn place(mut pod_spec: Value, group: &str) -> Value {
    if let (Some(spec), Value::Object(extra)) = (pod_spec.as_object_mut(), placement(group)) {
        spec.extend(extra);
    }
    pod_spec
}

/// A simulated node started by a test. Dropping it stops the node and deletes its Node.
pub struct TestNode {
    node: Option<SimNode>,
    name: String,
}

impl TestNode {
    /// Starts a node with `opts` (its index is picked here so that pod IPs never
    /// collide between nodes of one process); panics (failing the test) if the node
    /// cannot register.
    #[track_caller]
    pub fn start(mut opts: SimNodeOptions) -> TestNode {
        opts.index = Some(NEXT_INDEX.fetch_add(1, Ordering::Relaxed));
        let name = opts.name.clone();
        let client = client();
        match block_on(SimNode::start(client, opts)) {
            Ok(node) => TestNode {
                node: Some(node),
                name,
            },
            Err(e) => panic!("simulated node {name} did not start: {e}"),
        }
    }

    /// A node `<group>-<suffix>` labelled and tainted for `group` (see [`placement`]).
    /// With `ready_on_start` false its pods run but stay not Ready until
    /// [`TestNode::set_ready`].
    #[track_caller]
    pub fn dedicated(group: &str, suffix: &str, ready_on_start: bool) -> TestNode {
        let mut opts = SimNodeOptions::new(format!("{group}-{suffix}"))
            .label(DEDICATED, group)
            .taint(DEDICATED, group, "NoSchedule");
        opts.ready_on_start = ready_on_start;
        TestNode::start(opts)
    }

    /// The Node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn sim(&self) -> Result<&SimNode, String> {
        self.node
            .as_ref()
            .ok_or_else(|| format!("node {} was removed", self.name))
    }

    /// Marks the pod's containers ready or not, as a readiness probe would. Fails
    /// while the node has not started the pod yet.
    pub fn set_ready(&self, namespace: &str, pod: &str, ready: bool) -> Result<(), String> {
        let sim = self.sim()?;
        block_on(sim.set_ready(namespace, pod, ready)).map_err(|e| e.to_string())
    }

    /// Makes the pod's containers exit with `exit_code`.
    pub fn fail_pod(&self, namespace: &str, pod: &str, exit_code: i32) -> Result<(), String> {
        let sim = self.sim()?;
        block_on(sim.fail_pod(namespace, pod, exit_code)).map_err(|e| e.to_string())
    }

    /// Makes the pod's containers exit 0.
    pub fn succeed_pod(&self, namespace: &str, pod: &str) -> Result<(), String> {
        let sim = self.sim()?;
        block_on(sim.succeed_pod(namespace, pod)).map_err(|e| e.to_string())
    }

    /// Stops the node, as if its kubelet died, and deletes its Node object as an
    /// administrator removing it from the cluster would; returns once the Node is
    /// gone. Panics (failing the test) if it is still there after a minute.
    #[track_caller]
    pub fn remove(&mut self) {
        if let Some(node) = self.node.take() {
            node.stop();
        }
        let api: Api<Node> = Api::all(client());
        let deadline = Instant::now() + REMOVE_TIMEOUT;
        loop {
            let last = match block_on(api.delete(&self.name, &DeleteParams::default())) {
                Err(kube::Error::Api(s)) if s.code == 404 => return,
                Err(e) => e.to_string(),
                Ok(_) => match block_on(api.get_opt(&self.name)) {
                    Ok(None) => return,
                    Ok(Some(_)) => "the Node still exists".into(),
                    Err(e) => e.to_string(),
                },
            };
            if Instant::now() >= deadline {
                panic!(
                    "node {} not removed after {REMOVE_TIMEOUT:?}: {last}",
                    self.name
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            node.stop();
            // Best effort: a Node left behind only skews later node counts, which the
            // exclusive lock's holder checks before it relies on them.
            let api: Api<Node> = Api::all(client());
            let _ = block_on(api.delete(&self.name, &DeleteParams::default()));
        }
    }
}
