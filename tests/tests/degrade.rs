//! The degradation check against the emulator: monitor states and the alert log in DynamoDB,
//! alerts published to SNS and read back from an SQS queue subscribed to the topic.
//!
//! The metric values come from an in-memory source, so every case is exact. Run with
//! `scripts/test.sh`, or start the emulator with `scripts/emulator.sh start` and export
//! `MPT_TEST_ENDPOINT`.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration as StdDuration, Instant},
};

use chrono::{DateTime, TimeDelta, Utc};
use mpt_core::{
    alert::{
        check::{run_check, AwsCheckDeps, CheckDeps, CheckSummary},
        memory::MemorySource,
        report::alerts_response,
        rule::{BaselineSpec, Check},
        sns::{ensure_local_alerts, LocalAlerts, Publisher, SnsPublisher},
        source::{CheckSource, HistoryPoint, SourceError, Span, VersionSpan, WindowValues},
        state::Status,
        store::AlertStore,
    },
    snapshot::{SampleCounts, Snapshot},
    store::{deadline_after, Store},
    time::{floor_hour, Window},
    Config, ModelConfig, Task,
};
use mpt_tests::{fresh_store, sdk_config, unique_name};
use serde_json::Value;
use tokio::sync::Barrier;

const MODEL: &str = "nba-game-predictor";
const VERSION: &str = "raptor";

/// A fresh table, topic and subscribed queue, with the clients to reach them.
struct Emulator {
    store: Store,
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    alerts: LocalAlerts,
}

impl Emulator {
    async fn start() -> Self {
        let aws = sdk_config().await;
        let store = fresh_store().await;
        let sns = aws_sdk_sns::Client::new(&aws);
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let name = unique_name("alerts");
        let alerts = ensure_local_alerts(&sns, &sqs, &name, &name).await.unwrap();
        Self {
            store,
            sns,
            sqs,
            alerts,
        }
    }

    fn publisher(&self) -> SnsPublisher {
        SnsPublisher::new(self.sns.clone(), &self.alerts.topic_arn)
    }

    fn deps<P: Publisher>(&self, source: MemorySource, publisher: P) -> CheckDeps<MemorySource, Store, P> {
        CheckDeps {
            source,
            store: self.store.clone(),
            publisher,
            clock: Utc::now,
        }
    }

