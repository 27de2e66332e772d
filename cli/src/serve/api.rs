//! The API behind the listener: the shared router of the Lambda functions, and the scheduled work.

use chrono::{DateTime, Utc};
use mpt_core::Config;

use super::http::{ApiRequest, ApiResponse, Router};

/// The handlers `mpt serve` runs, with their AWS clients.
// TODO: route through the router the Lambda functions share, and run compute-metrics and
// check-degradation on each tick, once the core crate provides them. Until then every request
// gets a 404 and every scheduled run fails.
pub struct Api {
    config: Config,
}

impl Api {
    /// Builds the handlers and creates the table when missing.
    pub async fn connect(_sdk: &aws_config::SdkConfig, config: Config) -> Result<Self, String> {
        Ok(Self { config })
    }

    /// Runs compute-metrics and then check-degradation as of `now`.
    pub async fn run_scheduled(&self, _now: DateTime<Utc>) -> Result<(), String> {
        Err(format!("scheduled functions are not wired yet for table {}", self.config.table))
    }
}

impl Router for Api {
    async fn handle(&self, request: ApiRequest) -> ApiResponse {
        ApiResponse::error(404, "not found", format!("no route for {} {}", request.method, request.path))
    }
}
