//! The pipeline a replay drives, in this process: the ingest router and the compute-metrics and
//! check-degradation runs the Lambda functions make, with their AWS clients, plus the reads that
//! bring the stored metrics and the sent alerts back.

use std::{
    collections::{BTreeMap, HashMap},
    time::Duration as StdDuration,
};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_types::error::display::DisplayErrorContext;
use chrono::{DateTime, TimeDelta, Utc};
use mpt_core::{
    alert::{
        check::{run_check, CheckDeps},
        sns::{ensure_local_alerts, local_queue_name, SnsPublisher, LOCAL_TOPIC},
        store::AlertStore,
        stored::StoredSource,
    },
    cloudwatch::MetricPublisher,
    compute::{run_tick, ComputeDeps},
    http::Request,
    ingest::{route, Context},
    snapshot::Snapshot,
    store::{deadline_after, history::Series, Store},
    Config,
};
use serde_json::Value;

use super::{
    calls::{CallCounter, CallStats},
    driver::{IngestCounts, Pipeline, TickCounts},
    requests::{registration_body, ELO, MODEL, RAPTOR},
    ReplayError,
};
use crate::report::{AlertRecord, HistoryPoint};

/// How long one ingest call may keep retrying storage before it reports the records as failed.
const INGEST_BUDGET: StdDuration = StdDuration::from_secs(30);
/// The windows compute-metrics computes in a replay unless `MPT_WINDOWS` says otherwise: the
/// ones the report, the summary and the monitor rules read.
pub const REPLAY_WINDOWS: &str = "7d,30d";
/// The stored windows read back for the report and the summary.
pub const HISTORY_WINDOWS: [&str; 2] = ["7d", "30d"];
/// Maximum snapshots read back per series. A series has one per tick, and hourly ticks from
/// 1946 to 2023 come to about 670,000.
const MAX_SNAPSHOTS: usize = 1_000_000;
/// Alerts read from the log per page.
const ALERT_PAGE: usize = 1_000;
/// SQS's limit on messages returned by one `ReceiveMessage` call.
const SQS_MAX_MESSAGES: i32 = 10;

/// Settings of the AWS side of a replay: the SDK configuration, the deployment configuration,
/// and the names of the local alert topic and queue.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The SDK configuration, pointed at the emulator.
    pub sdk: SdkConfig,
    /// The table, namespace and windows; its `topic_arn` is replaced by the local topic's.
    pub config: Config,
    /// The SNS topic the alerts go to, created if missing.
    pub topic_name: String,
    /// The SQS queue subscribed to the topic, read back at the end.
    pub queue_name: String,
}

impl Environment {
    /// Reads the configuration from the environment (`MPT_TABLE`, `MPT_WINDOWS`, ...), with the
    /// local topic `mpt-alerts` and the queue `MPT_ALERT_QUEUE` (default `mpt-alerts`).
    ///
    /// Without `MPT_WINDOWS`, the windows are [`REPLAY_WINDOWS`]: every extra window costs each
    /// tick two more aggregate reads per version.
    pub async fn from_env() -> Result<Self, ReplayError> {
        let config = Config::from_lookup(|name| {
            let value = std::env::var(name).ok().filter(|value| !value.trim().is_empty());
            match value {
                None if name == "MPT_WINDOWS" => Some(REPLAY_WINDOWS.to_string()),
                other => other,
            }
        })
        .map_err(|error| ReplayError::Aws {
            action: "reading the configuration".to_string(),
            detail: error.to_string(),
        })?;
        let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
        Ok(Self {
            sdk,
            config,
            topic_name: LOCAL_TOPIC.to_string(),
            queue_name: local_queue_name(),
        })
    }
}

/// The handler code of the three functions, with the clients they need.
pub struct LocalPipeline {
    store: Store,
    config: Config,
    compute: ComputeDeps,
    check: CheckDeps<StoredSource, Store, SnsPublisher>,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    queue_name: String,
    versions: Vec<&'static str>,
    calls: CallCounter,
}

