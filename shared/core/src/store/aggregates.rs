//! Hour and day aggregates: `AGG#{model}#{version}` items.
//!
//! The aggregate of the whole version lives at `H#{hour}` and `D#{day}`. Each configured segment
//! key has its own items, `S#{key}#H#{hour}` and `S#{key}#D#{day}`, holding that key's values:
//! a window read for the version alone never pays for segments, and no single item has to hold
//! every segment of a busy hour. Bodies are deflate-compressed JSON in a binary attribute,
//! because sparse histogram counts compress several times over and read cost is billed per 4 KB.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{Read, Write as _},
    sync::atomic::{AtomicU64, Ordering},
};

use aws_sdk_dynamodb::{primitives::Blob, types::AttributeValue};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use flate2::{read::DeflateDecoder, write::DeflateEncoder, Compression};
use serde::{de::DeserializeOwned, Serialize};

use super::{
    batch::{Key, Write, BATCH_GET_MAX_KEYS},
    item::{expires_at, int, s, time_value, Item, ItemReader, MAX_ITEM_BYTES},
    keys, Store, StoreError,
};
use crate::{
    aggregate::{Aggregate, AggregateSet},
    model::ModelConfig,
    window_plan::WindowPlan,
};

/// IAM actions this module calls.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"];

/// IAM actions of the aggregate reads, which the degradation check and the read API also make.
pub const READ_IAM_ACTIONS: &[&str] = &["dynamodb:BatchGetItem"];

/// Version of the body encoding, stored with each item so a later change can tell old bodies apart.
const BODY_FORMAT: i64 = 1;

/// Largest compressed body written to one item, leaving room under DynamoDB's 400 KB item limit
/// for the keys and the other attributes.
pub const MAX_BODY_BYTES: usize = 380 * 1024;

/// Read counters of aggregate reads, for measuring what a run costs.
#[derive(Debug, Default)]
pub struct ReadStats {
    items: AtomicU64,
    bytes: AtomicU64,
    requests: AtomicU64,
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

