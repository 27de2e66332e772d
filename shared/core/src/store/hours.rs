//! Reads of one hour of raw predictions through the `gsi1` index.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{
    item::{decode_prediction, StoredPrediction},
    keys, Store, StoreError,
};
use crate::time::floor_hour;

/// IAM actions this module calls.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:Query"];

impl Store {
    /// Reads every prediction of `model` and `version` whose timestamp falls in the UTC hour
    /// holding `hour`: one paginated query per shard on `gsi1`.
    ///
    /// Index reads are eventually consistent, so a prediction written in the last second or so
    /// may be missing; see [`super::dirty::DIRTY_SETTLE_SECS`].
    pub async fn read_hour(
        &self,
        model: &str,
        version: &str,
        hour: DateTime<Utc>,
    ) -> Result<Vec<StoredPrediction>, StoreError> {
        let hour = floor_hour(hour);
        let deadline = self.read_deadline();
        let mut predictions = Vec::new();
        for shard in 0..keys::HOUR_SHARDS {
            let partition = keys::hour_gsi_pk(model, version, hour, shard);
            let items = self
                .query_all(deadline, |start| {
                    self.client
                        .query()
                        .table_name(&self.table)
                        .index_name(keys::GSI1)
                        .key_condition_expression("gsi1pk = :pk")
                        .expression_attribute_values(":pk", AttributeValue::S(partition.clone()))
                        .set_exclusive_start_key(start)
                })
                .await?;
            for item in &items {
                predictions.push(decode_prediction(item)?);
            }
        }
        Ok(predictions)
    }
}
