//! Paired comparisons on the ids both versions predicted, from the raw per-id outcomes.
//!
//! Pairing removes the variation between ids (some games are simply harder to call), so a
//! paired test detects a smaller difference than an unpaired one on the same data.

use std::collections::BTreeMap;

use mpt_metrics::{
    binary::roc_auc_exact,
    stats::{delong_test, mcnemar_test, normal_quantile},
};

use super::{difference, finite, interval, student_t, MetricComparison, TestName, CONFIDENCE};

const NO_PAIRS: &str = "no labelled id was predicted by both versions";
const LABELS_ONLY: &str = "some predictions carry only a predicted label, not per-class probabilities";

/// One id that both binary versions scored, with its outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinaryPair {
    /// The baseline's probability of the positive class.
    pub baseline: f64,
    /// The candidate's probability of the positive class.
    pub candidate: f64,
    /// The actual class.
    pub actual: bool,
}

/// One version's multiclass prediction of an id, reduced to what the comparison needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassOutcome {
    /// True when the predicted class is the actual one.
    pub correct: bool,
    /// The probability the version gave the actual class, when it sent per-class probabilities.
    pub probability_of_actual: Option<f64>,
}

/// One id that both multiclass versions predicted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassPair {
    /// The baseline's prediction.
    pub baseline: ClassOutcome,
    /// The candidate's prediction.
    pub candidate: ClassOutcome,
}

/// One id that both regression versions predicted, with its outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegressionPair {
    /// The baseline's prediction.
    pub baseline: f64,
    /// The candidate's prediction.
    pub candidate: f64,
    /// The actual value.
    pub actual: f64,
}

/// Compares two binary versions on shared ids: accuracy (McNemar), ROC-AUC (DeLong), and Brier
/// score and log loss (paired t-tests). A score predicts positive when `score >= threshold`.
pub fn compare_binary(pairs: &[BinaryPair], threshold: f64) -> BTreeMap<String, MetricComparison> {
    let correct = |score: f64, actual: bool| (score >= threshold) == actual;
    let baseline_correct: Vec<bool> = pairs.iter().map(|p| correct(p.baseline, p.actual)).collect();
    let candidate_correct: Vec<bool> = pairs.iter().map(|p| correct(p.candidate, p.actual)).collect();

    let brier = |score: f64, actual: bool| {
        let error = score - if actual { 1.0 } else { 0.0 };
        error * error
    };
    let log_loss = |score: f64, actual: bool| log_loss_term(if actual { score } else { 1.0 - score });

    let mut metrics = BTreeMap::new();
    metrics.insert("accuracy".to_string(), mcnemar(&baseline_correct, &candidate_correct));
    metrics.insert("roc_auc".to_string(), delong(pairs));
    metrics.insert(
        "brier".to_string(),
        paired_t(
            &pairs.iter().map(|p| brier(p.baseline, p.actual)).collect::<Vec<_>>(),
            &pairs.iter().map(|p| brier(p.candidate, p.actual)).collect::<Vec<_>>(),
        ),
    );
    metrics.insert(
        "log_loss".to_string(),
        paired_t(
            &pairs.iter().map(|p| log_loss(p.baseline, p.actual)).collect::<Vec<_>>(),
            &pairs
                .iter()
                .map(|p| log_loss(p.candidate, p.actual))
                .collect::<Vec<_>>(),
        ),
    );
    metrics
}

/// Compares two multiclass versions on shared ids: accuracy (McNemar), and log loss (paired
/// t-test) when both versions sent per-class probabilities for every id.
pub fn compare_multiclass(pairs: &[ClassPair]) -> BTreeMap<String, MetricComparison> {
    let baseline_correct: Vec<bool> = pairs.iter().map(|p| p.baseline.correct).collect();
    let candidate_correct: Vec<bool> = pairs.iter().map(|p| p.candidate.correct).collect();

    let mut metrics = BTreeMap::new();
    metrics.insert("accuracy".to_string(), mcnemar(&baseline_correct, &candidate_correct));

    let losses = |side: fn(&ClassPair) -> ClassOutcome| -> Option<Vec<f64>> {
        pairs
            .iter()
            .map(|pair| side(pair).probability_of_actual.map(log_loss_term))
            .collect()
    };
    let log_loss = match (losses(|p| p.baseline), losses(|p| p.candidate)) {
        (Some(baseline), Some(candidate)) => paired_t(&baseline, &candidate),
        (baseline, candidate) => MetricComparison::untested(
            baseline.as_deref().and_then(mean),
            candidate.as_deref().and_then(mean),
            [pairs.len() as u64; 2],
            LABELS_ONLY,
        ),
    };
    metrics.insert("log_loss".to_string(), log_loss);
    metrics
}

