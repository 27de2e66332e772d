//! Business value of predictions: betting returns, and a per-outcome value matrix.

use serde::{Deserialize, Serialize};

use crate::{summation::CompensatedSum, Metric, MetricsError};

const NO_BETS: &str = "no bets in the window";
const NO_RECORDS: &str = "no records in the window";
const OVERFLOW: &str = "a total is too large for a 64-bit float; check the stakes and values";

/// Mergeable state of the wagers placed on predictions.
///
/// A bet on `side` at decimal `odds` with `stake` wins `stake · (odds − 1)` when the actual
/// outcome equals `side` and loses `stake` otherwise.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BettingState {
    bets: u64,
    won: u64,
    total_staked: CompensatedSum,
    profit: CompensatedSum,
}

/// Betting results computed from a [`BettingState`], in the currency of the stakes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BettingMetrics {
    /// Number of bets.
    pub bets: u64,
    /// Number of bets whose side was the actual outcome.
    pub won: u64,
    /// Sum of the stakes.
    pub total_staked: Metric,
    /// Sum of the profits, negative for a loss.
    pub profit: Metric,
    /// Return on investment: profit / total staked; null without bets.
    pub roi: Metric,
}

impl BettingState {
    /// Creates an empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one settled bet. `odds` must be greater than 1 and `stake` greater than 0.
    pub fn update<T: PartialEq + ?Sized>(
        &mut self,
        side: &T,
        odds: f64,
        stake: f64,
        actual: &T,
    ) -> Result<(), MetricsError> {
        if !odds.is_finite() {
            return Err(MetricsError::NotFinite {
                field: "odds",
                value: odds,
            });
        }
        if odds <= 1.0 {
            return Err(MetricsError::OutOfRange {
                field: "odds",
                value: odds,
                expected: "decimal odds greater than 1",
            });
        }
        if !stake.is_finite() {
            return Err(MetricsError::NotFinite {
                field: "stake",
                value: stake,
            });
        }
        if stake <= 0.0 {
            return Err(MetricsError::OutOfRange {
                field: "stake",
                value: stake,
                expected: "greater than 0",
            });
        }

        self.bets += 1;
        self.total_staked.add(stake);
        if side == actual {
            self.won += 1;
            self.profit.add(stake * (odds - 1.0));
        } else {
            self.profit.add(-stake);
        }
        Ok(())
    }

    /// Folds another state into this one.
    pub fn merge(&mut self, other: &BettingState) -> Result<(), MetricsError> {
        self.bets += other.bets;
        self.won += other.won;
        self.total_staked.merge(&other.total_staked);
        self.profit.merge(&other.profit);
        Ok(())
    }

    /// Computes the results. ROI is null with a reason when there are no bets.
    pub fn compute(&self) -> BettingMetrics {
        let total_staked = self.total_staked.value();
        let profit = self.profit.value();
        let roi = if self.bets == 0 {
            Metric::Undefined(NO_BETS)
        } else {
            Metric::finite_or(profit / total_staked, OVERFLOW)
        };
        BettingMetrics {
            bets: self.bets,
            won: self.won,
            total_staked: Metric::finite_or(total_staked, OVERFLOW),
            profit: Metric::finite_or(profit, OVERFLOW),
            roi,
        }
    }
}

/// Mergeable state that values each (predicted, actual) outcome with a user matrix.
///
/// `values[actual][predicted]` is what one record with that outcome is worth, in any unit
/// (a cost is a negative value). Rows and columns follow the class order, as in a confusion
/// matrix. The state keeps outcome counts, so merged totals are exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredCostMatrixState")]
pub struct CostMatrixState {
    classes: Vec<String>,
    values: Vec<Vec<f64>>,
    /// Records by actual class (rows) and predicted class (columns).
    counts: Vec<Vec<u64>>,
}

/// The serialised form of [`CostMatrixState`], validated before it becomes a state.
#[derive(Deserialize)]
struct StoredCostMatrixState {
    classes: Vec<String>,
    values: Vec<Vec<f64>>,
    counts: Vec<Vec<u64>>,
}

impl TryFrom<StoredCostMatrixState> for CostMatrixState {
    type Error = MetricsError;

