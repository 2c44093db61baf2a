//! The one seam between the process shell and what it serves: `App::start` builds the
//! router that the HTTPS server hands every request to, and `App::shutdown` stops it.
//!
//! Until the kernel crate is wired in, a small stand-in router answers the health
//! endpoints and `SelfSubjectReview` (what `kubectl auth whoami` calls) and returns
//! 401 for anything else without an identity.

use apimachinery::{StatusError, UserInfo};
use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::path::PathBuf;

/// Which product the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `sphere up`: kernel, platform and console.
    Up,
    /// `sphere kernel`: the Kubernetes-compatible API server alone.
    Kernel,
}

/// What the served application needs to start.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub data_dir: PathBuf,
    pub mode: Mode,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel (or platform) failed to start.
    #[error("{0}")]
    Start(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The running application behind the HTTPS server.
#[derive(Debug)]
pub struct App {
    router: Router,
}

impl App {
    /// Starts what `cfg.mode` serves.
    pub async fn start(cfg: AppConfig) -> Result<App, Error> {
        tracing::debug!(data_dir = %cfg.data_dir.display(), mode = ?cfg.mode, "starting app");
        Ok(App {
            router: stand_in_router(),
        })
    }

    /// The router every HTTPS request goes to; `UserInfo` is in the request's
    /// extensions when the client presented a certificate signed by our CA.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Stops the application after the server has stopped taking requests.
    pub async fn shutdown(self) {}
}

fn stand_in_router() -> Router {
    Router::new()
        .route("/healthz", get(ok))
        .route("/livez", get(ok))
        .route("/readyz", get(ok))
        .route(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            post(self_subject_review),
        )
        .fallback(fallback)
}

async fn ok() -> &'static str {
    "ok"
}

fn status_response(status: &StatusError) -> Response {
    let code = StatusCode::from_u16(status.code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        status.to_json(),
    )
        .into_response()
}

async fn self_subject_review(req: Request) -> Response {
    let Some(user) = req.extensions().get::<UserInfo>() else {
        return status_response(&StatusError::unauthorized());
    };
    let body = serde_json::json!({
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": {"username": user.name, "groups": user.groups}},
    });
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn fallback(req: Request) -> Response {
    if req.extensions().get::<UserInfo>().is_none() {
        return status_response(&StatusError::unauthorized());
    }
    // kube-apiserver's answer for a path no handler serves.
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
        .into_response()
}
