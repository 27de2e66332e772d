//! Evaluation of one rule on one model version at one evaluation time. Pure: the caller reads
//! the windows.
//!
//! Severity is `critical` when a `relative_drop` is at least twice `max_drop`, or when a
//! threshold-style value is past its limit by at least twice the limit's distance from the
//! baseline value (baseline 0.70, floor 0.60: critical at 0.40 or below). Otherwise, and when
//! the baseline is unknown or already past the limit, it is `warning`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    alert::{
        metric::{info, is_count, Direction, SampleBasis},
        rule::{Check, Condition},
        significance::{test_change, Significance, TestResult},
        source::{Span, WindowValues},
        state::{Severity, Signal},
    },
    time::floor_hour,
};

/// What an evaluation concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not evaluated, for the stated reason; the monitor's state does not change.
    Skipped(String),
    /// The condition does not hold.
    Clear,
    /// The condition holds, at this severity.
    Breach(Severity),
}

impl Outcome {
    /// Returns the state machine's signal, or `None` for a skipped evaluation.
    pub fn signal(&self) -> Option<Signal> {
        match self {
            Outcome::Skipped(_) => None,
            Outcome::Clear => Some(Signal::Clear),
            Outcome::Breach(severity) => Some(Signal::Breach(*severity)),
        }
    }
}

/// The result of evaluating one rule, with everything an alert message shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The window end the evaluation is keyed by: the evaluation time rounded down to the hour.
    pub end: DateTime<Utc>,
    /// What the evaluation concluded.
    pub outcome: Outcome,
    /// The current window.
    pub current_span: Span,
    /// The baseline window, when one was read.
    pub baseline_span: Option<Span>,
    /// The metric's value in the current window.
    pub value: Option<f64>,
    /// The metric's value in the baseline window (scaled to the current window's length for
    /// prediction counts).
    pub baseline: Option<f64>,
    /// `(value - baseline) / |baseline|`.
    pub change: Option<f64>,
    /// Samples in the current window (labelled predictions for performance metrics).
    pub samples: u64,
    /// Samples in the baseline window.
    pub baseline_samples: Option<u64>,
    /// The significance test, when one ran.
    pub test: Option<TestResult>,
    /// A remark on how the outcome was reached, such as a missing test.
    pub note: Option<String>,
}

/// Evaluates `check` at `now` on the current window's values and, when read, the baseline's.
///
/// `baseline` is `None` when the baseline could not be read (for example a baseline version
/// with no predictions in the window).
pub fn evaluate(
    check: &Check,
    now: DateTime<Utc>,
    current: &WindowValues,
    baseline: Option<&WindowValues>,
) -> Evaluation {
    let metric = check.metric.as_str();
    let info = info(metric);
    let current_span = check.current_span(now);
    let (baseline_span, _) = check.baseline_span(now);
    let samples = current.samples(info.basis);
    let baseline_samples = baseline.map(|b| b.samples(info.basis));
    let mut evaluation = Evaluation {
        end: floor_hour(now),
        outcome: Outcome::Clear,
        current_span,
        baseline_span: baseline.map(|_| baseline_span),
        value: None,
        baseline: None,
        change: None,
        samples,
        baseline_samples,
        test: None,
        note: None,
    };
    let unit = samples_unit(info.basis);
    let enough = |n: u64| info.basis == SampleBasis::None || n >= check.min_samples;

    if !enough(samples) {
        evaluation.outcome = Outcome::Skipped(format!(
            "the current window has {samples} {unit}, fewer than min_samples {}",
            check.min_samples
        ));
        return evaluation;
    }
    let value = match current.value(metric) {
        Ok(value) => value,
        Err(reason) => {
            evaluation.outcome = Outcome::Skipped(format!("{metric} is undefined in the current window: {reason}"));
            return evaluation;
        }
    };
    evaluation.value = Some(value);

    // The baseline value, when the baseline has enough samples and a defined value.
    let baseline_value = baseline.and_then(|values| {
        if !enough(values.samples(info.basis)) {
            return None;
        }
        let raw = values.value(metric).ok()?;
        Some(if is_count(metric) {
            raw * span_secs(&current_span) / span_secs(&baseline_span).max(1.0)
        } else {
            raw
        })
    });
    evaluation.baseline = baseline_value;
    evaluation.change = baseline_value.filter(|b| *b != 0.0).map(|b| (value - b) / b.abs());

    match check.condition {
        Condition::Bound { below, above } => {
            evaluation.outcome = bound_outcome(value, below, above, baseline_value);
        }
        Condition::RelativeDrop { max_drop, alpha } => {
            let Some(direction) = info.direction else {
                evaluation.outcome = Outcome::Skipped(format!(
                    "{metric} has no better direction, so a drop is undefined; use a threshold rule"
                ));
                return evaluation;
            };
            let (Some(baseline_values), Some(base)) = (baseline, baseline_value) else {
                evaluation.outcome = Outcome::Skipped(baseline_missing(check, baseline, baseline_samples, unit));
                return evaluation;
            };
            if base <= 0.0 {
                evaluation.outcome = Outcome::Skipped(format!(
                    "the baseline {metric} is {base}, and a relative drop needs a positive baseline; use a threshold rule"
                ));
                return evaluation;
            }
            let drop = match direction {
                Direction::HigherIsBetter => (base - value) / base,
                Direction::LowerIsBetter => (value - base) / base,
            };
            let significant = match test_change(metric, current, baseline_values, value, base) {
                Significance::Tested(result) => {
                    evaluation.test = Some(result);
                    result.p_value < alpha
                }
                Significance::NoTest => {
                    evaluation.note = Some(format!(
                        "{metric} has no significance test, so the drop is judged by its size alone"
                    ));
                    true
                }
                Significance::Untestable(reason) => {
                    evaluation.outcome = Outcome::Skipped(reason);
                    return evaluation;
                }
            };
            evaluation.outcome = if drop <= max_drop {
                Outcome::Clear
            } else if !significant {
                evaluation.note = Some(format!("the drop is not significant at alpha {alpha}"));
                Outcome::Clear
            } else if drop >= 2.0 * max_drop {
                Outcome::Breach(Severity::Critical)
            } else {
                Outcome::Breach(Severity::Warning)
            };
        }
    }
    evaluation
}

