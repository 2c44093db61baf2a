//! The pod printer's cells: ready count, the status reason kubectl shows, restarts, IP and node.

use serde_json::{Value, json};

fn st<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn list<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn ts(v: &Value, pointer: &str) -> Option<jiff::Timestamp> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|t| t.parse().ok())
}

fn later(a: Option<jiff::Timestamp>, b: Option<jiff::Timestamp>) -> Option<jiff::Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// `printPod` of kube's printers, wide columns included.
pub(crate) fn pod(obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let init_specs = list(obj, "/spec/initContainers");
    let restartable = |name: &str| {
        init_specs
            .iter()
            .any(|c| st(c, "/name") == name && st(c, "/restartPolicy") == "Always")
    };
    let total = list(obj, "/spec/containers").len()
        + init_specs
            .iter()
            .filter(|c| st(c, "/restartPolicy") == "Always")
            .count();
    let mut ready = 0;
    let mut restarts = 0;
    let mut sidecar_restarts = 0;
    let mut last_restart = None;
    let mut sidecar_last_restart = None;
    let phase = st(obj, "/status/phase");
    let mut reason = phase.to_string();
    if !st(obj, "/status/reason").is_empty() {
        reason = st(obj, "/status/reason").to_string();
    }
    if list(obj, "/status/conditions")
        .iter()
        .any(|c| st(c, "/type") == "PodScheduled" && st(c, "/reason") == "SchedulingGated")
    {
        reason = "SchedulingGated".to_string();
    }
    let mut initializing = false;
    let init_statuses = list(obj, "/status/initContainerStatuses");
    for (i, c) in init_statuses.iter().enumerate() {
        let count = c.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
        restarts += count;
        let finished = ts(c, "/lastState/terminated/finishedAt");
        last_restart = later(last_restart, finished);
        let sidecar = restartable(st(c, "/name"));
        if sidecar {
            sidecar_restarts += count;
            sidecar_last_restart = later(sidecar_last_restart, finished);
        }
        let terminated = c.pointer("/state/terminated").filter(|t| !t.is_null());
        let exit_code = terminated
            .and_then(|t| t.get("exitCode"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let waiting_reason = st(c, "/state/waiting/reason");
        if terminated.is_some() && exit_code == 0 {
            continue;
        }
        if sidecar && c.get("started").and_then(Value::as_bool) == Some(true) {
            if c.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            let r = st(t, "/reason");
            let signal = t.get("signal").and_then(Value::as_i64).unwrap_or(0);
            reason = if !r.is_empty() {
                format!("Init:{r}")
            } else if signal != 0 {
                format!("Init:Signal:{signal}")
            } else {
                format!("Init:ExitCode:{exit_code}")
            };
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            reason = format!("Init:{waiting_reason}");
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }
    let initialized = list(obj, "/status/conditions")
        .iter()
        .any(|c| st(c, "/type") == "Initialized" && st(c, "/status") == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = sidecar_last_restart;
        let mut has_running = false;
        for c in list(obj, "/status/containerStatuses").iter().rev() {
            restarts += c.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
            last_restart = later(last_restart, ts(c, "/lastState/terminated/finishedAt"));
            let waiting = st(c, "/state/waiting/reason");
            let terminated = c.pointer("/state/terminated").filter(|t| !t.is_null());
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(t) = terminated {
                let r = st(t, "/reason");
                let signal = t.get("signal").and_then(Value::as_i64).unwrap_or(0);
                let code = t.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
                reason = if !r.is_empty() {
                    r.to_string()
                } else if signal != 0 {
                    format!("Signal:{signal}")
                } else {
                    format!("ExitCode:{code}")
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && c.pointer("/state/running").is_some_and(|r| !r.is_null())
            {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = list(obj, "/status/conditions")
                .iter()
                .any(|c| st(c, "/type") == "Ready" && st(c, "/status") == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.to_string();
        }
    }
    let deleting = obj
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null());
    if deleting && st(obj, "/status/reason") == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }
    let restarts_text = match last_restart {
        Some(t) if restarts != 0 => format!(
            "{restarts} ({} ago)",
            super::human_seconds(now.as_second() - t.as_second())
        ),
        _ => restarts.to_string(),
    };
    let ip = list(obj, "/status/podIPs")
        .first()
        .map(|p| st(p, "/ip"))
        .unwrap_or("");
    let gates = list(obj, "/spec/readinessGates");
    let gates_text = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conditions = list(obj, "/status/conditions");
        let true_count = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| st(c, "/type") == st(g, "/conditionType"))
                    .is_some_and(|c| st(c, "/status") == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };
    let none = |s: &str| {
        if s.is_empty() {
            "<none>".to_string()
        } else {
            s.to_string()
        }
    };
    let created = ts(obj, "/metadata/creationTimestamp").map_or_else(
        || "<unknown>".to_string(),
        |t| super::human_seconds(now.as_second() - t.as_second()),
    );
    vec![
        json!(st(obj, "/metadata/name")),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_text),
        json!(created),
        json!(none(ip)),
        json!(none(st(obj, "/spec/nodeName"))),
        json!(none(st(obj, "/status/nominatedNodeName"))),
        json!(gates_text),
    ]
}
