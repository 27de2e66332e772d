//! Holds `openapi.yaml` to the code: example values of the Rust request and response types must
//! validate against their schemas, and the file's operations must be exactly the routes served.
//!
//! The validator covers the JSON Schema keywords the file uses: `$ref`, `type`, `properties`,
//! `required`, `additionalProperties`, `items`, `enum`, `oneOf`, numeric and size bounds, and
//! `format: date-time`. NOTE: `pattern` is not checked, because the workspace has no regex crate.

use std::collections::{BTreeMap, BTreeSet};

use chrono::DateTime;
use mpt_core::{
    http::ApiError,
    ingest::{self, MonitorsResponse},
    model::{ModelResponse, Period, RegisterModelRequest},
    monitor::{parse_monitors, MonitorsRequest, MONITOR_FIELDS},
    query,
    record::{ActualsRequest, Failure, PredictionsRequest, Rejection},
    validate::PREDICTION_FIELDS,
    ActualRecord, ActualValue, BatchResponse, Bet, ModelConfig, PredictionRecord, PredictionValue, Task,
};
use serde_json::{json, Value};

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");
    let text = std::fs::read_to_string(path).unwrap();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    serde_json::to_value(yaml).unwrap()
}

struct Validator {
    spec: Value,
}

impl Validator {
    fn new() -> Self {
        Self { spec: spec() }
    }

    fn schema(&self, name: &str) -> &Value {
        let schema = &self.spec["components"]["schemas"][name];
        assert!(schema.is_object(), "openapi.yaml has no schema {name}");
        schema
    }

    /// Returns the problems of `value` against schema `name`; empty when it validates.
    fn check(&self, name: &str, value: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        self.walk(self.schema(name), value, name, &mut problems);
        problems
    }

    fn walk(&self, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.trim_start_matches("#/components/schemas/");
            self.walk(self.schema(name), value, at, problems);
        }
        if let Some(types) = schema.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if !allowed.iter().any(|t| has_type(value, t)) {
                problems.push(format!("{at}: {value} is not of type {allowed:?}"));
                return;
            }
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            if !options.contains(value) {
                problems.push(format!("{at}: {value} is not one of {options:?}"));
            }
        }
        if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
            let matching = options
                .iter()
                .filter(|option| {
                    let mut inner = Vec::new();
                    self.walk(option, value, at, &mut inner);
                    inner.is_empty()
                })
                .count();
            if matching != 1 {
                problems.push(format!("{at}: {value} matches {matching} of the oneOf options, not 1"));
            }
        }
        if let Some(n) = value.as_f64() {
            let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
            let checks = [
                ("minimum", bound("minimum").is_some_and(|b| n < b)),
                ("maximum", bound("maximum").is_some_and(|b| n > b)),
                ("exclusiveMinimum", bound("exclusiveMinimum").is_some_and(|b| n <= b)),
                ("exclusiveMaximum", bound("exclusiveMaximum").is_some_and(|b| n >= b)),
            ];
            for (key, broken) in checks {
                if broken {
                    problems.push(format!("{at}: {n} breaks {key}"));
                }
            }
        }
        if let Some(text) = value.as_str() {
            let length = text.chars().count() as u64;
            if schema
                .get("minLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| length < m)
            {
                problems.push(format!("{at}: {text:?} is shorter than minLength"));
            }
            if schema
                .get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| length > m)
            {
                problems.push(format!("{at}: {text:?} is longer than maxLength"));
            }
            if schema.get("format").and_then(Value::as_str) == Some("date-time")
                && DateTime::parse_from_rfc3339(text).is_err()
            {
                problems.push(format!("{at}: {text:?} is not an RFC 3339 date-time"));
            }
        }
        if let Some(list) = value.as_array() {
            let size = list.len() as u64;
            if schema.get("minItems").and_then(Value::as_u64).is_some_and(|m| size < m) {
                problems.push(format!("{at}: fewer than minItems"));
            }
            if schema.get("maxItems").and_then(Value::as_u64).is_some_and(|m| size > m) {
                problems.push(format!("{at}: more than maxItems"));
            }
            if let Some(items) = schema.get("items") {
                for (i, item) in list.iter().enumerate() {
                    self.walk(items, item, &format!("{at}[{i}]"), problems);
                }
            }
        }
        if let Some(object) = value.as_object() {
            let size = object.len() as u64;
            if schema
                .get("minProperties")
                .and_then(Value::as_u64)
                .is_some_and(|m| size < m)
            {
                problems.push(format!("{at}: fewer than minProperties"));
            }
            if schema
                .get("maxProperties")
                .and_then(Value::as_u64)
                .is_some_and(|m| size > m)
            {
                problems.push(format!("{at}: more than maxProperties"));
            }
            for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                let key = required.as_str().unwrap_or_default();
                if !object.contains_key(key) {
                    problems.push(format!("{at}: required property {key} is missing"));
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            for (key, child) in object {
                let path = format!("{at}.{key}");
                match (properties.and_then(|p| p.get(key)), schema.get("additionalProperties")) {
                    (Some(property), _) => self.walk(property, child, &path, problems),
                    (None, Some(Value::Bool(false))) => problems.push(format!("{path} is not a documented property")),
                    (None, Some(extra)) if extra.is_object() => self.walk(extra, child, &path, problems),
                    _ => {}
                }
            }
        }
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|n| n.fract() == 0.0),
        _ => false,
    }
}

