//! kernel-bench: drives a release `sphere up` over HTTPS and prints start-up time, memory,
//! durable create throughput, GET/LIST latency and watch fan-out latency against the goals.

mod client;
mod load;
mod process;
mod reads;
mod report;
mod stats;
mod watch;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;

use crate::load::{LoadResult, Until};
use crate::process::Sphere;
use crate::report::{Goal, Row};
use crate::stats::{Latency, mb, ms};

/// Benchmarks the kernel of a release `sphere` binary. Every size is adjustable; the
/// defaults are the figures the goals are stated for.
#[derive(Debug, Parser)]
#[command(name = "kernel-bench")]
struct Args {
    /// The sphere binary (build it with `cargo build --release -p sphere`).
    #[arg(long, env = "SPHERE_BIN", default_value = "target/release/sphere")]
    sphere: PathBuf,
    /// Where data dirs and logs go [default: a fresh directory under the temp dir, removed
    /// at the end unless --keep].
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Keep the work dir.
    #[arg(long)]
    keep: bool,
    /// ConfigMaps (~1 KiB each) the server holds when the loaded RSS is read.
    #[arg(long, default_value_t = 100_000)]
    objects: u64,
    /// ConfigMaps in the namespace that is LISTed, also what the restart is timed with.
    #[arg(long, default_value_t = 10_000)]
    list_objects: u64,
    /// Concurrent clients for bulk filling.
    #[arg(long, default_value_t = 64)]
    fill_clients: usize,
    /// Concurrent clients for the many-client throughput figure.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Seconds each throughput run lasts.
    #[arg(long, default_value_t = 10)]
    throughput_secs: u64,
    /// Measured GETs of one object.
    #[arg(long, default_value_t = 2_000)]
    get_samples: usize,
    /// Measured full LISTs.
    #[arg(long, default_value_t = 100)]
    list_samples: usize,
    /// Measured `limit=500` LIST pages.
    #[arg(long, default_value_t = 500)]
    page_samples: usize,
    /// Concurrent watchers.
    #[arg(long, default_value_t = 1_000)]
    watchers: usize,
    /// Watches multiplexed per HTTP/2 connection.
    #[arg(long, default_value_t = 100)]
    streams_per_conn: usize,
    /// Creates whose watch delivery is timed.
    #[arg(long, default_value_t = 50)]
    watch_writes: usize,
    /// Seconds to let the server settle before an RSS reading.
    #[arg(long, default_value_t = 3)]
    settle_secs: u64,
}

fn row(metric: impl Into<String>, value: f64, unit: &'static str, goal: Goal) -> Row {
    Row {
        metric: metric.into(),
        value,
        unit,
        goal,
    }
}

