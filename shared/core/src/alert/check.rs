//! The scheduled degradation check: every rule of every model version, evaluated once per hour
//! of event time, with notifications sent exactly on changes of state.
//!
//! Sending protocol for one monitor on one version:
//!
//! 1. Read the state (strongly consistent) with its revision.
//! 2. If it holds a pending notification whose lease has run out, claim it with a conditional
//!    write (new lease, next revision), publish it, log it, and clear it. A live lease means
//!    another run is sending it, so this run leaves the monitor alone.
//! 3. Evaluate the rule and step the state machine. When the step announces a transition,
//!    render the message and store the new state together with the pending notification in one
//!    conditional write on the revision. Of two runs at the same moment only one such write
//!    succeeds; the other backs off and sends nothing.
//! 4. Publish to SNS. On success, append the alert to the log and clear the pending
//!    notification (another conditional write). On failure, release the lease and keep it
//!    pending; the next run retries it. A notification is recorded as sent only after SNS
//!    accepted it.
//!
//! Delivery is at least once: a run that crashes after SNS accepted the message but before
//! clearing it leaves it pending, and a run after the lease ([`LEASE_SECS`]) sends it again.
//! The log keeps one entry for it either way, because its key is the evaluation's time, monitor
//! and version.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::{stream, StreamExt};
use serde::Serialize;
use tracing::{debug, info, warn};

use crate::{
    alert::{
        evaluate::{evaluate, Evaluation, Outcome},
        message::{render, AlertContext, HISTORY_LINES},
        report::AlertRecord,
        rule::{parse_default_checks, Check, Condition},
        sns::{Publisher, SnsPublisher},
        source::{CheckSource, Span, VersionSpan, WindowValues},
        state::{step, Severity, Signal, Status, Transition},
        store::{AlertError, AlertStore, Pending, SaveResult, StoredState},
        stored::StoredSource,
    },
    config::Config,
    store::Store,
    time::floor_hour,
};

/// How many models one run checks at the same time.
pub const MODEL_CONCURRENCY: usize = 4;

/// How long a run may hold a claimed notification before another run may send it, in seconds.
/// It is longer than the function's timeout, so a live run is never overtaken.
pub const LEASE_SECS: i64 = 300;

/// A version is checked while its latest prediction is at most this many days before the
/// evaluation; older versions count as retired and their states stay as they were.
pub const ACTIVE_VERSION_DAYS: i64 = 30;

/// What a check run needs: its reads, the state store, the publisher and a wall clock.
#[derive(Debug, Clone)]
pub struct CheckDeps<S, A, P> {
    /// Models, versions, rules and metric values.
    pub source: S,
    /// Monitor states and the alert log.
    pub store: A,
    /// Where alerts go.
    pub publisher: P,
    /// The wall clock, used only for notification leases; evaluation uses the event time.
    pub clock: fn() -> DateTime<Utc>,
}

/// The dependencies of a run against AWS or the emulator.
pub type AwsCheckDeps = CheckDeps<StoredSource, Store, SnsPublisher>;

impl AwsCheckDeps {
    /// Builds the dependencies of a deployed or local run: inputs and monitor states in `store`,
    /// alerts to the SNS topic `topic_arn`, and the system clock for leases.
    pub fn aws(store: Store, sns: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            source: StoredSource::new(store.clone()),
            store,
            publisher: SnsPublisher::new(sns, topic_arn),
            clock: Utc::now,
        }
    }
}

/// What one run did, for its log line and its return value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckSummary {
    /// The window end the run evaluated at.
    pub at: Option<DateTime<Utc>>,
    /// Models checked without a model-level failure.
    pub models: usize,
    /// Rule evaluations that reached a conclusion.
    pub evaluated: usize,
    /// Rule evaluations skipped (too few samples, undefined metric, missing baseline).
    pub skipped: usize,
    /// Evaluations already counted by an earlier run in the same hour.
    pub repeated: usize,
    /// Firings held back by a cooldown.
    pub held_by_cooldown: usize,
    /// Monitors that started firing.
    pub fired: usize,
    /// Monitors whose severity rose.
    pub escalated: usize,
    /// Monitors that resolved.
    pub resolved: usize,
    /// Pending notifications from earlier runs sent by this one.
    pub retried: usize,
    /// Monitors another run was working on at the same time.
    pub contended: usize,
    /// Monitors that failed (a failed publish, read or write); the next run retries them.
    pub failures: usize,
    /// Models that could not be checked at all.
    pub failed_models: Vec<String>,
}

