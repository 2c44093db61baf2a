//! The front every request passes: authenticate, route by path, authorize /kapis
//! with KubeSphere's scope rules, pass /api and /apis through as the caller, audit.

use crate::audit::{self, AuditLog};
use crate::authn::Authn;
use crate::requestinfo::RequestInfo;
use crate::status;
use crate::upstream::Upstream;
use apimachinery::UserInfo;
use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use http::Method;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

/// Decides whether a caller may make a /kapis request (KubeSphere's scope rules).
pub trait KapisAuthorizer: Send + Sync + 'static {
    /// `Err(reason)` refuses the request with 403 and that reason.
    fn authorize(
        &self,
        user: &UserInfo,
        method: &Method,
        path: &str,
        query: &str,
    ) -> Result<(), String>;
}

/// The parts the gateway routes between.
pub struct Gateway {
    pub authn: Authn,
    pub authorizer: Arc<dyn KapisAuthorizer>,
    /// /oauth and /.well-known: reachable without a token (login, discovery).
    pub public: Router,
    /// /kapis: authenticated and authorized before it runs.
    pub kapis: Router,
    /// Everything that is not an API: the console.
    pub console: Router,
    /// /api, /apis, /openapi, /version and the health endpoints.
    pub upstream: Upstream,
    pub audit: Option<AuditLog>,
    /// Whether identities from client certificates (verified against our CA by the
    /// TLS front) count. Off on a real cluster, where our CA vouches for nobody.
    pub trust_client_certs: bool,
    /// Completes an authenticated identity (e.g. with group memberships kept by the
    /// platform) before it is authorized or passed on.
    pub enrich: Option<Arc<dyn Fn(UserInfo) -> UserInfo + Send + Sync>>,
}

/// Paths of the Kubernetes API server that go upstream unchanged.
fn is_kube_path(path: &str) -> bool {
    let first = path.split('/').nth(1).unwrap_or("");
    matches!(
        first,
        "api" | "apis" | "openapi" | "version" | "healthz" | "livez" | "readyz"
    )
}

/// The redacted OAuth configuration: the login page lists the identity providers
/// before anyone has a token (KubeSphere leaves it out of authorization too; its
/// advisory was about the secrets it used to include, which are removed now).
const OAUTH_CONFIG_PATH: &str = "/kapis/config.kubesphere.io/v1alpha2/configs/oauth";

fn is_public_path(path: &str) -> bool {
    path == "/oauth"
        || path.starts_with("/oauth/")
        || path.starts_with("/.well-known/")
        || path == OAUTH_CONFIG_PATH
}

fn is_kapis_path(path: &str) -> bool {
    path == "/kapis" || path.starts_with("/kapis/")
}

impl Gateway {
    /// The router serving every path.
    pub fn into_router(self) -> Router {
        let kapis = self.kapis.fallback(|req: Request| async move {
            status::failure(
                404,
                "NotFound",
                format!(
                    "the server could not find the requested resource {}",
                    req.uri().path()
                ),
            )
        });
        let gw = Arc::new(Gateway { kapis, ..self });
        Router::new().fallback(handle).with_state(gw)
    }
}

async fn handle(State(gw): State<Arc<Gateway>>, mut req: Request) -> Response {
    let received = jiff::Timestamp::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let uri = req.uri().to_string();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let agent = req
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let cert_user = req
        .extensions_mut()
        .remove::<UserInfo>()
        .filter(|_| gw.trust_client_certs);
    let mut user = gw
        .authn
        .authenticate(req.headers(), cert_user.as_ref())
        .await;
    if let Some(enrich) = &gw.enrich {
        user = user.map(|u| enrich(u));
    }
    if let Some(u) = &user {
        req.extensions_mut().insert(u.clone());
    }

    let response = if is_kube_path(&path) {
        gw.upstream.forward(req, user.clone()).await
    } else if is_public_path(&path) {
        oneshot(&gw.public, req).await
    } else if is_kapis_path(&path) {
        match &user {
            None => status::unauthorized(),
            Some(u) => match gw.authorizer.authorize(u, &method, &path, &query) {
                Err(reason) => status::forbidden(reason),
                Ok(()) => oneshot(&gw.kapis, req).await,
            },
        }
    } else {
        oneshot(&gw.console, req).await
    };

    if let Some(log) = &gw.audit {
        let info = RequestInfo::parse(&method, &path, &query);
        let id = uuid::Uuid::new_v4().to_string();
        log.record(audit::event(
            &id,
            &info,
            &uri,
            user.as_ref(),
            &peer,
            &agent,
            response.status().as_u16(),
            received,
            jiff::Timestamp::now(),
        ));
    }
    response
}

async fn oneshot(router: &Router, req: Request) -> Response {
    match router.clone().oneshot(req).await {
        Ok(r) => r.into_response(),
        Err(never) => match never {},
    }
}
