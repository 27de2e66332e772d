//! The table printed at the end of a replay: metrics per version and window, and the alerts.

use std::fmt::Write;

use std::collections::BTreeMap;

use super::{calls::CallStats, driver::Timings, evaluation::VersionEvaluation};
use crate::report::{
    format::{count, number, percent, signed_percent, MISSING},
    AlertRecord, HistoryPoint,
};

/// The stored windows the summary shows, as of the last tick.
pub const SUMMARY_WINDOWS: [&str; 2] = ["7d", "30d"];
/// Most alerts listed one per line before the rest are only counted.
const MAX_ALERT_LINES: usize = 40;

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    version: String,
    window: String,
    games: u64,
    accuracy: Option<f64>,
    roc_auc: Option<f64>,
    log_loss: Option<f64>,
    brier: Option<f64>,
    ece: Option<f64>,
    roi: Option<f64>,
}

impl Row {
    fn from_history(point: &HistoryPoint) -> Self {
        let metric = |key: &str| point.metrics.get(key).copied();
        Self {
            version: point.version.clone(),
            window: format!("{} stored", point.window),
            games: point.labelled,
            accuracy: metric("accuracy"),
            roc_auc: metric("roc_auc"),
            log_loss: metric("log_loss"),
            brier: metric("brier"),
            ece: metric("ece"),
            roi: metric("roi"),
        }
    }

    fn from_evaluation(evaluation: &VersionEvaluation) -> Self {
        let metrics = &evaluation.metrics;
        Self {
            version: evaluation.version.to_string(),
            window: "all games".to_string(),
            games: metrics.count,
            accuracy: metrics.accuracy.value(),
            roc_auc: metrics.roc_auc.value(),
            log_loss: metrics.log_loss.value(),
            brier: metrics.brier.value(),
            ece: metrics.ece.value(),
            roi: evaluation.betting.roi.value(),
        }
    }
}

/// Everything the summary prints.
#[derive(Debug, Clone, Copy)]
pub struct SummaryInput<'a> {
    /// The seasons replayed (`2019-20 to 2022-23`).
    pub scope: &'a str,
    /// Games replayed.
    pub games: usize,
    /// Calls and time spent.
    pub timings: &'a Timings,
    /// Wall time of the whole replay, in seconds.
    pub elapsed_secs: f64,
    /// Stored snapshots read back from the table.
    pub history: &'a [HistoryPoint],
    /// Metrics over every game, from the raw predictions.
    pub evaluations: &'a [VersionEvaluation],
    /// Alert messages read back from the queue.
    pub alerts: &'a [AlertRecord],
    /// The queue they were read from.
    pub queue: &'a str,
    /// Path of the written report.
    pub report: &'a str,
    /// AWS calls made, by `Service.Operation`.
    pub calls: &'a BTreeMap<String, CallStats>,
}

/// Renders the summary as plain text for the terminal.
pub fn render(input: &SummaryInput<'_>) -> String {
    let mut text = String::new();
    let timings = input.timings;
    let _ = writeln!(
        text,
        "Replayed {} games of seasons {} in {:.0} s: {} records stored by {} ingest calls, {} ticks.",
        count(input.games as u64),
        input.scope,
        input.elapsed_secs,
        count(timings.records_stored as u64),
        count(timings.ingest_calls as u64),
        count(timings.ticks as u64),
    );
    let _ = writeln!(
        text,
        "Time in ingest {:.1} s, compute-metrics {:.1} s, check-degradation {:.1} s.",
        timings.ingest.as_secs_f64(),
        timings.compute.as_secs_f64(),
        timings.check.as_secs_f64(),
    );
    text.push_str(&calls_line(input.calls));

    text.push_str(&table(&rows(input)));
    text.push_str(
        "\n\"stored\" rows are the windows compute-metrics stored at the last tick; \"all games\" rows are computed\n\
         from the replayed predictions. ROI comes from simulated bets on a market priced from Elo.\n\n",
    );

    let _ = writeln!(
        text,
        "Alerts sent (read back from the SQS queue {}): {}",
        input.queue,
        count(input.alerts.len() as u64)
    );
    for alert in input.alerts.iter().take(MAX_ALERT_LINES) {
        let _ = writeln!(text, "  {}", alert_line(alert));
    }
    if input.alerts.len() > MAX_ALERT_LINES {
        let _ = writeln!(
            text,
            "  ... and {} more, listed in the report",
            count((input.alerts.len() - MAX_ALERT_LINES) as u64)
        );
    }
    let _ = writeln!(text, "\nReport: {}", input.report);
    text
}

