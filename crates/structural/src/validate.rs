//! Value validation of custom objects with kube-openapi's checks, order and messages.

// Errors are converted to field errors as apiextensions-apiserver's
// `kubeOpenAPIResultToFieldErrors` does, so they render byte for byte like kube-apiserver's.

use crate::format;
use crate::gofmt::{go_quote, is_json_integer};
use crate::node::{AdditionalProperties, Node};
use apimachinery::field::{FieldError, FieldErrorType, Path};
use serde_json::Value;

/// Where errors are rooted: `None` for a custom object (Go passes a nil path, which renders as
/// `<nil>` for errors that carry no field name), or the path of a schema `default`.
pub(crate) struct Validator<'a> {
    pub prefix: Option<&'a Path>,
}

/// kube-openapi's `in` for every CRD validation.
pub(crate) const IN: &str = "body";

impl Validator<'_> {
    fn field(&self, name: &str) -> Path {
        let name = name.strip_prefix('.').unwrap_or(name);
        match (self.prefix, name.is_empty()) {
            (Some(p), true) => p.clone(),
            (Some(p), false) => p.child(name),
            (None, true) => Path::new("<nil>"),
            (None, false) => Path::new(name),
        }
    }

    /// Errors that are not `openapierrors.Validation` land on the root path with an empty value.
    pub(crate) fn root_invalid(&self, msg: String) -> FieldError {
        let field = self.prefix.cloned().unwrap_or_else(|| Path::new("<nil>"));
        FieldError::invalid(field, "", msg)
    }

    fn type_invalid(&self, name: &str, expected: &str, got: &str) -> FieldError {
        let msg = format!(
            "{name} in {IN} must be of type {expected}: {}",
            go_quote(got)
        );
        FieldError::type_invalid(self.field(name), got, msg)
    }

    pub(crate) fn invalid(&self, name: &str, value: Value, msg: String) -> FieldError {
        FieldError::invalid(self.field(name), value, msg)
    }

    fn too_many(&self, name: &str, actual: usize, max: i64) -> FieldError {
        let noun = if max == 1 { "item" } else { "items" };
        FieldError {
            kind: FieldErrorType::TooMany,
            field: self.field(name),
            value: Some(Value::from(actual)),
            detail: format!("must have at most {max} {noun}"),
        }
    }

    /// Validates `data` against `n` at the kube-openapi path `name`. With `old`, the value this
    /// one replaces on an update, errors are ratcheted as kube-apiserver does: a value equal to
    /// its correlated old value reports nothing.
    pub(crate) fn validate(
        &self,
        n: &Node,
        data: &Value,
        old: Option<&Value>,
        name: &str,
        out: &mut Vec<FieldError>,
    ) {
        let mut found = Vec::new();
        self.validate_node(n, data, old, name, &mut found);
        if !found.is_empty() && old.is_some_and(|o| o == data) {
            return;
        }
        out.extend(found);
    }

    fn validate_node(
        &self,
        n: &Node,
        data: &Value,
        old: Option<&Value>,
        name: &str,
        out: &mut Vec<FieldError>,
    ) {
        if data.is_null() {
            self.check_type(n, data, name, out);
            self.check_enum(n, data, name, out);
            return;
        }
        self.check_type(n, data, name, out);
        self.check_junctors(n, data, old, name, out);
        if let Value::String(s) = data {
            self.check_string(n, s, name, out);
            self.check_format(n, s, name, out);
        }
        if data.is_number() {
            self.check_number(n, data, name, out);
        }
        if let Value::Array(items) = data {
            self.check_array(n, items, old, name, out);
        }
        self.check_enum(n, data, name, out);
        if let Value::Object(map) = data {
            self.check_object(n, map, old, name, out);
        }
    }

    fn check_type(&self, n: &Node, data: &Value, name: &str, out: &mut Vec<FieldError>) {
        let types = types_of(n);
        let fmt = format::supported(&n.format).map(|_| n.format.as_str());
        let fmt = fmt.unwrap_or("");
        if types.is_empty() && fmt.is_empty() {
            return;
        }
        if data.is_null() {
            if !types.is_empty() && !n.nullable {
                out.push(self.type_invalid(name, &types.join(","), "null"));
            }
            return;
        }
        let (sch, data_fmt) = type_info(data);
        let contains = types.contains(&sch);
        let float_int = sch == "number"
            && data.as_f64().is_some_and(is_json_integer)
            && types.contains(&"integer");
        let int_float = sch == "integer" && types.contains(&"number");
        let stringish = data.is_string() || data.is_array();
        if !(stringish || fmt.is_empty() || contains || data_fmt == fmt || float_int || int_float) {
            out.push(self.type_invalid(name, fmt, data_fmt));
            return;
        }
        let numeric = types.contains(&"number") || types.contains(&"integer");
        if !numeric && !fmt.is_empty() && stringish {
            return;
        }
        if !(contains || float_int || int_float) {
            out.push(self.type_invalid(name, &types.join(","), sch));
        }
    }

    fn check_junctors(
        &self,
        n: &Node,
        data: &Value,
        old: Option<&Value>,
        name: &str,
        out: &mut Vec<FieldError>,
    ) {
        if !n.any_of.is_empty() {
            let mut best: Option<Vec<FieldError>> = None;
            let mut ok = false;
            for s in &n.any_of {
                let mut r = Vec::new();
                self.validate(s, data, old, name, &mut r);
                if r.is_empty() {
                    ok = true;
                    best = None;
                    break;
                }
                // kube-openapi keeps the alternative with the most passing checks; the one with
                // the fewest failures is the closest measure available here.
                if best.as_ref().is_none_or(|b| r.len() < b.len()) {
                    best = Some(r);
                }
            }
            if !ok {
                out.push(self.root_invalid(format!(
                    "{} must validate at least one schema (anyOf)",
                    go_quote(name)
                )));
            }
            out.extend(best.unwrap_or_default());
        }
        if !n.one_of.is_empty() {
            let mut best: Option<Vec<FieldError>> = None;
            let mut valid = 0;
            for s in &n.one_of {
                let mut r = Vec::new();
                self.validate(s, data, old, name, &mut r);
                if r.is_empty() {
                    valid += 1;
                    best = None;
                    continue;
                }
                if valid == 0 && best.as_ref().is_none_or(|b| r.len() < b.len()) {
                    best = Some(r);
                }
            }
            if valid != 1 {
                let extra = if valid == 0 {
                    "Found none valid".to_string()
                } else {
                    format!("Found {valid} valid alternatives")
                };
                out.push(self.root_invalid(format!(
                    "{} must validate one and only one schema (oneOf). {extra}",
                    go_quote(name)
                )));
                out.extend(best.unwrap_or_default());
            }
        }
        if !n.all_of.is_empty() {
            let mut valid = 0;
            let mut all = Vec::new();
            for s in &n.all_of {
                let before = all.len();
                self.validate(s, data, old, name, &mut all);
                if all.len() == before {
                    valid += 1;
                }
            }
            out.extend(all);
            if valid != n.all_of.len() {
                let extra = if valid == 0 { ". None validated" } else { "" };
                out.push(self.root_invalid(format!(
                    "{} must validate all the schemas (allOf){extra}",
                    go_quote(name)
                )));
            }
        }
        if let Some(not) = &n.not {
            let mut r = Vec::new();
            self.validate(not, data, old, name, &mut r);
            if r.is_empty() {
                out.push(self.root_invalid(format!(
                    "{} must not validate the schema (not)",
                    go_quote(name)
                )));
            }
        }
    }

    fn check_string(&self, n: &Node, s: &str, name: &str, out: &mut Vec<FieldError>) {
        let len = s.chars().count() as i64;
        if let Some(max) = n.max_length
            && len > max
        {
            let unit = if max == 1 { "byte" } else { "bytes" };
            out.push(FieldError {
                kind: FieldErrorType::TooLong,
                field: self.field(name),
                value: None,
                detail: format!("may not be more than {max} {unit}"),
            });
            return;
        }
        if let Some(min) = n.min_length
            && len < min
        {
            let msg = format!("{name} in {IN} should be at least {min} chars long");
            out.push(self.invalid(name, Value::from(s), msg));
            return;
        }
        if let Some(p) = &n.pattern {
            let shown = match &p.regex {
                Ok(re) if re.is_match(s) => return,
                Ok(_) => p.source.clone(),
                Err(e) => format!("{}, but pattern is invalid: {e}", p.source),
            };
            let msg = format!("{name} in {IN} should match '{shown}'");
            out.push(self.invalid(name, Value::from(s), msg));
        }
    }

    fn check_format(&self, n: &Node, s: &str, name: &str, out: &mut Vec<FieldError>) {
        let Some(normalized) = format::supported(&n.format) else {
            return;
        };
        if !format::validates(&normalized, s) {
            let msg = format!(
                "{name} in {IN} must be of type {}: {}",
                n.format,
                go_quote(s)
            );
            out.push(FieldError::type_invalid(self.field(name), s, msg));
        }
    }

    fn check_array(
        &self,
        n: &Node,
        items: &[Value],
        old: Option<&Value>,
        name: &str,
        out: &mut Vec<FieldError>,
    ) {
        if let Some(item_schema) = &n.items {
            for (i, v) in items.iter().enumerate() {
                let old_item = correlate_item(n, v, i, old);
                self.validate(item_schema, v, old_item, &format!("{name}[{i}]"), out);
            }
        }
        let size = items.len();
        if let Some(min) = n.min_items
            && (size as i64) < min
        {
            let msg = format!("{name} in {IN} should have at least {min} items");
            out.push(self.invalid(name, Value::from(size), msg));
        }
        if let Some(max) = n.max_items
            && (size as i64) > max
        {
            out.push(self.too_many(name, size, max));
        }
        if n.unique_items {
            let dup = items
                .iter()
                .enumerate()
                .any(|(i, a)| items[..i].iter().any(|b| crate::gofmt::json_equal(a, b)));
            if dup {
                let msg = format!("{name} in {IN} shouldn't contain duplicates");
                out.push(self.invalid(name, Value::from(""), msg));
            }
        }
    }

    fn check_enum(&self, n: &Node, data: &Value, name: &str, out: &mut Vec<FieldError>) {
        if n.enum_.is_empty()
            || n.enum_
                .iter()
                .any(|e| !data.is_null() && crate::gofmt::json_equal(e, data))
        {
            return;
        }
        let allowed: Vec<String> = n
            .enum_
            .iter()
            .map(|e| match e {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let refs: Vec<&str> = allowed.iter().map(String::as_str).collect();
        out.push(FieldError::not_supported(
            self.field(name),
            data.clone(),
            &refs,
        ));
    }

    fn check_object(
        &self,
        n: &Node,
        map: &serde_json::Map<String, Value>,
        old: Option<&Value>,
        name: &str,
        out: &mut Vec<FieldError>,
    ) {
        let size = map.len();
        if let Some(min) = n.min_properties
            && (size as i64) < min
        {
            let msg = format!("{name} in {IN} should have at least {min} properties");
            out.push(self.invalid(name, Value::from(size), msg));
        }
        if let Some(max) = n.max_properties
            && (size as i64) > max
        {
            out.push(self.too_many(name, size, max));
        }
        match &n.additional_properties {
            Some(AdditionalProperties::Bool(false)) => {
                for k in map.keys() {
                    if n.property(k).is_none() {
                        let msg = format!("{name}.{k} in {IN} is a forbidden property");
                        out.push(self.invalid(name, Value::from(k.as_str()), msg));
                    }
                }
            }
            Some(AdditionalProperties::Schema(s)) => {
                for (k, v) in map {
                    if n.property(k).is_none() {
                        let old_v = old.and_then(|o| o.get(k));
                        self.validate(s, v, old_v, &format!("{name}.{k}"), out);
                    }
                }
            }
            Some(AdditionalProperties::Bool(true)) | None => {}
        }
        for (k, s) in &n.properties {
            if let Some(v) = map.get(k) {
                let child = if name.is_empty() {
                    k.clone()
                } else {
                    format!("{name}.{k}")
                };
                self.validate(s, v, old.and_then(|o| o.get(k)), &child, out);
            }
        }
        for k in &n.required {
            if !map.contains_key(k) {
                out.push(FieldError::required(self.field(&format!("{name}.{k}")), ""));
            }
        }
    }
}

/// The schema's types as kube-openapi sees them after apiextensions' conversion.
fn types_of(n: &Node) -> Vec<&str> {
    if n.int_or_string {
        vec!["integer", "string"]
    } else if n.type_.is_empty() {
        Vec::new()
    } else {
        vec![n.type_.as_str()]
    }
}

/// kube-openapi's `schemaInfoForType` for decoded JSON: Kubernetes decodes integers as int64.
fn type_info(v: &Value) -> (&'static str, &'static str) {
    match v {
        Value::Null => ("null", ""),
        Value::Bool(_) => ("boolean", ""),
        Value::String(_) => ("string", ""),
        Value::Number(n) if n.is_i64() => ("integer", "int64"),
        Value::Number(_) => ("number", "double"),
        Value::Array(_) => ("array", ""),
        Value::Object(_) => ("object", ""),
    }
}

/// The old element an array element replaces, for ratcheting: by map keys in a list-type map,
/// by index in a list without a list type, and none for sets and atomic lists.
fn correlate_item<'a>(n: &Node, v: &Value, i: usize, old: Option<&'a Value>) -> Option<&'a Value> {
    let old = old?.as_array()?;
    match n.list_type.as_deref() {
        Some("map") => {
            let m = v.as_object()?;
            old.iter().find(|o| {
                o.as_object()
                    .is_some_and(|om| n.list_map_keys.iter().all(|k| om.get(k) == m.get(k)))
            })
        }
        Some(_) => None,
        None => old.get(i),
    }
}
