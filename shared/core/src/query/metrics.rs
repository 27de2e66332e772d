//! `GET /v1/models/{model}/metrics`: one window's metrics, stored or computed on request.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{
    models::{registered_model, resolve_version, unknown_model},
    params::{check_model, Params},
    Context,
};
use crate::{
    compute::{window_metrics, ComputeError},
    http::ApiError,
    snapshot::Snapshot,
    store::history::Series,
    time::{floor_hour, Window},
};

/// The origin of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Written to the history by a scheduled run for this window end.
    Stored,
    /// Computed for this request from the stored aggregates.
    Computed,
}

/// The response of the metrics endpoint: the snapshot and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct MetricsResponse {
    /// The window's metrics.
    #[serde(flatten)]
    pub snapshot: Snapshot,
    /// Whether the snapshot was stored by a scheduled run or computed for this request.
    pub source: Source,
}

/// Reads one window's metrics for a model version.
pub(super) async fn metrics(context: &Context, model: &str, query: Option<&str>) -> Result<MetricsResponse, ApiError> {
    check_model(model)?;
    let params = Params::parse(query, &["window", "version", "segment", "at"])?;
    let window = params.window("window", "7d")?;
    let at = params.time("at")?.unwrap_or(context.now);
    let segment = params.segment()?;

    registered_model(&context.store, model).await?;
    let version = resolve_version(&context.store, model, params.get("version")).await?;
    let (snapshot, source) = window_snapshot(context, model, &version, window, at, segment.as_deref()).await?;
    Ok(MetricsResponse { snapshot, source })
}

/// Returns the stored snapshot of the window ending at `floor_hour(at)`, or computes it from the
/// aggregates when no scheduled run stored one.
pub(super) async fn window_snapshot(
    context: &Context,
    model: &str,
    version: &str,
    window: Window,
    at: DateTime<Utc>,
    segment: Option<&str>,
) -> Result<(Snapshot, Source), ApiError> {
    let series = Series {
        model,
        version,
        window: &window.to_string(),
        segment,
    };
    let stored = context
        .store
        .get_snapshot(series, floor_hour(at))
        .await
        .map_err(|e| ApiError::storage(&e))?;
    if let Some(snapshot) = stored {
        return Ok((snapshot, Source::Stored));
    }
    match window_metrics(&context.compute, model, version, window, at, segment).await {
        Ok(snapshot) => Ok((snapshot, Source::Computed)),
        Err(error) => Err(compute_error(model, error)),
    }
}

/// Turns a failed window computation into the API's error response.
fn compute_error(model: &str, error: ComputeError) -> ApiError {
    match error {
        ComputeError::ModelNotFound { .. } => unknown_model(model),
        ComputeError::InvalidSegment { .. } => ApiError::invalid(Some("segment"), error.to_string()),
        ComputeError::Store(error) => ApiError::storage(&error),
        // Reads never publish, so a publish error here means the code changed under this handler.
        ComputeError::Publish(_) | ComputeError::Task(_) => ApiError {
            status: 500,
            error: "internal error".into(),
            field: None,
            detail: format!("computing the window failed: {error}"),
        },
    }
}
