//! The local alert destination: an SNS topic with an SQS queue subscribed to it, so alerts
//! published during a local run can be read back from the queue.

use aws_sdk_sns::Client as SnsClient;
use aws_sdk_sqs::{types::QueueAttributeName, Client as SqsClient};
use tracing::info;

/// Topic name used when `MPT_TOPIC_ARN` is unset.
pub const DEFAULT_TOPIC: &str = "mpt-alerts";

/// Queue name used when `MPT_ALERT_QUEUE` is unset.
pub const DEFAULT_QUEUE: &str = "mpt-alerts";

/// The topic and queue alerts go to.
#[derive(Debug, Clone)]
pub struct AlertDestination {
    /// ARN of the SNS topic alerts are published to.
    pub topic_arn: String,
    /// URL of the SQS queue subscribed to the topic.
    pub queue_url: String,
}

/// A failed set-up call, naming the resource.
#[derive(Debug, thiserror::Error)]
#[error("failed to set up {resource}: {detail}")]
pub struct SetupError {
    /// The resource being created, for example `SNS topic mpt-alerts`.
    pub resource: String,
    /// The SDK's error, with its source chain.
    pub detail: String,
}

fn setup_error(resource: impl Into<String>, error: impl std::error::Error) -> SetupError {
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    SetupError {
        resource: resource.into(),
        detail,
    }
}

/// Creates the topic (unless `topic_arn` names one) and the queue when missing, and subscribes
/// the queue to the topic. Every call is idempotent, so re-running against the same emulator
/// reuses what is there.
// NOTE: the alert publisher's own set-up function should replace this one once it exists, so
// `mpt serve`, `mpt tick` and the tests create the same resources the same way.
pub async fn ensure_alert_destination(
    sns: &SnsClient,
    sqs: &SqsClient,
    topic_arn: Option<&str>,
    queue_name: &str,
) -> Result<AlertDestination, SetupError> {
    let topic_arn = match topic_arn {
        Some(arn) => arn.to_string(),
        None => sns
            .create_topic()
            .name(DEFAULT_TOPIC)
            .send()
            .await
            .map_err(|error| setup_error(format!("SNS topic {DEFAULT_TOPIC}"), error))?
            .topic_arn
            .ok_or_else(|| SetupError {
                resource: format!("SNS topic {DEFAULT_TOPIC}"),
                detail: "CreateTopic returned no TopicArn".to_string(),
            })?,
    };

    let queue_resource = || format!("SQS queue {queue_name}");
    let queue_url = sqs
        .create_queue()
        .queue_name(queue_name)
        .send()
        .await
        .map_err(|error| setup_error(queue_resource(), error))?
        .queue_url
        .ok_or_else(|| SetupError {
            resource: queue_resource(),
            detail: "CreateQueue returned no QueueUrl".to_string(),
        })?;
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|error| setup_error(queue_resource(), error))?
        .attributes
        .and_then(|mut attributes| attributes.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| SetupError {
            resource: queue_resource(),
            detail: "GetQueueAttributes returned no QueueArn".to_string(),
        })?;

    // The queue must allow the topic to send to it, as on AWS.
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "sns.amazonaws.com" },
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": { "ArnEquals": { "aws:SourceArn": topic_arn } }
        }]
    });
    sqs.set_queue_attributes()
        .queue_url(&queue_url)
        .attributes(QueueAttributeName::Policy, policy.to_string())
        .send()
        .await
        .map_err(|error| setup_error(queue_resource(), error))?;

    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .send()
        .await
        .map_err(|error| setup_error(format!("subscription of {queue_name} to {topic_arn}"), error))?;

    info!(topic_arn = %topic_arn, queue_url = %queue_url, "alert topic and queue ready");
    Ok(AlertDestination { topic_arn, queue_url })
}
