//! Binary classification: a mergeable state over (score, actual) records, the metrics computed
//! from it, and exact AUCs on raw arrays for offline evaluation.

mod auc;
mod metrics;

use serde::{Deserialize, Serialize};

pub use auc::{average_precision_exact, roc_auc_exact};
pub use metrics::{BinaryMetrics, ConfusionMatrix};

use crate::{
    calibration::CalibrationState,
    histogram::{check_probability, ScoreHistogram},
    summation::CompensatedSum,
    MetricsError,
};

/// Threshold used when a model does not set one: a score of 0.5 or more predicts positive.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// Mergeable state for binary classification metrics.
///
/// A record is a score, the predicted probability of the positive class in [0, 1], and the
/// actual class. The record is predicted positive when `score >= threshold`. The state contains
/// the confusion counts, compensated sums of the per-record log loss and Brier terms, the
/// calibration bins and a [`ScoreHistogram`] for binned ROC-AUC and PR-AUC. States with the
/// same threshold merge in any order or grouping, and the merged metrics agree with one pass
/// over the same records within 1e-12 relative.
///
/// ```
/// use mpt_metrics::binary::BinaryState;
///
/// let mut state = BinaryState::default();
/// state.update(0.8, true)?;
/// state.update(0.3, false)?;
/// state.update(0.6, false)?;
/// let metrics = state.compute();
/// assert_eq!(metrics.accuracy.value(), Some(2.0 / 3.0));
/// assert_eq!(metrics.roc_auc.value(), Some(1.0));
/// # Ok::<(), mpt_metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredBinaryState")]
pub struct BinaryState {
    threshold: f64,
    confusion: ConfusionMatrix,
    log_loss_sum: CompensatedSum,
    brier_sum: CompensatedSum,
    calibration: CalibrationState,
    histogram: ScoreHistogram,
}

impl Default for BinaryState {
    fn default() -> Self {
        Self::with_valid_threshold(DEFAULT_THRESHOLD)
    }
}

impl BinaryState {
    /// Creates an empty state that predicts positive when `score >= threshold`.
    ///
    /// # Errors
    /// [`MetricsError::NotFinite`] or [`MetricsError::NotProbability`] naming the threshold.
    pub fn new(threshold: f64) -> Result<Self, MetricsError> {
        check_probability("threshold", threshold)?;
        // Adding 0.0 turns -0.0 into 0.0, so the two merge as the same threshold.
        Ok(Self::with_valid_threshold(threshold + 0.0))
    }

    fn with_valid_threshold(threshold: f64) -> Self {
        Self {
            threshold,
            confusion: ConfusionMatrix::default(),
            log_loss_sum: CompensatedSum::new(),
            brier_sum: CompensatedSum::new(),
            calibration: CalibrationState::new(),
            histogram: ScoreHistogram::new(),
        }
    }

    /// Returns the decision threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Returns the number of records added.
    pub fn count(&self) -> u64 {
        self.confusion.total()
    }

    /// Returns the confusion counts at the threshold.
    pub fn confusion_matrix(&self) -> ConfusionMatrix {
        self.confusion
    }

    /// Returns the score histogram of the records added.
    pub fn histogram(&self) -> &ScoreHistogram {
        &self.histogram
    }

    /// Returns the calibration bins of the records added.
    pub fn calibration(&self) -> &CalibrationState {
        &self.calibration
    }

    /// Adds one record: the predicted probability of the positive class and the actual class.
    ///
    /// # Errors
    /// [`MetricsError::NotFinite`] for a NaN or infinite score and
    /// [`MetricsError::NotProbability`] for a score outside [0, 1], each naming the score. The
    /// state is unchanged on error.
    pub fn update(&mut self, score: f64, actual: bool) -> Result<(), MetricsError> {
        check_probability("score", score)?;
        self.histogram.add(score, Some(actual))?;
        self.update_sums(score, actual);
        Ok(())
    }

    /// Adds everything but the histogram, for a score already checked to be a probability.
    fn update_sums(&mut self, score: f64, actual: bool) {
        let predicted = score >= self.threshold;
        match (predicted, actual) {
            (true, true) => self.confusion.true_positives += 1,
            (true, false) => self.confusion.false_positives += 1,
            (false, false) => self.confusion.true_negatives += 1,
            (false, true) => self.confusion.false_negatives += 1,
        }
        self.log_loss_sum.add(log_loss_term(score, actual));
        let error = score - f64::from(u8::from(actual));
        self.brier_sum.add(error * error);

        // Both callers check the score first, so the calibration update cannot fail.
        let _ = self.calibration.update(score, actual);
    }

