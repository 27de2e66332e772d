//! The tables the read commands print, one function per API response.

use serde_json::Value;

use super::table::{cell, number, optional, signed, Table};

/// Returns the text of a JSON string field, or an empty string.
fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

/// Renders `GET /v1/models`: one row per model version.
pub fn models(body: &Value) -> String {
    let mut table = Table::new(&[
        "model",
        "task",
        "version",
        "predictions",
        "first prediction",
        "last prediction",
    ]);
    for model in body["models"].as_array().into_iter().flatten() {
        let versions = model["versions"].as_array().cloned().unwrap_or_default();
        if versions.is_empty() {
            table.row(vec![
                text(&model["model"]).into(),
                text(&model["task"]).into(),
                "-".into(),
                "0".into(),
            ]);
        }
        for version in versions {
            table.row(vec![
                text(&model["model"]).into(),
                text(&model["task"]).into(),
                text(&version["version"]).into(),
                cell(&version["predictions"]),
                text(&version["first_prediction_at"]).into(),
                text(&version["last_prediction_at"]).into(),
            ]);
        }
    }
    if table.is_empty() {
        return "no models are registered\n".to_string();
    }
    table.render()
}

/// Renders one window's metrics: a summary line, then one row per metric with its interval,
/// sample count and, for a null value, the reason.
pub fn metrics(body: &Value) -> String {
    let mut out = format!(
        "{} {}, window {} from {} to {}{} ({})\n",
        text(&body["model"]),
        text(&body["version"]),
        text(&body["window"]),
        text(&body["start"]),
        text(&body["end"]),
        body["segment"]
            .as_str()
            .map(|s| format!(", segment {s}"))
            .unwrap_or_default(),
        text(&body["source"]),
    );
    out.push_str(&format!(
        "predictions {}, labelled {}, label coverage {}\n\n",
        cell(&body["predictions"]),
        cell(&body["labelled"]),
        optional(&body["label_coverage"]),
    ));
    // Numbers and nulls go in the table. Objects and arrays (latency quantiles, drift, the
    // confusion matrix, the reliability table) follow it, one per line, so they do not widen it.
    let mut table = Table::new(&["metric", "value", "95% interval", "samples", "note"]);
    let mut details = Table::new(&["detail", "value"]);
    for (name, value) in body["metrics"].as_object().into_iter().flatten() {
        let note = body["reasons"][name].as_str().unwrap_or_default().to_string();
        if value.is_object() || value.is_array() {
            details.row(vec![name.clone(), cell(value)]);
            continue;
        }
        let interval = body["intervals"][name]
            .as_array()
            .map(|bounds| format!("{} to {}", optional(&bounds[0]), optional(&bounds[1])))
            .unwrap_or_default();
        let samples = body["samples"].get(name).map(cell).unwrap_or_default();
        table.row(vec![name.clone(), cell(value), interval, samples, note]);
    }
    out.push_str(&table.render());
    if !details.is_empty() {
        out.push('\n');
        out.push_str(&details.render());
    }
    out
}

/// Renders one metric's history: a row per window end.
pub fn history(body: &Value) -> String {
    let mut out = format!(
        "{} {} of {} {}{}\n\n",
        text(&body["window"]),
        text(&body["metric"]),
        text(&body["model"]),
        text(&body["version"]),
        body["segment"]
            .as_str()
            .map(|s| format!(", segment {s}"))
            .unwrap_or_default(),
    );
    let points = body["points"].as_array().cloned().unwrap_or_default();
    if points.is_empty() {
        out.push_str("no stored points in this range\n");
    } else {
        let mut table = Table::new(&["end", "value", "labelled", "note"]);
        for point in &points {
            table.row(vec![
                text(&point["end"]).into(),
                cell(&point["value"]),
                cell(&point["labelled"]),
                text(&point["reason"]).into(),
            ]);
        }
        out.push_str(&table.render());
    }
    if let Some(next) = body["next"].as_str() {
        out.push_str(&format!("\nmore points: pass --next {next}, or --all for every page\n"));
    }
    out
}

