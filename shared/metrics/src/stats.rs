//! Statistical tests and intervals for deciding whether a metric really changed.
//!
//! Proportions (accuracy, recall, label coverage) get Wilson intervals and a one-sided
//! two-proportion z-test. Paired accuracy of two versions on the same ids gets McNemar's test,
//! and two ROC-AUCs on the same examples get DeLong's test. The normal distribution functions
//! are implemented here, with no dependency.

mod delong;
mod normal;

use serde::Serialize;

pub use delong::{delong_test, DeLongTest};
pub use normal::{chi_square_1_sf, normal_cdf, normal_pdf, normal_quantile};

use crate::{Metric, MetricsError};

/// Below this many discordant pairs McNemar's test uses the exact binomial distribution.
pub const MCNEMAR_EXACT_BELOW: u64 = 25;

const NO_VARIANCE: &str = "both samples are all successes or all failures, so the difference has no variance";

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// Computes the Wilson score interval for a proportion of `successes` out of `trials`.
///
/// With `p = successes / trials`, `n = trials` and `z` the normal quantile at
/// `(1 + confidence) / 2`, the interval is
/// `(p + z^2 / 2n -/+ z sqrt(p (1 - p) / n + z^2 / 4n^2)) / (1 + z^2 / n)`. It stays inside
/// [0, 1] and keeps close to its nominal coverage for small `n` and for `p` near 0 or 1.
///
/// # Errors
/// [`MetricsError::Invalid`] when `trials` is 0, `successes > trials`, or `confidence` is not
/// strictly between 0 and 1.
pub fn wilson_interval(successes: u64, trials: u64, confidence: f64) -> Result<Interval, MetricsError> {
    check_counts("successes", successes, trials)?;
    let z = two_sided_quantile(confidence)?;
    let n = trials as f64;
    let p = successes as f64 / n;
    let z_squared = z * z;
    let scale = 1.0 + z_squared / n;
    let center = (p + z_squared / (2.0 * n)) / scale;
    let half_width = z / scale * (p * (1.0 - p) / n + z_squared / (4.0 * n * n)).sqrt();
    Ok(Interval {
        lower: (center - half_width).max(0.0),
        upper: (center + half_width).min(1.0),
    })
}

/// The result of [`two_proportion_z_test`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TwoProportionTest {
    /// `successes_1 / trials_1`.
    pub rate_1: f64,
    /// `successes_2 / trials_2`.
    pub rate_2: f64,
    /// `rate_1 - rate_2`.
    pub difference: f64,
    /// `difference / sqrt(p (1 - p) (1 / trials_1 + 1 / trials_2))` with `p` the pooled rate.
    /// Undefined when the pooled rate is 0 or 1.
    pub z: Metric,
    /// One-sided p-value for "rate 1 is lower than rate 2": `Phi(z)`. Undefined with `z`.
    pub p_value: Metric,
}

/// Tests whether rate 1 is lower than rate 2, with the pooled two-proportion z-test.
///
/// Use it with the current window as sample 1 and the baseline as sample 2 to ask whether
/// a rate such as accuracy dropped. The samples must be independent, so the two windows must
/// not share records. The normal approximation wants at least about 5 successes and 5 failures
/// in each sample.
///
/// # Errors
/// [`MetricsError::Invalid`] when a sample has no trials or more successes than trials.
pub fn two_proportion_z_test(
    successes_1: u64,
    trials_1: u64,
    successes_2: u64,
    trials_2: u64,
) -> Result<TwoProportionTest, MetricsError> {
    check_counts("successes_1", successes_1, trials_1)?;
    check_counts("successes_2", successes_2, trials_2)?;
    let (n1, n2) = (trials_1 as f64, trials_2 as f64);
    let rate_1 = successes_1 as f64 / n1;
    let rate_2 = successes_2 as f64 / n2;
    let difference = rate_1 - rate_2;

    let pooled = (successes_1 + successes_2) as f64 / (n1 + n2);
    let standard_error = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let (z, p_value) = if standard_error > 0.0 {
        let z = difference / standard_error;
        (Metric::Value(z), Metric::Value(normal_cdf(z)))
    } else {
        (Metric::Undefined(NO_VARIANCE), Metric::Undefined(NO_VARIANCE))
    };
    Ok(TwoProportionTest {
        rate_1,
        rate_2,
        difference,
        z,
        p_value,
    })
}

/// The test behind a [`mcnemar_test`] p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum McNemarMethod {
    /// Exact binomial test on the discordant pairs, used below 25 of them.
    ExactBinomial,
    /// Chi-square with one degree of freedom and a continuity correction.
    ChiSquareCorrected,
}

