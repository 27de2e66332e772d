//! The metrics computed from a binary state, with their definitions and undefined cases.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::BinaryState;
use crate::{calibration::ReliabilityBin, Metric};

const NO_RECORDS: &str = "no labelled records";
const NO_PREDICTED_POSITIVES: &str = "no predicted positives";
const NO_POSITIVES: &str = "no positive actuals";
const NO_NEGATIVES: &str = "no negative actuals";
const ONE_CLASS: &str = "only one class present in the actuals";
const NOTHING_POSITIVE: &str = "no positive actuals and no predicted positives";
const EMPTY_MARGINAL: &str = "all actuals or all predictions are in one class";

/// Confusion counts at the decision threshold. Serialises with the keys `tp`, `fp`, `tn`, `fn`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Positive actuals predicted positive.
    #[serde(rename = "tp")]
    pub true_positives: u64,
    /// Negative actuals predicted positive.
    #[serde(rename = "fp")]
    pub false_positives: u64,
    /// Negative actuals predicted negative.
    #[serde(rename = "tn")]
    pub true_negatives: u64,
    /// Positive actuals predicted negative.
    #[serde(rename = "fn")]
    pub false_negatives: u64,
}

impl ConfusionMatrix {
    /// Returns the number of records counted.
    pub fn total(&self) -> u64 {
        self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
    }

    /// Adds the counts of `other`.
    pub fn merge(&mut self, other: &ConfusionMatrix) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.true_negatives += other.true_negatives;
        self.false_negatives += other.false_negatives;
    }
}

/// Binary classification metrics, each a value or undefined with a reason.
///
/// With `TP`, `FP`, `TN`, `FN` the confusion counts at the threshold, `P = TP + FN` positive
/// actuals, `N = FP + TN` negative actuals and `n = P + N` records. Every metric is undefined,
/// with the reason "no labelled records", when `n = 0`. Where a definition here departs from
/// scikit-learn 1.9.1, the field's documentation states how.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BinaryMetrics {
    /// Number of labelled records, `n`.
    pub count: u64,
    /// `(TP + TN) / n`. Range [0, 1].
    pub accuracy: Metric,
    /// `(recall + specificity) / 2`. Range [0, 1]. Undefined when either class is absent, where
    /// scikit-learn averages the recall of the classes present instead.
    pub balanced_accuracy: Metric,
    /// `TP / (TP + FP)`. Range [0, 1]. Undefined with no predicted positives, where
    /// scikit-learn returns 0 and warns.
    pub precision: Metric,
    /// Recall, the true positive rate: `TP / P`. Range [0, 1]. Undefined when `P = 0`, where
    /// scikit-learn returns 0 and warns.
    pub recall: Metric,
    /// Specificity, the true negative rate: `TN / N`. Range [0, 1]. Undefined when `N = 0`.
    pub specificity: Metric,
    /// F1: `2 TP / (2 TP + FP + FN)`. Range [0, 1]. Undefined when `TP + FP + FN = 0`, where
    /// scikit-learn returns 0 and warns. It is 0, not undefined, when precision alone is
    /// undefined, as in scikit-learn.
    pub f1: Metric,
    /// Matthews correlation coefficient:
    /// `(TP TN - FP FN) / sqrt((TP + FP)(TP + FN)(TN + FP)(TN + FN))`. Range [-1, 1]. Undefined
    /// when any factor under the root is 0, where scikit-learn returns 0.
    pub mcc: Metric,
    /// ROC-AUC, the chance that a random positive scores above a random negative, ties counting
    /// one half. Range [0, 1]. From the histogram for a state, exact for
    /// [`BinaryMetrics::exact`]. Undefined when either class is absent, where scikit-learn
    /// returns NaN and warns.
    pub roc_auc: Metric,
    /// PR-AUC as average precision: `sum over distinct thresholds t of (R_t - R_prev) P_t`.
    /// Range [0, 1]. From the histogram for a state, exact for [`BinaryMetrics::exact`].
    /// Undefined when either class is absent, where scikit-learn returns 1 with only positives
    /// and 0 with only negatives.
    pub pr_auc: Metric,
    /// Log loss: `-mean(y ln p + (1 - y) ln(1 - p))`, with the probability of the actual class
    /// clipped to `[eps, 1 - eps]` (`eps` the `f64` machine epsilon), as scikit-learn clips it.
    /// Range [0, about 36.04]. Defined whenever `n > 0`, even with one class present.
    pub log_loss: Metric,
    /// Brier score: `mean((p - y)^2)`. Range [0, 1].
    pub brier: Metric,
    /// Expected calibration error over ten equal-width bins; see
    /// [`crate::calibration::CalibrationState::ece`]. scikit-learn has no ECE.
    pub ece: Metric,
    /// The confusion counts at the threshold.
    pub confusion_matrix: ConfusionMatrix,
    /// False positive rate: `FP / N`. Range [0, 1]. Undefined when `N = 0`.
    pub fpr: Metric,
    /// False negative rate: `FN / P`. Range [0, 1]. Undefined when `P = 0`.
    pub fnr: Metric,
    /// F-beta with beta 0.5: `1.25 TP / (1.25 TP + 0.25 FN + FP)`, weighting precision above
    /// recall. Undefined as F1 is.
    pub f0_5: Metric,
    /// F-beta with beta 2: `5 TP / (5 TP + 4 FN + FP)`, weighting recall above precision.
    /// Undefined as F1 is.
    pub f2: Metric,
    /// Share of positive actuals: `P / n`.
    pub base_rate: Metric,
    /// Share of records predicted positive: `(TP + FP) / n`.
    pub predicted_positive_rate: Metric,
    /// The reliability table: per calibration bin, its edges, count, mean score and positive rate.
    pub reliability: Vec<ReliabilityBin>,
}

