//! `mpt`: the command line of model-performance tracking.

mod serve;

use std::{io::IsTerminal, process::ExitCode};

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Model-performance tracking: local API server, scheduled runs, replays and offline evaluation.
#[derive(Debug, Parser)]
#[command(name = "mpt", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the whole HTTP API locally against AWS_ENDPOINT_URL.
    Serve(serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match cli.command {
        Command::Serve(args) => run_async(async move {
            serve::run(args).await.map_err(|error| {
                let status = if error.is_usage() { 2 } else { 1 };
                (error.to_string(), status)
            })
        }),
    }
}

/// Logs to stderr at `info` unless `RUST_LOG` sets another filter, in colour only on a terminal.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Runs an async command on a multi-threaded runtime and turns its error into one line on
/// stderr and an exit status.
fn run_async(command: impl std::future::Future<Output = Result<(), (String, u8)>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mpt: failed to start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err((message, status)) => {
            eprintln!("mpt: {message}");
            ExitCode::from(status)
        }
    }
}
