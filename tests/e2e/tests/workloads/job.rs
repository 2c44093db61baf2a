//! Jobs run to completion with bounded parallelism, and fail once their pods have failed past backoffLimit.

use e2e::expect_ok;
use e2e::simnodes::{TestNode, node_set_shared, place};
use serde_json::{Value, json};

use crate::common::{
    condition_triple, events_of, get_json, list, n, name, namespace, pods_summary, s, terminating,
    until,
};

fn job(name: &str, group: &str, spec: Value) -> String {
    let mut j = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": place(json!({
                    "restartPolicy": "Never",
                    "containers": [crate::common::container("registry.example/task:1")],
                }), group),
            },
        },
    });
    if let (Some(obj), Value::Object(extra)) = (j["spec"].as_object_mut(), spec) {
        obj.extend(extra);
    }
    j.to_string()
}

fn active(pods: &[Value]) -> usize {
    pods.iter()
        .filter(|p| !terminating(p) && matches!(s(p, "/status/phase"), "" | "Pending" | "Running"))
        .count()
}

#[test]
fn job_completes_all_completions_with_bounded_parallelism() {
    let _nodes = node_set_shared();
    let (ns, group) = namespace("job-ok");
    let node = TestNode::dedicated(&group, "n0", true);
    ns.create(&job(
        "work",
        &group,
        json!({"completions": 4, "parallelism": 2, "backoffLimit": 0}),
    ));
    let mut peak = 0;
    let j = until("job work Complete", || {
        let pods = list(&ns, "pods", "app=work")?;
        let running = active(&pods);
        assert!(
            running <= 2,
            "{running} pods active at once, parallelism is 2: {}",
            pods_summary(&pods)
        );
        peak = peak.max(running);
        for p in pods.iter().filter(|p| s(p, "/status/phase") == "Running") {
            // A pod the node has not started yet is finished on a later pass.
            let _ = node.succeed_pod(ns.name(), name(p));
        }
        let j = get_json(&ns, &["job", "work"])?;
        if condition_triple(&j, "Complete").0 == "True" {
            Ok(j)
        } else {
            Err(format!(
                "job status {}; pods {}",
                j["status"],
                pods_summary(&pods)
            ))
        }
    });
    assert_eq!(peak, 2, "the job ran two pods at once at some point");
    assert_eq!(
        (
            n(&j, "/status/succeeded"),
            n(&j, "/status/failed"),
            n(&j, "/status/active")
        ),
        (4, 0, 0),
        "{}",
        j["status"]
    );
    assert!(
        j.pointer("/status/completionTime").is_some(),
        "{}",
        j["status"]
    );
    let pods = list(&ns, "pods", "app=work").unwrap();
    assert!(
        pods.len() == 4 && pods.iter().all(|p| s(p, "/status/phase") == "Succeeded"),
        "exactly four pods, all Succeeded: {}",
        pods_summary(&pods)
    );
    let out = expect_ok(&ns.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/work",
        "--timeout=60s",
    ]))
    .to_owned();
    assert!(out.contains("job.batch/work condition met"), "{out}");
    let described = expect_ok(&ns.kubectl(&["describe", "job", "work"])).to_owned();
    assert!(
        described.contains("0 Active (0 Ready) / 4 Succeeded / 0 Failed"),
        "{described}"
    );
}

#[test]
fn job_fails_after_backoff_limit() {
    let _nodes = node_set_shared();
    let (ns, group) = namespace("job-fail");
    let node = TestNode::dedicated(&group, "n0", true);
    ns.create(&job("crash", &group, json!({"backoffLimit": 1})));
    let j = until("job crash Failed", || {
        let pods = list(&ns, "pods", "app=crash")?;
        assert!(
            active(&pods) <= 1,
            "more than one pod at once: {}",
            pods_summary(&pods)
        );
        for p in pods.iter().filter(|p| s(p, "/status/phase") == "Running") {
            let _ = node.fail_pod(ns.name(), name(p), 1);
        }
        let j = get_json(&ns, &["job", "crash"])?;
        if condition_triple(&j, "Failed").0 == "True" {
            Ok(j)
        } else {
            Err(format!(
                "job status {}; pods {}",
                j["status"],
                pods_summary(&pods)
            ))
        }
    });
    assert_eq!(
        condition_triple(&j, "Failed"),
        (
            "True".into(),
            "BackoffLimitExceeded".into(),
            "Job has reached the specified backoff limit".into()
        ),
        "{}",
        j["status"]
    );
    assert_eq!(
        (
            n(&j, "/status/failed"),
            n(&j, "/status/succeeded"),
            n(&j, "/status/active")
        ),
        (2, 0, 0),
        "backoffLimit 1 allows one retry: two failed pods; {}",
        j["status"]
    );
    let pods = list(&ns, "pods", "app=crash").unwrap();
    assert!(
        pods.len() == 2 && pods.iter().all(|p| s(p, "/status/phase") == "Failed"),
        "two pods, both Failed: {}",
        pods_summary(&pods)
    );
    let out = expect_ok(&ns.kubectl(&[
        "wait",
        "--for=condition=failed",
        "job/crash",
        "--timeout=60s",
    ]))
    .to_owned();
    assert!(out.contains("job.batch/crash condition met"), "{out}");
    let events = until("a BackoffLimitExceeded event", || {
        let events = events_of(&ns, "crash")?;
        events
            .iter()
            .find(|e| s(e, "/reason") == "BackoffLimitExceeded")
            .cloned()
            .ok_or_else(|| format!("{events:?}"))
    });
    assert_eq!(
        (s(&events, "/type"), s(&events, "/message")),
        ("Warning", "Job has reached the specified backoff limit")
    );
}
