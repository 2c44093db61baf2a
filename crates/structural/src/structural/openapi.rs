//! The generic OpenAPI restrictions on CRD schemas (`ValidateCustomResourceDefinitionOpenAPISchema`).

use crate::node::{AdditionalProperties, Node};
use apimachinery::field::{FieldError, Path};
use serde_json::Value;

/// `specStandardValidatorV3`'s state while walking down.
#[derive(Clone, Default)]
pub(super) struct Ssv {
    /// Why a `default` is forbidden here, when it is.
    forbidden_defaults: Option<String>,
    inside_resource_meta: bool,
}

const OPENAPI_V3_TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];

pub(super) fn standard(n: &Node, path: &Path, ssv: &Ssv, is_root: bool, out: &mut Vec<FieldError>) {
    if !n.type_.is_empty() && !OPENAPI_V3_TYPES.contains(&n.type_.as_str()) {
        out.push(FieldError::not_supported(
            path.child("type"),
            n.type_.as_str(),
            &OPENAPI_V3_TYPES,
        ));
    }
    if n.default.is_some()
        && let Some(reason) = &ssv.forbidden_defaults
    {
        out.push(FieldError::forbidden(
            path.child("default"),
            format!("must not be set {reason}"),
        ));
    }
    let unsupported = [
        (n.has_id, "id", "id is not supported"),
        (
            n.has_additional_items,
            "additionalItems",
            "additionalItems is not supported",
        ),
        (
            n.has_pattern_properties,
            "patternProperties",
            "patternProperties is not supported",
        ),
        (
            n.has_definitions,
            "definitions",
            "definitions is not supported",
        ),
        (
            n.has_dependencies,
            "dependencies",
            "dependencies is not supported",
        ),
        (n.has_ref, "$ref", "$ref is not supported"),
        (
            n.type_ == "null",
            "type",
            "type cannot be set to null, use nullable as an alternative",
        ),
        (
            n.items_is_array,
            "items",
            "items must be a schema object and not an array",
        ),
        (
            ssv.inside_resource_meta && n.embedded_resource,
            "x-kubernetes-embedded-resource",
            "must not be used inside of resource meta",
        ),
        (
            n.unique_items,
            "uniqueItems",
            "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ),
    ];
    for (present, key, detail) in unsupported {
        if present {
            out.push(FieldError::forbidden(path.child(key), detail));
        }
    }
    if let Some(ap) = &n.additional_properties {
        let exclusive = !n.properties.is_empty()
            && matches!(
                ap,
                AdditionalProperties::Bool(false) | AdditionalProperties::Schema(_)
            );
        if exclusive {
            out.push(FieldError::forbidden(
                path.child("additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
        if let AdditionalProperties::Schema(s) = ap {
            let mut sub = ssv.clone();
            if ssv.inside_resource_meta {
                sub.forbidden_defaults =
                    Some("inside additionalProperties applying to object metadata".to_string());
            }
            standard(s, &path.child("additionalProperties"), &sub, false, out);
        }
    }
    for (k, p) in &n.properties {
        let mut sub = ssv.clone();
        if (is_root || n.embedded_resource)
            && ["metadata", "kind", "apiVersion"].contains(&k.as_str())
        {
            sub.inside_resource_meta = true;
            if is_root {
                sub.forbidden_defaults = Some(format!("in top-level {k}"));
            }
        }
        standard(p, &path.child("properties").key(k), &sub, false, out);
    }
    if let Some(not) = &n.not {
        standard(not, &path.child("not"), ssv, false, out);
    }
    for (key, list) in [
        ("allOf", &n.all_of),
        ("oneOf", &n.one_of),
        ("anyOf", &n.any_of),
    ] {
        for (i, s) in list.iter().enumerate() {
            standard(s, &path.child(key).index(i), ssv, false, out);
        }
    }
    if let Some(items) = &n.items {
        standard(items, &path.child("items"), ssv, false, out);
    }
    if n.preserve_unknown_fields == Some(false) {
        out.push(FieldError::invalid(
            path.child("x-kubernetes-preserve-unknown-fields"),
            false,
            "must be true or undefined",
        ));
    }
    list_and_map_types(n, path, out);
}

fn type_must_be(n: &Node, path: &Path, want: &str, why: &str, out: &mut Vec<FieldError>) {
    if n.type_ == want {
        return;
    }
    let detail = format!("must be {want} if {why}");
    if n.type_.is_empty() {
        out.push(FieldError::required(path.child("type"), detail));
    } else {
        out.push(FieldError::invalid(
            path.child("type"),
            n.type_.as_str(),
            detail,
        ));
    }
}

fn list_and_map_types(n: &Node, path: &Path, out: &mut Vec<FieldError>) {
    if let Some(mt) = &n.map_type {
        type_must_be(n, path, "object", "x-kubernetes-map-type is specified", out);
        if mt != "atomic" && mt != "granular" {
            out.push(FieldError::not_supported(
                path.child("x-kubernetes-map-type"),
                mt.as_str(),
                &["atomic", "granular"],
            ));
        }
    }
    if let Some(lt) = &n.list_type {
        if n.type_ != "array" {
            type_must_be(n, path, "array", "x-kubernetes-list-type is specified", out);
        } else if lt == "set"
            && let Some(is) = &n.items
        {
            let items_lt = is.list_type.as_deref();
            let non_atomic = match is.type_.as_str() {
                "array" => items_lt.is_some_and(|t| t != "atomic"),
                "object" => is.map_type.as_deref() != Some("atomic"),
                _ => false,
            };
            if non_atomic {
                let key = if is.type_ == "array" {
                    "x-kubernetes-list-type"
                } else {
                    "x-kubernetes-map-type"
                };
                // Go reports the items' list type as the value in both cases.
                let value = items_lt.map_or(Value::Null, Value::from);
                out.push(FieldError::invalid(
                    path.child("items").child(key),
                    value,
                    "must be atomic as item of a list with x-kubernetes-list-type=set",
                ));
            }
        }
        if !["atomic", "set", "map"].contains(&lt.as_str()) {
            out.push(FieldError::not_supported(
                path.child("x-kubernetes-list-type"),
                lt.as_str(),
                &["atomic", "set", "map"],
            ));
        }
    }
    if !n.list_map_keys.is_empty() {
        match n.list_type.as_deref() {
            None => out.push(FieldError::required(
                path.child("x-kubernetes-list-type"),
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
            Some("map") => {}
            Some(other) => out.push(FieldError::invalid(
                path.child("x-kubernetes-list-type"),
                other,
                "must be map if x-kubernetes-list-map-keys is non-empty",
            )),
        }
    }
    if n.list_type.as_deref() == Some("map") {
        list_map(n, path, out);
    }
    if let (Some(lt), Some(items)) = (n.list_type.as_deref(), &n.items)
        && (lt == "set" || lt == "map")
    {
        if items.nullable {
            out.push(FieldError::forbidden(
                path.child("items").child("nullable"),
                format!("cannot be nullable when x-kubernetes-list-type is {lt}"),
            ));
        }
        if lt == "map" {
            for k in &n.list_map_keys {
                let Some(p) = items.property(k) else { continue };
                let p_path = path.child("items").child("properties").key(k);
                if !items.required.contains(k) && p.default.is_none() {
                    out.push(FieldError::required(
                        p_path.child("default"),
                        "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
                    ));
                }
                if p.nullable {
                    out.push(FieldError::forbidden(
                        p_path.child("nullable"),
                        "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                    ));
                }
            }
        }
    }
}

fn list_map(n: &Node, path: &Path, out: &mut Vec<FieldError>) {
    if n.list_map_keys.is_empty() {
        out.push(FieldError::required(
            path.child("x-kubernetes-list-map-keys"),
            "must not be empty if x-kubernetes-list-type is map",
        ));
    }
    let Some(items) = &n.items else {
        if n.items_is_array {
            out.push(FieldError::invalid(
                path.child("items"),
                "",
                "must only have a single schema if x-kubernetes-list-type is map",
            ));
        } else {
            out.push(FieldError::required(
                path.child("items"),
                "must have a schema if x-kubernetes-list-type is map",
            ));
        }
        return;
    };
    if items.type_ != "object" {
        out.push(FieldError::invalid(
            path.child("items").child("type"),
            items.type_.as_str(),
            "must be object if parent array's x-kubernetes-list-type is map",
        ));
        return;
    }
    let keys_value = Value::from(n.list_map_keys.clone());
    let mut seen: Vec<&str> = Vec::new();
    for k in &n.list_map_keys {
        match items.property(k) {
            Some(p) if p.type_ == "array" || p.type_ == "object" => {
                out.push(FieldError::invalid(
                    path.child("items").child("properties").key(k).child("type"),
                    items.type_.as_str(),
                    "must be a scalar type if parent array's x-kubernetes-list-type is map",
                ));
            }
            Some(_) => {}
            None => out.push(FieldError::invalid(
                path.child("x-kubernetes-list-map-keys"),
                keys_value.clone(),
                "entries must all be names of item properties",
            )),
        }
        if seen.contains(&k.as_str()) {
            out.push(FieldError::invalid(
                path.child("x-kubernetes-list-map-keys"),
                keys_value.clone(),
                "must not contain duplicate entries",
            ));
        }
        seen.push(k);
    }
}
