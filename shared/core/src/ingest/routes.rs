//! The routes of the write API, from a request to a JSON response.

use serde_json::{Map, Value};
use tracing::warn;

use super::{actuals, predictions, register_model, set_monitors, Context};
use crate::{
    http::{match_route, unmatched, ApiError, Request, Response, Route, RouteMatch},
    validate::parse_body,
};

/// The routes the write API serves, in the order [`route`] dispatches them.
pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        pattern: "/v1/predictions",
    },
    Route {
        method: "POST",
        pattern: "/v1/actuals",
    },
    Route {
        method: "PUT",
        pattern: "/v1/models/{model}",
    },
    Route {
        method: "PUT",
        pattern: "/v1/models/{model}/monitors",
    },
];

/// Handles one request to the write API and returns its response. Request content never
/// causes a panic, because every unreadable body or unknown route becomes an error response.
pub async fn route(context: &Context, request: &Request<'_>) -> Response {
    let (index, params) = match match_route(ROUTES, request.method, request.path) {
        RouteMatch::Found(index, params) => (index, params),
        other => return unmatched(request.method, request.path, other),
    };
    let body = match parse_body(request.body) {
        Ok(body) => body,
        Err(error) => return ApiError::from(error).to_response(),
    };
    let model = params.first().map(String::as_str).unwrap_or_default();
    match dispatch(context, index, model, &body).await {
        Ok(response) => response,
        Err(error) => {
            if error.status >= 500 {
                warn!(status = error.status, model, error = %error.detail, "request failed in storage");
            }
            error.to_response()
        }
    }
}

async fn dispatch(
    context: &Context,
    index: usize,
    model: &str,
    body: &Map<String, Value>,
) -> Result<Response, ApiError> {
    Ok(match index {
        0 => {
            let response = predictions(context, body).await?;
            Response::json(response.status(), &response)
        }
        1 => {
            let response = actuals(context, body).await?;
            Response::json(response.status(), &response)
        }
        2 => {
            let response = register_model(context, model, body).await?;
            Response::json(if response.created { 201 } else { 200 }, &response)
        }
        _ => Response::json(200, &set_monitors(context, model, body).await?),
    })
}
