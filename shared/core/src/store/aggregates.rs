//! Hour and day aggregates: `AGG#{model}#{version}` items.
//!
//! The aggregate of the whole version lives at `H#{hour}` and `D#{day}`. Each configured segment
//! key has its own items, `S#{key}#H#{hour}` and `S#{key}#D#{day}`, holding that key's values:
//! a window read for the version alone never pays for segments, and no single item has to hold
//! every segment of a busy hour. Bodies are deflate-compressed JSON in a binary attribute,
//! because sparse histogram counts compress several times over and read cost is billed per 4 KB.

use std::{
    collections::BTreeMap,
    io::{Read, Write as _},
    sync::atomic::{AtomicU64, Ordering},
};

use aws_sdk_dynamodb::{
    primitives::Blob,
    types::{AttributeValue, ReturnConsumedCapacity},
};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use flate2::{read::DeflateDecoder, write::DeflateEncoder, Compression};
use serde::{de::DeserializeOwned, Serialize};

use super::{
    batch::Write,
    item::{expires_at, int, s, time_value, Item, ItemReader, MAX_ITEM_BYTES},
    keys,
    retry::with_retry,
    Store, StoreError,
};
use crate::{
    aggregate::{Aggregate, AggregateSet},
    model::ModelConfig,
    window_plan::WindowPlan,
};

/// IAM actions this module calls.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:BatchWriteItem", "dynamodb:Query"];

/// Version of the body encoding, stored with each item so a later change can tell old bodies apart.
const BODY_FORMAT: i64 = 1;

/// Largest compressed body written to one item, leaving room under DynamoDB's 400 KB item limit
/// for the keys and the other attributes.
pub const MAX_BODY_BYTES: usize = 380 * 1024;

/// Read counters of aggregate queries, for measuring what a run costs.
#[derive(Debug, Default)]
pub struct ReadStats {
    items: AtomicU64,
    bytes: AtomicU64,
    /// Consumed read capacity in thousandths of a unit.
    capacity_milli: AtomicU64,
    queries: AtomicU64,
}

impl ReadStats {
    /// Returns the number of aggregate items read.
    pub fn items(&self) -> u64 {
        self.items.load(Ordering::Relaxed)
    }

    /// Returns the stored size of the aggregate bodies read, in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Returns the read capacity units DynamoDB reported as consumed (0 when it reports none).
    pub fn capacity_units(&self) -> f64 {
        self.capacity_milli.load(Ordering::Relaxed) as f64 / 1_000.0
    }

    /// Returns the number of Query pages requested.
    pub fn queries(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }
}

/// The time span an aggregate item covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// A UTC hour, by its start.
    Hour(DateTime<Utc>),
    /// A UTC day.
    Day(NaiveDate),
}

impl Span {
    fn sk_suffix(&self) -> String {
        match self {
            Span::Hour(hour) => keys::hour_aggregate_sk(*hour),
            Span::Day(day) => keys::day_aggregate_sk(day.and_time(NaiveTime::MIN).and_utc()),
        }
    }
}

/// Returns the sort key of the version's aggregate, or of one segment key's values, for `span`.
pub fn aggregate_sk(segment_key: Option<&str>, span: Span) -> String {
    match segment_key {
        None => span.sk_suffix(),
        Some(key) => format!("S#{}#{}", keys::escape(key), span.sk_suffix()),
    }
}

/// Serialises and compresses a value for an aggregate body.
pub fn encode_body<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(value).map_err(|error| corrupt_body(error.to_string()))?;
    let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(&json)
        .map_err(|error| corrupt_body(error.to_string()))?;
    encoder.finish().map_err(|error| corrupt_body(error.to_string()))
}

/// Decompresses and parses an aggregate body.
pub fn decode_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    let mut json = Vec::new();
    DeflateDecoder::new(bytes)
        .read_to_end(&mut json)
        .map_err(|error| corrupt_body(error.to_string()))?;
    serde_json::from_slice(&json).map_err(|error| corrupt_body(error.to_string()))
}

fn corrupt_body(detail: String) -> StoreError {
    StoreError::Corrupt {
        key: "aggregate".to_string(),
        attribute: "body".to_string(),
        detail: format!("{detail}; rebuild the aggregate by marking its hour dirty"),
    }
}

