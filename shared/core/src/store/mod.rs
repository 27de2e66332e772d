//! The DynamoDB store: one table holding registrations, raw records, aggregates and alerts.
//!
//! The layout is described in `docs/data-model.md`; every key is built in [`keys`]. Each module
//! here declares the IAM actions it calls, and [`crate::iam`] composes them per function.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use tokio::time::Instant;

pub mod aggregates;
pub mod alerts;
pub mod batch;
pub mod catalog;
pub mod dirty;
pub mod history;
pub mod hours;
pub mod item;
pub mod join;
pub mod keys;
pub mod reads;
pub mod registry;
mod retry;
pub mod table;

pub use batch::{GetOutcome, Key, WriteOutcome};
pub use catalog::{RegisteredModel, VersionSummary};
pub use dirty::DirtyHour;
pub use item::{Item, StoredActual, StoredPrediction};
pub use retry::RetryPolicy;

/// A DynamoDB failure, naming the operation and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// Still throttled when the time budget ran out.
    #[error("DynamoDB {operation} was still throttled when the time budget ran out; resend later")]
    Throttled {
        /// The DynamoDB operation.
        operation: &'static str,
    },
    /// A server-side or network failure that outlasted the time budget.
    #[error("DynamoDB {operation} failed ({message}) until the time budget ran out; resend later")]
    Unavailable {
        /// The DynamoDB operation.
        operation: &'static str,
        /// The last error.
        message: String,
    },
    /// A failure that retrying does not fix, such as a missing table or a failed condition.
    #[error("DynamoDB {operation} failed: {}{message}", code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
    Service {
        /// The DynamoDB operation.
        operation: &'static str,
        /// DynamoDB's error code, such as `ResourceNotFoundException`.
        code: Option<String>,
        /// DynamoDB's message.
        message: String,
    },
    /// A stored item that does not have the shape this code writes.
    #[error("item {key} has an invalid {attribute}: {detail}; delete or rewrite the item")]
    Corrupt {
        /// The item's `pk` and `sk`.
        key: String,
        /// The attribute at fault.
        attribute: String,
        /// The problem found.
        detail: String,
    },
}

impl StoreError {
    /// Returns true when DynamoDB rejected a write because its condition failed.
    pub fn is_condition_failed(&self) -> bool {
        matches!(self, StoreError::Service { code: Some(code), .. } if code == "ConditionalCheckFailedException")
    }

    /// Returns true for failures that may pass when the client resends later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Throttled { .. } | StoreError::Unavailable { .. })
    }

    /// Returns the reason given to a client for a record this error kept from being stored.
    pub fn record_reason(&self) -> String {
        match self {
            StoreError::Throttled { .. } => "storage throttled; resend this record".to_string(),
            StoreError::Unavailable { .. } => "storage unavailable; resend this record".to_string(),
            other => format!("storage failed ({other}); resend this record"),
        }
    }
}

/// The DynamoDB table and the client that reaches it.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
    retry: RetryPolicy,
}

impl Store {
    /// Builds a store over `table` with the default retry policy.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            retry: RetryPolicy::default(),
        }
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Returns the SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Returns the table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Returns the retry policy.
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// Returns the deadline of a read call started now.
    fn read_deadline(&self) -> Instant {
        Instant::now() + self.retry.read_budget
    }
}

/// Returns the deadline `budget` from now.
pub fn deadline_after(budget: Duration) -> Instant {
    Instant::now() + budget
}