fn assert_valid(validator: &Validator, schema: &str, value: &impl serde::Serialize) {
    let value = serde_json::to_value(value).unwrap();
    let problems = validator.check(schema, &value);
    assert!(problems.is_empty(), "{schema}: {problems:#?}");
}

fn full_prediction() -> PredictionRecord {
    PredictionRecord {
        id: "2023-06-12-DEN-MIA".into(),
        version: "raptor".into(),
        timestamp: "2023-06-12T17:00:00Z".parse().unwrap(),
        prediction: PredictionValue::Number(0.64),
        actual: Some(ActualValue::Number(1.0)),
        latency_ms: Some(12.5),
        segment: Some(BTreeMap::from([("stage".into(), "finals".into())])),
        features: Some(BTreeMap::from([("elo_diff".into(), 35.2)])),
        bet: Some(Bet {
            side: ActualValue::Number(1.0),
            odds: 1.85,
            stake: 10.0,
        }),
    }
}

fn registered() -> ModelConfig {
    let mut config = ModelConfig::new(Task::Multiclass);
    config.classes = Some(vec!["A".into(), "D".into(), "H".into()]);
    config.segments = vec!["stage".into()];
    config.reference = Some(Period {
        from: "2022-10-18T00:00:00Z".parse().unwrap(),
        to: "2023-04-10T00:00:00Z".parse().unwrap(),
    });
    config
}

fn api_monitors() -> Value {
    json!([
        { "name": "auc-drop", "kind": "relative_drop", "metric": "roc_auc", "window": "1d",
          "baseline": { "window": "30d" }, "max_drop": 0.05,
          "min_samples": 200, "alpha": 0.05, "consecutive": 2, "cooldown": "6h" },
        { "name": "v1-drop", "kind": "relative_drop", "metric": "f1", "window": "7d",
          "baseline": { "version": "v1" }, "max_drop": 0.1 },
        { "name": "season-drop", "kind": "relative_drop", "metric": "accuracy", "window": "7d",
          "baseline": { "from": "2022-10-18T00:00:00Z", "to": "2023-04-10T00:00:00Z" }, "max_drop": 0.1 },
        { "name": "accuracy-floor", "kind": "threshold", "metric": "accuracy", "window": "7d",
          "below": 0.60, "min_samples": 100 },
        { "name": "score-drift", "kind": "drift", "metric": "psi", "window": "1d", "above": 0.2 },
        { "name": "labels-late", "kind": "label_coverage", "window": "1d", "below": 0.5 },
        { "name": "silence", "kind": "volume", "window": "1h", "below": 1 }
    ])
}

