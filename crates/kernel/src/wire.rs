//! The two shapes of an object: as stored (built-in kinds without `kind` and
//! `apiVersion`, which is also how list items are served) and as sent alone
//! (with `kind` and `apiVersion` first, as kube-apiserver writes them).

use crate::registry::Resource;
use bytes::{BufMut, Bytes, BytesMut};
use serde_json::Value;

/// The object as served on its own (GET, create/update answers, watch events).
pub fn object(res: &Resource, raw: &[u8]) -> Bytes {
    if res.is_custom() {
        return custom(res, raw);
    }
    splice_type_meta(&res.kind, &res.api_version(), raw)
}

/// The object as a list item: built-in kinds carry no `kind`/`apiVersion` there.
pub fn list_item(res: &Resource, raw: &[u8]) -> Bytes {
    if res.is_custom() {
        custom(res, raw)
    } else {
        Bytes::copy_from_slice(raw)
    }
}

/// Custom objects are stored with their type meta at the storage version; a
/// request at another served version gets the same object relabelled (CRD
/// conversion strategy `None`).
fn custom(res: &Resource, raw: &[u8]) -> Bytes {
    let want = res.api_version();
    match serde_json::from_slice::<Value>(raw) {
        Ok(mut v) if v.get("apiVersion").and_then(Value::as_str) != Some(want.as_str()) => {
            if let Some(m) = v.as_object_mut() {
                m.insert("apiVersion".into(), Value::String(want));
            }
            Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
        }
        _ => Bytes::copy_from_slice(raw),
    }
}

/// `{"kind":K,"apiVersion":V,` + the rest of the stored object, without parsing it.
fn splice_type_meta(kind: &str, api_version: &str, raw: &[u8]) -> Bytes {
    let head = format!(
        "{{\"kind\":{},\"apiVersion\":{}",
        json_str(kind),
        json_str(api_version)
    );
    let rest = raw.strip_prefix(b"{").unwrap_or(raw);
    let mut out = BytesMut::with_capacity(head.len() + raw.len() + 1);
    out.put_slice(head.as_bytes());
    if !rest.starts_with(b"}") {
        out.put_u8(b',');
    }
    out.put_slice(rest);
    out.freeze()
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The stored form of a value: built-ins lose `kind`/`apiVersion`, custom objects
/// are stamped with the storage version.
pub fn storage_value(res: &Resource, mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        if res.is_custom() {
            m.insert(
                "apiVersion".into(),
                Value::String(format!("{}/{}", res.group, res.storage_version())),
            );
            m.insert("kind".into(), Value::String(res.kind.clone()));
        } else {
            m.remove("kind");
            m.remove("apiVersion");
        }
    }
    v
}

/// The object as served, parsed (for handlers that need to edit or inspect it).
pub fn object_value(res: &Resource, raw: &[u8]) -> Value {
    let mut v: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        if res.is_custom() {
            m.insert("apiVersion".into(), Value::String(res.api_version()));
        } else {
            // Re-create the map with type meta first, matching kube-apiserver's field order.
            let mut out = serde_json::Map::new();
            out.insert("kind".into(), Value::String(res.kind.clone()));
            out.insert("apiVersion".into(), Value::String(res.api_version()));
            for (k, val) in std::mem::take(m) {
                out.insert(k, val);
            }
            *m = out;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_type_meta() {
        assert_eq!(
            &splice_type_meta("ConfigMap", "v1", br#"{"metadata":{}}"#)[..],
            br#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{}}"#
        );
        assert_eq!(
            &splice_type_meta("ConfigMap", "v1", b"{}")[..],
            br#"{"kind":"ConfigMap","apiVersion":"v1"}"#
        );
    }
}
