//! Macro and support-weighted averages of the per-class metrics.

use super::{ClassMetrics, NO_RECORDS};
use crate::Metric;

/// Macro and support-weighted averages of the per-class values.
pub(super) struct Averages {
    pub(super) macro_precision: Metric,
    pub(super) macro_recall: Metric,
    pub(super) macro_f1: Metric,
    pub(super) weighted_precision: Metric,
    pub(super) weighted_recall: Metric,
    pub(super) weighted_f1: Metric,
}

impl Averages {
    /// Averages over the classes that occurred or were predicted, counting undefined values as 0.
    pub(super) fn over(per_class: &[ClassMetrics], count: u64, predicted_counts: &[u64]) -> Self {
        if count == 0 {
            let undefined = Metric::Undefined(NO_RECORDS);
            return Self {
                macro_precision: undefined,
                macro_recall: undefined,
                macro_f1: undefined,
                weighted_precision: undefined,
                weighted_recall: undefined,
                weighted_f1: undefined,
            };
        }

        let present: Vec<&ClassMetrics> = per_class
            .iter()
            .zip(predicted_counts)
            .filter(|(class, predicted)| class.support + **predicted > 0)
            .map(|(class, _)| class)
            .collect();
        let macro_mean = |value: fn(&ClassMetrics) -> Metric| {
            let sum: f64 = present.iter().map(|class| value(class).value().unwrap_or(0.0)).sum();
            Metric::Value(sum / present.len() as f64)
        };
        let weighted_mean = |value: fn(&ClassMetrics) -> Metric| {
            let sum: f64 = present
                .iter()
                .map(|class| class.support as f64 * value(class).value().unwrap_or(0.0))
                .sum();
            Metric::Value(sum / count as f64)
        };

        Self {
            macro_precision: macro_mean(|class| class.precision),
            macro_recall: macro_mean(|class| class.recall),
            macro_f1: macro_mean(|class| class.f1),
            weighted_precision: weighted_mean(|class| class.precision),
            weighted_recall: weighted_mean(|class| class.recall),
            weighted_f1: weighted_mean(|class| class.f1),
        }
    }
}
