//! A window's metrics, in the shape `GET /v1/models/{model}/metrics` returns, plus the counts
//! the degradation checker needs for its significance tests.
//!
//! The same value is stored in the history (`HIST#` items), returned by the query API and turned
//! into CloudWatch datums, so all three always agree.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::time::Window;

/// The sample counts behind one metric, for significance tests between two windows.
///
/// A proportion metric carries `n` and `successes` (accuracy: labelled predictions and correct
/// ones). A ranking metric carries `n_pos` and `n_neg` (ROC-AUC: labelled positives and
/// negatives, as the Hanley-McNeil standard error needs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleCounts {
    /// Observations behind the metric.
    pub n: u64,
    /// Observations counted as successes, for a proportion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successes: Option<u64>,
    /// Labelled positives, for a ranking metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_pos: Option<u64>,
    /// Labelled negatives, for a ranking metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_neg: Option<u64>,
}

impl SampleCounts {
    /// Builds the counts of a proportion: `successes` out of `n`.
    pub fn proportion(successes: u64, n: u64) -> Self {
        Self {
            n,
            successes: Some(successes),
            ..Self::default()
        }
    }

    /// Builds the counts of a ranking metric over `n_pos` positives and `n_neg` negatives.
    pub fn ranking(n_pos: u64, n_neg: u64) -> Self {
        Self {
            n: n_pos + n_neg,
            n_pos: Some(n_pos),
            n_neg: Some(n_neg),
            ..Self::default()
        }
    }
}

/// The metrics of one model version over one window, optionally for one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Model name.
    pub model: String,
    /// Model version.
    pub version: String,
    /// Window length.
    pub window: Window,
    /// Segment as `key:value`, or none for the whole version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Inclusive start of the window.
    pub start: DateTime<Utc>,
    /// Exclusive end of the window.
    pub end: DateTime<Utc>,
    /// Predictions whose timestamp falls in the window.
    pub predictions: u64,
    /// Those of them with an actual.
    pub labelled: u64,
    /// `labelled / predictions`, null when there are no predictions.
    pub label_coverage: Option<f64>,
    /// Metric values by name: numbers, null when undefined, or objects (`latency_ms`, `drift`).
    pub metrics: BTreeMap<String, Value>,
    /// Observations behind each defined metric.
    pub samples: BTreeMap<String, u64>,
    /// 95% Wilson score intervals of the proportion metrics.
    pub intervals: BTreeMap<String, [f64; 2]>,
    /// Reason each null metric is undefined, by metric name.
    pub reasons: BTreeMap<String, String>,
    /// Counts behind the metrics that significance tests use.
    #[serde(default)]
    pub counts: BTreeMap<String, SampleCounts>,
    /// Largest possible difference between a binned metric (`roc_auc`, `pr_auc`,
    /// `roc_auc_ovr_macro`) and its exact value on the raw scores.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub error_bounds: BTreeMap<String, f64>,
}

/// Names of the quantiles in `metrics.latency_ms`, and the CloudWatch metric each one is.
pub const LATENCY_METRICS: &[(&str, &str)] = &[("latency_p50_ms", "p50"), ("latency_p99_ms", "p99")];

impl Snapshot {
    /// Returns the numeric value of a metric by its CloudWatch or history name, when defined.
    ///
    /// Besides the keys of `metrics`, this reads `predictions`, `labelled`, `label_coverage`,
    /// `latency_p50_ms` and `latency_p99_ms`, and the drift statistics inside `metrics.drift`
    /// (`js` reads `js_distance`).
    pub fn value(&self, name: &str) -> Option<f64> {
        match name {
            "predictions" => return Some(self.predictions as f64),
            "labelled" => return Some(self.labelled as f64),
            "label_coverage" => return self.label_coverage,
            _ => {}
        }
        if let Some((_, quantile)) = LATENCY_METRICS.iter().find(|(metric, _)| *metric == name) {
            return self.metrics.get("latency_ms")?.get(quantile)?.as_f64();
        }
        if let Some(value) = self.metrics.get(name) {
            return value.as_f64();
        }
        // Monitor rules may write the Jensen-Shannon distance as `js`.
        let drift_key = if name == "js" { "js_distance" } else { name };
        self.metrics.get("drift")?.get(drift_key)?.as_f64()
    }

    /// Returns a stable digest of the snapshot's content, to tell a changed snapshot from a re-run.
    ///
    /// The digest is 64-bit FNV-1a over the JSON form, whose maps are sorted, so equal snapshots
    /// always give equal digests.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{:016x}", fnv1a(&json))
    }
}

/// Hashes bytes with 64-bit FNV-1a: fast, stable across builds and platforms, not cryptographic.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET_BASIS, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot() -> Snapshot {
        Snapshot {
            model: "nba".into(),
            version: "raptor".into(),
            window: "7d".parse().unwrap(),
            segment: None,
            start: "2023-06-05T00:00:00Z".parse().unwrap(),
            end: "2023-06-12T00:00:00Z".parse().unwrap(),
            predictions: 120,
            labelled: 118,
            label_coverage: Some(118.0 / 120.0),
            metrics: BTreeMap::from([
                ("accuracy".to_string(), json!(0.64)),
                ("precision".to_string(), Value::Null),
                ("latency_ms".to_string(), json!({"p50": 12.0, "p99": 40.5})),
                ("drift".to_string(), json!({"psi": 0.03, "ks": 0.1})),
            ]),
            samples: BTreeMap::from([("accuracy".to_string(), 118)]),
            intervals: BTreeMap::new(),
            reasons: BTreeMap::from([("precision".to_string(), "no predicted positives".to_string())]),
            counts: BTreeMap::new(),
            error_bounds: BTreeMap::new(),
        }
    }

    #[test]
    fn value_reads_top_level_counts() {
        assert_eq!(snapshot().value("predictions"), Some(120.0));
        assert_eq!(snapshot().value("labelled"), Some(118.0));
    }

    #[test]
    fn value_reads_metric_and_null() {
        assert_eq!(snapshot().value("accuracy"), Some(0.64));
        assert_eq!(snapshot().value("precision"), None);
        assert_eq!(snapshot().value("roc_auc"), None);
    }

    #[test]
    fn value_reads_latency_quantiles_and_drift() {
        assert_eq!(snapshot().value("latency_p99_ms"), Some(40.5));
        assert_eq!(snapshot().value("latency_p50_ms"), Some(12.0));
        assert_eq!(snapshot().value("psi"), Some(0.03));
    }

    #[test]
    fn digest_changes_with_content() {
        let mut changed = snapshot();
        changed.labelled = 119;
        assert_eq!(snapshot().digest(), snapshot().digest());
        assert_ne!(snapshot().digest(), changed.digest());
    }

    #[test]
    fn snapshot_serialises_in_api_shape() {
        let json = serde_json::to_value(snapshot()).unwrap();
        assert_eq!(json["window"], "7d");
        assert_eq!(json["end"], "2023-06-12T00:00:00Z");
        assert_eq!(json["metrics"]["precision"], Value::Null);
        assert!(json.get("segment").is_none());
    }

    #[test]
    fn fnv1a_matches_reference_vector() {
        // The well-known FNV-1a 64-bit hash of the single byte "a".
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
