//! Structurality (`ValidateStructural`): invariants of the structure and completeness of junctors.

use crate::node::Node;
use apimachinery::field::{FieldError, Path};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    Root,
    Item,
    Field,
}

/// `validateStructuralInvariants`.
pub(super) fn invariants(s: &Node, lvl: Level, path: &Path, out: &mut Vec<FieldError>) {
    if s.type_ == "array" && s.items.is_none() {
        out.push(FieldError::required(
            path.child("items"),
            "must be specified",
        ));
    }
    if let Some(items) = &s.items {
        invariants(items, Level::Item, &path.child("items"), out);
    }
    for (k, p) in &s.properties {
        invariants(p, Level::Field, &path.child("properties").key(k), out);
    }
    if let Some(ap) = &s.additional_properties {
        if lvl == Level::Root {
            out.push(FieldError::forbidden(
                path.child("additionalProperties"),
                "must not be used at the root",
            ));
        }
        if let Some(ap) = ap.schema() {
            invariants(ap, Level::Field, &path.child("additionalProperties"), out);
        }
    }
    if s.int_or_string && s.preserves_unknown() {
        out.push(FieldError::invalid(
            path.child("x-kubernetes-preserve-unknown-fields"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    if s.int_or_string && s.embedded_resource {
        out.push(FieldError::invalid(
            path.child("x-kubernetes-embedded-resource"),
            true,
            "must be false if x-kubernetes-int-or-string is true",
        ));
    }
    let skip_any_of = int_or_string_any_of(&s.any_of);
    let skip_first_all_of_any_of = s
        .all_of
        .first()
        .is_some_and(|a| int_or_string_any_of(&a.any_of));
    value_validation(s, skip_any_of, skip_first_all_of_any_of, lvl, path, out);

    let check_metadata = lvl == Level::Root || s.embedded_resource;
    if s.embedded_resource && s.type_ != "object" {
        let detail = "must be object if x-kubernetes-embedded-resource is true";
        if s.type_.is_empty() {
            out.push(FieldError::required(path.child("type"), detail));
        } else {
            out.push(FieldError::invalid(
                path.child("type"),
                s.type_.as_str(),
                detail,
            ));
        }
    } else if s.type_.is_empty() && !s.int_or_string && !s.preserves_unknown() {
        let detail = match lvl {
            Level::Root => "must not be empty at the root",
            Level::Item => "must not be empty for specified array items",
            Level::Field => "must not be empty for specified object fields",
        };
        out.push(FieldError::required(path.child("type"), detail));
    }
    if s.embedded_resource && s.additional_properties.is_some() {
        out.push(FieldError::forbidden(
            path.child("additionalProperties"),
            "must not be used if x-kubernetes-embedded-resource is set",
        ));
    }
    if lvl == Level::Root && !s.type_.is_empty() && s.type_ != "object" {
        out.push(FieldError::invalid(
            path.child("type"),
            s.type_.as_str(),
            "must be object at the root",
        ));
    }
    for k in ["kind", "apiVersion"] {
        if let Some(p) = s.property(k)
            && check_metadata
            && p.type_ != "string"
        {
            out.push(FieldError::invalid(
                path.child("properties").key(k).child("type"),
                p.type_.as_str(),
                "must be string",
            ));
        }
    }
    if let Some(m) = s.property("metadata") {
        metadata_invariants(
            m,
            check_metadata,
            lvl,
            &path.child("properties").key("metadata"),
            out,
        );
    }
    if s.embedded_resource && !s.preserves_unknown() && s.properties.is_empty() {
        out.push(FieldError::required(
            path.child("properties"),
            "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
        ));
    }
}

fn metadata_invariants(
    m: &Node,
    check_metadata: bool,
    lvl: Level,
    path: &Path,
    out: &mut Vec<FieldError>,
) {
    if check_metadata && m.type_ != "object" {
        out.push(FieldError::invalid(
            path.child("type"),
            m.type_.as_str(),
            "must be object",
        ));
    }
    if lvl != Level::Root {
        return;
    }
    let names: Vec<&str> = m.properties.iter().map(|(k, _)| k.as_str()).collect();
    let only_names = !names.is_empty()
        && names.len() <= 2
        && names.iter().all(|k| *k == "name" || *k == "generateName");
    // Only type, default and a name/generateName restriction may be written on metadata.
    let allowed = |k: &str| k == "type" || k == "default" || (k == "properties" && only_names);
    if !m.raw_keys.iter().all(|k| allowed(k)) {
        out.push(FieldError::forbidden(
            path.clone(),
            "must not specify anything other than name and generateName, but metadata is implicitly specified",
        ));
    }
}

/// Whether `anyOf` is exactly `[{type: integer}, {type: string}]`.
fn int_or_string_any_of(any_of: &[Node]) -> bool {
    let bare = |n: &Node, t: &str| n.type_ == t && n.raw_keys.len() == 1;
    any_of.len() == 2 && bare(&any_of[0], "integer") && bare(&any_of[1], "string")
}

/// `validateValueValidation`: the junctors of a node and its pattern.
fn value_validation(
    v: &Node,
    skip_any_of: bool,
    skip_first_all_of_any_of: bool,
    lvl: Level,
    path: &Path,
    out: &mut Vec<FieldError>,
) {
    if !skip_any_of {
        for (i, s) in v.any_of.iter().enumerate() {
            nested(s, false, lvl, &path.child("anyOf").index(i), out);
        }
    }
    for (i, s) in v.all_of.iter().enumerate() {
        nested(
            s,
            skip_first_all_of_any_of && i == 0,
            lvl,
            &path.child("allOf").index(i),
            out,
        );
    }
    for (i, s) in v.one_of.iter().enumerate() {
        nested(s, false, lvl, &path.child("oneOf").index(i), out);
    }
    if let Some(not) = &v.not {
        nested(not, false, lvl, &path.child("not"), out);
    }
    if let Some(p) = &v.pattern
        && let Err(e) = &p.regex
    {
        out.push(FieldError::invalid(
            path.child("pattern"),
            p.source.as_str(),
            format!("must be a valid regular expression, but isn't: {e}"),
        ));
    }
}

/// `validateNestedValueValidation`: inside a junctor only value validations may appear.
fn nested(v: &Node, skip_any_of: bool, lvl: Level, path: &Path, out: &mut Vec<FieldError>) {
    value_validation(v, skip_any_of, false, lvl, path, out);
    if let Some(items) = &v.items {
        nested(items, false, lvl, &path.child("items"), out);
    }
    for (k, p) in &v.properties {
        nested(
            p,
            false,
            Level::Field,
            &path.child("properties").key(k),
            out,
        );
    }
    let forbidden: [(bool, &str, &str); 13] = [
        (
            !v.type_.is_empty(),
            "type",
            "must be empty to be structural",
        ),
        (
            v.additional_properties.is_some(),
            "additionalProperties",
            "must be undefined to be structural",
        ),
        (
            v.default.is_some(),
            "default",
            "must be undefined to be structural",
        ),
        (v.has_title, "title", "must be empty to be structural"),
        (
            v.has_description,
            "description",
            "must be empty to be structural",
        ),
        (v.nullable, "nullable", "must be false to be structural"),
        (
            v.has_external_docs,
            "externalDocs",
            "must be undefined to be structural",
        ),
        (
            v.preserves_unknown(),
            "x-kubernetes-preserve-unknown-fields",
            "must be false to be structural",
        ),
        (
            v.embedded_resource,
            "x-kubernetes-embedded-resource",
            "must be false to be structural",
        ),
        (
            v.int_or_string,
            "x-kubernetes-int-or-string",
            "must be false to be structural",
        ),
        (
            !v.list_map_keys.is_empty(),
            "x-kubernetes-list-map-keys",
            "must be empty to be structural",
        ),
        (
            v.list_type.is_some(),
            "x-kubernetes-list-type",
            "must be undefined to be structural",
        ),
        (
            v.map_type.is_some(),
            "x-kubernetes-map-type",
            "must be undefined to be structural",
        ),
    ];
    for (present, key, detail) in forbidden {
        if present {
            out.push(FieldError::forbidden(path.child(key), detail));
        }
    }
    if v.has_x_validations {
        out.push(FieldError::forbidden(
            path.child("x-kubernetes-validations"),
            "must be empty to be structural",
        ));
    }
    if v.property("metadata").is_some() {
        out.push(FieldError::forbidden(
            path.child("properties").key("metadata"),
            "must not be specified in a nested context",
        ));
    }
}

/// `validateStructuralCompleteness`: what a junctor constrains must exist in the structure.
/// Kubernetes applies it to the root's junctors only (nested ones are not followed).
pub(super) fn completeness(root: &Node, path: &Path, out: &mut Vec<FieldError>) {
    junctor_completeness(root, root, path, path, out);
}

fn junctor_completeness(
    v: &Node,
    s: &Node,
    s_path: &Path,
    v_path: &Path,
    out: &mut Vec<FieldError>,
) {
    for (key, list) in [
        ("allOf", &v.all_of),
        ("anyOf", &v.any_of),
        ("oneOf", &v.one_of),
    ] {
        for (i, j) in list.iter().enumerate() {
            nested_completeness(j, s, s_path, &v_path.child(key).index(i), out);
        }
    }
    if let Some(not) = &v.not {
        nested_completeness(not, s, s_path, &v_path.child("not"), out);
    }
}

fn nested_completeness(
    v: &Node,
    s: &Node,
    s_path: &Path,
    v_path: &Path,
    out: &mut Vec<FieldError>,
) {
    junctor_completeness(v, s, s_path, v_path, out);
    if let Some(vi) = &v.items {
        let vp = v_path.child("items");
        match &s.items {
            Some(si) => nested_completeness(vi, si, &s_path.child("items"), &vp, out),
            None => out.push(FieldError::required(
                s_path.child("items"),
                format!("because it is defined in {vp}"),
            )),
        }
    }
    for (k, vf) in &v.properties {
        let vp = v_path.child("properties").key(k);
        let sp = s_path.child("properties").key(k);
        match s.property(k) {
            Some(sf) => nested_completeness(vf, sf, &sp, &vp, out),
            None => out.push(FieldError::required(
                sp,
                format!("because it is defined in {vp}"),
            )),
        }
    }
}