fn aws_error(action: impl Into<String>) -> impl FnOnce(String) -> ReplayError {
    let action = action.into();
    move |detail| ReplayError::Aws { action, detail }
}

impl LocalPipeline {
    /// Creates the table, topic and queue when missing, and checks that the table contains no
    /// earlier replay.
    pub async fn connect(environment: Environment) -> Result<Self, ReplayError> {
        let Environment {
            sdk,
            mut config,
            topic_name,
            queue_name,
        } = environment;
        // Every client counts its calls, so the summary can report where the time went.
        let calls = CallCounter::default();
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(calls.clone())
            .build();
        let sns = aws_sdk_sns::config::Builder::from(&sdk)
            .interceptor(calls.clone())
            .build();
        let sqs = aws_sdk_sqs::config::Builder::from(&sdk)
            .interceptor(calls.clone())
            .build();
        let cloudwatch = aws_sdk_cloudwatch::config::Builder::from(&sdk)
            .interceptor(calls.clone())
            .build();
        let store = Store::new(aws_sdk_dynamodb::Client::from_conf(dynamodb), config.table.clone());
        store
            .create_table_if_missing()
            .await
            .map_err(|error| aws_error(format!("creating the table {}", config.table))(error.to_string()))?;
        let registered = store
            .get_model(MODEL)
            .await
            .map_err(|error| aws_error("reading the model registration")(error.to_string()))?;
        if registered.is_some() {
            return Err(ReplayError::TableInUse { table: config.table });
        }

        let sns = aws_sdk_sns::Client::from_conf(sns);
        let sqs = aws_sdk_sqs::Client::from_conf(sqs);
        let alerts = ensure_local_alerts(&sns, &sqs, &topic_name, &queue_name)
            .await
            .map_err(|error| aws_error("setting up the alert topic and queue")(error.to_string()))?;
        // Messages left from another run on the same emulator would be counted as this run's.
        sqs.purge_queue()
            .queue_url(&alerts.queue_url)
            .send()
            .await
            .map_err(|error| aws_error("purging the alert queue")(DisplayErrorContext(error).to_string()))?;
        config.topic_arn = Some(alerts.topic_arn.clone());

        let publisher = MetricPublisher::new(
            aws_sdk_cloudwatch::Client::from_conf(cloudwatch),
            config.namespace.clone(),
        )
        .map_err(|error| aws_error("setting up the CloudWatch publisher")(error.to_string()))?;
        // The emulator's index is consistent at once, so dirty hours need no settle time.
        let compute = ComputeDeps::new(store.clone(), Some(publisher)).with_settle(TimeDelta::zero());
        let check = CheckDeps::aws(store.clone(), sns, alerts.topic_arn);
        Ok(Self {
            store,
            config,
            compute,
            check,
            sqs,
            queue_url: alerts.queue_url,
            queue_name,
            versions: Vec::new(),
            calls,
        })
    }

    /// Returns the AWS calls made so far, by `Service.Operation`.
    pub fn calls(&self) -> BTreeMap<String, CallStats> {
        self.calls.snapshot()
    }

    /// Returns the name of the queue alerts are read back from.
    pub fn queue_name(&self) -> &str {
        &self.queue_name
    }

    /// Registers the model and replaces its monitor rules, as of simulated time `at`.
    pub async fn register(&mut self, at: DateTime<Utc>, monitors: &[Value]) -> Result<(), ReplayError> {
        let model_path = format!("/v1/models/{MODEL}");
        self.call("PUT", &model_path, &registration_body(), at).await?;
        let rules = serde_json::json!({ "monitors": monitors });
        self.call("PUT", &format!("{model_path}/monitors"), &rules, at).await?;
        Ok(())
    }

