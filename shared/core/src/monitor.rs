//! Monitor rules: the conditions under which a model's metrics raise an alert.
//!
//! Rules arrive as the JSON body of `PUT /v1/models/{model}/monitors`. They are validated here,
//! stored exactly as sent, and read back as typed [`MonitorRule`]s by the degradation check.

use chrono::{DateTime, Utc};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    alert::metric::rule_metric_names,
    model::Task,
    time::{Duration, Window},
    validate::{check_label, is_model_name},
};

/// Maximum rules per model, so the stored rule list stays far below DynamoDB's item
/// size limit of 400 KB.
pub const MAX_MONITORS: usize = 100;

/// The significance level used when a rule sets no `alpha`.
pub const DEFAULT_ALPHA: f64 = 0.05;

/// The kind of condition a rule watches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorKind {
    /// A metric is below or above a fixed value.
    Threshold,
    /// A metric dropped by more than `max_drop` (relative) from a baseline.
    RelativeDrop,
    /// A drift statistic is above a value.
    Drift,
    /// The share of predictions with an actual is below a value.
    LabelCoverage,
    /// The number of predictions is below (or above) a value.
    Volume,
}

impl MonitorKind {
    /// The accepted kind names, quoted in error messages.
    pub const ACCEPTED: &'static str = "threshold, relative_drop, drift, label_coverage or volume";

    /// Returns the kind's name as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorKind::Threshold => "threshold",
            MonitorKind::RelativeDrop => "relative_drop",
            MonitorKind::Drift => "drift",
            MonitorKind::LabelCoverage => "label_coverage",
            MonitorKind::Volume => "volume",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "threshold" => Some(MonitorKind::Threshold),
            "relative_drop" => Some(MonitorKind::RelativeDrop),
            "drift" => Some(MonitorKind::Drift),
            "label_coverage" => Some(MonitorKind::LabelCoverage),
            "volume" => Some(MonitorKind::Volume),
            _ => None,
        }
    }
}

/// The reference a rule compares the current window against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Baseline {
    /// The window of this length that ends where the current window starts.
    Window {
        /// The baseline window's length.
        window: Window,
    },
    /// Another version of the model, over the same window.
    Version {
        /// The version name.
        version: String,
    },
    /// A fixed period.
    Period {
        /// Inclusive start.
        from: DateTime<Utc>,
        /// Exclusive end.
        to: DateTime<Utc>,
    },
}

/// One monitor rule. Fields a kind does not use are `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorRule {
    /// Unique name within the model, `[A-Za-z0-9._-]{1,128}`.
    pub name: String,
    /// The kind of condition.
    pub kind: MonitorKind,
    /// The metric key (`roc_auc`, `accuracy`, `psi`, ...); implied for `label_coverage` and `volume`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// The window the metric is computed over.
    pub window: Window,
    /// The reference of a `relative_drop` rule, or the 30 days before the window when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// `relative_drop`: the largest allowed drop as a fraction of the baseline value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_drop: Option<f64>,
    /// Fires when the value is below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    /// Fires when the value is above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    /// Fewest labelled predictions in each window for the rule to be evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_samples: Option<u64>,
    /// Significance level of the test behind a `relative_drop`; [`DEFAULT_ALPHA`] when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Evaluations in a row that must meet (or clear) the condition to fire (or resolve);
    /// [`crate::alert::state::DEFAULT_CONSECUTIVE`] (2) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive: Option<u32>,
    /// Shortest time between a resolution and the next firing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<Duration>,
}

/// The body of `PUT /v1/models/{model}/monitors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorsRequest {
    /// The rules; they replace the model's current ones.
    pub monitors: Vec<MonitorRule>,
}

/// A model's stored rules: typed, and the JSON exactly as it was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSet {
    /// The rules, typed.
    pub rules: Vec<MonitorRule>,
    /// The `monitors` array as sent, returned unchanged to readers.
    pub json: Value,
}

/// An invalid monitor rule, naming the rule's index, the field and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("monitors[{index}].{field}: {reason}")]
pub struct MonitorError {
    /// The rule's position in the `monitors` array.
    pub index: usize,
    /// The field at fault.
    pub field: String,
    /// The problem and its fix.
    pub reason: String,
}

