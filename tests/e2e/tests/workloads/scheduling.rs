//! A pod no node can hold stays Pending, with the FailedScheduling event and condition kubectl describe shows.

use std::collections::BTreeSet;

use e2e::expect_ok;
use e2e::simnodes::{TestNode, node_set_exclusive};
use serde_json::json;
use simnode::SimNodeOptions;

use crate::common::{condition_triple, events_of, get_json, namespace, s, until};

#[test]
fn pod_requesting_more_cpu_than_any_node_stays_pending_with_failed_scheduling() {
    // The scheduler's message counts every node of the cluster, so no other test's
    // nodes may come or go meanwhile.
    let _nodes = node_set_exclusive();
    let (ns, group) = namespace("sched");
    let mine = [
        TestNode::start(SimNodeOptions::new(format!("{group}-a")).capacity("4", "8Gi", 110)),
        TestNode::start(SimNodeOptions::new(format!("{group}-b")).capacity("4", "8Gi", 110)),
    ];
    let want: BTreeSet<String> = mine.iter().map(|n| n.name().to_owned()).collect();
    until("the cluster's nodes to be just this test's two", || {
        let out = e2e::kubectl(&["get", "nodes", "-o", "json"]);
        let nodes = serde_json::from_str::<serde_json::Value>(&out.stdout)
            .map_err(|e| format!("{e}: {out}"))?;
        let names: BTreeSet<String> = nodes["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| s(n, "/metadata/name").to_owned())
            .collect();
        if names == want {
            Ok(())
        } else {
            Err(format!("nodes {names:?}"))
        }
    });

    ns.create(
        &json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "big"},
            "spec": {"containers": [{
                "name": "app",
                "image": "registry.example/big:1",
                "resources": {"requests": {"cpu": "64"}},
            }]},
        })
        .to_string(),
    );
    // Since Kubernetes 1.30 a request above a node's allocatable is unresolvable on
    // that node, so DefaultPreemption does not even try there.
    let message = "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.";
    let event = until("a FailedScheduling event for pod big", || {
        let events = events_of(&ns, "big")?;
        events
            .iter()
            .find(|e| s(e, "/reason") == "FailedScheduling")
            .cloned()
            .ok_or_else(|| format!("events {events:?}"))
    });
    assert_eq!(
        (s(&event, "/type"), s(&event, "/message")),
        ("Warning", message),
        "{event}"
    );
    let pod = get_json(&ns, &["pod", "big"]).unwrap();
    assert_eq!(s(&pod, "/status/phase"), "Pending", "{pod}");
    assert_eq!(s(&pod, "/spec/nodeName"), "", "not bound: {pod}");
    assert_eq!(
        condition_triple(&pod, "PodScheduled"),
        ("False".into(), "Unschedulable".into(), message.into()),
        "{pod}"
    );
    let described = expect_ok(&ns.kubectl(&["describe", "pod", "big"])).to_owned();
    let line = described
        .lines()
        .find(|l| l.contains("FailedScheduling"))
        .unwrap_or_else(|| panic!("no FailedScheduling event in describe:\n{described}"));
    assert!(
        line.trim_start().starts_with("Warning")
            && line.contains("default-scheduler")
            && line.trim_end().ends_with(message),
        "describe's event line: {line:?}\n{described}"
    );
}
