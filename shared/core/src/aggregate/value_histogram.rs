//! A mergeable histogram of real numbers on fixed logarithmic bins, for regression drift.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Relative width of a bin: each bin's upper edge is 5% above its lower edge.
pub const BIN_GROWTH: f64 = 1.05;
/// Magnitudes below this count as zero.
pub const ZERO_BELOW: f64 = 1e-9;

/// Counts of real numbers on bins whose edges are `±1.05^k`, plus a bin for zero.
///
/// The layout is fixed, so any two histograms merge bin by bin, and it covers every finite
/// number: a value `x` with `|x| >= 1e-9` lands in bin `k = ceil(ln|x| / ln 1.05)` on its sign's
/// side, `(1.05^(k-1), 1.05^k]`, and smaller magnitudes land in the zero bin. Only non-empty bins
/// are stored, so an hour of predictions costs a few hundred bytes. Values from 1e-9 to 1e12 need
/// at most 992 bins per sign.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ValueHistogram {
    /// Counts of positive values by bin index.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    positive: BTreeMap<i32, u64>,
    /// Counts of negative values by the bin index of their magnitude.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    negative: BTreeMap<i32, u64>,
    /// Count of values whose magnitude is below [`ZERO_BELOW`].
    #[serde(default, skip_serializing_if = "is_zero")]
    zero: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// A position on the ordered axis of bins: negatives from the most negative up, zero, positives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum BinKey {
    Negative(std::cmp::Reverse<i32>),
    Zero,
    Positive(i32),
}

impl ValueHistogram {
    /// Adds one value. NaN and infinite values are ignored and reported as false.
    pub fn add(&mut self, value: f64) -> bool {
        if !value.is_finite() {
            return false;
        }
        let magnitude = value.abs();
        if magnitude < ZERO_BELOW {
            self.zero += 1;
            return true;
        }
        let index = (magnitude.ln() / BIN_GROWTH.ln()).ceil() as i32;
        let side = if value > 0.0 {
            &mut self.positive
        } else {
            &mut self.negative
        };
        *side.entry(index).or_insert(0) += 1;
        true
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: &ValueHistogram) {
        for (index, count) in &other.positive {
            *self.positive.entry(*index).or_insert(0) += count;
        }
        for (index, count) in &other.negative {
            *self.negative.entry(*index).or_insert(0) += count;
        }
        self.zero += other.zero;
    }

    /// Returns the number of values.
    pub fn count(&self) -> u64 {
        self.positive.values().sum::<u64>() + self.negative.values().sum::<u64>() + self.zero
    }

    fn counts_by_key(&self) -> BTreeMap<BinKey, u64> {
        let mut counts = BTreeMap::new();
        for (index, count) in &self.negative {
            counts.insert(BinKey::Negative(std::cmp::Reverse(*index)), *count);
        }
        if self.zero > 0 {
            counts.insert(BinKey::Zero, self.zero);
        }
        for (index, count) in &self.positive {
            counts.insert(BinKey::Positive(*index), *count);
        }
        counts
    }

    /// Returns the counts of both histograms over the union of their non-empty bins, in value order.
    pub fn aligned_counts(&self, other: &ValueHistogram) -> (Vec<u64>, Vec<u64>) {
        let left = self.counts_by_key();
        let right = other.counts_by_key();
        let mut keys: Vec<BinKey> = left.keys().chain(right.keys()).copied().collect();
        keys.sort();
        keys.dedup();
        let pick =
            |counts: &BTreeMap<BinKey, u64>| keys.iter().map(|key| counts.get(key).copied().unwrap_or(0)).collect();
        (pick(&left), pick(&right))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_histogram_orders_negative_zero_positive() {
        let mut reference = ValueHistogram::default();
        for value in [-100.0, -1.0, 0.0, 1.0, 100.0] {
            assert!(reference.add(value));
        }
        let mut current = ValueHistogram::default();
        current.add(-100.0);
        let (left, right) = reference.aligned_counts(&current);
        assert_eq!(left, vec![1, 1, 1, 1, 1]);
        assert_eq!(right, vec![1, 0, 0, 0, 0]);
    }

    #[test]
    fn value_histogram_ignores_non_finite() {
        let mut histogram = ValueHistogram::default();
        assert!(!histogram.add(f64::NAN));
        assert!(!histogram.add(f64::INFINITY));
        assert_eq!(histogram.count(), 0);
    }

    #[test]
    fn value_histogram_merge_adds_counts() {
        let mut left = ValueHistogram::default();
        left.add(3.0);
        let mut right = ValueHistogram::default();
        right.add(3.0);
        right.add(-3.0);
        left.merge(&right);
        assert_eq!(left.count(), 3);
        let (counts, _) = left.aligned_counts(&ValueHistogram::default());
        assert_eq!(counts, vec![1, 2]);
    }

    #[test]
    fn value_histogram_bins_are_five_percent_wide() {
        let mut histogram = ValueHistogram::default();
        histogram.add(1.0);
        histogram.add(1.04);
        histogram.add(1.06);
        let (counts, _) = histogram.aligned_counts(&ValueHistogram::default());
        assert_eq!(counts, vec![1, 1, 1]);
    }
}
