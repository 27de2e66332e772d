//! Drift of a window's prediction distribution against a reference period.
//!
//! PSI and Jensen–Shannon distance are computed over [`DRIFT_GROUPS`] groups of bins cut at the
//! reference's deciles, the usual PSI binning. The fine bins of the aggregates (6,402 score bins,
//! or 5%-wide value bins) mostly contain a handful of predictions each, so on them sampling noise
//! alone would push PSI past the common 0.25 alarm level. KS is a maximum of cumulative differences, which
//! fine bins only make more exact, so it uses them directly. Multiclass drift compares the
//! predicted-class shares, where KS is undefined.

use std::collections::BTreeSet;

use mpt_metrics::{
    drift::{compare_classes, js_distance, ks_statistic, psi, DriftMetrics},
    Metric,
};

use crate::aggregate::{Aggregate, Distribution, Performance};

/// Groups of bins PSI and JS distance are computed over: the reference's deciles.
pub const DRIFT_GROUPS: usize = 10;

const TASK_MISMATCH: &str = "the reference and the window were aggregated for different tasks";

/// Computes PSI, KS and JS distance of `current`'s predictions against `reference`'s.
pub fn drift_metrics(reference: &Aggregate, current: &Aggregate) -> DriftMetrics {
    match (ordered_counts(reference, current), class_counts(reference, current)) {
        (Some((reference, current)), _) => ordered_drift(&reference, &current),
        (None, Some((reference, current))) => compare_classes(&reference, &current).unwrap_or_else(|_| undefined()),
        (None, None) => undefined(),
    }
}

fn undefined() -> DriftMetrics {
    DriftMetrics {
        psi: Metric::Undefined(TASK_MISMATCH),
        ks: Metric::Undefined(TASK_MISMATCH),
        js_distance: Metric::Undefined(TASK_MISMATCH),
    }
}

fn ordered_drift(reference: &[u64], current: &[u64]) -> DriftMetrics {
    let (reference_groups, current_groups) = group_by_reference_quantiles(reference, current, DRIFT_GROUPS);
    DriftMetrics {
        psi: psi(&reference_groups, &current_groups).unwrap_or(Metric::Undefined(TASK_MISMATCH)),
        ks: ks_statistic(reference, current).unwrap_or(Metric::Undefined(TASK_MISMATCH)),
        js_distance: js_distance(&reference_groups, &current_groups).unwrap_or(Metric::Undefined(TASK_MISMATCH)),
    }
}

/// Returns the counts of every prediction on the aggregates' shared ordered bins, for binary and
/// regression aggregates.
fn ordered_counts(reference: &Aggregate, current: &Aggregate) -> Option<(Vec<u64>, Vec<u64>)> {
    match (&reference.distribution, &current.distribution) {
        (Distribution::Binary { .. }, Distribution::Binary { .. }) => {
            Some((binary_score_counts(reference)?, binary_score_counts(current)?))
        }
        (Distribution::Regression { values: left }, Distribution::Regression { values: right }) => {
            Some(left.aligned_counts(right))
        }
        _ => None,
    }
}

/// Returns the score counts of every binary prediction: the labelled ones from the performance
/// histogram plus the unlabelled ones.
fn binary_score_counts(aggregate: &Aggregate) -> Option<Vec<u64>> {
    let (Performance::Binary(state), Distribution::Binary { unlabelled }) =
        (&aggregate.performance, &aggregate.distribution)
    else {
        return None;
    };
    let labelled = state.histogram().totals();
    let unlabelled = unlabelled.totals();
    Some(labelled.iter().zip(unlabelled.iter()).map(|(a, b)| a + b).collect())
}

/// Returns predicted-class counts over the union of both aggregates' classes, for multiclass.
fn class_counts(reference: &Aggregate, current: &Aggregate) -> Option<(Vec<u64>, Vec<u64>)> {
    let (Distribution::Multiclass { predicted: left }, Distribution::Multiclass { predicted: right }) =
        (&reference.distribution, &current.distribution)
    else {
        return None;
    };
    let classes: BTreeSet<&String> = left.keys().chain(right.keys()).collect();
    let pick = |counts: &std::collections::BTreeMap<String, u64>| {
        classes
            .iter()
            .map(|class| counts.get(*class).copied().unwrap_or(0))
            .collect()
    };
    Some((pick(left), pick(right)))
}

