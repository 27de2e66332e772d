//! TODO: multiclass