impl CheckSummary {
    fn add(&mut self, other: &CheckSummary) {
        self.models += other.models;
        self.evaluated += other.evaluated;
        self.skipped += other.skipped;
        self.repeated += other.repeated;
        self.held_by_cooldown += other.held_by_cooldown;
        self.fired += other.fired;
        self.escalated += other.escalated;
        self.resolved += other.resolved;
        self.retried += other.retried;
        self.contended += other.contended;
        self.failures += other.failures;
        self.failed_models.extend(other.failed_models.iter().cloned());
    }

    fn count_sent(&mut self, transition: Transition) {
        match transition {
            Transition::Fired => self.fired += 1,
            Transition::Escalated => self.escalated += 1,
            Transition::Resolved => self.resolved += 1,
        }
    }
}

/// Checks every monitor of every model at event time `now`.
///
/// Models are checked [`MODEL_CONCURRENCY`] at a time. A failure in one model or monitor is
/// logged and counted, and the others go on. Models without rules of their own get the rules
/// in `config.default_monitors`.
///
/// # Errors
/// Listing the models fails, or `MPT_DEFAULT_MONITORS` holds invalid rules.
pub async fn run_check<S, A, P>(
    deps: &CheckDeps<S, A, P>,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<CheckSummary, AlertError>
where
    S: CheckSource,
    A: AlertStore,
    P: Publisher,
{
    let defaults = match &config.default_monitors {
        Some(json) => parse_default_checks(json).map_err(AlertError::DefaultMonitors)?,
        None => Vec::new(),
    };
    let models = deps.source.models().await?;
    info!(models = models.len(), at = %floor_hour(now), "degradation check started");

    let mut summary = CheckSummary {
        at: Some(floor_hour(now)),
        ..CheckSummary::default()
    };
    // Each model is moved into its own future: borrowed items would make the stream's futures
    // generic over a lifetime, and the compiler could then not prove them `Send`.
    let defaults = &defaults;
    let mut results = stream::iter(models)
        .map(|model| async move {
            let result = check_model(deps, config, defaults, &model, now).await;
            (model, result)
        })
        .buffer_unordered(MODEL_CONCURRENCY);
    while let Some((model, result)) = results.next().await {
        match result {
            Ok(model_summary) => summary.add(&model_summary),
            Err(error) => {
                warn!(model = %model, error = %error, "checking the model failed; the next run retries it");
                summary.failed_models.push(model);
            }
        }
    }

    info!(
        models = summary.models,
        evaluated = summary.evaluated,
        skipped = summary.skipped,
        fired = summary.fired,
        escalated = summary.escalated,
        resolved = summary.resolved,
        retried = summary.retried,
        failures = summary.failures,
        failed_models = summary.failed_models.len(),
        "degradation check finished"
    );
    Ok(summary)
}

/// Checks every rule of one model on each of its active versions.
async fn check_model<S, A, P>(
    deps: &CheckDeps<S, A, P>,
    config: &Config,
    defaults: &[Check],
    model: &str,
    now: DateTime<Utc>,
) -> Result<CheckSummary, AlertError>
where
    S: CheckSource,
    A: AlertStore,
    P: Publisher,
{
    let checks = match deps.source.checks(model).await? {
        Some(checks) => checks,
        None => defaults.to_vec(),
    };
    let end = floor_hour(now);
    let versions: Vec<VersionSpan> = deps
        .source
        .versions(model)
        .await?
        .into_iter()
        .filter(|v| v.first < end && v.last >= end - TimeDelta::days(ACTIVE_VERSION_DAYS))
        .collect();

    let mut summary = CheckSummary {
        models: 1,
        ..CheckSummary::default()
    };
    let mut windows = WindowCache::default();
    for check in &checks {
        for version in &versions {
            let version = version.version.as_str();
            let (_, baseline_version) = check.baseline_span(now);
            if baseline_version == Some(version) {
                continue;
            }
            let monitor = MonitorKey {
                model,
                monitor: &check.name,
                version,
            };
            match check_monitor(deps, config, &mut windows, &monitor, check, now).await {
                Ok(result) => summary.add(&result),
                Err(error) => {
                    warn!(
                        model,
                        version,
                        monitor = %check.name,
                        error = %error,
                        "checking the monitor failed; the next run retries it"
                    );
                    summary.failures += 1;
                }
            }
        }
    }
    info!(
        model,
        versions = versions.len(),
        rules = checks.len(),
        evaluated = summary.evaluated,
        "checked model"
    );
    Ok(summary)
}

/// Identifies one monitor on one version.
struct MonitorKey<'a> {
    model: &'a str,
    monitor: &'a str,
    version: &'a str,
}

