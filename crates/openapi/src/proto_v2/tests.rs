//! Decodes the encoder's bytes with a small protobuf reader and checks them against the JSON.

use serde_json::{Map, Value, json};

use super::{document_v2_protobuf, wants_protobuf_v2};
use crate::{ResourceEntry, document_v2};

#[derive(Debug, Clone, PartialEq)]
enum Field<'a> {
    Varint(u64),
    Fixed64(f64),
    Bytes(&'a [u8]),
}

fn varint(b: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = b[*pos];
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return v;
        }
    }
    panic!("varint longer than ten bytes");
}

/// Every (field number, value) of one message, in order; panics on malformed input.
fn fields(b: &[u8]) -> Vec<(u64, Field<'_>)> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < b.len() {
        let tag = varint(b, &mut pos);
        let value = match tag & 7 {
            0 => Field::Varint(varint(b, &mut pos)),
            1 => {
                let v = f64::from_le_bytes(b[pos..pos + 8].try_into().unwrap());
                pos += 8;
                Field::Fixed64(v)
            }
            2 => {
                let len = varint(b, &mut pos) as usize;
                pos += len;
                Field::Bytes(&b[pos - len..pos])
            }
            w => panic!("unexpected wire type {w}"),
        };
        out.push((tag >> 3, value));
    }
    assert_eq!(pos, b.len(), "message overran its bytes");
    out
}

fn all(b: &[u8], field: u64) -> Vec<&[u8]> {
    fields(b)
        .into_iter()
        .filter_map(|(n, v)| match v {
            Field::Bytes(x) if n == field => Some(x),
            _ => None,
        })
        .collect()
}

fn one(b: &[u8], field: u64) -> &[u8] {
    let found = all(b, field);
    assert_eq!(found.len(), 1, "field {field} occurs {} times", found.len());
    found[0]
}

fn text(b: &[u8], field: u64) -> String {
    String::from_utf8(one(b, field).to_vec()).unwrap()
}

/// The value of the `Named*{name = 1, value = 2}` entry called `name` among `field`.
fn named<'a>(b: &'a [u8], field: u64, name: &str) -> &'a [u8] {
    all(b, field)
        .into_iter()
        .find(|e| text(e, 1) == name)
        .map(|e| one(e, 2))
        .unwrap_or_else(|| panic!("no entry {name}"))
}

/// The YAML of vendor extension `name` (field `field` of NamedAny), parsed (JSON is YAML).
fn extension(b: &[u8], field: u64, name: &str) -> Value {
    serde_json::from_str(&text(named(b, field, name), 2)).unwrap()
}

fn pods() -> ResourceEntry {
    ResourceEntry {
        group: String::new(),
        version: "v1".to_owned(),
        kind: "Pod".to_owned(),
        plural: "pods".to_owned(),
        namespaced: true,
        verbs: ["create", "get", "list", "watch", "patch"]
            .map(str::to_owned)
            .to_vec(),
        subresources: vec!["status".to_owned()],
        definition: "io.k8s.api.core.v1.Pod".to_owned(),
    }
}

