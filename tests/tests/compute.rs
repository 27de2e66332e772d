//! The metrics computation against the emulator: records go in through the ingest handlers, ticks
//! run at chosen times, and the stored snapshots and CloudWatch datums are checked against
//! scikit-learn values from `scripts/fixtures/pipeline_fixtures.py`.

use std::{collections::BTreeMap, fs, path::Path, time::Duration};

use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use aws_sdk_dynamodb::{primitives::Blob, types::AttributeValue};
use chrono::{DateTime, TimeDelta, Utc};
use mpt_core::{
    cloudwatch::MetricPublisher,
    compute::{run_tick, window_metrics, ComputeDeps, TickSummary},
    ingest::{self, Context},
    snapshot::Snapshot,
    store::{deadline_after, history::Series, keys},
    Config, Store,
};
use mpt_tests::{fresh_store, sdk_config, unique_name};
use serde_json::{Map, Value};

/// Everything one test needs: its own table, namespace and configuration.
struct Pipeline {
    store: Store,
    config: Config,
    deps: ComputeDeps,
    cloudwatch: aws_sdk_cloudwatch::Client,
}

impl Pipeline {
    async fn new(windows: &str) -> Self {
        let sdk = sdk_config().await;
        let store = fresh_store().await;
        let namespace = unique_name("ModelPerformanceTest");
        let table = store.table().to_string();
        let windows = windows.to_string();
        let config = Config::from_lookup(|name| match name {
            "MPT_TABLE" => Some(table.clone()),
            "MPT_NAMESPACE" => Some(namespace.clone()),
            "MPT_WINDOWS" => Some(windows.clone()),
            _ => None,
        })
        .expect("test configuration");
        let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
        let publisher = MetricPublisher::new(cloudwatch.clone(), config.namespace.clone()).expect("namespace");
        // The emulator's index is consistent at once, so markers need no settle time.
        let deps = ComputeDeps::new(store.clone(), Some(publisher)).with_settle(TimeDelta::zero());
        Self {
            store,
            config,
            deps,
            cloudwatch,
        }
    }

    fn context(&self, now: DateTime<Utc>) -> Context {
        Context {
            store: self.store.clone(),
            config: self.config.clone(),
            now,
            deadline: deadline_after(Duration::from_secs(30)),
        }
    }

    async fn register(&self, model: &str, body: &Value, now: DateTime<Utc>) {
        let body = body.as_object().expect("registration is an object");
        if let Err(error) = ingest::register_model(&self.context(now), model, body).await {
            panic!("registering {model} failed: {error:?}");
        }
    }

    /// Sends predictions in requests of at most 1,000 records, as the API requires.
    async fn send_predictions(&self, request: &Value, now: DateTime<Utc>) {
        let model = request["model"].clone();
        let records = request["predictions"].as_array().expect("predictions array");
        for chunk in records.chunks(1_000) {
            let body = Map::from_iter([
                ("model".to_string(), model.clone()),
                ("predictions".to_string(), Value::Array(chunk.to_vec())),
            ]);
            let response = ingest::predictions(&self.context(now), &body)
                .await
                .expect("predictions accepted");
            assert!(response.rejected.is_empty(), "rejected: {:?}", response.rejected);
            assert!(response.failed.is_empty(), "failed: {:?}", response.failed);
            assert_eq!(response.stored, chunk.len());
        }
    }

    async fn send_actuals(&self, request: &Value, now: DateTime<Utc>) {
        let body = request.as_object().expect("actuals request");
        let response = ingest::actuals(&self.context(now), body)
            .await
            .expect("actuals accepted");
        assert!(response.rejected.is_empty(), "rejected: {:?}", response.rejected);
        assert!(response.failed.is_empty(), "failed: {:?}", response.failed);
    }

    async fn tick(&self, at: DateTime<Utc>) -> TickSummary {
        let summary = run_tick(&self.deps, &self.config, at).await.expect("tick runs");
        assert!(summary.failures.is_empty(), "failures: {:?}", summary.failures);
        summary
    }

