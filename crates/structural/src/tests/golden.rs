//! The Widget CRD recorded from kube-apiserver v1.36: schema, pruning, defaulting, the 422 error.

use super::{crd_path, rendered};
use crate::Schema;
use serde_json::{Value, json};

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/kube-apiserver-golden"
);

fn read_json(rel: &str) -> Value {
    let text =
        std::fs::read_to_string(format!("{GOLDEN}/{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn widget_schema() -> Schema {
    let crd = read_json("objects/crd-after-established.json");
    let raw = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    Schema::from_openapi_v3(raw, &crd_path()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn crd_schema_is_accepted() {
    let s = widget_schema();
    let cols = s.list_semantics(&["spec", "color"]);
    assert_eq!(cols.map(|c| c.type_), Some("string".to_string()));
}

#[test]
fn unknown_field_is_pruned_and_default_applied() {
    let s = widget_schema();
    let golden = read_json("objects/custom-resource-pruned-defaulted.json");
    // What the recording sent: spec.size missing, an unknown spec field.
    let mut obj = json!({
        "apiVersion": "golden.example.com/v1",
        "kind": "Widget",
        "metadata": golden["metadata"].clone(),
        "spec": {"color": "red", "bogus": true}
    });
    let pruned = s.prune(&mut obj);
    assert_eq!(pruned, ["spec.bogus"]);
    s.apply_defaults(&mut obj);
    assert!(s.validate(&obj).is_empty());
    assert_eq!(obj, golden);
}

#[test]
fn unsupported_enum_value_matches_the_422() {
    let s = widget_schema();
    let text = std::fs::read_to_string(format!("{GOLDEN}/errors/422-custom-resource-schema.txt"))
        .unwrap_or_else(|e| panic!("{e}"));
    let body = text.split_once('\n').map_or("", |(_, b)| b);
    let status: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}"));
    let cause = &status["details"]["causes"][0];

    let mut obj = json!({"apiVersion": "golden.example.com/v1", "kind": "Widget",
        "metadata": {"name": "w2"}, "spec": {"color": "green"}});
    s.prune(&mut obj);
    s.apply_defaults(&mut obj);
    let errs = s.validate(&obj);
    assert_eq!(errs.len(), 1);
    let e = &errs.0[0];
    assert_eq!(e.field.as_str(), cause["field"]);
    assert_eq!(e.body(), cause["message"]);
    assert_eq!(e.kind.reason(), cause["reason"]);
    let message = status["message"].as_str().unwrap_or_default();
    assert!(message.ends_with(&rendered(&errs)[0]), "{message}");
}
