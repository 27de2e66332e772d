//! `POST /v1/actuals`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};
use tracing::{info, warn};

use super::{join_actuals, mark_hours, Context, HourRef, Progress};
use crate::{
    http::ApiError,
    record::{ActualRecord, BatchResponse, Failure},
    store::{
        batch::Write,
        item::{actual_item, decode_actual_item, time_value, StoredActual},
        keys::{prediction_pk, ACTUAL_SK},
        Key,
    },
    validate::{check_actual_value, parse_actual, parse_batch, record_id, FieldError},
};

/// Stores a batch of actuals, joins them into every version's prediction of their ids, and
/// returns an outcome per record. Actuals for a model not registered yet are checked for form only.
pub async fn actuals(context: &Context, body: &Map<String, Value>) -> Result<BatchResponse, ApiError> {
    let (model, values) = parse_batch(body, "actuals")?;
    let mut response = BatchResponse::default();

    let mut parsed: Vec<(usize, ActualRecord)> = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        match parse_actual(value, context.now) {
            Ok(record) => parsed.push((index, record)),
            Err(error) => response.rejected.push(error.reject(index, record_id(value))),
        }
    }
    if parsed.is_empty() {
        return Ok(response);
    }

    let config = match context.store.get_model(&model).await {
        Ok(config) => config,
        Err(error) => {
            warn!(model = %model, error = %error, "reading the model registration failed");
            response.failed = parsed
                .iter()
                .map(|(index, record)| Failure {
                    index: *index,
                    id: Some(record.id.clone()),
                    reason: error.record_reason(),
                })
                .collect();
            return Ok(response);
        }
    };

    // Check each record against the model and against the others in the batch.
    let mut candidates: Vec<(usize, StoredActual)> = Vec::with_capacity(parsed.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, record) in parsed {
        let reject = |error: FieldError| error.reject(index, Some(record.id.clone()));
        if let Some(config) = &config {
            if let Err(error) = check_actual_value("actual", &record.actual, config) {
                response.rejected.push(reject(error));
                continue;
            }
        }
        if let Some(first) = seen.get(&record.id) {
            let reason = format!("conflict: records {first} and {index} have the same id; send each actual once");
            response.rejected.push(reject(FieldError::new("id", reason)));
            continue;
        }
        seen.insert(record.id.clone(), index);
        candidates.push((
            index,
            StoredActual {
                id: record.id.clone(),
                actual: record.actual.normalized(),
                timestamp: record.timestamp.unwrap_or(context.now),
                timestamp_sent: record.timestamp.is_some(),
            },
        ));
    }

    // Compare with the stored actuals: a repeat counts as stored, a different one is a conflict.
    let mut progress = Progress::new();
    let keys: Vec<Key> = candidates
        .iter()
        .map(|(_, actual)| Key::new(prediction_pk(&model, &actual.id), ACTUAL_SK))
        .collect();
    let found = context.store.batch_get(&keys, true, context.deadline).await;
    let mut accepted: Vec<(usize, StoredActual, bool)> = Vec::with_capacity(candidates.len());
    for ((index, actual), outcome) in candidates.into_iter().zip(found) {
        let stored = match outcome.and_then(|item| item.as_ref().map(decode_actual_item).transpose()) {
            Ok(stored) => stored,
            Err(error) => {
                progress.fail(index, &error);
                accepted.push((index, actual, false));
                continue;
            }
        };
        let Some(stored) = stored else {
            accepted.push((index, actual, true));
            continue;
        };
        let conflict =
            |field: &str, reason: String| FieldError::new(field, reason).reject(index, Some(actual.id.clone()));
        if stored.actual != actual.actual {
            let reason = format!(
                "conflict: the stored actual of this id is {}, not {}",
                stored.actual, actual.actual
            );
            response.rejected.push(conflict("actual", reason));
        } else if stored.timestamp_sent && actual.timestamp_sent && stored.timestamp != actual.timestamp {
            let reason = format!(
                "conflict: the stored actual of this id has timestamp {}, not {}",
                time_value(stored.timestamp),
                time_value(actual.timestamp)
            );
            response.rejected.push(conflict("timestamp", reason));
        } else {
            // Join with the stored actual's time, so that a repeat changes nothing.
            accepted.push((index, stored, false));
        }
    }

    // Write the new actuals.
    let new: Vec<&(usize, StoredActual, bool)> = accepted
        .iter()
        .filter(|(i, _, new)| *new && !progress.failed(*i))
        .collect();
    let writes = new
        .iter()
        .map(|(_, actual, _)| Write::Put(actual_item(&model, actual, context.now, context.config.retention_days)))
        .collect();
    for ((index, _, _), outcome) in new
        .iter()
        .zip(context.store.batch_write(writes, context.deadline).await)
    {
        if let Err(error) = outcome {
            progress.fail(*index, &error);
        }
    }

    // Fill every version's prediction of each id, new or repeated, so a resend repairs a join
    // that an earlier failure cut short; then mark the hours whose labels changed.
    let joining: Vec<&(usize, StoredActual, bool)> = accepted.iter().filter(|(i, _, _)| !progress.failed(*i)).collect();
    let requests = joining
        .iter()
        .map(|(_, actual, _)| (actual.id.clone(), actual.actual.clone(), actual.timestamp))
        .collect();
    let mut owners: BTreeMap<HourRef, Vec<usize>> = BTreeMap::new();
    for ((index, _, _), result) in joining.iter().zip(join_actuals(context, &model, requests).await) {
        match result {
            Ok(hours) => hours
                .into_iter()
                .for_each(|hour| owners.entry(hour).or_default().push(*index)),
            Err(error) => progress.fail(*index, &error),
        }
    }
    let hours: BTreeSet<HourRef> = owners.keys().cloned().collect();
    for (hour, outcome) in mark_hours(context, &model, &hours).await {
        if let Err(error) = outcome {
            owners[&hour].iter().for_each(|&index| progress.fail(index, &error));
        }
    }

    for (index, actual, _) in &accepted {
        match progress.reason(*index) {
            Some(reason) => response.failed.push(Failure {
                index: *index,
                id: Some(actual.id.clone()),
                reason: reason.to_string(),
            }),
            None => response.stored += 1,
        }
    }
    response.rejected.sort_by_key(|r| r.index);
    response.failed.sort_by_key(|f| f.index);
    info!(
        model = %model,
        stored = response.stored,
        rejected = response.rejected.len(),
        failed = response.failed.len(),
        joined_hours = hours.len(),
        "actuals handled"
    );
    Ok(response)
}
