//! Runs of the check against the in-memory source, store and publisher.

use chrono::TimeDelta;

use super::*;
use crate::alert::{
    memory::{MemoryAlertStore, MemoryPublisher, MemorySource},
    rule::BaselineSpec,
};

const MODEL: &str = "nba-game-predictor";
const VERSION: &str = "raptor";

type Deps = CheckDeps<MemorySource, MemoryAlertStore, MemoryPublisher>;

fn start() -> DateTime<Utc> {
    "2023-06-13T00:05:00Z".parse().unwrap()
}

fn hour(n: i64) -> DateTime<Utc> {
    start() + TimeDelta::hours(n)
}

fn wall_clock() -> DateTime<Utc> {
    "2030-01-01T00:00:00Z".parse().unwrap()
}

fn config() -> Config {
    Config::from_lookup(|_| None).unwrap()
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

fn deps_with(checks: Vec<Check>) -> Deps {
    let source = MemorySource::default();
    source.add_version(MODEL, VERSION, hour(-24 * 60), hour(48));
    source.set_checks(MODEL, checks);
    CheckDeps {
        source,
        store: MemoryAlertStore::default(),
        publisher: MemoryPublisher::default(),
        clock: wall_clock,
    }
}

fn binary(auc: f64, labelled: u64) -> WindowValues {
    let quarter = labelled / 4;
    let mut values = WindowValues::from_confusion(quarter, quarter, quarter, quarter);
    values.metrics.insert("roc_auc".into(), Some(auc));
    values
}

/// Sets the current window of `check` at `now` to `current` and its baseline to 0.70 on 8,800.
fn set_windows(deps: &Deps, check: &Check, now: DateTime<Utc>, current: WindowValues) {
    deps.source.set_window(MODEL, VERSION, check.current_span(now), current);
    let (span, _) = check.baseline_span(now);
    deps.source.set_window(MODEL, VERSION, span, binary(0.70, 8800));
}

async fn tick(deps: &Deps, now: DateTime<Utc>) -> CheckSummary {
    run_check(deps, &config(), now).await.unwrap()
}

/// Runs hourly ticks from hour `from` with the given current AUCs on 800 labelled predictions.
async fn ticks(deps: &Deps, from: i64, aucs: &[f64]) -> CheckSummary {
    let mut total = CheckSummary::default();
    for (i, auc) in aucs.iter().enumerate() {
        let now = hour(from + i as i64);
        set_windows(deps, &auc_drop(), now, binary(*auc, 800));
        total.add(&tick(deps, now).await);
    }
    total
}

fn subjects(deps: &Deps) -> Vec<String> {
    deps.publisher.sent().into_iter().map(|m| m.subject).collect()
}

#[tokio::test]
async fn check_fires_after_two_breaching_hours() {
    let deps = deps_with(vec![auc_drop()]);
    let summary = ticks(&deps, 0, &[0.55, 0.55]).await;
    assert_eq!(summary.fired, 1);
    assert_eq!(
        subjects(&deps),
        vec!["[CRITICAL] nba-game-predictor raptor roc_auc 0.55 (-21.4% vs 30d 0.70)"]
    );
}

#[tokio::test]
async fn check_logs_sent_alert_with_message_id() {
    let deps = deps_with(vec![auc_drop()]);
    ticks(&deps, 0, &[0.55, 0.55]).await;
    let logged = deps.store.logged(MODEL);
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].message_id.as_deref(), Some("memory-1"));
    assert_eq!(logged[0].samples, (800, Some(8800)));
}

#[tokio::test]
async fn check_one_breach_sends_nothing() {
    let deps = deps_with(vec![auc_drop()]);
    ticks(&deps, 0, &[0.55]).await;
    assert!(deps.publisher.sent().is_empty());
}

#[tokio::test]
async fn check_rerun_of_same_tick_sends_nothing() {
    let deps = deps_with(vec![auc_drop()]);
    ticks(&deps, 0, &[0.55, 0.55]).await;
    let again = tick(&deps, hour(1)).await;
    assert_eq!(again.repeated, 1);
    assert_eq!(deps.publisher.sent().len(), 1);
}

