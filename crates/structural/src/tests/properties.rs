//! Property tests: idempotent pruning and defaulting, valid defaults validate, no panics.

use super::{crd_path, schema};
use crate::{Schema, printer_cell};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// A schema touching every feature the walkers branch on.
fn rich_schema() -> Schema {
    schema(json!({"type": "object", "properties": {
        "spec": {"type": "object", "required": ["color"], "properties": {
            "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
            "size": {"type": "integer", "minimum": 0, "maximum": 9, "default": 3},
            "ratio": {"type": "number", "nullable": true, "multipleOf": 0.5},
            "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5, "format": "hostname"},
            "items": {"type": "array", "maxItems": 3, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                      "items": {"type": "object", "required": ["name"], "properties": {
                          "name": {"type": "string"}, "v": {"type": "integer", "default": 1}}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "labels": {"type": "object", "maxProperties": 2, "additionalProperties": {"type": "string", "default": "x"}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true,
                     "properties": {"x": {"type": "object", "properties": {"a": {"type": "string"}}}}},
            "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "mode": {"type": "string", "oneOf": [{"pattern": "^a"}, {"pattern": "b$"}], "not": {"enum": ["ab"]}},
            "embedded": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
            "any": {"type": "object", "additionalProperties": true}
        }},
        "status": {"type": "object", "properties": {"x": {"type": "string"}}}
    }}))
}

const KEYS: [&str; 14] = [
    "spec", "color", "size", "ratio", "name", "items", "tags", "labels", "free", "x", "a", "port",
    "embedded", "kind",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-zA-Z0-9.:-]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(&KEYS[..]), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// A schema node with only valid defaults, and its default when it has one.
fn arb_node() -> impl Strategy<Value = Value> {
    let int = (
        -10i64..10,
        0i64..20,
        any::<bool>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(min, span, with_default, at)| {
            let mut s = json!({"type": "integer", "minimum": min, "maximum": min + span});
            if with_default {
                s["default"] = json!(min + at.index(span as usize + 1) as i64);
            }
            s
        });
    let string = (1usize..4, any::<bool>(), any::<prop::sample::Index>()).prop_map(
        |(n, with_default, at)| {
            let values: Vec<&str> = ["a", "bb", "ccc"][..n].to_vec();
            let mut s = json!({"type": "string", "enum": values, "maxLength": 3});
            if with_default {
                s["default"] = json!(values[at.index(n)]);
            }
            s
        },
    );
    let boolean = prop::option::of(any::<bool>()).prop_map(|d| match d {
        Some(d) => json!({"type": "boolean", "default": d}),
        None => json!({"type": "boolean"}),
    });
    let leaf = prop_oneof![int, string, boolean];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (
                prop::collection::vec(
                    (
                        prop::sample::select(&["a", "b", "c", "d"][..]),
                        inner.clone()
                    ),
                    0..4
                ),
                any::<bool>()
            )
                .prop_map(|(props, with_default)| {
                    let mut properties = Map::new();
                    for (k, v) in props {
                        properties.insert(k.to_string(), v);
                    }
                    let required: Vec<&String> = properties
                        .iter()
                        .filter(|(_, v)| v.get("default").is_some())
                        .map(|(k, _)| k)
                        .collect();
                    let mut s =
                        json!({"type": "object", "required": required, "properties": properties});
                    if with_default && required.is_empty() {
                        s["default"] = json!({});
                    }
                    s
                }),
            (inner, any::<bool>()).prop_map(|(item, with_default)| {
                let mut s = json!({"type": "array", "items": item, "maxItems": 2});
                if with_default {
                    let d = item.get("default").map_or(json!([]), |d| json!([d]));
                    s["default"] = d;
                }
                s
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn pruning_is_idempotent(v in arb_json()) {
        let s = rich_schema();
        let mut once = json!({"spec": v.clone(), "status": v.clone(), "extra": v});
        s.prune(&mut once);
        let mut twice = once.clone();
        let again = s.prune(&mut twice);
        prop_assert!(again.is_empty(), "pruned again: {again:?}");
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn defaulting_is_idempotent(v in arb_json()) {
        let s = rich_schema();
        let mut once = json!({"spec": v});
        s.prune(&mut once);
        s.apply_defaults(&mut once);
        let mut twice = once.clone();
        s.apply_defaults(&mut twice);
        prop_assert_eq!(twice, once);
    }

    #[test]
    fn defaults_of_a_valid_schema_validate(spec in arb_node()) {
        let raw = json!({"type": "object", "properties": {"spec": spec}});
        let s = Schema::from_openapi_v3(&raw, &crd_path());
        prop_assert!(s.is_ok(), "refused {}: {}", raw, s.err().map(|e| e.to_string()).unwrap_or_default());
        let Ok(s) = s else { return Ok(()) };
        let mut starts = vec![json!({})];
        if raw["properties"]["spec"]["type"] == "object" {
            starts.push(json!({"spec": {}}));
        }
        for mut obj in starts {
            s.apply_defaults(&mut obj);
            let errs = s.validate(&obj);
            prop_assert!(errs.is_empty(), "{} defaulted to {}: {}", raw, obj, errs);
        }
    }

    #[test]
    fn nothing_panics(v in arb_json(), path in "[.a-z\\[\\]?@=()\"'*0-9-]{0,16}") {
        let s = rich_schema();
        let mut obj = json!({"spec": v.clone()});
        let _ = s.validate(&obj);
        s.prune(&mut obj);
        s.apply_defaults(&mut obj);
        let _ = s.validate(&obj);
        for ty in ["string", "integer", "number", "boolean", "date"] {
            let _ = printer_cell(&path, ty, &v);
        }
        let _ = Schema::from_openapi_v3(&v, &crd_path());
        let _ = Schema::from_openapi_v3(&json!({"type": "object", "properties": {"spec": v}}), &crd_path());
    }
}
