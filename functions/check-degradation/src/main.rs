//! The check-degradation Lambda function: on each EventBridge schedule, evaluates every monitor
//! rule at the event's time and publishes alerts to SNS. "Now" is the event's `time`.

use chrono::{DateTime, Utc};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use mpt_core::{
    alert::{
        check::{run_check, AwsCheckDeps, CheckSummary},
        sns::{ensure_local_alerts, local_queue_name, LOCAL_TOPIC},
    },
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
    let sns = aws_sdk_sns::Client::new(&aws);
    // Deployments set MPT_TOPIC_ARN. A local run without it gets the local topic and queue.
    let topic_arn = match &config.topic_arn {
        Some(arn) => arn.clone(),
        None => {
            let sqs = aws_sdk_sqs::Client::new(&aws);
            ensure_local_alerts(&sns, &sqs, LOCAL_TOPIC, &local_queue_name())
                .await?
                .topic_arn
        }
    };
    let deps = AwsCheckDeps::aws(store, sns, topic_arn);

    lambda_runtime::run(service_fn(|event: LambdaEvent<ScheduledEvent>| {
        let (deps, config) = (&deps, &config);
        async move { handle(deps, config, event.payload).await }
    }))
    .await
}

/// Runs one check at the event's time and returns its summary. Per-model and per-monitor
/// failures are counted in the summary. Only a failure to list the models or to parse the
/// default rules fails the invocation, so that EventBridge retries it.
async fn handle(deps: &AwsCheckDeps, config: &Config, event: ScheduledEvent) -> Result<CheckSummary, Error> {
    Ok(run_check(deps, config, event.time).await?)
}
