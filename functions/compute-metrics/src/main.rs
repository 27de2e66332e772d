//! The compute-metrics Lambda function: on each EventBridge schedule, rebuilds dirty hour
//! aggregates, computes every configured window, stores the snapshots and publishes them to
//! CloudWatch. "Now" is the event's `time`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use mpt_core::{
    cloudwatch::MetricPublisher,
    compute::{run_tick, ComputeDeps, TickSummary},
    store::Store,
    Config,
};
use serde::Deserialize;

/// The part of an EventBridge scheduled event the function reads.
#[derive(Debug, Deserialize)]
struct ScheduledEvent {
    /// When the schedule fired, RFC 3339.
    time: DateTime<Utc>,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    mpt_core::lambda::init_json_logging();

    let config = Config::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&aws), config.table.clone());
    let publisher = MetricPublisher::new(aws_sdk_cloudwatch::Client::new(&aws), config.namespace.clone())?;
    let deps = ComputeDeps::new(store, Some(publisher));

    lambda_runtime::run(service_fn(|event: LambdaEvent<ScheduledEvent>| {
        let deps = deps.clone().with_deadline(start_deadline(event.context.deadline));
        let config = &config;
        async move { handle(&deps, config, event.payload).await }
    }))
    .await
}

/// Time kept back from the invocation's timeout so models in flight can finish and the summary
/// can be returned.
const DEADLINE_MARGIN: Duration = Duration::from_secs(60);

/// Returns the instant after which no further model is started: the invocation's deadline
/// (milliseconds since the epoch) less [`DEADLINE_MARGIN`].
fn start_deadline(deadline_epoch_ms: u64) -> Instant {
    let remaining = mpt_core::lambda::budget(Some(deadline_epoch_ms), Utc::now(), DEADLINE_MARGIN, Duration::ZERO);
    Instant::now() + remaining
}

/// Runs one computation at the event's time and returns its summary. Per-model failures are in
/// the summary; only a failure to list the models fails the invocation, so EventBridge retries it.
async fn handle(deps: &ComputeDeps, config: &Config, event: ScheduledEvent) -> Result<TickSummary, Error> {
    Ok(run_tick(deps, config, event.time).await?)
}
