//! `/openapi/v2` as the gnostic `openapi.v2.Document` protobuf message kubectl downloads.
//!
//! kubectl (client-go's `OpenAPISchema()`) only asks for
//! `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`; the message layout is
//! google/gnostic-models `openapiv2/OpenAPIv2.proto`, written here field by field.

mod schema;
mod wire;

use serde_json::Value;

use schema::{extensions, external_docs_of, file_schema, named_map, primitive_fields};
use wire::Msg;

/// The `Content-Type` of [`document_v2_protobuf`]'s bytes, as kube-apiserver sends it: the
/// `@v1.0` form clients put in `Accept` has a character Go's `mime.ParseMediaType` rejects.
pub const PROTOBUF_V2_MEDIA_TYPE: &str =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// The deprecated spelling client-go's `OpenAPISchema()` still sends in `Accept`.
const PROTOBUF_V2_DEPRECATED: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

/// Whether `/openapi/v2` must answer with [`document_v2_protobuf`] for this `Accept` header.
///
/// kube-openapi walks the clauses by preference and serves the first of JSON or protobuf a
/// clause matches, so `*/*`, `application/*` and `application/json` mean JSON.
pub fn wants_protobuf_v2(accept: &str) -> bool {
    let mut clauses: Vec<(f32, &str)> = accept
        .split(',')
        .filter_map(|clause| {
            let mut parts = clause.split(';');
            let media = parts.next()?.trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0).then_some((q, media))
        })
        .collect();
    // A stable sort keeps the header's order among clauses of equal preference.
    clauses.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, media) in clauses {
        if media.eq_ignore_ascii_case(PROTOBUF_V2_MEDIA_TYPE)
            || media.eq_ignore_ascii_case(PROTOBUF_V2_DEPRECATED)
        {
            return true;
        }
        if matches!(media, "*/*" | "application/*")
            || media.eq_ignore_ascii_case("application/json")
        {
            return false;
        }
    }
    false
}

/// Encodes a Swagger 2.0 document (as [`crate::document_v2`] returns it) as a gnostic
/// `openapi.v2.Document`. Keys gnostic has no field for (`oneOf`, for one) are left out, as
/// gnostic itself drops them.
pub fn document_v2_protobuf(doc: &Value) -> Vec<u8> {
    let mut m = Msg::default();
    m.str_of(1, doc, "swagger");
    if let Some(info) = doc.get("info").filter(|i| i.is_object()) {
        m.message(2, info_msg(info));
    }
    m.str_of(3, doc, "host");
    m.str_of(4, doc, "basePath");
    m.strings_of(5, doc, "schemes");
    m.strings_of(6, doc, "consumes");
    m.strings_of(7, doc, "produces");
    if let Some(paths) = doc.get("paths").filter(|p| p.is_object()) {
        m.message(8, paths_msg(paths));
    }
    if doc.get("definitions").is_some_and(Value::is_object) {
        let mut defs = Msg::default();
        named_map(&mut defs, 1, &doc["definitions"], schema::schema);
        m.message(9, defs);
    }
    if doc.get("parameters").is_some_and(Value::is_object) {
        let mut params = Msg::default();
        named_map(&mut params, 1, &doc["parameters"], parameter);
        m.message(10, params);
    }
    if doc.get("responses").is_some_and(Value::is_object) {
        let mut responses = Msg::default();
        named_map(&mut responses, 1, &doc["responses"], response);
        m.message(11, responses);
    }
    security(&mut m, 12, doc);
    if doc.get("securityDefinitions").is_some_and(Value::is_object) {
        let mut defs = Msg::default();
        named_map(&mut defs, 1, &doc["securityDefinitions"], security_scheme);
        m.message(13, defs);
    }
    if let Some(tags) = doc.get("tags").and_then(Value::as_array) {
        for t in tags {
            let mut tag = Msg::default();
            tag.str_of(1, t, "name");
            tag.str_of(2, t, "description");
            external_docs_of(&mut tag, 3, t);
            extensions(&mut tag, 4, t);
            m.message(14, tag);
        }
    }
    external_docs_of(&mut m, 15, doc);
    extensions(&mut m, 16, doc);
    m.into_bytes()
}

