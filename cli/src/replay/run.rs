//! The replay from start to end: games, emulator, pipeline, read-back, report and summary.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Instant,
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mpt_core::time::Duration;
use serde_json::Value;

use super::{
    calls::CallStats,
    data::{self, Game, Season},
    driver::{drive, Timings},
    emulator::{find_repository_root, use_local_endpoint, Emulator},
    evaluation::{compare_versions, evaluate_versions},
    pipeline::{Environment, LocalPipeline},
    schedule::{plan, Step},
    summary::{self, SummaryInput},
    ReplayArgs, ReplayError,
};
use crate::{
    report::{self, AlertRecord, HistoryPoint, ReportInput},
    CommandError,
};

/// The monitor rules set before every replay, as sent to `PUT /v1/models/{model}/monitors`.
pub const MONITORS_JSON: &str = include_str!("monitors.json");
/// The shortest tick interval: windows end on whole hours, so faster ticks repeat the same work.
const MIN_TICK_SECS: i64 = 3_600;

/// Settings of one replay: the tick interval, the report's path and the progress bar.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Simulated time between ticks.
    pub tick_every: Duration,
    /// Path of the HTML report.
    pub report: PathBuf,
    /// Whether to draw a progress bar on stderr.
    pub progress: bool,
}

/// Results of a finished replay, for the summary and for tests.
#[derive(Debug, Clone)]
pub struct ReplayOutcome {
    /// The seasons replayed (`2022-23`, or `2019-20 to 2022-23`).
    pub scope: String,
    /// Calls and time spent.
    pub timings: Timings,
    /// Stored snapshots read back from the table.
    pub history: Vec<HistoryPoint>,
    /// Alert messages read back from the queue, oldest first.
    pub alerts: Vec<AlertRecord>,
    /// AWS calls made, by `Service.Operation`.
    pub calls: BTreeMap<String, CallStats>,
    /// The summary printed at the end.
    pub summary: String,
}

/// Runs `mpt replay`: loads the games, starts the emulator when `AWS_ENDPOINT_URL` is unset,
/// replays, prints the summary, and stops the emulator, also on failure and on Ctrl-C.
pub fn command(args: ReplayArgs) -> Result<(), CommandError> {
    if args.tick_every.secs() < MIN_TICK_SECS {
        return Err(CommandError::usage(format!(
            "--tick-every {} is shorter than an hour; windows end on whole hours, so tick every 1h or longer",
            args.tick_every
        )));
    }
    // A report path that cannot be written fails now, not after the whole replay.
    crate::report::check_writable(&args.report).map_err(|error| CommandError::usage(error.to_string()))?;
    let root = find_repository_root().map_err(CommandError::failure)?;
    let games = load_games(&root.join("data"), args.season, args.history).map_err(|error| match error {
        ReplayError::Data(data::DataError::SeasonNotFound { .. }) => CommandError::usage(error.to_string()),
        other => CommandError::failure(other),
    })?;

    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|value| !value.trim().is_empty());
    let emulator = match endpoint {
        Some(endpoint) => {
            eprintln!("Using the AWS endpoint {endpoint} from AWS_ENDPOINT_URL.");
            None
        }
        None => {
            eprintln!("Starting the local AWS emulator (the first run creates .venv, which takes about a minute)...");
            let emulator = Emulator::start(&root).map_err(CommandError::failure)?;
            use_local_endpoint(emulator.endpoint());
            eprintln!("Emulator listening at {}.", emulator.endpoint());
            Some(emulator)
        }
    };

    let options = ReplayOptions {
        tick_every: args.tick_every,
        report: args.report,
        progress: true,
    };
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|error| CommandError::failure(format!("failed to start the async runtime: {error}")))?;
    let result = runtime.block_on(async {
        tokio::select! {
            result = replay_from_env(games, &options) => result,
            _ = interrupted() => Err(ReplayError::Interrupted),
        }
    });
    // Stop the runtime's tasks before the emulator, so nothing is left calling it.
    drop(runtime);
    drop(emulator);

    let outcome = result.map_err(CommandError::failure)?;
    print!("{}", outcome.summary);
    Ok(())
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Loads the games of the replay: the per-season files, with the history file before them when
/// `history` is set, narrowed to one season when given.
pub fn load_games(data_dir: &Path, season: Option<Season>, history: bool) -> Result<Vec<Game>, ReplayError> {
    let mut games = Vec::new();
    if history {
        games.extend(data::load_history(data_dir)?);
    }
    games.extend(data::load_latest(data_dir)?);
    Ok(data::select_season(games, season, history)?)
}

