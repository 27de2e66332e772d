//! The replay's HTML report: one self-contained file with inline CSS and SVG charts.
//!
//! A verdict written from the numbers comes first. Then come the stored metrics over time with
//! the alerts, the paired comparison of the versions, calibration, confusion matrices per season,
//! volume and label coverage, the monitor rules, and how the replay was run.

pub mod charts;
pub mod format;
mod sections;
pub mod verdict;

use std::{collections::BTreeMap, path::Path};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::replay::{
    data::Game,
    evaluation::{Comparison, VersionEvaluation},
    ReplayError,
};

/// The attribution the data's licence (CC BY 4.0) requires.
pub const ATTRIBUTION: &str =
    "Forecast data: FiveThirtyEight (https://github.com/fivethirtyeight/data), licensed CC BY 4.0.";

/// One stored metrics snapshot of one version and window, read back from the history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPoint {
    /// The model version.
    pub version: String,
    /// The window, as written in the API (`30d`).
    pub window: String,
    /// The window's end, the tick's time floored to the hour.
    pub end: DateTime<Utc>,
    /// Predictions in the window.
    pub predictions: u64,
    /// Predictions with an actual.
    pub labelled: u64,
    /// `labelled / predictions`, when there were predictions.
    pub label_coverage: Option<f64>,
    /// Every defined metric by its JSON key; undefined ones are left out.
    pub metrics: BTreeMap<String, f64>,
}

/// One alert message read back from the alert queue.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRecord {
    /// The evaluation time that raised it.
    pub at: DateTime<Utc>,
    /// The monitor rule's name.
    pub monitor: String,
    /// The model version.
    pub version: String,
    /// The metric watched, when the rule watches one.
    pub metric: Option<String>,
    /// `firing` or `resolved`.
    pub state: String,
    /// `fired`, `escalated` or `resolved`.
    pub transition: String,
    /// `warning` or `critical`, when firing.
    pub severity: Option<String>,
    /// The metric's value.
    pub value: Option<f64>,
    /// The baseline or threshold compared against.
    pub baseline: Option<f64>,
    /// The p-value of the test behind a relative drop.
    pub p_value: Option<f64>,
}

/// Everything the report shows.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The seasons replayed, for the title (`2019-20 to 2022-23`).
    pub scope: &'a str,
    /// The replayed games.
    pub games: &'a [Game],
    /// Metrics per version, over every game and per season.
    pub evaluations: &'a [VersionEvaluation],
    /// The paired comparison, when both versions predicted the games.
    pub comparison: Option<&'a Comparison>,
    /// Stored snapshots read back from the table.
    pub history: &'a [HistoryPoint],
    /// The alert messages sent, oldest first.
    pub alerts: &'a [AlertRecord],
    /// The monitor rules as sent to `PUT /v1/models/{model}/monitors`.
    pub monitors: &'a [Value],
    /// The tick interval, as written on the command line.
    pub tick_every: &'a str,
    /// The number of ticks run.
    pub ticks: usize,
}

/// Renders the report as one HTML document.
pub fn render(input: &ReportInput<'_>) -> String {
    sections::document(input)
}

/// Writes the report to `path`, creating its folder.
pub fn write(path: &Path, html: &str) -> Result<(), ReplayError> {
    let failed = |source| ReplayError::Report {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    std::fs::write(path, html).map_err(failed)
}
