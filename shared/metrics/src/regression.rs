//! Regression metrics: the errors between numeric predictions and actuals.
//!
//! Definitions follow scikit-learn 1.9.1 (`sklearn.metrics`), with an error defined as
//! `prediction − actual`:
//!
//! - `mae` = mean |error|, `mse` = mean error², `rmse` = √mse, `max_error` = max |error|;
//! - `r2` = 1 − Σ error² / Σ (actual − mean actual)²;
//! - `mape` = mean |error| / |actual| over the records whose actual is not zero;
//! - `mean_error` = mean error, so a positive value means the model predicts too high.
//!
//! Two departures from scikit-learn, both so that a number is never misleading:
//!
//! - `r2` is null when every actual is the same value. scikit-learn returns 1.0 or 0.0 there
//!   (`force_finite=True`), which reads like a perfect or a useless model.
//! - `mape` skips records whose actual is zero and counts them in `mape_skipped`. scikit-learn
//!   divides by `f64::EPSILON` instead, which turns one zero actual into an error of about 1e15.

use serde::{Deserialize, Serialize};

use crate::{summation::CompensatedSum, Metric, MetricsError};

/// Mergeable state of the regression metrics.
///
/// Sums are compensated. The spread of the actuals is kept as sums of `actual − shift` and of
/// its square, where `shift` is the first actual the state saw. Differences between nearby
/// floats are exact, so `r2` keeps full precision when the actuals sit far from zero (1e6 ± 1),
/// and merged states agree with a single pass.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegressionState {
    count: u64,
    sum_error: CompensatedSum,
    sum_abs_error: CompensatedSum,
    sum_squared_error: CompensatedSum,
    max_abs_error: f64,
    shift_actual: f64,
    sum_shifted_actual: CompensatedSum,
    sum_squared_shifted_actual: CompensatedSum,
    sum_abs_percentage_error: CompensatedSum,
    mape_skipped: u64,
}

/// Regression metrics computed from a [`RegressionState`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegressionMetrics {
    /// Number of records.
    pub count: u64,
    /// Mean absolute error.
    pub mae: Metric,
    /// Mean squared error.
    pub mse: Metric,
    /// Root of the mean squared error.
    pub rmse: Metric,
    /// Coefficient of determination; null when every actual is the same value.
    pub r2: Metric,
    /// Mean absolute percentage error as a fraction (0.1 is 10%), over non-zero actuals.
    pub mape: Metric,
    /// Records left out of `mape` because their actual is zero.
    pub mape_skipped: u64,
    /// Mean of `prediction − actual`.
    pub mean_error: Metric,
    /// Largest absolute error.
    pub max_error: Metric,
}

const NO_RECORDS: &str = "no records in the window";
const CONSTANT_ACTUALS: &str = "every actual is the same value, so R² has no variance to explain";
const ALL_ACTUALS_ZERO: &str = "every actual is zero, so no percentage error is defined";
const OVERFLOW: &str = "an error is too large for a 64-bit float; rescale the predictions and actuals";

impl RegressionState {
    /// Creates an empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one record. Both numbers must be finite.
    pub fn update(&mut self, prediction: f64, actual: f64) -> Result<(), MetricsError> {
        if !prediction.is_finite() {
            return Err(MetricsError::NotFinite {
                field: "prediction",
                value: prediction,
            });
        }
        if !actual.is_finite() {
            return Err(MetricsError::NotFinite {
                field: "actual",
                value: actual,
            });
        }

        if self.count == 0 {
            self.shift_actual = actual;
        }
        let error = prediction - actual;
        self.count += 1;
        self.sum_error.add(error);
        self.sum_abs_error.add(error.abs());
        self.sum_squared_error.add(error * error);
        self.max_abs_error = self.max_abs_error.max(error.abs());

        let shifted = actual - self.shift_actual;
        add_square(&mut self.sum_squared_shifted_actual, shifted);
        self.sum_shifted_actual.add(shifted);

        if actual == 0.0 {
            self.mape_skipped += 1;
        } else {
            self.sum_abs_percentage_error.add(error.abs() / actual.abs());
        }
        Ok(())
    }

