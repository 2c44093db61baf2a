//! DaemonSets following nodes being added, tainted and removed.

#![allow(clippy::unwrap_used)]

mod support;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;

async fn pods_by_node(api: &Api<Pod>) -> Vec<String> {
    let mut v: Vec<String> = api
        .list(&ListParams::default().labels("app=agent"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.spec?.node_name)
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemonset_follows_nodes() {
    let env = support::start().await;
    let nodes: Api<Node> = Api::all(env.client.clone());
    let pods: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    let api: Api<DaemonSet> = Api::namespaced(env.client.clone(), "default");
    let ds: DaemonSet = serde_json::from_value(json!({
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "c", "image": "agent"}]}}
        }
    }))
    .unwrap();
    api.create(&PostParams::default(), &ds).await.unwrap();
    support::wait_for(30, "pod on node-1", || async {
        (pods_by_node(&pods).await == ["node-1"]).then_some(())
    })
    .await;

    for (name, taint) in [
        ("node-2", None),
        (
            "node-3",
            Some(json!([{"key": "dedicated", "effect": "NoSchedule"}])),
        ),
    ] {
        let n: Node =
            serde_json::from_value(json!({"metadata": {"name": name}, "spec": {"taints": taint}}))
                .unwrap();
        nodes.create(&PostParams::default(), &n).await.unwrap();
    }
    support::wait_for(30, "pod on node-2, none on tainted node-3", || async {
        (pods_by_node(&pods).await == ["node-1", "node-2"]).then_some(())
    })
    .await;
    let d = support::wait_for(30, "status", || async {
        let d = api.get("agent").await.ok()?;
        let s = d.status.clone()?;
        (s.desired_number_scheduled == 2 && s.number_ready == 2 && s.number_available == Some(2))
            .then_some(d)
    })
    .await;
    assert_eq!(d.status.unwrap().updated_number_scheduled, Some(2));
    let revs: Api<ControllerRevision> = Api::namespaced(env.client.clone(), "default");
    let revs = revs.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(revs.len(), 1);
    assert_eq!(revs[0].revision, 1);

    nodes
        .delete("node-2", &DeleteParams::default())
        .await
        .unwrap();
    support::wait_for(30, "pod removed with node-2", || async {
        (pods_by_node(&pods).await == ["node-1"]).then_some(())
    })
    .await;
}
