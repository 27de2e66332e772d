//! `mpt tick --at TIME`: one compute-metrics run, then one check-degradation run, each with a
//! scheduled event at `TIME`, against `AWS_ENDPOINT_URL`.

use aws_config::BehaviorVersion;
use chrono::{DateTime, TimeDelta, Utc};
use mpt_core::{
    alert::{
        check::{run_check, CheckDeps, CheckSummary},
        sns::{ensure_local_alerts, local_queue_name, LOCAL_TOPIC},
    },
    cloudwatch::MetricPublisher,
    compute::{run_tick, ComputeDeps, TickSummary},
    store::Store,
    time::rfc3339,
    Config,
};

/// Options of `mpt tick`.
#[derive(Debug, Clone, clap::Args)]
pub struct TickArgs {
    /// The scheduled event's time, RFC 3339 (2023-06-13T00:00:00Z): the runs' "now".
    #[arg(long, value_name = "TIME", value_parser = parse_at)]
    pub at: DateTime<Utc>,
}

/// Parses `--at` as an RFC 3339 time, naming the expected form when it is not one.
fn parse_at(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| format!("{value:?} is not an RFC 3339 time ({error}); write it like 2023-06-13T00:00:00Z"))
}

/// A tick failure, naming what failed and what to do.
#[derive(Debug, thiserror::Error)]
pub enum TickError {
    /// `AWS_ENDPOINT_URL` is unset, so the runs would reach real AWS.
    #[error(
        "AWS_ENDPOINT_URL is not set; set it to the local emulator's URL, which `scripts/emulator.sh start` prints"
    )]
    MissingEndpoint,
    /// Setting up the clients or resources failed.
    #[error("{0}; check that the emulator at AWS_ENDPOINT_URL is running")]
    Setup(String),
    /// A run failed as a whole, or for some models or monitors.
    #[error("{function} at {at} failed: {detail}")]
    Run {
        /// `compute-metrics` or `check-degradation`.
        function: &'static str,
        /// The event's time.
        at: String,
        /// What failed.
        detail: String,
    },
}

/// Runs compute-metrics and then check-degradation at `args.at`, printing one line for each.
pub async fn run(args: TickArgs) -> Result<(), TickError> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|value| !value.trim().is_empty());
    if endpoint.is_none() {
        return Err(TickError::MissingEndpoint);
    }
    let mut config = Config::from_env().map_err(|error| TickError::Setup(error.to_string()))?;
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), config.table.clone());
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic_arn = match &config.topic_arn {
        Some(arn) => arn.clone(),
        None => {
            let sqs = aws_sdk_sqs::Client::new(&sdk);
            ensure_local_alerts(&sns, &sqs, LOCAL_TOPIC, &local_queue_name())
                .await
                .map_err(|error| TickError::Setup(error.to_string()))?
                .topic_arn
        }
    };
    config.topic_arn = Some(topic_arn.clone());
    let publisher = MetricPublisher::new(aws_sdk_cloudwatch::Client::new(&sdk), config.namespace.clone())
        .map_err(|error| TickError::Setup(error.to_string()))?;
    // The emulator's index is consistent at once, so dirty hours need no settle time.
    let compute = ComputeDeps::new(store.clone(), Some(publisher)).with_settle(TimeDelta::zero());
    let check = CheckDeps::aws(store, sns, topic_arn);
    let at = rfc3339(args.at);

    let computed = run_tick(&compute, &config, args.at)
        .await
        .map_err(|error| TickError::Run {
            function: "compute-metrics",
            at: at.clone(),
            detail: error.to_string(),
        })?;
    println!("{}", compute_line(&at, &computed));
    let checked = run_check(&check, &config, args.at)
        .await
        .map_err(|error| TickError::Run {
            function: "check-degradation",
            at: at.clone(),
            detail: error.to_string(),
        })?;
    println!("{}", check_line(&at, &checked));

    if let Some(failure) = computed.failures.first() {
        return Err(TickError::Run {
            function: "compute-metrics",
            at,
            detail: format!("model {}: {}", failure.model, failure.error),
        });
    }
    if checked.failures > 0 || !checked.failed_models.is_empty() {
        return Err(TickError::Run {
            function: "check-degradation",
            at,
            detail: format!(
                "{} monitors and {} models failed; rerun with RUST_LOG=warn to see why",
                checked.failures,
                checked.failed_models.len()
            ),
        });
    }
    Ok(())
}

/// Formats the one-line summary of a compute-metrics run.
pub fn compute_line(at: &str, summary: &TickSummary) -> String {
    format!(
        "compute-metrics at {at}: {} models, {} versions, {} hours and {} days rebuilt, {} snapshots stored \
         ({} unchanged), {} datums published, {} failed models",
        summary.models,
        summary.versions,
        summary.hours_rebuilt,
        summary.days_rebuilt,
        summary.snapshots_written,
        summary.snapshots_unchanged,
        summary.datums_published,
        summary.failures.len(),
    )
}

/// Formats the one-line summary of a check-degradation run.
pub fn check_line(at: &str, summary: &CheckSummary) -> String {
    format!(
        "check-degradation at {at}: {} models, {} rules evaluated, {} skipped, {} fired, {} escalated, \
         {} resolved, {} failed",
        summary.models,
        summary.evaluated,
        summary.skipped,
        summary.fired,
        summary.escalated,
        summary.resolved,
        summary.failures + summary.failed_models.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compute_line_counts_snapshots() {
        let summary = TickSummary {
            models: 1,
            snapshots_written: 16,
            ..TickSummary::default()
        };
        assert!(compute_line("2023-06-13T00:00:00Z", &summary).contains("16 snapshots stored"));
    }

    #[test]
    fn check_line_counts_firings() {
        let summary = CheckSummary {
            fired: 2,
            ..CheckSummary::default()
        };
        assert!(check_line("2023-06-13T00:00:00Z", &summary).contains("2 fired"));
    }

    #[test]
    fn parse_at_names_expected_form() {
        let error = parse_at("yesterday").unwrap_err();
        assert!(error.contains("2023-06-13T00:00:00Z"), "{error}");
    }

    #[test]
    fn parse_at_reads_offsets_as_utc() {
        let at = parse_at("2023-06-13T02:00:00+02:00").unwrap();
        assert_eq!(at.to_rfc3339(), "2023-06-13T00:00:00+00:00");
    }
}