/// Window values already read in this run, since rules often share windows.
#[derive(Default)]
struct WindowCache {
    values: HashMap<(String, Span), WindowValues>,
}

impl WindowCache {
    async fn get<S: CheckSource>(
        &mut self,
        source: &S,
        model: &str,
        version: &str,
        span: Span,
    ) -> Result<WindowValues, AlertError> {
        let key = (version.to_string(), span);
        if let Some(values) = self.values.get(&key) {
            return Ok(values.clone());
        }
        let values = source.window(model, version, span).await?;
        self.values.insert(key, values.clone());
        Ok(values)
    }
}

/// Sends any notification left pending, then evaluates the rule and stores the step.
async fn check_monitor<S, A, P>(
    deps: &CheckDeps<S, A, P>,
    config: &Config,
    windows: &mut WindowCache,
    key: &MonitorKey<'_>,
    check: &Check,
    now: DateTime<Utc>,
) -> Result<CheckSummary, AlertError>
where
    S: CheckSource,
    A: AlertStore,
    P: Publisher,
{
    let mut summary = CheckSummary::default();
    let mut stored = deps
        .store
        .load(key.model, key.monitor, key.version)
        .await?
        .unwrap_or_default();

    if let Some(pending) = &stored.pending {
        let wall = (deps.clock)().timestamp();
        if pending.lease_until > wall {
            summary.contended += 1;
            return Ok(summary);
        }
        let mut claimed = stored.clone();
        claimed.revision += 1;
        if let Some(pending) = claimed.pending.as_mut() {
            pending.lease_until = wall + LEASE_SECS;
            pending.attempts += 1;
        }
        if deps.store.save(key.model, key.monitor, key.version, &claimed).await? == SaveResult::Conflict {
            summary.contended += 1;
            return Ok(summary);
        }
        let transition = claimed.pending.as_ref().map(|p| p.record.transition);
        match deliver(deps, key, claimed).await? {
            Some(cleared) => stored = cleared,
            None => {
                summary.contended += 1;
                return Ok(summary);
            }
        }
        summary.retried += 1;
        if let Some(transition) = transition {
            summary.count_sent(transition);
        }
    }

    let evaluation = evaluate_check(deps, windows, key, check, now).await?;
    let signal = match evaluation.outcome.signal() {
        Some(signal) => signal,
        None => {
            if let Outcome::Skipped(reason) = &evaluation.outcome {
                debug!(model = key.model, version = key.version, monitor = key.monitor, reason = %reason, "rule not evaluated");
            }
            summary.skipped += 1;
            return Ok(summary);
        }
    };
    let Some(next) = step(&stored.state, signal, evaluation.end, check.consecutive, check.cooldown) else {
        summary.repeated += 1;
        return Ok(summary);
    };
    summary.evaluated += 1;
    // A quiet monitor stays quiet, so there is nothing to store.
    let quiet = stored.state.status == Status::Ok && stored.state.breach_streak == 0 && signal == Signal::Clear;
    if quiet {
        return Ok(summary);
    }
    if next.held_by_cooldown {
        info!(
            model = key.model,
            version = key.version,
            monitor = key.monitor,
            "firing held back by the cooldown"
        );
        summary.held_by_cooldown += 1;
    }

    let pending = match next.transition {
        Some(transition) => {
            // A resolution announces the severity the monitor had while firing.
            let severity = match transition {
                Transition::Resolved => stored.state.severity,
                Transition::Fired | Transition::Escalated => next.state.severity,
            }
            .unwrap_or(Severity::Warning);
            Some(pending_notification(deps, config, key, check, &evaluation, transition, severity).await)
        }
        None => None,
    };
    let updated = StoredState {
        state: next.state,
        pending,
        revision: stored.revision + 1,
    };
    if deps.store.save(key.model, key.monitor, key.version, &updated).await? == SaveResult::Conflict {
        summary.contended += 1;
        return Ok(summary);
    }
    if let Some(transition) = next.transition {
        if deliver(deps, key, updated).await?.is_none() {
            summary.contended += 1;
            return Ok(summary);
        }
        summary.count_sent(transition);
    }
    Ok(summary)
}