    /// Reads every alert the queue has received so far, waiting up to `wait` for `expected` of them.
    async fn received(&self, expected: usize, wait: StdDuration) -> Vec<Received> {
        let deadline = Instant::now() + wait;
        let mut messages = Vec::new();
        loop {
            let output = self
                .sqs
                .receive_message()
                .queue_url(&self.alerts.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            for message in output.messages() {
                messages.push(Received::parse(message.body().unwrap_or_default()));
                self.sqs
                    .delete_message()
                    .queue_url(&self.alerts.queue_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .unwrap();
            }
            if messages.len() > expected || Instant::now() >= deadline {
                return messages;
            }
            if messages.len() == expected && output.messages().is_empty() {
                return messages;
            }
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
    }
}

/// One alert as the queue received it: the SNS envelope's subject, message and attributes.
#[derive(Debug)]
struct Received {
    subject: String,
    message: Value,
    attributes: BTreeMap<String, String>,
}

impl Received {
    fn parse(body: &str) -> Self {
        let envelope: Value = serde_json::from_str(body).unwrap();
        let attributes = envelope["MessageAttributes"]
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.clone(), v["Value"].as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            subject: envelope["Subject"].as_str().unwrap_or_default().to_string(),
            message: serde_json::from_str(envelope["Message"].as_str().unwrap_or("null")).unwrap_or(Value::Null),
            attributes,
        }
    }
}

fn start() -> DateTime<Utc> {
    "2023-06-13T00:05:00Z".parse().unwrap()
}

fn hour(n: i64) -> DateTime<Utc> {
    start() + TimeDelta::hours(n)
}

fn config() -> Config {
    Config::from_lookup(|_| None).unwrap()
}

fn auc_drop() -> Check {
    let mut check = Check::relative_drop(
        "auc-drop",
        "roc_auc",
        "1d".parse().unwrap(),
        BaselineSpec::Window("30d".parse().unwrap()),
        0.05,
    );
    check.min_samples = 200;
    check
}

fn binary(auc: f64, labelled: u64) -> WindowValues {
    let quarter = labelled / 4;
    let mut values = WindowValues::from_confusion(quarter, quarter, quarter, quarter);
    values.metrics.insert("roc_auc".into(), Some(auc));
    values
}

/// A source with one model version watched by `checks`.
fn source(models: &[&str], checks: Vec<Check>) -> MemorySource {
    let source = MemorySource::default();
    for model in models {
        source.add_version(model, VERSION, hour(-24 * 60), hour(48));
        source.set_checks(model, checks.clone());
    }
    source
}

/// Sets the current AUC at `now` (on `labelled` predictions) and a 0.70 baseline on 8,800.
fn set_auc(source: &MemorySource, model: &str, now: DateTime<Utc>, auc: f64, labelled: u64) {
    let check = auc_drop();
    source.set_window(model, VERSION, check.current_span(now), binary(auc, labelled));
    let (span, _) = check.baseline_span(now);
    source.set_window(model, VERSION, span, binary(0.70, 8800));
}

/// Runs one tick per AUC, an hour apart, starting at hour `from`.
async fn ticks<P: Publisher>(deps: &CheckDeps<MemorySource, Store, P>, from: i64, aucs: &[f64]) -> CheckSummary {
    let mut last = CheckSummary::default();
    for (i, auc) in aucs.iter().enumerate() {
        let now = hour(from + i as i64);
        set_auc(&deps.source, MODEL, now, *auc, 800);
        last = run_check(deps, &config(), now).await.unwrap();
    }
    last
}

const WAIT: StdDuration = StdDuration::from_secs(3);

#[tokio::test]
async fn alert_fires_and_reaches_queue() {
    let emulator = Emulator::start().await;
    let deps = emulator.deps(source(&[MODEL], vec![auc_drop()]), emulator.publisher());
    ticks(&deps, 0, &[0.55, 0.55]).await;

    let received = emulator.received(1, WAIT).await;
    assert_eq!(received.len(), 1);
    let alert = &received[0];
    assert_eq!(
        alert.subject,
        "[CRITICAL] nba-game-predictor raptor roc_auc 0.55 (-21.4% vs 30d 0.70)"
    );
    let expected = [
        ("model", MODEL),
        ("version", VERSION),
        ("monitor", "auc-drop"),
        ("metric", "roc_auc"),
        ("severity", "critical"),
        ("state", "firing"),
    ];
    for (key, value) in expected {
        assert_eq!(alert.attributes.get(key).map(String::as_str), Some(value), "{key}");
    }
    assert_eq!(alert.message["version"], "1.0");
    assert_eq!(alert.message["source"], "custom");
    assert_eq!(alert.message["content"]["title"], Value::String(alert.subject.clone()));
}

#[tokio::test]
async fn alert_log_and_current_state_are_stored() {
    let emulator = Emulator::start().await;
    let deps = emulator.deps(source(&[MODEL], vec![auc_drop()]), emulator.publisher());
    ticks(&deps, 0, &[0.55, 0.55]).await;

    let response = alerts_response(&emulator.store, MODEL, None, None).await.unwrap();
    assert_eq!(response.alerts.len(), 1);
    let alert = &response.alerts[0];
    assert_eq!(alert.monitor, "auc-drop");
    assert_eq!(alert.at, "2023-06-13T01:00:00Z".parse::<DateTime<Utc>>().unwrap());
    assert_eq!(alert.samples, (800, Some(8800)));
    assert!(alert.p_value.is_some_and(|p| p < 0.05));
    assert!(alert.message_id.is_some());
    let current = &response.current["auc-drop"];
    assert_eq!(current.state, Status::Firing);
    assert_eq!(current.since, Some(alert.at));
}

#[tokio::test]
async fn too_few_samples_sends_nothing() {
    let emulator = Emulator::start().await;
    let deps = emulator.deps(source(&[MODEL], vec![auc_drop()]), emulator.publisher());
    for n in 0..3 {
        set_auc(&deps.source, MODEL, hour(n), 0.40, 100);
        let summary = run_check(&deps, &config(), hour(n)).await.unwrap();
        assert_eq!(summary.skipped, 1);
    }
    assert!(emulator.received(0, StdDuration::ZERO).await.is_empty());
    assert_eq!(emulator.store.load(MODEL, "auc-drop", VERSION).await.unwrap(), None);
}

#[tokio::test]
async fn insignificant_drop_sends_nothing() {
    let emulator = Emulator::start().await;
    let mut check = auc_drop();
    check.min_samples = 10;
    let deps = emulator.deps(source(&[MODEL], vec![check.clone()]), emulator.publisher());
    for n in 0..3 {
        deps.source
            .set_window(MODEL, VERSION, check.current_span(hour(n)), binary(0.60, 24));
        let (span, _) = check.baseline_span(hour(n));
        deps.source.set_window(MODEL, VERSION, span, binary(0.70, 40));
        run_check(&deps, &config(), hour(n)).await.unwrap();
    }
    assert!(emulator.received(0, StdDuration::ZERO).await.is_empty());
}

#[tokio::test]
async fn cooldown_holds_second_firing() {
    let emulator = Emulator::start().await;
    let deps = emulator.deps(source(&[MODEL], vec![auc_drop()]), emulator.publisher());
    // Fires at hour 1 and resolves at hour 3. The breaches at hours 4 and 5 fall in the 6 h cooldown.
    let last = ticks(&deps, 0, &[0.55, 0.55, 0.69, 0.69, 0.55, 0.55]).await;
    assert_eq!(last.held_by_cooldown, 1);
    let received = emulator.received(2, WAIT).await;
    let states: Vec<&str> = received.iter().map(|r| r.attributes["state"].as_str()).collect();
    assert_eq!(states, vec!["firing", "resolved"]);
}

#[tokio::test]
async fn rising_severity_sends_one_escalation() {
    let emulator = Emulator::start().await;
    let deps = emulator.deps(source(&[MODEL], vec![auc_drop()]), emulator.publisher());
    ticks(&deps, 0, &[0.64, 0.64, 0.55, 0.55, 0.55]).await;
    let received = emulator.received(2, WAIT).await;
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].attributes["severity"], "warning");
    assert_eq!(received[1].attributes["severity"], "critical");
    assert_eq!(received[1].attributes["transition"], "escalated");
    assert!(
        received[1].subject.starts_with("[ESCALATED TO CRITICAL]"),
        "{}",
        received[1].subject
    );
}

