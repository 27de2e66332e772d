//! Conversion between domain records and DynamoDB items.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

use super::{keys, StoreError};
use crate::{
    model::{ModelConfig, Period, Task},
    record::{ActualValue, Bet, PredictionRecord, PredictionValue},
};

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's largest item, 400 KB, counting attribute names and values.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// A prediction as stored, with its actual when one has been joined.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPrediction {
    /// The event predicted.
    pub id: String,
    /// The model version.
    pub version: String,
    /// When the prediction was made.
    pub timestamp: DateTime<Utc>,
    /// The model's output.
    pub prediction: PredictionValue,
    /// The true outcome, in normalized form, once known.
    pub actual: Option<ActualValue>,
    /// When the outcome became known.
    pub actual_timestamp: Option<DateTime<Utc>>,
    /// Model latency in milliseconds.
    pub latency_ms: Option<f64>,
    /// Segment tags; empty when none were sent.
    pub segment: BTreeMap<String, String>,
    /// Feature values; empty when none were sent.
    pub features: BTreeMap<String, f64>,
    /// The wager placed on the prediction.
    pub bet: Option<Bet>,
    /// Hash of the fields the client sent, without the actual.
    pub content_hash: String,
    /// When the item was written.
    pub stored_at: DateTime<Utc>,
}

impl StoredPrediction {
    /// Returns the prediction's fields as the client sent them, without the actual.
    pub fn to_record(&self) -> PredictionRecord {
        PredictionRecord {
            id: self.id.clone(),
            version: self.version.clone(),
            timestamp: self.timestamp,
            prediction: self.prediction.clone(),
            actual: None,
            latency_ms: self.latency_ms,
            segment: (!self.segment.is_empty()).then(|| self.segment.clone()),
            features: (!self.features.is_empty()).then(|| self.features.clone()),
            bet: self.bet.clone(),
        }
    }
}

/// An actual as stored under `PRED#{model}#{id}` / `ACTUAL`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredActual {
    /// The event.
    pub id: String,
    /// The outcome, normalized.
    pub actual: ActualValue,
    /// When the outcome became known (the client's timestamp, or the time it was stored).
    pub timestamp: DateTime<Utc>,
    /// True when the client sent the timestamp.
    pub timestamp_sent: bool,
}

