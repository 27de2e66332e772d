//! The write API against the emulator: the response to each request and the items it stores.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use chrono::{DateTime, Utc};
use mpt_core::{
    http::{Request, Response},
    ingest::{self, Context},
    store::{
        item::{decode_prediction, Item},
        keys, Key, StoredPrediction,
    },
    ActualValue, PredictionValue, Store, Task,
};
use mpt_tests::{context_at, fresh_store};
use serde_json::{json, Value};

fn now() -> DateTime<Utc> {
    "2023-06-13T12:00:00Z".parse().unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

async fn setup() -> (Store, Context) {
    let store = fresh_store().await;
    let context = context_at(&store, now());
    (store, context)
}

async fn send_bytes(context: &Context, method: &str, path: &str, body: &[u8]) -> (u16, Value, Response) {
    let response = ingest::route(
        context,
        &Request {
            method,
            path,
            query: None,
            body,
        },
    )
    .await;
    let value: Value = serde_json::from_str(&response.body).unwrap();
    (response.status, value, response)
}

async fn send(context: &Context, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let (status, value, _) = send_bytes(context, method, path, body.to_string().as_bytes()).await;
    (status, value)
}

async fn post_predictions(context: &Context, model: &str, predictions: Value) -> (u16, Value) {
    send(
        context,
        "POST",
        "/v1/predictions",
        &json!({ "model": model, "predictions": predictions }),
    )
    .await
}

async fn post_actuals(context: &Context, model: &str, actuals: Value) -> (u16, Value) {
    send(
        context,
        "POST",
        "/v1/actuals",
        &json!({ "model": model, "actuals": actuals }),
    )
    .await
}

fn game(id: &str, version: &str, hour: u32, prediction: f64) -> Value {
    json!({ "id": id, "version": version, "timestamp": format!("2023-06-12T{hour:02}:15:00Z"),
            "prediction": prediction })
}

async fn item(store: &Store, pk: String, sk: String) -> Option<Item> {
    store
        .client()
        .get_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(pk))
        .key("sk", AttributeValue::S(sk))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

async fn prediction(store: &Store, model: &str, id: &str, version: &str) -> StoredPrediction {
    let item = item(store, keys::prediction_pk(model, id), keys::prediction_sk(version))
        .await
        .unwrap_or_else(|| panic!("prediction {id}/{version} is not stored"));
    decode_prediction(&item).unwrap()
}

fn rejected_fields(body: &Value) -> Vec<(u64, String)> {
    body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["field"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn predictions_api_example_is_stored() {
    let (store, context) = setup().await;
    let example = json!([{ "id": "2023-06-12-DEN-MIA", "version": "raptor", "timestamp": "2023-06-12T17:00:00Z",
        "prediction": 0.64, "actual": 1, "latency_ms": 12.5,
        "segment": { "stage": "finals" }, "features": { "elo_diff": 35.2 },
        "bet": { "side": 1, "odds": 1.85, "stake": 10.0 } }]);
    let (status, body) = post_predictions(&context, "nba", example).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stored"], 1);
    assert_eq!(body["rejected"], json!([]));
    assert_eq!(body["failed"], json!([]));

    let stored = prediction(&store, "nba", "2023-06-12-DEN-MIA", "raptor").await;
    assert_eq!(stored.prediction, PredictionValue::Number(0.64));
    assert_eq!(stored.actual, Some(ActualValue::Number(1.0)));
    assert_eq!(stored.segment["stage"], "finals");
    assert_eq!(stored.features["elo_diff"], 35.2);
    assert_eq!(stored.bet.as_ref().unwrap().odds, 1.85);
    assert_eq!(stored.latency_ms, Some(12.5));
}

#[tokio::test]
async fn predictions_register_binary_model_on_first_use() {
    let (store, context) = setup().await;
    let (status, body) = post_predictions(&context, "nba", json!([game("g-1", "v1", 17, 0.3)])).await;
    assert_eq!(status, 200);
    assert_eq!(body["registered"]["task"], "binary");
    assert_eq!(body["registered"]["threshold"], 0.5);
    assert_eq!(store.get_model("nba").await.unwrap().unwrap().task, Task::Binary);
}

#[tokio::test]
async fn predictions_register_regression_when_a_number_exceeds_one() {
    let (store, context) = setup().await;
    let batch = json!([game("g-1", "v1", 17, 0.3), game("g-2", "v1", 17, 212.5)]);
    let (_, body) = post_predictions(&context, "points", batch).await;
    assert_eq!(body["registered"]["task"], "regression");
    assert_eq!(store.get_model("points").await.unwrap().unwrap().task, Task::Regression);
}

#[tokio::test]
async fn predictions_register_multiclass_with_classes() {
    let (store, context) = setup().await;
    let record = json!({ "id": "g-1", "version": "v1", "timestamp": "2023-06-12T17:00:00Z",
                         "prediction": { "H": 0.5, "D": 0.3, "A": 0.2 }, "actual": "H" });
    let (status, body) = post_predictions(&context, "soccer", json!([record])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["registered"]["classes"], json!(["A", "D", "H"]));
    let config = store.get_model("soccer").await.unwrap().unwrap();
    assert_eq!(config.task, Task::Multiclass);
}

#[tokio::test]
async fn predictions_second_batch_reports_no_registration() {
    let (_, context) = setup().await;
    post_predictions(&context, "nba", json!([game("g-1", "v1", 17, 0.3)])).await;
    let (_, body) = post_predictions(&context, "nba", json!([game("g-2", "v1", 17, 0.4)])).await;
    assert!(body.get("registered").is_none(), "{body}");
}

#[tokio::test]
async fn predictions_are_indexed_by_hour_and_marked_dirty() {
    let (store, context) = setup().await;
    let batch: Vec<Value> = (0..20).map(|i| game(&format!("g-{i}"), "v1", 17, 0.5)).collect();
    let (status, _) = post_predictions(&context, "nba", json!(batch)).await;
    assert_eq!(status, 200);

    let hour = store.read_hour("nba", "v1", at("2023-06-12T17:00:00Z")).await.unwrap();
    assert_eq!(hour.len(), 20);
    let other_hour = store.read_hour("nba", "v1", at("2023-06-12T18:00:00Z")).await.unwrap();
    assert!(other_hour.is_empty());

    let dirty = store.dirty_hours("nba").await.unwrap();
    assert_eq!(dirty.len(), 1);
    assert_eq!(dirty[0].version, "v1");
    assert_eq!(dirty[0].hour, at("2023-06-12T17:00:00Z"));
}

#[tokio::test]
async fn predictions_update_version_summaries() {
    let (store, context) = setup().await;
    post_predictions(
        &context,
        "nba",
        json!([game("g-1", "v1", 17, 0.3), game("g-2", "v1", 19, 0.3)]),
    )
    .await;
    // A backfill of an earlier hour widens the range through the read-then-update path.
    post_predictions(
        &context,
        "nba",
        json!([game("g-0", "v1", 3, 0.3), game("g-9", "v2", 5, 0.3)]),
    )
    .await;

    let versions = store.list_versions("nba").await.unwrap();
    let v1 = versions.iter().find(|v| v.version == "v1").unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(v1.predictions, 3);
    assert_eq!(v1.first_at, at("2023-06-12T03:15:00Z"));
    assert_eq!(v1.last_at, at("2023-06-12T19:15:00Z"));
}

#[tokio::test]
async fn list_models_returns_registrations() {
    let (store, context) = setup().await;
    post_predictions(&context, "nba", json!([game("g-1", "v1", 17, 0.3)])).await;
    post_predictions(&context, "points", json!([game("g-1", "v1", 17, 99.0)])).await;
    let models = store.list_models().await.unwrap();
    let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, vec!["nba", "points"]);
}

#[tokio::test]
async fn actual_after_prediction_is_joined_and_marks_hour() {
    let (store, context) = setup().await;
    post_predictions(
        &context,
        "nba",
        json!([game("g-1", "v1", 17, 0.7), game("g-1", "v2", 18, 0.6)]),
    )
    .await;
    for marker in store.dirty_hours("nba").await.unwrap() {
        assert!(store.clear_dirty("nba", &marker).await.unwrap());
    }

    let (status, body) = post_actuals(
        &context,
        "nba",
        json!([{ "id": "g-1", "actual": true, "timestamp": "2023-06-13T06:00:00Z" }]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for version in ["v1", "v2"] {
        let stored = prediction(&store, "nba", "g-1", version).await;
        assert_eq!(stored.actual, Some(ActualValue::Number(1.0)), "{version}");
        assert_eq!(stored.actual_timestamp, Some(at("2023-06-13T06:00:00Z")), "{version}");
    }
    let dirty: Vec<(String, DateTime<Utc>)> = store
        .dirty_hours("nba")
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.version, d.hour))
        .collect();
    assert_eq!(
        dirty,
        vec![
            ("v1".to_string(), at("2023-06-12T17:00:00Z")),
            ("v2".to_string(), at("2023-06-12T18:00:00Z"))
        ]
    );
}

#[tokio::test]
async fn actual_before_prediction_is_joined() {
    let (store, context) = setup().await;
    let (status, body) = post_actuals(&context, "nba", json!([{ "id": "g-1", "actual": 0 }])).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = post_predictions(&context, "nba", json!([game("g-1", "v1", 17, 0.7)])).await;
    assert_eq!(status, 200);
    let stored = prediction(&store, "nba", "g-1", "v1").await;
    assert_eq!(stored.actual, Some(ActualValue::Number(0.0)));
    assert_eq!(stored.actual_timestamp, Some(now()));
}

#[tokio::test]
async fn join_gives_same_item_in_any_order() {
    let (store, context) = setup().await;
    let record = game("g-1", "v1", 17, 0.7);
    let actual = json!([{ "id": "g-1", "actual": 1, "timestamp": "2023-06-13T06:00:00Z" }]);

    post_predictions(&context, "first", json!([record])).await;
    post_actuals(&context, "first", actual.clone()).await;
    post_actuals(&context, "second", actual).await;
    post_predictions(&context, "second", json!([record])).await;
    let mut inline = record.clone();
    inline["actual"] = json!(1);
    post_predictions(&context, "inline", json!([inline])).await;

    let first = prediction(&store, "first", "g-1", "v1").await;
    let second = prediction(&store, "second", "g-1", "v1").await;
    let inline = prediction(&store, "inline", "g-1", "v1").await;
    assert_eq!(first.actual, second.actual);
    assert_eq!(first.actual_timestamp, second.actual_timestamp);
    assert_eq!(first.content_hash, second.content_hash);
    assert_eq!(inline.actual, first.actual);
}

#[tokio::test]
async fn inline_actual_reaches_other_versions() {
    let (store, context) = setup().await;
    post_predictions(&context, "nba", json!([game("g-1", "elo", 17, 0.4)])).await;
    let mut with_actual = game("g-1", "raptor", 17, 0.7);
    with_actual["actual"] = json!(false);
    let (status, body) = post_predictions(&context, "nba", json!([with_actual])).await;
    assert_eq!(status, 200, "{body}");
    let elo = prediction(&store, "nba", "g-1", "elo").await;
    assert_eq!(elo.actual, Some(ActualValue::Number(0.0)));
    let actual = item(&store, keys::prediction_pk("nba", "g-1"), keys::ACTUAL_SK.to_string()).await;
    assert!(actual.is_some());
}

#[tokio::test]
async fn identical_resend_counts_as_stored_and_changes_nothing() {
    let (store, context) = setup().await;
    let batch = json!([game("g-1", "v1", 17, 0.7), game("g-2", "v1", 17, 0.2)]);
    post_predictions(&context, "nba", batch.clone()).await;
    let before = item(&store, keys::prediction_pk("nba", "g-1"), keys::prediction_sk("v1")).await;

    let later = context_at(&store, at("2023-06-13T13:00:00Z"));
    let (status, body) = post_predictions(&later, "nba", batch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stored"], 2);
    let after = item(&store, keys::prediction_pk("nba", "g-1"), keys::prediction_sk("v1")).await;
    assert_eq!(before, after);
    let versions = store.list_versions("nba").await.unwrap();
    assert_eq!(versions[0].predictions, 2);
}

#[tokio::test]
async fn identical_actual_resend_counts_as_stored() {
    let (_, context) = setup().await;
    let actual = json!([{ "id": "g-1", "actual": 1 }]);
    post_actuals(&context, "nba", actual.clone()).await;
    let (status, body) = post_actuals(&context, "nba", json!([{ "id": "g-1", "actual": true }])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["stored"], 1);
}

#[tokio::test]
async fn changed_prediction_is_a_conflict_naming_field() {
    let (store, context) = setup().await;
    post_predictions(&context, "nba", json!([game("g-1", "v1", 17, 0.7)])).await;
    let (status, body) = post_predictions(
        &context,
        "nba",
        json!([game("g-1", "v1", 17, 0.8), game("g-2", "v1", 17, 0.1)]),
    )
    .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(body["stored"], 1);
    assert_eq!(rejected_fields(&body), vec![(0, "prediction".to_string())]);
    assert!(body["rejected"][0]["reason"].as_str().unwrap().contains("conflict"));
    assert_eq!(
        prediction(&store, "nba", "g-1", "v1").await.prediction,
        PredictionValue::Number(0.7)
    );
}

#[tokio::test]
async fn changed_timestamp_is_a_conflict_naming_field() {
    let (_, context) = setup().await;
    post_predictions(&context, "nba", json!([game("g-1", "v1", 17, 0.7)])).await;
    let (status, body) = post_predictions(&context, "nba", json!([game("g-1", "v1", 18, 0.7)])).await;
    assert_eq!(status, 400);
    assert_eq!(rejected_fields(&body), vec![(0, "timestamp".to_string())]);
}

#[tokio::test]
async fn different_actual_is_a_conflict() {
    let (store, context) = setup().await;
    post_predictions(&context, "nba", json!([game("g-1", "v1", 17, 0.7)])).await;
    post_actuals(&context, "nba", json!([{ "id": "g-1", "actual": 1 }])).await;
    let (status, body) = post_actuals(&context, "nba", json!([{ "id": "g-1", "actual": 0 }])).await;
    assert_eq!(status, 400);
    assert_eq!(rejected_fields(&body), vec![(0, "actual".to_string())]);
    assert!(body["rejected"][0]["reason"].as_str().unwrap().contains("conflict"));
    assert_eq!(
        prediction(&store, "nba", "g-1", "v1").await.actual,
        Some(ActualValue::Number(1.0))
    );
}

#[tokio::test]
async fn inline_actual_differing_from_stored_is_a_conflict() {
    let (_, context) = setup().await;
    post_actuals(&context, "nba", json!([{ "id": "g-1", "actual": 1 }])).await;
    let mut record = game("g-1", "v1", 17, 0.7);
    record["actual"] = json!(0);
    let (status, body) = post_predictions(&context, "nba", json!([record])).await;
    assert_eq!(status, 400);
    assert_eq!(rejected_fields(&body), vec![(0, "actual".to_string())]);
}

#[tokio::test]
async fn duplicate_in_batch_names_both_indexes() {
    let (_, context) = setup().await;
    let batch = json!([
        game("g-1", "v1", 17, 0.7),
        game("g-2", "v1", 17, 0.7),
        game("g-1", "v1", 17, 0.7)
    ]);
    let (status, body) = post_predictions(&context, "nba", batch).await;
    assert_eq!(status, 207);
    assert_eq!(body["stored"], 2);
    let reason = body["rejected"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("records 0 and 2"), "{reason}");
    assert!(reason.contains("conflict"), "{reason}");
}

#[tokio::test]
async fn duplicate_actual_in_batch_is_rejected() {
    let (_, context) = setup().await;
    let (status, body) = post_actuals(
        &context,
        "nba",
        json!([{ "id": "g-1", "actual": 1 }, { "id": "g-1", "actual": 1 }]),
    )
    .await;
    assert_eq!(status, 207);
    assert_eq!(rejected_fields(&body), vec![(1, "id".to_string())]);
}

#[tokio::test]
async fn malformed_json_is_a_bad_request() {
    let (_, context) = setup().await;
    let (status, body, _) = send_bytes(&context, "POST", "/v1/predictions", b"{\"model\": \"nba\", ").await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("not valid JSON"));
    assert!(body.get("error").is_some());
    assert!(body.get("field").is_some());
}

#[tokio::test]
async fn nan_literal_is_a_bad_request() {
    let (_, context) = setup().await;
    let text = br#"{"model": "nba", "predictions": [{"id": "g", "version": "v", "timestamp": "2023-06-12T17:00:00Z", "prediction": NaN}]}"#;
    let (status, body, _) = send_bytes(&context, "POST", "/v1/predictions", text).await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("NaN"));
}

#[tokio::test]
async fn non_utf8_body_is_a_bad_request() {
    let (_, context) = setup().await;
    let (status, body, _) = send_bytes(&context, "POST", "/v1/actuals", b"{\"model\": \"\xc3\x28\"}").await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("UTF-8"));
}

