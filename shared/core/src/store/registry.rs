//! Writes of the model catalogue: registrations, monitor rules and version summaries.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};
use tokio::time::Instant;
use tracing::info;

use super::{
    item::{decode_model, model_item, s, time_value, ItemReader},
    keys,
    retry::with_retry,
    Key, Store, StoreError,
};
use crate::model::ModelConfig;

/// IAM actions this module calls.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"];

/// Attempts at the read-then-conditional-update path of [`Store::record_version`] before it
/// reports the contention as a failure.
const VERSION_UPDATE_ATTEMPTS: usize = 5;

/// Formats a time with a fixed nine-digit fraction, so that stored strings sort in time order.
fn sortable_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

impl Store {
    /// Writes a model's registration, replacing any earlier one.
    pub async fn put_model(
        &self,
        model: &str,
        config: &ModelConfig,
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Result<(), StoreError> {
        let item = model_item(model, config, now);
        with_retry(self.retry, deadline, "PutItem", || {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .send()
        })
        .await?;
        info!(model, task = %config.task, "model registration stored");
        Ok(())
    }

    /// Registers `model` with `config` unless it is registered already. Returns `None` when this
    /// call registered it, or the registration that was there first.
    pub async fn register_if_missing(
        &self,
        model: &str,
        config: &ModelConfig,
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Result<Option<ModelConfig>, StoreError> {
        let item = model_item(model, config, now);
        let result = with_retry(self.retry, deadline, "PutItem", || {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(pk)")
                .send()
        })
        .await;
        match result {
            Ok(_) => {
                info!(model, task = %config.task, "model registered on first use");
                Ok(None)
            }
            Err(error) if error.is_condition_failed() => {
                let key = Key::new(keys::model_pk(model), keys::CONFIG_SK);
                match self.get_item(&key, deadline).await? {
                    Some(existing) => decode_model(&existing).map(|(_, config)| Some(config)),
                    None => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// Replaces a model's monitor rules with `rules`, the validated `monitors` array as sent.
    pub async fn put_monitors(
        &self,
        model: &str,
        rules: &serde_json::Value,
        now: DateTime<Utc>,
        deadline: Instant,
    ) -> Result<(), StoreError> {
        let item = HashMap::from([
            ("pk".to_string(), s(keys::model_pk(model))),
            ("sk".to_string(), s(keys::MONITORS_SK)),
            ("rules".to_string(), s(rules.to_string())),
            ("updated_at".to_string(), s(time_value(now))),
        ]);
        with_retry(self.retry, deadline, "PutItem", || {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .send()
        })
        .await?;
        info!(model, "monitor rules stored");
        Ok(())
    }

    /// Adds `count` new predictions with timestamps in `[first, last]` to a version's summary.
    ///
    /// DynamoDB has no min or max in update expressions, so the common case (live traffic, where
    /// `first` and `last` do not precede the stored range) is one conditional update, and a
    /// backfill falls back to read-then-update guarded by the values read.
    pub async fn record_version(
        &self,
        model: &str,
        version: &str,
        first: DateTime<Utc>,
        last: DateTime<Utc>,
        count: u64,
        deadline: Instant,
    ) -> Result<(), StoreError> {
        let pk = keys::model_pk(model);
        let sk = keys::version_sk(version);
        let first_text = sortable_time(first);
        let last_text = sortable_time(last);
        let result = with_retry(self.retry, deadline, "UpdateItem", || {
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(pk.clone()))
                .key("sk", AttributeValue::S(sk.clone()))
                .update_expression(
                    "SET #version = :version, first_at = if_not_exists(first_at, :first), last_at = :last \
                     ADD prediction_count :count",
                )
                .condition_expression(
                    "(attribute_not_exists(last_at) OR last_at <= :last) \
                     AND (attribute_not_exists(first_at) OR first_at <= :first)",
                )
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":version", AttributeValue::S(version.to_string()))
                .expression_attribute_values(":first", AttributeValue::S(first_text.clone()))
                .expression_attribute_values(":last", AttributeValue::S(last_text.clone()))
                .expression_attribute_values(":count", AttributeValue::N(count.to_string()))
                .send()
        })
        .await;
        match result {
            Err(error) if error.is_condition_failed() => {}
            other => return other.map(|_| ()),
        }

        let key = Key::new(pk.clone(), sk.clone());
        let mut last_error = None;
        for _ in 0..VERSION_UPDATE_ATTEMPTS {
            let Some(item) = self.get_item(&key, deadline).await? else {
                continue;
            };
            let reader = ItemReader::new(&item);
            let stored_first = reader.string("first_at")?;
            let stored_last = reader.string("last_at")?;
            let new_first = stored_first.clone().min(first_text.clone());
            let new_last = stored_last.clone().max(last_text.clone());
            let result = with_retry(self.retry, deadline, "UpdateItem", || {
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .key("pk", AttributeValue::S(pk.clone()))
                    .key("sk", AttributeValue::S(sk.clone()))
                    .update_expression("SET first_at = :first, last_at = :last ADD prediction_count :count")
                    .condition_expression("first_at = :old_first AND last_at = :old_last")
                    .expression_attribute_values(":first", AttributeValue::S(new_first.clone()))
                    .expression_attribute_values(":last", AttributeValue::S(new_last.clone()))
                    .expression_attribute_values(":old_first", AttributeValue::S(stored_first.clone()))
                    .expression_attribute_values(":old_last", AttributeValue::S(stored_last.clone()))
                    .expression_attribute_values(":count", AttributeValue::N(count.to_string()))
                    .send()
            })
            .await;
            match result {
                Ok(_) => return Ok(()),
                Err(error) if error.is_condition_failed() => last_error = Some(error),
                Err(error) => return Err(error),
            }
        }
        Err(last_error.unwrap_or(StoreError::Unavailable {
            operation: "UpdateItem",
            message: format!("version summary {version:?} kept changing during the update"),
        }))
    }
}
