//! The cluster under test: a real one named by `E2E_KUBECONFIG`, or a `sphere up` started here.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::raw::RawClient;

/// What `sphere up` prints once it serves (`ferrosphere listening on https://...`; the
/// kernel-only mode says `ferrosphere kernel listening on`).
const LISTENING: &str = " listening on https://";
/// A debug build on a busy 2-core machine can take a while to generate keys and open the store.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// Starts `sphere` and, once the test process is gone (however it ended), kills it and
/// removes its directory. A static never drops, so without this watchdog every test binary
/// would leak a server.
const WATCHDOG: &str = r#"parent=$1; dir=$2; shift 2
"$@" >"$dir/sphere.log" 2>&1 &
child=$!
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.3; done
kill -9 "$child" 2>/dev/null
wait "$child" 2>/dev/null
kill -0 "$parent" 2>/dev/null || rm -rf "$dir""#;

/// The process-wide cluster every scenario runs against.
#[derive(Debug)]
pub struct Cluster {
    kubeconfig: PathBuf,
    own: bool,
    cache_dir: Option<PathBuf>,
    /// What was appended to `sphere up`'s command line when this process started it.
    up_args: Vec<String>,
}

static SHARED: OnceLock<std::result::Result<Cluster, String>> = OnceLock::new();

impl Cluster {
    /// The shared cluster, started on first use; panics (failing the test) if it cannot start.
    pub fn shared() -> &'static Cluster {
        let cluster = SHARED.get_or_init(|| Cluster::connect(&[]).map_err(|e| e.to_string()));
        match cluster {
            Ok(c) => c,
            Err(e) => panic!("no cluster to test against: {e}"),
        }
    }

    /// The shared cluster, started as `sphere up <usual options> <extra_up_args>` when
    /// this call starts it, for a test binary whose scenarios need a server option (a
    /// hidden test option such as `--controller-clock-file`). Call it before anything
    /// else touches the cluster; panics if the shared cluster was already started with
    /// other arguments. With `E2E_KUBECONFIG` nothing is started and the arguments are
    /// ignored: such tests check [`Cluster::is_own`].
    pub fn shared_with_up_args(extra_up_args: &[&str]) -> &'static Cluster {
        let extra: Vec<String> = extra_up_args.iter().map(|a| (*a).to_owned()).collect();
        let cluster = SHARED.get_or_init(|| Cluster::connect(&extra).map_err(|e| e.to_string()));
        match cluster {
            Ok(c) if c.own && c.up_args != extra => panic!(
                "the shared sphere up was started with {:?}, not {extra:?}: call Cluster::shared_with_up_args first",
                c.up_args
            ),
            Ok(c) => c,
            Err(e) => panic!("no cluster to test against: {e}"),
        }
    }

    fn connect(extra_up_args: &[String]) -> Result<Cluster> {
        if let Some(path) = std::env::var_os("E2E_KUBECONFIG") {
            return Ok(Cluster {
                kubeconfig: PathBuf::from(path),
                own: false,
                cache_dir: None,
                up_args: Vec::new(),
            });
        }
        let bin = sphere_binary()?;
        let dir = tempfile::Builder::new()
            .prefix("e2e-sphere-")
            .tempdir()
            .map_err(|e| Error::io("creating a temp dir", e))?
            .keep();
        let data = dir.join("data");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(std::process::id().to_string())
            .arg(&dir)
            .arg(&bin)
            .args(["up", "--data-dir"])
            .arg(&data)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra_up_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", bin.display()), e))?;
        let log = dir.join("sphere.log");
        let kubeconfig = data.join("admin.kubeconfig");
        wait_ready(&log, 0, &kubeconfig, || {
            matches!(child.try_wait(), Ok(None))
        })?;
        Ok(Cluster {
            kubeconfig,
            own: true,
            cache_dir: Some(dir.join("kubectl-cache")),
            up_args: extra_up_args.to_vec(),
        })
    }

    /// The kubeconfig with cluster-admin credentials.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// True when the harness started this cluster itself (not `E2E_KUBECONFIG`).
    pub fn is_own(&self) -> bool {
        self.own
    }

    /// A kubectl discovery cache private to a cluster started here, so that a cache left by
    /// an earlier server on the same port is never read.
    pub fn kubectl_cache_dir(&self) -> Option<&Path> {
        self.cache_dir.as_deref()
    }

    /// A raw HTTPS client authenticated like kubectl.
    pub fn raw(&self) -> RawClient {
        RawClient::from_kubeconfig(&self.kubeconfig)
            .unwrap_or_else(|e| panic!("raw client from {}: {e}", self.kubeconfig.display()))
    }
}

