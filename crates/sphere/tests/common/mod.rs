//! Helpers shared by the black-box tests: start `sphere` on a free port with a temp
//! data dir, wait for its ready line, signal it, and talk raw HTTPS to it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const SPHERE: &str = env!("CARGO_BIN_EXE_sphere");
pub const KUBECTL: &str = "/usr/bin/kubectl";

/// A running `sphere kernel`.
pub struct Sphere {
    pub child: Child,
    pub url: String,
    pub port: u16,
    pub ready_line: String,
    pub stdout: mpsc::Receiver<String>,
    pub stderr: Arc<Mutex<String>>,
}

impl Sphere {
    /// Starts `sphere kernel --data-dir DIR --listen 127.0.0.1:0` and waits until it
    /// prints where it listens.
    pub fn start(dir: &Path) -> Sphere {
        Self::start_with(dir, &["kernel", "--listen", "127.0.0.1:0"])
    }

    pub fn start_with(dir: &Path, args: &[&str]) -> Sphere {
        let mut command = Command::new(SPHERE);
        command.args(args).arg("--data-dir").arg(dir);
        Self::spawn(command)
    }

    /// Starts an already prepared `sphere` command and waits for its ready line.
    pub fn spawn(mut command: Command) -> Sphere {
        let mut child = command
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sphere");
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let err = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(err);
            let mut buf = String::new();
            while reader.read_line(&mut buf).unwrap_or(0) > 0 {
                sink.lock().unwrap().push_str(&buf);
                buf.clear();
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on ").nth(1) {
                        let url = rest.split(' ').next().unwrap().to_owned();
                        let port = url.rsplit(':').next().unwrap().parse().unwrap();
                        return Sphere {
                            child,
                            url,
                            port,
                            ready_line: line,
                            stdout: rx,
                            stderr,
                        };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "sphere did not become ready; stderr:\n{}",
                        stderr.lock().unwrap()
                    );
                }
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit, returning it and how long it took.
    pub fn terminate(mut self) -> (ExitStatus, Duration) {
        let started = Instant::now();
        signal(self.pid(), "TERM");
        let status = wait_timeout(&mut self.child, Duration::from_secs(20));
        (status, started.elapsed())
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Sphere {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

pub fn wait_timeout(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs kubectl with the data dir's admin kubeconfig.
pub fn kubectl(dir: &Path, args: &[&str]) -> std::process::Output {
    kubectl_with(&dir.join("admin.kubeconfig"), args)
}

pub fn kubectl_with(kubeconfig: &Path, args: &[&str]) -> std::process::Output {
    Command::new(KUBECTL)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run kubectl")
}

pub fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A minimal HTTPS/1.1 client: trusts `ca_pem`, optionally presents a client
/// certificate, sends one request and returns (ALPN, status code, body).
pub async fn https_request(
    port: u16,
    ca_pem: &str,
    client: Option<(&str, &str)>,
    alpn: &[&[u8]],
    request: &str,
) -> (Option<Vec<u8>>, u16, String) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let mut config = match client {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake");
    let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    if negotiated.as_deref() == Some(b"h2") {
        return (negotiated, 0, String::new());
    }
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let code = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (negotiated, code, body)
}

/// Reads all of `reader`, for tests that need a child's full output.
pub fn read_all(mut reader: impl Read) -> String {
    let mut s = String::new();
    reader.read_to_string(&mut s).unwrap();
    s
}
