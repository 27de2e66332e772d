//! Turns a window's merged aggregate into a [`Snapshot`]: the task's metrics, latency, label
//! delay, return on bets and drift, with samples, intervals and reasons.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use mpt_metrics::{binary::ConfusionMatrix, latency::LatencySketch, stats::wilson_interval, Metric};
use serde_json::{json, Value};

use super::drift::drift_metrics;
use crate::{
    aggregate::{Aggregate, OpenClassState, Performance},
    snapshot::{SampleCounts, Snapshot},
    time::Window,
};

/// Confidence level of the intervals in [`Snapshot::intervals`].
pub const INTERVAL_CONFIDENCE: f64 = 0.95;

const NO_PREDICTIONS: &str = "no predictions in the window";
const NO_LATENCY: &str = "no prediction in the window reported a latency";
const NO_LABEL_DELAY: &str = "no labelled prediction in the window";
const NO_REFERENCE: &str = "no reference period was given";
const NO_LABELLED: &str = "no labelled predictions in the window";
const ONE_CLASS: &str =
    "every labelled prediction in the window names one class, so the model's classes are not known yet";

/// The scalar multiclass metrics, in output order.
const MULTICLASS_METRICS: [&str; 10] = [
    "accuracy",
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
    "log_loss",
    "brier",
    "roc_auc_ovr_macro",
];

/// The model, version, window, bounds and optional segment a snapshot describes.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotScope {
    /// Model name.
    pub model: String,
    /// Model version.
    pub version: String,
    /// Window length.
    pub window: Window,
    /// Segment as `key:value`, or none for the whole version.
    pub segment: Option<String>,
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

/// The reference distribution drift is measured against, and the period it covers.
#[derive(Debug, Clone, Copy)]
pub struct Reference<'a> {
    /// The merged aggregate of the reference period.
    pub aggregate: &'a Aggregate,
    /// Inclusive start of the period.
    pub start: DateTime<Utc>,
    /// Exclusive end of the period.
    pub end: DateTime<Utc>,
}

/// Accumulates the maps of a snapshot as metrics are added.
#[derive(Default)]
struct SnapshotMaps {
    metrics: BTreeMap<String, Value>,
    samples: BTreeMap<String, u64>,
    intervals: BTreeMap<String, [f64; 2]>,
    reasons: BTreeMap<String, String>,
    counts: BTreeMap<String, SampleCounts>,
    error_bounds: BTreeMap<String, f64>,
}

impl SnapshotMaps {
    /// Adds a metric computed over `samples` observations, or its reason when undefined.
    fn metric(&mut self, name: &str, metric: Metric, samples: u64) {
        match metric {
            Metric::Value(value) => {
                self.metrics.insert(name.to_string(), json!(value));
                self.samples.insert(name.to_string(), samples);
            }
            Metric::Undefined(reason) => {
                self.metrics.insert(name.to_string(), Value::Null);
                self.reasons.insert(name.to_string(), reason.to_string());
            }
        }
    }

    /// Adds a proportion `successes / n`: its value, samples, counts and Wilson interval.
    fn proportion(&mut self, name: &str, metric: Metric, successes: u64, n: u64) {
        self.metric(name, metric, n);
        if metric.value().is_none() {
            return;
        }
        self.counts
            .insert(name.to_string(), SampleCounts::proportion(successes, n));
        if let Ok(interval) = wilson_interval(successes, n, INTERVAL_CONFIDENCE) {
            self.intervals
                .insert(name.to_string(), [interval.lower, interval.upper]);
        }
    }

    /// Adds an object metric, or null with a reason.
    fn object(&mut self, name: &str, value: Option<Value>, reason: &str) {
        match value {
            Some(value) => {
                self.metrics.insert(name.to_string(), value);
            }
            None => {
                self.metrics.insert(name.to_string(), Value::Null);
                self.reasons.insert(name.to_string(), reason.to_string());
            }
        }
    }
}