/// Compares two regression versions on shared ids: mean absolute and mean squared error, each
/// with a paired t-test on the per-id errors.
pub fn compare_regression(pairs: &[RegressionPair]) -> BTreeMap<String, MetricComparison> {
    let absolute = |prediction: f64, actual: f64| (prediction - actual).abs();
    let squared = |prediction: f64, actual: f64| (prediction - actual) * (prediction - actual);
    let errors = |error: fn(f64, f64) -> f64, side: fn(&RegressionPair) -> f64| -> Vec<f64> {
        pairs.iter().map(|pair| error(side(pair), pair.actual)).collect()
    };

    let mut metrics = BTreeMap::new();
    metrics.insert(
        "mae".to_string(),
        paired_t(&errors(absolute, |p| p.baseline), &errors(absolute, |p| p.candidate)),
    );
    metrics.insert(
        "mse".to_string(),
        paired_t(&errors(squared, |p| p.baseline), &errors(squared, |p| p.candidate)),
    );
    metrics
}

/// Compares accuracy on the same ids with McNemar's test.
///
/// With `b` the ids only the baseline got right, `c` those only the candidate got right and `n`
/// the pairs, the difference is `(c - b) / n` and its interval is the Wald interval
/// `(c - b) / n -/+ z sqrt(b + c - (c - b)^2 / n) / n`.
pub fn mcnemar(baseline_correct: &[bool], candidate_correct: &[bool]) -> MetricComparison {
    let pairs = baseline_correct.len().min(candidate_correct.len());
    if pairs == 0 {
        return MetricComparison::untested(None, None, [0, 0], NO_PAIRS);
    }
    let mut baseline_only = 0u64;
    let mut candidate_only = 0u64;
    let mut both = 0u64;
    for (baseline, candidate) in baseline_correct.iter().zip(candidate_correct) {
        match (baseline, candidate) {
            (true, true) => both += 1,
            (true, false) => baseline_only += 1,
            (false, true) => candidate_only += 1,
            (false, false) => {}
        }
    }

    let n = pairs as f64;
    let baseline = (both + baseline_only) as f64 / n;
    let candidate = (both + candidate_only) as f64 / n;
    let discordant_difference = candidate_only as f64 - baseline_only as f64;
    let difference = discordant_difference / n;
    let variance = (baseline_only + candidate_only) as f64 - discordant_difference * discordant_difference / n;
    let standard_error = variance.max(0.0).sqrt() / n;

    let z = z_for_confidence();
    let test = mcnemar_test(baseline_only, candidate_only);
    MetricComparison {
        baseline: Some(baseline),
        candidate: Some(candidate),
        difference: Some(difference),
        ci: interval(difference - z * standard_error, difference + z * standard_error),
        p_value: finite(test.p_value),
        test: Some(TestName::Mcnemar),
        samples: [pairs as u64; 2],
        reason: None,
    }
}

