//! Starting the platform on a Kubernetes API (the embedded kernel or a cluster):
//! its namespace, CRDs and built-in objects, its controllers and caches, and the
//! gateway that serves it all.

use crate::audit::{AuditLog, Rotation};
use crate::authn::{Authn, BearerAuthenticator, TokenReviewAuthenticator};
use crate::gateway::{Gateway, KapisAuthorizer};
use crate::upstream::Upstream;
use apimachinery::UserInfo;
use futures::future::BoxFuture;
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
    /// Local state: the audit log, the first admin password file.
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
    #[error("installing the platform's CRDs and built-in roles failed: {0}")]
    Tenancy(#[from] tenancy::bootstrap::Error),
    #[error("starting the login service failed: {0}")]
    Identity(#[from] identity::Error),
    #[error("creating the first admin user failed: {0}")]
    Admin(#[from] identity::bootstrap::Error),
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
        let client = cfg.client.clone();
        let cancel = CancellationToken::new();
        let mut tasks = Vec::new();
        ensure_namespace(&client, SYSTEM_NAMESPACE).await?;

        // CRDs first: the identity's User kind and tenancy's roles and workspaces.
        install_identity_crds(&client).await?;
        tenancy::bootstrap::install(client.clone()).await?;

        // The issuer is the install's, not this process's address: every replica (and
        // a restart on another port) must accept the tokens the others issued.
        let options = identity::OAuthOptions::default();
        let id = identity::Identity::new(client.clone(), options).await?;
        tasks.push(tokio::spawn(identity::run_controllers(id.clone())));
        tasks.push(tokio::spawn({
            let id = id.clone();
            let client = client.clone();
            async move {
                idp::watch_providers(client, SYSTEM_NAMESPACE, move |r| id.set_providers(r)).await;
            }
        }));
        let initial_admin_password = identity::bootstrap::ensure_admin(
            client.clone(),
            &cfg.data_dir,
            cfg.admin_password_file.as_deref(),
        )
        .await?;

        // The controllers also keep the authorizer's index fed from watches.
        let authz = tenancy::Authorizer::new();
        tasks.push(tokio::spawn({
            let (client, authz, cancel) = (client.clone(), authz.clone(), cancel.clone());
            async move {
                if let Err(e) = tenancy::run_controllers(client, authz, cancel).await {
                    tracing::error!(error = %e, "tenancy controllers stopped");
                }
            }
        }));

        let resources = resources::ResourcesState::new(
            client.clone(),
            Arc::new(authz.clone()),
            Arc::new(resources::FilterRegistry::new()),
        );
        tasks.push(tokio::spawn({
            let (client, state) = (client.clone(), resources.clone());
            async move {
                if let Err(e) = resources::run_controllers(client, state).await {
                    tracing::error!(error = %e, "resources caches stopped");
                }
            }
        }));
        // Requests are decided by the index; serving before it holds the bindings
        // would refuse what should be allowed.
        authz.wait_synced().await;

        let audit = AuditLog::open(&cfg.data_dir.join("audit"), Rotation::default())?;
        // In-process reviews are cheap, and caching them would keep a deleted
        // ServiceAccount's token alive for the cache's lifetime.
        let review_ttl = match cfg.upstream {
            Upstream::InProcess(_) => Duration::ZERO,
            Upstream::Remote(_) => Duration::from_secs(10),
        };
        let authn = Authn::new()
            .with(Arc::new(OAuthTokens(id.authenticator())))
            .with(Arc::new(TokenReviewAuthenticator::new(
                client.clone(),
                review_ttl,
            )));
        let identity_routes = identity::router(id.clone());
        let kapis = axum::Router::new()
            .merge(identity_routes.clone())
            .merge(tenancy::router(tenancy::State::new(
                client.clone(),
                authz.clone(),
            )))
            .merge(resources::router(resources))
            .merge(crate::auditing_api::router(audit.clone()))
            .merge(crate::configz::router());
        let trust_client_certs = matches!(cfg.upstream, Upstream::InProcess(_));
        let groups = authz.clone();
        let gateway = Gateway {
            // KubeSphere Groups (GroupBindings) count for Kubernetes RBAC too.
            enrich: Some(Arc::new(move |mut u: UserInfo| {
                u.groups = groups.groups_of(&u);
                u
            })),
            trust_client_certs,
            authn,
            authorizer: Arc::new(ScopeAuthorizer(authz)),
            public: identity_routes,
            kapis,
            console: console::router(),
            upstream: cfg.upstream,
            audit: Some(audit),
        };
        Ok(Platform {
            router: gateway.into_router(),
            cancel,
            tasks,
            initial_admin_password,
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

/// The platform's OAuth access tokens.
struct OAuthTokens(identity::Authenticator);

impl BearerAuthenticator for OAuthTokens {
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<UserInfo>> {
        Box::pin(self.0.authenticate(token))
    }
}

/// KubeSphere's scope rules (platform → workspace → project) for /kapis.
struct ScopeAuthorizer(tenancy::Authorizer);

impl KapisAuthorizer for ScopeAuthorizer {
    fn authorize(
        &self,
        user: &UserInfo,
        method: &http::Method,
        path: &str,
        query: &str,
    ) -> Result<(), String> {
        let info = tenancy::authz::RequestInfo::parse(method.as_str(), path, query);
        let d = self.0.authorize(user, &info);
        if d.allowed { Ok(()) } else { Err(d.reason) }
    }
}

async fn install_identity_crds(client: &kube::Client) -> Result<(), tenancy::bootstrap::Error> {
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    for crd in identity::crds() {
        tenancy::bootstrap::apply(&crds, &crd).await?;
    }
    Ok(())
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
