//! One table per validation keyword: the object, and the errors kube-apiserver renders for it.

use super::{rendered, schema};
use crate::Schema;
use serde_json::{Value, json};

/// A CRD schema whose `spec` has one property `x` with the given schema.
fn with_x(x: Value) -> Value {
    json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {"x": x}}}})
}

/// Runs each `(value of spec.x, expected errors)` case against a checked schema.
fn check(x_schema: Value, cases: &[(Value, &[&str])]) {
    let s = schema(with_x(x_schema.clone()));
    run(&s, &x_schema, cases);
}

fn run(s: &Schema, x_schema: &Value, cases: &[(Value, &[&str])]) {
    for (value, want) in cases {
        let obj = json!({"spec": {"x": value}});
        let got = rendered(&s.validate(&obj));
        assert_eq!(got, *want, "schema {x_schema}, value {value}");
    }
}

#[test]
fn type_keyword() {
    check(
        json!({"type": "integer"}),
        &[
            (json!(3), &[]),
            (json!(3.0), &[]),
            (
                json!("string"),
                &[
                    "spec.x: Invalid value: \"string\": spec.x in body must be of type integer: \"string\"",
                ],
            ),
            (
                json!(null),
                &[
                    "spec.x: Invalid value: \"null\": spec.x in body must be of type integer: \"null\"",
                ],
            ),
        ],
    );
    check(
        json!({"type": "number"}),
        &[(json!(3), &[]), (json!(2.5), &[])],
    );
    check(
        json!({"type": "boolean"}),
        &[(
            json!({"a": 1}),
            &[
                "spec.x: Invalid value: \"object\": spec.x in body must be of type boolean: \"object\"",
            ],
        )],
    );
    check(
        json!({"type": "array", "items": {"type": "string"}}),
        &[
            (json!(["a"]), &[]),
            (
                json!(["a", 1]),
                &[
                    "spec.x[1]: Invalid value: \"integer\": spec.x[1] in body must be of type string: \"integer\"",
                ],
            ),
        ],
    );
}

#[test]
fn nullable_keyword() {
    check(
        json!({"type": "string", "nullable": true}),
        &[(json!(null), &[]), (json!("a"), &[])],
    );
}

#[test]
fn int_or_string_keyword() {
    check(
        json!({"x-kubernetes-int-or-string": true}),
        &[
            (json!(80), &[]),
            (json!("http"), &[]),
            (
                json!(true),
                &[
                    "spec.x: Invalid value: \"boolean\": spec.x in body must be of type integer,string: \"boolean\"",
                ],
            ),
        ],
    );
    check(
        json!({"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}),
        &[(json!(80), &[]), (json!("80%"), &[])],
    );
}

#[test]
fn format_keyword() {
    check(
        json!({"type": "string", "format": "date-time"}),
        &[
            (json!("2026-11-26T05:10:00Z"), &[]),
            (
                json!("nope"),
                &[
                    "spec.x: Invalid value: \"nope\": spec.x in body must be of type date-time: \"nope\"",
                ],
            ),
            (
                json!(5),
                &[
                    "spec.x: Invalid value: \"int64\": spec.x in body must be of type date-time: \"int64\"",
                ],
            ),
        ],
    );
    for (format, good, bad) in [
        ("byte", "aGVsbG8=", "not base64!"),
        ("date", "2026-02-28", "2026-02-30"),
        ("uri", "https://example.com", "no scheme"),
        ("email", "a@example.com", "a-at-example"),
        ("hostname", "example.com", "-x-"),
        ("ipv4", "192.168.0.1", "192.168.0.256"),
        ("ipv6", "2001:db8::1", "2001:db8::g"),
        ("uuid", "ca8b80cc-93f2-42db-9680-778aeaa0e408", "ca8b80cc"),
    ] {
        let msg = format!(
            "spec.x: Invalid value: {bad:?}: spec.x in body must be of type {format}: {bad:?}"
        );
        check(
            json!({"type": "string", "format": format}),
            &[(json!(good), &[]), (json!(bad), &[msg.as_str()])],
        );
    }
    // Kubernetes strips number formats before validating, so no range check applies.
    check(
        json!({"type": "integer", "format": "int32"}),
        &[(json!(1_i64 << 40), &[])],
    );
    check(
        json!({"type": "number", "format": "float"}),
        &[(json!(1e300), &[])],
    );
    check(
        json!({"type": "string", "format": "something-custom"}),
        &[(json!("anything"), &[])],
    );
}

#[test]
fn enum_keyword() {
    check(
        json!({"type": "string", "enum": ["red", "blue"]}),
        &[
            (json!("red"), &[]),
            (
                json!("green"),
                &["spec.x: Unsupported value: \"green\": supported values: \"red\", \"blue\""],
            ),
        ],
    );
    check(
        json!({"type": "integer", "enum": [1, 2]}),
        &[
            (json!(2), &[]),
            (json!(2.0), &[]),
            (
                json!(3),
                &["spec.x: Unsupported value: 3: supported values: \"1\", \"2\""],
            ),
        ],
    );
}

#[test]
fn pattern_keyword() {
    check(
        json!({"type": "string", "pattern": "^[a-z]+$"}),
        &[
            (json!("abc"), &[]),
            (
                json!("ABC"),
                &["spec.x: Invalid value: \"ABC\": spec.x in body should match '^[a-z]+$'"],
            ),
        ],
    );
}

#[test]
fn minimum_and_maximum_keywords() {
    check(
        json!({"type": "integer", "minimum": 0, "maximum": 10}),
        &[
            (json!(0), &[]),
            (json!(10), &[]),
            (
                json!(-1),
                &["spec.x: Invalid value: -1: spec.x in body should be greater than or equal to 0"],
            ),
            (
                json!(11),
                &["spec.x: Invalid value: 11: spec.x in body should be less than or equal to 10"],
            ),
        ],
    );
    check(
        json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1.5, "exclusiveMaximum": true}),
        &[
            (json!(0.5), &[]),
            (
                json!(0),
                &["spec.x: Invalid value: 0: spec.x in body should be greater than 0"],
            ),
            (
                json!(1.5),
                &["spec.x: Invalid value: 1.5: spec.x in body should be less than 1.5"],
            ),
        ],
    );
}

