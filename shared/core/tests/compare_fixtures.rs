//! Checks version comparisons against scipy and scikit-learn, through the fixtures that
//! `scripts/fixtures/compare_fixtures.py` writes.

use std::{collections::BTreeMap, path::PathBuf};

use mpt_core::compare::{
    compare_auc_unpaired, compare_binary, compare_multiclass, compare_proportion_unpaired, compare_regression,
    AucSample, BinaryPair, ClassOutcome, ClassPair, MetricComparison, Proportion, RegressionPair,
};
use serde_json::Value;

/// Exact statistics agree with the reference to this relative tolerance.
const TOLERANCE: f64 = 1e-9;

fn fixture(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compare")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn floats(value: &Value) -> Vec<f64> {
    value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= TOLERANCE * expected.abs().max(1e-3)
}

fn assert_option_close(case: &str, field: &str, actual: Option<f64>, expected: &Value) {
    match (actual, expected.as_f64()) {
        (Some(actual), Some(expected)) => {
            assert!(
                close(actual, expected),
                "{case} {field}: got {actual}, expected {expected}"
            )
        }
        (actual, _) => assert_eq!(actual, None, "{case} {field}: expected null"),
    }
}

/// Checks one metric's comparison against its expected JSON.
fn check(case: &str, metric: &str, actual: &MetricComparison, expected: &Value) {
    let label = format!("{case} {metric}");
    assert_option_close(&label, "baseline", actual.baseline, &expected["baseline"]);
    assert_option_close(&label, "candidate", actual.candidate, &expected["candidate"]);
    assert_option_close(&label, "difference", actual.difference, &expected["difference"]);
    assert_option_close(&label, "p_value", actual.p_value, &expected["p_value"]);
    let ci = actual
        .ci
        .unwrap_or_else(|| panic!("{label}: no interval ({:?})", actual.reason));
    let expected_ci = floats(&expected["ci"]);
    assert!(
        close(ci[0], expected_ci[0]),
        "{label} ci lower: got {}, expected {}",
        ci[0],
        expected_ci[0]
    );
    assert!(
        close(ci[1], expected_ci[1]),
        "{label} ci upper: got {}, expected {}",
        ci[1],
        expected_ci[1]
    );
    let test = serde_json::to_value(actual.test).unwrap();
    assert_eq!(test, expected["test"], "{label} test");
    let samples: Vec<u64> = expected["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(actual.samples.to_vec(), samples, "{label} samples");
}

fn check_all(case: &Value, results: &BTreeMap<String, MetricComparison>) {
    let name = case["name"].as_str().unwrap();
    let expected = case["expected"].as_object().unwrap();
    assert_eq!(results.len(), expected.len(), "{name}: metric count");
    for (metric, expected) in expected {
        check(name, metric, &results[metric], expected);
    }
}

#[test]
fn paired_binary_matches_reference() {
    let cases = fixture("paired_binary.json");
    assert_eq!(cases.len(), 3);
    for case in &cases {
        let baseline = floats(&case["baseline"]);
        let candidate = floats(&case["candidate"]);
        let actuals = case["actuals"].as_array().unwrap().iter().map(|v| v.as_bool().unwrap());
        let pairs: Vec<BinaryPair> = baseline
            .iter()
            .zip(&candidate)
            .zip(actuals)
            .map(|((baseline, candidate), actual)| BinaryPair {
                baseline: *baseline,
                candidate: *candidate,
                actual,
            })
            .collect();
        let threshold = case["threshold"].as_f64().unwrap();
        check_all(case, &compare_binary(&pairs, threshold));
    }
}

#[test]
fn paired_regression_matches_reference() {
    for case in &fixture("paired_regression.json") {
        let baseline = floats(&case["baseline"]);
        let candidate = floats(&case["candidate"]);
        let actuals = floats(&case["actuals"]);
        let pairs: Vec<RegressionPair> = (0..actuals.len())
            .map(|i| RegressionPair {
                baseline: baseline[i],
                candidate: candidate[i],
                actual: actuals[i],
            })
            .collect();
        check_all(case, &compare_regression(&pairs));
    }
}

/// Reduces a probability row to what the comparison needs: the first class with the largest
/// probability is the predicted one, as `numpy.argmax` picks it.
fn class_outcome(row: &[f64], actual: usize) -> ClassOutcome {
    let predicted = (0..row.len()).fold(0, |best, i| if row[i] > row[best] { i } else { best });
    ClassOutcome {
        correct: predicted == actual,
        probability_of_actual: Some(row[actual]),
    }
}

#[test]
fn paired_multiclass_matches_reference() {
    for case in &fixture("paired_multiclass.json") {
        let classes: Vec<&str> = case["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let rows = |side: &str| -> Vec<Vec<f64>> { case[side].as_array().unwrap().iter().map(floats).collect() };
        let (baseline, candidate) = (rows("baseline"), rows("candidate"));
        let pairs: Vec<ClassPair> = case["actuals"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, actual)| {
                let actual = classes.iter().position(|c| *c == actual.as_str().unwrap()).unwrap();
                ClassPair {
                    baseline: class_outcome(&baseline[i], actual),
                    candidate: class_outcome(&candidate[i], actual),
                }
            })
            .collect();
        check_all(case, &compare_multiclass(&pairs));
    }
}

fn proportion(value: &Value) -> Proportion {
    Proportion {
        successes: value["successes"].as_u64().unwrap(),
        trials: value["trials"].as_u64().unwrap(),
    }
}

#[test]
fn unpaired_proportion_matches_reference() {
    let cases = fixture("unpaired_proportion.json");
    assert_eq!(cases.len(), 4);
    for (index, case) in cases.iter().enumerate() {
        let result = compare_proportion_unpaired(proportion(&case["baseline"]), proportion(&case["candidate"]));
        check(
            &format!("proportion case {index}"),
            "accuracy",
            &result,
            &case["expected"],
        );
    }
}

fn auc_sample(value: &Value) -> AucSample {
    AucSample {
        auc: value["auc"].as_f64().unwrap(),
        positives: value["positives"].as_u64().unwrap(),
        negatives: value["negatives"].as_u64().unwrap(),
    }
}

#[test]
fn unpaired_auc_matches_reference() {
    for case in &fixture("unpaired_auc.json") {
        let result = compare_auc_unpaired(auc_sample(&case["baseline"]), auc_sample(&case["candidate"]));
        check(case["name"].as_str().unwrap(), "roc_auc", &result, &case["expected"]);
    }
}
