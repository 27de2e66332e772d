//! One-sided tests of "the current window is worse than the baseline", per metric.
//!
//! [`crate::alert::metric`] defines which test each metric uses. Every test treats the two windows
//! as independent samples, which holds for a window baseline (the baseline ends where the
//! current window starts) and for a fixed period before the window.
//!
//! NOTE: a version baseline compares two versions over the same window, and when they predict
//! the same ids the samples are paired. The independent tests then overstate the variance of
//! the difference (the versions' errors are positively correlated on shared ids), so they are
//! conservative: they miss some real drops but do not raise false alarms. The paired tests
//! (McNemar, DeLong) need the raw predictions, which the `compare` endpoint reads and a
//! scheduled check does not.

use mpt_metrics::stats::{hanley_mcneil_se, normal_cdf, two_proportion_z_test};
use serde::Serialize;

use crate::{
    alert::{
        metric::{info, Direction, TestKind},
        source::WindowValues,
    },
    snapshot::SampleCounts,
};

/// The two-sided 95% normal quantile used for the confidence interval of a difference.
const Z_95: f64 = 1.959_963_984_540_054;

/// The outcome of a significance test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TestResult {
    /// The test's name, as shown in messages.
    pub test: &'static str,
    /// One-sided p-value of "the current window is worse than the baseline".
    pub p_value: f64,
    /// 95% confidence interval of `current - baseline`.
    pub interval: Option<(f64, f64)>,
}

/// Whether a change could be tested.
#[derive(Debug, Clone, PartialEq)]
pub enum Significance {
    /// The test ran.
    Tested(TestResult),
    /// The metric has no test; the change is judged by its size alone.
    NoTest,
    /// The metric has a test but the windows lack what it needs, for the stated reason.
    Untestable(String),
}

/// Tests whether `metric` is worse in `current` than in `baseline`.
///
/// `current_value` and `baseline_value` are the metric's values in the two windows.
pub fn test_change(
    metric: &str,
    current: &WindowValues,
    baseline: &WindowValues,
    current_value: f64,
    baseline_value: f64,
) -> Significance {
    let info = info(metric);
    let direction = info.direction.unwrap_or(Direction::HigherIsBetter);
    match info.test {
        TestKind::None => Significance::NoTest,
        TestKind::Proportion => match (proportion_counts(current, metric), proportion_counts(baseline, metric)) {
            (Some(c), Some(b)) => proportion(c, b, direction),
            _ => Significance::Untestable(format!(
                "the windows lack the counts behind {metric}, so its change cannot be tested"
            )),
        },
        TestKind::BalancedAccuracy => match (balanced_accuracy_variance(current), balanced_accuracy_variance(baseline)) {
            (Some(vc), Some(vb)) => wald("Wald z-test", current_value, baseline_value, vc, vb, direction),
            _ => Significance::Untestable(
                "the windows lack recall and specificity counts with both classes present, so balanced_accuracy cannot be tested"
                    .into(),
            ),
        },
        TestKind::RocAuc => auc(current, baseline, current_value, baseline_value),
        TestKind::MeanAbsoluteError => {
            match (mean_variance(current, current_value), mean_variance(baseline, baseline_value)) {
                (Some(vc), Some(vb)) => wald("Welch z-test", current_value, baseline_value, vc, vb, direction),
                _ => Significance::Untestable(
                    "the windows lack mse or have fewer than 2 labelled predictions, so mae cannot be tested".into(),
                ),
            }
        }
    }
}

/// Returns (successes, trials) of a proportion metric.
fn proportion_counts(values: &WindowValues, metric: &str) -> Option<(u64, u64)> {
    let counts = values.counts.get(metric)?;
    let successes = counts.successes?;
    (counts.n > 0 && successes <= counts.n).then_some((successes, counts.n))
}

fn proportion(current: (u64, u64), baseline: (u64, u64), direction: Direction) -> Significance {
    // The library tests "rate 1 is lower than rate 2"; a rise of a lower-is-better rate is the
    // baseline being lower than the current window.
    let test = match direction {
        Direction::HigherIsBetter => two_proportion_z_test(current.0, current.1, baseline.0, baseline.1),
        Direction::LowerIsBetter => two_proportion_z_test(baseline.0, baseline.1, current.0, current.1),
    };
    let Ok(test) = test else {
        return Significance::Untestable("the proportion's counts are inconsistent".into());
    };
    // Both windows all successes or all failures: the rates are equal, so there is no evidence
    // of a change.
    let p_value = test.p_value.value().unwrap_or(1.0);
    let (r1, n1) = (current.0 as f64 / current.1 as f64, current.1 as f64);
    let (r0, n0) = (baseline.0 as f64 / baseline.1 as f64, baseline.1 as f64);
    let se = (r1 * (1.0 - r1) / n1 + r0 * (1.0 - r0) / n0).sqrt();
    let difference = r1 - r0;
    Significance::Tested(TestResult {
        test: "two-proportion z-test",
        p_value,
        interval: Some((difference - Z_95 * se, difference + Z_95 * se)),
    })
}

