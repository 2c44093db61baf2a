//! Deployments as a user drives them with kubectl: rollout, rolling-update bounds, undo, pause/resume, scale and a rollout that misses its progress deadline.

use std::collections::BTreeMap;

use e2e::expect_ok;
use e2e::simnodes::{TestNode, node_set_shared};
use serde_json::{Value, json};

use crate::common::{
    condition_triple, deployment, list, n, name, namespace, pod_ready, pods_summary, ready_pods, s,
    terminating, until,
};

const V1: &str = "registry.example/web:1";
const V2: &str = "registry.example/web:2";
const V3: &str = "registry.example/web:3";
const REVISION: &str = "/metadata/annotations/deployment.kubernetes.io~1revision";

/// kubectl's own test of a finished rollout (`kubectl rollout status`), on `get -o json`.
fn rolled_out(d: &Value) -> Result<(), String> {
    let want = n(d, "/spec/replicas");
    let done = n(d, "/status/observedGeneration") >= n(d, "/metadata/generation")
        && n(d, "/status/updatedReplicas") == want
        && n(d, "/status/replicas") == want
        && n(d, "/status/availableReplicas") == want;
    if done {
        Ok(())
    } else {
        Err(format!("deployment status: {}", d["status"]))
    }
}

fn image_of_template(o: &Value) -> &str {
    s(o, "/spec/template/spec/containers/0/image")
}

/// `spec.replicas` of each of the deployment's ReplicaSets, by template image.
fn rs_sizes(rss: &[Value]) -> BTreeMap<String, i64> {
    rss.iter()
        .map(|r| (image_of_template(r).to_owned(), n(r, "/spec/replicas")))
        .collect()
}

/// Readiness comes only from the test here: every pass lists the pods, then the
/// ReplicaSets, checks the rolling-update bounds on that snapshot, and only then
/// marks the new not-ready pods ready. The ReplicaSets are read after the pods, so a
/// pod waiting for readiness is counted in its ReplicaSet; each step of the rollout
/// is thus seen while it waits for the test. Returns every snapshot of ReplicaSet sizes.
fn step_rollout(
    node: &TestNode,
    ns: &e2e::Namespace,
    deploy: &str,
    max_surge: i64,
    min_ready: Option<i64>,
) -> Vec<BTreeMap<String, i64>> {
    let selector = format!("app={deploy}");
    let mut seen = Vec::new();
    until(&format!("deployment {deploy} rolled out"), || {
        let pods = list(ns, "pods", &selector)?;
        let rss = list(ns, "replicasets", &selector)?;
        let d = crate::common::get_json(ns, &["deployment", deploy])?;
        let replicas = n(&d, "/spec/replicas");
        let sizes = rs_sizes(&rss);
        let total: i64 = sizes.values().sum();
        assert!(
            total <= replicas + max_surge,
            "ReplicaSets sized {sizes:?} exceed replicas {replicas} + maxSurge {max_surge}; pods {}",
            pods_summary(&pods)
        );
        if let Some(min) = min_ready {
            let ready = pods.iter().filter(|p| pod_ready(p)).count() as i64;
            assert!(
                ready >= min,
                "only {ready} ready pods, fewer than replicas - maxUnavailable = {min}; ReplicaSets {sizes:?}, pods {}",
                pods_summary(&pods)
            );
        }
        seen.push(sizes.clone());
        ready_pods(node, ns, &pods);
        rolled_out(&d)
            .map_err(|e| format!("{e}; ReplicaSets {sizes:?}; pods {}", pods_summary(&pods)))
    });
    seen
}

