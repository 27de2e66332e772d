//! Merge laws and serde round trips of the multiclass, regression, latency and value states.
//!
//! For random records split into three parts a, b and c, merging in any order and grouping
//! must agree with one pass over all records, within 1e-12 relative for sums, and a state must
//! survive a serde round trip unchanged.

mod task_fixtures;

use mpt_metrics::{
    latency::LatencySketch,
    multiclass::{ClassPrediction, MulticlassState},
    regression::RegressionState,
    value::{BettingState, CostMatrixState},
    Metric,
};
use proptest::prelude::*;
use serde::{de::DeserializeOwned, Serialize};
use task_fixtures::{close, MERGED};

const CLASSES: [&str; 3] = ["H", "D", "A"];

fn classes() -> Vec<String> {
    CLASSES.iter().map(|class| class.to_string()).collect()
}

/// Asserts that two metrics are both undefined or both values within `MERGED`.
fn agree(left: Metric, right: Metric) -> Result<(), TestCaseError> {
    match (left.value(), right.value()) {
        (Some(left), Some(right)) => prop_assert!(close(left, right, MERGED), "{} vs {}", left, right),
        (left, right) => prop_assert_eq!(left, right),
    }
    Ok(())
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(state: &T) -> Result<(), TestCaseError> {
    let text = serde_json::to_string(state).map_err(|error| TestCaseError::fail(error.to_string()))?;
    let restored: T = serde_json::from_str(&text).map_err(|error| TestCaseError::fail(error.to_string()))?;
    prop_assert_eq!(&restored, state);
    Ok(())
}

/// Splits `records` at two cut points given as fractions.
fn split<T>(records: &[T], first: f64, second: f64) -> (&[T], &[T], &[T]) {
    let (low, high) = if first <= second {
        (first, second)
    } else {
        (second, first)
    };
    let low = (low * records.len() as f64) as usize;
    let high = (high * records.len() as f64) as usize;
    (&records[..low], &records[low..high], &records[high..])
}

/// Returns single pass, (a·b)·c, a·(b·c) and c·(b·a), built by `build` and `merge`.
fn groupings<T: Clone, R>(
    records: &[R],
    cuts: (f64, f64),
    build: impl Fn(&[R]) -> T,
    merge: impl Fn(&mut T, &T),
) -> [T; 4] {
    let (a, b, c) = split(records, cuts.0, cuts.1);
    let (a, b, c) = (build(a), build(b), build(c));
    let mut left = a.clone();
    merge(&mut left, &b);
    merge(&mut left, &c);
    let mut right_inner = b.clone();
    merge(&mut right_inner, &c);
    let mut right = a.clone();
    merge(&mut right, &right_inner);
    let mut reversed = c.clone();
    let mut reversed_inner = b;
    merge(&mut reversed_inner, &a);
    merge(&mut reversed, &reversed_inner);
    [build(records), left, right, reversed]
}

fn regression_of(records: &[(f64, f64)]) -> RegressionState {
    let mut state = RegressionState::new();
    for (prediction, actual) in records {
        state
            .update(*prediction, *actual)
            .expect("generated records are finite");
    }
    state
}

/// A multiclass record: actual class index, and probabilities when `Some`.
type ClassRecord = (usize, Option<Vec<f64>>, usize);

fn multiclass_of(records: &[ClassRecord]) -> MulticlassState {
    let mut state = MulticlassState::new(classes()).expect("valid classes");
    for (actual, probabilities, predicted) in records {
        let prediction = match probabilities {
            Some(probabilities) => ClassPrediction::Probabilities(probabilities),
            None => ClassPrediction::Label(CLASSES[*predicted]),
        };
        state
            .update(prediction, CLASSES[*actual])
            .expect("generated records are valid");
    }
    state
}

fn latency_of(latencies_ms: &[f64]) -> LatencySketch {
    let mut sketch = LatencySketch::new();
    for latency_ms in latencies_ms {
        sketch.update(*latency_ms).expect("generated latencies are valid");
    }
    sketch
}

fn betting_of(bets: &[(bool, f64, f64)]) -> BettingState {
    let mut state = BettingState::new();
    for (won, odds, stake) in bets {
        state
            .update(&true, *odds, *stake, won)
            .expect("generated bets are valid");
    }
    state
}

fn cost_matrix_of(records: &[(usize, usize)]) -> CostMatrixState {
    let values = vec![vec![1.5, -2.0, -7.25], vec![-0.5, 3.0, -1.0], vec![-4.0, 0.0, 2.5]];
    let mut state = CostMatrixState::new(classes(), values).expect("valid matrix");
    for (predicted, actual) in records {
        state
            .update(CLASSES[*predicted], CLASSES[*actual])
            .expect("known classes");
    }
    state
}

fn probability_row() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0.0..1.0_f64, 3).prop_filter_map("needs a positive sum", |weights| {
        let total: f64 = weights.iter().sum();
        (total > 1e-6).then(|| weights.iter().map(|weight| weight / total).collect())
    })
}

