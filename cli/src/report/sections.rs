//! The report's HTML, section by section.

use std::fmt::Write;

use plotters::style::RGBColor;
use serde_json::Value;

use super::{
    charts::{self, Marker, ReliabilityCurve, Series},
    format::{count, escape, metric, number, p_value, percent, signed_percent, Table, MISSING},
    verdict::verdict,
    AlertRecord, ReportInput, ATTRIBUTION,
};
use crate::replay::{
    evaluation::{confusion_by_season, VersionEvaluation},
    market::{MARGIN, MIN_EXPECTED_RETURN, STAKE_UNITS},
    requests::{ELO, MODEL, RAPTOR},
    schedule::{ACTUAL_HOUR, PREDICTION_HOUR, TICK_HOUR},
};

/// The stored window the metric charts plot: long enough to smooth day-to-day noise.
pub const CHART_WINDOW: &str = "30d";
/// The stored window the volume and label-coverage charts plot: a week smooths the game schedule.
pub const VOLUME_WINDOW: &str = "7d";
/// Fewest labelled predictions a stored window needs to be plotted: below it, as at the start
/// and end of a season, one game swings the metric across its whole range.
pub const MIN_CHART_LABELLED: u64 = 50;
/// Most alert rows listed before the rest are counted instead.
const MAX_ALERT_ROWS: usize = 200;