fn info_msg(info: &Value) -> Msg {
    let mut m = Msg::default();
    m.str_of(1, info, "title");
    m.str_of(2, info, "version");
    m.str_of(3, info, "description");
    m.str_of(4, info, "termsOfService");
    if let Some(c) = info.get("contact").filter(|c| c.is_object()) {
        let mut contact = Msg::default();
        contact.str_of(1, c, "name");
        contact.str_of(2, c, "url");
        contact.str_of(3, c, "email");
        extensions(&mut contact, 4, c);
        m.message(5, contact);
    }
    if let Some(l) = info.get("license").filter(|l| l.is_object()) {
        let mut license = Msg::default();
        license.str_of(1, l, "name");
        license.str_of(2, l, "url");
        extensions(&mut license, 3, l);
        m.message(6, license);
    }
    extensions(&mut m, 7, info);
    m
}

/// `Paths`: its vendor extensions come first (field 1), the paths after (field 2).
fn paths_msg(paths: &Value) -> Msg {
    let mut m = Msg::default();
    extensions(&mut m, 1, paths);
    let Some(map) = paths.as_object() else {
        return m;
    };
    for (name, item) in map.iter().filter(|(k, _)| !k.starts_with("x-")) {
        let mut named = Msg::default();
        named.string(1, name);
        named.message(2, path_item(item));
        m.message(2, named);
    }
    m
}

fn path_item(item: &Value) -> Msg {
    let mut m = Msg::default();
    m.str_of(1, item, "$ref");
    let methods = ["get", "put", "post", "delete", "options", "head", "patch"];
    for (field, method) in (2..).zip(methods) {
        if let Some(op) = item.get(method).filter(|o| o.is_object()) {
            m.message(field, operation(op));
        }
    }
    parameters(&mut m, 9, item);
    extensions(&mut m, 10, item);
    m
}

fn operation(op: &Value) -> Msg {
    let mut m = Msg::default();
    m.strings_of(1, op, "tags");
    m.str_of(2, op, "summary");
    m.str_of(3, op, "description");
    external_docs_of(&mut m, 4, op);
    m.str_of(5, op, "operationId");
    m.strings_of(6, op, "produces");
    m.strings_of(7, op, "consumes");
    parameters(&mut m, 8, op);
    if let Some(r) = op.get("responses").filter(|r| r.is_object()) {
        m.message(9, responses(r));
    }
    m.strings_of(10, op, "schemes");
    m.bool_of(11, op, "deprecated");
    security(&mut m, 12, op);
    extensions(&mut m, 13, op);
    m
}

/// Each of `obj["parameters"]` as a `ParametersItem`: a reference or an inline parameter.
fn parameters(m: &mut Msg, field: u32, obj: &Value) {
    let Some(list) = obj.get("parameters").and_then(Value::as_array) else {
        return;
    };
    for p in list {
        let mut item = Msg::default();
        if p.get("$ref").is_some() {
            item.message(2, json_reference(p));
        } else {
            item.message(1, parameter(p));
        }
        m.message(field, item);
    }
}

fn json_reference(v: &Value) -> Msg {
    let mut m = Msg::default();
    m.str_of(1, v, "$ref");
    m.str_of(2, v, "description");
    m
}

/// `Parameter`: a `BodyParameter`, or a `NonBodyParameter` whose case follows `in`.
fn parameter(p: &Value) -> Msg {
    let mut m = Msg::default();
    let location = p.get("in").and_then(Value::as_str).unwrap_or_default();
    if location == "body" {
        let mut body = Msg::default();
        body.str_of(1, p, "description");
        body.str_of(2, p, "name");
        body.str_of(3, p, "in");
        body.bool_of(4, p, "required");
        if let Some(s) = p.get("schema").filter(|s| s.is_object()) {
            body.message(5, schema::schema(s));
        }
        extensions(&mut body, 6, p);
        m.message(1, body);
        return m;
    }
    // (oneof case, whether the sub-schema has `allowEmptyValue` before `type`)
    let (case, allow_empty) = match location {
        "header" => (1, false),
        "formData" => (2, true),
        "query" => (3, true),
        "path" => (4, false),
        // An unknown location has no gnostic message; it is dropped like gnostic drops it.
        _ => return m,
    };
    let mut sub = Msg::default();
    sub.bool_of(1, p, "required");
    sub.str_of(2, p, "in");
    sub.str_of(3, p, "description");
    sub.str_of(4, p, "name");
    let first = if allow_empty {
        sub.bool_of(5, p, "allowEmptyValue");
        6
    } else {
        5
    };
    primitive_fields(&mut sub, first, p);
    extensions(&mut sub, first + 17, p);
    let mut non_body = Msg::default();
    non_body.message(case, sub);
    m.message(2, non_body);
    m
}

