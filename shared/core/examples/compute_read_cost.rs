//! Measures what one metrics computation reads for a 30-day window, at a given traffic.
//!
//! ```text
//! cargo run --example compute_read_cost -p mpt-core -- PREDICTIONS [direct]
//! ```
//!
//! Needs `AWS_ENDPOINT_URL` pointing at the local emulator (see `scripts/emulator.sh`) and dummy
//! credentials, as `scripts/bench/compute_read_cost.sh` sets them. It writes PREDICTIONS labelled
//! binary predictions, spread evenly over the 30 days before 2023-07-01, straight into a fresh
//! table with BatchWriteItem, and marks every hour dirty. Then it runs the computation twice at
//! 2023-07-01T00:05Z: once to aggregate the raw items, and once more in the steady state, where
//! nothing is dirty. It prints what each run read from the aggregate items.
//!
//! With `direct`, it skips the raw items: it folds the same predictions into hour and day
//! aggregates in process, with the same code the computation uses, and writes those. The
//! emulator needs hours to load and aggregate a million raw items, and the steady-state run reads
//! only aggregates either way.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Instant,
};

use chrono::{DateTime, TimeDelta, Utc};
use mpt_core::{
    aggregate::AggregateSet,
    compute::{run_tick, ComputeDeps},
    model::{ModelConfig, Task},
    record::{ActualValue, PredictionRecord, PredictionValue},
    store::{
        aggregates::Span, batch::Write, deadline_after, dirty::dirty_item, item::prediction_item, Store,
        StoredPrediction,
    },
    time::floor_hour,
    Config,
};

const MODEL: &str = "bench-model";
const VERSION: &str = "v1";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: u64 = match std::env::args().nth(1).map(|arg| arg.parse()) {
        Some(Ok(count)) if count > 0 => count,
        _ => return Err("usage: compute_read_cost PREDICTIONS [direct] (a whole number greater than 0)".into()),
    };
    let direct = std::env::args().nth(2).as_deref() == Some("direct");
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let table = format!("mpt-bench-{count}-{}", std::process::id());
    let store = Store::new(aws_sdk_dynamodb::Client::new(&aws), table.clone());
    store.create_table_if_missing().await?;
    let config = Config::from_lookup(|name| match name {
        "MPT_TABLE" => Some(table.clone()),
        "MPT_WINDOWS" => Some("1h,1d,7d,30d".to_string()),
        _ => None,
    })?;

    let now: DateTime<Utc> = "2023-07-01T00:05:00Z".parse()?;
    let start = now - TimeDelta::days(30);
    let loaded = Instant::now();
    if direct {
        load_aggregates(&store, &config, count, floor_hour(start), floor_hour(now)).await?;
    } else {
        load(&store, &config, count, floor_hour(start), floor_hour(now)).await?;
    }
    let load_secs = loaded.elapsed().as_secs_f64();

    // The first run aggregates every hour from the raw items; the second finds nothing dirty.
    let mut lines = Vec::new();
    let runs = if direct {
        ["steady state", "steady state again"]
    } else {
        ["aggregation", "steady state"]
    };
    for run in runs {
        let deps = ComputeDeps::new(store.clone(), None).with_settle(TimeDelta::zero());
        let started = Instant::now();
        let summary = run_tick(&deps, &config, now).await?;
        if !summary.failures.is_empty() {
            return Err(format!("the {run} run failed: {:?}", summary.failures).into());
        }
        let stats = &deps.read_stats;
        lines.push(format!(
            "{count} predictions, {run}: {} aggregate items ({} KB of bodies) in {} BatchGetItem requests, \
             {} hours rebuilt, {:.1} s",
            stats.items(),
            stats.bytes() / 1024,
            stats.requests(),
            summary.hours_rebuilt,
            started.elapsed().as_secs_f64()
        ));
    }
    let how = if direct { "as aggregates" } else { "as raw items" };
    println!("{count} predictions loaded {how} in {load_secs:.1} s");
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// Writes `count` predictions spread evenly over `[start, end)`, their version summary, the
/// registration and one dirty marker per hour.
async fn load(
    store: &Store,
    config: &Config,
    count: u64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    let registered = ModelConfig::new(Task::Binary);
    store
        .put_model(
            MODEL,
            &registered,
            end,
            deadline_after(std::time::Duration::from_secs(30)),
        )
        .await?;

    let span_ms = (end - start).num_milliseconds();
    let mut hours = BTreeSet::new();
    let mut writes = Vec::new();
    for index in 0..count {
        let (record, actual) = synthetic(index, count, start, span_ms);
        let timestamp = record.timestamp;
        writes.push(Write::Put(prediction_item(
            MODEL,
            &record,
            Some((&actual, timestamp + TimeDelta::hours(6))),
            end,
            config.retention_days,
        )));
        hours.insert(floor_hour(timestamp));
        if writes.len() == 10_000 {
            write_all(store, std::mem::take(&mut writes)).await?;
        }
    }
    write_all(store, writes).await?;

    let markers = hours
        .iter()
        .map(|hour| Write::Put(dirty_item(MODEL, VERSION, *hour, config.retention_days)))
        .collect();
    write_all(store, markers).await?;
    store
        .record_version(
            MODEL,
            VERSION,
            start,
            end - TimeDelta::seconds(1),
            count,
            deadline_after(std::time::Duration::from_secs(30)),
        )
        .await?;
    Ok(())
}

