//! `ObjectMeta` validation on create and update, as `ValidateObjectMeta` and
//! `ValidateObjectMetaUpdate` do it, over the JSON form of `metadata`.

use crate::field::{ErrorList, FieldError, Path};
use crate::labels::validate_labels;
use crate::validation::{is_dns1123_label, is_qualified_name};
use serde_json::{Map, Value};

/// Checks a name (`false`) or a `generateName` prefix (`true`): see `validation::names`.
pub type NameValidator = fn(&str, bool) -> Vec<String>;

/// The most bytes all annotation keys and values may take together.
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;
/// The detail of every immutable-field error.
pub const FIELD_IMMUTABLE: &str = "field is immutable";
const FIELD_MANAGER_MAX_LENGTH: usize = 128;
const MAX_SUBRESOURCE_NAME_LENGTH: usize = 256;

fn str_field<'a>(meta: &'a Value, name: &str) -> &'a str {
    meta.get(name).and_then(Value::as_str).unwrap_or("")
}

/// A map-valued field; `None` when absent, an error when not a map.
fn map_field<'a>(
    meta: &'a Value,
    name: &str,
    path: &Path,
    errs: &mut ErrorList,
) -> Option<&'a Map<String, Value>> {
    match meta.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            errs.push(FieldError::type_invalid(
                path.child(name),
                other.clone(),
                "must be of type object",
            ));
            None
        }
    }
}

fn list_field<'a>(meta: &'a Value, name: &str, path: &Path, errs: &mut ErrorList) -> &'a [Value] {
    match meta.get(name) {
        None | Some(Value::Null) => &[],
        Some(Value::Array(a)) => a,
        Some(other) => {
            errs.push(FieldError::type_invalid(
                path.child(name),
                other.clone(),
                "must be of type array",
            ));
            &[]
        }
    }
}

/// Validates the `metadata` of an object being created.
///
/// `namespaced` says whether the resource lives in namespaces; `name_validator` checks
/// `name` and `generateName` (for example `validation::names::dns_subdomain`); `path`
/// is usually `Path::new("metadata")`.
pub fn validate_object_meta(
    meta: &Value,
    namespaced: bool,
    name_validator: NameValidator,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let generate_name = str_field(meta, "generateName");
    if !generate_name.is_empty() {
        for msg in name_validator(generate_name, true) {
            errs.push(FieldError::invalid(
                path.child("generateName"),
                generate_name,
                msg,
            ));
        }
    }
    let name = str_field(meta, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            path.child("name"),
            "name or generateName is required",
        ));
    } else {
        for msg in name_validator(name, false) {
            errs.push(FieldError::invalid(path.child("name"), name, msg));
        }
    }
    let namespace = str_field(meta, "namespace");
    if namespaced {
        if namespace.is_empty() {
            errs.push(FieldError::required(path.child("namespace"), ""));
        } else {
            for msg in is_dns1123_label(namespace) {
                errs.push(FieldError::invalid(path.child("namespace"), namespace, msg));
            }
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError::forbidden(
            path.child("namespace"),
            "not allowed on this type",
        ));
    }
    if let Some(generation) = meta.get("generation").and_then(Value::as_i64)
        && generation < 0
    {
        errs.push(FieldError::invalid(
            path.child("generation"),
            generation,
            "must be greater than or equal to 0",
        ));
    }
    errs.extend(validate_common(meta, path));
    errs.extend(validate_finalizers(meta, path));
    errs
}

/// Labels, annotations, owner references and managed fields: checked on create and update.
fn validate_common(meta: &Value, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(labels) = map_field(meta, "labels", path, &mut errs) {
        errs.extend(validate_labels(labels, &path.child("labels")));
    }
    if let Some(annotations) = map_field(meta, "annotations", path, &mut errs) {
        errs.extend(validate_annotations(
            annotations,
            &path.child("annotations"),
        ));
    }
    let owners = list_field(meta, "ownerReferences", path, &mut errs);
    errs.extend(validate_owner_references(
        owners,
        &path.child("ownerReferences"),
    ));
    let managed = list_field(meta, "managedFields", path, &mut errs);
    errs.extend(validate_managed_fields(
        managed,
        &path.child("managedFields"),
    ));
    errs
}

