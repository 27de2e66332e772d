use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use mpt_metrics::{histogram::ScoreHistogram, Metric};

use super::*;
use crate::{
    model::{ModelConfig, Task},
    record::{ActualValue, Bet, PredictionValue},
    store::{
        aggregates::{decode_body, encode_body, split_values, MAX_BODY_BYTES},
        item::MAX_ITEM_BYTES,
    },
};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn binary_prediction(index: usize, score: f64, actual: Option<f64>) -> StoredPrediction {
    let timestamp = at("2023-06-12T17:00:00Z") + TimeDelta::seconds(index as i64);
    StoredPrediction {
        id: format!("p{index}"),
        version: "v1".into(),
        timestamp,
        prediction: PredictionValue::Number(score),
        actual: actual.map(ActualValue::Number),
        actual_timestamp: actual.map(|_| timestamp + TimeDelta::hours(3)),
        latency_ms: Some(10.0 + index as f64),
        segment: BTreeMap::from([("stage".to_string(), format!("s{}", index % 3))]),
        features: BTreeMap::new(),
        bet: None,
        content_hash: String::new(),
        stored_at: timestamp,
    }
}

fn binary_config() -> ModelConfig {
    let mut config = ModelConfig::new(Task::Binary);
    config.segments = vec!["stage".to_string()];
    config
}

/// Deterministic scores and labels spread over (0, 1).
fn sample(count: usize) -> Vec<StoredPrediction> {
    (0..count)
        .map(|i| {
            let score = ((i * 7919) % 1000) as f64 / 1000.0 + 0.0005;
            let actual = match i % 5 {
                0 => None,
                _ => Some(if (i * 31) % 7 < 3 { 1.0 } else { 0.0 }),
            };
            binary_prediction(i, score, actual)
        })
        .collect()
}

fn folded(config: &ModelConfig, predictions: &[StoredPrediction]) -> Aggregate {
    let mut aggregate = Aggregate::empty(config).unwrap();
    for prediction in predictions {
        aggregate.fold(prediction);
    }
    aggregate
}

#[test]
fn fold_counts_predictions_and_labels() {
    let aggregate = folded(&binary_config(), &sample(100));
    assert_eq!(aggregate.predictions, 100);
    assert_eq!(aggregate.labelled, 80);
    assert_eq!(aggregate.latency.count(), 100);
    assert_eq!(aggregate.label_delay.count(), 80);
}

#[test]
fn fold_records_label_delay_in_seconds() {
    let aggregate = folded(&binary_config(), &sample(10));
    assert_eq!(
        aggregate
            .label_delay
            .quantile(0.5)
            .map(|v| (v / 10_800.0 - 1.0).abs() < 0.01),
        Some(true)
    );
}

#[test]
fn fold_skips_prediction_of_other_task() {
    let mut prediction = binary_prediction(0, 0.5, Some(1.0));
    prediction.prediction = PredictionValue::Label("H".into());
    let aggregate = folded(&binary_config(), &[prediction]);
    assert_eq!(aggregate.skipped, 1);
    assert_eq!(aggregate.predictions, 0);
}

#[test]
fn fold_settles_bets_only_with_actual() {
    let mut won = binary_prediction(0, 0.7, Some(1.0));
    won.bet = Some(Bet {
        side: ActualValue::Number(1.0),
        odds: 2.0,
        stake: 10.0,
    });
    let mut pending = binary_prediction(1, 0.7, None);
    pending.bet = won.bet.clone();
    let aggregate = folded(&binary_config(), &[won, pending]);
    let betting = aggregate.betting.compute();
    assert_eq!(betting.bets, 1);
    assert_eq!(betting.roi.value(), Some(1.0));
}

#[test]
fn fold_settles_bet_sent_as_boolean() {
    let mut prediction = binary_prediction(0, 0.7, None);
    prediction.actual = Some(ActualValue::Bool(false));
    prediction.bet = Some(Bet {
        side: ActualValue::Number(0.0),
        odds: 3.0,
        stake: 5.0,
    });
    let aggregate = folded(&binary_config(), &[prediction]);
    assert_eq!(aggregate.betting.compute().roi.value(), Some(2.0));
}