/// Returns prediction `index` of `count` spread over the span from `start`, with its actual: a
/// fixed pseudo-random score and label per index, so runs are repeatable.
fn synthetic(index: u64, count: u64, start: DateTime<Utc>, span_ms: i64) -> (PredictionRecord, ActualValue) {
    let timestamp = start + TimeDelta::milliseconds(span_ms * index as i64 / count as i64);
    let mixed = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    let score = (mixed % 1_000_000) as f64 / 1_000_000.0;
    let positive = (mixed >> 20) % 1_000 < (score * 1_000.0) as u64;
    let record = PredictionRecord {
        id: format!("p{index}"),
        version: VERSION.to_string(),
        timestamp,
        prediction: PredictionValue::Number(score),
        actual: None,
        latency_ms: Some(5.0 + (mixed % 500) as f64 / 10.0),
        segment: None,
        features: None,
        bet: None,
    };
    (record, ActualValue::Number(if positive { 1.0 } else { 0.0 }))
}

/// Folds `count` predictions into hour and day aggregates in process and writes those, with the
/// registration and the version summary, as the computation would after aggregating raw items.
async fn load_aggregates(
    store: &Store,
    config: &Config,
    count: u64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<(), Box<dyn std::error::Error>> {
    let registered = ModelConfig::new(Task::Binary);
    store
        .put_model(
            MODEL,
            &registered,
            end,
            deadline_after(std::time::Duration::from_secs(30)),
        )
        .await?;

    let span_ms = (end - start).num_milliseconds();
    let empty = AggregateSet::empty(&registered)?;
    let mut hours: BTreeMap<DateTime<Utc>, AggregateSet> = BTreeMap::new();
    for index in 0..count {
        let (record, actual) = synthetic(index, count, start, span_ms);
        let stored = StoredPrediction {
            id: record.id.clone(),
            version: record.version.clone(),
            timestamp: record.timestamp,
            prediction: record.prediction.clone(),
            actual: Some(actual),
            actual_timestamp: Some(record.timestamp + TimeDelta::hours(6)),
            latency_ms: record.latency_ms,
            segment: BTreeMap::new(),
            features: BTreeMap::new(),
            bet: None,
            content_hash: String::new(),
            stored_at: end,
        };
        let hour = floor_hour(record.timestamp);
        hours.entry(hour).or_insert_with(|| empty.clone()).total.fold(&stored);
    }

    let mut days: BTreeMap<chrono::NaiveDate, AggregateSet> = BTreeMap::new();
    for (hour, set) in &hours {
        store
            .put_aggregates(MODEL, VERSION, Span::Hour(*hour), set, end, config.retention_days)
            .await?;
        let day = hour.date_naive();
        days.entry(day).or_insert_with(|| empty.clone()).merge(set)?;
    }
    for (day, set) in &days {
        store
            .put_aggregates(MODEL, VERSION, Span::Day(*day), set, end, config.retention_days)
            .await?;
    }
    let deadline = deadline_after(std::time::Duration::from_secs(30));
    store
        .record_version(MODEL, VERSION, start, end - TimeDelta::seconds(1), count, deadline)
        .await?;
    Ok(())
}

async fn write_all(store: &Store, writes: Vec<Write>) -> Result<(), Box<dyn std::error::Error>> {
    let outcomes = store
        .batch_write(writes, deadline_after(std::time::Duration::from_secs(600)))
        .await;
    if let Some(Err(error)) = outcomes.into_iter().find(Result::is_err) {
        return Err(error.into());
    }
    Ok(())
}
