//! `GET /kapis/tenant.kubesphere.io/v1alpha2/auditing/events`: the audit log queried
//! with KubeSphere's parameters and answered in its shapes (`query`, `statistics`,
//! `histogram` operations).

use crate::audit::{AuditLog, AuditQuery};
use crate::status;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The path KubeSphere serves auditing queries at.
pub const PATH: &str = "/kapis/tenant.kubesphere.io/v1alpha2/auditing/events";

/// The router holding the auditing endpoint.
pub fn router(log: AuditLog) -> axum::Router {
    axum::Router::new()
        .route(PATH, axum::routing::get(events))
        .with_state(log)
}

async fn events(
    State(log): State<AuditLog>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let mut q = match AuditQuery::parse(&pairs) {
        Ok(q) => q,
        Err(msg) => return status::failure(400, "BadRequest", msg),
    };
    let op = pairs
        .iter()
        .find(|(k, _)| k == "operation")
        .map(|(_, v)| v.as_str())
        .unwrap_or("query");
    match op {
        "query" => {
            let (total, records) = log.query(&q);
            axum::Json(json!({"query": {"total": total, "records": records}})).into_response()
        }
        "statistics" => {
            q.from = 0;
            q.size = usize::MAX;
            let (total, records) = log.query(&q);
            let resources: std::collections::BTreeSet<String> = records
                .iter()
                .filter_map(|e| e.get("objectRef"))
                .map(|r| {
                    format!(
                        "{}/{}/{}/{}",
                        r["apiGroup"], r["resource"], r["namespace"], r["name"]
                    )
                })
                .collect();
            axum::Json(json!({"statistics": {"resources": resources.len(), "events": total}}))
                .into_response()
        }
        "histogram" => {
            let interval = match pairs
                .iter()
                .find(|(k, _)| k == "interval")
                .map(|(_, v)| v.as_str())
            {
                None | Some("") => 15 * 60,
                Some(v) => match parse_interval(v) {
                    Some(s) => s,
                    None => {
                        return status::failure(
                            400,
                            "BadRequest",
                            format!("interval must look like 30s, 15m, 1h or 1d, got {v:?}"),
                        );
                    }
                },
            };
            q.from = 0;
            q.size = usize::MAX;
            q.ascending = true;
            let (total, records) = log.query(&q);
            let mut buckets: BTreeMap<i64, usize> = BTreeMap::new();
            for e in &records {
                if let Some(t) = e["requestReceivedTimestamp"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                {
                    let s = t.as_second();
                    *buckets.entry(s - s.rem_euclid(interval)).or_default() += 1;
                }
            }
            let histograms: Vec<Value> = buckets
                .into_iter()
                .map(|(t, c)| json!({"time": t * 1000, "count": c}))
                .collect();
            axum::Json(json!({"histogram": {"total": total, "histograms": histograms}}))
                .into_response()
        }
        other => status::failure(
            400,
            "BadRequest",
            format!("unknown operation {other:?}; use query, statistics or histogram"),
        ),
    }
}

fn parse_interval(v: &str) -> Option<i64> {
    let (num, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let mul = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    (n > 0).then_some(n * mul)
}

#[cfg(test)]
mod tests {
    use super::parse_interval;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("15m"), Some(900));
        assert_eq!(parse_interval("1d"), Some(86400));
        assert_eq!(parse_interval("0s"), None);
        assert_eq!(parse_interval("m"), None);
        assert_eq!(parse_interval("10"), None);
    }
}