proptest! {
    #[test]
    fn regression_merge_in_any_grouping(
        records in prop::collection::vec((-1e4..1e4_f64, -1e4..1e4_f64), 0..200),
        cuts in (0.0..=1.0_f64, 0.0..=1.0_f64),
    ) {
        let states = groupings(&records, cuts, regression_of, |left, right| left.merge(right).expect("merge"));
        let single = states[0].compute();
        for state in &states[1..] {
            let merged = state.compute();
            prop_assert_eq!(merged.count, single.count);
            agree(merged.mae, single.mae)?;
            agree(merged.mse, single.mse)?;
            agree(merged.r2, single.r2)?;
            agree(merged.mape, single.mape)?;
            agree(merged.mean_error, single.mean_error)?;
            agree(merged.max_error, single.max_error)?;
        }
    }

    #[test]
    fn regression_serde_round_trips(records in prop::collection::vec((-1e4..1e4_f64, -1e4..1e4_f64), 0..50)) {
        round_trip(&regression_of(&records))?;
    }

    #[test]
    fn multiclass_merge_in_any_grouping(
        records in prop::collection::vec((0..3_usize, prop::option::of(probability_row()), 0..3_usize), 0..200),
        cuts in (0.0..=1.0_f64, 0.0..=1.0_f64),
    ) {
        let states = groupings(&records, cuts, multiclass_of, |left, right| left.merge(right).expect("merge"));
        let single = states[0].compute();
        for state in &states[1..] {
            let merged = state.compute();
            prop_assert_eq!(&merged.confusion_matrix, &single.confusion_matrix);
            agree(merged.macro_f1, single.macro_f1)?;
            agree(merged.log_loss, single.log_loss)?;
            agree(merged.brier, single.brier)?;
            prop_assert_eq!(merged.roc_auc_ovr_macro, single.roc_auc_ovr_macro);
        }
    }

    #[test]
    fn multiclass_serde_round_trips(
        records in prop::collection::vec((0..3_usize, prop::option::of(probability_row()), 0..3_usize), 0..50),
    ) {
        round_trip(&multiclass_of(&records))?;
    }

    #[test]
    fn latency_merge_in_any_grouping(
        latencies_ms in prop::collection::vec(prop_oneof![Just(0.0), 1e-3..1e6_f64], 0..300),
        cuts in (0.0..=1.0_f64, 0.0..=1.0_f64),
    ) {
        let sketches = groupings(&latencies_ms, cuts, latency_of, |left, right| left.merge(right).expect("merge"));
        let single = sketches[0].compute();
        for sketch in &sketches[1..] {
            let merged = sketch.compute();
            prop_assert_eq!(merged.count, single.count);
            prop_assert_eq!(merged.p50_ms, single.p50_ms);
            prop_assert_eq!(merged.p99_ms, single.p99_ms);
            prop_assert_eq!(merged.max_ms, single.max_ms);
            agree(merged.mean_ms, single.mean_ms)?;
        }
    }

    #[test]
    fn latency_serde_round_trips(latencies_ms in prop::collection::vec(prop_oneof![Just(0.0), 1e-3..1e6_f64], 0..50)) {
        round_trip(&latency_of(&latencies_ms))?;
    }

    #[test]
    fn betting_merge_in_any_grouping(
        bets in prop::collection::vec((any::<bool>(), 1.01..20.0_f64, 0.01..1e4_f64), 0..200),
        cuts in (0.0..=1.0_f64, 0.0..=1.0_f64),
    ) {
        let states = groupings(&bets, cuts, betting_of, |left, right| left.merge(right).expect("merge"));
        let single = states[0].compute();
        for state in &states[1..] {
            let merged = state.compute();
            prop_assert_eq!(merged.bets, single.bets);
            prop_assert_eq!(merged.won, single.won);
            agree(merged.profit, single.profit)?;
            agree(merged.roi, single.roi)?;
        }
    }

    #[test]
    fn betting_serde_round_trips(bets in prop::collection::vec((any::<bool>(), 1.01..20.0_f64, 0.01..1e4_f64), 0..50)) {
        round_trip(&betting_of(&bets))?;
    }

    #[test]
    fn cost_matrix_merge_in_any_grouping(
        records in prop::collection::vec((0..3_usize, 0..3_usize), 0..200),
        cuts in (0.0..=1.0_f64, 0.0..=1.0_f64),
    ) {
        let states = groupings(&records, cuts, cost_matrix_of, |left, right| left.merge(right).expect("merge"));
        for state in &states[1..] {
            prop_assert_eq!(state, &states[0]);
        }
    }

    #[test]
    fn cost_matrix_serde_round_trips(records in prop::collection::vec((0..3_usize, 0..3_usize), 0..50)) {
        round_trip(&cost_matrix_of(&records))?;
    }
}