/// Decides a threshold-style condition and grades its severity against the baseline.
fn bound_outcome(value: f64, below: Option<f64>, above: Option<f64>, baseline: Option<f64>) -> Outcome {
    // (how far the value is past the limit, how far the baseline is inside it)
    let crossing = match (below, above) {
        (Some(floor), _) if value < floor => Some((floor - value, baseline.map(|b| b - floor))),
        (_, Some(ceiling)) if value > ceiling => Some((value - ceiling, baseline.map(|b| ceiling - b))),
        _ => None,
    };
    match crossing {
        None => Outcome::Clear,
        Some((past, Some(margin))) if margin > 0.0 && past >= 2.0 * margin => Outcome::Breach(Severity::Critical),
        Some(_) => Outcome::Breach(Severity::Warning),
    }
}

fn baseline_missing(check: &Check, baseline: Option<&WindowValues>, samples: Option<u64>, unit: &str) -> String {
    let label = check.baseline_label();
    match (baseline, samples) {
        (None, _) => format!("the baseline ({label}) has no data"),
        (Some(_), Some(n)) if n < check.min_samples => {
            format!(
                "the baseline ({label}) has {n} {unit}, fewer than min_samples {}",
                check.min_samples
            )
        }
        (Some(values), _) => {
            let reason = values.value(&check.metric).err().unwrap_or_default();
            format!("{} is undefined in the baseline ({label}): {reason}", check.metric)
        }
    }
}

fn samples_unit(basis: SampleBasis) -> &'static str {
    match basis {
        SampleBasis::Labelled => "labelled predictions",
        SampleBasis::Predictions | SampleBasis::None => "predictions",
    }
}