#[tokio::test]
async fn recovery_sends_resolution() {
    let emulator = Emulator::start().await;
    let deps = emulator.deps(source(&[MODEL], vec![auc_drop()]), emulator.publisher());
    ticks(&deps, 0, &[0.55, 0.55, 0.69, 0.69]).await;
    let received = emulator.received(2, WAIT).await;
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].attributes["state"], "resolved");
    assert!(received[1].subject.starts_with("[RESOLVED]"), "{}", received[1].subject);
    let state = emulator.store.load(MODEL, "auc-drop", VERSION).await.unwrap().unwrap();
    assert_eq!(state.state.status, Status::Ok);
    assert_eq!(state.pending, None);
}

#[tokio::test]
async fn rerun_of_tick_sends_nothing() {
    let emulator = Emulator::start().await;
    let deps = emulator.deps(source(&[MODEL], vec![auc_drop()]), emulator.publisher());
    ticks(&deps, 0, &[0.55, 0.55]).await;
    let again = run_check(&deps, &config(), hour(1)).await.unwrap();
    assert_eq!(again.repeated, 1);
    assert_eq!(emulator.received(1, WAIT).await.len(), 1);
}

/// A source whose current-window reads wait until every run has reached them, so concurrent
/// runs all read the same monitor state before any of them writes.
struct LockstepSource {
    inner: MemorySource,
    barriers: HashMap<String, Barrier>,
    armed: AtomicBool,
}

