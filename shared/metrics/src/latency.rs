//! TODO: latency
