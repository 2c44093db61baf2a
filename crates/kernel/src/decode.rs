//! Decoding request bodies into objects as kube-apiserver does: JSON or YAML,
//! type meta checks, nulls dropped, wrong types refused, and unknown fields
//! dropped, warned about or refused according to `fieldValidation`.

use crate::registry::Resource;
use apimachinery::StatusError;
use serde_json::{Map, Value};

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    pub fn parse(s: Option<&str>) -> Result<Self, StatusError> {
        match s {
            None | Some("") | Some("Warn") => Ok(FieldValidation::Warn),
            Some("Ignore") => Ok(FieldValidation::Ignore),
            Some("Strict") => Ok(FieldValidation::Strict),
            Some(other) => Err(StatusError::bad_request(format!(
                "fieldValidation parameter unsupported: {other}. Supported values are Ignore, Warn, Strict"
            ))),
        }
    }
}

/// Parses a body as JSON, or YAML when the content type says so.
pub fn parse_body(res: &Resource, content_type: &str, body: &[u8]) -> Result<Value, StatusError> {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    if protobuf::is_protobuf(content_type) && res.is_custom() {
        return Err(StatusError::unsupported_media_type(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (custom resources cannot be sent as {ct})"
        )));
    }
    let parsed: Result<Value, String> = if protobuf::is_protobuf(content_type) {
        protobuf::decode(body).map_err(|e| e.to_string())
    } else if ct == "application/yaml" || ct == "application/apply-patch+yaml" {
        std::str::from_utf8(body)
            .map_err(|e| e.to_string())
            .and_then(|s| serde_saphyr::from_str::<Value>(s).map_err(|e| e.to_string()))
    } else {
        serde_json::from_slice::<Value>(body).map_err(go_json_error)
    };
    parsed.map_err(|e| {
        let excerpt: String = String::from_utf8_lossy(&body[..body.len().min(64)]).into_owned();
        StatusError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): couldn't get version/kind; json parse error: {e} ({excerpt})",
            res.kind
        ))
    })
}

/// Go's wording for the JSON errors clients see most.
fn go_json_error(e: serde_json::Error) -> String {
    if e.is_eof() {
        "unexpected end of JSON input".to_string()
    } else {
        e.to_string()
    }
}

/// Parses an auxiliary body (DeleteOptions, Scale, Binding, reviews) in whatever
/// encoding the client sent: JSON, YAML or Kubernetes protobuf.
pub fn parse_any(content_type: &str, body: &[u8], what: &str) -> Result<Value, StatusError> {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    let parsed: Result<Value, String> = if protobuf::is_protobuf(content_type) {
        protobuf::decode(body).map_err(|e| e.to_string())
    } else if ct == "application/yaml" {
        std::str::from_utf8(body)
            .map_err(|e| e.to_string())
            .and_then(|s| serde_saphyr::from_str::<Value>(s).map_err(|e| e.to_string()))
    } else {
        serde_json::from_slice::<Value>(body).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| StatusError::bad_request(format!("error decoding {what}: {e}")))
}

/// Checks `kind`/`apiVersion` against the endpoint and fills them in when absent.
pub fn check_type_meta(res: &Resource, obj: &mut Value) -> Result<(), StatusError> {
    let Some(m) = obj.as_object_mut() else {
        return Err(StatusError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): couldn't get version/kind; json parse error: expected an object",
            res.kind
        )));
    };
    let kind = m
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let api_version = m
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let want_av = res.api_version();
    if !kind.is_empty() && kind != res.kind {
        let v = if api_version.is_empty() {
            want_av.clone()
        } else {
            api_version.clone()
        };
        let short_v = v.rsplit('/').next().unwrap_or(&v).to_string();
        let internal_group = if res.group.is_empty() {
            "core".to_string()
        } else {
            res.group.split('.').next().unwrap_or("").to_string()
        };
        return Err(StatusError::bad_request(format!(
            "{kind} in version {short_v:?} cannot be handled as a {}: converting ({short_v}.{kind}) to ({internal_group}.{}): unknown conversion",
            res.kind, res.kind
        )));
    }
    if !api_version.is_empty() && api_version != want_av {
        let (g, _) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
        if g != res.group {
            return Err(StatusError::bad_request(format!(
                "the API version in the data ({api_version}) does not match the expected API version ({want_av})"
            )));
        }
    }
    m.insert("kind".into(), Value::String(res.kind.clone()));
    m.insert("apiVersion".into(), Value::String(want_av));
    Ok(())
}

