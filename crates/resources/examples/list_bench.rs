//! Benchmark of the indexed listing: 100,000 pods over 4,000 namespaces in 1,000
//! workspaces; prints load time, cache memory and p50/p99 of one-page sorted, filtered
//! queries cluster-wide and within one workspace. Run with
//! `cargo run --release -p resources --example list_bench`.

use resources::query::{Query, apply_for};
use resources::store::{ResourceType, Store, WORKSPACE_LABEL};
use resources::{FilterRegistry, NoLookup};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PODS: usize = 100_000;
const NAMESPACES: usize = 4_000;
const WORKSPACES: usize = 1_000;

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn pod(i: usize) -> Value {
    let ns = format!("project-{}", i % NAMESPACES);
    let app = format!("app-{}", i % 37);
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": format!("{app}-{:08x}-{:05}", i * 2_654_435_761 % 0xffff_ffff, i % 100_000),
            "namespace": ns, "uid": format!("{:08x}-0000-4000-8000-{:012x}", i, i),
            "resourceVersion": (1000 + i).to_string(),
            "creationTimestamp": format!("2024-{:02}-{:02}T{:02}:{:02}:00Z",
                1 + i % 12, 1 + i % 28, i % 24, i % 60),
            "labels": {"app": app, "pod-template-hash": format!("{:x}", i % 5000)},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "name": format!("{app}-rs"), "uid": format!("rs-{}", i % 5000), "controller": true}],
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                "fieldsV1": {"f:metadata": {"f:labels": {}}, "f:spec": {"f:containers": {}}}}],
        },
        "spec": {
            "nodeName": format!("node-{}", i % 60),
            "containers": [{"name": "main", "image": "registry.example.com/team/app:1.2.3",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "env": [{"name": "MODE", "value": "production"}, {"name": "LOG", "value": "info"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets"}]}],
            "volumes": [{"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}],
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}],
            "serviceAccountName": "default", "restartPolicy": "Always",
        },
        "status": {
            "phase": "Running", "podIP": format!("10.{}.{}.{}", i / 65536 % 256, i / 256 % 256, i % 256),
            "hostIP": format!("192.168.0.{}", i % 60), "qosClass": "Burstable",
            "startTime": "2024-01-01T00:00:00Z",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}],
            "containerStatuses": [{"name": "main", "ready": true, "restartCount": 0, "started": true,
                "image": "registry.example.com/team/app:1.2.3", "imageID": "sha256:0123456789abcdef",
                "containerID": "containerd://0123456789abcdef", "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}}}],
        },
    })
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99))
}

fn main() {
    let store = Store::new();
    for (plural, namespaced) in [("pods", true), ("namespaces", false)] {
        store.register(ResourceType {
            group: String::new(),
            version: "v1".into(),
            kind: plural.into(),
            plural: plural.into(),
            namespaced,
        });
    }
    for n in 0..NAMESPACES {
        store.apply(
            "namespaces",
            &json!({"metadata": {"name": format!("project-{n}"),
                "labels": {WORKSPACE_LABEL: format!("ws-{}", n % WORKSPACES)}}}),
        );
    }
    let pods: Vec<Value> = (0..PODS).map(pod).collect();
    let before = rss_bytes();
    let started = Instant::now();
    for p in &pods {
        store.apply("pods", p);
    }
    let load = started.elapsed();
    drop(pods);
    let after = rss_bytes();
    let cached = store.resource("pods").expect("pods registered");
    let index = cached.index.read().expect("lock");
    let payload = index.payload_bytes();
    println!(
        "loaded {} pods in {:?} ({:.1} us/pod)",
        index.len(),
        load,
        load.as_micros() as f64 / PODS as f64
    );
    println!(
        "cache memory: RSS growth {:.0} bytes/pod (RSS {} MiB); stored projections {:.0} bytes/pod (compact, {} interned strings)",
        after.saturating_sub(before) as f64 / PODS as f64,
        after / (1 << 20),
        payload as f64 / PODS as f64,
        index.interned_strings()
    );

    let registry = FilterRegistry::new();
    let cluster = Query::parse("sortBy=createTime&limit=10&page=1&name=app-1").expect("query");
    let workspace = store.workspace_namespaces("ws-7");
    let runs = |n: usize, scope: Option<&std::collections::BTreeSet<String>>| {
        let mut samples = Vec::with_capacity(n);
        let mut total = 0;
        for _ in 0..n {
            let t = Instant::now();
            let r = index.list(&cluster, scope, &registry, &store);
            samples.push(t.elapsed());
            total = r.total_items;
        }
        (percentiles(samples), total)
    };
    let ((p50, p99), total) = runs(200, None);
    println!(
        "cluster-wide page of 10, sortBy=createTime, name filter: p50 {p50:?} p99 {p99:?} (totalItems {total})"
    );
    let ((p50, p99), total) = runs(2000, Some(&workspace));
    println!(
        "one workspace ({} projects), same query: p50 {p50:?} p99 {p99:?} (totalItems {total})",
        workspace.len()
    );

    // The reference pipeline (filter all, sort all) over the same projections, for a ratio.
    let all = index.list_all(None);
    let mut samples = Vec::new();
    for _ in 0..10 {
        let items = all.clone();
        let t = Instant::now();
        let r = apply_for("pods", &cluster, items, &registry, &NoLookup);
        samples.push(t.elapsed());
        assert_eq!(
            r.total_items,
            total_cluster(&index, &cluster, &registry, &store)
        );
    }
    let (p50, _) = percentiles(samples);
    println!("reference full scan and sort, cluster-wide: p50 {p50:?}");
}

fn total_cluster(
    index: &resources::ResourceIndex,
    q: &Query,
    registry: &FilterRegistry,
    store: &Store,
) -> usize {
    index.list(q, None, registry, store).total_items
}