impl CheckSource for LockstepSource {
    async fn models(&self) -> Result<Vec<String>, SourceError> {
        self.inner.models().await
    }

    async fn versions(&self, model: &str) -> Result<Vec<VersionSpan>, SourceError> {
        self.inner.versions(model).await
    }

    async fn checks(&self, model: &str) -> Result<Option<Vec<Check>>, SourceError> {
        self.inner.checks(model).await
    }

    async fn window(&self, model: &str, version: &str, span: Span) -> Result<WindowValues, SourceError> {
        let current = auc_drop().current_span(hour(1));
        if self.armed.load(Ordering::SeqCst) && span == current {
            if let Some(barrier) = self.barriers.get(model) {
                barrier.wait().await;
            }
        }
        self.inner.window(model, version, span).await
    }

    async fn history(
        &self,
        model: &str,
        version: &str,
        metric: &str,
        window: Window,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<HistoryPoint>, SourceError> {
        self.inner.history(model, version, metric, window, until, limit).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn concurrent_runs_send_each_alert_once() {
    const RUNS: usize = 3;
    let emulator = Emulator::start().await;
    let models: Vec<String> = (0..6).map(|i| format!("model-{i}")).collect();
    let names: Vec<&str> = models.iter().map(String::as_str).collect();
    let inner = source(&names, vec![auc_drop()]);
    for model in &names {
        set_auc(&inner, model, hour(0), 0.55, 800);
        set_auc(&inner, model, hour(1), 0.55, 800);
    }
    let lockstep = LockstepSource {
        inner,
        barriers: models.iter().map(|m| (m.clone(), Barrier::new(RUNS))).collect(),
        armed: AtomicBool::new(false),
    };
    let deps = Arc::new(CheckDeps {
        source: lockstep,
        store: emulator.store.clone(),
        publisher: emulator.publisher(),
        clock: Utc::now,
    });
    run_check(deps.as_ref(), &config(), hour(0)).await.unwrap();
    deps.source.armed.store(true, Ordering::SeqCst);

    // Runs of the same tick on separate threads, each reading every monitor's state before any
    // of them writes it.
    let runs: Vec<_> = (0..RUNS)
        .map(|_| {
            let deps = Arc::clone(&deps);
            tokio::spawn(async move { run_check(deps.as_ref(), &config(), hour(1)).await.unwrap() })
        })
        .collect();
    let mut summaries = Vec::new();
    for run in runs {
        summaries.push(run.await.unwrap());
    }
    let fired: usize = summaries.iter().map(|s| s.fired).sum();
    let contended: usize = summaries.iter().map(|s| s.contended).sum();
    assert_eq!(fired, names.len());
    assert_eq!(contended, (RUNS - 1) * names.len());
    let received = emulator.received(names.len(), WAIT).await;
    assert_eq!(received.len(), names.len());
    for model in &names {
        let logged = alerts_response(&emulator.store, model, None, None).await.unwrap();
        assert_eq!(logged.alerts.len(), 1, "{model}");
    }
}

#[tokio::test]
async fn failed_publish_is_retried_next_run() {
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    let emulator = Emulator::start().await;
    let failing = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .http_status(500, Some("internal error".into()))
        .repeatedly()
        .build();
    let broken_sns = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&failing]);
    let broken = emulator.deps(
        source(&[MODEL], vec![auc_drop()]),
        SnsPublisher::new(broken_sns, &emulator.alerts.topic_arn),
    );
    let first = ticks(&broken, 0, &[0.55, 0.55]).await;
    assert_eq!(first.failures, 1);
    assert!(failing.num_calls() >= 1);
    let pending = emulator.store.load(MODEL, "auc-drop", VERSION).await.unwrap().unwrap();
    assert!(pending.pending.is_some());
    assert!(alerts_response(&emulator.store, MODEL, None, None)
        .await
        .unwrap()
        .alerts
        .is_empty());
    assert!(emulator.received(0, StdDuration::ZERO).await.is_empty());

    // The next run, with SNS working again, sends the pending alert once.
    let working = emulator.deps(source(&[MODEL], vec![auc_drop()]), emulator.publisher());
    set_auc(&working.source, MODEL, hour(2), 0.55, 800);
    let retry = run_check(&working, &config(), hour(2)).await.unwrap();
    assert_eq!(retry.retried, 1);
    let received = emulator.received(1, WAIT).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].attributes["state"], "firing");
    let logged = alerts_response(&emulator.store, MODEL, None, None).await.unwrap();
    assert_eq!(logged.alerts.len(), 1);
    let cleared = emulator.store.load(MODEL, "auc-drop", VERSION).await.unwrap().unwrap();
    assert_eq!(cleared.pending, None);
}