/// `Responses`: one `NamedResponseValue` per status code, then vendor extensions.
fn responses(r: &Value) -> Msg {
    let mut m = Msg::default();
    if let Some(map) = r.as_object() {
        for (code, value) in map.iter().filter(|(k, _)| !k.starts_with("x-")) {
            let mut rv = Msg::default();
            if value.get("$ref").is_some() {
                rv.message(2, json_reference(value));
            } else {
                rv.message(1, response(value));
            }
            let mut named = Msg::default();
            named.string(1, code);
            named.message(2, rv);
            m.message(1, named);
        }
    }
    extensions(&mut m, 2, r);
    m
}

fn response(r: &Value) -> Msg {
    let mut m = Msg::default();
    m.str_of(1, r, "description");
    if let Some(s) = r.get("schema").filter(|s| s.is_object()) {
        let mut item = Msg::default();
        if s.get("type").and_then(Value::as_str) == Some("file") {
            item.message(2, file_schema(s));
        } else {
            item.message(1, schema::schema(s));
        }
        m.message(2, item);
    }
    if r.get("headers").is_some_and(Value::is_object) {
        let mut headers = Msg::default();
        named_map(&mut headers, 1, &r["headers"], header);
        m.message(3, headers);
    }
    if r.get("examples").is_some_and(Value::is_object) {
        let mut examples = Msg::default();
        named_map(&mut examples, 1, &r["examples"], schema::any);
        m.message(4, examples);
    }
    extensions(&mut m, 5, r);
    m
}

fn header(h: &Value) -> Msg {
    let mut m = Msg::default();
    primitive_fields(&mut m, 1, h);
    m.str_of(18, h, "description");
    extensions(&mut m, 19, h);
    m
}

/// `repeated SecurityRequirement`: each requirement maps a scheme name to its scopes.
fn security(m: &mut Msg, field: u32, obj: &Value) {
    let Some(list) = obj.get("security").and_then(Value::as_array) else {
        return;
    };
    for requirement in list {
        let mut req = Msg::default();
        named_map(&mut req, 1, requirement, |scopes| {
            let mut array = Msg::default();
            if let Some(a) = scopes.as_array() {
                a.iter()
                    .filter_map(Value::as_str)
                    .for_each(|s| array.repeated_string(1, s));
            }
            array
        });
        m.message(field, req);
    }
}

/// `SecurityDefinitionsItem`, whose case follows `type` and, for OAuth2, `flow`.
fn security_scheme(s: &Value) -> Msg {
    let mut m = Msg::default();
    let kind = s.get("type").and_then(Value::as_str).unwrap_or_default();
    let flow = s.get("flow").and_then(Value::as_str).unwrap_or_default();
    let mut inner = Msg::default();
    inner.str_of(1, s, "type");
    let case = match (kind, flow) {
        ("basic", _) => {
            inner.str_of(2, s, "description");
            extensions(&mut inner, 3, s);
            1
        }
        ("apiKey", _) => {
            inner.str_of(2, s, "name");
            inner.str_of(3, s, "in");
            inner.str_of(4, s, "description");
            extensions(&mut inner, 5, s);
            2
        }
        ("oauth2", "implicit" | "password" | "application" | "accessCode") => {
            inner.str_of(2, s, "flow");
            scopes(&mut inner, 3, s);
            let url_fields: &[&str] = match flow {
                "implicit" => &["authorizationUrl"],
                "accessCode" => &["authorizationUrl", "tokenUrl"],
                _ => &["tokenUrl"],
            };
            let mut next = 4;
            for key in url_fields {
                inner.str_of(next, s, key);
                next += 1;
            }
            inner.str_of(next, s, "description");
            extensions(&mut inner, next + 1, s);
            match flow {
                "implicit" => 3,
                "password" => 4,
                "application" => 5,
                _ => 6,
            }
        }
        // gnostic has no message for any other scheme, so it cannot be carried.
        _ => return m,
    };
    m.message(case, inner);
    m
}

fn scopes(m: &mut Msg, field: u32, s: &Value) {
    if let Some(map) = s.get("scopes").and_then(Value::as_object) {
        let mut scopes = Msg::default();
        for (name, description) in map {
            let mut named = Msg::default();
            named.string(1, name);
            named.string(2, description.as_str().unwrap_or_default());
            scopes.message(1, named);
        }
        m.message(field, scopes);
    }
}

#[cfg(test)]
mod tests;
