//! Fixture loading and comparison helpers shared by the binary metric tests.
#![allow(dead_code)]

use std::{collections::HashMap, path::PathBuf};

use mpt_metrics::{binary::BinaryMetrics, Metric};
use serde_json::Value;

/// Metric keys compared against the fixtures, in the order of `BinaryMetrics`.
pub const METRIC_KEYS: [&str; 18] = [
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "specificity",
    "f1",
    "mcc",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "ece",
    "fpr",
    "fnr",
    "f0_5",
    "f2",
    "base_rate",
    "predicted_positive_rate",
];

/// Tolerance for metrics that are exact against scikit-learn.
pub const EXACT: f64 = 1e-9;

pub fn repository_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/binary")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {}: {error}", path.display()))
}

pub fn cases(name: &str) -> Vec<Value> {
    fixture(name)["cases"]
        .as_array()
        .expect("fixture has a cases array")
        .clone()
}

/// The splitmix64 sequence, as scripts/fixtures/binary_fixtures.py generates it.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Rebuilds a generated case's records; see `generate` in the fixture script.
pub fn generate(spec: &Value) -> (Vec<f64>, Vec<bool>) {
    let mut numbers = SplitMix64::new(spec["seed"].as_u64().expect("seed"));
    let n = spec["n"].as_u64().expect("n") as usize;
    let levels = spec.get("levels").and_then(Value::as_u64);
    let unit = |x: u64| (x >> 11) as f64 * 2f64.powi(-53);
    let mut scores = Vec::with_capacity(n);
    let mut actuals = Vec::with_capacity(n);
    for _ in 0..n {
        let (x, y) = (numbers.next_u64(), numbers.next_u64());
        let score = match levels {
            Some(levels) => (x % (levels + 1)) as f64 / levels as f64,
            None => unit(x),
        };
        scores.push(score);
        actuals.push(unit(y) < score);
    }
    (scores, actuals)
}

/// Returns a case's scores and actuals, inline or generated.
pub fn inputs(case: &Value) -> (Vec<f64>, Vec<bool>) {
    if let Some(spec) = case.get("generator") {
        return generate(spec);
    }
    let scores = case["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .map(|v| v.as_f64().expect("score"))
        .collect();
    let actuals = case["actuals"]
        .as_array()
        .expect("actuals")
        .iter()
        .map(|v| v.as_bool().expect("actual"))
        .collect();
    (scores, actuals)
}

pub fn name(case: &Value) -> &str {
    case["name"].as_str().expect("case name")
}

/// Asserts `|actual - expected| <= tolerance * max(1, |expected|)`.
pub fn assert_close(context: &str, actual: f64, expected: f64, tolerance: f64) {
    let allowed = tolerance * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= allowed,
        "{context}: got {actual}, expected {expected} (difference {:e}, allowed {allowed:e})",
        (actual - expected).abs()
    );
}

/// Asserts that `metric` matches the fixture value: null means undefined with a reason.
pub fn assert_metric(context: &str, metric: Metric, expected: &Value, tolerance: f64) {
    match (metric, expected.as_f64()) {
        (Metric::Value(value), Some(expected)) => assert_close(context, value, expected, tolerance),
        (Metric::Undefined(reason), None) => {
            assert!(
                expected.is_null(),
                "{context}: fixture value {expected} is neither a number nor null"
            );
            assert!(!reason.is_empty(), "{context}: undefined without a reason");
        }
        (Metric::Value(value), None) => panic!("{context}: got {value}, expected null"),
        (Metric::Undefined(reason), Some(expected)) => {
            panic!("{context}: undefined ({reason}), expected {expected}")
        }
    }
}

/// Compares the metrics whose keys are in `keys` with the fixture's expected values.
pub fn assert_metrics(case_name: &str, metrics: &BinaryMetrics, expected: &Value, keys: &[&str], tolerance: f64) {
    let by_name: HashMap<&str, Metric> = metrics.named().into_iter().collect();
    for key in keys {
        let context = format!("{case_name} {key}");
        assert_metric(&context, by_name[key], &expected[*key], tolerance);
    }
}

/// Compares the count, confusion matrix and reliability table with the fixture.
pub fn assert_counts_and_reliability(case_name: &str, metrics: &BinaryMetrics, expected: &Value) {
    assert_eq!(metrics.count, expected["count"].as_u64().unwrap(), "{case_name} count");
    let confusion = serde_json::to_value(metrics.confusion_matrix).unwrap();
    assert_eq!(confusion, expected["confusion_matrix"], "{case_name} confusion_matrix");

    let rows = expected["reliability"].as_array().expect("reliability rows");
    assert_eq!(metrics.reliability.len(), rows.len(), "{case_name} reliability rows");
    for (bin, (row, expected_row)) in metrics.reliability.iter().zip(rows).enumerate() {
        let context = format!("{case_name} reliability bin {bin}");
        assert_eq!(row.count, expected_row["count"].as_u64().unwrap(), "{context} count");
        assert_close(
            &format!("{context} lower"),
            row.lower,
            expected_row["lower"].as_f64().unwrap(),
            0.0,
        );
        assert_close(
            &format!("{context} upper"),
            row.upper,
            expected_row["upper"].as_f64().unwrap(),
            0.0,
        );
        assert_metric(
            &format!("{context} mean_score"),
            row.mean_score,
            &expected_row["mean_score"],
            EXACT,
        );
        assert_metric(
            &format!("{context} positive_rate"),
            row.positive_rate,
            &expected_row["positive_rate"],
            EXACT,
        );
    }
}