/// Renders a comparison: how it was tested, then one row per metric.
pub fn comparison(body: &Value) -> String {
    let pairing = if body["paired"] == true {
        format!("paired on {} labelled shared ids", cell(&body["shared_labelled"]))
    } else {
        format!("unpaired: {}", text(&body["unpaired_reason"]))
    };
    let mut out = format!(
        "{}: {} (baseline) vs {} (candidate), window {} from {} to {}\n{pairing}\n\n",
        text(&body["model"]),
        text(&body["baseline"]),
        text(&body["candidate"]),
        text(&body["window"]),
        text(&body["start"]),
        text(&body["end"]),
    );
    let mut table = Table::new(&[
        "metric",
        "baseline",
        "candidate",
        "difference",
        "95% interval",
        "p-value",
        "test",
        "note",
    ]);
    for (name, metric) in body["metrics"].as_object().into_iter().flatten() {
        let difference = metric["difference"].as_f64().map(signed).unwrap_or_else(|| "-".into());
        let interval = metric["ci"]
            .as_array()
            .and_then(|bounds| {
                Some(format!(
                    "{} to {}",
                    signed(bounds[0].as_f64()?),
                    signed(bounds[1].as_f64()?)
                ))
            })
            .unwrap_or_else(|| "-".into());
        table.row(vec![
            name.clone(),
            optional(&metric["baseline"]),
            optional(&metric["candidate"]),
            difference,
            interval,
            optional(&metric["p_value"]),
            metric["test"].as_str().unwrap_or("-").into(),
            text(&metric["reason"]).into(),
        ]);
    }
    out.push_str(&table.render());
    out
}

/// Renders the alert log and the monitors' current states.
pub fn alerts(body: &Value) -> String {
    let mut out = String::new();
    let alerts = body["alerts"].as_array().cloned().unwrap_or_default();
    if alerts.is_empty() {
        out.push_str("no alerts were sent\n");
    } else {
        let mut table = Table::new(&[
            "at", "monitor", "version", "state", "severity", "metric", "value", "baseline", "p-value",
        ]);
        for alert in &alerts {
            table.row(vec![
                text(&alert["at"]).into(),
                text(&alert["monitor"]).into(),
                text(&alert["version"]).into(),
                text(&alert["state"]).into(),
                text(&alert["severity"]).into(),
                text(&alert["metric"]).into(),
                optional(&alert["value"]),
                optional(&alert["baseline"]),
                optional(&alert["p_value"]),
            ]);
        }
        out.push_str(&table.render());
    }
    if let Some(next) = body["next"].as_str() {
        out.push_str(&format!("more alerts: pass --next {next}, or --all for every page\n"));
    }

    let current = body["current"].as_object().cloned().unwrap_or_default();
    out.push('\n');
    if current.is_empty() {
        out.push_str("no monitor has been evaluated\n");
        return out;
    }
    let mut table = Table::new(&["monitor", "state", "severity", "since", "version"]);
    for (monitor, state) in &current {
        table.row(vec![
            monitor.clone(),
            text(&state["state"]).into(),
            optional(&state["severity"]),
            optional(&state["since"]),
            text(&state["version"]).into(),
        ]);
    }
    out.push_str(&table.render());
    out
}

