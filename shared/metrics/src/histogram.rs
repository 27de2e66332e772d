//! TODO: histogram
