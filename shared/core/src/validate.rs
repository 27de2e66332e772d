//! Validation of request bodies and of each record in them.
//!
//! Records are read from parsed JSON field by field rather than through serde, so that a bad
//! record is rejected with the field at fault while the valid records beside it go on.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::{
    model::{ModelConfig, Task},
    record::{ActualRecord, ActualValue, Bet, PredictionRecord, PredictionValue, Rejection},
    time::rfc3339,
};

/// Maximum records per request.
pub const MAX_RECORDS_PER_REQUEST: usize = 1_000;
/// The largest request body the handler reads, 1 MiB. API Gateway's own limit is 10 MB.
pub const MAX_BODY_BYTES: usize = 1_048_576;
/// Maximum length of an id, version or label, in UTF-8 bytes.
pub const MAX_LABEL_BYTES: usize = 256;
/// Maximum segment tags per prediction.
pub const MAX_SEGMENT_TAGS: usize = 10;
/// Maximum length of a segment tag key or feature name, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 64;
/// Maximum length of a segment tag value, in UTF-8 bytes.
pub const MAX_SEGMENT_VALUE_BYTES: usize = 256;
/// Maximum features per prediction.
pub const MAX_FEATURES: usize = 50;
/// How far per-class probabilities may sum away from 1.
pub const PROBABILITY_SUM_TOLERANCE: f64 = 1e-3;
/// How far in the future a timestamp may be, to allow for clock skew.
pub const MAX_FUTURE_SECS: i64 = 86_400;
/// The largest `f64` within the magnitude DynamoDB stores in a number attribute
/// (9.9999999999999999999999999999999999999E+125).
pub const MAX_NUMBER_MAGNITUDE: f64 = 9.999_999_999_999_998e125;
/// The smallest non-zero magnitude DynamoDB stores in a number attribute (1E-130).
pub const MIN_NUMBER_MAGNITUDE: f64 = 1e-130;

/// An invalid field: its name (dotted for nested fields, such as `bet.odds`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field at fault.
    pub field: String,
    /// The problem and its fix.
    pub reason: String,
}

impl FieldError {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Turns the error into the rejection of record `index`.
    pub fn reject(self, index: usize, id: Option<String>) -> Rejection {
        Rejection {
            index,
            id,
            field: self.field,
            reason: self.reason,
        }
    }
}

/// A request body that cannot be read at all; the whole request gets a 400 (or 413 when too large).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct BodyError {
    /// The HTTP status of the response.
    pub status: u16,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// The problem and its fix.
    pub detail: String,
}

impl BodyError {
    fn bad(field: Option<&str>, detail: impl Into<String>) -> Self {
        Self {
            status: 400,
            field: field.map(String::from),
            detail: detail.into(),
        }
    }
}

/// Parses a JSON body into an object, rejecting bodies that are too large, not UTF-8 or not JSON.
pub fn parse_body(body: &[u8]) -> Result<Map<String, Value>, BodyError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(BodyError {
            status: 413,
            field: None,
            detail: format!(
                "the body is {} bytes, over the 1 MiB limit ({MAX_BODY_BYTES} bytes); split the records into smaller \
                 requests",
                body.len()
            ),
        });
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        BodyError::bad(
            None,
            format!(
                "the body is not valid UTF-8 (invalid byte at offset {}); send UTF-8 JSON",
                e.valid_up_to()
            ),
        )
    })?;
    if text.trim().is_empty() {
        return Err(BodyError::bad(None, "the body is empty; send a JSON object"));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        BodyError::bad(
            None,
            format!(
                "the body is not valid JSON ({e}); JSON has no NaN or Infinity, so send null or leave the field out"
            ),
        )
    })?;
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(BodyError::bad(None, "the body must be a JSON object")),
    }
}

