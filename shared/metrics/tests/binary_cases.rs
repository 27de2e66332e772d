//! Invalid input and undefined metrics of the binary state.

use mpt_metrics::{
    binary::{roc_auc_exact, BinaryMetrics, BinaryState},
    Metric, MetricsError,
};

fn state_with(records: &[(f64, bool)]) -> BinaryState {
    let mut state = BinaryState::default();
    for (score, actual) in records {
        state.update(*score, *actual).unwrap();
    }
    state
}

#[test]
fn update_rejects_nan_naming_value() {
    let error = BinaryState::default().update(f64::NAN, true).unwrap_err();
    assert_eq!(error.to_string(), "score must be a finite number, got NaN");
}

#[test]
fn update_rejects_negative_infinity() {
    let error = BinaryState::default().update(f64::NEG_INFINITY, false).unwrap_err();
    assert_eq!(error.to_string(), "score must be a finite number, got -inf");
}

#[test]
fn update_rejects_score_above_one() {
    let error = BinaryState::default().update(1.7, true).unwrap_err();
    assert_eq!(error.to_string(), "score must be a probability in [0, 1], got 1.7");
}

#[test]
fn update_rejects_negative_score() {
    let error = BinaryState::default().update(-0.25, true).unwrap_err();
    assert_eq!(
        error,
        MetricsError::NotProbability {
            field: "score",
            value: -0.25
        }
    );
}

#[test]
fn update_error_leaves_state_unchanged() {
    let mut state = state_with(&[(0.4, true)]);
    let before = state.clone();
    assert!(state.update(2.0, false).is_err());
    assert_eq!(state, before);
}

#[test]
fn new_rejects_threshold_above_one() {
    let error = BinaryState::new(1.5).unwrap_err();
    assert_eq!(error.to_string(), "threshold must be a probability in [0, 1], got 1.5");
}

#[test]
fn merge_rejects_different_thresholds() {
    let mut state = BinaryState::new(0.5).unwrap();
    let error = state.merge(&BinaryState::new(0.7).unwrap()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot merge states with different threshold: 0.5 and 0.7"
    );
}

#[test]
fn merge_accepts_negative_zero_threshold() {
    let mut state = BinaryState::new(0.0).unwrap();
    assert!(state.merge(&BinaryState::new(-0.0).unwrap()).is_ok());
}

#[test]
fn exact_rejects_length_mismatch() {
    let error = BinaryMetrics::exact(&[0.1, 0.2], &[true], 0.5).unwrap_err();
    assert!(
        error.to_string().contains("scores has 2 entries but actuals has 1"),
        "{error}"
    );
}

#[test]
fn exact_rejects_score_outside_unit_interval() {
    let error = BinaryMetrics::exact(&[0.1, 1.2], &[true, false], 0.5).unwrap_err();
    assert_eq!(error.to_string(), "score must be a probability in [0, 1], got 1.2");
}

#[test]
fn roc_auc_exact_rejects_infinite_score() {
    let error = roc_auc_exact(&[0.1, f64::INFINITY], &[true, false]).unwrap_err();
    assert_eq!(error.to_string(), "score must be a finite number, got inf");
}

#[test]
fn roc_auc_exact_accepts_unbounded_scores() {
    let roc_auc = roc_auc_exact(&[-3.0, 2.5, 7.0, -0.5], &[false, true, true, false]).unwrap();
    assert_eq!(roc_auc, Metric::Value(1.0));
}

#[test]
fn roc_auc_exact_counts_negative_zero_as_tie() {
    let roc_auc = roc_auc_exact(&[-0.0, 0.0], &[true, false]).unwrap();
    assert_eq!(roc_auc, Metric::Value(0.5));
}

#[test]
fn empty_state_every_metric_null() {
    let metrics = BinaryState::default().compute();
    assert_eq!(metrics.count, 0);
    for (name, metric) in metrics.named() {
        assert_eq!(metric, Metric::Undefined("no labelled records"), "{name}");
    }
}

#[test]
fn empty_state_reasons_cover_every_metric() {
    let metrics = BinaryState::default().compute();
    assert_eq!(metrics.reasons().len(), metrics.named().len());
}

#[test]
fn auc_single_class_is_null() {
    let metrics = state_with(&[(0.2, true), (0.9, true)]).compute();
    assert_eq!(
        metrics.roc_auc,
        Metric::Undefined("only one class present in the actuals")
    );
    assert_eq!(
        metrics.pr_auc,
        Metric::Undefined("only one class present in the actuals")
    );
}

#[test]
fn precision_without_predicted_positives_is_null() {
    let metrics = state_with(&[(0.2, true), (0.3, false)]).compute();
    assert_eq!(metrics.precision, Metric::Undefined("no predicted positives"));
}

#[test]
fn recall_without_positives_is_null() {
    let metrics = state_with(&[(0.7, false), (0.3, false)]).compute();
    assert_eq!(metrics.recall, Metric::Undefined("no positive actuals"));
}

#[test]
fn mcc_with_empty_marginal_is_null() {
    let metrics = state_with(&[(0.7, true), (0.8, false)]).compute();
    assert_eq!(
        metrics.mcc,
        Metric::Undefined("all actuals or all predictions are in one class")
    );
}

#[test]
fn f1_is_zero_when_only_precision_undefined() {
    let metrics = state_with(&[(0.2, true), (0.3, false)]).compute();
    assert_eq!(metrics.f1, Metric::Value(0.0));
}

#[test]
fn log_loss_clips_confident_wrong_prediction() {
    let metrics = state_with(&[(0.0, true)]).compute();
    assert_eq!(metrics.log_loss, Metric::Value(-f64::EPSILON.ln()));
}

#[test]
fn reasons_list_only_undefined_metrics() {
    let metrics = state_with(&[(0.2, true), (0.3, false)]).compute();
    let reasons = metrics.reasons();
    assert_eq!(reasons.get("precision"), Some(&"no predicted positives"));
    assert!(!reasons.contains_key("accuracy"), "{reasons:?}");
}

#[test]
fn metrics_serialise_evaluate_keys() {
    let metrics = state_with(&[(0.2, true), (0.3, false)]).compute();
    let json = serde_json::to_value(&metrics).unwrap();
    for key in [
        "count",
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
        "confusion_matrix",
    ] {
        assert!(json.get(key).is_some(), "missing key {key} in {json}");
    }
    assert_eq!(json["precision"], serde_json::Value::Null);
    assert_eq!(
        json["confusion_matrix"],
        serde_json::json!({"tp": 0, "fp": 0, "tn": 1, "fn": 1})
    );
}

#[test]
fn deserialise_rejects_inconsistent_state() {
    let state = state_with(&[(0.2, true), (0.7, false)]);
    let mut json = serde_json::to_value(&state).unwrap();
    json["confusion"]["tp"] = serde_json::json!(5);
    let error = serde_json::from_value::<BinaryState>(json).unwrap_err();
    assert!(error.to_string().contains("inconsistent"), "{error}");
}

#[test]
fn deserialise_rejects_threshold_above_one() {
    let mut json = serde_json::to_value(BinaryState::default()).unwrap();
    json["threshold"] = serde_json::json!(2.0);
    let error = serde_json::from_value::<BinaryState>(json).unwrap_err();
    assert!(error.to_string().contains("got 2"), "{error}");
}
