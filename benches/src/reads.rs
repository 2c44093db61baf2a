//! Read latency: sequential GETs and LISTs on one keep-alive connection.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};
use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::Value;

use crate::client::{Endpoint, expect_status};
use crate::stats::Latency;

/// Latency of a repeated request, with the size of its answer.
#[derive(Debug)]
pub struct ReadResult {
    /// Per-request latency, body fully read.
    pub latency: Latency,
    /// Bytes in one answer.
    pub body_bytes: usize,
    /// Items in one answer (1 for a GET).
    pub items: usize,
}

/// Sends `GET path` `samples` times in a row (after `warmup` unmeasured ones) and checks
/// that the answers are 200 and hold at least `min_items` items (when given; a namespace
/// also holds its `kube-root-ca.crt`).
pub async fn repeat_get(
    endpoint: &Endpoint,
    path: &str,
    samples: usize,
    warmup: usize,
    min_items: Option<usize>,
) -> Result<ReadResult> {
    let mut conn = endpoint.h1().await?;
    let mut times = Vec::with_capacity(samples);
    let mut last = Bytes::new();
    for i in 0..samples + warmup {
        let t = Instant::now();
        let (status, body) = conn.send(Method::GET, path, Bytes::new()).await?;
        let took: Duration = t.elapsed();
        expect_status(&format!("GET {path}"), status, StatusCode::OK, &body)?;
        if i >= warmup {
            times.push(took);
        }
        last = body;
    }
    let doc: Value = serde_json::from_slice(&last)?;
    let items = doc
        .get("items")
        .and_then(Value::as_array)
        .map_or(1, Vec::len);
    if let Some(want) = min_items
        && items < want
    {
        bail!("GET {path} returned {items} items, expected at least {want}");
    }
    Ok(ReadResult {
        latency: Latency::of(times).ok_or_else(|| anyhow!("no samples for {path}"))?,
        body_bytes: last.len(),
        items,
    })
}

/// The resourceVersion of a collection right now.
pub async fn collection_rv(endpoint: &Endpoint, path: &str) -> Result<String> {
    let mut conn = endpoint.h1().await?;
    let (status, body) = conn
        .send(Method::GET, &format!("{path}?limit=1"), Bytes::new())
        .await?;
    expect_status(&format!("LIST {path}"), status, StatusCode::OK, &body)?;
    let doc: Value = serde_json::from_slice(&body)?;
    doc.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("LIST {path} has no resourceVersion"))
}

/// How many ConfigMaps the server holds across all namespaces, counted page by page.
pub async fn count_configmaps(endpoint: &Endpoint) -> Result<u64> {
    let mut conn = endpoint.h1().await?;
    let mut total = 0u64;
    let mut cont = String::new();
    loop {
        let path = if cont.is_empty() {
            "/api/v1/configmaps?limit=5000".to_owned()
        } else {
            format!("/api/v1/configmaps?limit=5000&continue={}", escape(&cont))
        };
        let (status, body) = conn.send(Method::GET, &path, Bytes::new()).await?;
        expect_status("LIST configmaps", status, StatusCode::OK, &body)?;
        let doc: Value = serde_json::from_slice(&body)?;
        total += doc
            .get("items")
            .and_then(Value::as_array)
            .map_or(0, |a| a.len() as u64);
        match doc.pointer("/metadata/continue").and_then(Value::as_str) {
            Some(c) if !c.is_empty() => cont = c.to_owned(),
            _ => return Ok(total),
        }
    }
}

/// Percent-encodes a query value (continue tokens are base64 and hold `=`, `+`, `/`).
fn escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_continue_tokens() {
        assert_eq!(escape("eyJ2Ijo+/x=="), "eyJ2Ijo%2B%2Fx%3D%3D");
        assert_eq!(escape("a-b_c.d~e"), "a-b_c.d~e");
    }
}
