//! The inputs of the degradation check: models, versions, rules and metric values over a span.
//!
//! [`CheckSource`] is the read side of a run. [`crate::alert::stored::StoredSource`] reads the
//! stored registrations, rules, snapshots and aggregates, and [`crate::alert::memory`] keeps the
//! inputs in memory for unit tests and local experiments.

use std::{collections::BTreeMap, fmt, future::Future};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    alert::{metric::SampleBasis, rule::Check},
    snapshot::{SampleCounts, Snapshot, LATENCY_METRICS},
    time::{rfc3339, Window},
};

/// The drift statistics a rule may name, and their keys in a snapshot's `drift` object. Rules
/// write the Jensen-Shannon distance as `js`; snapshots store it as `js_distance`.
const DRIFT_METRICS: [(&str, &str); 4] = [
    ("psi", "psi"),
    ("ks", "ks"),
    ("js", "js_distance"),
    ("js_distance", "js_distance"),
];

/// A half-open time span `[start, end)` on hour boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {})", rfc3339(self.start), rfc3339(self.end))
    }
}

/// The values of one model version over one span, with the counts the significance tests use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowValues {
    /// Predictions whose timestamp is in the span.
    pub predictions: u64,
    /// Those of them with an actual.
    pub labelled: u64,
    /// Numeric metric values by key (`accuracy`, `roc_auc`, `psi`, `latency_p99_ms`, ...);
    /// `None` is undefined.
    #[serde(default)]
    pub metrics: BTreeMap<String, Option<f64>>,
    /// The reason each undefined metric is undefined.
    #[serde(default)]
    pub reasons: BTreeMap<String, String>,
    /// The counts behind each metric, as the snapshot stores them.
    #[serde(default)]
    pub counts: BTreeMap<String, SampleCounts>,
}

impl From<&Snapshot> for WindowValues {
    /// Flattens a snapshot: numeric metrics keep their keys, the latency quantiles become
    /// `latency_p50_ms` and `latency_p99_ms`, and the drift statistics `psi`, `ks` and `js`.
    fn from(snapshot: &Snapshot) -> Self {
        let mut metrics = BTreeMap::new();
        for (name, value) in &snapshot.metrics {
            match value {
                Value::Number(number) => {
                    metrics.insert(name.clone(), number.as_f64());
                }
                Value::Null => {
                    metrics.insert(name.clone(), None);
                }
                _ => {}
            }
        }
        for (name, _) in LATENCY_METRICS {
            metrics.insert(name.to_string(), snapshot.value(name));
        }
        for (name, key) in DRIFT_METRICS {
            if let Some(value) = snapshot.value(key) {
                metrics.insert(name.to_string(), Some(value));
            }
        }
        metrics.insert("label_coverage".to_string(), snapshot.label_coverage);
        Self {
            predictions: snapshot.predictions,
            labelled: snapshot.labelled,
            metrics,
            reasons: snapshot.reasons.clone(),
            counts: snapshot.counts.clone(),
        }
    }
}

impl WindowValues {
    /// Builds the values of a binary classifier from its confusion matrix, with the counts a
    /// snapshot stores: accuracy, precision, recall and specificity as proportions, and the
    /// class counts of `roc_auc`. Other metrics are added by the caller.
    pub fn from_confusion(tp: u64, fp: u64, tn: u64, fn_: u64) -> Self {
        let total = tp + fp + tn + fn_;
        let mut values = Self {
            predictions: total,
            labelled: total,
            ..Self::default()
        };
        for (name, successes, n) in [
            ("accuracy", tp + tn, total),
            ("precision", tp, tp + fp),
            ("recall", tp, tp + fn_),
            ("specificity", tn, tn + fp),
        ] {
            let value = (n > 0).then(|| successes as f64 / n as f64);
            values.metrics.insert(name.to_string(), value);
            if n > 0 {
                values
                    .counts
                    .insert(name.to_string(), SampleCounts::proportion(successes, n));
            }
        }
        values
            .counts
            .insert("roc_auc".to_string(), SampleCounts::ranking(tp + fn_, tn + fp));
        values
    }

    /// Returns the value of `metric`, or why it has none.
    ///
    /// `predictions` and `labelled` are the counts, and `label_coverage` falls back to
    /// `labelled / predictions` when the metric map does not hold it.
    pub fn value(&self, metric: &str) -> Result<f64, String> {
        match metric {
            "predictions" => return Ok(self.predictions as f64),
            "labelled" => return Ok(self.labelled as f64),
            _ => {}
        }
        match self.metrics.get(metric) {
            Some(Some(value)) if value.is_finite() => Ok(*value),
            Some(_) => Err(self
                .reasons
                .get(metric)
                .cloned()
                .unwrap_or_else(|| format!("{metric} is undefined in the window"))),
            None if metric == "label_coverage" => {
                if self.predictions == 0 {
                    Err("no predictions in the window".to_string())
                } else {
                    Ok(self.labelled as f64 / self.predictions as f64)
                }
            }
            None => Err(format!("{metric} is not computed for this model")),
        }
    }

