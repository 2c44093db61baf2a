//! Table tests for `ObjectMeta` validation messages.

use super::*;
use crate::validation::names;
use serde_json::json;

fn msgs(errs: &ErrorList) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

fn meta() -> Path {
    Path::new("metadata")
}

#[test]
fn valid_metadata_passes() {
    let m = json!({
        "name": "web", "namespace": "default",
        "labels": {"app": "web", "example.com/tier": ""},
        "annotations": {"Example.com/Note": "x"},
        "finalizers": ["example.com/cleanup", "orphan"],
        "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "1", "controller": true},
            {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm", "uid": "2", "controller": false}
        ],
        "managedFields": [{"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1"}]
    });
    let errs = validate_object_meta(&m, true, names::dns_subdomain, &meta());
    assert!(errs.is_empty(), "{errs}");
}

#[test]
fn name_namespace_and_generate_name() {
    let errs = validate_object_meta(&json!({}), true, names::dns_subdomain, &meta());
    assert_eq!(
        msgs(&errs),
        [
            "metadata.name: Required value: name or generateName is required",
            "metadata.namespace: Required value"
        ]
    );
    let errs = validate_object_meta(
        &json!({"name": "Bad_Name", "namespace": "x"}),
        false,
        names::dns_subdomain,
        &meta(),
    );
    assert_eq!(
        msgs(&errs),
        [
            "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "metadata.namespace: Forbidden: not allowed on this type"
        ]
    );
    let errs = validate_object_meta(
        &json!({"generateName": "web-", "name": "web-abcde", "namespace": "a.b"}),
        true,
        names::dns_subdomain,
        &meta(),
    );
    assert_eq!(
        msgs(&errs),
        ["metadata.namespace: Invalid value: \"a.b\": must not contain dots"]
    );
    let errs = validate_object_meta(
        &json!({"generateName": "Web-", "name": "x", "generation": -1}),
        false,
        names::dns_subdomain,
        &meta(),
    );
    let m = msgs(&errs);
    assert!(m[0].starts_with(
        "metadata.generateName: Invalid value: \"Web-\": a lowercase RFC 1123 subdomain"
    ));
    assert_eq!(
        m[1],
        "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
    );
    let errs = validate_object_meta(&json!({"name": "a/b"}), false, names::path_segment, &meta());
    assert_eq!(
        msgs(&errs),
        ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]
    );
}

#[test]
fn labels_and_annotations() {
    let errs = validate_object_meta(
        &json!({"name": "x", "labels": {"a_": "ok", "b": "not ok"}, "annotations": {"-x": "v"}}),
        false,
        names::dns_subdomain,
        &meta(),
    );
    let m = msgs(&errs);
    assert_eq!(m.len(), 3, "{m:?}");
    assert!(m[0].starts_with("metadata.labels: Invalid value: \"a_\": name part must consist of"));
    assert!(m[1].starts_with("metadata.labels: Invalid value: \"not ok\": a valid label must be"));
    assert!(
        m[2].starts_with("metadata.annotations: Invalid value: \"-x\": name part must consist of")
    );

    let big = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT);
    let errs = validate_object_meta(
        &json!({"name": "x", "annotations": {"a": big}}),
        false,
        names::dns_subdomain,
        &meta(),
    );
    assert_eq!(
        msgs(&errs),
        ["metadata.annotations: Too long: may not be more than 262144 bytes"]
    );
    let exact = "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT - 1);
    let errs = validate_object_meta(
        &json!({"name": "x", "annotations": {"a": exact}}),
        false,
        names::dns_subdomain,
        &meta(),
    );
    assert!(errs.is_empty());
}

