//! The command line, declared with clap's derive API.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Ferrosphere: a KubeSphere-class container platform in one binary.
#[derive(Debug, Parser)]
#[command(name = "sphere", version, about)]
pub struct Cli {
    /// Log filter, e.g. `info` or `sphere=debug,hyper=info`; overrides RUST_LOG.
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the kernel, the platform and the console in one process.
    Up(ServeArgs),
    /// Run the embedded Kubernetes-compatible API server alone.
    Kernel(ServeArgs),
    /// Run the platform and the console against an existing Kubernetes cluster.
    Serve(ClusterArgs),
    /// Print the version, the git commit and the Kubernetes version served.
    Version,
}

/// Options shared by the serving commands.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where state lives [default: $XDG_DATA_HOME/ferrosphere or ~/.local/share/ferrosphere]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address to serve HTTPS on; port 0 picks a free port and prints it.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:6443")]
    pub listen: SocketAddr,

    /// A file holding the first admin password (used only when the user `admin`
    /// does not exist yet); without it a random one is generated and printed once.
    #[arg(long, value_name = "FILE")]
    pub admin_password_file: Option<PathBuf>,

    /// For tests only (`sphere up`): the built-in controllers take the current time
    /// from FILE, an RFC 3339 timestamp re-read every 100 ms, instead of the system clock.
    #[arg(long, value_name = "FILE", hide = true)]
    pub controller_clock_file: Option<PathBuf>,
}

/// Options of `sphere serve`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// The kubeconfig of the cluster to run on; its identity must be allowed to
    /// install CRDs and roles and to impersonate users and groups.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: PathBuf,

    /// Where local state lives (TLS keys, the audit log); platform state lives in the cluster.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address to serve HTTPS on; port 0 picks a free port and prints it.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,

    /// A file holding the first admin password (used only when the user `admin`
    /// does not exist yet in the cluster).
    #[arg(long, value_name = "FILE")]
    pub admin_password_file: Option<PathBuf>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_up_with_defaults() {
        let cli = Cli::try_parse_from(["sphere", "up"]).unwrap();
        let Command::Up(args) = cli.command else {
            panic!("expected up");
        };
        assert_eq!(args.listen, "127.0.0.1:6443".parse().unwrap());
        assert_eq!(args.data_dir, None);
    }

    #[test]
    fn parses_kernel_options_and_global_log_level() {
        let cli = Cli::try_parse_from([
            "sphere",
            "kernel",
            "--data-dir",
            "/d",
            "--listen",
            "[::1]:0",
            "--log-level",
            "debug",
        ])
        .unwrap();
        assert_eq!(cli.log_level.as_deref(), Some("debug"));
        let Command::Kernel(args) = cli.command else {
            panic!("expected kernel");
        };
        assert_eq!(args.data_dir, Some(PathBuf::from("/d")));
        assert_eq!(args.listen, "[::1]:0".parse().unwrap());
    }

    #[test]
    fn serve_requires_a_kubeconfig() {
        assert!(Cli::try_parse_from(["sphere", "serve"]).is_err());
        let cli = Cli::try_parse_from(["sphere", "serve", "--kubeconfig", "/k"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.kubeconfig, PathBuf::from("/k"));
        assert_eq!(args.listen, "127.0.0.1:8443".parse().unwrap());
    }

    #[test]
    fn controller_clock_file_is_accepted_but_hidden() {
        let cli =
            Cli::try_parse_from(["sphere", "up", "--controller-clock-file", "/t/clock"]).unwrap();
        let Command::Up(args) = cli.command else {
            panic!("expected up");
        };
        assert_eq!(args.controller_clock_file, Some(PathBuf::from("/t/clock")));
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("up")
            .unwrap()
            .render_long_help()
            .to_string();
        assert!(!help.contains("controller-clock-file"), "{help}");
    }

    #[test]
    fn rejects_a_listen_address_without_port() {
        assert!(Cli::try_parse_from(["sphere", "up", "--listen", "127.0.0.1"]).is_err());
    }
}
