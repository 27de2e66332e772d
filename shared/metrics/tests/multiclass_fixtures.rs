//! Multiclass metrics against scikit-learn fixtures, merged in several groupings.

mod task_fixtures;

use mpt_metrics::{
    multiclass::{roc_auc_ovr_macro_exact, ClassPrediction, MulticlassMetrics, MulticlassState},
    MetricsError,
};
use serde_json::Value;
use task_fixtures::{assert_metric, close, load, name, strings, EXACT, MERGED};

/// One fixture record: the actual label and either probabilities or a predicted label.
struct Record {
    actual: String,
    predicted: Option<String>,
    probabilities: Option<Vec<f64>>,
}

fn records(case: &Value) -> Vec<Record> {
    let actual = strings(case, "actual");
    let predicted = &case["predicted"];
    let probabilities = &case["probabilities"];
    (0..actual.len())
        .map(|index| Record {
            actual: actual[index].clone(),
            predicted: predicted.get(index).and_then(Value::as_str).map(str::to_string),
            probabilities: probabilities.get(index).and_then(Value::as_array).map(|row| {
                row.iter()
                    .map(|value| value.as_f64().expect("probability is a number"))
                    .collect()
            }),
        })
        .collect()
}

fn state_of(classes: &[String], records: &[Record]) -> MulticlassState {
    let mut state = MulticlassState::new(classes.to_vec()).expect("fixture classes are valid");
    for record in records {
        let prediction = match (&record.probabilities, &record.predicted) {
            (Some(probabilities), _) => ClassPrediction::Probabilities(probabilities),
            (None, Some(label)) => ClassPrediction::Label(label),
            (None, None) => panic!("fixture record has neither probabilities nor a label"),
        };
        state
            .update(prediction, &record.actual)
            .expect("fixture records are valid");
    }
    state
}

fn assert_matches(metrics: &MulticlassMetrics, expected: &Value, context: &str) {
    assert_eq!(
        metrics.count,
        expected["count"].as_u64().expect("count"),
        "{context}: count"
    );
    let scalars = [
        ("accuracy", metrics.accuracy),
        ("macro_precision", metrics.macro_precision),
        ("macro_recall", metrics.macro_recall),
        ("macro_f1", metrics.macro_f1),
        ("weighted_precision", metrics.weighted_precision),
        ("weighted_recall", metrics.weighted_recall),
        ("weighted_f1", metrics.weighted_f1),
        ("log_loss", metrics.log_loss),
        ("brier", metrics.brier),
    ];
    for (key, metric) in scalars {
        assert_metric(metric, &expected[key], EXACT, &format!("{context}: {key}"));
    }

    let expected_matrix: Vec<Vec<u64>> =
        serde_json::from_value(expected["confusion_matrix"].clone()).expect("confusion matrix is a list of lists");
    assert_eq!(metrics.confusion_matrix, expected_matrix, "{context}: confusion matrix");

    let expected_classes = expected["per_class"].as_array().expect("per_class is a list");
    assert_eq!(
        metrics.per_class.len(),
        expected_classes.len(),
        "{context}: per-class length"
    );
    for (class, expected_class) in metrics.per_class.iter().zip(expected_classes) {
        let context = format!("{context}: class {}", class.class);
        assert_eq!(
            class.class,
            expected_class["class"].as_str().expect("class label"),
            "{context}: label"
        );
        assert_eq!(
            class.support,
            expected_class["support"].as_u64().expect("support"),
            "{context}: support"
        );
        assert_metric(
            class.precision,
            &expected_class["precision"],
            EXACT,
            &format!("{context}: precision"),
        );
        assert_metric(
            class.recall,
            &expected_class["recall"],
            EXACT,
            &format!("{context}: recall"),
        );
        assert_metric(class.f1, &expected_class["f1"], EXACT, &format!("{context}: f1"));
    }
}

#[test]
fn multiclass_matches_sklearn() {
    for case in load("multiclass") {
        let classes = strings(&case, "classes");
        let metrics = state_of(&classes, &records(&case)).compute();
        assert_matches(&metrics, &case["expected"], name(&case));
    }
}

/// Returns the probability rows and actual class indexes of a case whose records all have
/// probabilities, or `None`.
fn probability_records(classes: &[String], records: &[Record]) -> Option<(Vec<Vec<f64>>, Vec<usize>)> {
    let rows: Option<Vec<Vec<f64>>> = records.iter().map(|record| record.probabilities.clone()).collect();
    let actuals = records
        .iter()
        .map(|record| {
            classes
                .iter()
                .position(|class| *class == record.actual)
                .expect("known class")
        })
        .collect();
    Some((rows?, actuals))
}

