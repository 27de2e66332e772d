//! Metric names the functions can publish to CloudWatch and keep in the metric history.

/// Every metric name the code can publish: the JSON keys of the task metrics, plus the volume,
/// latency and value metrics every task has. `MPT_PUBLISHED_METRICS` chooses among them, and
/// the template check tests the dashboard against them.
pub const PUBLISHABLE_METRICS: &[&str] = &[
    // binary classification
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "specificity",
    "fpr",
    "fnr",
    "f1",
    "f0_5",
    "f2",
    "mcc",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "ece",
    "base_rate",
    "predicted_positive_rate",
    // multiclass, beside accuracy, log_loss and brier above
    "macro_precision",
    "macro_recall",
    "macro_f1",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
    "roc_auc_ovr_macro",
    // regression
    "mae",
    "mse",
    "rmse",
    "r2",
    "mape",
    "mean_error",
    "max_error",
    // drift of the score distribution against the reference period
    // NOTE: only `psi` is a name the API already uses, in monitor rules. `ks` and
    // `js_distance` name the other statistics the drift module computes, and change here if
    // that module keys them otherwise.
    "psi",
    "ks",
    "js_distance",
    // every task
    "predictions",
    "labelled",
    "label_coverage",
    "latency_p50_ms",
    "latency_p99_ms",
    "roi",
];

/// Returns whether `name` is a metric the code can publish.
pub fn is_publishable(name: &str) -> bool {
    PUBLISHABLE_METRICS.contains(&name)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::config::DEFAULT_PUBLISHED_METRICS;

    #[test]
    fn publishable_metrics_have_no_duplicates() {
        let unique: BTreeSet<&str> = PUBLISHABLE_METRICS.iter().copied().collect();
        assert_eq!(unique.len(), PUBLISHABLE_METRICS.len(), "a name is listed twice");
    }

    #[test]
    fn default_published_metrics_are_publishable() {
        for name in DEFAULT_PUBLISHED_METRICS {
            assert!(
                is_publishable(name),
                "{name} is published by default but is not a known metric"
            );
        }
    }

    #[test]
    fn unknown_name_is_not_publishable() {
        assert!(!is_publishable("accuracy_score"));
    }
}
