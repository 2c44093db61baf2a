//! The error answer of the /kapis handlers: a Kubernetes `Status` object, as KubeSphere v4 returns.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An HTTP error rendered as a `Status`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason,
            message: message.into(),
        }
    }
    pub fn bad_request(m: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", m)
    }
    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }
    pub fn forbidden(m: impl Into<String>) -> ApiError {
        ApiError::new(403, "Forbidden", m)
    }
    pub fn not_found(m: impl Into<String>) -> ApiError {
        ApiError::new(404, "NotFound", m)
    }
    pub fn internal(m: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalError", m)
    }
}

impl From<kube::Error> for ApiError {
    fn from(e: kube::Error) -> ApiError {
        match e {
            kube::Error::Api(s) => {
                let reason = match s.code {
                    400 => "BadRequest",
                    401 => "Unauthorized",
                    403 => "Forbidden",
                    404 => "NotFound",
                    409 => "AlreadyExists",
                    422 => "Invalid",
                    _ => "InternalError",
                };
                let code = if s.code == 0 { 500 } else { s.code };
                ApiError::new(code, reason, s.message.clone())
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<crate::escalation::Refusal> for ApiError {
    fn from(e: crate::escalation::Refusal) -> ApiError {
        ApiError::forbidden(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": self.message, "reason": self.reason, "code": self.code,
        });
        (status, Json(body)).into_response()
    }
}
