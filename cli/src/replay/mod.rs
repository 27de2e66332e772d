//! `mpt replay`: 538's real NBA forecasts sent through the whole pipeline in simulated time.
//!
//! Two versions of the model `nba-game-predictor`, `elo` and `raptor`, predict the same games.
//! Predictions and outcomes go through the ingest API's handler code, and compute-metrics and
//! check-degradation run on scheduled events at simulated times between them, against the local
//! emulator. The stored metrics and the alerts sent are then read back into a summary and an
//! HTML report.

pub mod data;
pub mod driver;
pub mod emulator;
pub mod evaluation;
pub mod market;
pub mod requests;
pub mod schedule;

use std::path::PathBuf;

use mpt_core::time::Duration;

pub use data::{DataError, Season};

/// The report's path, relative to the current folder, unless `--report` gives one.
pub const DEFAULT_REPORT: &str = "report/index.html";
/// The tick interval unless `--tick-every` gives one.
pub const DEFAULT_TICK_EVERY: &str = "1d";

/// What to replay and where the report goes.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// One season, or every season loaded.
    pub season: Option<Season>,
    /// Adds the seasons from 1946-47 to 2018-19 (Elo only).
    pub history: bool,
    /// Simulated time between ticks.
    pub tick_every: Duration,
    /// Where the HTML report is written.
    pub report: PathBuf,
}

/// A replay failure, naming what failed and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The forecast data could not be read or selected.
    #[error(transparent)]
    Data(#[from] DataError),
    /// No folder above the current one or the binary holds the repository.
    #[error(
        "could not find the repository (a folder with scripts/emulator.sh and data/nba_elo_latest); run mpt replay from inside a clone"
    )]
    RepositoryNotFound,
    /// The local emulator could not be started.
    #[error("could not start the local AWS emulator: {detail}; check that python3 can create .venv, or set AWS_ENDPOINT_URL to a running one")]
    Emulator {
        /// What went wrong.
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
        /// What was being done.
        action: String,
        /// The error.
        detail: String,
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
    /// Ctrl-C stopped the replay.
    #[error("replay interrupted; the emulator it started has been stopped")]
    Interrupted,
}
