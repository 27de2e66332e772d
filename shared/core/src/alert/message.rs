//! The texts of an alert: SNS subject, plain-text email, and the AWS Chatbot custom notification.
//!
//! The SNS message is published with `MessageStructure=json`. Its `default` and `https` keys
//! carry the Chatbot custom-notification JSON (schema version 1.0, `source: custom`), which
//! Chatbot renders in Slack and which SQS and Lambda subscribers receive. Its `email` key
//! carries the plain text.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    alert::{
        evaluate::Evaluation,
        metric::{info, is_count, SampleBasis},
        rule::{Check, Condition},
        source::HistoryPoint,
        state::{Severity, Transition},
    },
    time::rfc3339,
};

/// SNS rejects subjects of 100 characters or more.
pub const MAX_SUBJECT_CHARS: usize = 99;

/// How many recent history values an email lists.
pub const HISTORY_LINES: usize = 8;

/// A rendered alert, ready to publish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertMessage {
    /// The SNS subject: ASCII, one line, under 100 characters.
    pub subject: String,
    /// The plain-text body for email subscribers.
    pub email: String,
    /// The AWS Chatbot custom-notification JSON, for Chatbot, HTTPS and SQS subscribers.
    pub chatbot: String,
    /// SNS message attributes: `model`, `version`, `monitor`, `metric`, `severity`, `state`
    /// and `transition`.
    pub attributes: BTreeMap<String, String>,
}

impl AlertMessage {
    /// Returns the `Message` of an SNS publish with `MessageStructure=json`.
    pub fn sns_message(&self) -> String {
        json!({ "default": self.chatbot, "https": self.chatbot, "email": self.email }).to_string()
    }
}

/// Everything one alert message is made from.
#[derive(Debug, Clone, Copy)]
pub struct AlertContext<'a> {
    /// The model name.
    pub model: &'a str,
    /// The model version the monitor watches.
    pub version: &'a str,
    /// The rule.
    pub check: &'a Check,
    /// The evaluation that caused the transition.
    pub evaluation: &'a Evaluation,
    /// The change of state being announced.
    pub transition: Transition,
    /// The severity announced; for a resolution, the severity the monitor had while firing.
    pub severity: Severity,
    /// Recent history of the metric in the rule's window, oldest first.
    pub history: &'a [HistoryPoint],
    /// A link to the dashboard (`MPT_DASHBOARD_URL`).
    pub dashboard_url: Option<&'a str>,
}

/// Renders the subject, email, Chatbot notification and attributes of an alert.
pub fn render(context: &AlertContext<'_>) -> AlertMessage {
    let subject = subject(context);
    let email = email(context);
    let chatbot = chatbot(context, &subject);
    let mut attributes = BTreeMap::new();
    attributes.insert("model".to_string(), context.model.to_string());
    attributes.insert("version".to_string(), context.version.to_string());
    attributes.insert("monitor".to_string(), context.check.name.clone());
    attributes.insert("metric".to_string(), context.check.metric.clone());
    attributes.insert("severity".to_string(), context.severity.as_str().to_string());
    attributes.insert("state".to_string(), context.transition.alert_state().to_string());
    attributes.insert("transition".to_string(), context.transition.as_str().to_string());
    AlertMessage {
        subject,
        email,
        chatbot,
        attributes,
    }
}

/// Builds the subject, such as
/// `[CRITICAL] nba-game-predictor raptor roc_auc 0.61 (-12.9% vs 30d 0.70)`.
fn subject(context: &AlertContext<'_>) -> String {
    let tag = match context.transition {
        Transition::Fired => format!("[{}]", context.severity.as_str().to_uppercase()),
        Transition::Escalated => format!("[ESCALATED TO {}]", context.severity.as_str().to_uppercase()),
        Transition::Resolved => "[RESOLVED]".to_string(),
    };
    let metric = &context.check.metric;
    let detail = format!("{metric} {}", headline(context));
    let fixed = tag.chars().count() + detail.chars().count() + 2;

    // Shorten the model and version names, never the numbers, to stay under the limit.
    let room = MAX_SUBJECT_CHARS.saturating_sub(fixed);
    let model = ascii(context.model);
    let version = ascii(context.version);
    let (model, version) = if model.len() + 1 + version.len() <= room {
        (model, version)
    } else {
        let version_room = (room / 3).max(4).min(version.len());
        let model_room = room.saturating_sub(version_room + 1);
        (shorten(&model, model_room), shorten(&version, version_room))
    };
    let subject = format!("{tag} {model} {version} {detail}");
    shorten(&subject, MAX_SUBJECT_CHARS)
}

