//! Prediction and actual records, and the per-record answer of the write endpoints.

use std::{collections::BTreeMap, fmt};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::ModelConfig;

/// A model's output: a number (binary probability or regression value), a class label, or
/// a probability per class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PredictionValue {
    /// A binary model's positive-class probability, or a regression model's value.
    Number(f64),
    /// A multiclass model's predicted label.
    Label(String),
    /// A multiclass model's probability per class label.
    Probabilities(BTreeMap<String, f64>),
}

impl PredictionValue {
    /// Returns the predicted label: the label itself, or the most probable class (the first in
    /// label order on ties). Returns `None` for numbers and empty maps.
    pub fn predicted_label(&self) -> Option<&str> {
        match self {
            PredictionValue::Label(label) => Some(label),
            PredictionValue::Probabilities(map) => map
                .iter()
                .fold(None::<(&String, f64)>, |best, (label, &p)| match best {
                    Some((_, best_p)) if best_p >= p => best,
                    _ => Some((label, p)),
                })
                .map(|(label, _)| label.as_str()),
            PredictionValue::Number(_) => None,
        }
    }
}

/// A true outcome. Binary outcomes are stored as the numbers 0 and 1, whether sent as numbers or
/// as `true`/`false`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ActualValue {
    /// A binary outcome as sent: `true` or `false`.
    Bool(bool),
    /// A binary outcome (0 or 1) or a regression value.
    Number(f64),
    /// A multiclass label.
    Label(String),
}

impl ActualValue {
    /// Returns the value with booleans turned into 0 and 1, the form that is stored and compared.
    pub fn normalized(&self) -> ActualValue {
        match self {
            ActualValue::Bool(true) => ActualValue::Number(1.0),
            ActualValue::Bool(false) => ActualValue::Number(0.0),
            other => other.clone(),
        }
    }

    /// Returns the number, for binary and regression outcomes (booleans count as 0 and 1).
    pub fn as_number(&self) -> Option<f64> {
        match self.normalized() {
            ActualValue::Number(n) => Some(n),
            _ => None,
        }
    }

    /// Returns the label, for multiclass outcomes.
    pub fn as_label(&self) -> Option<&str> {
        match self {
            ActualValue::Label(label) => Some(label),
            _ => None,
        }
    }
}

impl fmt::Display for ActualValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActualValue::Bool(b) => write!(f, "{b}"),
            ActualValue::Number(n) => write!(f, "{n}"),
            ActualValue::Label(label) => write!(f, "{label:?}"),
        }
    }
}

/// A wager placed because of a prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bet {
    /// The outcome bet on: binary 0 or 1, multiclass a label.
    pub side: ActualValue,
    /// Decimal odds, greater than 1.
    pub odds: f64,
    /// The amount staked, greater than 0.
    pub stake: f64,
}

impl Bet {
    /// Returns the profit given the actual outcome: `stake × (odds − 1)` on a win, else `−stake`.
    pub fn profit(&self, actual: &ActualValue) -> f64 {
        if self.side.normalized() == actual.normalized() {
            self.stake * (self.odds - 1.0)
        } else {
            -self.stake
        }
    }
}

/// One prediction as the client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRecord {
    /// The event predicted; unique per model and version.
    pub id: String,
    /// The model version that made the prediction.
    pub version: String,
    /// When the prediction was made.
    pub timestamp: DateTime<Utc>,
    /// The model's output.
    pub prediction: PredictionValue,
    /// The true outcome, when already known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<ActualValue>,
    /// How long the model took, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Tags that split metrics into segments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<BTreeMap<String, String>>,
    /// Numeric model inputs, for drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<BTreeMap<String, f64>>,
    /// A wager placed because of this prediction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bet: Option<Bet>,
}

/// One true outcome as the client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActualRecord {
    /// The event whose outcome this is; it applies to every version's prediction of the id.
    pub id: String,
    /// The outcome.
    pub actual: ActualValue,
    /// When the outcome became known; defaults to the time it was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
}

/// The body of `POST /v1/predictions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionsRequest {
    /// The model's name.
    pub model: String,
    /// At most 1,000 predictions.
    pub predictions: Vec<PredictionRecord>,
}

