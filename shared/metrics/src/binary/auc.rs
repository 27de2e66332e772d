//! Exact ROC-AUC and average precision on raw score arrays, with ties handled as scikit-learn
//! handles them.

use crate::{summation::CompensatedSum, Metric, MetricsError};

const NO_RECORDS: &str = "no labelled records";
const ONE_CLASS: &str = "only one class present in the actuals";

/// Computes the exact ROC-AUC of `scores` against `actuals`.
///
/// The area under the ROC curve whose points are the distinct score values, joined by straight
/// lines, as scikit-learn's `roc_auc_score` computes it. Equivalently, the probability that a
/// random positive scores above a random negative, counting ties as one half. Scores may be any
/// finite numbers. Range [0, 1]. Undefined when either class is absent.
///
/// # Errors
/// [`MetricsError::NotFinite`] naming the first NaN or infinite score, or
/// [`MetricsError::Invalid`] when the two slices differ in length.
pub fn roc_auc_exact(scores: &[f64], actuals: &[bool]) -> Result<Metric, MetricsError> {
    Ok(exact_aucs(scores, actuals)?.0)
}

/// Computes the exact average precision (PR-AUC) of `scores` against `actuals`.
///
/// `AP = sum over distinct scores t, from the highest, of (R_t - R_prev) * P_t`, where `P_t` and
/// `R_t` are the precision and recall when every score `>= t` is predicted positive. This is the
/// step integral of scikit-learn's `average_precision_score`, without interpolation. Range
/// [0, 1]. Undefined when either class is absent; scikit-learn returns 1.0 for all positives
/// and 0.0 for all negatives instead.
///
/// # Errors
/// As for [`roc_auc_exact`].
pub fn average_precision_exact(scores: &[f64], actuals: &[bool]) -> Result<Metric, MetricsError> {
    Ok(exact_aucs(scores, actuals)?.1)
}

/// Computes ROC-AUC and average precision from one sort of the scores.
pub(crate) fn exact_aucs(scores: &[f64], actuals: &[bool]) -> Result<(Metric, Metric), MetricsError> {
    if scores.len() != actuals.len() {
        return Err(MetricsError::Invalid(format!(
            "scores has {} entries but actuals has {}, so pass one actual per score",
            scores.len(),
            actuals.len()
        )));
    }
    if let Some(value) = scores.iter().find(|score| !score.is_finite()) {
        return Err(MetricsError::NotFinite {
            field: "score",
            value: *value,
        });
    }

    let positive_count = actuals.iter().filter(|actual| **actual).count();
    let mut positive_keys = Vec::with_capacity(positive_count);
    let mut negative_keys = Vec::with_capacity(scores.len() - positive_count);
    for (score, actual) in scores.iter().zip(actuals) {
        if *actual {
            positive_keys.push(sort_key(*score));
        } else {
            negative_keys.push(sort_key(*score));
        }
    }
    if let Some(reason) = two_class_reason(positive_keys.len(), negative_keys.len()) {
        return Ok((Metric::Undefined(reason), Metric::Undefined(reason)));
    }
    // For 10 million scores, sorting u64 keys took 0.20 s of CPU time and sorting f64 with
    // `total_cmp` 0.35 s. An 11-bit radix sort was slower than both on the shared 2-core machine.
    positive_keys.sort_unstable();
    negative_keys.sort_unstable();
    Ok(aucs_from_sorted(&positive_keys, &negative_keys))
}

/// Walks both sorted key arrays from the highest score down, one distinct score at a time.
fn aucs_from_sorted(positive_keys: &[u64], negative_keys: &[u64]) -> (Metric, Metric) {
    let positives = positive_keys.len() as u64;
    let negatives = negative_keys.len() as u64;
    let (mut i, mut j) = (positive_keys.len(), negative_keys.len());
    let (mut true_positives, mut false_positives) = (0u64, 0u64);

    // Twice the ROC area in units of one positive-negative pair is an integer, so it is summed
    // exactly and divided once.
    let mut doubled_area: u128 = 0;
    let mut average_precision = CompensatedSum::new();
    while i > 0 || j > 0 {
        let threshold = match (i, j) {
            (0, _) => negative_keys[j - 1],
            (_, 0) => positive_keys[i - 1],
            _ => positive_keys[i - 1].max(negative_keys[j - 1]),
        };
        let mut tied_positives = 0u64;
        while i > 0 && positive_keys[i - 1] == threshold {
            i -= 1;
            tied_positives += 1;
        }
        let mut tied_negatives = 0u64;
        while j > 0 && negative_keys[j - 1] == threshold {
            j -= 1;
            tied_negatives += 1;
        }

        doubled_area += tied_negatives as u128 * (2 * true_positives as u128 + tied_positives as u128);
        true_positives += tied_positives;
        false_positives += tied_negatives;
        if tied_positives > 0 {
            let precision = true_positives as f64 / (true_positives + false_positives) as f64;
            average_precision.add(tied_positives as f64 / positives as f64 * precision);
        }
    }

    let pairs = positives as f64 * negatives as f64;
    let roc_auc = doubled_area as f64 / (2.0 * pairs);
    (Metric::Value(roc_auc), Metric::Value(average_precision.value()))
}

fn two_class_reason(positives: usize, negatives: usize) -> Option<&'static str> {
    match (positives, negatives) {
        (0, 0) => Some(NO_RECORDS),
        (0, _) | (_, 0) => Some(ONE_CLASS),
        _ => None,
    }
}

/// Maps a finite `f64` to a `u64` whose unsigned order is the numeric order, with -0.0 and 0.0
/// equal, as numpy compares them.
fn sort_key(score: f64) -> u64 {
    let bits = (score + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_key_orders_negative_and_positive_scores() {
        let scores = [-2.5, -1e-300, -0.0, 0.0, 1e-300, 0.5, 3.0];
        let keys: Vec<u64> = scores.iter().map(|score| sort_key(*score)).collect();
        assert!(keys.windows(2).all(|pair| pair[0] <= pair[1]));
        assert_eq!(keys[2], keys[3]);
    }
}