#[tokio::test]
async fn check_ticks_within_an_hour_count_once() {
    let deps = deps_with(vec![auc_drop()]);
    let now = hour(0);
    set_windows(&deps, &auc_drop(), now, binary(0.55, 800));
    tick(&deps, now).await;
    tick(&deps, now + TimeDelta::minutes(5)).await;
    tick(&deps, now + TimeDelta::minutes(50)).await;
    assert!(deps.publisher.sent().is_empty());
}

#[tokio::test]
async fn check_too_few_samples_leaves_state_alone() {
    let deps = deps_with(vec![auc_drop()]);
    let now = hour(0);
    set_windows(&deps, &auc_drop(), now, binary(0.40, 100));
    let summary = tick(&deps, now).await;
    assert_eq!(summary.skipped, 1);
    assert_eq!(deps.store.load(MODEL, "auc-drop", VERSION).await.unwrap(), None);
}

#[tokio::test]
async fn check_insignificant_drop_sends_nothing() {
    let mut check = auc_drop();
    check.min_samples = 10;
    let deps = deps_with(vec![check.clone()]);
    for n in 0..3 {
        let now = hour(n);
        deps.source
            .set_window(MODEL, VERSION, check.current_span(now), binary(0.60, 24));
        let (span, _) = check.baseline_span(now);
        deps.source.set_window(MODEL, VERSION, span, binary(0.70, 40));
        tick(&deps, now).await;
    }
    assert!(deps.publisher.sent().is_empty());
}

#[tokio::test]
async fn check_escalates_once_when_severity_rises() {
    let deps = deps_with(vec![auc_drop()]);
    ticks(&deps, 0, &[0.64, 0.64, 0.55, 0.55, 0.64, 0.55]).await;
    let sent = subjects(&deps);
    assert_eq!(sent.len(), 2);
    assert!(sent[0].starts_with("[WARNING]"), "{}", sent[0]);
    assert!(sent[1].starts_with("[ESCALATED TO CRITICAL]"), "{}", sent[1]);
}

#[tokio::test]
async fn check_resolves_after_two_clear_hours() {
    let deps = deps_with(vec![auc_drop()]);
    let summary = ticks(&deps, 0, &[0.55, 0.55, 0.69, 0.69]).await;
    assert_eq!(summary.resolved, 1);
    let sent = deps.publisher.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].attributes["state"], "resolved");
    assert_eq!(sent[1].attributes["severity"], "critical");
}

#[tokio::test]
async fn check_cooldown_holds_refiring() {
    let deps = deps_with(vec![auc_drop()]);
    // Fires at hour 1, resolves at hour 3, breaches again at hours 4 and 5 (cooldown until 9).
    let summary = ticks(&deps, 0, &[0.55, 0.55, 0.69, 0.69, 0.55, 0.55]).await;
    assert_eq!(summary.held_by_cooldown, 1);
    assert_eq!(deps.publisher.sent().len(), 2);
}

#[tokio::test]
async fn check_refires_after_cooldown() {
    let deps = deps_with(vec![auc_drop()]);
    ticks(&deps, 0, &[0.55, 0.55, 0.69, 0.69, 0.55, 0.55]).await;
    ticks(&deps, 9, &[0.55]).await;
    assert_eq!(deps.publisher.sent().len(), 3);
}

#[tokio::test]
async fn check_failed_publish_stays_pending_and_is_retried() {
    let deps = deps_with(vec![auc_drop()]);
    deps.publisher.fail_next(1);
    let first = ticks(&deps, 0, &[0.55, 0.55]).await;
    assert_eq!(first.failures, 1);
    assert!(deps.store.logged(MODEL).is_empty());
    let stored = deps.store.load(MODEL, "auc-drop", VERSION).await.unwrap().unwrap();
    assert!(stored.pending.is_some());

    let retry = tick(&deps, hour(1)).await;
    assert_eq!(retry.retried, 1);
    assert_eq!(deps.publisher.sent().len(), 1);
    assert_eq!(deps.store.logged(MODEL).len(), 1);
}

#[tokio::test]
async fn check_leaves_notification_under_live_lease() {
    let deps = deps_with(vec![auc_drop()]);
    deps.publisher.fail_next(1);
    ticks(&deps, 0, &[0.55, 0.55]).await;
    // Another run claims the pending notification and is still sending it.
    let mut stored = deps.store.load(MODEL, "auc-drop", VERSION).await.unwrap().unwrap();
    stored.revision += 1;
    if let Some(pending) = stored.pending.as_mut() {
        pending.lease_until = wall_clock().timestamp() + 60;
    }
    deps.store.save(MODEL, "auc-drop", VERSION, &stored).await.unwrap();

    let summary = tick(&deps, hour(2)).await;
    assert_eq!(summary.contended, 1);
    assert!(deps.publisher.sent().is_empty());
}

