//! Start-up pieces every Lambda function shares: JSON logs and the time budget of an invocation.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Sets up JSON logs at the level `RUST_LOG` gives, `info` by default.
///
/// Lines carry no timestamp of their own, because CloudWatch Logs stamps every line it receives.
pub fn init_json_logging() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .without_time()
        .init();
}

/// Returns the time left for AWS calls: from `now` to the invocation's deadline (epoch
/// milliseconds) minus `margin`, or `default` when the invocation carries no deadline.
pub fn budget(deadline_ms: Option<u64>, now: DateTime<Utc>, margin: Duration, default: Duration) -> Duration {
    let Some(deadline_ms) = deadline_ms else {
        return default;
    };
    let now_ms = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    Duration::from_millis(deadline_ms.saturating_sub(now_ms)).saturating_sub(margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARGIN: Duration = Duration::from_millis(500);
    const DEFAULT: Duration = Duration::from_secs(10);

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    #[test]
    fn budget_is_time_left_minus_margin() {
        assert_eq!(
            budget(Some(5_000), at(1_000), MARGIN, DEFAULT),
            Duration::from_millis(3_500)
        );
    }

    #[test]
    fn budget_past_deadline_is_zero() {
        assert_eq!(budget(Some(1_000), at(1_200), MARGIN, DEFAULT), Duration::ZERO);
    }

    #[test]
    fn budget_without_deadline_is_default() {
        assert_eq!(budget(None, at(1_000), MARGIN, DEFAULT), DEFAULT);
    }
}
