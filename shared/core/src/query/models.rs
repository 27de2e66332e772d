//! `GET /v1/models` and `GET /v1/models/{model}/monitors`, and the model and version lookups
//! the other read handlers share.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::task::JoinSet;

use super::{
    params::{check_model, Params},
    Context,
};
use crate::{
    http::ApiError,
    model::ModelConfig,
    store::{Store, StoreError, VersionSummary},
};

/// Models whose versions are listed at once by `GET /v1/models`.
const MAX_CONCURRENT_LISTINGS: usize = 8;

/// One version of a model in `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// The version's name.
    pub version: String,
    /// Predictions stored for the version. Two clients storing the same new prediction at the
    /// same moment may both count it, so this is an upper bound.
    pub predictions: u64,
    /// Timestamp of its earliest prediction.
    pub first_prediction_at: DateTime<Utc>,
    /// Timestamp of its latest prediction.
    pub last_prediction_at: DateTime<Utc>,
}

/// One model in `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// The model's name.
    pub model: String,
    /// The registration: task, threshold, classes, segments and drift reference.
    #[serde(flatten)]
    pub config: ModelConfig,
    /// Predictions of every version together.
    pub predictions: u64,
    /// Earliest prediction of any version, null before the first one.
    pub first_prediction_at: Option<DateTime<Utc>>,
    /// Latest prediction of any version, null before the first one.
    pub last_prediction_at: Option<DateTime<Utc>>,
    /// Versions, the most recently active first.
    pub versions: Vec<VersionInfo>,
}

/// The response of `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelsResponse {
    /// Every registered model, by name.
    pub models: Vec<ModelSummary>,
}

/// The response of `GET /v1/models/{model}/monitors`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorsView {
    /// The model's name.
    pub model: String,
    /// `model` for the model's own rules, `default` for `MPT_DEFAULT_MONITORS`, or `none`.
    pub source: &'static str,
    /// The rules, as they were sent.
    pub monitors: Value,
}

/// Lists every registered model with its versions, counts and first and last prediction times.
pub(super) async fn list_models(context: &Context, query: Option<&str>) -> Result<ModelsResponse, ApiError> {
    Params::parse(query, &[])?;
    let models = context.store.list_models().await.map_err(|e| ApiError::storage(&e))?;

    let mut listings = JoinSet::new();
    let mut summaries: Vec<Option<ModelSummary>> = vec![None; models.len()];
    let mut pending = models.into_iter().enumerate();
    loop {
        while listings.len() < MAX_CONCURRENT_LISTINGS {
            let Some((index, model)) = pending.next() else {
                break;
            };
            let store = context.store.clone();
            listings.spawn(async move {
                let versions = store.list_versions(&model.name).await;
                (
                    index,
                    versions.map(|versions| summarize(model.name, model.config, versions)),
                )
            });
        }
        match listings.join_next().await {
            Some(Ok((index, summary))) => summaries[index] = Some(summary.map_err(|e| ApiError::storage(&e))?),
            Some(Err(error)) => {
                return Err(ApiError::storage(&StoreError::Unavailable {
                    operation: "Query",
                    message: format!("listing a model's versions stopped: {error}"),
                }))
            }
            None => break,
        }
    }
    Ok(ModelsResponse {
        models: summaries.into_iter().flatten().collect(),
    })
}

fn summarize(model: String, config: ModelConfig, mut versions: Vec<VersionSummary>) -> ModelSummary {
    versions.sort_by(|a, b| b.last_at.cmp(&a.last_at).then_with(|| a.version.cmp(&b.version)));
    ModelSummary {
        model,
        config,
        predictions: versions.iter().map(|v| v.predictions).sum(),
        first_prediction_at: versions.iter().map(|v| v.first_at).min(),
        last_prediction_at: versions.iter().map(|v| v.last_at).max(),
        versions: versions
            .into_iter()
            .map(|v| VersionInfo {
                version: v.version,
                predictions: v.predictions,
                first_prediction_at: v.first_at,
                last_prediction_at: v.last_at,
            })
            .collect(),
    }
}

