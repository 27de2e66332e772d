//! Reads of the model catalogue: registrations, version summaries and monitor rules.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::{
    item::{decode_model, Item, ItemReader},
    keys,
    retry::with_retry,
    Key, Store, StoreError,
};
use crate::{
    model::ModelConfig,
    monitor::{parse_monitors, MonitorSet},
};

/// IAM actions this module calls.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:Query"];

/// A registered model.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredModel {
    /// The model's name.
    pub name: String,
    /// Its registration.
    pub config: ModelConfig,
}

/// What is known about one version of a model without reading its predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionSummary {
    /// The version's name.
    pub version: String,
    /// Timestamp of its earliest prediction.
    pub first_at: DateTime<Utc>,
    /// Timestamp of its latest prediction.
    pub last_at: DateTime<Utc>,
    /// Predictions stored. Two clients storing the same new prediction at the same moment may
    /// both count it, so this is an upper bound.
    pub predictions: u64,
}

impl Store {
    /// Reads one item, strongly consistent.
    pub(crate) async fn get_item(&self, key: &Key, deadline: Instant) -> Result<Option<Item>, StoreError> {
        let output = with_retry(self.retry, deadline, "GetItem", || {
            self.client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(key.to_item()))
                .consistent_read(true)
                .send()
        })
        .await?;
        Ok(output.item)
    }

    /// Reads every page of a query. `page` builds the query for one page from its start key.
    pub(crate) async fn query_all(
        &self,
        deadline: Instant,
        page: impl Fn(Option<Item>) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let output = with_retry(self.retry, deadline, "Query", || page(start.clone()).send()).await?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Reads a model's registration, or `None` when the model is not registered.
    pub async fn get_model(&self, model: &str) -> Result<Option<ModelConfig>, StoreError> {
        let key = Key::new(keys::model_pk(model), keys::CONFIG_SK);
        match self.get_item(&key, self.read_deadline()).await? {
            None => Ok(None),
            Some(item) => decode_model(&item).map(|(_, config)| Some(config)),
        }
    }

    /// Lists every registered model, by name. Reads the `gsi1` index, so a model registered in
    /// the last second may be missing.
    pub async fn list_models(&self) -> Result<Vec<RegisteredModel>, StoreError> {
        let items = self
            .query_all(self.read_deadline(), |start| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::GSI1)
                    .key_condition_expression("gsi1pk = :pk")
                    .expression_attribute_values(":pk", AttributeValue::S(keys::MODELS_GSI_PK.into()))
                    .set_exclusive_start_key(start)
            })
            .await?;
        items
            .iter()
            .map(|item| decode_model(item).map(|(name, config)| RegisteredModel { name, config }))
            .collect()
    }

    /// Lists a model's versions with their first and last prediction times and counts.
    pub async fn list_versions(&self, model: &str) -> Result<Vec<VersionSummary>, StoreError> {
        let items = self
            .query_all(self.read_deadline(), |start| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":pk", AttributeValue::S(keys::model_pk(model)))
                    .expression_attribute_values(":prefix", AttributeValue::S(keys::VERSION_PREFIX.into()))
                    .set_exclusive_start_key(start)
            })
            .await?;
        items
            .iter()
            .map(|item| {
                let reader = ItemReader::new(item);
                Ok(VersionSummary {
                    version: reader.string("version")?,
                    first_at: reader.time("first_at")?,
                    last_at: reader.time("last_at")?,
                    predictions: reader.number("prediction_count")? as u64,
                })
            })
            .collect()
    }

    /// Reads a model's monitor rules, or `None` when none were set.
    pub async fn get_monitors(&self, model: &str) -> Result<Option<MonitorSet>, StoreError> {
        let key = Key::new(keys::model_pk(model), keys::MONITORS_SK);
        let Some(item) = self.get_item(&key, self.read_deadline()).await? else {
            return Ok(None);
        };
        let reader = ItemReader::new(&item);
        let text = reader.string("rules")?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| reader.corrupt("rules", format!("not JSON: {e}")))?;
        let rules = parse_monitors(&json).map_err(|e| reader.corrupt("rules", e.to_string()))?;
        Ok(Some(MonitorSet { rules, json }))
    }
}
