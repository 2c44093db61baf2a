//! Scheduler throughput: 10,000 pending pods on 100 simulated nodes against an in-process kernel.
//!
//! `cargo run --release -p scheduler --example sched_bench [-- PODS NODES [MODE]]`
//!
//! MODE separates the costs (the figure is `full`):
//! * `full`: simulated kubelets (a `spec.nodeName` watch each, status writes) + scheduler;
//! * `bare`: Nodes registered without kubelets: the scheduler, its binds and its events;
//! * `watch`: as `bare`, plus one field-selected pod watch per node that only reads;
//! * `bind`: no scheduler: the pods are bound round-robin (the bind path alone);
//! * `events`: no scheduler: one `Scheduled` Event per pod through the recorder.

use anyhow::Context;

// The allocator sphere runs with, so the figures stand for it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use apimachinery::UserInfo;
use controllers::events::{EventType, Recorder, object_reference};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Node, Pod, ServiceAccount};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};
use simnode::objects::{NodeAddresses, node_object, node_status};
use simnode::{SimNode, SimNodeOptions};
use std::collections::{BTreeMap, HashSet};
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

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Full,
    Bare,
    Watch,
    Bind,
    Events,
}

impl std::str::FromStr for Mode {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Mode> {
        Ok(match s {
            "full" => Mode::Full,
            "bare" => Mode::Bare,
            "watch" => Mode::Watch,
            "bind" => Mode::Bind,
            "events" => Mode::Events,
            other => anyhow::bail!("unknown mode {other:?}: full, bare, watch, bind or events"),
        })
    }
}

/// A Node as the kubelet registers it, with no kubelet behind it.
async fn bare_node(client: &kube::Client, i: u16, per_node: u32) -> anyhow::Result<()> {
    let name = format!("sim-{i}");
    let addrs = NodeAddresses::for_index(i);
    let capacity: BTreeMap<String, String> = [
        ("cpu", "64".to_string()),
        ("memory", "512Gi".to_string()),
        ("pods", per_node.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let now = jiff::Timestamp::now();
    let obj = node_object(&name, &addrs, &capacity, &BTreeMap::new(), &[], now);
    let node: Node = serde_json::from_value(obj)?;
    let nodes: Api<Node> = Api::all(client.clone());
    nodes.create(&PostParams::default(), &node).await?;
    let status = node_status(&name, &addrs, &capacity, now);
    nodes
        .patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(&json!({ "status": status })),
        )
        .await?;
    Ok(())
}

/// Field-selected pod watches that only read, as many kubelets would hold.
fn reader_watches(client: &kube::Client, nodes: u16, cancel: &CancellationToken) {
    for i in 0..nodes {
        let api: Api<Pod> = Api::all(client.clone());
        let cfg = watcher::Config::default().fields(&format!("spec.nodeName=sim-{i}"));
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let mut s = watcher(api, cfg).default_backoff().boxed();
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    ev = s.next() => if ev.is_none() { return },
                }
            }
        });
    }
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
    let mode: Mode = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(Mode::Full);
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
    let cancel = CancellationToken::new();

    let per_node = (pods / nodes as usize + 10) as u32;
    let mut sims = Vec::new();
    for i in 0..nodes {
        if mode == Mode::Full {
            let mut o = SimNodeOptions::new(format!("sim-{i}")).capacity("64", "512Gi", per_node);
            o.index = Some(i);
            sims.push(SimNode::start(client.clone(), o).await?);
        } else {
            bare_node(&client, i, per_node).await?;
        }
    }
    if mode == Mode::Watch {
        reader_watches(&client, nodes, &cancel);
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
    let create_secs = t_create.elapsed().as_secs_f64();
    println!(
        "mode {mode:?}: created {pods} pending pods in {create_secs:.1}s ({:.0}/s), load {}",
        pods as f64 / create_secs,
        load_average()
    );
    let rss_created = rss_mib();

    match mode {
        Mode::Bind => {
            let t0 = Instant::now();
            futures::stream::iter(0..pods)
                .map(|i| {
                    let api = api.clone();
                    async move {
                        let name = format!("p-{i}");
                        let binding = json!({
                            "apiVersion": "v1", "kind": "Binding",
                            "metadata": {"name": name, "namespace": "default"},
                            "target": {"apiVersion": "v1", "kind": "Node",
                                "name": format!("sim-{}", i % nodes as usize)},
                        });
                        api.create_subresource::<_, Value>(
                            "binding",
                            &name,
                            &PostParams::default(),
                            &binding,
                        )
                        .await
                        .context("bind")?;
                        anyhow::Ok(())
                    }
                })
                .buffer_unordered(64)
                .try_collect::<Vec<_>>()
                .await?;
            report("bound", pods, t0, &load_average());
        }
        Mode::Events => {
            let recorder = Recorder::new(client.clone(), "default-scheduler");
            let list = api.list(&Default::default()).await?;
            let t0 = Instant::now();
            futures::stream::iter(list.items)
                .map(|p| {
                    let recorder = recorder.clone();
                    async move {
                        let msg = format!(
                            "Successfully assigned default/{} to sim-0",
                            p.metadata.name.as_deref().unwrap_or("")
                        );
                        recorder
                            .record(&object_reference(&p), EventType::Normal, "Scheduled", &msg)
                            .await;
                    }
                })
                .buffer_unordered(64)
                .collect::<Vec<_>>()
                .await;
            report("recorded events for", pods, t0, &load_average());
        }
        Mode::Full | Mode::Bare | Mode::Watch => {
            // Count bindings from a watch, so measuring does not load the kernel with lists.
            let mut events = watcher(api.clone(), watcher::Config::default())
                .applied_objects()
                .boxed();
            let mut bound = HashSet::new();
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
            report(
                &format!("scheduled on {nodes} nodes"),
                bound.len(),
                t0,
                &load_average(),
            );
        }
    }
    cancel.cancel();
    println!(
        "process RSS: {rss_start:.0} MiB empty, {rss_created:.0} MiB with pods pending, {:.0} MiB at the end \
         (kernel + {} + scheduler in one process; fsync {})",
        rss_mib(),
        if mode == Mode::Full {
            format!("{nodes} simnodes")
        } else {
            "bare nodes".into()
        },
        if fsync { "on" } else { "off" }
    );
    drop(sims);
    Ok(())
}

fn report(what: &str, n: usize, t0: Instant, load: &str) {
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{what}: {n} pods in {secs:.2}s: {:.0} pods/s, load {load}",
        n as f64 / secs
    );
}
