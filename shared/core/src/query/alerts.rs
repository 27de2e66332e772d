//! `GET /v1/models/{model}/alerts`: the alert log, oldest first, and each monitor's state.

use super::{
    models::registered_model,
    params::{check_model, Params},
    Context,
};
use crate::{
    alert::{
        report::{alerts_response, AlertsResponse, DEFAULT_PAGE_LIMIT},
        store::AlertError,
    },
    http::ApiError,
    pagination::scope,
};

/// Reads a page of a model's alert log and the current state of each of its monitors.
///
/// The log's own position token is sealed inside this API's tamper-checked token, so a client
/// cannot start a page at a position it was not given.
pub(super) async fn alerts(context: &Context, model: &str, query: Option<&str>) -> Result<AlertsResponse, ApiError> {
    check_model(model)?;
    let params = Params::parse(query, &["limit", "next"])?;
    let limit = params.limit(DEFAULT_PAGE_LIMIT)?;
    let token_scope = scope(["alerts", model]);
    let after = match params.get("next") {
        Some(token) => Some(
            context
                .tokens
                .open(&token_scope, token)
                .map_err(|error| ApiError::invalid(Some("next"), error.to_string()))?,
        ),
        None => None,
    };

    registered_model(&context.store, model).await?;
    let mut response = alerts_response(&context.store, model, Some(limit), after.as_deref())
        .await
        .map_err(alert_error)?;
    response.next = response
        .next
        .map(|position| context.tokens.seal(&token_scope, &position));
    Ok(response)
}

/// Turns a failed alert-log read into the API's error response.
fn alert_error(error: AlertError) -> ApiError {
    match error {
        AlertError::Store(error) => ApiError::storage(&error),
        // The position came out of a token this API sealed, so an invalid one is a server fault.
        other => ApiError {
            status: 500,
            error: "internal error".into(),
            field: None,
            detail: format!("reading the alert log failed: {other}"),
        },
    }
}