/// `ValidateAnnotations`: keys are qualified names (checked lower-cased), and keys plus
/// values fit in 256 KiB.
pub fn validate_annotations(annotations: &Map<String, Value>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut total = 0usize;
    for (k, v) in annotations {
        for msg in is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path.clone(), k.as_str(), msg));
        }
        match v {
            Value::String(s) => total += k.len() + s.len(),
            other => errs.push(FieldError::type_invalid(
                path.key(k),
                other.clone(),
                "must be of type string",
            )),
        }
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(
            path.clone(),
            TOTAL_ANNOTATION_SIZE_LIMIT,
        ));
    }
    errs
}

/// The version part of an apiVersion, empty when it cannot be parsed (`a/b/c`).
fn api_version_version(api_version: &str) -> &str {
    match api_version.split_once('/') {
        None => api_version,
        Some((_, v)) if !v.contains('/') => v,
        Some(_) => "",
    }
}

/// An owner reference re-serialised in `metav1.OwnerReference` field order, as Go
/// prints it in error values.
fn owner_reference_json(r: &Value) -> Value {
    let mut out = Map::new();
    for k in ["apiVersion", "kind", "name", "uid"] {
        out.insert(k.into(), Value::from(str_field(r, k)));
    }
    for k in ["controller", "blockOwnerDeletion"] {
        if let Some(b) = r.get(k).and_then(Value::as_bool) {
            out.insert(k.into(), Value::Bool(b));
        }
    }
    Value::Object(out)
}

