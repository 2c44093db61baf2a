//! The HorizontalPodAutoscaler printer's cells, including the Targets summary (`cpu: 40%/80%`).

use crate::quantity::Quantity;
use crate::registry::ResourceInfo;
use serde_json::{Value, json};

fn st<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn q(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(|x| match x {
        Value::String(s) => Quantity::parse(s).ok().map(|q| q.canonical()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// `formatHPAMetrics` over autoscaling/v2 metric specs and statuses.
fn targets(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".to_string();
    }
    let unknown = || "<unknown>".to_string();
    let mut out = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let status = statuses.get(i);
        let text = match st(spec, "/type") {
            "External" | "Object" => {
                let key = if st(spec, "/type") == "External" {
                    "external"
                } else {
                    "object"
                };
                if let Some(avg) = q(spec, &format!("/{key}/target/averageValue")) {
                    let cur = status
                        .and_then(|s| q(s, &format!("/{key}/current/averageValue")))
                        .unwrap_or_else(unknown);
                    format!("{cur}/{avg} (avg)")
                } else {
                    let cur = status
                        .and_then(|s| q(s, &format!("/{key}/current/value")))
                        .unwrap_or_else(unknown);
                    let target = q(spec, &format!("/{key}/target/value")).unwrap_or_default();
                    format!("{cur}/{target}")
                }
            }
            "Pods" => {
                let cur = status
                    .and_then(|s| q(s, "/pods/current/averageValue"))
                    .unwrap_or_else(unknown);
                let target = q(spec, "/pods/target/averageValue").unwrap_or_default();
                format!("{cur}/{target}")
            }
            t @ ("Resource" | "ContainerResource") => {
                let key = if t == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                if let Some(avg) = q(spec, &format!("/{key}/target/averageValue")) {
                    let cur = status
                        .and_then(|s| q(s, &format!("/{key}/current/averageValue")))
                        .unwrap_or_else(unknown);
                    format!("{cur}/{avg}")
                } else {
                    let cur = status
                        .and_then(|s| s.pointer(&format!("/{key}/current/averageUtilization")))
                        .and_then(Value::as_i64)
                        .map_or_else(unknown, |u| format!("{u}%"));
                    let target = spec
                        .pointer(&format!("/{key}/target/averageUtilization"))
                        .and_then(Value::as_i64)
                        .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
                    format!("{}: {cur}/{target}", st(spec, &format!("/{key}/name")))
                }
            }
            _ => "<unknown type>".to_string(),
        };
        out.push(text);
    }
    let count = out.len();
    if count > 2 {
        out.truncate(2);
        format!("{} + {} more...", out.join(", "), count - 2)
    } else {
        out.join(", ")
    }
}

pub(crate) fn hpa(info: &ResourceInfo, obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    let metrics = if info.version == "v1" {
        // v1 keeps one CPU target; print it the way the v2 conversion would.
        match obj
            .pointer("/spec/targetCPUUtilizationPercentage")
            .and_then(Value::as_i64)
        {
            Some(target) => {
                let spec = json!([{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": target}}}]);
                let status = match obj
                    .pointer("/status/currentCPUUtilizationPercentage")
                    .and_then(Value::as_i64)
                {
                    Some(cur) => json!([{"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageUtilization": cur}}}]),
                    None => json!([]),
                };
                targets(
                    spec.as_array().map_or(&[], Vec::as_slice),
                    status.as_array().map_or(&[], Vec::as_slice),
                )
            }
            None => targets(&[], &[]),
        }
    } else {
        let empty = Vec::new();
        let specs = obj
            .pointer("/spec/metrics")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let statuses = obj
            .pointer("/status/currentMetrics")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        targets(specs, statuses)
    };
    let min = obj
        .pointer("/spec/minReplicas")
        .and_then(Value::as_i64)
        .map_or_else(|| "<unset>".to_string(), |m| m.to_string());
    let created = obj
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map_or_else(
            || "<unknown>".to_string(),
            |t| super::human_seconds(now.as_second() - t.as_second()),
        );
    vec![
        json!(st(obj, "/metadata/name")),
        json!(format!(
            "{}/{}",
            st(obj, "/spec/scaleTargetRef/kind"),
            st(obj, "/spec/scaleTargetRef/name")
        )),
        json!(metrics),
        json!(min),
        json!(
            obj.pointer("/spec/maxReplicas")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        ),
        json!(
            obj.pointer("/status/currentReplicas")
                .and_then(Value::as_i64)
                .unwrap_or(0)
        ),
        json!(created),
    ]
}
