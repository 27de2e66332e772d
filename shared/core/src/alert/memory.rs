//! In-memory implementations of the check's reads, state store and publisher, for unit tests
//! and for driving the check with exact metric values.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex, MutexGuard,
    },
};

use chrono::{DateTime, Utc};

use crate::{
    alert::{
        message::AlertMessage,
        report::{decode_token, encode_token, AlertRecord},
        rule::Check,
        sns::Publisher,
        source::{CheckSource, HistoryPoint, SourceError, Span, VersionSpan, WindowValues},
        store::{AlertError, AlertStore, SaveResult, StoredState},
    },
    time::Window,
};

/// Locks a mutex, recovering the data if a panicking test poisoned it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Models, rules and window values held in memory.
///
/// A window read returns the values set for exactly that version and span, or empty values
/// (no predictions) when none were set.
#[derive(Debug, Default)]
pub struct MemorySource {
    models: Mutex<BTreeMap<String, ModelEntry>>,
    windows: Mutex<HashMap<(String, String, Span), WindowValues>>,
    history: Mutex<HashMap<(String, String, String), Vec<HistoryPoint>>>,
    failing: Mutex<Vec<String>>,
    /// Number of window reads served, so tests can check what a run read.
    pub window_reads: AtomicUsize,
}

#[derive(Debug, Default, Clone)]
struct ModelEntry {
    versions: Vec<VersionSpan>,
    checks: Option<Vec<Check>>,
}

impl MemorySource {
    /// Adds a version of `model` with predictions from `first` to `last`.
    pub fn add_version(&self, model: &str, version: &str, first: DateTime<Utc>, last: DateTime<Utc>) {
        let mut models = lock(&self.models);
        let entry = models.entry(model.to_string()).or_default();
        entry.versions.retain(|v| v.version != version);
        entry.versions.push(VersionSpan {
            version: version.to_string(),
            first,
            last,
        });
    }

    /// Sets a model's own rules; without them the configured defaults apply.
    pub fn set_checks(&self, model: &str, checks: Vec<Check>) {
        lock(&self.models).entry(model.to_string()).or_default().checks = Some(checks);
    }

    /// Sets the values a read of `version` over `span` returns.
    pub fn set_window(&self, model: &str, version: &str, span: Span, values: WindowValues) {
        lock(&self.windows).insert((model.to_string(), version.to_string(), span), values);
    }

    /// Makes every version read of `model` fail, as a storage error would.
    pub fn fail_model(&self, model: &str) {
        lock(&self.failing).push(model.to_string());
    }

    /// Sets the stored history of `metric` for a version, oldest first.
    pub fn set_history(&self, model: &str, version: &str, metric: &str, points: Vec<HistoryPoint>) {
        lock(&self.history).insert((model.to_string(), version.to_string(), metric.to_string()), points);
    }
}

impl CheckSource for MemorySource {
    async fn models(&self) -> Result<Vec<String>, SourceError> {
        Ok(lock(&self.models).keys().cloned().collect())
    }

    async fn versions(&self, model: &str) -> Result<Vec<VersionSpan>, SourceError> {
        if lock(&self.failing).iter().any(|m| m == model) {
            return Err(SourceError {
                input: format!("the versions of {model}"),
                detail: "injected read failure".to_string(),
            });
        }
        Ok(lock(&self.models)
            .get(model)
            .map(|m| m.versions.clone())
            .unwrap_or_default())
    }

    async fn checks(&self, model: &str) -> Result<Option<Vec<Check>>, SourceError> {
        Ok(lock(&self.models).get(model).and_then(|m| m.checks.clone()))
    }

    async fn window(&self, model: &str, version: &str, span: Span) -> Result<WindowValues, SourceError> {
        self.window_reads.fetch_add(1, Ordering::Relaxed);
        Ok(lock(&self.windows)
            .get(&(model.to_string(), version.to_string(), span))
            .cloned()
            .unwrap_or_default())
    }

