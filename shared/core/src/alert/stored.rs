//! The check's reads from the table: registrations, versions and rules from the catalogue, and
//! window values from the stored snapshots, or from the aggregates when no snapshot matches.
//!
//! A window that the metrics tick computes (one of `MPT_WINDOWS`, ending at the same hour) is
//! read as one stored snapshot, which costs one `GetItem`. Any other window, such as a 30-day
//! baseline ending where a 1-day window starts, is computed from the day and hour aggregates,
//! which reads at most a few hundred items (see [`crate::window_plan`]).

use chrono::{DateTime, Utc};
use tracing::warn;

use crate::{
    alert::{
        rule::Check,
        source::{CheckSource, HistoryPoint, SourceError, Span, VersionSpan, WindowValues},
    },
    compute::{window_metrics, ComputeDeps},
    snapshot::Snapshot,
    store::{history::Series, Store},
    time::Window,
};

/// IAM actions the reads of this module call: catalogue and snapshot reads (`GetItem`) and
/// version and aggregate queries (`Query`).
pub const IAM_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:Query"];

/// Reads the check's inputs from the table.
#[derive(Debug, Clone)]
pub struct StoredSource {
    compute: ComputeDeps,
}

impl StoredSource {
    /// Builds the source over `store`. It computes windows without publishing them.
    pub fn new(store: Store) -> Self {
        Self {
            compute: ComputeDeps::new(store, None),
        }
    }

    fn store(&self) -> &Store {
        &self.compute.store
    }

    /// Reads the stored snapshot of `window` ending at `end`, if the tick stored one.
    async fn stored_snapshot(
        &self,
        model: &str,
        version: &str,
        window: Window,
        end: DateTime<Utc>,
    ) -> Result<Option<Snapshot>, SourceError> {
        let window_name = window.to_string();
        let series = Series {
            model,
            version,
            window: &window_name,
            segment: None,
        };
        self.store()
            .get_snapshot(series, end)
            .await
            .map_err(|e| failed(format!("the {window} snapshot of {model} {version} at {end}"), e))
    }
}

fn failed(data: String, error: impl std::fmt::Display) -> SourceError {
    SourceError {
        input: data,
        detail: error.to_string(),
    }
}

/// Returns the window whose length is the span's, or `None` when the span is not 1h to 90d of
/// whole hours.
fn span_window(span: Span) -> Option<Window> {
    let secs = (span.end - span.start).num_seconds();
    if secs <= 0 || secs % 3_600 != 0 {
        return None;
    }
    format!("{}h", secs / 3_600).parse().ok()
}

impl CheckSource for StoredSource {
    async fn models(&self) -> Result<Vec<String>, SourceError> {
        let models = self
            .store()
            .list_models()
            .await
            .map_err(|e| failed("the registered models".into(), e))?;
        Ok(models.into_iter().map(|m| m.name).collect())
    }

    async fn versions(&self, model: &str) -> Result<Vec<VersionSpan>, SourceError> {
        let versions = self
            .store()
            .list_versions(model)
            .await
            .map_err(|e| failed(format!("the versions of {model}"), e))?;
        Ok(versions
            .into_iter()
            .map(|v| VersionSpan {
                version: v.version,
                first: v.first_at,
                last: v.last_at,
            })
            .collect())
    }

    async fn checks(&self, model: &str) -> Result<Option<Vec<Check>>, SourceError> {
        let Some(set) = self
            .store()
            .get_monitors(model)
            .await
            .map_err(|e| failed(format!("the monitor rules of {model}"), e))?
        else {
            return Ok(None);
        };
        let mut checks = Vec::with_capacity(set.rules.len());
        for rule in &set.rules {
            match Check::from_rule(rule) {
                Ok(check) => checks.push(check),
                Err(reason) => warn!(model, rule = %rule.name, reason = %reason, "skipping an incomplete monitor rule"),
            }
        }
        Ok(Some(checks))
    }

    async fn window(&self, model: &str, version: &str, span: Span) -> Result<WindowValues, SourceError> {
        let Some(window) = span_window(span) else {
            return Err(failed(
                format!("the span {span} of {model} {version}"),
                "a baseline period must be whole hours from 1h to 90d; shorten the rule's baseline",
            ));
        };
        if let Some(snapshot) = self.stored_snapshot(model, version, window, span.end).await? {
            return Ok(WindowValues::from(&snapshot));
        }
        let snapshot = window_metrics(&self.compute, model, version, window, span.end, None)
            .await
            .map_err(|e| {
                failed(
                    format!("the {window} window of {model} {version} ending {}", span.end),
                    e,
                )
            })?;
        Ok(WindowValues::from(&snapshot))
    }

    /// Reads the stored snapshots at `until`, `until - window`, `until - 2 window`, and so on, so
    /// the points cover back-to-back windows and show the trend. Missing snapshots are left out.
    async fn history(
        &self,
        model: &str,
        version: &str,
        metric: &str,
        window: Window,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<HistoryPoint>, SourceError> {
        let mut points = Vec::with_capacity(limit);
        for step in 0..limit {
            let Ok(step) = i32::try_from(step) else { break };
            let end = until - window.duration().delta() * step;
            if let Some(snapshot) = self.stored_snapshot(model, version, window, end).await? {
                points.push(HistoryPoint {
                    end,
                    value: snapshot.value(metric),
                    labelled: snapshot.labelled,
                });
            }
        }
        points.reverse();
        Ok(points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(hours: i64) -> Span {
        let end: DateTime<Utc> = "2023-06-13T00:00:00Z".parse().unwrap();
        Span {
            start: end - chrono::TimeDelta::hours(hours),
            end,
        }
    }

    #[test]
    fn span_window_of_whole_days() {
        assert_eq!(span_window(span(720)).map(|w| w.to_string()), Some("30d".to_string()));
    }

    #[test]
    fn span_window_past_ninety_days_is_none() {
        assert_eq!(span_window(span(91 * 24)), None);
    }

    #[test]
    fn span_window_empty_is_none() {
        assert_eq!(span_window(span(0)), None);
    }
}