#[tokio::test]
async fn alert_log_pages_oldest_first() {
    let emulator = Emulator::start().await;
    let deps = emulator.deps(source(&[MODEL], vec![auc_drop()]), emulator.publisher());
    // Fired, resolved, and fired again after the cooldown: three alerts.
    ticks(&deps, 0, &[0.55, 0.55, 0.69, 0.69]).await;
    ticks(&deps, 10, &[0.55, 0.55]).await;

    let first = alerts_response(&emulator.store, MODEL, Some(2), None).await.unwrap();
    assert_eq!(first.alerts.len(), 2);
    let token = first.next.clone().expect("a second page");
    let second = alerts_response(&emulator.store, MODEL, Some(2), Some(&token))
        .await
        .unwrap();
    assert_eq!(second.alerts.len(), 1);
    let times: Vec<_> = first.alerts.iter().chain(&second.alerts).map(|a| a.at).collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert_eq!(second.alerts[0].state, "firing");
}

#[tokio::test]
async fn tampered_page_token_is_rejected() {
    let emulator = Emulator::start().await;
    let error = alerts_response(&emulator.store, MODEL, Some(2), Some("not-a-token"))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("pagination token"), "{error}");
}

#[tokio::test]
async fn local_alert_setup_is_idempotent() {
    let emulator = Emulator::start().await;
    let name = emulator.alerts.topic_arn.rsplit(':').next().unwrap().to_string();
    let again = ensure_local_alerts(&emulator.sns, &emulator.sqs, &name, &name)
        .await
        .unwrap();
    assert_eq!(again, emulator.alerts);
    let subscriptions = emulator
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&again.topic_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(subscriptions.subscriptions().len(), 1);
}

/// Registers `model` as binary with `monitors` (the API's JSON array, or none) and records a
/// version with predictions across the test's hours.
async fn register(store: &Store, model: &str, monitors: Option<Value>) {
    let deadline = deadline_after(StdDuration::from_secs(10));
    store
        .put_model(model, &ModelConfig::new(Task::Binary), hour(-24 * 60), deadline)
        .await
        .unwrap();
    store
        .record_version(model, VERSION, hour(-24 * 60), hour(-1), 10_000, deadline)
        .await
        .unwrap();
    if let Some(rules) = monitors {
        store
            .put_monitors(model, &rules, hour(-24 * 60), deadline)
            .await
            .unwrap();
    }
}

/// A stored snapshot of a binary version with `roc_auc` = `auc` over `labelled` predictions.
fn snapshot(window: &str, end: DateTime<Utc>, auc: f64, labelled: u64) -> Snapshot {
    let window: Window = window.parse().unwrap();
    let (start, end) = window.bounds(end);
    Snapshot {
        model: MODEL.to_string(),
        version: VERSION.to_string(),
        window,
        segment: None,
        start,
        end,
        predictions: labelled,
        labelled,
        label_coverage: Some(1.0),
        metrics: BTreeMap::from([("roc_auc".to_string(), serde_json::json!(auc))]),
        samples: BTreeMap::from([("roc_auc".to_string(), labelled)]),
        intervals: BTreeMap::new(),
        reasons: BTreeMap::new(),
        counts: BTreeMap::from([("roc_auc".to_string(), SampleCounts::ranking(labelled / 2, labelled / 2))]),
        error_bounds: BTreeMap::new(),
    }
}

