//! The controllers against `sphere kernel` in another process: a Deployment rolls out as in-process.
//!
//! Needs the `sphere` binary: `SPHERE_BIN`, else `$CARGO_TARGET_DIR/debug/sphere`, else
//! `<workspace>/target/debug/sphere` (build it with `cargo build -p sphere`).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use tokio_util::sync::CancellationToken;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sphere_binary() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = if let Some(bin) = std::env::var_os("SPHERE_BIN") {
        PathBuf::from(bin)
    } else if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        workspace.join(target).join("debug/sphere")
    } else {
        workspace.join("target/debug/sphere")
    };
    assert!(
        path.is_file(),
        "no sphere binary at {}: run `cargo build -p sphere` first",
        path.display()
    );
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_rolls_out_against_sphere_kernel_process() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = std::fs::File::create(dir.path().join("sphere.log")).unwrap();
    let child = Command::new(sphere_binary())
        .args(["kernel", "--data-dir"])
        .arg(&data)
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let _guard = Killed(child);
    let kubeconfig = data.join("admin.kubeconfig");
    let client = support::wait_for(60, "sphere kernel to serve", || async {
        let text = std::fs::read_to_string(dir.path().join("sphere.log")).ok()?;
        if !text.contains("listening on") || !kubeconfig.is_file() {
            return None;
        }
        let kc = Kubeconfig::read_from(&kubeconfig).ok()?;
        let cfg = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .ok()?;
        let client = kube::Client::try_from(cfg).ok()?;
        client.apiserver_version().await.ok()?;
        Some(client)
    })
    .await;
    let cancel = CancellationToken::new();
    support::start_with(client.clone(), cancel.clone()).await;

    let api: Api<Deployment> = Api::namespaced(client, "default");
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "remote"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "remote"}},
            "template": {"metadata": {"labels": {"app": "remote"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        }
    }))
    .unwrap();
    api.create(&PostParams::default(), &d).await.unwrap();
    let d = support::wait_for(60, "remote rollout", || async {
        let d = api.get("remote").await.ok()?;
        let s = d.status.clone()?;
        (s.available_replicas == Some(3)
            && s.updated_replicas == Some(3)
            && s.observed_generation == d.metadata.generation)
            .then_some(d)
    })
    .await;
    let reason = d
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Progressing")
        .unwrap()
        .reason;
    assert_eq!(reason.as_deref(), Some("NewReplicaSetAvailable"));
    cancel.cancel();
    tokio::time::sleep(Duration::from_millis(50)).await;
}