/// The body of `POST /v1/actuals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActualsRequest {
    /// The model's name.
    pub model: String,
    /// At most 1,000 actuals.
    pub actuals: Vec<ActualRecord>,
}

/// A record that was not stored because it is invalid or conflicts with a stored one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    /// The record's position in the request, from 0.
    pub index: usize,
    /// The record's id, when it had a readable one.
    pub id: Option<String>,
    /// The field at fault.
    pub field: String,
    /// The problem and its fix.
    pub reason: String,
}

/// A valid record that storage could not take; resending it is safe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The record's position in the request, from 0.
    pub index: usize,
    /// The record's id.
    pub id: Option<String>,
    /// Why it failed.
    pub reason: String,
}

/// The answer of `POST /v1/predictions` and `POST /v1/actuals`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchResponse {
    /// How many records are stored, counting re-sent identical ones.
    pub stored: usize,
    /// Records that were not stored because of their content, by index.
    pub rejected: Vec<Rejection>,
    /// Records that storage failed to take, by index.
    pub failed: Vec<Failure>,
    /// The registration this batch made for a model not registered before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered: Option<ModelConfig>,
}

impl BatchResponse {
    /// Returns the HTTP status: 200 when all were stored, 400 when all were rejected, 503 when
    /// nothing was stored because storage failed, and 207 otherwise.
    pub fn status(&self) -> u16 {
        if self.rejected.is_empty() && self.failed.is_empty() {
            200
        } else if self.stored == 0 && self.failed.is_empty() {
            400
        } else if self.stored == 0 {
            503
        } else {
            207
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prediction_value_parses_each_form() {
        let number: PredictionValue = serde_json::from_str("0.64").unwrap();
        let label: PredictionValue = serde_json::from_str("\"H\"").unwrap();
        let map: PredictionValue = serde_json::from_str(r#"{"H": 0.5, "A": 0.5}"#).unwrap();
        assert_eq!(number, PredictionValue::Number(0.64));
        assert_eq!(label, PredictionValue::Label("H".into()));
        assert!(matches!(map, PredictionValue::Probabilities(_)));
    }

    #[test]
    fn predicted_label_takes_most_probable_class() {
        let map: PredictionValue = serde_json::from_str(r#"{"A": 0.2, "D": 0.3, "H": 0.5}"#).unwrap();
        assert_eq!(map.predicted_label(), Some("H"));
    }

    #[test]
    fn actual_bool_normalizes_to_number() {
        assert_eq!(ActualValue::Bool(true).normalized(), ActualValue::Number(1.0));
        assert_eq!(ActualValue::Bool(false).as_number(), Some(0.0));
    }

    #[test]
    fn bet_profit_on_win_and_loss() {
        let bet = Bet {
            side: ActualValue::Number(1.0),
            odds: 1.85,
            stake: 10.0,
        };
        assert!((bet.profit(&ActualValue::Bool(true)) - 8.5).abs() < 1e-12);
        assert_eq!(bet.profit(&ActualValue::Number(0.0)), -10.0);
    }

    #[test]
    fn batch_status_follows_outcomes() {
        let rejection = Rejection {
            index: 0,
            id: None,
            field: "id".into(),
            reason: "missing".into(),
        };
        let failure = Failure {
            index: 1,
            id: None,
            reason: "throttled".into(),
        };
        let all_stored = BatchResponse {
            stored: 2,
            ..Default::default()
        };
        let all_rejected = BatchResponse {
            rejected: vec![rejection.clone()],
            ..Default::default()
        };
        let none_stored = BatchResponse {
            rejected: vec![rejection.clone()],
            failed: vec![failure.clone()],
            ..Default::default()
        };
        let partial = BatchResponse {
            stored: 1,
            failed: vec![failure],
            ..Default::default()
        };
        assert_eq!(all_stored.status(), 200);
        assert_eq!(all_rejected.status(), 400);
        assert_eq!(none_stored.status(), 503);
        assert_eq!(partial.status(), 207);
    }
}
