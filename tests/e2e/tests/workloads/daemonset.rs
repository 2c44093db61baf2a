//! DaemonSets following the node set: a pod per node, one more for an added node, one fewer for a removed node.

use std::collections::BTreeSet;

use e2e::expect_ok;
use e2e::simnodes::{TestNode, node_set_shared, place};
use serde_json::{Value, json};

use crate::common::{list, n, namespace, pod_ready, pods_summary, s, terminating, until};

fn daemonset(group: &str) -> String {
    json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": place(json!({"containers": [crate::common::container("registry.example/agent:1")]}), group),
            },
        },
    })
    .to_string()
}

/// Waits until the DaemonSet runs exactly one ready pod on each node of `want` (and
/// none elsewhere) and its status counts them; returns the pods.
#[track_caller]
fn one_ready_pod_per_node(ns: &e2e::Namespace, want: &[&str]) -> Vec<Value> {
    let want: BTreeSet<String> = want.iter().map(|s| (*s).to_owned()).collect();
    until(&format!("one ready agent pod on each of {want:?}"), || {
        let pods = list(ns, "pods", "app=agent")?;
        let nodes: Vec<String> = pods
            .iter()
            .map(|p| s(p, "/spec/nodeName").to_owned())
            .collect();
        let on: BTreeSet<String> = nodes.iter().cloned().collect();
        let ds = crate::common::get_json(ns, &["daemonset", "agent"])?;
        let count = want.len() as i64;
        let status_ok = n(&ds, "/status/desiredNumberScheduled") == count
            && n(&ds, "/status/currentNumberScheduled") == count
            && n(&ds, "/status/numberReady") == count
            && n(&ds, "/status/numberAvailable") == count;
        if nodes.len() == want.len() && on == want && pods.iter().all(pod_ready) && status_ok {
            Ok(pods)
        } else {
            Err(format!(
                "pods {}; daemonset status {}",
                pods_summary(&pods),
                ds["status"]
            ))
        }
    })
}

#[test]
fn daemonset_runs_a_pod_per_node_and_follows_added_nodes() {
    let _nodes = node_set_shared();
    let (ns, group) = namespace("ds-add");
    let a = TestNode::dedicated(&group, "a", true);
    let b = TestNode::dedicated(&group, "b", true);
    ns.create(&daemonset(&group));
    one_ready_pod_per_node(&ns, &[a.name(), b.name()]);
    let out = expect_ok(&ns.kubectl(&["rollout", "status", "daemonset/agent", "--timeout=60s"]))
        .to_owned();
    assert!(
        out.contains("daemon set \"agent\" successfully rolled out"),
        "{out}"
    );

    let c = TestNode::dedicated(&group, "c", true);
    let pods = one_ready_pod_per_node(&ns, &[a.name(), b.name(), c.name()]);
    let on_c = pods
        .iter()
        .find(|p| s(p, "/spec/nodeName") == c.name())
        .map(|p| s(p, "/metadata/name").to_owned())
        .unwrap_or_default();
    let events = crate::common::events_of(&ns, "agent").unwrap();
    assert!(
        events.iter().any(|e| s(e, "/reason") == "SuccessfulCreate"
            && s(e, "/message") == format!("Created pod: {on_c}")),
        "a SuccessfulCreate event names the new node's pod {on_c}: {events:?}"
    );
}

/// Runs a DaemonSet on two nodes, removes one (stopped, its Node deleted) and waits
/// until the DaemonSet counts one node and the removed node's pod is deleted: gone
/// from the API when `until_gone`, else at least marked for deletion.
fn remove_a_node(label: &str, until_gone: bool) {
    let _nodes = node_set_shared();
    let (ns, group) = namespace(label);
    let a = TestNode::dedicated(&group, "a", true);
    let mut b = TestNode::dedicated(&group, "b", true);
    ns.create(&daemonset(&group));
    one_ready_pod_per_node(&ns, &[a.name(), b.name()]);

    b.remove();
    let gone = b.name().to_owned();
    until(
        &format!("the agent pod of removed node {gone} deleted"),
        || {
            let pods = list(&ns, "pods", "app=agent")?;
            let ds = crate::common::get_json(&ns, &["daemonset", "agent"])?;
            let on_b: Vec<&Value> = pods
                .iter()
                .filter(|p| s(p, "/spec/nodeName") == gone)
                .collect();
            let deleted = if until_gone {
                on_b.is_empty()
            } else {
                on_b.iter().all(|p| terminating(p))
            };
            let live_on_a = pods
                .iter()
                .filter(|p| s(p, "/spec/nodeName") == a.name() && pod_ready(p))
                .count();
            let counted =
                n(&ds, "/status/desiredNumberScheduled") == 1 && n(&ds, "/status/numberReady") == 1;
            if deleted && live_on_a == 1 && pods.len() <= 2 && counted {
                Ok(())
            } else {
                Err(format!(
                    "pods {}; daemonset status {}",
                    pods_summary(&pods),
                    ds["status"]
                ))
            }
        },
    );
}

#[test]
fn daemonset_deletes_the_pod_of_a_removed_node() {
    remove_a_node("ds-remove", false);
}

/// On Kubernetes the pod-GC controller force-deletes pods bound to a Node that no
/// longer exists (no kubelet is left to confirm a graceful deletion).
#[test]
fn daemonset_pod_of_a_removed_node_disappears() {
    remove_a_node("ds-gone", true);
}
