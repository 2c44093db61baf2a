//! Pruning and defaulting tables: the object before, the object after, and the pruned paths.

use super::schema;
use serde_json::{Value, json};

fn widget() -> Value {
    json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "color": {"type": "string"},
            "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
            "labels": {"type": "object", "additionalProperties": {"type": "object", "properties": {"v": {"type": "string"}}}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                     "properties": {"strict": {"type": "object", "properties": {"a": {"type": "string"}}}}},
            "anything": {"type": "object", "additionalProperties": true},
            "template": {"type": "object", "x-kubernetes-embedded-resource": true,
                         "properties": {"spec": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}}
        }},
        "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}
    }})
}

#[test]
fn prune_removes_undeclared_fields_and_reports_their_paths() {
    let s = schema(widget());
    let cases: &[(Value, Value, &[&str])] = &[
        (
            json!({"apiVersion": "g/v1", "kind": "W", "metadata": {"name": "w", "odd": 1}, "spec": {"color": "red", "bogus": 1}, "extra": true}),
            json!({"apiVersion": "g/v1", "kind": "W", "metadata": {"name": "w", "odd": 1}, "spec": {"color": "red"}}),
            &["spec.bogus", "extra"],
        ),
        (
            json!({"spec": {"items": [{"name": "a"}, {"name": "b", "x": 1}]}}),
            json!({"spec": {"items": [{"name": "a"}, {"name": "b"}]}}),
            &["spec.items[1].x"],
        ),
        (
            json!({"spec": {"labels": {"k": {"v": "1", "w": "2"}}}}),
            json!({"spec": {"labels": {"k": {"v": "1"}}}}),
            &["spec.labels.k.w"],
        ),
        (
            json!({"spec": {"free": {"kept": {"deep": 1}, "strict": {"a": "1", "b": "2"}}}}),
            json!({"spec": {"free": {"kept": {"deep": 1}, "strict": {"a": "1"}}}}),
            &["spec.free.strict.b"],
        ),
        (
            // A boolean additionalProperties carries no schema: nested objects are emptied.
            json!({"spec": {"anything": {"s": "x", "o": {"deep": 1}}}}),
            json!({"spec": {"anything": {"s": "x", "o": {}}}}),
            &["spec.anything.o.deep"],
        ),
        (
            // Embedded metadata is coerced to ObjectMeta, as kube-apiserver re-encodes it.
            json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "odd": 1, "labels": {}, "generation": "x"},
                "spec": {"replicas": 1, "x": 2}, "y": 3}}}),
            json!({"spec": {"template": {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "creationTimestamp": null}, "spec": {"replicas": 1}}}}),
            &[
                "spec.template.spec.x",
                "spec.template.y",
                "spec.template.metadata.odd",
            ],
        ),
        (
            json!({"spec": {"color": {"not": "a string"}}}),
            json!({"spec": {"color": {}}}),
            &["spec.color.not"],
        ),
    ];
    for (before, after, paths) in cases {
        let mut obj = before.clone();
        let pruned = s.prune(&mut obj);
        assert_eq!(&obj, after, "{before}");
        assert_eq!(pruned, *paths, "{before}");
    }
}

#[test]
fn prune_keeps_everything_under_a_preserving_root() {
    let s = schema(
        json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true,
        "properties": {"metadata": {"type": "object"}, "spec": {"type": "object", "properties": {"a": {"type": "string"}}}}}),
    );
    let mut obj = json!({"metadata": {"name": "n", "labels": {"a": "b"}}, "other": {"x": 1}, "spec": {"a": "1", "b": 2}});
    assert_eq!(s.prune(&mut obj), ["spec.b"]);
    assert_eq!(
        obj,
        json!({"metadata": {"name": "n", "labels": {"a": "b"}}, "other": {"x": 1}, "spec": {"a": "1"}})
    );
}

fn defaulted() -> Value {
    json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "size": {"type": "integer", "default": 3},
            "mode": {"type": "string", "nullable": true, "default": "auto"},
            "note": {"type": "string"},
            "opt": {"type": "string", "nullable": true},
            "nested": {"type": "object", "default": {}, "properties": {"inner": {"type": "string", "default": "x"}}},
            "ports": {"type": "array", "items": {"type": "object", "properties": {
                "protocol": {"type": "string", "default": "TCP"}, "port": {"type": "integer"}}}},
            "tags": {"type": "array", "items": {"type": "string", "default": "t"}},
            "env": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                "value": {"type": "string", "default": "v"}}}}
        }}
    }})
}

#[test]
fn defaults_fill_missing_and_null_fields() {
    let s = schema(defaulted());
    let cases: &[(Value, Value)] = &[
        (
            json!({"spec": {}}),
            json!({"spec": {"size": 3, "mode": "auto", "nested": {"inner": "x"}}}),
        ),
        (
            // Nullable fields keep an explicit null; non-nullable nulls take the default or go.
            json!({"spec": {"size": null, "mode": null, "note": null, "opt": null}}),
            json!({"spec": {"size": 3, "mode": null, "opt": null, "nested": {"inner": "x"}}}),
        ),
        (
            json!({"spec": {"size": 5, "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}}),
            json!({"spec": {"size": 5, "ports": [{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}], "mode": "auto", "nested": {"inner": "x"}}}),
        ),
        (
            json!({"spec": {"tags": ["a", null], "env": {"A": {}, "B": {"value": "b"}}}}),
            json!({"spec": {"tags": ["a", "t"], "env": {"A": {"value": "v"}, "B": {"value": "b"}}, "size": 3, "mode": "auto", "nested": {"inner": "x"}}}),
        ),
        (
            // Defaults never create a missing parent.
            json!({"kind": "W"}),
            json!({"kind": "W"}),
        ),
    ];
    for (before, after) in cases {
        let mut obj = before.clone();
        s.apply_defaults(&mut obj);
        assert_eq!(&obj, after, "{before}");
        assert!(s.validate(&obj).is_empty(), "{obj}");
    }
}
