//! PutMetricData limits against the SDK's mocked client: the emulator does not enforce them.

use std::sync::{Arc, Mutex};

use aws_sdk_cloudwatch::{operation::put_metric_data::PutMetricDataOutput, Client};
use aws_smithy_mocks::{mock, mock_client, RuleMode};

use super::*;

fn datum(index: usize, dimensions: Vec<(String, String)>) -> Datum {
    Datum {
        name: format!("metric_{index}"),
        dimensions,
        value: index as f64,
        timestamp: "2023-06-12T00:00:00Z".parse().unwrap(),
        unit: DatumUnit::None,
    }
}

fn model_dimensions() -> Vec<(String, String)> {
    vec![
        ("Model".to_string(), "nba".to_string()),
        ("Window".to_string(), "1d".to_string()),
    ]
}

/// Returns a publisher whose every PutMetricData succeeds, and the datum count of each request.
fn recording_publisher() -> (MetricPublisher, Arc<Mutex<Vec<usize>>>) {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let recorded = sizes.clone();
    let rule = mock!(Client::put_metric_data)
        .match_requests(move |request| {
            recorded.lock().unwrap().push(request.metric_data().len());
            true
        })
        .then_output(|| PutMetricDataOutput::builder().build());
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&rule]);
    (MetricPublisher::new(client, "ModelPerformance").unwrap(), sizes)
}

#[tokio::test]
async fn publish_splits_1001_datums_into_two_requests() {
    let (publisher, sizes) = recording_publisher();
    let datums = (0..1_001).map(|i| datum(i, model_dimensions())).collect();
    let report = publisher.publish(datums).await.unwrap();
    assert_eq!(report.sent, 1_001);
    assert_eq!(report.requests, 2);
    assert_eq!(*sizes.lock().unwrap(), vec![1_000, 1]);
}

#[tokio::test]
async fn publish_rejects_datum_with_31_dimensions() {
    let (publisher, sizes) = recording_publisher();
    let too_many = (0..31).map(|i| (format!("D{i}"), "v".to_string())).collect();
    let datums = vec![datum(0, model_dimensions()), datum(1, too_many)];
    let report = publisher.publish(datums).await.unwrap();
    assert_eq!(report.sent, 1);
    assert!(matches!(
        report.rejected[..],
        [DatumError::TooManyDimensions { count: 31, .. }]
    ));
    assert_eq!(*sizes.lock().unwrap(), vec![1]);
}

#[tokio::test]
async fn publish_rejects_bad_dimension_values() {
    let (publisher, sizes) = recording_publisher();
    let bad_values = ["", " \t ", "caf\u{e9}", "a\u{7}b"];
    let mut datums: Vec<Datum> = bad_values
        .iter()
        .enumerate()
        .map(|(i, value)| datum(i, vec![("Segment".to_string(), value.to_string())]))
        .collect();
    datums.push(datum(9, vec![("Segment".to_string(), "stage:finals".to_string())]));
    let report = publisher.publish(datums).await.unwrap();
    assert_eq!(report.rejected.len(), bad_values.len());
    assert_eq!(report.sent, 1);
    assert_eq!(*sizes.lock().unwrap(), vec![1]);
}

#[tokio::test]
async fn publish_with_nothing_valid_makes_no_request() {
    let (publisher, sizes) = recording_publisher();
    let mut nan = datum(0, model_dimensions());
    nan.value = f64::NAN;
    let report = publisher.publish(vec![nan]).await.unwrap();
    assert_eq!(report.requests, 0);
    assert!(sizes.lock().unwrap().is_empty());
}

#[tokio::test]
async fn publish_failure_reports_unsent_datums() {
    let rule = mock!(Client::put_metric_data)
        .sequence()
        .output(|| PutMetricDataOutput::builder().build())
        .http_status(400, None)
        .build();
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::Sequential, &[&rule]);
    let publisher = MetricPublisher::new(client, "ModelPerformance").unwrap();
    let datums = (0..1_500).map(|i| datum(i, model_dimensions())).collect();
    let error = publisher.publish(datums).await.unwrap_err();
    assert!(
        matches!(
            error,
            PublishError::Request {
                sent: 1_000,
                unsent: 500,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn publisher_rejects_aws_namespace() {
    let rule = mock!(Client::put_metric_data).then_output(|| PutMetricDataOutput::builder().build());
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[&rule]);
    for namespace in ["", "AWS/Lambda", "   ", "caf\u{e9}"] {
        let result = MetricPublisher::new(client.clone(), namespace);
        assert!(
            matches!(result, Err(PublishError::InvalidNamespace { .. })),
            "{namespace:?} accepted"
        );
    }
}
