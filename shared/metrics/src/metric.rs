//! A computed metric value, or the named reason it is undefined for the input.

use serde::{Serialize, Serializer};

/// A metric that is either a finite number or undefined with a reason.
///
/// Undefined values serialise as JSON `null`; the reason travels separately (see
/// [`Metric::reason`]) so that API responses can put it in their `reasons` map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// A finite value.
    Value(f64),
    /// The metric is undefined for this input, for the stated reason.
    Undefined(&'static str),
}

impl Metric {
    /// Builds a value, or `Undefined(reason)` when `value` is NaN or infinite.
    pub fn finite_or(value: f64, reason: &'static str) -> Self {
        if value.is_finite() {
            Metric::Value(value)
        } else {
            Metric::Undefined(reason)
        }
    }

    /// Returns the value when defined.
    pub fn value(&self) -> Option<f64> {
        match self {
            Metric::Value(v) => Some(*v),
            Metric::Undefined(_) => None,
        }
    }

    /// Returns the reason when undefined.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            Metric::Value(_) => None,
            Metric::Undefined(reason) => Some(reason),
        }
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Metric::Value(v) => serializer.serialize_f64(*v),
            Metric::Undefined(_) => serializer.serialize_none(),
        }
    }
}
