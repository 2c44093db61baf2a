//! Validation of ConfigMaps, Secrets, Namespaces, claims, nodes and leases.

use super::{arr, immutable, nonnegative, s};
use crate::quantity::Quantity;
use apimachinery::validation::{is_config_map_key, is_qualified_name, is_valid_label_value};
use apimachinery::{ErrorList, FieldError, Path};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// The largest total size of a ConfigMap's or Secret's data (1 MiB).
pub const MAX_DATA_SIZE: usize = 1024 * 1024;

fn map<'a>(obj: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    obj.get(key).and_then(Value::as_object)
}

/// Decoded size of a base64 `[]byte` field; invalid text counts as its raw length.
fn bytes_len(v: &Value) -> usize {
    let text = v.as_str().unwrap_or("");
    crate::base64::decode(text).map_or(text.len(), |b| b.len())
}

/// Changing data of an object marked `immutable: true` is forbidden.
fn immutable_data(obj: &Value, old: &Value, keys: &[&str], errs: &mut ErrorList) {
    if old.get("immutable").and_then(Value::as_bool) != Some(true) {
        return;
    }
    if obj.get("immutable").and_then(Value::as_bool) != Some(true) {
        errs.push(FieldError::forbidden(
            Path::new("immutable"),
            "field is immutable when `immutable` is set",
        ));
    }
    for key in keys {
        let norm = |v: &Value| map(v, key).cloned().unwrap_or_default();
        if norm(obj) != norm(old) {
            errs.push(FieldError::forbidden(
                Path::new(key),
                "field is immutable when `immutable` is set",
            ));
        }
    }
}

pub(crate) fn config_map(obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    let data = map(obj, "data");
    let binary = map(obj, "binaryData");
    let mut total = 0;
    for (key, value) in data.into_iter().flatten() {
        let p = Path::new("data").key(key);
        for msg in is_config_map_key(key) {
            errs.push(FieldError::invalid(p.clone(), key.as_str(), msg));
        }
        if binary.is_some_and(|b| b.contains_key(key)) {
            errs.push(FieldError::invalid(
                p,
                key.as_str(),
                "duplicate of key present in binaryData",
            ));
        }
        total += value.as_str().map_or(0, str::len);
    }
    for (key, value) in binary.into_iter().flatten() {
        let p = Path::new("binaryData").key(key);
        for msg in is_config_map_key(key) {
            errs.push(FieldError::invalid(p.clone(), key.as_str(), msg));
        }
        if data.is_some_and(|d| d.contains_key(key)) {
            errs.push(FieldError::invalid(
                p,
                key.as_str(),
                "duplicate of key present in data",
            ));
        }
        total += bytes_len(value);
    }
    if total > MAX_DATA_SIZE {
        // kube reports the whole object, at the path it renders as `[]`.
        errs.push(FieldError::too_long(Path::new("[]"), MAX_DATA_SIZE));
    }
    if let Some(old) = old {
        immutable_data(obj, old, &["data", "binaryData"], &mut errs);
    }
    errs
}