#[test]
fn multiclass_exact_ovr_auc_matches_sklearn() {
    for case in load("multiclass") {
        let classes = strings(&case, "classes");
        let Some((rows, actuals)) = probability_records(&classes, &records(&case)) else {
            continue;
        };
        let auc = roc_auc_ovr_macro_exact(&rows, &actuals, classes.len()).expect("valid fixture arrays");
        assert_metric(auc, &case["expected"]["roc_auc_ovr_macro"], EXACT, name(&case));
    }
}

#[test]
fn multiclass_binned_ovr_auc_within_bound() {
    for case in load("multiclass") {
        let classes = strings(&case, "classes");
        let state = state_of(&classes, &records(&case));
        let binned = state.compute().roc_auc_ovr_macro;
        let expected = &case["expected"]["roc_auc_ovr_macro"];
        let Some(exact) = expected.as_f64() else {
            assert_eq!(binned.value(), None, "{}: expected null", name(&case));
            continue;
        };
        let bound = state
            .roc_auc_ovr_macro_error_bound()
            .expect("bound exists when the AUC does");
        let binned = binned.value().expect("binned AUC is defined");
        assert!(
            (binned - exact).abs() <= bound + 1e-12,
            "{}: {binned} vs exact {exact}, bound {bound}",
            name(&case)
        );
    }
}

#[test]
fn multiclass_ovr_auc_without_probabilities_is_null() {
    let mut state = three_classes();
    state.update(ClassPrediction::Label("H"), "H").expect("valid record");
    state.update(ClassPrediction::Label("D"), "A").expect("valid record");
    state.update(ClassPrediction::Label("A"), "D").expect("valid record");
    assert!(state.compute().roc_auc_ovr_macro.reason().is_some());
}

#[test]
fn multiclass_exact_ovr_auc_rejects_ragged_rows() {
    let rows = vec![vec![0.5, 0.5], vec![1.0]];
    assert!(roc_auc_ovr_macro_exact(&rows, &[0, 1], 2).is_err());
}

#[test]
fn multiclass_merged_matches_sklearn() {
    for case in load("multiclass") {
        let classes = strings(&case, "classes");
        let records = records(&case);
        let mut merged = MulticlassState::new(classes.clone()).expect("fixture classes are valid");
        for chunk in records.chunks(11).rev() {
            merged.merge(&state_of(&classes, chunk)).expect("same classes merge");
        }
        assert_matches(&merged.compute(), &case["expected"], &format!("{} merged", name(&case)));
    }
}

#[test]
fn multiclass_merge_agrees_with_single_pass() {
    for case in load("multiclass") {
        let classes = strings(&case, "classes");
        let records = records(&case);
        let single = state_of(&classes, &records).compute();
        let half = records.len() / 2;
        let mut merged = state_of(&classes, &records[half..]);
        merged
            .merge(&state_of(&classes, &records[..half]))
            .expect("same classes merge");
        let merged = merged.compute();
        assert_eq!(
            merged.roc_auc_ovr_macro,
            single.roc_auc_ovr_macro,
            "{}: binned AUC",
            name(&case)
        );
        for (one_pass, chunked) in [(single.log_loss, merged.log_loss), (single.brier, merged.brier)] {
            if let (Some(one_pass), Some(chunked)) = (one_pass.value(), chunked.value()) {
                assert!(
                    close(chunked, one_pass, MERGED),
                    "{}: {chunked} vs {one_pass}",
                    name(&case)
                );
            }
        }
    }
}

#[test]
fn multiclass_serde_round_trip() {
    let case = &load("multiclass")[0];
    let state = state_of(&strings(case, "classes"), &records(case));
    let text = serde_json::to_string(&state).expect("state serialises");
    let restored: MulticlassState = serde_json::from_str(&text).expect("state deserialises");
    assert_eq!(restored, state);
}

fn three_classes() -> MulticlassState {
    MulticlassState::new(vec!["H".into(), "D".into(), "A".into()]).expect("valid classes")
}

#[test]
fn multiclass_unknown_actual_names_known_classes() {
    let error = three_classes()
        .update(ClassPrediction::Label("H"), "X")
        .expect_err("X is unknown");
    assert_eq!(
        error.to_string(),
        r#"unknown class "X"; expected one of ["H", "D", "A"]"#
    );
}