#[tokio::test]
async fn stored_snapshots_drive_alert() {
    let emulator = Emulator::start().await;
    let rules = serde_json::json!([{ "name": "auc-drop", "kind": "relative_drop", "metric": "roc_auc",
        "window": "1d", "baseline": { "window": "30d" }, "max_drop": 0.05, "min_samples": 200 }]);
    register(&emulator.store, MODEL, Some(rules)).await;
    // The snapshots the metrics tick would store: the current 1d windows, their 30d baselines,
    // and the 1d windows of the previous days, which the email's trend lists.
    let ends = [hour(0), hour(1)].map(floor_hour);
    let mut snapshots = vec![
        snapshot("1d", ends[0], 0.55, 800),
        snapshot("1d", ends[1], 0.55, 800),
        snapshot("1d", ends[1] - TimeDelta::days(1), 0.66, 790),
        snapshot("1d", ends[1] - TimeDelta::days(2), 0.69, 810),
    ];
    for end in ends {
        snapshots.push(snapshot("30d", end - TimeDelta::days(1), 0.70, 8800));
    }
    for snapshot in &snapshots {
        emulator.store.put_snapshot(snapshot, hour(0), 400).await.unwrap();
    }

    let deps = AwsCheckDeps::aws(emulator.store.clone(), emulator.sns.clone(), &emulator.alerts.topic_arn);
    run_check(&deps, &config(), hour(0)).await.unwrap();
    let summary = run_check(&deps, &config(), hour(1)).await.unwrap();
    assert_eq!(summary.fired, 1);

    let received = emulator.received(1, WAIT).await;
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].subject,
        "[CRITICAL] nba-game-predictor raptor roc_auc 0.55 (-21.4% vs 30d 0.70)"
    );
    let description = received[0].message["content"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(
        description.contains("*Recent 1d values* 0.69, 0.66, 0.55"),
        "{description}"
    );
}

#[tokio::test]
async fn default_rules_apply_and_read_aggregates() {
    let emulator = Emulator::start().await;
    register(&emulator.store, MODEL, None).await;
    let defaults = r#"{"monitors": [{"name": "silence", "kind": "volume", "window": "1h", "below": 1}]}"#;
    let config = Config::from_lookup(|name| (name == "MPT_DEFAULT_MONITORS").then(|| defaults.to_string())).unwrap();

    // No snapshot is stored, so the 1h windows are computed from the (empty) aggregates.
    let deps = AwsCheckDeps::aws(emulator.store.clone(), emulator.sns.clone(), &emulator.alerts.topic_arn);
    run_check(&deps, &config, hour(0)).await.unwrap();
    let summary = run_check(&deps, &config, hour(1)).await.unwrap();
    assert_eq!(summary.fired, 1);
    let received = emulator.received(1, WAIT).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].attributes["monitor"], "silence");
    assert_eq!(
        received[0].subject,
        "[WARNING] nba-game-predictor raptor predictions 0 (floor 1, 1h)"
    );
}

#[tokio::test]
async fn invalid_default_rules_fail_the_run() {
    let emulator = Emulator::start().await;
    let config =
        Config::from_lookup(|name| (name == "MPT_DEFAULT_MONITORS").then(|| "[{\"name\": 1}]".to_string())).unwrap();
    let deps = AwsCheckDeps::aws(emulator.store.clone(), emulator.sns.clone(), &emulator.alerts.topic_arn);
    let error = run_check(&deps, &config, hour(0)).await.unwrap_err();
    assert!(error.to_string().contains("MPT_DEFAULT_MONITORS"), "{error}");
}
