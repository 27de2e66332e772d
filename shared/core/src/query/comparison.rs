//! `GET /v1/models/{model}/compare`: two versions side by side, paired on shared ids when
//! both versions predicted them.
//!
//! A paired comparison is the one read that touches raw predictions: both versions' predictions
//! in the window, through the hour index, up to [`PAIRED_CAP`] per version. Over the cap, past
//! the request's deadline, or with fewer than [`MIN_PAIRED_SAMPLES`] labelled shared ids, the
//! comparison falls back to unpaired tests on the stored window counts and states the reason.

use std::{collections::BTreeMap, collections::HashMap, time::Duration};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::{task::JoinSet, time::Instant};
use tracing::info;

use super::{
    metrics::window_snapshot,
    models::{registered_model, resolve_version},
    params::{check_model, Params},
    Context,
};
use crate::{
    compare::{
        compare_auc_unpaired, compare_binary, compare_multiclass, compare_proportion_unpaired, compare_regression,
        compare_values, AucSample, BinaryPair, ClassOutcome, ClassPair, MetricComparison, Proportion, RegressionPair,
    },
    http::ApiError,
    model::{ModelConfig, Task},
    record::{ActualValue, PredictionValue},
    snapshot::Snapshot,
    store::{keys::HOUR_SHARDS, Store, StoreError},
    time::Window,
};

/// Maximum raw predictions a paired comparison reads per version. A compact prediction takes
/// about 150 bytes in memory, so two versions at the cap need about 60 MB.
pub const PAIRED_CAP: usize = 200_000;

/// The fewest labelled shared ids a paired comparison runs on. Below it, the unpaired tests on
/// each version's whole window use more of the data.
pub const MIN_PAIRED_SAMPLES: usize = 30;

/// Index shard queries in flight at once while reading raw predictions.
const MAX_CONCURRENT_SHARDS: usize = 16;

/// Time before the request's deadline when raw reads stop, so that the unpaired fallback can
/// still respond.
const FALLBACK_RESERVE: Duration = Duration::from_secs(2);

/// The response of the compare endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparisonResponse {
    /// The model's name.
    pub model: String,
    /// The baseline version.
    pub baseline: String,
    /// The candidate version.
    pub candidate: String,
    /// The window compared.
    pub window: Window,
    /// Inclusive start of the window.
    pub start: DateTime<Utc>,
    /// Exclusive end of the window.
    pub end: DateTime<Utc>,
    /// True when the tests ran on ids both versions predicted.
    pub paired: bool,
    /// Ids both versions predicted in the window; 0 when the raw predictions were not read.
    pub shared_ids: u64,
    /// Shared ids with an actual, which the paired tests use.
    pub shared_labelled: u64,
    /// Maximum raw predictions read per version for a paired comparison.
    pub paired_cap: usize,
    /// The reason for unpaired tests, absent when paired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpaired_reason: Option<String>,
    /// Each compared metric; differences are candidate minus baseline.
    pub metrics: BTreeMap<String, MetricComparison>,
}

/// The part of one raw prediction that a comparison keeps.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    prediction: PredictionValue,
    actual: Option<ActualValue>,
}

/// The result of reading one version's raw predictions in a window.
#[derive(Debug)]
enum RawRead {
    /// Every prediction, by id.
    Complete(HashMap<String, Outcome>),
    /// The version has more predictions than the cap; reading stopped at this many.
    OverCap(usize),
    /// The deadline came first.
    OutOfTime,
}

