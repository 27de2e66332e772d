//! One scheduled run over every registered model.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tokio::{sync::Semaphore, task::JoinSet};
use tracing::{error, info, warn};

use super::{segment_keys, version_snapshots, ComputeDeps, ComputeError};
use crate::{
    aggregate::AggregateSet,
    cloudwatch::snapshot_datums,
    config::Config,
    model::ModelConfig,
    store::{aggregates::Span, history::SnapshotWrite, DirtyHour, RegisteredModel, Store},
    time::floor_hour,
    window_plan::{hours_of_day, WindowPlan},
};

/// Models computed at the same time in one run.
pub const MAX_CONCURRENT_MODELS: usize = 4;
/// Hours of one model rebuilt at the same time: each reads eight index shards.
pub const MAX_CONCURRENT_HOURS: usize = 8;

/// A model whose computation failed in a run; the other models are unaffected.
#[derive(Debug, Clone, Serialize)]
pub struct ModelFailure {
    /// The model name.
    pub model: String,
    /// What failed.
    pub error: String,
}

/// Counts of what one run did, returned by the function and logged.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TickSummary {
    /// The run's "now": the end of its windows is `floor_hour(now)`.
    pub now: Option<DateTime<Utc>>,
    /// Models registered.
    pub models: usize,
    /// Models not started because the run reached its deadline; the next run computes them.
    pub models_skipped: usize,
    /// Model versions whose windows were computed.
    pub versions: usize,
    /// Hour aggregates rebuilt from raw predictions.
    pub hours_rebuilt: usize,
    /// Day aggregates rebuilt from hour aggregates.
    pub days_rebuilt: usize,
    /// Dirty-hour markers left for the next run because they are younger than the settle time.
    pub markers_waiting: usize,
    /// Dirty-hour markers left because they were marked again during the rebuild.
    pub markers_remarked: usize,
    /// Snapshots stored because they were new or changed.
    pub snapshots_written: usize,
    /// Snapshots equal to the stored and published ones.
    pub snapshots_unchanged: usize,
    /// Datums sent to CloudWatch.
    pub datums_published: usize,
    /// Datums left out because CloudWatch would reject them.
    pub datums_rejected: usize,
    /// Models whose computation failed.
    pub failures: Vec<ModelFailure>,
}

impl TickSummary {
    fn add(&mut self, other: &TickSummary) {
        self.versions += other.versions;
        self.hours_rebuilt += other.hours_rebuilt;
        self.days_rebuilt += other.days_rebuilt;
        self.markers_waiting += other.markers_waiting;
        self.markers_remarked += other.markers_remarked;
        self.snapshots_written += other.snapshots_written;
        self.snapshots_unchanged += other.snapshots_unchanged;
        self.datums_published += other.datums_published;
        self.datums_rejected += other.datums_rejected;
    }
}