    /// Adds the records of `other` into this state.
    ///
    /// # Errors
    /// [`MetricsError::Incompatible`] when the thresholds differ; the state is unchanged.
    pub fn merge(&mut self, other: &BinaryState) -> Result<(), MetricsError> {
        if self.threshold.to_bits() != other.threshold.to_bits() {
            return Err(MetricsError::Incompatible {
                what: "threshold",
                left: self.threshold.to_string(),
                right: other.threshold.to_string(),
            });
        }
        self.confusion.merge(&other.confusion);
        self.log_loss_sum.merge(&other.log_loss_sum);
        self.brier_sum.merge(&other.brier_sum);
        self.calibration.merge(&other.calibration);
        self.histogram.merge(&other.histogram);
        Ok(())
    }

    /// Computes every metric, with ROC-AUC and PR-AUC from the score histogram.
    pub fn compute(&self) -> BinaryMetrics {
        BinaryMetrics::from_parts(self, self.histogram.roc_auc(), self.histogram.pr_auc())
    }
}

impl BinaryMetrics {
    /// Computes every metric from raw arrays, with exact ROC-AUC and PR-AUC.
    ///
    /// This is what offline evaluation uses: the same definitions as [`BinaryState::compute`],
    /// except that the AUCs come from the sorted scores instead of the histogram.
    ///
    /// # Errors
    /// [`MetricsError::Invalid`] when the slices differ in length, and the errors of
    /// [`BinaryState::new`] and [`BinaryState::update`] naming the first invalid value.
    pub fn exact(scores: &[f64], actuals: &[bool], threshold: f64) -> Result<Self, MetricsError> {
        let mut state = BinaryState::new(threshold)?;
        if scores.len() != actuals.len() {
            return Err(MetricsError::Invalid(format!(
                "scores has {} entries but actuals has {}, so pass one actual per score",
                scores.len(),
                actuals.len()
            )));
        }
        for (score, actual) in scores.iter().zip(actuals) {
            check_probability("score", *score)?;
            state.update_sums(*score, *actual);
        }
        let (roc_auc, pr_auc) = auc::exact_aucs(scores, actuals)?;
        Ok(Self::from_parts(&state, roc_auc, pr_auc))
    }
}

/// Computes one record's log loss with scikit-learn 1.9.1's clipping: the probability given to
/// the actual class is clipped to `[eps, 1 - eps]`, with `eps` the `f64` machine epsilon.
fn log_loss_term(score: f64, actual: bool) -> f64 {
    let probability_of_actual = if actual { score } else { 1.0 - score };
    -probability_of_actual.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln()
}

/// The serialised form of [`BinaryState`], checked for consistency before use.
#[derive(Deserialize)]
struct StoredBinaryState {
    threshold: f64,
    confusion: ConfusionMatrix,
    log_loss_sum: CompensatedSum,
    brier_sum: CompensatedSum,
    calibration: CalibrationState,
    histogram: ScoreHistogram,
}

impl TryFrom<StoredBinaryState> for BinaryState {
    type Error = MetricsError;

    fn try_from(stored: StoredBinaryState) -> Result<Self, Self::Error> {
        check_probability("threshold", stored.threshold)?;
        stored.calibration.validate()?;
        let confusion = stored.confusion;
        let positives = confusion.true_positives + confusion.false_negatives;
        let consistent = stored.calibration.count() == confusion.total()
            && stored.calibration.positives_total() == positives
            && stored.histogram.positive_count() == positives
            && stored.histogram.negative_count() == confusion.false_positives + confusion.true_negatives
            && stored.histogram.count() == confusion.total();
        if !consistent {
            return Err(MetricsError::Invalid(format!(
                "stored binary state is inconsistent: the confusion matrix counts {} records \
                 but the calibration bins count {} and the histogram {}. Rebuild it from the records",
                confusion.total(),
                stored.calibration.count(),
                stored.histogram.count()
            )));
        }
        Ok(Self {
            threshold: stored.threshold + 0.0,
            confusion,
            log_loss_sum: stored.log_loss_sum,
            brier_sum: stored.brier_sum,
            calibration: stored.calibration,
            histogram: stored.histogram,
        })
    }
}
