//! Drift statistics against SciPy and the fixture script's formulas.

mod task_fixtures;

use mpt_metrics::drift::{compare_bins, compare_classes, DriftMetrics};
use task_fixtures::{assert_metric, counts, load, name, EXACT};

fn drift_of(case: &serde_json::Value) -> DriftMetrics {
    let (reference, current) = (counts(case, "reference"), counts(case, "current"));
    if case["ordered"].as_bool().expect("ordered flag") {
        compare_bins(&reference, &current).expect("fixture bins have equal lengths")
    } else {
        compare_classes(&reference, &current).expect("fixture classes have equal lengths")
    }
}

#[test]
fn drift_matches_scipy() {
    for case in load("drift") {
        let metrics = drift_of(&case);
        let expected = &case["expected"];
        assert_metric(metrics.psi, &expected["psi"], EXACT, &format!("{}: psi", name(&case)));
        assert_metric(metrics.ks, &expected["ks"], EXACT, &format!("{}: ks", name(&case)));
        assert_metric(
            metrics.js_distance,
            &expected["js_distance"],
            EXACT,
            &format!("{}: js", name(&case)),
        );
    }
}

#[test]
fn drift_binned_ks_at_most_raw_ks() {
    for case in load("drift").iter().filter(|case| !case["raw_ks"].is_null()) {
        let binned = drift_of(case).ks.value().expect("samples are not empty");
        let raw = case["raw_ks"].as_f64().expect("raw_ks is a number");
        assert!(binned <= raw + 1e-12, "{}: binned {binned} above raw {raw}", name(case));
    }
}

#[test]
fn drift_binned_ks_within_bin_share_of_raw() {
    for case in load("drift").iter().filter(|case| !case["raw_ks"].is_null()) {
        let binned = drift_of(case).ks.value().expect("samples are not empty");
        let raw = case["raw_ks"].as_f64().expect("raw_ks is a number");
        let max_bin_share = case["max_bin_share"].as_f64().expect("max_bin_share is a number");
        assert!(
            raw - binned <= max_bin_share,
            "{}: raw {raw} vs binned {binned}",
            name(case)
        );
    }
}

#[test]
fn drift_rejects_unequal_bins() {
    assert!(compare_bins(&[1, 2, 3], &[1, 2]).is_err());
}

#[test]
fn drift_empty_reference_reason() {
    let metrics = compare_bins(&[0, 0], &[1, 2]).expect("equal lengths");
    assert_eq!(metrics.psi.reason(), Some("the reference window has no records"));
}

#[test]
fn drift_js_distance_disjoint_is_one() {
    let metrics = compare_bins(&[3, 0], &[0, 5]).expect("equal lengths");
    assert_eq!(metrics.js_distance.value(), Some(1.0));
}
