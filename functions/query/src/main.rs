//! The query Lambda function: serves the read-only API (`GET /v1/models`, and a model's
//! `metrics`, `history`, `compare`, `alerts` and `monitors`) behind API Gateway.

use std::time::Duration;

use chrono::Utc;
use lambda_http::{run, service_fn, Body, Error, Request, RequestExt, Response};
use mpt_core::{
    http,
    pagination::TokenKey,
    query::{self, Context},
    store::deadline_after,
    Config, Store,
};
use tracing::info;

/// Time kept back from the invocation's deadline to send the response after the reads stop.
const RESPONSE_MARGIN: Duration = Duration::from_millis(500);

/// The read budget when the invocation carries no deadline.
const DEFAULT_BUDGET: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<(), Error> {
    mpt_core::lambda::init_json_logging();

    let config = Config::from_env()?;
    // Reads AWS_REGION, credentials and AWS_ENDPOINT_URL (for local runs against an emulator).
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&aws), config.table.clone());
    let tokens = TokenKey::from_env(&config.table);
    info!(table = %config.table, "query function started");

    run(service_fn(|request: Request| handle(&store, &config, &tokens, request))).await
}

/// Returns the time left for reads: the invocation's remaining time minus the response margin.
fn read_budget(request: &Request) -> Duration {
    let deadline = request.lambda_context_ref().map(|context| context.deadline);
    mpt_core::lambda::budget(deadline, Utc::now(), RESPONSE_MARGIN, DEFAULT_BUDGET)
}

async fn handle(store: &Store, config: &Config, tokens: &TokenKey, request: Request) -> Result<Response<Body>, Error> {
    let context = Context::new(
        store.clone(),
        config.clone(),
        tokens.clone(),
        Utc::now(),
        deadline_after(read_budget(&request)),
    );
    // API Gateway's REST API puts the stage in the URI; the raw path is the route without it.
    let raw_path = request.raw_http_path();
    let path = if raw_path.is_empty() {
        request.uri().path()
    } else {
        raw_path
    };
    let answer = query::route(
        &context,
        &http::Request {
            method: request.method().as_str(),
            path,
            query: request.uri().query(),
            body: &[],
        },
    )
    .await;

    let mut response = Response::builder()
        .status(answer.status)
        .header("Content-Type", "application/json");
    for (name, value) in &answer.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    Ok(response.body(Body::Text(answer.body))?)
}