/// Reads the windows a rule needs and evaluates it. The baseline of a threshold-style rule
/// only grades severity, so it is read only on a breach.
async fn evaluate_check<S, A, P>(
    deps: &CheckDeps<S, A, P>,
    windows: &mut WindowCache,
    key: &MonitorKey<'_>,
    check: &Check,
    now: DateTime<Utc>,
) -> Result<Evaluation, AlertError>
where
    S: CheckSource,
{
    let current = windows
        .get(&deps.source, key.model, key.version, check.current_span(now))
        .await?;
    if let Condition::Bound { .. } = check.condition {
        let first = evaluate(check, now, &current, None);
        if !matches!(first.outcome, Outcome::Breach(_)) {
            return Ok(first);
        }
    }
    let (span, baseline_version) = check.baseline_span(now);
    let baseline = windows
        .get(&deps.source, key.model, baseline_version.unwrap_or(key.version), span)
        .await?;
    Ok(evaluate(check, now, &current, Some(&baseline)))
}

/// Renders the message of a transition and wraps it with its log record and a fresh lease.
async fn pending_notification<S, A, P>(
    deps: &CheckDeps<S, A, P>,
    config: &Config,
    key: &MonitorKey<'_>,
    check: &Check,
    evaluation: &Evaluation,
    transition: Transition,
    severity: Severity,
) -> Pending
where
    S: CheckSource,
{
    let history = match deps
        .source
        .history(
            key.model,
            key.version,
            &check.metric,
            check.window,
            evaluation.end,
            HISTORY_LINES,
        )
        .await
    {
        Ok(points) => points,
        Err(error) => {
            warn!(model = key.model, version = key.version, error = %error, "reading the metric history failed; the alert goes out without it");
            Vec::new()
        }
    };
    let message = render(&AlertContext {
        model: key.model,
        version: key.version,
        check,
        evaluation,
        transition,
        severity,
        history: &history,
        dashboard_url: config.dashboard_url.as_deref(),
    });
    let record = AlertRecord {
        monitor: check.name.clone(),
        version: key.version.to_string(),
        state: transition.alert_state().to_string(),
        transition,
        severity,
        at: evaluation.end,
        metric: check.metric.clone(),
        window: check.window,
        value: evaluation.value,
        baseline: evaluation.baseline,
        p_value: evaluation.test.map(|t| t.p_value),
        samples: (evaluation.samples, evaluation.baseline_samples),
        subject: message.subject.clone(),
        message_id: None,
    };
    Pending {
        message,
        record,
        lease_until: (deps.clock)().timestamp() + LEASE_SECS,
        attempts: 1,
    }
}

/// Publishes a claimed notification, logs it and clears it.
///
/// Returns the cleared state, or `None` when another run changed the state in between (its
/// lease ran out mid-send). A failed publish releases the lease and returns the error.
async fn deliver<S, A, P>(
    deps: &CheckDeps<S, A, P>,
    key: &MonitorKey<'_>,
    claimed: StoredState,
) -> Result<Option<StoredState>, AlertError>
where
    A: AlertStore,
    P: Publisher,
{
    let Some(pending) = claimed.pending.clone() else {
        return Ok(Some(claimed));
    };
    match deps.publisher.publish(&pending.message).await {
        Ok(message_id) => {
            let mut record = pending.record.clone();
            record.message_id = Some(message_id);
            deps.store.append(key.model, &record).await?;
            info!(
                model = key.model,
                version = key.version,
                monitor = key.monitor,
                transition = record.transition.as_str(),
                severity = record.severity.as_str(),
                attempts = pending.attempts,
                "alert sent"
            );
            let cleared = StoredState {
                pending: None,
                revision: claimed.revision + 1,
                ..claimed
            };
            match deps.store.save(key.model, key.monitor, key.version, &cleared).await? {
                SaveResult::Saved => Ok(Some(cleared)),
                SaveResult::Conflict => {
                    warn!(
                        model = key.model,
                        version = key.version,
                        monitor = key.monitor,
                        "another run took over the notification while it was being sent; it may go out twice"
                    );
                    Ok(None)
                }
            }
        }
        Err(detail) => {
            let released = StoredState {
                pending: Some(Pending {
                    lease_until: 0,
                    ..pending.clone()
                }),
                revision: claimed.revision + 1,
                ..claimed
            };
            if let Err(error) = deps.store.save(key.model, key.monitor, key.version, &released).await {
                warn!(model = key.model, error = %error, "releasing the notification lease failed; it is retried when the lease runs out");
            }
            Err(AlertError::Publish {
                subject: pending.message.subject,
                detail,
            })
        }
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