/// `ValidateOwnerReferences`: required fields, banned owner kinds, at most one controller.
/// Errors carry the list's path, not an indexed one, as in Kubernetes.
pub fn validate_owner_references(refs: &[Value], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut first_controller: Option<String> = None;
    for r in refs {
        let api_version = str_field(r, "apiVersion");
        let kind = str_field(r, "kind");
        let name = str_field(r, "name");
        let version = api_version_version(api_version);
        if version.is_empty() {
            errs.push(FieldError::invalid(
                path.child("apiVersion"),
                api_version,
                "version must not be empty",
            ));
        }
        for (field, value) in [("kind", kind), ("name", name), ("uid", str_field(r, "uid"))] {
            if value.is_empty() {
                errs.push(FieldError::invalid(
                    path.child(field),
                    value,
                    "must not be empty",
                ));
            }
        }
        if api_version == "v1" && kind == "Event" {
            errs.push(FieldError::invalid(
                path.clone(),
                owner_reference_json(r),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if r.get("controller").and_then(Value::as_bool) == Some(true) {
            let current = format!("{kind}/{name}");
            match &first_controller {
                Some(first) => errs.push(FieldError::invalid(
                    path.clone(),
                    Value::Array(refs.iter().map(owner_reference_json).collect()),
                    format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                    ),
                )),
                None => first_controller = Some(current),
            }
        }
    }
    errs
}

fn string_list(meta: &Value, name: &str) -> Vec<String> {
    meta.get(name)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `ValidateFinalizers`: qualified names, and not both `orphan` and `foregroundDeletion`.
fn validate_finalizers(meta: &Value, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let p = path.child("finalizers");
    let finalizers = list_field(meta, "finalizers", path, &mut errs);
    for f in finalizers {
        match f.as_str() {
            Some(s) => {
                for msg in is_qualified_name(s) {
                    errs.push(FieldError::invalid(p.clone(), s, msg));
                }
            }
            None => errs.push(FieldError::type_invalid(
                p.clone(),
                f.clone(),
                "must be of type string",
            )),
        }
    }
    let names = string_list(meta, "finalizers");
    if names.iter().any(|f| f == "orphan") && names.iter().any(|f| f == "foregroundDeletion") {
        errs.push(FieldError::invalid(
            p,
            Value::from(names),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errs
}

/// `ValidateManagedFields`: operation, fieldsType, manager and subresource shape.
fn validate_managed_fields(entries: &[Value], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, e) in entries.iter().enumerate() {
        let p = path.index(i);
        let op = str_field(e, "operation");
        if op != "Apply" && op != "Update" {
            errs.push(FieldError::invalid(
                p.child("operation"),
                op,
                "must be `Apply` or `Update`",
            ));
        }
        let fields_type = str_field(e, "fieldsType");
        if !fields_type.is_empty() && fields_type != "FieldsV1" {
            errs.push(FieldError::invalid(
                p.child("fieldsType"),
                fields_type,
                "must be `FieldsV1`",
            ));
        }
        let manager = str_field(e, "manager");
        if manager.len() > FIELD_MANAGER_MAX_LENGTH {
            errs.push(FieldError::too_long(
                p.child("manager"),
                FIELD_MANAGER_MAX_LENGTH,
            ));
        }
        for (pos, c) in manager.char_indices() {
            if !is_go_printable(c) {
                errs.push(FieldError::invalid(
                    p.child("manager"),
                    manager,
                    format!(
                        "invalid character {} (at position {pos})",
                        go_unicode_verb(c)
                    ),
                ));
            }
        }
        if str_field(e, "subresource").len() > MAX_SUBRESOURCE_NAME_LENGTH {
            errs.push(FieldError::too_long(
                p.child("subresource"),
                MAX_SUBRESOURCE_NAME_LENGTH,
            ));
        }
    }
    errs
}

/// Approximates Go's `unicode.IsPrint`: no control characters and no separators other
/// than the ASCII space.
fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control() || c.is_whitespace() || matches!(c, '\u{FFFD}'))
}

/// Go's `%#U`: `U+0007` or `U+00E9 'é'` for printable runes.
fn go_unicode_verb(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// Validates `metadata` on update against the stored object's.
///
/// The caller first copies what kube-apiserver's `BeforeUpdate` copies from the old
/// object (uid when absent, creationTimestamp, generation), as the API server does.
pub fn validate_object_meta_update(new: &Value, old: &Value, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if !old.get("deletionTimestamp").is_none_or(Value::is_null) {
        let old_f = string_list(old, "finalizers");
        let mut extra: Vec<String> = string_list(new, "finalizers")
            .into_iter()
            .filter(|f| !old_f.contains(f))
            .collect();
        extra.sort_unstable();
        extra.dedup();
        if !extra.is_empty() {
            let quoted: Vec<String> = extra.iter().map(|f| format!("{f:?}")).collect();
            errs.push(FieldError::forbidden(
                path.child("finalizers"),
                format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
                    quoted.join(", ")
                ),
            ));
        }
    }
    let rv = str_field(new, "resourceVersion");
    if rv.is_empty() {
        errs.push(FieldError::invalid(
            path.child("resourceVersion"),
            rv,
            "must be specified for an update",
        ));
    }
    let new_gen = new.get("generation").and_then(Value::as_i64).unwrap_or(0);
    let old_gen = old.get("generation").and_then(Value::as_i64).unwrap_or(0);
    if new_gen < old_gen {
        errs.push(FieldError::invalid(
            path.child("generation"),
            new_gen,
            "must not be decremented",
        ));
    }
    for (field, default) in [
        ("name", Value::from("")),
        ("namespace", Value::from("")),
        ("uid", Value::from("")),
        // A zero metav1.Time marshals as null.
        ("creationTimestamp", Value::Null),
        ("deletionTimestamp", Value::Null),
        ("deletionGracePeriodSeconds", Value::Null),
    ] {
        let n = new.get(field).cloned().unwrap_or_else(|| default.clone());
        let o = old.get(field).cloned().unwrap_or(default);
        if n != o {
            errs.push(FieldError::invalid(path.child(field), n, FIELD_IMMUTABLE));
        }
    }
    errs.extend(validate_common(new, path));
    errs
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "meta_validation_tests.rs"]
mod tests;
