//! Table-style tests of apply and update ownership semantics.
#![allow(clippy::unwrap_used)] // Tests fail loudly on unexpected errors.

mod common;

use apply::{
    Actor, ApplyError, Deduced, FieldSet, Operation, PathElement, apply, managers_of, update,
};
use common::Typed;
use serde_json::{Value, json};

fn actor(name: &str) -> Actor<'_> {
    Actor {
        manager: name,
        subresource: "",
        now: "2026-11-26T05:10:05Z",
        ignored: None,
    }
}

fn deploy(spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": spec})
}

fn fields_of(obj: &Value, i: usize) -> Value {
    obj["metadata"]["managedFields"][i]["fieldsV1"].clone()
}

#[test]
fn create_via_apply_records_applied_fields() {
    let cfg = deploy(
        json!({"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}}),
    );
    let out = apply(None, &cfg, &actor("kubectl"), false, &Typed, &[]).unwrap();
    assert!(out.changed);
    assert_eq!(out.object["spec"]["replicas"], 2);
    let mf = &out.object["metadata"]["managedFields"][0];
    assert_eq!(mf["manager"], "kubectl");
    assert_eq!(mf["operation"], "Apply");
    assert_eq!(mf["apiVersion"], "apps/v1");
    assert_eq!(mf["time"], "2026-11-26T05:10:05Z");
    assert_eq!(
        fields_of(&out.object, 0).to_string(),
        r#"{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}"#
    );
}

#[test]
fn reapply_is_idempotent() {
    let cfg = deploy(json!({"replicas": 2}));
    let first = apply(None, &cfg, &actor("kubectl"), false, &Typed, &[]).unwrap();
    let later = Actor {
        now: "2030-01-01T00:00:00Z",
        ..actor("kubectl")
    };
    let again = apply(
        Some(&first.object),
        &cfg,
        &later,
        false,
        &Typed,
        &first.managers,
    )
    .unwrap();
    assert!(!again.changed);
    assert_eq!(again.object, first.object);
    assert_eq!(again.managers, first.managers);
}

#[test]
fn conflicts_with_apply_and_update_managers() {
    let base = apply(
        None,
        &deploy(json!({"replicas": 1})),
        &actor("a"),
        false,
        &Typed,
        &[],
    )
    .unwrap();
    let err = apply(
        Some(&base.object),
        &deploy(json!({"replicas": 3})),
        &actor("b"),
        false,
        &Typed,
        &base.managers,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Apply failed with 1 conflict: conflict with "a": .spec.replicas"#
    );

    let created = deploy(json!({"replicas": 1, "paused": true}));
    let managers = update(
        &json!({}),
        &created,
        &actor("kubectl-client-side-apply"),
        &Typed,
        &[],
    )
    .unwrap();
    let err = apply(
        Some(&created),
        &deploy(json!({"replicas": 3, "paused": false})),
        &actor("b"),
        false,
        &Typed,
        &managers,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n- .spec.paused\n- .spec.replicas"
    );
    let status = err.to_status();
    assert_eq!(status["code"], 409);
    assert_eq!(status["reason"], "Conflict");
    assert_eq!(
        status["details"]["causes"][0]["reason"],
        "FieldManagerConflict"
    );
    assert_eq!(status["details"]["causes"][0]["field"], ".spec.paused");
    assert_eq!(
        status["details"]["causes"][0]["message"],
        "conflict with \"kubectl-client-side-apply\" using apps/v1"
    );
}

#[test]
fn force_takes_ownership() {
    let base = apply(
        None,
        &deploy(json!({"replicas": 1, "paused": true})),
        &actor("a"),
        false,
        &Typed,
        &[],
    )
    .unwrap();
    let out = apply(
        Some(&base.object),
        &deploy(json!({"replicas": 3})),
        &actor("b"),
        true,
        &Typed,
        &base.managers,
    )
    .unwrap();
    assert_eq!(out.object["spec"]["replicas"], 3);
    let a = out.managers.iter().find(|m| m.name == "a").unwrap();
    let b = out.managers.iter().find(|m| m.name == "b").unwrap();
    let replicas = [
        PathElement::Field("spec".into()),
        PathElement::Field("replicas".into()),
    ];
    assert!(!a.fields.contains(&replicas));
    assert!(b.fields.contains(&replicas));
    assert!(a.fields.contains(&[
        PathElement::Field("spec".into()),
        PathElement::Field("paused".into())
    ]));
}

#[test]
fn equal_values_are_shared_without_conflict() {
    let base = apply(
        None,
        &deploy(json!({"replicas": 2})),
        &actor("a"),
        false,
        &Typed,
        &[],
    )
    .unwrap();
    let out = apply(
        Some(&base.object),
        &deploy(json!({"replicas": 2})),
        &actor("b"),
        false,
        &Typed,
        &base.managers,
    )
    .unwrap();
    assert_eq!(out.managers.len(), 2);
    assert!(
        out.managers
            .iter()
            .all(|m| m.fields == out.managers[0].fields)
    );
    // Then a drops it: b still owns it, so it stays.
    let out = apply(
        Some(&out.object),
        &deploy(json!({})),
        &actor("a"),
        false,
        &Typed,
        &out.managers,
    )
    .unwrap();
    assert_eq!(out.object["spec"]["replicas"], 2);
}

#[test]
fn reapply_without_a_field_removes_it() {
    let base = apply(
        None,
        &deploy(json!({"replicas": 2, "paused": true, "strategy": {"type": "Recreate"}})),
        &actor("a"),
        false,
        &Typed,
        &[],
    )
    .unwrap();
    let out = apply(
        Some(&base.object),
        &deploy(json!({"replicas": 2})),
        &actor("a"),
        false,
        &Typed,
        &base.managers,
    )
    .unwrap();
    assert_eq!(out.object["spec"], json!({"replicas": 2}));
    assert!(out.changed);
}

#[test]
fn removal_keeps_fields_owned_by_an_updater() {
    let base = apply(
        None,
        &deploy(json!({"replicas": 2, "paused": true})),
        &actor("a"),
        false,
        &Typed,
        &[],
    )
    .unwrap();
    let mut edited = base.object.clone();
    edited["spec"]["paused"] = json!(false);
    let managers = update(
        &base.object,
        &edited,
        &actor("kubectl-edit"),
        &Typed,
        &base.managers,
    )
    .unwrap();
    let out = apply(
        Some(&edited),
        &deploy(json!({"replicas": 2})),
        &actor("a"),
        false,
        &Typed,
        &managers,
    )
    .unwrap();
    assert_eq!(out.object["spec"]["paused"], false);
}

#[test]
fn containers_merge_by_name() {
    let live = deploy(json!({"template": {"spec": {"containers": [
        {"name": "a", "image": "a:1"}, {"name": "side", "image": "s:1"}]}}}));
    let managers = update(&json!({}), &live, &actor("creator"), &Typed, &[]).unwrap();
    let cfg = deploy(json!({"template": {"spec": {"containers": [
        {"name": "a", "image": "a:1", "args": ["x"]}, {"name": "new", "image": "n:1"}]}}}));
    let out = apply(Some(&live), &cfg, &actor("b"), false, &Typed, &managers).unwrap();
    let names: Vec<&str> = out.object["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "side", "new"]);
    assert_eq!(
        out.object["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["x"])
    );
}

#[test]
fn set_lists_union_and_atomic_lists_replace() {
    let live = json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x", "finalizers": ["a", "b"]},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "args": ["1", "2"]}]}}}});
    let cfg = json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x", "finalizers": ["c", "a"]},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "args": ["3"]}]}}}});
    let out = apply(Some(&live), &cfg, &actor("m"), false, &Typed, &[]).unwrap();
    assert_eq!(
        out.object["metadata"]["finalizers"],
        json!(["c", "a", "b"]),
        "the configuration orders the items it names"
    );
    assert_eq!(
        out.object["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["3"])
    );
    let fv1 = fields_of(&out.object, 0);
    assert_eq!(
        fv1["f:metadata"]["f:finalizers"],
        json!({"v:\"a\"": {}, "v:\"c\"": {}})
    );
}

#[test]
fn deduced_schema_treats_lists_as_atomic() {
    let live = json!({"apiVersion": "v1", "kind": "C", "spec": {"items": [1, 2], "m": {"a": 1}}});
    let cfg = json!({"apiVersion": "v1", "kind": "C", "spec": {"items": [3], "m": {"b": 2}}});
    let out = apply(Some(&live), &cfg, &actor("m"), false, &Deduced, &[]).unwrap();
    assert_eq!(
        out.object["spec"],
        json!({"items": [3], "m": {"a": 1, "b": 2}})
    );
    assert_eq!(
        fields_of(&out.object, 0).to_string(),
        r#"{"f:spec":{".":{},"f:items":{},"f:m":{".":{},"f:b":{}}}}"#
    );
}

#[test]
fn update_matches_golden_configmap_history() {
    let cm = |data: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "uid": "u", "resourceVersion": "1"}, "data": data});
    let created = cm(json!({"a": "1"}));
    let m1 = update(
        &json!({}),
        &created,
        &actor("kubectl-create"),
        &Deduced,
        &[],
    )
    .unwrap();
    assert_eq!(
        m1[0].fields.to_fields_v1(),
        json!({"f:data": {".": {}, "f:a": {}}})
    );
    let patched = cm(json!({"a": "2"}));
    let later = Actor {
        now: "2026-11-26T05:10:06Z",
        ..actor("kubectl-patch")
    };
    let m2 = update(&created, &patched, &later, &Deduced, &m1).unwrap();
    let mut obj = patched.clone();
    apply::set_managers(&mut obj, &m2);
    assert_eq!(
        obj["metadata"]["managedFields"].to_string(),
        r#"[{"manager":"kubectl-create","operation":"Update","apiVersion":"v1","time":"2026-11-26T05:10:05Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{}}},{"manager":"kubectl-patch","operation":"Update","apiVersion":"v1","time":"2026-11-26T05:10:06Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:a":{}}}}]"#
    );
    let parsed = managers_of(&obj).unwrap();
    assert_eq!(parsed, m2);
    assert_eq!(parsed[1].operation, Operation::Update);
}

#[test]
fn invalid_inputs_are_errors_not_panics() {
    let cfg = deploy(json!({"template": {"spec": {"containers": [{"image": "x"}]}}}));
    assert!(matches!(
        apply(None, &cfg, &actor("m"), false, &Typed, &[]),
        Err(ApplyError::Invalid(_))
    ));
    let dup = deploy(json!({"template": {"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}}));
    let live = deploy(json!({"template": {"spec": {"containers": [{"name": "b"}]}}}));
    assert!(apply(Some(&live), &dup, &actor("m"), false, &Typed, &[]).is_err());
    let with_mf = json!({"metadata": {"managedFields": []}});
    assert_eq!(
        apply(None, &with_mf, &actor("m"), false, &Typed, &[]),
        Err(ApplyError::ManagedFieldsInConfig)
    );
    assert!(FieldSet::from_fields_v1(&json!({"x:y": {}})).is_err());
    assert!(managers_of(&json!({"metadata": {"managedFields": [{"operation": "Nope"}]}})).is_err());
}
