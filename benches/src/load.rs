//! Write load: concurrent clients creating ~1 KiB ConfigMaps, counted or for a fixed time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::json;

use crate::client::{Endpoint, H1, expect_status};
use crate::stats::Latency;

/// Padding that makes each ConfigMap's JSON about 1 KiB.
const PAYLOAD_BYTES: usize = 900;

/// When a load stops.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// After this many creates in total.
    Count(u64),
    /// After this much time (requests in flight finish).
    Elapsed(Duration),
}

/// What a load achieved.
#[derive(Debug)]
pub struct LoadResult {
    /// Creates answered 201.
    pub created: u64,
    /// Wall time of the whole load.
    pub elapsed: Duration,
    /// Per-request latency.
    pub latency: Option<Latency>,
    /// Size of one request body.
    pub body_bytes: usize,
}

impl LoadResult {
    /// Creates per second.
    pub fn rate(&self) -> f64 {
        self.created as f64 / self.elapsed.as_secs_f64()
    }
}

/// The JSON of ConfigMap `name`.
pub fn configmap(name: &str) -> Bytes {
    let pad: String = (0..PAYLOAD_BYTES)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let doc = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "kernel-bench"}},
        "data": {"payload": pad},
    });
    Bytes::from(doc.to_string())
}

/// Creates namespace `ns` unless it exists.
pub async fn ensure_namespace(endpoint: &Endpoint, ns: &str) -> Result<()> {
    let mut conn = endpoint.h1().await?;
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    let (status, resp) = conn
        .send(
            Method::POST,
            "/api/v1/namespaces",
            Bytes::from(body.to_string()),
        )
        .await?;
    if status == StatusCode::CONFLICT {
        return Ok(());
    }
    expect_status(
        &format!("creating namespace {ns}"),
        status,
        StatusCode::CREATED,
        &resp,
    )
}

/// Runs `clients` concurrent HTTP/1.1 connections, each creating ConfigMaps named
/// `{prefix}-{n}` in `ns` back to back, until `until`.
pub async fn create(
    endpoint: &Endpoint,
    ns: &str,
    prefix: &str,
    clients: usize,
    until: Until,
) -> Result<LoadResult> {
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let path: Arc<str> = Arc::from(format!("/api/v1/namespaces/{ns}/configmaps"));
    let prefix: Arc<str> = Arc::from(prefix);
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        conns.push(endpoint.h1().await?);
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for conn in conns {
        let (next, stop, path, prefix) = (next.clone(), stop.clone(), path.clone(), prefix.clone());
        tasks.push(tokio::spawn(async move {
            worker(conn, &path, &prefix, &next, &stop, until, started).await
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await??);
    }
    let elapsed = started.elapsed();
    Ok(LoadResult {
        created: samples.len() as u64,
        elapsed,
        latency: Latency::of(samples),
        body_bytes: configmap(&format!("{prefix}-000000")).len(),
    })
}

async fn worker(
    mut conn: H1,
    path: &str,
    prefix: &str,
    next: &AtomicU64,
    stop: &AtomicBool,
    until: Until,
    started: Instant,
) -> Result<Vec<Duration>> {
    let mut samples = Vec::new();
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let n = next.fetch_add(1, Ordering::Relaxed);
        match until {
            Until::Count(total) if n >= total => break,
            Until::Elapsed(d) if started.elapsed() >= d => {
                stop.store(true, Ordering::Relaxed);
                break;
            }
            _ => {}
        }
        let body = configmap(&format!("{prefix}-{n:06}"));
        let t = Instant::now();
        let (status, resp) = conn.send(Method::POST, path, body).await?;
        let took = t.elapsed();
        if status != StatusCode::CREATED {
            stop.store(true, Ordering::Relaxed);
            expect_status("create", status, StatusCode::CREATED, &resp)?;
            bail!("create answered {status}");
        }
        samples.push(took);
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configmap_is_about_one_kib_and_valid_json() {
        let body = configmap("bench-000001");
        assert!((1000..1100).contains(&body.len()), "{} bytes", body.len());
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["metadata"]["name"], "bench-000001");
        assert_eq!(v["kind"], "ConfigMap");
    }
}
