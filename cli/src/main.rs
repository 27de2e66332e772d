//! `mpt`: offline evaluation, and local runs of model-performance tracking.

mod evaluate;

use std::process::ExitCode;

use clap::{error::ErrorKind, CommandFactory, Parser, Subcommand};

/// Track how machine-learning models perform: evaluate files offline, or run the service locally.
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Evaluate(args) => evaluate::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(evaluate::EvaluateError::Usage(message)) => usage_error("evaluate", message),
        Err(evaluate::EvaluateError::Input(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
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