/// Every field a monitor rule may hold.
pub const MONITOR_FIELDS: &[&str] = &[
    "name",
    "kind",
    "metric",
    "window",
    "baseline",
    "max_drop",
    "below",
    "above",
    "min_samples",
    "alpha",
    "consecutive",
    "cooldown",
];

/// Validates the `monitors` array of a request body and returns the typed rules.
pub fn parse_monitors(monitors: &Value) -> Result<Vec<MonitorRule>, MonitorError> {
    let list = monitors.as_array().ok_or_else(|| MonitorError {
        index: 0,
        field: "monitors".into(),
        reason: "must be an array of rules".into(),
    })?;
    if list.len() > MAX_MONITORS {
        return Err(MonitorError {
            index: MAX_MONITORS,
            field: "monitors".into(),
            reason: format!("at most {MAX_MONITORS} rules per model, got {}", list.len()),
        });
    }
    let mut rules: Vec<MonitorRule> = Vec::with_capacity(list.len());
    for (index, value) in list.iter().enumerate() {
        let rule = parse_rule(index, value)?;
        if let Some(first) = rules.iter().position(|r| r.name == rule.name) {
            return Err(MonitorError {
                index,
                field: "name".into(),
                reason: format!(
                    "{:?} is already the name of rule {first}; names must be unique",
                    rule.name
                ),
            });
        }
        rules.push(rule);
    }
    Ok(rules)
}

/// Checks that each rule's metric is one the degradation check has for a model of `task`, or
/// for a model of any task when `task` is `None`.
///
/// This is separate from [`parse_monitors`] so that rules stored before a metric was renamed
/// can still be read; new rules pass through both.
pub fn check_rule_metrics(rules: &[MonitorRule], task: Option<Task>) -> Result<(), MonitorError> {
    for (index, rule) in rules.iter().enumerate() {
        let Some(metric) = &rule.metric else {
            continue;
        };
        let valid = rule_metric_names(rule.kind, task);
        if valid.contains(&metric.as_str()) {
            continue;
        }
        let model = match task {
            Some(task) => format!("a {task} model"),
            None => "a model".to_string(),
        };
        return Err(MonitorError {
            index,
            field: "metric".into(),
            reason: format!(
                "metric {metric:?} is not one a {} rule can watch on {model}; use one of {}",
                rule.kind.as_str(),
                valid.join(", ")
            ),
        });
    }
    Ok(())
}

fn parse_rule(index: usize, value: &Value) -> Result<MonitorRule, MonitorError> {
    let error = |field: &str, reason: String| MonitorError {
        index,
        field: field.to_string(),
        reason,
    };
    let object = value
        .as_object()
        .ok_or_else(|| error("monitors", "each rule must be a JSON object".into()))?;
    if let Some(unknown) = object.keys().find(|k| !MONITOR_FIELDS.contains(&k.as_str())) {
        return Err(error(
            unknown,
            format!("unknown field; accepted fields are {}", MONITOR_FIELDS.join(", ")),
        ));
    }

    let name: String = field(index, object, "name")?.ok_or_else(|| error("name", "is required".into()))?;
    if !is_model_name(&name) {
        return Err(error(
            "name",
            format!("must match [A-Za-z0-9._-]{{1,128}}, got {name:?}"),
        ));
    }
    let kind_name: String = field(index, object, "kind")?.ok_or_else(|| error("kind", "is required".into()))?;
    let kind = MonitorKind::parse(&kind_name).ok_or_else(|| {
        error(
            "kind",
            format!("unknown kind {kind_name:?}: use {}", MonitorKind::ACCEPTED),
        )
    })?;
    let window: Window = field(index, object, "window")?.ok_or_else(|| error("window", "is required".into()))?;

    let rule = MonitorRule {
        name,
        kind,
        metric: field(index, object, "metric")?,
        window,
        baseline: field(index, object, "baseline")?,
        max_drop: field(index, object, "max_drop")?,
        below: field(index, object, "below")?,
        above: field(index, object, "above")?,
        min_samples: field(index, object, "min_samples")?,
        alpha: field(index, object, "alpha")?,
        consecutive: field(index, object, "consecutive")?,
        cooldown: field(index, object, "cooldown")?,
    };
    check_rule(&rule).map_err(|(field, reason)| error(field, reason))?;
    Ok(rule)
}