#[tokio::test]
async fn wrong_types_are_rejected_beside_valid_records() {
    let (store, context) = setup().await;
    let batch = json!([
        game("g-1", "v1", 17, 0.7),
        { "id": 7, "version": "v1", "timestamp": "2023-06-12T17:00:00Z", "prediction": 0.5 },
        { "id": "g-3", "version": "v1", "timestamp": 1686589200, "prediction": 0.5 },
        { "id": "g-4", "version": "v1", "timestamp": "2023-06-12T17:00:00Z", "prediction": [0.5] },
        "not an object"
    ]);
    let (status, body) = post_predictions(&context, "nba", batch).await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(body["stored"], 1);
    assert_eq!(
        rejected_fields(&body),
        vec![
            (1, "id".to_string()),
            (2, "timestamp".to_string()),
            (3, "prediction".to_string()),
            (4, "record".to_string())
        ]
    );
    assert_eq!(body["rejected"][2]["id"], "g-4");
    assert_eq!(
        store
            .read_hour("nba", "v1", at("2023-06-12T17:00:00Z"))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn binary_probability_outside_range_rejected() {
    let (_, context) = setup().await;
    post_predictions(&context, "nba", json!([game("g-1", "v1", 17, 0.7)])).await;
    let (status, body) = post_predictions(
        &context,
        "nba",
        json!([game("g-2", "v1", 17, 1.7), game("g-3", "v1", 17, -0.1)]),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["rejected"][0]["reason"],
        "must be a probability in [0, 1], got 1.7"
    );
    assert_eq!(body["rejected"][1]["field"], "prediction");
}

#[tokio::test]
async fn every_record_rejected_is_a_bad_request() {
    let (store, context) = setup().await;
    let (status, body) = post_predictions(&context, "nba", json!([{ "id": "g-1" }])).await;
    assert_eq!(status, 400);
    assert_eq!(body["stored"], 0);
    assert_eq!(store.get_model("nba").await.unwrap(), None);
}

#[tokio::test]
async fn future_timestamp_is_rejected() {
    let (_, context) = setup().await;
    let record = json!({ "id": "g-1", "version": "v1", "timestamp": "2023-06-14T12:00:01Z", "prediction": 0.5 });
    let (status, body) = post_predictions(&context, "nba", json!([record])).await;
    assert_eq!(status, 400);
    assert_eq!(rejected_fields(&body), vec![(0, "timestamp".to_string())]);
    let (status, _) = post_actuals(
        &context,
        "nba",
        json!([{ "id": "g-1", "actual": 1, "timestamp": "2023-06-15T00:00:00Z" }]),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn empty_batch_is_a_bad_request() {
    let (_, context) = setup().await;
    let (status, body) = post_predictions(&context, "nba", json!([])).await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "predictions");
}

#[tokio::test]
async fn batch_over_thousand_records_is_a_bad_request() {
    let (store, context) = setup().await;
    let batch: Vec<Value> = (0..1_001).map(|i| game(&format!("g-{i}"), "v1", 17, 0.5)).collect();
    let (status, body) = post_predictions(&context, "nba", json!(batch)).await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("1000"));
    assert_eq!(store.get_model("nba").await.unwrap(), None);
}

#[tokio::test]
async fn body_over_one_mebibyte_is_rejected() {
    let (_, context) = setup().await;
    let padding = "x".repeat(1_048_576);
    let (status, body) = send(
        &context,
        "POST",
        "/v1/predictions",
        &json!({ "model": "nba", "pad": padding }),
    )
    .await;
    assert_eq!(status, 413);
    assert!(body["detail"].as_str().unwrap().contains("1048576"));
}

#[tokio::test]
async fn oversized_id_is_rejected() {
    let (_, context) = setup().await;
    let (status, body) = post_predictions(&context, "nba", json!([game(&"g".repeat(257), "v1", 17, 0.5)])).await;
    assert_eq!(status, 400);
    assert!(body["rejected"][0]["reason"].as_str().unwrap().contains("256 bytes"));
}

#[tokio::test]
async fn control_character_in_model_name_is_rejected() {
    let (_, context) = setup().await;
    let (status, body) = post_predictions(&context, "nba\u{1}", json!([game("g-1", "v1", 17, 0.5)])).await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "model");
    let (status, _) = send(&context, "PUT", "/v1/models/nba%01", &json!({ "task": "binary" })).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn control_character_in_id_is_rejected() {
    let (_, context) = setup().await;
    let (status, body) = post_predictions(&context, "nba", json!([game("g\n1", "v1", 17, 0.5)])).await;
    assert_eq!(status, 400);
    assert!(body["rejected"][0]["reason"].as_str().unwrap().contains("control"));
}

#[tokio::test]
async fn ttl_counts_retention_from_storage_time() {
    let (store, context) = setup().await;
    let mut record = game("g-1", "v1", 3, 0.5);
    record["actual"] = json!(1);
    post_predictions(&context, "nba", json!([record])).await;
    let expected = (now().timestamp() + 400 * 86_400).to_string();

    let prediction = item(&store, keys::prediction_pk("nba", "g-1"), keys::prediction_sk("v1"))
        .await
        .unwrap();
    assert_eq!(prediction["expires_at"], AttributeValue::N(expected.clone()));
    let actual = item(&store, keys::prediction_pk("nba", "g-1"), keys::ACTUAL_SK.into())
        .await
        .unwrap();
    assert_eq!(actual["expires_at"], AttributeValue::N(expected));
    let config = item(&store, keys::model_pk("nba"), keys::CONFIG_SK.into())
        .await
        .unwrap();
    assert!(!config.contains_key("expires_at"));
}

#[tokio::test]
async fn table_creation_sets_ttl_and_index() {
    let (store, _) = setup().await;
    assert!(!store.create_table_if_missing().await.unwrap());
    let ttl = store
        .client()
        .describe_time_to_live()
        .table_name(store.table())
        .send()
        .await
        .unwrap();
    let description = ttl.time_to_live_description().unwrap();
    assert_eq!(description.attribute_name(), Some("expires_at"));
    assert_eq!(description.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    let table = store
        .client()
        .describe_table()
        .table_name(store.table())
        .send()
        .await
        .unwrap();
    let indexes = table.table().unwrap().global_secondary_indexes();
    assert_eq!(indexes[0].index_name(), Some("gsi1"));
}

#[tokio::test]
async fn register_model_creates_then_updates() {
    let (store, context) = setup().await;
    let body = json!({ "task": "binary", "threshold": 0.6, "classes": null, "segments": ["stage"],
                       "reference": { "from": "2022-10-18T00:00:00Z", "to": "2023-04-10T00:00:00Z" } });
    let (status, response) = send(&context, "PUT", "/v1/models/nba", &body).await;
    assert_eq!(status, 201, "{response}");
    assert_eq!(response["created"], true);
    let (status, response) = send(&context, "PUT", "/v1/models/nba", &json!({ "task": "binary" })).await;
    assert_eq!(status, 200);
    assert_eq!(response["created"], false);
    let config = store.get_model("nba").await.unwrap().unwrap();
    assert_eq!(config.threshold, 0.5);
}

#[tokio::test]
async fn register_model_unknown_task_names_accepted_tasks() {
    let (_, context) = setup().await;
    let (status, body) = send(&context, "PUT", "/v1/models/nba", &json!({ "task": "ranking" })).await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "task");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("binary, multiclass or regression"));
}

#[tokio::test]
async fn register_model_task_change_is_a_conflict() {
    let (_, context) = setup().await;
    send(&context, "PUT", "/v1/models/nba", &json!({ "task": "binary" })).await;
    let (status, body) = send(&context, "PUT", "/v1/models/nba", &json!({ "task": "regression" })).await;
    assert_eq!(status, 409);
    assert_eq!(body["field"], "task");
}

#[tokio::test]
async fn explicit_registration_decides_task() {
    let (_, context) = setup().await;
    send(&context, "PUT", "/v1/models/points", &json!({ "task": "regression" })).await;
    let (status, body) = post_predictions(&context, "points", json!([game("g-1", "v1", 17, 0.5)])).await;
    assert_eq!(status, 200);
    assert!(body.get("registered").is_none());
}

#[tokio::test]
async fn monitors_are_stored_faithfully() {
    let (store, context) = setup().await;
    send(&context, "PUT", "/v1/models/nba", &json!({ "task": "binary" })).await;
    let rules = json!([
        { "name": "auc-drop", "kind": "relative_drop", "metric": "roc_auc", "window": "1d",
          "baseline": { "window": "30d" }, "max_drop": 0.05,
          "min_samples": 200, "alpha": 0.05, "consecutive": 2, "cooldown": "6h" },
        { "name": "silence", "kind": "volume", "window": "1h", "below": 1 }
    ]);
    let (status, body) = send(
        &context,
        "PUT",
        "/v1/models/nba/monitors",
        &json!({ "monitors": rules }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["monitors"], rules);
    let stored = store.get_monitors("nba").await.unwrap().unwrap();
    assert_eq!(stored.json, rules);
    assert_eq!(stored.rules.len(), 2);
}

#[tokio::test]
async fn monitors_for_unknown_model_are_not_found() {
    let (_, context) = setup().await;
    let (status, _) = send(&context, "PUT", "/v1/models/ghost/monitors", &json!({ "monitors": [] })).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn invalid_monitor_names_rule_and_field() {
    let (_, context) = setup().await;
    send(&context, "PUT", "/v1/models/nba", &json!({ "task": "binary" })).await;
    let rules = json!([{ "name": "x", "kind": "relative_drop", "metric": "roc_auc", "window": "1d" }]);
    let (status, body) = send(
        &context,
        "PUT",
        "/v1/models/nba/monitors",
        &json!({ "monitors": rules }),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "monitors[0].max_drop");
}

#[tokio::test]
async fn router_rejects_unknown_routes() {
    let (_, context) = setup().await;
    let (status, _) = send(&context, "POST", "/v1/predict", &json!({})).await;
    assert_eq!(status, 404);
    let (status, _, response) = send_bytes(&context, "GET", "/v1/predictions", b"").await;
    assert_eq!(status, 405);
    assert_eq!(response.header("Allow"), Some("POST"));
}

#[tokio::test]
async fn clear_dirty_keeps_a_marker_set_again() {
    let (store, context) = setup().await;
    post_predictions(&context, "nba", json!([game("g-1", "v1", 17, 0.5)])).await;
    let stale = store.dirty_hours("nba").await.unwrap().remove(0);
    post_predictions(&context, "nba", json!([game("g-2", "v1", 17, 0.5)])).await;
    assert!(!store.clear_dirty("nba", &stale).await.unwrap());
    let fresh = store.dirty_hours("nba").await.unwrap().remove(0);
    assert!(store.clear_dirty("nba", &fresh).await.unwrap());
    assert!(store.dirty_hours("nba").await.unwrap().is_empty());
}

#[tokio::test]
async fn ids_and_versions_with_separator_stay_apart() {
    let (store, context) = setup().await;
    let batch = json!([game("a#b", "v#1", 17, 0.5), game("a", "b#v#1", 17, 0.6)]);
    let (status, _) = post_predictions(&context, "nba", batch).await;
    assert_eq!(status, 200);
    assert_eq!(
        prediction(&store, "nba", "a#b", "v#1").await.prediction,
        PredictionValue::Number(0.5)
    );
    let hour = store.read_hour("nba", "v#1", at("2023-06-12T17:00:00Z")).await.unwrap();
    assert_eq!(hour.len(), 1);
    let dirty: HashMap<String, DateTime<Utc>> = store
        .dirty_hours("nba")
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.version, d.hour))
        .collect();
    assert!(dirty.contains_key("b#v#1"));
}

#[tokio::test]
async fn actual_for_unregistered_model_is_kept() {
    let (store, context) = setup().await;
    let (status, _) = post_actuals(&context, "ghost", json!([{ "id": "g-1", "actual": "H" }])).await;
    assert_eq!(status, 200);
    assert_eq!(store.get_model("ghost").await.unwrap(), None);
    let key = Key::new(keys::prediction_pk("ghost", "g-1"), keys::ACTUAL_SK);
    assert!(item(&store, key.pk, key.sk).await.is_some());
}

#[tokio::test]
async fn stored_actual_of_wrong_type_is_not_joined() {
    let (store, context) = setup().await;
    post_actuals(&context, "nba", json!([{ "id": "g-1", "actual": "H" }])).await;
    let (status, body) = post_predictions(&context, "nba", json!([game("g-1", "v1", 17, 0.5)])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(prediction(&store, "nba", "g-1", "v1").await.actual, None);
}
