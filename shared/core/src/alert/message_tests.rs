//! Snapshot tests of the exact alert texts.
//!
//! The expected texts live in `shared/core/tests/snapshots/`. After a deliberate change of
//! wording, run the tests with `UPDATE_SNAPSHOTS=1` to rewrite them, and review the diff.

use std::{env, fs, path::PathBuf};

use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::alert::{
    evaluate::{Evaluation, Outcome},
    rule::BaselineSpec,
    significance::TestResult,
    source::Span,
};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// Compares `actual` with the committed snapshot `name`, or rewrites it under `UPDATE_SNAPSHOTS`.
fn assert_snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read snapshot {}: {e}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "snapshot {name} differs; run with UPDATE_SNAPSHOTS=1 if the change is intended"
    );
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

fn drop_evaluation(value: f64, outcome: Outcome) -> Evaluation {
    let end = at("2023-06-13T00:00:00Z");
    Evaluation {
        end,
        outcome,
        current_span: Span {
            start: end - TimeDelta::days(1),
            end,
        },
        baseline_span: Some(Span {
            start: end - TimeDelta::days(31),
            end: end - TimeDelta::days(1),
        }),
        value: Some(value),
        baseline: Some(0.70),
        change: Some((value - 0.70) / 0.70),
        samples: 410,
        baseline_samples: Some(8800),
        test: Some(TestResult {
            test: "Hanley-McNeil z-test",
            p_value: 0.00098,
            interval: Some((-0.1297, -0.0503)),
        }),
        note: None,
    }
}

fn history() -> Vec<HistoryPoint> {
    let values = [0.7012, 0.6954, 0.6871, 0.6633, 0.6402, 0.6301, 0.6215, 0.6190, 0.6100];
    values
        .iter()
        .enumerate()
        .map(|(i, v)| HistoryPoint {
            end: at("2023-06-05T00:00:00Z") + TimeDelta::days(i as i64),
            value: Some(*v),
            labelled: 12 + i as u64,
        })
        .collect()
}

fn render_drop(transition: Transition, severity: Severity, value: f64) -> AlertMessage {
    let check = auc_drop();
    let evaluation = drop_evaluation(value, Outcome::Breach(severity));
    let history = history();
    render(&AlertContext {
        model: "nba-game-predictor",
        version: "raptor",
        check: &check,
        evaluation: &evaluation,
        transition,
        severity,
        history: &history,
        dashboard_url: Some("https://console.aws.amazon.com/cloudwatch/home#dashboards:name=mpt"),
    })
}

fn pretty(json: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    serde_json::to_string_pretty(&value).unwrap() + "\n"
}

#[test]
fn fired_subject_names_model_version_metric_and_drop() {
    let message = render_drop(Transition::Fired, Severity::Critical, 0.61);
    assert_eq!(
        message.subject,
        "[CRITICAL] nba-game-predictor raptor roc_auc 0.61 (-12.9% vs 30d 0.70)"
    );
}

#[test]
fn fired_email_matches_snapshot() {
    let message = render_drop(Transition::Fired, Severity::Critical, 0.61);
    assert_snapshot("fired_relative_drop.email.txt", &message.email);
}

#[test]
fn fired_chatbot_matches_snapshot() {
    let message = render_drop(Transition::Fired, Severity::Critical, 0.61);
    assert_snapshot("fired_relative_drop.chatbot.json", &pretty(&message.chatbot));
}

#[test]
fn escalated_subject_says_escalated() {
    let message = render_drop(Transition::Escalated, Severity::Critical, 0.55);
    assert_eq!(
        message.subject,
        "[ESCALATED TO CRITICAL] nba-game-predictor raptor roc_auc 0.55 (-21.4% vs 30d 0.70)"
    );
}

#[test]
fn resolved_email_matches_snapshot() {
    let check = auc_drop();
    let mut evaluation = drop_evaluation(0.69, Outcome::Clear);
    evaluation.test = Some(TestResult {
        test: "Hanley-McNeil z-test",
        p_value: 0.31,
        interval: Some((-0.05, 0.03)),
    });
    let message = render(&AlertContext {
        model: "nba-game-predictor",
        version: "raptor",
        check: &check,
        evaluation: &evaluation,
        transition: Transition::Resolved,
        severity: Severity::Critical,
        history: &[],
        dashboard_url: None,
    });
    assert_eq!(
        message.subject,
        "[RESOLVED] nba-game-predictor raptor roc_auc 0.69 (-1.4% vs 30d 0.70)"
    );
    assert_snapshot("resolved_relative_drop.email.txt", &message.email);
}

