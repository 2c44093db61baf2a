//! `sphere`: parses the command line, sets up logging and the runtime, and turns
//! errors into one `error: ...` line and exit code 1.

use anyhow::{Context, anyhow};
use clap::Parser;
use sphere::app::Mode;
use sphere::cli::{Cli, Command, ServeArgs};
use sphere::run::{RunOptions, run};
use sphere::server::ServerOptions;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;
use tracing_subscriber::EnvFilter;

// mimalloc rather than glibc malloc: the kernel's many short-lived JSON values across
// worker threads cost glibc a third of the CPU (arena locking and consolidation), and
// scheduling 10,000 pods ran three times faster with mimalloc (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    match real_main(cli, started) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Library errors carry their cause and the remedy in their own message.
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn real_main(cli: Cli, started: Instant) -> anyhow::Result<()> {
    match cli.command {
        Command::Version => {
            // A closed stdout is not worth a panic; the exit code still says so.
            std::io::stdout()
                .write_all(sphere::version::render().as_bytes())
                .context("cannot write to stdout")
        }
        Command::Up(args) => serve(args, Mode::Up, cli.log_level.as_deref(), started),
        Command::Kernel(args) => {
            if args.controller_clock_file.is_some() {
                return Err(anyhow!(
                    "--controller-clock-file applies to `sphere up` only: `sphere kernel` runs no controllers"
                ));
            }
            serve(args, Mode::Kernel, cli.log_level.as_deref(), started)
        }
        Command::Serve(args) => {
            let args2 = ServeArgs {
                data_dir: args.data_dir,
                listen: args.listen,
                admin_password_file: args.admin_password_file,
                controller_clock_file: None,
            };
            serve_with(
                args2,
                Mode::Serve,
                Some(args.kubeconfig),
                cli.log_level.as_deref(),
                started,
            )
        }
    }
}

fn serve(
    args: ServeArgs,
    mode: Mode,
    log_level: Option<&str>,
    started: Instant,
) -> anyhow::Result<()> {
    serve_with(args, mode, None, log_level, started)
}

fn serve_with(
    args: ServeArgs,
    mode: Mode,
    kubeconfig: Option<std::path::PathBuf>,
    log_level: Option<&str>,
    started: Instant,
) -> anyhow::Result<()> {
    init_logging(log_level)?;
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => sphere::datadir::default_data_dir().ok_or_else(|| {
            anyhow!("cannot find a data dir: neither XDG_DATA_HOME nor HOME is an absolute path; pass --data-dir")
        })?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let opts = RunOptions {
        data_dir,
        listen: args.listen,
        mode,
        server: ServerOptions::default(),
        kubeconfig,
        admin_password_file: args.admin_password_file,
        controller_clock_file: args.controller_clock_file,
    };
    runtime.block_on(run(opts, started))?;
    Ok(())
}

fn init_logging(log_level: Option<&str>) -> anyhow::Result<()> {
    let filter = match (log_level, std::env::var("RUST_LOG")) {
        (Some(level), _) => {
            EnvFilter::try_new(level).map_err(|e| anyhow!("invalid --log-level {level:?}: {e}"))?
        }
        (None, Ok(env)) => {
            EnvFilter::try_new(&env).map_err(|e| anyhow!("invalid RUST_LOG {env:?}: {e}"))?
        }
        (None, Err(_)) => EnvFilter::new("info"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    Ok(())
}