/// Returns a model's monitor rules: its own, else the deployment's defaults, else none.
pub(super) async fn monitors(context: &Context, model: &str, query: Option<&str>) -> Result<MonitorsView, ApiError> {
    check_model(model)?;
    Params::parse(query, &[])?;
    registered_model(&context.store, model).await?;
    let stored = context
        .store
        .get_monitors(model)
        .await
        .map_err(|e| ApiError::storage(&e))?;
    let (source, monitors) = match (stored, &context.config.default_monitors) {
        (Some(set), _) => ("model", set.json),
        (None, Some(defaults)) => {
            // The defaults are the body of a PUT, `{"monitors": [...]}`. The degradation check
            // validates them when it starts, so an unreadable value here is a deployment fault.
            let body: Value = serde_json::from_str(defaults).map_err(|e| ApiError {
                status: 500,
                error: "invalid configuration".into(),
                field: None,
                detail: format!("MPT_DEFAULT_MONITORS is not JSON ({e}); fix the deployment parameter"),
            })?;
            (
                "default",
                body.get("monitors").cloned().unwrap_or(Value::Array(Vec::new())),
            )
        }
        (None, None) => ("none", Value::Array(Vec::new())),
    };
    Ok(MonitorsView {
        model: model.to_string(),
        source,
        monitors,
    })
}

/// Reads a model's registration, or a 404 naming the model.
pub(super) async fn registered_model(store: &Store, model: &str) -> Result<ModelConfig, ApiError> {
    match store.get_model(model).await {
        Ok(Some(config)) => Ok(config),
        Ok(None) => Err(unknown_model(model)),
        Err(error) => Err(ApiError::storage(&error)),
    }
}

/// Returns the 404 of a model that is not registered.
pub(super) fn unknown_model(model: &str) -> ApiError {
    ApiError {
        field: Some("model".into()),
        ..ApiError::not_found(format!(
            "model {model:?} is not registered; check the name with GET /v1/models, or send its predictions first"
        ))
    }
}

/// Returns `requested` when the model has that version, or the version with the most recent
/// prediction when `requested` is `None`. Fails with a 404 naming the known versions.
pub(super) async fn resolve_version(store: &Store, model: &str, requested: Option<&str>) -> Result<String, ApiError> {
    let versions = store.list_versions(model).await.map_err(|e| ApiError::storage(&e))?;
    let not_found = |detail: String| ApiError {
        field: Some("version".into()),
        ..ApiError::not_found(detail)
    };
    let known = || {
        let names: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
        names.join(", ")
    };
    match requested {
        Some(version) if versions.iter().any(|v| v.version == version) => Ok(version.to_string()),
        Some(version) if versions.is_empty() => Err(not_found(format!(
            "model {model:?} has no predictions yet, so it has no version {version:?}; send predictions first"
        ))),
        Some(version) => Err(not_found(format!(
            "model {model:?} has no version {version:?}; its versions are {}",
            known()
        ))),
        None => versions
            .iter()
            .max_by(|a, b| a.last_at.cmp(&b.last_at).then_with(|| b.version.cmp(&a.version)))
            .map(|v| v.version.clone())
            .ok_or_else(|| {
                not_found(format!(
                    "model {model:?} has no predictions yet, so there is no version to read; send predictions first"
                ))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Task;

    fn version(name: &str, first: &str, last: &str, predictions: u64) -> VersionSummary {
        VersionSummary {
            version: name.into(),
            first_at: first.parse().unwrap(),
            last_at: last.parse().unwrap(),
            predictions,
        }
    }

    #[test]
    fn summary_orders_versions_by_latest_prediction() {
        let summary = summarize(
            "nba".into(),
            ModelConfig::new(Task::Binary),
            vec![
                version("elo", "2023-01-01T00:00:00Z", "2023-03-01T00:00:00Z", 10),
                version("raptor", "2023-02-01T00:00:00Z", "2023-06-01T00:00:00Z", 5),
            ],
        );
        assert_eq!(summary.versions[0].version, "raptor");
        assert_eq!(summary.predictions, 15);
        assert_eq!(
            summary.first_prediction_at,
            Some("2023-01-01T00:00:00Z".parse().unwrap())
        );
        assert_eq!(
            summary.last_prediction_at,
            Some("2023-06-01T00:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn summary_without_versions_has_null_times() {
        let summary = summarize("nba".into(), ModelConfig::new(Task::Binary), Vec::new());
        assert_eq!(summary.predictions, 0);
        assert_eq!(summary.first_prediction_at, None);
    }

    #[test]
    fn summary_serialises_registration_flat() {
        let summary = summarize("nba".into(), ModelConfig::new(Task::Binary), Vec::new());
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["task"], "binary");
        assert_eq!(json["model"], "nba");
    }
}