/// Runs the computation for every registered model at `now`.
///
/// Per model, the run rebuilds each dirty hour from its raw predictions, then the days that
/// contain them, and clears the markers. Then it computes every configured window of every
/// version with predictions in the longest window. It stores the snapshots that are new or
/// changed and publishes those. A model that
/// fails is logged and listed in the summary, and the others go on. Fails only when the models
/// cannot be listed.
pub async fn run_tick(deps: &ComputeDeps, config: &Config, now: DateTime<Utc>) -> Result<TickSummary, ComputeError> {
    let started = std::time::Instant::now();
    let models = deps.store.list_models().await?;
    let mut summary = TickSummary {
        now: Some(now),
        models: models.len(),
        ..TickSummary::default()
    };
    info!(now = %now, models = models.len(), "metrics computation started");

    // Start each run at a different model, so that runs cut short by the deadline do not
    // starve the same models every time.
    let mut models = models;
    if !models.is_empty() {
        let offset = (now.timestamp().div_euclid(60) as usize) % models.len();
        models.rotate_left(offset);
    }

    let permits = Arc::new(Semaphore::new(MAX_CONCURRENT_MODELS));
    let mut tasks = JoinSet::new();
    for model in models {
        let (deps, config, permits) = (deps.clone(), config.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            // A model not started before the deadline waits for the next run.
            if deps
                .deadline
                .is_some_and(|deadline| std::time::Instant::now() >= deadline)
            {
                return (model.name, None);
            }
            let result = compute_model(&deps, &config, &model, now).await;
            (model.name, Some(result))
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((_, None)) => summary.models_skipped += 1,
            Ok((_, Some(Ok(model_summary)))) => summary.add(&model_summary),
            Ok((model, Some(Err(failure)))) => {
                error!(model = %model, error = %failure, "metrics computation failed for model");
                summary.failures.push(ModelFailure {
                    model,
                    error: failure.to_string(),
                });
            }
            Err(join_error) => {
                error!(error = %join_error, "metrics computation task ended abnormally");
                summary.failures.push(ModelFailure {
                    model: "unknown".to_string(),
                    error: join_error.to_string(),
                });
            }
        }
    }
    summary.failures.sort_by(|a, b| a.model.cmp(&b.model));
    info!(
        now = %now,
        models = summary.models,
        versions = summary.versions,
        hours_rebuilt = summary.hours_rebuilt,
        days_rebuilt = summary.days_rebuilt,
        snapshots_written = summary.snapshots_written,
        datums_published = summary.datums_published,
        failures = summary.failures.len(),
        models_skipped = summary.models_skipped,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "metrics computation finished"
    );
    Ok(summary)
}

/// Rebuilds the dirty hours of one model, then computes and publishes its windows.
async fn compute_model(
    deps: &ComputeDeps,
    config: &Config,
    model: &RegisteredModel,
    now: DateTime<Utc>,
) -> Result<TickSummary, ComputeError> {
    let mut summary = rebuild_dirty_hours(deps, config, model).await?;

    let end = floor_hour(now);
    let longest = config
        .windows
        .iter()
        .map(|w| w.duration().delta())
        .max()
        .unwrap_or_default();
    let keys = segment_keys(&model.config);
    let mut snapshots = Vec::new();
    for version in deps.store.list_versions(&model.name).await? {
        // A version with no prediction inside the longest window has nothing to report.
        if version.first_at >= end || version.last_at < end - longest {
            continue;
        }
        summary.versions += 1;
        let computed = version_snapshots(
            deps,
            &model.name,
            &version.version,
            &model.config,
            &config.windows,
            end,
            &keys,
        )
        .await?;
        snapshots.extend(computed);
    }

    let mut to_publish = Vec::new();
    for snapshot in snapshots {
        match deps.store.put_snapshot(&snapshot, now, config.retention_days).await? {
            SnapshotWrite::Publish => {
                summary.snapshots_written += 1;
                to_publish.push(snapshot);
            }
            SnapshotWrite::Unchanged => summary.snapshots_unchanged += 1,
        }
    }
    if let Some(publisher) = &deps.publisher {
        let datums = to_publish
            .iter()
            .flat_map(|snapshot| snapshot_datums(snapshot, &config.published_metrics))
            .collect();
        let report = publisher.publish(datums).await?;
        summary.datums_published += report.sent;
        summary.datums_rejected += report.rejected.len();
    }
    for snapshot in &to_publish {
        deps.store.mark_snapshot_published(snapshot).await?;
    }
    Ok(summary)
}

