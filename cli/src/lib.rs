//! The library behind the `mpt` command line: the real-data replay, ticks and the HTML report.
#![deny(clippy::all)]
#![warn(missing_docs)]

pub mod replay;
pub mod report;
