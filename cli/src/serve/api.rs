//! The API behind the listener: the shared router of the Lambda functions, and the scheduled work.

use chrono::{DateTime, Utc};
use mpt_core::{store::Store, Config};
use tracing::info;

use super::http::{ApiRequest, ApiResponse, Router};

/// The handlers `mpt serve` runs, with their AWS clients.
// TODO: route through the router the Lambda functions share, and run compute-metrics and
// check-degradation on each tick, once the core crate provides them. Until then every request
// gets a 404 and every scheduled run fails.
pub struct Api {
    config: Config,
    store: Store,
}

impl Api {
    /// Builds the handlers and creates the table when missing.
    pub async fn connect(sdk: &aws_config::SdkConfig, config: Config) -> Result<Self, String> {
        let store = Store::new(aws_sdk_dynamodb::Client::new(sdk), config.table.clone());
        let created = store
            .create_table_if_missing()
            .await
            .map_err(|error| format!("failed to create the DynamoDB table {}: {error}", config.table))?;
        info!(table = %config.table, created, "table ready");
        Ok(Self { config, store })
    }

    /// Runs compute-metrics and then check-degradation as of `now`.
    pub async fn run_scheduled(&self, _now: DateTime<Utc>) -> Result<(), String> {
        Err(format!(
            "scheduled functions are not wired yet for table {}",
            self.config.table
        ))
    }
}

impl Router for Api {
    async fn handle(&self, request: ApiRequest) -> ApiResponse {
        ApiResponse::error(
            404,
            "not found",
            format!("no route for {} {}", request.method, request.path),
        )
    }
}
