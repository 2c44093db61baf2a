//! Prints the time to roll out a 100-replica Deployment against an in-process kernel
//! with an auto-ready pod driver, and the process's resident memory.
//!
//! Run: `cargo run -p controllers --example rollout_bench [--release] [-- REPLICAS]`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

// The allocator sphere runs with, so the figures stand for it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, PostParams};
use serde_json::json;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let replicas: i32 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100);
    let env = support::start().await;
    let before = rss_kib();
    let api: Api<Deployment> = Api::namespaced(env.client.clone(), "default");
    let d: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "bench"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "bench"}},
            "template": {"metadata": {"labels": {"app": "bench"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
        }
    }))?;
    let start = Instant::now();
    api.create(&PostParams::default(), &d).await?;
    let mut created = None;
    loop {
        let d = api.get("bench").await?;
        let s = d.status.unwrap_or_default();
        if created.is_none() && s.replicas == Some(replicas) {
            created = Some(start.elapsed());
        }
        if s.available_replicas == Some(replicas) && s.updated_replicas == Some(replicas) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let total = start.elapsed();
    println!("replicas: {replicas}");
    println!(
        "all pods created: {:.3} s",
        created.unwrap_or(total).as_secs_f64()
    );
    println!(
        "rollout complete (all available): {:.3} s",
        total.as_secs_f64()
    );
    println!(
        "process RSS: {} MiB before, {} MiB after (kernel + controllers + driver in one process)",
        before / 1024,
        rss_kib() / 1024
    );
    Ok(())
}
