//! CPU time of the ingest path without network: validating 1,000 predictions and building
//! their DynamoDB items, as `POST /v1/predictions` does before its first storage call.
//!
//! Run with `cargo bench -p mpt-core --bench ingest`.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mpt_core::{
    store::item::{item_size, prediction_item},
    validate::{check_prediction, parse_batch, parse_body, parse_prediction},
    ModelConfig, Task,
};
use serde_json::json;

/// Builds a request body of `count` predictions shaped like the API's example record.
fn body(count: usize) -> Vec<u8> {
    let predictions: Vec<_> = (0..count)
        .map(|i| {
            json!({ "id": format!("2023-06-12-game-{i}"), "version": "raptor",
                    "timestamp": "2023-06-12T17:00:00Z", "prediction": 0.64, "actual": 1,
                    "latency_ms": 12.5, "segment": { "stage": "finals" },
                    "features": { "elo_diff": 35.2, "rest_days": 2.0 },
                    "bet": { "side": 1, "odds": 1.85, "stake": 10.0 } })
        })
        .collect();
    json!({ "model": "nba-game-predictor", "predictions": predictions })
        .to_string()
        .into_bytes()
}

/// Validates every record and builds its item; returns the total item size in bytes.
fn validate_and_build(body: &[u8], config: &ModelConfig, now: DateTime<Utc>) -> usize {
    let Ok(object) = parse_body(body) else { return 0 };
    let Ok((model, records)) = parse_batch(&object, "predictions") else {
        return 0;
    };
    let mut bytes = 0;
    for value in records {
        let Ok(record) = parse_prediction(value, now) else {
            continue;
        };
        if check_prediction(&record, config).is_err() {
            continue;
        }
        let actual = record.actual.as_ref().map(|a| (a, now));
        bytes += item_size(&prediction_item(&model, &record, actual, now, 400));
    }
    bytes
}

fn bench_ingest(c: &mut Criterion) {
    let body = body(1_000);
    let config = ModelConfig::new(Task::Binary);
    let now: DateTime<Utc> = "2023-06-13T00:00:00Z".parse().unwrap_or_default();
    let bytes = validate_and_build(&body, &config, now);
    println!(
        "request body: {} bytes; mean item size: {} bytes",
        body.len(),
        bytes / 1_000
    );

    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("validate_and_build_1000_predictions", |b| {
        b.iter(|| validate_and_build(black_box(&body), &config, now))
    });
    group.finish();
}

criterion_group!(benches, bench_ingest);
criterion_main!(benches);
