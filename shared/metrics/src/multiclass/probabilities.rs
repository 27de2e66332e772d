//! Per-record checks and terms for per-class probabilities, and exact one-vs-rest ROC-AUC.

use crate::{binary::roc_auc_exact, Metric, MetricsError};

/// How far the per-class probabilities of one record may sum from 1.
pub const PROBABILITY_SUM_TOLERANCE: f64 = 1e-3;

/// Checks one record's probabilities and returns the index of the predicted class.
pub(super) fn validate_probabilities(probabilities: &[f64], classes: usize) -> Result<usize, MetricsError> {
    if probabilities.len() != classes {
        return Err(MetricsError::LengthMismatch {
            what: "probabilities",
            expected: classes,
            got: probabilities.len(),
        });
    }
    for &probability in probabilities {
        if !probability.is_finite() {
            return Err(MetricsError::NotFinite {
                field: "probability",
                value: probability,
            });
        }
        if !(0.0..=1.0).contains(&probability) {
            return Err(MetricsError::NotProbability {
                field: "probability",
                value: probability,
            });
        }
    }
    let sum: f64 = probabilities.iter().sum();
    if (sum - 1.0).abs() > PROBABILITY_SUM_TOLERANCE {
        return Err(MetricsError::ProbabilitySum {
            sum,
            tolerance: PROBABILITY_SUM_TOLERANCE,
        });
    }
    Ok(argmax(probabilities))
}

/// Returns the index of the first largest value, as `numpy.argmax` does on ties.
pub fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (index, value) in values.iter().enumerate() {
        if *value > values[best] {
            best = index;
        }
    }
    best
}

/// Returns −ln(p), with p clipped to [ε, 1 − ε] as scikit-learn's `log_loss` does.
pub(super) fn log_loss_term(probability_of_actual: f64) -> f64 {
    -probability_of_actual.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln()
}

pub(super) fn squared_error_term(probabilities: &[f64], actual_index: usize) -> f64 {
    probabilities
        .iter()
        .enumerate()
        .map(|(index, probability)| {
            let target = if index == actual_index { 1.0 } else { 0.0 };
            (probability - target) * (probability - target)
        })
        .sum()
}

const OVR_UNDEFINED: &str =
    "a class never occurred among the actuals, or was the only one, so its one-vs-rest ROC-AUC is undefined";

/// Averages per-class one-vs-rest ROC-AUCs, or returns undefined when any of them is.
pub(super) fn macro_average(aucs: impl IntoIterator<Item = Metric>) -> Metric {
    let mut sum = 0.0;
    let mut classes = 0;
    for auc in aucs {
        match auc.value() {
            Some(value) => sum += value,
            None => return Metric::Undefined(OVR_UNDEFINED),
        }
        classes += 1;
    }
    if classes == 0 {
        return Metric::Undefined(OVR_UNDEFINED);
    }
    Metric::Value(sum / classes as f64)
}

/// Computes the one-vs-rest ROC-AUC averaged over classes, exactly, from raw probabilities.
///
/// `probabilities[i]` gives record i one probability per class, in class order, and
/// `actuals[i]` is the index of its actual class. The AUC of class k ranks the records by their
/// probability of k and separates the records of class k from all others. This equals
/// scikit-learn's `roc_auc_score(multi_class="ovr", average="macro")`. The result is undefined
/// when a class never occurs among the actuals or is the only class that occurs.
pub fn roc_auc_ovr_macro_exact(
    probabilities: &[Vec<f64>],
    actuals: &[usize],
    classes: usize,
) -> Result<Metric, MetricsError> {
    if probabilities.len() != actuals.len() {
        return Err(MetricsError::LengthMismatch {
            what: "actuals",
            expected: probabilities.len(),
            got: actuals.len(),
        });
    }
    if let Some(row) = probabilities.iter().find(|row| row.len() != classes) {
        return Err(MetricsError::LengthMismatch {
            what: "probabilities",
            expected: classes,
            got: row.len(),
        });
    }
    if let Some(actual) = actuals.iter().find(|actual| **actual >= classes) {
        return Err(MetricsError::Invalid(format!(
            "actual class index {actual} is out of range for {classes} classes; use indexes 0 to {}",
            classes - 1
        )));
    }

    let mut aucs = Vec::with_capacity(classes);
    for class in 0..classes {
        let scores: Vec<f64> = probabilities.iter().map(|row| row[class]).collect();
        let is_class: Vec<bool> = actuals.iter().map(|actual| *actual == class).collect();
        aucs.push(roc_auc_exact(&scores, &is_class)?);
    }
    Ok(macro_average(aucs))
}
