//! The scheduler against an in-process kernel with simulated nodes.
#![allow(clippy::unwrap_used)] // Tests fail loudly on unexpected errors.

mod common;

use common::*;
use scheduler::SchedulerOptions;
use serde_json::json;
use simnode::{SimNode, SimNodeOptions};
use tokio_util::sync::CancellationToken;

async fn start_scheduler(client: &kube::Client) -> CancellationToken {
    let cancel = CancellationToken::new();
    tokio::spawn(scheduler::run_scheduler(
        client.clone(),
        SchedulerOptions::default(),
        cancel.clone(),
    ));
    cancel
}

async fn node(client: &kube::Client, opts: SimNodeOptions) -> SimNode {
    SimNode::start(client.clone(), opts).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_by_resources_selector_and_taints() {
    let env = kernel().await;
    let c = &env.client;
    let _small = node(
        c,
        SimNodeOptions::new("small")
            .capacity("1", "1Gi", 10)
            .label("disk", "hdd"),
    )
    .await;
    let _big = node(
        c,
        SimNodeOptions::new("big")
            .capacity("8", "16Gi", 10)
            .label("disk", "ssd"),
    )
    .await;
    let _tainted = node(
        c,
        SimNodeOptions::new("gpu")
            .capacity("16", "64Gi", 10)
            .taint("gpu", "true", "NoSchedule"),
    )
    .await;
    let cancel = start_scheduler(c).await;

    create(
        c,
        pod(
            "heavy",
            json!({"spec": {"containers": [{"name": "c", "image": "nginx",
        "resources": {"requests": {"cpu": "4", "memory": "2Gi"}}}]}}),
        ),
    )
    .await;
    assert_eq!(scheduled(c, "heavy").await, "big");

    create(
        c,
        pod("hdd", json!({"spec": {"nodeSelector": {"disk": "hdd"}}})),
    )
    .await;
    assert_eq!(scheduled(c, "hdd").await, "small");

    create(c, pod("gpu-job", json!({"spec": {
        "tolerations": [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["gpu"]}]}]}}}}}))).await;
    assert_eq!(scheduled(c, "gpu-job").await, "gpu");

    // The scheduler's bind moves the pod to Running on the simulated node.
    wait_pod(c, "heavy", "running", |p| {
        p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
    })
    .await;
    let ev = wait_event(c, "heavy", "Scheduled").await;
    assert_eq!(
        ev.message.as_deref(),
        Some("Successfully assigned default/heavy to big")
    );
    assert_eq!(ev.type_.as_deref(), Some("Normal"));
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_affinity_and_anti_affinity() {
    let env = kernel().await;
    let c = &env.client;
    let mut nodes = Vec::new();
    for (i, zone) in ["a", "a", "b"].iter().enumerate() {
        nodes.push(node(c, SimNodeOptions::new(format!("n{i}")).label("zone", zone)).await);
    }
    let cancel = start_scheduler(c).await;
    let anti = |app: &str| {
        json!({"spec": {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"group": app}}, "topologyKey": "kubernetes.io/hostname"}]}}}})
    };
    let mut placed = Vec::new();
    for i in 0..3 {
        let mut extra = anti("web");
        merge(
            &mut extra,
            json!({"metadata": {"labels": {"group": "web"}}}),
        );
        create(c, pod(&format!("web-{i}"), extra)).await;
        placed.push(scheduled(c, &format!("web-{i}")).await);
    }
    placed.sort();
    assert_eq!(placed, ["n0", "n1", "n2"], "one web pod per node");

    let mut extra = anti("web");
    merge(
        &mut extra,
        json!({"metadata": {"labels": {"group": "web"}}}),
    );
    create(c, pod("web-3", extra)).await;
    let p = wait_pod(c, "web-3", "unschedulable", |p| {
        scheduled_condition(p).is_some()
    })
    .await;
    let (status, reason, msg) = scheduled_condition(&p).unwrap();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "Unschedulable")
    );
    assert_eq!(
        msg,
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. \
         preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod."
    );

    // Affinity to the pod on n2 (zone b) pins the next pod to zone b.
    let n2_pod = placed_on(c, "n2").await;
    create(c, pod("near", json!({"spec": {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": n2_pod}}, "topologyKey": "zone"}]}}}}))).await;
    assert_eq!(scheduled(c, "near").await, "n2");
    cancel.cancel();
}

async fn placed_on(c: &kube::Client, node: &str) -> String {
    for i in 0..3 {
        let name = format!("web-{i}");
        if scheduled(c, &name).await == node {
            return name;
        }
    }
    panic!("no web pod on {node}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unschedulable_pod_gets_event_then_schedules_when_a_node_appears() {
    let env = kernel().await;
    let c = &env.client;
    let _a = node(c, SimNodeOptions::new("a").capacity("1", "1Gi", 10)).await;
    let _b = node(
        c,
        SimNodeOptions::new("b")
            .capacity("8", "8Gi", 10)
            .label("zone", "x"),
    )
    .await;
    let _d = node(
        c,
        SimNodeOptions::new("d")
            .capacity("8", "8Gi", 10)
            .label("zone", "y"),
    )
    .await;
    let cancel = start_scheduler(c).await;
    create(c, pod("big", json!({"spec": {
        "nodeSelector": {"zone": "x"},
        "containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "16"}}}]}}))).await;
    let expected = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. \
                    preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.";
    let ev = wait_event_message(c, "big", "FailedScheduling", expected).await;
    assert_eq!(ev.type_.as_deref(), Some("Warning"));
    let p = wait_pod(c, "big", "condition", |p| {
        scheduled_condition(p).is_some_and(|s| s.2 == expected)
    })
    .await;
    assert_eq!(scheduled_condition(&p).unwrap().2, expected);

    let _huge = node(
        c,
        SimNodeOptions::new("huge")
            .capacity("32", "64Gi", 10)
            .label("zone", "x"),
    )
    .await;
    assert_eq!(scheduled(c, "big").await, "huge");
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_nodes_and_foreign_scheduler() {
    let env = kernel().await;
    let c = &env.client;
    let cancel = start_scheduler(c).await;
    create(c, pod("lonely", json!({}))).await;
    let ev = wait_event(c, "lonely", "FailedScheduling").await;
    assert_eq!(
        ev.message.as_deref(),
        Some("no nodes available to schedule pods")
    );
    create(
        c,
        pod("custom", json!({"spec": {"schedulerName": "other"}})),
    )
    .await;
    let _n = node(c, SimNodeOptions::new("n")).await;
    assert_eq!(scheduled(c, "lonely").await, "n");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let p = wait_pod(c, "custom", "exists", |_| true).await;
    assert_eq!(
        node_of(&p),
        None,
        "pods of another scheduler are left alone"
    );
    cancel.cancel();
}