/// One item's worth of an aggregate: its sort key, prediction count and compressed body.
struct ItemBody {
    sk: String,
    part: usize,
    parts: usize,
    predictions: u64,
    body: Vec<u8>,
}

/// Builds one aggregate item.
fn aggregate_item(model: &str, version: &str, body: ItemBody, now: DateTime<Utc>, retention_days: u32) -> Item {
    let ItemBody {
        sk,
        part,
        parts,
        predictions,
        body,
    } = body;
    Item::from([
        ("pk".to_string(), s(keys::aggregate_pk(model, version))),
        ("part".to_string(), int(part as i64)),
        ("parts".to_string(), int(parts as i64)),
        ("sk".to_string(), s(sk)),
        ("predictions".to_string(), int(predictions as i64)),
        ("format".to_string(), int(BODY_FORMAT)),
        ("body".to_string(), AttributeValue::B(Blob::new(body))),
        ("computed_at".to_string(), s(time_value(now))),
        ("expires_at".to_string(), int(expires_at(now, retention_days))),
    ])
}

impl Store {
    /// Writes the aggregates of one span: the version's item and one item per segment key.
    ///
    /// Fails without writing when an item would pass DynamoDB's 400 KB item limit.
    pub async fn put_aggregates(
        &self,
        model: &str,
        version: &str,
        span: Span,
        set: &AggregateSet,
        now: DateTime<Utc>,
        retention_days: u32,
    ) -> Result<(), StoreError> {
        let mut bodies = vec![ItemBody {
            sk: aggregate_sk(None, span),
            part: 0,
            parts: 1,
            predictions: set.total.predictions,
            body: encode_body(&set.total)?,
        }];
        for (key, values) in &set.segments {
            let parts = split_values(values)?;
            let count = parts.len();
            for (part, (predictions, body)) in parts.into_iter().enumerate() {
                bodies.push(ItemBody {
                    sk: part_sk(&aggregate_sk(Some(key), span), part),
                    part,
                    parts: count,
                    predictions,
                    body,
                });
            }
        }
        let items: Vec<Item> = bodies
            .into_iter()
            .map(|body| aggregate_item(model, version, body, now, retention_days))
            .collect();
        for item in &items {
            let size = super::item::item_size(item);
            if size > MAX_ITEM_BYTES {
                return Err(StoreError::Corrupt {
                    key: ItemReader::new(item).key(),
                    attribute: "body".to_string(),
                    detail: format!(
                        "the aggregate is {size} bytes, past DynamoDB's {MAX_ITEM_BYTES}-byte item limit; \
                         configure fewer segment keys"
                    ),
                });
            }
        }

        let writes: Vec<Write> = items.into_iter().map(Write::Put).collect();
        let deadline = self.read_deadline();
        for outcome in self.batch_write(writes, deadline).await {
            outcome?;
        }
        Ok(())
    }

    /// Reads and merges the version's aggregates over a planned window, with the values of the
    /// given segment keys.
    pub async fn read_window(
        &self,
        model: &str,
        version: &str,
        config: &ModelConfig,
        plan: &WindowPlan,
        segment_keys: &[String],
        stats: &ReadStats,
    ) -> Result<AggregateSet, StoreError> {
        let mut set = AggregateSet::empty(config).map_err(|error| merge_failed(model, version, error))?;
        for aggregate in self.read_plan::<Aggregate>(model, version, None, plan, stats).await? {
            set.total
                .merge(&aggregate)
                .map_err(|error| merge_failed(model, version, error))?;
        }
        for key in segment_keys {
            for values in self
                .read_plan::<BTreeMap<String, Aggregate>>(model, version, Some(key), plan, stats)
                .await?
            {
                set.merge_segment(key, &values)
                    .map_err(|error| merge_failed(model, version, error))?;
            }
        }
        set.cap_values().map_err(|error| merge_failed(model, version, error))?;
        Ok(set)
    }