    async fn snapshot(
        &self,
        model: &str,
        version: &str,
        window: &str,
        segment: Option<&str>,
        at: DateTime<Utc>,
    ) -> Snapshot {
        let series = Series {
            model,
            version,
            window,
            segment,
        };
        let end = mpt_core::time::floor_hour(at);
        match self.store.get_snapshot(series, end).await.expect("history read") {
            Some(snapshot) => snapshot,
            None => panic!("no snapshot for {model} {version} {window} {segment:?} at {end}"),
        }
    }

    /// Returns the sample count and average CloudWatch holds for one metric at one time.
    async fn datums(&self, name: &str, dimensions: &[(&str, &str)], at: DateTime<Utc>) -> (f64, Option<f64>) {
        let end = mpt_core::time::floor_hour(at);
        let to_smithy = |t: DateTime<Utc>| aws_smithy_types::DateTime::from_secs(t.timestamp());
        let output = self
            .cloudwatch
            .get_metric_statistics()
            .namespace(&self.config.namespace)
            .metric_name(name)
            .set_dimensions(Some(
                dimensions
                    .iter()
                    .map(|(n, v)| Dimension::builder().name(*n).value(*v).build())
                    .collect(),
            ))
            .start_time(to_smithy(end - TimeDelta::minutes(1)))
            .end_time(to_smithy(end + TimeDelta::minutes(1)))
            .period(60)
            .statistics(Statistic::SampleCount)
            .statistics(Statistic::Average)
            .send()
            .await
            .expect("GetMetricStatistics");
        let points = output.datapoints();
        let count = points.iter().filter_map(|p| p.sample_count()).sum();
        (count, points.first().and_then(|p| p.average()))
    }
}

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/pipeline")
        .join(format!("{name}.json"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().expect("time string").parse().expect("RFC 3339 time")
}

fn assert_close(actual: Option<f64>, expected: f64, tolerance: f64, what: &str) {
    let Some(actual) = actual else {
        panic!("{what}: null, expected {expected}");
    };
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual}, expected {expected} within {tolerance}"
    );
}

fn assert_relative(actual: Option<f64>, expected: f64, relative: f64, what: &str) {
    assert_close(actual, expected, expected.abs() * relative, what);
}

/// Tolerance of each metric: a binned AUC is within the error bound its snapshot states, the
/// other metrics are exact.
fn tolerance_of(snapshot: &Snapshot, metric: &str) -> f64 {
    match snapshot.error_bounds.get(metric) {
        Some(bound) => bound + 1e-12,
        None => 1e-9,
    }
}

/// Checks a snapshot against the fixture's expected values for its window.
fn check_window(snapshot: &Snapshot, expected: &Value, what: &str) {
    assert_eq!(
        snapshot.predictions,
        expected["predictions"].as_u64().unwrap(),
        "{what}: predictions"
    );
    assert_eq!(
        snapshot.labelled,
        expected["labelled"].as_u64().unwrap(),
        "{what}: labelled"
    );
    match expected.get("label_coverage").map(Value::as_f64) {
        Some(Some(coverage)) => assert_close(
            snapshot.label_coverage,
            coverage,
            1e-12,
            &format!("{what}: label_coverage"),
        ),
        Some(None) => assert_eq!(snapshot.label_coverage, None, "{what}: label_coverage"),
        None => {}
    }
    for name in ["roc_auc", "pr_auc"] {
        if snapshot.value(name).is_some() {
            assert!(
                snapshot.error_bounds.contains_key(name),
                "{what}: {name} states no error bound"
            );
        }
    }
    for (name, value) in expected["metrics"].as_object().into_iter().flatten() {
        let label = format!("{what}: {name}");
        match value.as_f64() {
            Some(value) => assert_close(snapshot.value(name), value, tolerance_of(snapshot, name), &label),
            None => {
                assert_eq!(snapshot.metrics.get(name), Some(&Value::Null), "{label} should be null");
                assert!(snapshot.reasons.contains_key(name), "{label} has no reason");
            }
        }
    }
    // Sketch quantiles are within 1% of numpy's `method="lower"` quantiles.
    for (name, path) in [
        ("latency_p50_ms", ("latency_ms", "p50")),
        ("latency_p99_ms", ("latency_ms", "p99")),
    ]
    .into_iter()
    .chain([
        ("label_delay_p50_s", ("label_delay_s", "p50")),
        ("label_delay_p95_s", ("label_delay_s", "p95")),
    ]) {
        if let Some(value) = expected[name].as_f64() {
            let actual = snapshot.metrics.get(path.0).and_then(|object| object[path.1].as_f64());
            assert_relative(actual, value, 0.0101, &format!("{what}: {name}"));
        }
    }
}

