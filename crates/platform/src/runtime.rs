//! Starting the platform on a Kubernetes API (the embedded kernel or a cluster):
//! its namespace, CRDs and built-in objects, its controllers and caches, and the
//! gateway that serves it all.

use crate::audit::{AuditLog, Rotation};
use crate::authn::{Authn, TokenReviewAuthenticator};
use crate::gateway::{Gateway, KapisAuthorizer};
use crate::upstream::Upstream;
use apimachinery::UserInfo;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The namespace holding the platform's own objects (sessions, keys, clients).
pub const SYSTEM_NAMESPACE: &str = "kubesphere-system";

/// What the platform needs to start.
pub struct PlatformConfig {
    /// The platform's own client: installs CRDs, runs controllers, feeds caches, and
    /// impersonates callers. Never used to perform a caller's request as itself.
    pub client: kube::Client,
    pub upstream: Upstream,
    /// Local state: the audit log.
    pub data_dir: PathBuf,
    pub admin_password_file: Option<PathBuf>,
}

/// Why the platform could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot reach the Kubernetes API to set up the platform: {0}")]
    Kube(#[from] kube::Error),
    #[error(transparent)]
    Audit(#[from] crate::audit::Error),
}

/// The running platform.
pub struct Platform {
    router: axum::Router,
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The first admin password when this start created the admin user.
    pub initial_admin_password: Option<String>,
}

impl Platform {
    pub async fn start(cfg: PlatformConfig) -> Result<Platform, Error> {
        ensure_namespace(&cfg.client, SYSTEM_NAMESPACE).await?;
        let audit = AuditLog::open(&cfg.data_dir.join("audit"), Rotation::default())?;
        // In-process reviews are cheap, and caching them would keep a deleted
        // ServiceAccount's token alive for the cache's lifetime.
        let review_ttl = match cfg.upstream {
            Upstream::InProcess(_) => Duration::ZERO,
            Upstream::Remote(_) => Duration::from_secs(10),
        };
        let authn = Authn::new().with(Arc::new(TokenReviewAuthenticator::new(
            cfg.client.clone(),
            review_ttl,
        )));
        let kapis = axum::Router::new().merge(crate::auditing_api::router(audit.clone()));
        let trust_client_certs = matches!(cfg.upstream, Upstream::InProcess(_));
        let gateway = Gateway {
            trust_client_certs,
            authn,
            authorizer: Arc::new(MastersOnly),
            public: axum::Router::new(),
            kapis,
            console: axum::Router::new(),
            upstream: cfg.upstream,
            audit: Some(audit),
        };
        Ok(Platform {
            router: gateway.into_router(),
            cancel: CancellationToken::new(),
            tasks: Vec::new(),
            initial_admin_password: None,
        })
    }

    pub fn router(&self) -> axum::Router {
        self.router.clone()
    }

    pub async fn shutdown(self) {
        self.cancel.cancel();
        for t in self.tasks {
            t.abort();
            let _ = t.await;
        }
    }
}

/// Until KubeSphere's scope authorizer is wired in, only cluster administrators may
/// use /kapis.
struct MastersOnly;

impl KapisAuthorizer for MastersOnly {
    fn authorize(
        &self,
        user: &UserInfo,
        _: &http::Method,
        path: &str,
        _: &str,
    ) -> Result<(), String> {
        if user.groups.iter().any(|g| g == "system:masters") {
            Ok(())
        } else {
            Err(format!("user \"{}\" cannot access {path}", user.name))
        }
    }
}

async fn ensure_namespace(client: &kube::Client, name: &str) -> Result<(), kube::Error> {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}
