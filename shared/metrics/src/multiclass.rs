//! Multiclass classification metrics over a fixed, ordered list of class labels.
//!
//! Definitions follow scikit-learn 1.9.1 (`sklearn.metrics`) called without `labels`, so the
//! averages run over the classes that occur among the actuals or the predictions:
//!
//! - per class: precision = tp / predicted, recall = tp / support, f1 = 2·tp / (support + predicted);
//! - `macro_*` is the unweighted mean over those classes, `weighted_*` the mean weighted by support;
//! - `log_loss` = mean of −ln(p of the actual class), with p clipped to [ε, 1 − ε] and
//!   ε = `f64::EPSILON`, as `log_loss` does;
//! - `brier` = mean over records of Σ over classes of (p − 1 if actual else p)², as
//!   `brier_score_loss` computes it for three or more classes. With two classes that sum is
//!   halved, as `brier_score_loss` does by default (`scale_by_half="auto"`), so it equals the
//!   binary Brier score of either class;
//! - `roc_auc_ovr_macro` = mean over classes k of the ROC-AUC with which the probability of k
//!   separates the records of class k from the rest, as `roc_auc_score(multi_class="ovr",
//!   average="macro")` computes it. It is null when a class never occurs among the actuals,
//!   where scikit-learn raises an error.
//!
//! An undefined per-class value (precision of a class never predicted, recall of a class that
//! never occurred) is null, where scikit-learn reports 0 with a warning. The averages still
//! count it as 0, as scikit-learn's default `zero_division="warn"` does, so `macro_*` and
//! `weighted_*` equal scikit-learn's numbers. A class that neither occurred nor was predicted
//! is left out of the averages, and its own values are null.

mod averages;
mod probabilities;

use serde::{Deserialize, Serialize};

pub use probabilities::{argmax, roc_auc_ovr_macro_exact, PROBABILITY_SUM_TOLERANCE};

use crate::{histogram::ScoreHistogram, summation::CompensatedSum, Metric, MetricsError};
use averages::Averages;
use probabilities::{log_loss_term, macro_average, squared_error_term, validate_probabilities};