#[test]
fn predictions_request_matches_schema() {
    let validator = Validator::new();
    let mut multiclass = full_prediction();
    multiclass.prediction = PredictionValue::Probabilities(BTreeMap::from([("H".into(), 0.6), ("A".into(), 0.4)]));
    multiclass.actual = Some(ActualValue::Label("H".into()));
    let mut label = full_prediction();
    label.prediction = PredictionValue::Label("H".into());
    label.actual = Some(ActualValue::Bool(true));
    label.bet = None;
    let request = PredictionsRequest {
        model: "nba-game-predictor".into(),
        predictions: vec![full_prediction(), multiclass, label],
    };
    assert_valid(&validator, "PredictionsRequest", &request);
}

#[test]
fn actuals_request_matches_schema() {
    let request = ActualsRequest {
        model: "nba-game-predictor".into(),
        actuals: vec![
            ActualRecord {
                id: "g-1".into(),
                actual: ActualValue::Number(1.0),
                timestamp: Some("2023-06-13T06:00:00Z".parse().unwrap()),
            },
            ActualRecord {
                id: "g-2".into(),
                actual: ActualValue::Label("H".into()),
                timestamp: None,
            },
        ],
    };
    assert_valid(&Validator::new(), "ActualsRequest", &request);
}

#[test]
fn batch_response_matches_schema() {
    let response = BatchResponse {
        stored: 41,
        rejected: vec![Rejection {
            index: 3,
            id: Some("g-7".into()),
            field: "prediction".into(),
            reason: "must be a probability in [0, 1], got 1.7".into(),
        }],
        failed: vec![Failure {
            index: 9,
            id: None,
            reason: "storage throttled; resend this record".into(),
        }],
        registered: Some(registered()),
    };
    assert_valid(&Validator::new(), "BatchResponse", &response);
}

#[test]
fn model_request_and_response_match_schemas() {
    let validator = Validator::new();
    let request = RegisterModelRequest {
        task: "binary".into(),
        threshold: Some(0.5),
        classes: None,
        segments: Some(vec!["stage".into()]),
        reference: registered().reference,
    };
    assert_valid(&validator, "RegisterModelRequest", &request);
    let response = ModelResponse {
        model: "nba".into(),
        config: registered(),
        created: true,
    };
    assert_valid(&validator, "ModelResponse", &response);
    let plain = ModelResponse {
        model: "nba".into(),
        config: ModelConfig::new(Task::Binary),
        created: false,
    };
    assert_valid(&validator, "ModelResponse", &plain);
}

#[test]
fn monitor_rules_match_schema() {
    let validator = Validator::new();
    let request = MonitorsRequest {
        monitors: parse_monitors(&api_monitors()).unwrap(),
    };
    assert_valid(&validator, "MonitorsRequest", &request);
    let response = MonitorsResponse {
        model: "nba".into(),
        monitors: api_monitors(),
    };
    assert_valid(&validator, "MonitorsResponse", &response);
}

#[test]
fn error_body_matches_schema() {
    let response = ApiError::invalid(Some("task"), "unknown task").to_response();
    let body: Value = serde_json::from_str(&response.body).unwrap();
    assert_valid(&Validator::new(), "Error", &body);
}

#[test]
fn validator_rejects_wrong_values() {
    let validator = Validator::new();
    let mut record = serde_json::to_value(full_prediction()).unwrap();
    record["prediction"] = json!(true);
    assert!(!validator.check("PredictionRecord", &record).is_empty());
    assert!(!validator
        .check("BatchResponse", &json!({ "rejected": [], "failed": [] }))
        .is_empty());
    let rule = json!({ "name": "x", "kind": "volume", "window": "1h", "below": 1, "maxdrop": 0.1 });
    assert!(!validator.check("MonitorRule", &rule).is_empty());
    let bet = json!({ "side": 1, "odds": 1.0, "stake": 10 });
    assert!(!validator.check("Bet", &bet).is_empty());
}

