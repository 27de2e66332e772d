//! Batched reads and writes with per-item outcomes.
//!
//! DynamoDB may leave part of a batch unprocessed (`UnprocessedItems`, `UnprocessedKeys`) or
//! throttle the whole call. Both are retried with backoff until the deadline; whatever is left
//! then is reported as failed, item by item, and never as done.

use std::{collections::HashMap, future::Future};

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest};
use tokio::{task::JoinSet, time::Instant};
use tracing::{debug, warn};

use super::{
    item::Item,
    retry::{classify, give_up, Backoff, Fault},
    Store, StoreError,
};

/// IAM actions this module calls.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"];

/// DynamoDB's limit of write requests in one `BatchWriteItem` call.
pub const BATCH_WRITE_MAX_ITEMS: usize = 25;
/// DynamoDB's limit of keys in one `BatchGetItem` call.
pub const BATCH_GET_MAX_KEYS: usize = 100;
/// Batch calls in flight at once for one request.
pub const MAX_CONCURRENT_BATCHES: usize = 4;

/// The outcome of one write of a batch.
pub type WriteOutcome = Result<(), StoreError>;
/// The outcome of one read of a batch: the item, or `None` when it does not exist.
pub type GetOutcome = Result<Option<Item>, StoreError>;

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
}

impl Key {
    /// Builds a key.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// Returns the key as item attributes.
    pub fn to_item(&self) -> Item {
        HashMap::from([
            ("pk".to_string(), AttributeValue::S(self.pk.clone())),
            ("sk".to_string(), AttributeValue::S(self.sk.clone())),
        ])
    }

    /// Reads the key of an item.
    pub fn of(item: &Item) -> Option<Self> {
        Some(Self {
            pk: item.get("pk")?.as_s().ok()?.clone(),
            sk: item.get("sk")?.as_s().ok()?.clone(),
        })
    }
}

/// One write of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Put the whole item (it must hold `pk` and `sk`).
    Put(Item),
    /// Delete the item with this key.
    Delete(Key),
}

impl Write {
    fn key(&self) -> Option<Key> {
        match self {
            Write::Put(item) => Key::of(item),
            Write::Delete(key) => Some(key.clone()),
        }
    }

    fn request(&self) -> Result<WriteRequest, StoreError> {
        let built = match self {
            Write::Put(item) => PutRequest::builder()
                .set_item(Some(item.clone()))
                .build()
                .map(|put| WriteRequest::builder().put_request(put).build()),
            Write::Delete(key) => DeleteRequest::builder()
                .set_key(Some(key.to_item()))
                .build()
                .map(|delete| WriteRequest::builder().delete_request(delete).build()),
        };
        built.map_err(|e| StoreError::Service {
            operation: "BatchWriteItem",
            code: None,
            message: e.to_string(),
        })
    }
}

fn request_key(request: &WriteRequest) -> Option<Key> {
    if let Some(put) = request.put_request() {
        return Key::of(put.item());
    }
    request.delete_request().and_then(|delete| Key::of(delete.key()))
}

/// Runs `tasks` with at most `limit` in flight. A task that panicked leaves no result.
async fn run_limited<T, F>(tasks: Vec<F>, limit: usize) -> Vec<T>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let mut results = Vec::with_capacity(tasks.len());
    let mut running = JoinSet::new();
    for task in tasks {
        if running.len() >= limit {
            if let Some(Ok(result)) = running.join_next().await {
                results.push(result);
            }
        }
        running.spawn(task);
    }
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok(result) => results.push(result),
            Err(error) => warn!(error = %error, "a batch task ended without a result"),
        }
    }
    results
}

fn lost(operation: &'static str) -> StoreError {
    StoreError::Unavailable {
        operation,
        message: "the batch task ended without a result".into(),
    }
}

impl Store {
    /// Writes `writes` in `BatchWriteItem` calls of at most 25, retrying throttling and
    /// unprocessed items until `deadline`. Returns one outcome per write, in order. Keys must be
    /// unique within one call to this method, as DynamoDB rejects a batch that repeats a key.
    pub async fn batch_write(&self, writes: Vec<Write>, deadline: Instant) -> Vec<WriteOutcome> {
        let mut outcomes: Vec<WriteOutcome> = (0..writes.len()).map(|_| Err(lost("BatchWriteItem"))).collect();
        let mut chunks = Vec::new();
        let mut chunk = Vec::new();
        for (index, write) in writes.iter().enumerate() {
            match (write.key(), write.request()) {
                (Some(key), Ok(request)) => chunk.push((index, key, request)),
                (None, _) => {
                    outcomes[index] = Err(StoreError::Service {
                        operation: "BatchWriteItem",
                        code: None,
                        message: "the item has no string pk and sk".into(),
                    })
                }
                (_, Err(error)) => outcomes[index] = Err(error),
            }
            if chunk.len() == BATCH_WRITE_MAX_ITEMS {
                chunks.push(std::mem::take(&mut chunk));
            }
        }
        if !chunk.is_empty() {
            chunks.push(chunk);
        }
        let tasks = chunks
            .into_iter()
            .map(|chunk| self.clone().write_chunk(chunk, deadline))
            .collect();
        for results in run_limited(tasks, MAX_CONCURRENT_BATCHES).await {
            for (index, outcome) in results {
                outcomes[index] = outcome;
            }
        }
        outcomes
    }