/// Returns the variance of a balanced accuracy, `(r(1-r)/P + s(1-s)/N) / 4`, from the recall
/// and specificity counts.
fn balanced_accuracy_variance(values: &WindowValues) -> Option<f64> {
    let (tp, positives) = proportion_counts(values, "recall")?;
    let (tn, negatives) = proportion_counts(values, "specificity")?;
    let (p, n) = (positives as f64, negatives as f64);
    let r = tp as f64 / p;
    let s = tn as f64 / n;
    Some((r * (1.0 - r) / p + s * (1.0 - s) / n) / 4.0)
}

fn class_counts(counts: Option<&SampleCounts>) -> Option<(u64, u64)> {
    let counts = counts?;
    Some((counts.n_pos?, counts.n_neg?))
}

fn auc(current: &WindowValues, baseline: &WindowValues, current_auc: f64, baseline_auc: f64) -> Significance {
    let (Some(c), Some(b)) = (
        class_counts(current.counts.get("roc_auc")),
        class_counts(baseline.counts.get("roc_auc")),
    ) else {
        return Significance::Untestable("the windows lack class counts, so roc_auc cannot be tested".into());
    };
    match (
        hanley_mcneil_se(current_auc, c.0, c.1),
        hanley_mcneil_se(baseline_auc, b.0, b.1),
    ) {
        (Ok(sc), Ok(sb)) => wald(
            "Hanley-McNeil z-test",
            current_auc,
            baseline_auc,
            sc * sc,
            sb * sb,
            Direction::HigherIsBetter,
        ),
        _ => Significance::Untestable("a window has only one class, so roc_auc has no standard error".into()),
    }
}

/// Returns the variance of a mean absolute error, from `mse - mae^2` with Bessel's correction.
fn mean_variance(values: &WindowValues, mae: f64) -> Option<f64> {
    let mse = values.metrics.get("mse").copied().flatten()?;
    let n = values.counts.get("mae").map_or(values.labelled, |c| c.n) as f64;
    if n < 2.0 {
        return None;
    }
    let spread = (mse - mae * mae).max(0.0) * n / (n - 1.0);
    Some(spread / n)
}

