//! Field-level validation errors, rendered exactly as kube-apiserver renders
//! `field.Error` (`spec.replicas: Invalid value: -1: must be ...`).

use serde_json::Value;
use std::fmt;

/// A field path such as `spec.template.spec.containers[0].image`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Path(String);

impl Path {
    /// The root path, rendered as an empty string.
    pub fn root() -> Self {
        Path(String::new())
    }

    /// A path starting at the named field.
    pub fn new(name: &str) -> Self {
        Path(name.to_string())
    }

    /// The path of a child field.
    pub fn child(&self, name: &str) -> Self {
        if self.0.is_empty() {
            Path(name.to_string())
        } else {
            Path(format!("{}.{}", self.0, name))
        }
    }

    /// The path of a list element.
    pub fn index(&self, i: usize) -> Self {
        Path(format!("{}[{}]", self.0, i))
    }

    /// The path of a map entry.
    pub fn key(&self, k: &str) -> Self {
        Path(format!("{}[{}]", self.0, k))
    }

    /// The rendered path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of field error Kubernetes knows, with their `reason` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}

impl FieldErrorType {
    /// The `reason` of a `StatusCause`.
    pub fn reason(self) -> &'static str {
        match self {
            FieldErrorType::NotFound => "FieldValueNotFound",
            FieldErrorType::Required => "FieldValueRequired",
            FieldErrorType::Duplicate => "FieldValueDuplicate",
            FieldErrorType::Invalid => "FieldValueInvalid",
            FieldErrorType::NotSupported => "FieldValueNotSupported",
            FieldErrorType::Forbidden => "FieldValueForbidden",
            FieldErrorType::TooLong => "FieldValueTooLong",
            FieldErrorType::TooMany => "FieldValueTooMany",
            FieldErrorType::Internal => "InternalError",
            FieldErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }

    fn label(self) -> &'static str {
        match self {
            FieldErrorType::NotFound => "Not found",
            FieldErrorType::Required => "Required value",
            FieldErrorType::Duplicate => "Duplicate value",
            FieldErrorType::Invalid => "Invalid value",
            FieldErrorType::NotSupported => "Unsupported value",
            FieldErrorType::Forbidden => "Forbidden",
            FieldErrorType::TooLong => "Too long",
            FieldErrorType::TooMany => "Too many",
            FieldErrorType::Internal => "Internal error",
            FieldErrorType::TypeInvalid => "Invalid value",
        }
    }
}

/// One validation failure on one field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub kind: FieldErrorType,
    pub field: Path,
    /// The offending value, when Kubernetes prints it.
    pub value: Option<Value>,
    pub detail: String,
}

impl FieldError {
    pub fn required(field: Path, detail: impl Into<String>) -> Self {
        FieldError {
            kind: FieldErrorType::Required,
            field,
            value: None,
            detail: detail.into(),
        }
    }
    pub fn invalid(field: Path, value: impl Into<Value>, detail: impl Into<String>) -> Self {
        FieldError {
            kind: FieldErrorType::Invalid,
            field,
            value: Some(value.into()),
            detail: detail.into(),
        }
    }
    pub fn forbidden(field: Path, detail: impl Into<String>) -> Self {
        FieldError {
            kind: FieldErrorType::Forbidden,
            field,
            value: None,
            detail: detail.into(),
        }
    }
    pub fn duplicate(field: Path, value: impl Into<Value>) -> Self {
        FieldError {
            kind: FieldErrorType::Duplicate,
            field,
            value: Some(value.into()),
            detail: String::new(),
        }
    }
    pub fn not_found(field: Path, value: impl Into<Value>) -> Self {
        FieldError {
            kind: FieldErrorType::NotFound,
            field,
            value: Some(value.into()),
            detail: String::new(),
        }
    }
    pub fn type_invalid(field: Path, value: impl Into<Value>, detail: impl Into<String>) -> Self {
        FieldError {
            kind: FieldErrorType::TypeInvalid,
            field,
            value: Some(value.into()),
            detail: detail.into(),
        }
    }
    /// `Unsupported value: "green": supported values: "red", "blue"`.
    pub fn not_supported(field: Path, value: impl Into<Value>, valid: &[&str]) -> Self {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid.iter().map(|v| format!("{v:?}")).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        FieldError {
            kind: FieldErrorType::NotSupported,
            field,
            value: Some(value.into()),
            detail,
        }
    }
    /// `Too long: may not be more than N bytes` (value omitted, as Kubernetes does).
    pub fn too_long(field: Path, max: usize) -> Self {
        FieldError {
            kind: FieldErrorType::TooLong,
            field,
            value: None,
            detail: format!("may not be more than {max} bytes"),
        }
    }
    pub fn too_many(field: Path, actual: usize, max: usize) -> Self {
        FieldError {
            kind: FieldErrorType::TooMany,
            field,
            value: Some(Value::from(actual)),
            detail: format!("must have at most {max} items"),
        }
    }

    /// The message without the field path: what a `StatusCause.message` holds.
    pub fn body(&self) -> String {
        let mut s = self.kind.label().to_string();
        match (&self.value, self.kind) {
            (Some(v), t) if t != FieldErrorType::Required && t != FieldErrorType::Forbidden => {
                s.push_str(": ");
                s.push_str(&render_value(v));
            }
            _ => {}
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// Kubernetes prints strings quoted, numbers and booleans bare, and structures as JSON.
fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

/// A list of field errors, rendered as kube-apiserver does: one error bare, several in brackets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorList(pub Vec<FieldError>);

impl ErrorList {
    pub fn new() -> Self {
        ErrorList(Vec::new())
    }
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    pub fn extend(&mut self, other: ErrorList) {
        self.0.extend(other.0);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }
}

impl From<Vec<FieldError>> for ErrorList {
    fn from(v: Vec<FieldError>) -> Self {
        ErrorList(v)
    }
}

impl fmt::Display for ErrorList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            0 => Ok(()),
            1 => write!(f, "{}", self.0[0]),
            _ => {
                let parts: Vec<String> = self.0.iter().map(|e| e.to_string()).collect();
                write!(f, "[{}]", parts.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_kube_apiserver() {
        let e = FieldError::invalid(
            Path::new("spec")
                .child("template")
                .child("metadata")
                .child("labels"),
            serde_json::json!({"a": "c"}),
            "`selector` does not match template `labels`",
        );
        assert_eq!(
            e.to_string(),
            "spec.template.metadata.labels: Invalid value: {\"a\":\"c\"}: `selector` does not match template `labels`"
        );
        let r = FieldError::required(
            Path::new("spec")
                .child("containers")
                .index(0)
                .child("image"),
            "",
        );
        assert_eq!(r.to_string(), "spec.containers[0].image: Required value");
        let n =
            FieldError::not_supported(Path::new("spec").child("color"), "green", &["red", "blue"]);
        assert_eq!(
            n.body(),
            "Unsupported value: \"green\": supported values: \"red\", \"blue\""
        );
        let list = ErrorList(vec![e, r]);
        assert!(list.to_string().starts_with("[spec.template"));
        let t = FieldError::too_long(Path::new("[]"), 1048576);
        assert_eq!(
            t.to_string(),
            "[]: Too long: may not be more than 1048576 bytes"
        );
    }
}
