//! `mpt replay`: 538's real NBA forecasts sent through the whole pipeline in simulated time.
//!
//! Two versions of the model `nba-game-predictor`, `elo` and `raptor`, predict the same games.
//! Predictions and outcomes go through the ingest API's handler code, and compute-metrics and
//! check-degradation run on scheduled events at simulated times between them, against the local
//! emulator. The stored metrics and the alerts sent are then read back into a summary and an
//! HTML report.

pub mod calls;
pub mod data;
pub mod driver;
pub mod emulator;
pub mod evaluation;
pub mod market;
pub mod pipeline;
pub mod requests;
mod run;
pub mod schedule;
pub mod summary;

use std::path::PathBuf;

use mpt_core::time::Duration;

pub use data::{DataError, Season};
pub use run::{command, load_games, replay, ReplayOptions, ReplayOutcome, MONITORS_JSON};

/// Options of `mpt replay`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// Replay one season, written as the two years it spans (2022-23). Default: 2019-20 to 2022-23.
    #[arg(long, value_name = "SEASON")]
    pub season: Option<Season>,

    /// Also replay the seasons 1946-47 to 2018-19, for which 538 published Elo only.
    #[arg(long)]
    pub history: bool,

    /// Simulated time between ticks, written <n>h or <n>d (1h or longer).
    #[arg(long, value_name = "DURATION", default_value = "1d")]
    pub tick_every: Duration,

    /// Path of the HTML report to write.
    #[arg(long, value_name = "PATH", default_value = "report/index.html")]
    pub report: PathBuf,
}

/// A replay failure, naming what failed and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The forecast data could not be read or selected.
    #[error(transparent)]
    Data(#[from] DataError),
    /// No folder above the current one or the binary contains the repository.
    #[error(
        "could not find the repository (a folder with scripts/emulator.sh and data/nba_elo_latest); run mpt replay from inside a clone"
    )]
    RepositoryNotFound,
    /// The local emulator could not be started.
    #[error("could not start the local AWS emulator: {detail}; check that python3 can create .venv, or set AWS_ENDPOINT_URL to a running one")]
    Emulator {
        /// The failure, with the script's output.
        detail: String,
    },
    /// An ingest call did not store every record.
    #[error("ingest did not store every record of the {at} batch: {detail}")]
    Ingest {
        /// The batch's simulated time.
        at: String,
        /// The status and first rejection or failure.
        detail: String,
    },
    /// A scheduled function failed.
    #[error("{function} failed at simulated time {at}: {detail}")]
    Tick {
        /// `compute-metrics` or `check-degradation`.
        function: &'static str,
        /// The event's time.
        at: String,
        /// The error.
        detail: String,
    },
    /// Setting up or reading back AWS resources failed.
    #[error("{action} failed: {detail}; check that the emulator at AWS_ENDPOINT_URL is running")]
    Aws {
        /// The action that failed.
        action: String,
        /// The error.
        detail: String,
    },
    /// The table already contains the replay's model, from an earlier run.
    #[error(
        "the table {table} already holds the model nba-game-predictor from an earlier replay; set MPT_TABLE to a new table name, or unset AWS_ENDPOINT_URL so the replay starts its own emulator"
    )]
    TableInUse {
        /// The table's name.
        table: String,
    },
    /// A metric could not be computed from the replayed records.
    #[error("could not evaluate the replayed predictions: {0}")]
    Metrics(#[from] mpt_metrics::MetricsError),
    /// The report could not be written.
    #[error("could not write the report to {path}: {source}; choose another path with --report")]
    Report {
        /// The report's path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Ctrl-C or SIGTERM stopped the replay.
    #[error("replay interrupted by a signal; no report was written")]
    Interrupted,
}
