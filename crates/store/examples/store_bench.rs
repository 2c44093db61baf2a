//! Prints durable write throughput with 1 and 32 concurrent writers, and range / replay latency.
//!
//! Usage: `cargo run -p store --example store_bench -- [SECONDS_PER_PHASE] [DIR]` (defaults: 3, a temp dir).
//! The database lives in DIR so that the disk being measured is the one the data dir will use.

use std::sync::Arc;
use std::time::{Duration, Instant};

use store::{NullSink, Options, Precondition, Store, Write};

fn value(i: usize) -> Vec<u8> {
    // About the size of a small ConfigMap as the kernel stores it.
    format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"cm-{i}\",\"namespace\":\"bench\"}},\"data\":{{\"k\":\"{}\"}}}}",
        "v".repeat(300)
    )
    .into_bytes()
}

/// Writes new keys from `writers` tasks for `secs`; returns (writes, commits, elapsed).
async fn write_phase(store: &Store, writers: usize, secs: f64, tag: &str) -> (u64, u64, Duration) {
    let before = store.stats();
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = store.clone();
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut i = 0usize;
            while Instant::now() < until {
                let key = format!("/registry/bench/{tag}/w{w:02}-{i:08}");
                store
                    .write(Write::put(key, Precondition::MustNotExist, value(i)))
                    .await
                    .map_err(|e| e.to_string())?;
                i += 1;
            }
            Ok::<_, String>(())
        }));
    }
    for task in tasks {
        if let Err(e) = task.await.map_err(|e| e.to_string()).and_then(|r| r) {
            eprintln!("writer failed: {e}");
            std::process::exit(1);
        }
    }
    let elapsed = started.elapsed();
    let after = store.stats();
    (
        after.writes - before.writes,
        after.commits - before.commits,
        elapsed,
    )
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let p = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (p(0.5), p(0.99))
}

fn time<T>(iterations: usize, mut f: impl FnMut(usize) -> T) -> (Duration, Duration) {
    let samples = (0..iterations)
        .map(|i| {
            let started = Instant::now();
            std::hint::black_box(f(i));
            started.elapsed()
        })
        .collect();
    percentiles(samples)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let secs: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3.0);
    let temp = tempfile::tempdir_in(
        args.next()
            .unwrap_or_else(|| std::env::temp_dir().display().to_string()),
    )?;
    let path = temp.path().join("kernel.db");
    let (store, _) = Store::open(&path, Options::default(), Arc::new(NullSink))?;
    println!(
        "store_bench: {} (fsync on, synchronous=FULL), {secs} s per phase",
        path.display()
    );

    let (w1, c1, e1) = write_phase(&store, 1, secs, "one").await;
    let rate1 = w1 as f64 / e1.as_secs_f64();
    println!(
        "durable writes/s, 1 writer:   {rate1:>9.0}  ({w1} writes, {c1} commits, {:.2} ms/commit)",
        e1.as_secs_f64() * 1e3 / c1.max(1) as f64
    );
    let (w32, c32, e32) = write_phase(&store, 32, secs, "many").await;
    let rate32 = w32 as f64 / e32.as_secs_f64();
    println!(
        "durable writes/s, 32 writers: {rate32:>9.0}  ({w32} writes, {c32} commits, {:.1} writes/commit)",
        w32 as f64 / c32.max(1) as f64
    );
    println!(
        "group-commit speedup (32 vs 1 writer): {:.1}x",
        rate32 / rate1
    );

    // A namespace of 10,000 objects, then one more version of each, so history is twice the live set.
    const OBJECTS: usize = 10_000;
    let mut tasks = Vec::new();
    for w in 0..32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for pass in 0..2 {
                for i in (w..OBJECTS).step_by(32) {
                    let key = format!("/registry/configmaps/bench/cm-{i:05}");
                    let pre = if pass == 0 {
                        Precondition::MustNotExist
                    } else {
                        Precondition::Exists
                    };
                    store
                        .write(Write::put(key, pre, value(i)))
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
            Ok::<_, String>(())
        }));
    }
    let mut old = 0;
    for (n, task) in tasks.into_iter().enumerate() {
        task.await??;
        if n == 0 {
            old = store.revision();
        }
    }
    let old = old.max(store.compacted_revision());
    let (start, end) = ("/registry/configmaps/bench/", "/registry/configmaps/bench0");
    let iterations = 200;
    let (p50, p99) = time(iterations, |_| store.range(start, end, None, 0, 500));
    println!("range latest, first page of 500 (of {OBJECTS}):  p50 {p50:>9.2?}  p99 {p99:>9.2?}");
    let (p50, p99) = time(iterations, |i| {
        let after = format!(
            "/registry/configmaps/bench/cm-{:05}",
            (i * 37) % (OBJECTS - 500)
        );
        store.range(start, end, Some(&after), 0, 500)
    });
    println!("range latest, page of 500 after a continue key: p50 {p50:>9.2?}  p99 {p99:>9.2?}");
    let (p50, p99) = time(iterations, |_| store.range(start, end, None, old, 500));
    println!("range at an old revision, page of 500:         p50 {p50:>9.2?}  p99 {p99:>9.2?}");
    let (p50, p99) = time(20, |_| store.range(start, end, None, 0, 0));
    println!("range latest, all {OBJECTS} objects:              p50 {p50:>9.2?}  p99 {p99:>9.2?}");
    let (p50, p99) = time(iterations, |i| {
        store.get(
            &format!("/registry/configmaps/bench/cm-{:05}", (i * 7919) % OBJECTS),
            0,
        )
    });
    println!("get one key:                                   p50 {p50:>9.2?}  p99 {p99:>9.2?}");
    let from = store.revision().saturating_sub(1000);
    let (p50, p99) = time(iterations, |_| store.events_since(from, 0));
    println!("events_since, last 1000 events:                p50 {p50:>9.2?}  p99 {p99:>9.2?}");
    let started = Instant::now();
    let at = store.revision();
    store.compact(at).await?;
    println!(
        "compact {} revisions of history:             {:>9.2?}",
        at,
        started.elapsed()
    );
    store.close().await;
    Ok(())
}
