//! The alert state machine of one monitor on one model version.
//!
//! Each evaluation is keyed by its window end (the event time rounded down to the hour), so a
//! second run in the same hour, or a re-run of the same tick, is not counted again. A monitor
//! fires after `consecutive` breaching evaluations in a row and resolves after `consecutive`
//! clear ones. While firing it notifies again only when the severity rises. After a resolution,
//! `cooldown` must pass before it fires again. Breaches during the cooldown keep counting, so a
//! monitor still breaching when the cooldown ends fires at once.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::time::Duration;

/// The severity of a breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Past the rule's limit.
    Warning,
    /// Past the limit by at least twice its margin (see [`crate::alert::evaluate`]).
    Critical,
}

impl Severity {
    /// Returns the lower-case name used in messages and attributes.
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A monitor's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The last evaluation met no condition, or too few have to fire.
    #[default]
    Ok,
    /// Breaching, but not yet `consecutive` times in a row, or held back by the cooldown.
    Breaching,
    /// Fired and not yet resolved.
    Firing,
}

impl Status {
    /// Returns the lower-case name used in the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Breaching => "breaching",
            Status::Firing => "firing",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ok" => Some(Status::Ok),
            "breaching" => Some(Status::Breaching),
            "firing" => Some(Status::Firing),
            _ => None,
        }
    }
}

/// A change of state that sends a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The monitor started firing.
    Fired,
    /// The monitor was firing and its severity rose.
    Escalated,
    /// The monitor stopped firing.
    Resolved,
}

impl Transition {
    /// Returns the lower-case name used in messages and attributes.
    pub fn as_str(&self) -> &'static str {
        match self {
            Transition::Fired => "fired",
            Transition::Escalated => "escalated",
            Transition::Resolved => "resolved",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "fired" => Some(Transition::Fired),
            "escalated" => Some(Transition::Escalated),
            "resolved" => Some(Transition::Resolved),
            _ => None,
        }
    }

    /// Returns the alert state the message announces: `firing` or `resolved`.
    pub fn alert_state(&self) -> &'static str {
        match self {
            Transition::Fired | Transition::Escalated => "firing",
            Transition::Resolved => "resolved",
        }
    }
}

/// The result of one evaluation, as input to the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The rule's condition holds, at this severity.
    Breach(Severity),
    /// The rule's condition does not hold.
    Clear,
}

/// The stored state of one monitor on one model version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorState {
    /// The monitor's status.
    pub status: Status,
    /// While firing, the highest severity notified so far.
    pub severity: Option<Severity>,
    /// While firing, the window end of the evaluation that fired it.
    pub since: Option<DateTime<Utc>>,
    /// Breaching evaluations in a row.
    pub breach_streak: u32,
    /// While firing, clear evaluations in a row.
    pub clear_streak: u32,
    /// Window end of the last evaluation counted; evaluations at or before it are ignored.
    pub last_end: Option<DateTime<Utc>>,
    /// Window end of the evaluation that last resolved the monitor; the cooldown runs from here.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// The new state after one evaluation, and the notification it calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The state to store.
    pub state: MonitorState,
    /// The notification to send, when the change is one that is announced.
    pub transition: Option<Transition>,
    /// True when the monitor would have fired but the cooldown held it back.
    pub held_by_cooldown: bool,
}

/// The evaluations in a row that fire or resolve a monitor, when its rule sets none.
pub const DEFAULT_CONSECUTIVE: u32 = 2;

/// The shortest time between a resolution and the next firing, when the rule sets none.
pub const DEFAULT_COOLDOWN_SECS: i64 = 6 * 3_600;

