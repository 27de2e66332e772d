//! TODO: calibration
