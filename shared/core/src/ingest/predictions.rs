//! `POST /v1/predictions`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};
use tracing::{info, warn};

use super::{join_actuals, mark_hours, Context, HourRef, Progress};
use crate::{
    http::ApiError,
    model::ModelConfig,
    record::{ActualValue, BatchResponse, Failure, PredictionRecord},
    store::{
        batch::Write,
        item::{
            actual_item, content_hash, decode_actual_item, decode_prediction, item_size, prediction_item, StoredActual,
            MAX_ITEM_BYTES,
        },
        keys::{prediction_pk, prediction_sk, ACTUAL_SK},
        Key, StoreError,
    },
    time::floor_hour,
    validate::{
        check_actual_value, check_prediction, infer_config, parse_batch, parse_prediction, record_id, FieldError,
    },
};

/// A valid prediction on its way to storage.
struct Candidate {
    index: usize,
    record: PredictionRecord,
    /// True when an identical prediction is already stored.
    identical: bool,
    /// The actual to store with the prediction, and when it became known.
    actual: Option<(ActualValue, chrono::DateTime<chrono::Utc>)>,
    /// True when the record's inline actual must also be stored as the id's `ACTUAL` item.
    new_actual_item: bool,
    /// True when the prediction was stored without an actual, so the join must look again.
    needs_join: bool,
}