#[test]
fn merge_of_hours_equals_one_pass_in_any_order() {
    let config = binary_config();
    let records = sample(300);
    let whole = folded(&config, &records);
    let parts: Vec<Aggregate> = records.chunks(37).map(|chunk| folded(&config, chunk)).collect();

    let mut forward = Aggregate::empty(&config).unwrap();
    for part in &parts {
        forward.merge(part).unwrap();
    }
    let mut backward = Aggregate::empty(&config).unwrap();
    for part in parts.iter().rev() {
        backward.merge(part).unwrap();
    }
    for merged in [&forward, &backward] {
        assert_eq!(merged.predictions, whole.predictions);
        assert_eq!(merged.labelled, whole.labelled);
        let (Performance::Binary(left), Performance::Binary(right)) = (&merged.performance, &whole.performance) else {
            panic!("not binary");
        };
        let (left, right) = (left.compute(), right.compute());
        assert_eq!(left.accuracy, right.accuracy);
        assert_eq!(left.roc_auc, right.roc_auc);
        let difference = (left.log_loss.value().unwrap() - right.log_loss.value().unwrap()).abs();
        assert!(difference < 1e-12, "log loss differs by {difference}");
        assert_eq!(merged.latency.quantile(0.99), whole.latency.quantile(0.99));
    }
}

#[test]
fn merge_rejects_other_task() {
    let mut binary = Aggregate::empty(&binary_config()).unwrap();
    let regression = Aggregate::empty(&ModelConfig::new(Task::Regression)).unwrap();
    let error = binary.merge(&regression).unwrap_err();
    assert!(matches!(error, AggregateError::TaskMismatch { .. }));
}

#[test]
fn merge_rejects_other_threshold_and_leaves_aggregate_unchanged() {
    let config = binary_config();
    let mut left = folded(&config, &sample(10));
    let before = left.clone();
    let mut other_config = config.clone();
    other_config.threshold = 0.7;
    let right = folded(&other_config, &sample(10));
    assert!(left.merge(&right).is_err());
    assert_eq!(left, before);
}

#[test]
fn aggregate_serde_round_trips() {
    let aggregate = folded(&binary_config(), &sample(50));
    let json = serde_json::to_string(&aggregate).unwrap();
    let back: Aggregate = serde_json::from_str(&json).unwrap();
    assert_eq!(back, aggregate);
}

fn multiclass_prediction(index: usize, predicted: &str, actual: &str) -> StoredPrediction {
    let mut prediction = binary_prediction(index, 0.0, None);
    prediction.prediction = PredictionValue::Label(predicted.to_string());
    prediction.actual = Some(ActualValue::Label(actual.to_string()));
    prediction
}

#[test]
fn multiclass_open_classes_widen_on_merge() {
    let config = ModelConfig::new(Task::Multiclass);
    let first = [multiclass_prediction(0, "A", "A"), multiclass_prediction(1, "B", "A")];
    let second = [multiclass_prediction(2, "C", "C"), multiclass_prediction(3, "A", "B")];
    let all: Vec<StoredPrediction> = first.iter().chain(second.iter()).cloned().collect();

    let mut merged = folded(&config, &first);
    merged.merge(&folded(&config, &second)).unwrap();
    let whole = folded(&config, &all);
    let (Performance::Multiclass(left), Performance::Multiclass(right)) = (&merged.performance, &whole.performance)
    else {
        panic!("not multiclass");
    };
    let (left, right) = (left.state().unwrap(), right.state().unwrap());
    assert_eq!(left.classes(), ["A", "B", "C"]);
    assert_eq!(left.compute().confusion_matrix, right.compute().confusion_matrix);
    assert_eq!(left.compute().accuracy, Metric::Value(0.5));
}

