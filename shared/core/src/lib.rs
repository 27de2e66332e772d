//! Domain types, handler logic and AWS adapters shared by the model-performance functions.
//!
//! Functions stay thin: they parse the event, call into this crate, and shape the response.
#![deny(clippy::all)]
#![warn(missing_docs)]

pub mod aggregate;
pub mod alert;
pub mod cloudwatch;
pub mod compare;
pub mod compute;
pub mod config;
pub mod http;
pub mod iam;
pub mod ingest;
pub mod lambda;
pub mod model;
pub mod monitor;
pub mod names;
pub mod pagination;
pub mod query;
pub mod record;
pub mod snapshot;
pub mod store;
pub mod time;
pub mod validate;
pub mod window_plan;

pub use config::Config;
pub use model::{ModelConfig, Task};
pub use monitor::{MonitorKind, MonitorRule};
pub use record::{ActualRecord, ActualValue, BatchResponse, Bet, PredictionRecord, PredictionValue};
pub use store::{Store, StoreError};
