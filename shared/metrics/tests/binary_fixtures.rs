//! Binary metrics against scikit-learn fixtures, and the binned AUCs against their bound.

mod binary_support;

use binary_support::{
    assert_close, assert_counts_and_reliability, assert_metric, assert_metrics, cases, inputs, name, EXACT, METRIC_KEYS,
};
use mpt_metrics::binary::{average_precision_exact, roc_auc_exact, BinaryMetrics, BinaryState};

fn threshold(case: &serde_json::Value) -> f64 {
    case["threshold"].as_f64().expect("threshold")
}

#[test]
fn exact_metrics_match_sklearn() {
    for case in cases("cases.json") {
        let (scores, actuals) = inputs(&case);
        let metrics = BinaryMetrics::exact(&scores, &actuals, threshold(&case)).unwrap();
        assert_metrics(name(&case), &metrics, &case["expected"], &METRIC_KEYS, EXACT);
        assert_counts_and_reliability(name(&case), &metrics, &case["expected"]);
    }
}

#[test]
fn exact_auc_functions_match_sklearn() {
    for case in cases("cases.json") {
        let (scores, actuals) = inputs(&case);
        let roc_auc = roc_auc_exact(&scores, &actuals).unwrap();
        let pr_auc = average_precision_exact(&scores, &actuals).unwrap();
        assert_metric(
            &format!("{} roc_auc", name(&case)),
            roc_auc,
            &case["expected"]["roc_auc"],
            EXACT,
        );
        assert_metric(
            &format!("{} pr_auc", name(&case)),
            pr_auc,
            &case["expected"]["pr_auc"],
            EXACT,
        );
    }
}

#[test]
fn state_metrics_match_sklearn_except_binned_aucs() {
    let unbinned: Vec<&str> = METRIC_KEYS.into_iter().filter(|key| !key.ends_with("_auc")).collect();
    for case in cases("cases.json") {
        let (scores, actuals) = inputs(&case);
        let mut state = BinaryState::new(threshold(&case)).unwrap();
        for (score, actual) in scores.iter().zip(&actuals) {
            state.update(*score, *actual).unwrap();
        }
        let metrics = state.compute();
        assert_metrics(name(&case), &metrics, &case["expected"], &unbinned, EXACT);
        assert_counts_and_reliability(name(&case), &metrics, &case["expected"]);
    }
}

#[test]
fn state_binned_aucs_within_bound() {
    for case in cases("cases.json") {
        let (scores, actuals) = inputs(&case);
        let mut state = BinaryState::new(threshold(&case)).unwrap();
        for (score, actual) in scores.iter().zip(&actuals) {
            state.update(*score, *actual).unwrap();
        }
        let metrics = state.compute();
        let expected = &case["expected"];
        let Some(bound) = state.histogram().roc_auc_error_bound() else {
            assert!(
                metrics.roc_auc.value().is_none(),
                "{} roc_auc without a bound",
                name(&case)
            );
            assert!(expected["roc_auc"].is_null(), "{} roc_auc expected null", name(&case));
            continue;
        };
        let context = format!("{} binned roc_auc", name(&case));
        assert_close(
            &context,
            metrics.roc_auc.value().unwrap(),
            expected["roc_auc"].as_f64().unwrap(),
            bound + 1e-12,
        );
        let bound = state.histogram().pr_auc_error_bound().unwrap();
        let context = format!("{} binned pr_auc", name(&case));
        assert_close(
            &context,
            metrics.pr_auc.value().unwrap(),
            expected["pr_auc"].as_f64().unwrap(),
            bound + 1e-12,
        );
    }
}

#[test]
fn fixtures_cover_required_cases() {
    let names: Vec<String> = cases("cases.json").iter().map(|case| name(case).to_string()).collect();
    for required in [
        "empty",
        "n1_positive",
        "all_positive",
        "all_negative",
        "perfect",
        "inverted",
    ] {
        assert!(
            names.iter().any(|name| name == required),
            "missing fixture case {required}"
        );
    }
    assert!(
        names.iter().any(|name| name.contains("n100000")),
        "missing a case with 100,000 records"
    );
}
