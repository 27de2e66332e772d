//! The JSON object that `mpt evaluate` prints for a file or for one window.

use mpt_metrics::{
    binary::{BinaryMetrics, ConfusionMatrix},
    multiclass::{roc_auc_ovr_macro_exact, ClassPrediction, MulticlassState},
    regression::RegressionState,
    Metric, MetricsError,
};
use serde::Serialize;

use super::{
    rows::{ClassOutput, Record},
    EvaluateError,
};

/// The `start` and `end` of a window, in RFC 3339.
#[derive(Debug, Clone, Serialize)]
pub struct WindowBounds {
    /// First instant in the window.
    pub start: String,
    /// First instant after the window.
    pub end: String,
}

/// Binary metrics, with exact AUCs from the raw scores.
#[derive(Debug, Serialize)]
pub struct BinaryReport {
    #[serde(flatten)]
    window: Option<WindowBounds>,
    count: u64,
    accuracy: Metric,
    balanced_accuracy: Metric,
    precision: Metric,
    recall: Metric,
    specificity: Metric,
    f1: Metric,
    mcc: Metric,
    roc_auc: Metric,
    pr_auc: Metric,
    log_loss: Metric,
    brier: Metric,
    ece: Metric,
    confusion_matrix: ConfusionMatrix,
    skipped: u64,
}

/// Multiclass metrics, with an exact one-vs-rest ROC-AUC from the raw probabilities.
#[derive(Debug, Serialize)]
pub struct MulticlassReport {
    #[serde(flatten)]
    window: Option<WindowBounds>,
    count: u64,
    accuracy: Metric,
    macro_precision: Metric,
    macro_recall: Metric,
    macro_f1: Metric,
    weighted_f1: Metric,
    log_loss: Metric,
    brier: Metric,
    roc_auc_ovr_macro: Metric,
    confusion_matrix: Vec<Vec<u64>>,
    skipped: u64,
}

/// Regression metrics.
#[derive(Debug, Serialize)]
pub struct RegressionReport {
    #[serde(flatten)]
    window: Option<WindowBounds>,
    count: u64,
    mae: Metric,
    mse: Metric,
    rmse: Metric,
    r2: Metric,
    mape: Metric,
    mean_error: Metric,
    skipped: u64,
}

/// The rows of a file or window that were read: their records and the number skipped.
#[derive(Debug, Default)]
pub struct Group {
    /// Records of the rows that were not skipped, in file order.
    pub records: Vec<Record>,
    /// Rows skipped because their actual or prediction is empty.
    pub skipped: u64,
}

/// Turns an error of the metrics crate, which the row checks should have prevented, into a
/// failure that names it.
fn metrics_failure(error: MetricsError) -> EvaluateError {
    EvaluateError::Input(format!(
        "the metrics rejected a value that passed the row checks: {error}"
    ))
}

/// Computes the binary report of a group.
pub fn binary(group: &Group, window: Option<WindowBounds>, threshold: f64) -> Result<BinaryReport, EvaluateError> {
    let mut scores = Vec::with_capacity(group.records.len());
    let mut actuals = Vec::with_capacity(group.records.len());
    for record in &group.records {
        if let Record::Binary { score, actual } = record {
            scores.push(*score);
            actuals.push(*actual);
        }
    }
    let metrics = BinaryMetrics::exact(&scores, &actuals, threshold).map_err(metrics_failure)?;
    Ok(BinaryReport {
        window,
        count: metrics.count,
        accuracy: metrics.accuracy,
        balanced_accuracy: metrics.balanced_accuracy,
        precision: metrics.precision,
        recall: metrics.recall,
        specificity: metrics.specificity,
        f1: metrics.f1,
        mcc: metrics.mcc,
        roc_auc: metrics.roc_auc,
        pr_auc: metrics.pr_auc,
        log_loss: metrics.log_loss,
        brier: metrics.brier,
        ece: metrics.ece,
        confusion_matrix: metrics.confusion_matrix,
        skipped: group.skipped,
    })
}

/// Computes the multiclass report of a group over `classes`.
pub fn multiclass(
    group: &Group,
    window: Option<WindowBounds>,
    classes: &[String],
) -> Result<MulticlassReport, EvaluateError> {
    let mut state = MulticlassState::new(classes.to_vec()).map_err(metrics_failure)?;
    let mut probability_rows = Vec::new();
    let mut actual_indexes = Vec::new();
    for record in &group.records {
        let Record::Multiclass { output, actual } = record else {
            continue;
        };
        let prediction = match output {
            ClassOutput::Label(label) => ClassPrediction::Label(label),
            ClassOutput::Probabilities(probabilities) => {
                probability_rows.push(probabilities.clone());
                actual_indexes.push(state.class_index(actual).map_err(metrics_failure)?);
                ClassPrediction::Probabilities(probabilities)
            }
        };
        state.update(prediction, actual).map_err(metrics_failure)?;
    }

    let metrics = state.compute();
    // The state's AUC comes from score histograms; offline, the raw probabilities give the
    // exact value. Both are undefined unless every record has probabilities.
    let roc_auc_ovr_macro = match metrics.roc_auc_ovr_macro {
        Metric::Value(_) => {
            roc_auc_ovr_macro_exact(&probability_rows, &actual_indexes, classes.len()).map_err(metrics_failure)?
        }
        undefined => undefined,
    };
    Ok(MulticlassReport {
        window,
        count: metrics.count,
        accuracy: metrics.accuracy,
        macro_precision: metrics.macro_precision,
        macro_recall: metrics.macro_recall,
        macro_f1: metrics.macro_f1,
        weighted_f1: metrics.weighted_f1,
        log_loss: metrics.log_loss,
        brier: metrics.brier,
        roc_auc_ovr_macro,
        confusion_matrix: metrics.confusion_matrix,
        skipped: group.skipped,
    })
}

/// Computes the regression report of a group.
pub fn regression(group: &Group, window: Option<WindowBounds>) -> Result<RegressionReport, EvaluateError> {
    let mut state = RegressionState::new();
    for record in &group.records {
        if let Record::Regression { prediction, actual } = record {
            state.update(*prediction, *actual).map_err(metrics_failure)?;
        }
    }
    let metrics = state.compute();
    Ok(RegressionReport {
        window,
        count: metrics.count,
        mae: metrics.mae,
        mse: metrics.mse,
        rmse: metrics.rmse,
        r2: metrics.r2,
        mape: metrics.mape,
        mean_error: metrics.mean_error,
        skipped: group.skipped,
    })
}
