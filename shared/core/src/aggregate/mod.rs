//! Mergeable aggregates of predictions: one per model version and UTC hour, rolled up per day
//! and merged into windows.
//!
//! An [`Aggregate`] holds everything a window's metrics need, so a window never reads raw
//! predictions: the prediction volume, the latency sketch, the distribution of every
//! prediction for drift, and for the labelled predictions the task's performance state, a
//! label-delay sketch and the betting state. Merging is exact for counts and sums, and the
//! sketches and histograms merge bin by bin, so a window merged from hours or from days gives
//! the same metrics.

mod classes;
mod segments;
mod value_histogram;

use std::collections::BTreeMap;

use mpt_metrics::{
    binary::BinaryState, histogram::ScoreHistogram, latency::LatencySketch, regression::RegressionState,
    value::BettingState, MetricsError,
};
use serde::{Deserialize, Serialize};

use crate::{
    model::{ModelConfig, Task},
    record::{ActualValue, PredictionValue},
    store::StoredPrediction,
};

pub use classes::OpenClassState;
pub use segments::{AggregateSet, MAX_SEGMENT_KEYS, MAX_SEGMENT_VALUES, OTHER_SEGMENT_VALUE};
pub use value_histogram::{ValueHistogram, BIN_GROWTH, ZERO_BELOW};

/// A failure to build or merge aggregates, naming the cause and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AggregateError {
    /// Two aggregates of different tasks.
    #[error(
        "cannot merge a {left} aggregate with a {right} aggregate; the model's task changed, so rebuild its aggregates"
    )]
    TaskMismatch {
        /// Task of the aggregate merged into.
        left: &'static str,
        /// Task of the other aggregate.
        right: &'static str,
    },
    /// The metric states refused to merge (different thresholds, classes or sketch settings).
    #[error("cannot merge aggregates: {0}")]
    Metrics(#[from] MetricsError),
}

/// The distribution of every prediction, labelled or not, that drift compares between windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Binary scores. Only the unlabelled ones are kept here: the labelled ones are already in
    /// the histogram of the binary performance state, and the two add up to every score.
    Binary {
        /// Scores of the predictions without an actual.
        unlabelled: ScoreHistogram,
    },
    /// Multiclass predictions: the count of each predicted class.
    Multiclass {
        /// Predictions by predicted class label.
        predicted: BTreeMap<String, u64>,
    },
    /// Regression predictions on fixed logarithmic bins.
    Regression {
        /// Predicted values.
        values: ValueHistogram,
    },
}

/// The performance state of the labelled predictions, by task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Performance {
    /// Binary classification, boxed because it is several times larger than the others.
    Binary(Box<BinaryState>),
    /// Multiclass classification, over a class list that may grow when none was registered.
    Multiclass(OpenClassState),
    /// Regression.
    Regression(RegressionState),
}

impl Performance {
    fn task(&self) -> Task {
        match self {
            Performance::Binary(_) => Task::Binary,
            Performance::Multiclass(_) => Task::Multiclass,
            Performance::Regression(_) => Task::Regression,
        }
    }
}

/// Everything the metrics of a span of predictions need, mergeable with other spans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Predictions folded in.
    pub predictions: u64,
    /// Those of them with an actual.
    pub labelled: u64,
    /// Predictions left out because their values do not fit the model's task (for example a
    /// label sent to a binary model before it was re-registered), so the other counts exclude them.
    #[serde(default)]
    pub skipped: u64,
    /// Latency of the predictions that reported one, in milliseconds.
    pub latency: LatencySketch,
    /// Seconds from prediction timestamp to actual timestamp, for labelled predictions; an actual
    /// timestamped before its prediction counts as zero.
    pub label_delay: LatencySketch,
    /// Distribution of every prediction, for drift.
    pub distribution: Distribution,
    /// Performance state of the labelled predictions.
    pub performance: Performance,
    /// Settled bets of the labelled predictions that carried one.
    pub betting: BettingState,
}

impl Aggregate {
    /// Builds an empty aggregate for a model's task and settings.
    pub fn empty(config: &ModelConfig) -> Result<Self, AggregateError> {
        let (distribution, performance) = match config.task {
            Task::Binary => (
                Distribution::Binary {
                    unlabelled: ScoreHistogram::new(),
                },
                Performance::Binary(Box::new(BinaryState::new(config.threshold)?)),
            ),
            Task::Multiclass => (
                Distribution::Multiclass {
                    predicted: BTreeMap::new(),
                },
                Performance::Multiclass(OpenClassState::new(config.classes.clone())?),
            ),
            Task::Regression => (
                Distribution::Regression {
                    values: ValueHistogram::default(),
                },
                Performance::Regression(RegressionState::new()),
            ),
        };
        Ok(Self {
            predictions: 0,
            labelled: 0,
            skipped: 0,
            latency: LatencySketch::new(),
            label_delay: LatencySketch::new(),
            distribution,
            performance,
            betting: BettingState::new(),
        })
    }

