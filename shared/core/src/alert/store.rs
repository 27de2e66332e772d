//! Where monitor states and the alert log are kept, and the errors of a check run.
//!
//! A state changes only through [`AlertStore::save`], a conditional write on the state's
//! revision: of two runs that read the same revision, one writes and the other gets
//! [`SaveResult::Conflict`] and backs off. That is what keeps two concurrent runs from sending
//! the same alert twice.

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::{
    alert::{message::AlertMessage, report::AlertRecord, source::SourceError, state::MonitorState},
    store::StoreError,
};

/// A notification claimed by a state write and not yet confirmed as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    /// The rendered message.
    pub message: AlertMessage,
    /// The alert log entry written once the message is sent.
    pub record: AlertRecord,
    /// Until when (Unix seconds, wall clock) the run that claimed it may still be sending it;
    /// other runs leave it alone until then.
    pub lease_until: i64,
    /// Publish attempts so far.
    pub attempts: u32,
}

/// A monitor's stored state with its optimistic-locking revision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredState {
    /// The state machine's state.
    pub state: MonitorState,
    /// A notification waiting to be sent.
    pub pending: Option<Pending>,
    /// Incremented by every write; 0 for a state never stored.
    pub revision: u64,
}

/// The result of a conditional state write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveResult {
    /// The state was written.
    Saved,
    /// Another run changed the state first; nothing was written.
    Conflict,
}

/// A failure of a check run, naming what failed and what happens next.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// Reading models, rules or metrics failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A DynamoDB call failed, or a stored item does not parse.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Publishing to SNS failed; the alert stays pending and the next run retries it.
    #[error("publishing alert {subject:?} failed: {detail}; it stays pending and the next run retries it")]
    Publish {
        /// The alert's subject.
        subject: String,
        /// The SDK's error.
        detail: String,
    },
    /// A pagination token that was not returned by this API.
    #[error("invalid pagination token {0:?}: pass the `next` value of the previous response unchanged")]
    InvalidToken(String),
    /// Creating the local alert topic or queue failed.
    #[error("setting up the local alert topic and queue failed at {operation}: {detail}; check that AWS_ENDPOINT_URL points at the emulator")]
    Setup {
        /// The SNS or SQS operation.
        operation: &'static str,
        /// The SDK's error.
        detail: String,
    },
    /// `MPT_DEFAULT_MONITORS` holds invalid rules.
    #[error("MPT_DEFAULT_MONITORS is invalid: {0}")]
    DefaultMonitors(String),
}

/// Storage of monitor states and of the alert log.
pub trait AlertStore: Sync {
    /// Reads the state of `monitor` on `version` of `model` with a strongly consistent read.
    fn load(
        &self,
        model: &str,
        monitor: &str,
        version: &str,
    ) -> impl Future<Output = Result<Option<StoredState>, AlertError>> + Send;

    /// Writes `state` if the stored revision is `state.revision - 1` (absent for revision 1).
    fn save(
        &self,
        model: &str,
        monitor: &str,
        version: &str,
        state: &StoredState,
    ) -> impl Future<Output = Result<SaveResult, AlertError>> + Send;

    /// Appends a sent alert to the model's log; writing the same record twice keeps one.
    fn append(&self, model: &str, record: &AlertRecord) -> impl Future<Output = Result<(), AlertError>> + Send;

    /// Lists every stored monitor state of a model as (monitor, version, state).
    fn states(
        &self,
        model: &str,
    ) -> impl Future<Output = Result<Vec<(String, String, StoredState)>, AlertError>> + Send;

    /// Returns up to `limit` log records, oldest first, after the position `after` (a token
    /// returned by an earlier call), and the token of the next page.
    fn records(
        &self,
        model: &str,
        limit: usize,
        after: Option<&str>,
    ) -> impl Future<Output = Result<(Vec<AlertRecord>, Option<String>), AlertError>> + Send;
}
