//! The alert log and the `GET /v1/models/{model}/alerts` response built from it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    alert::{
        state::{Severity, Status, Transition},
        store::{AlertError, AlertStore, StoredState},
    },
    time::Window,
};

/// The number of alerts on a page when the request sets no limit.
pub const DEFAULT_PAGE_LIMIT: usize = 100;

/// The maximum number of alerts on one page.
pub const MAX_PAGE_LIMIT: usize = 1_000;

/// One sent alert, as the log keeps it and the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// The monitor's name.
    pub monitor: String,
    /// The model version.
    pub version: String,
    /// `firing` or `resolved`.
    pub state: String,
    /// `fired`, `escalated` or `resolved`.
    pub transition: Transition,
    /// The severity announced; for a resolution, the severity the monitor had while firing.
    pub severity: Severity,
    /// The window end of the evaluation behind the alert.
    pub at: DateTime<Utc>,
    /// The metric key.
    pub metric: String,
    /// The rule's window.
    pub window: Window,
    /// The metric's value in the current window.
    pub value: Option<f64>,
    /// The metric's value in the baseline.
    pub baseline: Option<f64>,
    /// The one-sided p-value of the drop, when a test ran.
    pub p_value: Option<f64>,
    /// Samples in the current window and in the baseline.
    pub samples: (u64, Option<u64>),
    /// The message's subject.
    pub subject: String,
    /// The SNS message id, once published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

/// A monitor's state on one version, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionState {
    /// `ok`, `breaching` or `firing`.
    pub state: Status,
    /// The severity while firing.
    pub severity: Option<Severity>,
    /// When it started firing.
    pub since: Option<DateTime<Utc>>,
}

/// A monitor's current state: the worst over its versions, and each version's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentState {
    /// The worst state over the versions.
    pub state: Status,
    /// Its severity.
    pub severity: Option<Severity>,
    /// Since when it has been firing.
    pub since: Option<DateTime<Utc>>,
    /// The version in that worst state.
    pub version: String,
    /// Every evaluated version's state.
    pub versions: BTreeMap<String, VersionState>,
}

/// The body of `GET /v1/models/{model}/alerts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertsResponse {
    /// One entry per message sent, oldest first.
    pub alerts: Vec<AlertRecord>,
    /// Each monitor's current state, by monitor name.
    pub current: BTreeMap<String, CurrentState>,
    /// The token of the next page, or `null` on the last one.
    pub next: Option<String>,
}

/// Builds the `/alerts` response of `model`: a page of its log and every monitor's state.
///
/// `limit` defaults to [`DEFAULT_PAGE_LIMIT`] and is capped at [`MAX_PAGE_LIMIT`]; `next` is the
/// token of the previous page.
///
/// # Errors
/// [`AlertError::InvalidToken`] for a token this API did not return, and storage errors.
pub async fn alerts_response<S: AlertStore>(
    store: &S,
    model: &str,
    limit: Option<usize>,
    next: Option<&str>,
) -> Result<AlertsResponse, AlertError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_LIMIT).clamp(1, MAX_PAGE_LIMIT);
    let (alerts, next) = store.records(model, limit, next).await?;
    let states = store.states(model).await?;
    Ok(AlertsResponse {
        alerts,
        current: current_states(states),
        next,
    })
}

/// Groups stored states by monitor and picks each monitor's worst version.
pub fn current_states(states: Vec<(String, String, StoredState)>) -> BTreeMap<String, CurrentState> {
    let mut current: BTreeMap<String, CurrentState> = BTreeMap::new();
    for (monitor, version, stored) in states {
        let entry = VersionState {
            state: stored.state.status,
            severity: stored.state.severity,
            since: stored.state.since,
        };
        let rank = (entry.state, entry.severity);
        match current.get_mut(&monitor) {
            Some(existing) => {
                if rank > (existing.state, existing.severity) {
                    existing.state = entry.state;
                    existing.severity = entry.severity;
                    existing.since = entry.since;
                    existing.version = version.clone();
                }
                existing.versions.insert(version, entry);
            }
            None => {
                current.insert(
                    monitor,
                    CurrentState {
                        state: entry.state,
                        severity: entry.severity,
                        since: entry.since,
                        version: version.clone(),
                        versions: BTreeMap::from([(version, entry)]),
                    },
                );
            }
        }
    }
    current
}

