//! Property tests: merge patch identities, and no panic on arbitrary patches for any engine.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("name".to_owned()),
        Just("containers".to_owned()),
        Just("env".to_owned()),
        Just("$patch".to_owned()),
        Just("$retainKeys".to_owned()),
        Just("$setElementOrder/containers".to_owned()),
        Just("$deleteFromPrimitiveList/finalizers".to_owned()),
        Just("finalizers".to_owned()),
        Just("metadata".to_owned()),
        Just("spec".to_owned()),
        "[a-z]{1,3}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("delete"),
            Just("replace"),
            Just("merge"),
            Just("a"),
            Just("b")
        ]
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn object() -> impl Strategy<Value = Value> {
    json_value().prop_map(|v| match v {
        Value::Object(_) => v,
        other => json!({ "spec": other }),
    })
}

/// Objects without lists or directive keys, where strategic merge patch and JSON merge patch agree.
fn plain_object() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-z]{0,3}".prop_map(Value::String),
    ];
    let tree = leaf.prop_recursive(4, 32, 5, |inner| {
        prop::collection::btree_map("[a-z]{1,2}", inner, 0..5)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    });
    prop::collection::btree_map("[a-z]{1,2}", tree, 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

proptest! {
    #[test]
    fn strategic_merge_patch_without_lists_or_directives_is_a_merge_patch(doc in plain_object(), p in plain_object()) {
        // A stored object holds no nulls; the patch may.
        let doc = patch::merge_patch(&json!({}), &doc);
        let smp = patch::strategic_merge_patch(&doc, &p, "io.k8s.api.core.v1.ConfigMap").unwrap();
        prop_assert_eq!(smp, patch::merge_patch(&doc, &p));
    }

    #[test]
    fn merge_patch_with_an_empty_patch_is_identity(doc in object()) {
        prop_assert_eq!(patch::merge_patch(&doc, &json!({})), doc);
    }

    #[test]
    fn merge_patch_is_idempotent(doc in object(), p in object()) {
        let once = patch::merge_patch(&doc, &p);
        prop_assert_eq!(patch::merge_patch(&once, &p), once);
    }

    #[test]
    fn strategic_merge_patch_never_panics(doc in object(), p in json_value()) {
        for def in ["io.k8s.api.core.v1.Pod", "io.k8s.api.apps.v1.Deployment", "io.k8s.api.core.v1.PodSpec"] {
            let _ = patch::strategic_merge_patch(&doc, &p, def);
        }
    }

    #[test]
    fn strategic_merge_patch_with_an_empty_patch_is_identity(doc in object()) {
        // Only when the object itself holds no directive keys, which a stored object never does.
        prop_assume!(!doc.to_string().contains('$'));
        let out = patch::strategic_merge_patch(&doc, &json!({}), "io.k8s.api.core.v1.Pod");
        prop_assert_eq!(out.ok(), Some(doc));
    }

    #[test]
    fn json_patch_never_panics(doc in object(), body in prop::collection::vec(any::<u8>(), 0..64), ops in json_value()) {
        let _ = patch::json_patch(&doc, &body);
        let _ = patch::json_patch(&doc, ops.to_string().as_bytes());
    }
}
