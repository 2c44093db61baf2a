//! JSON helpers: parsing, pointer access, and normalising objects for golden comparisons.

use serde_json::{Map, Value};

static NULL: Value = Value::Null;

/// Parses JSON, panicking with the text when it is not JSON (a test failure, not a harness one).
pub fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The value at a JSON pointer (`/metadata/name`), or `null` when absent.
pub fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&NULL)
}

/// Removes what differs on every run: uid, resourceVersion, timestamps, managedFields and
/// the client-side-apply annotation.
pub fn strip_server_fields(object: &mut Value) {
    if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
            "selfLink",
        ] {
            meta.remove(key);
        }
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            if annotations.is_empty() {
                meta.remove("annotations");
            }
        }
    }
}

/// Normalises an object so that two recordings of the same create compare equal: strips the
/// server fields, and replaces values that are random by design (the namespace, the uid where
/// it is copied into labels, `kube-api-access-*` suffixes, allocated IPs and node ports,
/// condition times) with fixed marker values.
pub fn normalize_object(object: &Value) -> Value {
    let mut out = object.clone();
    let uid = at(object, "/metadata/uid").as_str().map(str::to_owned);
    strip_server_fields(&mut out);
    if let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut)
        && meta.contains_key("namespace")
    {
        meta.insert("namespace".into(), Value::String("<ns>".into()));
    }
    replace_random(&mut out, uid.as_deref(), None);
    out
}

fn replace_random(value: &mut Value, uid: Option<&str>, key: Option<&str>) {
    match value {
        Value::String(s) => {
            if uid.is_some_and(|u| u == s) {
                *s = "<uid>".into();
            } else if s.starts_with("kube-api-access-") {
                *s = "kube-api-access-<random>".into();
            } else if matches!(key, Some("clusterIP" | "clusterIPs")) && s != "None" {
                *s = "<ip>".into();
            } else if matches!(key, Some("lastTransitionTime")) {
                *s = "<time>".into();
            }
        }
        Value::Number(_) if key == Some("nodePort") => *value = Value::String("<port>".into()),
        Value::Array(items) => {
            for item in items {
                replace_random(item, uid, key);
            }
        }
        Value::Object(map) => replace_in_map(map, uid),
        _ => {}
    }
}

fn replace_in_map(map: &mut Map<String, Value>, uid: Option<&str>) {
    for (k, v) in map.iter_mut() {
        replace_random(v, uid, Some(k.as_str()));
    }
}

/// Lists the JSON paths where `actual` differs from `expected` (missing, extra, or changed),
/// so that a failing comparison names the exact fields.
pub fn json_diff(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_into(expected, actual, String::new(), &mut out);
    out
}

fn diff_into(expected: &Value, actual: &Value, path: String, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => diff_into(ev, av, p, out),
                    None => out.push(format!("{p}: missing (expected {ev})")),
                }
            }
            for (k, av) in a {
                if !e.contains_key(k) {
                    out.push(format!("{path}.{k}: unexpected {av}"));
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                diff_into(ev, av, format!("{path}[{i}]"), out);
            }
        }
        _ if expected != actual => out.push(format!("{path}: expected {expected}, got {actual}")),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalize_replaces_random_values() {
        let obj = json!({
            "metadata": {"name": "j", "namespace": "x", "uid": "u-1", "resourceVersion": "5",
                         "labels": {"controller-uid": "u-1"}},
            "spec": {"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1"],
                     "ports": [{"port": 80, "nodePort": 31000}],
                     "volumes": [{"name": "kube-api-access-abcde"}]}
        });
        let n = normalize_object(&obj);
        assert_eq!(
            n,
            json!({
                "metadata": {"name": "j", "namespace": "<ns>", "labels": {"controller-uid": "<uid>"}},
                "spec": {"clusterIP": "<ip>", "clusterIPs": ["<ip>"],
                         "ports": [{"port": 80, "nodePort": "<port>"}],
                         "volumes": [{"name": "kube-api-access-<random>"}]}
            })
        );
    }

    #[test]
    fn diff_names_paths() {
        let d = json_diff(
            &json!({"a": {"b": 1, "c": 2}}),
            &json!({"a": {"b": 1, "d": 3}}),
        );
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with(".a.c: missing"));
        assert!(d[1].starts_with(".a.d: unexpected"));
        assert!(json_diff(&json!([1, 2]), &json!([1, 2])).is_empty());
        assert_eq!(json_diff(&json!([1]), &json!([1, 2])).len(), 1);
    }
}
