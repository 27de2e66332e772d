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
//!   binary Brier score of either class.
//!
//! An undefined per-class value (precision of a class never predicted, recall of a class that
//! never occurred) is null, where scikit-learn reports 0 with a warning. The averages still
//! count it as 0, as scikit-learn's default `zero_division="warn"` does, so `macro_*` and
//! `weighted_*` equal scikit-learn's numbers. A class that neither occurred nor was predicted
//! is left out of the averages, and its own values are null.

use serde::{Deserialize, Serialize};

use crate::{summation::CompensatedSum, Metric, MetricsError};

/// How far the per-class probabilities of one record may sum from 1.
pub const PROBABILITY_SUM_TOLERANCE: f64 = 1e-3;

/// One model output for a multiclass record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClassPrediction<'a> {
    /// The predicted class label.
    Label(&'a str),
    /// One probability per class, in the state's class order. The predicted class is the
    /// first class with the largest probability, as `numpy.argmax` picks it.
    Probabilities(&'a [f64]),
}

/// Mergeable state of the multiclass metrics: a confusion matrix plus probability sums.
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
}

/// The serialised form of [`MulticlassState`], validated before it becomes a state.
#[derive(Deserialize)]
struct StoredMulticlassState {
    classes: Vec<String>,
    confusion: Vec<Vec<u64>>,
    probability_count: u64,
    log_loss_sum: CompensatedSum,
    squared_error_sum: CompensatedSum,
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
        let (log_loss, brier) = self.probability_metrics(count);

        MulticlassMetrics {
            count,
            accuracy,
            macro_precision: averages.macro_precision,
            macro_recall: averages.macro_recall,
            macro_f1: averages.macro_f1,
            weighted_precision: averages.weighted_precision,
            weighted_recall: averages.weighted_recall,
            weighted_f1: averages.weighted_f1,
            log_loss,
            brier,
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

    fn probability_metrics(&self, count: u64) -> (Metric, Metric) {
        if count == 0 {
            return (Metric::Undefined(NO_RECORDS), Metric::Undefined(NO_RECORDS));
        }
        if self.probability_count != count {
            return (Metric::Undefined(LABELS_ONLY), Metric::Undefined(LABELS_ONLY));
        }
        let count = count as f64;
        let scale = if self.classes.len() == 2 { 0.5 } else { 1.0 };
        (
            Metric::Value(self.log_loss_sum.value() / count),
            Metric::Value(scale * self.squared_error_sum.value() / count),
        )
    }
}

/// Checks one record's probabilities and returns the index of the predicted class.
fn validate_probabilities(probabilities: &[f64], classes: usize) -> Result<usize, MetricsError> {
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
fn log_loss_term(probability_of_actual: f64) -> f64 {
    -probability_of_actual.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln()
}

fn squared_error_term(probabilities: &[f64], actual_index: usize) -> f64 {
    probabilities
        .iter()
        .enumerate()
        .map(|(index, probability)| {
            let target = if index == actual_index { 1.0 } else { 0.0 };
            (probability - target) * (probability - target)
        })
        .sum()
}

fn ratio(numerator: f64, denominator: u64, reason: &'static str) -> Metric {
    if denominator == 0 {
        Metric::Undefined(reason)
    } else {
        Metric::Value(numerator / denominator as f64)
    }
}

/// Macro and support-weighted averages of the per-class values.
struct Averages {
    macro_precision: Metric,
    macro_recall: Metric,
    macro_f1: Metric,
    weighted_precision: Metric,
    weighted_recall: Metric,
    weighted_f1: Metric,
}

impl Averages {
    /// Averages over the classes that occurred or were predicted, counting undefined values as 0.
    fn over(per_class: &[ClassMetrics], count: u64, predicted_counts: &[u64]) -> Self {
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