/// Where the `sphere` binary is: `SPHERE_BIN`, else `$CARGO_TARGET_DIR/debug/sphere`, else
/// `<workspace>/target/debug/sphere`.
pub fn sphere_binary() -> Result<PathBuf> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = if let Some(bin) = std::env::var_os("SPHERE_BIN") {
        PathBuf::from(bin)
    } else if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        workspace.join(target).join("debug/sphere")
    } else {
        workspace.join("target/debug/sphere")
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::NoSphereBinary(path))
    }
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn wait_ready(
    log: &Path,
    log_offset: usize,
    kubeconfig: &Path,
    mut alive: impl FnMut() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let not_ready = |reason: &str| Error::NotReady {
        reason: reason.into(),
        log: log_tail(log),
    };
    let mut last_error = String::from("no `listening on https://` line yet");
    loop {
        if !alive() {
            return Err(not_ready("sphere exited"));
        }
        let text = std::fs::read(log).unwrap_or_default();
        let fresh = String::from_utf8_lossy(text.get(log_offset..).unwrap_or_default());
        if fresh.contains(LISTENING) && kubeconfig.is_file() {
            match RawClient::from_kubeconfig(kubeconfig).and_then(|c| c.get("/readyz")) {
                Ok(resp) if resp.status == 200 => return Ok(()),
                Ok(resp) => {
                    last_error = format!("/readyz answered {}: {}", resp.status, resp.text())
                }
                Err(e) => last_error = e.to_string(),
            }
        }
        if Instant::now() >= deadline {
            return Err(not_ready(&format!(
                "not ready after {READY_TIMEOUT:?}; last: {last_error}"
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The URL announced in the log after `offset`.
fn announced_url(log: &Path, offset: usize) -> Option<String> {
    let text = std::fs::read(log).ok()?;
    let fresh = String::from_utf8_lossy(text.get(offset..)?).into_owned();
    let at = fresh.find(LISTENING)? + LISTENING.len() - "https://".len();
    let url: String = fresh[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    Some(url)
}

fn wait_announced(
    log: &Path,
    offset: usize,
    data: &Path,
    mut alive: impl FnMut() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut last_error = String::from("no `listening on https://` line yet");
    loop {
        if !alive() {
            return Err(Error::NotReady {
                reason: "sphere exited".into(),
                log: log_tail(log),
            });
        }
        if let Some(url) = announced_url(log, offset) {
            match RawClient::for_server(&url, &data.join("ca.crt")).and_then(|c| c.get("/readyz")) {
                Ok(resp) if resp.status == 200 => return Ok(()),
                Ok(resp) => {
                    last_error = format!("/readyz answered {}: {}", resp.status, resp.text())
                }
                Err(e) => last_error = e.to_string(),
            }
        }
        if Instant::now() >= deadline {
            return Err(Error::NotReady {
                reason: format!("not ready after {READY_TIMEOUT:?}; last: {last_error}"),
                log: log_tail(log),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A `sphere` process owned by one test, killed when dropped.
pub struct SphereProcess {
    child: Child,
    data_dir: PathBuf,
    log: PathBuf,
    offset: usize,
}

impl SphereProcess {
    /// Starts `sphere up --data-dir data_dir --listen 127.0.0.1:0` and waits until it is
    /// ready. Its output is appended to `<data_dir>.log`, which survives restarts.
    pub fn start(data_dir: &Path) -> Result<SphereProcess> {
        SphereProcess::start_args(&["up"], data_dir)
    }

    /// Starts `sphere <args> --data-dir data_dir --listen 127.0.0.1:0` (`args` being
    /// e.g. `["kernel"]` or `["serve", "--kubeconfig", F]`) and waits until it answers
    /// `/readyz`.
    pub fn start_args(args: &[&str], data_dir: &Path) -> Result<SphereProcess> {
        let bin = sphere_binary()?;
        let log = data_dir.with_extension("log");
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| Error::io(format!("opening {}", log.display()), e))?;
        let offset = file
            .metadata()
            .map(|m| usize::try_from(m.len()).unwrap_or(usize::MAX))
            .unwrap_or(0);
        let stderr = file
            .try_clone()
            .map_err(|e| Error::io("duplicating the log handle", e))?;
        let child = Command::new(&bin)
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(stderr)
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", bin.display()), e))?;
        let mut process = SphereProcess {
            child,
            data_dir: data_dir.to_owned(),
            log,
            offset: 0,
        };
        let log = process.log.clone();
        let data = process.data_dir.clone();
        let child = &mut process.child;
        if args.first() == Some(&"serve") {
            // No admin kubeconfig on a cluster: wait for the announced URL instead.
            wait_announced(&log, offset, &data, || matches!(child.try_wait(), Ok(None)))?;
        } else {
            wait_ready(&log, offset, &data.join("admin.kubeconfig"), || {
                matches!(child.try_wait(), Ok(None))
            })?;
        }
        process.offset = offset;
        Ok(process)
    }

    /// The URL this server announced (`https://127.0.0.1:PORT`).
    pub fn url(&self) -> Result<String> {
        announced_url(&self.log, self.offset).ok_or_else(|| Error::NotReady {
            reason: "no `listening on` line".into(),
            log: log_tail(&self.log),
        })
    }

    /// A client for this server's URL trusting its CA, with no credentials.
    pub fn anonymous_client(&self) -> Result<RawClient> {
        RawClient::for_server(&self.url()?, &self.data_dir.join("ca.crt"))
    }

    /// The data dir.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The admin kubeconfig this server wrote.
    pub fn kubeconfig(&self) -> PathBuf {
        self.data_dir.join("admin.kubeconfig")
    }

    /// SIGKILL, as `kill -9` does: no shutdown hook runs.
    pub fn kill9(&mut self) -> Result<()> {
        self.child
            .kill()
            .map_err(|e| Error::io("killing sphere", e))?;
        self.child
            .wait()
            .map_err(|e| Error::io("reaping sphere", e))?;
        Ok(())
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }
}

impl Drop for SphereProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