    /// Folds another state into this one. Merging is associative and commutative.
    pub fn merge(&mut self, other: &RegressionState) -> Result<(), MetricsError> {
        if other.count == 0 {
            return Ok(());
        }
        if self.count == 0 {
            *self = other.clone();
            return Ok(());
        }

        // Move the other state's sums to this state's shift: with d = its shift − ours,
        // Σ(y − ours) = Σ(y − its) + n·d and Σ(y − ours)² = Σ(y − its)² + 2d·Σ(y − its) + n·d².
        let gap = other.shift_actual - self.shift_actual;
        let other_count = other.count as f64;
        let other_shifted = other.sum_shifted_actual.value();
        self.sum_shifted_actual.merge(&other.sum_shifted_actual);
        self.sum_shifted_actual.add(other_count * gap);
        self.sum_squared_shifted_actual.merge(&other.sum_squared_shifted_actual);
        self.sum_squared_shifted_actual.add(2.0 * gap * other_shifted);
        self.sum_squared_shifted_actual.add(other_count * gap * gap);

        self.count += other.count;
        self.sum_error.merge(&other.sum_error);
        self.sum_abs_error.merge(&other.sum_abs_error);
        self.sum_squared_error.merge(&other.sum_squared_error);
        self.max_abs_error = self.max_abs_error.max(other.max_abs_error);
        self.sum_abs_percentage_error.merge(&other.sum_abs_percentage_error);
        self.mape_skipped += other.mape_skipped;
        Ok(())
    }

    /// Returns the number of records.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Computes the metrics. Every metric is null with a reason when there are no records.
    pub fn compute(&self) -> RegressionMetrics {
        if self.count == 0 {
            let undefined = Metric::Undefined(NO_RECORDS);
            return RegressionMetrics {
                count: 0,
                mae: undefined,
                mse: undefined,
                rmse: undefined,
                r2: undefined,
                mape: Metric::Undefined(NO_RECORDS),
                mape_skipped: 0,
                mean_error: undefined,
                max_error: undefined,
            };
        }

        let count = self.count as f64;
        let mse = self.sum_squared_error.value() / count;
        let shifted = self.sum_shifted_actual.value();
        let squared_deviations = self.sum_squared_shifted_actual.value() - shifted * shifted / count;
        let r2 = if squared_deviations > 0.0 {
            Metric::finite_or(1.0 - self.sum_squared_error.value() / squared_deviations, OVERFLOW)
        } else {
            Metric::Undefined(CONSTANT_ACTUALS)
        };
        let mape_count = self.count.saturating_sub(self.mape_skipped);
        let mape = if mape_count == 0 {
            Metric::Undefined(ALL_ACTUALS_ZERO)
        } else {
            Metric::finite_or(self.sum_abs_percentage_error.value() / mape_count as f64, OVERFLOW)
        };

        RegressionMetrics {
            count: self.count,
            mae: Metric::finite_or(self.sum_abs_error.value() / count, OVERFLOW),
            mse: Metric::finite_or(mse, OVERFLOW),
            rmse: Metric::finite_or(mse.sqrt(), OVERFLOW),
            r2,
            mape,
            mape_skipped: self.mape_skipped,
            mean_error: Metric::finite_or(self.sum_error.value() / count, OVERFLOW),
            max_error: Metric::finite_or(self.max_abs_error, OVERFLOW),
        }
    }
}

/// Adds `value²` to `sum` without rounding the product: the fused multiply-add recovers the
/// part of the square that the rounded product drops.
fn add_square(sum: &mut CompensatedSum, value: f64) {
    let square = value * value;
    sum.add(square);
    sum.add(value.mul_add(value, -square));
}
