//! CloudWatch datums built from snapshots, checked against the PutMetricData limits and split
//! into requests that fit them.
//!
//! The limits are enforced here because the local emulator (moto 5.2.5) accepts requests that
//! CloudWatch rejects, and one invalid datum makes CloudWatch reject its whole request.

use chrono::{DateTime, Utc};

use crate::snapshot::Snapshot;

/// Datums per PutMetricData request (CloudWatch API reference, PutMetricData: "no more than 1000
/// different metrics").
pub const MAX_DATUMS_PER_REQUEST: usize = 1_000;
/// Request payload size in bytes (CloudWatch API reference, PutMetricData: "limited to 1 MB in
/// size for HTTP POST requests").
pub const MAX_REQUEST_BYTES: usize = 1_000_000;
/// Dimensions per metric (CloudWatch API reference, PutMetricData and Dimension).
pub const MAX_DIMENSIONS_PER_DATUM: usize = 30;
/// Characters in a dimension value (CloudWatch API reference, Dimension: length 1 to 1024).
pub const MAX_DIMENSION_VALUE_CHARS: usize = 1_024;
/// Characters in a dimension name, a metric name or a namespace (CloudWatch API reference: 1 to 255).
pub const MAX_NAME_CHARS: usize = 255;
/// Largest magnitude CloudWatch accepts for a value (PutMetricData: values must be in the range
/// -2^360 to 2^360).
pub const MAX_VALUE_MAGNITUDE: f64 = 2.348_542_582_773_833e108;

/// Parameters every request carries besides its datums, with room for the namespace.
const REQUEST_OVERHEAD_BYTES: usize = 64;

/// A datum CloudWatch would reject, naming the metric, the value and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DatumError {
    /// More dimensions than CloudWatch allows on one metric.
    #[error(
        "metric {metric} has {count} dimensions; CloudWatch allows at most {MAX_DIMENSIONS_PER_DATUM}, so drop some"
    )]
    TooManyDimensions {
        /// Metric name.
        metric: String,
        /// Number of dimensions given.
        count: usize,
    },
    /// A dimension name or value that breaks CloudWatch's rules.
    #[error("metric {metric} has an invalid dimension {name}={value:?}: {reason}")]
    InvalidDimension {
        /// Metric name.
        metric: String,
        /// Dimension name.
        name: String,
        /// The rejected dimension value.
        value: String,
        /// The rule it breaks and the fix.
        reason: &'static str,
    },
    /// A metric name that is empty, too long or not ASCII.
    #[error("invalid metric name {metric:?}: use 1 to {MAX_NAME_CHARS} ASCII characters")]
    InvalidName {
        /// The rejected metric name.
        metric: String,
    },
    /// NaN, infinite, or beyond CloudWatch's range.
    #[error("metric {metric} has value {value}, which CloudWatch rejects: publish only finite values within ±2^360")]
    InvalidValue {
        /// Metric name.
        metric: String,
        /// The rejected value.
        value: f64,
    },
}

/// The unit of a datum, as far as the published metrics need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatumUnit {
    /// A count of predictions.
    Count,
    /// Milliseconds of latency.
    Milliseconds,
    /// A ratio or score without unit.
    None,
}

/// One value to publish: a metric name, its dimensions, the value and its timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    /// Metric name.
    pub name: String,
    /// Dimension names and values, in order.
    pub dimensions: Vec<(String, String)>,
    /// The value.
    pub value: f64,
    /// The time the value describes: the window's end.
    pub timestamp: DateTime<Utc>,
    /// The unit.
    pub unit: DatumUnit,
}

impl Datum {
    /// Checks the datum against CloudWatch's limits.
    pub fn validate(&self) -> Result<(), DatumError> {
        if self.name.is_empty() || self.name.chars().count() > MAX_NAME_CHARS || !self.name.is_ascii() {
            return Err(DatumError::InvalidName {
                metric: self.name.clone(),
            });
        }
        if !self.value.is_finite() || self.value.abs() > MAX_VALUE_MAGNITUDE {
            return Err(DatumError::InvalidValue {
                metric: self.name.clone(),
                value: self.value,
            });
        }
        if self.dimensions.len() > MAX_DIMENSIONS_PER_DATUM {
            return Err(DatumError::TooManyDimensions {
                metric: self.name.clone(),
                count: self.dimensions.len(),
            });
        }
        for (name, value) in &self.dimensions {
            let invalid = |reason| DatumError::InvalidDimension {
                metric: self.name.clone(),
                name: name.clone(),
                value: value.clone(),
                reason,
            };
            if let Some(reason) = dimension_text_problem(name, MAX_NAME_CHARS) {
                return Err(invalid(reason));
            }
            if name.starts_with(':') {
                return Err(invalid("a dimension name cannot start with a colon"));
            }
            if let Some(reason) = dimension_text_problem(value, MAX_DIMENSION_VALUE_CHARS) {
                return Err(invalid(reason));
            }
        }
        Ok(())
    }

