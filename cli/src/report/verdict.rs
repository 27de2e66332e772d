//! The plain-language verdict at the top of the report, written from the numbers.

use std::collections::BTreeMap;

use super::{
    format::{count, number, p_value, percent, signed_percent},
    AlertRecord,
};
use crate::replay::{
    evaluation::{Comparison, VersionEvaluation},
    market::{MARGIN, MIN_EXPECTED_RETURN},
    requests::RAPTOR,
};

/// The significance level the verdict calls a difference significant at.
const ALPHA: f64 = 0.05;

/// Writes the verdict as sentences: the ranking and accuracy comparison, the simulated
/// return, and the alerts. Each sentence is plain text; the caller escapes it.
pub fn verdict(
    evaluations: &[VersionEvaluation],
    comparison: Option<&Comparison>,
    alerts: &[AlertRecord],
) -> Vec<String> {
    let mut sentences = Vec::new();
    match comparison {
        Some(comparison) => {
            sentences.push(auc_sentence(comparison));
            sentences.push(accuracy_sentence(comparison));
        }
        None => sentences.extend(single_version_sentence(evaluations)),
    }
    sentences.extend(brier_sentence(evaluations));
    sentences.extend(roi_sentence(evaluations));
    sentences.push(alerts_sentence(alerts));
    sentences
}

fn auc_sentence(comparison: &Comparison) -> String {
    let test = &comparison.roc_auc;
    let significant = test.p_value.value().is_some_and(|p| p < ALPHA);
    let relation = match (significant, test.difference > 0.0) {
        (true, true) => "RAPTOR ranks games better than Elo",
        (true, false) => "Elo ranks games better than RAPTOR",
        (false, _) => "RAPTOR and Elo rank games equally well within the noise",
    };
    format!(
        "{relation} on the {} games both predicted: ROC-AUC {} against {}, a difference of {:+.3} \
         (95% CI {:+.3} to {:+.3}, DeLong p {}).",
        count(comparison.shared_games as u64),
        number(Some(test.auc_candidate), 3),
        number(Some(test.auc_baseline), 3),
        test.difference,
        test.ci.lower,
        test.ci.upper,
        p_phrase(test.p_value.value()),
    )
}

fn accuracy_sentence(comparison: &Comparison) -> String {
    let difference = comparison.accuracy_candidate - comparison.accuracy_baseline;
    let significant = comparison.accuracy.p_value < ALPHA;
    let relation = match (significant, difference > 0.0) {
        (true, true) => "RAPTOR also picks the winner more often",
        (true, false) => "Elo picks the winner more often",
        (false, _) => "Their accuracy does not differ significantly",
    };
    let (lower, upper) = comparison.accuracy_interval;
    format!(
        "{relation}: {} against {} ({:+.1} points, 95% CI {:+.1} to {:+.1}, McNemar p {}, from {} games only \
         RAPTOR got right and {} only Elo got right).",
        percent(Some(comparison.accuracy_candidate)),
        percent(Some(comparison.accuracy_baseline)),
        difference * 100.0,
        lower * 100.0,
        upper * 100.0,
        p_phrase(Some(comparison.accuracy.p_value)),
        count(comparison.accuracy.candidate_only),
        count(comparison.accuracy.baseline_only),
    )
}

fn single_version_sentence(evaluations: &[VersionEvaluation]) -> Option<String> {
    let all = evaluations.iter().find(|e| e.season.is_none())?;
    Some(format!(
        "Only {} predicted these games, so there is no comparison: over {} games it picked the winner {} of the \
         time with ROC-AUC {}.",
        all.version,
        count(all.metrics.count),
        percent(all.metrics.accuracy.value()),
        number(all.metrics.roc_auc.value(), 3),
    ))
}

fn brier_sentence(evaluations: &[VersionEvaluation]) -> Option<String> {
    let overall: Vec<&VersionEvaluation> = evaluations.iter().filter(|e| e.season.is_none()).collect();
    if overall.len() < 2 {
        return None;
    }
    let parts: Vec<String> = overall
        .iter()
        .map(|e| format!("{} {}", e.version, number(e.metrics.brier.value(), 4)))
        .collect();
    Some(format!(
        "Brier score (mean squared error of the probability, lower is better): {}.",
        parts.join(", ")
    ))
}