    /// Sends one request through the ingest router with "now" at `at`, failing on any status
    /// other than 200 or 201.
    async fn call(&self, method: &str, path: &str, body: &Value, at: DateTime<Utc>) -> Result<Value, ReplayError> {
        let context = Context {
            store: self.store.clone(),
            config: self.config.clone(),
            now: at,
            deadline: deadline_after(INGEST_BUDGET),
        };
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let request = Request {
            method,
            path,
            query: None,
            body: &bytes,
        };
        let response = route(&context, &request).await;
        let parsed: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
        if matches!(response.status, 200 | 201) {
            return Ok(parsed);
        }
        Err(ReplayError::Ingest {
            at: mpt_core::time::rfc3339(at),
            detail: format!(
                "{method} {path} returned {}: {}",
                response.status,
                first_problem(&parsed, &response.body)
            ),
        })
    }

    /// Reads back the stored snapshots of every replayed version in [`HISTORY_WINDOWS`] whose
    /// window ends in `[from, to]`.
    pub async fn read_history(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<HistoryPoint>, ReplayError> {
        let mut points = Vec::new();
        for version in &self.versions {
            for window in HISTORY_WINDOWS {
                let series = Series {
                    model: MODEL,
                    version,
                    window,
                    segment: None,
                };
                let snapshots = self
                    .store
                    .list_snapshots(series, from, to, MAX_SNAPSHOTS)
                    .await
                    .map_err(|error| {
                        aws_error(format!("reading the {window} history of {version}"))(error.to_string())
                    })?;
                points.extend(snapshots.iter().map(history_point));
            }
        }
        Ok(points)
    }

    /// Reads every alert message from the queue, oldest first, with its values from the alert log.
    ///
    /// The queue shows what was delivered. The log, joined by SNS message id, adds the simulated
    /// time and the values, which the message text carries only as prose.
    pub async fn read_alerts(&self) -> Result<Vec<AlertRecord>, ReplayError> {
        let mut logged = HashMap::new();
        let mut after: Option<String> = None;
        loop {
            let (records, next) = self
                .store
                .records(MODEL, ALERT_PAGE, after.as_deref())
                .await
                .map_err(|error| aws_error("reading the alert log")(error.to_string()))?;
            for record in records {
                if let Some(id) = record.message_id.clone() {
                    logged.insert(id, record);
                }
            }
            match next {
                Some(token) => after = Some(token),
                None => break,
            }
        }

        let mut alerts = Vec::new();
        for message_id in self.drain_queue().await? {
            let record = logged.get(&message_id).ok_or_else(|| ReplayError::Aws {
                action: "matching the queued alerts with the alert log".to_string(),
                detail: format!("message {message_id} is in the queue but not in the log"),
            })?;
            alerts.push(AlertRecord {
                at: record.at,
                monitor: record.monitor.clone(),
                version: record.version.clone(),
                metric: Some(record.metric.clone()),
                state: record.state.clone(),
                transition: record.transition.as_str().to_string(),
                severity: Some(record.severity.as_str().to_string()),
                value: record.value,
                baseline: record.baseline,
                p_value: record.p_value,
            });
        }
        alerts.sort_by(|a, b| (a.at, &a.monitor, &a.version).cmp(&(b.at, &b.monitor, &b.version)));
        Ok(alerts)
    }

    /// Receives and deletes every message in the alert queue, returning their SNS message ids.
    async fn drain_queue(&self) -> Result<Vec<String>, ReplayError> {
        let mut ids = Vec::new();
        loop {
            let output = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(SQS_MAX_MESSAGES)
                .wait_time_seconds(0)
                .send()
                .await
                .map_err(|error| aws_error("reading the alert queue")(DisplayErrorContext(error).to_string()))?;
            if output.messages().is_empty() {
                return Ok(ids);
            }
            for message in output.messages() {
                let envelope: Value = serde_json::from_str(message.body().unwrap_or_default()).unwrap_or(Value::Null);
                if let Some(id) = envelope["MessageId"].as_str() {
                    ids.push(id.to_string());
                }
                if let Some(receipt) = message.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.queue_url)
                        .receipt_handle(receipt)
                        .send()
                        .await
                        .map_err(|error| {
                            aws_error("deleting a read alert message")(DisplayErrorContext(error).to_string())
                        })?;
                }
            }
        }
    }

    fn note_versions(&mut self, body: &Value) {
        for version in [ELO, RAPTOR] {
            let sent = body["predictions"]
                .as_array()
                .is_some_and(|records| records.iter().any(|record| record["version"] == version));
            if sent && !self.versions.contains(&version) {
                self.versions.push(version);
            }
        }
    }
}