/// Formats a timestamp for an attribute value: RFC 3339, UTC, with the fraction when there is one.
pub fn time_value(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Formats a number for a DynamoDB number attribute, keeping every digit of the `f64`.
pub fn number_text(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || (1e-5..1e16).contains(&magnitude) {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

/// Builds a string attribute.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// Builds a number attribute.
pub fn n(value: f64) -> AttributeValue {
    AttributeValue::N(number_text(value))
}

/// Builds a whole-number attribute.
pub fn int(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Returns the TTL value: `stored_at` plus the retention, in epoch seconds.
pub fn expires_at(stored_at: DateTime<Utc>, retention_days: u32) -> i64 {
    (stored_at + TimeDelta::days(i64::from(retention_days))).timestamp()
}

/// Returns the hash of the fields the client sent, without the actual, as 16 hex digits.
pub fn content_hash(record: &PredictionRecord) -> String {
    let mut fields = record.clone();
    fields.actual = None;
    // Serialising a record cannot fail, because every map in it has string keys.
    let canonical = serde_json::to_string(&fields).unwrap_or_default();
    format!("{:016x}", keys::fnv1a(canonical.as_bytes()))
}

fn prediction_value(value: &PredictionValue) -> AttributeValue {
    match value {
        PredictionValue::Number(v) => n(*v),
        PredictionValue::Label(label) => s(label.clone()),
        PredictionValue::Probabilities(map) => {
            AttributeValue::M(map.iter().map(|(class, p)| (class.clone(), n(*p))).collect())
        }
    }
}

/// Returns the attribute of a normalized actual or bet side.
pub fn actual_value(value: &ActualValue) -> AttributeValue {
    match value.normalized() {
        ActualValue::Number(v) => n(v),
        ActualValue::Label(label) => s(label),
        ActualValue::Bool(b) => n(if b { 1.0 } else { 0.0 }),
    }
}

/// Builds the prediction item. `actual` fills the join fields when the outcome is already known.
pub fn prediction_item(
    model: &str,
    record: &PredictionRecord,
    actual: Option<(&ActualValue, DateTime<Utc>)>,
    stored_at: DateTime<Utc>,
    retention_days: u32,
) -> Item {
    let hour = crate::time::floor_hour(record.timestamp);
    let mut item = Item::new();
    item.insert("pk".into(), s(keys::prediction_pk(model, &record.id)));
    item.insert("sk".into(), s(keys::prediction_sk(&record.version)));
    item.insert(
        "gsi1pk".into(),
        s(keys::hour_gsi_pk(
            model,
            &record.version,
            hour,
            keys::shard_of(&record.id),
        )),
    );
    item.insert("gsi1sk".into(), s(record.id.clone()));
    item.insert("id".into(), s(record.id.clone()));
    item.insert("version".into(), s(record.version.clone()));
    item.insert("timestamp".into(), s(time_value(record.timestamp)));
    item.insert("prediction".into(), prediction_value(&record.prediction));
    if let Some((value, at)) = actual {
        item.insert("actual".into(), actual_value(value));
        item.insert("actual_timestamp".into(), s(time_value(at)));
    }
    if let Some(latency) = record.latency_ms {
        item.insert("latency_ms".into(), n(latency));
    }
    if let Some(segment) = record.segment.as_ref().filter(|m| !m.is_empty()) {
        item.insert(
            "segment".into(),
            AttributeValue::M(segment.iter().map(|(k, v)| (k.clone(), s(v.clone()))).collect()),
        );
    }
    if let Some(features) = record.features.as_ref().filter(|m| !m.is_empty()) {
        item.insert(
            "features".into(),
            AttributeValue::M(features.iter().map(|(k, v)| (k.clone(), n(*v))).collect()),
        );
    }
    if let Some(bet) = &record.bet {
        let fields = HashMap::from([
            ("side".to_string(), actual_value(&bet.side)),
            ("odds".to_string(), n(bet.odds)),
            ("stake".to_string(), n(bet.stake)),
        ]);
        item.insert("bet".into(), AttributeValue::M(fields));
    }
    item.insert("content_hash".into(), s(content_hash(record)));
    item.insert("stored_at".into(), s(time_value(stored_at)));
    item.insert("expires_at".into(), int(expires_at(stored_at, retention_days)));
    item
}

/// Builds the `ACTUAL` item of an id.
pub fn actual_item(model: &str, actual: &StoredActual, stored_at: DateTime<Utc>, retention_days: u32) -> Item {
    HashMap::from([
        ("pk".to_string(), s(keys::prediction_pk(model, &actual.id))),
        ("sk".to_string(), s(keys::ACTUAL_SK)),
        ("id".to_string(), s(actual.id.clone())),
        ("actual".to_string(), actual_value(&actual.actual)),
        ("actual_timestamp".to_string(), s(time_value(actual.timestamp))),
        (
            "timestamp_sent".to_string(),
            AttributeValue::Bool(actual.timestamp_sent),
        ),
        ("stored_at".to_string(), s(time_value(stored_at))),
        ("expires_at".to_string(), int(expires_at(stored_at, retention_days))),
    ])
}

/// Builds a model's registration item.
pub fn model_item(model: &str, config: &ModelConfig, updated_at: DateTime<Utc>) -> Item {
    let mut item = HashMap::from([
        ("pk".to_string(), s(keys::model_pk(model))),
        ("sk".to_string(), s(keys::CONFIG_SK)),
        ("gsi1pk".to_string(), s(keys::MODELS_GSI_PK)),
        ("gsi1sk".to_string(), s(model)),
        ("model".to_string(), s(model)),
        ("task".to_string(), s(config.task.as_str())),
        ("threshold".to_string(), n(config.threshold)),
        (
            "segments".to_string(),
            AttributeValue::L(config.segments.iter().cloned().map(AttributeValue::S).collect()),
        ),
        ("updated_at".to_string(), s(time_value(updated_at))),
    ]);
    if let Some(classes) = &config.classes {
        item.insert(
            "classes".into(),
            AttributeValue::L(classes.iter().cloned().map(AttributeValue::S).collect()),
        );
    }
    if let Some(reference) = &config.reference {
        item.insert("reference_from".into(), s(time_value(reference.from)));
        item.insert("reference_to".into(), s(time_value(reference.to)));
    }
    item
}

/// Returns the size DynamoDB counts for an item: attribute names plus values. Numbers are
/// counted at their upper bound of 21 bytes.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(_) => 21,
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => 21 * set.len(),
        AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// Reads typed attributes from an item, naming the item and attribute on failure.
pub struct ItemReader<'a> {
    item: &'a Item,
}

impl<'a> ItemReader<'a> {
    /// Wraps an item.
    pub fn new(item: &'a Item) -> Self {
        Self { item }
    }

    /// Returns the item's `pk#sk`, for error messages.
    pub fn key(&self) -> String {
        let part = |name: &str| {
            self.item
                .get(name)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default()
        };
        format!("{}/{}", part("pk"), part("sk"))
    }

    /// Returns an error about `attribute`.
    pub fn corrupt(&self, attribute: &str, detail: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            key: self.key(),
            attribute: attribute.to_string(),
            detail: detail.into(),
        }
    }

    /// Returns the raw attribute, if present.
    pub fn get(&self, name: &str) -> Option<&'a AttributeValue> {
        self.item.get(name)
    }

    /// Reads a required string.
    pub fn string(&self, name: &str) -> Result<String, StoreError> {
        self.optional_string(name)?.ok_or_else(|| self.corrupt(name, "missing"))
    }

    /// Reads an optional string.
    pub fn optional_string(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.item.get(name) {
            None => Ok(None),
            Some(AttributeValue::S(text)) => Ok(Some(text.clone())),
            Some(_) => Err(self.corrupt(name, "not a string")),
        }
    }

    /// Reads a required number.
    pub fn number(&self, name: &str) -> Result<f64, StoreError> {
        self.optional_number(name)?.ok_or_else(|| self.corrupt(name, "missing"))
    }

    /// Reads an optional number.
    pub fn optional_number(&self, name: &str) -> Result<Option<f64>, StoreError> {
        match self.item.get(name) {
            None => Ok(None),
            Some(value) => parse_number(value)
                .map(Some)
                .ok_or_else(|| self.corrupt(name, "not a number")),
        }
    }

    /// Reads a required RFC 3339 timestamp.
    pub fn time(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        self.optional_time(name)?.ok_or_else(|| self.corrupt(name, "missing"))
    }

    /// Reads an optional RFC 3339 timestamp.
    pub fn optional_time(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        match self.optional_string(name)? {
            None => Ok(None),
            Some(text) => DateTime::parse_from_rfc3339(&text)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| self.corrupt(name, format!("not an RFC 3339 timestamp: {text:?}"))),
        }
    }

    /// Reads an optional list of strings.
    pub fn optional_strings(&self, name: &str) -> Result<Option<Vec<String>>, StoreError> {
        match self.item.get(name) {
            None => Ok(None),
            Some(AttributeValue::L(list)) => list
                .iter()
                .map(|v| v.as_s().cloned().map_err(|_| self.corrupt(name, "holds a non-string")))
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.corrupt(name, "not a list")),
        }
    }

    /// Reads an optional actual (number or label).
    pub fn optional_actual(&self, name: &str) -> Result<Option<ActualValue>, StoreError> {
        match self.item.get(name) {
            None => Ok(None),
            Some(value) => decode_actual(value)
                .map(Some)
                .ok_or_else(|| self.corrupt(name, "not a number or label")),
        }
    }
}

