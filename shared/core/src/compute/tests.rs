use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::*;
use crate::{
    aggregate::Aggregate,
    alert::metric::computed_names,
    model::Task,
    names::PUBLISHABLE_METRICS,
    record::{ActualValue, Bet, PredictionValue},
    store::StoredPrediction,
};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn record(index: usize, prediction: PredictionValue, actual: ActualValue) -> StoredPrediction {
    let timestamp = at("2023-06-12T17:00:00Z") + TimeDelta::seconds(index as i64);
    StoredPrediction {
        id: format!("p{index}"),
        version: "v1".into(),
        timestamp,
        prediction,
        actual: Some(actual),
        actual_timestamp: Some(timestamp + TimeDelta::hours(2)),
        latency_ms: Some(5.0 + index as f64),
        segment: BTreeMap::new(),
        features: BTreeMap::new(),
        bet: None,
        content_hash: String::new(),
        stored_at: timestamp,
    }
}

fn scope() -> SnapshotScope {
    SnapshotScope {
        model: "m".into(),
        version: "v1".into(),
        window: "1d".parse().unwrap(),
        segment: None,
        start: at("2023-06-12T00:00:00Z"),
        end: at("2023-06-13T00:00:00Z"),
    }
}

/// Builds the snapshot of forty labelled records of `task`, with drift against themselves.
fn snapshot_of(task: Task) -> Snapshot {
    let mut config = ModelConfig::new(task);
    if task == Task::Multiclass {
        config.classes = Some(vec!["a".into(), "b".into(), "c".into()]);
    }
    let mut aggregate = Aggregate::empty(&config).unwrap();
    for index in 0..40 {
        let mut stored = match task {
            Task::Binary => record(
                index,
                PredictionValue::Number((index % 10) as f64 / 10.0 + 0.05),
                ActualValue::Number((index % 3 == 0) as u8 as f64),
            ),
            Task::Multiclass => {
                let classes = ["a", "b", "c"];
                let probabilities = classes
                    .iter()
                    .enumerate()
                    .map(|(k, class)| (class.to_string(), if k == index % 3 { 0.6 } else { 0.2 }))
                    .collect();
                record(
                    index,
                    PredictionValue::Probabilities(probabilities),
                    ActualValue::Label(classes[(index / 2) % 3].to_string()),
                )
            }
            Task::Regression => record(
                index,
                PredictionValue::Number(index as f64 + 0.5),
                ActualValue::Number(index as f64 + (index % 4) as f64),
            ),
        };
        if task == Task::Binary {
            stored.bet = Some(Bet {
                side: ActualValue::Number(1.0),
                odds: 2.5,
                stake: 1.0,
            });
        }
        aggregate.fold(&stored);
    }
    let reference = Reference {
        aggregate: &aggregate,
        start: at("2023-05-13T00:00:00Z"),
        end: at("2023-06-12T00:00:00Z"),
    };
    build_snapshot(scope(), &aggregate, Some(reference))
}

#[test]
fn every_publishable_name_has_a_value() {
    let snapshots = [Task::Binary, Task::Multiclass, Task::Regression].map(snapshot_of);
    for name in PUBLISHABLE_METRICS {
        let found = snapshots.iter().any(|snapshot| snapshot.value(name).is_some());
        assert!(found, "no snapshot has a value for the publishable metric {name}");
    }
}

#[test]
fn proportions_carry_counts_and_intervals() {
    let snapshot = snapshot_of(Task::Binary);
    let counts = snapshot.counts["accuracy"];
    assert_eq!(counts.n, 40);
    let accuracy = snapshot.value("accuracy").unwrap();
    assert_eq!(counts.successes.map(|s| s as f64 / 40.0), Some(accuracy));
    let [lower, upper] = snapshot.intervals["accuracy"];
    assert!(lower < accuracy, "{lower} is not below {accuracy}");
    assert!(accuracy < upper, "{upper} is not above {accuracy}");
    assert!(snapshot.counts["roc_auc"].n_pos.is_some());
}

#[test]
fn identical_reference_has_no_drift() {
    let snapshot = snapshot_of(Task::Binary);
    assert_eq!(snapshot.value("psi"), Some(0.0));
    assert_eq!(snapshot.value("ks"), Some(0.0));
}

#[test]
fn empty_window_is_null_with_reasons() {
    let aggregate = Aggregate::empty(&ModelConfig::new(Task::Binary)).unwrap();
    let snapshot = build_snapshot(scope(), &aggregate, None);
    assert_eq!(snapshot.predictions, 0);
    assert_eq!(snapshot.label_coverage, None);
    for name in [
        "label_coverage",
        "accuracy",
        "roc_auc",
        "log_loss",
        "roi",
        "latency_ms",
        "drift",
    ] {
        assert!(snapshot.reasons.contains_key(name), "{name} has no reason");
    }
    assert_eq!(snapshot.metrics["accuracy"], Value::Null);
    let json = serde_json::to_string(&snapshot).unwrap();
    assert!(!json.contains("NaN"), "{json}");
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snapshot);
}

#[test]
fn multiclass_without_two_classes_is_null_with_reason() {
    let config = ModelConfig::new(Task::Multiclass);
    let mut aggregate = Aggregate::empty(&config).unwrap();
    aggregate.fold(&record(
        0,
        PredictionValue::Label("a".into()),
        ActualValue::Label("a".into()),
    ));
    let snapshot = build_snapshot(scope(), &aggregate, None);
    assert_eq!(snapshot.metrics["accuracy"], Value::Null);
    assert!(snapshot.reasons["accuracy"].contains("one class"));
}

#[test]
fn reference_defaults_to_thirty_days_before_start() {
    let config = ModelConfig::new(Task::Binary);
    let start = at("2023-06-12T05:00:00Z");
    assert_eq!(reference_period(&config, start), (at("2023-05-13T05:00:00Z"), start));
}

/// The names the monitor and history checks accept, for a task, against what the snapshot of
/// that task holds.
#[test]
fn metric_table_matches_computed_snapshot() {
    // Record counts beside the metrics, which no rule or history request names.
    const COUNTS: [&str; 2] = ["count", "mape_skipped"];
    for task in [Task::Binary, Task::Multiclass, Task::Regression] {
        let snapshot = snapshot_of(task);
        let names = computed_names(Some(task));
        for name in &names {
            let readable = snapshot.value(name).is_some() || snapshot.reasons.contains_key(*name);
            assert!(
                readable,
                "{name} is listed for {task} but its snapshot has no value or reason"
            );
        }
        let scalars = snapshot
            .metrics
            .iter()
            .filter(|(key, value)| !COUNTS.contains(&key.as_str()) && (value.is_number() || value.is_null()));
        for (key, _) in scalars {
            assert!(
                names.contains(&key.as_str()),
                "{task} computes {key}, which the table lacks"
            );
        }
    }
}
