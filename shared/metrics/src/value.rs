//! TODO: value
