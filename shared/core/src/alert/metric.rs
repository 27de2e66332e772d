//! The degradation check's table of metrics: which way is worse, which count its
//! `min_samples` applies to, and which significance test a `relative_drop` rule on it uses.
//!
//! The tests, all one-sided (is the current window worse than the baseline?), read the counts
//! stored with each snapshot:
//!
//! | metric | test | counts |
//! |---|---|---|
//! | `accuracy` | pooled two-proportion z-test | correct / labelled (binary: `tp + tn` / all four cells) |
//! | `precision` | pooled two-proportion z-test | `tp` / `tp + fp` (predicted positives) |
//! | `recall` | pooled two-proportion z-test | `tp` / `tp + fn` (actual positives) |
//! | `specificity` | pooled two-proportion z-test | `tn` / `tn + fp` (actual negatives) |
//! | `fpr`, `fnr` | pooled two-proportion z-test, on a rise | `fp` / `fp + tn`, `fn` / `fn + tp` |
//! | `balanced_accuracy` | Wald z-test on the difference | recall's and specificity's counts; variance `(r(1-r)/P + s(1-s)/N) / 4` |
//! | `roc_auc` | z-test with Hanley-McNeil standard errors | labelled positives and negatives |
//! | `mae` | Welch z-test on the mean absolute error | labelled count; variance of the absolute error from `mse - mae^2` |
//!
//! Every other metric (F-scores, MCC, PR-AUC, log loss, Brier, ECE, MSE, RMSE, MAPE, R², the
//! multiclass averages, ROI, latency) has no test here: its variance needs per-record moments
//! that the hourly aggregates do not keep (for log loss, the sum of squared per-record losses),
//! or it is not a mean of independent per-record terms at all (F1, MCC, PR-AUC). A
//! `relative_drop` rule on such a metric fires on the size of the drop alone, with
//! `min_samples` and `consecutive` as its guards, and its alerts say that no test was run.

use Direction::{HigherIsBetter as Up, LowerIsBetter as Down};
use SampleBasis::{Labelled, Predictions};

/// The direction in which a metric gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A drop is a degradation (accuracy, ROC-AUC, label coverage, ...).
    HigherIsBetter,
    /// A rise is a degradation (log loss, Brier, MAE, drift statistics, latency, ...).
    LowerIsBetter,
}

/// The count a metric's `min_samples` is held against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleBasis {
    /// Labelled predictions: every performance metric.
    Labelled,
    /// All predictions: drift, label coverage and latency.
    Predictions,
    /// No minimum: the prediction count itself.
    None,
}

/// The significance test a `relative_drop` rule on a metric uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKind {
    /// Pooled two-proportion z-test on the metric's successes and trials.
    Proportion,
    /// Wald z-test on the difference of two balanced accuracies from independent windows.
    BalancedAccuracy,
    /// z-test on the difference of two ROC-AUCs with Hanley-McNeil standard errors.
    RocAuc,
    /// Welch z-test on the difference of two mean absolute errors.
    MeanAbsoluteError,
    /// No test: the rule fires on the size of the drop alone.
    None,
}

/// One row of the metric table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricInfo {
    /// The metric key, as in the API's `metrics` object.
    pub name: &'static str,
    /// The direction of degradation, or `None` for metrics with no better side (such as `mean_error`).
    pub direction: Option<Direction>,
    /// The count that `min_samples` applies to.
    pub basis: SampleBasis,
    /// The test behind a `relative_drop` rule.
    pub test: TestKind,
}

const fn row(name: &'static str, direction: Direction, basis: SampleBasis, test: TestKind) -> MetricInfo {
    MetricInfo {
        name,
        direction: Some(direction),
        basis,
        test,
    }
}

