//! TODO: binary
