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
    /// Replay FiveThirtyEight's NBA forecasts through the whole pipeline and write an HTML report.
    Replay(mpt_cli::replay::ReplayArgs),
    /// Run compute-metrics, then check-degradation, once each with a scheduled event at --at.
    Tick(mpt_cli::tick::TickArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The replay and tick print their own progress and summaries, so the handlers' per-run
    // logs are shown only when RUST_LOG asks for them.
    let default_log = match cli.command {
        Command::Replay(_) | Command::Tick(_) => "warn",
        _ => "info",
    };
    init_logging(default_log);
    match cli.command {
        Command::Replay(args) => exit_code(mpt_cli::replay::command(args)),
        Command::Tick(args) => run_async(async move { mpt_cli::tick::run(args).await.map_err(|e| (e.to_string(), 1)) }),
        Command::Serve(args) => run_async(async move {
            serve::run(args).await.map_err(|error| {
                let status = if error.is_usage() { 2 } else { 1 };
                (error.to_string(), status)
            })
        }),
    }
}

/// Logs to stderr at `default` unless `RUST_LOG` sets another filter, in colour only on a terminal.
fn init_logging(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
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

/// Prints a command's error as one line on stderr and returns its exit status.
fn exit_code(result: Result<(), mpt_cli::CommandError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mpt: {}", error.message);
            ExitCode::from(error.status)
        }
    }
}
