//! The library behind the `mpt` command line: the real-data replay, ticks and the HTML report.
#![deny(clippy::all)]
#![warn(missing_docs)]

pub mod replay;
pub mod report;
pub mod tick;

/// A command's failure: the one-sentence message for stderr and the exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandError {
    /// One sentence naming what failed, the value and the fix.
    pub message: String,
    /// 1 for a failure, 2 for a usage error.
    pub status: u8,
}

impl CommandError {
    /// Builds a failure (exit status 1).
    pub fn failure(error: impl std::fmt::Display) -> Self {
        Self {
            message: error.to_string(),
            status: 1,
        }
    }

    /// Builds a usage error (exit status 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            status: 2,
        }
    }
}