fn span_secs(span: &Span) -> f64 {
    (span.end - span.start).num_seconds() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::rule::BaselineSpec;

    fn now() -> DateTime<Utc> {
        "2023-06-13T00:10:00Z".parse().unwrap()
    }

    /// A binary classifier's values with `roc_auc` set to `auc`.
    fn binary(auc: f64, (tp, fp, tn, fn_): (u64, u64, u64, u64)) -> WindowValues {
        let mut values = WindowValues::from_confusion(tp, fp, tn, fn_);
        values.metrics.insert("roc_auc".into(), Some(auc));
        values
    }

    fn balanced(n: u64) -> (u64, u64, u64, u64) {
        (n / 4, n / 4, n / 4, n / 4)
    }

    fn auc_drop() -> Check {
        let mut check = Check::relative_drop(
            "auc-drop",
            "roc_auc",
            "1d".parse().unwrap(),
            BaselineSpec::Window("30d".parse().unwrap()),
            0.05,
        );
        check.min_samples = 200;
        check
    }

    fn accuracy_floor() -> Check {
        Check::bound(
            "accuracy-floor",
            "threshold",
            "accuracy",
            "7d".parse().unwrap(),
            Some(0.6),
            None,
        )
    }

    #[test]
    fn relative_drop_significant_large_drop_is_critical() {
        let current = binary(0.55, balanced(800));
        let baseline = binary(0.70, balanced(8800));
        let evaluation = evaluate(&auc_drop(), now(), &current, Some(&baseline));
        assert_eq!(evaluation.outcome, Outcome::Breach(Severity::Critical));
    }

    #[test]
    fn relative_drop_between_one_and_two_max_drops_is_warning() {
        let current = binary(0.64, balanced(4000));
        let baseline = binary(0.70, balanced(8800));
        let evaluation = evaluate(&auc_drop(), now(), &current, Some(&baseline));
        assert_eq!(evaluation.outcome, Outcome::Breach(Severity::Warning));
    }

    #[test]
    fn relative_drop_carries_p_value_and_samples() {
        let current = binary(0.55, balanced(800));
        let baseline = binary(0.70, balanced(8800));
        let evaluation = evaluate(&auc_drop(), now(), &current, Some(&baseline));
        assert!(evaluation.test.unwrap().p_value < 0.05);
        assert_eq!(evaluation.samples, 800);
        assert_eq!(evaluation.baseline_samples, Some(8800));
    }

    #[test]
    fn relative_drop_small_sample_is_not_significant() {
        let mut check = auc_drop();
        check.min_samples = 10;
        let current = binary(0.60, balanced(20));
        let baseline = binary(0.70, balanced(40));
        let evaluation = evaluate(&check, now(), &current, Some(&baseline));
        assert_eq!(evaluation.outcome, Outcome::Clear);
        assert!(evaluation.note.unwrap().contains("not significant"));
    }

    #[test]
    fn relative_drop_too_few_current_samples_is_skipped() {
        let current = binary(0.50, balanced(100));
        let baseline = binary(0.70, balanced(8800));
        let evaluation = evaluate(&auc_drop(), now(), &current, Some(&baseline));
        assert!(matches!(evaluation.outcome, Outcome::Skipped(ref r) if r.contains("min_samples 200")));
    }

    #[test]
    fn relative_drop_too_few_baseline_samples_is_skipped() {
        let current = binary(0.50, balanced(800));
        let baseline = binary(0.70, balanced(100));
        let evaluation = evaluate(&auc_drop(), now(), &current, Some(&baseline));
        assert!(matches!(evaluation.outcome, Outcome::Skipped(ref r) if r.contains("baseline")));
    }

    #[test]
    fn relative_drop_without_baseline_is_skipped() {
        let current = binary(0.50, balanced(800));
        let evaluation = evaluate(&auc_drop(), now(), &current, None);
        assert!(matches!(evaluation.outcome, Outcome::Skipped(_)));
    }

    #[test]
    fn relative_drop_within_limit_is_clear() {
        let current = binary(0.68, balanced(800));
        let baseline = binary(0.70, balanced(8800));
        let evaluation = evaluate(&auc_drop(), now(), &current, Some(&baseline));
        assert_eq!(evaluation.outcome, Outcome::Clear);
    }

    #[test]
    fn relative_drop_on_loss_counts_a_rise() {
        let mut check = auc_drop();
        check.metric = "log_loss".into();
        let mut current = binary(0.6, balanced(800));
        current.metrics.insert("log_loss".into(), Some(0.80));
        let mut baseline = binary(0.6, balanced(8800));
        baseline.metrics.insert("log_loss".into(), Some(0.66));
        let evaluation = evaluate(&check, now(), &current, Some(&baseline));
        assert_eq!(evaluation.outcome, Outcome::Breach(Severity::Critical));
        assert!(evaluation.note.unwrap().contains("no significance test"));
    }

    #[test]
    fn relative_drop_on_loss_fall_is_clear() {
        let mut check = auc_drop();
        check.metric = "log_loss".into();
        let mut current = binary(0.6, balanced(800));
        current.metrics.insert("log_loss".into(), Some(0.50));
        let mut baseline = binary(0.6, balanced(8800));
        baseline.metrics.insert("log_loss".into(), Some(0.66));
        assert_eq!(
            evaluate(&check, now(), &current, Some(&baseline)).outcome,
            Outcome::Clear
        );
    }

    #[test]
    fn relative_drop_undefined_metric_is_skipped() {
        let mut current = binary(0.6, balanced(800));
        current.metrics.insert("roc_auc".into(), None);
        let baseline = binary(0.70, balanced(8800));
        let evaluation = evaluate(&auc_drop(), now(), &current, Some(&baseline));
        assert!(matches!(evaluation.outcome, Outcome::Skipped(_)));
    }

    #[test]
    fn relative_drop_records_change() {
        let current = binary(0.609, balanced(800));
        let baseline = binary(0.70, balanced(8800));
        let change = evaluate(&auc_drop(), now(), &current, Some(&baseline)).change.unwrap();
        assert!((change + 0.13).abs() < 1e-12);
    }

    #[test]
    fn threshold_below_floor_is_warning() {
        let current = binary(0.6, (29, 21, 29, 21));
        let baseline = binary(0.6, (35, 15, 35, 15));
        let mut check = accuracy_floor();
        check.min_samples = 100;
        let evaluation = evaluate(&check, now(), &current, Some(&baseline));
        assert_eq!(evaluation.outcome, Outcome::Breach(Severity::Warning));
    }

    #[test]
    fn threshold_past_twice_margin_is_critical() {
        // Baseline 0.70, floor 0.60, so 0.40 or below is critical.
        let current = binary(0.6, (20, 30, 20, 30));
        let baseline = binary(0.6, (35, 15, 35, 15));
        let evaluation = evaluate(&accuracy_floor(), now(), &current, Some(&baseline));
        assert_eq!(evaluation.outcome, Outcome::Breach(Severity::Critical));
    }

    #[test]
    fn threshold_without_baseline_is_warning() {
        let current = binary(0.6, (10, 40, 10, 40));
        let evaluation = evaluate(&accuracy_floor(), now(), &current, None);
        assert_eq!(evaluation.outcome, Outcome::Breach(Severity::Warning));
    }

    #[test]
    fn threshold_above_floor_is_clear() {
        let current = binary(0.6, (35, 15, 35, 15));
        assert_eq!(
            evaluate(&accuracy_floor(), now(), &current, None).outcome,
            Outcome::Clear
        );
    }

    #[test]
    fn threshold_few_samples_is_skipped() {
        let current = binary(0.6, (1, 4, 1, 4));
        let evaluation = evaluate(&accuracy_floor(), now(), &current, None);
        assert!(matches!(evaluation.outcome, Outcome::Skipped(_)));
    }

    #[test]
    fn drift_above_limit_is_breach() {
        let check = Check::bound("score-drift", "drift", "psi", "1d".parse().unwrap(), None, Some(0.2));
        let mut current = WindowValues {
            predictions: 500,
            ..WindowValues::default()
        };
        current.metrics.insert("psi".into(), Some(0.35));
        let evaluation = evaluate(&check, now(), &current, None);
        assert_eq!(evaluation.outcome, Outcome::Breach(Severity::Warning));
    }

    #[test]
    fn label_coverage_counts_predictions_for_min_samples() {
        let check = Check::bound(
            "labels-late",
            "label_coverage",
            "label_coverage",
            "1d".parse().unwrap(),
            Some(0.5),
            None,
        );
        let current = WindowValues {
            predictions: 300,
            labelled: 30,
            ..WindowValues::default()
        };
        assert_eq!(
            evaluate(&check, now(), &current, None).outcome,
            Outcome::Breach(Severity::Warning)
        );
    }

    #[test]
    fn volume_zero_predictions_breaches_without_minimum() {
        let check = Check::bound(
            "silence",
            "volume",
            "predictions",
            "1h".parse().unwrap(),
            Some(1.0),
            None,
        );
        let evaluation = evaluate(&check, now(), &WindowValues::default(), None);
        assert_eq!(evaluation.outcome, Outcome::Breach(Severity::Warning));
    }

    #[test]
    fn volume_baseline_is_scaled_to_window() {
        let mut check = Check::bound("slow", "volume", "predictions", "1h".parse().unwrap(), Some(10.0), None);
        check.baseline = BaselineSpec::Window("1d".parse().unwrap());
        let current = WindowValues {
            predictions: 2,
            ..WindowValues::default()
        };
        let baseline = WindowValues {
            predictions: 2400,
            ..WindowValues::default()
        };
        // The baseline is 100 an hour, so the floor of 10 is 90 away and 2 is 8 past it.
        let evaluation = evaluate(&check, now(), &current, Some(&baseline));
        assert_eq!(evaluation.baseline, Some(100.0));
        assert_eq!(evaluation.outcome, Outcome::Breach(Severity::Warning));
    }

    #[test]
    fn evaluation_is_keyed_by_floor_hour() {
        let current = binary(0.68, balanced(800));
        assert_eq!(
            evaluate(&auc_drop(), now(), &current, None).end,
            "2023-06-13T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