#[test]
fn multiclass_probabilities_widen_exactly() {
    let config = ModelConfig::new(Task::Multiclass);
    let with_probabilities = |index: usize, probabilities: &[(&str, f64)], actual: &str| {
        let mut prediction = multiclass_prediction(index, "", actual);
        prediction.prediction =
            PredictionValue::Probabilities(probabilities.iter().map(|(class, p)| (class.to_string(), *p)).collect());
        prediction
    };
    let first = [with_probabilities(0, &[("A", 0.7), ("B", 0.3)], "A")];
    let second = [with_probabilities(1, &[("A", 0.2), ("B", 0.1), ("C", 0.7)], "C")];
    let mut merged = folded(&config, &first);
    merged.merge(&folded(&config, &second)).unwrap();
    let Performance::Multiclass(state) = &merged.performance else {
        panic!("not multiclass");
    };
    let expected = -(0.7f64.ln() + 0.7f64.ln()) / 2.0;
    let log_loss = state.state().unwrap().compute().log_loss.value().unwrap();
    assert!(
        (log_loss - expected).abs() < 1e-12,
        "log loss {log_loss}, expected {expected}"
    );
}

#[test]
fn multiclass_single_label_is_counted_until_second_class() {
    let config = ModelConfig::new(Task::Multiclass);
    let mut aggregate = folded(
        &config,
        &[multiclass_prediction(0, "A", "A"), multiclass_prediction(1, "A", "A")],
    );
    let Performance::Multiclass(state) = &aggregate.performance else {
        panic!("not multiclass");
    };
    assert_eq!(state.single(), Some(("A", 2)));
    aggregate.fold(&multiclass_prediction(2, "B", "A"));
    let Performance::Multiclass(state) = &aggregate.performance else {
        panic!("not multiclass");
    };
    let metrics = state.state().unwrap().compute();
    assert_eq!(metrics.count, 3);
    assert_eq!(metrics.confusion_matrix, vec![vec![2, 1], vec![0, 0]]);
}

#[test]
fn segments_keep_values_apart() {
    let set = AggregateSet::from_predictions(&binary_config(), &sample(30)).unwrap();
    let values = &set.segments["stage"];
    assert_eq!(values.len(), 3);
    assert_eq!(values["s0"].predictions, 10);
}

#[test]
fn segments_missing_tag_is_empty_value() {
    let mut prediction = binary_prediction(0, 0.5, None);
    prediction.segment.clear();
    let set = AggregateSet::from_predictions(&binary_config(), &[prediction]).unwrap();
    assert_eq!(set.segments["stage"][""].predictions, 1);
}

#[test]
fn segments_past_cap_go_to_other() {
    let predictions: Vec<StoredPrediction> = (0..25 * 4)
        .map(|i| {
            let mut prediction = binary_prediction(i, 0.5, None);
            // Values v00..v24; value vNN gets NN + 1 predictions when counted below.
            prediction.segment = BTreeMap::from([("stage".to_string(), format!("v{:02}", i % 25))]);
            prediction
        })
        .chain((0..25).flat_map(|value| {
            (0..value).map(move |k| {
                let mut prediction = binary_prediction(1_000 + value * 100 + k, 0.5, None);
                prediction.segment = BTreeMap::from([("stage".to_string(), format!("v{value:02}"))]);
                prediction
            })
        }))
        .collect();
    let set = AggregateSet::from_predictions(&binary_config(), &predictions).unwrap();
    let values = &set.segments["stage"];
    assert_eq!(values.len(), MAX_SEGMENT_VALUES + 1);
    // v00..v04 have the fewest predictions (4 to 8), so they make up `other`.
    assert_eq!(values[OTHER_SEGMENT_VALUE].predictions, 4 + 5 + 6 + 7 + 8);
    assert!(values.contains_key("v05"));
    assert!(!values.contains_key("v04"));
    let total: u64 = values.values().map(|aggregate| aggregate.predictions).sum();
    assert_eq!(total, set.total.predictions);
}

