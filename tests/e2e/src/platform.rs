//! Platform helpers for black-box tests: OAuth logins, bearer-token kubectl, JWT claims, polling with server logs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::cluster::SphereProcess;
use crate::error::{Error, Result};
use crate::kubectl::Output;
use crate::raw::{RawClient, RawResponse};

/// The OAuth client the console uses; its secret is not checked (a public client).
pub const CONSOLE_CLIENT: &str = "kubesphere";

/// `POST /oauth/token` with the password grant, as the console sends it.
pub fn password_login(client: &RawClient, user: &str, password: &str) -> Result<RawResponse> {
    client.form(
        "/oauth/token",
        &[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
            ("client_id", CONSOLE_CLIENT),
            ("client_secret", CONSOLE_CLIENT),
            ("encrypt", "false"),
        ],
    )
}

/// `POST /oauth/token` with the refresh grant.
pub fn refresh_login(client: &RawClient, refresh_token: &str) -> Result<RawResponse> {
    client.form(
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", CONSOLE_CLIENT),
            ("client_secret", CONSOLE_CLIENT),
        ],
    )
}

/// A string field of a JSON answer (`access_token`, `refresh_token`, ...).
pub fn json_str(resp: &RawResponse, field: &str) -> Option<String> {
    resp.json()
        .ok()?
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The claims of a JWT, decoded without checking the signature (the server checks it;
/// tests only look at what it says).
pub fn jwt_claims(token: &str) -> Result<Value> {
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| Error::Http(format!("not a JWT: {token:?}")))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| Error::Http(format!("JWT payload is not base64url: {e}")))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// The first admin password a server wrote into its data dir.
pub fn initial_admin_password(data_dir: &Path) -> Result<String> {
    let path = data_dir.join("initial-admin-password");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// Runs kubectl against `server` with only a bearer token (no kubeconfig is read:
/// `--kubeconfig /dev/null`), with a discovery cache private to `cache_dir`.
pub fn kubectl_with_token(
    server: &str,
    ca_file: &Path,
    token: &str,
    cache_dir: &Path,
    args: &[&str],
) -> Output {
    let bin = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
    let command = format!(
        "kubectl --server {server} --token <redacted> {}",
        args.join(" ")
    );
    let out = Command::new(&bin)
        .args([
            "--kubeconfig",
            "/dev/null",
            "--server",
            server,
            "--token",
            token,
        ])
        .arg("--certificate-authority")
        .arg(ca_file)
        .arg("--cache-dir")
        .arg(cache_dir)
        .args(["--request-timeout", "60s"])
        .args(args)
        .output();
    match out {
        Ok(o) => Output {
            command,
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        },
        Err(e) => Output {
            command,
            code: None,
            stdout: String::new(),
            stderr: format!("cannot run {bin}: {e}"),
        },
    }
}

/// The log tails of `servers`, labelled, for failure messages.
pub fn logs_of(servers: &[(&str, &SphereProcess)]) -> String {
    servers
        .iter()
        .map(|(name, p)| format!("--- {name} log (tail) ---\n{}", p.log_tail()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Calls `check` every 200 ms until it returns `Some`; after `timeout` panics naming
/// `what`, the last observation `check` reported and the servers' log tails.
pub fn eventually<T>(
    what: &str,
    timeout: Duration,
    servers: &[(&str, &SphereProcess)],
    mut check: impl FnMut() -> std::result::Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(v) => return v,
            Err(last) if Instant::now() >= deadline => panic!(
                "timed out after {timeout:?} waiting for {what}; last: {last}\n{}",
                logs_of(servers)
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// One running `sphere` (up, kernel or serve) plus what a client needs to reach it. The
/// helpers panic with the server's log tail, since they exist for tests.
pub struct PlatformServer {
    /// A label for failure messages (`serve 1`).
    pub name: &'static str,
    /// The process, killed when this is dropped.
    pub process: SphereProcess,
    /// A client trusting the server's CA, without credentials.
    pub anon: RawClient,
    /// The announced URL.
    pub url: String,
    /// A kubectl discovery cache private to this server.
    pub kubectl_cache: PathBuf,
}

impl PlatformServer {
    /// Starts `sphere <args> --data-dir data_dir` and waits until it is ready.
    pub fn start(name: &'static str, args: &[&str], data_dir: &Path) -> PlatformServer {
        let process = SphereProcess::start_args(args, data_dir)
            .unwrap_or_else(|e| panic!("starting {name} (sphere {args:?}): {e}"));
        let anon = process
            .anonymous_client()
            .unwrap_or_else(|e| panic!("client for {name}: {e}"));
        let url = process
            .url()
            .unwrap_or_else(|e| panic!("url of {name}: {e}"));
        PlatformServer {
            name,
            process,
            anon,
            url,
            kubectl_cache: data_dir.with_extension("kubectl-cache"),
        }
    }

    /// Starts two servers at once (each start waits for readiness).
    pub fn start_pair(
        a: (&'static str, &[&str], &Path),
        b: (&'static str, &[&str], &Path),
    ) -> (PlatformServer, PlatformServer) {
        std::thread::scope(|s| {
            let ha = s.spawn(|| PlatformServer::start(a.0, a.1, a.2));
            let hb = s.spawn(|| PlatformServer::start(b.0, b.1, b.2));
            let join = |h: std::thread::ScopedJoinHandle<'_, PlatformServer>| {
                h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
            };
            (join(ha), join(hb))
        })
    }

    /// The server's CA certificate file.
    pub fn ca(&self) -> PathBuf {
        self.process.data_dir().join("ca.crt")
    }

    /// The server's log tail, labelled.
    pub fn logs(&self) -> String {
        logs_of(&[(self.name, &self.process)])
    }

    /// A client sending `token` as a bearer token.
    pub fn as_token(&self, token: &str) -> RawClient {
        self.anon.with_token(token)
    }

    /// `GET path` with `token`.
    pub fn get(&self, token: &str, path: &str) -> RawResponse {
        self.as_token(token)
            .get(path)
            .unwrap_or_else(|e| panic!("GET {path} on {}: {e}\n{}", self.name, self.logs()))
    }

    /// Logs in with the password grant and returns the token response; panics unless 200.
    pub fn login(&self, user: &str, password: &str) -> Value {
        let r = password_login(&self.anon, user, password)
            .unwrap_or_else(|e| panic!("login {user} on {}: {e}\n{}", self.name, self.logs()));
        if r.status != 200 {
            panic!(
                "login {user} on {}: {} {}\n{}",
                self.name,
                r.status,
                r.text(),
                self.logs()
            );
        }
        r.json()
            .unwrap_or_else(|e| panic!("login {user} on {}: {e}: {}", self.name, r.text()))
    }

    /// kubectl against this server with only `token`.
    pub fn kubectl(&self, token: &str, args: &[&str]) -> Output {
        kubectl_with_token(&self.url, &self.ca(), token, &self.kubectl_cache, args)
    }
}