/// Encodes a log position (the item's sort key) as an opaque page token.
pub fn encode_token(sort_key: &str) -> String {
    sort_key.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a page token back into the sort key it was made from.
///
/// # Errors
/// [`AlertError::InvalidToken`] when the token is not one [`encode_token`] made from a log
/// sort key (`{at}#{monitor}#{version}`).
pub fn decode_token(token: &str) -> Result<String, AlertError> {
    let invalid = || AlertError::InvalidToken(token.chars().take(64).collect());
    if token.is_empty() || !token.len().is_multiple_of(2) || token.len() > 2_048 {
        return Err(invalid());
    }
    let bytes: Result<Vec<u8>, _> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .map_or(Err(()), |pair| u8::from_str_radix(pair, 16).map_err(|_| ()))
        })
        .collect();
    let sort_key = String::from_utf8(bytes.map_err(|_| invalid())?).map_err(|_| invalid())?;
    let mut parts = sort_key.splitn(3, '#');
    let at = parts.next().unwrap_or_default();
    let well_formed = DateTime::parse_from_rfc3339(at).is_ok() && parts.next().is_some() && parts.next().is_some();
    if !well_formed {
        return Err(invalid());
    }
    Ok(sort_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::state::MonitorState;

    fn stored(status: Status, severity: Option<Severity>) -> StoredState {
        StoredState {
            state: MonitorState {
                status,
                severity,
                ..MonitorState::default()
            },
            ..StoredState::default()
        }
    }

    #[test]
    fn current_state_picks_worst_version() {
        let current = current_states(vec![
            ("auc-drop".into(), "elo".into(), stored(Status::Ok, None)),
            (
                "auc-drop".into(),
                "raptor".into(),
                stored(Status::Firing, Some(Severity::Critical)),
            ),
            (
                "auc-drop".into(),
                "v3".into(),
                stored(Status::Firing, Some(Severity::Warning)),
            ),
        ]);
        let entry = &current["auc-drop"];
        assert_eq!(entry.state, Status::Firing);
        assert_eq!(entry.severity, Some(Severity::Critical));
        assert_eq!(entry.version, "raptor");
        assert_eq!(entry.versions.len(), 3);
    }

    #[test]
    fn token_round_trips() {
        let key = "2023-06-13T00:00:00Z#auc-drop#raptor";
        assert_eq!(decode_token(&encode_token(key)).unwrap(), key);
    }

    #[test]
    fn token_tampered_is_rejected() {
        for bad in [
            "",
            "zz",
            "abc",
            &encode_token("not a key"),
            &encode_token("2023-06-13#x#y"),
        ] {
            assert!(matches!(decode_token(bad), Err(AlertError::InvalidToken(_))), "{bad:?}");
        }
    }

    #[test]
    fn record_serialises_samples_as_pair() {
        let record = AlertRecord {
            monitor: "auc-drop".into(),
            version: "raptor".into(),
            state: "firing".into(),
            transition: Transition::Fired,
            severity: Severity::Critical,
            at: "2023-06-13T00:00:00Z".parse().unwrap(),
            metric: "roc_auc".into(),
            window: "1d".parse().unwrap(),
            value: Some(0.61),
            baseline: Some(0.7),
            p_value: Some(0.001),
            samples: (410, Some(8800)),
            subject: "s".into(),
            message_id: None,
        };
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["samples"], serde_json::json!([410, 8800]));
        assert_eq!(json["at"], "2023-06-13T00:00:00Z");
    }
}