/// Compares ROC-AUC on the same ids with DeLong's test.
fn delong(pairs: &[BinaryPair]) -> MetricComparison {
    if pairs.is_empty() {
        return MetricComparison::untested(None, None, [0, 0], NO_PAIRS);
    }
    let baseline: Vec<f64> = pairs.iter().map(|p| p.baseline).collect();
    let candidate: Vec<f64> = pairs.iter().map(|p| p.candidate).collect();
    let actuals: Vec<bool> = pairs.iter().map(|p| p.actual).collect();
    let samples = [pairs.len() as u64; 2];
    match delong_test(&baseline, &candidate, &actuals, CONFIDENCE) {
        Ok(test) => {
            let reason = test.p_value.reason().map(str::to_string);
            MetricComparison {
                baseline: Some(test.auc_baseline),
                candidate: Some(test.auc_candidate),
                difference: Some(test.difference),
                ci: if reason.is_none() {
                    interval(test.ci.lower, test.ci.upper)
                } else {
                    None
                },
                p_value: test.p_value.value(),
                test: Some(TestName::Delong),
                samples,
                reason,
            }
        }
        Err(error) => {
            // Too few of one class for the test; the AUCs themselves may still be defined.
            let auc = |scores: &[f64]| roc_auc_exact(scores, &actuals).ok().and_then(|m| m.value());
            MetricComparison::untested(auc(&baseline), auc(&candidate), samples, error.to_string())
        }
    }
}

/// Compares two mean losses on the same ids with Student's paired t-test on the differences.
///
/// With `d_i = candidate_i - baseline_i`, `t = mean(d) / (sd(d) / sqrt(n))` on `n - 1` degrees
/// of freedom, as `scipy.stats.ttest_rel` computes it, and the interval is
/// `mean(d) -/+ t_{0.975, n-1} sd(d) / sqrt(n)`.
pub fn paired_t(baseline: &[f64], candidate: &[f64]) -> MetricComparison {
    let pairs = baseline.len().min(candidate.len());
    let samples = [pairs as u64; 2];
    let (Some(baseline_mean), Some(candidate_mean)) = (mean(&baseline[..pairs]), mean(&candidate[..pairs])) else {
        return MetricComparison::untested(None, None, samples, NO_PAIRS);
    };
    if pairs < 2 {
        return MetricComparison::untested(
            Some(baseline_mean),
            Some(candidate_mean),
            samples,
            "a paired t-test needs at least 2 labelled ids predicted by both versions",
        );
    }

    let differences: Vec<f64> = baseline.iter().zip(candidate).map(|(b, c)| c - b).collect();
    let mean_difference = mean(&differences).unwrap_or(0.0);
    let sum_of_squares: f64 = differences.iter().map(|d| (d - mean_difference).powi(2)).sum();
    let n = pairs as f64;
    let standard_error = (sum_of_squares / (n - 1.0)).sqrt() / n.sqrt();
    if !(standard_error > 0.0 && standard_error.is_finite()) {
        return MetricComparison::untested(
            Some(baseline_mean),
            Some(candidate_mean),
            samples,
            "the per-id differences are all equal, so the t statistic is undefined",
        );
    }

    let t = mean_difference / standard_error;
    let quantile = student_t::two_sided_quantile(1.0 - CONFIDENCE, n - 1.0);
    MetricComparison {
        baseline: Some(baseline_mean),
        candidate: Some(candidate_mean),
        difference: difference(Some(baseline_mean), Some(candidate_mean)),
        ci: interval(
            mean_difference - quantile * standard_error,
            mean_difference + quantile * standard_error,
        ),
        p_value: finite(student_t::two_sided_tail(t, n - 1.0)),
        test: Some(TestName::PairedT),
        samples,
        reason: None,
    }
}