    /// Returns the number of `BatchGetItem` requests made, retries of unprocessed keys aside.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// The time span an aggregate item covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
        let mut sets = self
            .read_windows(model, version, config, std::slice::from_ref(plan), segment_keys, stats)
            .await?;
        Ok(sets.swap_remove(0))
    }

    /// Reads and merges the version's aggregates over several planned windows, returning one set
    /// per plan, in order.
    ///
    /// Each item is fetched once by its key with `BatchGetItem`, however many plans hold it: a
    /// run's windows and their drift references overlap, and a key lookup costs the same at
    /// any table size, where a range query pays for every item in its range.
    pub async fn read_windows(
        &self,
        model: &str,
        version: &str,
        config: &ModelConfig,
        plans: &[WindowPlan],
        segment_keys: &[String],
        stats: &ReadStats,
    ) -> Result<Vec<AggregateSet>, StoreError> {
        let spans: BTreeSet<Span> = plans.iter().flat_map(plan_spans).collect();
        let bodies = self.read_spans(model, version, &spans, segment_keys, stats).await?;

        // Each body is decoded once, however many plans merge it.
        let mut totals: BTreeMap<Span, Vec<Aggregate>> = BTreeMap::new();
        let mut segments: BTreeMap<(String, Span), Vec<BTreeMap<String, Aggregate>>> = BTreeMap::new();
        for ((scope, span), stored) in &bodies {
            for body in stored {
                match scope {
                    None => totals
                        .entry(*span)
                        .or_default()
                        .push(decode_body(&body.bytes).map_err(|_| body.corrupt())?),
                    Some(key) => segments
                        .entry((key.clone(), *span))
                        .or_default()
                        .push(decode_body(&body.bytes).map_err(|_| body.corrupt())?),
                }
            }
        }

        let mut sets = Vec::with_capacity(plans.len());
        for plan in plans {
            let mut set = AggregateSet::empty(config).map_err(|error| merge_failed(model, version, error))?;
            for span in plan_spans(plan) {
                for aggregate in totals.get(&span).into_iter().flatten() {
                    set.total
                        .merge(aggregate)
                        .map_err(|error| merge_failed(model, version, error))?;
                }
                for key in segment_keys {
                    for values in segments.get(&(key.clone(), span)).into_iter().flatten() {
                        set.merge_segment(key, values)
                            .map_err(|error| merge_failed(model, version, error))?;
                    }
                }
            }
            set.cap_values().map_err(|error| merge_failed(model, version, error))?;
            sets.push(set);
        }
        Ok(sets)
    }

    /// Fetches the stored bodies of `spans`, for the version and for each segment key: every
    /// part 0 first, then the further parts that a part 0 names.
    async fn read_spans(
        &self,
        model: &str,
        version: &str,
        spans: &BTreeSet<Span>,
        segment_keys: &[String],
        stats: &ReadStats,
    ) -> Result<BTreeMap<(Option<String>, Span), Vec<StoredBody>>, StoreError> {
        let pk = keys::aggregate_pk(model, version);
        let scopes: Vec<Option<String>> = std::iter::once(None)
            .chain(segment_keys.iter().cloned().map(Some))
            .collect();
        let mut wanted: Vec<((Option<String>, Span), Key)> = Vec::new();
        for scope in &scopes {
            for span in spans {
                let sk = aggregate_sk(scope.as_deref(), *span);
                wanted.push(((scope.clone(), *span), Key::new(pk.clone(), sk)));
            }
        }

        let mut bodies: BTreeMap<(Option<String>, Span), Vec<StoredBody>> = BTreeMap::new();
        let mut further: Vec<((Option<String>, Span), Key)> = Vec::new();
        for (at, item) in self.get_items(wanted, stats).await? {
            let body = StoredBody::of(&item, stats)?;
            let parts = ItemReader::new(&item).get("parts").and_then(|value| match value {
                AttributeValue::N(text) => text.parse::<usize>().ok(),
                _ => None,
            });
            for part in 1..parts.unwrap_or(1) {
                further.push((at.clone(), Key::new(pk.clone(), part_sk(&body.sk, part))));
            }
            bodies.entry(at).or_default().push(body);
        }
        if !further.is_empty() {
            let expected = further.len();
            let found = self.get_items(further, stats).await?;
            if found.len() < expected {
                return Err(StoreError::Corrupt {
                    key: pk,
                    attribute: "parts".to_string(),
                    detail: format!(
                        "{} of the {expected} further parts of split segment aggregates are missing; \
                         rebuild them by marking their hours dirty",
                        expected - found.len()
                    ),
                });
            }
            for (at, item) in found {
                bodies.entry(at).or_default().push(StoredBody::of(&item, stats)?);
            }
        }
        Ok(bodies)
    }

    /// Reads items by key, consistently, and returns those that exist with their labels.
    async fn get_items<L: Clone>(
        &self,
        wanted: Vec<(L, Key)>,
        stats: &ReadStats,
    ) -> Result<Vec<(L, Item)>, StoreError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<Key> = wanted.iter().map(|(_, key)| key.clone()).collect();
        let outcomes = self.batch_get(&keys, true, self.read_deadline()).await;
        stats
            .requests
            .fetch_add(keys.len().div_ceil(BATCH_GET_MAX_KEYS) as u64, Ordering::Relaxed);
        let mut found = Vec::new();
        for ((label, _), outcome) in wanted.into_iter().zip(outcomes) {
            if let Some(item) = outcome? {
                stats.items.fetch_add(1, Ordering::Relaxed);
                found.push((label, item));
            }
        }
        Ok(found)
    }
}

/// A stored aggregate body, still compressed, with its sort key for error messages.
struct StoredBody {
    sk: String,
    bytes: Vec<u8>,
}

impl StoredBody {
    fn of(item: &Item, stats: &ReadStats) -> Result<Self, StoreError> {
        let reader = ItemReader::new(item);
        let Some(AttributeValue::B(body)) = reader.get("body") else {
            return Err(reader.corrupt("body", "missing or not binary"));
        };
        let sk = match reader.get("sk") {
            Some(AttributeValue::S(sk)) => sk.clone(),
            _ => return Err(reader.corrupt("sk", "missing or not a string")),
        };
        stats.bytes.fetch_add(body.as_ref().len() as u64, Ordering::Relaxed);
        Ok(Self {
            sk,
            bytes: body.as_ref().to_vec(),
        })
    }

    fn corrupt(&self) -> StoreError {
        StoreError::Corrupt {
            key: self.sk.clone(),
            attribute: "body".to_string(),
            detail: "cannot be decoded; rebuild the aggregate by marking its hour dirty".to_string(),
        }
    }
}

/// Returns the spans of a plan: its whole days, then its edge hours, each oldest first.
fn plan_spans(plan: &WindowPlan) -> impl Iterator<Item = Span> + '_ {
    plan.days
        .iter()
        .map(|day| Span::Day(*day))
        .chain(plan.hours.iter().map(|hour| Span::Hour(*hour)))
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
    fn segment_sort_keys_do_not_share_the_version_prefix() {
        let hour = "2023-06-12T17:00:00Z".parse().unwrap();
        assert_eq!(aggregate_sk(None, Span::Hour(hour)), "H#2023-06-12T17");
        assert_eq!(
            aggregate_sk(Some("stage#x"), Span::Hour(hour)),
            "S#stage%23x#H#2023-06-12T17"
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
