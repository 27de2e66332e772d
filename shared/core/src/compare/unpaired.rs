//! Unpaired comparisons of two versions from the counts stored with each window.
//!
//! These treat the two versions' windows as independent samples, which holds when they scored
//! different ids. When they scored the same ids the paired tests are more powerful.

use mpt_metrics::stats::{hanley_mcneil_se, normal_cdf, two_proportion_z_test};

use super::{finite, interval, paired::z_for_confidence, MetricComparison, TestName};

/// Successes out of trials, for a proportion such as accuracy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proportion {
    /// Trials counted as successes.
    pub successes: u64,
    /// All trials.
    pub trials: u64,
}

/// A ROC-AUC with the class counts behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AucSample {
    /// The area under the ROC curve.
    pub auc: f64,
    /// Labelled positives.
    pub positives: u64,
    /// Labelled negatives.
    pub negatives: u64,
}

/// Compares two independent proportions with the pooled two-proportion z-test.
///
/// The p-value is two-sided, `2 Phi(-|z|)`, and the interval is the unpooled Wald interval
/// `d -/+ z sqrt(p_b (1 - p_b) / n_b + p_c (1 - p_c) / n_c)`.
pub fn compare_proportion_unpaired(baseline: Proportion, candidate: Proportion) -> MetricComparison {
    let samples = [baseline.trials, candidate.trials];
    let rate = |p: Proportion| (p.trials > 0).then(|| p.successes as f64 / p.trials as f64);
    let test = match two_proportion_z_test(
        candidate.successes,
        candidate.trials,
        baseline.successes,
        baseline.trials,
    ) {
        Ok(test) => test,
        Err(error) => return MetricComparison::untested(rate(baseline), rate(candidate), samples, error.to_string()),
    };
    let variance = test.rate_1 * (1.0 - test.rate_1) / candidate.trials as f64
        + test.rate_2 * (1.0 - test.rate_2) / baseline.trials as f64;
    let half_width = z_for_confidence() * variance.sqrt();
    let p_value = test.z.value().map(|z| (2.0 * normal_cdf(-z.abs())).min(1.0));
    MetricComparison {
        baseline: Some(test.rate_2),
        candidate: Some(test.rate_1),
        difference: Some(test.difference),
        ci: interval(test.difference - half_width, test.difference + half_width),
        p_value,
        test: Some(TestName::TwoProportionZ),
        samples,
        reason: test.z.reason().map(str::to_string),
    }
}

/// Compares two independent ROC-AUCs with a z-test on Hanley-McNeil standard errors.
///
/// `z = (A_c - A_b) / sqrt(SE_b^2 + SE_c^2)`, the p-value is `2 Phi(-|z|)`, and the interval is
/// `d -/+ z_0.975 sqrt(SE_b^2 + SE_c^2)`.
pub fn compare_auc_unpaired(baseline: AucSample, candidate: AucSample) -> MetricComparison {
    let samples = [
        baseline.positives + baseline.negatives,
        candidate.positives + candidate.negatives,
    ];
    let difference = candidate.auc - baseline.auc;
    let standard_errors = hanley_mcneil_se(baseline.auc, baseline.positives, baseline.negatives).and_then(|b| {
        Ok((
            b,
            hanley_mcneil_se(candidate.auc, candidate.positives, candidate.negatives)?,
        ))
    });
    let (baseline_se, candidate_se) = match standard_errors {
        Ok(errors) => errors,
        Err(error) => {
            return MetricComparison::untested(Some(baseline.auc), Some(candidate.auc), samples, error.to_string())
        }
    };
    let standard_error = (baseline_se * baseline_se + candidate_se * candidate_se).sqrt();
    if standard_error.is_nan() || standard_error <= 0.0 {
        return MetricComparison::untested(
            Some(baseline.auc),
            Some(candidate.auc),
            samples,
            "both ROC-AUCs are 0 or 1, so their difference has no estimated variance",
        );
    }
    let z = difference / standard_error;
    let half_width = z_for_confidence() * standard_error;
    MetricComparison {
        baseline: Some(baseline.auc),
        candidate: Some(candidate.auc),
        difference: Some(difference),
        ci: interval(difference - half_width, difference + half_width),
        p_value: finite((2.0 * normal_cdf(-z.abs())).min(1.0)),
        test: Some(TestName::HanleyMcneil),
        samples,
        reason: None,
    }
}

/// Puts two values side by side without a test, for metrics no unpaired test here covers.
pub fn compare_values(baseline: Option<f64>, candidate: Option<f64>, samples: [u64; 2]) -> MetricComparison {
    MetricComparison::untested(
        baseline,
        candidate,
        samples,
        "no unpaired test for this metric; send both versions' predictions of the same ids for a paired test",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportion_difference_is_candidate_minus_baseline() {
        let result = compare_proportion_unpaired(
            Proportion {
                successes: 60,
                trials: 100,
            },
            Proportion {
                successes: 70,
                trials: 100,
            },
        );
        assert_eq!(result.baseline, Some(0.6));
        assert_eq!(result.candidate, Some(0.7));
        assert!((result.difference.unwrap() - 0.1).abs() < 1e-15);
    }

    #[test]
    fn proportion_without_trials_is_untested() {
        let result = compare_proportion_unpaired(
            Proportion {
                successes: 0,
                trials: 0,
            },
            Proportion {
                successes: 7,
                trials: 10,
            },
        );
        assert_eq!(result.baseline, None);
        assert_eq!(result.candidate, Some(0.7));
        assert_eq!(result.p_value, None);
    }

    #[test]
    fn proportion_all_successes_has_no_p_value() {
        let all = Proportion {
            successes: 10,
            trials: 10,
        };
        let result = compare_proportion_unpaired(all, all);
        assert_eq!(result.p_value, None);
        assert!(result.reason.is_some());
    }

    #[test]
    fn auc_equal_samples_has_p_one() {
        let sample = AucSample {
            auc: 0.7,
            positives: 50,
            negatives: 60,
        };
        let result = compare_auc_unpaired(sample, sample);
        assert_eq!(result.difference, Some(0.0));
        assert_eq!(result.p_value, Some(1.0));
    }

    #[test]
    fn auc_without_negatives_is_untested() {
        let good = AucSample {
            auc: 0.7,
            positives: 50,
            negatives: 60,
        };
        let one_class = AucSample {
            auc: 0.5,
            positives: 50,
            negatives: 0,
        };
        let result = compare_auc_unpaired(good, one_class);
        assert_eq!(result.ci, None);
        assert!(result.reason.as_deref().unwrap().contains("both classes"));
    }
}
