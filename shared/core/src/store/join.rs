//! The join of actuals into predictions, by id.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{
    item::{actual_value, decode_prediction, time_value, StoredPrediction},
    keys,
    retry::with_retry,
    Store, StoreError,
};
use crate::record::ActualValue;

/// IAM actions this module calls.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:Query", "dynamodb:UpdateItem"];

impl Store {
    /// Reads every version's prediction of `id`, strongly consistent.
    pub async fn predictions_of_id(
        &self,
        model: &str,
        id: &str,
        deadline: Instant,
    ) -> Result<Vec<StoredPrediction>, StoreError> {
        let items = self
            .query_all(deadline, |start| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":pk", AttributeValue::S(keys::prediction_pk(model, id)))
                    .expression_attribute_values(":prefix", AttributeValue::S("V#".into()))
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
            })
            .await?;
        items.iter().map(decode_prediction).collect()
    }

    /// Sets the actual on one stored prediction that has none. Returns false when the prediction
    /// does not exist or already has an actual.
    pub async fn fill_actual(
        &self,
        model: &str,
        id: &str,
        version: &str,
        actual: &ActualValue,
        at: DateTime<Utc>,
        deadline: Instant,
    ) -> Result<bool, StoreError> {
        let result = with_retry(self.retry, deadline, "UpdateItem", || {
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(keys::prediction_pk(model, id)))
                .key("sk", AttributeValue::S(keys::prediction_sk(version)))
                .update_expression("SET actual = :actual, actual_timestamp = :at")
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(actual)")
                .expression_attribute_values(":actual", actual_value(actual))
                .expression_attribute_values(":at", AttributeValue::S(time_value(at)))
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