/// Compares two versions of a model over one window.
pub(super) async fn compare(
    context: &Context,
    model: &str,
    query: Option<&str>,
) -> Result<ComparisonResponse, ApiError> {
    check_model(model)?;
    let params = Params::parse(query, &["baseline", "candidate", "window", "at"])?;
    let baseline = params.required("baseline", "elo")?.to_string();
    let candidate = params.required("candidate", "raptor")?.to_string();
    let window = params.window("window", "30d")?;
    let at = params.time("at")?.unwrap_or(context.now);
    if baseline == candidate {
        return Err(ApiError::invalid(
            Some("candidate"),
            format!("baseline and candidate are both {baseline:?}; pass two different versions"),
        ));
    }

    let config = registered_model(&context.store, model).await?;
    resolve_version(&context.store, model, Some(&baseline)).await?;
    resolve_version(&context.store, model, Some(&candidate)).await?;
    let (baseline_snapshot, _) = window_snapshot(context, model, &baseline, window, at, None).await?;
    let (candidate_snapshot, _) = window_snapshot(context, model, &candidate, window, at, None).await?;
    let (start, end) = (baseline_snapshot.start, baseline_snapshot.end);

    let mut response = ComparisonResponse {
        model: model.to_string(),
        baseline: baseline.clone(),
        candidate: candidate.clone(),
        window,
        start,
        end,
        paired: false,
        shared_ids: 0,
        shared_labelled: 0,
        paired_cap: PAIRED_CAP,
        unpaired_reason: None,
        metrics: BTreeMap::new(),
    };

    let over_cap = [(&baseline, &baseline_snapshot), (&candidate, &candidate_snapshot)]
        .into_iter()
        .find(|(_, snapshot)| snapshot.predictions as usize > PAIRED_CAP);
    let reason = if let Some((version, snapshot)) = over_cap {
        Some(over_cap_reason(version, snapshot.predictions as usize))
    } else {
        let deadline = context
            .deadline
            .checked_sub(FALLBACK_RESERVE)
            .unwrap_or(context.deadline);
        let (baseline_read, candidate_read) = tokio::join!(
            read_outcomes(&context.store, model, &baseline, start, end, deadline),
            read_outcomes(&context.store, model, &candidate, start, end, deadline),
        );
        let reads = (
            baseline_read.map_err(|e| ApiError::storage(&e))?,
            candidate_read.map_err(|e| ApiError::storage(&e))?,
        );
        match reads {
            (RawRead::Complete(baseline_outcomes), RawRead::Complete(candidate_outcomes)) => {
                pair_up(&config, &baseline_outcomes, &candidate_outcomes, &mut response)
            }
            (RawRead::OverCap(count), _) => Some(over_cap_reason(&baseline, count)),
            (_, RawRead::OverCap(count)) => Some(over_cap_reason(&candidate, count)),
            _ => Some("reading both versions' raw predictions did not finish in time for this request".to_string()),
        }
    };

    if reason.is_some() {
        response.metrics = compare_unpaired(config.task, &baseline_snapshot, &candidate_snapshot);
    }
    response.unpaired_reason = reason;
    info!(
        model,
        baseline = baseline.as_str(),
        candidate = candidate.as_str(),
        window = %window,
        paired = response.paired,
        shared_ids = response.shared_ids,
        shared_labelled = response.shared_labelled,
        "compared versions"
    );
    Ok(response)
}

fn over_cap_reason(version: &str, count: usize) -> String {
    format!(
        "version {version:?} has at least {count} predictions in the window, more than the {PAIRED_CAP} a paired \
         comparison reads; pass a shorter window for a paired comparison"
    )
}