/// Every metric the check recognises, with its direction, sample basis and test.
pub const METRICS: &[MetricInfo] = &[
    row("accuracy", Up, Labelled, TestKind::Proportion),
    row("precision", Up, Labelled, TestKind::Proportion),
    row("recall", Up, Labelled, TestKind::Proportion),
    row("specificity", Up, Labelled, TestKind::Proportion),
    row("balanced_accuracy", Up, Labelled, TestKind::BalancedAccuracy),
    row("roc_auc", Up, Labelled, TestKind::RocAuc),
    row("pr_auc", Up, Labelled, TestKind::None),
    row("f1", Up, Labelled, TestKind::None),
    row("f0_5", Up, Labelled, TestKind::None),
    row("f2", Up, Labelled, TestKind::None),
    row("mcc", Up, Labelled, TestKind::None),
    row("fpr", Down, Labelled, TestKind::Proportion),
    row("fnr", Down, Labelled, TestKind::Proportion),
    row("log_loss", Down, Labelled, TestKind::None),
    row("brier", Down, Labelled, TestKind::None),
    row("ece", Down, Labelled, TestKind::None),
    row("macro_precision", Up, Labelled, TestKind::None),
    row("macro_recall", Up, Labelled, TestKind::None),
    row("macro_f1", Up, Labelled, TestKind::None),
    row("weighted_precision", Up, Labelled, TestKind::None),
    row("weighted_recall", Up, Labelled, TestKind::None),
    row("weighted_f1", Up, Labelled, TestKind::None),
    row("roc_auc_ovr_macro", Up, Labelled, TestKind::None),
    row("mae", Down, Labelled, TestKind::MeanAbsoluteError),
    row("mse", Down, Labelled, TestKind::None),
    row("rmse", Down, Labelled, TestKind::None),
    row("mape", Down, Labelled, TestKind::None),
    row("max_error", Down, Labelled, TestKind::None),
    row("r2", Up, Labelled, TestKind::None),
    row("roi", Up, Labelled, TestKind::None),
    row("psi", Down, Predictions, TestKind::None),
    row("ks", Down, Predictions, TestKind::None),
    row("js", Down, Predictions, TestKind::None),
    row("js_distance", Down, Predictions, TestKind::None),
    row("label_coverage", Up, Predictions, TestKind::None),
    row("latency_p50_ms", Down, Predictions, TestKind::None),
    row("latency_p99_ms", Down, Predictions, TestKind::None),
    row("predictions", Up, SampleBasis::None, TestKind::None),
];

/// Looks up a metric by key; metrics missing from [`METRICS`] count as labelled, with no
/// direction and no test.
pub fn info(name: &str) -> MetricInfo {
    METRICS
        .iter()
        .find(|row| row.name == name)
        .copied()
        .unwrap_or(MetricInfo {
            name: "",
            direction: None,
            basis: Labelled,
            test: TestKind::None,
        })
}

/// Returns true for metrics counted in predictions rather than as a rate or mean, whose
/// baselines over a longer window are scaled to the current window's length.
pub fn is_count(name: &str) -> bool {
    name == "predictions"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_table_has_unique_names() {
        for (i, row) in METRICS.iter().enumerate() {
            assert!(
                METRICS[i + 1..].iter().all(|other| other.name != row.name),
                "{}",
                row.name
            );
        }
    }

    #[test]
    fn metric_losses_are_lower_is_better() {
        for name in ["log_loss", "brier", "ece", "mae", "mse", "rmse", "mape"] {
            assert_eq!(info(name).direction, Some(Direction::LowerIsBetter), "{name}");
        }
    }

    #[test]
    fn metric_rates_use_proportion_test() {
        for name in ["accuracy", "precision", "recall", "specificity"] {
            assert_eq!(info(name).test, TestKind::Proportion, "{name}");
        }
    }

    #[test]
    fn metric_unknown_has_no_direction() {
        assert_eq!(info("mean_error").direction, None);
    }

    #[test]
    fn metric_drift_counts_predictions() {
        assert_eq!(info("psi").basis, SampleBasis::Predictions);
    }
}