    /// Returns the task the aggregate was built for.
    pub fn task(&self) -> Task {
        self.performance.task()
    }

    /// Folds one stored prediction in. A prediction whose values do not fit the task is counted
    /// in `skipped` and leaves everything else unchanged.
    pub fn fold(&mut self, prediction: &StoredPrediction) {
        if self.fold_prediction(prediction).is_err() {
            self.skipped += 1;
            return;
        }
        self.predictions += 1;

        // Latency and bets are optional extras: an invalid one does not undo the prediction.
        if let Some(latency_ms) = prediction.latency_ms {
            let _ = self.latency.update(latency_ms);
        }
        let Some(actual) = &prediction.actual else {
            return;
        };
        self.labelled += 1;
        if let Some(actual_at) = prediction.actual_timestamp {
            let delay_secs = (actual_at - prediction.timestamp).num_milliseconds().max(0) as f64 / 1_000.0;
            let _ = self.label_delay.update(delay_secs);
        }
        if let Some(bet) = &prediction.bet {
            let _ = self
                .betting
                .update(&bet.side.normalized(), bet.odds, bet.stake, &actual.normalized());
        }
    }

    /// Updates the distribution and performance state, or fails without changing either.
    fn fold_prediction(&mut self, prediction: &StoredPrediction) -> Result<(), MetricsError> {
        let actual = prediction.actual.as_ref();
        match (&mut self.performance, &mut self.distribution, &prediction.prediction) {
            (Performance::Binary(state), Distribution::Binary { unlabelled }, PredictionValue::Number(score)) => {
                match actual.map(binary_actual) {
                    None => unlabelled.add(*score, None),
                    Some(Some(positive)) => state.update(*score, positive),
                    Some(None) => Err(MetricsError::Invalid("binary actual must be 0 or 1".into())),
                }
            }
            (Performance::Regression(state), Distribution::Regression { values }, PredictionValue::Number(value)) => {
                if !value.is_finite() {
                    return Err(MetricsError::NotFinite {
                        field: "prediction",
                        value: *value,
                    });
                }
                if let Some(actual) = actual {
                    let actual = actual
                        .as_number()
                        .ok_or_else(|| MetricsError::Invalid("regression actual must be a number".into()))?;
                    state.update(*value, actual)?;
                }
                values.add(*value);
                Ok(())
            }
            (Performance::Multiclass(state), Distribution::Multiclass { predicted }, value) => {
                let label = value
                    .predicted_label()
                    .ok_or_else(|| MetricsError::Invalid("multiclass prediction must be a label".into()))?
                    .to_string();
                if let Some(actual) = actual {
                    let actual = actual
                        .as_label()
                        .ok_or_else(|| MetricsError::Invalid("multiclass actual must be a label".into()))?;
                    state.update(value, actual)?;
                }
                *predicted.entry(label).or_insert(0) += 1;
                Ok(())
            }
            _ => Err(MetricsError::Invalid("prediction does not fit the task".into())),
        }
    }

    /// Merges `other` into this aggregate.
    pub fn merge(&mut self, other: &Aggregate) -> Result<(), AggregateError> {
        if self.task() != other.task() {
            return Err(AggregateError::TaskMismatch {
                left: self.task().as_str(),
                right: other.task().as_str(),
            });
        }
        // Merge every state into copies first, so a failure leaves `self` unchanged.
        let mut latency = self.latency.clone();
        latency.merge(&other.latency)?;
        let mut label_delay = self.label_delay.clone();
        label_delay.merge(&other.label_delay)?;
        let mut betting = self.betting.clone();
        betting.merge(&other.betting)?;
        let mut performance = self.performance.clone();
        match (&mut performance, &other.performance) {
            (Performance::Binary(left), Performance::Binary(right)) => left.merge(right)?,
            (Performance::Regression(left), Performance::Regression(right)) => left.merge(right)?,
            (Performance::Multiclass(left), Performance::Multiclass(right)) => left.merge(right)?,
            _ => unreachable!("tasks were checked equal above"),
        }
        match (&mut self.distribution, &other.distribution) {
            (Distribution::Binary { unlabelled: left }, Distribution::Binary { unlabelled: right }) => {
                left.merge(right)
            }
            (Distribution::Regression { values: left }, Distribution::Regression { values: right }) => {
                left.merge(right)
            }
            (Distribution::Multiclass { predicted: left }, Distribution::Multiclass { predicted: right }) => {
                for (label, count) in right {
                    *left.entry(label.clone()).or_insert(0) += count;
                }
            }
            _ => unreachable!("tasks were checked equal above"),
        }
        self.latency = latency;
        self.label_delay = label_delay;
        self.betting = betting;
        self.performance = performance;
        self.predictions += other.predictions;
        self.labelled += other.labelled;
        self.skipped += other.skipped;
        Ok(())
    }
}

/// Returns a binary actual as a bool, or none when it is not 0, 1, true or false.
fn binary_actual(actual: &ActualValue) -> Option<bool> {
    match actual.as_number() {
        Some(1.0) => Some(true),
        Some(0.0) => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
