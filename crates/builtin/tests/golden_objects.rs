//! Runs each golden manifest through defaulting, admission and the create strategy and compares it with what kube-apiserver v1.36 returned.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use std::path::PathBuf;

fn golden(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/kube-apiserver-golden")
        .join(path)
}

fn manifest(name: &str) -> Value {
    let text = std::fs::read_to_string(golden(&format!("manifests/{name}.yaml"))).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn object(name: &str) -> Value {
    let text = std::fs::read_to_string(golden(&format!("objects/{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Lists every path where the two values differ.
fn diff(path: &str, got: &Value, want: &Value, out: &mut Vec<String>) {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => diff(&format!("{path}.{k}"), gv, wv, out),
                    None => out.push(format!("{path}.{k}: missing, want {wv}")),
                }
            }
            for k in g.keys() {
                if !w.contains_key(k) {
                    out.push(format!("{path}.{k}: unexpected {}", g[k]));
                }
            }
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => {
            for (i, (gv, wv)) in g.iter().zip(w).enumerate() {
                diff(&format!("{path}[{i}]"), gv, wv, out);
            }
        }
        _ if got == want => {}
        _ => out.push(format!("{path}: got {got}, want {want}")),
    }
}

/// What the kernel does on create, in kube-apiserver's order.
fn create(manifest: Value, want: &Value, limit_ranges: &[Value]) -> Value {
    let mut obj = manifest;
    let api_version = obj["apiVersion"].as_str().unwrap().to_string();
    let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
    let info = builtin::lookup_kind(group, version, obj["kind"].as_str().unwrap()).unwrap();
    let meta = obj["metadata"].as_object_mut().unwrap();
    for k in ["namespace", "uid"] {
        if let Some(v) = want["metadata"].get(k) {
            meta.insert(k.to_string(), v.clone());
        }
    }
    builtin::apply_defaults(info, &mut obj);
    match info.kind {
        "Pod" => {
            let volume = want["spec"]["volumes"][0]["name"].as_str().unwrap();
            let suffix = volume.trim_start_matches("kube-api-access-");
            builtin::admit_pod_service_account(&mut obj, suffix);
            builtin::admit_default_tolerations(&mut obj);
            builtin::admit_priority(&mut obj, &[]).unwrap();
            builtin::admit_limit_range(&mut obj, limit_ranges).unwrap();
        }
        "PersistentVolumeClaim" => builtin::admit_storage_protection(&mut obj),
        "Service" => {
            let ip = want["spec"]["clusterIP"].as_str().unwrap().to_string();
            let node_port = want["spec"]["ports"][0]["nodePort"].as_i64();
            builtin::allocate_service(&mut obj, || Some(ip.clone()), || node_port).unwrap();
        }
        _ => {}
    }
    builtin::prepare_for_create(info, &mut obj);
    obj
}

fn strip_server_fields(obj: &mut Value) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
        ] {
            meta.remove(k);
        }
    }
}

fn check(manifest_name: &str, object_name: &str, limit_ranges: &[Value]) -> Vec<String> {
    let mut want = object(object_name);
    let mut got = create(manifest(manifest_name), &want, limit_ranges);
    strip_server_fields(&mut want);
    strip_server_fields(&mut got);
    let mut out = Vec::new();
    diff(object_name, &got, &want, &mut out);
    out
}

#[test]
fn every_golden_object_is_reproduced() {
    let names = [
        "configmap",
        "cronjob",
        "daemonset",
        "deployment",
        "hpa",
        "ingress",
        "job",
        "limitrange",
        "networkpolicy",
        "pdb",
        "pod",
        "pvc",
        "resourcequota",
        "role",
        "rolebinding",
        "secret",
        "service-clusterip",
        "service-nodeport",
        "serviceaccount",
        "statefulset",
    ];
    let mut failures = Vec::new();
    for name in names {
        failures.extend(check(name, name, &[]));
    }
    let limit_range = object("limitrange");
    failures.extend(check("pod", "pod-with-limitrange", &[limit_range]));
    assert!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
}

#[test]
fn namespace_create_matches_golden() {
    let info = builtin::lookup("", "v1", "namespaces").unwrap();
    let mut got = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "golden-created"}});
    builtin::apply_defaults(info, &mut got);
    builtin::prepare_for_create(info, &mut got);
    let mut want = object("namespace");
    strip_server_fields(&mut want);
    let mut out = Vec::new();
    diff("namespace", &got, &want, &mut out);
    assert!(out.is_empty(), "{}", out.join("\n"));
}
