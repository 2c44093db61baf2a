//! Measures `/oauth/token` password logins (throughput and latency percentiles) against an in-process kernel.
//!
//! Run: `cargo run --release -p identity --example login_bench [logins] [concurrency]`.
//! It prints the cost of one argon2id verification measured in the same run, so
//! the login figures can be read as a ratio to the hash that dominates them.

use apimachinery::UserInfo;
use axum::body::Body;
use http::Request;
use identity::{OAuthOptions, User, UserSpec};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{ObjectMeta, PostParams};
use std::time::{Duration, Instant};
use tower::ServiceExt;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let logins: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let concurrency: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(4);

    let dir = tempfile::tempdir()?;
    let kernel = kernel::Kernel::start(kernel::KernelConfig::new(dir.path())).await?;
    let client = kubeclient::in_process(kernel.router(), UserInfo::system());
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    for crd in identity::crds() {
        crds.create(&PostParams::default(), &crd).await?;
    }
    let users: Api<User> = Api::all(client.clone());
    while users.list(&Default::default()).await.is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hash = identity::password::hash("bench-password")?;
    for i in 0..concurrency {
        let u = User {
            metadata: ObjectMeta {
                name: Some(format!("bench-{i}")),
                ..Default::default()
            },
            spec: UserSpec {
                password: Some(hash.clone()),
                ..Default::default()
            },
            status: None,
        };
        users.create(&PostParams::default(), &u).await?;
    }
    let opts = OAuthOptions {
        ip_rate_limit_burst: u32::MAX,
        ..Default::default()
    };
    let id = identity::Identity::new(client.clone(), opts).await?;
    tokio::spawn(identity::run_controllers(id.clone()));
    let router = identity::router(id);

    // The reference: argon2id verification alone, single-threaded.
    let t = Instant::now();
    let n_ref = 20;
    for _ in 0..n_ref {
        identity::password::verify("bench-password", &hash);
    }
    let verify_cost = t.elapsed() / n_ref;

    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let router = router.clone();
        let per = logins / concurrency + usize::from(w < logins % concurrency);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per);
            let mut failures = 0usize;
            for _ in 0..per {
                let body = format!(
                    "grant_type=password&username=bench-{w}&password=bench-password&client_id=kubesphere"
                );
                let req = Request::post("/oauth/token")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(body));
                let Ok(req) = req else { continue };
                let t = Instant::now();
                match router.clone().oneshot(req).await {
                    Ok(r) if r.status().is_success() => lat.push(t.elapsed()),
                    _ => failures += 1,
                }
            }
            (lat, failures)
        }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    for t in tasks {
        let (lat, f) = t.await?;
        all.extend(lat);
        failures += f;
    }
    let wall = start.elapsed();
    all.sort();
    println!(
        "argon2id m={} KiB t={} p={}: one verification {:.1} ms",
        identity::password::MEMORY_KIB,
        identity::password::ITERATIONS,
        identity::password::PARALLELISM,
        verify_cost.as_secs_f64() * 1e3
    );
    println!(
        "/oauth/token password grant: {} logins, concurrency {concurrency}, {failures} failed",
        all.len()
    );
    println!(
        "throughput {:.1} logins/s; p50 {:.1} ms, p99 {:.1} ms ({:.2}x one verification)",
        all.len() as f64 / wall.as_secs_f64(),
        percentile(&all, 0.50).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() / verify_cost.as_secs_f64().max(1e-9),
    );
    kernel.shutdown().await;
    Ok(())
}