/// Renders monitor rules: one row per rule with its condition.
pub fn monitors(body: &Value) -> String {
    let rules = body["monitors"].as_array().cloned().unwrap_or_default();
    let source = match body["source"].as_str() {
        Some("default") => " (the deployment's default rules)",
        _ => "",
    };
    if rules.is_empty() {
        return format!("{} has no monitor rules\n", text(&body["model"]));
    }
    let mut table = Table::new(&["name", "kind", "metric", "window", "condition"]);
    for rule in &rules {
        let mut condition = Vec::new();
        for (key, label) in [("below", "below"), ("above", "above"), ("max_drop", "max drop")] {
            if let Some(value) = rule[key].as_f64() {
                condition.push(format!("{label} {}", number(value)));
            }
        }
        if let Some(baseline) = rule["baseline"].as_object() {
            let described: Vec<String> = baseline.iter().map(|(k, v)| format!("{k} {}", cell(v))).collect();
            condition.push(format!("vs {}", described.join(" ")));
        }
        table.row(vec![
            text(&rule["name"]).into(),
            text(&rule["kind"]).into(),
            rule["metric"].as_str().unwrap_or("-").into(),
            text(&rule["window"]).into(),
            condition.join(", "),
        ]);
    }
    format!("{}{source}\n\n{}", text(&body["model"]), table.render())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metrics_table_shows_reason_of_null() {
        let body = json!({
            "model": "nba", "version": "raptor", "window": "7d", "start": "s", "end": "e", "source": "stored",
            "predictions": 120, "labelled": 118, "label_coverage": 0.983,
            "metrics": { "accuracy": 0.64, "precision": null },
            "samples": { "accuracy": 118 }, "intervals": { "accuracy": [0.55, 0.72] },
            "reasons": { "precision": "no predicted positives in the window" }
        });
        let text = metrics(&body);
        assert!(text.contains("accuracy   0.6400  0.5500 to 0.7200  118"), "{text}");
        assert!(text.contains("precision  null"), "{text}");
        assert!(text.contains("no predicted positives in the window"), "{text}");
    }

    #[test]
    fn metrics_objects_follow_table() {
        let body = json!({
            "model": "nba", "version": "raptor", "window": "7d", "start": "s", "end": "e", "source": "stored",
            "predictions": 1, "labelled": 1, "label_coverage": 1.0,
            "metrics": { "accuracy": 1.0, "latency_ms": { "p50": 12.0, "p99": 40.5 } },
            "samples": {}, "intervals": {}, "reasons": {}
        });
        let text = metrics(&body);
        assert!(text.contains("detail"), "{text}");
        assert!(text.contains("latency_ms  p50 12, p99 40.5000"), "{text}");
    }

    #[test]
    fn comparison_table_signs_differences() {
        let body = json!({
            "model": "nba", "baseline": "elo", "candidate": "raptor", "window": "30d", "start": "s", "end": "e",
            "paired": true, "shared_labelled": 1230,
            "metrics": { "accuracy": { "baseline": 0.64, "candidate": 0.67, "difference": 0.03,
                                       "ci": [0.01, 0.05], "p_value": 0.004, "test": "mcnemar", "samples": [1230, 1230] } }
        });
        let text = comparison(&body);
        assert!(text.contains("paired on 1230 labelled shared ids"), "{text}");
        assert!(text.contains("+0.0300"), "{text}");
        assert!(text.contains("+0.0100 to +0.0500"), "{text}");
        assert!(text.contains("mcnemar"), "{text}");
    }

    #[test]
    fn history_table_points_to_next_page() {
        let body = json!({ "model": "nba", "version": "raptor", "window": "1d", "metric": "roc_auc",
                           "points": [ { "end": "2023-06-12T00:00:00Z", "value": 0.7, "labelled": 14 } ],
                           "next": "abc" });
        let text = history(&body);
        assert!(text.contains("2023-06-12T00:00:00Z  0.7000  14"), "{text}");
        assert!(text.contains("--next abc"), "{text}");
    }

    #[test]
    fn alerts_without_entries_say_so() {
        let text = alerts(&json!({ "alerts": [], "current": {}, "next": null }));
        assert!(text.contains("no alerts were sent"), "{text}");
        assert!(text.contains("no monitor has been evaluated"), "{text}");
    }

    #[test]
    fn monitors_table_describes_conditions() {
        let body = json!({ "model": "nba", "source": "model", "monitors": [
            { "name": "auc-drop", "kind": "relative_drop", "metric": "roc_auc", "window": "1d",
              "baseline": { "window": "30d" }, "max_drop": 0.05 } ] });
        let text = monitors(&body);
        assert!(text.contains("max drop 0.0500, vs window 30d"), "{text}");
    }
}