/// Builds the snapshot of `current`, with drift against `reference` when given.
pub fn build_snapshot(scope: SnapshotScope, current: &Aggregate, reference: Option<Reference<'_>>) -> Snapshot {
    let mut maps = SnapshotMaps::default();
    let label_coverage = if current.predictions == 0 {
        maps.reasons
            .insert("label_coverage".to_string(), NO_PREDICTIONS.to_string());
        None
    } else {
        Some(current.labelled as f64 / current.predictions as f64)
    };

    match &current.performance {
        Performance::Binary(state) => add_binary(&mut maps, state),
        Performance::Multiclass(state) => add_multiclass(&mut maps, state),
        Performance::Regression(state) => add_regression(&mut maps, state),
    }
    maps.object("latency_ms", latency_object(&current.latency), NO_LATENCY);
    maps.object("label_delay_s", delay_object(&current.label_delay), NO_LABEL_DELAY);
    add_betting(&mut maps, current);
    add_drift(&mut maps, current, reference);

    Snapshot {
        model: scope.model,
        version: scope.version,
        window: scope.window,
        segment: scope.segment,
        start: scope.start,
        end: scope.end,
        predictions: current.predictions,
        labelled: current.labelled,
        label_coverage,
        metrics: maps.metrics,
        samples: maps.samples,
        intervals: maps.intervals,
        reasons: maps.reasons,
        counts: maps.counts,
        error_bounds: maps.error_bounds,
    }
}

fn add_binary(maps: &mut SnapshotMaps, state: &mpt_metrics::binary::BinaryState) {
    let metrics = state.compute();
    let ConfusionMatrix {
        true_positives: tp,
        false_positives: fp,
        true_negatives: tn,
        false_negatives: fn_,
    } = metrics.confusion_matrix;
    let total = metrics.count;
    maps.metrics.insert("count".to_string(), json!(total));
    maps.metrics.insert(
        "confusion_matrix".to_string(),
        json!({ "tp": tp, "fp": fp, "tn": tn, "fn": fn_ }),
    );

    // Proportions: the metric, its successes and its trials.
    let proportions = [
        ("accuracy", metrics.accuracy, tp + tn, total),
        ("precision", metrics.precision, tp, tp + fp),
        ("recall", metrics.recall, tp, tp + fn_),
        ("specificity", metrics.specificity, tn, tn + fp),
        ("fpr", metrics.fpr, fp, fp + tn),
        ("fnr", metrics.fnr, fn_, fn_ + tp),
        ("base_rate", metrics.base_rate, tp + fn_, total),
        (
            "predicted_positive_rate",
            metrics.predicted_positive_rate,
            tp + fp,
            total,
        ),
    ];
    for (name, metric, successes, n) in proportions {
        maps.proportion(name, metric, successes, n);
    }
    let (positives, negatives) = (tp + fn_, tn + fp);
    let histogram = state.histogram();
    let bounds = [
        ("roc_auc", histogram.roc_auc_error_bound()),
        ("pr_auc", histogram.pr_auc_error_bound()),
    ];
    for (name, bound) in bounds {
        if let Some(bound) = bound {
            maps.error_bounds.insert(name.to_string(), bound);
        }
    }
    for (name, metric) in [("roc_auc", metrics.roc_auc), ("pr_auc", metrics.pr_auc)] {
        maps.metric(name, metric, total);
        if metric.value().is_some() {
            maps.counts
                .insert(name.to_string(), SampleCounts::ranking(positives, negatives));
        }
    }
    let others = [
        ("balanced_accuracy", metrics.balanced_accuracy),
        ("f1", metrics.f1),
        ("f0_5", metrics.f0_5),
        ("f2", metrics.f2),
        ("mcc", metrics.mcc),
        ("log_loss", metrics.log_loss),
        ("brier", metrics.brier),
        ("ece", metrics.ece),
    ];
    for (name, metric) in others {
        maps.metric(name, metric, total);
        if metric.value().is_some() {
            maps.counts.insert(
                name.to_string(),
                SampleCounts {
                    n: total,
                    ..SampleCounts::default()
                },
            );
        }
    }
}

