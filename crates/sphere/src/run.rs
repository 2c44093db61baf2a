//! Running `sphere up` and `sphere kernel` from start to a clean stop: data dir, PKI,
//! kubeconfig, the app, the HTTPS server, and shutdown on SIGINT or SIGTERM.

use crate::app::{self, App, AppConfig, Mode};
use crate::datadir::{self, DataDir};
use crate::kubeconfig::{self, ADMIN_ENTRY, ADMIN_KUBECONFIG, CLUSTER_NAME, Kubeconfig};
use crate::pki;
use crate::server::{self, ServerOptions};
use crate::tls;
use std::future::Future;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// What a serving command was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub mode: Mode,
    pub server: ServerOptions,
    /// `sphere serve`: the cluster's kubeconfig.
    pub kubeconfig: Option<PathBuf>,
    pub admin_password_file: Option<PathBuf>,
    /// `sphere up`, tests only: the controllers' time comes from this file.
    pub controller_clock_file: Option<PathBuf>,
}

/// Why `sphere up` / `sphere kernel` could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The data dir could not be created or locked.
    #[error(transparent)]
    DataDir(#[from] datadir::Error),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}; choose another address with --listen")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    /// The CA or a certificate could not be loaded or generated.
    #[error(transparent)]
    Pki(#[from] pki::Error),
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] tls::Error),
    /// The admin kubeconfig could not be written.
    #[error(
        "cannot write {path}: {source}; make the data dir writable or choose another with --data-dir"
    )]
    Kubeconfig {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The served application failed to start.
    #[error(transparent)]
    App(#[from] app::Error),
    /// SIGINT/SIGTERM handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(#[source] io::Error),
}

/// Runs until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn run(opts: RunOptions, started: Instant) -> Result<(), Error> {
    // Installed first, so a signal that arrives during start-up is not fatal: it is
    // queued and ends the server as soon as it runs.
    let signals = ShutdownSignals::install().map_err(Error::Signals)?;
    run_until(opts, started, signals.wait()).await
}

/// Runs until `shutdown` completes, then shuts down gracefully.
pub async fn run_until(
    opts: RunOptions,
    started: Instant,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let data_dir = DataDir::open(&opts.data_dir)?;
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|source| Error::Listen {
            addr: opts.listen,
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| Error::Listen {
        addr: opts.listen,
        source,
    })?;

    let pki = pki::ensure(data_dir.path(), bound.ip())?;
    if !pki.written.is_empty() {
        tracing::info!(files = ?pki.written, dir = %data_dir.path().display(), "wrote PKI files");
    }
    let server_url = kubeconfig::server_url(kubeconfig::dial_addr(bound));
    let kubeconfig_path = data_dir.join(ADMIN_KUBECONFIG);
    // On a cluster, the cluster's own credentials are the admin's; a certificate of
    // ours would mean nothing there.
    if opts.mode != Mode::Serve {
        Kubeconfig {
            cluster: CLUSTER_NAME,
            server: &server_url,
            ca_pem: pki.ca.cert_pem(),
            user: ADMIN_ENTRY,
            client: &pki.admin,
        }
        .write(&kubeconfig_path)
        .map_err(|source| Error::Kubeconfig {
            path: kubeconfig_path.clone(),
            source,
        })?;
    }
    let tls = tls::server_tls(&pki)?;

    let app = App::start(AppConfig {
        data_dir: data_dir.path().to_owned(),
        mode: opts.mode,
        ca_cert_pem: pki.ca.cert_pem().to_owned(),
        server_url: server_url.clone(),
        kubeconfig: opts.kubeconfig.clone(),
        admin_password_file: opts.admin_password_file.clone(),
        controller_clock_file: opts.controller_clock_file.clone(),
    })
    .await?;

    let what = match opts.mode {
        Mode::Up => "ferrosphere",
        Mode::Kernel => "ferrosphere kernel",
        Mode::Serve => "ferrosphere (on an existing cluster)",
    };
    let mut lines = vec![format!(
        "{what} listening on {server_url} (ready in {} ms)",
        started.elapsed().as_millis()
    )];
    if opts.mode != Mode::Serve {
        lines.push(format!("admin kubeconfig: {}", kubeconfig_path.display()));
        lines.push(format!(
            "try: kubectl --kubeconfig {} get namespaces",
            kubeconfig_path.display()
        ));
    }
    if opts.mode != Mode::Kernel {
        lines.push(format!("console: {server_url}/"));
    }
    if let Some(pw) = app.initial_admin_password() {
        lines.push(format!(
            "first login: user admin, password {pw} (also in {}; you will be asked to change it)",
            data_dir.join("initial-admin-password").display()
        ));
    }
    announce(&lines);

    let report = server::serve(listener, tls, app.router(), shutdown, opts.server).await;
    tracing::info!(
        cut_connections = report.cut_connections,
        grace_expired = report.grace_expired,
        "server stopped"
    );
    app.shutdown().await;
    drop(data_dir);
    Ok(())
}

/// Prints the start-up lines on stdout. A closed stdout (`sphere up | head -1`) must
/// not stop the server, so write errors are ignored where `println!` would panic.
fn announce(lines: &[String]) {
    let mut out = io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

/// SIGINT and SIGTERM, either of which starts the shutdown.
struct ShutdownSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl ShutdownSignals {
    fn install() -> io::Result<Self> {
        Ok(ShutdownSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        let name = tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        };
        tracing::info!("{name} received, shutting down");
    }
}
