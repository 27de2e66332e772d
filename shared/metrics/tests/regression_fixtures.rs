//! Regression metrics against scikit-learn fixtures, merged in several groupings.

mod task_fixtures;

use mpt_metrics::regression::{RegressionMetrics, RegressionState};
use serde_json::Value;
use task_fixtures::{assert_metric, close, floats, lcg_values, load, name, EXACT, MERGED};

/// Returns the actuals and predictions of a case, regenerating the large ones.
fn records(case: &Value) -> (Vec<f64>, Vec<f64>) {
    let generator = &case["generator"];
    if generator.is_null() {
        return (floats(case, "actual"), floats(case, "prediction"));
    }
    let count = generator["count"].as_u64().expect("generator count") as usize;
    let offset = generator["offset"].as_f64().expect("generator offset");
    let noise_scale = generator["noise_scale"].as_f64().expect("generator noise_scale");
    let base = lcg_values(generator["actual_seed"].as_u64().expect("actual seed"), count);
    let noise = lcg_values(generator["noise_seed"].as_u64().expect("noise seed"), count);
    let actual: Vec<f64> = base.iter().map(|value| offset + value).collect();
    let prediction = actual
        .iter()
        .zip(&noise)
        .map(|(value, step)| value + step * noise_scale)
        .collect();
    (actual, prediction)
}

fn state_of(actual: &[f64], prediction: &[f64]) -> RegressionState {
    let mut state = RegressionState::new();
    for (actual, prediction) in actual.iter().zip(prediction) {
        state.update(*prediction, *actual).expect("fixture records are finite");
    }
    state
}

fn assert_matches(metrics: &RegressionMetrics, expected: &Value, tolerance: f64, context: &str) {
    assert_eq!(
        metrics.count,
        expected["count"].as_u64().expect("count"),
        "{context}: count"
    );
    assert_eq!(
        metrics.mape_skipped,
        expected["mape_skipped"].as_u64().expect("mape_skipped"),
        "{context}: mape_skipped"
    );
    assert_metric(metrics.mae, &expected["mae"], tolerance, &format!("{context}: mae"));
    assert_metric(metrics.mse, &expected["mse"], tolerance, &format!("{context}: mse"));
    assert_metric(metrics.rmse, &expected["rmse"], tolerance, &format!("{context}: rmse"));
    assert_metric(metrics.r2, &expected["r2"], tolerance, &format!("{context}: r2"));
    assert_metric(metrics.mape, &expected["mape"], tolerance, &format!("{context}: mape"));
    assert_metric(
        metrics.mean_error,
        &expected["mean_error"],
        tolerance,
        &format!("{context}: mean_error"),
    );
    assert_metric(
        metrics.max_error,
        &expected["max_error"],
        tolerance,
        &format!("{context}: max_error"),
    );
}

#[test]
fn regression_matches_sklearn() {
    for case in load("regression") {
        let (actual, prediction) = records(&case);
        let metrics = state_of(&actual, &prediction).compute();
        assert_matches(&metrics, &case["expected"], EXACT, name(&case));
    }
}

#[test]
fn regression_merged_matches_sklearn() {
    for case in load("regression") {
        let (actual, prediction) = records(&case);
        let third = actual.len() / 3;
        let mut first = state_of(&actual[..third], &prediction[..third]);
        let second = state_of(&actual[third..2 * third], &prediction[third..2 * third]);
        let last = state_of(&actual[2 * third..], &prediction[2 * third..]);

        let mut right = second.clone();
        right.merge(&last).expect("regression states always merge");
        first.merge(&right).expect("regression states always merge");
        assert_matches(
            &first.compute(),
            &case["expected"],
            EXACT,
            &format!("{} merged", name(&case)),
        );
    }
}

#[test]
fn regression_merge_agrees_with_single_pass() {
    for case in load("regression") {
        let (actual, prediction) = records(&case);
        let single = state_of(&actual, &prediction).compute();
        let mut merged = RegressionState::new();
        for (actual, prediction) in actual.chunks(7).zip(prediction.chunks(7)).rev() {
            merged
                .merge(&state_of(actual, prediction))
                .expect("regression states always merge");
        }
        let merged = merged.compute();
        let pairs = [
            (single.mae, merged.mae),
            (single.mse, merged.mse),
            (single.r2, merged.r2),
            (single.mape, merged.mape),
            (single.mean_error, merged.mean_error),
        ];
        for (one_pass, chunked) in pairs {
            match (one_pass.value(), chunked.value()) {
                (Some(one_pass), Some(chunked)) => {
                    assert!(
                        close(chunked, one_pass, MERGED),
                        "{}: {chunked} vs {one_pass}",
                        name(&case)
                    )
                }
                (one_pass, chunked) => assert_eq!(one_pass, chunked, "{}", name(&case)),
            }
        }
    }
}

#[test]
fn regression_rejects_nan_prediction() {
    let mut state = RegressionState::new();
    assert!(state.update(f64::NAN, 1.0).is_err());
}

#[test]
fn regression_rejects_infinite_actual() {
    let mut state = RegressionState::new();
    assert!(state.update(1.0, f64::INFINITY).is_err());
}

#[test]
fn regression_empty_is_null() {
    let metrics = RegressionState::new().compute();
    assert_eq!(metrics.mae.value(), None);
}

#[test]
fn regression_serde_round_trip() {
    let (actual, prediction) = records(&load("regression")[0]);
    let state = state_of(&actual, &prediction);
    let text = serde_json::to_string(&state).expect("state serialises");
    let restored: RegressionState = serde_json::from_str(&text).expect("state deserialises");
    assert_eq!(restored, state);
}
