//! Reads that only the read API makes: which hours of a window hold a version's predictions, and
//! one index shard of an hour.
//!
//! A paired comparison reads raw predictions through the hour index, eight shard queries per
//! hour. Most hours of a long window hold nothing for a given version, so the hours to read
//! are found first: those with an hour aggregate (`AGG#` / `H#{hour}`), plus those with a dirty
//! marker, whose new predictions wait for the next computation.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, TimeDelta, Utc};

use super::{
    item::{decode_prediction, ItemReader, StoredPrediction},
    keys, Store, StoreError,
};
use crate::time::floor_hour;

/// IAM actions of the calls the query function makes through this module and the catalogue,
/// history, hour-index and alert-log reads it uses; its aggregate reads are declared in
/// `aggregates::READ_IAM_ACTIONS`. All of them are reads.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:Query"];

impl Store {
    /// Lists the hours in `[start, end)`, oldest first, that hold predictions of `version`.
    ///
    /// An hour counts when its aggregate records at least one prediction or when a dirty marker
    /// waits on it. NOTE: a prediction stored in the moment between its write and its marker
    /// write is missed until the marker lands, which the write path does right after.
    pub async fn hours_with_predictions(
        &self,
        model: &str,
        version: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let start = floor_hour(start);
        let end = floor_hour(end);
        if start >= end {
            return Ok(Vec::new());
        }
        let deadline = self.read_deadline();
        let last = end - TimeDelta::hours(1);
        let mut hours = BTreeSet::new();

        let aggregates = self
            .query_all(deadline, |start_key| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                    .expression_attribute_values(":pk", AttributeValue::S(keys::aggregate_pk(model, version)))
                    .expression_attribute_values(":from", AttributeValue::S(keys::hour_aggregate_sk(start)))
                    .expression_attribute_values(":to", AttributeValue::S(keys::hour_aggregate_sk(last)))
                    .projection_expression("sk, predictions")
                    .set_exclusive_start_key(start_key)
            })
            .await?;
        for item in &aggregates {
            let reader = ItemReader::new(item);
            if reader.number("predictions")? <= 0.0 {
                continue;
            }
            let sk = reader.string("sk")?;
            let hour = sk
                .strip_prefix("H#")
                .and_then(keys::parse_hour_key)
                .ok_or_else(|| reader.corrupt("sk", "not an hour aggregate key H#YYYY-MM-DDTHH"))?;
            hours.insert(hour);
        }

        let prefix = format!("{}#", keys::escape(version));
        let markers = self
            .query_all(deadline, |start_key| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":pk", AttributeValue::S(keys::dirty_pk(model)))
                    .expression_attribute_values(":prefix", AttributeValue::S(prefix.clone()))
                    .projection_expression("sk")
                    .set_exclusive_start_key(start_key)
            })
            .await?;
        for item in &markers {
            let reader = ItemReader::new(item);
            let sk = reader.string("sk")?;
            let (_, hour) = keys::parse_dirty_sk(&sk).ok_or_else(|| reader.corrupt("sk", "not a dirty-hour key"))?;
            if (start..end).contains(&hour) {
                hours.insert(hour);
            }
        }
        Ok(hours.into_iter().collect())
    }

    /// Reads the predictions of `version` in one shard of the `gsi1` index for the UTC hour
    /// holding `hour`. [`Store::read_hour`] reads the hour's shards one after another; reading
    /// them as separate calls lets a caller run them at once.
    pub async fn read_hour_shard(
        &self,
        model: &str,
        version: &str,
        hour: DateTime<Utc>,
        shard: u32,
    ) -> Result<Vec<StoredPrediction>, StoreError> {
        let partition = keys::hour_gsi_pk(model, version, floor_hour(hour), shard);
        let items = self
            .query_all(self.read_deadline(), |start_key| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::GSI1)
                    .key_condition_expression("gsi1pk = :pk")
                    .expression_attribute_values(":pk", AttributeValue::S(partition.clone()))
                    .set_exclusive_start_key(start_key)
            })
            .await?;
        items.iter().map(decode_prediction).collect()
    }
}
