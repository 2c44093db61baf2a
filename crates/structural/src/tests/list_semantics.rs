//! Server-side apply metadata looked up by path.

use super::schema;
use crate::{ListSemantics, ListType, MapType};
use serde_json::json;

#[test]
fn list_semantics_by_path() {
    let s = schema(
        json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                      "items": {"type": "object", "required": ["name"], "properties": {
                          "name": {"type": "string"},
                          "sel": {"type": "object", "x-kubernetes-map-type": "atomic", "additionalProperties": {"type": "string"}}}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "args": {"type": "array", "items": {"type": "string"}},
            "labels": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
        }}}}),
    );
    let sem = |t: &str, lt: ListType, keys: &[&str], mt: MapType| ListSemantics {
        type_: t.to_string(),
        list_type: lt,
        list_map_keys: keys.iter().map(|k| k.to_string()).collect(),
        map_type: mt,
    };
    let cases: &[(&[&str], Option<ListSemantics>)] = &[
        (
            &["spec", "ports"],
            Some(sem("array", ListType::Map, &["name"], MapType::Granular)),
        ),
        (
            &["spec", "ports", "0", "sel"],
            Some(sem("object", ListType::Atomic, &[], MapType::Atomic)),
        ),
        (
            &["spec", "tags"],
            Some(sem("array", ListType::Set, &[], MapType::Granular)),
        ),
        (
            &["spec", "args"],
            Some(sem("array", ListType::Atomic, &[], MapType::Granular)),
        ),
        (
            &["spec", "labels", "any-key"],
            Some(sem("array", ListType::Atomic, &[], MapType::Granular)),
        ),
        (
            &["spec"],
            Some(sem("object", ListType::Atomic, &[], MapType::Granular)),
        ),
        (&["spec", "missing"], None),
    ];
    for (path, want) in cases {
        assert_eq!(&s.list_semantics(path), want, "{path:?}");
    }
}

#[test]
fn reports_cel_rules_it_does_not_enforce() {
    let plain = schema(json!({"type": "object", "properties": {"spec": {"type": "object"}}}));
    assert!(!plain.has_validation_rules());
    let cel = schema(
        json!({"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [{"rule": "self.a == self.b"}]}}}),
    );
    assert!(cel.has_validation_rules());
}