#[test]
fn owner_references() {
    let errs = validate_object_meta(
        &json!({"name": "x", "ownerReferences": [
            {"apiVersion": "", "kind": "", "name": "", "uid": ""},
            {"apiVersion": "v1", "kind": "Event", "name": "e", "uid": "1"},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "2", "controller": true},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "3", "controller": true}
        ]}),
        false,
        names::dns_subdomain,
        &meta(),
    );
    let m = msgs(&errs);
    assert_eq!(
        m[0],
        "metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty"
    );
    assert_eq!(
        m[1],
        "metadata.ownerReferences.kind: Invalid value: \"\": must not be empty"
    );
    assert_eq!(
        m[2],
        "metadata.ownerReferences.name: Invalid value: \"\": must not be empty"
    );
    assert_eq!(
        m[3],
        "metadata.ownerReferences.uid: Invalid value: \"\": must not be empty"
    );
    assert_eq!(
        m[4],
        "metadata.ownerReferences: Invalid value: {\"apiVersion\":\"v1\",\"kind\":\"Event\",\"name\":\"e\",\"uid\":\"1\"}: /v1, Kind=Event is disallowed from being an owner"
    );
    assert!(m[5].ends_with(
        "Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/a and ReplicaSet/b"
    ));
    assert_eq!(m.len(), 6);
    assert_eq!(api_version_version("apps/"), "");
    assert_eq!(api_version_version("a/b/c"), "");
    assert_eq!(api_version_version("v1"), "v1");
}

#[test]
fn finalizers_and_managed_fields() {
    let errs = validate_object_meta(
        &json!({"name": "x", "finalizers": ["a/b/c", "orphan", "foregroundDeletion"],
                "managedFields": [{"manager": "a\u{7}", "operation": "Patch", "fieldsType": "FieldsV2"}]}),
        false,
        names::dns_subdomain,
        &meta(),
    );
    let m = msgs(&errs);
    assert!(m.iter().any(|s| {
        s.starts_with("metadata.finalizers: Invalid value: \"a/b/c\": a valid label key")
    }));
    assert!(m.contains(&"metadata.finalizers: Invalid value: [\"a/b/c\",\"orphan\",\"foregroundDeletion\"]: finalizer orphan and foregroundDeletion cannot be both set".to_string()));
    assert!(m.contains(&"metadata.managedFields[0].operation: Invalid value: \"Patch\": must be `Apply` or `Update`".to_string()));
    assert!(m.contains(&"metadata.managedFields[0].fieldsType: Invalid value: \"FieldsV2\": must be `FieldsV1`".to_string()));
    assert!(
        m.iter()
            .any(|s| s.ends_with("invalid character U+0007 (at position 1)"))
    );
}

#[test]
fn update_rules() {
    let old = json!({"name": "a", "namespace": "ns", "uid": "u1", "resourceVersion": "5",
                     "creationTimestamp": "2026-01-01T00:00:00Z", "generation": 3});
    let mut new = old.clone();
    assert!(validate_object_meta_update(&new, &old, &meta()).is_empty());
    new["name"] = json!("b");
    new["uid"] = json!("u2");
    new["creationTimestamp"] = json!("2026-02-01T00:00:00Z");
    new["generation"] = json!(2);
    new["resourceVersion"] = json!("");
    assert_eq!(
        msgs(&validate_object_meta_update(&new, &old, &meta())),
        [
            "metadata.resourceVersion: Invalid value: \"\": must be specified for an update",
            "metadata.generation: Invalid value: 2: must not be decremented",
            "metadata.name: Invalid value: \"b\": field is immutable",
            "metadata.uid: Invalid value: \"u2\": field is immutable",
            "metadata.creationTimestamp: Invalid value: \"2026-02-01T00:00:00Z\": field is immutable",
        ]
    );
    let mut deleting = old.clone();
    deleting["deletionTimestamp"] = json!("2026-03-01T00:00:00Z");
    deleting["finalizers"] = json!(["a"]);
    let mut new = deleting.clone();
    new["finalizers"] = json!(["a", "c", "b"]);
    new["deletionGracePeriodSeconds"] = json!(30);
    assert_eq!(
        msgs(&validate_object_meta_update(&new, &deleting, &meta())),
        [
            "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"b\", \"c\"}",
            "metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable",
        ]
    );
}

#[test]
fn wrong_types_are_reported_not_panicked_on() {
    let errs = validate_object_meta(
        &json!({"name": "x", "labels": ["a"], "annotations": {"a": 1}, "finalizers": "x"}),
        false,
        names::dns_subdomain,
        &meta(),
    );
    assert_eq!(errs.len(), 3, "{errs}");
}
