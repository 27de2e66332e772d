//! Storage faults the emulator cannot produce, injected with `aws-smithy-mocks`: throttling,
//! server errors, unprocessed items and keys, and batches larger than DynamoDB's limits. Each
//! test checks that nothing is lost and nothing is reported stored that was not.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use aws_sdk_dynamodb::{
    config::retry::RetryConfig,
    operation::{
        batch_get_item::BatchGetItemOutput, batch_write_item::BatchWriteItemOutput, get_item::GetItemOutput,
        update_item::UpdateItemOutput,
    },
    types::{KeysAndAttributes, WriteRequest},
    Client,
};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use chrono::{DateTime, Utc};
use mpt_core::{
    http::Request,
    ingest::{self, Context},
    store::{
        batch::{Key, Write},
        deadline_after,
        item::{model_item, Item},
        RetryPolicy,
    },
    Config, ModelConfig, Store, StoreError, Task,
};
use serde_json::{json, Value};

const TABLE: &str = "mpt";

fn throttled_body(code: &str) -> Option<String> {
    Some(format!(
        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"slow down"}}"#
    ))
}

fn client(rules: &[&Rule]) -> Client {
    // The SDK's own retries are off so that every call the store makes reaches a rule.
    mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules, |config| config
        .retry_config(RetryConfig::disabled()))
}

fn store(rules: &[&Rule]) -> Store {
    Store::new(client(rules), TABLE).with_retry(RetryPolicy {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(200),
        read_budget: Duration::from_secs(5),
    })
}

fn put(i: usize) -> Write {
    Write::Put(Key::new(format!("PRED#m#g-{i}"), "V#v1").to_item())
}

fn puts(count: usize) -> Vec<Write> {
    (0..count).map(put).collect()
}

fn request_pk(request: &WriteRequest) -> String {
    let item = &request.put_request().unwrap().item;
    item["pk"].as_s().unwrap().clone()
}

fn requests(input: &aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemInput) -> Vec<WriteRequest> {
    input.request_items().unwrap()[TABLE].clone()
}

fn unprocessed(requests: Vec<WriteRequest>) -> BatchWriteItemOutput {
    BatchWriteItemOutput::builder()
        .unprocessed_items(TABLE, requests)
        .build()
}

fn budget() -> tokio::time::Instant {
    deadline_after(Duration::from_secs(5))
}

#[tokio::test(start_paused = true)]
async fn write_splits_26_items_into_25_and_1() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let seen = sizes.clone();
    let rule = mock!(Client::batch_write_item).then_compute_output(move |input| {
        seen.lock().unwrap().push(requests(input).len());
        BatchWriteItemOutput::builder().build()
    });
    let outcomes = store(&[&rule]).batch_write(puts(26), budget()).await;
    assert!(outcomes.iter().all(Result::is_ok));
    let mut sizes = sizes.lock().unwrap().clone();
    sizes.sort();
    assert_eq!(sizes, vec![1, 25]);
}

#[tokio::test(start_paused = true)]
async fn write_of_thousand_items_never_exceeds_25_per_call() {
    let largest = Arc::new(AtomicUsize::new(0));
    let seen = largest.clone();
    let rule = mock!(Client::batch_write_item).then_compute_output(move |input| {
        seen.fetch_max(requests(input).len(), Ordering::SeqCst);
        BatchWriteItemOutput::builder().build()
    });
    let outcomes = store(&[&rule]).batch_write(puts(1_000), budget()).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1_000);
    assert_eq!(largest.load(Ordering::SeqCst), 25);
    assert_eq!(rule.num_calls(), 40);
}

async fn write_after_errors(code: &str, status: u16) {
    let rule = mock!(Client::batch_write_item)
        .sequence()
        .http_status(status, throttled_body(code))
        .times(3)
        .output(|| BatchWriteItemOutput::builder().build())
        .build();
    let outcomes = store(&[&rule]).batch_write(puts(3), budget()).await;
    assert!(outcomes.iter().all(Result::is_ok), "{code}: {outcomes:?}");
    assert_eq!(rule.num_calls(), 4, "{code}");
}

#[tokio::test(start_paused = true)]
async fn write_retries_provisioned_throughput_exceeded() {
    write_after_errors("ProvisionedThroughputExceededException", 400).await;
}

#[tokio::test(start_paused = true)]
async fn write_retries_throttling_exception() {
    write_after_errors("ThrottlingException", 400).await;
}