#[test]
fn document_carries_swagger_info_and_definitions() {
    let doc = document_v2(&[pods()], &Map::new(), "v1.36.2");
    let bytes = document_v2_protobuf(&doc);
    assert_eq!(text(&bytes, 1), "2.0");
    let info = one(&bytes, 2);
    assert_eq!(text(info, 1), "Kubernetes");
    assert_eq!(text(info, 2), "v1.36.2");

    let definitions = one(&bytes, 9);
    assert_eq!(
        all(definitions, 1).len(),
        doc["definitions"].as_object().unwrap().len()
    );
    let pod = named(definitions, 1, "io.k8s.api.core.v1.Pod");
    assert_eq!(
        text(pod, 4),
        doc["definitions"]["io.k8s.api.core.v1.Pod"]["description"]
    );
    assert_eq!(text(one(pod, 22), 1), "object");
    assert_eq!(
        extension(pod, 31, "x-kubernetes-group-version-kind"),
        json!([{"group": "", "kind": "Pod", "version": "v1"}])
    );
    let metadata = named(one(pod, 25), 1, "metadata");
    assert_eq!(
        text(metadata, 1),
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    assert_eq!(text(pod, 19), "metadata");

    let containers = named(
        one(named(definitions, 1, "io.k8s.api.core.v1.PodSpec"), 25),
        1,
        "containers",
    );
    assert_eq!(text(one(containers, 22), 1), "array");
    assert_eq!(
        text(one(one(containers, 23), 1), 1),
        "#/definitions/io.k8s.api.core.v1.Container"
    );
    assert_eq!(
        extension(containers, 31, "x-kubernetes-patch-merge-key"),
        json!("name")
    );

    let scheme = named(one(&bytes, 13), 1, "BearerToken");
    let api_key = one(scheme, 2);
    assert_eq!(
        (text(api_key, 1), text(api_key, 2), text(api_key, 3)),
        ("apiKey".into(), "authorization".into(), "header".into())
    );
    let requirement = one(&bytes, 12);
    assert!(named(requirement, 1, "BearerToken").is_empty());
}

#[test]
fn operations_split_body_and_query_parameters() {
    let doc = document_v2(&[pods()], &Map::new(), "v1.36.2");
    let bytes = document_v2_protobuf(&doc);
    let paths = one(&bytes, 8);
    let item = named(paths, 2, "/api/v1/namespaces/{namespace}/pods");
    let post = one(item, 4);
    assert_eq!(text(post, 5), "createCoreV1NamespacedPod");
    let params: Vec<&[u8]> = all(post, 8).into_iter().map(|p| one(p, 1)).collect();
    let body = params
        .iter()
        .find_map(|p| all(p, 1).first().copied())
        .unwrap();
    assert_eq!(text(body, 2), "body");
    assert_eq!(
        text(one(body, 5), 1),
        "#/definitions/io.k8s.api.core.v1.Pod"
    );
    let query = params
        .iter()
        .filter_map(|p| all(p, 2).first().map(|nb| one(nb, 3)))
        .find(|q| text(q, 4) == "dryRun")
        .unwrap();
    assert_eq!(text(query, 2), "query");
    assert_eq!(text(query, 6), "string");

    let responses = one(post, 9);
    let created = one(named(responses, 1, "201"), 1);
    assert_eq!(text(created, 1), "Created");
    assert_eq!(extension(post, 13, "x-kubernetes-action"), json!("post"));
    // The path-level `namespace` parameter is a non-body path parameter.
    let path_params: Vec<&[u8]> = all(item, 9).into_iter().map(|p| one(p, 1)).collect();
    assert!(path_params.iter().any(|p| {
        all(p, 2).first().is_some_and(|nb| {
            all(nb, 4)
                .first()
                .is_some_and(|s| text(s, 4) == "namespace")
        })
    }));
}

#[test]
fn schema_oneofs_numbers_and_references_follow_gnostic() {
    let doc = json!({
        "swagger": "2.0",
        "definitions": {
            "closed": {"type": "object", "additionalProperties": false},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}, "default": {"a": "b"}},
            "count": {"type": ["integer", "null"], "maximum": 2.5, "minLength": 3, "maxItems": -1,
                      "enum": [1, "two"], "exclusiveMinimum": true},
            "tuple": {"items": [{"type": "string"}, {"$ref": "#/definitions/closed"}]},
        },
        "paths": {"/x": {"get": {"parameters": [{"$ref": "#/parameters/p"}],
                                 "responses": {"200": {"$ref": "#/responses/ok"}}}}},
    });
    let bytes = document_v2_protobuf(&doc);
    let defs = one(&bytes, 9);

    let closed = one(named(defs, 1, "closed"), 21);
    assert_eq!(fields(closed), vec![(2, Field::Varint(0))]);
    let labels = named(defs, 1, "labels");
    assert_eq!(text(one(one(one(labels, 21), 1), 22), 1), "string");
    assert_eq!(text(one(labels, 5), 2), r#"{"a":"b"}"#);

    let count = fields(named(defs, 1, "count"));
    assert!(count.contains(&(7, Field::Fixed64(2.5))));
    assert!(count.contains(&(12, Field::Varint(3))));
    assert!(count.contains(&(14, Field::Varint(u64::MAX))));
    assert!(count.contains(&(10, Field::Varint(1))));
    let enums: Vec<String> = all(named(defs, 1, "count"), 20)
        .into_iter()
        .map(|a| text(a, 2))
        .collect();
    assert_eq!(enums, ["1", r#""two""#]);
    let types: Vec<&[u8]> = all(one(named(defs, 1, "count"), 22), 1);
    assert_eq!(types, [b"integer".as_slice(), b"null"]);

    let tuple = all(one(named(defs, 1, "tuple"), 23), 1);
    assert_eq!(tuple.len(), 2);
    assert_eq!(text(tuple[1], 1), "#/definitions/closed");

    let get = one(named(one(&bytes, 8), 2, "/x"), 2);
    assert_eq!(text(one(one(get, 8), 2), 1), "#/parameters/p");
    let ok = one(named(one(get, 9), 1, "200"), 2);
    assert_eq!(text(ok, 1), "#/responses/ok");
}

#[test]
fn accept_negotiation_matches_kube_openapi() {
    let kubectl = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
    assert!(wants_protobuf_v2(kubectl));
    assert!(wants_protobuf_v2(
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf, application/json"
    ));
    assert!(wants_protobuf_v2(&format!(
        "application/json;q=0.5, {kubectl}"
    )));
    assert!(!wants_protobuf_v2(&format!("application/json, {kubectl}")));
    assert!(!wants_protobuf_v2(&format!("*/*, {kubectl}")));
    assert!(!wants_protobuf_v2(&format!(
        "{kubectl};q=0, application/json"
    )));
    assert!(!wants_protobuf_v2(""));
    assert!(!wants_protobuf_v2("application/json"));
}
