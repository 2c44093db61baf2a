//! Durability: every acknowledged write survives `kill -9` and a restart on the same data dir, same resourceVersion and data.
#![allow(clippy::unwrap_used)] // a failed unwrap in a test is a test failure, which is the point

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use e2e::{RawClient, SphereProcess};
use http::Method;
use serde_json::{Value, json};

const WRITERS: usize = 16;
const NAMESPACE: &str = "crash";

/// What the server acknowledged: name, resourceVersion, data value.
type Acked = Arc<Mutex<Vec<(String, String, String)>>>;

async fn writer(
    client: RawClient,
    id: usize,
    stop: Arc<AtomicBool>,
    acked: Acked,
    refused: Arc<Mutex<Vec<String>>>,
) {
    let path = format!("/api/v1/namespaces/{NAMESPACE}/configmaps");
    // Bounded: the server is killed after ~1.5 s, and each writer stops at 5,000 objects anyway.
    for i in 0..5_000 {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let name = format!("w{id}-{i}");
        let value = format!("payload-{id}-{i}");
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                          "metadata": {"name": name}, "data": {"v": value}});
        match client
            .request(
                Method::POST,
                &path,
                &[("Content-Type", "application/json")],
                body.to_string().into_bytes(),
            )
            .await
        {
            Ok(resp) if resp.status == 201 => {
                let rv = resp
                    .json()
                    .ok()
                    .and_then(|v| v["metadata"]["resourceVersion"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                if let Ok(mut a) = acked.lock() {
                    a.push((name, rv, value));
                }
            }
            Ok(resp) => {
                if let Ok(mut r) = refused.lock() {
                    r.push(format!("{name}: {} {}", resp.status, resp.text()));
                }
            }
            // The connection fails once the server is gone; nothing was acknowledged.
            Err(_) => return,
        }
    }
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    if std::env::var_os("E2E_KUBECONFIG").is_some() {
        eprintln!(
            "skipped: the crash test needs a sphere started by the harness, not E2E_KUBECONFIG"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = SphereProcess::start(&data).unwrap_or_else(|e| panic!("{e}"));
    let client = RawClient::from_kubeconfig(&server.kubeconfig()).unwrap();
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}});
    let resp = client
        .request_blocking(
            Method::POST,
            "/api/v1/namespaces",
            &[("Content-Type", "application/json")],
            ns.to_string().into_bytes(),
        )
        .unwrap();
    assert_eq!(resp.status, 201, "{}", resp.text());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Acked = Arc::default();
    let refused = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|id| {
            rt.spawn(writer(
                client.clone(),
                id,
                Arc::clone(&stop),
                Arc::clone(&acked),
                Arc::clone(&refused),
            ))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill9().unwrap();
    stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
        }
    });
    let refused = refused.lock().unwrap().clone();
    assert!(
        refused.is_empty(),
        "the server refused writes before the kill: {refused:#?}"
    );
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= WRITERS,
        "only {} writes were acknowledged in 1.5 s",
        acked.len()
    );

    drop(server);
    let server = SphereProcess::start(&data).unwrap_or_else(|e| panic!("restart: {e}"));
    let client = RawClient::from_kubeconfig(&server.kubeconfig()).unwrap();
    let mut lost = Vec::new();
    for (name, rv, value) in &acked {
        let resp = client
            .get(&format!("/api/v1/namespaces/{NAMESPACE}/configmaps/{name}"))
            .unwrap();
        if resp.status != 200 {
            lost.push(format!("{name}: {} after restart", resp.status));
            continue;
        }
        let obj: Value = resp.json().unwrap_or_default();
        if obj["metadata"]["resourceVersion"] != rv.as_str() || obj["data"]["v"] != value.as_str() {
            lost.push(format!(
                "{name}: acknowledged rv {rv} data {value}, found rv {} data {}",
                obj["metadata"]["resourceVersion"], obj["data"]["v"]
            ));
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost or changed: {:#?}\n--- log ---\n{}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(20)],
        server.log_tail()
    );
    eprintln!("{} acknowledged writes survived kill -9", acked.len());
}
