//! A monitor rule resolved for evaluation: defaults applied, the watched metric named, and the
//! current and baseline spans derived from the evaluation time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    alert::{
        source::Span,
        state::{DEFAULT_CONSECUTIVE, DEFAULT_COOLDOWN_SECS},
    },
    monitor::{check_rule_metrics, parse_monitors, Baseline, MonitorKind, MonitorRule, DEFAULT_ALPHA},
    time::{floor_hour, Duration, Window},
};

/// The minimum samples in each window for a rule to be evaluated, when the rule sets none.
///
/// The samples are labelled predictions for a performance metric and all predictions for
/// drift, label coverage and latency; volume rules have no minimum.
pub const DEFAULT_MIN_SAMPLES: u64 = 100;

/// The baseline of a `relative_drop` rule that names none: the 30 days before the window.
pub const DEFAULT_DROP_BASELINE_DAYS: i64 = 30;

/// The baseline a rule compares the current window with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineSpec {
    /// The span of this length that ends where the current window starts.
    Window(Duration),
    /// The same window of another version.
    Version(String),
    /// A fixed period, rounded down to whole hours.
    Period {
        /// Inclusive start.
        from: DateTime<Utc>,
        /// Exclusive end.
        to: DateTime<Utc>,
    },
    /// The window of the same length just before the current one. Threshold-style rules use it
    /// to grade severity when they name no baseline.
    Preceding,
}

/// The condition a rule tests.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The value is below `below` or above `above` (rules of kind `threshold`, `drift`,
    /// `label_coverage` and `volume`).
    Bound {
        /// Breach when the value is strictly below this.
        below: Option<f64>,
        /// Breach when the value is strictly above this.
        above: Option<f64>,
    },
    /// The value is worse than the baseline by more than `max_drop` (relative), and a one-sided
    /// test at `alpha` finds the change significant where the metric has a test.
    RelativeDrop {
        /// The largest allowed relative drop, e.g. 0.05 for 5%.
        max_drop: f64,
        /// The significance level of the test.
        alpha: f64,
    },
}

/// A monitor rule ready for evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The rule's name, unique within the model.
    pub name: String,
    /// The rule's kind as the API writes it (`threshold`, `relative_drop`, ...).
    pub kind: String,
    /// The metric key the rule watches; implied for `label_coverage` and `volume`.
    pub metric: String,
    /// The current window's length.
    pub window: Window,
    /// The rule's condition.
    pub condition: Condition,
    /// The baseline the current window is compared with.
    pub baseline: BaselineSpec,
    /// The minimum samples in each window for the rule to be evaluated.
    pub min_samples: u64,
    /// Evaluations in a row that fire or resolve the monitor.
    pub consecutive: u32,
    /// Shortest time between a resolution and the next firing.
    pub cooldown: Duration,
}

impl Check {
    /// Resolves a stored rule: fills in the defaults and names the metric the kind implies.
    ///
    /// # Errors
    /// A field the kind needs is missing; stored rules were validated when they were set, so
    /// this only happens to rules written by other means.
    pub fn from_rule(rule: &MonitorRule) -> Result<Self, String> {
        let (kind, implied) = match rule.kind {
            MonitorKind::Threshold => ("threshold", None),
            MonitorKind::RelativeDrop => ("relative_drop", None),
            MonitorKind::Drift => ("drift", None),
            MonitorKind::LabelCoverage => ("label_coverage", Some("label_coverage")),
            MonitorKind::Volume => ("volume", Some("predictions")),
        };
        let metric = rule
            .metric
            .clone()
            .or_else(|| implied.map(String::from))
            .ok_or_else(|| format!("rule {} of kind {kind} has no metric", rule.name))?;
        let condition = match rule.kind {
            MonitorKind::RelativeDrop => Condition::RelativeDrop {
                max_drop: rule
                    .max_drop
                    .ok_or_else(|| format!("rule {} of kind relative_drop has no max_drop", rule.name))?,
                alpha: rule.alpha.unwrap_or(DEFAULT_ALPHA),
            },
            _ => Condition::Bound {
                below: rule.below,
                above: rule.above,
            },
        };
        let baseline = match (&rule.baseline, rule.kind) {
            (Some(Baseline::Window { window }), _) => BaselineSpec::Window(window.duration()),
            (Some(Baseline::Version { version }), _) => BaselineSpec::Version(version.clone()),
            (Some(Baseline::Period { from, to }), _) => BaselineSpec::Period { from: *from, to: *to },
            (None, MonitorKind::RelativeDrop) => {
                BaselineSpec::Window(Duration::from_secs(DEFAULT_DROP_BASELINE_DAYS * 86_400))
            }
            (None, _) => BaselineSpec::Preceding,
        };
        Ok(Self {
            name: rule.name.clone(),
            kind: kind.to_string(),
            metric,
            window: rule.window,
            condition,
            baseline,
            min_samples: rule.min_samples.unwrap_or(DEFAULT_MIN_SAMPLES),
            consecutive: rule.consecutive.unwrap_or(DEFAULT_CONSECUTIVE),
            cooldown: rule.cooldown.unwrap_or(Duration::from_secs(DEFAULT_COOLDOWN_SECS)),
        })
    }

