//! TODO: drift