    /// Returns an upper bound of the datum's size in a query-protocol request body.
    ///
    /// Every parameter is counted as `MetricData.member.NNNN.` plus its key, with its value
    /// assumed fully percent-encoded (three bytes per byte), so the estimate never undercounts.
    pub fn encoded_len_bound(&self) -> usize {
        const MEMBER_PREFIX: usize = "MetricData.member.1000.".len();
        const DIMENSION_PREFIX: usize = "Dimensions.member.30.".len();
        // `&` before the key, `=` after it, and up to three bytes per value byte.
        let parameter = |key_len: usize, value_len: usize| MEMBER_PREFIX + key_len + 2 + 3 * value_len;
        let mut bytes = parameter("MetricName".len(), self.name.len())
            + parameter("Value".len(), 32)
            + parameter("Timestamp".len(), 32)
            + parameter("Unit".len(), "Milliseconds".len());
        for (name, value) in &self.dimensions {
            bytes += parameter(DIMENSION_PREFIX + "Name".len(), name.len());
            bytes += parameter(DIMENSION_PREFIX + "Value".len(), value.len());
        }
        bytes
    }
}

/// Returns why a dimension name or value is invalid, or none when it is valid.
fn dimension_text_problem(text: &str, max_chars: usize) -> Option<&'static str> {
    if text.is_empty() {
        return Some("it is empty; CloudWatch needs at least one character");
    }
    if text.chars().count() > max_chars {
        return Some("it is longer than CloudWatch allows; shorten it");
    }
    if !text.is_ascii() {
        return Some("CloudWatch accepts only ASCII characters; rename it with ASCII characters");
    }
    if text.chars().any(|c| c.is_ascii_control()) {
        return Some("CloudWatch rejects ASCII control characters; remove them");
    }
    if text.trim().is_empty() {
        return Some("it is only whitespace; CloudWatch needs a non-whitespace character");
    }
    None
}

/// Splits valid datums into requests within the count and payload limits, keeping their order.
pub fn split_requests(datums: Vec<Datum>) -> Vec<Vec<Datum>> {
    let mut requests = Vec::new();
    let mut current: Vec<Datum> = Vec::new();
    let mut current_bytes = REQUEST_OVERHEAD_BYTES + MAX_NAME_CHARS * 3;
    for datum in datums {
        let bytes = datum.encoded_len_bound();
        let full = current.len() == MAX_DATUMS_PER_REQUEST || current_bytes + bytes > MAX_REQUEST_BYTES;
        if full && !current.is_empty() {
            requests.push(std::mem::take(&mut current));
            current_bytes = REQUEST_OVERHEAD_BYTES + MAX_NAME_CHARS * 3;
        }
        current_bytes += bytes;
        current.push(datum);
    }
    if !current.is_empty() {
        requests.push(current);
    }
    requests
}

/// Returns the unit of a published metric name.
pub fn unit_of(name: &str) -> DatumUnit {
    match name {
        "predictions" | "labelled" => DatumUnit::Count,
        _ if name.ends_with("_ms") => DatumUnit::Milliseconds,
        _ => DatumUnit::None,
    }
}

