//! Running kubectl against the cluster under test: one-shot commands and background watchers.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::json::parse_json;

/// A kubectl call should never take this long; past it the harness kills it so a hung
/// server fails one test instead of the whole run.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(120);

/// What one kubectl invocation produced.
#[derive(Debug, Clone)]
pub struct Output {
    /// The command line, for failure messages.
    pub command: String,
    /// The exit code (`None` when killed by a signal or the harness timeout).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// True when kubectl exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Standard output parsed as JSON (panics with the output when it is not).
    pub fn json(&self) -> Value {
        parse_json(&self.stdout)
    }

    /// Non-empty lines of standard output.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ {}\nexit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

fn kubectl_command(args: &[&str], env: &[(&str, &str)]) -> (Command, String) {
    let cluster = Cluster::shared();
    let bin = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
    let mut cmd = Command::new(&bin);
    cmd.arg("--kubeconfig").arg(cluster.kubeconfig());
    if let Some(cache) = cluster.kubectl_cache_dir() {
        cmd.arg("--cache-dir").arg(cache);
    }
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let line = format!("kubectl {}", args.join(" "));
    (cmd, line)
}

fn drain(mut reader: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        // A read error only truncates what the test sees; the exit code still tells.
        let _ = reader.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs kubectl with `args`, optional standard input and extra environment variables.
pub fn kubectl_with(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let (mut cmd, command) = kubectl_command(args, env);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run kubectl ({command}): {e}"));
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let data = data.to_vec();
        // Writing on a thread avoids a deadlock when kubectl answers before reading all input.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    let out = child.stdout.take().map(drain);
    let err = child.stderr.take().map(drain);
    let deadline = Instant::now() + KUBECTL_TIMEOUT;
    let code = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let join = |h: Option<JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
    Output {
        command,
        code,
        stdout: join(out),
        stderr: join(err),
    }
}

/// Runs kubectl with `args`.
pub fn kubectl(args: &[&str]) -> Output {
    kubectl_with(args, None, &[])
}

/// Runs kubectl with `args` in namespace `ns`.
pub fn kubectl_in(ns: &str, args: &[&str]) -> Output {
    let mut all = vec!["-n", ns];
    all.extend_from_slice(args);
    kubectl(&all)
}

/// Runs kubectl with `args`, feeding `stdin`.
pub fn kubectl_stdin(args: &[&str], stdin: &str) -> Output {
    kubectl_with(args, Some(stdin.as_bytes()), &[])
}

/// Runs kubectl with `args` and extra environment variables (e.g. `KUBE_EDITOR`).
pub fn kubectl_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    kubectl_with(args, None, env)
}

/// Asserts that kubectl succeeded and returns its standard output.
#[track_caller]
pub fn expect_ok(out: &Output) -> &str {
    assert!(out.success(), "kubectl failed:\n{out}");
    &out.stdout
}

/// Asserts that kubectl failed and that its standard error contains `needle`.
#[track_caller]
pub fn expect_err_contains(out: &Output, needle: &str) {
    assert!(!out.success(), "kubectl should have failed:\n{out}");
    assert!(
        out.stderr.contains(needle),
        "stderr should contain {needle:?}:\n{out}"
    );
}

/// A kubectl process left running (e.g. `get -w`) whose output lines are collected as they come.
pub struct Background {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    command: String,
}

impl Background {
    /// Starts kubectl with `args` in the background.
    pub fn start(args: &[&str]) -> Background {
        let (mut cmd, command) = kubectl_command(args, &[]);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run kubectl ({command}): {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(stdout) = child.stdout.take() {
            let sink = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Ok(mut v) = sink.lock() {
                        v.push(line);
                    }
                }
            });
        }
        Background {
            child,
            lines,
            command,
        }
    }

    /// The lines printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Waits until at least `n` lines were printed and returns them, panicking after `timeout`.
    pub fn wait_lines(&self, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let lines = self.lines();
            if lines.len() >= n {
                return lines;
            }
            if Instant::now() >= deadline {
                panic!(
                    "`{}` printed {} lines, expected {n} within {timeout:?}: {lines:?}",
                    self.command,
                    lines.len()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
