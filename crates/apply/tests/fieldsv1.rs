//! FieldsV1 round trips against managedFields recorded from a real kube-apiserver.
#![allow(clippy::unwrap_used)] // Tests fail loudly on unexpected errors.

use apply::{FieldSet, managers_of, set_managers};
use serde_json::Value;

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/kube-apiserver-golden"
);

fn all_managed_fields(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if let Some(mf @ Value::Array(_)) = m.get("managedFields") {
                out.push(mf.clone());
            }
            m.values().for_each(|c| all_managed_fields(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| all_managed_fields(c, out)),
        _ => {}
    }
}

fn golden_managed_fields() -> Vec<Value> {
    let mut out = Vec::new();
    for file in [
        "watch/events-from-list-rv.jsonl",
        "tables/custom-resource-printer-columns.json",
        "tables/apis_apps_v1_namespaces_golden_deployments.json",
        "tables/api_v1_namespaces_golden_pods.json",
        "tables/api_v1_namespaces_golden_services.json",
        "tables/apis_batch_v1_namespaces_golden_cronjobs.json",
    ] {
        let text = std::fs::read_to_string(format!("{GOLDEN}/{file}")).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Ok(v) = serde_json::from_str::<Value>(line) {
                all_managed_fields(&v, &mut out);
            } else {
                all_managed_fields(&serde_json::from_str(&text).unwrap(), &mut out);
                break;
            }
        }
    }
    out
}

#[test]
fn golden_managed_fields_round_trip_byte_for_byte() {
    let all = golden_managed_fields();
    assert!(all.len() >= 6, "found {}", all.len());
    let mut saw_key = false;
    for mf in all {
        let obj = serde_json::json!({"metadata": {"managedFields": mf}});
        let managers = managers_of(&obj).unwrap();
        let mut rebuilt = serde_json::json!({"metadata": {}});
        set_managers(&mut rebuilt, &managers);
        assert_eq!(
            rebuilt["metadata"]["managedFields"].to_string(),
            mf.to_string()
        );
        for entry in mf.as_array().unwrap() {
            let set = FieldSet::from_fields_v1(&entry["fieldsV1"]).unwrap();
            saw_key |= entry["fieldsV1"].to_string().contains("k:{");
            assert_eq!(set.to_fields_v1(), entry["fieldsV1"]);
        }
    }
    assert!(saw_key);
}
