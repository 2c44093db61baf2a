//! The harness's error type.

use std::path::PathBuf;

/// What can go wrong while starting or talking to the cluster under test.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What the harness was doing.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The `sphere` binary was not found where the harness looks for it.
    #[error(
        "sphere binary not found at {0} (build it with `cargo build -p sphere` or set SPHERE_BIN)"
    )]
    NoSphereBinary(PathBuf),
    /// `sphere up` exited or never became ready.
    #[error("sphere did not become ready: {reason}\n--- sphere log (tail) ---\n{log}")]
    NotReady {
        /// Why the harness gave up.
        reason: String,
        /// The end of the server's log.
        log: String,
    },
    /// The kubeconfig lacks something the raw client needs.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// TLS setup or handshake failed.
    #[error("tls: {0}")]
    Tls(String),
    /// An HTTP exchange failed.
    #[error("http: {0}")]
    Http(String),
    /// A response was not the JSON it should be.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result with the harness's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}
