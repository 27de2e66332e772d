//! Errors for inputs the metrics cannot accept.

/// An input value a metric state rejects, naming the value and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// A score or probability that is NaN or infinite.
    #[error("{field} must be a finite number, got {value}")]
    NotFinite {
        /// Which input carried the value (`score`, `prediction`, `actual`, ...).
        field: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A binary score outside [0, 1].
    #[error("{field} must be a probability in [0, 1], got {value}")]
    NotProbability {
        /// Which input carried the value.
        field: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A class label that the state was not configured with.
    #[error("unknown class {label:?}; expected one of {expected:?}")]
    UnknownClass {
        /// The rejected label.
        label: String,
        /// The classes the state knows.
        expected: Vec<String>,
    },
    /// Two states that cannot be merged because they were built with different settings.
    #[error("cannot merge states with different {what}: {left} and {right}")]
    Incompatible {
        /// The setting that differs (`threshold`, `classes`, `bins`, ...).
        what: &'static str,
        /// The setting of the left state.
        left: String,
        /// The setting of the right state.
        right: String,
    },
    /// A number outside the range its field accepts.
    #[error("{field} must be {expected}, got {value}")]
    OutOfRange {
        /// The input field that carried the value (`odds`, `stake`, `latency_ms`, ...).
        field: &'static str,
        /// The rejected value.
        value: f64,
        /// The accepted range, in words (`greater than 1`, ...).
        expected: &'static str,
    },
    /// Per-class probabilities whose sum is too far from 1.
    #[error("class probabilities must sum to 1 within {tolerance}, got a sum of {sum}; normalise them before sending")]
    ProbabilitySum {
        /// The sum of the rejected probabilities.
        sum: f64,
        /// The accepted distance from 1.
        tolerance: f64,
    },
    /// A list input whose length does not match the configuration it is used with.
    #[error("{what} has {got} entries, expected {expected}")]
    LengthMismatch {
        /// The input with the wrong length (`probabilities`, `values`, ...).
        what: &'static str,
        /// The expected length (the number of classes, bins, ...).
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// Any other invalid input, described in full.
    #[error("{0}")]
    Invalid(String),
}
