//! Domain types, handler logic and AWS adapters shared by the model-performance functions.
//!
//! Functions stay thin: they parse the event, call into this crate, and shape the response.
#![deny(clippy::all)]
#![warn(missing_docs)]

pub mod cloudwatch;
pub mod config;
pub mod iam;
pub mod snapshot;
pub mod time;
pub mod window_plan;

pub use config::Config;