/// Reads one optional field, naming it in the error when its type is wrong.
fn field<T: DeserializeOwned>(
    index: usize,
    object: &Map<String, Value>,
    name: &str,
) -> Result<Option<T>, MonitorError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|e| MonitorError {
                index,
                field: name.to_string(),
                reason: describe(name, &e),
            }),
    }
}

fn describe(name: &str, error: &serde_json::Error) -> String {
    match name {
        "baseline" => "must be {\"window\": \"30d\"}, {\"version\": \"v1\"} or {\"from\": ..., \"to\": ...} \
                       with RFC 3339 timestamps"
            .to_string(),
        "min_samples" | "consecutive" => "must be a whole number of 0 or more".to_string(),
        _ => error.to_string(),
    }
}

/// Checks the fields each kind needs and their ranges.
fn check_rule(rule: &MonitorRule) -> Result<(), (&'static str, String)> {
    if let Some(metric) = &rule.metric {
        let well_formed = !metric.is_empty()
            && metric.len() <= 64
            && metric
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        // Whether the model has the metric depends on its task: see check_rule_metrics.
        if !well_formed {
            return Err((
                "metric",
                format!("must be a metric key such as roc_auc, got {metric:?}"),
            ));
        }
    }
    for (name, value) in [
        ("max_drop", rule.max_drop),
        ("below", rule.below),
        ("above", rule.above),
        ("alpha", rule.alpha),
    ] {
        if let Some(v) = value {
            if !v.is_finite() {
                return Err((name, format!("must be a finite number, got {v}")));
            }
        }
    }
    if let Some(alpha) = rule.alpha {
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(("alpha", format!("must be in (0, 1), got {alpha}")));
        }
    }
    if rule.consecutive == Some(0) {
        return Err(("consecutive", "must be at least 1, got 0".into()));
    }
    match &rule.baseline {
        Some(Baseline::Period { from, to }) if from >= to => {
            return Err(("baseline", format!("from must be before to, got {from} to {to}")));
        }
        Some(Baseline::Version { version }) => {
            check_label(version).map_err(|reason| ("baseline", format!("version {reason}")))?;
        }
        _ => {}
    }

    match rule.kind {
        MonitorKind::Threshold => {
            require_metric(rule)?;
            if rule.below.is_none() && rule.above.is_none() {
                return Err(("below", "a threshold rule needs below, above or both".into()));
            }
        }
        MonitorKind::RelativeDrop => {
            require_metric(rule)?;
            match rule.max_drop {
                None => return Err(("max_drop", "a relative_drop rule needs max_drop, e.g. 0.05".into())),
                Some(d) if !(d > 0.0 && d <= 1.0) => {
                    return Err(("max_drop", format!("must be a fraction in (0, 1], got {d}")));
                }
                Some(_) => {}
            }
        }
        MonitorKind::Drift => {
            require_metric(rule)?;
            if rule.above.is_none() {
                return Err(("above", "a drift rule needs above, e.g. 0.2".into()));
            }
        }
        MonitorKind::LabelCoverage => {
            implied_metric(rule, "label_coverage")?;
            match rule.below {
                None => return Err(("below", "a label_coverage rule needs below, e.g. 0.5".into())),
                Some(b) if !(0.0..=1.0).contains(&b) => {
                    return Err(("below", format!("label coverage is a fraction in [0, 1], got {b}")));
                }
                Some(_) => {}
            }
        }
        MonitorKind::Volume => {
            implied_metric(rule, "predictions")?;
            if rule.below.is_none() && rule.above.is_none() {
                return Err(("below", "a volume rule needs below, above or both".into()));
            }
            for (name, value) in [("below", rule.below), ("above", rule.above)] {
                if value.is_some_and(|v| v < 0.0) {
                    return Err((name, "a prediction count is 0 or more".into()));
                }
            }
        }
    }
    Ok(())
}

fn require_metric(rule: &MonitorRule) -> Result<(), (&'static str, String)> {
    match rule.metric {
        Some(_) => Ok(()),
        None => Err(("metric", format!("a {:?} rule needs a metric", rule.kind))),
    }
}

