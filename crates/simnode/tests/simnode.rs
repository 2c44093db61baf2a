//! SimNode against an in-process kernel: registration, lease, pod lifecycle and commands.
#![allow(clippy::unwrap_used)] // Tests fail loudly on unexpected errors.

use apimachinery::UserInfo;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;
use simnode::{SimNode, SimNodeOptions};
use std::time::Duration;

async fn kernel() -> (tempfile::TempDir, kernel::Kernel, kube::Client) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = kernel::KernelConfig::new(dir.path());
    cfg.fsync = false;
    let k = kernel::Kernel::start(cfg).await.unwrap();
    let admin = UserInfo::new("admin", vec!["system:masters".into()]);
    let client = kubeclient::in_process(k.router(), admin);
    (dir, k, client)
}

async fn wait_pod(api: &Api<Pod>, name: &str, f: impl Fn(&Pod) -> bool) -> Pod {
    for _ in 0..200 {
        if let Some(p) = api.get_opt(name).await.unwrap()
            && f(&p)
        {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("pod {name} never reached the expected state");
}

fn pod(name: &str, node: &str, restart: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"nodeName": node, "restartPolicy": restart,
                 "containers": [{"name": "c", "image": "nginx"}]},
    }))
    .unwrap()
}

fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

#[tokio::test]
async fn registers_node_and_lease() {
    let (_d, _k, client) = kernel().await;
    let node = SimNode::start(
        client.clone(),
        SimNodeOptions::new("n1")
            .capacity("4", "8Gi", 20)
            .label("zone", "a")
            .taint("dedicated", "x", "NoSchedule"),
    )
    .await
    .unwrap();
    let n = Api::<Node>::all(client.clone()).get("n1").await.unwrap();
    let st = n.status.unwrap();
    assert_eq!(st.capacity.as_ref().unwrap()["cpu"].0, "4");
    assert_eq!(st.allocatable.as_ref().unwrap()["pods"].0, "20");
    assert_eq!(st.node_info.unwrap().kubelet_version, "v1.36.0");
    let readyc = st
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(readyc.status, "True");
    assert!(readyc.last_heartbeat_time.is_some());
    assert_eq!(st.addresses.unwrap()[0].type_, "InternalIP");
    assert_eq!(n.metadata.labels.unwrap()["zone"], "a");
    assert_eq!(n.spec.unwrap().taints.unwrap()[0].key, "dedicated");
    let lease = Api::<Lease>::namespaced(client.clone(), "kube-node-lease")
        .get("n1")
        .await
        .unwrap();
    assert_eq!(lease.spec.unwrap().holder_identity.as_deref(), Some("n1"));
    node.stop();
}

#[tokio::test]
async fn runs_pods_and_follows_commands() {
    let (_d, _k, client) = kernel().await;
    let node = SimNode::start(client.clone(), SimNodeOptions::new("n1"))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.create(&PostParams::default(), &pod("web", "n1", "Always"))
        .await
        .unwrap();
    let p = wait_pod(&pods, "web", |p| phase(p) == "Running").await;
    let st = p.status.clone().unwrap();
    assert!(st.pod_ip.unwrap().starts_with("10."));
    assert_eq!(st.host_ip.as_deref(), Some(node.internal_ip()));
    assert!(ready(&p));

    node.set_ready("default", "web", false).await.unwrap();
    wait_pod(&pods, "web", |p| !ready(p)).await;
    node.set_ready("default", "web", true).await.unwrap();
    wait_pod(&pods, "web", ready).await;

    // restartPolicy Always: a failure restarts the container.
    node.fail_pod("default", "web", 2).await.unwrap();
    let p = wait_pod(&pods, "web", |p| {
        p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|c| c[0].restart_count == 1)
    })
    .await;
    assert_eq!(phase(&p), "Running");

    pods.create(&PostParams::default(), &pod("job", "n1", "Never"))
        .await
        .unwrap();
    wait_pod(&pods, "job", |p| phase(p) == "Running").await;
    node.fail_pod("default", "job", 7).await.unwrap();
    let p = wait_pod(&pods, "job", |p| phase(p) == "Failed").await;
    let term = p.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(term.exit_code, 7);

    // Graceful deletion completes because the node confirms the kill.
    pods.delete("web", &DeleteParams::default()).await.unwrap();
    for _ in 0..200 {
        if pods.get_opt("web").await.unwrap().is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("pod web was never removed");
}

#[tokio::test]
async fn auto_completes_job_pods() {
    let (_d, _k, client) = kernel().await;
    let mut opts = SimNodeOptions::new("n1");
    opts.auto_complete_after = Some(Duration::from_millis(50));
    let _node = SimNode::start(client.clone(), opts).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.create(&PostParams::default(), &pod("once", "n1", "OnFailure"))
        .await
        .unwrap();
    wait_pod(&pods, "once", |p| phase(p) == "Succeeded").await;
    pods.create(&PostParams::default(), &pod("svc", "n1", "Always"))
        .await
        .unwrap();
    wait_pod(&pods, "svc", |p| phase(p) == "Running").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(phase(&pods.get("svc").await.unwrap()), "Running");
}

#[tokio::test]
async fn commands_refuse_pods_of_other_nodes() {
    let (_d, _k, client) = kernel().await;
    let node = SimNode::start(client.clone(), SimNodeOptions::new("n1"))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    pods.create(&PostParams::default(), &pod("elsewhere", "n2", "Always"))
        .await
        .unwrap();
    let err = node
        .set_ready("default", "elsewhere", true)
        .await
        .unwrap_err();
    assert!(matches!(err, simnode::Error::NotOnThisNode { .. }), "{err}");
}