    /// Reads the bodies of every item in a plan: the whole days in one range query, and the
    /// edge hours in one range query per contiguous run.
    async fn read_plan<T: DeserializeOwned>(
        &self,
        model: &str,
        version: &str,
        segment_key: Option<&str>,
        plan: &WindowPlan,
        stats: &ReadStats,
    ) -> Result<Vec<T>, StoreError> {
        let mut ranges: Vec<(String, String)> = Vec::new();
        // The upper bound takes in the extra parts of the last span (`{sk}#{part}`).
        if let (Some(first), Some(last)) = (plan.days.first(), plan.days.last()) {
            ranges.push((
                aggregate_sk(segment_key, Span::Day(*first)),
                format!("{}#~", aggregate_sk(segment_key, Span::Day(*last))),
            ));
        }
        for run in contiguous_runs(&plan.hours) {
            ranges.push((
                aggregate_sk(segment_key, Span::Hour(run.0)),
                format!("{}#~", aggregate_sk(segment_key, Span::Hour(run.1))),
            ));
        }
        let pk = keys::aggregate_pk(model, version);
        let mut bodies = Vec::new();
        for (from, to) in ranges {
            for item in current_parts(self.query_range(&pk, &from, &to, stats).await?) {
                let reader = ItemReader::new(&item);
                let Some(AttributeValue::B(body)) = reader.get("body") else {
                    return Err(reader.corrupt("body", "missing or not binary"));
                };
                stats.bytes.fetch_add(body.as_ref().len() as u64, Ordering::Relaxed);
                bodies.push(decode_body(body.as_ref()).map_err(|_| reader.corrupt("body", "cannot be decoded"))?);
            }
        }
        Ok(bodies)
    }

    /// Reads every item of `pk` whose sort key is in `[from, to]`, consistently.
    async fn query_range(&self, pk: &str, from: &str, to: &str, stats: &ReadStats) -> Result<Vec<Item>, StoreError> {
        let deadline = self.read_deadline();
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = with_retry(self.retry, deadline, "Query", || {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                    .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()))
                    .expression_attribute_values(":from", AttributeValue::S(from.to_string()))
                    .expression_attribute_values(":to", AttributeValue::S(to.to_string()))
                    .consistent_read(true)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .set_exclusive_start_key(start.clone())
                    .send()
            })
            .await?;
            stats.queries.fetch_add(1, Ordering::Relaxed);
            if let Some(units) = output.consumed_capacity().and_then(|c| c.capacity_units()) {
                stats
                    .capacity_milli
                    .fetch_add((units * 1_000.0).round() as u64, Ordering::Relaxed);
            }
            let page = output.items.unwrap_or_default();
            stats.items.fetch_add(page.len() as u64, Ordering::Relaxed);
            items.extend(page);
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

/// Returns the sort key of part `part` of a span: the span's own key for part 0, else the key
/// with `#{part}` appended, which sorts between this span and the next.
fn part_sk(base: &str, part: usize) -> String {
    if part == 0 {
        base.to_string()
    } else {
        format!("{base}#{part}")
    }
}

/// Splits one segment key's values into bodies of at most [`MAX_BODY_BYTES`], returning each
/// body with its prediction count. Most keys fit in one body; a busy hour or day with many
/// values takes several.
pub(crate) fn split_values(values: &BTreeMap<String, Aggregate>) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let predictions = |values: &BTreeMap<String, Aggregate>| values.values().map(|a| a.predictions).sum::<u64>();
    let whole = encode_body(values)?;
    if whole.len() <= MAX_BODY_BYTES {
        return Ok(vec![(predictions(values), whole)]);
    }

    // Pack values greedily by their separate sizes. A packed body compresses at least as well
    // as its values did apart, so each part stays within the limit.
    let mut parts: Vec<BTreeMap<String, Aggregate>> = vec![BTreeMap::new()];
    let mut part_bytes = 0;
    for (value, aggregate) in values {
        let single = BTreeMap::from([(value.clone(), aggregate.clone())]);
        let bytes = encode_body(&single)?.len();
        if bytes > MAX_BODY_BYTES {
            return Err(StoreError::Corrupt {
                key: value.clone(),
                attribute: "body".to_string(),
                detail: format!(
                    "one segment value's aggregate is {bytes} bytes, past the {MAX_BODY_BYTES}-byte body limit"
                ),
            });
        }
        if part_bytes + bytes > MAX_BODY_BYTES && !parts.last().is_some_and(BTreeMap::is_empty) {
            parts.push(BTreeMap::new());
            part_bytes = 0;
        }
        part_bytes += bytes;
        if let Some(last) = parts.last_mut() {
            last.insert(value.clone(), aggregate.clone());
        }
    }
    parts
        .iter()
        .map(|part| Ok((predictions(part), encode_body(part)?)))
        .collect()
}

