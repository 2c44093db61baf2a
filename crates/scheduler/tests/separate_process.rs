//! The scheduler, volume controller and a SimNode against `sphere kernel` in another process, over HTTPS.
#![allow(clippy::unwrap_used)] // Tests fail loudly on unexpected errors.

use k8s_openapi::api::core::v1::{Event, Node, PersistentVolumeClaim, Pod, ServiceAccount};
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use simnode::{SimNode, SimNodeOptions};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

struct Kernel(Child);

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `SPHERE_BIN`, else `$CARGO_TARGET_DIR/debug/sphere`, else `<workspace>/target/debug/sphere`.
fn sphere_bin() -> PathBuf {
    let ws = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    if let Some(b) = std::env::var_os("SPHERE_BIN") {
        return b.into();
    }
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => ws.join(t).join("debug/sphere"),
        None => ws.join("target/debug/sphere"),
    }
}

async fn connect(dir: &std::path::Path) -> kube::Client {
    let kc_path = dir.join("admin.kubeconfig");
    for _ in 0..600 {
        if let Ok(kc) = Kubeconfig::read_from(&kc_path)
            && let Ok(cfg) =
                kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await
            && let Ok(client) = kube::Client::try_from(cfg)
            && Api::<Node>::all(client.clone())
                .list(&ListParams::default())
                .await
                .is_ok()
        {
            return client;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "sphere kernel never became reachable through {}",
        kc_path.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the sphere binary: cargo build -p sphere, then cargo test -p scheduler --test separate_process -- --ignored"]
async fn schedules_and_binds_volumes_against_sphere_kernel() {
    let bin = sphere_bin();
    assert!(
        bin.is_file(),
        "no sphere binary at {}; run cargo build -p sphere or set SPHERE_BIN",
        bin.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = std::fs::File::create(dir.path().join("sphere.log")).unwrap();
    let child = Command::new(&bin)
        .args(["kernel", "--data-dir"])
        .arg(&data)
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let _kernel = Kernel(child);
    let c = connect(&data).await;
    let sa: ServiceAccount =
        serde_json::from_value(json!({"metadata": {"name": "default"}})).unwrap();
    let _ = Api::<ServiceAccount>::namespaced(c.clone(), "default")
        .create(&PostParams::default(), &sa)
        .await;

    let cancel = CancellationToken::new();
    let mut opts = scheduler::Options::new(dir.path().join("volumes"));
    if let Some(v) = opts.volumes.as_mut() {
        v.resync = Duration::from_millis(200);
    }
    tokio::spawn(scheduler::run(c.clone(), opts, cancel.clone()));
    let _node = SimNode::start(
        c.clone(),
        SimNodeOptions::new("remote").capacity("2", "4Gi", 10),
    )
    .await
    .unwrap();

    let claims: Api<PersistentVolumeClaim> = Api::namespaced(c.clone(), "default");
    let pvc: PersistentVolumeClaim = serde_json::from_value(json!({"metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}))
    .unwrap();
    claims.create(&PostParams::default(), &pvc).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let p: Pod = serde_json::from_value(json!({"metadata": {"name": "app"}, "spec": {
        "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "500m"}}}],
        "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}))
    .unwrap();
    pods.create(&PostParams::default(), &p).await.unwrap();
    let too_big: Pod = serde_json::from_value(json!({"metadata": {"name": "too-big"}, "spec": {
        "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "3"}}}]}}))
    .unwrap();
    pods.create(&PostParams::default(), &too_big).await.unwrap();

    let mut running = false;
    for _ in 0..400 {
        let p = pods.get("app").await.unwrap();
        if p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running") {
            assert_eq!(p.spec.unwrap().node_name.as_deref(), Some("remote"));
            running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(running, "pod app never ran");
    let claim = claims.get("data").await.unwrap();
    assert_eq!(claim.status.unwrap().phase.as_deref(), Some("Bound"));

    let mut msg = None;
    for _ in 0..400 {
        let lp = ListParams::default().fields("involvedObject.name=too-big");
        let evs = Api::<Event>::namespaced(c.clone(), "default")
            .list(&lp)
            .await
            .unwrap()
            .items;
        if let Some(e) = evs
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
        {
            msg = e.message;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        msg.as_deref(),
        Some(
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
        )
    );
    cancel.cancel();
}