fn add_multiclass(maps: &mut SnapshotMaps, open: &OpenClassState) {
    let Some(state) = open.state() else {
        let count = open.single().map_or(0, |(_, count)| count);
        maps.metrics.insert("count".to_string(), json!(count));
        let reason = if count == 0 { NO_LABELLED } else { ONE_CLASS };
        for name in MULTICLASS_METRICS {
            maps.metric(name, Metric::Undefined(reason), count);
        }
        return;
    };
    let metrics = state.compute();
    let total = metrics.count;
    let correct: u64 = (0..metrics.confusion_matrix.len())
        .map(|i| metrics.confusion_matrix[i].get(i).copied().unwrap_or(0))
        .sum();
    maps.metrics.insert("count".to_string(), json!(total));
    maps.metrics.insert("classes".to_string(), json!(state.classes()));
    maps.metrics
        .insert("confusion_matrix".to_string(), json!(metrics.confusion_matrix));
    maps.metrics.insert(
        "per_class".to_string(),
        serde_json::to_value(&metrics.per_class).unwrap_or(Value::Null),
    );
    maps.proportion("accuracy", metrics.accuracy, correct, total);
    if let Some(bound) = state.roc_auc_ovr_macro_error_bound() {
        maps.error_bounds.insert("roc_auc_ovr_macro".to_string(), bound);
    }
    let others = [
        ("macro_precision", metrics.macro_precision),
        ("macro_recall", metrics.macro_recall),
        ("macro_f1", metrics.macro_f1),
        ("weighted_precision", metrics.weighted_precision),
        ("weighted_recall", metrics.weighted_recall),
        ("weighted_f1", metrics.weighted_f1),
        ("log_loss", metrics.log_loss),
        ("brier", metrics.brier),
        ("roc_auc_ovr_macro", metrics.roc_auc_ovr_macro),
    ];
    for (name, metric) in others {
        maps.metric(name, metric, total);
        if metric.value().is_some() {
            maps.counts.insert(
                name.to_string(),
                SampleCounts {
                    n: total,
                    ..SampleCounts::default()
                },
            );
        }
    }
}

fn add_regression(maps: &mut SnapshotMaps, state: &mpt_metrics::regression::RegressionState) {
    let metrics = state.compute();
    let total = metrics.count;
    maps.metrics.insert("count".to_string(), json!(total));
    maps.metrics
        .insert("mape_skipped".to_string(), json!(metrics.mape_skipped));
    let all = [
        ("mae", metrics.mae, total),
        ("mse", metrics.mse, total),
        ("rmse", metrics.rmse, total),
        ("r2", metrics.r2, total),
        ("mape", metrics.mape, total - metrics.mape_skipped.min(total)),
        ("mean_error", metrics.mean_error, total),
        ("max_error", metrics.max_error, total),
    ];
    for (name, metric, samples) in all {
        maps.metric(name, metric, samples);
        if metric.value().is_some() {
            maps.counts.insert(
                name.to_string(),
                SampleCounts {
                    n: samples,
                    ..SampleCounts::default()
                },
            );
        }
    }
}

/// Returns `{count, mean, p50, p90, p95, p99, max}` in milliseconds, or none without latencies.
fn latency_object(sketch: &LatencySketch) -> Option<Value> {
    let latency = sketch.compute();
    if latency.count == 0 {
        return None;
    }
    Some(json!({
        "count": latency.count,
        "mean": latency.mean_ms,
        "p50": latency.p50_ms,
        "p90": latency.p90_ms,
        "p95": latency.p95_ms,
        "p99": latency.p99_ms,
        "max": latency.max_ms,
    }))
}

/// Returns `{count, p50, p95}` of the label delay in seconds, or none without labels.
fn delay_object(sketch: &LatencySketch) -> Option<Value> {
    let delay = sketch.compute();
    if delay.count == 0 {
        return None;
    }
    Some(json!({ "count": delay.count, "p50": delay.p50_ms, "p95": delay.p95_ms }))
}

fn add_betting(maps: &mut SnapshotMaps, current: &Aggregate) {
    let betting = current.betting.compute();
    maps.metric("roi", betting.roi, betting.bets);
    if betting.bets > 0 {
        maps.metrics.insert(
            "betting".to_string(),
            json!({
                "bets": betting.bets,
                "won": betting.won,
                "total_staked": betting.total_staked,
                "profit": betting.profit,
            }),
        );
    }
}

fn add_drift(maps: &mut SnapshotMaps, current: &Aggregate, reference: Option<Reference<'_>>) {
    let Some(reference) = reference else {
        maps.object("drift", None, NO_REFERENCE);
        return;
    };
    let drift = drift_metrics(reference.aggregate, current);
    let mut object = serde_json::Map::new();
    for (name, metric) in [("psi", drift.psi), ("ks", drift.ks), ("js_distance", drift.js_distance)] {
        object.insert(name.to_string(), json!(metric));
        if let Some(reason) = metric.reason() {
            maps.reasons.insert(name.to_string(), reason.to_string());
        }
    }
    object.insert("reference_start".to_string(), json!(reference.start));
    object.insert("reference_end".to_string(), json!(reference.end));
    object.insert(
        "reference_predictions".to_string(),
        json!(reference.aggregate.predictions),
    );
    maps.metrics.insert("drift".to_string(), Value::Object(object));
}
