//! TODO: regression
