//! A minimal plain-HTTP fake API server that records the bodies kubectl posts.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

type Bodies = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// The fake server; it lives until the test process exits.
pub struct FakeServer {
    port: u16,
    bodies: Bodies,
}

impl FakeServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies: Bodies = Arc::default();
        let recorded = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let recorded = recorded.clone();
                std::thread::spawn(move || serve(stream, &recorded));
            }
        });
        FakeServer { port, bodies }
    }

    pub fn write_kubeconfig(&self, path: &Path) {
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://127.0.0.1:{}\n\
             users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: u\n\
             current-context: fake\n",
            self.port
        );
        std::fs::write(path, config).unwrap();
    }

    /// The (Content-Type, body) of every POST since the last call.
    pub fn take_bodies(&self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut *self.bodies.lock().unwrap())
    }
}

fn data(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

fn serve(stream: TcpStream, recorded: &Bodies) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let (mut content_type, mut accept, mut length) = (String::new(), String::new(), 0usize);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let Some((name, value)) = line.trim_end().split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        match name.to_ascii_lowercase().as_str() {
            "content-type" => content_type = value,
            "accept" => accept = value,
            "content-length" => length = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    let aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    let (status, ctype, out) = match (method.as_str(), path.as_str()) {
        ("GET", "/api") if accept.contains("apidiscovery") => {
            (200, aggregated, data("api_aggregated_v2.json"))
        }
        ("GET", "/apis") if accept.contains("apidiscovery") => {
            (200, aggregated, data("apis_aggregated_v2.json"))
        }
        ("GET", "/version") => (200, "application/json", data("version.json")),
        ("POST", _) => {
            recorded
                .lock()
                .unwrap()
                .push((content_type.clone(), body.clone()));
            let parsed = if protobuf::is_protobuf(&content_type) {
                protobuf::decode(&body).map_err(|e| e.to_string())
            } else {
                serde_json::from_slice(&body).map_err(|e| e.to_string())
            };
            match parsed {
                Ok(mut object) => {
                    answer(&mut object);
                    (201, "application/json", object.to_string())
                }
                Err(e) => (500, "application/json", status_json(500, &e)),
            }
        }
        _ => (404, "application/json", status_json(404, "not found")),
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{out}",
        out.len()
    );
}

/// Fills in what a server would so that kubectl's printing succeeds.
fn answer(object: &mut Value) {
    match object["kind"].as_str() {
        Some("SelfSubjectAccessReview") => object["status"] = json!({"allowed": true}),
        Some("TokenRequest") => {
            object["status"] =
                json!({"token": "fake-token", "expirationTimestamp": "2030-01-01T00:00:00Z"})
        }
        _ => {}
    }
}

fn status_json(code: u16, message: &str) -> String {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "code": code})
        .to_string()
}

/// The folder of captured bodies replayed by captured_fixtures.rs.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/captured")
}

pub fn write_fixture(name: &str, body: &[u8], expected: &Value) {
    let dir = fixture_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.pb")), body).unwrap();
    std::fs::write(
        dir.join(format!("{name}.json")),
        serde_json::to_string_pretty(expected).unwrap() + "\n",
    )
    .unwrap();
}
