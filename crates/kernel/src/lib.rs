//! The embedded Kubernetes-compatible API server: REST handlers over a durable
//! SQLite store, a watch cache, CRDs, discovery and OpenAPI, garbage collection and
//! namespace cleanup. Clients (kubectl, client-go, kube-rs) see a kube-apiserver.

mod admission;
pub mod authz;
mod binding;
pub mod cache;
mod crd;
mod decode;
mod delete;
mod discovery;
mod fieldmanager;
mod gc;
mod kubernetes_service;
pub mod meta;
mod namespaces;
mod openapi_routes;
mod quota;
mod rbac_authz;
mod read;
pub mod registry;
pub mod request;
pub mod response;
mod select;
mod server;
mod table;
pub mod tokens;
mod virtual_resources;
mod watch;
pub mod webhook;
mod wire;
mod write;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use server::Inner;

/// The Kubernetes version the kernel implements (discovery, `/version`, OpenAPI).
pub const KUBERNETES_VERSION: &str = "v1.36.2";

/// How the kernel runs.
#[derive(Debug, Clone)]
pub struct KernelConfig {
    pub data_dir: PathBuf,
    /// Events kept in memory for watches to resume from.
    pub watch_window: usize,
    /// How often history older than one interval is compacted away.
    pub compaction_interval: Duration,
    /// fsync every commit (off only in benchmarks that measure the difference).
    pub fsync: bool,
    /// Address clients reach the kernel at, for discovery's serverAddressByClientCIDRs.
    pub advertise_address: String,
    /// The cluster CA certificate (PEM), published in every namespace as the
    /// `kube-root-ca.crt` ConfigMap.
    pub ca_cert_pem: Option<String>,
}

impl KernelConfig {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        KernelConfig {
            data_dir: data_dir.into(),
            watch_window: 20_000,
            compaction_interval: Duration::from_secs(300),
            fsync: true,
            advertise_address: "127.0.0.1:6443".into(),
            ca_cert_pem: None,
        }
    }
}

/// Why the kernel could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The data directory could not be created or written.
    #[error(
        "cannot use data dir {path}: {source}; check that it exists and is writable, or pass another --data-dir"
    )]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The object store could not be opened.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The ServiceAccount token signing key could not be loaded or created.
    #[error(transparent)]
    SigningKey(#[from] tokens::KeyError),
    /// Bootstrapping the built-in objects failed.
    #[error("bootstrapping built-in objects failed: {0}")]
    Bootstrap(String),
}

/// A running kernel.
pub struct Kernel {
    inner: Arc<Inner>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Kernel {
    /// Opens the store under `config.data_dir`, loads the cache, bootstraps the
    /// default namespaces and starts the kernel's own controllers.
    pub async fn start(config: KernelConfig) -> Result<Kernel, Error> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| Error::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let inner = Inner::open(config).await?;
        inner
            .bootstrap()
            .await
            .map_err(|e| Error::Bootstrap(e.0.to_string()))?;
        let tasks = vec![
            tokio::spawn(gc::run(inner.clone())),
            tokio::spawn(namespaces::run(inner.clone())),
            tokio::spawn(crd::run(inner.clone())),
            tokio::spawn(rbac_authz::aggregation(inner.clone())),
            tokio::spawn(quota::run(inner.clone())),
            tokio::spawn(server::compactor(inner.clone())),
        ];
        inner.set_ready();
        Ok(Kernel { inner, tasks })
    }

    /// The HTTP API. Requests must carry an `apimachinery::UserInfo` extension
    /// (set by whoever authenticated them); without one they get 401.
    pub fn router(&self) -> axum::Router {
        server::router(self.inner.clone())
    }

    /// The shared state, for in-process callers and tests.
    pub fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// Stops the controllers and flushes the store.
    pub async fn shutdown(self) {
        for t in &self.tasks {
            t.abort();
        }
        self.inner.store.close().await;
    }
}