fn implied_metric(rule: &MonitorRule, implied: &str) -> Result<(), (&'static str, String)> {
    match &rule.metric {
        Some(metric) if metric != implied => Err((
            "metric",
            format!("this kind always watches {implied}; leave metric out or set it to {implied}, got {metric:?}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api_example() -> Value {
        json!([
            { "name": "auc-drop", "kind": "relative_drop", "metric": "roc_auc", "window": "1d",
              "baseline": { "window": "30d" }, "max_drop": 0.05,
              "min_samples": 200, "alpha": 0.05, "consecutive": 2, "cooldown": "6h" },
            { "name": "accuracy-floor", "kind": "threshold", "metric": "accuracy", "window": "7d",
              "below": 0.60, "min_samples": 100 },
            { "name": "score-drift", "kind": "drift", "metric": "psi", "window": "1d", "above": 0.2 },
            { "name": "labels-late", "kind": "label_coverage", "window": "1d", "below": 0.5 },
            { "name": "silence", "kind": "volume", "window": "1h", "below": 1 }
        ])
    }

    fn error_for(rule: Value) -> MonitorError {
        parse_monitors(&json!([rule])).unwrap_err()
    }

    #[test]
    fn monitors_api_example_parses() {
        let rules = parse_monitors(&api_example()).unwrap();
        assert_eq!(rules.len(), 5);
        assert_eq!(
            rules[0].baseline,
            Some(Baseline::Window {
                window: "30d".parse().unwrap()
            })
        );
        assert_eq!(rules[0].cooldown, Some("6h".parse().unwrap()));
    }

    #[test]
    fn monitors_round_trip_through_serde() {
        let rules = parse_monitors(&api_example()).unwrap();
        let json = serde_json::to_value(&rules).unwrap();
        assert_eq!(parse_monitors(&json).unwrap(), rules);
    }

    #[test]
    fn monitors_baseline_version_and_period_parse() {
        let rules = parse_monitors(&json!([
            { "name": "a", "kind": "relative_drop", "metric": "f1", "window": "1d",
              "baseline": { "version": "v1" }, "max_drop": 0.1 },
            { "name": "b", "kind": "relative_drop", "metric": "f1", "window": "1d",
              "baseline": { "from": "2023-01-01T00:00:00Z", "to": "2023-02-01T00:00:00Z" }, "max_drop": 0.1 }
        ]))
        .unwrap();
        assert!(matches!(rules[0].baseline, Some(Baseline::Version { .. })));
        assert!(matches!(rules[1].baseline, Some(Baseline::Period { .. })));
    }

    #[test]
    fn monitor_unknown_kind_names_accepted_kinds() {
        let error = error_for(json!({ "name": "x", "kind": "spike", "window": "1d" }));
        assert_eq!(error.field, "kind");
        assert!(error.reason.contains("relative_drop"));
    }

    #[test]
    fn monitor_unknown_field_is_rejected() {
        let error = error_for(json!({ "name": "x", "kind": "drift", "metric": "psi", "window": "1d",
                                      "above": 0.2, "maxdrop": 0.1 }));
        assert_eq!(error.field, "maxdrop");
    }

    #[test]
    fn monitor_bad_window_names_field() {
        let error = error_for(json!({ "name": "x", "kind": "drift", "metric": "psi", "window": "30m", "above": 0.2 }));
        assert_eq!(error.field, "window");
        assert!(error.reason.contains("1h to 90d"));
    }

    #[test]
    fn monitor_relative_drop_needs_max_drop() {
        let error = error_for(
            json!({ "name": "x", "kind": "relative_drop", "metric": "f1", "window": "1d",
                                      "baseline": { "window": "7d" } }),
        );
        assert_eq!(error.field, "max_drop");
    }

    #[test]
    fn monitor_relative_drop_without_baseline_parses() {
        let rules = parse_monitors(&json!([{ "name": "x", "kind": "relative_drop", "metric": "f1",
                                             "window": "1d", "max_drop": 0.1 }]))
        .unwrap();
        assert_eq!(rules[0].baseline, None);
    }

    fn metric_error(rule: Value, task: Option<Task>) -> MonitorError {
        let rules = parse_monitors(&json!([rule])).unwrap();
        check_rule_metrics(&rules, task).unwrap_err()
    }

    #[test]
    fn monitor_metrics_of_api_example_are_valid_for_binary() {
        let rules = parse_monitors(&api_example()).unwrap();
        assert_eq!(check_rule_metrics(&rules, Some(Task::Binary)), Ok(()));
    }

    #[test]
    fn monitor_misspelled_metric_is_rejected() {
        let error = metric_error(
            json!({ "name": "x", "kind": "threshold", "metric": "rocauc", "window": "1d", "below": 0.6 }),
            Some(Task::Binary),
        );
        assert_eq!(error.field, "metric");
        assert!(error.reason.contains("\"rocauc\""), "{}", error.reason);
        assert!(error.reason.contains("roc_auc"), "{}", error.reason);
    }

    #[test]
    fn monitor_regression_metric_on_binary_is_rejected() {
        let error = metric_error(
            json!({ "name": "x", "kind": "threshold", "metric": "mae", "window": "1d", "above": 3.0 }),
            Some(Task::Binary),
        );
        assert_eq!(error.field, "metric");
        assert!(error.reason.contains("binary model"), "{}", error.reason);
        assert!(!error.reason.contains("mse"), "{}", error.reason);
    }

    #[test]
    fn monitor_regression_metric_on_regression_is_valid() {
        let rules = parse_monitors(&json!([{ "name": "x", "kind": "relative_drop", "metric": "mae",
                                             "window": "1d", "max_drop": 0.1 }]))
        .unwrap();
        assert_eq!(check_rule_metrics(&rules, Some(Task::Regression)), Ok(()));
    }

    #[test]
    fn monitor_drift_rule_on_accuracy_is_rejected() {
        let error = metric_error(
            json!({ "name": "x", "kind": "drift", "metric": "accuracy", "window": "1d", "above": 0.2 }),
            Some(Task::Binary),
        );
        assert_eq!(error.field, "metric");
        assert!(error.reason.contains("psi, ks, js, js_distance"), "{}", error.reason);
    }

    #[test]
    fn monitor_metric_of_any_task_is_valid_without_task() {
        let rules = parse_monitors(&json!([{ "name": "x", "kind": "threshold", "metric": "macro_f1",
                                             "window": "1d", "below": 0.5 }]))
        .unwrap();
        assert_eq!(check_rule_metrics(&rules, None), Ok(()));
    }

    #[test]
    fn monitor_unknown_metric_without_task_is_rejected() {
        let error = metric_error(
            json!({ "name": "x", "kind": "threshold", "metric": "nope", "window": "1d", "below": 0.5 }),
            None,
        );
        assert_eq!(error.index, 0);
    }

    #[test]
    fn monitor_bad_baseline_shape_is_rejected() {
        let error = error_for(
            json!({ "name": "x", "kind": "relative_drop", "metric": "f1", "window": "1d",
                                      "baseline": { "days": 7 }, "max_drop": 0.1 }),
        );
        assert_eq!(error.field, "baseline");
    }

    #[test]
    fn monitor_baseline_with_two_forms_is_rejected() {
        let error = error_for(
            json!({ "name": "x", "kind": "relative_drop", "metric": "f1", "window": "1d",
                                      "baseline": { "window": "7d", "version": "v1" }, "max_drop": 0.1 }),
        );
        assert_eq!(error.field, "baseline");
    }

    #[test]
    fn monitor_alpha_outside_unit_interval_is_rejected() {
        let error = error_for(
            json!({ "name": "x", "kind": "threshold", "metric": "f1", "window": "1d",
                                      "below": 0.5, "alpha": 1.5 }),
        );
        assert_eq!(error.field, "alpha");
    }

    #[test]
    fn monitor_wrong_type_names_field() {
        let error = error_for(
            json!({ "name": "x", "kind": "threshold", "metric": "f1", "window": "1d",
                                      "below": "low" }),
        );
        assert_eq!(error.field, "below");
    }

    #[test]
    fn monitor_duplicate_names_are_rejected() {
        let rule = json!({ "name": "x", "kind": "volume", "window": "1h", "below": 1 });
        let error = parse_monitors(&json!([rule, rule])).unwrap_err();
        assert_eq!(error.index, 1);
        assert_eq!(error.field, "name");
    }

    #[test]
    fn monitor_label_coverage_metric_is_implied() {
        let error = error_for(
            json!({ "name": "x", "kind": "label_coverage", "metric": "f1", "window": "1d",
                                      "below": 0.5 }),
        );
        assert_eq!(error.field, "metric");
    }

    #[test]
    fn monitor_threshold_needs_a_bound() {
        let error = error_for(json!({ "name": "x", "kind": "threshold", "metric": "f1", "window": "1d" }));
        assert_eq!(error.field, "below");
    }
}
