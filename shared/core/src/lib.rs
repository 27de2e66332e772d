//! Domain types, handler logic and AWS adapters shared by the model-performance functions.
//!
//! Functions stay thin: they parse the event, call into this crate, and shape the response.
#![deny(clippy::all)]
#![warn(missing_docs)]

pub mod compare;
pub mod config;
pub mod iam;
pub mod pagination;
pub mod time;

pub use config::Config;
