//! Table creation for local runs and tests; deployments create the table from the SAM template.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use tracing::info;

use super::{keys, retry::with_retry, Store, StoreError};

/// IAM actions this module calls. No deployed function creates tables.
pub const IAM_ACTIONS: &[&str] = &[
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:UpdateTimeToLive",
];

/// The TTL attribute: epoch seconds after which DynamoDB may delete the item.
pub const TTL_ATTRIBUTE: &str = "expires_at";

fn build_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Service {
        operation: "CreateTable",
        code: None,
        message: error.to_string(),
    }
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(build_error)
}

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(build_error)
}

impl Store {
    /// Creates the table with its `gsi1` index and TTL unless it exists. Returns true when it
    /// created the table.
    pub async fn create_table_if_missing(&self) -> Result<bool, StoreError> {
        let deadline = self.read_deadline();
        let described = with_retry(self.retry, deadline, "DescribeTable", || {
            self.client.describe_table().table_name(&self.table).send()
        })
        .await;
        match described {
            Ok(_) => return Ok(false),
            Err(StoreError::Service { code: Some(code), .. }) if code == "ResourceNotFoundException" => {}
            Err(error) => return Err(error),
        }

        let index = GlobalSecondaryIndex::builder()
            .index_name(keys::GSI1)
            .key_schema(key("gsi1pk", KeyType::Hash)?)
            .key_schema(key("gsi1sk", KeyType::Range)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(build_error)?;
        let attributes = vec![
            string_attribute("pk")?,
            string_attribute("sk")?,
            string_attribute("gsi1pk")?,
            string_attribute("gsi1sk")?,
        ];
        let schema = vec![key("pk", KeyType::Hash)?, key("sk", KeyType::Range)?];
        let created = with_retry(self.retry, deadline, "CreateTable", || {
            self.client
                .create_table()
                .table_name(&self.table)
                .billing_mode(BillingMode::PayPerRequest)
                .set_attribute_definitions(Some(attributes.clone()))
                .set_key_schema(Some(schema.clone()))
                .global_secondary_indexes(index.clone())
                .send()
        })
        .await;
        match created {
            Ok(_) => {}
            // Another process created it first.
            Err(StoreError::Service { code: Some(code), .. }) if code == "ResourceInUseException" => return Ok(false),
            Err(error) => return Err(error),
        }

        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(TTL_ATTRIBUTE)
            .build()
            .map_err(build_error)?;
        with_retry(self.retry, deadline, "UpdateTimeToLive", || {
            self.client
                .update_time_to_live()
                .table_name(&self.table)
                .time_to_live_specification(ttl.clone())
                .send()
        })
        .await?;
        info!(table = %self.table, "table created");
        Ok(true)
    }
}
