//! Uniqueness of `x-kubernetes-list-type: set` and `map` lists (apiextensions' `listtype` package).

use crate::gofmt::canonical_json;
use crate::node::Node;
use apimachinery::field::{FieldError, Path};
use serde_json::{Map, Value};

/// Walks `obj` along the schema and reports duplicate set elements and map keys.
pub(crate) fn validate_object(
    path: &Path,
    n: &Node,
    obj: &Map<String, Value>,
    out: &mut Vec<FieldError>,
) {
    if let Some(ap) = n.additional_properties.as_ref().and_then(|a| a.schema()) {
        for (k, v) in obj {
            validate_field(&path.key(k), ap, v, out);
        }
    }
    for (k, v) in obj {
        if let Some(s) = n.property(k) {
            validate_field(&path.child(k), s, v, out);
        }
    }
}

/// Entry point for a value of any kind, such as a schema default.
pub(crate) fn validate_field(path: &Path, n: &Node, v: &Value, out: &mut Vec<FieldError>) {
    match v {
        Value::Array(a) => validate_array(path, n, a, out),
        Value::Object(m) => validate_object(path, n, m, out),
        _ => {}
    }
}

fn validate_array(path: &Path, n: &Node, list: &[Value], out: &mut Vec<FieldError>) {
    match n.list_type.as_deref() {
        Some("set") => {
            for i in duplicate_set_elements(list) {
                out.push(FieldError::duplicate(path.index(i), list[i].clone()));
            }
        }
        Some("map") => validate_map_list(path, n, list, out),
        _ => {}
    }
    if let Some(items) = &n.items {
        for (i, v) in list.iter().enumerate() {
            validate_field(&path.index(i), items, v, out);
        }
    }
}

/// How Go's `validateListSet` keys an element: compound values by their JSON (sorted keys),
/// scalars by value.
fn set_key(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => format!("compound:{}", canonical_json(v)),
        other => format!("scalar:{other}"),
    }
}

/// Indices where a key appears for the second time (later repeats are not reported again).
fn duplicates(keys: &[String]) -> Vec<usize> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    let mut dups = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match seen.iter_mut().find(|(k, _)| *k == key.as_str()) {
            Some((_, times)) => {
                *times += 1;
                if *times == 2 {
                    dups.push(i);
                }
            }
            None => seen.push((key, 1)),
        }
    }
    dups
}

fn duplicate_set_elements(list: &[Value]) -> Vec<usize> {
    let keys: Vec<String> = list.iter().map(set_key).collect();
    duplicates(&keys)
}

/// Runs after defaulting, so a missing key is genuinely unspecified (Go does not look at
/// defaults here either); `null` elements count as unspecified keys.
fn validate_map_list(path: &Path, n: &Node, list: &[Value], out: &mut Vec<FieldError>) {
    if let Some((i, x)) = list
        .iter()
        .enumerate()
        .find(|(_, x)| !x.is_object() && !x.is_null())
    {
        out.push(FieldError::invalid(
            path.index(i),
            x.clone(),
            "must be an object for an array of list-type map",
        ));
        return;
    }
    if list.len() <= 1 {
        return;
    }
    const UNSPECIFIED: &str = "unspecified";
    if let [key] = n.list_map_keys.as_slice() {
        let keys: Vec<Option<&Value>> = list
            .iter()
            .map(|x| x.as_object().and_then(|m| m.get(key)))
            .collect();
        let reprs: Vec<String> = keys
            .iter()
            .map(|k| k.map_or_else(|| UNSPECIFIED.to_string(), set_key))
            .collect();
        for i in duplicates(&reprs) {
            let mut shown = Map::new();
            if let Some(k) = keys[i] {
                shown.insert(key.clone(), k.clone());
            }
            out.push(FieldError::duplicate(path.index(i), Value::Object(shown)));
        }
        return;
    }
    let keys: Vec<Value> = list
        .iter()
        .map(|x| {
            let mut key = Map::new();
            if let Some(m) = x.as_object() {
                for k in &n.list_map_keys {
                    if let Some(v) = m.get(k) {
                        key.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(key)
        })
        .collect();
    let reprs: Vec<String> = keys.iter().map(set_key).collect();
    for i in duplicates(&reprs) {
        out.push(FieldError::duplicate(path.index(i), keys[i].clone()));
    }
}
