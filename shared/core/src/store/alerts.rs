//! Monitor states and the alert log.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | monitor state | `MODEL#{model}` | `STATE#{monitor}#{version}` |
//! | alert log entry | `ALERTS#{model}` | `{at RFC 3339}#{monitor}#{version}` |
//!
//! Neither expires. A state item carries a `revision` number and changes only by a `PutItem`
//! conditioned on it. A pending notification is kept in the state item as JSON, so claiming it
//! and changing the state are one atomic write.

use aws_sdk_dynamodb::types::AttributeValue;
use tracing::{debug, instrument};

use super::{
    item::{int, s, time_value, Item, ItemReader},
    keys,
    retry::with_retry,
    Key, Store, StoreError,
};
use crate::{
    alert::{
        report::{decode_token, encode_token, AlertRecord},
        state::{MonitorState, Severity, Status},
        store::{AlertError, AlertStore, Pending, SaveResult, StoredState},
    },
    time::rfc3339,
};

/// IAM actions this module calls.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"];

/// Returns the sort key of a log entry: the alert's time, monitor and version.
pub fn record_sk(record: &AlertRecord) -> String {
    keys::alert_sk(&rfc3339(record.at), &record.monitor, &record.version)
}

impl Store {
    /// Puts `item` under `condition`; returns false when the condition failed.
    async fn put_if(&self, item: Item, condition: &str, expected: Option<u64>) -> Result<bool, StoreError> {
        let result = with_retry(self.retry, self.read_deadline(), "PutItem", || {
            let request = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression(condition);
            match expected {
                Some(revision) => request.expression_attribute_values(":expected", int(revision as i64)),
                None => request,
            }
            .send()
        })
        .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if error.is_condition_failed() => Ok(false),
            Err(error) => Err(error),
        }
    }
}

impl AlertStore for Store {
    #[instrument(skip(self))]
    async fn load(&self, model: &str, monitor: &str, version: &str) -> Result<Option<StoredState>, AlertError> {
        let key = Key::new(keys::model_pk(model), keys::monitor_state_sk(monitor, version));
        match self.get_item(&key, self.read_deadline()).await? {
            Some(item) => Ok(Some(decode_state(&item)?)),
            None => Ok(None),
        }
    }

    #[instrument(skip(self, state), fields(revision = state.revision))]
    async fn save(
        &self,
        model: &str,
        monitor: &str,
        version: &str,
        state: &StoredState,
    ) -> Result<SaveResult, AlertError> {
        let item = state_item(model, monitor, version, state)?;
        let saved = if state.revision <= 1 {
            self.put_if(item, "attribute_not_exists(pk)", None).await?
        } else {
            self.put_if(item, "revision = :expected", Some(state.revision - 1))
                .await?
        };
        if saved {
            Ok(SaveResult::Saved)
        } else {
            debug!("another run changed the monitor state first");
            Ok(SaveResult::Conflict)
        }
    }

    #[instrument(skip(self, record), fields(monitor = %record.monitor, version = %record.version))]
    async fn append(&self, model: &str, record: &AlertRecord) -> Result<(), AlertError> {
        let pk = keys::alerts_pk(model);
        let sk = record_sk(record);
        let json = serde_json::to_string(record).map_err(|e| StoreError::Corrupt {
            key: format!("{pk}/{sk}"),
            attribute: "record".to_string(),
            detail: e.to_string(),
        })?;
        let item = Item::from([
            ("pk".to_string(), s(pk)),
            ("sk".to_string(), s(sk)),
            ("monitor".to_string(), s(record.monitor.clone())),
            ("version".to_string(), s(record.version.clone())),
            ("state".to_string(), s(record.state.clone())),
            ("severity".to_string(), s(record.severity.as_str())),
            ("record".to_string(), s(json)),
        ]);
        // A failed condition means the record is logged already: a retry after a crash between
        // logging and clearing the pending notification.
        self.put_if(item, "attribute_not_exists(pk)", None).await?;
        Ok(())
    }

    #[instrument(skip(self))]
    async fn states(&self, model: &str) -> Result<Vec<(String, String, StoredState)>, AlertError> {
        let items = self
            .query_all(self.read_deadline(), |start| {
                self.client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":pk", s(keys::model_pk(model)))
                    .expression_attribute_values(":prefix", s(keys::STATE_PREFIX))
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
            })
            .await?;
        let mut states = Vec::with_capacity(items.len());
        for item in &items {
            let reader = ItemReader::new(item);
            states.push((
                reader.string("monitor")?,
                reader.string("version")?,
                decode_state(item)?,
            ));
        }
        Ok(states)
    }

    #[instrument(skip(self))]
    async fn records(
        &self,
        model: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<(Vec<AlertRecord>, Option<String>), AlertError> {
        let pk = keys::alerts_pk(model);
        let start = match after {
            Some(token) => Some(Key::new(pk.clone(), decode_token(token)?).to_item()),
            None => None,
        };
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let output = with_retry(self.retry, self.read_deadline(), "Query", || {
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk.clone()))
                .scan_index_forward(true)
                .limit(limit)
                .set_exclusive_start_key(start.clone())
                .send()
        })
        .await?;
        let mut records = Vec::new();
        for item in output.items() {
            let reader = ItemReader::new(item);
            let json = reader.string("record")?;
            let record = serde_json::from_str(&json).map_err(|e| reader.corrupt("record", e.to_string()))?;
            records.push(record);
        }
        let next = output
            .last_evaluated_key()
            .and_then(Key::of)
            .map(|key| encode_token(&key.sk));
        Ok((records, next))
    }
}

