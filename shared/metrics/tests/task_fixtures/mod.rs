//! Loading and comparing the fixtures that scripts/fixtures/task_fixtures.py writes.
#![allow(dead_code)]

use std::path::PathBuf;

use mpt_metrics::Metric;
use serde_json::Value;

/// Tolerance for metrics that are exact: relative to the expected value, absolute below 1.
pub const EXACT: f64 = 1e-9;

/// Tolerance between a merged state and a single pass, relative to the value.
pub const MERGED: f64 = 1e-12;

/// Reads `tests/fixtures/tasks/{name}.json` as a list of cases.
pub fn load(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tasks")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("invalid JSON in {}: {error}", path.display()))
}

/// Returns whether `actual` is within `tolerance` of `expected`, relative above 1 and absolute below.
pub fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
    (actual - expected).abs() <= tolerance * expected.abs().max(1.0)
}

/// Asserts that a metric matches a fixture value: null means undefined, a number means close.
pub fn assert_metric(actual: Metric, expected: &Value, tolerance: f64, context: &str) {
    match expected.as_f64() {
        None => {
            assert!(
                expected.is_null(),
                "{context}: fixture value {expected} is neither a number nor null"
            );
            assert!(actual.value().is_none(), "{context}: expected null, got {actual:?}");
        }
        Some(expected) => {
            let value = actual
                .value()
                .unwrap_or_else(|| panic!("{context}: expected {expected}, got {actual:?}"));
            assert!(
                close(value, expected, tolerance),
                "{context}: expected {expected}, got {value}"
            );
        }
    }
}

/// Returns the fixture field `key` of `case` as an f64 list.
pub fn floats(case: &Value, key: &str) -> Vec<f64> {
    case[key]
        .as_array()
        .unwrap_or_else(|| panic!("fixture field {key} is not a list"))
        .iter()
        .map(|value| {
            value
                .as_f64()
                .unwrap_or_else(|| panic!("fixture field {key} holds {value}"))
        })
        .collect()
}

/// Returns the fixture field `key` of `case` as a u64 list.
pub fn counts(case: &Value, key: &str) -> Vec<u64> {
    case[key]
        .as_array()
        .unwrap_or_else(|| panic!("fixture field {key} is not a list"))
        .iter()
        .map(|value| {
            value
                .as_u64()
                .unwrap_or_else(|| panic!("fixture field {key} holds {value}"))
        })
        .collect()
}

/// Returns the fixture field `key` of `case` as a string list.
pub fn strings(case: &Value, key: &str) -> Vec<String> {
    case[key]
        .as_array()
        .unwrap_or_else(|| panic!("fixture field {key} is not a list"))
        .iter()
        .map(|value| {
            value
                .as_str()
                .unwrap_or_else(|| panic!("fixture field {key} holds {value}"))
                .to_string()
        })
        .collect()
}

/// Returns the case name, for assertion messages.
pub fn name(case: &Value) -> &str {
    case["name"].as_str().unwrap_or("unnamed case")
}

/// Returns `count` numbers in [-1000, 1000] with three decimals, bit for bit the values of
/// `lcg_values` in the fixture script.
pub fn lcg_values(seed: u64, count: usize) -> Vec<f64> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) % 2_000_001) as f64 - 1_000_000.0
        })
        .map(|value| value / 1000.0)
        .collect()
}
