//! Read-only accessors for the JSON objects the API lists (metadata, nested fields, timestamps).

use serde_json::{Map, Value};

/// `metadata` of an object, if it is a map.
pub fn meta(object: &Value) -> Option<&Map<String, Value>> {
    object.get("metadata").and_then(Value::as_object)
}

/// A string under `metadata`, "" when absent.
pub fn meta_str<'a>(object: &'a Value, key: &str) -> &'a str {
    meta(object)
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `metadata.name`.
pub fn name(object: &Value) -> &str {
    meta_str(object, "name")
}

/// `metadata.namespace` ("" for cluster-scoped objects).
pub fn namespace(object: &Value) -> &str {
    meta_str(object, "namespace")
}

/// `metadata.uid`.
pub fn uid(object: &Value) -> &str {
    meta_str(object, "uid")
}

/// `metadata.labels`, if any.
pub fn labels(object: &Value) -> Option<&Map<String, Value>> {
    meta(object)
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
}

/// `metadata.annotations`, if any.
pub fn annotations(object: &Value) -> Option<&Map<String, Value>> {
    meta(object)
        .and_then(|m| m.get("annotations"))
        .and_then(Value::as_object)
}

/// One label's value.
pub fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    labels(object)
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

/// One annotation's value.
pub fn annotation<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    annotations(object)
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// `metadata.ownerReferences` entries.
pub fn owner_references(object: &Value) -> impl Iterator<Item = &Map<String, Value>> {
    meta(object)
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// The value at a path of object keys.
pub fn at<'a>(object: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(object, |v, key| v.get(*key))
}

/// The string at a path of object keys.
pub fn str_at<'a>(object: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(object, path).and_then(Value::as_str)
}

/// The integer at a path of object keys, 0 when absent (Go's zero value).
pub fn int_at(object: &Value, path: &[&str]) -> i64 {
    at(object, path).and_then(Value::as_i64).unwrap_or(0)
}

/// The array at a path of object keys, empty when absent.
pub fn array_at<'a>(object: &'a Value, path: &[&str]) -> &'a [Value] {
    at(object, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// An RFC 3339 time as seconds since the epoch; absent or unparsable is the zero time,
/// which sorts before every real time as Go's zero `metav1.Time` does.
pub fn seconds(raw: Option<&str>) -> i64 {
    raw.and_then(|s| s.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_second())
        .unwrap_or(i64::MIN)
}

/// `metadata.creationTimestamp` in seconds.
pub fn creation_seconds(object: &Value) -> i64 {
    seconds(
        meta(object)
            .and_then(|m| m.get("creationTimestamp"))
            .and_then(Value::as_str),
    )
}
