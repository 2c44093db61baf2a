//! KubeSphere's per-resource `status` meanings (`pkg/models/resources/v1alpha3/*`).

use crate::object::{array_at, at, int_at, str_at};
use serde_json::Value;

/// Deployments: `stopped` with no replicas, `running` when all are ready, else `updating`.
pub fn deployment(object: &Value) -> &'static str {
    let ready = int_at(object, &["status", "readyReplicas"]);
    let replicas = int_at(object, &["status", "replicas"]);
    replicas_state(ready == 0 && replicas == 0, ready == replicas)
}

/// StatefulSets compare ready replicas with `spec.replicas`; no `spec.replicas` is `stopped`.
pub fn statefulset(object: &Value) -> &'static str {
    let Some(desired) = at(object, &["spec", "replicas"]).and_then(Value::as_i64) else {
        return "stopped";
    };
    let ready = int_at(object, &["status", "readyReplicas"]);
    replicas_state(ready == 0 && desired == 0, ready == desired)
}

/// DaemonSets compare `numberReady` with `desiredNumberScheduled`.
pub fn daemonset(object: &Value) -> &'static str {
    let desired = int_at(object, &["status", "desiredNumberScheduled"]);
    let ready = int_at(object, &["status", "numberReady"]);
    replicas_state(desired == 0 && ready == 0, desired == ready)
}

fn replicas_state(stopped: bool, all_ready: bool) -> &'static str {
    if stopped {
        "stopped"
    } else if all_ready {
        "running"
    } else {
        "updating"
    }
}

/// Jobs: the first true `Complete` or `Failed` condition decides, else `running`.
pub fn job(object: &Value) -> &'static str {
    for condition in array_at(object, &["status", "conditions"]) {
        let is_true = condition.get("status").and_then(Value::as_str) == Some("True");
        match condition.get("type").and_then(Value::as_str) {
            Some("Complete") if is_true => return "completed",
            Some("Failed") if is_true => return "failed",
            _ => {}
        }
    }
    "running"
}

/// CronJobs: `paused` when suspended.
pub fn cronjob(object: &Value) -> &'static str {
    if at(object, &["spec", "suspend"]).and_then(Value::as_bool) == Some(true) {
        "paused"
    } else {
        "running"
    }
}

/// Nodes: `unschedulable` when cordoned, `warning` when a condition is not as expected.
pub fn node(object: &Value) -> &'static str {
    if at(object, &["spec", "unschedulable"]).and_then(Value::as_bool) == Some(true) {
        return "unschedulable";
    }
    let unhealthy = array_at(object, &["status", "conditions"]).iter().any(|c| {
        let expected = match c.get("type").and_then(Value::as_str) {
            Some("MemoryPressure" | "DiskPressure" | "PIDPressure" | "NetworkUnavailable") => {
                "False"
            }
            Some("ConfigOK" | "KubeletReady" | "Ready") => "True",
            _ => return false,
        };
        c.get("status").and_then(Value::as_str).unwrap_or("") != expected
    });
    if unhealthy { "warning" } else { "running" }
}

/// Pods: `Running`, `Error`, `Completed` or `Waiting`, from the reason `kubectl get pods`
/// would print.
pub fn pod(object: &Value) -> &'static str {
    let reason = pod_reason(object);
    match reason.as_str() {
        "Running" => "Running",
        "Failed" | "Error" => "Error",
        "Completed" => "Completed",
        "Succeeded" => {
            // Go's isPodReadyConditionReason: every Ready condition must carry PodCompleted.
            let all_completed = array_at(object, &["status", "conditions"])
                .iter()
                .filter(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
                .all(|c| c.get("reason").and_then(Value::as_str).unwrap_or("") == "PodCompleted");
            if all_completed {
                "Completed"
            } else {
                "Waiting"
            }
        }
        other if other.starts_with("OutOf") => "Error",
        _ => "Waiting",
    }
}

