//! Deployment configuration, read from the environment once at start-up.

use std::env;

use crate::time::{parse_windows, TimeError, Window};

/// Every environment variable the functions read, so the template check can hold them to it.
pub const ENV_VARS: &[&str] = &[
    "MPT_TABLE",
    "MPT_TOPIC_ARN",
    "MPT_NAMESPACE",
    "MPT_WINDOWS",
    "MPT_RETENTION_DAYS",
    "MPT_DASHBOARD_URL",
    "MPT_PUBLISHED_METRICS",
    "MPT_DEFAULT_MONITORS",
    "MPT_PAGINATION_KEY",
];

/// The metrics published to CloudWatch when `MPT_PUBLISHED_METRICS` is unset.
pub const DEFAULT_PUBLISHED_METRICS: &[&str] = &[
    "predictions",
    "label_coverage",
    "accuracy",
    "roc_auc",
    "f1",
    "log_loss",
    "brier",
    "latency_p99_ms",
    "roi",
];

/// A configuration value that cannot be used, naming the variable and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `MPT_WINDOWS` holds an invalid window.
    #[error("MPT_WINDOWS is invalid: {0}")]
    Windows(#[from] TimeError),
    /// A numeric variable that does not parse or is out of range.
    #[error("{name} must be {expected}, got {value:?}")]
    Invalid {
        /// The variable's name.
        name: &'static str,
        /// What the variable must hold.
        expected: &'static str,
        /// The rejected value.
        value: String,
    },
}

/// The configuration every function shares.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table name (`MPT_TABLE`, default `mpt`).
    pub table: String,
    /// SNS topic ARN for alerts (`MPT_TOPIC_ARN`); local runs create the topic `mpt-alerts` when unset.
    pub topic_arn: Option<String>,
    /// CloudWatch namespace (`MPT_NAMESPACE`, default `ModelPerformance`).
    pub namespace: String,
    /// Windows computed on every tick (`MPT_WINDOWS`, default `1h,1d,7d,30d`).
    pub windows: Vec<Window>,
    /// Days raw items and history are kept (`MPT_RETENTION_DAYS`, default 400).
    pub retention_days: u32,
    /// Link put in alert messages (`MPT_DASHBOARD_URL`).
    pub dashboard_url: Option<String>,
    /// Metric names published to CloudWatch (`MPT_PUBLISHED_METRICS`, comma-separated).
    pub published_metrics: Vec<String>,
    /// Monitor rules, as the JSON body of `PUT /v1/models/{model}/monitors`, applied to models
    /// that have none of their own (`MPT_DEFAULT_MONITORS`).
    pub default_monitors: Option<String>,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let windows = parse_windows(&lookup("MPT_WINDOWS").unwrap_or_else(|| "1h,1d,7d,30d".to_string()))?;
        let retention_days = match lookup("MPT_RETENTION_DAYS") {
            None => 400,
            Some(value) => match value.trim().parse::<u32>() {
                Ok(days) if days > 0 => days,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "MPT_RETENTION_DAYS",
                        expected: "a whole number of days greater than 0",
                        value,
                    })
                }
            },
        };
        let published_metrics = match lookup("MPT_PUBLISHED_METRICS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            None => DEFAULT_PUBLISHED_METRICS.iter().map(|s| s.to_string()).collect(),
        };
        Ok(Self {
            table: lookup("MPT_TABLE").unwrap_or_else(|| "mpt".to_string()),
            topic_arn: lookup("MPT_TOPIC_ARN"),
            namespace: lookup("MPT_NAMESPACE").unwrap_or_else(|| "ModelPerformance".to_string()),
            windows,
            retention_days,
            dashboard_url: lookup("MPT_DASHBOARD_URL"),
            published_metrics,
            default_monitors: lookup("MPT_DEFAULT_MONITORS"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_without_environment() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.table, "mpt");
        assert_eq!(config.namespace, "ModelPerformance");
        assert_eq!(config.windows.len(), 4);
        assert_eq!(config.retention_days, 400);
        assert_eq!(config.published_metrics.len(), DEFAULT_PUBLISHED_METRICS.len());
    }

    #[test]
    fn config_rejects_zero_retention() {
        let error = Config::from_lookup(|name| (name == "MPT_RETENTION_DAYS").then(|| "0".to_string())).unwrap_err();
        assert!(error.to_string().contains("MPT_RETENTION_DAYS"));
    }

    #[test]
    fn config_rejects_bad_window() {
        let error = Config::from_lookup(|name| (name == "MPT_WINDOWS").then(|| "1h,2w".to_string())).unwrap_err();
        assert!(error.to_string().contains("2w"));
    }
}