/// Reads the `model` name and the record array `list` (such as `predictions`) of a batch body.
pub fn parse_batch<'a>(body: &'a Map<String, Value>, list: &str) -> Result<(String, &'a [Value]), BodyError> {
    let model = match body.get("model") {
        Some(Value::String(model)) => model.clone(),
        Some(other) => {
            return Err(BodyError::bad(
                Some("model"),
                format!("must be a string, got {}", kind(other)),
            ))
        }
        None => return Err(BodyError::bad(Some("model"), "is required")),
    };
    if !is_model_name(&model) {
        return Err(BodyError::bad(Some("model"), model_name_reason(&model)));
    }
    if let Some(unknown) = body.keys().find(|k| *k != "model" && *k != list) {
        return Err(BodyError::bad(
            Some(unknown),
            format!("unknown field; the body holds model and {list}"),
        ));
    }
    let records = match body.get(list) {
        Some(Value::Array(records)) => records.as_slice(),
        Some(other) => {
            return Err(BodyError::bad(
                Some(list),
                format!("must be an array, got {}", kind(other)),
            ))
        }
        None => return Err(BodyError::bad(Some(list), "is required")),
    };
    if records.is_empty() {
        return Err(BodyError::bad(Some(list), "is empty; send at least one record"));
    }
    if records.len() > MAX_RECORDS_PER_REQUEST {
        return Err(BodyError::bad(
            Some(list),
            format!(
                "holds {} records, more than the limit of {MAX_RECORDS_PER_REQUEST}; split them into several requests",
                records.len()
            ),
        ));
    }
    Ok((model, records))
}

/// Returns true when `name` is a valid model name, `[A-Za-z0-9._-]{1,128}`.
pub fn is_model_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// Returns the reason a model name is invalid.
pub fn model_name_reason(name: &str) -> String {
    format!("must be 1 to 128 characters from A-Z, a-z, 0-9, '.', '_' and '-', got {name:?}")
}

/// Checks an id, version or label: 1 to 256 bytes with no control characters.
pub fn check_label(value: &str) -> Result<(), String> {
    check_text(value, MAX_LABEL_BYTES)
}

fn check_text(value: &str, max_bytes: usize) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.len() > max_bytes {
        return Err(format!("must be at most {max_bytes} bytes, got {}", value.len()));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(format!("must not contain control characters, found {:?}", c));
    }
    Ok(())
}