async fn load_nba(pipeline: &Pipeline, scenario: &Value, now: DateTime<Utc>) {
    pipeline
        .register("nba-game-predictor", &scenario["register"], now)
        .await;
    for request in scenario["predictions"].as_array().unwrap() {
        pipeline.send_predictions(request, now).await;
    }
    pipeline.send_actuals(&scenario["actuals_on_time"], now).await;
}

/// One NBA load serves several checks, because the emulator rebuilds hours slowly.
///
/// The emulator's GetMetricStatistics also counts datums whose dimensions are a superset of the
/// ones asked for, so CloudWatch read-backs here use the segment datums, whose four dimensions
/// no other datum extends.
#[tokio::test]
async fn nba_windows_late_labels_segments_and_reruns() {
    let scenario = fixture("nba");
    let pipeline = Pipeline::new("1d,7d,30d").await;
    let tick = time(&scenario["tick"]);
    load_nba(&pipeline, &scenario, tick).await;

    // First run: every window of both versions matches scikit-learn.
    let first = pipeline.tick(tick).await;
    assert_eq!(first.versions, 2);
    for version in ["elo", "raptor"] {
        for window in ["1d", "7d", "30d"] {
            let snapshot = pipeline
                .snapshot("nba-game-predictor", version, window, None, tick)
                .await;
            let expected = &scenario["expected_before_late"][version][window];
            check_window(&snapshot, expected, &format!("{version} {window}"));
        }
    }
    let other_30d = [
        ("Model", "nba-game-predictor"),
        ("Version", "elo"),
        ("Window", "30d"),
        ("Segment", "team1:other"),
    ];
    let other_before = pipeline
        .snapshot("nba-game-predictor", "elo", "30d", Some("team1:other"), tick)
        .await;
    let (count, average) = pipeline.datums("predictions", &other_30d, tick).await;
    assert_eq!(count, 1.0);
    assert_eq!(average, Some(other_before.predictions as f64));
    let (count, average) = pipeline.datums("accuracy", &other_30d, tick).await;
    assert_eq!(count, 1.0);
    assert_close(
        average,
        other_before.value("accuracy").unwrap(),
        1e-12,
        "published accuracy",
    );

    // A re-run of the same tick finds nothing new and publishes nothing.
    let rerun = pipeline.tick(tick + TimeDelta::minutes(5)).await;
    assert_eq!(rerun.hours_rebuilt, 0);
    assert_eq!(rerun.snapshots_written, 0);
    assert_eq!(rerun.snapshots_unchanged, first.snapshots_written);
    assert_eq!(rerun.datums_published, 0);
    assert_eq!(pipeline.datums("accuracy", &other_30d, tick).await.0, 1.0);

    // Late actuals mark their hours dirty; the next run rebuilds them without double counting.
    pipeline.send_actuals(&scenario["actuals_late"], tick).await;
    let late = pipeline.tick(tick).await;
    assert!(late.hours_rebuilt > 0, "late actuals marked no hour dirty");
    for version in ["elo", "raptor"] {
        for window in ["1d", "7d", "30d"] {
            let snapshot = pipeline
                .snapshot("nba-game-predictor", version, window, None, tick)
                .await;
            let expected = &scenario["expected_after_late"][version][window];
            check_window(&snapshot, expected, &format!("{version} {window} after late labels"));
        }
    }

    // Segments: the 20 team values with the most games, and `other` for the rest.
    let expected_segments = scenario["expected_segments_30d"].as_object().unwrap();
    assert_eq!(expected_segments.len(), 21, "the fixture has 20 values and other");
    for (segment, expected) in expected_segments {
        let snapshot = pipeline
            .snapshot("nba-game-predictor", "elo", "30d", Some(segment), tick)
            .await;
        check_window(&snapshot, expected, &format!("elo 30d {segment}"));
    }

    // A changed snapshot is published once more, at the same timestamp; an unchanged one is not.
    let other_after = pipeline
        .snapshot("nba-game-predictor", "elo", "30d", Some("team1:other"), tick)
        .await;
    let changed = other_after.digest() != other_before.digest();
    let (count, _) = pipeline.datums("predictions", &other_30d, tick).await;
    assert_eq!(count, if changed { 2.0 } else { 1.0 });
}

