//! Metric snapshots: `HIST#{model}#{version}#{window}#{segment or *}` items, one per window end.
//!
//! Each item contains the snapshot as JSON in `body`, exactly as the metrics endpoint returns it,
//! its digest, and whether its values reached CloudWatch. A tick writes a snapshot only when it
//! is new or its digest changed, and marks it published after PutMetricData succeeded, so a
//! re-run publishes nothing twice and a failed publish is retried by the next run.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{
    item::{expires_at, int, s, time_value, Item, ItemReader},
    keys,
    retry::with_retry,
    Store, StoreError,
};
use crate::{snapshot::Snapshot, time::rfc3339};

/// IAM actions this module calls.
pub const IAM_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
];

/// Whether a snapshot write changed the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotWrite {
    /// The snapshot is new, changed, or was stored but never published: publish it.
    Publish,
    /// The same snapshot is stored and published already.
    Unchanged,
}

/// One series of snapshots: a model version's window, for the whole version or one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Series<'a> {
    /// Model name.
    pub model: &'a str,
    /// Model version.
    pub version: &'a str,
    /// Window, as written in the API (`7d`).
    pub window: &'a str,
    /// Segment as `key:value`, or none for the whole version.
    pub segment: Option<&'a str>,
}

impl Series<'_> {
    fn pk(&self) -> String {
        keys::history_pk(self.model, self.version, self.window, self.segment)
    }
}

/// Returns the partition key of a snapshot's series.
fn history_pk(snapshot: &Snapshot) -> String {
    keys::history_pk(
        &snapshot.model,
        &snapshot.version,
        &snapshot.window.to_string(),
        snapshot.segment.as_deref(),
    )
}

fn decode_snapshot(item: &Item) -> Result<Snapshot, StoreError> {
    let reader = ItemReader::new(item);
    let body = reader.string("body")?;
    serde_json::from_str(&body).map_err(|error| reader.corrupt("body", error.to_string()))
}

impl Store {
    /// Stores a snapshot unless the same one is stored and published already.
    ///
    /// The write is conditional: it succeeds when no snapshot exists for this end, when the
    /// stored digest differs, or when the stored one was never published.
    pub async fn put_snapshot(
        &self,
        snapshot: &Snapshot,
        now: DateTime<Utc>,
        retention_days: u32,
    ) -> Result<SnapshotWrite, StoreError> {
        let body = serde_json::to_string(snapshot).map_err(|error| StoreError::Corrupt {
            key: history_pk(snapshot),
            attribute: "body".to_string(),
            detail: error.to_string(),
        })?;
        let digest = snapshot.digest();
        let item = Item::from([
            ("pk".to_string(), s(history_pk(snapshot))),
            ("sk".to_string(), s(rfc3339(snapshot.end))),
            ("digest".to_string(), s(digest.clone())),
            ("published".to_string(), AttributeValue::Bool(false)),
            ("predictions".to_string(), int(snapshot.predictions as i64)),
            ("labelled".to_string(), int(snapshot.labelled as i64)),
            ("body".to_string(), s(body)),
            ("computed_at".to_string(), s(time_value(now))),
            ("expires_at".to_string(), int(expires_at(now, retention_days))),
        ]);
        let result = with_retry(self.retry, self.read_deadline(), "PutItem", || {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(pk) OR digest <> :digest OR published = :false")
                .expression_attribute_values(":digest", AttributeValue::S(digest.clone()))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .send()
        })
        .await;
        match result {
            Ok(_) => Ok(SnapshotWrite::Publish),
            Err(error) if error.is_condition_failed() => Ok(SnapshotWrite::Unchanged),
            Err(error) => Err(error),
        }
    }

    /// Marks a stored snapshot as published, if its digest is still the same.
    pub async fn mark_snapshot_published(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let digest = snapshot.digest();
        let result = with_retry(self.retry, self.read_deadline(), "UpdateItem", || {
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(history_pk(snapshot)))
                .key("sk", AttributeValue::S(rfc3339(snapshot.end)))
                .update_expression("SET published = :true")
                .condition_expression("digest = :digest")
                .expression_attribute_values(":digest", AttributeValue::S(digest.clone()))
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .send()
        })
        .await;
        match result {
            // A newer snapshot replaced this one in the meantime; it will be published on its own.
            Err(error) if error.is_condition_failed() => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Reads the stored snapshot of a series at `end`, if any.
    pub async fn get_snapshot(&self, series: Series<'_>, end: DateTime<Utc>) -> Result<Option<Snapshot>, StoreError> {
        let output = with_retry(self.retry, self.read_deadline(), "GetItem", || {
            self.client
                .get_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(series.pk()))
                .key("sk", AttributeValue::S(rfc3339(end)))
                .send()
        })
        .await?;
        output.item.as_ref().map(decode_snapshot).transpose()
    }

    /// Reads the stored snapshots of a series with `from <= end <= to`, oldest first, at most `limit`.
    pub async fn list_snapshots(
        &self,
        series: Series<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Snapshot>, StoreError> {
        let pk = series.pk();
        let deadline = self.read_deadline();
        let mut snapshots = Vec::new();
        let mut start: Option<Item> = None;
        while snapshots.len() < limit {
            let page_size = i32::try_from(limit - snapshots.len()).unwrap_or(i32::MAX);
            let output = with_retry(self.retry, deadline, "Query", || {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                    .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                    .expression_attribute_values(":from", AttributeValue::S(rfc3339(from)))
                    .expression_attribute_values(":to", AttributeValue::S(rfc3339(to)))
                    .limit(page_size)
                    .set_exclusive_start_key(start.clone())
                    .send()
            })
            .await?;
            for item in output.items() {
                snapshots.push(decode_snapshot(item)?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        snapshots.truncate(limit);
        Ok(snapshots)
    }
}