#[test]
fn multiple_of_keyword() {
    check(
        json!({"type": "integer", "multipleOf": 5}),
        &[
            (json!(15), &[]),
            (
                json!(7),
                &["spec.x: Invalid value: 7: spec.x in body should be a multiple of 5"],
            ),
        ],
    );
    check(
        json!({"type": "number", "multipleOf": 0.5}),
        &[
            (json!(1.5), &[]),
            (
                json!(1.25),
                &["spec.x: Invalid value: 1.25: spec.x in body should be a multiple of 0.5"],
            ),
        ],
    );
}

#[test]
fn length_keywords() {
    check(
        json!({"type": "string", "maxLength": 3, "minLength": 2}),
        &[
            (json!("abc"), &[]),
            (json!("éé"), &[]),
            (
                json!("abcd"),
                &["spec.x: Too long: may not be more than 3 bytes"],
            ),
            (
                json!("a"),
                &["spec.x: Invalid value: \"a\": spec.x in body should be at least 2 chars long"],
            ),
        ],
    );
    check(
        json!({"type": "string", "maxLength": 1}),
        &[(
            json!("ab"),
            &["spec.x: Too long: may not be more than 1 byte"],
        )],
    );
}

#[test]
fn item_count_keywords() {
    check(
        json!({"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3}),
        &[
            (json!([1, 2]), &[]),
            (
                json!([1]),
                &["spec.x: Invalid value: 1: spec.x in body should have at least 2 items"],
            ),
            (
                json!([1, 2, 3, 4]),
                &["spec.x: Too many: 4: must have at most 3 items"],
            ),
        ],
    );
}

#[test]
fn unique_items_keyword() {
    // CRDs refuse uniqueItems, but the validator still implements it for other schema sources.
    let x = json!({"type": "array", "items": {"type": "integer"}, "uniqueItems": true});
    let s = Schema::parse_unchecked(&with_x(x.clone())).unwrap_or_else(|e| panic!("{e}"));
    run(
        &s,
        &x,
        &[
            (json!([1, 2]), &[]),
            (
                json!([1, 2, 1]),
                &["spec.x: Invalid value: \"\": spec.x in body shouldn't contain duplicates"],
            ),
        ],
    );
}

#[test]
fn property_count_keywords() {
    check(
        json!({"type": "object", "additionalProperties": {"type": "string"}, "minProperties": 1, "maxProperties": 2}),
        &[
            (json!({"a": "1"}), &[]),
            (
                json!({}),
                &["spec.x: Invalid value: 0: spec.x in body should have at least 1 properties"],
            ),
            (
                json!({"a": "1", "b": "2", "c": "3"}),
                &["spec.x: Too many: 3: must have at most 2 items"],
            ),
        ],
    );
}

#[test]
fn required_keyword() {
    check(
        json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a", "b"]}),
        &[
            (json!({"a": "1", "b": "2"}), &[]),
            (json!({"a": "1"}), &["spec.x.b: Required value"]),
        ],
    );
    let s = schema(
        json!({"type": "object", "required": ["spec"], "properties": {"spec": {"type": "object"}}}),
    );
    assert_eq!(
        rendered(&s.validate(&json!({"kind": "Widget"}))),
        ["spec: Required value"]
    );
}

#[test]
fn additional_properties_keyword() {
    check(
        json!({"type": "object", "additionalProperties": {"type": "string"}}),
        &[
            (json!({"a": "b"}), &[]),
            (
                json!({"a": 1}),
                &[
                    "spec.x.a: Invalid value: \"integer\": spec.x.a in body must be of type string: \"integer\"",
                ],
            ),
        ],
    );
    check(
        json!({"type": "object", "additionalProperties": false}),
        &[
            (json!({}), &[]),
            (
                json!({"k": 1}),
                &["spec.x: Invalid value: \"k\": spec.x.k in body is a forbidden property"],
            ),
        ],
    );
}

fn ab_object(junctor: &str, alternatives: Value) -> Value {
    json!({
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        junctor: alternatives
    })
}

#[test]
fn any_of_keyword() {
    check(
        ab_object("anyOf", json!([{"required": ["a"]}, {"required": ["b"]}])),
        &[
            (json!({"b": "1"}), &[]),
            (
                json!({}),
                &[
                    "<nil>: Invalid value: \"\": \"spec.x\" must validate at least one schema (anyOf)",
                    "spec.x.a: Required value",
                ],
            ),
        ],
    );
}

#[test]
fn one_of_keyword() {
    check(
        ab_object("oneOf", json!([{"required": ["a"]}, {"required": ["b"]}])),
        &[
            (json!({"a": "1"}), &[]),
            (
                json!({"a": "1", "b": "2"}),
                &[
                    "<nil>: Invalid value: \"\": \"spec.x\" must validate one and only one schema (oneOf). Found 2 valid alternatives",
                ],
            ),
            (
                json!({}),
                &[
                    "<nil>: Invalid value: \"\": \"spec.x\" must validate one and only one schema (oneOf). Found none valid",
                    "spec.x.a: Required value",
                ],
            ),
        ],
    );
}

#[test]
fn all_of_keyword() {
    check(
        ab_object("allOf", json!([{"required": ["a"]}, {"required": ["b"]}])),
        &[
            (json!({"a": "1", "b": "2"}), &[]),
            (
                json!({"a": "1"}),
                &[
                    "spec.x.b: Required value",
                    "<nil>: Invalid value: \"\": \"spec.x\" must validate all the schemas (allOf)",
                ],
            ),
            (
                json!({}),
                &[
                    "spec.x.a: Required value",
                    "spec.x.b: Required value",
                    "<nil>: Invalid value: \"\": \"spec.x\" must validate all the schemas (allOf). None validated",
                ],
            ),
        ],
    );
}

#[test]
fn not_keyword() {
    check(
        ab_object("not", json!({"required": ["a"]})),
        &[
            (json!({"b": "1"}), &[]),
            (
                json!({"a": "1"}),
                &["<nil>: Invalid value: \"\": \"spec.x\" must not validate the schema (not)"],
            ),
        ],
    );
}

#[test]
fn list_type_set_keyword() {
    check(
        json!({"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}),
        &[
            (json!(["a", "b"]), &[]),
            (
                json!(["a", "b", "a", "a"]),
                &["spec.x[2]: Duplicate value: \"a\""],
            ),
        ],
    );
}

#[test]
fn list_type_map_keyword() {
    let item = json!({"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "proto": {"type": "string", "default": "TCP"}, "port": {"type": "integer"}}});
    check(
        json!({"type": "array", "items": item, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]}),
        &[
            (json!([{"name": "a"}, {"name": "b"}]), &[]),
            (
                json!([{"name": "a"}, {"name": "a", "port": 1}]),
                &["spec.x[1]: Duplicate value: {\"name\":\"a\"}"],
            ),
        ],
    );
    check(
        json!({"type": "array", "items": item, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name", "proto"]}),
        &[
            (
                json!([{"name": "a", "proto": "UDP"}, {"name": "a", "proto": "TCP"}]),
                &[],
            ),
            (
                json!([{"name": "a", "proto": "TCP"}, {"name": "a", "proto": "TCP"}, {"name": "a", "proto": "TCP"}]),
                &["spec.x[1]: Duplicate value: {\"name\":\"a\",\"proto\":\"TCP\"}"],
            ),
            (
                json!(["x"]),
                &[
                    "spec.x[0]: Invalid value: \"string\": spec.x[0] in body must be of type object: \"string\"",
                    "spec.x[0]: Invalid value: \"x\": must be an object for an array of list-type map",
                ],
            ),
        ],
    );
    // Validation runs after defaulting, which is what fills a missing key from its default.
    let s = schema(with_x(json!({"type": "array", "items": item,
        "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name", "proto"]})));
    let mut obj = json!({"spec": {"x": [{"name": "a", "proto": "TCP"}, {"name": "a"}]}});
    s.apply_defaults(&mut obj);
    assert_eq!(
        rendered(&s.validate(&obj)),
        ["spec.x[1]: Duplicate value: {\"name\":\"a\",\"proto\":\"TCP\"}"]
    );
}

#[test]
fn errors_carry_kubernetes_reasons() {
    let s = schema(with_x(json!({"type": "string", "enum": ["red", "blue"]})));
    let errs = s.validate(&json!({"spec": {"x": "green"}}));
    let reasons: Vec<&str> = errs.iter().map(|e| e.kind.reason()).collect();
    assert_eq!(reasons, ["FieldValueNotSupported"]);
    let s = schema(with_x(json!({"type": "integer"})));
    let errs = s.validate(&json!({"spec": {"x": "1"}}));
    let reasons: Vec<&str> = errs.iter().map(|e| e.kind.reason()).collect();
    assert_eq!(reasons, ["FieldValueTypeInvalid"]);
}

#[test]
fn embedded_resources_need_type_meta() {
    check(
        json!({"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}),
        &[
            (json!({"apiVersion": "v1", "kind": "Pod"}), &[]),
            (
                json!({"kind": 5}),
                &[
                    "spec.x.apiVersion: Required value: must not be empty",
                    "spec.x.kind: Invalid value: 5: must be a string",
                ],
            ),
            (
                json!({"apiVersion": "a/b/c", "kind": ""}),
                &[
                    "spec.x.apiVersion: Invalid value: \"a/b/c\": unexpected GroupVersion string: a/b/c",
                    "spec.x.kind: Invalid value: \"\": must not be empty",
                ],
            ),
        ],
    );
}

#[test]
fn numeric_quirks_of_kube_openapi() {
    // A non-integral value of an integer field also fails kube-openapi's int64 range check.
    check(
        json!({"type": "integer"}),
        &[(
            json!(1.5),
            &[
                "spec.x: Invalid value: \"number\": spec.x in body must be of type integer: \"number\"",
                "<nil>: Invalid value: \"\": Checked value must be of type integer (default format) in spec.x",
            ],
        )],
    );
    // Integer values are compared with the bound truncated to int64, and printed so.
    check(
        json!({"type": "number", "maximum": 1.5}),
        &[
            (json!(1), &[]),
            (json!(1.5), &[]),
            (
                json!(2),
                &["spec.x: Invalid value: 2: spec.x in body should be less than or equal to 1"],
            ),
        ],
    );
    check(
        json!({"type": "number", "multipleOf": 0.5}),
        &[
            (json!(2.5), &[]),
            (
                json!(3),
                &[
                    "spec.x: Invalid value: 0: factor MultipleOf declared for spec.x must be positive: 0",
                ],
            ),
        ],
    );
    // go-openapi tolerates a relative error of 1e-9 in multipleOf.
    check(
        json!({"type": "number", "multipleOf": 0.1}),
        &[(json!(0.7), &[]), (json!(0.3), &[])],
    );
    check(
        json!({"type": "integer", "maximum": 2.5}),
        &[(
            json!(1),
            &[
                "<nil>: Invalid value: \"\": Maximum boundary value must be of type integer (default format) in spec.x",
            ],
        )],
    );
}