fn property_names(validator: &Validator, schema: &str) -> BTreeSet<String> {
    validator.schema(schema)["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn every_monitor_field_is_documented() {
    let documented = property_names(&Validator::new(), "MonitorRule");
    let accepted: BTreeSet<String> = MONITOR_FIELDS.iter().map(|f| f.to_string()).collect();
    assert_eq!(documented, accepted);
}

#[test]
fn every_prediction_field_is_documented() {
    let documented = property_names(&Validator::new(), "PredictionRecord");
    let accepted: BTreeSet<String> = PREDICTION_FIELDS.iter().map(|f| f.to_string()).collect();
    assert_eq!(documented, accepted);
}

#[test]
fn documented_operations_are_the_served_routes() {
    let spec = spec();
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    // NOTE: add each router's route table here as it is written, so its paths are held too.
    let served: BTreeSet<(String, String)> = ingest::ROUTES
        .iter()
        .chain(query::ROUTES)
        .map(|route| (route.method.to_string(), route.pattern.to_string()))
        .collect();
    assert_eq!(documented, served);
}

/// A stored binary prediction with the given score, actual and latency.
fn stored_prediction(id: usize, score: f64, actual: Option<f64>) -> mpt_core::store::StoredPrediction {
    let at: chrono::DateTime<chrono::Utc> = "2023-06-12T17:00:00Z".parse().unwrap();
    mpt_core::store::StoredPrediction {
        id: format!("g-{id}"),
        version: "raptor".into(),
        timestamp: at,
        prediction: PredictionValue::Number(score),
        actual: actual.map(ActualValue::Number),
        actual_timestamp: actual.map(|_| at + chrono::TimeDelta::hours(3)),
        latency_ms: Some(10.0 + id as f64),
        segment: BTreeMap::new(),
        features: BTreeMap::new(),
        bet: None,
        content_hash: String::new(),
        stored_at: at,
    }
}

/// A snapshot computed the way the metrics endpoint computes one, with defined and undefined
/// metrics, latency and label delay.
fn computed_snapshot() -> mpt_core::snapshot::Snapshot {
    use mpt_core::{
        aggregate::Aggregate,
        compute::{build_snapshot, SnapshotScope},
    };
    let mut aggregate = Aggregate::empty(&ModelConfig::new(Task::Binary)).unwrap();
    for (id, (score, actual)) in [(0.9, Some(1.0)), (0.3, Some(0.0)), (0.6, Some(0.0)), (0.7, None)]
        .into_iter()
        .enumerate()
    {
        aggregate.fold(&stored_prediction(id, score, actual));
    }
    let scope = SnapshotScope {
        model: "nba".into(),
        version: "raptor".into(),
        window: "1d".parse().unwrap(),
        segment: None,
        start: "2023-06-12T00:00:00Z".parse().unwrap(),
        end: "2023-06-13T00:00:00Z".parse().unwrap(),
    };
    build_snapshot(scope, &aggregate, None)
}

#[test]
fn models_response_matches_schema() {
    let response = query::ModelsResponse {
        models: vec![query::ModelSummary {
            model: "nba".into(),
            config: registered(),
            predictions: 12,
            first_prediction_at: Some("2023-06-01T00:00:00Z".parse().unwrap()),
            last_prediction_at: Some("2023-06-12T00:00:00Z".parse().unwrap()),
            versions: vec![query::VersionInfo {
                version: "raptor".into(),
                predictions: 12,
                first_prediction_at: "2023-06-01T00:00:00Z".parse().unwrap(),
                last_prediction_at: "2023-06-12T00:00:00Z".parse().unwrap(),
            }],
        }],
    };
    assert_valid(&Validator::new(), "ModelsResponse", &response);
}

#[test]
fn metrics_response_matches_schema() {
    let snapshot = computed_snapshot();
    assert!(
        !snapshot.reasons.is_empty(),
        "the example should hold an undefined metric"
    );
    let response = query::MetricsResponse {
        snapshot,
        source: query::Source::Computed,
    };
    assert_valid(&Validator::new(), "MetricsResponse", &response);
}

#[test]
fn history_response_matches_schema() {
    let response = query::HistoryResponse {
        model: "nba".into(),
        version: "raptor".into(),
        window: "1d".parse().unwrap(),
        metric: "roc_auc".into(),
        segment: Some("stage:finals".into()),
        points: vec![
            query::HistoryPoint {
                end: "2023-06-12T00:00:00Z".parse().unwrap(),
                value: Some(0.7),
                labelled: 14,
                reason: None,
            },
            query::HistoryPoint {
                end: "2023-06-13T00:00:00Z".parse().unwrap(),
                value: None,
                labelled: 0,
                reason: Some("no labelled predictions in the window".into()),
            },
        ],
        next: Some("token".into()),
    };
    assert_valid(&Validator::new(), "HistoryResponse", &response);
}

#[test]
fn comparison_response_matches_schema() {
    use mpt_core::compare::{compare_binary, compare_values, BinaryPair};
    let pairs: Vec<BinaryPair> = (0..40)
        .map(|i| BinaryPair {
            baseline: (i % 10) as f64 / 10.0,
            candidate: ((i * 7) % 10) as f64 / 10.0,
            actual: i % 3 == 0,
        })
        .collect();
    let mut metrics = compare_binary(&pairs, 0.5);
    metrics.insert("mae".into(), compare_values(Some(1.0), None, [10, 0]));
    let response = query::ComparisonResponse {
        model: "nba".into(),
        baseline: "elo".into(),
        candidate: "raptor".into(),
        window: "30d".parse().unwrap(),
        start: "2023-05-13T00:00:00Z".parse().unwrap(),
        end: "2023-06-12T00:00:00Z".parse().unwrap(),
        paired: true,
        shared_ids: 40,
        shared_labelled: 40,
        paired_cap: query::PAIRED_CAP,
        unpaired_reason: None,
        metrics,
    };
    assert_valid(&Validator::new(), "ComparisonResponse", &response);
}

#[test]
fn monitors_view_matches_schema() {
    let view = query::MonitorsView {
        model: "nba".into(),
        source: "model",
        monitors: api_monitors(),
    };
    assert_valid(&Validator::new(), "MonitorsView", &view);
}

#[test]
fn alerts_response_matches_schema() {
    use mpt_core::alert::{
        report::{current_states, AlertRecord, AlertsResponse},
        state::{MonitorState, Severity, Status, Transition},
        store::StoredState,
    };
    let record = AlertRecord {
        monitor: "auc-drop".into(),
        version: "raptor".into(),
        state: "firing".into(),
        transition: Transition::Fired,
        severity: Severity::Critical,
        at: "2023-06-12T00:00:00Z".parse().unwrap(),
        metric: "roc_auc".into(),
        window: "1d".parse().unwrap(),
        value: Some(0.61),
        baseline: Some(0.7),
        p_value: Some(0.001),
        samples: (410, Some(8800)),
        subject: "auc-drop firing".into(),
        message_id: Some("m-1".into()),
    };
    let firing = StoredState {
        state: MonitorState {
            status: Status::Firing,
            severity: Some(Severity::Critical),
            since: Some("2023-06-12T00:00:00Z".parse().unwrap()),
            ..MonitorState::default()
        },
        ..StoredState::default()
    };
    let states = vec![
        ("auc-drop".to_string(), "raptor".to_string(), firing),
        ("auc-drop".to_string(), "elo".to_string(), StoredState::default()),
    ];
    let response = AlertsResponse {
        alerts: vec![record],
        current: current_states(states),
        next: None,
    };
    assert_valid(&Validator::new(), "AlertsResponse", &response);
}