/// Runs the paired tests on the labelled ids both versions predicted, filling `response`.
/// Returns the reason when there are too few of them.
fn pair_up(
    config: &ModelConfig,
    baseline: &HashMap<String, Outcome>,
    candidate: &HashMap<String, Outcome>,
    response: &mut ComparisonResponse,
) -> Option<String> {
    // Iterate over the smaller map, in id order, so the pairs and their statistics do not
    // depend on hash order.
    let mut shared: Vec<(&String, &Outcome, &Outcome)> = baseline
        .iter()
        .filter_map(|(id, b)| candidate.get(id).map(|c| (id, b, c)))
        .collect();
    shared.sort_by(|a, b| a.0.cmp(b.0));
    response.shared_ids = shared.len() as u64;

    // An actual belongs to the id, so either version's item may carry it first.
    let labelled: Vec<(&Outcome, &Outcome, &ActualValue)> = shared
        .iter()
        .filter_map(|(_, b, c)| b.actual.as_ref().or(c.actual.as_ref()).map(|actual| (*b, *c, actual)))
        .collect();

    let metrics = match config.task {
        Task::Binary => {
            let pairs: Vec<BinaryPair> = labelled
                .iter()
                .filter_map(
                    |(b, c, actual)| match (&b.prediction, &c.prediction, actual.as_number()) {
                        (PredictionValue::Number(b), PredictionValue::Number(c), Some(y)) => Some(BinaryPair {
                            baseline: *b,
                            candidate: *c,
                            actual: y == 1.0,
                        }),
                        _ => None,
                    },
                )
                .collect();
            (pairs.len(), compare_binary(&pairs, config.threshold))
        }
        Task::Multiclass => {
            let pairs: Vec<ClassPair> = labelled
                .iter()
                .filter_map(|(b, c, actual)| {
                    let actual = actual.as_label()?;
                    Some(ClassPair {
                        baseline: class_outcome(&b.prediction, actual)?,
                        candidate: class_outcome(&c.prediction, actual)?,
                    })
                })
                .collect();
            (pairs.len(), compare_multiclass(&pairs))
        }
        Task::Regression => {
            let pairs: Vec<RegressionPair> = labelled
                .iter()
                .filter_map(
                    |(b, c, actual)| match (&b.prediction, &c.prediction, actual.as_number()) {
                        (PredictionValue::Number(b), PredictionValue::Number(c), Some(y)) => Some(RegressionPair {
                            baseline: *b,
                            candidate: *c,
                            actual: y,
                        }),
                        _ => None,
                    },
                )
                .collect();
            (pairs.len(), compare_regression(&pairs))
        }
    };
    let (count, metrics) = metrics;
    response.shared_labelled = count as u64;
    if count < MIN_PAIRED_SAMPLES {
        return Some(format!(
            "only {count} labelled ids were predicted by both versions in the window, and a paired comparison \
             needs at least {MIN_PAIRED_SAMPLES}"
        ));
    }
    response.paired = true;
    response.metrics = metrics;
    None
}

/// Reduces a multiclass prediction to whether it was right and the probability it gave the
/// actual class. A class missing from a probability map had probability 0.
fn class_outcome(prediction: &PredictionValue, actual: &str) -> Option<ClassOutcome> {
    let probability_of_actual = match prediction {
        PredictionValue::Probabilities(map) => Some(map.get(actual).copied().unwrap_or(0.0)),
        PredictionValue::Label(_) => None,
        PredictionValue::Number(_) => return None,
    };
    Some(ClassOutcome {
        correct: prediction.predicted_label()? == actual,
        probability_of_actual,
    })
}

/// Compares the task's metrics from the two windows' stored counts.
fn compare_unpaired(task: Task, baseline: &Snapshot, candidate: &Snapshot) -> BTreeMap<String, MetricComparison> {
    let names: &[&str] = match task {
        Task::Binary => &["accuracy", "roc_auc", "brier", "log_loss"],
        Task::Multiclass => &["accuracy", "log_loss"],
        Task::Regression => &["mae", "mse"],
    };
    names
        .iter()
        .map(|name| (name.to_string(), compare_metric_unpaired(name, baseline, candidate)))
        .collect()
}

