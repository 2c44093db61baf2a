//! Scheduler throughput: 10,000 pending pods on 100 simulated nodes against an in-process kernel.
//!
//! `cargo run --release -p scheduler --example sched_bench [-- PODS NODES]`

use anyhow::Context;
use apimachinery::UserInfo;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use simnode::{SimNode, SimNodeOptions};
use std::collections::HashSet;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let pods: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let nodes: u16 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100);
    let fsync = std::env::var("FSYNC").is_ok_and(|v| v == "1");
    let dir = tempfile::tempdir()?;
    let mut cfg = kernel::KernelConfig::new(dir.path());
    cfg.fsync = fsync;
    let kernel = kernel::Kernel::start(cfg).await?;
    let client = kubeclient::in_process(
        kernel.router(),
        UserInfo::new("admin", vec!["system:masters".into()]),
    );
    let sa: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": "default"}}))?;
    Api::<ServiceAccount>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &sa)
        .await
        .ok();
    let rss_start = rss_mib();

    let per_node = (pods / nodes as usize + 10) as u32;
    let mut sims = Vec::new();
    for i in 0..nodes {
        let mut o = SimNodeOptions::new(format!("sim-{i}")).capacity("64", "512Gi", per_node);
        o.index = Some(i);
        sims.push(SimNode::start(client.clone(), o).await?);
    }

    let api: Api<Pod> = Api::namespaced(client.clone(), "default");
    let t_create = Instant::now();
    futures::stream::iter(0..pods)
        .map(|i| {
            let api = api.clone();
            async move {
                let p: Pod = serde_json::from_value(json!({
                    "metadata": {"name": format!("p-{i}"), "labels": {"app": "bench"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx",
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]},
                }))?;
                api.create(&PostParams::default(), &p)
                    .await
                    .context("create pod")?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await?;
    println!(
        "created {pods} pending pods in {:.1}s",
        t_create.elapsed().as_secs_f64()
    );
    let rss_created = rss_mib();

    // Count bindings from a watch, so measuring does not load the kernel with lists.
    let mut events = watcher(api.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    let mut bound = HashSet::new();
    let cancel = CancellationToken::new();
    let t0 = Instant::now();
    tokio::spawn(scheduler::run_scheduler(
        client.clone(),
        Default::default(),
        cancel.clone(),
    ));
    while bound.len() < pods {
        let Some(p) = events.try_next().await? else {
            break;
        };
        if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some() {
            bound.insert(p.metadata.name.unwrap_or_default());
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    cancel.cancel();
    println!(
        "scheduled {} pods on {nodes} nodes in {secs:.2}s: {:.0} pods/s (fsync {})",
        bound.len(),
        bound.len() as f64 / secs,
        if fsync { "on" } else { "off" }
    );
    println!(
        "process RSS: {rss_start:.0} MiB empty, {rss_created:.0} MiB with pods pending, {:.0} MiB after scheduling \
         (kernel + {nodes} simnodes + scheduler in one process)",
        rss_mib()
    );
    drop(sims);
    Ok(())
}
