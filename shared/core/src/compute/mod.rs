//! The scheduled metrics computation: re-aggregate dirty hours, compute every window, store the
//! snapshots and publish them to CloudWatch.
//!
//! "Now" is always a parameter (the EventBridge event's `time`), never the clock, so replays
//! and tests are deterministic. The one use of the wall clock is the settle time of dirty-hour
//! markers, which guards against the index's eventual consistency in real time.

mod drift;
mod metrics;
mod tick;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

pub use drift::{drift_metrics, group_by_reference_quantiles, DRIFT_GROUPS};
pub use metrics::{build_snapshot, Reference, SnapshotScope, INTERVAL_CONFIDENCE};
pub use tick::{run_tick, ModelFailure, TickSummary, MAX_CONCURRENT_HOURS, MAX_CONCURRENT_MODELS};

use crate::{
    aggregate::MAX_SEGMENT_KEYS,
    cloudwatch::{MetricPublisher, PublishError},
    model::ModelConfig,
    snapshot::Snapshot,
    store::{aggregates::ReadStats, Store, StoreError},
    time::{floor_hour, Window},
    window_plan::plan_window,
};

/// Length of the default drift reference: the 30 days before the window's start.
pub const DEFAULT_REFERENCE_DAYS: i64 = 30;

/// A failure of the metrics computation, naming the model and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// A DynamoDB call failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Publishing to CloudWatch failed.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// A computation task ended abnormally.
    #[error("a computation task ended abnormally: {0}; the next run retries")]
    Task(String),
    /// The model is not registered.
    #[error("model {model:?} is not registered; send its predictions or register it first")]
    ModelNotFound {
        /// The model name.
        model: String,
    },
    /// A segment that is not `key:value` with a configured key.
    #[error("invalid segment {segment:?}: write it as key:value with one of the model's segment keys {keys:?}")]
    InvalidSegment {
        /// The rejected segment.
        segment: String,
        /// The model's segment keys.
        keys: Vec<String>,
    },
}

/// The AWS clients and settings the computation runs with.
#[derive(Debug, Clone)]
pub struct ComputeDeps {
    /// The DynamoDB store.
    pub store: Store,
    /// The CloudWatch publisher, or none to keep the results in DynamoDB only.
    pub publisher: Option<MetricPublisher>,
    /// How long a dirty-hour marker rests, by the wall clock, before its hour is rebuilt; see
    /// [`crate::store::dirty::DIRTY_SETTLE_SECS`]. Local runs against the emulator, whose index
    /// is consistent at once, may use zero.
    pub settle: TimeDelta,
    /// Counters of the aggregate reads, shared by every run made with these dependencies.
    pub read_stats: Arc<ReadStats>,
    /// Wall-clock time after which a run starts no further model; none for no limit. The Lambda
    /// function sets it a margin before its own timeout.
    pub deadline: Option<std::time::Instant>,
}

impl ComputeDeps {
    /// Builds dependencies with the default settle time.
    pub fn new(store: Store, publisher: Option<MetricPublisher>) -> Self {
        Self {
            store,
            publisher,
            settle: TimeDelta::seconds(crate::store::dirty::DIRTY_SETTLE_SECS),
            read_stats: Arc::new(ReadStats::default()),
            deadline: None,
        }
    }

