//! Metadata of embedded resources coerced to `ObjectMeta` (apiextensions' `objectmeta.Coerce`).

// kube-apiserver decodes an embedded resource's `metadata` into ObjectMeta, dropping unknown and
// malformed fields, and encodes it back: empty `omitempty` fields disappear and a missing
// `creationTimestamp` comes back as `null`. The resource root's metadata is the kernel's.

use crate::node::Node;
use crate::printer::parse_rfc3339;
use serde_json::{Map, Value};

/// Walks `x` along the schema and coerces the metadata of every embedded resource below the
/// root, appending the dropped unknown fields' paths to `unknown`.
pub(crate) fn coerce(x: &mut Value, s: &Node, path: &str, unknown: &mut Vec<String>) {
    match x {
        Value::Object(m) => {
            if s.embedded_resource
                && !path.is_empty()
                && let Some(Value::Object(meta)) = m.get_mut("metadata")
            {
                coerce_meta(meta, &format!("{path}.metadata"), unknown);
            }
            let ap = s.additional_properties.as_ref().and_then(|a| a.schema());
            for (k, v) in m.iter_mut() {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if let Some(p) = s.property(k) {
                    coerce(v, p, &child, unknown);
                } else if let Some(ap) = ap {
                    coerce(v, ap, &child, unknown);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = &s.items {
                for (i, v) in a.iter_mut().enumerate() {
                    coerce(v, items, &format!("{path}[{i}]"), unknown);
                }
            }
        }
        _ => {}
    }
}

/// How ObjectMeta decodes and re-encodes one field.
enum Field {
    /// A string; dropped when empty.
    Str,
    /// An int64; dropped when zero unless `keep_zero`.
    Int { keep_zero: bool },
    /// A timestamp; `creationTimestamp` is always written, `null` when unset.
    Time { always: bool },
    /// A map of strings; dropped when empty.
    StrMap,
    /// A list of strings; dropped when empty.
    StrList,
    /// A list of objects; dropped when empty.
    ObjList,
}

const FIELDS: [(&str, Field); 15] = [
    ("name", Field::Str),
    ("generateName", Field::Str),
    ("namespace", Field::Str),
    ("selfLink", Field::Str),
    ("uid", Field::Str),
    ("resourceVersion", Field::Str),
    ("generation", Field::Int { keep_zero: false }),
    ("creationTimestamp", Field::Time { always: true }),
    ("deletionTimestamp", Field::Time { always: false }),
    ("deletionGracePeriodSeconds", Field::Int { keep_zero: true }),
    ("labels", Field::StrMap),
    ("annotations", Field::StrMap),
    ("ownerReferences", Field::ObjList),
    ("finalizers", Field::StrList),
    ("managedFields", Field::ObjList),
];

fn coerce_meta(meta: &mut Map<String, Value>, path: &str, unknown: &mut Vec<String>) {
    for k in meta.keys() {
        if !FIELDS.iter().any(|(name, _)| name == k) {
            unknown.push(format!("{path}.{k}"));
        }
    }
    let mut out = Map::new();
    for (name, kind) in &FIELDS {
        let v = meta.get(*name).filter(|v| !v.is_null());
        let kept = match (kind, v) {
            (Field::Str, Some(Value::String(s))) if !s.is_empty() => v.cloned(),
            (Field::Int { keep_zero }, Some(Value::Number(n))) => n
                .as_i64()
                .filter(|i| *keep_zero || *i != 0)
                .map(Value::from),
            (Field::Time { always }, v) => {
                let valid = v
                    .and_then(Value::as_str)
                    .filter(|s| parse_rfc3339(s).is_some());
                match valid {
                    Some(s) => Some(Value::from(s)),
                    None if *always => Some(Value::Null),
                    None => None,
                }
            }
            (Field::StrMap, Some(Value::Object(m)))
                if !m.is_empty() && m.values().all(Value::is_string) =>
            {
                v.cloned()
            }
            (Field::StrList, Some(Value::Array(a)))
                if !a.is_empty() && a.iter().all(Value::is_string) =>
            {
                v.cloned()
            }
            (Field::ObjList, Some(Value::Array(a)))
                if !a.is_empty() && a.iter().all(Value::is_object) =>
            {
                v.cloned()
            }
            _ => None,
        };
        if let Some(kept) = kept {
            out.insert((*name).to_string(), kept);
        }
    }
    *meta = out;
}