#[test]
fn rolling_update_keeps_within_max_surge_and_max_unavailable() {
    let _nodes = node_set_shared();
    let (ns, group) = namespace("roll");
    let node = TestNode::dedicated(&group, "n0", false);
    ns.create(&deployment(
        "web",
        3,
        V1,
        &group,
        json!({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}}),
    ));
    step_rollout(&node, &ns, "web", 1, None);
    let out = expect_ok(&ns.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"]))
        .to_owned();
    assert!(
        out.contains("deployment \"web\" successfully rolled out"),
        "{out}"
    );

    expect_ok(&ns.kubectl(&["set", "image", "deployment/web", &format!("app={V2}")]));
    let seen = step_rollout(&node, &ns, "web", 1, Some(3));
    assert!(
        seen.iter()
            .any(|s| s.values().sum::<i64>() == 4 && s.get(V2).is_some_and(|n| *n > 0)),
        "the rollout never used its surge of 1 (sizes seen: {seen:?})"
    );
    let rss = list(&ns, "replicasets", "app=web").unwrap();
    let sizes = rs_sizes(&rss);
    assert_eq!(
        sizes,
        BTreeMap::from([(V1.to_owned(), 0), (V2.to_owned(), 3)]),
        "old ReplicaSet scaled to 0, new one to 3"
    );
    let pods = list(&ns, "pods", "app=web").unwrap();
    let live: Vec<&Value> = pods.iter().filter(|p| !terminating(p)).collect();
    assert!(
        live.len() == 3 && live.iter().all(|p| image_of_pod(p) == V2 && pod_ready(p)),
        "three ready pods of the new template: {}",
        pods_summary(&pods)
    );
    let history = expect_ok(&ns.kubectl(&["rollout", "history", "deployment/web"])).to_owned();
    assert!(
        history.lines().any(|l| l.trim_start().starts_with('1'))
            && history.lines().any(|l| l.trim_start().starts_with('2')),
        "two revisions in the history:\n{history}"
    );
}

fn image_of_pod(p: &Value) -> &str {
    s(p, "/spec/containers/0/image")
}

/// The ReplicaSet whose template runs `image`.
fn rs_with_image(ns: &e2e::Namespace, image: &str) -> Result<Value, String> {
    let rss = list(ns, "replicasets", "app=web")?;
    rss.iter()
        .find(|r| image_of_template(r) == image)
        .cloned()
        .ok_or_else(|| format!("no ReplicaSet with {image}: {:?}", rs_sizes(&rss)))
}

#[track_caller]
fn rollout_status_ok(ns: &e2e::Namespace) {
    let out = ns.kubectl(&["rollout", "status", "deployment/web", "--timeout=120s"]);
    expect_ok(&out);
    assert!(
        out.stdout
            .contains("deployment \"web\" successfully rolled out"),
        "{out}"
    );
}

