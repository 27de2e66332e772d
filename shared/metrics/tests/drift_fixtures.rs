//! Drift statistics against SciPy and the fixture script's formulas.

mod task_fixtures;

use mpt_metrics::{
    drift::{compare_bins, compare_classes, compare_histograms, DriftMetrics},
    histogram::ScoreHistogram,
};
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

#[test]
fn drift_histograms_match_bin_counts() {
    let mut reference = ScoreHistogram::new();
    let mut current = ScoreHistogram::new();
    for step in 0..200 {
        let score = f64::from(step) / 200.0;
        reference.add(score, None).expect("valid score");
        current.add(score * score, Some(step % 2 == 0)).expect("valid score");
    }
    let from_histograms = compare_histograms(&reference, &current).expect("same layout");
    let from_counts = compare_bins(&reference.totals(), &current.totals()).expect("same layout");
    assert_eq!(from_histograms, from_counts);
}

#[test]
fn drift_empty_histogram_is_null() {
    let mut current = ScoreHistogram::new();
    current.add(0.5, None).expect("valid score");
    let metrics = compare_histograms(&ScoreHistogram::new(), &current).expect("same layout");
    assert_eq!(metrics.ks.reason(), Some("the reference window has no records"));
}
