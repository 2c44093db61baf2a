//! Validation of the basic shape of CustomResourceDefinitions (names, group, scope, versions).

use super::{arr, immutable, s};
use apimachinery::validation::{is_dns1035_label, is_dns1123_subdomain};
use apimachinery::{ErrorList, FieldError, Path};
use serde_json::Value;
use std::collections::HashSet;

pub(crate) fn validate(obj: &Value, old: Option<&Value>) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let path = Path::new("spec");
    let group = s(spec, "group");
    let plural = spec
        .pointer("/names/plural")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if name != format!("{plural}.{group}") {
        errs.push(FieldError::invalid(
            Path::new("metadata").child("name"),
            name,
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    if group.is_empty() {
        errs.push(FieldError::required(path.child("group"), ""));
    } else {
        let msgs = is_dns1123_subdomain(group);
        for msg in &msgs {
            errs.push(FieldError::invalid(path.child("group"), group, msg.clone()));
        }
        if msgs.is_empty() && !group.contains('.') {
            errs.push(FieldError::invalid(
                path.child("group"),
                group,
                "should be a domain with at least one dot",
            ));
        }
    }
    let scope = s(spec, "scope");
    if scope.is_empty() {
        errs.push(FieldError::required(path.child("scope"), ""));
    } else if scope != "Cluster" && scope != "Namespaced" {
        errs.push(FieldError::not_supported(
            path.child("scope"),
            scope,
            &["Cluster", "Namespaced"],
        ));
    }
    validate_names(
        spec.get("names").unwrap_or(&Value::Null),
        &path.child("names"),
        &mut errs,
    );
    let versions = arr(spec, "versions");
    let vpath = path.child("versions");
    if versions.is_empty() {
        errs.push(FieldError::required(
            vpath.clone(),
            "must have exactly one version marked as storage version",
        ));
    } else {
        let storage = versions
            .iter()
            .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            .count();
        if storage != 1 {
            errs.push(FieldError::invalid(
                vpath.clone(),
                Value::Array(versions.to_vec()),
                "must have exactly one version marked as storage version",
            ));
        }
        if !versions
            .iter()
            .any(|v| v.get("served").and_then(Value::as_bool) == Some(true))
        {
            errs.push(FieldError::invalid(
                vpath.clone(),
                Value::Array(versions.to_vec()),
                "must have at least one version marked as served",
            ));
        }
        let mut seen = HashSet::new();
        for (i, v) in versions.iter().enumerate() {
            let p = vpath.index(i);
            let vname = s(v, "name");
            if vname.is_empty() {
                errs.push(FieldError::required(p.child("name"), ""));
            } else {
                for msg in is_dns1035_label(vname) {
                    errs.push(FieldError::invalid(p.child("name"), vname, msg));
                }
            }
            if !seen.insert(vname.to_string()) {
                errs.push(FieldError::invalid(
                    p.child("name"),
                    vname,
                    "must be unique",
                ));
            }
            if v.pointer("/schema/openAPIV3Schema")
                .is_none_or(Value::is_null)
            {
                errs.push(FieldError::required(
                    p.child("schema").child("openAPIV3Schema"),
                    "schemas are required",
                ));
            }
        }
    }
    if let Some(old) = old {
        let old_spec = old.get("spec").unwrap_or(&Value::Null);
        immutable(
            spec.get("group"),
            old_spec.get("group"),
            path.child("group"),
            &mut errs,
        );
    }
    errs
}

fn validate_names(names: &Value, path: &Path, errs: &mut ErrorList) {
    for key in ["plural", "singular"] {
        let v = s(names, key);
        if v.is_empty() && key == "plural" {
            errs.push(FieldError::required(path.child(key), ""));
        } else if !v.is_empty() {
            let msgs = is_dns1035_label(v);
            if !msgs.is_empty() {
                errs.push(FieldError::invalid(path.child(key), v, msgs.join(",")));
            }
        }
    }
    for key in ["kind", "listKind"] {
        let v = s(names, key);
        if v.is_empty() {
            errs.push(FieldError::required(path.child(key), ""));
        } else {
            let msgs = is_dns1035_label(&v.to_lowercase());
            if !msgs.is_empty() {
                errs.push(FieldError::invalid(path.child(key), v, msgs.join(",")));
            }
        }
    }
    if !s(names, "kind").is_empty() && s(names, "kind") == s(names, "listKind") {
        errs.push(FieldError::invalid(
            path.child("listKind"),
            s(names, "listKind"),
            "kind and listKind may not be the same",
        ));
    }
}
