//! `GET /v1/models/{model}/history`: one metric of the stored snapshots of a window, over time.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{
    models::{registered_model, resolve_version},
    params::{check_model, Params, DEFAULT_PAGE_SIZE},
    Context,
};
use crate::{
    alert::metric::computed_names,
    http::ApiError,
    model::Task,
    pagination::{scope, PageTokenError},
    snapshot::Snapshot,
    store::{history::Series, keys},
    time::{rfc3339, Window},
};

/// One stored snapshot's value of the requested metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// The end of the window the value covers.
    pub end: DateTime<Utc>,
    /// The metric's value, null when it was undefined for that window.
    pub value: Option<f64>,
    /// Labelled predictions in the window.
    pub labelled: u64,
    /// The reason the value is null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The response of the history endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryResponse {
    /// The model's name.
    pub model: String,
    /// The version read: the requested one, or the one with the most recent prediction.
    pub version: String,
    /// The window length of every point.
    pub window: Window,
    /// The metric.
    pub metric: String,
    /// The segment as `key:value`, absent for the whole version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Points in time order, oldest first.
    pub points: Vec<HistoryPoint>,
    /// The token of the next page, null on the last page.
    pub next: Option<String>,
}

/// Reads a page of a metric's history.
pub(super) async fn history(context: &Context, model: &str, query: Option<&str>) -> Result<HistoryResponse, ApiError> {
    check_model(model)?;
    let params = Params::parse(
        query,
        &["metric", "window", "version", "segment", "from", "to", "limit", "next"],
    )?;
    let metric = params.required("metric", "roc_auc")?.to_string();
    let window = params.window("window", "1d")?;
    let segment = params.segment()?;
    let from = params.time("from")?.unwrap_or(DateTime::UNIX_EPOCH);
    let to = params.time("to")?.unwrap_or(context.now);
    let limit = params.limit(DEFAULT_PAGE_SIZE)?;
    if from > to {
        return Err(ApiError::invalid(
            Some("from"),
            format!(
                "from {} is after to {}; pass from earlier than to",
                rfc3339(from),
                rfc3339(to)
            ),
        ));
    }

    // The token names the version of the first page, so a new version appearing mid-listing
    // does not switch series halfway.
    let window_text = window.to_string();
    let token_scope = scope([
        "history",
        model,
        params.get("version").unwrap_or_default(),
        &window_text,
        segment.as_deref().unwrap_or("*"),
        &metric,
        &rfc3339(from),
        &params.get("to").map(|_| rfc3339(to)).unwrap_or_default(),
    ]);
    let position = match params.get("next") {
        Some(token) => Some(open_position(context, &token_scope, token)?),
        None => None,
    };

    let config = registered_model(&context.store, model).await?;
    check_metric(&metric, config.task)?;
    let (version, start) = match position {
        Some((version, after)) => (version, after + TimeDelta::seconds(1)),
        None => (
            resolve_version(&context.store, model, params.get("version")).await?,
            from,
        ),
    };
    let series = Series {
        model,
        version: &version,
        window: &window_text,
        segment: segment.as_deref(),
    };
    let mut snapshots = context
        .store
        .list_snapshots(series, start, to, limit + 1)
        .await
        .map_err(|e| ApiError::storage(&e))?;

    let next = if snapshots.len() > limit {
        snapshots.truncate(limit);
        snapshots
            .last()
            .map(|last| context.tokens.seal(&token_scope, &position_text(&version, last.end)))
    } else {
        None
    };
    Ok(HistoryResponse {
        model: model.to_string(),
        version,
        window,
        metric: metric.clone(),
        segment,
        points: snapshots.iter().map(|snapshot| point(snapshot, &metric)).collect(),
        next,
    })
}

/// Rejects a metric that models of `task` do not have, naming the ones they do.
fn check_metric(metric: &str, task: Task) -> Result<(), ApiError> {
    let valid = computed_names(Some(task));
    if valid.contains(&metric) {
        return Ok(());
    }
    Err(ApiError::invalid(
        Some("metric"),
        format!(
            "metric {metric:?} is not computed for a {task} model; use one of {}",
            valid.join(", ")
        ),
    ))
}

/// Returns a snapshot's point for `metric`, with the reason when the value is null.
fn point(snapshot: &Snapshot, metric: &str) -> HistoryPoint {
    let value = snapshot.value(metric);
    let reason = match value {
        Some(_) => None,
        None => Some(
            snapshot
                .reasons
                .get(metric)
                .cloned()
                .unwrap_or_else(|| format!("{metric} is not computed for this model's task")),
        ),
    };
    HistoryPoint {
        end: snapshot.end,
        value,
        labelled: snapshot.labelled,
        reason,
    }
}

/// Formats a page position: the version, escaped, then the end of the last point returned.
fn position_text(version: &str, end: DateTime<Utc>) -> String {
    format!("{}#{}", keys::escape(version), rfc3339(end))
}

/// Opens a `next` token into the version and the end of the last point already returned.
fn open_position(context: &Context, token_scope: &str, token: &str) -> Result<(String, DateTime<Utc>), ApiError> {
    let invalid = |error: PageTokenError| ApiError::invalid(Some("next"), error.to_string());
    let position = context.tokens.open(token_scope, token).map_err(invalid)?;
    let (version, end) = position.rsplit_once('#').ok_or(invalid(PageTokenError::Malformed))?;
    let end = DateTime::parse_from_rfc3339(end).map_err(|_| invalid(PageTokenError::Malformed))?;
    Ok((keys::unescape(version), end.with_timezone(&Utc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_unknown_metric_is_rejected() {
        let error = check_metric("nope", Task::Binary).unwrap_err();
        assert_eq!(error.field.as_deref(), Some("metric"));
    }

    #[test]
    fn history_unknown_metric_names_value_and_valid_names() {
        let error = check_metric("nope", Task::Binary).unwrap_err();
        assert!(error.detail.contains("\"nope\""), "{}", error.detail);
        assert!(error.detail.contains("roc_auc"), "{}", error.detail);
    }

    #[test]
    fn history_metric_of_other_task_is_rejected() {
        assert!(check_metric("roc_auc", Task::Regression).is_err());
    }

    #[test]
    fn history_metric_of_task_is_accepted() {
        for (metric, task) in [
            ("roc_auc", Task::Binary),
            ("macro_f1", Task::Multiclass),
            ("mae", Task::Regression),
            ("psi", Task::Regression),
            ("labelled", Task::Binary),
        ] {
            assert!(check_metric(metric, task).is_ok(), "{metric} on {task}");
        }
    }

    #[test]
    fn position_round_trips_version_with_separator() {
        let end: DateTime<Utc> = "2023-06-12T00:00:00Z".parse().unwrap();
        let text = position_text("v#2", end);
        let (version, parsed) = text.rsplit_once('#').unwrap();
        assert_eq!(keys::unescape(version), "v#2");
        assert_eq!(parsed, "2023-06-12T00:00:00Z");
    }
}
