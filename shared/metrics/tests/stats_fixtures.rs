//! Statistical tests and distribution functions against scipy and direct formulas.

mod binary_support;

use binary_support::{assert_close, assert_metric, fixture};
use mpt_metrics::stats::{
    chi_square_1_sf, delong_test, hanley_mcneil_se, mcnemar_test, normal_cdf, normal_quantile, two_proportion_z_test,
    wilson_interval, McNemarMethod,
};
use serde_json::Value;

fn rows<'a>(stats: &'a Value, key: &str) -> &'a Vec<Value> {
    stats[key]
        .as_array()
        .unwrap_or_else(|| panic!("stats fixture has no {key} array"))
}

fn f64_at(row: &Value, key: &str) -> f64 {
    row[key].as_f64().unwrap_or_else(|| panic!("{row} has no number {key}"))
}

fn u64_at(row: &Value, key: &str) -> u64 {
    row[key].as_u64().unwrap_or_else(|| panic!("{row} has no count {key}"))
}

fn floats(row: &Value, key: &str) -> Vec<f64> {
    row[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// Asserts a relative error of at most `relative`.
fn assert_relative(context: &str, actual: f64, expected: f64, relative: f64) {
    let allowed = relative * expected.abs();
    assert!(
        (actual - expected).abs() <= allowed,
        "{context}: got {actual:e}, expected {expected:e} (relative error {:e})",
        ((actual - expected) / expected).abs()
    );
}

#[test]
fn normal_cdf_matches_scipy() {
    let stats = fixture("stats.json");
    for row in rows(&stats, "normal_cdf") {
        let x = f64_at(row, "x");
        assert_relative(
            &format!("normal_cdf({x})"),
            normal_cdf(x),
            f64_at(row, "expected"),
            1e-12,
        );
    }
}

#[test]
fn normal_quantile_matches_scipy() {
    let stats = fixture("stats.json");
    for row in rows(&stats, "normal_quantile") {
        let p = f64_at(row, "p");
        let quantile = normal_quantile(p).unwrap();
        assert_relative(
            &format!("normal_quantile({p})"),
            quantile,
            f64_at(row, "expected"),
            1e-12,
        );
    }
}

#[test]
fn chi_square_1_sf_matches_scipy() {
    let stats = fixture("stats.json");
    for row in rows(&stats, "chi_square_1_sf") {
        let statistic = f64_at(row, "statistic");
        let context = format!("chi_square_1_sf({statistic})");
        assert_relative(&context, chi_square_1_sf(statistic), f64_at(row, "expected"), 1e-12);
    }
}

#[test]
fn wilson_interval_matches_scipy() {
    let stats = fixture("stats.json");
    for row in rows(&stats, "wilson") {
        let (successes, trials) = (u64_at(row, "successes"), u64_at(row, "trials"));
        let interval = wilson_interval(successes, trials, f64_at(row, "confidence")).unwrap();
        let context = format!("wilson {successes}/{trials}");
        assert_close(&format!("{context} lower"), interval.lower, f64_at(row, "lower"), 1e-12);
        assert_close(&format!("{context} upper"), interval.upper, f64_at(row, "upper"), 1e-12);
    }
}

#[test]
fn two_proportion_z_test_matches_formula() {
    let stats = fixture("stats.json");
    for row in rows(&stats, "two_proportion") {
        let counts = ["successes_1", "trials_1", "successes_2", "trials_2"].map(|key| u64_at(row, key));
        let test = two_proportion_z_test(counts[0], counts[1], counts[2], counts[3]).unwrap();
        let context = format!("two-proportion {counts:?}");
        assert_close(&format!("{context} rate_1"), test.rate_1, f64_at(row, "rate_1"), 1e-12);
        assert_close(&format!("{context} rate_2"), test.rate_2, f64_at(row, "rate_2"), 1e-12);
        assert_close(
            &format!("{context} difference"),
            test.difference,
            f64_at(row, "difference"),
            1e-12,
        );
        assert_metric(&format!("{context} z"), test.z, &row["z"], 1e-12);
        assert_metric(&format!("{context} p_value"), test.p_value, &row["p_value"], 1e-12);
    }
}

#[test]
fn mcnemar_test_matches_scipy() {
    let stats = fixture("stats.json");
    for row in rows(&stats, "mcnemar") {
        let (b, c) = (u64_at(row, "baseline_only"), u64_at(row, "candidate_only"));
        let test = mcnemar_test(b, c);
        let context = format!("mcnemar b={b} c={c}");
        let method = serde_json::to_value(test.method).unwrap();
        assert_eq!(method, row["method"], "{context} method");
        assert_close(
            &format!("{context} statistic"),
            test.statistic,
            f64_at(row, "statistic"),
            1e-12,
        );
        assert_relative(
            &format!("{context} p_value"),
            test.p_value,
            f64_at(row, "p_value"),
            1e-12,
        );
    }
}

#[test]
fn mcnemar_switches_to_chi_square_at_25() {
    assert_eq!(mcnemar_test(12, 12).method, McNemarMethod::ExactBinomial);
    assert_eq!(mcnemar_test(13, 12).method, McNemarMethod::ChiSquareCorrected);
}

#[test]
fn delong_test_matches_pairwise_reference() {
    let stats = fixture("stats.json");
    for row in rows(&stats, "delong") {
        let actuals: Vec<bool> = row["actuals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool().unwrap())
            .collect();
        let (baseline, candidate) = (floats(row, "baseline"), floats(row, "candidate"));
        let test = delong_test(&baseline, &candidate, &actuals, f64_at(row, "confidence")).unwrap();
        let expected = &row["expected"];
        let context = row["name"].as_str().unwrap();
        for (key, actual) in [
            ("auc_baseline", test.auc_baseline),
            ("auc_candidate", test.auc_candidate),
            ("difference", test.difference),
            ("standard_error", test.standard_error),
        ] {
            assert_close(&format!("{context} {key}"), actual, f64_at(expected, key), 1e-12);
        }
        for (key, actual) in [
            ("z", test.z),
            ("p_value", test.p_value),
            ("p_value_lower", test.p_value_lower),
            ("p_value_higher", test.p_value_higher),
        ] {
            assert_metric(&format!("{context} {key}"), actual, &expected[key], 1e-9);
        }
        let ci = floats(expected, "ci");
        assert_close(&format!("{context} ci lower"), test.ci.lower, ci[0], 1e-12);
        assert_close(&format!("{context} ci upper"), test.ci.upper, ci[1], 1e-12);
    }
}

#[test]
fn hanley_mcneil_se_matches_formula() {
    let stats = fixture("stats.json");
    for row in rows(&stats, "hanley_mcneil") {
        let (auc, positives, negatives) = (f64_at(row, "auc"), u64_at(row, "positives"), u64_at(row, "negatives"));
        let standard_error = hanley_mcneil_se(auc, positives, negatives).unwrap();
        let context = format!("hanley_mcneil auc={auc} P={positives} N={negatives}");
        assert_close(&context, standard_error, f64_at(row, "standard_error"), 1e-12);
    }
}

#[test]
fn delong_test_rejects_single_positive() {
    let error = delong_test(&[0.1, 0.2, 0.3], &[0.3, 0.2, 0.1], &[true, false, false], 0.95).unwrap_err();
    assert!(error.to_string().contains("at least 2 positives"), "{error}");
}

#[test]
fn delong_test_rejects_nan_score() {
    let scores = [0.1, f64::NAN, 0.3, 0.4];
    let error = delong_test(&scores, &[0.1, 0.2, 0.3, 0.4], &[true, true, false, false], 0.95).unwrap_err();
    assert!(error.to_string().contains("NaN"), "{error}");
}

#[test]
fn wilson_interval_rejects_zero_trials() {
    let error = wilson_interval(0, 0, 0.95).unwrap_err();
    assert!(error.to_string().contains("0 trials"), "{error}");
}

#[test]
fn wilson_interval_rejects_confidence_of_one() {
    let error = wilson_interval(3, 10, 1.0).unwrap_err();
    assert!(error.to_string().contains("got 1"), "{error}");
}

#[test]
fn two_proportion_rejects_successes_above_trials() {
    let error = two_proportion_z_test(11, 10, 5, 10).unwrap_err();
    assert!(error.to_string().contains("successes_1 is 11"), "{error}");
}

#[test]
fn hanley_mcneil_rejects_auc_above_one() {
    let error = hanley_mcneil_se(1.5, 10, 10).unwrap_err();
    assert!(error.to_string().contains("1.5"), "{error}");
}
