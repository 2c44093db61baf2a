//! Update validation with ratcheting: errors on unchanged values are not reported.

use super::{rendered, schema};
use serde_json::json;

#[test]
fn unchanged_invalid_values_are_ratcheted() {
    let s = schema(
        json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "a": {"type": "string", "maxLength": 2},
            "b": {"type": "string"},
            "byKey": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"],
                      "items": {"type": "object", "required": ["k"], "properties": {
                          "k": {"type": "string"}, "v": {"type": "integer", "maximum": 5}}}},
            "atomic": {"type": "array", "x-kubernetes-list-type": "atomic", "items": {"type": "integer", "maximum": 5}},
            "byIndex": {"type": "array", "items": {"type": "integer", "maximum": 5}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}}
        }}}}),
    );
    let old = json!({"spec": {
        "a": "long", "b": "1",
        "byKey": [{"k": "x", "v": 9}, {"k": "y", "v": 1}],
        "atomic": [9, 1],
        "byIndex": [9, 1],
        "tags": ["t", "t"]
    }});
    let cases: &[(serde_json::Value, &[&str])] = &[
        (old.clone(), &[]),
        (
            // Only b changes: a's old violation stays tolerated.
            json!({"spec": {"a": "long", "b": "2"}}),
            &[],
        ),
        (
            json!({"spec": {"a": "longer"}}),
            &["spec.a: Too long: may not be more than 2 bytes"],
        ),
        (
            // Map-list elements correlate by key, whatever their position.
            json!({"spec": {"byKey": [{"k": "y", "v": 2}, {"k": "x", "v": 9}]}}),
            &[],
        ),
        (
            json!({"spec": {"byKey": [{"k": "x", "v": 8}]}}),
            &[
                "spec.byKey[0].v: Invalid value: 8: spec.byKey[0].v in body should be less than or equal to 5",
            ],
        ),
        (
            // Atomic lists do not correlate element by element.
            json!({"spec": {"atomic": [9, 2]}}),
            &[
                "spec.atomic[0]: Invalid value: 9: spec.atomic[0] in body should be less than or equal to 5",
            ],
        ),
        (
            // Lists without a list type correlate by index.
            json!({"spec": {"byIndex": [9, 2]}}),
            &[],
        ),
        (
            // Duplicates are tolerated while the old object had them too.
            json!({"spec": {"tags": ["u", "u"]}}),
            &[],
        ),
    ];
    for (new, want) in cases {
        assert_eq!(rendered(&s.validate_update(new, &old)), *want, "{new}");
    }
    let clean = json!({"spec": {"tags": ["t"]}});
    assert_eq!(
        rendered(&s.validate_update(&json!({"spec": {"tags": ["u", "u"]}}), &clean)),
        ["spec.tags[1]: Duplicate value: \"u\""]
    );
}
