//! Query-string parameters of the read endpoints, parsed into typed values or a 400 naming the
//! parameter and the accepted forms.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::{
    http::ApiError,
    time::{TimeError, Window},
    validate::{is_model_name, model_name_reason},
};

/// The page size of a listing when `limit` is not given.
pub const DEFAULT_PAGE_SIZE: usize = 500;
/// The largest page size a listing accepts.
pub const MAX_PAGE_SIZE: usize = 1_000;

/// The parameters of one request, each given at most once.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Parses a raw query string, rejecting parameters not in `accepted` and repeated ones.
    pub fn parse(query: Option<&str>, accepted: &[&str]) -> Result<Self, ApiError> {
        let mut values = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            if !accepted.contains(&name.as_ref()) {
                let accepts = if accepted.is_empty() {
                    "this endpoint takes no parameters".to_string()
                } else {
                    format!("this endpoint accepts {}", accepted.join(", "))
                };
                return Err(ApiError::invalid(
                    Some(&name),
                    format!("unknown parameter {name:?}; {accepts}"),
                ));
            }
            if values.insert(name.to_string(), value.to_string()).is_some() {
                return Err(ApiError::invalid(
                    Some(&name),
                    format!("parameter {name:?} is given more than once; give it once"),
                ));
            }
        }
        Ok(Self { values })
    }

    /// Returns a parameter's value, or `None` when it is absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Returns a required parameter's value, or a 400 naming it with an example.
    pub fn required(&self, name: &str, example: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| {
            ApiError::invalid(
                Some(name),
                format!("missing parameter {name}; pass it, for example {name}={example}"),
            )
        })
    }

    /// Parses `name` as a window, or returns `default` when it is absent.
    pub fn window(&self, name: &str, default: &str) -> Result<Window, ApiError> {
        let text = self.get(name).unwrap_or(default);
        // A valid duration such as 30m is still not a window, so every failure gets the window
        // message, which lists the accepted forms.
        text.parse().map_err(|_| {
            let error = TimeError::InvalidWindow {
                value: text.to_string(),
            };
            ApiError::invalid(Some(name), error.to_string())
        })
    }

    /// Parses `name` as an RFC 3339 time, or returns `None` when it is absent.
    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        DateTime::parse_from_rfc3339(text)
            .map(|at| Some(at.with_timezone(&Utc)))
            .map_err(|_| {
                ApiError::invalid(
                    Some(name),
                    format!("invalid {name} {text:?}: write an RFC 3339 time with an offset, for example 2023-06-12T00:30:00Z"),
                )
            })
    }

    /// Parses `limit` as a page size from 1 to [`MAX_PAGE_SIZE`], or returns `default`.
    pub fn limit(&self, default: usize) -> Result<usize, ApiError> {
        let Some(text) = self.get("limit") else {
            return Ok(default);
        };
        match text.parse::<usize>() {
            Ok(limit) if (1..=MAX_PAGE_SIZE).contains(&limit) => Ok(limit),
            _ => Err(ApiError::invalid(
                Some("limit"),
                format!("invalid limit {text:?}: pass a whole number from 1 to {MAX_PAGE_SIZE}"),
            )),
        }
    }

    /// Parses `segment` as `key:value`, or returns `None` when it is absent. An empty value is
    /// written `key:`.
    pub fn segment(&self) -> Result<Option<String>, ApiError> {
        let Some(text) = self.get("segment") else {
            return Ok(None);
        };
        match text.split_once(':') {
            Some((key, _)) if !key.is_empty() => Ok(Some(text.to_string())),
            _ => Err(ApiError::invalid(
                Some("segment"),
                format!("invalid segment {text:?}: write it as key:value, for example stage:finals, or key: for an empty value"),
            )),
        }
    }
}

/// Checks a model name taken from the path.
pub fn check_model(model: &str) -> Result<(), ApiError> {
    if is_model_name(model) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            Some("model"),
            format!("model {}", model_name_reason(model)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<Params, ApiError> {
        Params::parse(Some(query), &["window", "at", "limit", "segment", "version"])
    }

    #[test]
    fn params_decode_percent_and_plus() {
        let params = parse("version=r%C3%A4ptor+2&segment=stage%3Afinals").unwrap();
        assert_eq!(params.get("version"), Some("räptor 2"));
        assert_eq!(params.get("segment"), Some("stage:finals"));
    }

    #[test]
    fn params_reject_unknown_name() {
        let error = parse("windw=7d").unwrap_err();
        assert_eq!(error.status, 400);
        assert_eq!(error.field.as_deref(), Some("windw"));
        assert!(error.detail.contains("window"));
    }

    #[test]
    fn params_reject_repeated_name() {
        let error = parse("window=7d&window=1d").unwrap_err();
        assert_eq!(error.field.as_deref(), Some("window"));
    }

    #[test]
    fn window_default_applies_when_absent() {
        assert_eq!(parse("").unwrap().window("window", "7d").unwrap().to_string(), "7d");
    }

    #[test]
    fn bad_window_lists_accepted_forms() {
        let error = parse("window=2w").unwrap().window("window", "7d").unwrap_err();
        assert_eq!(error.field.as_deref(), Some("window"));
        assert!(error.detail.contains("1h to 90d"), "{}", error.detail);
    }

    #[test]
    fn time_parses_offsets_to_utc() {
        let at = parse("at=2023-06-12T02:30:00%2B02:00").unwrap().time("at").unwrap();
        assert_eq!(at, Some("2023-06-12T00:30:00Z".parse().unwrap()));
    }

    #[test]
    fn time_without_offset_is_rejected() {
        let error = parse("at=2023-06-12T00:30:00").unwrap().time("at").unwrap_err();
        assert_eq!(error.field.as_deref(), Some("at"));
    }

    #[test]
    fn limit_outside_range_is_rejected() {
        for bad in ["0", "1001", "-1", "ten"] {
            let error = parse(&format!("limit={bad}")).unwrap().limit(10).unwrap_err();
            assert_eq!(error.field.as_deref(), Some("limit"), "{bad}");
        }
    }

    #[test]
    fn segment_accepts_empty_value() {
        assert_eq!(
            parse("segment=stage:").unwrap().segment().unwrap().as_deref(),
            Some("stage:")
        );
    }

    #[test]
    fn segment_without_key_is_rejected() {
        for bad in ["finals", ":finals"] {
            assert!(parse(&format!("segment={bad}")).unwrap().segment().is_err(), "{bad}");
        }
    }
}
