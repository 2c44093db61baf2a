//! Schemas apiextensions.k8s.io/v1 refuses, with the errors kube-apiserver reports for them.

use super::{crd_path, rendered};
use crate::Schema;
use serde_json::{Value, json};

const P: &str = "spec.versions[0].schema.openAPIV3Schema";

fn errors(schema: Value) -> Vec<String> {
    match Schema::from_openapi_v3(&schema, &crd_path()) {
        Ok(_) => Vec::new(),
        Err(e) => rendered(&e),
    }
}

/// A root schema whose `spec` has the given properties.
fn spec_props(props: Value) -> Value {
    json!({"type": "object", "properties": {"spec": {"type": "object", "properties": props}}})
}

fn expect(schema: Value, want: &[String]) {
    assert_eq!(errors(schema.clone()), want, "{schema}");
}

fn one(s: &str) -> Vec<String> {
    vec![format!("{P}{s}")]
}

#[test]
fn types_are_required() {
    expect(
        json!({"type": "object", "properties": {"spec": {"properties": {}}}}),
        &one(
            ".properties[spec].type: Required value: must not be empty for specified object fields",
        ),
    );
    expect(
        json!({"properties": {"spec": {"type": "object"}}}),
        &one(".type: Required value: must not be empty at the root"),
    );
    expect(
        spec_props(json!({"l": {"type": "array", "items": {}}})),
        &one(
            ".properties[spec].properties[l].items.type: Required value: must not be empty for specified array items",
        ),
    );
    expect(
        spec_props(json!({"l": {"type": "array"}})),
        &one(".properties[spec].properties[l].items: Required value: must be specified"),
    );
    expect(
        json!({"type": "string"}),
        &one(".type: Invalid value: \"string\": must be object at the root"),
    );
    // Untyped nodes are fine when they preserve unknown fields or are int-or-string.
    expect(
        spec_props(
            json!({"any": {"x-kubernetes-preserve-unknown-fields": true}, "port": {"x-kubernetes-int-or-string": true}}),
        ),
        &[],
    );
}

#[test]
fn unsupported_keywords_are_forbidden() {
    let cases: &[(Value, &str)] = &[
        (
            json!({"type": "foo"}),
            ".properties[spec].properties[x].type: Unsupported value: \"foo\": supported values: \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\"",
        ),
        (
            json!({"type": "array", "items": {"type": "string"}, "uniqueItems": true}),
            ".properties[spec].properties[x].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        ),
        (
            json!({"type": "object", "$ref": "#/definitions/x"}),
            ".properties[spec].properties[x].$ref: Forbidden: $ref is not supported",
        ),
        (
            json!({"type": "object", "patternProperties": {"^a": {"type": "string"}}}),
            ".properties[spec].properties[x].patternProperties: Forbidden: patternProperties is not supported",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}}),
            ".properties[spec].properties[x].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
        ),
        (
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": false}),
            ".properties[spec].properties[x].x-kubernetes-preserve-unknown-fields: Invalid value: false: must be true or undefined",
        ),
    ];
    for (x, want) in cases {
        expect(spec_props(json!({ "x": x })), &one(want));
    }
    assert_eq!(
        errors(spec_props(json!({"x": {"type": "null"}}))),
        [
            format!(
                "{P}.properties[spec].properties[x].type: Unsupported value: \"null\": supported values: \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\""
            ),
            format!(
                "{P}.properties[spec].properties[x].type: Forbidden: type cannot be set to null, use nullable as an alternative"
            ),
        ]
    );
}

