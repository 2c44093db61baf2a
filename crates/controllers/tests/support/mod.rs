//! Test support: an in-process kernel with the controllers running, and a kwok-like pod driver.

#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::time::Duration;

use apimachinery::UserInfo;
use k8s_openapi::api::core::v1::{Binding, Node, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub struct Env {
    pub client: kube::Client,
    pub cancel: CancellationToken,
    _kernel: kernel::Kernel,
    _dir: tempfile::TempDir,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

pub fn admin() -> UserInfo {
    UserInfo::new("admin", vec!["system:masters".into()])
}

/// Starts a kernel, the controllers and the pod driver.
pub async fn start() -> Env {
    start_opts(controllers::Options::default()).await
}

/// Like [`start`] with the given options (its cancel token is replaced by the Env's).
pub async fn start_opts(opts: controllers::Options) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = kernel::KernelConfig::new(dir.path());
    cfg.fsync = false;
    let k = kernel::Kernel::start(cfg).await.unwrap();
    let client = kubeclient::in_process(k.router(), admin());
    let cancel = CancellationToken::new();
    start_with_opts(
        client.clone(),
        controllers::Options {
            cancel: cancel.clone(),
            ..opts
        },
    )
    .await;
    Env {
        client,
        cancel,
        _kernel: k,
        _dir: dir,
    }
}

/// Starts the controllers and the pod driver against any client.
pub async fn start_with(client: kube::Client, cancel: CancellationToken) {
    start_with_opts(
        client,
        controllers::Options {
            cancel,
            ..Default::default()
        },
    )
    .await
}

/// Starts the controllers with `opts` and the pod driver against any client.
pub async fn start_with_opts(client: kube::Client, opts: controllers::Options) {
    let cancel = opts.cancel.clone();
    let nodes: Api<Node> = Api::all(client.clone());
    let node = Node {
        metadata: ObjectMeta {
            name: Some("node-1".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    match nodes.create(&PostParams::default(), &node).await {
        Ok(_) | Err(kube::Error::Api(_)) => {}
        Err(e) => panic!("{e}"),
    }
    let c = client.clone();
    tokio::spawn(async move {
        if let Err(e) = controllers::run(c, opts).await {
            panic!("controllers: {e}");
        }
    });
    tokio::spawn(drive_pods(client, cancel));
}

/// Binds pending pods to node-1 through pods/binding, marks them Running and Ready
/// (unless labelled `stuck`), and finishes graceful deletions, like kwok.
pub async fn drive_pods(client: kube::Client, cancel: CancellationToken) {
    let api: Api<Pod> = Api::all(client.clone());
    while !cancel.is_cancelled() {
        if let Ok(list) = api.list(&ListParams::default()).await {
            for p in list {
                let ns = p.metadata.namespace.clone().unwrap_or_default();
                let name = p.metadata.name.clone().unwrap_or_default();
                let napi: Api<Pod> = Api::namespaced(client.clone(), &ns);
                if p.metadata.deletion_timestamp.is_some() {
                    let _ = napi
                        .delete(
                            &name,
                            &DeleteParams {
                                grace_period_seconds: Some(0),
                                ..Default::default()
                            },
                        )
                        .await;
                    continue;
                }
                let bound = p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some();
                if !bound {
                    let b = Binding {
                        metadata: ObjectMeta {
                            name: Some(name.clone()),
                            ..Default::default()
                        },
                        target: ObjectReference {
                            kind: Some("Node".into()),
                            name: Some(
                                controllers::daemonset::target_node(&p)
                                    .unwrap_or_else(|| "node-1".into()),
                            ),
                            ..Default::default()
                        },
                    };
                    let _ = napi
                        .create_subresource::<_, serde_json::Value>(
                            "binding",
                            &name,
                            &PostParams::default(),
                            &b,
                        )
                        .await;
                    continue;
                }
                let labels = p.metadata.labels.clone().unwrap_or_default();
                let stuck = labels.contains_key("stuck");
                let phase = p
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_default();
                let outcome = labels.get("outcome").map(String::as_str);
                if let Some(end) = outcome.filter(|_| phase == "Running") {
                    let end = if end == "succeed" {
                        "Succeeded"
                    } else {
                        "Failed"
                    };
                    let patch = json!({"status": {"phase": end, "conditions": [{"type": "Ready", "status": "False"}]}});
                    let _ = napi
                        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await;
                } else if (phase.is_empty() || phase == "Pending") && !stuck {
                    let now = jiff::Timestamp::now().to_string();
                    let ip = ip_of(p.metadata.uid.as_deref().unwrap_or_default());
                    let patch = json!({"status": {
                        "phase": "Running",
                        "podIP": ip,
                        "conditions": [
                            {"type": "Ready", "status": "True", "lastTransitionTime": now},
                            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
                        ],
                    }});
                    let _ = napi
                        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                        .await;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A stable fake pod IP derived from the pod's uid.
pub fn ip_of(uid: &str) -> String {
    let h = uid
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!(
        "10.{}.{}.{}",
        (h >> 16) & 0xff,
        (h >> 8) & 0xff,
        (h & 0xfe) + 1
    )
}

/// Polls `f` every 50 ms until it returns Some, for at most `secs` seconds.
pub async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