fn parse_number(value: &AttributeValue) -> Option<f64> {
    value.as_n().ok().and_then(|text| text.parse::<f64>().ok())
}

fn decode_actual(value: &AttributeValue) -> Option<ActualValue> {
    match value {
        AttributeValue::N(_) => parse_number(value).map(ActualValue::Number),
        AttributeValue::S(label) => Some(ActualValue::Label(label.clone())),
        _ => None,
    }
}

/// Decodes a prediction item.
pub fn decode_prediction(item: &Item) -> Result<StoredPrediction, StoreError> {
    let reader = ItemReader::new(item);
    let prediction = match reader.get("prediction") {
        Some(AttributeValue::N(_)) => PredictionValue::Number(reader.number("prediction")?),
        Some(AttributeValue::S(label)) => PredictionValue::Label(label.clone()),
        Some(AttributeValue::M(map)) => PredictionValue::Probabilities(
            map.iter()
                .map(|(class, p)| {
                    parse_number(p)
                        .map(|p| (class.clone(), p))
                        .ok_or_else(|| reader.corrupt("prediction", format!("class {class:?} is not a number")))
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(reader.corrupt("prediction", "missing or of an unknown type")),
    };
    let segment = match reader.get("segment") {
        None => BTreeMap::new(),
        Some(AttributeValue::M(map)) => map
            .iter()
            .map(|(k, v)| {
                v.as_s()
                    .map(|text| (k.clone(), text.clone()))
                    .map_err(|_| reader.corrupt("segment", format!("tag {k:?} is not a string")))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(reader.corrupt("segment", "not a map")),
    };
    let features = match reader.get("features") {
        None => BTreeMap::new(),
        Some(AttributeValue::M(map)) => map
            .iter()
            .map(|(k, v)| {
                parse_number(v)
                    .map(|x| (k.clone(), x))
                    .ok_or_else(|| reader.corrupt("features", format!("feature {k:?} is not a number")))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(reader.corrupt("features", "not a map")),
    };
    let bet = match reader.get("bet") {
        None => None,
        Some(AttributeValue::M(map)) => {
            let field = |name: &str| {
                map.get(name)
                    .ok_or_else(|| reader.corrupt("bet", format!("{name} missing")))
            };
            Some(Bet {
                side: decode_actual(field("side")?).ok_or_else(|| reader.corrupt("bet", "side is invalid"))?,
                odds: parse_number(field("odds")?).ok_or_else(|| reader.corrupt("bet", "odds is not a number"))?,
                stake: parse_number(field("stake")?).ok_or_else(|| reader.corrupt("bet", "stake is not a number"))?,
            })
        }
        Some(_) => return Err(reader.corrupt("bet", "not a map")),
    };
    Ok(StoredPrediction {
        id: reader.string("id")?,
        version: reader.string("version")?,
        timestamp: reader.time("timestamp")?,
        prediction,
        actual: reader.optional_actual("actual")?,
        actual_timestamp: reader.optional_time("actual_timestamp")?,
        latency_ms: reader.optional_number("latency_ms")?,
        segment,
        features,
        bet,
        content_hash: reader.string("content_hash")?,
        stored_at: reader.time("stored_at")?,
    })
}

/// Decodes an `ACTUAL` item.
pub fn decode_actual_item(item: &Item) -> Result<StoredActual, StoreError> {
    let reader = ItemReader::new(item);
    Ok(StoredActual {
        id: reader.string("id")?,
        actual: reader
            .optional_actual("actual")?
            .ok_or_else(|| reader.corrupt("actual", "missing"))?,
        timestamp: reader.time("actual_timestamp")?,
        timestamp_sent: matches!(reader.get("timestamp_sent"), Some(AttributeValue::Bool(true))),
    })
}

/// Decodes a registration item.
pub fn decode_model(item: &Item) -> Result<(String, ModelConfig), StoreError> {
    let reader = ItemReader::new(item);
    let task_name = reader.string("task")?;
    let task: Task = task_name
        .parse()
        .map_err(|_| reader.corrupt("task", format!("unknown task {task_name:?}")))?;
    let reference = match (
        reader.optional_time("reference_from")?,
        reader.optional_time("reference_to")?,
    ) {
        (Some(from), Some(to)) => Some(Period { from, to }),
        _ => None,
    };
    let config = ModelConfig {
        task,
        threshold: reader.number("threshold")?,
        classes: reader.optional_strings("classes")?,
        segments: reader.optional_strings("segments")?.unwrap_or_default(),
        reference,
    };
    Ok((reader.string("model")?, config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> PredictionRecord {
        PredictionRecord {
            id: "g#1".into(),
            version: "raptor".into(),
            timestamp: "2023-06-12T17:30:00.250Z".parse().unwrap(),
            prediction: PredictionValue::Probabilities(BTreeMap::from([("A".into(), 0.25), ("H".into(), 0.75)])),
            actual: None,
            latency_ms: Some(12.5),
            segment: Some(BTreeMap::from([("stage".into(), "finals".into())])),
            features: Some(BTreeMap::from([("elo_diff".into(), 35.2), ("tiny".into(), 1e-9)])),
            bet: Some(Bet {
                side: ActualValue::Label("H".into()),
                odds: 1.85,
                stake: 10.0,
            }),
        }
    }

    #[test]
    fn prediction_item_round_trips() {
        let stored_at: DateTime<Utc> = "2023-06-12T18:00:00Z".parse().unwrap();
        let item = prediction_item("m", &record(), None, stored_at, 400);
        let decoded = decode_prediction(&item).unwrap();
        assert_eq!(decoded.to_record(), record());
        assert_eq!(decoded.stored_at, stored_at);
    }

    #[test]
    fn prediction_item_indexes_hour_and_shard() {
        let item = prediction_item("m", &record(), None, Utc::now(), 400);
        let gsi1pk = item["gsi1pk"].as_s().unwrap();
        assert!(gsi1pk.starts_with("HOUR#m#raptor#2023-06-12T17#"));
    }

    #[test]
    fn api_example_item_fits_one_write_unit() {
        let record: PredictionRecord = serde_json::from_value(serde_json::json!({
            "id": "2023-06-12-DEN-MIA", "version": "raptor", "timestamp": "2023-06-12T17:00:00Z",
            "prediction": 0.64, "latency_ms": 12.5, "segment": { "stage": "finals" },
            "features": { "elo_diff": 35.2 }, "bet": { "side": 1, "odds": 1.85, "stake": 10.0 } }))
        .unwrap();
        let actual = ActualValue::Number(1.0);
        let item = prediction_item(
            "nba-game-predictor",
            &record,
            Some((&actual, Utc::now())),
            Utc::now(),
            400,
        );
        println!("API example item: {} bytes", item_size(&item));
        assert!(item_size(&item) <= 1024);
    }

    #[test]
    fn expires_at_adds_retention_days() {
        let stored_at: DateTime<Utc> = "2023-06-12T18:00:00Z".parse().unwrap();
        assert_eq!(expires_at(stored_at, 1), stored_at.timestamp() + 86_400);
    }

    #[test]
    fn number_text_round_trips_extremes() {
        for value in [0.64, 1e-9, 1e20, -3.5, 0.1 + 0.2, 123456789.123] {
            assert_eq!(number_text(value).parse::<f64>().unwrap(), value);
        }
    }

    #[test]
    fn content_hash_ignores_actual() {
        let mut with_actual = record();
        with_actual.actual = Some(ActualValue::Label("H".into()));
        assert_eq!(content_hash(&with_actual), content_hash(&record()));
    }

    #[test]
    fn content_hash_sees_latency_change() {
        let mut changed = record();
        changed.latency_ms = Some(13.0);
        assert_ne!(content_hash(&changed), content_hash(&record()));
    }

    #[test]
    fn model_item_round_trips() {
        let mut config = ModelConfig::new(Task::Multiclass);
        config.classes = Some(vec!["A".into(), "H".into()]);
        config.segments = vec!["stage".into()];
        let (name, decoded) = decode_model(&model_item("m", &config, Utc::now())).unwrap();
        assert_eq!(name, "m");
        assert_eq!(decoded, config);
    }

    #[test]
    fn decode_prediction_names_corrupt_attribute() {
        let mut item = prediction_item("m", &record(), None, Utc::now(), 400);
        item.insert("timestamp".into(), s("yesterday"));
        let error = decode_prediction(&item).unwrap_err();
        assert!(error.to_string().contains("timestamp"));
    }
}