#[tokio::test]
async fn drift_against_reference_period_matches_formula() {
    let scenario = fixture("drift");
    let pipeline = Pipeline::new("1d").await;
    let tick = time(&scenario["tick"]);
    pipeline.register("drift-model", &scenario["register"], tick).await;
    for request in scenario["predictions"].as_array().unwrap() {
        pipeline.send_predictions(request, tick).await;
    }
    pipeline.tick(tick).await;

    for version in ["shifted", "stable"] {
        let snapshot = pipeline.snapshot("drift-model", version, "1d", None, tick).await;
        let expected = &scenario["expected"][version];
        assert_eq!(snapshot.predictions, expected["predictions"].as_u64().unwrap());
        for name in ["psi", "ks", "js_distance"] {
            let value = expected["drift"][name].as_f64().unwrap();
            assert_close(snapshot.value(name), value, 1e-9, &format!("{version} {name}"));
        }
        // No labels yet: coverage is 0 and every performance metric is null with a reason.
        assert_eq!(snapshot.labelled, 0);
        assert_eq!(snapshot.label_coverage, Some(0.0));
        assert_eq!(snapshot.metrics["accuracy"], Value::Null);
        assert!(snapshot.reasons.contains_key("accuracy"));
        assert_eq!(snapshot.metrics["roi"], Value::Null);
    }
    let shifted = pipeline.snapshot("drift-model", "shifted", "1d", None, tick).await;
    assert!(
        shifted.value("psi").unwrap() > 0.25,
        "a large shift passes the common alarm level"
    );
}