/// Checks that a number fits a DynamoDB number attribute.
pub fn check_number(field: &str, value: f64) -> Result<f64, FieldError> {
    let magnitude = value.abs();
    if !value.is_finite() || magnitude > MAX_NUMBER_MAGNITUDE || (magnitude != 0.0 && magnitude < MIN_NUMBER_MAGNITUDE)
    {
        return Err(FieldError::new(
            field,
            format!("must be 0 or a finite number with magnitude between 1e-130 and 9.9e125, got {value}"),
        ));
    }
    Ok(value)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn number(field: &str, value: &Value) -> Result<f64, FieldError> {
    match value.as_f64() {
        Some(n) if value.is_number() => check_number(field, n),
        _ => Err(FieldError::new(field, format!("must be a number, got {}", kind(value)))),
    }
}

fn label(field: &str, value: &Value) -> Result<String, FieldError> {
    match value {
        Value::String(text) => {
            check_label(text).map_err(|reason| FieldError::new(field, reason))?;
            Ok(text.clone())
        }
        other => Err(FieldError::new(field, format!("must be a string, got {}", kind(other)))),
    }
}

fn timestamp(field: &str, value: &Value, now: DateTime<Utc>) -> Result<DateTime<Utc>, FieldError> {
    let text = value
        .as_str()
        .ok_or_else(|| FieldError::new(field, format!("must be an RFC 3339 string, got {}", kind(value))))?;
    let parsed = DateTime::parse_from_rfc3339(text).map_err(|_| {
        FieldError::new(
            field,
            format!("must be an RFC 3339 timestamp with an offset, such as 2023-06-12T17:00:00Z, got {text:?}"),
        )
    })?;
    let at = parsed.with_timezone(&Utc);
    if at > now + TimeDelta::seconds(MAX_FUTURE_SECS) {
        return Err(FieldError::new(
            field,
            format!(
                "{text} is more than 1 day after the current time {}; send the time the event happened",
                rfc3339(now)
            ),
        ));
    }
    Ok(at)
}

fn actual_value(field: &str, value: &Value) -> Result<ActualValue, FieldError> {
    match value {
        Value::Bool(b) => Ok(ActualValue::Bool(*b)),
        Value::Number(_) => number(field, value).map(ActualValue::Number),
        Value::String(_) => label(field, value).map(ActualValue::Label),
        other => Err(FieldError::new(
            field,
            format!(
                "must be 0, 1, true, false, a class label or a number, got {}",
                kind(other)
            ),
        )),
    }
}

fn prediction_value(value: &Value) -> Result<PredictionValue, FieldError> {
    match value {
        Value::Number(_) => number("prediction", value).map(PredictionValue::Number),
        Value::String(_) => label("prediction", value).map(PredictionValue::Label),
        Value::Object(map) => {
            let mut probabilities = BTreeMap::new();
            for (class, p) in map {
                let field = format!("prediction.{class}");
                check_label(class).map_err(|reason| FieldError::new(&field, format!("class label {reason}")))?;
                let p = number(&field, p)?;
                if !(0.0..=1.0).contains(&p) {
                    return Err(FieldError::new(
                        field,
                        format!("must be a probability in [0, 1], got {p}"),
                    ));
                }
                probabilities.insert(class.clone(), p);
            }
            if probabilities.len() < 2 {
                return Err(FieldError::new(
                    "prediction",
                    "per-class probabilities need at least two classes",
                ));
            }
            let sum: f64 = probabilities.values().sum();
            if (sum - 1.0).abs() > PROBABILITY_SUM_TOLERANCE {
                return Err(FieldError::new(
                    "prediction",
                    format!("per-class probabilities must sum to 1 within {PROBABILITY_SUM_TOLERANCE}, got {sum}"),
                ));
            }
            Ok(PredictionValue::Probabilities(probabilities))
        }
        other => Err(FieldError::new(
            "prediction",
            format!(
                "must be a number, a class label or an object of class probabilities, got {}",
                kind(other)
            ),
        )),
    }
}

fn object<'a>(field: &str, value: &'a Value) -> Result<&'a Map<String, Value>, FieldError> {
    value
        .as_object()
        .ok_or_else(|| FieldError::new(field, format!("must be an object, got {}", kind(value))))
}

fn segment(value: &Value) -> Result<BTreeMap<String, String>, FieldError> {
    let map = object("segment", value)?;
    if map.len() > MAX_SEGMENT_TAGS {
        return Err(FieldError::new(
            "segment",
            format!("at most {MAX_SEGMENT_TAGS} tags, got {}", map.len()),
        ));
    }
    let mut tags = BTreeMap::new();
    for (key, tag) in map {
        let field = format!("segment.{key}");
        check_text(key, MAX_KEY_BYTES).map_err(|reason| FieldError::new(&field, format!("tag key {reason}")))?;
        let text = tag
            .as_str()
            .ok_or_else(|| FieldError::new(&field, format!("must be a string, got {}", kind(tag))))?;
        // An empty tag value is allowed: the API writes that segment as `key:`.
        if !text.is_empty() {
            check_text(text, MAX_SEGMENT_VALUE_BYTES).map_err(|reason| FieldError::new(&field, reason))?;
        }
        tags.insert(key.clone(), text.to_string());
    }
    Ok(tags)
}

fn features(value: &Value) -> Result<BTreeMap<String, f64>, FieldError> {
    let map = object("features", value)?;
    if map.len() > MAX_FEATURES {
        return Err(FieldError::new(
            "features",
            format!("at most {MAX_FEATURES} features, got {}", map.len()),
        ));
    }
    let mut features = BTreeMap::new();
    for (name, feature) in map {
        let field = format!("features.{name}");
        check_text(name, MAX_KEY_BYTES).map_err(|reason| FieldError::new(&field, format!("feature name {reason}")))?;
        features.insert(name.clone(), number(&field, feature)?);
    }
    Ok(features)
}