    /// Returns the count `min_samples` is held against for a metric with this basis.
    pub fn samples(&self, basis: SampleBasis) -> u64 {
        match basis {
            SampleBasis::Labelled => self.labelled,
            SampleBasis::Predictions | SampleBasis::None => self.predictions,
        }
    }
}

/// One point of a metric's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// The window end of the snapshot.
    pub end: DateTime<Utc>,
    /// The value, or `None` when undefined.
    pub value: Option<f64>,
    /// Labelled predictions behind the value.
    pub labelled: u64,
}

/// A model version and the times of its first and last predictions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSpan {
    /// The version name.
    pub version: String,
    /// Timestamp of its earliest prediction.
    pub first: DateTime<Utc>,
    /// Timestamp of its latest prediction.
    pub last: DateTime<Utc>,
}

/// A read that failed, naming what was read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("reading {input} failed: {detail}")]
pub struct SourceError {
    /// The data being read, e.g. `the rules of model m`.
    pub input: String,
    /// The underlying error.
    pub detail: String,
}

/// The read side of a degradation check.
pub trait CheckSource: Sync {
    /// Lists every registered model.
    fn models(&self) -> impl Future<Output = Result<Vec<String>, SourceError>> + Send;

    /// Lists a model's versions with their first and last prediction times.
    fn versions(&self, model: &str) -> impl Future<Output = Result<Vec<VersionSpan>, SourceError>> + Send;

    /// Returns a model's own rules, or `None` when it has none (the configured defaults apply).
    fn checks(&self, model: &str) -> impl Future<Output = Result<Option<Vec<Check>>, SourceError>> + Send;

    /// Returns the values of one version over `span` (no segment).
    fn window(
        &self,
        model: &str,
        version: &str,
        span: Span,
    ) -> impl Future<Output = Result<WindowValues, SourceError>> + Send;

    /// Returns up to `limit` stored values of `metric` in `window` ending at or before `until`,
    /// oldest first.
    fn history(
        &self,
        model: &str,
        version: &str,
        metric: &str,
        window: Window,
        until: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<HistoryPoint>, SourceError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_value_reads_counts() {
        let values = WindowValues {
            predictions: 10,
            labelled: 4,
            ..WindowValues::default()
        };
        assert_eq!(values.value("predictions"), Ok(10.0));
        assert_eq!(values.value("label_coverage"), Ok(0.4));
    }

    #[test]
    fn window_value_undefined_carries_reason() {
        let mut values = WindowValues::default();
        values.metrics.insert("roc_auc".into(), None);
        values.reasons.insert("roc_auc".into(), "only one class present".into());
        assert_eq!(values.value("roc_auc"), Err("only one class present".to_string()));
    }

    #[test]
    fn window_value_missing_metric_is_named() {
        let error = WindowValues::default().value("mae").unwrap_err();
        assert!(error.contains("mae"));
    }

    #[test]
    fn window_from_snapshot_flattens_objects() {
        let snapshot: Snapshot = serde_json::from_value(serde_json::json!({
            "model": "m", "version": "v", "window": "1d",
            "start": "2023-06-12T00:00:00Z", "end": "2023-06-13T00:00:00Z",
            "predictions": 10, "labelled": 8, "label_coverage": 0.8,
            "metrics": { "accuracy": 0.75, "precision": null,
                         "latency_ms": { "p50": 12.0, "p99": 40.0 },
                         "drift": { "psi": 0.3, "ks": 0.1, "js_distance": 0.2 } },
            "samples": {}, "intervals": {}, "reasons": { "precision": "no predicted positives" },
            "counts": { "accuracy": { "n": 8, "successes": 6 } }
        }))
        .unwrap();
        let values = WindowValues::from(&snapshot);
        assert_eq!(values.value("accuracy"), Ok(0.75));
        assert_eq!(values.value("js"), Ok(0.2));
        assert_eq!(values.value("psi"), Ok(0.3));
        assert_eq!(values.value("latency_p99_ms"), Ok(40.0));
        assert_eq!(values.value("label_coverage"), Ok(0.8));
        assert_eq!(values.value("precision"), Err("no predicted positives".to_string()));
        assert_eq!(values.counts["accuracy"].successes, Some(6));
    }

    #[test]
    fn window_coverage_without_predictions_is_undefined() {
        assert!(WindowValues::default().value("label_coverage").is_err());
    }
}
