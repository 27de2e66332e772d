use serde_json::json;

use super::*;

fn now() -> DateTime<Utc> {
    "2023-06-12T18:00:00Z".parse().unwrap()
}

fn record() -> Value {
    json!({ "id": "2023-06-12-DEN-MIA", "version": "raptor", "timestamp": "2023-06-12T17:00:00Z",
            "prediction": 0.64, "actual": 1, "latency_ms": 12.5,
            "segment": { "stage": "finals" }, "features": { "elo_diff": 35.2 },
            "bet": { "side": 1, "odds": 1.85, "stake": 10.0 } })
}

fn with(field: &str, value: Value) -> Value {
    let mut record = record();
    record[field] = value;
    record
}

fn error_field(value: Value) -> String {
    parse_prediction(&value, now()).unwrap_err().field
}

fn binary() -> ModelConfig {
    ModelConfig::new(Task::Binary)
}

#[test]
fn prediction_api_example_parses() {
    let parsed = parse_prediction(&record(), now()).unwrap();
    assert_eq!(parsed.id, "2023-06-12-DEN-MIA");
    assert_eq!(parsed.prediction, PredictionValue::Number(0.64));
    assert_eq!(parsed.segment.unwrap()["stage"], "finals");
}

#[test]
fn prediction_missing_id_is_rejected() {
    let mut value = record();
    value.as_object_mut().unwrap().remove("id");
    assert_eq!(error_field(value), "id");
}

#[test]
fn prediction_numeric_id_is_rejected() {
    assert_eq!(error_field(with("id", json!(7))), "id");
}

#[test]
fn prediction_long_id_is_rejected() {
    let error = parse_prediction(&with("id", json!("x".repeat(257))), now()).unwrap_err();
    assert!(error.reason.contains("256 bytes"));
}

#[test]
fn prediction_control_character_in_version_is_rejected() {
    let error = parse_prediction(&with("version", json!("v\u{7}1")), now()).unwrap_err();
    assert_eq!(error.field, "version");
    assert!(error.reason.contains("control"));
}

#[test]
fn prediction_timestamp_without_offset_is_rejected() {
    let error = parse_prediction(&with("timestamp", json!("2023-06-12T17:00:00")), now()).unwrap_err();
    assert!(error.reason.contains("RFC 3339"));
}

#[test]
fn prediction_timestamp_two_days_ahead_is_rejected() {
    let error = parse_prediction(&with("timestamp", json!("2023-06-14T18:00:01Z")), now()).unwrap_err();
    assert!(error.reason.contains("1 day"));
}

#[test]
fn prediction_timestamp_within_skew_is_accepted() {
    assert!(parse_prediction(&with("timestamp", json!("2023-06-13T17:59:59+00:00")), now()).is_ok());
}

