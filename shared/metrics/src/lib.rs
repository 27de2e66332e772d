//! Mergeable metric states for model-performance tracking, exact against scikit-learn.
//!
//! Each metric family is a state: update it with records, merge it with another state in any
//! order or grouping, then compute. States serialise small and stable with serde, because they
//! are stored as hourly aggregates and merged into windows. The crate does no I/O and no async.
#![deny(clippy::all)]
#![warn(missing_docs)]

pub mod binary;
pub mod calibration;
pub mod drift;
pub mod error;
pub mod histogram;
pub mod latency;
pub mod metric;
pub mod multiclass;
pub mod regression;
pub mod stats;
pub mod summation;
pub mod value;

pub use error::MetricsError;
pub use metric::Metric;