/// Builds the state item; optional fields that are unset are left out.
fn state_item(model: &str, monitor: &str, version: &str, stored: &StoredState) -> Result<Item, StoreError> {
    let state = &stored.state;
    let mut item = Item::from([
        ("pk".to_string(), s(keys::model_pk(model))),
        ("sk".to_string(), s(keys::monitor_state_sk(monitor, version))),
        ("monitor".to_string(), s(monitor)),
        ("version".to_string(), s(version)),
        ("status".to_string(), s(state.status.as_str())),
        ("breach_streak".to_string(), int(i64::from(state.breach_streak))),
        ("clear_streak".to_string(), int(i64::from(state.clear_streak))),
        ("revision".to_string(), int(stored.revision as i64)),
    ]);
    if let Some(severity) = state.severity {
        item.insert("severity".to_string(), s(severity.as_str()));
    }
    for (name, value) in [
        ("since", state.since),
        ("last_end", state.last_end),
        ("resolved_at", state.resolved_at),
    ] {
        if let Some(at) = value {
            item.insert(name.to_string(), s(time_value(at)));
        }
    }
    if let Some(pending) = &stored.pending {
        let json = serde_json::to_string(pending).map_err(|e| StoreError::Corrupt {
            key: format!("{}/{}", keys::model_pk(model), keys::monitor_state_sk(monitor, version)),
            attribute: "pending".to_string(),
            detail: e.to_string(),
        })?;
        item.insert("pending".to_string(), AttributeValue::S(json));
    }
    Ok(item)
}

fn decode_state(item: &Item) -> Result<StoredState, StoreError> {
    let reader = ItemReader::new(item);
    let status_name = reader.string("status")?;
    let status = Status::parse(&status_name)
        .ok_or_else(|| reader.corrupt("status", format!("unknown status {status_name:?}")))?;
    let severity = match reader.optional_string("severity")? {
        Some(name) => Some(
            Severity::parse(&name).ok_or_else(|| reader.corrupt("severity", format!("unknown severity {name:?}")))?,
        ),
        None => None,
    };
    let pending: Option<Pending> = match reader.optional_string("pending")? {
        Some(json) => Some(serde_json::from_str(&json).map_err(|e| reader.corrupt("pending", e.to_string()))?),
        None => None,
    };
    let count = |name: &str| -> Result<u64, StoreError> {
        let value = reader.optional_number(name)?.unwrap_or(0.0);
        if value < 0.0 || value.fract() != 0.0 {
            return Err(reader.corrupt(name, format!("not a whole number: {value}")));
        }
        Ok(value as u64)
    };
    let streak = |name: &str| count(name).map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    Ok(StoredState {
        state: MonitorState {
            status,
            severity,
            since: reader.optional_time("since")?,
            breach_streak: streak("breach_streak")?,
            clear_streak: streak("clear_streak")?,
            last_end: reader.optional_time("last_end")?,
            resolved_at: reader.optional_time("resolved_at")?,
        },
        pending,
        revision: count("revision")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_item_round_trips() {
        let stored = StoredState {
            state: MonitorState {
                status: Status::Firing,
                severity: Some(Severity::Critical),
                since: Some("2023-06-13T00:00:00Z".parse().unwrap()),
                breach_streak: 3,
                clear_streak: 1,
                last_end: Some("2023-06-13T02:00:00Z".parse().unwrap()),
                resolved_at: None,
            },
            pending: None,
            revision: 7,
        };
        let item = state_item("m", "auc-drop", "v#1", &stored).unwrap();
        assert_eq!(decode_state(&item).unwrap(), stored);
    }

    #[test]
    fn state_item_escapes_version_in_key() {
        let item = state_item("m", "auc-drop", "v#1", &StoredState::default()).unwrap();
        assert_eq!(item["sk"], s("STATE#auc-drop#v%231"));
        assert_eq!(item["version"], s("v#1"));
    }

    #[test]
    fn decode_state_rejects_unknown_status() {
        let mut item = state_item("m", "x", "v", &StoredState::default()).unwrap();
        item.insert("status".into(), s("exploded"));
        assert!(decode_state(&item).unwrap_err().to_string().contains("exploded"));
    }
}