/// z-test on the difference of two independent estimates with the given variances.
fn wald(
    test: &'static str,
    current: f64,
    baseline: f64,
    variance_current: f64,
    variance_baseline: f64,
    direction: Direction,
) -> Significance {
    let difference = current - baseline;
    let worse_by = match direction {
        Direction::HigherIsBetter => -difference,
        Direction::LowerIsBetter => difference,
    };
    let se = (variance_current + variance_baseline).sqrt();
    let p_value = if se > 0.0 {
        normal_cdf(-worse_by / se)
    } else if worse_by > 0.0 {
        // No sampling variance at all: any worsening is certain.
        0.0
    } else {
        1.0
    };
    Significance::Tested(TestResult {
        test,
        p_value,
        interval: Some((difference - Z_95 * se, difference + Z_95 * se)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier(tp: u64, fp: u64, tn: u64, fn_: u64) -> WindowValues {
        WindowValues::from_confusion(tp, fp, tn, fn_)
    }

    fn tested(significance: Significance) -> TestResult {
        match significance {
            Significance::Tested(result) => result,
            other => panic!("expected a test, got {other:?}"),
        }
    }

    #[test]
    fn accuracy_drop_uses_pooled_test() {
        // 300/500 correct now against 700/1000: the pooled z is about -3.86.
        let current = classifier(150, 100, 150, 100);
        let baseline = classifier(350, 150, 350, 150);
        let result = tested(test_change("accuracy", &current, &baseline, 0.6, 0.7));
        assert_eq!(result.test, "two-proportion z-test");
        let pooled: f64 = 1000.0 / 1500.0;
        let z = (0.6 - 0.7) / (pooled * (1.0 - pooled) * (1.0 / 500.0 + 1.0 / 1000.0)).sqrt();
        assert!((result.p_value - normal_cdf(z)).abs() < 1e-12);
    }

    #[test]
    fn accuracy_interval_brackets_difference() {
        let current = classifier(150, 100, 150, 100);
        let baseline = classifier(350, 150, 350, 150);
        let (lower, upper) = tested(test_change("accuracy", &current, &baseline, 0.6, 0.7))
            .interval
            .unwrap();
        assert!(lower < -0.1, "{lower}");
        assert!(upper > -0.1, "{upper}");
    }

    #[test]
    fn accuracy_rise_is_not_significant() {
        let current = classifier(350, 150, 350, 150);
        let baseline = classifier(150, 100, 150, 100);
        let result = tested(test_change("accuracy", &current, &baseline, 0.7, 0.6));
        assert!(result.p_value > 0.99);
    }

    #[test]
    fn multiclass_accuracy_uses_its_counts() {
        let mut current = WindowValues {
            labelled: 400,
            ..WindowValues::default()
        };
        current
            .counts
            .insert("accuracy".into(), SampleCounts::proportion(200, 400));
        let mut baseline = current.clone();
        baseline
            .counts
            .insert("accuracy".into(), SampleCounts::proportion(300, 400));
        let result = tested(test_change("accuracy", &current, &baseline, 0.5, 0.75));
        assert!(result.p_value < 1e-6);
    }

    #[test]
    fn accuracy_without_counts_is_untestable() {
        let values = WindowValues::default();
        assert!(matches!(
            test_change("accuracy", &values, &values, 0.5, 0.6),
            Significance::Untestable(_)
        ));
    }

    #[test]
    fn precision_uses_predicted_positives() {
        let values = classifier(30, 10, 50, 20);
        assert_eq!(proportion_counts(&values, "precision"), Some((30, 40)));
    }

    #[test]
    fn recall_uses_actual_positives() {
        let values = classifier(30, 10, 50, 20);
        assert_eq!(proportion_counts(&values, "recall"), Some((30, 50)));
    }

    #[test]
    fn specificity_uses_actual_negatives() {
        let values = classifier(30, 10, 50, 20);
        assert_eq!(proportion_counts(&values, "specificity"), Some((50, 60)));
    }

    #[test]
    fn false_positive_rate_rise_is_a_worsening() {
        let mut current = WindowValues::default();
        current.counts.insert("fpr".into(), SampleCounts::proportion(150, 500));
        let mut baseline = WindowValues::default();
        baseline
            .counts
            .insert("fpr".into(), SampleCounts::proportion(100, 1000));
        let result = tested(test_change("fpr", &current, &baseline, 0.3, 0.1));
        assert!(result.p_value < 1e-6);
    }

    #[test]
    fn roc_auc_uses_hanley_mcneil() {
        let current = classifier(100, 100, 100, 100);
        let baseline = classifier(400, 400, 400, 400);
        let result = tested(test_change("roc_auc", &current, &baseline, 0.61, 0.70));
        let sc = hanley_mcneil_se(0.61, 200, 200).unwrap();
        let sb = hanley_mcneil_se(0.70, 800, 800).unwrap();
        let expected = normal_cdf((0.61 - 0.70) / (sc * sc + sb * sb).sqrt());
        assert!((result.p_value - expected).abs() < 1e-12);
    }

    #[test]
    fn roc_auc_single_class_is_untestable() {
        let current = classifier(100, 0, 0, 100);
        let baseline = classifier(400, 400, 400, 400);
        assert!(matches!(
            test_change("roc_auc", &current, &baseline, 0.6, 0.7),
            Significance::Untestable(_)
        ));
    }

    #[test]
    fn mae_rise_is_a_worsening() {
        let mut current = WindowValues {
            labelled: 500,
            ..WindowValues::default()
        };
        current.metrics.insert("mse".into(), Some(9.0));
        let mut baseline = current.clone();
        baseline.metrics.insert("mse".into(), Some(4.0));
        let result = tested(test_change("mae", &current, &baseline, 2.5, 1.5));
        assert!(result.p_value < 1e-6);
    }

    #[test]
    fn log_loss_has_no_test() {
        let values = WindowValues::default();
        assert_eq!(
            test_change("log_loss", &values, &values, 0.7, 0.6),
            Significance::NoTest
        );
    }

    #[test]
    fn balanced_accuracy_drop_is_significant() {
        let current = classifier(100, 150, 150, 100);
        let baseline = classifier(400, 100, 400, 100);
        let result = tested(test_change("balanced_accuracy", &current, &baseline, 0.5, 0.8));
        assert!(result.p_value < 1e-6);
    }
}