fn roi_sentence(evaluations: &[VersionEvaluation]) -> Option<String> {
    let raptor = evaluations.iter().find(|e| e.season.is_none() && e.version == RAPTOR)?;
    let betting = &raptor.betting;
    let roi = betting.roi.value()?;
    let interval = raptor
        .roi_interval
        .map(|(low, high)| format!(" (95% CI {} to {})", signed_percent(low), signed_percent(high)))
        .unwrap_or_default();
    Some(format!(
        "Simulated betting: staking one unit whenever RAPTOR's probability times the odds reached {:.2}, in a market \
         priced from Elo with a {:.1}% margin, returned {}{} over {} bets, {} of them won.",
        MIN_EXPECTED_RETURN,
        MARGIN * 100.0,
        signed_percent(roi),
        interval,
        count(betting.bets),
        count(betting.won),
    ))
}

fn alerts_sentence(alerts: &[AlertRecord]) -> String {
    if alerts.is_empty() {
        return "No monitor sent an alert during the replay.".to_string();
    }
    // Per monitor and version: (fired, escalated, resolved).
    let mut by_monitor: BTreeMap<(&str, &str), (usize, usize, usize)> = BTreeMap::new();
    for alert in alerts {
        let entry = by_monitor.entry((&alert.monitor, &alert.version)).or_default();
        match alert.transition.as_str() {
            "resolved" => entry.2 += 1,
            "escalated" => entry.1 += 1,
            _ => entry.0 += 1,
        }
    }
    let parts: Vec<String> = by_monitor
        .iter()
        .map(|((monitor, version), (fired, escalated, resolved))| {
            let mut part = format!("{monitor} on {version} fired {}", times_plain(*fired));
            if *escalated > 0 {
                part.push_str(&format!(", escalated {}", times_plain(*escalated)));
            }
            match resolved {
                0 => part.push_str(" and has not resolved"),
                n => part.push_str(&format!(" and resolved {}", times_plain(*n))),
            }
            part
        })
        .collect();
    format!(
        "The monitors sent {} alert messages: {}.",
        count(alerts.len() as u64),
        parts.join("; ")
    )
}

fn times_plain(n: usize) -> String {
    match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    }
}

/// Writes a p-value as a phrase that reads after "p": `< 0.001` or `= 0.042`.
fn p_phrase(value: Option<f64>) -> String {
    let text = p_value(value);
    if text.starts_with('<') {
        text
    } else {
        format!("= {text}")
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn alert(monitor: &str, transition: &str) -> AlertRecord {
        let state = if transition == "resolved" { "resolved" } else { "firing" };
        AlertRecord {
            at: DateTime::<Utc>::from_timestamp(0, 0).unwrap(),
            monitor: monitor.to_string(),
            version: "elo".to_string(),
            metric: None,
            state: state.to_string(),
            transition: transition.to_string(),
            severity: None,
            value: None,
            baseline: None,
            p_value: None,
        }
    }

    #[test]
    fn alerts_sentence_without_alerts() {
        assert_eq!(alerts_sentence(&[]), "No monitor sent an alert during the replay.");
    }

    #[test]
    fn alerts_sentence_counts_firings_and_resolutions() {
        let alerts = [
            alert("silence", "fired"),
            alert("silence", "resolved"),
            alert("silence", "fired"),
        ];
        assert!(alerts_sentence(&alerts).contains("silence on elo fired twice and resolved once"));
    }

    #[test]
    fn alerts_sentence_names_open_alert() {
        let alerts = [alert("auc-drop", "fired"), alert("auc-drop", "escalated")];
        assert!(alerts_sentence(&alerts).contains("fired once, escalated once and has not resolved"));
    }

    #[test]
    fn p_phrase_reads_after_p() {
        assert_eq!(p_phrase(Some(0.042)), "= 0.042");
    }
}