#[tokio::test(start_paused = true)]
async fn write_retries_server_errors() {
    write_after_errors("InternalServerError", 500).await;
}

#[tokio::test(start_paused = true)]
async fn write_retries_unavailable_service() {
    write_after_errors("ServiceUnavailable", 503).await;
}

#[tokio::test(start_paused = true)]
async fn write_retries_unprocessed_items_then_succeeds() {
    let calls = Arc::new(Mutex::new(Vec::<Vec<String>>::new()));
    let seen = calls.clone();
    let rule = mock!(Client::batch_write_item).then_compute_output(move |input| {
        let sent = requests(input);
        let mut calls = seen.lock().unwrap();
        calls.push(sent.iter().map(request_pk).collect());
        if calls.len() == 1 {
            // Leave every other item unprocessed on the first call.
            unprocessed(sent.into_iter().step_by(2).collect())
        } else {
            BatchWriteItemOutput::builder().build()
        }
    });
    let outcomes = store(&[&rule]).batch_write(puts(6), budget()).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1], vec!["PRED#m#g-0", "PRED#m#g-2", "PRED#m#g-4"]);
}

#[tokio::test(start_paused = true)]
async fn write_unprocessed_forever_is_reported_failed() {
    let rule = mock!(Client::batch_write_item).then_compute_output(|input| {
        let stuck = requests(input)
            .into_iter()
            .filter(|r| matches!(request_pk(r).as_str(), "PRED#m#g-1" | "PRED#m#g-3"))
            .collect();
        unprocessed(stuck)
    });
    let outcomes = store(&[&rule]).batch_write(puts(5), budget()).await;
    let failed: Vec<usize> = (0..5).filter(|&i| outcomes[i].is_err()).collect();
    assert_eq!(failed, vec![1, 3]);
    assert!(matches!(outcomes[1], Err(StoreError::Throttled { .. })));
    assert!(rule.num_calls() > 2, "retried {} times", rule.num_calls());
}

#[tokio::test(start_paused = true)]
async fn write_throttled_forever_fails_every_item() {
    let rule = mock!(Client::batch_write_item)
        .sequence()
        .http_status(400, throttled_body("ProvisionedThroughputExceededException"))
        .repeatedly()
        .build();
    let outcomes = store(&[&rule]).batch_write(puts(30), budget()).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_err()).count(), 30);
    assert!(outcomes[29].as_ref().unwrap_err().is_retryable());
}

#[tokio::test(start_paused = true)]
async fn write_validation_error_is_not_retried() {
    let rule = mock!(Client::batch_write_item)
        .sequence()
        .http_status(400, throttled_body("ValidationException"))
        .repeatedly()
        .build();
    let outcomes = store(&[&rule]).batch_write(puts(2), budget()).await;
    assert!(matches!(outcomes[0], Err(StoreError::Service { .. })));
    assert_eq!(rule.num_calls(), 1);
}

fn get_keys(input: &aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemInput) -> Vec<Item> {
    input.request_items().unwrap()[TABLE].keys().to_vec()
}

#[tokio::test(start_paused = true)]
async fn get_retries_unprocessed_keys() {
    let calls = Arc::new(AtomicUsize::new(0));
    let count = calls.clone();
    let largest = Arc::new(AtomicUsize::new(0));
    let seen = largest.clone();
    let rule = mock!(Client::batch_get_item).then_compute_output(move |input| {
        let keys = get_keys(input);
        seen.fetch_max(keys.len(), Ordering::SeqCst);
        let first = count.fetch_add(1, Ordering::SeqCst) == 0;
        let (left, answered) = keys.split_at(if first { keys.len() / 2 } else { 0 });
        let mut output = BatchGetItemOutput::builder().responses(TABLE, answered.to_vec());
        if !left.is_empty() {
            let retry = KeysAndAttributes::builder()
                .set_keys(Some(left.to_vec()))
                .build()
                .unwrap();
            output = output.unprocessed_keys(TABLE, retry);
        }
        output.build()
    });
    let keys: Vec<Key> = (0..150).map(|i| Key::new(format!("PRED#m#g-{i}"), "ACTUAL")).collect();
    let outcomes = store(&[&rule]).batch_get(&keys, true, budget()).await;
    assert!(outcomes.iter().all(|o| matches!(o, Ok(Some(_)))), "{outcomes:?}");
    assert_eq!(largest.load(Ordering::SeqCst), 100);
}