/// Walks a built-in object against its OpenAPI definition: refuses wrong types,
/// drops unknown fields and returns their paths.
pub fn check_builtin(res: &Resource, obj: &mut Value) -> Result<Vec<String>, StatusError> {
    let Some(def) = openapi::definition_name(&res.group, &res.version, &res.kind) else {
        return Ok(Vec::new());
    };
    let defs = openapi::definitions_v2();
    let Some(schema) = defs.get(def) else {
        return Ok(Vec::new());
    };
    let mut w = Walker {
        defs,
        unknown: Vec::new(),
        type_error: None,
        struct_name: short_name(def),
        kind: res.kind.clone(),
    };
    w.walk(schema, obj, "", 0);
    if let Some(e) = w.type_error {
        return Err(StatusError::bad_request(format!(
            "{} in version {:?} cannot be handled as a {}: {e}",
            res.kind, res.version, res.kind
        )));
    }
    Ok(w.unknown)
}

fn short_name(def: &str) -> String {
    def.rsplit('.').next().unwrap_or(def).to_string()
}

struct Walker<'a> {
    defs: &'a Map<String, Value>,
    unknown: Vec<String>,
    type_error: Option<String>,
    struct_name: String,
    kind: String,
}

impl Walker<'_> {
    fn resolve<'s>(
        defs: &'s Map<String, Value>,
        mut schema: &'s Value,
    ) -> (&'s Value, Option<&'s str>) {
        let mut name = None;
        for _ in 0..8 {
            if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
                let n = r.rsplit('/').next().unwrap_or(r);
                name = defs.get_key_value(n).map(|(k, _)| k.as_str());
                match defs.get(n) {
                    Some(s) => schema = s,
                    None => break,
                }
            } else if let Some(first) = schema
                .get("allOf")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                schema = first;
            } else {
                break;
            }
        }
        (schema, name)
    }

    fn walk(&mut self, schema: &Value, v: &mut Value, path: &str, depth: usize) {
        if self.type_error.is_some() || depth > 64 {
            return;
        }
        let defs = self.defs;
        let (schema, name) = Self::resolve(defs, schema);
        if let Some(n) = name {
            if n.ends_with("intstr.IntOrString") {
                if !(v.is_string() || v.is_i64() || v.is_u64()) {
                    self.type_mismatch(v, path, "intstr.IntOrString");
                }
                return;
            }
            if n.ends_with("resource.Quantity") {
                if !(v.is_string() || v.is_number()) {
                    self.type_mismatch(v, path, "resource.Quantity");
                }
                return;
            }
        }
        if schema
            .get("x-kubernetes-int-or-string")
            .and_then(Value::as_bool)
            == Some(true)
        {
            return;
        }
        if schema
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            == Some(true)
        {
            return;
        }
        // Unions (JSONSchemaPropsOrBool and friends) accept any of their forms;
        // the kind's own validation checks the details.
        if schema.get("oneOf").is_some() || schema.get("anyOf").is_some() {
            return;
        }
        let ty = schema.get("type").and_then(Value::as_str).unwrap_or("");
        match ty {
            "object" => {
                let Some(m) = v.as_object_mut() else {
                    let go = if schema.get("properties").is_some() {
                        "struct"
                    } else {
                        "map"
                    };
                    self.type_mismatch(v, path, go);
                    return;
                };
                let props = schema.get("properties").and_then(Value::as_object);
                let additional = schema.get("additionalProperties");
                let mut drop = Vec::new();
                for (k, child) in m.iter_mut() {
                    let child_path = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    if depth == 0 && (k == "kind" || k == "apiVersion") {
                        continue;
                    }
                    match (props.and_then(|p| p.get(k)), additional) {
                        (Some(s), _) => self.walk(s, child, &child_path, depth + 1),
                        (None, Some(Value::Object(a))) if !a.is_empty() => {
                            let a = Value::Object(a.clone());
                            self.walk(&a, child, &child_path, depth + 1)
                        }
                        (None, Some(Value::Bool(true))) => {}
                        (None, Some(Value::Object(_))) => {}
                        (None, _) if props.is_none() => {}
                        (None, _) => {
                            self.unknown.push(child_path);
                            drop.push(k.clone());
                        }
                    }
                }
                for k in drop {
                    m.remove(&k);
                }
            }
            "array" => {
                let Some(a) = v.as_array_mut() else {
                    self.type_mismatch(v, path, "slice");
                    return;
                };
                if let Some(items) = schema.get("items") {
                    for (i, x) in a.iter_mut().enumerate() {
                        let p = format!("{path}[{i}]");
                        self.walk(items, x, &p, depth + 1);
                    }
                }
            }
            "string" => {
                if !v.is_string() {
                    self.type_mismatch(v, path, "string");
                } else if schema.get("format").and_then(Value::as_str) == Some("byte") {
                    use base64::Engine;
                    let s = v.as_str().unwrap_or_default();
                    if let Err(e) = base64::engine::general_purpose::STANDARD.decode(s) {
                        self.type_error = Some(format!(
                            "illegal base64 data at input byte {}",
                            base64_error_offset(&e)
                        ));
                    }
                }
            }
            "integer" if !(v.is_i64() || v.is_u64()) => {
                let f = schema
                    .get("format")
                    .and_then(Value::as_str)
                    .unwrap_or("int64");
                self.type_mismatch(v, path, f);
            }
            "number" if !v.is_number() => {
                self.type_mismatch(v, path, "float64");
            }
            "boolean" if !v.is_boolean() => {
                self.type_mismatch(v, path, "bool");
            }
            _ => {}
        }
    }

    fn type_mismatch(&mut self, v: &Value, path: &str, go_type: &str) {
        let json_type = match v {
            Value::String(_) => "string",
            Value::Number(_) => "number",
            Value::Bool(_) => "bool",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
            Value::Null => "null",
        };
        let _ = &self.kind;
        self.type_error = Some(format!(
            "json: cannot unmarshal {json_type} into Go struct field {}.{path} of type {go_type}",
            self.struct_name
        ));
    }
}