    /// Builds a threshold-style rule with the default sample minimum, streak and cooldown.
    pub fn bound(name: &str, kind: &str, metric: &str, window: Window, below: Option<f64>, above: Option<f64>) -> Self {
        Self {
            name: name.to_string(),
            kind: kind.to_string(),
            metric: metric.to_string(),
            window,
            condition: Condition::Bound { below, above },
            baseline: BaselineSpec::Preceding,
            min_samples: DEFAULT_MIN_SAMPLES,
            consecutive: DEFAULT_CONSECUTIVE,
            cooldown: Duration::from_secs(DEFAULT_COOLDOWN_SECS),
        }
    }

    /// Builds a `relative_drop` rule with the default sample minimum, streak and cooldown.
    pub fn relative_drop(name: &str, metric: &str, window: Window, baseline: BaselineSpec, max_drop: f64) -> Self {
        Self {
            name: name.to_string(),
            kind: "relative_drop".to_string(),
            metric: metric.to_string(),
            window,
            condition: Condition::RelativeDrop {
                max_drop,
                alpha: DEFAULT_ALPHA,
            },
            baseline,
            min_samples: DEFAULT_MIN_SAMPLES,
            consecutive: DEFAULT_CONSECUTIVE,
            cooldown: Duration::from_secs(DEFAULT_COOLDOWN_SECS),
        }
    }

    /// Returns the current window at evaluation time `now`: `[floor_hour(now) - window, floor_hour(now))`.
    pub fn current_span(&self, now: DateTime<Utc>) -> Span {
        let (start, end) = self.window.bounds(now);
        Span { start, end }
    }

    /// Returns the baseline's span at evaluation time `now`, and the version it reads when the
    /// baseline is another version.
    pub fn baseline_span(&self, now: DateTime<Utc>) -> (Span, Option<&str>) {
        let current = self.current_span(now);
        match &self.baseline {
            BaselineSpec::Window(length) => (
                Span {
                    start: current.start - length.delta(),
                    end: current.start,
                },
                None,
            ),
            BaselineSpec::Version(version) => (current, Some(version.as_str())),
            BaselineSpec::Period { from, to } => (
                Span {
                    start: floor_hour(*from),
                    end: floor_hour(*to),
                },
                None,
            ),
            BaselineSpec::Preceding => (
                Span {
                    start: current.start - self.window.duration().delta(),
                    end: current.start,
                },
                None,
            ),
        }
    }

    /// Describes the baseline for messages: `30d`, `version v1` or `2023-01-01 to 2023-02-01`.
    pub fn baseline_label(&self) -> String {
        match &self.baseline {
            BaselineSpec::Window(length) => length.to_string(),
            BaselineSpec::Version(version) => format!("version {version}"),
            BaselineSpec::Period { from, to } => {
                format!("{} to {}", from.format("%Y-%m-%dT%H:%MZ"), to.format("%Y-%m-%dT%H:%MZ"))
            }
            BaselineSpec::Preceding => format!("previous {}", self.window),
        }
    }
}

