//! Latency quantiles from a mergeable sketch with a stated relative error.
//!
//! The sketch follows DDSketch (Masson, Rim and Lee, "DDSketch: a fast and fully-mergeable
//! quantile sketch with relative-error guarantees", VLDB 2019). A latency x > 0 falls in bucket
//! i = ⌈log_γ x⌉ with γ = (1 + α) / (1 − α), so bucket i covers (γ^(i−1), γ^i]. Every bucket
//! reports 2γ^i / (γ + 1), which is within a relative error α of every value it covers.
//!
//! **Quantile definition.** The q-quantile is the sorted value at 0-based rank ⌊q·(n − 1)⌋,
//! which is `numpy.quantile(values, q, method="lower")`. The sketch returns an estimate within
//! [`RELATIVE_ACCURACY`] of that value, relative to it, clamped to the exact minimum and
//! maximum. Latencies below [`MIN_INDEXABLE_MS`] are counted as zero and reported as 0.
//!
//! The number of buckets grows with log(max / min), not with the number of records: latencies
//! from 1 µs to 1 hour need at most about 1,100 buckets at 1% accuracy. The sketch serialises
//! only the buckets in use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{summation::CompensatedSum, Metric, MetricsError};

/// Relative accuracy α of every quantile the sketch reports: 1%.
pub const RELATIVE_ACCURACY: f64 = 0.01;

/// Latencies below this many milliseconds count as zero (a picosecond is below any clock).
pub const MIN_INDEXABLE_MS: f64 = 1e-9;

/// Mergeable latency sketch, in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredLatencySketch")]
pub struct LatencySketch {
    /// The relative accuracy the buckets were built for; states merge only with equal values.
    relative_accuracy: f64,
    count: u64,
    /// Latencies below [`MIN_INDEXABLE_MS`].
    zero_count: u64,
    /// Non-empty buckets: index i counts latencies in (γ^(i−1), γ^i].
    buckets: BTreeMap<i32, u64>,
    sum_ms: CompensatedSum,
    min_ms: Option<f64>,
    max_ms: Option<f64>,
}

/// The serialised form of [`LatencySketch`], validated before it becomes a sketch.
#[derive(Deserialize)]
struct StoredLatencySketch {
    relative_accuracy: f64,
    count: u64,
    zero_count: u64,
    buckets: BTreeMap<i32, u64>,
    sum_ms: CompensatedSum,
    min_ms: Option<f64>,
    max_ms: Option<f64>,
}

impl TryFrom<StoredLatencySketch> for LatencySketch {
    type Error = MetricsError;

    fn try_from(stored: StoredLatencySketch) -> Result<Self, Self::Error> {
        let mut sketch = LatencySketch::with_relative_accuracy(stored.relative_accuracy)?;
        let bucket_total: u64 = stored.buckets.values().sum();
        let bounds_present = stored.min_ms.is_some() && stored.max_ms.is_some();
        if bucket_total + stored.zero_count != stored.count || bounds_present != (stored.count > 0) {
            return Err(MetricsError::Invalid(format!(
                "stored latency sketch counts {} records but its buckets hold {}; \
                 the stored aggregate is corrupt, so rebuild it from the raw records",
                stored.count,
                bucket_total + stored.zero_count
            )));
        }
        sketch.count = stored.count;
        sketch.zero_count = stored.zero_count;
        sketch.buckets = stored.buckets;
        sketch.sum_ms = stored.sum_ms;
        sketch.min_ms = stored.min_ms;
        sketch.max_ms = stored.max_ms;
        Ok(sketch)
    }
}

/// Latency summary computed from a [`LatencySketch`], in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyMetrics {
    /// Number of latencies.
    pub count: u64,
    /// Mean latency (exact).
    pub mean_ms: Metric,
    /// Median, within the sketch's relative accuracy.
    pub p50_ms: Metric,
    /// 90th percentile, within the sketch's relative accuracy.
    pub p90_ms: Metric,
    /// 95th percentile, within the sketch's relative accuracy.
    pub p95_ms: Metric,
    /// 99th percentile, within the sketch's relative accuracy.
    pub p99_ms: Metric,
    /// Largest latency (exact).
    pub max_ms: Metric,
}

const NO_RECORDS: &str = "no latencies in the window";

impl Default for LatencySketch {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencySketch {
    /// Creates an empty sketch with the default [`RELATIVE_ACCURACY`].
    pub fn new() -> Self {
        Self {
            relative_accuracy: RELATIVE_ACCURACY,
            count: 0,
            zero_count: 0,
            buckets: BTreeMap::new(),
            sum_ms: CompensatedSum::new(),
            min_ms: None,
            max_ms: None,
        }
    }

