//! Serves `document_v2_protobuf` to real kubectl 1.32 and checks what kubectl makes of it.
//!
//! A plain-HTTP fake API server answers discovery with kube-apiserver's golden documents,
//! `/openapi/v2` with the protobuf document (only for the protobuf media type, as client-go
//! asks for it) and 404 on `/openapi/v3`, so that kubectl falls back to v2.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use openapi::{BUILTIN_KINDS, PROTOBUF_V2_MEDIA_TYPE, ResourceEntry};
use serde_json::{Map, json};

const KUBECTL: &str = "/usr/bin/kubectl";
const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/kube-apiserver-golden/discovery"
);

type Log = Arc<Mutex<Vec<String>>>;

fn plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if lower.ends_with('s') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

fn protobuf_document() -> Vec<u8> {
    let verbs = [
        "create", "delete", "get", "list", "patch", "update", "watch",
    ];
    let entries: Vec<ResourceEntry> = BUILTIN_KINDS
        .iter()
        .filter(|k| k.listable)
        .map(|k| ResourceEntry {
            group: k.group.to_owned(),
            version: k.version.to_owned(),
            kind: k.kind.to_owned(),
            plural: plural(k.kind),
            // Scope only shapes paths, which kubectl's explain and validation do not read.
            namespaced: true,
            verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
            subresources: vec!["status".to_owned()],
            definition: k.definition.to_owned(),
        })
        .collect();
    openapi::document_v2_protobuf(&openapi::document_v2(&entries, &Map::new(), "v1.36.2"))
}

fn start(document: Vec<u8>, log: Log) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let document = Arc::new(document);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (document, log) = (document.clone(), log.clone());
            std::thread::spawn(move || serve(stream, &document, &log));
        }
    });
    port
}

fn golden(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(GOLDEN).join(name)).unwrap()
}

fn serve(stream: TcpStream, document: &[u8], log: &Log) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut accept = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':')
            && name.eq_ignore_ascii_case("accept")
        {
            accept = value.trim().to_owned();
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_owned();
    log.lock()
        .unwrap()
        .push(format!("{method} {target} accept={accept}"));
    let aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    let not_found = || {
        let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "reason": "NotFound", "message": "not found", "code": 404});
        (404, "application/json", status.to_string().into_bytes())
    };
    let (status, ctype, body) = match (method.as_str(), path.as_str()) {
        ("GET", "/api") if accept.contains("apidiscovery") => {
            (200, aggregated, golden("api_aggregated_v2.json"))
        }
        ("GET", "/apis") if accept.contains("apidiscovery") => {
            (200, aggregated, golden("apis_aggregated_v2.json"))
        }
        ("GET", "/api") => (200, "application/json", golden("api.json")),
        ("GET", "/apis") => (200, "application/json", golden("apis.json")),
        ("GET", "/version") => (200, "application/json", golden("version.json")),
        // kubectl's validator asks whether an unknown kind is a custom resource.
        ("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions") => {
            let list = json!({"kind": "CustomResourceDefinitionList",
                "apiVersion": "apiextensions.k8s.io/v1", "metadata": {"resourceVersion": "1"},
                "items": []});
            (200, "application/json", list.to_string().into_bytes())
        }
        ("GET", "/openapi/v2") if openapi::wants_protobuf_v2(&accept) => {
            (200, PROTOBUF_V2_MEDIA_TYPE, document.to_vec())
        }
        ("GET", "/openapi/v2") => {
            let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure", "reason": "NotAcceptable", "code": 406});
            (406, "application/json", status.to_string().into_bytes())
        }
        _ => not_found(),
    };
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

struct Kubectl {
    dir: PathBuf,
}

impl Kubectl {
    fn new(port: u16) -> Self {
        let dir = std::env::temp_dir().join(format!("openapi-pbv2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: u\n\
             current-context: fake\n"
        );
        std::fs::write(dir.join("kubeconfig"), config).unwrap();
        Kubectl { dir }
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(KUBECTL)
            .args([
                "--kubeconfig",
                &self.dir.join("kubeconfig").to_string_lossy(),
                "--cache-dir",
                &self.dir.join("cache").to_string_lossy(),
            ])
            .args(args)
            .env("HOME", &self.dir)
            .env_remove("KUBECONFIG")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

impl Drop for Kubectl {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn kubectl_reads_the_protobuf_openapi_v2_document() {
    if !Path::new(KUBECTL).exists() || !Path::new(GOLDEN).exists() {
        eprintln!("skipped: {KUBECTL} or {GOLDEN} is missing");
        return;
    }
    let log = Log::default();
    let kubectl = Kubectl::new(start(protobuf_document(), log.clone()));
    let requests = || log.lock().unwrap().join("\n");

    let (ok, stdout, stderr) = kubectl.run(&[
        "explain",
        "pods.spec.containers",
        "--output=plaintext-openapiv2",
    ]);
    assert!(ok, "explain failed: {stderr}\nrequests:\n{}", requests());
    // The v2 explain printer names referenced types `Object`, as it does against kube-apiserver.
    assert!(
        stdout.starts_with("KIND:     Pod\nVERSION:  v1\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("RESOURCE: containers <[]Object>"),
        "{stdout}"
    );
    assert!(stdout.contains("image\t<string>"), "{stdout}");
    assert!(stdout.contains("Container image name."), "{stdout}");
    assert!(requests().contains("GET /openapi/v2"), "{}", requests());

    let manifest = kubectl.dir.join("nosuchkind.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: NoSuchKind\nmetadata:\n  name: x\n",
    )
    .unwrap();
    let (ok, _, stderr) = kubectl.run(&[
        "create",
        "-f",
        &manifest.to_string_lossy(),
        "--dry-run=server",
    ]);
    assert!(!ok, "creating an unknown kind succeeded");
    assert!(
        stderr.contains(r#"no matches for kind "NoSuchKind" in version "v1""#),
        "{stderr}\nrequests:\n{}",
        requests()
    );
    assert!(!stderr.contains("failed to download openapi"), "{stderr}");
}
