//! Error responses in the shape clients expect: a Kubernetes `Status` on /api, /apis
//! and /kapis (as KubeSphere v4 answers).

use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A `Status` failure response with `code`, `reason` and `message`.
pub fn failure(code: u16, reason: &str, message: impl Into<String>) -> Response {
    let status =
        http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message.into(),
        "reason": reason,
        "code": status.as_u16(),
    });
    (status, axum::Json(body)).into_response()
}

/// 401 as kube-apiserver words it.
pub fn unauthorized() -> Response {
    failure(401, "Unauthorized", "Unauthorized")
}

/// 403 naming who was refused what, so the user knows which permission is missing.
pub fn forbidden(message: impl Into<String>) -> Response {
    failure(403, "Forbidden", message)
}
