//! Encoders of gnostic's `openapi.v2.Schema` and the small messages schemas share.

use serde_json::Value;

use super::wire::Msg;

/// `Any{yaml}`: JSON text is YAML, and YAML is what gnostic's readers unmarshal the field with.
pub(super) fn any(v: &Value) -> Msg {
    let mut m = Msg::default();
    m.string(2, &v.to_string());
    m
}

pub(super) fn any_of(m: &mut Msg, field: u32, obj: &Value, key: &str) {
    if let Some(v) = obj.get(key) {
        m.message(field, any(v));
    }
}

/// Each element of `obj["enum"]` as one `Any`.
pub(super) fn enum_of(m: &mut Msg, field: u32, obj: &Value) {
    if let Some(values) = obj.get("enum").and_then(Value::as_array) {
        for v in values {
            m.message(field, any(v));
        }
    }
}

/// Every `x-*` key of `obj` as a `NamedAny`, which is how gnostic keeps vendor extensions.
pub(super) fn extensions(m: &mut Msg, field: u32, obj: &Value) {
    let Some(map) = obj.as_object() else {
        return;
    };
    for (name, value) in map.iter().filter(|(k, _)| k.starts_with("x-")) {
        let mut named = Msg::default();
        named.string(1, name);
        named.message(2, any(value));
        m.message(field, named);
    }
}

/// `ExternalDocs{description, url, vendor_extension}`.
pub(super) fn external_docs_of(m: &mut Msg, field: u32, obj: &Value) {
    if let Some(d) = obj.get("externalDocs").filter(|d| d.is_object()) {
        let mut docs = Msg::default();
        docs.str_of(1, d, "description");
        docs.str_of(2, d, "url");
        extensions(&mut docs, 3, d);
        m.message(field, docs);
    }
}

/// One `Named*` entry per key of the JSON object `map`, the way gnostic encodes JSON maps.
pub(super) fn named_map(m: &mut Msg, field: u32, map: &Value, value: impl Fn(&Value) -> Msg) {
    if let Some(map) = map.as_object() {
        for (name, v) in map {
            let mut named = Msg::default();
            named.string(1, name);
            named.message(2, value(v));
            m.message(field, named);
        }
    }
}

/// The validation fields Header, PrimitivesItems and the non-body parameters share, numbered
/// from `first` (the `type` field) in the same order in every one of those messages.
pub(super) fn primitive_fields(m: &mut Msg, first: u32, v: &Value) {
    m.str_of(first, v, "type");
    m.str_of(first + 1, v, "format");
    if let Some(items) = v.get("items").filter(|i| i.is_object()) {
        m.message(first + 2, primitives_items(items));
    }
    m.str_of(first + 3, v, "collectionFormat");
    any_of(m, first + 4, v, "default");
    m.double_of(first + 5, v, "maximum");
    m.bool_of(first + 6, v, "exclusiveMaximum");
    m.double_of(first + 7, v, "minimum");
    m.bool_of(first + 8, v, "exclusiveMinimum");
    m.int64_of(first + 9, v, "maxLength");
    m.int64_of(first + 10, v, "minLength");
    m.str_of(first + 11, v, "pattern");
    m.int64_of(first + 12, v, "maxItems");
    m.int64_of(first + 13, v, "minItems");
    m.bool_of(first + 14, v, "uniqueItems");
    enum_of(m, first + 15, v);
    m.double_of(first + 16, v, "multipleOf");
}

/// `PrimitivesItems`: the `items` of a non-body parameter or header.
fn primitives_items(v: &Value) -> Msg {
    let mut m = Msg::default();
    primitive_fields(&mut m, 1, v);
    extensions(&mut m, 18, v);
    m
}

/// `Schema`, recursively through properties, items, additionalProperties and allOf.
pub(super) fn schema(v: &Value) -> Msg {
    let mut m = Msg::default();
    m.str_of(1, v, "$ref");
    m.str_of(2, v, "format");
    m.str_of(3, v, "title");
    m.str_of(4, v, "description");
    any_of(&mut m, 5, v, "default");
    m.double_of(6, v, "multipleOf");
    m.double_of(7, v, "maximum");
    m.bool_of(8, v, "exclusiveMaximum");
    m.double_of(9, v, "minimum");
    m.bool_of(10, v, "exclusiveMinimum");
    m.int64_of(11, v, "maxLength");
    m.int64_of(12, v, "minLength");
    m.str_of(13, v, "pattern");
    m.int64_of(14, v, "maxItems");
    m.int64_of(15, v, "minItems");
    m.bool_of(16, v, "uniqueItems");
    m.int64_of(17, v, "maxProperties");
    m.int64_of(18, v, "minProperties");
    m.strings_of(19, v, "required");
    enum_of(&mut m, 20, v);
    match v.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            let mut item = Msg::default();
            item.bool_always(2, *b);
            m.message(21, item);
        }
        Some(s @ Value::Object(_)) => {
            let mut item = Msg::default();
            item.message(1, schema(s));
            m.message(21, item);
        }
        _ => {}
    }
    if v.get("type").is_some_and(|t| t.is_string() || t.is_array()) {
        let mut t = Msg::default();
        t.strings_of(1, v, "type");
        m.message(22, t);
    }
    match v.get("items") {
        Some(s @ Value::Object(_)) => {
            let mut items = Msg::default();
            items.message(1, schema(s));
            m.message(23, items);
        }
        Some(Value::Array(all)) => {
            let mut items = Msg::default();
            all.iter().for_each(|s| items.message(1, schema(s)));
            m.message(23, items);
        }
        _ => {}
    }
    if let Some(all) = v.get("allOf").and_then(Value::as_array) {
        all.iter().for_each(|s| m.message(24, schema(s)));
    }
    if v.get("properties").is_some_and(Value::is_object) {
        let mut props = Msg::default();
        named_map(&mut props, 1, &v["properties"], schema);
        m.message(25, props);
    }
    m.str_of(26, v, "discriminator");
    m.bool_of(27, v, "readOnly");
    if let Some(x) = v.get("xml").filter(|x| x.is_object()) {
        let mut xml = Msg::default();
        xml.str_of(1, x, "name");
        xml.str_of(2, x, "namespace");
        xml.str_of(3, x, "prefix");
        xml.bool_of(4, x, "attribute");
        xml.bool_of(5, x, "wrapped");
        extensions(&mut xml, 6, x);
        m.message(28, xml);
    }
    external_docs_of(&mut m, 29, v);
    any_of(&mut m, 30, v, "example");
    extensions(&mut m, 31, v);
    m
}

/// `FileSchema`: a response schema of `type: file`, which Swagger keeps apart from `Schema`.
pub(super) fn file_schema(v: &Value) -> Msg {
    let mut m = Msg::default();
    m.str_of(1, v, "format");
    m.str_of(2, v, "title");
    m.str_of(3, v, "description");
    any_of(&mut m, 4, v, "default");
    m.strings_of(5, v, "required");
    m.str_of(6, v, "type");
    m.bool_of(7, v, "readOnly");
    external_docs_of(&mut m, 8, v);
    any_of(&mut m, 9, v, "example");
    extensions(&mut m, 10, v);
    m
}