    async fn write_chunk(
        self,
        mut pending: Vec<(usize, Key, WriteRequest)>,
        deadline: Instant,
    ) -> Vec<(usize, WriteOutcome)> {
        let mut done = Vec::with_capacity(pending.len());
        let mut backoff = Backoff::new(self.retry, deadline);
        loop {
            let requests: Vec<WriteRequest> = pending.iter().map(|(_, _, request)| request.clone()).collect();
            let sent = requests.len();
            let result = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await;
            let fault = match result {
                Ok(output) => {
                    let unprocessed: Vec<Key> = output
                        .unprocessed_items()
                        .and_then(|items| items.get(&self.table))
                        .map(|list| list.iter().filter_map(request_key).collect())
                        .unwrap_or_default();
                    let (left, written): (Vec<_>, Vec<_>) =
                        pending.into_iter().partition(|(_, key, _)| unprocessed.contains(key));
                    done.extend(written.into_iter().map(|(index, _, _)| (index, Ok(()))));
                    pending = left;
                    if pending.is_empty() {
                        debug!(items = sent, retries = backoff.retries(), "BatchWriteItem done");
                        return done;
                    }
                    Fault::Throttled
                }
                Err(error) => classify(&error),
            };
            let permanent = matches!(fault, Fault::Permanent(..));
            if permanent || !backoff.wait().await {
                let error = give_up("BatchWriteItem", fault);
                warn!(items = pending.len(), retries = backoff.retries(), error = %error, "BatchWriteItem gave up");
                done.extend(pending.into_iter().map(|(index, _, _)| (index, Err(error.clone()))));
                return done;
            }
            debug!(items = pending.len(), retry = backoff.retries(), fault = ?fault, "retrying BatchWriteItem");
        }
    }

    /// Reads `keys` in `BatchGetItem` calls of at most 100, retrying throttling and unprocessed
    /// keys until `deadline`. Returns one outcome per key, in order; repeated keys are read once.
    pub async fn batch_get(&self, keys: &[Key], consistent: bool, deadline: Instant) -> Vec<GetOutcome> {
        let mut unique: Vec<Key> = keys.to_vec();
        unique.sort();
        unique.dedup();
        let chunks: Vec<Vec<Key>> = unique.chunks(BATCH_GET_MAX_KEYS).map(<[Key]>::to_vec).collect();
        let tasks = chunks
            .into_iter()
            .map(|chunk| self.clone().get_chunk(chunk, consistent, deadline))
            .collect();
        let mut found: HashMap<Key, GetOutcome> = HashMap::new();
        for results in run_limited(tasks, MAX_CONCURRENT_BATCHES).await {
            found.extend(results);
        }
        keys.iter()
            .map(|key| found.get(key).cloned().unwrap_or_else(|| Err(lost("BatchGetItem"))))
            .collect()
    }

    async fn get_chunk(self, mut pending: Vec<Key>, consistent: bool, deadline: Instant) -> Vec<(Key, GetOutcome)> {
        let mut done = Vec::with_capacity(pending.len());
        let mut backoff = Backoff::new(self.retry, deadline);
        loop {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending.iter().map(Key::to_item).collect()))
                .consistent_read(consistent)
                .build();
            let fault = match request {
                Err(error) => Fault::Permanent(None, error.to_string()),
                Ok(request) => {
                    match self
                        .client
                        .batch_get_item()
                        .request_items(&self.table, request)
                        .send()
                        .await
                    {
                        Ok(output) => {
                            let mut items: HashMap<Key, Item> = output
                                .responses()
                                .and_then(|r| r.get(&self.table))
                                .map(|list| {
                                    list.iter()
                                        .filter_map(|item| Key::of(item).map(|key| (key, item.clone())))
                                        .collect()
                                })
                                .unwrap_or_default();
                            let unprocessed: Vec<Key> = output
                                .unprocessed_keys()
                                .and_then(|u| u.get(&self.table))
                                .map(|k| k.keys().iter().filter_map(Key::of).collect())
                                .unwrap_or_default();
                            let (left, answered): (Vec<_>, Vec<_>) =
                                pending.into_iter().partition(|key| unprocessed.contains(key));
                            for key in answered {
                                let item = items.remove(&key);
                                done.push((key, Ok(item)));
                            }
                            pending = left;
                            if pending.is_empty() {
                                return done;
                            }
                            Fault::Throttled
                        }
                        Err(error) => classify(&error),
                    }
                }
            };
            let permanent = matches!(fault, Fault::Permanent(..));
            if permanent || !backoff.wait().await {
                let error = give_up("BatchGetItem", fault);
                warn!(keys = pending.len(), retries = backoff.retries(), error = %error, "BatchGetItem gave up");
                done.extend(pending.into_iter().map(|key| (key, Err(error.clone()))));
                return done;
            }
            debug!(keys = pending.len(), retry = backoff.retries(), fault = ?fault, "retrying BatchGetItem");
        }
    }
}