    /// Sets the wall-clock time after which a run starts no further model.
    pub fn with_deadline(mut self, deadline: std::time::Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Replaces the settle time of dirty-hour markers.
    pub fn with_settle(mut self, settle: TimeDelta) -> Self {
        self.settle = settle;
        self
    }
}

/// Returns the segment keys of a model that get their own metrics.
pub fn segment_keys(config: &ModelConfig) -> Vec<String> {
    config.segments.iter().take(MAX_SEGMENT_KEYS).cloned().collect()
}

/// Returns the drift reference period of a window starting at `start`.
pub fn reference_period(config: &ModelConfig, start: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    match &config.reference {
        Some(period) => (floor_hour(period.from), floor_hour(period.to)),
        None => (start - TimeDelta::days(DEFAULT_REFERENCE_DAYS), start),
    }
}

/// Computes the snapshots of one window of one version: the whole version first, then one per
/// value of each of `segment_keys`, in key and value order.
pub async fn window_snapshots(
    deps: &ComputeDeps,
    model: &str,
    version: &str,
    config: &ModelConfig,
    window: Window,
    end: DateTime<Utc>,
    segment_keys: &[String],
) -> Result<Vec<Snapshot>, ComputeError> {
    version_snapshots(deps, model, version, config, &[window], end, segment_keys).await
}

/// Computes the snapshots of several windows of one version, window by window, each as
/// [`window_snapshots`] orders them.
///
/// The windows and their drift references are read together, so an aggregate that several of
/// them hold is fetched once.
pub async fn version_snapshots(
    deps: &ComputeDeps,
    model: &str,
    version: &str,
    config: &ModelConfig,
    windows: &[Window],
    end: DateTime<Utc>,
    segment_keys: &[String],
) -> Result<Vec<Snapshot>, ComputeError> {
    // Plans in pairs: each window, then its reference period.
    let mut plans = Vec::with_capacity(2 * windows.len());
    let mut bounds = Vec::with_capacity(windows.len());
    for window in windows {
        let (start, end) = window.bounds(end);
        let (reference_start, reference_end) = reference_period(config, start);
        plans.push(plan_window(start, end));
        plans.push(plan_window(reference_start, reference_end));
        bounds.push((*window, start, end, reference_start, reference_end));
    }
    let sets = deps
        .store
        .read_windows(model, version, config, &plans, segment_keys, deps.read_stats.as_ref())
        .await?;

    let mut snapshots = Vec::new();
    for ((window, start, end, reference_start, reference_end), pair) in bounds.into_iter().zip(sets.chunks_exact(2)) {
        let (current, reference) = (&pair[0], &pair[1]);
        let scope = |segment: Option<String>| SnapshotScope {
            model: model.to_string(),
            version: version.to_string(),
            window,
            segment,
            start,
            end,
        };
        let reference_of = |aggregate| Reference {
            aggregate,
            start: reference_start,
            end: reference_end,
        };
        snapshots.push(build_snapshot(
            scope(None),
            &current.total,
            Some(reference_of(&reference.total)),
        ));
        for (key, values) in &current.segments {
            for (value, aggregate) in values {
                let reference = reference
                    .segments
                    .get(key)
                    .and_then(|values| values.get(value))
                    .map(reference_of);
                snapshots.push(build_snapshot(
                    scope(Some(format!("{key}:{value}"))),
                    aggregate,
                    reference,
                ));
            }
        }
    }
    Ok(snapshots)
}

/// Computes one window's snapshot from the stored aggregates without storing it, for any window
/// from 1h to 90d ending at `floor_hour(end)`.
///
/// `segment` is `key:value` with one of the model's segment keys, or none for the whole version.
/// The query API and the degradation checker call this when no stored snapshot matches.
pub async fn window_metrics(
    deps: &ComputeDeps,
    model: &str,
    version: &str,
    window: Window,
    end: DateTime<Utc>,
    segment: Option<&str>,
) -> Result<Snapshot, ComputeError> {
    let config = deps
        .store
        .get_model(model)
        .await?
        .ok_or_else(|| ComputeError::ModelNotFound {
            model: model.to_string(),
        })?;
    let Some(segment) = segment else {
        let mut snapshots = window_snapshots(deps, model, version, &config, window, end, &[]).await?;
        return Ok(snapshots.swap_remove(0));
    };

    let keys = segment_keys(&config);
    let invalid = || ComputeError::InvalidSegment {
        segment: segment.to_string(),
        keys: keys.clone(),
    };
    let (key, value) = segment.split_once(':').ok_or_else(invalid)?;
    if !keys.iter().any(|k| k == key) {
        return Err(invalid());
    }
    let snapshots = window_snapshots(deps, model, version, &config, window, end, &[key.to_string()]).await?;
    let wanted = format!("{key}:{value}");
    match snapshots
        .iter()
        .find(|snapshot| snapshot.segment.as_deref() == Some(wanted.as_str()))
    {
        Some(snapshot) => Ok(snapshot.clone()),
        // No prediction carried this value, so its snapshot is empty, with null metrics.
        None => {
            let empty = crate::aggregate::Aggregate::empty(&config).map_err(|error| StoreError::Corrupt {
                key: model.to_string(),
                attribute: "config".to_string(),
                detail: error.to_string(),
            })?;
            let (start, end) = window.bounds(end);
            let scope = SnapshotScope {
                model: model.to_string(),
                version: version.to_string(),
                window,
                segment: Some(wanted),
                start,
                end,
            };
            Ok(build_snapshot(scope, &empty, None))
        }
    }
}

#[cfg(test)]
mod tests;