/// One model output for a multiclass record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClassPrediction<'a> {
    /// The predicted class label.
    Label(&'a str),
    /// One probability per class, in the state's class order. The predicted class is the
    /// first class with the largest probability, as `numpy.argmax` picks it.
    Probabilities(&'a [f64]),
}

/// Mergeable state of the multiclass metrics: a confusion matrix, probability sums, and one
/// score histogram per class for the one-vs-rest ROC-AUC.
///
/// NOTE: a stored state grows with the number of histogram bins in use, up to about 100 KB per
/// class when every bin is filled, so a long window over many classes can pass DynamoDB's
/// 400 KB item limit. Hourly aggregates of a few thousand records stay far below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredMulticlassState")]
pub struct MulticlassState {
    classes: Vec<String>,
    /// Counts by actual class (rows) and predicted class (columns), in class order.
    confusion: Vec<Vec<u64>>,
    /// Records that came with per-class probabilities.
    probability_count: u64,
    log_loss_sum: CompensatedSum,
    /// Sum over records of Σ (p − one-hot)², not yet halved for two classes.
    squared_error_sum: CompensatedSum,
    /// Per class, its probability on each record, split by whether the record is of that class.
    histograms: Vec<ScoreHistogram>,
}

/// The serialised form of [`MulticlassState`], validated before it becomes a state.
#[derive(Deserialize)]
struct StoredMulticlassState {
    classes: Vec<String>,
    confusion: Vec<Vec<u64>>,
    probability_count: u64,
    log_loss_sum: CompensatedSum,
    squared_error_sum: CompensatedSum,
    histograms: Vec<ScoreHistogram>,
}

impl TryFrom<StoredMulticlassState> for MulticlassState {
    type Error = MetricsError;

    fn try_from(stored: StoredMulticlassState) -> Result<Self, Self::Error> {
        let mut state = MulticlassState::new(stored.classes)?;
        let classes = state.classes.len();
        if stored.confusion.len() != classes {
            return Err(MetricsError::LengthMismatch {
                what: "confusion matrix",
                expected: classes,
                got: stored.confusion.len(),
            });
        }
        if let Some(row) = stored.confusion.iter().find(|row| row.len() != classes) {
            return Err(MetricsError::LengthMismatch {
                what: "confusion matrix row",
                expected: classes,
                got: row.len(),
            });
        }
        state.confusion = stored.confusion;
        if stored.probability_count > state.count() {
            return Err(MetricsError::Invalid(format!(
                "stored multiclass state counts {} records with probabilities but only {} records; \
                 the stored aggregate is corrupt, so rebuild it from the raw records",
                stored.probability_count,
                state.count()
            )));
        }
        state.probability_count = stored.probability_count;
        state.log_loss_sum = stored.log_loss_sum;
        state.squared_error_sum = stored.squared_error_sum;

        // Each histogram counts every record with probabilities once, and exactly one of them
        // counts it as a positive.
        if stored.histograms.len() != classes {
            return Err(MetricsError::LengthMismatch {
                what: "histograms",
                expected: classes,
                got: stored.histograms.len(),
            });
        }
        let positives: u64 = stored.histograms.iter().map(ScoreHistogram::positive_count).sum();
        let consistent = positives == stored.probability_count
            && stored
                .histograms
                .iter()
                .all(|histogram| histogram.count() == stored.probability_count);
        if !consistent {
            return Err(MetricsError::Invalid(format!(
                "stored multiclass state counts {} records with probabilities but its histograms disagree; \
                 the stored aggregate is corrupt, so rebuild it from the raw records",
                stored.probability_count
            )));
        }
        state.histograms = stored.histograms;
        Ok(state)
    }
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    /// The class label.
    pub class: String,
    /// tp / records predicted as this class; null when it was never predicted.
    pub precision: Metric,
    /// tp / records of this class; null when it never occurred.
    pub recall: Metric,
    /// 2·tp / (support + predicted); null when the class neither occurred nor was predicted.
    pub f1: Metric,
    /// Records whose actual is this class.
    pub support: u64,
}

/// Multiclass metrics computed from a [`MulticlassState`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MulticlassMetrics {
    /// Number of records.
    pub count: u64,
    /// Share of records whose predicted class is the actual class.
    pub accuracy: Metric,
    /// Unweighted mean of the per-class precisions.
    pub macro_precision: Metric,
    /// Unweighted mean of the per-class recalls.
    pub macro_recall: Metric,
    /// Unweighted mean of the per-class F1 scores.
    pub macro_f1: Metric,
    /// Mean of the per-class precisions weighted by support.
    pub weighted_precision: Metric,
    /// Mean of the per-class recalls weighted by support (equal to accuracy).
    pub weighted_recall: Metric,
    /// Mean of the per-class F1 scores weighted by support.
    pub weighted_f1: Metric,
    /// Mean negative log-likelihood of the actual class; needs probabilities on every record.
    pub log_loss: Metric,
    /// Multiclass Brier score; needs probabilities on every record.
    pub brier: Metric,
    /// One-vs-rest ROC-AUC averaged over classes, from the per-class score histograms; needs
    /// probabilities on every record. It is within
    /// [`MulticlassState::roc_auc_ovr_macro_error_bound`] of the exact value, which
    /// [`roc_auc_ovr_macro_exact`] computes from raw probabilities.
    pub roc_auc_ovr_macro: Metric,
    /// Per-class values, in class order.
    pub per_class: Vec<ClassMetrics>,
    /// Counts by actual class (rows) and predicted class (columns), in class order.
    pub confusion_matrix: Vec<Vec<u64>>,
}

