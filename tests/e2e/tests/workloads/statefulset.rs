//! StatefulSet OrderedReady pod management: pod N+1 is created only once pod N is Running and Ready.

use e2e::expect_ok;
use e2e::simnodes::{TestNode, node_set_shared, place};
use serde_json::{Value, json};

use crate::common::{get_json, list, n, name, namespace, pod_ready, pods_summary, s, until};

fn statefulset(group: &str) -> String {
    json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 3,
            "serviceName": "db",
            "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": place(json!({"containers": [crate::common::container("registry.example/db:1")]}), group),
            },
        },
    })
    .to_string()
}

/// Asserts OrderedReady on one snapshot: every `db-i` present has a Ready `db-(i-1)`.
#[track_caller]
fn check_order(pods: &[Value]) {
    let ready = |i: usize| {
        pods.iter()
            .any(|p| name(p) == format!("db-{i}") && pod_ready(p))
    };
    for p in pods {
        let ordinal: usize = name(p)
            .strip_prefix("db-")
            .and_then(|o| o.parse().ok())
            .unwrap_or_else(|| panic!("unexpected pod {}", name(p)));
        assert!(
            ordinal == 0 || ready(ordinal - 1),
            "db-{ordinal} exists while db-{} is not Ready: {}",
            ordinal - 1,
            pods_summary(pods)
        );
    }
}

#[test]
fn statefulset_creates_pods_in_order_each_after_the_previous_is_ready() {
    let _nodes = node_set_shared();
    let (ns, group) = namespace("sts");
    // Readiness is given by the test only.
    let node = TestNode::dedicated(&group, "n0", false);
    ns.create(
        &json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "db"},
            "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]},
        })
        .to_string(),
    );
    ns.create(&statefulset(&group));
    for i in 0..3 {
        let pod = format!("db-{i}");
        // Wait until db-i runs, unready, and the controller has recorded it in the
        // status: a controller that does not wait for readiness would have created
        // db-(i+1) by then.
        until(&format!("{pod} Running and counted"), || {
            let pods = list(&ns, "pods", "app=db")?;
            check_order(&pods);
            let sts = get_json(&ns, &["statefulset", "db"])?;
            let running = pods
                .iter()
                .any(|p| name(p) == pod && s(p, "/status/phase") == "Running");
            let counted = n(&sts, "/status/replicas") == i + 1
                && n(&sts, "/status/observedGeneration") >= n(&sts, "/metadata/generation");
            if running && counted {
                Ok(())
            } else {
                Err(format!(
                    "pods {}; status {}",
                    pods_summary(&pods),
                    sts["status"]
                ))
            }
        });
        let pods = list(&ns, "pods", "app=db").unwrap();
        check_order(&pods);
        assert_eq!(
            pods.len() as i64,
            i + 1,
            "no pod after {pod} while it is not Ready: {}",
            pods_summary(&pods)
        );
        node.set_ready(ns.name(), &pod, true).unwrap();
    }
    let out = expect_ok(&ns.kubectl(&["rollout", "status", "statefulset/db", "--timeout=120s"]))
        .to_owned();
    assert!(
        // apps/v1 defaulting gives RollingUpdate a partition of 0, so kubectl reports
        // a partitioned rollout, as it does on any cluster.
        out.contains("partitioned roll out complete: 3 new pods have been updated..."),
        "{out}"
    );
    let sts = get_json(&ns, &["statefulset", "db"]).unwrap();
    assert_eq!(
        (
            n(&sts, "/status/readyReplicas"),
            n(&sts, "/status/currentReplicas")
        ),
        (3, 3),
        "{}",
        sts["status"]
    );
    let pods = list(&ns, "pods", "app=db").unwrap();
    check_order(&pods);
    assert!(
        pods.len() == 3 && pods.iter().all(pod_ready),
        "{}",
        pods_summary(&pods)
    );
}