/// Keeps the items of the latest write of each span: part 0 names how many parts that write
/// made, and parts past it are left over from an earlier, larger write.
fn current_parts(items: Vec<Item>) -> Vec<Item> {
    let number = |item: &Item, name: &str| match item.get(name) {
        Some(AttributeValue::N(text)) => text.parse::<usize>().ok(),
        _ => None,
    };
    let sk = |item: &Item| match item.get("sk") {
        Some(AttributeValue::S(text)) => text.clone(),
        _ => String::new(),
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for item in &items {
        if number(item, "part").unwrap_or(0) == 0 {
            counts.insert(sk(item), number(item, "parts").unwrap_or(1));
        }
    }
    items
        .into_iter()
        .filter(|item| {
            let part = number(item, "part").unwrap_or(0);
            if part == 0 {
                return true;
            }
            let full = sk(item);
            let base = full.strip_suffix(&format!("#{part}")).unwrap_or(&full);
            counts.get(base).is_some_and(|parts| part < *parts)
        })
        .collect()
}

/// Splits sorted hour starts into runs of consecutive hours, as (first, last) pairs.
fn contiguous_runs(hours: &[DateTime<Utc>]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut runs: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for hour in hours {
        match runs.last_mut() {
            Some(run) if *hour - run.1 == chrono::TimeDelta::hours(1) => run.1 = *hour,
            _ => runs.push((*hour, *hour)),
        }
    }
    runs
}

fn merge_failed(model: &str, version: &str, error: crate::aggregate::AggregateError) -> StoreError {
    StoreError::Corrupt {
        key: keys::aggregate_pk(model, version),
        attribute: "body".to_string(),
        detail: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_runs_split_at_gaps() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        let hours = [
            at("2023-06-10T22:00:00Z"),
            at("2023-06-10T23:00:00Z"),
            at("2023-06-17T00:00:00Z"),
        ];
        let runs = contiguous_runs(&hours);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0], (hours[0], hours[1]));
        assert_eq!(runs[1], (hours[2], hours[2]));
    }

    #[test]
    fn segment_sort_keys_do_not_share_the_version_prefix() {
        let hour = "2023-06-12T17:00:00Z".parse().unwrap();
        assert_eq!(aggregate_sk(None, Span::Hour(hour)), "H#2023-06-12T17");
        assert_eq!(
            aggregate_sk(Some("stage#x"), Span::Hour(hour)),
            "S#stage%23x#H#2023-06-12T17"
        );
    }

    #[test]
    fn stale_parts_are_dropped() {
        let item = |sk: &str, part: usize, parts: usize| {
            Item::from([
                ("sk".to_string(), s(sk)),
                ("part".to_string(), int(part as i64)),
                ("parts".to_string(), int(parts as i64)),
            ])
        };
        let items = vec![
            item("S#k#H#2023-06-12T17", 0, 2),
            item("S#k#H#2023-06-12T17#1", 1, 2),
            item("S#k#H#2023-06-12T17#2", 2, 3),
            item("S#k#H#2023-06-12T18", 0, 1),
            item("S#k#H#2023-06-12T18#1", 1, 2),
        ];
        let kept: Vec<String> = current_parts(items)
            .iter()
            .map(|item| ItemReader::new(item).string("sk").unwrap())
            .collect();
        assert_eq!(
            kept,
            vec!["S#k#H#2023-06-12T17", "S#k#H#2023-06-12T17#1", "S#k#H#2023-06-12T18"]
        );
    }

    #[test]
    fn part_keys_sort_inside_their_span() {
        let hour = "2023-06-12T17:00:00Z".parse().unwrap();
        let next = "2023-06-12T18:00:00Z".parse().unwrap();
        let base = aggregate_sk(Some("k"), Span::Hour(hour));
        let part = part_sk(&base, 3);
        assert!(base < part);
        assert!(part < aggregate_sk(Some("k"), Span::Hour(next)));
    }

    #[test]
    fn body_round_trips() {
        let value = BTreeMap::from([("a".to_string(), 1u64)]);
        let decoded: BTreeMap<String, u64> = decode_body(&encode_body(&value).unwrap()).unwrap();
        assert_eq!(decoded, value);
    }
}