const NO_RECORDS: &str = "no records in the window";
const NEVER_PREDICTED: &str = "the class was never predicted, so precision divides by zero";
const NEVER_OCCURRED: &str = "the class never occurred among the actuals, so recall divides by zero";
const ABSENT: &str = "the class neither occurred nor was predicted";
const LABELS_ONLY: &str = "some records carry only a predicted label, not per-class probabilities";

impl MulticlassState {
    /// Creates an empty state over `classes`, in the order probabilities will be given.
    ///
    /// Needs at least two distinct, non-empty labels.
    pub fn new(classes: Vec<String>) -> Result<Self, MetricsError> {
        if classes.len() < 2 {
            return Err(MetricsError::Invalid(format!(
                "a multiclass model needs at least two classes, got {classes:?}; list every class the model can predict"
            )));
        }
        if classes.iter().any(String::is_empty) {
            return Err(MetricsError::Invalid(format!(
                "class labels must not be empty, got {classes:?}; give every class a name"
            )));
        }
        for (index, label) in classes.iter().enumerate() {
            if classes[..index].contains(label) {
                return Err(MetricsError::Invalid(format!(
                    "class {label:?} appears twice in {classes:?}; list each class once"
                )));
            }
        }

        let size = classes.len();
        Ok(Self {
            classes,
            confusion: vec![vec![0; size]; size],
            probability_count: 0,
            log_loss_sum: CompensatedSum::new(),
            squared_error_sum: CompensatedSum::new(),
            histograms: vec![ScoreHistogram::new(); size],
        })
    }

    /// Returns the class labels, in order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Returns the number of records.
    pub fn count(&self) -> u64 {
        self.confusion.iter().flatten().sum()
    }

    /// Returns how many records were predicted as each class, in class order.
    pub fn predicted_counts(&self) -> Vec<u64> {
        (0..self.classes.len())
            .map(|column| self.confusion.iter().map(|row| row[column]).sum())
            .collect()
    }

    /// Returns the position of `label` in the class list, or an error naming the known classes.
    pub fn class_index(&self, label: &str) -> Result<usize, MetricsError> {
        self.classes
            .iter()
            .position(|class| class == label)
            .ok_or_else(|| MetricsError::UnknownClass {
                label: label.to_string(),
                expected: self.classes.clone(),
            })
    }

    /// Adds one record. The state is unchanged when the record is rejected.
    pub fn update(&mut self, prediction: ClassPrediction<'_>, actual: &str) -> Result<(), MetricsError> {
        let actual_index = self.class_index(actual)?;
        let predicted_index = match prediction {
            ClassPrediction::Label(label) => self.class_index(label)?,
            ClassPrediction::Probabilities(probabilities) => {
                let predicted_index = validate_probabilities(probabilities, self.classes.len())?;
                for (class, (histogram, probability)) in self.histograms.iter_mut().zip(probabilities).enumerate() {
                    histogram.add(*probability, Some(class == actual_index))?;
                }
                self.probability_count += 1;
                self.log_loss_sum.add(log_loss_term(probabilities[actual_index]));
                self.squared_error_sum
                    .add(squared_error_term(probabilities, actual_index));
                predicted_index
            }
        };
        self.confusion[actual_index][predicted_index] += 1;
        Ok(())
    }

    /// Folds another state into this one. Both must have the same classes in the same order.
    pub fn merge(&mut self, other: &MulticlassState) -> Result<(), MetricsError> {
        if self.classes != other.classes {
            return Err(MetricsError::Incompatible {
                what: "classes",
                left: format!("{:?}", self.classes),
                right: format!("{:?}", other.classes),
            });
        }
        for (row, other_row) in self.confusion.iter_mut().zip(&other.confusion) {
            for (cell, other_cell) in row.iter_mut().zip(other_row) {
                *cell += other_cell;
            }
        }
        self.probability_count += other.probability_count;
        self.log_loss_sum.merge(&other.log_loss_sum);
        self.squared_error_sum.merge(&other.squared_error_sum);
        for (histogram, other_histogram) in self.histograms.iter_mut().zip(&other.histograms) {
            histogram.merge(other_histogram);
        }
        Ok(())
    }

