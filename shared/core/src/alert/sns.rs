//! Alert delivery through SNS, and the local topic and queue that let alerts be read back.

use std::{env, future::Future};

use aws_sdk_sns::{error::DisplayErrorContext, types::MessageAttributeValue};
use tracing::info;

use crate::alert::{message::AlertMessage, store::AlertError};

/// The IAM actions [`SnsPublisher`] calls. The local set-up calls more, but only against an
/// emulator, so deployments do not grant them.
pub const IAM_ACTIONS: &[&str] = &["sns:Publish"];

/// The topic local runs create when `MPT_TOPIC_ARN` is unset.
pub const LOCAL_TOPIC: &str = "mpt-alerts";

/// The queue subscribed to the local topic when `MPT_ALERT_QUEUE` is unset.
pub const DEFAULT_ALERT_QUEUE: &str = "mpt-alerts";

/// Sends rendered alerts somewhere people see them.
pub trait Publisher: Sync {
    /// Publishes `message` and returns its message id, or the error text.
    fn publish(&self, message: &AlertMessage) -> impl Future<Output = Result<String, String>> + Send;
}

/// Publishes alerts to an SNS topic with `MessageStructure=json` and message attributes.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsPublisher {
    /// Builds a publisher for the topic `topic_arn`.
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    /// Returns the topic's ARN.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }
}

impl Publisher for SnsPublisher {
    async fn publish(&self, message: &AlertMessage) -> Result<String, String> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&message.subject)
            .message(message.sns_message())
            .message_structure("json");
        for (name, value) in &message.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| format!("message attribute {name} is invalid: {e}"))?;
            request = request.message_attributes(name, attribute);
        }
        let output = request.send().await.map_err(|e| DisplayErrorContext(e).to_string())?;
        Ok(output.message_id().unwrap_or_default().to_string())
    }
}

/// The local alert topic and the queue subscribed to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAlerts {
    /// The topic's ARN.
    pub topic_arn: String,
    /// The queue's URL, for reading alerts back.
    pub queue_url: String,
    /// The queue's ARN.
    pub queue_arn: String,
}

/// Returns the local alert queue's name: `MPT_ALERT_QUEUE`, or `mpt-alerts`.
pub fn local_queue_name() -> String {
    env::var("MPT_ALERT_QUEUE")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ALERT_QUEUE.to_string())
}

/// Creates the topic `topic_name` and the queue `queue_name` if missing, and subscribes the
/// queue to the topic once.
///
/// Raw message delivery stays off, so the queue receives the SNS envelope with the subject and
/// the message attributes. The local server and the replay call this when `MPT_TOPIC_ARN` is
/// unset; deployments create their topic in the template instead.
///
/// # Errors
/// [`AlertError::Setup`] naming the failed SNS or SQS call.
pub async fn ensure_local_alerts(
    sns: &aws_sdk_sns::Client,
    sqs: &aws_sdk_sqs::Client,
    topic_name: &str,
    queue_name: &str,
) -> Result<LocalAlerts, AlertError> {
    let setup = |operation: &'static str| move |detail: String| AlertError::Setup { operation, detail };

    // CreateTopic and CreateQueue return the existing resource when it is already there.
    let topic_arn = sns
        .create_topic()
        .name(topic_name)
        .send()
        .await
        .map_err(|e| setup("CreateTopic")(DisplayErrorContext(e).to_string()))?
        .topic_arn()
        .unwrap_or_default()
        .to_string();
    let queue_url = sqs
        .create_queue()
        .queue_name(queue_name)
        .send()
        .await
        .map_err(|e| setup("CreateQueue")(DisplayErrorContext(e).to_string()))?
        .queue_url()
        .unwrap_or_default()
        .to_string();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| setup("GetQueueAttributes")(DisplayErrorContext(e).to_string()))?
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| setup("GetQueueAttributes")("the response has no QueueArn".to_string()))?;

    // A real SQS queue accepts messages from the topic only with this policy.
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
        .attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, policy.to_string())
        .send()
        .await
        .map_err(|e| setup("SetQueueAttributes")(DisplayErrorContext(e).to_string()))?;

    let mut subscribed = false;
    let mut next_token: Option<String> = None;
    loop {
        let page = sns
            .list_subscriptions_by_topic()
            .topic_arn(&topic_arn)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| setup("ListSubscriptionsByTopic")(DisplayErrorContext(e).to_string()))?;
        subscribed |= page
            .subscriptions()
            .iter()
            .any(|s| s.endpoint() == Some(queue_arn.as_str()));
        match page.next_token() {
            Some(token) if !subscribed && !token.is_empty() => next_token = Some(token.to_string()),
            _ => break,
        }
    }
    if !subscribed {
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(&queue_arn)
            .attributes("RawMessageDelivery", "false")
            .send()
            .await
            .map_err(|e| setup("Subscribe")(DisplayErrorContext(e).to_string()))?;
        info!(topic = %topic_arn, queue = %queue_arn, "subscribed the local alert queue to the topic");
    }
    Ok(LocalAlerts {
        topic_arn,
        queue_url,
        queue_arn,
    })
}