#[tokio::test]
async fn month_of_hours_and_empty_windows() {
    let scenario = fixture("month");
    let pipeline = Pipeline::new("1h,1d,7d,30d").await;
    let tick = time(&scenario["tick"]);
    pipeline.register("hourly-model", &scenario["register"], tick).await;
    for request in scenario["predictions"].as_array().unwrap() {
        pipeline.send_predictions(request, tick).await;
    }
    let summary = pipeline.tick(tick).await;
    assert_eq!(summary.hours_rebuilt, 24 * 30 / 3, "every third hour holds predictions");
    assert_eq!(summary.days_rebuilt, 30);
    for window in ["1h", "1d", "7d", "30d"] {
        let snapshot = pipeline.snapshot("hourly-model", "v1", window, None, tick).await;
        check_window(&snapshot, &scenario["expected"][window], &format!("month {window}"));
    }

    // Computing a window without storing it gives the stored snapshot, and works for any window.
    let stored = pipeline.snapshot("hourly-model", "v1", "7d", None, tick).await;
    let computed = window_metrics(&pipeline.deps, "hourly-model", "v1", "7d".parse().unwrap(), tick, None)
        .await
        .expect("window metrics");
    assert_eq!(computed, stored);
    let odd = window_metrics(&pipeline.deps, "hourly-model", "v1", "36h".parse().unwrap(), tick, None)
        .await
        .expect("window metrics");
    let end = mpt_core::time::floor_hour(tick);
    let in_36h = scenario["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|request| request["predictions"].as_array().unwrap())
        .filter(|record| (end - TimeDelta::hours(36)..end).contains(&time(&record["timestamp"])))
        .count();
    assert_eq!(odd.predictions, in_36h as u64);
    let error = window_metrics(
        &pipeline.deps,
        "hourly-model",
        "v1",
        "7d".parse().unwrap(),
        tick,
        Some("stage:x"),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("stage:x"), "{error}");

    // Two days after the last prediction the short windows are empty: zero predictions and null
    // metrics with reasons, never NaN.
    let later = time(&scenario["empty_tick"]);
    pipeline.tick(later).await;
    for window in ["1h", "1d", "30d"] {
        let snapshot = pipeline.snapshot("hourly-model", "v1", window, None, later).await;
        check_window(
            &snapshot,
            &scenario["expected_empty_tick"][window],
            &format!("later {window}"),
        );
    }
    let empty = pipeline.snapshot("hourly-model", "v1", "1d", None, later).await;
    assert_eq!(empty.predictions, 0);
    assert_eq!(empty.label_coverage, None);
    assert!(empty.reasons.contains_key("label_coverage"));
    assert!(empty.reasons.contains_key("accuracy"));
    let dimensions = [("Model", "hourly-model"), ("Version", "v1"), ("Window", "1d")];
    let (accuracy_datums, _) = pipeline.datums("accuracy", &dimensions, later).await;
    assert_eq!(accuracy_datums, 0.0, "an undefined metric is not published");
    let (volume_datums, volume) = pipeline.datums("predictions", &dimensions, later).await;
    assert_eq!(volume_datums, 1.0);
    assert_eq!(volume, Some(0.0));
}

#[tokio::test]
async fn regression_window_matches_sklearn() {
    let scenario = fixture("regression");
    let pipeline = Pipeline::new("1d").await;
    let tick = time(&scenario["tick"]);
    pipeline.register("price-model", &scenario["register"], tick).await;
    pipeline.send_predictions(&scenario["predictions"][0], tick).await;
    pipeline.tick(tick).await;
    let snapshot = pipeline.snapshot("price-model", "v1", "1d", None, tick).await;
    check_window(&snapshot, &scenario["expected"], "regression 1d");
    assert!(
        snapshot.value("psi").is_none(),
        "no predictions in the reference period"
    );
}

#[tokio::test]
async fn multiclass_window_matches_sklearn() {
    let scenario = fixture("multiclass");
    let pipeline = Pipeline::new("1d").await;
    let tick = time(&scenario["tick"]);
    pipeline.register("result-model", &scenario["register"], tick).await;
    pipeline.send_predictions(&scenario["predictions"][0], tick).await;
    pipeline.tick(tick).await;
    let snapshot = pipeline.snapshot("result-model", "v1", "1d", None, tick).await;
    check_window(&snapshot, &scenario["expected"], "multiclass 1d");
}

#[tokio::test]
async fn failing_model_does_not_stop_others() {
    let scenario = fixture("regression");
    let pipeline = Pipeline::new("1d").await;
    let tick = time(&scenario["tick"]);
    pipeline.register("price-model", &scenario["register"], tick).await;
    pipeline.send_predictions(&scenario["predictions"][0], tick).await;
    let mut broken = scenario["predictions"][0].clone();
    broken["model"] = Value::String("broken-model".into());
    pipeline.register("broken-model", &scenario["register"], tick).await;
    pipeline.send_predictions(&broken, tick).await;
    pipeline.tick(tick).await;

    // Corrupt the broken model's day aggregate, so reading any window of it fails.
    let day = "2023-05-10T00:00:00Z".parse().unwrap();
    pipeline
        .store
        .client()
        .put_item()
        .table_name(pipeline.store.table())
        .item("pk", AttributeValue::S(keys::aggregate_pk("broken-model", "v1")))
        .item("sk", AttributeValue::S(keys::day_aggregate_sk(day)))
        .item("body", AttributeValue::B(Blob::new(b"not deflate".to_vec())))
        .send()
        .await
        .expect("put corrupt aggregate");
    let summary = run_tick(&pipeline.deps, &pipeline.config, tick)
        .await
        .expect("tick runs");
    let failed: BTreeMap<&str, &str> = summary
        .failures
        .iter()
        .map(|f| (f.model.as_str(), f.error.as_str()))
        .collect();
    assert_eq!(failed.keys().copied().collect::<Vec<_>>(), vec!["broken-model"]);
    assert_eq!(summary.versions, 1, "the healthy model was computed");
    let healthy = pipeline.snapshot("price-model", "v1", "1d", None, tick).await;
    assert_eq!(healthy.predictions, 400);
}