#[test]
fn threshold_email_matches_snapshot() {
    let mut check = Check::bound(
        "accuracy-floor",
        "threshold",
        "accuracy",
        "7d".parse().unwrap(),
        Some(0.6),
        None,
    );
    check.min_samples = 100;
    let end = at("2023-06-13T00:00:00Z");
    let evaluation = Evaluation {
        end,
        outcome: Outcome::Breach(Severity::Warning),
        current_span: Span {
            start: end - TimeDelta::days(7),
            end,
        },
        baseline_span: Some(Span {
            start: end - TimeDelta::days(14),
            end: end - TimeDelta::days(7),
        }),
        value: Some(0.5812),
        baseline: Some(0.6650),
        change: Some((0.5812 - 0.6650) / 0.6650),
        samples: 117,
        baseline_samples: Some(121),
        test: None,
        note: None,
    };
    let message = render(&AlertContext {
        model: "nba-game-predictor",
        version: "elo",
        check: &check,
        evaluation: &evaluation,
        transition: Transition::Fired,
        severity: Severity::Warning,
        history: &[],
        dashboard_url: None,
    });
    assert_eq!(
        message.subject,
        "[WARNING] nba-game-predictor elo accuracy 0.58 (floor 0.60, 7d)"
    );
    assert_snapshot("fired_threshold.email.txt", &message.email);
}

#[test]
fn volume_subject_shows_whole_counts() {
    let check = Check::bound(
        "silence",
        "volume",
        "predictions",
        "1h".parse().unwrap(),
        Some(1.0),
        None,
    );
    let end = at("2023-06-13T05:00:00Z");
    let evaluation = Evaluation {
        end,
        outcome: Outcome::Breach(Severity::Warning),
        current_span: Span {
            start: end - TimeDelta::hours(1),
            end,
        },
        baseline_span: None,
        value: Some(0.0),
        baseline: None,
        change: None,
        samples: 0,
        baseline_samples: None,
        test: None,
        note: None,
    };
    let message = render(&AlertContext {
        model: "m",
        version: "v1",
        check: &check,
        evaluation: &evaluation,
        transition: Transition::Fired,
        severity: Severity::Warning,
        history: &[],
        dashboard_url: None,
    });
    assert_eq!(message.subject, "[WARNING] m v1 predictions 0 (floor 1, 1h)");
}

#[test]
fn subject_stays_under_sns_limit() {
    let check = auc_drop();
    let evaluation = drop_evaluation(0.61, Outcome::Breach(Severity::Critical));
    let model = "m".repeat(128);
    let version = "v".repeat(256);
    let message = render(&AlertContext {
        model: &model,
        version: &version,
        check: &check,
        evaluation: &evaluation,
        transition: Transition::Fired,
        severity: Severity::Critical,
        history: &[],
        dashboard_url: None,
    });
    assert!(message.subject.chars().count() < 100, "{}", message.subject);
    assert!(
        message.subject.ends_with("roc_auc 0.61 (-12.9% vs 30d 0.70)"),
        "{}",
        message.subject
    );
}

#[test]
fn subject_replaces_non_ascii_version() {
    let check = auc_drop();
    let evaluation = drop_evaluation(0.61, Outcome::Breach(Severity::Critical));
    let message = render(&AlertContext {
        model: "m",
        version: "v\u{e9}\n2",
        check: &check,
        evaluation: &evaluation,
        transition: Transition::Fired,
        severity: Severity::Critical,
        history: &[],
        dashboard_url: None,
    });
    assert!(message.subject.is_ascii());
    assert!(message.subject.contains(" v??2 "), "{}", message.subject);
}

#[test]
fn attributes_name_monitor_and_state() {
    let message = render_drop(Transition::Escalated, Severity::Critical, 0.55);
    let expected = [
        ("metric", "roc_auc"),
        ("model", "nba-game-predictor"),
        ("monitor", "auc-drop"),
        ("severity", "critical"),
        ("state", "firing"),
        ("transition", "escalated"),
        ("version", "raptor"),
    ];
    for (key, value) in expected {
        assert_eq!(message.attributes.get(key).map(String::as_str), Some(value), "{key}");
    }
}

#[test]
fn sns_message_has_default_https_and_email_keys() {
    let message = render_drop(Transition::Fired, Severity::Critical, 0.61);
    let structure: serde_json::Value = serde_json::from_str(&message.sns_message()).unwrap();
    assert_eq!(structure["default"], serde_json::Value::String(message.chatbot.clone()));
    assert_eq!(structure["https"], structure["default"]);
    assert_eq!(structure["email"], serde_json::Value::String(message.email.clone()));
}

#[test]
fn chatbot_notification_has_required_fields() {
    let message = render_drop(Transition::Fired, Severity::Critical, 0.61);
    let notification: serde_json::Value = serde_json::from_str(&message.chatbot).unwrap();
    assert_eq!(notification["version"], "1.0");
    assert_eq!(notification["source"], "custom");
    assert_eq!(notification["content"]["textType"], "client-markdown");
    assert_eq!(
        notification["content"]["title"],
        serde_json::Value::String(message.subject.clone())
    );
}

#[test]
fn short_format_small_values() {
    assert_eq!(short("psi", 0.0346), "0.035");
    assert_eq!(short("roc_auc", 0.6123), "0.61");
    assert_eq!(short("predictions", 1234.0), "1234");
}