fn base64_error_offset(e: &base64::DecodeError) -> usize {
    match e {
        base64::DecodeError::InvalidByte(i, _) => *i,
        base64::DecodeError::InvalidLastSymbol(i, _) => *i,
        _ => 0,
    }
}

/// Unknown-field handling shared by built-in and custom objects: `paths` are the
/// dropped fields. Strict refuses, Warn returns warnings, Ignore says nothing.
pub fn unknown_fields(
    res: &Resource,
    paths: &[String],
    mode: FieldValidation,
) -> Result<Vec<String>, StatusError> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let messages: Vec<String> = paths
        .iter()
        .map(|p| format!("unknown field {p:?}"))
        .collect();
    match mode {
        FieldValidation::Ignore => Ok(Vec::new()),
        FieldValidation::Warn => Ok(messages),
        FieldValidation::Strict => {
            let what = format!(
                "{} in version {:?} cannot be handled as a {}",
                res.kind, res.version, res.kind
            );
            Err(StatusError::bad_request(format!(
                "{what}: strict decoding error: {}",
                messages.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use serde_json::json;

    #[test]
    fn unknown_and_wrong_types() {
        let reg = Registry::with_builtins();
        let cm = reg.get("", "v1", "configmaps").expect("configmaps");
        let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "bogus": 1, "data": {"k": "v"}});
        let unknown = check_builtin(&cm, &mut obj).expect("decodes");
        assert_eq!(unknown, vec!["bogus".to_string()]);
        assert!(obj.get("bogus").is_none());
        let e = unknown_fields(&cm, &unknown, FieldValidation::Strict).expect_err("strict refuses");
        assert_eq!(
            e.status.message,
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"bogus\""
        );

        let d = reg.get("apps", "v1", "deployments").expect("deployments");
        let mut bad = json!({"metadata": {"name": "a"}, "spec": {"replicas": "three"}});
        let e = check_builtin(&d, &mut bad).expect_err("replicas must be an integer");
        assert!(
            e.status.message.contains("cannot unmarshal string"),
            "{}",
            e.status.message
        );

        let mut secret = json!({"metadata": {"name": "s"}, "data": {"k": "not base64!"}});
        let s = reg.get("", "v1", "secrets").expect("secrets");
        assert!(check_builtin(&s, &mut secret).is_err());
    }

    #[test]
    fn kind_mismatch_message() {
        let reg = Registry::with_builtins();
        let cm = reg.get("", "v1", "configmaps").expect("configmaps");
        let mut obj = json!({"apiVersion": "v1", "kind": "Secret"});
        let e = check_type_meta(&cm, &mut obj).expect_err("mismatch");
        assert_eq!(
            e.status.message,
            "Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion"
        );
    }
}