/// Stores a batch of predictions and returns an outcome per record.
pub async fn predictions(context: &Context, body: &Map<String, Value>) -> Result<BatchResponse, ApiError> {
    let (model, values) = parse_batch(body, "predictions")?;
    let mut response = BatchResponse::default();

    // Read every record; the task is checked once the model's registration is known.
    let mut parsed = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        match parse_prediction(value, context.now) {
            Ok(record) => parsed.push((index, record)),
            Err(error) => response.rejected.push(error.reject(index, record_id(value))),
        }
    }
    if parsed.is_empty() {
        return Ok(response);
    }

    let config = match model_config(context, &model, &parsed).await {
        Ok((config, registered)) => {
            response.registered = registered;
            config
        }
        Err(error) => {
            warn!(model = %model, error = %error, "reading or registering the model failed");
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

    let mut candidates = check_batch(context, &model, &config, parsed, &mut response);
    let mut progress = Progress::new();
    compare_with_stored(context, &model, &config, &mut candidates, &mut progress, &mut response).await;
    candidates.retain(|c| !response.rejected.iter().any(|r| r.index == c.index));

    write_predictions(context, &model, &candidates, &mut progress).await;
    let joined_hours = join(context, &model, &config, &candidates, &mut progress).await;
    mark(context, &model, &candidates, joined_hours, &mut progress).await;
    summarize_versions(context, &model, &candidates, &mut progress).await;

    for candidate in &candidates {
        match progress.reason(candidate.index) {
            Some(reason) => response.failed.push(Failure {
                index: candidate.index,
                id: Some(candidate.record.id.clone()),
                reason: reason.to_string(),
            }),
            None => response.stored += 1,
        }
    }
    response.rejected.sort_by_key(|r| r.index);
    info!(
        model = %model,
        stored = response.stored,
        rejected = response.rejected.len(),
        failed = response.failed.len(),
        "predictions handled"
    );
    Ok(response)
}

/// Reads the model's registration, registering it from the batch when it has none. Returns the
/// registration and, when this call made it, a copy for the response.
async fn model_config(
    context: &Context,
    model: &str,
    parsed: &[(usize, PredictionRecord)],
) -> Result<(ModelConfig, Option<ModelConfig>), StoreError> {
    if let Some(config) = context.store.get_model(model).await? {
        return Ok((config, None));
    }
    let records: Vec<&PredictionRecord> = parsed.iter().map(|(_, record)| record).collect();
    let Some(inferred) = infer_config(&records) else {
        return Err(StoreError::Service {
            operation: "PutItem",
            code: None,
            message: "no readable prediction to register the model from".into(),
        });
    };
    match context
        .store
        .register_if_missing(model, &inferred, context.now, context.deadline)
        .await?
    {
        None => Ok((inferred.clone(), Some(inferred))),
        Some(existing) => Ok((existing, None)),
    }
}

/// Puts a record in the form it is hashed and stored in.
fn normalize(record: &mut PredictionRecord) {
    record.actual = record.actual.as_ref().map(ActualValue::normalized);
    if let Some(bet) = &mut record.bet {
        bet.side = bet.side.normalized();
    }
    if record.segment.as_ref().is_some_and(BTreeMap::is_empty) {
        record.segment = None;
    }
    if record.features.as_ref().is_some_and(BTreeMap::is_empty) {
        record.features = None;
    }
}

/// Checks each record against the model, repeats within the batch and the item size limit.
fn check_batch(
    context: &Context,
    model: &str,
    config: &ModelConfig,
    parsed: Vec<(usize, PredictionRecord)>,
    response: &mut BatchResponse,
) -> Vec<Candidate> {
    let mut candidates = Vec::with_capacity(parsed.len());
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut inline_actuals: HashMap<String, (usize, ActualValue)> = HashMap::new();
    for (index, mut record) in parsed {
        let reject = |error: FieldError, record: &PredictionRecord| error.reject(index, Some(record.id.clone()));
        if let Err(error) = check_prediction(&record, config) {
            response.rejected.push(reject(error, &record));
            continue;
        }
        normalize(&mut record);
        let key = (record.id.clone(), record.version.clone());
        if let Some(first) = seen.get(&key) {
            let reason = format!(
                "conflict: records {first} and {index} have the same id and version; send each prediction once"
            );
            response.rejected.push(reject(FieldError::new("id", reason), &record));
            continue;
        }
        if let Some(actual) = &record.actual {
            match inline_actuals.get(&record.id) {
                Some((first, other)) if other != actual => {
                    let reason = format!("conflict: record {first} sends actual {other} for the same id, not {actual}");
                    response
                        .rejected
                        .push(reject(FieldError::new("actual", reason), &record));
                    continue;
                }
                Some(_) => {}
                None => {
                    inline_actuals.insert(record.id.clone(), (index, actual.clone()));
                }
            }
        }
        let actual = record.actual.clone().map(|a| (a, context.now));
        let item = prediction_item(
            model,
            &record,
            actual.as_ref().map(|(a, at)| (a, *at)),
            context.now,
            context.config.retention_days,
        );
        let size = item_size(&item);
        if size > MAX_ITEM_BYTES {
            let reason = format!(
                "the stored item would be about {size} bytes, more than DynamoDB's limit of {MAX_ITEM_BYTES}; \
                 send fewer or shorter labels, tags or features"
            );
            response
                .rejected
                .push(reject(FieldError::new("record", reason), &record));
            continue;
        }
        seen.insert(key, index);
        candidates.push(Candidate {
            index,
            record,
            identical: false,
            actual,
            new_actual_item: false,
            needs_join: false,
        });
    }
    candidates
}

/// Returns true when a stored actual fits the model's task. An actual sent before the model was
/// registered is checked for form only, and one that does not fit is left out of the join.
fn fits_model(model: &str, actual: &StoredActual, config: &ModelConfig) -> bool {
    let fits = check_actual_value("actual", &actual.actual, config).is_ok();
    if !fits {
        warn!(model, task = %config.task, "stored actual does not fit the model's task; not joined");
    }
    fits
}

/// Returns the first field in which a stored prediction differs from a sent one.
fn differing_field(stored: &PredictionRecord, sent: &PredictionRecord) -> &'static str {
    if stored.timestamp != sent.timestamp {
        "timestamp"
    } else if stored.prediction != sent.prediction {
        "prediction"
    } else if stored.latency_ms != sent.latency_ms {
        "latency_ms"
    } else if stored.segment != sent.segment {
        "segment"
    } else if stored.features != sent.features {
        "features"
    } else if stored.bet != sent.bet {
        "bet"
    } else {
        "record"
    }
}

