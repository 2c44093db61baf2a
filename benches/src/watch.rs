//! Watch fan-out: many watchers on one namespace's ConfigMaps over HTTP/2, and the delay
//! from just before each create is sent to each watcher reading its ADDED event.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::BytesMut;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::client::{Endpoint, H2, expect_status};
use crate::load::configmap;
use crate::reads::collection_rv;
use crate::stats::Latency;

/// How long to wait for every watcher to see one write before moving on.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause between writes, so each measures fan-out on its own rather than a queue.
const WRITE_GAP: Duration = Duration::from_millis(20);

/// Settings of one watch run.
#[derive(Debug, Clone, Copy)]
pub struct WatchPlan {
    /// Concurrent watch requests.
    pub watchers: usize,
    /// Watches multiplexed on one HTTP/2 connection.
    pub streams_per_conn: usize,
    /// Creates whose delivery is measured.
    pub writes: usize,
}

/// What a watch run measured.
#[derive(Debug)]
pub struct WatchResult {
    /// Time to open every watch (all response headers received).
    pub establish: Duration,
    /// Send-to-receive delay over every (write, watcher) pair delivered.
    pub delivery: Option<Latency>,
    /// For each write, the delay until the last watcher had it.
    pub last_watcher: Option<Latency>,
    /// (write, watcher) pairs never delivered within the timeout.
    pub missing: usize,
    /// Round trip of the create requests themselves.
    pub write: Option<Latency>,
}

/// One event a watcher read: which watcher, which object, when.
struct Seen {
    name: String,
    at: Instant,
}

async fn watch_one(
    mut conn: H2,
    path: String,
    ready: mpsc::Sender<Result<()>>,
    seen: mpsc::UnboundedSender<Seen>,
) {
    let resp = match conn.stream(&path).await {
        Ok(r) if r.status() == StatusCode::OK => r,
        Ok(r) => {
            let _ = ready
                .send(Err(anyhow!("watch answered {}", r.status())))
                .await;
            return;
        }
        Err(e) => {
            let _ = ready.send(Err(e)).await;
            return;
        }
    };
    if ready.send(Ok(())).await.is_err() {
        return;
    }
    let mut body = resp.into_body();
    let mut buf = BytesMut::new();
    while let Some(Ok(frame)) = body.frame().await {
        // Stamp on arrival, before any parsing, so client-side JSON work is not counted.
        let at = Instant::now();
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buf.extend_from_slice(&data);
        while let Some(end) = buf.iter().position(|&b| b == b'\n') {
            let line = buf.split_to(end + 1);
            let Ok(ev) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            if ev.get("type").and_then(Value::as_str) != Some("ADDED") {
                continue;
            }
            if let Some(name) = ev.pointer("/object/metadata/name").and_then(Value::as_str)
                && seen
                    .send(Seen {
                        name: name.to_owned(),
                        at,
                    })
                    .is_err()
            {
                return;
            }
        }
    }
}

/// Opens `plan.watchers` watches on `ns`'s ConfigMaps from the current resourceVersion,
/// then creates `plan.writes` ConfigMaps one at a time and times their delivery.
pub async fn run(endpoint: &Endpoint, ns: &str, plan: WatchPlan) -> Result<WatchResult> {
    let collection = format!("/api/v1/namespaces/{ns}/configmaps");
    let rv = collection_rv(endpoint, &collection).await?;
    let path = format!("{collection}?watch=true&resourceVersion={rv}&allowWatchBookmarks=true");
    let per_conn = plan.streams_per_conn.max(1);
    let (ready_tx, mut ready_rx) = mpsc::channel(plan.watchers.max(1));
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let mut conn: Option<H2> = None;
    let mut tasks = Vec::with_capacity(plan.watchers);
    for i in 0..plan.watchers {
        if i % per_conn == 0 {
            conn = Some(endpoint.h2().await.context("opening a watch connection")?);
        }
        let c = conn.clone().ok_or_else(|| anyhow!("no watch connection"))?;
        tasks.push(tokio::spawn(watch_one(
            c,
            path.clone(),
            ready_tx.clone(),
            seen_tx.clone(),
        )));
    }
    drop(seen_tx);
    for _ in 0..plan.watchers {
        match tokio::time::timeout(Duration::from_secs(60), ready_rx.recv()).await {
            Ok(Some(Ok(()))) => {}
            Ok(Some(Err(e))) => bail!("opening a watch: {e:#}"),
            Ok(None) => bail!("watchers vanished"),
            Err(_) => bail!("watches not established within 60 s"),
        }
    }
    let establish = started.elapsed();

    let mut writer = endpoint.h1().await?;
    let mut delivery = Vec::with_capacity(plan.watchers * plan.writes);
    let mut last_watcher = Vec::with_capacity(plan.writes);
    let mut writes = Vec::with_capacity(plan.writes);
    let mut missing = 0;
    // Events of a write can arrive while the previous write is still being counted.
    let mut early: HashMap<String, Vec<Instant>> = HashMap::new();
    for w in 0..plan.writes {
        let name = format!("watch-{w:04}");
        let body = configmap(&name);
        let sent = Instant::now();
        let (status, resp) = writer.send(Method::POST, &collection, body).await?;
        writes.push(sent.elapsed());
        expect_status("create", status, StatusCode::CREATED, &resp)?;
        let mut got = early.remove(&name).unwrap_or_default();
        let deadline = sent + DELIVERY_TIMEOUT;
        while got.len() < plan.watchers {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, seen_rx.recv()).await {
                Ok(Some(s)) if s.name == name => got.push(s.at),
                Ok(Some(s)) => early.entry(s.name).or_default().push(s.at),
                Ok(None) | Err(_) => break,
            }
        }
        missing += plan.watchers - got.len();
        if let Some(latest) = got.iter().max() {
            last_watcher.push(latest.saturating_duration_since(sent));
        }
        delivery.extend(got.iter().map(|at| at.saturating_duration_since(sent)));
        tokio::time::sleep(WRITE_GAP).await;
    }
    for t in tasks {
        t.abort();
    }
    Ok(WatchResult {
        establish,
        delivery: Latency::of(delivery),
        last_watcher: Latency::of(last_watcher),
        missing,
        write: Latency::of(writes),
    })
}
