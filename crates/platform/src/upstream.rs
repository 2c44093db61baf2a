//! Where /api and /apis go: into the embedded kernel's router in-process (which
//! authenticates and authorizes the request itself), or to a real cluster with the
//! platform's client impersonating the authenticated caller.

use apimachinery::UserInfo;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderName, Request};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The largest request body passed through; kube-apiserver's own limit is 3 MiB.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// The Kubernetes API behind the platform.
#[derive(Clone)]
pub enum Upstream {
    /// The embedded kernel: requests go to its router unchanged.
    InProcess(axum::Router),
    /// A cluster reached with the platform's own client, which must be allowed to
    /// impersonate; every request is sent as the caller.
    Remote(kube::Client),
}

/// Headers that describe one hop, or carry credentials meant for the platform,
/// never the cluster.
const HOP_HEADERS: &[&str] = &[
    "authorization",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

impl Upstream {
    /// Sends `req`, already authenticated as `user`, to the Kubernetes API.
    pub async fn forward(&self, req: Request<Body>, user: Option<UserInfo>) -> Response {
        match self {
            Upstream::InProcess(router) => match router.clone().oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            },
            Upstream::Remote(base) => match user {
                Some(user) => forward_remote(base, req, Some(&user)).await,
                // Health and version are public on kube-apiserver too; they are
                // asked as the platform, which reveals nothing more.
                None if is_public(req.uri().path()) => forward_remote(base, req, None).await,
                None => crate::status::unauthorized(),
            },
        }
    }
}

fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/healthz" | "/livez" | "/readyz" | "/version" | "/version/"
    )
}

async fn forward_remote(
    base: &kube::Client,
    req: Request<Body>,
    user: Option<&UserInfo>,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return crate::status::failure(
                413,
                "RequestEntityTooLarge",
                "the request body is larger than 3 MiB",
            );
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let mut out = Request::builder().method(parts.method.clone()).uri(path);
    for (k, v) in &parts.headers {
        if !HOP_HEADERS.contains(&k.as_str()) && !k.as_str().starts_with("impersonate-") {
            out = out.header(k, v);
        }
    }
    let out = match out.body(kube::client::Body::from(bytes.to_vec())) {
        Ok(r) => r,
        Err(e) => {
            return crate::status::failure(400, "BadRequest", format!("invalid request: {e}"));
        }
    };
    let client = match user {
        Some(u) => kubeclient::as_user(base, u),
        None => base.clone(),
    };
    match client.send(out).await {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            for h in HOP_HEADERS {
                parts.headers.remove(HeaderName::from_static(h));
            }
            Response::from_parts(parts, Body::new(body))
        }
        Err(e) => crate::status::failure(
            503,
            "ServiceUnavailable",
            format!("the Kubernetes API server cannot be reached: {e}"),
        )
        .into_response(),
    }
}
