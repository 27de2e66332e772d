//! Dirty-hour markers: the hours whose aggregates must be rebuilt from raw predictions.
//!
//! The write path puts a marker (through [`Store::batch_write`]) after it stores predictions of an
//! hour or joins a late actual into it. The metrics computation lists the markers, rebuilds each
//! hour and then clears the marker only if no marking happened in the meantime.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use rand::Rng;

use super::{
    item::{expires_at, int, s, time_value, Item, ItemReader},
    keys,
    retry::with_retry,
    Store, StoreError,
};

/// IAM actions this module calls.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:Query", "dynamodb:DeleteItem"];

/// Minimum age, in wall-clock seconds, of a marker before its hour is rebuilt. The hour is
/// read through the `gsi1` index, which is eventually consistent: a marker younger than this may
/// point at predictions the index does not show yet. AWS states that writes usually reach a
/// global secondary index within a second
/// (<https://repost.aws/knowledge-center/dynamodb-missing-table-items-gsi>), so a minute leaves
/// a wide margin.
pub const DIRTY_SETTLE_SECS: i64 = 60;

/// One hour of one version waiting to be re-aggregated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirtyHour {
    /// The model version.
    pub version: String,
    /// The start of the UTC hour.
    pub hour: DateTime<Utc>,
    /// Wall-clock time of the latest marking.
    pub marked_at: DateTime<Utc>,
    /// A random token written with each marking. [`Store::clear_dirty`] deletes the marker only
    /// while it still holds this token, so a marking during a rebuild is never lost, even one
    /// within the same clock tick.
    pub mark: String,
}

/// Builds a marker item for `version` and `hour`, with a fresh token.
pub fn dirty_item(model: &str, version: &str, hour: DateTime<Utc>, retention_days: u32) -> Item {
    let marked_at = Utc::now();
    let mark = format!("{:016x}", rand::rng().random::<u64>());
    HashMap::from([
        ("pk".to_string(), s(keys::dirty_pk(model))),
        ("sk".to_string(), s(keys::dirty_sk(version, hour))),
        ("version".to_string(), s(version)),
        ("hour".to_string(), s(keys::hour_key(hour))),
        ("marked_at".to_string(), s(time_value(marked_at))),
        ("mark".to_string(), s(mark)),
        // A marker of data that has expired is pointless, so it expires with the data.
        ("expires_at".to_string(), int(expires_at(marked_at, retention_days))),
    ])
}

impl Store {
    /// Lists the dirty hours of `model`, oldest version and hour first by key order.
    pub async fn dirty_hours(&self, model: &str) -> Result<Vec<DirtyHour>, StoreError> {
        let items = self
            .query_all(self.read_deadline(), |start| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", AttributeValue::S(keys::dirty_pk(model)))
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
            })
            .await?;
        items
            .iter()
            .map(|item| {
                let reader = ItemReader::new(item);
                let sk = reader.string("sk")?;
                let (version, hour) =
                    keys::parse_dirty_sk(&sk).ok_or_else(|| reader.corrupt("sk", "not {version}#{YYYY-MM-DDTHH}"))?;
                Ok(DirtyHour {
                    version,
                    hour,
                    marked_at: reader.time("marked_at")?,
                    mark: reader.string("mark")?,
                })
            })
            .collect()
    }

    /// Deletes a marker if it still contains the token `marker.mark`. Returns false when it was re-marked
    /// (or already deleted), in which case it stays for the next run.
    pub async fn clear_dirty(&self, model: &str, marker: &DirtyHour) -> Result<bool, StoreError> {
        let result = with_retry(self.retry, self.read_deadline(), "DeleteItem", || {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(keys::dirty_pk(model)))
                .key("sk", AttributeValue::S(keys::dirty_sk(&marker.version, marker.hour)))
                .condition_expression("mark = :mark")
                .expression_attribute_values(":mark", AttributeValue::S(marker.mark.clone()))
                .send()
        })
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if error.is_condition_failed() => Ok(false),
            Err(error) => Err(error),
        }
    }
}