const ELO_COLOR: RGBColor = RGBColor(31, 119, 180);
const RAPTOR_COLOR: RGBColor = RGBColor(217, 95, 2);
const OTHER_COLOR: RGBColor = RGBColor(117, 112, 179);

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #222; margin: 0; }
main { max-width: 960px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.3em; }
p.meta, p.note, figcaption { color: #555; font-size: 0.92em; }
.verdict { background: #f5f8fc; border-left: 4px solid #1f77b4; padding: 8px 18px; }
.verdict li { margin: 6px 0; line-height: 1.45; }
table { border-collapse: collapse; margin: 8px 0 4px; font-size: 0.9em; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
th { background: #fafafa; font-weight: 600; }
th.text, td.text { text-align: left; }
th { white-space: normal; }
td.text { white-space: normal; max-width: 22em; }
td.text:first-child { white-space: nowrap; }
.legend { font-size: 0.9em; margin: 0 0 4px; }
.legend span { margin-right: 16px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.simulated { font-style: italic; }
figure { margin: 0; }
svg { max-width: 100%; height: auto; }
.grid { display: flex; flex-wrap: wrap; gap: 24px; }
footer { margin-top: 3em; color: #666; font-size: 0.85em; }
";

/// Builds the whole document.
pub fn document(input: &ReportInput<'_>) -> String {
    let mut html = String::new();
    let models = if input.games.iter().any(|game| game.raptor_prob1.is_some()) {
        "Elo and RAPTOR"
    } else {
        "Elo"
    };
    let seasons = if input.scope.contains(" to ") {
        "seasons"
    } else {
        "season"
    };
    let title = format!("{MODEL}: {models} on NBA {seasons} {}", input.scope);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head><body><main>",
        escape(&title)
    );
    let _ = write!(html, "<h1>{}</h1>", escape(&title));
    let _ = write!(
        html,
        "<p class=\"meta\">{} games replayed through the ingest API, with compute-metrics and check-degradation \
         run every {} of simulated time ({} ticks). Betting figures are <span class=\"simulated\">simulated</span>: \
         538's data has no odds.</p>",
        count(input.games.len() as u64),
        escape(input.tick_every),
        count(input.ticks as u64)
    );

    html.push_str("<h2>Verdict</h2><ul class=\"verdict\">");
    for sentence in verdict(input.evaluations, input.comparison, input.alerts) {
        let _ = write!(html, "<li>{}</li>", escape(&sentence));
    }
    html.push_str("</ul>");

    summary(&mut html, input);
    comparison(&mut html, input);
    metrics_over_time(&mut html, input);
    alerts(&mut html, input.alerts);
    calibration(&mut html, input.evaluations);
    confusion(&mut html, input.evaluations);
    volume(&mut html, input);
    monitors(&mut html, input.monitors);
    method(&mut html);

    let _ = writeln!(html, "<footer>{}</footer></main></body></html>", escape(ATTRIBUTION));
    html
}

fn version_color(version: &str) -> RGBColor {
    match version {
        ELO => ELO_COLOR,
        RAPTOR => RAPTOR_COLOR,
        _ => OTHER_COLOR,
    }
}

fn summary(html: &mut String, input: &ReportInput<'_>) {
    html.push_str("<h2>Summary</h2>");
    html.push_str(
        "<p class=\"note\">Computed from the replayed predictions themselves, over every game and per season. \
         ROI is the simulated betting return, profit divided by stakes.</p>",
    );
    let mut table = Table::new(
        &[
            "version",
            "games",
            "accuracy",
            "ROC-AUC",
            "log loss",
            "Brier",
            "ECE",
            "bets",
            "ROI (simulated)",
        ],
        1,
    );
    for evaluation in input.evaluations {
        let scope = evaluation
            .season
            .map_or_else(|| "all games".to_string(), |s| s.to_string());
        let metrics = &evaluation.metrics;
        let bets = evaluation.betting.bets;
        table.row(&[
            format!("{}, {scope}", evaluation.version),
            count(metrics.count),
            percent(metrics.accuracy.value()),
            metric(metrics.roc_auc, 3),
            metric(metrics.log_loss, 4),
            metric(metrics.brier, 4),
            metric(metrics.ece, 3),
            if bets == 0 { MISSING.to_string() } else { count(bets) },
            evaluation
                .betting
                .roi
                .value()
                .map_or(MISSING.to_string(), signed_percent),
        ]);
    }
    html.push_str(&table.finish());
}

fn comparison(html: &mut String, input: &ReportInput<'_>) {
    let Some(comparison) = input.comparison else {
        return;
    };
    html.push_str("<h2>Elo against RAPTOR on the same games</h2>");
    let _ = write!(
        html,
        "<p class=\"note\">Paired tests on the {} games both versions predicted: DeLong's test for ROC-AUC and \
         McNemar's test for accuracy. Intervals are 95%; differences are RAPTOR minus Elo.</p>",
        count(comparison.shared_games as u64)
    );

    let auc = &comparison.roc_auc;
    let (accuracy_low, accuracy_high) = comparison.accuracy_interval;
    let mut table = Table::new(&["metric", "elo", "raptor", "difference", "95% CI", "p", "test"], 1);
    table.row(&[
        "ROC-AUC".to_string(),
        number(Some(auc.auc_baseline), 3),
        number(Some(auc.auc_candidate), 3),
        format!("{:+.3}", auc.difference),
        format!("{:+.3} to {:+.3}", auc.ci.lower, auc.ci.upper),
        p_value(auc.p_value.value()),
        "DeLong".to_string(),
    ]);
    table.row(&[
        "accuracy".to_string(),
        percent(Some(comparison.accuracy_baseline)),
        percent(Some(comparison.accuracy_candidate)),
        format!(
            "{:+.1} points",
            (comparison.accuracy_candidate - comparison.accuracy_baseline) * 100.0
        ),
        format!("{:+.1} to {:+.1}", accuracy_low * 100.0, accuracy_high * 100.0),
        p_value(Some(comparison.accuracy.p_value)),
        "McNemar".to_string(),
    ]);

    let raptor = input
        .evaluations
        .iter()
        .find(|e| e.season.is_none() && e.version == RAPTOR);
    if let Some(raptor) = raptor {
        if let Some(roi) = raptor.betting.roi.value() {
            let interval = raptor.roi_interval.map_or(MISSING.to_string(), |(low, high)| {
                format!("{} to {}", signed_percent(low), signed_percent(high))
            });
            table.row(&[
                "ROI (simulated)".to_string(),
                "no bets".to_string(),
                signed_percent(roi),
                MISSING.to_string(),
                interval,
                MISSING.to_string(),
                "normal approximation".to_string(),
            ]);
        }
    }
    html.push_str(&table.finish());

    html.push_str(
        "<p class=\"note\">Elo places no bets because the simulated market is priced from its own \
         probabilities, so it never sees an edge. The simulated return measures what RAPTOR knows beyond Elo; \
         a real bookmaker's prices are sharper than Elo's, so it is not a return anyone could have made.</p>",
    );
}

fn metrics_over_time(html: &mut String, input: &ReportInput<'_>) {
    html.push_str("<h2>Metrics over time</h2>");
    let _ = write!(
        html,
        "<p class=\"note\">The {CHART_WINDOW} window as compute-metrics stored it at each tick, read back from the \
         table, where it held at least {MIN_CHART_LABELLED} labelled predictions. Triangles along the top mark alerts \
         on that metric in the version's colour: filled when a monitor fired, hollow when it resolved. A rule may \
         watch a shorter window than the one drawn, such as the ROC-AUC drop rule's 14 days, so a marker can sit \
         where this line moves little; \"Alerts sent\" below gives each alert's own values. A rule with fewer \
         labelled predictions than its min_samples is not evaluated, so short stretches, such as the last weeks \
         of the playoffs, can dip without an alert. Lines break across gaps of more than a week without data.</p>"
    );
    let versions = versions_in(input);
    html.push_str(&legend(&versions));
    for (key, title) in [
        ("roc_auc", "ROC-AUC (higher is better)"),
        ("accuracy", "Accuracy (higher is better)"),
        ("log_loss", "Log loss (lower is better)"),
        ("brier", "Brier score (lower is better)"),
    ] {
        let series: Vec<Series> = versions
            .iter()
            .map(|version| Series {
                label: version.clone(),
                color: version_color(version),
                points: input
                    .history
                    .iter()
                    .filter(|point| &point.version == version && point.window == CHART_WINDOW)
                    .filter(|point| point.labelled >= MIN_CHART_LABELLED)
                    .filter_map(|point| Some((point.end, *point.metrics.get(key)?)))
                    .collect(),
            })
            .collect();
        let markers = alert_markers(input.alerts, |alert| alert.metric.as_deref() == Some(key));
        let _ = write!(html, "<h3>{}</h3>", escape(title));
        push_chart(html, charts::time_series(&series, &markers, key, None));
    }
}

/// Returns the HTML legend of the version colours.
fn legend(versions: &[String]) -> String {
    let mut html = String::from("<p class=\"legend\">");
    for version in versions {
        let RGBColor(red, green, blue) = version_color(version);
        let _ = write!(
            html,
            "<span><i class=\"swatch\" style=\"background: rgb({red}, {green}, {blue})\"></i>{}</span>",
            escape(version)
        );
    }
    html.push_str("</p>");
    html
}

fn alert_markers(alerts: &[AlertRecord], keep: impl Fn(&AlertRecord) -> bool) -> Vec<Marker> {
    alerts
        .iter()
        .filter(|alert| keep(alert))
        .map(|alert| Marker {
            at: alert.at,
            color: version_color(&alert.version),
            filled: alert.state != "resolved",
        })
        .collect()
}

fn versions_in(input: &ReportInput<'_>) -> Vec<String> {
    let mut versions: Vec<String> = input.evaluations.iter().map(|e| e.version.to_string()).collect();
    versions.dedup();
    versions
}

fn push_chart(html: &mut String, chart: Result<String, charts::ChartError>) {
    match chart {
        Ok(svg) => {
            html.push_str("<figure>");
            html.push_str(&svg);
            html.push_str("</figure>");
        }
        Err(error) => {
            let _ = write!(html, "<p class=\"note\">{}</p>", escape(&error.to_string()));
        }
    }
}

fn alerts(html: &mut String, alerts: &[AlertRecord]) {
    html.push_str("<h2>Alerts sent</h2>");
    if alerts.is_empty() {
        html.push_str("<p>No monitor sent an alert.</p>");
        return;
    }
    let _ = write!(
        html,
        "<p class=\"note\">{} messages read back from the SQS queue subscribed to the alert topic, oldest first. \
         The time is the simulated tick that raised each one.</p>",
        count(alerts.len() as u64)
    );
    let mut table = Table::new(
        &[
            "time (UTC)",
            "monitor",
            "version",
            "state",
            "severity",
            "metric",
            "value",
            "baseline",
            "p",
        ],
        6,
    );
    for alert in alerts.iter().take(MAX_ALERT_ROWS) {
        table.row(&[
            alert.at.format("%Y-%m-%d %H:%M").to_string(),
            alert.monitor.clone(),
            alert.version.clone(),
            alert.state.clone(),
            alert.severity.clone().unwrap_or_else(|| MISSING.to_string()),
            alert.metric.clone().unwrap_or_else(|| MISSING.to_string()),
            number(alert.value, 3),
            number(alert.baseline, 3),
            p_value(alert.p_value),
        ]);
    }
    html.push_str(&table.finish());
    if alerts.len() > MAX_ALERT_ROWS {
        let _ = write!(
            html,
            "<p class=\"note\">{} more are not listed.</p>",
            count((alerts.len() - MAX_ALERT_ROWS) as u64)
        );
    }
}

fn calibration(html: &mut String, evaluations: &[VersionEvaluation]) {
    html.push_str("<h2>Calibration</h2>");
    html.push_str(
        "<p class=\"note\">Games grouped by predicted probability in ten bins of width 0.1, over every replayed game. \
         A calibrated model's points lie on the diagonal: of the games it gives 70%, team1 wins 70%.</p>",
    );
    let overall: Vec<&VersionEvaluation> = evaluations.iter().filter(|e| e.season.is_none()).collect();
    let curves: Vec<ReliabilityCurve> = overall
        .iter()
        .map(|evaluation| ReliabilityCurve {
            label: evaluation.version.to_string(),
            color: version_color(evaluation.version),
            bins: evaluation
                .metrics
                .reliability
                .iter()
                .filter_map(|bin| Some((bin.mean_score.value()?, bin.positive_rate.value()?, bin.count)))
                .collect(),
        })
        .collect();
    html.push_str("<div class=\"grid\">");
    push_chart(html, charts::reliability(&curves));

    let mut headers = vec!["bin".to_string()];
    for evaluation in &overall {
        headers.push(format!("{} games", evaluation.version));
        headers.push(format!("{} predicted", evaluation.version));
        headers.push(format!("{} observed", evaluation.version));
    }
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut table = Table::new(&header_refs, 1);
    let bins = overall.first().map_or(0, |e| e.metrics.reliability.len());
    for index in 0..bins {
        let mut cells = Vec::new();
        for (position, evaluation) in overall.iter().enumerate() {
            let Some(bin) = evaluation.metrics.reliability.get(index) else {
                continue;
            };
            if position == 0 {
                cells.push(format!("{:.1}–{:.1}", bin.lower, bin.upper));
            }
            cells.push(count(bin.count));
            cells.push(metric(bin.mean_score, 3));
            cells.push(metric(bin.positive_rate, 3));
        }
        table.row(&cells);
    }
    html.push_str(&table.finish());
    html.push_str("</div>");
    let eces: Vec<String> = overall
        .iter()
        .map(|e| format!("{} {}", e.version, metric(e.metrics.ece, 3)))
        .collect();
    let _ = write!(
        html,
        "<p class=\"note\">Expected calibration error (the games-weighted mean gap between predicted and observed): {}.</p>",
        escape(&eces.join(", "))
    );
}

fn confusion(html: &mut String, evaluations: &[VersionEvaluation]) {
    html.push_str("<h2>Confusion matrices by season</h2>");
    html.push_str(
        "<p class=\"note\">The positive class is a team1 win, predicted when the probability is 0.5 or more.</p>",
    );
    let mut table = Table::new(
        &[
            "season",
            "version",
            "team1 won, predicted",
            "team1 lost, predicted win",
            "team1 lost, predicted",
            "team1 won, predicted loss",
            "accuracy",
        ],
        2,
    );
    for ((season, version), matrix) in confusion_by_season(evaluations) {
        let total = matrix.total();
        let accuracy = (total > 0).then(|| (matrix.true_positives + matrix.true_negatives) as f64 / total as f64);
        table.row(&[
            season.to_string(),
            version.to_string(),
            count(matrix.true_positives),
            count(matrix.false_positives),
            count(matrix.true_negatives),
            count(matrix.false_negatives),
            percent(accuracy),
        ]);
    }
    html.push_str(&table.finish());
}

fn volume(html: &mut String, input: &ReportInput<'_>) {
    html.push_str("<h2>Volume and label coverage</h2>");
    let _ = write!(
        html,
        "<p class=\"note\">The {VOLUME_WINDOW} window at each tick: the predictions it holds, and the share of them \
         with an outcome. Both versions predict the same games, so their lines coincide where both exist. Markers \
         show the volume and label-coverage alerts.</p>"
    );
    let versions = versions_in(input);
    html.push_str(&legend(&versions));
    let points_of = |version: &String, value: &dyn Fn(&super::HistoryPoint) -> Option<f64>| {
        input
            .history
            .iter()
            .filter(|point| &point.version == version && point.window == VOLUME_WINDOW)
            .filter_map(|point| Some((point.end, value(point)?)))
            .collect()
    };
    let predictions: Vec<Series> = versions
        .iter()
        .map(|version| Series {
            label: version.clone(),
            color: version_color(version),
            points: points_of(version, &|point| Some(point.predictions as f64)),
        })
        .collect();
    let coverage: Vec<Series> = versions
        .iter()
        .map(|version| Series {
            label: version.clone(),
            color: version_color(version),
            points: points_of(version, &|point| point.label_coverage),
        })
        .collect();

    let volume_markers = alert_markers(input.alerts, |alert| {
        alert.metric.as_deref() == Some("predictions") || alert.monitor.contains("silence")
    });
    let coverage_markers = alert_markers(input.alerts, |alert| alert.metric.as_deref() == Some("label_coverage"));
    let _ = write!(html, "<h3>Predictions in the last {VOLUME_WINDOW}</h3>");
    push_chart(
        html,
        charts::time_series(&predictions, &volume_markers, "predictions", None),
    );
    html.push_str("<h3>Label coverage</h3>");
    push_chart(
        html,
        charts::time_series(&coverage, &coverage_markers, "share labelled", Some((0.0, 1.05))),
    );
}

fn monitors(html: &mut String, monitors: &[Value]) {
    html.push_str("<h2>Monitor rules</h2>");
    html.push_str(
        "<p class=\"note\">Set with <code>PUT /v1/models/nba-game-predictor/monitors</code> before the replay, \
         and evaluated for each version at every tick.</p>",
    );
    let mut table = Table::new(
        &[
            "name",
            "kind",
            "metric",
            "window",
            "condition",
            "min samples",
            "consecutive",
            "cooldown",
        ],
        5,
    );
    for rule in monitors {
        let text = |key: &str| match &rule[key] {
            Value::Null => MISSING.to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        table.row(&[
            text("name"),
            text("kind"),
            text("metric"),
            text("window"),
            condition(rule),
            text("min_samples"),
            text("consecutive"),
            text("cooldown"),
        ]);
    }
    html.push_str(&table.finish());
}

/// Describes when a rule fires, from its fields.
pub fn condition(rule: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(drop) = rule["max_drop"].as_f64() {
        let baseline = match &rule["baseline"] {
            Value::Object(baseline) => baseline
                .get("window")
                .and_then(Value::as_str)
                .map(|window| format!("the {window} before"))
                .or_else(|| {
                    baseline
                        .get("version")
                        .and_then(Value::as_str)
                        .map(|v| format!("version {v}"))
                })
                .unwrap_or_else(|| "a fixed period".to_string()),
            _ => "the baseline".to_string(),
        };
        let alpha = rule["alpha"].as_f64().unwrap_or(0.05);
        parts.push(format!(
            "drops more than {:.0}% below {baseline}, significant at {alpha}",
            drop * 100.0
        ));
    }
    if let Some(below) = rule["below"].as_f64() {
        parts.push(format!("below {below}"));
    }
    if let Some(above) = rule["above"].as_f64() {
        parts.push(format!("above {above}"));
    }
    if parts.is_empty() {
        MISSING.to_string()
    } else {
        parts.join(", ")
    }
}

fn method(html: &mut String) {
    html.push_str("<h2>How the replay works</h2><ul>");
    let items = [
        format!(
            "538 published each game's pre-game probabilities from two models, Elo and RAPTOR. They are sent as \
             versions <code>elo</code> and <code>raptor</code> of the model <code>{MODEL}</code>, predicting the \
             probability that team1 (the home team, except at neutral sites such as the 2020 bubble) wins."
        ),
        format!(
            "538 gives no tip-off times, so each prediction is stamped {PREDICTION_HOUR:02}:00 UTC on the game's date, \
             and its outcome arrives in a separate <code>POST /v1/actuals</code> call stamped {ACTUAL_HOUR:02}:00 UTC \
             the next day."
        ),
        format!(
            "Ticks run at {TICK_HOUR:02}:00 UTC plus whole tick intervals, each a compute-metrics run and then a \
             check-degradation run with a scheduled event at that time, interleaved with the ingest calls in time \
             order. Each tick sees exactly the data that existed at its simulated time."
        ),
        format!(
            "The simulated market prices each side at decimal odds 1 / (p × {:.3}), with p Elo's probability for that \
             side. RAPTOR stakes {STAKE_UNITS} unit on a side when its probability times the odds is at least \
             {MIN_EXPECTED_RETURN:.2}. These bets are sent in RAPTOR's predictions as <code>bet</code>.",
            1.0 + MARGIN
        ),
        "Everything runs through the handler code the Lambda functions run, against a local AWS emulator.".to_string(),
    ];
    for item in items {
        // The items are fixed text with code tags and constants, not input, so they are not escaped.
        let _ = write!(html, "<li>{item}</li>");
    }
    html.push_str("</ul>");
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn condition_describes_relative_drop() {
        let rule = json!({ "max_drop": 0.1, "baseline": { "window": "30d" }, "alpha": 0.05 });
        assert_eq!(
            condition(&rule),
            "drops more than 10% below the 30d before, significant at 0.05"
        );
    }

    #[test]
    fn condition_describes_threshold() {
        assert_eq!(condition(&json!({ "below": 0.55 })), "below 0.55");
    }
}