fn compare_metric_unpaired(name: &str, baseline: &Snapshot, candidate: &Snapshot) -> MetricComparison {
    let value = |snapshot: &Snapshot| snapshot.value(name);
    let samples = [
        baseline.samples.get(name).copied().unwrap_or(0),
        candidate.samples.get(name).copied().unwrap_or(0),
    ];
    let undefined_reason = [(baseline, "baseline"), (candidate, "candidate")]
        .into_iter()
        .find(|(snapshot, _)| value(snapshot).is_none())
        .map(|(snapshot, side)| {
            let reason = snapshot.reasons.get(name).map_or("it is not computed", String::as_str);
            format!("the {side}'s {name} is undefined: {reason}")
        });
    if let Some(reason) = undefined_reason {
        return MetricComparison::untested(value(baseline), value(candidate), samples, reason);
    }

    let counts = (baseline.counts.get(name), candidate.counts.get(name));
    match (name, counts) {
        ("accuracy", (Some(b), Some(c))) => match (b.successes, c.successes) {
            (Some(b_successes), Some(c_successes)) => compare_proportion_unpaired(
                Proportion {
                    successes: b_successes,
                    trials: b.n,
                },
                Proportion {
                    successes: c_successes,
                    trials: c.n,
                },
            ),
            _ => compare_values(value(baseline), value(candidate), samples),
        },
        ("roc_auc", (Some(b), Some(c))) => {
            match (b.n_pos, b.n_neg, c.n_pos, c.n_neg, value(baseline), value(candidate)) {
                (Some(bp), Some(bn), Some(cp), Some(cn), Some(b_auc), Some(c_auc)) => compare_auc_unpaired(
                    AucSample {
                        auc: b_auc,
                        positives: bp,
                        negatives: bn,
                    },
                    AucSample {
                        auc: c_auc,
                        positives: cp,
                        negatives: cn,
                    },
                ),
                _ => compare_values(value(baseline), value(candidate), samples),
            }
        }
        _ => compare_values(value(baseline), value(candidate), samples),
    }
}