fn bet(value: &Value) -> Result<Bet, FieldError> {
    let map = object("bet", value)?;
    if let Some(unknown) = map.keys().find(|k| !["side", "odds", "stake"].contains(&k.as_str())) {
        return Err(FieldError::new(
            format!("bet.{unknown}"),
            "unknown field; a bet holds side, odds and stake",
        ));
    }
    let get = |name: &str| {
        map.get(name)
            .filter(|v| !v.is_null())
            .ok_or_else(|| FieldError::new(format!("bet.{name}"), "is required"))
    };
    let side = actual_value("bet.side", get("side")?)?;
    let odds = number("bet.odds", get("odds")?)?;
    if odds <= 1.0 {
        return Err(FieldError::new(
            "bet.odds",
            format!("decimal odds must be greater than 1, got {odds}"),
        ));
    }
    let stake = number("bet.stake", get("stake")?)?;
    if stake <= 0.0 {
        return Err(FieldError::new(
            "bet.stake",
            format!("must be greater than 0, got {stake}"),
        ));
    }
    Ok(Bet { side, odds, stake })
}

/// Every field a prediction record may hold.
pub const PREDICTION_FIELDS: &[&str] = &[
    "id",
    "version",
    "timestamp",
    "prediction",
    "actual",
    "latency_ms",
    "segment",
    "features",
    "bet",
];

/// Returns the record's `id` when it is a string, for naming the record in a rejection.
pub fn record_id(value: &Value) -> Option<String> {
    value.get("id").and_then(Value::as_str).map(String::from)
}

fn required<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a Value, FieldError> {
    map.get(name)
        .filter(|v| !v.is_null())
        .ok_or_else(|| FieldError::new(name, "is required"))
}

fn optional<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).filter(|v| !v.is_null())
}

/// Reads one prediction and checks everything that does not depend on the model's task.
pub fn parse_prediction(value: &Value, now: DateTime<Utc>) -> Result<PredictionRecord, FieldError> {
    let map = object("prediction record", value).map_err(|_| {
        FieldError::new(
            "record",
            format!("each prediction must be an object, got {}", kind(value)),
        )
    })?;
    if let Some(unknown) = map.keys().find(|k| !PREDICTION_FIELDS.contains(&k.as_str())) {
        return Err(FieldError::new(
            unknown,
            format!("unknown field; accepted fields are {}", PREDICTION_FIELDS.join(", ")),
        ));
    }
    let latency_ms = match optional(map, "latency_ms") {
        None => None,
        Some(v) => {
            let latency = number("latency_ms", v)?;
            if latency < 0.0 {
                return Err(FieldError::new(
                    "latency_ms",
                    format!("must be 0 or more, got {latency}"),
                ));
            }
            Some(latency)
        }
    };
    Ok(PredictionRecord {
        id: label("id", required(map, "id")?)?,
        version: label("version", required(map, "version")?)?,
        timestamp: timestamp("timestamp", required(map, "timestamp")?, now)?,
        prediction: prediction_value(required(map, "prediction")?)?,
        actual: optional(map, "actual").map(|v| actual_value("actual", v)).transpose()?,
        latency_ms,
        segment: optional(map, "segment").map(segment).transpose()?,
        features: optional(map, "features").map(features).transpose()?,
        bet: optional(map, "bet").map(bet).transpose()?,
    })
}

/// Reads one actual and checks everything that does not depend on the model's task.
pub fn parse_actual(value: &Value, now: DateTime<Utc>) -> Result<ActualRecord, FieldError> {
    let map = object("actual record", value)
        .map_err(|_| FieldError::new("record", format!("each actual must be an object, got {}", kind(value))))?;
    if let Some(unknown) = map
        .keys()
        .find(|k| !["id", "actual", "timestamp"].contains(&k.as_str()))
    {
        return Err(FieldError::new(
            unknown,
            "unknown field; accepted fields are id, actual, timestamp",
        ));
    }
    Ok(ActualRecord {
        id: label("id", required(map, "id")?)?,
        actual: actual_value("actual", required(map, "actual")?)?,
        timestamp: optional(map, "timestamp")
            .map(|v| timestamp("timestamp", v, now))
            .transpose()?,
    })
}