    /// Computes the metrics. Every metric is null with a reason when there are no records.
    pub fn compute(&self) -> MulticlassMetrics {
        let count = self.count();
        let per_class = self.per_class();
        let averages = Averages::over(&per_class, count, &self.predicted_counts());

        let accuracy = if count == 0 {
            Metric::Undefined(NO_RECORDS)
        } else {
            let correct: u64 = (0..self.classes.len()).map(|index| self.confusion[index][index]).sum();
            Metric::Value(correct as f64 / count as f64)
        };
        let probability_metrics = self.probability_metrics(count);

        MulticlassMetrics {
            count,
            accuracy,
            macro_precision: averages.macro_precision,
            macro_recall: averages.macro_recall,
            macro_f1: averages.macro_f1,
            weighted_precision: averages.weighted_precision,
            weighted_recall: averages.weighted_recall,
            weighted_f1: averages.weighted_f1,
            log_loss: probability_metrics.log_loss,
            brier: probability_metrics.brier,
            roc_auc_ovr_macro: probability_metrics.roc_auc_ovr_macro,
            per_class,
            confusion_matrix: self.confusion.clone(),
        }
    }

    fn per_class(&self) -> Vec<ClassMetrics> {
        let predicted_counts = self.predicted_counts();
        self.classes
            .iter()
            .enumerate()
            .map(|(index, class)| {
                let true_positives = self.confusion[index][index] as f64;
                let support: u64 = self.confusion[index].iter().sum();
                let predicted = predicted_counts[index];
                ClassMetrics {
                    class: class.clone(),
                    precision: ratio(true_positives, predicted, NEVER_PREDICTED),
                    recall: ratio(true_positives, support, NEVER_OCCURRED),
                    f1: ratio(2.0 * true_positives, support + predicted, ABSENT),
                    support,
                }
            })
            .collect()
    }

    /// Returns the largest possible difference between the binned `roc_auc_ovr_macro` and the
    /// exact one on the raw probabilities: the mean of the per-class histogram bounds.
    ///
    /// Returns `None` when the binned value is undefined.
    pub fn roc_auc_ovr_macro_error_bound(&self) -> Option<f64> {
        let bounds: Option<Vec<f64>> = self
            .histograms
            .iter()
            .map(ScoreHistogram::roc_auc_error_bound)
            .collect();
        let bounds = bounds?;
        let count = self.count();
        if count == 0 || self.probability_count != count {
            return None;
        }
        Some(bounds.iter().sum::<f64>() / bounds.len() as f64)
    }

    fn probability_metrics(&self, count: u64) -> ProbabilityMetrics {
        let undefined = |reason| ProbabilityMetrics {
            log_loss: Metric::Undefined(reason),
            brier: Metric::Undefined(reason),
            roc_auc_ovr_macro: Metric::Undefined(reason),
        };
        if count == 0 {
            return undefined(NO_RECORDS);
        }
        if self.probability_count != count {
            return undefined(LABELS_ONLY);
        }

        let count = count as f64;
        let scale = if self.classes.len() == 2 { 0.5 } else { 1.0 };
        ProbabilityMetrics {
            log_loss: Metric::Value(self.log_loss_sum.value() / count),
            brier: Metric::Value(scale * self.squared_error_sum.value() / count),
            roc_auc_ovr_macro: macro_average(self.histograms.iter().map(ScoreHistogram::roc_auc)),
        }
    }
}

/// The metrics that need per-class probabilities on every record.
struct ProbabilityMetrics {
    log_loss: Metric,
    brier: Metric,
    roc_auc_ovr_macro: Metric,
}

fn ratio(numerator: f64, denominator: u64, reason: &'static str) -> Metric {
    if denominator == 0 {
        Metric::Undefined(reason)
    } else {
        Metric::Value(numerator / denominator as f64)
    }
}
