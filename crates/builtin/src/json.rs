//! Small helpers for reading and filling `serde_json::Value` objects the way Go's zero values behave.

use serde_json::{Map, Value};

/// The object at `key`, created as `{}` when missing or `null`; `None` when it holds something else.
pub(crate) fn obj_entry<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let map = v.as_object_mut()?;
    let slot = map.entry(key.to_string()).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

/// The object at `key` only when it already exists.
pub(crate) fn obj_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    v.get_mut(key)?.as_object_mut()
}

/// Sets `key` to `value` when it is missing or `null` (a nil pointer in Go).
pub(crate) fn default(v: &mut Value, key: &str, value: Value) {
    if let Some(map) = v.as_object_mut() {
        let slot = map.entry(key.to_string()).or_insert(Value::Null);
        if slot.is_null() {
            *slot = value;
        }
    }
}

/// Sets `key` when missing, `null` or `""`: Go treats an empty string field as unset.
pub(crate) fn default_str(v: &mut Value, key: &str, value: &str) {
    if let Some(map) = v.as_object_mut() {
        let slot = map.entry(key.to_string()).or_insert(Value::Null);
        if slot.is_null() || slot.as_str() == Some("") {
            *slot = Value::String(value.to_string());
        }
    }
}

/// Every element of the array at `key`, mutably; nothing when absent.
pub(crate) fn each_mut<'a>(v: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    v.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flat_map(|a| a.iter_mut())
}