    fn try_from(stored: StoredCostMatrixState) -> Result<Self, Self::Error> {
        let mut state = CostMatrixState::new(stored.classes, stored.values)?;
        check_square(&stored.counts, state.classes.len(), "counts")?;
        state.counts = stored.counts;
        Ok(state)
    }
}

/// Value totals computed from a [`CostMatrixState`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostMatrixMetrics {
    /// Number of records.
    pub count: u64,
    /// Sum of the values of all records.
    pub total_value: Metric,
    /// Total value divided by the number of records; null without records.
    pub mean_value: Metric,
}

impl CostMatrixState {
    /// Creates an empty state over `classes` with `values[actual][predicted]` per record.
    pub fn new(classes: Vec<String>, values: Vec<Vec<f64>>) -> Result<Self, MetricsError> {
        if classes.is_empty() {
            return Err(MetricsError::Invalid(
                "a value matrix needs at least one class; list the classes of the model".to_string(),
            ));
        }
        for (index, label) in classes.iter().enumerate() {
            if classes[..index].contains(label) {
                return Err(MetricsError::Invalid(format!(
                    "class {label:?} appears twice in {classes:?}; list each class once"
                )));
            }
        }
        check_square(&values, classes.len(), "values")?;
        if let Some(value) = values.iter().flatten().find(|value| !value.is_finite()) {
            return Err(MetricsError::NotFinite {
                field: "value matrix entry",
                value: *value,
            });
        }

        let size = classes.len();
        Ok(Self {
            classes,
            values,
            counts: vec![vec![0; size]; size],
        })
    }

    /// Returns the class labels, in order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Adds one record with its predicted and actual class.
    pub fn update(&mut self, predicted: &str, actual: &str) -> Result<(), MetricsError> {
        let predicted_index = self.class_index(predicted)?;
        let actual_index = self.class_index(actual)?;
        self.counts[actual_index][predicted_index] += 1;
        Ok(())
    }

    /// Folds another state into this one. Both must have the same classes and values.
    pub fn merge(&mut self, other: &CostMatrixState) -> Result<(), MetricsError> {
        if self.classes != other.classes {
            return Err(MetricsError::Incompatible {
                what: "classes",
                left: format!("{:?}", self.classes),
                right: format!("{:?}", other.classes),
            });
        }
        if self.values != other.values {
            return Err(MetricsError::Incompatible {
                what: "value matrices",
                left: format!("{:?}", self.values),
                right: format!("{:?}", other.values),
            });
        }
        for (row, other_row) in self.counts.iter_mut().zip(&other.counts) {
            for (cell, other_cell) in row.iter_mut().zip(other_row) {
                *cell += other_cell;
            }
        }
        Ok(())
    }

    /// Computes the totals. The mean is null with a reason when there are no records.
    pub fn compute(&self) -> CostMatrixMetrics {
        let count: u64 = self.counts.iter().flatten().sum();
        let mut total = CompensatedSum::new();
        for (count_row, value_row) in self.counts.iter().zip(&self.values) {
            for (cell_count, value) in count_row.iter().zip(value_row) {
                total.add(*cell_count as f64 * value);
            }
        }
        let total_value = total.value();
        let mean_value = if count == 0 {
            Metric::Undefined(NO_RECORDS)
        } else {
            Metric::finite_or(total_value / count as f64, OVERFLOW)
        };
        CostMatrixMetrics {
            count,
            total_value: Metric::finite_or(total_value, OVERFLOW),
            mean_value,
        }
    }

    fn class_index(&self, label: &str) -> Result<usize, MetricsError> {
        self.classes
            .iter()
            .position(|class| class == label)
            .ok_or_else(|| MetricsError::UnknownClass {
                label: label.to_string(),
                expected: self.classes.clone(),
            })
    }
}

/// Checks that `matrix` has `size` rows of `size` entries.
fn check_square<T>(matrix: &[Vec<T>], size: usize, what: &'static str) -> Result<(), MetricsError> {
    if matrix.len() != size {
        return Err(MetricsError::LengthMismatch {
            what,
            expected: size,
            got: matrix.len(),
        });
    }
    if let Some(row) = matrix.iter().find(|row| row.len() != size) {
        return Err(MetricsError::LengthMismatch {
            what,
            expected: size,
            got: row.len(),
        });
    }
    Ok(())
}