/// Reads the stored prediction and actual of each candidate and sorts out repeats and conflicts.
async fn compare_with_stored(
    context: &Context,
    model: &str,
    config: &ModelConfig,
    candidates: &mut [Candidate],
    progress: &mut Progress,
    response: &mut BatchResponse,
) {
    let keys: Vec<Key> = candidates
        .iter()
        .flat_map(|c| {
            let pk = prediction_pk(model, &c.record.id);
            [
                Key::new(pk.clone(), prediction_sk(&c.record.version)),
                Key::new(pk, ACTUAL_SK),
            ]
        })
        .collect();
    let found = context.store.batch_get(&keys, true, context.deadline).await;

    for (candidate, outcomes) in candidates.iter_mut().zip(found.chunks(2)) {
        let index = candidate.index;
        let existing = match outcomes[0]
            .clone()
            .and_then(|item| item.as_ref().map(decode_prediction).transpose())
        {
            Ok(existing) => existing,
            Err(error) => {
                progress.fail(index, &error);
                continue;
            }
        };
        let stored_actual = match outcomes[1]
            .clone()
            .and_then(|item| item.as_ref().map(decode_actual_item).transpose())
        {
            Ok(actual) => actual.filter(|actual| fits_model(model, actual, config)),
            Err(error) => {
                progress.fail(index, &error);
                continue;
            }
        };
        let conflict = |field: &str, reason: String| {
            FieldError::new(field, reason).reject(index, Some(candidate.record.id.clone()))
        };

        if let Some(existing) = &existing {
            if existing.content_hash != content_hash(&candidate.record) {
                let field = differing_field(&existing.to_record(), &candidate.record);
                let reason = format!(
                    "conflict: a prediction with this id and version is stored with a different {field}; \
                     use a new id or version to record a different prediction"
                );
                response.rejected.push(conflict(field, reason));
                continue;
            }
            candidate.identical = true;
            if let (Some(sent), Some(stored)) = (&candidate.record.actual, &existing.actual) {
                if sent != stored {
                    response.rejected.push(conflict(
                        "actual",
                        format!("conflict: the stored actual of this id is {stored}, not {sent}"),
                    ));
                    continue;
                }
            }
        }
        match (&candidate.record.actual, &stored_actual) {
            (Some(sent), Some(stored)) if *sent != stored.actual => {
                response.rejected.push(conflict(
                    "actual",
                    format!(
                        "conflict: the stored actual of this id is {}, not {sent}",
                        stored.actual
                    ),
                ));
                continue;
            }
            (Some(_), Some(stored)) => candidate.actual = Some((stored.actual.clone(), stored.timestamp)),
            (Some(_), None) => candidate.new_actual_item = true,
            (None, Some(stored)) => candidate.actual = Some((stored.actual.clone(), stored.timestamp)),
            (None, None) => {}
        }
        // A new prediction is written with any actual known now. A stored one is not rewritten,
        // so it needs the join whenever it has no actual yet.
        candidate.needs_join = match &existing {
            Some(existing) => existing.actual.is_none(),
            None => candidate.actual.is_none(),
        };
    }
}

/// Writes the predictions that are not stored yet.
async fn write_predictions(context: &Context, model: &str, candidates: &[Candidate], progress: &mut Progress) {
    let new: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| !c.identical && !progress.failed(c.index))
        .collect();
    let writes = new
        .iter()
        .map(|c| {
            Write::Put(prediction_item(
                model,
                &c.record,
                c.actual.as_ref().map(|(a, at)| (a, *at)),
                context.now,
                context.config.retention_days,
            ))
        })
        .collect();
    let outcomes = context.store.batch_write(writes, context.deadline).await;
    for (candidate, outcome) in new.iter().zip(outcomes) {
        if let Err(error) = outcome {
            progress.fail(candidate.index, &error);
        }
    }
}