/// Merges adjacent bins into at most `groups` groups holding about equal shares of the reference.
///
/// A group closes at the first bin where the reference's cumulative count reaches the next
/// multiple of `total / groups`. Current counts follow the same cuts, and any current mass past
/// the reference's last non-empty bin joins the last group. With an empty reference the bins are
/// returned unchanged, so the drift functions report the empty reference.
pub fn group_by_reference_quantiles(reference: &[u64], current: &[u64], groups: usize) -> (Vec<u64>, Vec<u64>) {
    let total: u64 = reference.iter().sum();
    if total == 0 || groups == 0 {
        return (reference.to_vec(), current.to_vec());
    }
    let groups = groups as u64;
    let mut grouped_reference = Vec::new();
    let mut grouped_current = Vec::new();
    let (mut reference_sum, mut current_sum, mut cumulative) = (0u64, 0u64, 0u64);
    let mut next_cut = 1u64;
    for (index, (&r, &c)) in reference.iter().zip(current.iter()).enumerate() {
        reference_sum += r;
        current_sum += c;
        cumulative += r;
        let is_last = index + 1 == reference.len();
        if !is_last
            && next_cut < groups
            && u128::from(cumulative) * u128::from(groups) >= u128::from(next_cut) * u128::from(total)
        {
            grouped_reference.push(reference_sum);
            grouped_current.push(current_sum);
            reference_sum = 0;
            current_sum = 0;
            while next_cut < groups
                && u128::from(cumulative) * u128::from(groups) >= u128::from(next_cut) * u128::from(total)
            {
                next_cut += 1;
            }
        }
    }
    grouped_reference.push(reference_sum);
    grouped_current.push(current_sum);
    // Trailing bins past the reference's last count form a group of current counts only. Fold it
    // into the group before, so that no group is empty in the reference.
    while grouped_reference.len() > 1 && grouped_reference.last() == Some(&0) {
        let reference_tail = grouped_reference.pop().unwrap_or(0);
        let current_tail = grouped_current.pop().unwrap_or(0);
        if let (Some(r), Some(c)) = (grouped_reference.last_mut(), grouped_current.last_mut()) {
            *r += reference_tail;
            *c += current_tail;
        }
    }
    (grouped_reference, grouped_current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_cuts_at_reference_deciles() {
        let reference = vec![1u64; 100];
        let current = vec![2u64; 100];
        let (r, c) = group_by_reference_quantiles(&reference, &current, 10);
        assert_eq!(r, vec![10; 10]);
        assert_eq!(c, vec![20; 10]);
    }

    #[test]
    fn grouping_keeps_totals() {
        let reference = vec![0, 5, 0, 0, 90, 3, 0, 2, 0, 0];
        let current = vec![7, 1, 1, 0, 10, 3, 0, 2, 4, 9];
        let (r, c) = group_by_reference_quantiles(&reference, &current, 10);
        assert_eq!(r.iter().sum::<u64>(), 100);
        assert_eq!(c.iter().sum::<u64>(), current.iter().sum::<u64>());
        assert!(r.iter().all(|count| *count > 0), "{r:?}");
    }

    #[test]
    fn grouping_empty_reference_is_unchanged() {
        let (r, c) = group_by_reference_quantiles(&[0, 0], &[1, 2], 10);
        assert_eq!(r, vec![0, 0]);
        assert_eq!(c, vec![1, 2]);
    }

    #[test]
    fn identical_distributions_have_zero_psi() {
        let reference = vec![3u64, 0, 7, 1, 9, 0, 0, 4];
        let (r, c) = group_by_reference_quantiles(&reference, &reference, 10);
        assert_eq!(psi(&r, &c).unwrap(), Metric::Value(0.0));
    }
}