#[test]
fn root_restrictions() {
    expect(
        json!({"type": "object", "additionalProperties": {"type": "string"}}),
        &one(".additionalProperties: Forbidden: must not be used at the root"),
    );
    expect(
        json!({"type": "object", "properties": {"metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}}}),
        &one(
            ".properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
        ),
    );
    expect(
        json!({"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}}}}),
        &[],
    );
    expect(
        json!({"type": "object", "properties": {"metadata": {"type": "object", "default": {}}}}),
        &one(".properties[metadata].default: Forbidden: must not be set in top-level metadata"),
    );
    expect(
        json!({"type": "object", "properties": {"kind": {"type": "integer"}}}),
        &one(".properties[kind].type: Invalid value: \"integer\": must be string"),
    );
}

#[test]
fn junctors_hold_value_validations_only() {
    expect(
        spec_props(json!({"x": {"type": "string", "anyOf": [{"type": "string", "maxLength": 3}]}})),
        &one(
            ".properties[spec].properties[x].anyOf[0].type: Forbidden: must be empty to be structural",
        ),
    );
    expect(
        spec_props(
            json!({"x": {"type": "string", "oneOf": [{"default": "a"}, {"description": "d"}]}}),
        ),
        &[
            format!(
                "{P}.properties[spec].properties[x].oneOf[0].default: Forbidden: must be undefined to be structural"
            ),
            format!(
                "{P}.properties[spec].properties[x].oneOf[1].description: Forbidden: must be empty to be structural"
            ),
        ],
    );
    // Every field a root junctor constrains must be specified outside it.
    expect(
        json!({"type": "object", "properties": {"spec": {"type": "object"}},
               "anyOf": [{"properties": {"spec": {"properties": {"foo": {"minimum": 1}}}}}, {"properties": {"bar": {"type": "string"}}}]}),
        &[
            format!("{P}.anyOf[1].properties[bar].type: Forbidden: must be empty to be structural"),
            format!(
                "{P}.properties[bar]: Required value: because it is defined in {P}.anyOf[1].properties[bar]"
            ),
            format!(
                "{P}.properties[spec].properties[foo]: Required value: because it is defined in {P}.anyOf[0].properties[spec].properties[foo]"
            ),
        ],
    );
    // kube-apiserver does not follow junctors below the root for this check.
    expect(
        spec_props(
            json!({"x": {"type": "object", "allOf": [{"properties": {"foo": {"minimum": 1}}}]}}),
        ),
        &[],
    );
    // The two int-or-string patterns are the exception.
    expect(
        spec_props(json!({
            "a": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "b": {"x-kubernetes-int-or-string": true, "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"pattern": "^[0-9]+%?$"}]}
        })),
        &[],
    );
}

#[test]
fn list_and_map_types() {
    let item = json!({"type": "object", "properties": {"name": {"type": "string"}}});
    let cases: &[(Value, &str)] = &[
        (
            json!({"type": "array", "items": item, "x-kubernetes-list-type": "map"}),
            ".properties[spec].properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map",
        ),
        (
            json!({"type": "array", "items": item, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]}),
            ".properties[spec].properties[l].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
        ),
        (
            json!({"type": "object", "x-kubernetes-list-type": "set"}),
            ".properties[spec].properties[l].type: Invalid value: \"object\": must be array if x-kubernetes-list-type is specified",
        ),
        (
            json!({"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "bag"}),
            ".properties[spec].properties[l].x-kubernetes-list-type: Unsupported value: \"bag\": supported values: \"atomic\", \"set\", \"map\"",
        ),
        (
            json!({"type": "object", "x-kubernetes-map-type": "loose"}),
            ".properties[spec].properties[l].x-kubernetes-map-type: Unsupported value: \"loose\": supported values: \"atomic\", \"granular\"",
        ),
    ];
    for (l, want) in cases {
        expect(spec_props(json!({ "l": l })), &one(want));
    }
}

#[test]
fn defaults_must_validate_and_be_pruned() {
    expect(
        spec_props(json!({"size": {"type": "integer", "default": "big"}})),
        &one(
            ".properties[spec].properties[size].default: Invalid value: \"string\":  in body must be of type integer: \"string\"",
        ),
    );
    expect(
        spec_props(json!({"size": {"type": "integer", "maximum": 5, "default": 7}})),
        &one(
            ".properties[spec].properties[size].default: Invalid value: 7:  in body should be less than or equal to 5",
        ),
    );
    expect(
        spec_props(
            json!({"o": {"type": "object", "properties": {"a": {"type": "integer"}}, "default": {"a": 1, "bogus": 2}}}),
        ),
        &one(
            ".properties[spec].properties[o].default: Invalid value: {\"a\":1,\"bogus\":2}: must not have unknown fields",
        ),
    );
    expect(
        spec_props(
            json!({"o": {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}, "default": {}}}),
        ),
        &one(".properties[spec].properties[o].default.a: Required value"),
    );
    expect(
        spec_props(json!({"size": {"type": "integer", "default": 3}})),
        &[],
    );
}

#[test]
fn invalid_pattern_and_embedded_resources() {
    let errs = errors(spec_props(json!({"x": {"type": "string", "pattern": "("}})));
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with(&format!("{P}.properties[spec].properties[x].pattern: Invalid value: \"(\": must be a valid regular expression, but isn't: ")),
        "{errs:?}"
    );
    expect(
        spec_props(json!({"e": {"x-kubernetes-embedded-resource": true}})),
        &[
            format!(
                "{P}.properties[spec].properties[e].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"
            ),
            format!(
                "{P}.properties[spec].properties[e].type: Required value: must be object if x-kubernetes-embedded-resource is true"
            ),
        ],
    );
    expect(
        spec_props(
            json!({"e": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}}),
        ),
        &[],
    );
}

#[test]
fn order_follows_kube_apiserver() {
    // Root nullable first, then structural errors, then the generic OpenAPI restrictions.
    expect(
        json!({"nullable": true, "properties": {"l": {"type": "array", "items": {"type": "string"}, "uniqueItems": true}}}),
        &[
            format!("{P}.nullable: Forbidden: nullable cannot be true at the root"),
            format!("{P}.type: Required value: must not be empty at the root"),
            format!(
                "{P}.properties[l].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic"
            ),
        ],
    );
    // A schema Go cannot convert gets only the generic errors.
    expect(
        spec_props(json!({"l": {"type": "array", "items": [{"type": "string"}]}})),
        &one(
            ".properties[spec].properties[l].items: Forbidden: items must be a schema object and not an array",
        ),
    );
}

#[test]
fn malformed_schema_json_is_reported() {
    expect(
        json!({"type": 5}),
        &one(".type: Invalid value: 5: must be a string"),
    );
    expect(
        json!({"type": "object", "properties": []}),
        &one(".properties: Invalid value: []: must be an object"),
    );
}
