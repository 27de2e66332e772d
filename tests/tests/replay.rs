//! The first six weeks of the 2020-21 season replayed end to end against the emulator, checked
//! against scikit-learn.
//!
//! The expected values come from `scripts/fixtures/replay_fixtures.py`, which rebuilds the replay
//! from the raw forecasts and runs the same monitor rules through its own implementation of the
//! alert semantics. Run with `scripts/test.sh`, or start the emulator with
//! `scripts/emulator.sh start` and export `MPT_TEST_ENDPOINT`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use mpt_cli::replay::{
    load_games,
    pipeline::{Environment, REPLAY_WINDOWS},
    replay, ReplayOptions, ReplayOutcome, Season,
};
use mpt_core::{time::floor_hour, Config};
use mpt_tests::{sdk_config, unique_name};
use serde::Deserialize;

/// How far the stored ROC-AUC, computed from binned score histograms, may be from the exact one.
const ROC_AUC_TOLERANCE: f64 = 1e-3;
/// How far the stored Brier score, an exact mean, may be from scikit-learn's.
const BRIER_TOLERANCE: f64 = 1e-9;

#[derive(Debug, Deserialize)]
struct Fixture {
    season: String,
    until: chrono::NaiveDate,
    games: usize,
    ticks: usize,
    rules: serde_json::Value,
    windows: Vec<WindowCheck>,
    alerts: Vec<ExpectedAlert>,
}

#[derive(Debug, Deserialize)]
struct WindowCheck {
    at: DateTime<Utc>,
    window: String,
    versions: std::collections::BTreeMap<String, ExpectedMetrics>,
}

#[derive(Debug, Deserialize)]
struct ExpectedMetrics {
    labelled: u64,
    roc_auc: f64,
    brier: f64,
}

#[derive(Debug, Deserialize)]
struct ExpectedAlert {
    at: DateTime<Utc>,
    monitor: String,
    version: String,
    transition: String,
    severity: String,
}

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture() -> Fixture {
    let path = repository_root().join("tests/tests/fixtures/replay_2020-21.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// Replays the fixture's games into a fresh table, topic and queue.
async fn run_season(fixture: &Fixture, report: &Path) -> ReplayOutcome {
    let season: Season = fixture.season.parse().unwrap();
    let mut games = load_games(&repository_root().join("data"), Some(season), false).unwrap();
    games.retain(|game| game.date < fixture.until);
    assert_eq!(games.len(), fixture.games, "games replayed");

    let table = unique_name("mpt-replay");
    let config = Config::from_lookup(|name| match name {
        "MPT_TABLE" => Some(table.clone()),
        "MPT_WINDOWS" => Some(REPLAY_WINDOWS.to_string()),
        _ => None,
    })
    .unwrap();
    let alerts = unique_name("mpt-replay-alerts");
    let environment = Environment {
        sdk: sdk_config().await,
        config,
        topic_name: alerts.clone(),
        queue_name: alerts,
    };
    let options = ReplayOptions {
        tick_every: "1d".parse().unwrap(),
        report: report.to_path_buf(),
        progress: false,
    };
    match replay(games, &options, environment).await {
        Ok(outcome) => outcome,
        Err(error) => panic!("the replay failed: {error}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_matches_scikit_learn() {
    let fixture = fixture();
    let rules: serde_json::Value = serde_json::from_str(mpt_cli::replay::MONITORS_JSON).unwrap();
    assert_eq!(
        rules, fixture.rules,
        "the fixture was made with other rules; rerun the fixture script"
    );

    let report = std::env::temp_dir()
        .join(unique_name("mpt-replay-report"))
        .join("index.html");
    let outcome = run_season(&fixture, &report).await;
    assert_eq!(outcome.timings.ticks, fixture.ticks, "ticks run");

    // The stored 30-day windows at the chosen ticks.
    for check in &fixture.windows {
        let end = floor_hour(check.at);
        for (version, expected) in &check.versions {
            let point = outcome
                .history
                .iter()
                .find(|p| &p.version == version && p.window == check.window && p.end == end)
                .unwrap_or_else(|| panic!("no stored {} snapshot of {version} ending {end}", check.window));
            let what = format!("{version} {} ending {end}", check.window);
            assert_eq!(point.labelled, expected.labelled, "labelled predictions of {what}");
            let roc_auc = point.metrics.get("roc_auc").copied().unwrap_or(f64::NAN);
            assert!(
                (roc_auc - expected.roc_auc).abs() <= ROC_AUC_TOLERANCE,
                "ROC-AUC of {what}: stored {roc_auc}, scikit-learn {}",
                expected.roc_auc
            );
            let brier = point.metrics.get("brier").copied().unwrap_or(f64::NAN);
            assert!(
                (brier - expected.brier).abs() <= BRIER_TOLERANCE,
                "Brier score of {what}: stored {brier}, scikit-learn {}",
                expected.brier
            );
        }
    }

    // The alert messages the queue received, against the independent computation.
    let sent: Vec<String> = outcome
        .alerts
        .iter()
        .map(|a| format!("{} {} {} {}", a.at, a.monitor, a.version, a.state))
        .collect();
    let expected: Vec<String> = fixture
        .alerts
        .iter()
        .map(|a| {
            let state = if a.transition == "resolved" {
                "resolved"
            } else {
                "firing"
            };
            format!("{} {} {} {state}", a.at, a.monitor, a.version)
        })
        .collect();
    assert_eq!(sent.len(), expected.len(), "alert messages sent: {sent:?}");
    assert_eq!(sent, expected, "alert messages in order");
    let severities: Vec<Option<&str>> = outcome.alerts.iter().map(|a| a.severity.as_deref()).collect();
    let expected_severities: Vec<Option<&str>> = fixture.alerts.iter().map(|a| Some(a.severity.as_str())).collect();
    assert_eq!(severities, expected_severities, "alert severities");

    // The report: written, with its charts and the data's attribution.
    let html = std::fs::read_to_string(&report).unwrap_or_else(|e| panic!("reading {}: {e}", report.display()));
    let charts = html.matches("<svg").count();
    assert!(charts >= 7, "the report has {charts} charts, expected 7");
    assert!(html.contains("<polyline"), "the report's charts have no lines");
    assert!(
        html.contains(mpt_cli::report::ATTRIBUTION),
        "the report lacks the data attribution"
    );
    assert!(
        html.contains("simulated"),
        "the report does not label the betting figures simulated"
    );
    let _ = std::fs::remove_dir_all(report.parent().unwrap_or(&report));
}