#[tokio::test(start_paused = true)]
async fn get_unprocessed_forever_is_reported_failed() {
    let rule = mock!(Client::batch_get_item).then_compute_output(|input| {
        let retry = KeysAndAttributes::builder()
            .set_keys(Some(get_keys(input)))
            .build()
            .unwrap();
        BatchGetItemOutput::builder().unprocessed_keys(TABLE, retry).build()
    });
    let keys = [Key::new("PRED#m#g-1", "ACTUAL")];
    let outcomes = store(&[&rule]).batch_get(&keys, true, budget()).await;
    assert!(matches!(outcomes[0], Err(StoreError::Throttled { .. })));
}

fn now() -> DateTime<Utc> {
    "2023-06-13T12:00:00Z".parse().unwrap()
}

/// Mocks every call of the predictions handler for a registered binary model with nothing
/// stored yet. `write` answers `BatchWriteItem`.
fn handler_store(write: &Rule) -> (Store, Vec<Rule>) {
    let model = model_item("nba", &ModelConfig::new(Task::Binary), now());
    let get =
        mock!(Client::get_item).then_output(move || GetItemOutput::builder().set_item(Some(model.clone())).build());
    let read = mock!(Client::batch_get_item).then_output(|| BatchGetItemOutput::builder().build());
    let update = mock!(Client::update_item).then_output(|| UpdateItemOutput::builder().build());
    let store = store(&[&get, &read, &update, write]);
    (store, vec![get, read, update])
}

fn context(store: Store) -> Context {
    Context {
        store,
        config: Config::from_lookup(|_| None).unwrap(),
        now: now(),
        deadline: budget(),
    }
}

fn batch(count: usize) -> Vec<u8> {
    let predictions: Vec<Value> = (0..count)
        .map(|i| json!({ "id": format!("g-{i}"), "version": "v1", "timestamp": "2023-06-12T17:00:00Z", "prediction": 0.5 }))
        .collect();
    json!({ "model": "nba", "predictions": predictions })
        .to_string()
        .into_bytes()
}

#[tokio::test(start_paused = true)]
async fn handler_answers_503_when_storage_is_throttled() {
    let write = mock!(Client::batch_write_item)
        .sequence()
        .http_status(400, throttled_body("ThrottlingException"))
        .repeatedly()
        .build();
    let (store, _rules) = handler_store(&write);
    let body = batch(3);
    let request = Request {
        method: "POST",
        path: "/v1/predictions",
        query: None,
        body: &body,
    };
    let response = ingest::route(&context(store), &request).await;
    let answer: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(response.header("Retry-After"), Some("2"));
    assert_eq!(answer["stored"], 0);
    assert_eq!(answer["failed"].as_array().unwrap().len(), 3);
    assert_eq!(answer["failed"][0]["reason"], "storage throttled; resend this record");
}

#[tokio::test(start_paused = true)]
async fn handler_reports_only_unprocessed_prediction_as_failed() {
    let written = Arc::new(Mutex::new(HashMap::<String, usize>::new()));
    let seen = written.clone();
    let write = mock!(Client::batch_write_item).then_compute_output(move |input| {
        let (stuck, done): (Vec<_>, Vec<_>) = requests(input)
            .into_iter()
            .partition(|r| request_pk(r) == "PRED#nba#g-3");
        for request in done {
            *seen.lock().unwrap().entry(request_pk(&request)).or_default() += 1;
        }
        unprocessed(stuck)
    });
    let (store, _rules) = handler_store(&write);
    let body = batch(30);
    let request = Request {
        method: "POST",
        path: "/v1/predictions",
        query: None,
        body: &body,
    };
    let response = ingest::route(&context(store), &request).await;
    let answer: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(response.status, 207);
    assert_eq!(answer["stored"], 29);
    assert_eq!(
        answer["failed"],
        json!([{ "index": 3, "id": "g-3", "reason": "storage throttled; resend this record" }])
    );
    let written = written.lock().unwrap();
    assert!(!written.contains_key("PRED#nba#g-3"));
    assert_eq!(written.keys().filter(|pk| pk.starts_with("PRED#")).count(), 29);
    // The hour is still marked, for the 29 predictions that were stored.
    assert_eq!(written.get("DIRTY#nba"), Some(&1));
}