/// Rebuilds every settled dirty hour of a model and the days holding them, then clears the
/// markers that were not re-marked meanwhile.
async fn rebuild_dirty_hours(
    deps: &ComputeDeps,
    config: &Config,
    model: &RegisteredModel,
) -> Result<TickSummary, ComputeError> {
    let mut summary = TickSummary::default();
    let settled_before = Utc::now() - deps.settle;
    let mut settled: Vec<DirtyHour> = Vec::new();
    for marker in deps.store.dirty_hours(&model.name).await? {
        if marker.marked_at > settled_before {
            summary.markers_waiting += 1;
        } else {
            settled.push(marker);
        }
    }
    if settled.is_empty() {
        return Ok(summary);
    }

    // A stable clock reading for `computed_at` and the TTL of the rebuilt items.
    let stored_at = Utc::now();
    let permits = Arc::new(Semaphore::new(MAX_CONCURRENT_HOURS));
    let mut rebuilds = JoinSet::new();
    for marker in settled.clone() {
        let (store, model, permits) = (deps.store.clone(), model.clone(), permits.clone());
        let retention_days = config.retention_days;
        rebuilds.spawn(async move {
            let _permit = permits.acquire_owned().await;
            rebuild_hour(&store, &model, &marker, stored_at, retention_days).await
        });
    }
    let mut days: BTreeMap<String, BTreeSet<NaiveDate>> = BTreeMap::new();
    let mut first_error = None;
    while let Some(joined) = rebuilds.join_next().await {
        match joined {
            Ok(Ok((version, day))) => {
                summary.hours_rebuilt += 1;
                days.entry(version).or_default().insert(day);
            }
            Ok(Err(error)) => {
                first_error.get_or_insert(error);
            }
            Err(join_error) => {
                first_error.get_or_insert(ComputeError::Task(join_error.to_string()));
            }
        }
    }
    // Markers stay when any hour failed, so the next run rebuilds them.
    if let Some(error) = first_error {
        return Err(error);
    }

    for (version, version_days) in &days {
        for day in version_days {
            rebuild_day(deps, config, &model.name, version, &model.config, *day, stored_at).await?;
            summary.days_rebuilt += 1;
        }
    }

    for marker in &settled {
        if !deps.store.clear_dirty(&model.name, marker).await? {
            summary.markers_remarked += 1;
        }
    }
    if summary.markers_remarked > 0 {
        warn!(model = %model.name, remarked = summary.markers_remarked, "hours marked again during rebuild; the next run rebuilds them");
    }
    Ok(summary)
}

/// Rebuilds one hour aggregate from the raw predictions and returns its version and day.
async fn rebuild_hour(
    store: &Store,
    model: &RegisteredModel,
    marker: &DirtyHour,
    stored_at: DateTime<Utc>,
    retention_days: u32,
) -> Result<(String, NaiveDate), ComputeError> {
    let predictions = store.read_hour(&model.name, &marker.version, marker.hour).await?;
    let set = AggregateSet::from_predictions(&model.config, &predictions)
        .map_err(|error| aggregate_failure(&model.name, &marker.version, error))?;
    store
        .put_aggregates(
            &model.name,
            &marker.version,
            Span::Hour(marker.hour),
            &set,
            stored_at,
            retention_days,
        )
        .await?;
    Ok((marker.version.clone(), marker.hour.date_naive()))
}

/// Rebuilds a day aggregate from the day's hour aggregates.
async fn rebuild_day(
    deps: &ComputeDeps,
    config: &Config,
    model: &str,
    version: &str,
    model_config: &ModelConfig,
    day: NaiveDate,
    stored_at: DateTime<Utc>,
) -> Result<(), ComputeError> {
    let plan = WindowPlan {
        days: Vec::new(),
        hours: hours_of_day(day),
    };
    let keys = segment_keys(model_config);
    let set = deps
        .store
        .read_window(model, version, model_config, &plan, &keys, &deps.read_stats)
        .await?;
    deps.store
        .put_aggregates(model, version, Span::Day(day), &set, stored_at, config.retention_days)
        .await?;
    Ok(())
}

fn aggregate_failure(model: &str, version: &str, error: crate::aggregate::AggregateError) -> ComputeError {
    ComputeError::Store(crate::store::StoreError::Corrupt {
        key: format!("{model}#{version}"),
        attribute: "config".to_string(),
        detail: error.to_string(),
    })
}
