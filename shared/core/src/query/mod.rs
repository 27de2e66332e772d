//! The read API: models, metrics, history, version comparison, alerts and monitor rules.
//!
//! Every handler only reads. Metrics come from the stored snapshot of the requested window when
//! a scheduled run wrote one, and are otherwise computed from the stored aggregates, so any
//! window from 1h to 90d can be read at any hour. Listings page with opaque `next` tokens that
//! [`crate::pagination`] seals against tampering.

mod alerts;
mod comparison;
mod history;
mod metrics;
mod models;
pub mod params;

use std::time::Instant as WallInstant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::time::Instant;
use tracing::{info, warn};

pub use comparison::{ComparisonResponse, MIN_PAIRED_SAMPLES, PAIRED_CAP};
pub use history::{HistoryPoint, HistoryResponse};
pub use metrics::{MetricsResponse, Source};
pub use models::{ModelSummary, ModelsResponse, MonitorsView, VersionInfo};

use crate::{
    compute::ComputeDeps,
    config::Config,
    http::{match_route, unmatched, ApiError, Request, Response, Route, RouteMatch},
    pagination::TokenKey,
    store::Store,
};

/// The routes the read API serves, in the order [`route`] dispatches them.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        pattern: "/v1/models",
    },
    Route {
        method: "GET",
        pattern: "/v1/models/{model}/metrics",
    },
    Route {
        method: "GET",
        pattern: "/v1/models/{model}/history",
    },
    Route {
        method: "GET",
        pattern: "/v1/models/{model}/compare",
    },
    Route {
        method: "GET",
        pattern: "/v1/models/{model}/alerts",
    },
    Route {
        method: "GET",
        pattern: "/v1/models/{model}/monitors",
    },
];

/// The inputs of every read handler: the store, the configuration, the token key, "now" and a
/// deadline.
#[derive(Debug, Clone)]
pub struct Context {
    /// The table.
    pub store: Store,
    /// The deployment configuration.
    pub config: Config,
    /// The store and settings [`crate::compute::window_metrics`] computes windows with.
    pub compute: ComputeDeps,
    /// The key that seals and opens pagination tokens.
    pub tokens: TokenKey,
    /// The current time: windows end at its hour unless a request passes `at`.
    pub now: DateTime<Utc>,
    /// The time by which the response must be sent. A paired comparison still reading raw
    /// predictions then falls back to the unpaired tests.
    pub deadline: Instant,
}

impl Context {
    /// Builds the context of one request.
    pub fn new(store: Store, config: Config, tokens: TokenKey, now: DateTime<Utc>, deadline: Instant) -> Self {
        Self {
            compute: ComputeDeps::new(store.clone(), None),
            store,
            config,
            tokens,
            now,
            deadline,
        }
    }
}

/// Handles one request to the read API. Never panics on request content: every invalid
/// parameter or unknown route becomes an error response.
pub async fn route(context: &Context, request: &Request<'_>) -> Response {
    let started = WallInstant::now();
    let (index, params) = match match_route(ROUTES, request.method, request.path) {
        RouteMatch::Found(index, params) => (index, params),
        other => return unmatched(request.method, request.path, other),
    };
    let model = params.first().map(String::as_str).unwrap_or_default();
    let result = dispatch(context, index, model, request.query).await;
    let response = result.unwrap_or_else(|error| {
        if error.status >= 500 {
            warn!(route = ROUTES[index].pattern, model, status = error.status, error = %error.detail, "read failed");
        }
        error.to_response()
    });
    info!(
        route = ROUTES[index].pattern,
        model,
        status = response.status,
        duration_ms = started.elapsed().as_millis() as u64,
        "served read"
    );
    response
}

async fn dispatch(context: &Context, index: usize, model: &str, query: Option<&str>) -> Result<Response, ApiError> {
    match index {
        0 => ok(&models::list_models(context, query).await?),
        1 => ok(&metrics::metrics(context, model, query).await?),
        2 => ok(&history::history(context, model, query).await?),
        3 => ok(&comparison::compare(context, model, query).await?),
        4 => ok(&alerts::alerts(context, model, query).await?),
        _ => ok(&models::monitors(context, model, query).await?),
    }
}

fn ok(value: &impl Serialize) -> Result<Response, ApiError> {
    Ok(Response::json(200, value))
}
