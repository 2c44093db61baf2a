//! Volume binding against an in-process kernel: the default local-path class, WaitForFirstConsumer provisioning, reclaim.
#![allow(clippy::unwrap_used)] // Tests fail loudly on unexpected errors.

mod common;

use common::*;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DeleteParams, PostParams};
use scheduler::volumes::{VolumeOptions, run};
use serde_json::json;
use simnode::{SimNode, SimNodeOptions};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what} never happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_is_provisioned_on_the_consumers_node_and_reclaimed() {
    let env = kernel().await;
    let c = &env.client;
    let base = env.dir.path().join("volumes");
    let cancel = CancellationToken::new();
    let mut vo = VolumeOptions::new(&base);
    vo.resync = Duration::from_millis(200);
    tokio::spawn(run(c.clone(), vo, cancel.clone()));
    tokio::spawn(scheduler::run_scheduler(
        c.clone(),
        Default::default(),
        cancel.clone(),
    ));
    let _n1 = SimNode::start(c.clone(), SimNodeOptions::new("n1"))
        .await
        .unwrap();
    let _n2 = SimNode::start(c.clone(), SimNodeOptions::new("n2"))
        .await
        .unwrap();

    let classes: Api<StorageClass> = Api::all(c.clone());
    let sc = eventually("default class", async || {
        classes.get_opt("local-path").await.unwrap()
    })
    .await;
    assert_eq!(
        sc.metadata.annotations.unwrap()["storageclass.kubernetes.io/is-default-class"],
        "true"
    );

    let claims: Api<PersistentVolumeClaim> = Api::namespaced(c.clone(), "default");
    let pvc: PersistentVolumeClaim = serde_json::from_value(json!({"metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}))
    .unwrap();
    claims.create(&PostParams::default(), &pvc).await.unwrap();
    // WaitForFirstConsumer: nothing happens before a pod uses the claim.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pending = claims.get("data").await.unwrap();
    assert_ne!(
        pending.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Bound")
    );

    create(c, pod("db", json!({"spec": {"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}}))).await;
    let node = scheduled(c, "db").await;
    let bound = eventually("claim bound", async || {
        claims
            .get("data")
            .await
            .ok()
            .filter(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound"))
    })
    .await;
    let ann = bound.metadata.annotations.clone().unwrap();
    assert_eq!(ann["volume.kubernetes.io/selected-node"], node);
    assert_eq!(ann["pv.kubernetes.io/bind-completed"], "yes");
    assert_eq!(
        bound.spec.as_ref().unwrap().storage_class_name.as_deref(),
        Some("local-path")
    );
    let pv_name = bound.spec.unwrap().volume_name.unwrap();
    let pvs: Api<PersistentVolume> = Api::all(c.clone());
    let pv = pvs.get(&pv_name).await.unwrap();
    assert_eq!(pv.status.as_ref().unwrap().phase.as_deref(), Some("Bound"));
    let spec = pv.spec.unwrap();
    let affinity = serde_json::to_value(spec.node_affinity.unwrap()).unwrap();
    assert_eq!(
        affinity["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"][0],
        node.as_str()
    );
    let dir = std::path::PathBuf::from(spec.host_path.unwrap().path);
    assert!(dir.is_dir() && dir.starts_with(&base));

    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    pods.delete("db", &DeleteParams::default()).await.unwrap();
    claims
        .delete("data", &DeleteParams::default())
        .await
        .unwrap();
    eventually("volume deleted", async || {
        pvs.get_opt(&pv_name).await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(!dir.exists(), "reclaim policy Delete removes the directory");
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_volume_is_bound_immediately_by_class() {
    let env = kernel().await;
    let c = &env.client;
    let cancel = CancellationToken::new();
    let mut vo = VolumeOptions::new(env.dir.path().join("volumes"));
    vo.resync = Duration::from_millis(200);
    tokio::spawn(run(c.clone(), vo, cancel.clone()));
    let classes: Api<StorageClass> = Api::all(c.clone());
    let manual: StorageClass = serde_json::from_value(json!({"metadata": {"name": "manual"},
        "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "Immediate"}))
    .unwrap();
    classes
        .create(&PostParams::default(), &manual)
        .await
        .unwrap();
    let pvs: Api<PersistentVolume> = Api::all(c.clone());
    for (name, size) in [("small", "1Gi"), ("large", "10Gi")] {
        let pv: PersistentVolume = serde_json::from_value(json!({"metadata": {"name": name}, "spec": {
            "capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
            "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": "/tmp/none"}}})).unwrap();
        pvs.create(&PostParams::default(), &pv).await.unwrap();
    }
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(c.clone(), "default");
    let pvc: PersistentVolumeClaim = serde_json::from_value(json!({"metadata": {"name": "want5"},
        "spec": {"storageClassName": "manual", "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}})).unwrap();
    claims.create(&PostParams::default(), &pvc).await.unwrap();
    let bound = eventually("claim bound", async || {
        claims
            .get("want5")
            .await
            .ok()
            .filter(|c| c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound"))
    })
    .await;
    assert_eq!(bound.spec.unwrap().volume_name.as_deref(), Some("large"));
    assert_eq!(bound.status.unwrap().capacity.unwrap()["storage"].0, "10Gi");
    claims
        .delete("want5", &DeleteParams::default())
        .await
        .unwrap();
    eventually("volume released", async || {
        pvs.get("large")
            .await
            .ok()
            .filter(|v| v.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Released"))
    })
    .await;
    let small = pvs.get("small").await.unwrap();
    assert_eq!(small.status.unwrap().phase.as_deref(), Some("Available"));
    cancel.cancel();
}
