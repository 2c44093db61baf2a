//! Captures the protobuf bodies real kubectl sends and checks decode() against kubectl's own JSON.
//!
//! A plain-HTTP fake API server serves the golden discovery documents, records each POST body
//! and answers with the decoded object. For every command, `--dry-run=client -o json` prints the
//! JSON kubectl would send; the protobuf body of the same command must decode to it. With
//! `UPDATE_FIXTURES=1` the bodies and expected JSON are written to tests/data/captured/, which
//! `captured_fixtures.rs` replays where kubectl is not installed.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

const KUBECTL: &str = "/usr/bin/kubectl";

fn kubectl(dir: &Path, args: &[&str]) -> (bool, String, String) {
    // Flags go first: commands like `create job` pass everything after `--` to the container.
    let out = Command::new(KUBECTL)
        .args([
            "--kubeconfig",
            &dir.join("kubeconfig").to_string_lossy(),
            "--cache-dir",
            &dir.join("cache").to_string_lossy(),
        ])
        .args(args)
        .env("HOME", dir)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `args` twice: dry-run for the expected JSON, then for real to capture the body.
fn capture(
    server: &common::FakeServer,
    dir: &Path,
    name: &str,
    args: &[&str],
    expected: Option<Value>,
) -> Value {
    let expected = match expected {
        Some(v) => v,
        None => {
            let mut dry = vec!["--dry-run=client", "-o", "json"];
            dry.extend(args);
            let (ok, stdout, stderr) = kubectl(dir, &dry);
            assert!(ok, "{name}: dry run failed: {stderr}");
            serde_json::from_str(&stdout).unwrap()
        }
    };
    server.take_bodies();
    let (ok, _, stderr) = kubectl(dir, args);
    let bodies = server.take_bodies();
    let (content_type, body) = bodies
        .last()
        .unwrap_or_else(|| panic!("{name}: no POST captured; kubectl said {stderr}"));
    assert!(
        protobuf::is_protobuf(content_type),
        "{name}: kubectl sent {content_type}"
    );
    assert!(
        ok,
        "{name}: kubectl failed against the fake server: {stderr}"
    );
    let decoded = protobuf::decode(body).unwrap();
    assert_eq!(
        decoded, expected,
        "{name}: decoded protobuf differs from kubectl's JSON"
    );
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        common::write_fixture(name, body, &expected);
    }
    decoded
}