    /// Creates an empty sketch whose quantiles are within `relative_accuracy` (0 < α < 1).
    pub fn with_relative_accuracy(relative_accuracy: f64) -> Result<Self, MetricsError> {
        // A bucket index must fit in i32 for every finite latency: log_γ(f64::MAX) < 2^31.
        if !(1e-6..1.0).contains(&relative_accuracy) {
            return Err(MetricsError::OutOfRange {
                field: "relative_accuracy",
                value: relative_accuracy,
                expected: "in [1e-6, 1)",
            });
        }
        Ok(Self {
            relative_accuracy,
            ..Self::new()
        })
    }

    /// Returns the relative accuracy α of the reported quantiles.
    pub fn relative_accuracy(&self) -> f64 {
        self.relative_accuracy
    }

    /// Returns the number of latencies.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Returns the number of non-empty buckets, which bounds the serialised size.
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// Adds one latency in milliseconds. It must be finite and not negative.
    pub fn update(&mut self, latency_ms: f64) -> Result<(), MetricsError> {
        if !latency_ms.is_finite() {
            return Err(MetricsError::NotFinite {
                field: "latency_ms",
                value: latency_ms,
            });
        }
        if latency_ms < 0.0 {
            return Err(MetricsError::OutOfRange {
                field: "latency_ms",
                value: latency_ms,
                expected: "0 or more",
            });
        }

        if latency_ms < MIN_INDEXABLE_MS {
            self.zero_count += 1;
        } else {
            *self.buckets.entry(self.bucket_index(latency_ms)).or_insert(0) += 1;
        }
        self.count += 1;
        self.sum_ms.add(latency_ms);
        self.min_ms = Some(self.min_ms.map_or(latency_ms, |min| min.min(latency_ms)));
        self.max_ms = Some(self.max_ms.map_or(latency_ms, |max| max.max(latency_ms)));
        Ok(())
    }

    /// Folds another sketch into this one. Both must have the same relative accuracy.
    pub fn merge(&mut self, other: &LatencySketch) -> Result<(), MetricsError> {
        if self.relative_accuracy != other.relative_accuracy {
            return Err(MetricsError::Incompatible {
                what: "relative accuracy",
                left: self.relative_accuracy.to_string(),
                right: other.relative_accuracy.to_string(),
            });
        }
        for (index, count) in &other.buckets {
            *self.buckets.entry(*index).or_insert(0) += count;
        }
        self.count += other.count;
        self.zero_count += other.zero_count;
        self.sum_ms.merge(&other.sum_ms);
        self.min_ms = combine_options(self.min_ms, other.min_ms, f64::min);
        self.max_ms = combine_options(self.max_ms, other.max_ms, f64::max);
        Ok(())
    }

    /// Returns the q-quantile within the relative accuracy, or `None` when the sketch is empty or
    /// q is outside [0, 1].
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let (min_ms, max_ms) = (self.min_ms?, self.max_ms?);
        if !(0.0..=1.0).contains(&q) {
            return None;
        }

        // The record at 0-based rank ⌊q·(n − 1)⌋ is in the first bucket whose cumulative count
        // passes that rank.
        let rank = (q * (self.count - 1) as f64).floor() as u64;
        if rank < self.zero_count {
            return Some(0.0);
        }
        let mut cumulative = self.zero_count;
        for (index, count) in &self.buckets {
            cumulative += count;
            if cumulative > rank {
                return Some(self.bucket_value(*index).clamp(min_ms, max_ms));
            }
        }
        Some(max_ms)
    }

    /// Computes the summary. Every metric is null with a reason when the sketch is empty.
    pub fn compute(&self) -> LatencyMetrics {
        let quantile = |q: f64| self.quantile(q).map_or(Metric::Undefined(NO_RECORDS), Metric::Value);
        let mean_ms = if self.count == 0 {
            Metric::Undefined(NO_RECORDS)
        } else {
            Metric::finite_or(self.sum_ms.value() / self.count as f64, "the latency sum overflowed")
        };
        LatencyMetrics {
            count: self.count,
            mean_ms,
            p50_ms: quantile(0.5),
            p90_ms: quantile(0.9),
            p95_ms: quantile(0.95),
            p99_ms: quantile(0.99),
            max_ms: self.max_ms.map_or(Metric::Undefined(NO_RECORDS), Metric::Value),
        }
    }

    fn gamma(&self) -> f64 {
        (1.0 + self.relative_accuracy) / (1.0 - self.relative_accuracy)
    }

    fn bucket_index(&self, latency_ms: f64) -> i32 {
        (latency_ms.ln() / self.gamma().ln()).ceil() as i32
    }

    fn bucket_value(&self, index: i32) -> f64 {
        let gamma = self.gamma();
        2.0 * gamma.powi(index) / (gamma + 1.0)
    }
}

fn combine_options(left: Option<f64>, right: Option<f64>, pick: fn(f64, f64) -> f64) -> Option<f64> {
    match (left, right) {
        (Some(left), Some(right)) => Some(pick(left, right)),
        (left, None) => left,
        (None, right) => right,
    }
}
