//! Validation of RBAC roles and bindings.

use super::{arr, s};
use apimachinery::validation::{is_dns1123_subdomain, is_path_segment_name};
use apimachinery::{ErrorList, FieldError, Path};
use serde_json::Value;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn strings(v: &Value, key: &str) -> Value {
    v.get(key).cloned().unwrap_or(Value::Null)
}

pub(crate) fn role(obj: &Value, namespaced: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, rule) in arr(obj, "rules").iter().enumerate() {
        let p = Path::new("rules").index(i);
        if arr(rule, "verbs").is_empty() {
            errs.push(FieldError::required(
                p.child("verbs"),
                "verbs must contain at least one value",
            ));
        }
        if !arr(rule, "nonResourceURLs").is_empty() {
            if namespaced {
                errs.push(FieldError::invalid(
                    p.child("nonResourceURLs"),
                    strings(rule, "nonResourceURLs"),
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            if !arr(rule, "apiGroups").is_empty()
                || !arr(rule, "resources").is_empty()
                || !arr(rule, "resourceNames").is_empty()
            {
                errs.push(FieldError::invalid(
                    p.child("nonResourceURLs"),
                    strings(rule, "nonResourceURLs"),
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if arr(rule, "apiGroups").is_empty() {
            errs.push(FieldError::required(
                p.child("apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if arr(rule, "resources").is_empty() {
            errs.push(FieldError::required(
                p.child("resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
    if !namespaced
        && let Some(agg) = obj.get("aggregationRule").filter(|a| !a.is_null())
        && arr(agg, "clusterRoleSelectors").is_empty()
    {
        errs.push(FieldError::required(
            Path::new("aggregationRule").child("clusterRoleSelectors"),
            "at least one clusterRoleSelector required if aggregationRule is non-nil",
        ));
    }
    errs
}

pub(crate) fn binding(obj: &Value, old: Option<&Value>, namespaced: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    let role_ref = obj.get("roleRef").unwrap_or(&Value::Null);
    let rp = Path::new("roleRef");
    let group = s(role_ref, "apiGroup");
    if group != RBAC_GROUP {
        errs.push(FieldError::not_supported(
            rp.child("apiGroup"),
            group,
            &[RBAC_GROUP],
        ));
    }
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    let kind = s(role_ref, "kind");
    if !kinds.contains(&kind) {
        errs.push(FieldError::not_supported(rp.child("kind"), kind, kinds));
    }
    let name = s(role_ref, "name");
    if name.is_empty() {
        errs.push(FieldError::required(rp.child("name"), ""));
    } else {
        for msg in is_path_segment_name(name) {
            errs.push(FieldError::invalid(rp.child("name"), name, msg));
        }
    }
    for (i, subject) in arr(obj, "subjects").iter().enumerate() {
        validate_subject(
            subject,
            namespaced,
            &Path::new("subjects").index(i),
            &mut errs,
        );
    }
    if let Some(old) = old
        && old.get("roleRef") != obj.get("roleRef")
    {
        errs.push(FieldError::invalid(
            rp,
            role_ref.clone(),
            "cannot change roleRef",
        ));
    }
    errs
}

fn validate_subject(subject: &Value, namespaced: bool, path: &Path, errs: &mut ErrorList) {
    let name = s(subject, "name");
    if name.is_empty() {
        errs.push(FieldError::required(path.child("name"), ""));
    }
    let group = s(subject, "apiGroup");
    match s(subject, "kind") {
        "ServiceAccount" => {
            if !name.is_empty() {
                for msg in is_dns1123_subdomain(name) {
                    errs.push(FieldError::invalid(path.child("name"), name, msg));
                }
            }
            if !group.is_empty() {
                errs.push(FieldError::not_supported(
                    path.child("apiGroup"),
                    group,
                    &[""],
                ));
            }
            if !namespaced && s(subject, "namespace").is_empty() {
                errs.push(FieldError::required(path.child("namespace"), ""));
            }
        }
        "User" | "Group" => {
            if group != RBAC_GROUP {
                errs.push(FieldError::not_supported(
                    path.child("apiGroup"),
                    group,
                    &[RBAC_GROUP],
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            path.child("kind"),
            other,
            &["ServiceAccount", "User", "Group"],
        )),
    }
}
