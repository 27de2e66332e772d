//! Expected calibration error and the reliability table, over ten equal-width score bins.

use serde::{Deserialize, Serialize};

use crate::{histogram::check_probability, summation::CompensatedSum, Metric, MetricsError};

/// Number of equal-width calibration bins over [0, 1].
pub const CALIBRATION_BINS: usize = 10;

const NO_LABELLED: &str = "no labelled records";
const EMPTY_BIN: &str = "no records in this bin";

/// Mergeable calibration state: per bin, the record count, the sum of scores and the number of
/// positive actuals.
///
/// Bin `k` contains scores in `[k / 10, (k + 1) / 10)`, and the last bin also contains 1.0. The index
/// is `min(floor(10 * score), 9)` computed in `f64`, so a score written as 0.3 lands in
/// `[0.3, 0.4)` even though the nearest `f64` to 0.3 is slightly below it.
///
/// scikit-learn has no ECE function. Its `calibration_curve(strategy="uniform")` closes bins on
/// the right instead, so scores on a bin edge can fall in a different bin there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CalibrationState {
    count: [u64; CALIBRATION_BINS],
    positive: [u64; CALIBRATION_BINS],
    score_sum: [CompensatedSum; CALIBRATION_BINS],
}

/// One row of the reliability table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReliabilityBin {
    /// Lower bin edge, included.
    pub lower: f64,
    /// Upper bin edge, excluded except for the last bin.
    pub upper: f64,
    /// Records whose score falls in the bin.
    pub count: u64,
    /// Mean score of those records; undefined for an empty bin.
    pub mean_score: Metric,
    /// Share of those records whose actual is positive; undefined for an empty bin.
    pub positive_rate: Metric,
}

impl CalibrationState {
    /// Creates an empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the calibration bin of `score`.
    ///
    /// # Errors
    /// [`MetricsError::NotFinite`] or [`MetricsError::NotProbability`] naming the score.
    pub fn bin_index(score: f64) -> Result<usize, MetricsError> {
        check_probability("score", score)?;
        Ok(((score * CALIBRATION_BINS as f64).floor() as usize).min(CALIBRATION_BINS - 1))
    }

    /// Adds one labelled record.
    ///
    /// # Errors
    /// [`MetricsError::NotFinite`] or [`MetricsError::NotProbability`] naming the score; the
    /// state is unchanged.
    pub fn update(&mut self, score: f64, actual: bool) -> Result<(), MetricsError> {
        let bin = Self::bin_index(score)?;
        self.count[bin] += 1;
        self.positive[bin] += u64::from(actual);
        self.score_sum[bin].add(score);
        Ok(())
    }

    /// Adds the counts and sums of `other` into this state.
    pub fn merge(&mut self, other: &CalibrationState) {
        for bin in 0..CALIBRATION_BINS {
            self.count[bin] += other.count[bin];
            self.positive[bin] += other.positive[bin];
            self.score_sum[bin].merge(&other.score_sum[bin]);
        }
    }

    /// Returns the number of records added.
    pub fn count(&self) -> u64 {
        self.count.iter().sum()
    }

    /// Computes the expected calibration error.
    ///
    /// `ECE = sum over bins b of (n_b / n) * |mean_score_b - positive_rate_b|`, over the ten
    /// equal-width bins. Range [0, 1], lower is better. Undefined with no records.
    pub fn ece(&self) -> Metric {
        let total = self.count();
        if total == 0 {
            return Metric::Undefined(NO_LABELLED);
        }
        let mut weighted_gap = CompensatedSum::new();
        for bin in 0..CALIBRATION_BINS {
            let count = self.count[bin];
            if count == 0 {
                continue;
            }
            let mean_score = self.score_sum[bin].value() / count as f64;
            let positive_rate = self.positive[bin] as f64 / count as f64;
            weighted_gap.add(count as f64 * (mean_score - positive_rate).abs());
        }
        Metric::Value(weighted_gap.value() / total as f64)
    }

    /// Builds the reliability table: one row per bin, empty bins included.
    pub fn reliability(&self) -> Vec<ReliabilityBin> {
        (0..CALIBRATION_BINS)
            .map(|bin| {
                let count = self.count[bin];
                let (mean_score, positive_rate) = if count == 0 {
                    (Metric::Undefined(EMPTY_BIN), Metric::Undefined(EMPTY_BIN))
                } else {
                    (
                        Metric::Value(self.score_sum[bin].value() / count as f64),
                        Metric::Value(self.positive[bin] as f64 / count as f64),
                    )
                };
                ReliabilityBin {
                    lower: bin as f64 / CALIBRATION_BINS as f64,
                    upper: (bin + 1) as f64 / CALIBRATION_BINS as f64,
                    count,
                    mean_score,
                    positive_rate,
                }
            })
            .collect()
    }

    pub(crate) fn positives_total(&self) -> u64 {
        self.positive.iter().sum()
    }

    /// Checks that no bin has more positives than records, for states read from storage.
    pub(crate) fn validate(&self) -> Result<(), MetricsError> {
        for bin in 0..CALIBRATION_BINS {
            if self.positive[bin] > self.count[bin] {
                return Err(MetricsError::Invalid(format!(
                    "calibration bin {bin} has {} positives but only {} records, so the stored state is corrupt",
                    self.positive[bin], self.count[bin]
                )));
            }
        }
        Ok(())
    }
}
