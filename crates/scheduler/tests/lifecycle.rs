//! Node lifecycle against an in-process kernel: a stopped SimNode goes Unknown, gets tainted, and its pods are evicted.
#![allow(clippy::unwrap_used)] // Tests fail loudly on unexpected errors.

mod common;

use common::*;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::Api;
use scheduler::lifecycle::{LifecycleOptions, TAINT_UNREACHABLE};
use serde_json::json;
use simnode::{SimNode, SimNodeOptions};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn ready(n: &Node) -> String {
    n.status
        .as_ref()
        .unwrap()
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .status
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_node_goes_unknown_and_pods_are_evicted_after_toleration() {
    let env = kernel().await;
    let c = &env.client;
    let mut opts = SimNodeOptions::new("edge");
    opts.lease_renew_interval = Duration::from_millis(100);
    let node = SimNode::start(c.clone(), opts).await.unwrap();
    let tol = |secs: Option<i64>| {
        json!({"spec": {"nodeName": "edge", "tolerations": [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": secs},
        {"key": TAINT_UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": secs}]}})
    };
    create(c, pod("short", tol(Some(1)))).await;
    create(c, pod("forever", tol(None))).await;
    wait_pod(c, "short", "running", |p| {
        p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
    })
    .await;

    let cancel = CancellationToken::new();
    let lo = LifecycleOptions {
        grace_period: Duration::from_millis(800),
        monitor_period: Duration::from_millis(100),
    };
    tokio::spawn(scheduler::lifecycle::run(c.clone(), lo, cancel.clone()));

    // While the lease is renewed the node stays Ready and untainted.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let nodes: Api<Node> = Api::all(c.clone());
    let n = nodes.get("edge").await.unwrap();
    assert_eq!(ready(&n), "True");
    assert!(
        n.spec
            .as_ref()
            .unwrap()
            .taints
            .as_ref()
            .is_none_or(|t| t.is_empty())
    );

    node.stop();
    let mut unknown = None;
    for _ in 0..100 {
        let n = nodes.get("edge").await.unwrap();
        if ready(&n) == "Unknown"
            && n.spec
                .as_ref()
                .unwrap()
                .taints
                .as_ref()
                .is_some_and(|t| t.len() == 2)
        {
            unknown = Some(n);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let n = unknown.expect("node never became Unknown with taints");
    let cond = n
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(cond.reason.as_deref(), Some("NodeStatusUnknown"));
    assert_eq!(
        cond.message.as_deref(),
        Some("Kubelet stopped posting node status.")
    );
    let mut effects: Vec<(String, String)> = n
        .spec
        .unwrap()
        .taints
        .unwrap()
        .into_iter()
        .map(|t| (t.key, t.effect))
        .collect();
    effects.sort();
    assert_eq!(
        effects,
        [
            (TAINT_UNREACHABLE.to_string(), "NoExecute".to_string()),
            (TAINT_UNREACHABLE.to_string(), "NoSchedule".to_string())
        ]
    );

    // The pod tolerating 1 s is deleted; with the node's kubelet gone it stays
    // terminating, as on Kubernetes. The pod tolerating forever is untouched.
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    wait_pod(c, "short", "evicted", |p| {
        p.metadata.deletion_timestamp.is_some()
    })
    .await;
    let short = pods.get("short").await.unwrap();
    let target = short
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "DisruptionTarget")
        .unwrap();
    assert_eq!(target.reason.as_deref(), Some("DeletionByTaintManager"));
    let forever = pods.get("forever").await.unwrap();
    assert!(forever.metadata.deletion_timestamp.is_none());
    let ready_cond = forever
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(
        ready_cond.status, "False",
        "pods on an unreachable node are marked not ready"
    );
    cancel.cancel();
}

/// The real timings on a paused clock: Unknown after the 40 s grace period, then
/// eviction 300 s later through the tolerations the kernel's
/// DefaultTolerationSeconds admission adds.
#[tokio::test(start_paused = true)]
async fn default_timings_on_a_paused_clock() {
    let env = kernel().await;
    let c = &env.client;
    let node = SimNode::start(c.clone(), SimNodeOptions::new("far"))
        .await
        .unwrap();
    create(c, pod("plain", json!({"spec": {"nodeName": "far"}}))).await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let admitted = pods.get("plain").await.unwrap();
    let secs: Vec<Option<i64>> = admitted
        .spec
        .unwrap()
        .tolerations
        .unwrap()
        .iter()
        .map(|t| t.toleration_seconds)
        .collect();
    assert_eq!(secs, [Some(300), Some(300)]);
    let cancel = CancellationToken::new();
    tokio::spawn(scheduler::lifecycle::run(
        c.clone(),
        LifecycleOptions::default(),
        cancel.clone(),
    ));
    let nodes: Api<Node> = Api::all(c.clone());

    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(
        ready(&nodes.get("far").await.unwrap()),
        "True",
        "heartbeats keep it Ready"
    );
    node.stop();
    let stopped = tokio::time::Instant::now();
    loop {
        if ready(&nodes.get("far").await.unwrap()) == "Unknown" {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // The paused clock jumps ahead whenever every task waits, including while the
    // kernel's store thread writes; on a loaded machine that adds virtual seconds, so
    // the upper bounds are loose. The lower bounds are the point: not before the grace
    // period, not before the toleration expires.
    let to_unknown = stopped.elapsed();
    assert!(
        to_unknown >= Duration::from_secs(30) && to_unknown <= Duration::from_secs(70),
        "{to_unknown:?}"
    );
    tokio::time::sleep(Duration::from_secs(250)).await;
    assert!(
        pods.get("plain")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_none(),
        "still tolerated"
    );
    loop {
        if pods
            .get("plain")
            .await
            .unwrap()
            .metadata
            .deletion_timestamp
            .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let to_evict = stopped.elapsed() - to_unknown;
    assert!(
        to_evict >= Duration::from_secs(295) && to_evict <= Duration::from_secs(340),
        "{to_evict:?}"
    );
    cancel.cancel();
}
