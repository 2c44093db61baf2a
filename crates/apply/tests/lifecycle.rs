//! Ownership over an object's life: the golden create, item removal, reset fields, the cap.
#![allow(clippy::unwrap_used)] // Tests fail loudly on unexpected errors.

mod common;

use apply::{
    ANCIENT_CHANGES, Actor, FieldSet, MAX_UPDATE_MANAGERS, Operation, PathElement, apply, update,
};
use common::Typed;
use serde_json::{Value, json};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/kube-apiserver-golden"
);

fn actor(name: &str) -> Actor<'_> {
    Actor {
        manager: name,
        subresource: "",
        now: "2026-11-26T05:09:31Z",
        ignored: None,
    }
}

fn read(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{GOLDEN}/{file}")).unwrap()).unwrap()
}

/// kube-apiserver compares a create against the zero value of the Go type, whose empty
/// structs and null pointers decide where `"."` entries appear.
#[test]
fn create_of_golden_deployment_records_golden_fields() {
    let created = read("objects/deployment.json");
    let table = read("tables/apis_apps_v1_namespaces_golden_deployments.json");
    let golden = &table["rows"][0]["object"]["metadata"]["managedFields"];
    let zero = json!({"metadata": {"creationTimestamp": null}, "spec": {"selector": null,
        "template": {"metadata": {"creationTimestamp": null}, "spec": {"containers": null}},
        "strategy": {}}, "status": {}});
    let managers = update(&zero, &created, &actor("kubectl-create"), &Typed, &[]).unwrap();
    let mut obj = created.clone();
    apply::set_managers(&mut obj, &managers);
    assert_eq!(
        obj["metadata"]["managedFields"].to_string(),
        golden.to_string()
    );
}

#[test]
fn dropping_a_container_from_the_config_removes_it() {
    let cfg = |names: &[&str]| {
        let containers: Vec<Value> = names
            .iter()
            .map(|n| json!({"name": n, "image": format!("{n}:1")}))
            .collect();
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"containers": containers}}}})
    };
    let first = apply(None, &cfg(&["a", "b"]), &actor("m"), false, &Typed, &[]).unwrap();
    let out = apply(
        Some(&first.object),
        &cfg(&["a"]),
        &actor("m"),
        false,
        &Typed,
        &first.managers,
    )
    .unwrap();
    assert_eq!(
        out.object["spec"]["template"]["spec"]["containers"],
        json!([{"name": "a", "image": "a:1"}])
    );
    let out = apply(
        Some(&out.object),
        &cfg(&[]),
        &actor("m"),
        false,
        &Typed,
        &out.managers,
    )
    .unwrap();
    // Nobody else owns anything under .spec, so the structs this manager alone filled go too.
    assert_eq!(out.object.get("spec"), None);
    assert_eq!(out.object["metadata"]["name"], "d");
}

#[test]
fn ignored_fields_are_never_owned() {
    let mut status = FieldSet::new();
    status.insert(&[PathElement::Field("status".into())]);
    let main = Actor {
        ignored: Some(&status),
        ..actor("m")
    };
    let cfg = json!({"apiVersion": "v1", "kind": "X", "spec": {"a": 1}, "status": {"ready": true}});
    let out = apply(None, &cfg, &main, false, &Typed, &[]).unwrap();
    assert_eq!(
        out.managers[0].fields.to_fields_v1(),
        json!({"f:spec": {"f:a": {}}})
    );

    let mut new = out.object.clone();
    new["status"]["ready"] = json!(false);
    let mut spec = FieldSet::new();
    spec.insert(&[PathElement::Field("spec".into())]);
    let status_writer = Actor {
        subresource: "status",
        ignored: Some(&spec),
        ..actor("ctl")
    };
    let managers = update(&out.object, &new, &status_writer, &Typed, &out.managers).unwrap();
    let ctl = managers.iter().find(|m| m.name == "ctl").unwrap();
    assert_eq!(ctl.subresource, "status");
    assert_eq!(
        ctl.fields.to_fields_v1(),
        json!({"f:status": {"f:ready": {}}})
    );
    assert_eq!(
        managers.iter().find(|m| m.name == "m").unwrap().fields,
        out.managers[0].fields
    );
}

#[test]
fn update_managers_are_capped_into_ancient_changes() {
    let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {}});
    let mut managers = Vec::new();
    for i in 0..MAX_UPDATE_MANAGERS + 2 {
        let name = format!("writer-{i:02}");
        let now = format!("2026-11-26T05:10:{i:02}Z");
        let mut next = obj.clone();
        next["data"][format!("k{i}")] = json!("v");
        let a = Actor {
            manager: &name,
            now: &now,
            ..actor("")
        };
        managers = update(&obj, &next, &a, &Typed, &managers).unwrap();
        obj = next;
    }
    assert_eq!(managers.len(), MAX_UPDATE_MANAGERS);
    let bucket = managers.iter().find(|m| m.name == ANCIENT_CHANGES).unwrap();
    assert_eq!(bucket.operation, Operation::Update);
    assert_eq!(bucket.time.as_deref(), Some("2026-11-26T05:10:02Z"));
    let keys = bucket.fields.to_fields_v1()["f:data"]
        .as_object()
        .unwrap()
        .len();
    assert!(keys >= 3, "bucket holds the three oldest writers' keys");
}

#[test]
fn dropping_the_last_label_keeps_server_metadata() {
    let cfg = |labels: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": labels}});
    let mut live = apply(
        None,
        &cfg(json!({"app": "x"})),
        &actor("m"),
        false,
        &Typed,
        &[],
    )
    .unwrap()
    .object;
    live["metadata"]["uid"] = json!("u-1");
    live["metadata"]["resourceVersion"] = json!("7");
    let managers = apply::managers_of(&live).unwrap();
    let no_labels = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let out = apply(
        Some(&live),
        &no_labels,
        &actor("m"),
        false,
        &Typed,
        &managers,
    )
    .unwrap();
    assert_eq!(out.object["metadata"].get("labels"), None);
    assert_eq!(out.object["metadata"]["uid"], "u-1");
    assert_eq!(out.object["metadata"]["resourceVersion"], "7");
    assert!(out.managers.is_empty());
    assert_eq!(out.object["metadata"].get("managedFields"), None);
}