/// Applies the evaluation at window end `end` to `state`.
///
/// Returns `None` when an evaluation at `end` or later was already counted, so the caller
/// stores nothing and sends nothing. `consecutive` below 1 counts as 1.
pub fn step(
    state: &MonitorState,
    signal: Signal,
    end: DateTime<Utc>,
    consecutive: u32,
    cooldown: Duration,
) -> Option<Step> {
    if state.last_end.is_some_and(|last| end <= last) {
        return None;
    }
    let consecutive = consecutive.max(1);
    let mut next = state.clone();
    next.last_end = Some(end);
    let mut transition = None;
    let mut held_by_cooldown = false;

    match (state.status, signal) {
        (Status::Firing, Signal::Breach(severity)) => {
            next.clear_streak = 0;
            next.breach_streak = state.breach_streak.saturating_add(1);
            if state.severity.is_none_or(|notified| severity > notified) {
                next.severity = Some(severity);
                transition = Some(Transition::Escalated);
            }
        }
        (Status::Firing, Signal::Clear) => {
            next.breach_streak = 0;
            next.clear_streak = state.clear_streak.saturating_add(1);
            if next.clear_streak >= consecutive {
                next.status = Status::Ok;
                next.severity = None;
                next.since = None;
                next.clear_streak = 0;
                next.resolved_at = Some(end);
                transition = Some(Transition::Resolved);
            }
        }
        (Status::Ok | Status::Breaching, Signal::Breach(severity)) => {
            next.breach_streak = state.breach_streak.saturating_add(1);
            next.status = Status::Breaching;
            if next.breach_streak >= consecutive {
                let cooling = state
                    .resolved_at
                    .is_some_and(|resolved| end < resolved + cooldown.delta());
                if cooling {
                    held_by_cooldown = true;
                } else {
                    next.status = Status::Firing;
                    next.severity = Some(severity);
                    next.since = Some(end);
                    next.clear_streak = 0;
                    transition = Some(Transition::Fired);
                }
            }
        }
        (Status::Ok | Status::Breaching, Signal::Clear) => {
            next.status = Status::Ok;
            next.breach_streak = 0;
        }
    }

    Some(Step {
        state: next,
        transition,
        held_by_cooldown,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn hour(n: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(19_000) + TimeDelta::hours(n)
    }

    fn six_hours() -> Duration {
        Duration::from_secs(DEFAULT_COOLDOWN_SECS)
    }

    /// Runs `signals` at hours 0, 1, 2, ... and returns the final state and the transitions.
    fn run(signals: &[Signal], consecutive: u32) -> (MonitorState, Vec<(i64, Transition)>) {
        let mut state = MonitorState::default();
        let mut sent = Vec::new();
        for (i, signal) in signals.iter().enumerate() {
            let step = step(&state, *signal, hour(i as i64), consecutive, six_hours()).unwrap();
            if let Some(t) = step.transition {
                sent.push((i as i64, t));
            }
            state = step.state;
        }
        (state, sent)
    }

    const W: Signal = Signal::Breach(Severity::Warning);
    const C: Signal = Signal::Breach(Severity::Critical);
    const OK: Signal = Signal::Clear;

    #[test]
    fn step_fires_after_consecutive_breaches() {
        let (state, sent) = run(&[W, W], 2);
        assert_eq!(sent, vec![(1, Transition::Fired)]);
        assert_eq!(state.status, Status::Firing);
        assert_eq!(state.since, Some(hour(1)));
    }

    #[test]
    fn step_single_breach_only_breaches() {
        let (state, sent) = run(&[W], 2);
        assert!(sent.is_empty());
        assert_eq!(state.status, Status::Breaching);
    }

    #[test]
    fn step_interrupted_breaches_do_not_fire() {
        let (state, sent) = run(&[W, OK, W, OK], 2);
        assert!(sent.is_empty());
        assert_eq!(state.status, Status::Ok);
    }

    #[test]
    fn step_firing_sends_nothing_at_same_severity() {
        let (_, sent) = run(&[W, W, W, W, W], 2);
        assert_eq!(sent, vec![(1, Transition::Fired)]);
    }

    #[test]
    fn step_severity_rise_escalates_once() {
        let (state, sent) = run(&[W, W, C, C, W, C], 2);
        assert_eq!(sent, vec![(1, Transition::Fired), (2, Transition::Escalated)]);
        assert_eq!(state.severity, Some(Severity::Critical));
    }

    #[test]
    fn step_fires_at_latest_severity() {
        let (state, sent) = run(&[W, C], 2);
        assert_eq!(sent, vec![(1, Transition::Fired)]);
        assert_eq!(state.severity, Some(Severity::Critical));
    }

    #[test]
    fn step_resolves_after_consecutive_clears() {
        let (state, sent) = run(&[W, W, OK, OK], 2);
        assert_eq!(sent, vec![(1, Transition::Fired), (3, Transition::Resolved)]);
        assert_eq!(state.status, Status::Ok);
        assert_eq!(state.resolved_at, Some(hour(3)));
    }

    #[test]
    fn step_breach_between_clears_delays_resolution() {
        let (state, sent) = run(&[W, W, OK, W, OK], 2);
        assert_eq!(sent, vec![(1, Transition::Fired)]);
        assert_eq!(state.status, Status::Firing);
    }

    #[test]
    fn step_cooldown_holds_new_firing() {
        // Resolved at hour 3; breaches at 4 and 5 are within the 6 h cooldown.
        let (state, sent) = run(&[W, W, OK, OK, W, W], 2);
        assert_eq!(sent, vec![(1, Transition::Fired), (3, Transition::Resolved)]);
        assert_eq!(state.status, Status::Breaching);
    }

    #[test]
    fn step_fires_when_cooldown_ends() {
        // Resolved at hour 3, so the cooldown ends at hour 9.
        let signals = [W, W, OK, OK, W, W, W, W, W, W];
        let (_, sent) = run(&signals, 2);
        assert_eq!(sent.last(), Some(&(9, Transition::Fired)));
    }

    #[test]
    fn step_reports_cooldown_hold() {
        let mut state = MonitorState {
            resolved_at: Some(hour(0)),
            breach_streak: 1,
            status: Status::Breaching,
            last_end: Some(hour(1)),
            ..MonitorState::default()
        };
        let held = step(&state, W, hour(2), 2, six_hours()).unwrap();
        assert!(held.held_by_cooldown);
        state.resolved_at = None;
        let fired = step(&state, W, hour(2), 2, six_hours()).unwrap();
        assert!(!fired.held_by_cooldown);
    }

    #[test]
    fn step_same_hour_is_not_counted_twice() {
        let first = step(&MonitorState::default(), W, hour(0), 2, six_hours()).unwrap();
        assert!(step(&first.state, W, hour(0), 2, six_hours()).is_none());
    }

    #[test]
    fn step_older_evaluation_is_ignored() {
        let first = step(&MonitorState::default(), W, hour(5), 2, six_hours()).unwrap();
        assert!(step(&first.state, W, hour(4), 2, six_hours()).is_none());
    }

    #[test]
    fn step_consecutive_one_fires_at_once() {
        let (_, sent) = run(&[W, OK], 1);
        assert_eq!(sent, vec![(0, Transition::Fired), (1, Transition::Resolved)]);
    }

    #[test]
    fn step_consecutive_zero_counts_as_one() {
        let (_, sent) = run(&[W], 0);
        assert_eq!(sent, vec![(0, Transition::Fired)]);
    }
}
