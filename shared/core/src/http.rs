//! HTTP requests and responses independent of any server, shared by the Lambda functions and
//! the local server: route matching, JSON responses and the error body.

use serde::Serialize;
use serde_json::json;

use crate::{store::StoreError, validate::BodyError};

/// Seconds a client should wait before resending after a 503.
pub const RETRY_AFTER_SECS: u32 = 2;

/// An HTTP request, reduced to what the handlers read.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `POST`, `PUT`, ...
    pub method: &'a str,
    /// The path without the query string, such as `/v1/models/nba/monitors`.
    pub path: &'a str,
    /// The raw query string, without the `?`.
    pub query: Option<&'a str>,
    /// The raw body.
    pub body: &'a [u8],
}

/// An HTTP response with a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers besides `Content-Type`, which is always `application/json`.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: String,
}

impl Response {
    /// Builds a response with `value` as its JSON body.
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        let body = serde_json::to_string(value).unwrap_or_else(|e| {
            json!({ "error": "internal error", "field": null, "detail": format!("serialising the response failed: {e}") })
                .to_string()
        });
        let mut response = Self {
            status,
            headers: Vec::new(),
            body,
        };
        if status == 503 {
            response
                .headers
                .push(("Retry-After".into(), RETRY_AFTER_SECS.to_string()));
        }
        response
    }

    /// Returns the value of header `name`, compared without case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// An error response: `{ "error": ..., "field": ..., "detail": ... }` with its status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {error}: {detail}")]
pub struct ApiError {
    /// The status code.
    pub status: u16,
    /// A short description of the kind of error, such as `invalid request`.
    pub error: String,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// The problem and its fix.
    pub detail: String,
}

impl ApiError {
    /// Builds a 400 about `field`.
    pub fn invalid(field: Option<&str>, detail: impl Into<String>) -> Self {
        Self {
            status: 400,
            error: "invalid request".into(),
            field: field.map(String::from),
            detail: detail.into(),
        }
    }

    /// Builds a 404 for an unknown model or route.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self {
            status: 404,
            error: "not found".into(),
            field: None,
            detail: detail.into(),
        }
    }

    /// Builds a 409 for a change that conflicts with stored data.
    pub fn conflict(field: &str, detail: impl Into<String>) -> Self {
        Self {
            status: 409,
            error: "conflict".into(),
            field: Some(field.into()),
            detail: detail.into(),
        }
    }

    /// Builds a 503 (or a 500 for failures that retrying does not fix) for a storage error.
    pub fn storage(error: &StoreError) -> Self {
        let retryable = error.is_retryable();
        Self {
            status: if retryable { 503 } else { 500 },
            error: if retryable {
                "storage unavailable"
            } else {
                "storage failed"
            }
            .into(),
            field: None,
            detail: error.to_string(),
        }
    }

    /// Returns the error as a response.
    pub fn to_response(&self) -> Response {
        Response::json(
            self.status,
            &json!({ "error": self.error, "field": self.field, "detail": self.detail }),
        )
    }
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> Self {
        Self {
            status: error.status,
            error: if error.status == 413 {
                "body too large"
            } else {
                "invalid request"
            }
            .into(),
            field: error.field,
            detail: error.detail,
        }
    }
}

/// A route: a method and a path pattern whose `{name}` segments match any one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: &'static str,
    /// The path pattern, such as `/v1/models/{model}`.
    pub pattern: &'static str,
}

/// The result of matching a request against a route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteMatch {
    /// The route at this index matched, with the values of its `{name}` segments in order.
    Found(usize, Vec<String>),
    /// The path matched, but not with this method; the methods it accepts.
    MethodNotAllowed(Vec<&'static str>),
    /// No route has this path.
    NotFound,
}

fn match_path(pattern: &str, path: &str) -> Option<Vec<String>> {
    let mut params = Vec::new();
    let mut parts = path.split('/');
    for expected in pattern.split('/') {
        let part = parts.next()?;
        if expected.starts_with('{') && expected.ends_with('}') {
            if part.is_empty() {
                return None;
            }
            params.push(part.to_string());
        } else if expected != part {
            return None;
        }
    }
    parts.next().is_none().then_some(params)
}

/// Matches `method` and `path` against `routes`.
pub fn match_route(routes: &[Route], method: &str, path: &str) -> RouteMatch {
    let mut allowed = Vec::new();
    for (index, route) in routes.iter().enumerate() {
        if let Some(params) = match_path(route.pattern, path) {
            if route.method.eq_ignore_ascii_case(method) {
                return RouteMatch::Found(index, params);
            }
            allowed.push(route.method);
        }
    }
    if allowed.is_empty() {
        RouteMatch::NotFound
    } else {
        RouteMatch::MethodNotAllowed(allowed)
    }
}

/// Returns the response to a request whose route did not match.
pub fn unmatched(method: &str, path: &str, matched: RouteMatch) -> Response {
    match matched {
        RouteMatch::MethodNotAllowed(allowed) => {
            let mut response = Response::json(
                405,
                &json!({ "error": "method not allowed", "field": null,
                         "detail": format!("{path} accepts {}, not {method}", allowed.join(", ")) }),
            );
            response.headers.push(("Allow".into(), allowed.join(", ")));
            response
        }
        _ => ApiError::not_found(format!("no route {method} {path}; see openapi.yaml for the routes")).to_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &[Route] = &[
        Route {
            method: "PUT",
            pattern: "/v1/models/{model}",
        },
        Route {
            method: "GET",
            pattern: "/v1/models/{model}",
        },
    ];

    #[test]
    fn route_matches_parameter() {
        assert_eq!(
            match_route(ROUTES, "PUT", "/v1/models/nba"),
            RouteMatch::Found(0, vec!["nba".into()])
        );
    }

    #[test]
    fn route_wrong_method_lists_allowed() {
        assert_eq!(
            match_route(ROUTES, "DELETE", "/v1/models/nba"),
            RouteMatch::MethodNotAllowed(vec!["PUT", "GET"])
        );
    }

    #[test]
    fn route_extra_segment_is_not_found() {
        assert_eq!(match_route(ROUTES, "PUT", "/v1/models/nba/x"), RouteMatch::NotFound);
    }

    #[test]
    fn route_empty_parameter_is_not_found() {
        assert_eq!(match_route(ROUTES, "PUT", "/v1/models/"), RouteMatch::NotFound);
    }

    #[test]
    fn service_unavailable_carries_retry_after() {
        let response = Response::json(503, &json!({}));
        assert_eq!(response.header("retry-after"), Some("2"));
    }

    #[test]
    fn method_not_allowed_sets_allow_header() {
        let response = unmatched(
            "DELETE",
            "/v1/models/nba",
            match_route(ROUTES, "DELETE", "/v1/models/nba"),
        );
        assert_eq!(response.status, 405);
        assert_eq!(response.header("Allow"), Some("PUT, GET"));
    }
}
