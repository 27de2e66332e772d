//! Shared set-up for the integration tests: the emulator endpoint, SDK clients that reach it,
//! and fresh resource names so that tests run in parallel against one emulator.

use std::{
    process,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use chrono::{DateTime, Utc};
use mpt_core::{ingest::Context, store::deadline_after, Config, Store};

/// The region every test client uses.
pub const REGION: &str = "us-east-1";

/// Returns the emulator's URL from `MPT_TEST_ENDPOINT`.
///
/// # Panics
///
/// When `MPT_TEST_ENDPOINT` is unset, with a message saying how to start the emulator.
pub fn emulator_endpoint() -> String {
    match std::env::var("MPT_TEST_ENDPOINT") {
        Ok(endpoint) if !endpoint.trim().is_empty() => endpoint,
        _ => panic!(
            "MPT_TEST_ENDPOINT is not set. Run the tests with scripts/test.sh, or run \
             `scripts/emulator.sh start` and export MPT_TEST_ENDPOINT with the URL it prints"
        ),
    }
}

/// Returns an SDK configuration that reaches the emulator with dummy credentials, so the SDK
/// never looks for real credentials or probes the instance-metadata address.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(emulator_endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "mpt-tests"))
        .load()
        .await
}

/// Returns a DynamoDB client for the emulator.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

/// Returns a name no other test in any process uses: `prefix`, the process id and a counter.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = Utc::now().timestamp_subsec_nanos();
    format!("{prefix}-{}-{count}-{nanos}", process::id())
}

/// Creates a fresh table on the emulator and returns a store over it.
pub async fn fresh_store() -> Store {
    let store = Store::new(dynamodb().await, unique_name("mpt-test"));
    match store.create_table_if_missing().await {
        Ok(_) => store,
        Err(error) => panic!("creating the test table failed: {error}"),
    }
}

/// Returns the default configuration, pointed at `store`'s table.
pub fn config_for(store: &Store) -> Config {
    let table = store.table().to_string();
    match Config::from_lookup(|name| (name == "MPT_TABLE").then(|| table.clone())) {
        Ok(config) => config,
        Err(error) => panic!("the default configuration is invalid: {error}"),
    }
}

/// Returns a handler context over `store` with "now" fixed at `now` and a 10 s storage budget.
pub fn context_at(store: &Store, now: DateTime<Utc>) -> Context {
    Context {
        store: store.clone(),
        config: config_for(store),
        now,
        deadline: deadline_after(Duration::from_secs(10)),
    }
}
