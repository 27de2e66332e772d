//! Comparison of two model versions, metric by metric, with a significance test for each.
//!
//! Every difference is `candidate - baseline`, so a positive difference in accuracy or ROC-AUC is
//! an improvement and a positive difference in a loss (log loss, Brier, MAE, MSE) is a
//! regression. Intervals are 95% two-sided and p-values test "no difference", two-sided.
//!
//! When the two versions predicted the same ids, [`paired`] tests use the per-id outcomes:
//! McNemar for accuracy, DeLong for ROC-AUC and a paired t-test for the mean losses. Otherwise
//! [`unpaired`] tests use the counts stored with each version's window: a two-proportion z-test
//! for accuracy and Hanley-McNeil standard errors for ROC-AUC.

pub mod paired;
mod student_t;
pub mod unpaired;

use serde::Serialize;

pub use paired::{
    compare_binary, compare_multiclass, compare_regression, BinaryPair, ClassOutcome, ClassPair, RegressionPair,
};
pub use unpaired::{compare_auc_unpaired, compare_proportion_unpaired, compare_values, AucSample, Proportion};

/// Confidence level of every interval in a comparison.
pub const CONFIDENCE: f64 = 0.95;

/// The statistical test behind a comparison's p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestName {
    /// McNemar's test on the ids only one version got right.
    Mcnemar,
    /// DeLong's test for two ROC-AUCs on the same examples.
    Delong,
    /// Student's paired t-test on per-id loss differences.
    PairedT,
    /// Pooled two-proportion z-test on independent samples.
    TwoProportionZ,
    /// z-test on two independent ROC-AUCs with Hanley-McNeil standard errors.
    HanleyMcneil,
}

/// One metric of two versions side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricComparison {
    /// The baseline version's value, null when undefined.
    pub baseline: Option<f64>,
    /// The candidate version's value, null when undefined.
    pub candidate: Option<f64>,
    /// `candidate - baseline`, null when either is undefined.
    pub difference: Option<f64>,
    /// 95% confidence interval of the difference, null when no test applies.
    pub ci: Option<[f64; 2]>,
    /// Two-sided p-value for "no difference", null when no test applies.
    pub p_value: Option<f64>,
    /// The test behind `ci` and `p_value`.
    pub test: Option<TestName>,
    /// Observations behind each value: `[baseline, candidate]`. Paired tests count pairs.
    pub samples: [u64; 2],
    /// The reason a value, the interval or the p-value is null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl MetricComparison {
    /// Builds a comparison of two values without a test, saying why there is none.
    pub fn untested(
        baseline: Option<f64>,
        candidate: Option<f64>,
        samples: [u64; 2],
        reason: impl Into<String>,
    ) -> Self {
        Self {
            baseline,
            candidate,
            difference: difference(baseline, candidate),
            ci: None,
            p_value: None,
            test: None,
            samples,
            reason: Some(reason.into()),
        }
    }
}

/// Returns `candidate - baseline` when both are defined.
fn difference(baseline: Option<f64>, candidate: Option<f64>) -> Option<f64> {
    Some(candidate? - baseline?)
}

/// Returns `value` when it is finite.
fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

/// Returns `[lower, upper]` when both bounds are finite.
fn interval(lower: f64, upper: f64) -> Option<[f64; 2]> {
    (lower.is_finite() && upper.is_finite()).then_some([lower, upper])
}
