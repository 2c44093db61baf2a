//! The `Status` object every Kubernetes API error is rendered as, and constructors
//! that produce the exact messages, reasons and codes kube-apiserver uses.

use crate::field::ErrorList;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One cause inside `details.causes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub reason: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub field: String,
}

/// `details` of a `Status`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StatusDetails {
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub group: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub kind: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub uid: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub causes: Vec<Cause>,
    #[serde(
        rename = "retryAfterSeconds",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub retry_after_seconds: Option<u32>,
}

/// A `meta.k8s.io/v1 Status`, field order as kube-apiserver writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub kind: String,
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub status: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub details: Option<StatusDetails>,
    pub code: u16,
}

impl Status {
    /// A `Success` status, as returned by some deletes.
    pub fn success(details: Option<StatusDetails>) -> Self {
        Status {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: Default::default(),
            status: "Success".into(),
            message: String::new(),
            reason: String::new(),
            details,
            code: 200,
        }
    }
}

/// An API error: an HTTP status code plus the `Status` body to send.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct StatusError {
    /// Boxed so `Result<T, StatusError>` stays small on the happy path.
    pub status: Box<Status>,
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.status.reason, self.status.code, self.status.message
        )
    }
}

/// How a resource is named in messages: `configmaps` or `deployments.apps`.
fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

impl StatusError {
    /// A failure with the given code, reason, message and details.
    pub fn new(
        code: u16,
        reason: &str,
        message: impl Into<String>,
        details: Option<StatusDetails>,
    ) -> Self {
        StatusError {
            status: Box::new(Status {
                kind: "Status".into(),
                api_version: "v1".into(),
                metadata: Default::default(),
                status: "Failure".into(),
                message: message.into(),
                reason: reason.into(),
                details,
                code,
            }),
        }
    }

    pub fn code(&self) -> u16 {
        self.status.code
    }

    pub fn reason(&self) -> &str {
        &self.status.reason
    }

    fn named(resource: &str, group: &str, name: &str) -> Option<StatusDetails> {
        Some(StatusDetails {
            name: name.into(),
            group: group.into(),
            kind: resource.into(),
            ..Default::default()
        })
    }

    /// `configmaps "x" not found`.
    pub fn not_found(resource: &str, group: &str, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} {:?} not found", qualified(resource, group), name),
            Self::named(resource, group, name),
        )
    }

    /// `configmaps "x" already exists`.
    pub fn already_exists(resource: &str, group: &str, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} {:?} already exists", qualified(resource, group), name),
            Self::named(resource, group, name),
        )
    }

    /// `Operation cannot be fulfilled on configmaps "x": <why>`.
    pub fn conflict(resource: &str, group: &str, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {:?}: {}",
                qualified(resource, group),
                name,
                why
            ),
            Self::named(resource, group, name),
        )
    }

    /// The conflict an update with a stale resourceVersion gets.
    pub fn stale(resource: &str, group: &str, name: &str) -> Self {
        Self::conflict(
            resource,
            group,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// `Kind.group "name" is invalid: <errors>` with one cause per field error.
    pub fn invalid(kind: &str, group: &str, name: &str, errs: &ErrorList) -> Self {
        let causes = errs
            .iter()
            .map(|e| Cause {
                reason: e.kind.reason().into(),
                message: e.body(),
                field: e.field.to_string(),
            })
            .collect();
        Self::new(
            422,
            "Invalid",
            format!("{} {:?} is invalid: {}", qualified(kind, group), name, errs),
            Some(StatusDetails {
                name: name.into(),
                group: group.into(),
                kind: kind.into(),
                causes,
                ..Default::default()
            }),
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message, None)
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized", None)
    }

    /// `secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "ns"`.
    pub fn forbidden(resource: &str, group: &str, name: &str, message: impl Into<String>) -> Self {
        Self::new(
            403,
            "Forbidden",
            message,
            Some(StatusDetails {
                name: name.into(),
                group: group.into(),
                kind: resource.into(),
                ..Default::default()
            }),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            Some(StatusDetails::default()),
        )
    }

    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(406, "NotAcceptable", message, None)
    }

    /// `Request entity too large: limit is N`.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
            None,
        )
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(415, "UnsupportedMediaType", message, None)
    }

    /// `410 Expired`, the answer to a watch or continue token older than the history kept.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message, None)
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Gone", message, None)
    }

    pub fn too_many_requests(message: impl Into<String>, retry_after: u32) -> Self {
        Self::new(
            429,
            "TooManyRequests",
            message,
            Some(StatusDetails {
                retry_after_seconds: Some(retry_after),
                ..Default::default()
            }),
        )
    }

    pub fn internal(message: impl fmt::Display) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
            Some(StatusDetails {
                causes: vec![Cause {
                    reason: String::new(),
                    message: message.to_string(),
                    field: String::new(),
                }],
                ..Default::default()
            }),
        )
    }

    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message, None)
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(504, "Timeout", message, None)
    }

    /// The JSON body to send.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.status).unwrap_or_else(|_| b"{}".to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{FieldError, Path};

    #[test]
    fn not_found_matches_golden() {
        let e = StatusError::not_found("configmaps", "", "missing");
        let v: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "configmaps \"missing\" not found", "reason": "NotFound",
                "details": {"name": "missing", "kind": "configmaps"}, "code": 404
            })
        );
    }

    #[test]
    fn invalid_lists_causes() {
        let errs = ErrorList(vec![FieldError::not_supported(
            Path::new("spec").child("color"),
            "green",
            &["red", "blue"],
        )]);
        let e = StatusError::invalid("Widget", "golden.example.com", "w2", &errs);
        assert_eq!(
            e.status.message,
            "Widget.golden.example.com \"w2\" is invalid: spec.color: Unsupported value: \"green\": supported values: \"red\", \"blue\""
        );
        let d = e.status.details.unwrap();
        assert_eq!(d.causes[0].reason, "FieldValueNotSupported");
        assert_eq!(d.causes[0].field, "spec.color");
    }

    #[test]
    fn method_not_allowed_has_empty_details() {
        let v: serde_json::Value =
            serde_json::from_slice(&StatusError::method_not_allowed().to_json()).unwrap();
        assert_eq!(v["details"], serde_json::json!({}));
    }
}