/// Builds the datums of a snapshot for the metric names in `published`, skipping undefined ones.
///
/// Dimensions are `Model`, `Version`, `Window` and, for a segment snapshot, `Segment`
/// (`key:value`). The timestamp is the window's end.
pub fn snapshot_datums(snapshot: &Snapshot, published: &[String]) -> Vec<Datum> {
    let mut dimensions = vec![
        ("Model".to_string(), snapshot.model.clone()),
        ("Version".to_string(), snapshot.version.clone()),
        ("Window".to_string(), snapshot.window.to_string()),
    ];
    if let Some(segment) = &snapshot.segment {
        dimensions.push(("Segment".to_string(), segment.clone()));
    }
    published
        .iter()
        .filter_map(|name| {
            let value = snapshot.value(name)?;
            Some(Datum {
                name: name.clone(),
                dimensions: dimensions.clone(),
                value,
                timestamp: snapshot.end,
                unit: unit_of(name),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{json, Value};

    use super::*;

    fn datum(dimensions: Vec<(String, String)>) -> Datum {
        Datum {
            name: "accuracy".into(),
            dimensions,
            value: 0.5,
            timestamp: "2023-06-12T00:00:00Z".parse().unwrap(),
            unit: DatumUnit::None,
        }
    }

    fn dimension(name: &str, value: &str) -> Vec<(String, String)> {
        vec![(name.to_string(), value.to_string())]
    }

    #[test]
    fn datum_with_30_dimensions_is_valid() {
        let dims = (0..30).map(|i| (format!("D{i}"), "v".to_string())).collect();
        assert_eq!(datum(dims).validate(), Ok(()));
    }

    #[test]
    fn datum_with_31_dimensions_is_rejected() {
        let dims = (0..31).map(|i| (format!("D{i}"), "v".to_string())).collect();
        let error = datum(dims).validate().unwrap_err();
        assert!(matches!(error, DatumError::TooManyDimensions { count: 31, .. }));
    }

    #[test]
    fn dimension_value_rules_are_enforced() {
        let long = "x".repeat(MAX_DIMENSION_VALUE_CHARS + 1);
        for bad in ["", "   ", "caf\u{e9}", "tab\there", long.as_str()] {
            let result = datum(dimension("Segment", bad)).validate();
            assert!(
                matches!(result, Err(DatumError::InvalidDimension { .. })),
                "{bad:?} accepted"
            );
        }
        let longest = "x".repeat(MAX_DIMENSION_VALUE_CHARS);
        assert_eq!(datum(dimension("Segment", &longest)).validate(), Ok(()));
    }

    #[test]
    fn dimension_name_starting_with_colon_is_rejected() {
        assert!(datum(dimension(":Segment", "a")).validate().is_err());
    }

    #[test]
    fn non_finite_and_huge_values_are_rejected() {
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e109, -1e109] {
            let mut d = datum(vec![]);
            d.value = value;
            assert!(
                matches!(d.validate(), Err(DatumError::InvalidValue { .. })),
                "{value} accepted"
            );
        }
    }

    #[test]
    fn split_keeps_1000_datums_per_request() {
        let datums: Vec<Datum> = (0..2_501).map(|_| datum(dimension("Model", "m"))).collect();
        let requests = split_requests(datums);
        let sizes: Vec<usize> = requests.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![1_000, 1_000, 501]);
    }

    #[test]
    fn split_keeps_payload_under_one_megabyte() {
        let dims: Vec<(String, String)> = (0..30).map(|i| (format!("D{i}"), "v".repeat(1_024))).collect();
        let datums: Vec<Datum> = (0..40).map(|_| datum(dims.clone())).collect();
        let per_datum = datums[0].encoded_len_bound();
        let requests = split_requests(datums);
        assert!(requests.len() > 1);
        for request in &requests {
            assert!(request.len() * per_datum + REQUEST_OVERHEAD_BYTES <= MAX_REQUEST_BYTES);
        }
        assert_eq!(requests.iter().map(Vec::len).sum::<usize>(), 40);
    }

    #[test]
    fn snapshot_datums_skip_undefined_and_unpublished() {
        let snapshot = Snapshot {
            model: "nba".into(),
            version: "raptor".into(),
            window: "1d".parse().unwrap(),
            segment: Some("stage:finals".into()),
            start: "2023-06-11T00:00:00Z".parse().unwrap(),
            end: "2023-06-12T00:00:00Z".parse().unwrap(),
            predictions: 10,
            labelled: 0,
            label_coverage: Some(0.0),
            metrics: BTreeMap::from([("accuracy".to_string(), Value::Null), ("brier".to_string(), json!(0.2))]),
            samples: BTreeMap::new(),
            intervals: BTreeMap::new(),
            reasons: BTreeMap::new(),
            counts: BTreeMap::new(),
            error_bounds: BTreeMap::new(),
        };
        let published: Vec<String> = ["predictions", "accuracy", "label_coverage"].map(String::from).to_vec();
        let datums = snapshot_datums(&snapshot, &published);
        let names: Vec<&str> = datums.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, vec!["predictions", "label_coverage"]);
        assert_eq!(datums[0].unit, DatumUnit::Count);
        assert_eq!(
            datums[0].dimensions[3],
            ("Segment".to_string(), "stage:finals".to_string())
        );
        assert_eq!(datums[0].timestamp, snapshot.end);
    }
}
