//! Models: the task each one solves and the settings it is registered with.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The default decision threshold of a binary model.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// The kind of prediction a model makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// The probability of the positive class, in [0, 1].
    Binary,
    /// A class label, or a probability per class.
    Multiclass,
    /// A real number.
    Regression,
}

impl Task {
    /// The accepted task names, quoted in error messages.
    pub const ACCEPTED: &'static str = "binary, multiclass or regression";

    /// Returns the task's name as the API writes it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Task::Binary => "binary",
            Task::Multiclass => "multiclass",
            Task::Regression => "regression",
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task name that is not one of the accepted ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown task {value:?}: use {}", Task::ACCEPTED)]
pub struct UnknownTask {
    /// The rejected name.
    pub value: String,
}

impl FromStr for Task {
    type Err = UnknownTask;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "binary" => Ok(Task::Binary),
            "multiclass" => Ok(Task::Multiclass),
            "regression" => Ok(Task::Regression),
            _ => Err(UnknownTask {
                value: value.to_string(),
            }),
        }
    }
}

/// A fixed period of time, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

/// A model's registration: its task and the settings metrics and drift are computed with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// What the model predicts.
    pub task: Task,
    /// Binary models: the predicted class is positive when `prediction >= threshold`.
    pub threshold: f64,
    /// Multiclass models: the class labels, sorted, or `None` when any label is accepted.
    pub classes: Option<Vec<String>>,
    /// Segment tag keys that get their own metrics.
    pub segments: Vec<String>,
    /// The period drift is measured against; `None` means the 30 days before the current window.
    pub reference: Option<Period>,
}

impl ModelConfig {
    /// Builds a configuration for `task` with every other setting at its default.
    pub fn new(task: Task) -> Self {
        Self {
            task,
            threshold: DEFAULT_THRESHOLD,
            classes: None,
            segments: Vec::new(),
            reference: None,
        }
    }
}

/// The body of `PUT /v1/models/{model}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterModelRequest {
    /// `binary`, `multiclass` or `regression`.
    pub task: String,
    /// Binary decision threshold in [0, 1]; defaults to 0.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Multiclass class labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// Segment tag keys that get their own metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<String>>,
    /// The period drift is measured against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Period>,
}

/// The response of `PUT /v1/models/{model}`: the stored registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelResponse {
    /// The model's name.
    pub model: String,
    /// The registration as stored.
    #[serde(flatten)]
    pub config: ModelConfig,
    /// True when this request registered the model, false when it updated an existing one.
    pub created: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_parses_accepted_names() {
        assert_eq!("binary".parse::<Task>(), Ok(Task::Binary));
        assert_eq!("multiclass".parse::<Task>(), Ok(Task::Multiclass));
        assert_eq!("regression".parse::<Task>(), Ok(Task::Regression));
    }

    #[test]
    fn task_unknown_names_accepted_tasks() {
        let error = "ranking".parse::<Task>().unwrap_err();
        assert!(error.to_string().contains("binary, multiclass or regression"));
    }

    #[test]
    fn model_config_serialises_reference_as_rfc3339() {
        let mut config = ModelConfig::new(Task::Binary);
        config.reference = Some(Period {
            from: "2022-10-18T00:00:00Z".parse().unwrap(),
            to: "2023-04-10T00:00:00Z".parse().unwrap(),
        });
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["reference"]["from"], "2022-10-18T00:00:00Z");
    }
}