/// Formats the value and its comparison: `0.61 (-12.9% vs 30d 0.70)` or `0.58 (floor 0.60, 7d)`.
fn headline(context: &AlertContext<'_>) -> String {
    let evaluation = context.evaluation;
    let metric = &context.check.metric;
    let value = evaluation.value.map_or("n/a".to_string(), |v| short(metric, v));
    match context.check.condition {
        Condition::RelativeDrop { .. } => match (evaluation.change, evaluation.baseline) {
            (Some(change), Some(base)) => format!(
                "{value} ({:+.1}% vs {} {})",
                change * 100.0,
                context.check.baseline_label(),
                short(metric, base)
            ),
            _ => value,
        },
        Condition::Bound { below, above } => {
            let limit = bound_label(metric, below, above);
            format!("{value} ({limit}, {})", context.check.window)
        }
    }
}

fn bound_label(metric: &str, below: Option<f64>, above: Option<f64>) -> String {
    match (below, above) {
        (Some(b), Some(a)) => format!("limits {} to {}", short(metric, b), short(metric, a)),
        (Some(b), None) => format!("floor {}", short(metric, b)),
        (None, Some(a)) => format!("ceiling {}", short(metric, a)),
        (None, None) => "no limit".to_string(),
    }
}

fn email(context: &AlertContext<'_>) -> String {
    let check = context.check;
    let evaluation = context.evaluation;
    let metric = &check.metric;
    let unit = match info(metric).basis {
        SampleBasis::Labelled => "labelled predictions",
        SampleBasis::Predictions | SampleBasis::None => "predictions",
    };
    let mut text = String::new();

    text.push_str(&summary_sentence(context));
    text.push_str("\n\n");
    line(&mut text, "Model", context.model);
    line(&mut text, "Version", context.version);
    line(
        &mut text,
        "Monitor",
        &format!("{} ({})", check.name, rule_description(check)),
    );
    let state = match context.transition {
        Transition::Resolved => format!("resolved (was {})", context.severity),
        _ => format!("firing, {}", context.severity),
    };
    line(&mut text, "State", &state);
    line(&mut text, "Evaluated", &rfc3339(evaluation.end));
    text.push('\n');

    let current = format!(
        "{} over {} {}, {} {unit}",
        long(metric, evaluation.value),
        check.window,
        evaluation.current_span,
        evaluation.samples
    );
    line(&mut text, "Current", &current);
    if let Some(span) = evaluation.baseline_span {
        let samples = evaluation
            .baseline_samples
            .map_or(String::new(), |n| format!(", {n} {unit}"));
        let baseline = format!(
            "{} over {} {span}{samples}",
            long(metric, evaluation.baseline),
            check.baseline_label()
        );
        line(&mut text, "Baseline", &baseline);
    }
    if let (Some(value), Some(base)) = (evaluation.value, evaluation.baseline) {
        let mut change = format!("{:+.4}", value - base);
        if let Some(relative) = evaluation.change {
            change.push_str(&format!(" ({:+.1}%)", relative * 100.0));
        }
        if let Some((lower, upper)) = evaluation.test.and_then(|t| t.interval) {
            change.push_str(&format!(
                ", 95% confidence interval of the difference [{lower:+.4}, {upper:+.4}]"
            ));
        }
        line(&mut text, "Change", &change);
    }
    if let Some(test) = evaluation.test {
        let alpha = match check.condition {
            Condition::RelativeDrop { alpha, .. } => format!(" (alpha {alpha})"),
            Condition::Bound { .. } => String::new(),
        };
        line(
            &mut text,
            "Test",
            &format!("{}, one-sided p-value {}{alpha}", test.test, p_value(test.p_value)),
        );
    }
    if let Some(note) = &evaluation.note {
        line(&mut text, "Note", note);
    }

    let history = recent(context.history);
    if !history.is_empty() {
        text.push_str(&format!(
            "\nRecent {metric} values ({} window, oldest first):\n",
            check.window
        ));
        for point in history {
            let value = point.value.map_or("undefined".to_string(), |v| format!("{v:.4}"));
            text.push_str(&format!(
                "  {}  {value}  ({} labelled)\n",
                rfc3339(point.end),
                point.labelled
            ));
        }
    }
    if let Some(url) = context.dashboard_url {
        text.push_str(&format!("\nDashboard: {url}\n"));
    }
    text
}

/// Writes one sentence on what happened, such as "roc_auc of nba-game-predictor raptor dropped
/// 12.9% below its 30d baseline, more than the allowed 5.0%."
fn summary_sentence(context: &AlertContext<'_>) -> String {
    let check = context.check;
    let evaluation = context.evaluation;
    let metric = &check.metric;
    let subject = format!("{metric} of {} {}", context.model, context.version);
    let sentence = match (context.transition, check.condition) {
        (Transition::Resolved, _) => format!(
            "{subject} is back within the rule {}: {} over the last {}.",
            check.name,
            long(metric, evaluation.value),
            check.window
        ),
        (_, Condition::RelativeDrop { max_drop, .. }) => {
            let drop = evaluation.change.map_or(0.0, |c| c.abs() * 100.0);
            let direction = match info(metric).direction {
                Some(crate::alert::metric::Direction::LowerIsBetter) => "rose",
                _ => "dropped",
            };
            let relation = if direction == "rose" { "above" } else { "below" };
            format!(
                "{subject} {direction} {drop:.1}% {relation} its {} baseline, more than the allowed {:.1}%.",
                check.baseline_label(),
                max_drop * 100.0
            )
        }
        (_, Condition::Bound { below, above }) => format!(
            "{subject} is {} over the last {}, past its {}.",
            long(metric, evaluation.value),
            check.window,
            bound_label(metric, below, above)
        ),
    };
    if context.transition == Transition::Escalated {
        format!("{sentence} Its severity rose to {}.", context.severity)
    } else {
        sentence
    }
}

