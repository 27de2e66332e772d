//! Latency sketch quantiles against exact NumPy quantiles, within the stated relative error.

mod task_fixtures;

use mpt_metrics::latency::{LatencySketch, RELATIVE_ACCURACY};
use proptest::prelude::*;
use task_fixtures::{assert_metric, close, floats, load, name, EXACT, MERGED};

/// The stated bound, with room for the rounding of the bucket arithmetic.
const BOUND: f64 = RELATIVE_ACCURACY * (1.0 + 1e-9);

fn sketch_of(latencies_ms: &[f64]) -> LatencySketch {
    let mut sketch = LatencySketch::new();
    for latency_ms in latencies_ms {
        sketch.update(*latency_ms).expect("fixture latencies are valid");
    }
    sketch
}

fn within_bound(estimate: f64, exact: f64) -> bool {
    (estimate - exact).abs() <= BOUND * exact.abs()
}

/// Returns `numpy.quantile(values, q, method="lower")`.
fn lower_quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
}

#[test]
fn latency_quantiles_within_bound_of_numpy() {
    for case in load("latency") {
        let metrics = sketch_of(&floats(&case, "latencies_ms")).compute();
        let expected = &case["expected"];
        for (key, metric) in [
            ("p50_ms", metrics.p50_ms),
            ("p90_ms", metrics.p90_ms),
            ("p95_ms", metrics.p95_ms),
            ("p99_ms", metrics.p99_ms),
        ] {
            let exact = expected[key].as_f64().expect("quantile is a number");
            let estimate = metric
                .value()
                .unwrap_or_else(|| panic!("{}: {key} is null", name(&case)));
            assert!(
                within_bound(estimate, exact),
                "{}: {key} {estimate} vs exact {exact}",
                name(&case)
            );
        }
    }
}

#[test]
fn latency_exact_fields_match_numpy() {
    for case in load("latency") {
        let metrics = sketch_of(&floats(&case, "latencies_ms")).compute();
        let expected = &case["expected"];
        assert_eq!(
            metrics.count,
            expected["count"].as_u64().expect("count"),
            "{}: count",
            name(&case)
        );
        assert_metric(
            metrics.mean_ms,
            &expected["mean_ms"],
            EXACT,
            &format!("{}: mean_ms", name(&case)),
        );
        assert_metric(
            metrics.max_ms,
            &expected["max_ms"],
            0.0,
            &format!("{}: max_ms", name(&case)),
        );
    }
}

#[test]
fn latency_merged_equals_single_pass() {
    for case in load("latency") {
        let latencies_ms = floats(&case, "latencies_ms");
        let single = sketch_of(&latencies_ms).compute();
        let mut merged = LatencySketch::new();
        for chunk in latencies_ms.chunks(97).rev() {
            merged.merge(&sketch_of(chunk)).expect("default sketches merge");
        }
        let merged = merged.compute();
        assert_eq!(merged.p99_ms, single.p99_ms, "{}: p99", name(&case));
        assert_eq!(merged.p50_ms, single.p50_ms, "{}: p50", name(&case));
        let (mean_merged, mean_single) = (merged.mean_ms.value(), single.mean_ms.value());
        assert!(
            close(mean_merged.unwrap_or(f64::NAN), mean_single.unwrap_or(f64::NAN), MERGED),
            "{}: mean",
            name(&case)
        );
    }
}

#[test]
fn latency_bucket_count_stays_small() {
    let case = load("latency")
        .into_iter()
        .find(|case| name(case) == "wide_range")
        .expect("wide_range case");
    let sketch = sketch_of(&floats(&case, "latencies_ms"));
    // Nine decades at 1%: ln(1e9) / ln(1.01 / 0.99) ≈ 1,036 buckets at most.
    assert!(sketch.bucket_count() <= 1_040, "{} buckets", sketch.bucket_count());
}

#[test]
fn latency_serde_round_trip() {
    let sketch = sketch_of(&floats(&load("latency")[0], "latencies_ms"));
    let text = serde_json::to_string(&sketch).expect("sketch serialises");
    let restored: LatencySketch = serde_json::from_str(&text).expect("sketch deserialises");
    assert_eq!(restored, sketch);
}

#[test]
fn latency_rejects_negative() {
    assert!(LatencySketch::new().update(-1.0).is_err());
}

#[test]
fn latency_rejects_nan() {
    assert!(LatencySketch::new().update(f64::NAN).is_err());
}

#[test]
fn latency_empty_is_null() {
    assert_eq!(LatencySketch::new().compute().p50_ms.value(), None);
}

#[test]
fn latency_merge_rejects_other_accuracy() {
    let coarse = LatencySketch::with_relative_accuracy(0.05).expect("valid accuracy");
    assert!(LatencySketch::new().merge(&coarse).is_err());
}

#[test]
fn latency_rejects_corrupt_stored_counts() {
    let text = r#"{"relative_accuracy":0.01,"count":5,"zero_count":0,"buckets":{"10":2},
        "sum_ms":[1.0,0.0],"min_ms":1.0,"max_ms":1.0}"#;
    assert!(serde_json::from_str::<LatencySketch>(text).is_err());
}

proptest! {
    #[test]
    fn latency_quantiles_within_bound(
        latencies_ms in prop::collection::vec(prop_oneof![Just(0.0), 1e-6..1e7_f64], 1..400),
        q in 0.0..=1.0_f64,
    ) {
        let estimate = sketch_of(&latencies_ms).quantile(q).expect("non-empty sketch");
        let exact = lower_quantile(&latencies_ms, q);
        prop_assert!(within_bound(estimate, exact), "q {}: {} vs exact {}", q, estimate, exact);
    }

    #[test]
    fn latency_heavy_tail_within_bound(exponents in prop::collection::vec(-3.0..8.0_f64, 1..400)) {
        let latencies_ms: Vec<f64> = exponents.iter().map(|exponent| 10_f64.powf(*exponent)).collect();
        let sketch = sketch_of(&latencies_ms);
        for q in [0.5, 0.9, 0.95, 0.99] {
            let estimate = sketch.quantile(q).expect("non-empty sketch");
            let exact = lower_quantile(&latencies_ms, q);
            prop_assert!(within_bound(estimate, exact), "q {}: {} vs exact {}", q, estimate, exact);
        }
    }
}
