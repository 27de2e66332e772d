//! DeLong's test for two correlated ROC-AUCs measured on the same examples.

use serde::Serialize;

use super::{normal_cdf, two_sided_quantile, Interval};
use crate::{Metric, MetricsError};

const NO_VARIANCE: &str = "the AUC difference has zero estimated variance";

/// The result of [`delong_test`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DeLongTest {
    /// ROC-AUC of the baseline scores.
    pub auc_baseline: f64,
    /// ROC-AUC of the candidate scores.
    pub auc_candidate: f64,
    /// `auc_candidate - auc_baseline`.
    pub difference: f64,
    /// DeLong's standard error of the difference.
    pub standard_error: f64,
    /// `difference / standard_error`. Undefined when the standard error is 0.
    pub z: Metric,
    /// Two-sided p-value for "the two AUCs are equal": `2 Phi(-|z|)`.
    pub p_value: Metric,
    /// One-sided p-value for "the candidate AUC is lower than the baseline's": `Phi(z)`.
    pub p_value_lower: Metric,
    /// One-sided p-value for "the candidate AUC is higher than the baseline's": `Phi(-z)`.
    pub p_value_higher: Metric,
    /// Confidence interval for the difference, `difference -/+ z_conf * standard_error`.
    pub ci: Interval,
}

/// Compares the ROC-AUCs of two score sets on the same examples with DeLong's test.
///
/// DeLong, DeLong and Clarke-Pearson (Biometrics, 1988) estimate the covariance of two AUCs from
/// their structural components: for each positive, the share of negatives it outscores, and for
/// each negative, the share of positives that outscore it (ties count one half). With `m`
/// positives and `n` negatives, `Var(A2 - A1) = (S10_11 + S10_22 - 2 S10_12) / m +
/// (S01_11 + S01_22 - 2 S01_12) / n`, where `S10` and `S01` are the sample covariance matrices
/// of the two components. The components come from midranks, as in Sun and Xu (IEEE Signal
/// Processing Letters, 2014), so the test takes `O(N log N)` time for `N` examples.
///
/// `baseline` and `candidate` hold the two versions' scores for the same examples in the same
/// order, and `actuals` their shared outcomes. Scores may be any finite numbers.
///
/// # Errors
/// [`MetricsError::Invalid`] when the slices differ in length, there are fewer than 2 positives
/// or 2 negatives, or `confidence` is not strictly between 0 and 1;
/// [`MetricsError::NotFinite`] naming the first NaN or infinite score.
pub fn delong_test(
    baseline: &[f64],
    candidate: &[f64],
    actuals: &[bool],
    confidence: f64,
) -> Result<DeLongTest, MetricsError> {
    if baseline.len() != actuals.len() || candidate.len() != actuals.len() {
        return Err(MetricsError::Invalid(format!(
            "baseline has {} scores, candidate {} and actuals {}, so pass both versions' scores for the same examples",
            baseline.len(),
            candidate.len(),
            actuals.len()
        )));
    }
    if let Some(value) = baseline.iter().chain(candidate).find(|score| !score.is_finite()) {
        return Err(MetricsError::NotFinite {
            field: "score",
            value: *value,
        });
    }
    let positives = actuals.iter().filter(|actual| **actual).count();
    let negatives = actuals.len() - positives;
    if positives < 2 || negatives < 2 {
        return Err(MetricsError::Invalid(format!(
            "DeLong's test needs at least 2 positives and 2 negatives, got {positives} and {negatives}"
        )));
    }
    let z_confidence = two_sided_quantile(confidence)?;

    let baseline_components = StructuralComponents::new(baseline, actuals);
    let candidate_components = StructuralComponents::new(candidate, actuals);
    let auc_baseline = mean(&baseline_components.positive);
    let auc_candidate = mean(&candidate_components.positive);
    let difference = auc_candidate - auc_baseline;

    let variance = difference_variance(&baseline_components.positive, &candidate_components.positive)
        / positives as f64
        + difference_variance(&baseline_components.negative, &candidate_components.negative) / negatives as f64;
    let standard_error = variance.max(0.0).sqrt();

    let (z, p_value, p_value_lower, p_value_higher) = if standard_error > 0.0 {
        let z = difference / standard_error;
        (
            Metric::Value(z),
            Metric::Value((2.0 * normal_cdf(-z.abs())).min(1.0)),
            Metric::Value(normal_cdf(z)),
            Metric::Value(normal_cdf(-z)),
        )
    } else {
        let undefined = Metric::Undefined(NO_VARIANCE);
        (undefined, undefined, undefined, undefined)
    };
    Ok(DeLongTest {
        auc_baseline,
        auc_candidate,
        difference,
        standard_error,
        z,
        p_value,
        p_value_lower,
        p_value_higher,
        ci: Interval {
            lower: difference - z_confidence * standard_error,
            upper: difference + z_confidence * standard_error,
        },
    })
}

/// DeLong's structural components of one score set.
struct StructuralComponents {
    /// Per positive: the share of negatives scoring below it, ties counting one half.
    positive: Vec<f64>,
    /// Per negative: the share of positives scoring above it, ties counting one half.
    negative: Vec<f64>,
}

impl StructuralComponents {
    fn new(scores: &[f64], actuals: &[bool]) -> Self {
        let positive_scores: Vec<f64> = select(scores, actuals, true);
        let negative_scores: Vec<f64> = select(scores, actuals, false);
        let (m, n) = (positive_scores.len() as f64, negative_scores.len() as f64);
        let all_ranks = midranks(scores);
        let positive_all_ranks = select(&all_ranks, actuals, true);
        let negative_all_ranks = select(&all_ranks, actuals, false);

        // A positive's rank among all scores minus its rank among positives counts the
        // negatives below it, ties one half. Negatives work the same way with the roles swapped.
        let positive = positive_all_ranks
            .iter()
            .zip(midranks(&positive_scores))
            .map(|(all, own)| (all - own) / n)
            .collect();
        let negative = negative_all_ranks
            .iter()
            .zip(midranks(&negative_scores))
            .map(|(all, own)| 1.0 - (all - own) / m)
            .collect();
        Self { positive, negative }
    }
}

fn select(values: &[f64], actuals: &[bool], class: bool) -> Vec<f64> {
    values
        .iter()
        .zip(actuals)
        .filter(|(_, actual)| **actual == class)
        .map(|(value, _)| *value)
        .collect()
}

/// Returns the 1-based ranks of `values`, tied values sharing the mean of their ranks.
fn midranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    // Adding 0.0 turns -0.0 into 0.0, so the two compare equal as they do numerically.
    order.sort_unstable_by(|a, b| (values[*a] + 0.0).total_cmp(&(values[*b] + 0.0)));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start + 1 ..= end, whose mean is below.
        let midrank = (start + end + 1) as f64 / 2.0;
        for index in &order[start..end] {
            ranks[*index] = midrank;
        }
        start = end;
    }
    ranks
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Returns the sample variance of `b - a`, which is `Var(a) + Var(b) - 2 Cov(a, b)`.
fn difference_variance(a: &[f64], b: &[f64]) -> f64 {
    let differences: Vec<f64> = a.iter().zip(b).map(|(a, b)| b - a).collect();
    let center = mean(&differences);
    let sum_of_squares: f64 = differences.iter().map(|d| (d - center) * (d - center)).sum();
    sum_of_squares / (differences.len() - 1) as f64
}