impl Pipeline for LocalPipeline {
    async fn send_predictions(&mut self, at: DateTime<Utc>, body: Value) -> Result<IngestCounts, ReplayError> {
        self.note_versions(&body);
        let response = self.call("POST", "/v1/predictions", &body, at).await?;
        Ok(IngestCounts {
            stored: stored_count(&response),
        })
    }

    async fn send_actuals(&mut self, at: DateTime<Utc>, body: Value) -> Result<IngestCounts, ReplayError> {
        let response = self.call("POST", "/v1/actuals", &body, at).await?;
        Ok(IngestCounts {
            stored: stored_count(&response),
        })
    }

    async fn compute(&mut self, at: DateTime<Utc>) -> Result<(), ReplayError> {
        let summary = run_tick(&self.compute, &self.config, at)
            .await
            .map_err(|error| tick_error("compute-metrics", at, error.to_string()))?;
        match summary.failures.first() {
            None => Ok(()),
            Some(failure) => Err(tick_error(
                "compute-metrics",
                at,
                format!("{}: {}", failure.model, failure.error),
            )),
        }
    }

    async fn check(&mut self, at: DateTime<Utc>) -> Result<TickCounts, ReplayError> {
        let summary = run_check(&self.check, &self.config, at)
            .await
            .map_err(|error| tick_error("check-degradation", at, error.to_string()))?;
        if summary.failures > 0 || !summary.failed_models.is_empty() {
            return Err(tick_error(
                "check-degradation",
                at,
                format!(
                    "{} monitor failures and {} model failures; rerun with RUST_LOG=warn to see them",
                    summary.failures,
                    summary.failed_models.len()
                ),
            ));
        }
        Ok(TickCounts {
            alerts_sent: summary.fired + summary.escalated + summary.resolved,
        })
    }
}

fn tick_error(function: &'static str, at: DateTime<Utc>, detail: String) -> ReplayError {
    ReplayError::Tick {
        function,
        at: mpt_core::time::rfc3339(at),
        detail,
    }
}

fn stored_count(response: &Value) -> usize {
    response["stored"].as_u64().unwrap_or(0) as usize
}

/// Returns the first rejection, failure or error of a response body, or the raw body.
fn first_problem(parsed: &Value, raw: &str) -> String {
    for key in ["rejected", "failed"] {
        if let Some(first) = parsed[key].as_array().and_then(|list| list.first()) {
            return format!("{key} {first}");
        }
    }
    if parsed["error"].is_string() {
        return parsed.to_string();
    }
    raw.chars().take(300).collect()
}

/// Converts a stored snapshot to the report's history point, keeping the defined numbers.
fn history_point(snapshot: &Snapshot) -> HistoryPoint {
    let metrics = snapshot
        .metrics
        .iter()
        .filter_map(|(name, value)| Some((name.clone(), value.as_f64()?)))
        .collect();
    HistoryPoint {
        version: snapshot.version.clone(),
        window: snapshot.window.to_string(),
        end: snapshot.end,
        predictions: snapshot.predictions,
        labelled: snapshot.labelled,
        label_coverage: snapshot.label_coverage,
        metrics,
    }
}