#[tokio::test]
async fn check_concurrent_runs_send_once() {
    let deps = deps_with(vec![auc_drop()]);
    ticks(&deps, 0, &[0.55]).await;
    let now = hour(1);
    set_windows(&deps, &auc_drop(), now, binary(0.55, 800));
    let (a, b) = tokio::join!(tick(&deps, now), tick(&deps, now));
    assert_eq!(a.fired + b.fired, 1);
    assert_eq!(deps.publisher.sent().len(), 1);
}

#[tokio::test]
async fn check_version_baseline_skips_that_version() {
    let check = Check::relative_drop(
        "vs-elo",
        "roc_auc",
        "7d".parse().unwrap(),
        BaselineSpec::Version("elo".into()),
        0.05,
    );
    let deps = deps_with(vec![check]);
    deps.source.add_version(MODEL, "elo", hour(-24 * 60), hour(48));
    let summary = tick(&deps, hour(0)).await;
    // Only raptor is evaluated (and skipped for lack of samples); elo is its own baseline.
    assert_eq!(summary.skipped, 1);
}

#[tokio::test]
async fn check_retired_version_is_not_checked() {
    let deps = deps_with(vec![auc_drop()]);
    deps.source.add_version(MODEL, "old", hour(-24 * 100), hour(-24 * 40));
    let summary = tick(&deps, hour(0)).await;
    assert_eq!(summary.skipped, 1);
}

#[tokio::test]
async fn check_version_not_started_is_not_checked() {
    let deps = deps_with(vec![auc_drop()]);
    deps.source.add_version(MODEL, "future", hour(5), hour(10));
    let summary = tick(&deps, hour(0)).await;
    assert_eq!(summary.skipped, 1);
}

#[tokio::test]
async fn check_quiet_monitor_writes_nothing() {
    let deps = deps_with(vec![auc_drop()]);
    ticks(&deps, 0, &[0.70, 0.70]).await;
    assert_eq!(deps.store.load(MODEL, "auc-drop", VERSION).await.unwrap(), None);
}

#[tokio::test]
async fn check_reads_shared_windows_once() {
    let mut second = auc_drop();
    second.name = "auc-drop-strict".into();
    second.condition = Condition::RelativeDrop {
        max_drop: 0.02,
        alpha: 0.01,
    };
    let deps = deps_with(vec![auc_drop(), second]);
    set_windows(&deps, &auc_drop(), hour(0), binary(0.69, 800));
    tick(&deps, hour(0)).await;
    assert_eq!(deps.source.window_reads.load(std::sync::atomic::Ordering::Relaxed), 2);
}

#[tokio::test]
async fn check_model_failure_spares_others() {
    let deps = deps_with(vec![auc_drop()]);
    deps.source.add_version("broken", VERSION, hour(-24 * 60), hour(48));
    deps.source.fail_model("broken");
    let summary = ticks(&deps, 0, &[0.55, 0.55]).await;
    assert_eq!(summary.failed_models, vec!["broken".to_string(), "broken".to_string()]);
    assert_eq!(summary.fired, 1);
}

#[tokio::test]
async fn check_default_rules_cover_models_without_rules() {
    let source = MemorySource::default();
    source.add_version(MODEL, VERSION, hour(-24 * 60), hour(48));
    let deps = CheckDeps {
        source,
        store: MemoryAlertStore::default(),
        publisher: MemoryPublisher::default(),
        clock: wall_clock,
    };
    let defaults = r#"{"monitors": [{"name": "silence", "kind": "volume", "window": "1h", "below": 1}]}"#;
    let config = Config::from_lookup(|name| (name == "MPT_DEFAULT_MONITORS").then(|| defaults.to_string())).unwrap();
    run_check(&deps, &config, hour(0)).await.unwrap();
    run_check(&deps, &config, hour(1)).await.unwrap();
    assert_eq!(
        subjects(&deps),
        vec!["[WARNING] nba-game-predictor raptor predictions 0 (floor 1, 1h)"]
    );
}