#[test]
fn segment_merge_caps_once_after_all_merges() {
    let config = binary_config();
    let mut merged = AggregateSet::empty(&config).unwrap();
    for value in 0..30 {
        let mut prediction = binary_prediction(value, 0.5, None);
        prediction.segment = BTreeMap::from([("stage".to_string(), format!("v{value:02}"))]);
        merged
            .merge(&AggregateSet::from_predictions(&config, &[prediction]).unwrap())
            .unwrap();
    }
    assert_eq!(merged.segments["stage"].len(), 30);
    merged.cap_values().unwrap();
    assert_eq!(merged.segments["stage"].len(), MAX_SEGMENT_VALUES + 1);
    assert_eq!(merged.segments["stage"][OTHER_SEGMENT_VALUE].predictions, 10);
}

/// Fills every score bin with labelled positives, negatives and unlabelled scores in varied
/// counts, about 2.9 million predictions in all, and the sketches across a wide range: an hour
/// far busier than most models see.
fn worst_case_aggregate(config: &ModelConfig) -> Aggregate {
    let mut aggregate = Aggregate::empty(config).unwrap();
    let edges = ScoreHistogram::edges();
    let Performance::Binary(state) = &mut aggregate.performance else {
        panic!("not binary");
    };
    let Distribution::Binary { unlabelled } = &mut aggregate.distribution else {
        panic!("not binary");
    };
    let mut predictions = 0;
    let mut labelled = 0;
    for bin in 0..edges.len() - 1 {
        let score = (edges[bin] + edges[bin + 1]) / 2.0;
        // Counts from a 64-bit mix of the bin, so they do not compress better than real ones.
        let count = |salt: u64| {
            let mixed = (bin as u64 * 3 + salt)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .rotate_left(29);
            1 + (mixed.wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 40) as usize % 300
        };
        for _ in 0..count(1) {
            state.update(score, true).unwrap();
        }
        for _ in 0..count(2) {
            state.update(score, false).unwrap();
        }
        for _ in 0..count(3) {
            unlabelled.add(score, None).unwrap();
        }
        labelled += (count(1) + count(2)) as u64;
        predictions += (count(1) + count(2) + count(3)) as u64;
    }
    // Latencies from 1 µs to one hour and label delays up to a year, each 1% bucket used.
    let mut latency_ms = 0.001;
    while latency_ms < 3_600_000.0 {
        aggregate.latency.update(latency_ms).unwrap();
        latency_ms *= 1.015;
    }
    let mut delay_secs = 1.0;
    while delay_secs < 31_536_000.0 {
        aggregate.label_delay.update(delay_secs).unwrap();
        delay_secs *= 1.015;
    }
    aggregate.predictions = predictions;
    aggregate.labelled = labelled;
    aggregate
}

#[test]
fn worst_case_aggregate_fits_one_item() {
    let aggregate = worst_case_aggregate(&binary_config());
    let body = encode_body(&aggregate).unwrap();
    let json = serde_json::to_vec(&aggregate).unwrap();
    println!(
        "worst-case aggregate: {} bytes of JSON, {} compressed",
        json.len(),
        body.len()
    );
    assert!(body.len() < MAX_BODY_BYTES, "{} bytes", body.len());
}

#[test]
fn worst_case_segment_values_split_into_items() {
    let aggregate = worst_case_aggregate(&binary_config());
    let values: BTreeMap<String, Aggregate> = (0..=MAX_SEGMENT_VALUES)
        .map(|value| (format!("value-{value:02}"), aggregate.clone()))
        .collect();
    let parts = split_values(&values).unwrap();
    let sizes: Vec<usize> = parts.iter().map(|(_, body)| body.len()).collect();
    println!("worst-case segment item: {} parts of {sizes:?} bytes", parts.len());
    assert!(sizes.iter().all(|size| *size <= MAX_BODY_BYTES), "{sizes:?}");
    const { assert!(MAX_BODY_BYTES < MAX_ITEM_BYTES) };
    let mut decoded = BTreeMap::new();
    for (_, body) in &parts {
        decoded.extend(decode_body::<BTreeMap<String, Aggregate>>(body).unwrap());
    }
    assert_eq!(decoded, values);
}
