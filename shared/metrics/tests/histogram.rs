//! Bin layout, merging and the sparse serialised form of `ScoreHistogram`.

use mpt_metrics::{
    histogram::{ScoreHistogram, LAYOUT, NUM_BINS},
    Metric,
};
use proptest::prelude::*;
use serde_json::json;

fn previous_float(value: f64) -> f64 {
    f64::from_bits(value.to_bits() - 1)
}

#[test]
fn edges_span_unit_interval() {
    let edges = ScoreHistogram::edges();
    assert_eq!(edges.len(), NUM_BINS + 1);
    assert_eq!(edges[0], 0.0);
    assert_eq!(edges[NUM_BINS], 1.0);
}

#[test]
fn edges_strictly_increase() {
    let edges = ScoreHistogram::edges();
    for (k, pair) in edges.windows(2).enumerate() {
        assert!(
            pair[0] < pair[1],
            "edge {k} = {} is not below edge {} = {}",
            pair[0],
            k + 1,
            pair[1]
        );
    }
}

#[test]
fn middle_edge_is_one_half() {
    assert_eq!(ScoreHistogram::edges()[3201], 0.5);
}

#[test]
fn bin_index_agrees_with_edges() {
    let edges = ScoreHistogram::edges();
    for (k, edge) in edges.iter().enumerate().take(NUM_BINS).skip(1) {
        assert_eq!(ScoreHistogram::bin_index(*edge).unwrap(), k, "score {edge} on edge {k}");
        let below = previous_float(*edge);
        assert_eq!(
            ScoreHistogram::bin_index(below).unwrap(),
            k - 1,
            "score {below} just below edge {k}"
        );
    }
}

#[test]
fn bin_index_zero_and_one_outer_bins() {
    assert_eq!(ScoreHistogram::bin_index(0.0).unwrap(), 0);
    assert_eq!(ScoreHistogram::bin_index(1.0).unwrap(), NUM_BINS - 1);
}

#[test]
fn bin_index_rejects_score_above_one() {
    let error = ScoreHistogram::bin_index(1.25).unwrap_err();
    assert_eq!(error.to_string(), "score must be a probability in [0, 1], got 1.25");
}

#[test]
fn add_counts_each_label_kind() {
    let mut histogram = ScoreHistogram::new();
    histogram.add(0.3, Some(true)).unwrap();
    histogram.add(0.3, Some(false)).unwrap();
    histogram.add(0.3, None).unwrap();
    let bin = histogram.bins().next().unwrap();
    assert_eq!((bin.positive, bin.negative, bin.unlabelled), (1, 1, 1));
    assert_eq!(histogram.totals()[bin.index], 3);
}

#[test]
fn merge_adds_counts() {
    let mut left = ScoreHistogram::new();
    left.add(0.2, Some(true)).unwrap();
    let mut right = ScoreHistogram::new();
    right.add(0.2, Some(true)).unwrap();
    right.add(0.9, None).unwrap();
    left.merge(&right);
    assert_eq!(left.positive_count(), 2);
    assert_eq!(left.count(), 3);
}

#[test]
fn merge_into_empty_copies() {
    let mut other = ScoreHistogram::new();
    other.add(0.6, Some(false)).unwrap();
    let mut empty = ScoreHistogram::new();
    empty.merge(&other);
    assert_eq!(empty, other);
}

#[test]
fn roc_auc_counts_shared_bin_as_tie() {
    let mut histogram = ScoreHistogram::new();
    histogram.add(0.5, Some(true)).unwrap();
    histogram.add(0.5, Some(false)).unwrap();
    histogram.add(0.9, Some(true)).unwrap();
    histogram.add(0.1, Some(false)).unwrap();
    // Pairs: 0.9 beats both negatives, 0.5 beats 0.1 and ties 0.5: (2 + 1.5) / 4.
    assert_eq!(histogram.roc_auc(), Metric::Value(0.875));
    assert_eq!(histogram.roc_auc_error_bound(), Some(0.125));
}

#[test]
fn pr_auc_single_class_is_null() {
    let mut histogram = ScoreHistogram::new();
    histogram.add(0.5, Some(false)).unwrap();
    assert_eq!(
        histogram.pr_auc(),
        Metric::Undefined("only one class present in the actuals")
    );
}