#[test]
fn rollout_undo_pause_resume_and_scale() {
    let _nodes = node_set_shared();
    let (ns, group) = namespace("undo");
    let _node = TestNode::dedicated(&group, "n0", true);
    ns.create(&deployment("web", 2, V1, &group, json!({})));
    rollout_status_ok(&ns);
    let first = rs_with_image(&ns, V1).unwrap();
    assert_eq!(s(&first, REVISION), "1", "{first}");

    expect_ok(&ns.kubectl(&["set", "image", "deployment/web", &format!("app={V2}")]));
    rollout_status_ok(&ns);
    let second = rs_with_image(&ns, V2).unwrap();
    assert_eq!(s(&second, REVISION), "2", "{second}");

    let out = expect_ok(&ns.kubectl(&["rollout", "undo", "deployment/web"])).to_owned();
    assert!(out.contains("deployment.apps/web rolled back"), "{out}");
    rollout_status_ok(&ns);
    let d = crate::common::get_json(&ns, &["deployment", "web"]).unwrap();
    assert_eq!(image_of_template(&d), V1, "template back to revision 1");
    let back = rs_with_image(&ns, V1).unwrap();
    assert_eq!(
        (name(&back), n(&back, "/spec/replicas"), s(&back, REVISION)),
        (name(&first), 2, "3"),
        "the first ReplicaSet is reused as revision 3: {back}"
    );
    assert_eq!(n(&rs_with_image(&ns, V2).unwrap(), "/spec/replicas"), 0);

    let out = expect_ok(&ns.kubectl(&["rollout", "pause", "deployment/web"])).to_owned();
    assert!(out.contains("deployment.apps/web paused"), "{out}");
    expect_ok(&ns.kubectl(&["set", "image", "deployment/web", &format!("app={V3}")]));
    let paused = until("the paused deployment observed", || {
        let d = crate::common::get_json(&ns, &["deployment", "web"])?;
        let progressing = condition_triple(&d, "Progressing");
        let seen = n(&d, "/status/observedGeneration") >= n(&d, "/metadata/generation");
        if seen && progressing.1 == "DeploymentPaused" {
            Ok(d)
        } else {
            Err(format!("status {}", d["status"]))
        }
    });
    assert_eq!(
        condition_triple(&paused, "Progressing"),
        (
            "Unknown".into(),
            "DeploymentPaused".into(),
            "Deployment is paused".into()
        )
    );
    assert!(
        rs_with_image(&ns, V3).is_err(),
        "a paused deployment creates no ReplicaSet for its new template"
    );

    let out = expect_ok(&ns.kubectl(&["rollout", "resume", "deployment/web"])).to_owned();
    assert!(out.contains("deployment.apps/web resumed"), "{out}");
    rollout_status_ok(&ns);
    assert_eq!(n(&rs_with_image(&ns, V3).unwrap(), "/spec/replicas"), 2);

    let out = expect_ok(&ns.kubectl(&["scale", "deployment/web", "--replicas=4"])).to_owned();
    assert!(out.contains("deployment.apps/web scaled"), "{out}");
    rollout_status_ok(&ns);
    let d = crate::common::get_json(&ns, &["deployment", "web"]).unwrap();
    assert_eq!(
        (
            n(&d, "/status/readyReplicas"),
            n(&d, "/status/availableReplicas")
        ),
        (4, 4),
        "{}",
        d["status"]
    );
    assert_eq!(n(&rs_with_image(&ns, V3).unwrap(), "/spec/replicas"), 4);
    let pods = list(&ns, "pods", "app=web").unwrap();
    let ready: Vec<&Value> = pods.iter().filter(|p| pod_ready(p)).collect();
    assert!(
        ready.len() == 4 && ready.iter().all(|p| image_of_pod(p) == V3),
        "four ready pods of revision 4: {}",
        pods_summary(&pods)
    );
}

#[test]
fn rollout_without_ready_pods_exceeds_its_progress_deadline() {
    let _nodes = node_set_shared();
    let (ns, group) = namespace("deadline");
    // Pods run but never become ready on this node.
    let _node = TestNode::dedicated(&group, "n0", false);
    ns.create(&deployment(
        "web",
        2,
        V1,
        &group,
        json!({"progressDeadlineSeconds": 10}),
    ));
    let d = until("Progressing=False", || {
        let d = crate::common::get_json(&ns, &["deployment", "web"])?;
        if condition_triple(&d, "Progressing").0 == "False" {
            Ok(d)
        } else {
            Err(format!("status {}", d["status"]))
        }
    });
    let rs = rs_with_image(&ns, V1).unwrap();
    assert_eq!(
        condition_triple(&d, "Progressing"),
        (
            "False".into(),
            "ProgressDeadlineExceeded".into(),
            format!("ReplicaSet \"{}\" has timed out progressing.", name(&rs))
        ),
        "{}",
        d["status"]
    );
    assert_eq!(
        condition_triple(&d, "Available"),
        (
            "False".into(),
            "MinimumReplicasUnavailable".into(),
            "Deployment does not have minimum availability.".into()
        ),
        "{}",
        d["status"]
    );
    let out = ns.kubectl(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    e2e::expect_err_contains(
        &out,
        "error: deployment \"web\" exceeded its progress deadline",
    );
}