/// Checks a prediction against its model's task, threshold and classes.
pub fn check_prediction(record: &PredictionRecord, config: &ModelConfig) -> Result<(), FieldError> {
    match (config.task, &record.prediction) {
        (Task::Binary, PredictionValue::Number(p)) => {
            if !(0.0..=1.0).contains(p) {
                return Err(FieldError::new(
                    "prediction",
                    format!("must be a probability in [0, 1], got {p}"),
                ));
            }
        }
        (Task::Regression, PredictionValue::Number(_)) => {}
        (Task::Multiclass, PredictionValue::Label(label)) => check_class("prediction", label, config)?,
        (Task::Multiclass, PredictionValue::Probabilities(map)) => {
            if let Some(classes) = &config.classes {
                let sent: BTreeSet<&str> = map.keys().map(String::as_str).collect();
                let expected: BTreeSet<&str> = classes.iter().map(String::as_str).collect();
                if sent != expected {
                    return Err(FieldError::new(
                        "prediction",
                        format!(
                            "per-class probabilities must name exactly the model's classes [{}], got [{}]",
                            classes.join(", "),
                            map.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
            }
        }
        (Task::Binary, _) => {
            return Err(FieldError::new(
                "prediction",
                "this model is binary: send the positive-class probability, a number in [0, 1]",
            ))
        }
        (Task::Regression, _) => {
            return Err(FieldError::new("prediction", "this model is regression: send a number"));
        }
        (Task::Multiclass, PredictionValue::Number(n)) => {
            return Err(FieldError::new(
                "prediction",
                format!("this model is multiclass: send a class label or per-class probabilities, got {n}"),
            ))
        }
    }
    if let Some(actual) = &record.actual {
        check_actual_value("actual", actual, config)?;
    }
    if let Some(bet) = &record.bet {
        if config.task == Task::Regression {
            return Err(FieldError::new(
                "bet",
                "bets apply to binary and multiclass models only",
            ));
        }
        check_actual_value("bet.side", &bet.side, config)?;
    }
    Ok(())
}

/// Checks an actual outcome (or a bet's side) against the model's task and classes.
pub fn check_actual_value(field: &str, actual: &ActualValue, config: &ModelConfig) -> Result<(), FieldError> {
    match (config.task, actual) {
        (Task::Binary, ActualValue::Bool(_)) => Ok(()),
        (Task::Binary, ActualValue::Number(n)) if *n == 0.0 || *n == 1.0 => Ok(()),
        (Task::Binary, other) => Err(FieldError::new(
            field,
            format!("this model is binary: send 0, 1, true or false, got {other}"),
        )),
        (Task::Multiclass, ActualValue::Label(label)) => check_class(field, label, config),
        (Task::Multiclass, other) => Err(FieldError::new(
            field,
            format!("this model is multiclass: send a class label, got {other}"),
        )),
        (Task::Regression, ActualValue::Number(_)) => Ok(()),
        (Task::Regression, other) => Err(FieldError::new(
            field,
            format!("this model is regression: send a number, got {other}"),
        )),
    }
}

fn check_class(field: &str, label: &str, config: &ModelConfig) -> Result<(), FieldError> {
    match &config.classes {
        Some(classes) if !classes.iter().any(|c| c == label) => Err(FieldError::new(
            field,
            format!("{label:?} is not one of the model's classes [{}]", classes.join(", ")),
        )),
        _ => Ok(()),
    }
}

/// Chooses the registration of a model registered on first use, from the first readable
/// prediction. A label or per-class probabilities make it multiclass. Numbers make it binary
/// when every number in the batch is in [0, 1], and regression otherwise. Returns `None` when
/// no prediction is readable.
pub fn infer_config(records: &[&PredictionRecord]) -> Option<ModelConfig> {
    let first = records.first()?;
    let config = match &first.prediction {
        PredictionValue::Probabilities(map) => {
            let mut config = ModelConfig::new(Task::Multiclass);
            config.classes = Some(map.keys().cloned().collect());
            config
        }
        PredictionValue::Label(_) => ModelConfig::new(Task::Multiclass),
        PredictionValue::Number(_) => {
            let all_probabilities = records.iter().all(|r| match r.prediction {
                PredictionValue::Number(n) => (0.0..=1.0).contains(&n),
                _ => true,
            });
            ModelConfig::new(if all_probabilities {
                Task::Binary
            } else {
                Task::Regression
            })
        }
    };
    Some(config)
}

/// Validates the body of `PUT /v1/models/{model}` into a configuration.
pub fn parse_model_config(body: &Map<String, Value>) -> Result<ModelConfig, FieldError> {
    const FIELDS: &[&str] = &["task", "threshold", "classes", "segments", "reference"];
    if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(FieldError::new(
            unknown,
            format!("unknown field; accepted fields are {}", FIELDS.join(", ")),
        ));
    }
    let task_name = match required(body, "task")? {
        Value::String(name) => name,
        other => {
            return Err(FieldError::new(
                "task",
                format!("must be a string, got {}", kind(other)),
            ))
        }
    };
    let task: Task = task_name
        .parse()
        .map_err(|e: crate::model::UnknownTask| FieldError::new("task", e.to_string()))?;
    let mut config = ModelConfig::new(task);

    if let Some(value) = optional(body, "threshold") {
        let threshold = number("threshold", value)?;
        if !(0.0..=1.0).contains(&threshold) {
            return Err(FieldError::new(
                "threshold",
                format!("must be in [0, 1], got {threshold}"),
            ));
        }
        config.threshold = threshold;
    }
    if let Some(value) = optional(body, "classes") {
        if task != Task::Multiclass {
            return Err(FieldError::new(
                "classes",
                "applies to multiclass models only; send null",
            ));
        }
        let list = value
            .as_array()
            .ok_or_else(|| FieldError::new("classes", format!("must be an array of labels, got {}", kind(value))))?;
        let mut classes = BTreeSet::new();
        for (i, class) in list.iter().enumerate() {
            let class = label(&format!("classes[{i}]"), class)?;
            if !classes.insert(class.clone()) {
                return Err(FieldError::new("classes", format!("{class:?} appears twice")));
            }
        }
        if classes.len() < 2 {
            return Err(FieldError::new(
                "classes",
                "a multiclass model needs at least two classes",
            ));
        }
        config.classes = Some(classes.into_iter().collect());
    }
    if let Some(value) = optional(body, "segments") {
        let list = value
            .as_array()
            .ok_or_else(|| FieldError::new("segments", format!("must be an array of tag keys, got {}", kind(value))))?;
        if list.len() > MAX_SEGMENT_TAGS {
            return Err(FieldError::new(
                "segments",
                format!("at most {MAX_SEGMENT_TAGS} tag keys, got {}", list.len()),
            ));
        }
        for (i, key) in list.iter().enumerate() {
            let field = format!("segments[{i}]");
            let key = key
                .as_str()
                .ok_or_else(|| FieldError::new(&field, format!("must be a string, got {}", kind(key))))?;
            check_text(key, MAX_KEY_BYTES).map_err(|reason| FieldError::new(&field, reason))?;
            if !config.segments.iter().any(|k| k == key) {
                config.segments.push(key.to_string());
            }
        }
    }
    if let Some(value) = optional(body, "reference") {
        let map = object("reference", value)?;
        let far_future = DateTime::<Utc>::MAX_UTC - TimeDelta::days(2);
        let from = timestamp(
            "reference.from",
            required(map, "from").map_err(|_| FieldError::new("reference.from", "is required"))?,
            far_future,
        )?;
        let to = timestamp(
            "reference.to",
            required(map, "to").map_err(|_| FieldError::new("reference.to", "is required"))?,
            far_future,
        )?;
        if from >= to {
            return Err(FieldError::new("reference", "from must be before to"));
        }
        config.reference = Some(crate::model::Period { from, to });
    }
    Ok(config)
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