#[test]
fn unlabelled_histogram_has_no_auc() {
    let mut histogram = ScoreHistogram::new();
    histogram.add(0.5, None).unwrap();
    assert_eq!(histogram.roc_auc(), Metric::Undefined("no labelled records"));
}

#[test]
fn serialised_form_lists_non_empty_bins() {
    let mut histogram = ScoreHistogram::new();
    histogram.add(0.5, Some(true)).unwrap();
    histogram.add(0.5, Some(true)).unwrap();
    histogram.add(1.0, Some(false)).unwrap();
    let json = serde_json::to_value(&histogram).unwrap();
    let expected = json!({"layout": LAYOUT, "gaps": [3201, 3200], "positive": [2, 0], "negative": [0, 1]});
    assert_eq!(json, expected);
}

#[test]
fn serialised_form_omits_empty_columns() {
    let mut histogram = ScoreHistogram::new();
    histogram.add(0.25, None).unwrap();
    let json = serde_json::to_value(&histogram).unwrap();
    assert!(json.get("positive").is_none(), "{json}");
}

#[test]
fn serde_round_trip_preserves_counts() {
    let mut histogram = ScoreHistogram::new();
    for (i, score) in [0.0, 1e-9, 0.1, 0.5, 0.77, 0.999_999, 1.0].into_iter().enumerate() {
        histogram.add(score, [Some(true), Some(false), None][i % 3]).unwrap();
    }
    let restored: ScoreHistogram = serde_json::from_str(&serde_json::to_string(&histogram).unwrap()).unwrap();
    assert_eq!(restored, histogram);
}

#[test]
fn full_histogram_fits_dynamodb_item() {
    // One labelled score in every bin, with counts in the millions, is the largest realistic form.
    let edges = ScoreHistogram::edges();
    let mut histogram = ScoreHistogram::new();
    for (k, edge) in edges.iter().enumerate().take(NUM_BINS) {
        histogram.add(*edge, Some(k % 2 == 0)).unwrap();
    }
    let mut heavy = ScoreHistogram::new();
    for _ in 0..20 {
        heavy.merge(&histogram);
        let copy = heavy.clone();
        heavy.merge(&copy);
    }
    let size = serde_json::to_string(&heavy).unwrap().len();
    assert!(size < 150_000, "serialised size {size} bytes");
}

#[test]
fn deserialise_rejects_other_layout() {
    let error = serde_json::from_value::<ScoreHistogram>(json!({"layout": "uniform/100", "gaps": []})).unwrap_err();
    assert!(error.to_string().contains("uniform/100"), "{error}");
}

#[test]
fn deserialise_rejects_index_out_of_range() {
    let value = json!({"layout": LAYOUT, "gaps": [6000, 500], "unlabelled": [1, 1]});
    let error = serde_json::from_value::<ScoreHistogram>(value).unwrap_err();
    assert!(error.to_string().contains("6500 is out of range"), "{error}");
}

#[test]
fn deserialise_rejects_repeated_bin() {
    let value = json!({"layout": LAYOUT, "gaps": [10, 0], "unlabelled": [1, 1]});
    let error = serde_json::from_value::<ScoreHistogram>(value).unwrap_err();
    assert!(error.to_string().contains("gap 1 is 0"), "{error}");
}

#[test]
fn deserialise_rejects_short_column() {
    let value = json!({"layout": LAYOUT, "gaps": [10, 3], "positive": [1]});
    let error = serde_json::from_value::<ScoreHistogram>(value).unwrap_err();
    assert!(error.to_string().contains("column positive has 1 entries"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merge_of_groups_matches_single_pass(
        records in prop::collection::vec((0.0..=1.0f64, prop::option::of(any::<bool>()), 0..4usize), 0..200),
    ) {
        let mut single = ScoreHistogram::new();
        let mut groups = vec![ScoreHistogram::new(); 4];
        for (score, actual, group) in &records {
            single.add(*score, *actual).unwrap();
            groups[*group].add(*score, *actual).unwrap();
        }

        // Each group goes through its stored form, and the groups merge in reverse order.
        let mut merged = ScoreHistogram::new();
        for group in groups.iter().rev() {
            let restored: ScoreHistogram = serde_json::from_str(&serde_json::to_string(group).unwrap()).unwrap();
            merged.merge(&restored);
        }
        prop_assert_eq!(merged, single);
    }
}