#[test]
fn multiclass_probability_sum_error_names_sum() {
    let error = three_classes()
        .update(ClassPrediction::Probabilities(&[0.5, 0.3, 0.3]), "H")
        .expect_err("sum 1.1");
    assert!(matches!(error, MetricsError::ProbabilitySum { sum, .. } if close(sum, 1.1, 1e-12)));
}

#[test]
fn multiclass_accepts_sum_within_tolerance() {
    let mut state = three_classes();
    assert!(state
        .update(ClassPrediction::Probabilities(&[0.5, 0.3, 0.2009]), "H")
        .is_ok());
}

#[test]
fn multiclass_rejects_negative_probability() {
    let error = three_classes()
        .update(ClassPrediction::Probabilities(&[1.1, -0.1, 0.0]), "H")
        .expect_err("negative");
    assert!(matches!(error, MetricsError::NotProbability { .. }));
}

#[test]
fn multiclass_rejects_nan_probability() {
    let error = three_classes()
        .update(ClassPrediction::Probabilities(&[f64::NAN, 0.5, 0.5]), "H")
        .expect_err("NaN");
    assert!(matches!(error, MetricsError::NotFinite { .. }));
}

#[test]
fn multiclass_rejects_wrong_probability_count() {
    let error = three_classes()
        .update(ClassPrediction::Probabilities(&[0.5, 0.5]), "H")
        .expect_err("two of three");
    assert!(matches!(
        error,
        MetricsError::LengthMismatch {
            expected: 3,
            got: 2,
            ..
        }
    ));
}

#[test]
fn multiclass_rejected_record_leaves_state_unchanged() {
    let mut state = three_classes();
    let _ = state.update(ClassPrediction::Probabilities(&[0.5, 0.3, 0.3]), "H");
    assert_eq!(state, three_classes());
}

#[test]
fn multiclass_tie_predicts_first_class() {
    let mut state = three_classes();
    state
        .update(ClassPrediction::Probabilities(&[0.25, 0.375, 0.375]), "A")
        .expect("valid record");
    assert_eq!(state.predicted_counts(), vec![0, 1, 0]);
}

#[test]
fn multiclass_merge_rejects_other_classes() {
    let mut state = three_classes();
    let other = MulticlassState::new(vec!["H".into(), "A".into(), "D".into()]).expect("valid classes");
    assert!(matches!(
        state.merge(&other),
        Err(MetricsError::Incompatible { what: "classes", .. })
    ));
}

#[test]
fn multiclass_rejects_duplicate_classes() {
    assert!(MulticlassState::new(vec!["H".into(), "H".into()]).is_err());
}

#[test]
fn multiclass_rejects_single_class() {
    assert!(MulticlassState::new(vec!["H".into()]).is_err());
}

#[test]
fn multiclass_empty_is_null() {
    assert_eq!(three_classes().compute().accuracy.value(), None);
}

#[test]
fn multiclass_rejects_corrupt_stored_matrix() {
    let mut state = MulticlassState::new(vec!["H".into(), "D".into()]).expect("valid classes");
    state
        .update(ClassPrediction::Probabilities(&[0.7, 0.3]), "H")
        .expect("valid record");
    let mut stored = serde_json::to_value(&state).expect("state serialises");
    stored["confusion"] = serde_json::json!([[1, 0]]);
    assert!(serde_json::from_value::<MulticlassState>(stored).is_err());
}

#[test]
fn multiclass_rejects_corrupt_stored_histograms() {
    let mut state = MulticlassState::new(vec!["H".into(), "D".into()]).expect("valid classes");
    state
        .update(ClassPrediction::Probabilities(&[0.7, 0.3]), "H")
        .expect("valid record");
    let mut stored = serde_json::to_value(&state).expect("state serialises");
    stored["probability_count"] = serde_json::json!(0);
    assert!(serde_json::from_value::<MulticlassState>(stored).is_err());
}

#[test]
fn multiclass_stored_state_reads_back() {
    let mut state = MulticlassState::new(vec!["H".into(), "D".into()]).expect("valid classes");
    state
        .update(ClassPrediction::Probabilities(&[0.7, 0.3]), "H")
        .expect("valid record");
    let stored = serde_json::to_value(&state).expect("state serialises");
    assert_eq!(
        serde_json::from_value::<MulticlassState>(stored).expect("valid stored state"),
        state
    );
}
