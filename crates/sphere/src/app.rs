//! The one seam between the process shell and what it serves: `App::start` starts the
//! kernel (and, as they land, the platform and console) and builds the router the
//! HTTPS server hands every request to; `App::shutdown` stops it.

use crate::testclock::FileClock;
use apimachinery::UserInfo;
use axum::Router;
use std::path::PathBuf;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Which product the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `sphere up`: kernel, platform and console.
    Up,
    /// `sphere kernel`: the Kubernetes-compatible API server alone.
    Kernel,
    /// `sphere serve`: platform and console on an existing cluster.
    Serve,
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
    /// `sphere serve`: the cluster's kubeconfig.
    pub kubeconfig: Option<PathBuf>,
    /// The first admin password, if given.
    pub admin_password_file: Option<PathBuf>,
    /// `sphere up`, tests only: the controllers read the time from this file
    /// (see [`crate::testclock`]).
    pub controller_clock_file: Option<PathBuf>,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel (or platform) failed to start.
    #[error("{0}")]
    Start(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The controllers' clock file is missing or holds no time.
    #[error(transparent)]
    ControllerClock(#[from] crate::testclock::Error),
    /// The cluster's kubeconfig could not be used.
    #[error("cannot use kubeconfig {path}: {source}; check the file or pass another --kubeconfig")]
    Kubeconfig {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The identity the platform acts as inside the embedded kernel.
pub fn platform_identity() -> UserInfo {
    UserInfo::new("system:ferrosphere", vec!["system:masters".into()])
}

/// The running application behind the HTTPS server.
pub struct App {
    kernel: Option<kernel::Kernel>,
    platform: Option<platform::Platform>,
    router: Router,
    /// `sphere up`: the built-in controllers, stopped before the kernel.
    controllers: Option<(CancellationToken, tokio::task::JoinHandle<()>)>,
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
        match cfg.mode {
            Mode::Kernel => {
                let kernel = start_kernel(&cfg).await?;
                let router = kernel.router();
                Ok(App {
                    kernel: Some(kernel),
                    platform: None,
                    router,
                    controllers: None,
                })
            }
            Mode::Up => {
                // Checked before the kernel starts, so a wrong path fails fast.
                let clock: Option<FileClock> = match &cfg.controller_clock_file {
                    Some(path) => Some(FileClock::open(path).await?),
                    None => None,
                };
                let kernel = start_kernel(&cfg).await?;
                let client = kubeclient::in_process(kernel.router(), platform_identity());
                let platform = platform::Platform::start(platform::PlatformConfig {
                    client,
                    upstream: platform::Upstream::InProcess(kernel.router()),
                    data_dir: cfg.data_dir.clone(),
                    admin_password_file: cfg.admin_password_file.clone(),
                })
                .await
                .map_err(|e| Error::Start(Box::new(e)))?;
                let router = platform.router();
                let controllers = spawn_controllers(kernel.router(), &cfg.data_dir, clock);
                Ok(App {
                    kernel: Some(kernel),
                    platform: Some(platform),
                    router,
                    controllers: Some(controllers),
                })
            }
            Mode::Serve => {
                let path = cfg.kubeconfig.clone().unwrap_or_default();
                let client = cluster_client(&path).await?;
                let platform = platform::Platform::start(platform::PlatformConfig {
                    client: client.clone(),
                    upstream: platform::Upstream::Remote(client),
                    data_dir: cfg.data_dir.clone(),
                    admin_password_file: cfg.admin_password_file.clone(),
                })
                .await
                .map_err(|e| Error::Start(Box::new(e)))?;
                let router = platform.router();
                Ok(App {
                    kernel: None,
                    platform: Some(platform),
                    router,
                    controllers: None,
                })
            }
        }
    }

    /// The router every HTTPS request goes to; `UserInfo` is in the request's
    /// extensions when the client presented a certificate signed by our CA.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The first admin password, when this start created the admin user.
    pub fn initial_admin_password(&self) -> Option<&str> {
        self.platform
            .as_ref()
            .and_then(|p| p.initial_admin_password.as_deref())
    }

    /// Stops the application after the server has stopped taking requests.
    pub async fn shutdown(self) {
        if let Some((cancel, task)) = self.controllers {
            cancel.cancel();
            let _ = task.await;
        }
        if let Some(p) = self.platform {
            p.shutdown().await;
        }
        if let Some(k) = self.kernel {
            k.shutdown().await;
        }
    }
}

/// The identity the built-in controllers act as inside the embedded kernel.
pub fn controllers_identity() -> UserInfo {
    UserInfo::new(
        "system:kube-controller-manager",
        vec!["system:masters".into()],
    )
}

/// Runs the built-in controllers and the scheduler while this process holds the controllers' Lease, so
/// two processes on one data dir (or a kernel shared with `sphere serve`) never run
/// them twice.
fn spawn_controllers(
    kernel: Router,
    data_dir: &std::path::Path,
    test_clock: Option<FileClock>,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let cancel = CancellationToken::new();
    let clock: Arc<dyn controllers::Clock> = match test_clock {
        Some(c) => {
            tracing::warn!(file = %c.path().display(), "controllers take their time from a file (tests only)");
            // Stops with the controllers' token, which shutdown cancels.
            drop(c.spawn_follow(cancel.clone()));
            Arc::new(c)
        }
        None => Arc::new(controllers::SystemClock),
    };
    // Named as kube-controller-manager and kube-scheduler name themselves, so the
    // objects they write show the same field managers as on a cluster.
    let agent = |component: &str| {
        format!(
            "{component}/{} ({}/{}) ferrosphere/{}",
            kernel::KUBERNETES_VERSION,
            std::env::consts::OS,
            std::env::consts::ARCH,
            env!("CARGO_PKG_VERSION")
        )
    };
    let client = kubeclient::in_process_with_agent(
        kernel.clone(),
        controllers_identity(),
        &agent("kube-controller-manager"),
    );
    let sched_client =
        kubeclient::in_process_with_agent(kernel, controllers_identity(), &agent("kube-scheduler"));
    let holder = format!("{}_{}", std::process::id(), data_dir.display());
    // Local-path volumes live in the data dir, so deleting it resets them too.
    let volumes = data_dir.join("volumes");
    let task = tokio::spawn({
        let cancel = cancel.clone();
        async move {
            let work = {
                let cancel = cancel.clone();
                let client = client.clone();
                let sched_client = sched_client.clone();
                move || {
                    let opts = controllers::Options {
                        cancel: cancel.clone(),
                        clock: clock.clone(),
                        ..Default::default()
                    };
                    let client = client.clone();
                    let sched_client = sched_client.clone();
                    let sched_opts = scheduler::Options::new(volumes.clone());
                    let sched_cancel = cancel.child_token();
                    async move {
                        let controllers = async {
                            if let Err(e) = controllers::run(client.clone(), opts).await {
                                tracing::error!(error = %e, "built-in controllers stopped");
                            }
                        };
                        let scheduler = async {
                            if let Err(e) =
                                scheduler::run(sched_client, sched_opts, sched_cancel).await
                            {
                                tracing::error!(error = %e, "scheduler stopped");
                            }
                        };
                        futures::join!(controllers, scheduler);
                    }
                }
            };
            tokio::select! {
                () = cancel.cancelled() => {}
                () = controllers::leader::run_while_leader(client.clone(), "kube-system", "sphere-controllers", &holder, work) => {}
            }
        }
    });
    (cancel, task)
}

async fn start_kernel(cfg: &AppConfig) -> Result<kernel::Kernel, Error> {
    let mut kc = kernel::KernelConfig::new(&cfg.data_dir);
    kc.advertise_address = cfg.server_url.trim_start_matches("https://").to_string();
    kc.ca_cert_pem = Some(cfg.ca_cert_pem.clone());
    kernel::Kernel::start(kc)
        .await
        .map_err(|e| Error::Start(Box::new(e)))
}

async fn cluster_client(path: &std::path::Path) -> Result<kube::Client, Error> {
    let err = |source: Box<dyn std::error::Error + Send + Sync>| Error::Kubeconfig {
        path: path.to_owned(),
        source,
    };
    let kc = kube::config::Kubeconfig::read_from(path).map_err(|e| err(Box::new(e)))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .map_err(|e| err(Box::new(e)))?;
    kube::Client::try_from(config).map_err(|e| err(Box::new(e)))
}