fn ms_f(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb_f(kib: u64) -> f64 {
    kib as f64 * 1024.0 / 1e6
}

fn print_load(what: &str, r: &LoadResult) {
    let lat = r.latency.map_or_else(|| "-".to_owned(), |l| l.to_string());
    println!(
        "{what}: {} creates in {:.2} s = {:.0} creates/s; latency {lat}; body {} B",
        r.created,
        r.elapsed.as_secs_f64(),
        r.rate(),
        r.body_bytes
    );
}

/// Server and benchmark CPU seconds, and when they were read.
type CpuMark = (f64, f64, Instant);

fn cpu_mark(sphere: &Sphere) -> Result<CpuMark> {
    Ok((
        process::cpu_secs(sphere.pid())?,
        process::cpu_secs(std::process::id())?,
        Instant::now(),
    ))
}

/// Prints how busy the server and this benchmark were since `start`: on a shared 2-core
/// machine the client's own CPU is part of every latency figure.
fn print_cpu(what: &str, sphere: &Sphere, start: CpuMark) -> Result<()> {
    let (server, bench, now) = cpu_mark(sphere)?;
    let wall = now.duration_since(start.2).as_secs_f64();
    let (server, bench) = (server - start.0, bench - start.1);
    println!(
        "  CPU during {what}: sphere {server:.2} s ({:.0}% of one core), kernel-bench {bench:.2} s ({:.0}%), over {wall:.2} s",
        100.0 * server / wall,
        100.0 * bench / wall
    );
    Ok(())
}

async fn memory(sphere: &Sphere, settle: Duration, what: &str) -> Result<(u64, u64)> {
    tokio::time::sleep(settle).await;
    let (rss, hwm) = sphere.memory_kib()?;
    println!("{what}: VmRSS {} (peak VmHWM {})", mb(rss), mb(hwm));
    Ok((rss, hwm))
}

async fn start(args: &Args, data: &Path, log: &Path, what: &str) -> Result<(Sphere, Duration)> {
    let (sphere, ready) = Sphere::start(&args.sphere, data, log).await?;
    println!("ready, {what}: {} from spawn to /readyz 200", ms(ready));
    Ok((sphere, ready))
}

async fn run(args: &Args, work: &Path) -> Result<Vec<Row>> {
    let data = work.join("data");
    let log = work.join("sphere.log");
    let settle = Duration::from_secs(args.settle_secs);
    let mut rows = Vec::new();
    let mut created = 0u64;

    // 1-2: fresh start, idle memory.
    let (sphere, ready) = start(args, &data, &log, "fresh data dir").await?;
    rows.push(row(
        "ready, fresh data dir",
        ms_f(ready),
        "ms",
        Goal::Below(1000.0),
    ));
    let (idle_rss, _) = memory(&sphere, settle, "idle after fresh start").await?;
    rows.push(row(
        "RSS idle after start",
        mb_f(idle_rss),
        "MB",
        Goal::Below(50.0),
    ));

    let ep = sphere.endpoint.clone();
    load::ensure_namespace(&ep, "bench-list").await?;
    let fill = load::create(
        &ep,
        "bench-list",
        "list",
        args.fill_clients,
        Until::Count(args.list_objects),
    )
    .await?;
    created += fill.created;
    print_load(
        &format!("fill bench-list ({} clients)", args.fill_clients),
        &fill,
    );

    // 1 again: restart on a data dir that holds the listed objects.
    let stopped = sphere.stop().await?;
    println!("stop (SIGTERM to exit): {}", ms(stopped));
    let (sphere, ready) = start(args, &data, &log, &format!("{created} ConfigMaps")).await?;
    rows.push(row(
        format!("ready, {created} ConfigMaps"),
        ms_f(ready),
        "ms",
        Goal::Below(1000.0),
    ));
    let (rss, _) = memory(
        &sphere,
        settle,
        &format!("idle after restart with {created} ConfigMaps"),
    )
    .await?;
    rows.push(row(
        format!("RSS idle, restarted with {created} ConfigMaps"),
        mb_f(rss),
        "MB",
        Goal::None,
    ));
    let ep = sphere.endpoint.clone();

    // 4: reads.
    let get = reads::repeat_get(
        &ep,
        "/api/v1/namespaces/bench-list/configmaps/list-000000",
        args.get_samples,
        50,
        None,
    )
    .await?;
    println!("GET one ConfigMap: {} ({} B)", get.latency, get.body_bytes);
    rows.push(row(
        "GET one object p50",
        ms_f(get.latency.p50),
        "ms",
        Goal::None,
    ));
    rows.push(row(
        "GET one object p99",
        ms_f(get.latency.p99),
        "ms",
        Goal::None,
    ));
    let full_items = usize::try_from(args.list_objects).context("--list-objects")?;
    let list = reads::repeat_get(
        &ep,
        "/api/v1/namespaces/bench-list/configmaps",
        args.list_samples,
        3,
        Some(full_items),
    )
    .await?;
    println!(
        "LIST {} ConfigMaps: {} ({} B)",
        list.items, list.latency, list.body_bytes
    );
    rows.push(row(
        format!("LIST {} (full) p50", list.items),
        ms_f(list.latency.p50),
        "ms",
        Goal::Below(100.0),
    ));
    rows.push(row(
        format!("LIST {} (full) p99", list.items),
        ms_f(list.latency.p99),
        "ms",
        Goal::Below(100.0),
    ));
    let page = reads::repeat_get(
        &ep,
        "/api/v1/namespaces/bench-list/configmaps?limit=500",
        args.page_samples,
        5,
        Some(full_items.min(500)),
    )
    .await?;
    println!(
        "LIST limit=500 (first page): {} ({} B)",
        page.latency, page.body_bytes
    );
    rows.push(row(
        "LIST limit=500 p50",
        ms_f(page.latency.p50),
        "ms",
        Goal::None,
    ));
    rows.push(row(
        "LIST limit=500 p99",
        ms_f(page.latency.p99),
        "ms",
        Goal::None,
    ));

    // 5: watch fan-out.
    load::ensure_namespace(&ep, "bench-watch").await?;
    let plan = watch::WatchPlan {
        watchers: args.watchers,
        streams_per_conn: args.streams_per_conn,
        writes: args.watch_writes,
    };
    let mark = cpu_mark(&sphere)?;
    let w = watch::run(&ep, "bench-watch", plan).await?;
    created += args.watch_writes as u64;
    let show = |l: Option<Latency>| l.map_or_else(|| "-".to_owned(), |l| l.to_string());
    println!(
        "watch: {} watchers on {} HTTP/2 connections open in {}; {} writes",
        plan.watchers,
        plan.watchers.div_ceil(plan.streams_per_conn.max(1)),
        ms(w.establish),
        plan.writes
    );
    println!(
        "  delivery (write sent -> watcher read): {}",
        show(w.delivery)
    );
    println!("  last watcher per write: {}", show(w.last_watcher));
    println!("  create round trip while watched: {}", show(w.write));
    println!("  undelivered (write, watcher) pairs: {}", w.missing);
    print_cpu("the watch run", &sphere, mark)?;
    if let Some(d) = w.delivery {
        rows.push(row(
            format!("watch delivery p50, {} watchers", plan.watchers),
            ms_f(d.p50),
            "ms",
            Goal::None,
        ));
        rows.push(row(
            format!("watch delivery p99, {} watchers", plan.watchers),
            ms_f(d.p99),
            "ms",
            Goal::Below(20.0),
        ));
    }
    rows.push(row(
        "watch events undelivered",
        w.missing as f64,
        "events",
        Goal::Below(1.0),
    ));

    // 2: memory with the full object count.
    let rest = args.objects.saturating_sub(created);
    if rest > 0 {
        load::ensure_namespace(&ep, "bench-fill").await?;
        let fill = load::create(
            &ep,
            "bench-fill",
            "fill",
            args.fill_clients,
            Until::Count(rest),
        )
        .await?;
        created += fill.created;
        print_load(
            &format!("fill bench-fill ({} clients)", args.fill_clients),
            &fill,
        );
    }
    let total = reads::count_configmaps(&ep).await?;
    println!("server holds {total} ConfigMaps ({created} created by the benchmark)");
    let (rss, hwm) = memory(&sphere, settle, &format!("after {created} creates")).await?;
    rows.push(row(
        format!("RSS with {total} ConfigMaps"),
        mb_f(rss),
        "MB",
        Goal::Below(400.0),
    ));
    if total > 0 {
        rows.push(row(
            "  RSS growth per ConfigMap",
            (rss.saturating_sub(idle_rss)) as f64 * 1024.0 / total as f64,
            "B",
            Goal::None,
        ));
    }
    rows.push(row(
        "  peak RSS (VmHWM) so far",
        mb_f(hwm),
        "MB",
        Goal::None,
    ));
    sphere.stop().await?;

    let (sphere, ready) = start(args, &data, &log, &format!("{total} ConfigMaps")).await?;
    rows.push(row(
        format!("ready, {total} ConfigMaps"),
        ms_f(ready),
        "ms",
        Goal::None,
    ));
    let (rss, _) = memory(
        &sphere,
        settle,
        &format!("idle after restart with {total} ConfigMaps"),
    )
    .await?;
    rows.push(row(
        format!("RSS idle, restarted with {total} ConfigMaps"),
        mb_f(rss),
        "MB",
        Goal::None,
    ));
    let ep = sphere.endpoint.clone();
    // 3: durable create throughput, on the server restarted with the full object count.
    load::ensure_namespace(&ep, "bench-tput").await?;
    let secs = Duration::from_secs(args.throughput_secs);
    let one = load::create(&ep, "bench-tput", "one", 1, Until::Elapsed(secs)).await?;
    created += one.created;
    print_load("durable creates, 1 client", &one);
    let mark = cpu_mark(&sphere)?;
    let many = load::create(
        &ep,
        "bench-tput",
        "many",
        args.clients,
        Until::Elapsed(secs),
    )
    .await?;
    created += many.created;
    print_load(&format!("durable creates, {} clients", args.clients), &many);
    print_cpu("the many-client creates", &sphere, mark)?;
    rows.push(row(
        "durable creates, 1 client",
        one.rate(),
        "/s",
        Goal::None,
    ));
    if let Some(l) = one.latency {
        rows.push(row(
            "  create latency, 1 client p50",
            ms_f(l.p50),
            "ms",
            Goal::None,
        ));
        rows.push(row(
            "  create latency, 1 client p99",
            ms_f(l.p99),
            "ms",
            Goal::None,
        ));
    }
    rows.push(row(
        format!("durable creates, {} clients", args.clients),
        many.rate(),
        "/s",
        Goal::AtLeast(3000.0),
    ));
    if let Some(l) = many.latency {
        rows.push(row(
            format!("  create latency, {} clients p50", args.clients),
            ms_f(l.p50),
            "ms",
            Goal::None,
        ));
        rows.push(row(
            format!("  create latency, {} clients p99", args.clients),
            ms_f(l.p99),
            "ms",
            Goal::None,
        ));
    }
    sphere.stop().await?;
    println!("the benchmark created {created} ConfigMaps in all");
    Ok(rows)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let sphere = std::fs::canonicalize(&args.sphere)
        .with_context(|| format!("sphere binary {}", args.sphere.display()))?;
    let args = Args { sphere, ..args };
    let (work, guard) = match &args.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            (dir.clone(), None)
        }
        None => {
            let t = tempfile::Builder::new().prefix("kernel-bench-").tempdir()?;
            (t.path().to_owned(), Some(t))
        }
    };
    println!(
        "kernel-bench: sphere {} in {}",
        args.sphere.display(),
        work.display()
    );
    let started = std::time::Instant::now();
    let rows = run(&args, &work).await;
    // A failed run keeps its directory so that the sphere log can be read.
    if (args.keep || rows.is_err())
        && let Some(t) = guard
    {
        let kept = t.keep();
        println!("kept {}", kept.display());
    }
    let rows =
        rows.with_context(|| format!("sphere log: {}", work.join("sphere.log").display()))?;
    println!(
        "\nSummary ({:.0} s total)\n",
        started.elapsed().as_secs_f64()
    );
    print!("{}", report::table(&rows));
    Ok(())
}