/// (fixture name, kubectl arguments split at spaces); `BLOB` stands for a file of binary bytes.
const CASES: &[(&str, &str)] = &[
    ("namespace", "create namespace ns1"),
    (
        "configmap",
        "create configmap cm1 -n x --from-literal=a=b --from-literal=c=d",
    ),
    (
        "secret",
        "create secret generic s1 -n x --from-literal=k=v --from-file=blob=BLOB",
    ),
    (
        "secret-docker",
        "create secret docker-registry reg -n x --docker-username=u --docker-password=p",
    ),
    ("serviceaccount", "create serviceaccount sa1 -n x"),
    (
        "deployment-0",
        "create deployment d0 -n x --image=nginx --replicas=0",
    ),
    (
        "deployment-3",
        "create deployment d3 -n x --image=nginx --replicas=3 --port=80",
    ),
    (
        "deployment-2-images",
        "create deployment d2 -n x --image=nginx --image=busybox",
    ),
    ("job", "create job j1 -n x --image=busybox -- echo hi"),
    (
        "cronjob",
        "create cronjob cj1 -n x --image=busybox --schedule=@hourly --restart=OnFailure -- date",
    ),
    (
        "service",
        "create service clusterip svc1 -n x --tcp=80:8080 --tcp=443",
    ),
    (
        "service-headless",
        "create service clusterip svc2 -n x --clusterip=None",
    ),
    (
        "service-nodeport",
        "create service nodeport np1 -n x --tcp=80:8080 --node-port=30080",
    ),
    (
        "service-externalname",
        "create service externalname ext1 -n x --external-name=example.com",
    ),
    (
        "role",
        "create role r1 -n x --verb=get,list --resource=pods,deployments.apps --resource-name=a",
    ),
    (
        "rolebinding",
        "create rolebinding rb1 -n x --role=r1 --user=alice --serviceaccount=x:sa1",
    ),
    (
        "clusterrole",
        "create clusterrole cr1 --verb=get --resource=nodes --non-resource-url=/healthz",
    ),
    (
        "clusterrole-aggregated",
        "create clusterrole agg --aggregation-rule=rbac.example.com/aggregate=true",
    ),
    (
        "clusterrolebinding",
        "create clusterrolebinding crb1 --clusterrole=cr1 --group=devs",
    ),
    (
        "ingress",
        "create ingress ing1 -n x --rule=foo.com/bar*=svc1:8080,tls=cert --annotation=a=b",
    ),
    (
        "ingress-default",
        "create ingress ing2 -n x --class=nginx --default-backend=svc1:http",
    ),
    (
        "pdb",
        "create pdb pdb1 -n x --selector=app=web --min-available=50%",
    ),
    (
        "pdb-max",
        "create pdb pdb2 -n x --selector=app=web --max-unavailable=0",
    ),
    (
        "quota",
        "create quota q1 -n x --hard=pods=2,cpu=1,memory=1Gi --scopes=NotTerminating",
    ),
    (
        "priorityclass",
        "create priorityclass pc1 --value=100 --description=high",
    ),
    (
        "priorityclass-zero",
        "create priorityclass pc0 --value=0 --global-default --preemption-policy=Never",
    ),
];

#[test]
fn kubectl_protobuf_bodies_decode_to_kubectl_json() {
    if !Path::new(KUBECTL).exists() {
        eprintln!("skipped: {KUBECTL} is not installed (captured_fixtures.rs still runs)");
        return;
    }
    let server = common::FakeServer::start();
    let dir = tempfile::tempdir().unwrap();
    server.write_kubeconfig(&dir.path().join("kubeconfig"));
    let blob = dir.path().join("blob.bin");
    std::fs::write(&blob, [0u8, 159, 146, 150, 255, 10]).unwrap();
    let blob = blob.to_string_lossy().into_owned();
    let (d, s) = (dir.path(), &server);

    for (name, args) in CASES {
        let args: Vec<String> = args.split(' ').map(|a| a.replace("BLOB", &blob)).collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        capture(s, d, name, &refs, None);
    }
    // `kubectl run`, `expose` and `autoscale` go through the dynamic client and send JSON.
    let (ok, _, stderr) = kubectl(
        d,
        &[
            "run",
            "p1",
            "-n",
            "x",
            "--image=nginx",
            "--env=A=1",
            "--labels=app=p",
            "--restart=Never",
        ],
    );
    assert!(ok, "run: {stderr}");
    let sent = s.take_bodies();
    assert!(
        sent.iter()
            .all(|(ct, _)| ct.starts_with("application/json")),
        "kubectl run now sends protobuf: add it above"
    );

    let review = capture(
        s,
        d,
        "selfsubjectaccessreview",
        &["auth", "can-i", "get", "pods", "-n", "x"],
        Some(json!({
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "spec": {"resourceAttributes": {"namespace": "x", "verb": "get", "resource": "pods"}},
            "status": {"allowed": false},
        })),
    );
    assert_eq!(review["spec"]["resourceAttributes"]["verb"], "get");

    capture(
        s,
        d,
        "tokenrequest",
        &[
            "create",
            "token",
            "sa1",
            "-n",
            "x",
            "--duration=1h",
            "--audience=api",
        ],
        Some(json!({
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            // A nil pointer without omitempty prints as null in Go.
        "spec": {"audiences": ["api"], "expirationSeconds": 3600, "boundObjectRef": null},
            "status": {"token": "", "expirationTimestamp": null},
        })),
    );
}