pub(crate) fn secret(obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    let data_path = Path::new("data");
    let data = map(obj, "data");
    let mut total = 0;
    for (key, value) in data.into_iter().flatten() {
        for msg in is_config_map_key(key) {
            errs.push(FieldError::invalid(data_path.key(key), key.as_str(), msg));
        }
        total += bytes_len(value);
    }
    if total > MAX_DATA_SIZE {
        errs.push(FieldError::too_long(data_path.clone(), MAX_DATA_SIZE));
    }
    let has = |k: &str| data.is_some_and(|d| d.contains_key(k));
    let require = |k: &str, errs: &mut ErrorList| {
        if !has(k) {
            errs.push(FieldError::required(data_path.key(k), ""));
        }
    };
    match s(obj, "type") {
        "kubernetes.io/service-account-token" => {
            let named = obj
                .pointer("/metadata/annotations")
                .and_then(|a| a.get("kubernetes.io/service-account.name"))
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty());
            if !named {
                errs.push(FieldError::required(
                    Path::new("metadata")
                        .child("annotations")
                        .key("kubernetes.io/service-account.name"),
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" => require(".dockercfg", &mut errs),
        "kubernetes.io/dockerconfigjson" => require(".dockerconfigjson", &mut errs),
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            require("username", &mut errs);
            require("password", &mut errs);
        }
        "kubernetes.io/ssh-auth" => require("ssh-privatekey", &mut errs),
        "kubernetes.io/tls" => {
            require("tls.crt", &mut errs);
            require("tls.key", &mut errs);
        }
        _ => {}
    }
    if let Some(old) = old {
        immutable(
            obj.get("type"),
            old.get("type"),
            Path::new("type"),
            &mut errs,
        );
        immutable_data(obj, old, &["data"], &mut errs);
    }
    errs
}

pub(crate) fn namespace(obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let path = Path::new("spec").child("finalizers");
    for f in arr(obj.get("spec").unwrap_or(&Value::Null), "finalizers") {
        let f = f.as_str().unwrap_or("");
        let msgs = is_qualified_name(f);
        if !msgs.is_empty() {
            for msg in msgs {
                errs.push(FieldError::invalid(path.clone(), f, msg));
            }
        } else if !f.contains('/') && !["kubernetes", "orphan", "foregroundDeletion"].contains(&f) {
            errs.push(FieldError::invalid(
                path.clone(),
                f,
                "name is neither a standard finalizer name nor is it fully qualified",
            ));
        }
    }
    errs
}

pub(crate) fn pvc(obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let path = Path::new("spec");
    let modes = arr(spec, "accessModes");
    if modes.is_empty() {
        errs.push(FieldError::required(
            path.child("accessModes"),
            "at least 1 access mode is required",
        ));
    }
    const MODES: &[&str] = &[
        "ReadOnlyMany",
        "ReadWriteMany",
        "ReadWriteOnce",
        "ReadWriteOncePod",
    ];
    for m in modes {
        let m = m.as_str().unwrap_or("");
        if !MODES.contains(&m) {
            errs.push(FieldError::not_supported(
                path.child("accessModes"),
                m,
                MODES,
            ));
        }
    }
    let storage_path = path.child("resources").key("storage");
    match spec.pointer("/resources/requests/storage") {
        None | Some(Value::Null) => errs.push(FieldError::required(storage_path, "")),
        Some(v) => {
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            match Quantity::parse(&text) {
                Ok(q) if q.nanos() <= 0 => errs.push(FieldError::invalid(
                    storage_path,
                    q.canonical(),
                    "must be greater than zero",
                )),
                Ok(_) => {}
                Err(e) => errs.push(FieldError::invalid(storage_path, text, e.to_string())),
            }
        }
    }
    let mode = s(spec, "volumeMode");
    if !mode.is_empty() && mode != "Block" && mode != "Filesystem" {
        errs.push(FieldError::not_supported(
            path.child("volumeMode"),
            mode,
            &["Block", "Filesystem"],
        ));
    }
    errs
}

pub(crate) fn node(obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let path = Path::new("spec").child("taints");
    let mut seen = HashSet::new();
    for (i, t) in arr(obj.get("spec").unwrap_or(&Value::Null), "taints")
        .iter()
        .enumerate()
    {
        let p = path.index(i);
        let key = s(t, "key");
        for msg in is_qualified_name(key) {
            errs.push(FieldError::invalid(p.child("key"), key, msg));
        }
        let value = s(t, "value");
        let msgs = is_valid_label_value(value);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(p.child("value"), value, msgs.join(";")));
        }
        let effect = s(t, "effect");
        match effect {
            "" => errs.push(FieldError::required(p.child("effect"), "")),
            "NoSchedule" | "PreferNoSchedule" | "NoExecute" => {}
            other => errs.push(FieldError::not_supported(
                p.child("effect"),
                other,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            )),
        }
        if !seen.insert((effect.to_string(), key.to_string())) {
            let mut dup = FieldError::duplicate(p, t.clone());
            dup.detail = "taints must be unique by key and effect pair".to_string();
            errs.push(dup);
        }
    }
    errs
}

pub(crate) fn lease(obj: &Value) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let path = Path::new("spec");
    if let Some(d) = spec.get("leaseDurationSeconds").and_then(Value::as_i64)
        && d <= 0
    {
        errs.push(FieldError::invalid(
            path.child("leaseDurationSeconds"),
            d,
            "must be greater than 0",
        ));
    }
    nonnegative(
        spec.get("leaseTransitions"),
        path.child("leaseTransitions"),
        &mut errs,
    );
    errs
}
