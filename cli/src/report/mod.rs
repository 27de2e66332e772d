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

/// Checks, before a long run, that the report can be written to `path`: creates its folder and
/// writes and removes a probe file beside it, leaving `path` itself untouched.
pub fn check_writable(path: &Path) -> Result<(), ReplayError> {
    let failed = |source| ReplayError::Report {
        path: path.to_path_buf(),
        source,
    };
    if path.is_dir() {
        return Err(failed(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a folder; name a file, such as report/index.html",
        )));
    }
    let parent = path.parent().filter(|parent| !parent.as_os_str().is_empty());
    if let Some(parent) = parent {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    let name = path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
    let probe = parent
        .unwrap_or_else(|| Path::new("."))
        .join(format!(".{name}.{}.probe", std::process::id()));
    std::fs::write(&probe, b"").map_err(failed)?;
    std::fs::remove_file(&probe).map_err(failed)
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mpt-report-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn check_writable_creates_folder_not_file() {
        let dir = scratch("ok");
        let path = dir.join("nested").join("index.html");
        check_writable(&path).unwrap();
        assert!(dir.join("nested").is_dir());
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.join("nested")).unwrap().count(), 0);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn check_writable_rejects_folder() {
        let dir = scratch("folder");
        std::fs::create_dir_all(&dir).unwrap();
        let error = check_writable(&dir).unwrap_err().to_string();
        assert!(error.contains("name a file"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn check_writable_rejects_path_under_file() {
        let dir = scratch("under-file");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("plain");
        std::fs::write(&file, b"x").unwrap();
        assert!(check_writable(&file.join("index.html")).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