    async fn history(
        &self,
        model: &str,
        version: &str,
        metric: &str,
        _window: Window,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<HistoryPoint>, SourceError> {
        let history = lock(&self.history);
        let points: Vec<HistoryPoint> = history
            .get(&(model.to_string(), version.to_string(), metric.to_string()))
            .map(|points| points.iter().filter(|p| p.end <= until).cloned().collect())
            .unwrap_or_default();
        Ok(points[points.len().saturating_sub(limit)..].to_vec())
    }
}

/// Monitor states and the alert log held in memory, with the same conditional-write rules as
/// the DynamoDB store.
#[derive(Debug, Default)]
pub struct MemoryAlertStore {
    states: Mutex<BTreeMap<(String, String, String), StoredState>>,
    log: Mutex<BTreeMap<(String, String), AlertRecord>>,
}

impl MemoryAlertStore {
    /// Returns every logged alert of `model`, oldest first.
    pub fn logged(&self, model: &str) -> Vec<AlertRecord> {
        lock(&self.log)
            .iter()
            .filter(|((m, _), _)| m == model)
            .map(|(_, record)| record.clone())
            .collect()
    }
}

fn log_key(record: &AlertRecord) -> String {
    crate::store::alerts::record_sk(record)
}

impl AlertStore for MemoryAlertStore {
    async fn load(&self, model: &str, monitor: &str, version: &str) -> Result<Option<StoredState>, AlertError> {
        Ok(lock(&self.states)
            .get(&(model.to_string(), monitor.to_string(), version.to_string()))
            .cloned())
    }

    async fn save(
        &self,
        model: &str,
        monitor: &str,
        version: &str,
        state: &StoredState,
    ) -> Result<SaveResult, AlertError> {
        let mut states = lock(&self.states);
        let key = (model.to_string(), monitor.to_string(), version.to_string());
        let current = states.get(&key).map(|s| s.revision);
        let expected = state.revision.checked_sub(1).filter(|r| *r > 0);
        if current != expected {
            return Ok(SaveResult::Conflict);
        }
        states.insert(key, state.clone());
        Ok(SaveResult::Saved)
    }

    async fn append(&self, model: &str, record: &AlertRecord) -> Result<(), AlertError> {
        lock(&self.log)
            .entry((model.to_string(), log_key(record)))
            .or_insert_with(|| record.clone());
        Ok(())
    }

    async fn states(&self, model: &str) -> Result<Vec<(String, String, StoredState)>, AlertError> {
        Ok(lock(&self.states)
            .iter()
            .filter(|((m, _, _), _)| m == model)
            .map(|((_, monitor, version), state)| (monitor.clone(), version.clone(), state.clone()))
            .collect())
    }

    async fn records(
        &self,
        model: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<AlertRecord>, Option<String>), AlertError> {
        let after = after.map(decode_token).transpose()?;
        let log = lock(&self.log);
        let page: Vec<(&String, &AlertRecord)> = log
            .iter()
            .filter(|((m, key), _)| m == model && after.as_ref().is_none_or(|a| key > a))
            .map(|((_, key), record)| (key, record))
            .take(limit)
            .collect();
        let next = (page.len() == limit)
            .then(|| page.last().map(|(key, _)| encode_token(key)))
            .flatten();
        Ok((page.into_iter().map(|(_, r)| r.clone()).collect(), next))
    }
}

/// A publisher that keeps every message, and fails the first `failures` publishes.
#[derive(Debug, Default)]
pub struct MemoryPublisher {
    sent: Mutex<Vec<AlertMessage>>,
    failures: AtomicUsize,
}

impl MemoryPublisher {
    /// Makes the next `count` publishes fail.
    pub fn fail_next(&self, count: usize) {
        self.failures.store(count, Ordering::SeqCst);
    }

    /// Returns every message published so far.
    pub fn sent(&self) -> Vec<AlertMessage> {
        lock(&self.sent).clone()
    }
}

impl Publisher for MemoryPublisher {
    async fn publish(&self, message: &AlertMessage) -> Result<String, String> {
        let failing = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err("injected publish failure".to_string());
        }
        let mut sent = lock(&self.sent);
        sent.push(message.clone());
        Ok(format!("memory-{}", sent.len()))
    }
}
