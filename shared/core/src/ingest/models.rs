//! `PUT /v1/models/{model}` and `PUT /v1/models/{model}/monitors`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tracing::info;

use super::Context;
use crate::{
    http::ApiError,
    model::ModelResponse,
    monitor::{check_rule_metrics, parse_monitors, MonitorError},
    validate::{is_model_name, model_name_reason, parse_model_config},
};

/// The response of `PUT /v1/models/{model}/monitors`: the rules as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorsResponse {
    /// The model's name.
    pub model: String,
    /// The rules exactly as sent.
    pub monitors: Value,
}

fn check_model_name(model: &str) -> Result<(), ApiError> {
    if is_model_name(model) {
        Ok(())
    } else {
        Err(ApiError::invalid(Some("model"), model_name_reason(model)))
    }
}

/// Registers a model or updates its registration. Changing the task of a registered model is
/// a conflict, because its stored predictions were checked against the old task.
pub async fn register_model(
    context: &Context,
    model: &str,
    body: &Map<String, Value>,
) -> Result<ModelResponse, ApiError> {
    check_model_name(model)?;
    let config = parse_model_config(body).map_err(|e| ApiError::invalid(Some(&e.field), e.reason))?;
    let existing = context
        .store
        .get_model(model)
        .await
        .map_err(|e| ApiError::storage(&e))?;
    if let Some(existing) = &existing {
        if existing.task != config.task {
            return Err(ApiError::conflict(
                "task",
                format!(
                    "model {model} is registered as {}, and its stored predictions were checked against that task; \
                     register the {} model under a new name",
                    existing.task, config.task
                ),
            ));
        }
    }
    context
        .store
        .put_model(model, &config, context.now, context.deadline)
        .await
        .map_err(|e| ApiError::storage(&e))?;
    Ok(ModelResponse {
        model: model.to_string(),
        config,
        created: existing.is_none(),
    })
}

/// Replaces a registered model's monitor rules.
pub async fn set_monitors(
    context: &Context,
    model: &str,
    body: &Map<String, Value>,
) -> Result<MonitorsResponse, ApiError> {
    check_model_name(model)?;
    if let Some(unknown) = body.keys().find(|k| *k != "monitors") {
        return Err(ApiError::invalid(
            Some(unknown),
            "unknown field; the body holds monitors",
        ));
    }
    let monitors = body
        .get("monitors")
        .ok_or_else(|| ApiError::invalid(Some("monitors"), "is required; send [] to remove every rule"))?;
    let invalid = |e: MonitorError| ApiError::invalid(Some(&format!("monitors[{}].{}", e.index, e.field)), e.reason);
    let rules = parse_monitors(monitors).map_err(invalid)?;
    let Some(config) = context
        .store
        .get_model(model)
        .await
        .map_err(|e| ApiError::storage(&e))?
    else {
        return Err(ApiError::not_found(format!(
            "model {model} is not registered; register it with PUT /v1/models/{model} or send its predictions first"
        )));
    };
    check_rule_metrics(&rules, Some(config.task)).map_err(invalid)?;
    context
        .store
        .put_monitors(model, monitors, context.now, context.deadline)
        .await
        .map_err(|e| ApiError::storage(&e))?;
    info!(model, rules = rules.len(), "monitor rules replaced");
    Ok(MonitorsResponse {
        model: model.to_string(),
        monitors: monitors.clone(),
    })
}
