//! The write endpoints: predictions, actuals, model registration and monitor rules.
//!
//! Each handler validates every record, stores the valid ones and returns an outcome per record. The join
//! of actuals into predictions works in either arrival order because each side writes its own
//! items before it reads the other side's (see `docs/data-model.md`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use tokio::{task::JoinSet, time::Instant};
use tracing::warn;

use crate::{
    config::Config,
    record::ActualValue,
    store::{batch::Write, dirty::dirty_item, Store, StoreError},
};

mod actuals;
mod models;
mod predictions;
mod routes;

pub use actuals::actuals;
pub use models::{register_model, set_monitors, MonitorsResponse};
pub use predictions::predictions;
pub use routes::{route, ROUTES};

/// UpdateItem and Query calls in flight at once while joining actuals.
const MAX_CONCURRENT_JOINS: usize = 16;

/// The inputs every write handler shares: the store, the configuration, "now" and a deadline.
#[derive(Debug, Clone)]
pub struct Context {
    /// The table.
    pub store: Store,
    /// The deployment configuration.
    pub config: Config,
    /// The current time, used for future-timestamp checks, `stored_at` and TTL.
    pub now: DateTime<Utc>,
    /// When storage retries must stop; the Lambda passes its remaining time minus a margin.
    pub deadline: Instant,
}

/// A (version, hour start) pair whose aggregate must be rebuilt.
pub(crate) type HourRef = (String, DateTime<Utc>);

/// Writes a dirty marker for each hour and returns the outcome per hour.
pub(crate) async fn mark_hours(
    context: &Context,
    model: &str,
    hours: &BTreeSet<HourRef>,
) -> BTreeMap<HourRef, Result<(), StoreError>> {
    let writes = hours
        .iter()
        .map(|(version, hour)| Write::Put(dirty_item(model, version, *hour, context.config.retention_days)))
        .collect();
    let outcomes = context.store.batch_write(writes, context.deadline).await;
    hours.iter().cloned().zip(outcomes).collect()
}

/// Fills `actual` into every version's prediction of each id that lacks one. Returns, per id in
/// input order, the hours of the predictions that now hold the actual, or the error that
/// stopped it.
pub(crate) async fn join_actuals(
    context: &Context,
    model: &str,
    actuals: Vec<(String, ActualValue, DateTime<Utc>)>,
) -> Vec<Result<Vec<HourRef>, StoreError>> {
    let mut results: Vec<Result<Vec<HourRef>, StoreError>> = (0..actuals.len())
        .map(|_| {
            Err(StoreError::Unavailable {
                operation: "Query",
                message: "the join task ended without a result".into(),
            })
        })
        .collect();
    let mut running = JoinSet::new();
    let mut pending = actuals.into_iter().enumerate();
    loop {
        while running.len() < MAX_CONCURRENT_JOINS {
            let Some((index, (id, actual, at))) = pending.next() else {
                break;
            };
            let store = context.store.clone();
            let model = model.to_string();
            let deadline = context.deadline;
            running.spawn(async move { (index, join_one(&store, &model, &id, &actual, at, deadline).await) });
        }
        match running.join_next().await {
            Some(Ok((index, result))) => results[index] = result,
            Some(Err(error)) => warn!(error = %error, "a join task ended without a result"),
            None => return results,
        }
    }
}

async fn join_one(
    store: &Store,
    model: &str,
    id: &str,
    actual: &ActualValue,
    at: DateTime<Utc>,
    deadline: Instant,
) -> Result<Vec<HourRef>, StoreError> {
    // The hours of predictions that already hold this actual are returned too, so that a resend
    // re-marks them when an earlier marking failed.
    let mut hours = Vec::new();
    for prediction in store.predictions_of_id(model, id, deadline).await? {
        let joined = match &prediction.actual {
            Some(stored) => stored == actual,
            None => {
                store
                    .fill_actual(model, id, &prediction.version, actual, at, deadline)
                    .await?
            }
        };
        if joined {
            hours.push((prediction.version, crate::time::floor_hour(prediction.timestamp)));
        }
    }
    Ok(hours)
}

/// The first storage failure of each record, by the record's index in the request.
pub(crate) struct Progress {
    failures: BTreeMap<usize, String>,
}

impl Progress {
    pub(crate) fn new() -> Self {
        Self {
            failures: BTreeMap::new(),
        }
    }

    /// Records that `index` failed, keeping the first reason.
    pub(crate) fn fail(&mut self, index: usize, error: &StoreError) {
        self.failures.entry(index).or_insert_with(|| error.record_reason());
    }

    pub(crate) fn failed(&self, index: usize) -> bool {
        self.failures.contains_key(&index)
    }

    pub(crate) fn reason(&self, index: usize) -> Option<&str> {
        self.failures.get(&index).map(String::as_str)
    }
}