/// Returns one record's log loss from the probability given to the actual class, clipped to
/// `[eps, 1 - eps]` with `eps` the `f64` machine epsilon, as scikit-learn 1.9.1 clips it.
fn log_loss_term(probability_of_actual: f64) -> f64 {
    -probability_of_actual.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln()
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Returns `z` with `P(-z < Z < z) = CONFIDENCE` for a standard normal `Z`.
pub(super) fn z_for_confidence() -> f64 {
    // 0.975 is inside (0, 1), so the quantile is defined; 1.959963984540054 is its value.
    normal_quantile(0.5 + CONFIDENCE / 2.0).unwrap_or(1.959_963_984_540_054)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(baseline: f64, candidate: f64, actual: bool) -> BinaryPair {
        BinaryPair {
            baseline,
            candidate,
            actual,
        }
    }

    #[test]
    fn mcnemar_without_pairs_is_untested() {
        let result = mcnemar(&[], &[]);
        assert_eq!(result.p_value, None);
        assert_eq!(result.reason.as_deref(), Some(NO_PAIRS));
    }

    #[test]
    fn mcnemar_counts_discordant_pairs() {
        // Baseline right on 0 and 1, candidate right on 1, 2 and 3.
        let baseline = [true, true, false, false];
        let candidate = [false, true, true, true];
        let result = mcnemar(&baseline, &candidate);
        assert_eq!(result.baseline, Some(0.5));
        assert_eq!(result.candidate, Some(0.75));
        assert_eq!(result.difference, Some(0.25));
    }

    #[test]
    fn mcnemar_identical_versions_has_p_one() {
        let correct = [true, false, true];
        let result = mcnemar(&correct, &correct);
        assert_eq!(result.p_value, Some(1.0));
        assert_eq!(result.ci, Some([0.0, 0.0]));
    }

    #[test]
    fn binary_difference_is_candidate_minus_baseline() {
        let pairs = [pair(0.9, 0.2, true), pair(0.1, 0.8, false), pair(0.7, 0.6, true)];
        let result = compare_binary(&pairs, 0.5);
        let accuracy = &result["accuracy"];
        assert_eq!(accuracy.baseline, Some(1.0));
        assert_eq!(accuracy.candidate, Some(1.0 / 3.0));
        assert!((accuracy.difference.unwrap() - (1.0 / 3.0 - 1.0)).abs() < 1e-15);
    }

    #[test]
    fn binary_auc_one_class_is_null() {
        let pairs = [pair(0.9, 0.2, true), pair(0.6, 0.8, true), pair(0.7, 0.6, true)];
        let result = compare_binary(&pairs, 0.5);
        let auc = &result["roc_auc"];
        assert_eq!(auc.baseline, None);
        assert_eq!(auc.p_value, None);
        assert!(auc.reason.as_deref().unwrap().contains("2 positives and 2 negatives"));
    }

    #[test]
    fn binary_log_loss_clips_certain_mistakes() {
        let pairs = [pair(1.0, 0.5, false), pair(0.0, 0.5, true)];
        let result = compare_binary(&pairs, 0.5);
        let baseline = result["log_loss"].baseline.unwrap();
        assert!((baseline - -f64::EPSILON.ln()).abs() < 1e-9);
    }

    #[test]
    fn paired_t_with_one_pair_is_untested() {
        let result = paired_t(&[0.2], &[0.3]);
        assert_eq!(result.baseline, Some(0.2));
        assert_eq!(result.p_value, None);
        assert!(result.reason.is_some());
    }

    #[test]
    fn paired_t_with_constant_difference_is_untested() {
        let result = paired_t(&[0.25, 0.5, 0.75], &[0.5, 0.75, 1.0]);
        assert!(result.difference.unwrap() > 0.0);
        assert_eq!(result.p_value, None);
        assert!(result.reason.as_deref().unwrap().contains("all equal"));
    }

    #[test]
    fn multiclass_labels_only_leaves_log_loss_untested() {
        let outcome = |correct| ClassOutcome {
            correct,
            probability_of_actual: None,
        };
        let pairs = [
            ClassPair {
                baseline: outcome(true),
                candidate: outcome(false),
            },
            ClassPair {
                baseline: outcome(true),
                candidate: outcome(true),
            },
        ];
        let result = compare_multiclass(&pairs);
        assert_eq!(result["accuracy"].baseline, Some(1.0));
        assert_eq!(result["log_loss"].baseline, None);
        assert_eq!(result["log_loss"].reason.as_deref(), Some(LABELS_ONLY));
    }

    #[test]
    fn regression_errors_use_absolute_and_squared_terms() {
        let pairs = [
            RegressionPair {
                baseline: 1.0,
                candidate: 2.0,
                actual: 0.0,
            },
            RegressionPair {
                baseline: -3.0,
                candidate: 0.5,
                actual: 0.0,
            },
        ];
        let result = compare_regression(&pairs);
        assert_eq!(result["mae"].baseline, Some(2.0));
        assert_eq!(result["mse"].candidate, Some(2.125));
    }
}