/// Reads every raw prediction of `version` in `[start, end)`, stopping past [`PAIRED_CAP`] or
/// at `deadline`.
async fn read_outcomes(
    store: &Store,
    model: &str,
    version: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    deadline: Instant,
) -> Result<RawRead, StoreError> {
    let read = async {
        let hours = store.hours_with_predictions(model, version, start, end).await?;
        let mut outcomes = HashMap::new();
        let mut running = JoinSet::new();
        let mut pending = hours
            .into_iter()
            .flat_map(|hour| (0..HOUR_SHARDS).map(move |shard| (hour, shard)));
        loop {
            while running.len() < MAX_CONCURRENT_SHARDS {
                let Some((hour, shard)) = pending.next() else {
                    break;
                };
                let (store, model, version) = (store.clone(), model.to_string(), version.to_string());
                running.spawn(async move { store.read_hour_shard(&model, &version, hour, shard).await });
            }
            let Some(joined) = running.join_next().await else {
                return Ok(RawRead::Complete(outcomes));
            };
            let predictions = joined.map_err(|error| StoreError::Unavailable {
                operation: "Query",
                message: format!("reading a shard of an hour of predictions stopped: {error}"),
            })??;
            for prediction in predictions {
                let outcome = Outcome {
                    prediction: prediction.prediction,
                    actual: prediction.actual,
                };
                outcomes.insert(prediction.id, outcome);
            }
            if outcomes.len() > PAIRED_CAP {
                running.abort_all();
                return Ok(RawRead::OverCap(outcomes.len()));
            }
        }
    };
    match tokio::time::timeout_at(deadline, read).await {
        Ok(result) => result,
        Err(_) => Ok(RawRead::OutOfTime),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::SampleCounts;

    fn outcome(score: f64, actual: Option<f64>) -> Outcome {
        Outcome {
            prediction: PredictionValue::Number(score),
            actual: actual.map(ActualValue::Number),
        }
    }

    fn empty_response() -> ComparisonResponse {
        ComparisonResponse {
            model: "nba".into(),
            baseline: "elo".into(),
            candidate: "raptor".into(),
            window: "30d".parse().unwrap(),
            start: DateTime::UNIX_EPOCH,
            end: DateTime::UNIX_EPOCH,
            paired: false,
            shared_ids: 0,
            shared_labelled: 0,
            paired_cap: PAIRED_CAP,
            unpaired_reason: None,
            metrics: BTreeMap::new(),
        }
    }

    #[test]
    fn pair_up_counts_shared_and_labelled_ids() {
        let baseline = HashMap::from([
            ("a".to_string(), outcome(0.7, Some(1.0))),
            ("b".to_string(), outcome(0.2, None)),
            ("c".to_string(), outcome(0.4, None)),
        ]);
        // The candidate's item of "b" carries the actual the baseline's item lacks.
        let candidate = HashMap::from([
            ("a".to_string(), outcome(0.6, Some(1.0))),
            ("b".to_string(), outcome(0.3, Some(0.0))),
            ("d".to_string(), outcome(0.9, Some(1.0))),
        ]);
        let mut response = empty_response();
        let reason = pair_up(&ModelConfig::new(Task::Binary), &baseline, &candidate, &mut response);
        assert_eq!(response.shared_ids, 2);
        assert_eq!(response.shared_labelled, 2);
        assert!(reason.unwrap().contains("only 2 labelled ids"));
        assert!(!response.paired);
    }

    #[test]
    fn pair_up_runs_paired_tests_on_enough_ids() {
        let make = |offset: f64| -> HashMap<String, Outcome> {
            (0..40)
                .map(|i| {
                    let actual = if i % 2 == 0 { 1.0 } else { 0.0 };
                    (
                        format!("g{i}"),
                        outcome((0.3 + 0.4 * actual + offset).clamp(0.0, 1.0), Some(actual)),
                    )
                })
                .collect()
        };
        let mut response = empty_response();
        let reason = pair_up(&ModelConfig::new(Task::Binary), &make(0.0), &make(0.05), &mut response);
        assert_eq!(reason, None);
        assert!(response.paired);
        assert_eq!(response.metrics["accuracy"].samples, [40, 40]);
    }

    #[test]
    fn class_outcome_reads_probability_of_actual() {
        let prediction = PredictionValue::Probabilities(BTreeMap::from([("H".into(), 0.5), ("A".into(), 0.3)]));
        let result = class_outcome(&prediction, "A").unwrap();
        assert!(!result.correct);
        assert_eq!(result.probability_of_actual, Some(0.3));
        assert_eq!(
            class_outcome(&prediction, "D").unwrap().probability_of_actual,
            Some(0.0)
        );
    }

    fn snapshot_with(accuracy: Option<(u64, u64)>) -> Snapshot {
        let mut snapshot: Snapshot = serde_json::from_value(serde_json::json!({
            "model": "nba", "version": "v", "window": "30d",
            "start": "2023-05-01T00:00:00Z", "end": "2023-05-31T00:00:00Z",
            "predictions": 100, "labelled": 100, "label_coverage": 1.0,
            "metrics": {}, "samples": {}, "intervals": {}, "reasons": {}
        }))
        .unwrap();
        match accuracy {
            Some((successes, n)) => {
                snapshot
                    .metrics
                    .insert("accuracy".into(), serde_json::json!(successes as f64 / n as f64));
                snapshot.samples.insert("accuracy".into(), n);
                snapshot
                    .counts
                    .insert("accuracy".into(), SampleCounts::proportion(successes, n));
            }
            None => {
                snapshot.metrics.insert("accuracy".into(), serde_json::Value::Null);
                snapshot
                    .reasons
                    .insert("accuracy".into(), "no labelled predictions in the window".into());
            }
        }
        snapshot
    }

    #[test]
    fn unpaired_accuracy_uses_two_proportion_test() {
        let result = compare_metric_unpaired(
            "accuracy",
            &snapshot_with(Some((60, 100))),
            &snapshot_with(Some((70, 100))),
        );
        assert_eq!(result.test, Some(crate::compare::TestName::TwoProportionZ));
        assert_eq!(result.samples, [100, 100]);
    }

    #[test]
    fn unpaired_undefined_metric_names_side_and_reason() {
        let result = compare_metric_unpaired("accuracy", &snapshot_with(Some((60, 100))), &snapshot_with(None));
        assert_eq!(result.candidate, None);
        let reason = result.reason.unwrap();
        assert!(reason.contains("candidate"), "{reason}");
        assert!(reason.contains("no labelled predictions"), "{reason}");
    }
}
