//! Publishing window metrics to CloudWatch with PutMetricData.

mod datum;

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use tracing::{info, warn};

pub use datum::{
    snapshot_datums, split_requests, unit_of, Datum, DatumError, DatumUnit, MAX_DATUMS_PER_REQUEST,
    MAX_DIMENSIONS_PER_DATUM, MAX_DIMENSION_VALUE_CHARS, MAX_NAME_CHARS, MAX_REQUEST_BYTES, MAX_VALUE_MAGNITUDE,
};

/// IAM actions the publisher calls.
pub const IAM_ACTIONS: &[&str] = &["cloudwatch:PutMetricData"];

/// A failure to publish, naming what was not published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The namespace breaks CloudWatch's rules.
    #[error("invalid CloudWatch namespace {namespace:?}: use 1 to 255 ASCII characters not starting with \"AWS/\" (set MPT_NAMESPACE)")]
    InvalidNamespace {
        /// The rejected namespace.
        namespace: String,
    },
    /// A PutMetricData call failed after the SDK's own retries.
    #[error(
        "PutMetricData failed for {unsent} datums in namespace {namespace} after {sent} were published: {message}"
    )]
    Request {
        /// Namespace of the request.
        namespace: String,
        /// Datums published before the failure.
        sent: usize,
        /// Datums not published.
        unsent: usize,
        /// The SDK's error, with its causes.
        message: String,
    },
}

/// What one publish call did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublishReport {
    /// Datums sent.
    pub sent: usize,
    /// PutMetricData requests made.
    pub requests: usize,
    /// Datums not sent because CloudWatch would reject them.
    pub rejected: Vec<DatumError>,
}

/// Sends datums to one CloudWatch namespace, within the API's limits.
#[derive(Debug, Clone)]
pub struct MetricPublisher {
    client: aws_sdk_cloudwatch::Client,
    namespace: String,
}

impl MetricPublisher {
    /// Builds a publisher for `namespace`, rejecting a namespace CloudWatch would reject.
    pub fn new(client: aws_sdk_cloudwatch::Client, namespace: impl Into<String>) -> Result<Self, PublishError> {
        let namespace = namespace.into();
        let valid = !namespace.is_empty()
            && namespace.chars().count() <= MAX_NAME_CHARS
            && namespace.is_ascii()
            && !namespace.chars().any(|c| c.is_ascii_control())
            && !namespace.trim().is_empty()
            && !namespace.starts_with("AWS/")
            && !namespace.starts_with(':');
        if !valid {
            return Err(PublishError::InvalidNamespace { namespace });
        }
        Ok(Self { client, namespace })
    }

    /// Returns the namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Publishes the datums, leaving out those CloudWatch would reject and reporting them.
    ///
    /// Datums go out in as few requests as the limits allow. A request that still fails after
    /// the SDK's retries stops the call, so the caller can try again on its next run.
    pub async fn publish(&self, datums: Vec<Datum>) -> Result<PublishReport, PublishError> {
        let mut report = PublishReport::default();
        let mut valid = Vec::with_capacity(datums.len());
        for datum in datums {
            match datum.validate() {
                Ok(()) => valid.push(datum),
                Err(error) => {
                    warn!(namespace = %self.namespace, error = %error, "datum rejected before publishing");
                    report.rejected.push(error);
                }
            }
        }

        let total = valid.len();
        for request in split_requests(valid) {
            let count = request.len();
            let metric_data: Vec<MetricDatum> = request.iter().map(to_sdk_datum).collect();
            let result = self
                .client
                .put_metric_data()
                .namespace(&self.namespace)
                .set_metric_data(Some(metric_data))
                .send()
                .await;
            if let Err(error) = result {
                return Err(PublishError::Request {
                    namespace: self.namespace.clone(),
                    sent: report.sent,
                    unsent: total - report.sent,
                    message: aws_sdk_cloudwatch::error::DisplayErrorContext(&error).to_string(),
                });
            }
            report.sent += count;
            report.requests += 1;
        }
        info!(
            namespace = %self.namespace,
            sent = report.sent,
            requests = report.requests,
            rejected = report.rejected.len(),
            "metrics published"
        );
        Ok(report)
    }
}

/// Converts a datum into the SDK's form.
fn to_sdk_datum(datum: &Datum) -> MetricDatum {
    let dimensions = datum
        .dimensions
        .iter()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
        .collect();
    let unit = match datum.unit {
        DatumUnit::Count => StandardUnit::Count,
        DatumUnit::Milliseconds => StandardUnit::Milliseconds,
        DatumUnit::None => StandardUnit::None,
    };
    MetricDatum::builder()
        .metric_name(&datum.name)
        .set_dimensions(Some(dimensions))
        .value(datum.value)
        .timestamp(aws_smithy_types::DateTime::from_millis(
            datum.timestamp.timestamp_millis(),
        ))
        .unit(unit)
        .build()
}

#[cfg(test)]
mod tests;