/// The result of [`mcnemar_test`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct McNemarTest {
    /// Pairs where only the baseline was right.
    pub baseline_only: u64,
    /// Pairs where only the candidate was right.
    pub candidate_only: u64,
    /// For the exact test, `min(b, c)`; for the chi-square test, `max(0, |b - c| - 1)^2 / (b + c)`.
    pub statistic: f64,
    /// Two-sided p-value for "the two versions are equally accurate".
    pub p_value: f64,
    /// The test that produced the p-value.
    pub method: McNemarMethod,
}

/// Tests whether two versions differ in accuracy on the same examples, with McNemar's test.
///
/// Only discordant pairs carry information: `b = baseline_only` counts examples the baseline got
/// right and the candidate wrong, and `c = candidate_only` the reverse. Under the null
/// hypothesis each discordant pair goes either way with probability one half. With fewer than
/// [`MCNEMAR_EXACT_BELOW`] discordant pairs the p-value is the exact binomial
/// `min(1, 2 P(X <= min(b, c)))` with `X ~ Binomial(b + c, 1/2)`. Otherwise it is the
/// chi-square tail of `max(0, |b - c| - 1)^2 / (b + c)` with one degree of freedom. The
/// `max(0, ...)` keeps the statistic at 0 when `b = c`, where the textbook form would give
/// `1 / (b + c)`. With no discordant pairs the p-value is 1.
pub fn mcnemar_test(baseline_only: u64, candidate_only: u64) -> McNemarTest {
    let discordant = baseline_only + candidate_only;
    if discordant < MCNEMAR_EXACT_BELOW {
        return McNemarTest {
            baseline_only,
            candidate_only,
            statistic: baseline_only.min(candidate_only) as f64,
            p_value: normal::binomial_half_two_sided(baseline_only, discordant),
            method: McNemarMethod::ExactBinomial,
        };
    }
    let corrected = (baseline_only.abs_diff(candidate_only) as f64 - 1.0).max(0.0);
    let statistic = corrected * corrected / discordant as f64;
    McNemarTest {
        baseline_only,
        candidate_only,
        statistic,
        p_value: chi_square_1_sf(statistic),
        method: McNemarMethod::ChiSquareCorrected,
    }
}

/// Computes the Hanley-McNeil standard error of a ROC-AUC from `positives` and `negatives`.
///
/// `SE = sqrt((A (1 - A) + (P - 1)(Q1 - A^2) + (N - 1)(Q2 - A^2)) / (P N))`, with
/// `Q1 = A / (2 - A)` and `Q2 = 2 A^2 / (1 + A)` (Hanley and McNeil, Radiology, 1982). It
/// assumes exponentially distributed scores, and it serves when only the AUC and the class counts
/// are stored, as in a merged histogram. Use [`delong_test`] when the raw scores are at hand.
///
/// # Errors
/// [`MetricsError::Invalid`] when `auc` is outside [0, 1] or either count is 0.
pub fn hanley_mcneil_se(auc: f64, positives: u64, negatives: u64) -> Result<f64, MetricsError> {
    if !(0.0..=1.0).contains(&auc) {
        return Err(MetricsError::Invalid(format!("auc must be in [0, 1], got {auc}")));
    }
    if positives == 0 || negatives == 0 {
        return Err(MetricsError::Invalid(format!(
            "an AUC standard error needs both classes, got {positives} positives and {negatives} negatives"
        )));
    }
    let (p, n) = (positives as f64, negatives as f64);
    let q1 = auc / (2.0 - auc);
    let q2 = 2.0 * auc * auc / (1.0 + auc);
    let auc_squared = auc * auc;
    let variance = (auc * (1.0 - auc) + (p - 1.0) * (q1 - auc_squared) + (n - 1.0) * (q2 - auc_squared)) / (p * n);
    Ok(variance.max(0.0).sqrt())
}

/// Returns `z` with `P(-z < Z < z) = confidence`.
fn two_sided_quantile(confidence: f64) -> Result<f64, MetricsError> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(MetricsError::Invalid(format!(
            "confidence must be strictly between 0 and 1, such as 0.95, got {confidence}"
        )));
    }
    normal_quantile(0.5 + confidence / 2.0)
}

fn check_counts(name: &str, successes: u64, trials: u64) -> Result<(), MetricsError> {
    if trials == 0 {
        return Err(MetricsError::Invalid(format!(
            "a proportion needs at least one trial, got 0 trials for {name}"
        )));
    }
    if successes > trials {
        return Err(MetricsError::Invalid(format!(
            "{name} is {successes} but there are only {trials} trials, and successes cannot exceed trials"
        )));
    }
    Ok(())
}