fn pod_reason(object: &Value) -> String {
    let mut reason = str_at(object, &["status", "phase"])
        .unwrap_or("")
        .to_string();
    let status_reason = str_at(object, &["status", "reason"]).unwrap_or("");
    if !status_reason.is_empty() {
        reason = status_reason.to_string();
    }
    let init_total = array_at(object, &["spec", "initContainers"]).len();
    let mut initializing = false;
    for (i, c) in array_at(object, &["status", "initContainerStatuses"])
        .iter()
        .enumerate()
    {
        let terminated = at(c, &["state", "terminated"]);
        let waiting_reason = str_at(c, &["state", "waiting", "reason"]).unwrap_or("");
        if let Some(t) = terminated {
            if int_at(t, &["exitCode"]) == 0 {
                continue;
            }
            let r = str_at(t, &["reason"]).unwrap_or("");
            reason = if !r.is_empty() {
                format!("Init:{r}")
            } else if int_at(t, &["signal"]) != 0 {
                format!("Init:Signal:{}", int_at(t, &["signal"]))
            } else {
                format!("Init:ExitCode:{}", int_at(t, &["exitCode"]))
            };
        } else if at(c, &["state", "waiting"]).is_some()
            && !waiting_reason.is_empty()
            && waiting_reason != "PodInitializing"
        {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{init_total}");
        }
        initializing = true;
        break;
    }
    if !initializing {
        let mut has_running = false;
        for c in array_at(object, &["status", "containerStatuses"])
            .iter()
            .rev()
        {
            let waiting = str_at(c, &["state", "waiting", "reason"]).unwrap_or("");
            let terminated = at(c, &["state", "terminated"]);
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = terminated {
                let r = str_at(t, &["reason"]).unwrap_or("");
                reason = if !r.is_empty() {
                    r.to_string()
                } else if int_at(t, &["signal"]) != 0 {
                    format!("Signal:{}", int_at(t, &["signal"]))
                } else {
                    format!("ExitCode:{}", int_at(t, &["exitCode"]))
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && at(c, &["state", "running"]).is_some()
            {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            let ready = array_at(object, &["status", "conditions"]).iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some("Ready")
                    && c.get("status").and_then(Value::as_str) == Some("True")
            });
            reason = if ready { "Running" } else { "NotReady" }.to_string();
        }
    }
    if at(object, &["metadata", "deletionTimestamp"]).is_some_and(|v| !v.is_null()) {
        reason = if status_reason == "NodeLost" {
            "Unknown"
        } else {
            "Terminating"
        }
        .to_string();
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workloads() {
        assert_eq!(deployment(&json!({"status": {}})), "stopped");
        assert_eq!(
            deployment(&json!({"status": {"replicas": 2, "readyReplicas": 2}})),
            "running"
        );
        assert_eq!(
            deployment(&json!({"status": {"replicas": 2, "readyReplicas": 1}})),
            "updating"
        );
        assert_eq!(
            statefulset(&json!({"status": {"readyReplicas": 0}})),
            "stopped"
        );
        assert_eq!(
            statefulset(&json!({"spec": {"replicas": 3}, "status": {"readyReplicas": 3}})),
            "running"
        );
        assert_eq!(
            daemonset(&json!({"status": {"desiredNumberScheduled": 2, "numberReady": 1}})),
            "updating"
        );
        assert_eq!(
            job(&json!({"status": {"conditions": [{"type": "Failed", "status": "True"}]}})),
            "failed"
        );
        assert_eq!(cronjob(&json!({"spec": {"suspend": true}})), "paused");
    }

    #[test]
    fn nodes() {
        assert_eq!(
            node(&json!({"spec": {"unschedulable": true}})),
            "unschedulable"
        );
        let ready = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        assert_eq!(node(&ready), "running");
        let pressure =
            json!({"status": {"conditions": [{"type": "DiskPressure", "status": "True"}]}});
        assert_eq!(node(&pressure), "warning");
    }

    #[test]
    fn pods() {
        let running = json!({"status": {"phase": "Running", "containerStatuses": [
            {"ready": true, "state": {"running": {}}}]}});
        assert_eq!(pod(&running), "Running");
        let crash = json!({"status": {"phase": "Running", "containerStatuses": [
            {"ready": false, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        assert_eq!(pod(&crash), "Waiting");
        let failed = json!({"status": {"phase": "Failed"}});
        assert_eq!(pod(&failed), "Error");
        let done = json!({"status": {"phase": "Succeeded", "containerStatuses": [
            {"state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]}});
        assert_eq!(pod(&done), "Completed");
        let init = json!({"spec": {"initContainers": [{}]}, "status": {"phase": "Pending",
            "initContainerStatuses": [{"state": {"terminated": {"exitCode": 1}}}]}});
        assert_eq!(pod_reason(&init), "Init:ExitCode:1");
        let deleting = json!({"metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"},
            "status": {"phase": "Running"}});
        assert_eq!(pod(&deleting), "Waiting");
        assert_eq!(
            pod(&json!({"status": {"phase": "Failed", "reason": "OutOfcpu"}})),
            "Error"
        );
    }
}
