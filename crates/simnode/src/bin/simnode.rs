//! `simnode`: registers simulated nodes against a cluster so `sphere up` can run pods.

use anyhow::Context;
use clap::Parser;
use kube::config::{KubeConfigOptions, Kubeconfig};
use simnode::{SimNode, SimNodeOptions};
use std::path::PathBuf;
use std::time::Duration;

/// Simulated nodes that register with a cluster and act as kubelets for bound pods.
#[derive(Parser)]
#[command(name = "simnode", version)]
struct Args {
    /// Kubeconfig of a user allowed to write nodes, leases and pod status.
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: PathBuf,
    /// Node name; with --count K the nodes are NAME-0 .. NAME-(K-1).
    #[arg(long, default_value = "simnode")]
    name: String,
    /// How many nodes to register.
    #[arg(long, default_value_t = 1)]
    count: u16,
    /// CPU capacity of each node.
    #[arg(long, default_value = "32")]
    cpu: String,
    /// Memory capacity of each node.
    #[arg(long, default_value = "256Gi")]
    memory: String,
    /// Pod capacity of each node.
    #[arg(long, default_value_t = 110)]
    pods: u32,
    /// Labels for every node, KEY=VALUE, repeatable.
    #[arg(long = "label")]
    labels: Vec<String>,
    /// Pods with restartPolicy Never/OnFailure succeed this many ms after starting.
    #[arg(long)]
    complete_after_ms: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let kc = Kubeconfig::read_from(&args.kubeconfig)
        .with_context(|| format!("reading {}", args.kubeconfig.display()))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .context("loading kubeconfig")?;
    let client = kube::Client::try_from(config).context("building client")?;
    let mut nodes = Vec::new();
    for i in 0..args.count {
        let name = if args.count == 1 {
            args.name.clone()
        } else {
            format!("{}-{i}", args.name)
        };
        let mut opts = SimNodeOptions::new(&name).capacity(&args.cpu, &args.memory, args.pods);
        opts.index = Some(i);
        opts.auto_complete_after = args.complete_after_ms.map(Duration::from_millis);
        for l in &args.labels {
            let (k, v) = l
                .split_once('=')
                .with_context(|| format!("label {l:?} is not KEY=VALUE"))?;
            opts = opts.label(k, v);
        }
        let node = SimNode::start(client.clone(), opts)
            .await
            .with_context(|| format!("registering node {name}"))?;
        println!("node {name} registered (InternalIP {})", node.internal_ip());
        nodes.push(node);
    }
    tokio::signal::ctrl_c().await?;
    for n in &nodes {
        n.stop();
    }
    Ok(())
}
