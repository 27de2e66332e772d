//! Multiclass states over an open class list.
//!
//! A model registered without `classes` accepts any label, so two hours may have seen different
//! labels. Before two such states merge, or before a state takes a label it has not seen, both
//! are widened to the sorted union of their classes. Widening is exact: a new class has no
//! records in the confusion matrix, and every record that came with probabilities gave it
//! probability 0, which adds nothing to log loss or Brier and counts as a negative at score 0 in
//! the class's one-vs-rest histogram.

use mpt_metrics::{
    histogram::ScoreHistogram,
    multiclass::{ClassPrediction, MulticlassState},
    MetricsError,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::record::PredictionValue;

/// A multiclass performance state whose class list may grow as labels arrive.
///
/// A multiclass state needs at least two classes. Until a model without a registered class list
/// has shown two distinct labels, its labelled predictions all name one label, as both the
/// prediction and the actual, and are only counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenClassState {
    /// The state, once two classes are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<MulticlassState>,
    /// The one label seen so far and how many labelled predictions named it, before `state` exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    single: Option<(String, u64)>,
}

impl OpenClassState {
    /// Builds an empty state over the registered classes, or over none yet.
    pub fn new(classes: Option<Vec<String>>) -> Result<Self, MetricsError> {
        let state = match classes {
            Some(classes) => Some(MulticlassState::new(classes)?),
            None => None,
        };
        Ok(Self { state, single: None })
    }

    /// Returns the state, once two classes are known.
    pub fn state(&self) -> Option<&MulticlassState> {
        self.state.as_ref()
    }

    /// Returns the single label seen and its count, while fewer than two classes are known.
    pub fn single(&self) -> Option<(&str, u64)> {
        self.single.as_ref().map(|(label, count)| (label.as_str(), *count))
    }

    /// Updates the state with one labelled prediction, widening its classes first when needed.
    pub fn update(&mut self, value: &PredictionValue, actual: &str) -> Result<(), MetricsError> {
        let mut labels: Vec<String> = vec![actual.to_string()];
        match value {
            PredictionValue::Label(label) => labels.push(label.clone()),
            PredictionValue::Probabilities(map) => labels.extend(map.keys().cloned()),
            PredictionValue::Number(_) => {
                return Err(MetricsError::Invalid("multiclass prediction must be a label".into()))
            }
        }
        let known: Vec<String> = match (&self.state, &self.single) {
            (Some(state), _) => state.classes().to_vec(),
            (None, Some((label, _))) => vec![label.clone()],
            (None, None) => Vec::new(),
        };
        let union = union_of(&known, &labels);
        if union.len() < 2 {
            let count = self.single.as_ref().map_or(0, |(_, count)| *count);
            self.single = Some((actual.to_string(), count + 1));
            return Ok(());
        }
        let mut state = match self.state.take() {
            Some(state) => widen(&state, &union)?,
            None => self.state_from_single(&union)?,
        };
        let mut buffer = Vec::new();
        let result = state.update(class_prediction(value, state.classes(), &mut buffer), actual);
        self.state = Some(state);
        self.single = None;
        result
    }

    /// Merges `other` into this state, widening both to the union of their classes when they differ.
    pub fn merge(&mut self, other: &OpenClassState) -> Result<(), MetricsError> {
        let known = |open: &OpenClassState| -> Vec<String> {
            match (&open.state, &open.single) {
                (Some(state), _) => state.classes().to_vec(),
                (None, Some((label, _))) => vec![label.clone()],
                (None, None) => Vec::new(),
            }
        };
        let union = union_of(&known(self), &known(other));
        if union.len() < 2 {
            let count = |open: &OpenClassState| open.single.as_ref().map_or(0, |(_, count)| *count);
            let total = count(self) + count(other);
            self.single = union.first().map(|label| (label.clone(), total));
            return Ok(());
        }
        let mut left = match &self.state {
            Some(state) => widen(state, &union)?,
            None => self.state_from_single(&union)?,
        };
        let right = match &other.state {
            Some(state) => widen(state, &union)?,
            None => other.state_from_single(&union)?,
        };
        left.merge(&right)?;
        self.state = Some(left);
        self.single = None;
        Ok(())
    }

    /// Builds a state over `classes` holding the counted single-label predictions.
    fn state_from_single(&self, classes: &[String]) -> Result<MulticlassState, MetricsError> {
        let mut state = MulticlassState::new(classes.to_vec())?;
        if let Some((label, count)) = &self.single {
            for _ in 0..*count {
                state.update(ClassPrediction::Label(label), label)?;
            }
        }
        Ok(state)
    }
}

/// Returns a multiclass prediction in the form the state takes, with probabilities in the
/// state's class order.
fn class_prediction<'a>(
    value: &'a PredictionValue,
    classes: &[String],
    buffer: &'a mut Vec<f64>,
) -> ClassPrediction<'a> {
    match value {
        PredictionValue::Probabilities(map) => {
            buffer.clear();
            buffer.extend(classes.iter().map(|class| map.get(class).copied().unwrap_or(0.0)));
            ClassPrediction::Probabilities(buffer)
        }
        PredictionValue::Label(label) => ClassPrediction::Label(label),
        PredictionValue::Number(_) => ClassPrediction::Label(""),
    }
}

/// Returns the sorted union of two class lists.
fn union_of(left: &[String], right: &[String]) -> Vec<String> {
    let mut union: Vec<String> = left.iter().chain(right).cloned().collect();
    union.sort();
    union.dedup();
    union
}

/// Returns `state` over `classes`, a superset of its own classes in any order.
fn widen(state: &MulticlassState, classes: &[String]) -> Result<MulticlassState, MetricsError> {
    if state.classes() == classes {
        return Ok(state.clone());
    }
    let stored = serde_json::to_value(state).map_err(|error| MetricsError::Invalid(error.to_string()))?;
    let old_index = |class: &String| state.classes().iter().position(|c| c == class);
    let field = |name: &str| stored.get(name).cloned().unwrap_or(Value::Null);
    let old_confusion: Vec<Vec<u64>> = serde_json::from_value(field("confusion")).unwrap_or_default();
    let old_histograms: Vec<Value> = serde_json::from_value(field("histograms")).unwrap_or_default();
    let probability_count = field("probability_count").as_u64().unwrap_or(0);

    let confusion: Vec<Vec<u64>> = classes
        .iter()
        .map(|actual| {
            classes
                .iter()
                .map(|predicted| match (old_index(actual), old_index(predicted)) {
                    (Some(row), Some(column)) => old_confusion
                        .get(row)
                        .and_then(|counts| counts.get(column))
                        .copied()
                        .unwrap_or(0),
                    _ => 0,
                })
                .collect()
        })
        .collect();
    let mut histograms = Vec::with_capacity(classes.len());
    for class in classes {
        match old_index(class) {
            Some(index) => histograms.push(old_histograms.get(index).cloned().unwrap_or(Value::Null)),
            None => {
                let mut histogram = ScoreHistogram::new();
                for _ in 0..probability_count {
                    histogram.add(0.0, Some(false))?;
                }
                histograms.push(serde_json::to_value(&histogram).map_err(|e| MetricsError::Invalid(e.to_string()))?);
            }
        }
    }
    let widened = json!({
        "classes": classes,
        "confusion": confusion,
        "probability_count": probability_count,
        "log_loss_sum": field("log_loss_sum"),
        "squared_error_sum": field("squared_error_sum"),
        "histograms": histograms,
    });
    serde_json::from_value(widened).map_err(|error| MetricsError::Invalid(error.to_string()))
}