/// Lists the rows: for each version, the stored windows at the last tick, then every game.
fn rows(input: &SummaryInput<'_>) -> Vec<Row> {
    let mut rows = Vec::new();
    for evaluation in input.evaluations.iter().filter(|e| e.season.is_none()) {
        for window in SUMMARY_WINDOWS {
            let latest = input
                .history
                .iter()
                .filter(|point| point.version == evaluation.version && point.window == window)
                .max_by_key(|point| point.end);
            if let Some(point) = latest {
                rows.push(Row::from_history(point));
            }
        }
        rows.push(Row::from_evaluation(evaluation));
    }
    rows
}

fn table(rows: &[Row]) -> String {
    let header = [
        "version",
        "window",
        "games",
        "accuracy",
        "ROC-AUC",
        "log loss",
        "Brier",
        "ECE",
        "ROI (simulated)",
    ];
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|row| {
            [
                row.version.clone(),
                row.window.clone(),
                count(row.games),
                percent(row.accuracy),
                number(row.roc_auc, 3),
                number(row.log_loss, 4),
                number(row.brier, 4),
                number(row.ece, 3),
                row.roi.map_or(MISSING.to_string(), signed_percent),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for line in &cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut text = String::new();
    let mut push_line = |line: &[String]| {
        for (index, (cell, width)) in line.iter().zip(widths).enumerate() {
            // Text columns are left-aligned, numbers right-aligned.
            let padding = " ".repeat(width - cell.chars().count());
            if index < 2 {
                let _ = write!(text, "{cell}{padding}  ");
            } else {
                let _ = write!(text, "{padding}{cell}  ");
            }
        }
        let trimmed = text.trim_end().len();
        text.truncate(trimmed);
        text.push('\n');
    };
    push_line(&header.map(str::to_string));
    for line in &cells {
        push_line(line);
    }
    text
}

/// Summarises the AWS calls: the total, and the operations that took the most time.
fn calls_line(calls: &BTreeMap<String, CallStats>) -> String {
    let total: u64 = calls.values().map(|stats| stats.count).sum();
    let mut by_time: Vec<(&String, &CallStats)> = calls.iter().collect();
    by_time.sort_by_key(|(_, stats)| std::cmp::Reverse(stats.round_trip));
    let top: Vec<String> = by_time
        .iter()
        .take(4)
        .map(|(operation, stats)| {
            format!(
                "{operation} {} in {:.1} s",
                count(stats.count),
                stats.round_trip.as_secs_f64()
            )
        })
        .collect();
    format!("AWS calls to the emulator: {} ({}).\n\n", count(total), top.join(", "))
}

fn alert_line(alert: &AlertRecord) -> String {
    let mut line = format!(
        "{}  {:<15} {:<7} {:<9} {:<8}",
        alert.at.format("%Y-%m-%d %H:%M"),
        alert.monitor,
        alert.version,
        alert.state,
        alert.severity.as_deref().unwrap_or(MISSING),
    );
    if let Some(metric) = &alert.metric {
        let _ = write!(line, " {metric} {}", number(alert.value, 3));
        if alert.baseline.is_some() {
            let _ = write!(line, " (baseline {})", number(alert.baseline, 3));
        }
    }
    line.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::{DateTime, Utc};

    use super::*;

    fn point(version: &str, window: &str, day: i64, accuracy: f64) -> HistoryPoint {
        HistoryPoint {
            version: version.to_string(),
            window: window.to_string(),
            end: DateTime::<Utc>::from_timestamp(day * 86_400, 0).unwrap(),
            predictions: 10,
            labelled: 10,
            label_coverage: Some(1.0),
            metrics: BTreeMap::from([("accuracy".to_string(), accuracy)]),
        }
    }

    #[test]
    fn table_aligns_numbers_right() {
        let rows = [Row::from_history(&point("elo", "7d", 1, 0.5))];
        let text = table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0].find("accuracy").map(|i| i + "accuracy".len()),
            lines[1].find("50.0%").map(|i| i + 5)
        );
    }

    #[test]
    fn alert_line_names_monitor_and_value() {
        let alert = AlertRecord {
            at: DateTime::<Utc>::from_timestamp(0, 0).unwrap(),
            monitor: "auc-drop".to_string(),
            version: "elo".to_string(),
            metric: Some("roc_auc".to_string()),
            state: "firing".to_string(),
            transition: "fired".to_string(),
            severity: Some("critical".to_string()),
            value: Some(0.534),
            baseline: Some(0.7),
            p_value: None,
        };
        assert_eq!(
            alert_line(&alert),
            "1970-01-01 00:00  auc-drop        elo     firing    critical roc_auc 0.534 (baseline 0.700)"
        );
    }
}