/// Parses the rules of `MPT_DEFAULT_MONITORS`: the JSON body of `PUT /v1/models/{model}/monitors`
/// (`{"monitors": [...]}`), or the bare array.
///
/// # Errors
/// The JSON is malformed or a rule is invalid, named by its index and field.
pub fn parse_default_checks(json: &str) -> Result<Vec<Check>, String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not valid JSON: {e}"))?;
    let list = value.get("monitors").unwrap_or(&value);
    let rules = parse_monitors(list).map_err(|e| e.to_string())?;
    // The defaults apply to models of every task, so a metric of any task is accepted.
    check_rule_metrics(&rules, None).map_err(|e| e.to_string())?;
    rules.iter().map(Check::from_rule).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn check_current_span_ends_at_floor_hour() {
        let check = Check::bound("x", "threshold", "accuracy", "1d".parse().unwrap(), Some(0.6), None);
        let span = check.current_span(at("2023-06-13T00:40:00Z"));
        assert_eq!(span.end, at("2023-06-13T00:00:00Z"));
        assert_eq!(span.start, at("2023-06-12T00:00:00Z"));
    }

    #[test]
    fn check_window_baseline_ends_at_current_start() {
        let baseline = BaselineSpec::Window("30d".parse().unwrap());
        let check = Check::relative_drop("x", "roc_auc", "1d".parse().unwrap(), baseline, 0.05);
        let (span, version) = check.baseline_span(at("2023-06-13T00:40:00Z"));
        assert_eq!(span.end, at("2023-06-12T00:00:00Z"));
        assert_eq!(span.start, at("2023-05-13T00:00:00Z"));
        assert_eq!(version, None);
    }

    #[test]
    fn check_version_baseline_shares_current_span() {
        let baseline = BaselineSpec::Version("elo".into());
        let check = Check::relative_drop("x", "roc_auc", "7d".parse().unwrap(), baseline, 0.05);
        let now = at("2023-06-13T05:00:00Z");
        let (span, version) = check.baseline_span(now);
        assert_eq!(span, check.current_span(now));
        assert_eq!(version, Some("elo"));
    }

    #[test]
    fn check_period_baseline_rounds_to_hours() {
        let baseline = BaselineSpec::Period {
            from: at("2023-01-01T00:30:00Z"),
            to: at("2023-02-01T12:59:00Z"),
        };
        let check = Check::relative_drop("x", "roc_auc", "7d".parse().unwrap(), baseline, 0.05);
        let (span, _) = check.baseline_span(at("2023-06-13T05:00:00Z"));
        assert_eq!(span.start, at("2023-01-01T00:00:00Z"));
        assert_eq!(span.end, at("2023-02-01T12:00:00Z"));
    }

    #[test]
    fn check_preceding_baseline_has_same_length() {
        let check = Check::bound("x", "volume", "predictions", "1h".parse().unwrap(), Some(1.0), None);
        let (span, _) = check.baseline_span(at("2023-06-13T05:10:00Z"));
        assert_eq!(span.start, at("2023-06-13T03:00:00Z"));
        assert_eq!(span.end, at("2023-06-13T04:00:00Z"));
    }

    #[test]
    fn check_from_rule_applies_defaults() {
        let check = parse_default_checks(
            r#"{"monitors": [{"name": "auc-drop", "kind": "relative_drop", "metric": "roc_auc",
                               "window": "1d", "baseline": {"window": "30d"}, "max_drop": 0.05}]}"#,
        )
        .unwrap()
        .remove(0);
        assert_eq!(check.min_samples, DEFAULT_MIN_SAMPLES);
        assert_eq!(check.consecutive, DEFAULT_CONSECUTIVE);
        assert_eq!(check.cooldown.secs(), DEFAULT_COOLDOWN_SECS);
        assert_eq!(
            check.condition,
            Condition::RelativeDrop {
                max_drop: 0.05,
                alpha: DEFAULT_ALPHA
            }
        );
    }

    #[test]
    fn check_from_rule_names_implied_metric() {
        let checks = parse_default_checks(
            r#"[{"name": "silence", "kind": "volume", "window": "1h", "below": 1},
                {"name": "late", "kind": "label_coverage", "window": "1d", "below": 0.5}]"#,
        )
        .unwrap();
        assert_eq!(checks[0].metric, "predictions");
        assert_eq!(checks[1].metric, "label_coverage");
        assert_eq!(checks[0].baseline, BaselineSpec::Preceding);
    }

    #[test]
    fn check_from_rule_keeps_rule_settings() {
        let check = parse_default_checks(
            r#"[{"name": "f", "kind": "threshold", "metric": "accuracy", "window": "7d", "below": 0.6,
                 "min_samples": 50, "consecutive": 3, "cooldown": "1d"}]"#,
        )
        .unwrap()
        .remove(0);
        assert_eq!(check.min_samples, 50);
        assert_eq!(check.consecutive, 3);
        assert_eq!(check.cooldown.secs(), 86_400);
    }

    #[test]
    fn default_checks_invalid_rule_is_named() {
        let error = parse_default_checks(r#"[{"name": "x", "kind": "spike", "window": "1d"}]"#).unwrap_err();
        assert!(error.contains("kind"), "{error}");
    }

    #[test]
    fn default_checks_malformed_json_is_rejected() {
        assert!(parse_default_checks("{").unwrap_err().contains("JSON"));
    }
}
