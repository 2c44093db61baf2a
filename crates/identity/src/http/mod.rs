//! The HTTP routes of the identity service (full paths), and their shared helpers.

mod kapis;
mod oauth;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use http::{HeaderMap, StatusCode};

use crate::login::Client;
use crate::service::Identity;

/// Every identity route: `/oauth/*`, `/.well-known/openid-configuration`, the
/// users' `password` and `loginrecords`, and `configs/oauth`. The kapis routes
/// expect the gateway to have put the caller's `apimachinery::UserInfo` into the
/// request extensions.
pub fn router(identity: Identity) -> Router {
    Router::new()
        .route("/oauth/token", post(oauth::token))
        .route("/.well-known/openid-configuration", get(oauth::discovery))
        .route(
            "/oauth/.well-known/openid-configuration",
            get(oauth::discovery),
        )
        .route("/oauth/keys", get(oauth::keys))
        .route("/oauth/userinfo", get(oauth::userinfo))
        .route("/oauth/logout", get(oauth::logout).post(oauth::logout))
        .route("/oauth/authorize", get(oauth::authorize))
        .route("/oauth/callback/{idp}", get(oauth::callback))
        .route(
            "/kapis/iam.kubesphere.io/v1beta1/users/{user}/password",
            put(kapis::password),
        )
        .route(
            "/kapis/iam.kubesphere.io/v1beta1/users/{user}/loginrecords",
            get(kapis::loginrecords),
        )
        .route(
            "/kapis/config.kubesphere.io/v1alpha2/configs/oauth",
            get(kapis::oauth_config),
        )
        .with_state(identity)
}

/// An OAuth2 error response.
pub(crate) fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        [(http::header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({"error": code, "error_description": description})),
    )
        .into_response()
}

/// A Kubernetes `Status` error response (the `/kapis` error shape).
pub(crate) fn status_error(code: StatusCode, reason: &str, message: &str) -> Response {
    (
        code,
        axum::Json(serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason, "code": code.as_u16(),
        })),
    )
        .into_response()
}

/// The bearer token of a request.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, tok) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| tok.trim())
        .filter(|t| !t.is_empty())
}

/// The caller's address and agent. `X-Forwarded-For` is believed only when the
/// options say a trusted proxy sets it; otherwise a client could pick its own
/// rate-limit bucket.
pub(crate) fn client_info(
    id: &Identity,
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
) -> Client {
    let forwarded = id
        .options()
        .trust_forwarded_for
        .then(|| {
            headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|s| s.trim().to_string())
        })
        .flatten()
        .filter(|s| !s.is_empty());
    let source_ip = forwarded
        .or_else(|| peer.map(|p| p.ip().to_string()))
        .unwrap_or_else(|| crate::login::UNKNOWN_SOURCE.into());
    let user_agent = headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    Client {
        client_id: String::new(),
        source_ip,
        user_agent,
    }
}