fn rule_description(check: &Check) -> String {
    let core = match check.condition {
        Condition::RelativeDrop { max_drop, .. } => format!(
            "{} on {} over {} against {}, max_drop {max_drop}",
            check.kind,
            check.metric,
            check.window,
            check.baseline_label()
        ),
        Condition::Bound { below, above } => format!(
            "{} on {} over {}, {}",
            check.kind,
            check.metric,
            check.window,
            bound_label(&check.metric, below, above)
        ),
    };
    format!(
        "{core}, min_samples {}, {} consecutive, cooldown {}",
        check.min_samples, check.consecutive, check.cooldown
    )
}

fn chatbot(context: &AlertContext<'_>, subject: &str) -> String {
    let check = context.check;
    let evaluation = context.evaluation;
    let metric = &check.metric;
    let mut description = format!("{}\n", summary_sentence(context));
    if let (Some(value), Some(base)) = (evaluation.value, evaluation.baseline) {
        description.push_str(&format!(
            "*Current* {} ({} samples) vs *baseline* {} ({} samples)\n",
            short(metric, value),
            evaluation.samples,
            short(metric, base),
            evaluation.baseline_samples.unwrap_or(0)
        ));
    }
    if let Some(test) = evaluation.test {
        description.push_str(&format!("*{}* p = {}\n", test.test, p_value(test.p_value)));
    }
    let history = recent(context.history);
    if !history.is_empty() {
        let values: Vec<String> = history
            .iter()
            .map(|p| p.value.map_or("-".to_string(), |v| short(metric, v)))
            .collect();
        description.push_str(&format!("*Recent {} values* {}\n", check.window, values.join(", ")));
    }

    let mut next_steps = Vec::new();
    if let Some(url) = context.dashboard_url {
        next_steps.push(format!("Open the dashboard: {url}"));
    }
    next_steps.push(format!(
        "Look at the trend: GET /v1/models/{}/history?metric={metric}&window={}&version={}",
        context.model, check.window, context.version
    ));
    next_steps.push(format!(
        "See every alert of the model: GET /v1/models/{}/alerts",
        context.model
    ));

    let notification = json!({
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": subject,
            "description": description.trim_end(),
            "nextSteps": next_steps,
            "keywords": [context.model, context.version, metric, context.severity.as_str()],
        },
        "metadata": {
            "threadId": format!("{}/{}/{}", context.model, context.version, check.name),
            "summary": subject,
            "eventType": format!("monitor-{}", context.transition.as_str()),
            "additionalContext": {
                "model": context.model,
                "version": context.version,
                "monitor": check.name,
                "metric": metric,
                "severity": context.severity.as_str(),
                "state": context.transition.alert_state(),
                "at": rfc3339(evaluation.end),
            },
        },
    });
    notification.to_string()
}

fn recent(history: &[HistoryPoint]) -> &[HistoryPoint] {
    &history[history.len().saturating_sub(HISTORY_LINES)..]
}

fn line(text: &mut String, key: &str, value: &str) {
    text.push_str(&format!("{:<11}{value}\n", format!("{key}:")));
}

/// Formats a value for a subject: counts whole, others with two decimals (or two significant
/// digits below 0.1).
fn short(metric: &str, value: f64) -> String {
    if is_count(metric) || value.abs() >= 1_000.0 {
        format!("{value:.0}")
    } else if value == 0.0 || value.abs() >= 0.1 {
        format!("{value:.2}")
    } else {
        let decimals = (1.0 - value.abs().log10().floor()).clamp(2.0, 12.0) as usize;
        format!("{value:.decimals$}")
    }
}

/// Formats a value for an email: counts whole, others with four decimals.
fn long(metric: &str, value: Option<f64>) -> String {
    match value {
        None => "undefined".to_string(),
        Some(v) if is_count(metric) => format!("{v:.0}"),
        Some(v) => format!("{v:.4}"),
    }
}

fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "< 0.0001".to_string()
    } else {
        format!("{p:.4}")
    }
}

/// Replaces what an SNS subject may not hold (non-ASCII, control characters) with `?`.
fn ascii(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii() && !c.is_ascii_control() { c } else { '?' })
        .collect()
}

/// Cuts `text` to at most `max` characters, marking a cut with `~`.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let prefix: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{prefix}~")
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
