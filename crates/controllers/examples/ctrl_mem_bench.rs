//! Controller memory at 100,000 pods: the process's resident memory before and after
//! the built-in controllers sync their informer caches over an in-process kernel.
//!
//! Run: `cargo build --release --workspace --example ctrl_mem_bench &&
//! $CARGO_TARGET_DIR/release/examples/ctrl_mem_bench [PODS [PER_RS]]` (defaults 100000 and 100).
//!
//! The pods belong to ReplicaSets (PER_RS each, default 100) created while the
//! controllers are stopped, so the controllers find every ReplicaSet satisfied and
//! the difference is what their caches and queues hold, not new writes.

use std::time::{Duration, Instant};

use anyhow::Context;

// The allocator sphere runs with, so the figures stand for it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use apimachinery::UserInfo;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn replica_set(name: &str, replicas: usize) -> anyhow::Result<ReplicaSet> {
    Ok(serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
            }
        }
    }))?)
}

/// A pod as the ReplicaSet controller would create it from `rs`.
fn pod_of(rs: &ReplicaSet, i: usize) -> anyhow::Result<Pod> {
    let name = rs.metadata.name.clone().unwrap_or_default();
    Ok(serde_json::from_value(json!({
        "metadata": {
            "name": format!("{name}-{i:05}"),
            "labels": {"app": name},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name,
                "uid": rs.metadata.uid, "controller": true, "blockOwnerDeletion": true}],
        },
        "spec": {"containers": [{"name": "c", "image": "nginx:1.27",
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
    }))?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let pods: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let per_rs: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100);
    let sets = pods.div_ceil(per_rs.max(1));
    let dir = tempfile::tempdir()?;
    let mut cfg = kernel::KernelConfig::new(dir.path());
    cfg.fsync = false;
    let kernel = kernel::Kernel::start(cfg).await?;
    let client = kubeclient::in_process(
        kernel.router(),
        UserInfo::new("admin", vec!["system:masters".into()]),
    );
    let node: Node = serde_json::from_value(json!({"metadata": {"name": "node-1"}}))?;
    Api::<Node>::all(client.clone())
        .create(&PostParams::default(), &node)
        .await?;
    let rss_empty = rss_mib();

    let rs_api: Api<ReplicaSet> = Api::namespaced(client.clone(), "default");
    let pod_api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let t0 = Instant::now();
    let mut made = 0;
    for s in 0..sets {
        let n = per_rs.min(pods - made);
        let rs = rs_api
            .create(
                &PostParams::default(),
                &replica_set(&format!("rs-{s:04}"), n)?,
            )
            .await
            .context("create ReplicaSet")?;
        futures::stream::iter(0..n)
            .map(|i| {
                let (api, rs) = (pod_api.clone(), &rs);
                async move {
                    api.create(&PostParams::default(), &pod_of(rs, i)?)
                        .await
                        .context("create pod")?;
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(64)
            .try_collect::<Vec<_>>()
            .await?;
        made += n;
        if s % 100 == 99 {
            eprintln!("{made} pods in {:.0}s", t0.elapsed().as_secs_f64());
        }
    }
    let create_secs = t0.elapsed().as_secs_f64();
    println!(
        "created {pods} pods in {sets} ReplicaSets in {create_secs:.0}s ({:.0}/s), load {}",
        pods as f64 / create_secs,
        load_average()
    );
    let rss_pods = rss_mib();

    let cancel = CancellationToken::new();
    let opts = controllers::Options {
        cancel: cancel.clone(),
        ..Default::default()
    };
    let c = client.clone();
    let t_sync = Instant::now();
    let ctrl = tokio::spawn(async move { controllers::run(c, opts).await });
    // Every ReplicaSet reporting its pods means the pod informer has listed them
    // all and each ReplicaSet was reconciled against the cache.
    loop {
        let list = rs_api.list(&ListParams::default()).await?;
        let done = list
            .items
            .iter()
            .filter(|rs| {
                let want = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
                rs.status.as_ref().map(|s| s.replicas) == Some(want)
            })
            .count();
        if done == sets {
            break;
        }
        if ctrl.is_finished() {
            anyhow::bail!("controllers stopped: {:?}", ctrl.await);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let sync_secs = t_sync.elapsed().as_secs_f64();
    // Let in-flight work settle before sampling.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_synced = rss_mib();
    let delta = rss_synced - rss_pods;
    println!(
        "controllers synced {sets} ReplicaSets over {pods} pods in {sync_secs:.1}s, load {}",
        load_average()
    );
    println!(
        "process RSS: {rss_empty:.0} MiB empty kernel, {rss_pods:.0} MiB with {pods} pods, \
         {rss_synced:.0} MiB with the controllers synced: controllers {delta:.0} MiB \
         ({:.0} bytes per pod)",
        delta * 1024.0 * 1024.0 / pods as f64
    );
    cancel.cancel();
    let _ = ctrl.await;
    drop(kernel);
    Ok(())
}
