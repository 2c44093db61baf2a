//! The `sphere up` process under test: spawning it, timing it to `/readyz`, reading its
//! memory from /proc and stopping it.

use std::fs::File;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http::{Method, StatusCode};

use crate::client::Endpoint;

/// How long a start may take before the benchmark gives up.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// How often `/readyz` is polled; small next to the 1 s goal.
const POLL: Duration = Duration::from_millis(5);

/// A running `sphere up`, killed if dropped without [`Sphere::stop`].
pub struct Sphere {
    child: Child,
    /// Authenticated endpoint from its admin.kubeconfig.
    pub endpoint: Endpoint,
}

/// A port free right now; sphere binds it a moment later. Choosing it here (rather than
/// `--listen :0` and reading stdout) lets the poll start at spawn time.
fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

async fn readyz(endpoint: &Endpoint) -> Result<bool> {
    let mut conn = endpoint.h1().await?;
    let (status, _) = conn.send(Method::GET, "/readyz", Bytes::new()).await?;
    Ok(status == StatusCode::OK)
}

/// USER_HZ: the unit of /proc/PID/stat times, fixed at 100 by the Linux ABI.
const USER_HZ: f64 = 100.0;

/// CPU time (user + system, all threads) process `pid` has used so far, in seconds.
pub fn cpu_secs(pid: u32) -> Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command name may hold spaces and parentheses; the fields after its last `)` do not.
    let rest = text
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("{path}: no command name"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat; `rest` starts at field 3.
    let tick = |i: usize| -> Result<f64> {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .map(|t| t as f64 / USER_HZ)
            .ok_or_else(|| anyhow!("{path}: bad field {}", i + 3))
    };
    Ok(tick(11)? + tick(12)?)
}

impl Sphere {
    /// Spawns `bin up` on `data_dir` and returns once `/readyz` answers 200, with the
    /// time from spawn to that answer. Output goes to `log`.
    pub async fn start(bin: &Path, data_dir: &Path, log: &Path) -> Result<(Sphere, Duration)> {
        let port = free_port()?;
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let err = out.try_clone()?;
        let kubeconfig = data_dir.join("admin.kubeconfig");
        let started = Instant::now();
        let mut child = Command::new(bin)
            .args(["up", "--data-dir"])
            .arg(data_dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut endpoint: Option<Endpoint> = None;
        let mut last = String::from("no kubeconfig yet");
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("sphere exited with {status}; see {}", log.display());
            }
            if endpoint.is_none() {
                // A kubeconfig left by an earlier run names an older port; wait for ours.
                match Endpoint::from_kubeconfig(&kubeconfig) {
                    Ok(e) if e.port == port => endpoint = Some(e),
                    Ok(_) => last = "kubeconfig still names the previous port".into(),
                    Err(e) => last = format!("{e:#}"),
                }
            }
            if let Some(e) = &endpoint {
                match readyz(e).await {
                    Ok(true) => break,
                    Ok(false) => last = "/readyz not 200".into(),
                    Err(e) => last = format!("{e:#}"),
                }
            }
            if started.elapsed() > READY_TIMEOUT {
                let _ = child.kill();
                bail!("not ready after {READY_TIMEOUT:?}: {last}");
            }
            tokio::time::sleep(POLL).await;
        }
        let ready = started.elapsed();
        let endpoint = endpoint.ok_or_else(|| anyhow!("ready without an endpoint"))?;
        Ok((Sphere { child, endpoint }, ready))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `(VmRSS, VmHWM)` in KiB from /proc/PID/status.
    pub fn memory_kib(&self) -> Result<(u64, u64)> {
        let path = format!("/proc/{}/status", self.pid());
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let field = |name: &str| -> Result<u64> {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .ok_or_else(|| anyhow!("{path} has no {name}"))
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// SIGTERM, then SIGKILL if it has not exited within 30 s; returns the time to exit.
    pub async fn stop(mut self) -> Result<Duration> {
        let t = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .context("running kill")?;
        if sent.success() {
            while t.elapsed() < Duration::from_secs(30) {
                if self.child.try_wait()?.is_some() {
                    return Ok(t.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        self.child.kill()?;
        self.child.wait()?;
        bail!("sphere did not exit on SIGTERM; killed it")
    }
}

impl Drop for Sphere {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
