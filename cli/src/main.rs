//! `mpt`: the command line of model-performance tracking.

mod evaluate;
mod read;
mod serve;

use std::{io::IsTerminal, process::ExitCode};

use clap::{error::ErrorKind, CommandFactory, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Track how machine-learning models perform: evaluate files offline, run the service locally,
/// or read a running API.
#[derive(Debug, Parser)]
#[command(name = "mpt", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute the metrics of a CSV file of predictions and actuals, and print them as JSON.
    Evaluate(evaluate::EvaluateArgs),
    /// Serve the whole HTTP API locally against AWS_ENDPOINT_URL.
    Serve(serve::ServeArgs),
    /// Replay FiveThirtyEight's NBA forecasts through the whole pipeline and write an HTML report.
    Replay(mpt_cli::replay::ReplayArgs),
    /// Run compute-metrics, then check-degradation, once each with a scheduled event at --at.
    Tick(mpt_cli::tick::TickArgs),
    /// List the registered models and their versions.
    Models(read::ModelsArgs),
    /// Print one window's metrics for a model version.
    Metrics(read::MetricsArgs),
    /// Print one metric's stored history.
    History(read::HistoryArgs),
    /// Compare two versions of a model, metric by metric, with a significance test for each.
    Compare(read::CompareArgs),
    /// Print a model's alert log and the current state of its monitors.
    Alerts(read::AlertsArgs),
    /// Read or replace a model's monitor rules.
    #[command(subcommand)]
    Monitors(read::MonitorsCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Evaluate(args) => match evaluate::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(evaluate::EvaluateError::Usage(message)) => usage_error("evaluate", message),
            Err(evaluate::EvaluateError::Input(message)) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        },
        Command::Serve(args) => {
            init_logging();
            run_async(async move {
                serve::run(args).await.map_err(|error| {
                    let status = if error.is_usage() { 2 } else { 1 };
                    (error.to_string(), status)
                })
            })
        }
        // The replay and tick print their own progress and summaries, so the handlers' per-run
        // logs show only when RUST_LOG asks for them.
        Command::Replay(args) => {
            init_logging_at("warn");
            exit_code(mpt_cli::replay::command(args))
        }
        Command::Tick(args) => {
            init_logging_at("warn");
            run_async(async move { mpt_cli::tick::run(args).await.map_err(|error| (error.to_string(), 1)) })
        }
        Command::Models(args) => run_read(read::ReadCommand::Models(args)),
        Command::Metrics(args) => run_read(read::ReadCommand::Metrics(args)),
        Command::History(args) => run_read(read::ReadCommand::History(args)),
        Command::Compare(args) => run_read(read::ReadCommand::Compare(args)),
        Command::Alerts(args) => run_read(read::ReadCommand::Alerts(args)),
        Command::Monitors(command) => run_read(read::ReadCommand::Monitors(command)),
    }
}

/// Runs a read command against the API, without logging, so its output is only the answer.
fn run_read(command: read::ReadCommand) -> ExitCode {
    run_async(async move {
        read::run(command)
            .await
            .map_err(|error| (error.to_string(), error.status()))
    })
}

/// Prints a usage error with the usage line of `subcommand`, as clap prints its own, and exits
/// with status 2.
fn usage_error(subcommand: &str, message: String) -> ! {
    let mut command = Cli::command();
    // Building fills in the "mpt evaluate" names that the usage line prints.
    command.build();
    match command.find_subcommand_mut(subcommand) {
        Some(subcommand) => subcommand.error(ErrorKind::InvalidValue, message).exit(),
        None => command.error(ErrorKind::InvalidValue, message).exit(),
    }
}

/// Logs to stderr at `info` unless `RUST_LOG` sets another filter, in colour only on a terminal.
fn init_logging() {
    init_logging_at("info");
}

/// Logs to stderr at `level` unless `RUST_LOG` sets another filter, in colour only on a terminal.
fn init_logging_at(level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
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