/// Replays against the AWS endpoint and configuration in the environment.
async fn replay_from_env(games: Vec<Game>, options: &ReplayOptions) -> Result<ReplayOutcome, ReplayError> {
    let environment = Environment::from_env().await?;
    replay(games, options, environment).await
}

/// Replays `games` against `environment`, writes the report and returns what it found.
pub async fn replay(
    games: Vec<Game>,
    options: &ReplayOptions,
    environment: Environment,
) -> Result<ReplayOutcome, ReplayError> {
    let started = Instant::now();
    let scope = scope(&games);
    let monitors: Vec<Value> = serde_json::from_str(MONITORS_JSON).map_err(|error| ReplayError::Aws {
        action: "reading the built-in monitor rules".to_string(),
        detail: error.to_string(),
    })?;

    let steps = plan(&games, options.tick_every);
    let (Some(first), Some(last)) = (steps.first().map(Step::at), steps.last().map(Step::at)) else {
        return Err(ReplayError::Data(data::DataError::NoGames));
    };
    // A window shorter than the tick interval would see only the hours just before each tick.
    let mut environment = environment;
    environment
        .config
        .windows
        .retain(|window| window.secs() >= options.tick_every.secs());
    let mut pipeline = LocalPipeline::connect(environment).await?;
    pipeline.register(first, &monitors).await?;

    let ticks = steps.iter().filter(|step| matches!(step, Step::Tick { .. })).count();
    if options.progress {
        eprintln!(
            "Replaying {} games of seasons {scope}: {} steps, {} ticks every {}.",
            games.len(),
            steps.len(),
            ticks,
            options.tick_every
        );
    }
    let progress = progress_bar(steps.len() as u64, options.progress);
    let timings = drive(&mut pipeline, &games, &steps, &progress).await?;
    progress.finish_and_clear();

    let history = pipeline.read_history(first, last).await?;
    let alerts = pipeline.read_alerts().await?;
    let calls = pipeline.calls();
    let evaluations = evaluate_versions(&games)?;
    let comparison = compare_versions(&games)?;
    let tick_every = options.tick_every.to_string();
    let html = report::render(&ReportInput {
        scope: &scope,
        games: &games,
        evaluations: &evaluations,
        comparison: comparison.as_ref(),
        history: &history,
        alerts: &alerts,
        monitors: &monitors,
        tick_every: &tick_every,
        ticks: timings.ticks,
    });
    report::write(&options.report, &html)?;

    let report_path = options.report.display().to_string();
    let summary = summary::render(&SummaryInput {
        scope: &scope,
        games: games.len(),
        timings: &timings,
        elapsed_secs: started.elapsed().as_secs_f64(),
        history: &history,
        evaluations: &evaluations,
        alerts: &alerts,
        queue: pipeline.queue_name(),
        report: &report_path,
        calls: &calls,
    });
    Ok(ReplayOutcome {
        scope,
        timings,
        history,
        alerts,
        calls,
        summary,
    })
}

/// Names the seasons of `games`: one season, or the first and last.
fn scope(games: &[Game]) -> String {
    let first = games.iter().map(|game| game.season).min();
    let last = games.iter().map(|game| game.season).max();
    match (first, last) {
        (Some(first), Some(last)) if first == last => first.to_string(),
        (Some(first), Some(last)) => format!("{first} to {last}"),
        _ => "none".to_string(),
    }
}

fn progress_bar(steps: u64, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:32}] {pos}/{len} steps, {per_sec}, ETA {eta}  simulated day {msg}",
    )
    .map(|style| style.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
    }

    #[test]
    fn monitors_parse_as_rules() {
        let rules: Vec<Value> = serde_json::from_str(MONITORS_JSON).unwrap();
        assert!(rules.iter().all(|rule| rule["name"].is_string()));
    }

    #[test]
    fn load_games_one_season() {
        let games = load_games(&data_dir(), Some(Season(2023)), false).unwrap();
        assert_eq!(games.len(), 1_315);
    }

    #[test]
    fn scope_names_first_and_last_season() {
        let games = load_games(&data_dir(), None, false).unwrap();
        assert_eq!(scope(&games), "2019-20 to 2022-23");
    }
}