/// Joins actuals both ways: fills actuals stored since the first read into the new
/// predictions, and stores inline actuals and fills them into the id's other versions.
/// Returns the hours of other predictions that got an actual, with the record that caused it.
async fn join(
    context: &Context,
    model: &str,
    config: &ModelConfig,
    candidates: &[Candidate],
    progress: &mut Progress,
) -> Vec<(usize, HourRef)> {
    let mut hours = Vec::new();

    // An actual stored between the first read and the write is found by this second read.
    let lacking: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.needs_join && !progress.failed(c.index))
        .collect();
    let keys: Vec<Key> = lacking
        .iter()
        .map(|c| Key::new(prediction_pk(model, &c.record.id), ACTUAL_SK))
        .collect();
    let found = context.store.batch_get(&keys, true, context.deadline).await;
    for (candidate, outcome) in lacking.iter().zip(found) {
        let actual = match outcome.and_then(|item| item.as_ref().map(decode_actual_item).transpose()) {
            Ok(Some(actual)) if fits_model(model, &actual, config) => actual,
            Ok(_) => continue,
            Err(error) => {
                progress.fail(candidate.index, &error);
                continue;
            }
        };
        let filled = context
            .store
            .fill_actual(
                model,
                &candidate.record.id,
                &candidate.record.version,
                &actual.actual,
                actual.timestamp,
                context.deadline,
            )
            .await;
        if let Err(error) = filled {
            progress.fail(candidate.index, &error);
        }
    }

    // Inline actuals belong to the id: store them and fill them into every version.
    let mut by_id: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
    for candidate in candidates
        .iter()
        .filter(|c| c.new_actual_item && !progress.failed(c.index))
    {
        by_id.entry(candidate.record.id.as_str()).or_default().push(candidate);
    }
    let ids: Vec<(&str, StoredActual)> = by_id
        .iter()
        .filter_map(|(id, group)| {
            let (actual, at) = group[0].actual.clone()?;
            Some((
                *id,
                StoredActual {
                    id: id.to_string(),
                    actual,
                    timestamp: at,
                    timestamp_sent: false,
                },
            ))
        })
        .collect();
    let writes = ids
        .iter()
        .map(|(_, actual)| Write::Put(actual_item(model, actual, context.now, context.config.retention_days)))
        .collect();
    let written = context.store.batch_write(writes, context.deadline).await;
    let mut to_join = Vec::new();
    let mut join_owners = Vec::new();
    for ((id, actual), outcome) in ids.iter().zip(written) {
        let group = &by_id[id];
        match outcome {
            Err(error) => group.iter().for_each(|c| progress.fail(c.index, &error)),
            Ok(()) => {
                to_join.push((id.to_string(), actual.actual.clone(), actual.timestamp));
                join_owners.push(group.iter().map(|c| c.index).collect::<Vec<_>>());
            }
        }
    }
    for (owners, result) in join_owners.iter().zip(join_actuals(context, model, to_join).await) {
        match result {
            Ok(filled) => hours.extend(filled.into_iter().map(|hour| (owners[0], hour))),
            Err(error) => owners.iter().for_each(|&index| progress.fail(index, &error)),
        }
    }
    hours
}

/// Marks the hours of the stored predictions, and of predictions that got an actual, dirty.
async fn mark(
    context: &Context,
    model: &str,
    candidates: &[Candidate],
    joined: Vec<(usize, HourRef)>,
    progress: &mut Progress,
) {
    let mut owners: BTreeMap<HourRef, Vec<usize>> = BTreeMap::new();
    for candidate in candidates.iter().filter(|c| !progress.failed(c.index)) {
        let hour = (candidate.record.version.clone(), floor_hour(candidate.record.timestamp));
        owners.entry(hour).or_default().push(candidate.index);
    }
    for (index, hour) in joined {
        owners.entry(hour).or_default().push(index);
    }
    let hours: BTreeSet<HourRef> = owners.keys().cloned().collect();
    for (hour, outcome) in mark_hours(context, model, &hours).await {
        if let Err(error) = outcome {
            owners[&hour].iter().for_each(|&index| progress.fail(index, &error));
        }
    }
}

/// Updates each version's first and last prediction times and count.
async fn summarize_versions(context: &Context, model: &str, candidates: &[Candidate], progress: &mut Progress) {
    let mut versions: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
    for candidate in candidates.iter().filter(|c| !progress.failed(c.index)) {
        versions
            .entry(candidate.record.version.as_str())
            .or_default()
            .push(candidate);
    }
    for (version, group) in versions {
        // Identical re-sends widen the time range too, so a resend repairs a summary that a
        // failed update left behind. Only new predictions add to the count.
        let first = group.iter().map(|c| c.record.timestamp).min();
        let last = group.iter().map(|c| c.record.timestamp).max();
        let (Some(first), Some(last)) = (first, last) else {
            continue;
        };
        let count = group.iter().filter(|c| !c.identical).count() as u64;
        let result = context
            .store
            .record_version(model, version, first, last, count, context.deadline)
            .await;
        if let Err(error) = result {
            group.iter().for_each(|c| progress.fail(c.index, &error));
        }
    }
}