#[test]
fn prediction_offset_timestamp_converts_to_utc() {
    let parsed = parse_prediction(&with("timestamp", json!("2023-06-12T19:00:00+02:00")), now()).unwrap();
    assert_eq!(
        parsed.timestamp,
        "2023-06-12T17:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
}

#[test]
fn prediction_boolean_is_rejected() {
    assert_eq!(error_field(with("prediction", json!(true))), "prediction");
}

#[test]
fn prediction_probabilities_must_sum_to_one() {
    let error = parse_prediction(&with("prediction", json!({"H": 0.5, "A": 0.6})), now()).unwrap_err();
    assert!(error.reason.contains("sum to 1"));
}

#[test]
fn prediction_probabilities_within_tolerance_are_accepted() {
    assert!(parse_prediction(&with("prediction", json!({"H": 0.5, "D": 0.3, "A": 0.2005})), now()).is_ok());
}

#[test]
fn prediction_probability_above_one_names_class() {
    let error = parse_prediction(&with("prediction", json!({"H": 0.5, "A": 1.5})), now()).unwrap_err();
    assert_eq!(error.field, "prediction.A");
}

#[test]
fn prediction_negative_latency_is_rejected() {
    assert_eq!(error_field(with("latency_ms", json!(-1))), "latency_ms");
}

#[test]
fn prediction_too_many_segment_tags_are_rejected() {
    let tags: Map<String, Value> = (0..11).map(|i| (format!("k{i}"), json!("v"))).collect();
    assert_eq!(error_field(with("segment", Value::Object(tags))), "segment");
}

#[test]
fn prediction_long_segment_key_is_rejected() {
    let key = "k".repeat(65);
    assert_eq!(
        error_field(with("segment", json!({ key.clone(): "v" }))),
        format!("segment.{key}")
    );
}

#[test]
fn prediction_long_segment_value_is_rejected() {
    assert_eq!(
        error_field(with("segment", json!({ "stage": "v".repeat(257) }))),
        "segment.stage"
    );
}

#[test]
fn prediction_numeric_segment_value_is_rejected() {
    assert_eq!(error_field(with("segment", json!({ "stage": 3 }))), "segment.stage");
}

#[test]
fn prediction_too_many_features_are_rejected() {
    let features: Map<String, Value> = (0..51).map(|i| (format!("f{i}"), json!(1.0))).collect();
    assert_eq!(error_field(with("features", Value::Object(features))), "features");
}

#[test]
fn prediction_string_feature_is_rejected() {
    assert_eq!(
        error_field(with("features", json!({ "elo_diff": "35" }))),
        "features.elo_diff"
    );
}

#[test]
fn prediction_huge_feature_is_rejected() {
    assert_eq!(error_field(with("features", json!({ "x": 1e200 }))), "features.x");
}

#[test]
fn prediction_bet_odds_at_one_are_rejected() {
    assert_eq!(
        error_field(with("bet", json!({ "side": 1, "odds": 1.0, "stake": 10 }))),
        "bet.odds"
    );
}

#[test]
fn prediction_bet_zero_stake_is_rejected() {
    assert_eq!(
        error_field(with("bet", json!({ "side": 1, "odds": 2.0, "stake": 0 }))),
        "bet.stake"
    );
}

#[test]
fn prediction_bet_missing_side_is_rejected() {
    assert_eq!(error_field(with("bet", json!({ "odds": 2.0, "stake": 1 }))), "bet.side");
}

#[test]
fn prediction_unknown_field_is_rejected() {
    assert_eq!(error_field(with("predicton", json!(0.5))), "predicton");
}

#[test]
fn prediction_null_optional_fields_are_absent() {
    let parsed = parse_prediction(&with("actual", Value::Null), now()).unwrap();
    assert_eq!(parsed.actual, None);
}

#[test]
fn binary_prediction_above_one_is_rejected() {
    let mut parsed = parse_prediction(&record(), now()).unwrap();
    parsed.prediction = PredictionValue::Number(1.7);
    let error = check_prediction(&parsed, &binary()).unwrap_err();
    assert_eq!(error.reason, "must be a probability in [0, 1], got 1.7");
}

#[test]
fn binary_actual_two_is_rejected() {
    let mut parsed = parse_prediction(&record(), now()).unwrap();
    parsed.actual = Some(ActualValue::Number(2.0));
    assert_eq!(check_prediction(&parsed, &binary()).unwrap_err().field, "actual");
}

#[test]
fn binary_actual_true_is_accepted() {
    let mut parsed = parse_prediction(&record(), now()).unwrap();
    parsed.actual = Some(ActualValue::Bool(true));
    assert!(check_prediction(&parsed, &binary()).is_ok());
}

#[test]
fn regression_bet_is_rejected() {
    let parsed = parse_prediction(&with("actual", json!(3.5)), now()).unwrap();
    let error = check_prediction(&parsed, &ModelConfig::new(Task::Regression)).unwrap_err();
    assert_eq!(error.field, "bet");
}

#[test]
fn multiclass_probabilities_must_match_classes() {
    let mut config = ModelConfig::new(Task::Multiclass);
    config.classes = Some(vec!["A".into(), "D".into(), "H".into()]);
    let mut value = with("prediction", json!({"H": 0.5, "X": 0.5}));
    value["actual"] = json!("H");
    value["bet"] = json!({ "side": "H", "odds": 2.1, "stake": 5 });
    let parsed = parse_prediction(&value, now()).unwrap();
    let error = check_prediction(&parsed, &config).unwrap_err();
    assert!(error.reason.contains("[A, D, H]"));
}

#[test]
fn multiclass_unknown_actual_label_is_rejected() {
    let mut config = ModelConfig::new(Task::Multiclass);
    config.classes = Some(vec!["A".into(), "H".into()]);
    let mut value = with("prediction", json!("H"));
    value["actual"] = json!("D");
    value.as_object_mut().unwrap().remove("bet");
    let parsed = parse_prediction(&value, now()).unwrap();
    assert_eq!(check_prediction(&parsed, &config).unwrap_err().field, "actual");
}

#[test]
fn infer_probabilities_make_binary() {
    let a = parse_prediction(&record(), now()).unwrap();
    assert_eq!(infer_config(&[&a]).unwrap().task, Task::Binary);
}

#[test]
fn infer_number_above_one_makes_regression() {
    let a = parse_prediction(&record(), now()).unwrap();
    let b = parse_prediction(&with("prediction", json!(250.0)), now()).unwrap();
    assert_eq!(infer_config(&[&a, &b]).unwrap().task, Task::Regression);
}

#[test]
fn infer_probability_map_sets_classes() {
    let a = parse_prediction(&with("prediction", json!({"H": 0.5, "D": 0.3, "A": 0.2})), now()).unwrap();
    let config = infer_config(&[&a]).unwrap();
    assert_eq!(
        config.classes,
        Some(vec!["A".to_string(), "D".to_string(), "H".to_string()])
    );
}

#[test]
fn actual_record_parses_without_timestamp() {
    let parsed = parse_actual(&json!({ "id": "g-1", "actual": true }), now()).unwrap();
    assert_eq!(parsed.actual, ActualValue::Bool(true));
    assert_eq!(parsed.timestamp, None);
}

#[test]
fn actual_record_array_value_is_rejected() {
    let error = parse_actual(&json!({ "id": "g-1", "actual": [1] }), now()).unwrap_err();
    assert_eq!(error.field, "actual");
}

#[test]
fn body_non_utf8_is_rejected() {
    let error = parse_body(b"{\"model\": \"m\xff\"}").unwrap_err();
    assert!(error.detail.contains("UTF-8"));
}

#[test]
fn body_nan_is_rejected_as_invalid_json() {
    let error = parse_body(br#"{"model": "m", "predictions": [{"prediction": NaN}]}"#).unwrap_err();
    assert!(error.detail.contains("NaN"));
}

#[test]
fn body_over_one_mebibyte_is_too_large() {
    let error = parse_body(&vec![b' '; MAX_BODY_BYTES + 1]).unwrap_err();
    assert_eq!(error.status, 413);
}

#[test]
fn batch_empty_list_is_rejected() {
    let body = parse_body(br#"{"model": "m", "predictions": []}"#).unwrap();
    let error = parse_batch(&body, "predictions").unwrap_err();
    assert_eq!(error.field.as_deref(), Some("predictions"));
}

#[test]
fn batch_over_limit_is_rejected() {
    let records: Vec<Value> = (0..1_001).map(|_| json!({})).collect();
    let body = json!({ "model": "m", "predictions": records });
    let error = parse_batch(body.as_object().unwrap(), "predictions").unwrap_err();
    assert!(error.detail.contains("1000"));
}

#[test]
fn batch_bad_model_name_is_rejected() {
    let body = json!({ "model": "nba/game", "predictions": [{}] });
    let error = parse_batch(body.as_object().unwrap(), "predictions").unwrap_err();
    assert_eq!(error.field.as_deref(), Some("model"));
}

#[test]
fn model_name_accepts_allowed_characters() {
    assert!(is_model_name("nba-game_predictor.v2"));
    assert!(!is_model_name(""));
    assert!(!is_model_name(&"m".repeat(129)));
    assert!(!is_model_name("nba game"));
}

#[test]
fn model_config_unknown_task_names_accepted_tasks() {
    let error = parse_model_config(json!({ "task": "ranking" }).as_object().unwrap()).unwrap_err();
    assert!(error.reason.contains("binary, multiclass or regression"));
}

#[test]
fn model_config_api_example_parses() {
    let body = json!({ "task": "binary", "threshold": 0.5, "classes": null, "segments": ["stage"],
                       "reference": { "from": "2022-10-18T00:00:00Z", "to": "2023-04-10T00:00:00Z" } });
    let config = parse_model_config(body.as_object().unwrap()).unwrap();
    assert_eq!(config.segments, vec!["stage".to_string()]);
    assert!(config.reference.is_some());
}

#[test]
fn model_config_reversed_reference_is_rejected() {
    let body = json!({ "task": "binary",
                       "reference": { "from": "2023-04-10T00:00:00Z", "to": "2022-10-18T00:00:00Z" } });
    assert_eq!(
        parse_model_config(body.as_object().unwrap()).unwrap_err().field,
        "reference"
    );
}

#[test]
fn model_config_classes_on_binary_are_rejected() {
    let body = json!({ "task": "binary", "classes": ["a", "b"] });
    assert_eq!(
        parse_model_config(body.as_object().unwrap()).unwrap_err().field,
        "classes"
    );
}
