//! The API behind the listener: the routes the Lambda functions serve, and the scheduled work.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use mpt_core::{
    alert::check::{run_check, AwsCheckDeps},
    cloudwatch::MetricPublisher,
    compute::{run_tick, ComputeDeps},
    http::{match_route, unmatched, Request, Response, RouteMatch},
    ingest,
    pagination::TokenKey,
    query,
    store::{deadline_after, Store},
    Config,
};
use tracing::info;

use super::http::Router;

/// Time a request's storage calls may take, retries included: API Gateway's 29 s integration
/// timeout less a margin, so the local server gives up where the deployed API would.
const REQUEST_BUDGET: Duration = Duration::from_secs(25);

/// The handlers `mpt serve` runs, with their AWS clients.
pub struct Api {
    config: Config,
    store: Store,
    compute: ComputeDeps,
    check: AwsCheckDeps,
    tokens: TokenKey,
}

impl Api {
    /// Creates the table when missing and builds the handlers. Alerts go to `config.topic_arn`,
    /// which must be set.
    pub async fn connect(sdk: &aws_config::SdkConfig, config: Config) -> Result<Self, String> {
        let topic_arn = config
            .topic_arn
            .clone()
            .ok_or_else(|| "no SNS topic for alerts: set MPT_TOPIC_ARN or let mpt serve create one".to_string())?;
        let store = Store::new(aws_sdk_dynamodb::Client::new(sdk), config.table.clone());
        let created = store
            .create_table_if_missing()
            .await
            .map_err(|error| format!("failed to create the DynamoDB table {}: {error}", config.table))?;
        info!(table = %config.table, created, "table ready");

        let publisher = MetricPublisher::new(aws_sdk_cloudwatch::Client::new(sdk), config.namespace.clone())
            .map_err(|error| error.to_string())?;
        // The emulator's index is consistent at once, so dirty hours need no settle time.
        let compute = ComputeDeps::new(store.clone(), Some(publisher)).with_settle(TimeDelta::zero());
        let check = AwsCheckDeps::aws(store.clone(), aws_sdk_sns::Client::new(sdk), topic_arn);
        let tokens = TokenKey::from_env(&config.table);
        Ok(Self {
            config,
            store,
            compute,
            check,
            tokens,
        })
    }

    /// Runs compute-metrics and then check-degradation with "now" = `now`.
    pub async fn run_scheduled(&self, now: DateTime<Utc>) -> Result<(), String> {
        let summary = run_tick(&self.compute, &self.config, now)
            .await
            .map_err(|error| format!("compute-metrics failed: {error}"))?;
        info!(
            models = summary.models,
            snapshots_written = summary.snapshots_written,
            datums_published = summary.datums_published,
            failures = summary.failures.len(),
            "compute-metrics finished"
        );

        // The check runs even after a compute failure in some models: it evaluates whatever
        // history is stored, as the separately scheduled Lambda function would.
        let summary = run_check(&self.check, &self.config, now)
            .await
            .map_err(|error| format!("check-degradation failed: {error}"))?;
        info!(
            models = summary.models,
            evaluated = summary.evaluated,
            fired = summary.fired,
            resolved = summary.resolved,
            failures = summary.failures,
            "check-degradation finished"
        );
        Ok(())
    }
}

impl Router for Api {
    /// Sends each request to the read routes or the write routes, as API Gateway sends it to
    /// the query or the ingest function.
    async fn handle<'a>(&'a self, request: Request<'a>) -> Response {
        let now = Utc::now();
        let deadline = deadline_after(REQUEST_BUDGET);
        let read = match_route(query::ROUTES, request.method, request.path);
        let write = match_route(ingest::ROUTES, request.method, request.path);
        match (read, write) {
            (RouteMatch::Found(..), _) => {
                let context = query::Context::new(
                    self.store.clone(),
                    self.config.clone(),
                    self.tokens.clone(),
                    now,
                    deadline,
                );
                query::route(&context, &request).await
            }
            (_, RouteMatch::Found(..)) => {
                let context = ingest::Context {
                    store: self.store.clone(),
                    config: self.config.clone(),
                    now,
                    deadline,
                };
                ingest::route(&context, &request).await
            }
            (read, write) => unmatched(request.method, request.path, combine_unmatched(read, write)),
        }
    }
}

/// Combines two failed matches: the methods either route set accepts for the path, or not found.
fn combine_unmatched(read: RouteMatch, write: RouteMatch) -> RouteMatch {
    let mut allowed = Vec::new();
    for matched in [read, write] {
        if let RouteMatch::MethodNotAllowed(methods) = matched {
            allowed.extend(methods);
        }
    }
    if allowed.is_empty() {
        return RouteMatch::NotFound;
    }
    allowed.sort_unstable();
    allowed.dedup();
    RouteMatch::MethodNotAllowed(allowed)
}