impl BinaryMetrics {
    pub(super) fn from_parts(state: &BinaryState, roc_auc: Metric, pr_auc: Metric) -> Self {
        let confusion = state.confusion;
        let ConfusionMatrix {
            true_positives: tp,
            false_positives: fp,
            true_negatives: tn,
            false_negatives: fn_,
        } = confusion;
        let count = confusion.total();
        let positives = tp + fn_;
        let negatives = fp + tn;
        let predicted_positives = tp + fp;

        let no_records = |metric: Metric| {
            if count == 0 {
                Metric::Undefined(NO_RECORDS)
            } else {
                metric
            }
        };
        let recall = ratio(tp, positives, NO_POSITIVES);
        let specificity = ratio(tn, negatives, NO_NEGATIVES);
        let balanced_accuracy = match (recall, specificity) {
            (Metric::Value(recall), Metric::Value(specificity)) => Metric::Value((recall + specificity) / 2.0),
            _ => Metric::Undefined(ONE_CLASS),
        };

        Self {
            count,
            accuracy: ratio(tp + tn, count, NO_RECORDS),
            balanced_accuracy: no_records(balanced_accuracy),
            precision: no_records(ratio(tp, predicted_positives, NO_PREDICTED_POSITIVES)),
            recall: no_records(recall),
            specificity: no_records(specificity),
            f1: no_records(f_beta(confusion, 1.0)),
            mcc: no_records(matthews(confusion)),
            roc_auc: no_records(roc_auc),
            pr_auc: no_records(pr_auc),
            log_loss: mean(state.log_loss_sum.value(), count),
            brier: mean(state.brier_sum.value(), count),
            ece: state.calibration.ece(),
            confusion_matrix: confusion,
            fpr: no_records(ratio(fp, negatives, NO_NEGATIVES)),
            fnr: no_records(ratio(fn_, positives, NO_POSITIVES)),
            f0_5: no_records(f_beta(confusion, 0.5)),
            f2: no_records(f_beta(confusion, 2.0)),
            base_rate: ratio(positives, count, NO_RECORDS),
            predicted_positive_rate: ratio(predicted_positives, count, NO_RECORDS),
            reliability: state.calibration.reliability(),
        }
    }

    /// Lists every metric but `count` by its JSON key, in serialisation order.
    pub fn named(&self) -> [(&'static str, Metric); 18] {
        [
            ("accuracy", self.accuracy),
            ("balanced_accuracy", self.balanced_accuracy),
            ("precision", self.precision),
            ("recall", self.recall),
            ("specificity", self.specificity),
            ("f1", self.f1),
            ("mcc", self.mcc),
            ("roc_auc", self.roc_auc),
            ("pr_auc", self.pr_auc),
            ("log_loss", self.log_loss),
            ("brier", self.brier),
            ("ece", self.ece),
            ("fpr", self.fpr),
            ("fnr", self.fnr),
            ("f0_5", self.f0_5),
            ("f2", self.f2),
            ("base_rate", self.base_rate),
            ("predicted_positive_rate", self.predicted_positive_rate),
        ]
    }

    /// Maps the JSON key of every undefined metric to the reason it is undefined.
    pub fn reasons(&self) -> BTreeMap<&'static str, &'static str> {
        self.named()
            .into_iter()
            .filter_map(|(name, metric)| metric.reason().map(|reason| (name, reason)))
            .collect()
    }
}

/// Divides two counts, or returns `Undefined(reason)` when the denominator is zero.
fn ratio(numerator: u64, denominator: u64, reason: &'static str) -> Metric {
    if denominator == 0 {
        Metric::Undefined(reason)
    } else {
        Metric::Value(numerator as f64 / denominator as f64)
    }
}

fn mean(sum: f64, count: u64) -> Metric {
    if count == 0 {
        Metric::Undefined(NO_RECORDS)
    } else {
        Metric::Value(sum / count as f64)
    }
}

/// `(1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP)`, undefined when `TP + FN + FP = 0`.
fn f_beta(confusion: ConfusionMatrix, beta: f64) -> Metric {
    let tp = confusion.true_positives as f64;
    let fp = confusion.false_positives as f64;
    let fn_ = confusion.false_negatives as f64;
    let beta_squared = beta * beta;
    let denominator = (1.0 + beta_squared) * tp + beta_squared * fn_ + fp;
    if denominator == 0.0 {
        Metric::Undefined(NOTHING_POSITIVE)
    } else {
        Metric::Value((1.0 + beta_squared) * tp / denominator)
    }
}

fn matthews(confusion: ConfusionMatrix) -> Metric {
    let ConfusionMatrix {
        true_positives: tp,
        false_positives: fp,
        true_negatives: tn,
        false_negatives: fn_,
    } = confusion;
    let marginals = [tp + fp, tp + fn_, tn + fp, tn + fn_];
    if marginals.contains(&0) {
        return Metric::Undefined(EMPTY_MARGINAL);
    }

    // The products of counts are exact in i128, so only the final division rounds.
    let covariance = tp as i128 * tn as i128 - fp as i128 * fn_ as i128;
    let denominator = marginals
        .iter()
        .map(|marginal| (*marginal as f64).sqrt())
        .product::<f64>();
    Metric::Value(covariance as f64 / denominator)
}
