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

use crate::{model::Task, monitor::MonitorKind};

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

/// The models a metric is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Computed {
    /// Models of these tasks.
    Tasks(&'static [Task]),
    /// Every model: a statistic of the score distribution's drift from a reference period.
    Drift,
    /// Every model.
    Every,
}

impl Computed {
    /// Returns whether a model of `task` has the metric. `None` means a model of any task.
    pub fn includes(self, task: Option<Task>) -> bool {
        match (self, task) {
            (Computed::Tasks(tasks), Some(task)) => tasks.contains(&task),
            (Computed::Tasks(tasks), None) => !tasks.is_empty(),
            (Computed::Drift | Computed::Every, _) => true,
        }
    }
}

const BINARY: Computed = Computed::Tasks(&[Task::Binary]);
const MULTICLASS: Computed = Computed::Tasks(&[Task::Multiclass]);
const CLASSIFIERS: Computed = Computed::Tasks(&[Task::Binary, Task::Multiclass]);
const REGRESSION: Computed = Computed::Tasks(&[Task::Regression]);
const DRIFT: Computed = Computed::Drift;
const EVERY: Computed = Computed::Every;

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
    /// The models that have the metric.
    pub computed: Computed,
}

const fn row(
    name: &'static str,
    direction: Direction,
    basis: SampleBasis,
    test: TestKind,
    computed: Computed,
) -> MetricInfo {
    MetricInfo {
        name,
        direction: Some(direction),
        basis,
        test,
        computed,
    }
}

/// A row of a metric with no better side, on which only threshold rules make sense.
const fn undirected(name: &'static str, basis: SampleBasis, computed: Computed) -> MetricInfo {
    MetricInfo {
        name,
        direction: None,
        basis,
        test: TestKind::None,
        computed,
    }
}

/// Every metric the check recognises, with its direction, sample basis, test and the models that
/// have it.
pub const METRICS: &[MetricInfo] = &[
    row("accuracy", Up, Labelled, TestKind::Proportion, CLASSIFIERS),
    row("precision", Up, Labelled, TestKind::Proportion, BINARY),
    row("recall", Up, Labelled, TestKind::Proportion, BINARY),
    row("specificity", Up, Labelled, TestKind::Proportion, BINARY),
    row("balanced_accuracy", Up, Labelled, TestKind::BalancedAccuracy, BINARY),
    row("roc_auc", Up, Labelled, TestKind::RocAuc, BINARY),
    row("pr_auc", Up, Labelled, TestKind::None, BINARY),
    row("f1", Up, Labelled, TestKind::None, BINARY),
    row("f0_5", Up, Labelled, TestKind::None, BINARY),
    row("f2", Up, Labelled, TestKind::None, BINARY),
    row("mcc", Up, Labelled, TestKind::None, BINARY),
    undirected("base_rate", Labelled, BINARY),
    undirected("predicted_positive_rate", Labelled, BINARY),
    row("fpr", Down, Labelled, TestKind::Proportion, BINARY),
    row("fnr", Down, Labelled, TestKind::Proportion, BINARY),
    row("log_loss", Down, Labelled, TestKind::None, CLASSIFIERS),
    row("brier", Down, Labelled, TestKind::None, CLASSIFIERS),
    row("ece", Down, Labelled, TestKind::None, BINARY),
    row("macro_precision", Up, Labelled, TestKind::None, MULTICLASS),
    row("macro_recall", Up, Labelled, TestKind::None, MULTICLASS),
    row("macro_f1", Up, Labelled, TestKind::None, MULTICLASS),
    row("weighted_precision", Up, Labelled, TestKind::None, MULTICLASS),
    row("weighted_recall", Up, Labelled, TestKind::None, MULTICLASS),
    row("weighted_f1", Up, Labelled, TestKind::None, MULTICLASS),
    row("roc_auc_ovr_macro", Up, Labelled, TestKind::None, MULTICLASS),
    row("mae", Down, Labelled, TestKind::MeanAbsoluteError, REGRESSION),
    row("mse", Down, Labelled, TestKind::None, REGRESSION),
    row("rmse", Down, Labelled, TestKind::None, REGRESSION),
    row("mape", Down, Labelled, TestKind::None, REGRESSION),
    row("max_error", Down, Labelled, TestKind::None, REGRESSION),
    undirected("mean_error", Labelled, REGRESSION),
    row("r2", Up, Labelled, TestKind::None, REGRESSION),
    row("roi", Up, Labelled, TestKind::None, EVERY),
    row("psi", Down, Predictions, TestKind::None, DRIFT),
    row("ks", Down, Predictions, TestKind::None, DRIFT),
    row("js", Down, Predictions, TestKind::None, DRIFT),
    row("js_distance", Down, Predictions, TestKind::None, DRIFT),
    row("label_coverage", Up, Predictions, TestKind::None, EVERY),
    row("latency_p50_ms", Down, Predictions, TestKind::None, EVERY),
    row("latency_p99_ms", Down, Predictions, TestKind::None, EVERY),
    row("labelled", Up, SampleBasis::None, TestKind::None, EVERY),
    row("predictions", Up, SampleBasis::None, TestKind::None, EVERY),
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
            computed: Computed::Tasks(&[]),
        })
}

/// Returns the keys of the metrics computed for a model of `task`, in table order. `None`
/// means a model of any task. These are the names the history endpoint accepts.
pub fn computed_names(task: Option<Task>) -> Vec<&'static str> {
    METRICS
        .iter()
        .filter(|row| row.computed.includes(task))
        .map(|row| row.name)
        .collect()
}

/// Returns the metric keys a rule of `kind` may watch on a model of `task`, in table order.
/// `None` means a model of any task.
///
/// A drift rule watches a drift statistic, `label_coverage` and `volume` rules watch their own
/// metric, and threshold and `relative_drop` rules may watch any metric the model has.
pub fn rule_metric_names(kind: MonitorKind, task: Option<Task>) -> Vec<&'static str> {
    match kind {
        MonitorKind::Threshold | MonitorKind::RelativeDrop => computed_names(task),
        MonitorKind::Drift => METRICS
            .iter()
            .filter(|row| row.computed == Computed::Drift)
            .map(|row| row.name)
            .collect(),
        MonitorKind::LabelCoverage => vec!["label_coverage"],
        MonitorKind::Volume => vec!["predictions"],
    }
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
        assert_eq!(info("rocauc").direction, None);
    }

    #[test]
    fn metric_drift_counts_predictions() {
        assert_eq!(info("psi").basis, SampleBasis::Predictions);
    }
}
