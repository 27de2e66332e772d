//! Merge laws of `BinaryState`: any split, order and grouping of the records, with or without a
//! serde round trip, gives the metrics of one pass over them.

use mpt_metrics::{
    binary::{BinaryMetrics, BinaryState},
    Metric,
};
use proptest::prelude::*;

const GROUPS: usize = 6;

/// Agreement promised between merged and single-pass metrics: 1e-12 relative, with 1e-15
/// absolute for values near zero.
fn assert_agree(context: &str, merged: &BinaryMetrics, single: &BinaryMetrics) {
    assert_eq!(merged.count, single.count, "{context} count");
    assert_eq!(
        merged.confusion_matrix, single.confusion_matrix,
        "{context} confusion_matrix"
    );
    for ((name, left), (_, right)) in merged.named().into_iter().zip(single.named()) {
        match (left, right) {
            (Metric::Value(left), Metric::Value(right)) => {
                let allowed = 1e-12 * right.abs() + 1e-15;
                assert!(
                    (left - right).abs() <= allowed,
                    "{context} {name}: merged {left}, single pass {right}"
                );
            }
            (left, right) => assert_eq!(left, right, "{context} {name}"),
        }
    }
    for (bin, (left, right)) in merged.reliability.iter().zip(&single.reliability).enumerate() {
        assert_eq!(left.count, right.count, "{context} reliability bin {bin} count");
        let (left, right) = (left.mean_score.value(), right.mean_score.value());
        let close = match (left, right) {
            (Some(left), Some(right)) => (left - right).abs() <= 1e-12 * right.abs(),
            (left, right) => left == right,
        };
        assert!(
            close,
            "{context} reliability bin {bin} mean_score: merged {left:?}, single pass {right:?}"
        );
    }
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 0.0..=1.0f64,
        1 => Just(0.0),
        1 => Just(1.0),
        1 => Just(0.5),
        2 => (0u32..=10).prop_map(|tenths| tenths as f64 / 10.0),
        1 => (-30.0..30.0f64).prop_map(|logit| 1.0 / (1.0 + (-logit).exp())),
    ]
}

fn records() -> impl Strategy<Value = Vec<(f64, bool, usize)>> {
    prop::collection::vec((score(), any::<bool>(), 0..GROUPS), 0..300)
}

fn threshold() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.5), 0.0..=1.0f64]
}

fn single_pass(records: &[(f64, bool, usize)], threshold: f64) -> BinaryState {
    let mut state = BinaryState::new(threshold).unwrap();
    for (score, actual, _) in records {
        state.update(*score, *actual).unwrap();
    }
    state
}

fn group_states(records: &[(f64, bool, usize)], threshold: f64) -> Vec<BinaryState> {
    let mut groups = vec![BinaryState::new(threshold).unwrap(); GROUPS];
    for (score, actual, group) in records {
        groups[*group].update(*score, *actual).unwrap();
    }
    groups
}

fn merge_all<'a>(threshold: f64, states: impl IntoIterator<Item = &'a BinaryState>) -> BinaryState {
    let mut merged = BinaryState::new(threshold).unwrap();
    for state in states {
        merged.merge(state).unwrap();
    }
    merged
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn merge_in_shuffled_order_matches_single_pass(
        records in records(),
        threshold in threshold(),
        order in Just((0..GROUPS).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let single = single_pass(&records, threshold);
        let groups = group_states(&records, threshold);
        let merged = merge_all(threshold, order.iter().map(|group| &groups[*group]));
        assert_agree("shuffled order", &merged.compute(), &single.compute());
        prop_assert_eq!(merged.histogram(), single.histogram());
    }

    #[test]
    fn merge_in_nested_groups_matches_single_pass(
        records in records(),
        threshold in threshold(),
        order in Just((0..GROUPS).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let single = single_pass(&records, threshold);
        let groups = group_states(&records, threshold);
        let group = |i: usize| &groups[order[i]];

        // ((g0 + g1) + g2) + ((g3 + (g4 + g5))), in the shuffled order.
        let mut left = group(0).clone();
        left.merge(group(1)).unwrap();
        left.merge(group(2)).unwrap();
        let mut inner = group(4).clone();
        inner.merge(group(5)).unwrap();
        let mut right = group(3).clone();
        right.merge(&inner).unwrap();
        left.merge(&right).unwrap();

        assert_agree("nested groups", &left.compute(), &single.compute());
        prop_assert_eq!(left.histogram(), single.histogram());
    }

    #[test]
    fn merge_after_serde_round_trip_matches_single_pass(records in records(), threshold in threshold()) {
        let single = single_pass(&records, threshold);
        let restored: Vec<BinaryState> = group_states(&records, threshold)
            .iter()
            .map(|state| serde_json::from_str(&serde_json::to_string(state).unwrap()).unwrap())
            .collect();
        let merged = merge_all(threshold, &restored);
        assert_agree("serde round trip", &merged.compute(), &single.compute());
    }

    #[test]
    fn serde_round_trip_preserves_state(records in records(), threshold in threshold()) {
        let state = single_pass(&records, threshold);
        let restored: BinaryState = serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
        prop_assert_eq!(restored.compute(), state.compute());
    }

    #[test]
    fn merge_with_empty_state_changes_nothing(records in records(), threshold in threshold()) {
        let state = single_pass(&records, threshold);
        let mut merged = state.clone();
        merged.merge(&BinaryState::new(threshold).unwrap()).unwrap();
        prop_assert_eq!(merged.compute(), state.compute());
    }
}
