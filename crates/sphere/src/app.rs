//! The one seam between the process shell and what it serves: `App::start` starts the
//! kernel (and, as they land, the platform and console) and builds the router the
//! HTTPS server hands every request to; `App::shutdown` stops it.

use axum::Router;
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
    /// The locked data dir; the kernel keeps its database here.
    pub data_dir: PathBuf,
    pub mode: Mode,
    /// PEM of the cluster CA, for what publishes it (the `kube-root-ca.crt`
    /// ConfigMaps, in-cluster kubeconfigs).
    pub ca_cert_pem: String,
    /// The URL clients reach the server at, e.g. `https://127.0.0.1:6443`.
    pub server_url: String,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel (or platform) failed to start.
    #[error("{0}")]
    Start(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The running application behind the HTTPS server.
pub struct App {
    kernel: kernel::Kernel,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl App {
    /// Starts what `cfg.mode` serves.
    pub async fn start(cfg: AppConfig) -> Result<App, Error> {
        tracing::debug!(data_dir = %cfg.data_dir.display(), mode = ?cfg.mode, "starting app");
        let mut kc = kernel::KernelConfig::new(&cfg.data_dir);
        kc.advertise_address = cfg.server_url.trim_start_matches("https://").to_string();
        kc.ca_cert_pem = Some(cfg.ca_cert_pem.clone());
        let kernel = kernel::Kernel::start(kc)
            .await
            .map_err(|e| Error::Start(Box::new(e)))?;
        Ok(App { kernel })
    }

    /// The router every HTTPS request goes to; `UserInfo` is in the request's
    /// extensions when the client presented a certificate signed by our CA.
    pub fn router(&self) -> Router {
        self.kernel.router()
    }

    /// Stops the application after the server has stopped taking requests.
    pub async fn shutdown(self) {
        self.kernel.shutdown().await;
    }
}
