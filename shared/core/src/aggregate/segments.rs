//! The aggregate of a whole version together with one aggregate per segment value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Aggregate, AggregateError};
use crate::{model::ModelConfig, store::StoredPrediction};

/// Segment tag keys aggregated per model: the first this many of the model's `segments`.
pub const MAX_SEGMENT_KEYS: usize = 10;
/// Distinct values kept per tag key. The values with the most predictions are kept, and the
/// rest are merged into [`OTHER_SEGMENT_VALUE`], so a tag such as a user id cannot grow an
/// aggregate without bound.
pub const MAX_SEGMENT_VALUES: usize = 20;
/// The value that collects the predictions of the values past [`MAX_SEGMENT_VALUES`]. A tag sent
/// with the literal value `other` shares it.
pub const OTHER_SEGMENT_VALUE: &str = "other";

/// Aggregates of one span: the whole version, and each value of each configured tag key.
///
/// A prediction without a configured tag counts under the empty value, which the API writes as
/// `key:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateSet {
    /// Every prediction of the span.
    pub total: Aggregate,
    /// Tag key, then tag value, then the aggregate of the predictions with that value.
    pub segments: BTreeMap<String, BTreeMap<String, Aggregate>>,
}

impl AggregateSet {
    /// Builds an empty set with no segment values yet.
    pub fn empty(config: &ModelConfig) -> Result<Self, AggregateError> {
        Ok(Self {
            total: Aggregate::empty(config)?,
            segments: BTreeMap::new(),
        })
    }

    /// Folds predictions into a new set, with segments for the model's configured tag keys.
    pub fn from_predictions(config: &ModelConfig, predictions: &[StoredPrediction]) -> Result<Self, AggregateError> {
        let mut set = Self::empty(config)?;
        let keys: Vec<&String> = config.segments.iter().take(MAX_SEGMENT_KEYS).collect();
        let empty = Aggregate::empty(config)?;
        for prediction in predictions {
            set.total.fold(prediction);
            for key in &keys {
                let value = prediction.segment.get(*key).cloned().unwrap_or_default();
                set.segments
                    .entry((*key).clone())
                    .or_default()
                    .entry(value)
                    .or_insert_with(|| empty.clone())
                    .fold(prediction);
            }
        }
        set.cap_values()?;
        Ok(set)
    }

    /// Merges `other` into this set. Values are not capped here, so merging many spans in any
    /// order keeps every value apart; call [`AggregateSet::cap_values`] once after the last merge.
    ///
    /// On error the set is partly merged and should be discarded.
    pub fn merge(&mut self, other: &AggregateSet) -> Result<(), AggregateError> {
        self.total.merge(&other.total)?;
        for (key, values) in &other.segments {
            self.merge_segment(key, values)?;
        }
        Ok(())
    }

    /// Merges the per-value aggregates of one segment key into this set, without capping.
    ///
    /// On error the set is partly merged and should be discarded.
    pub fn merge_segment(&mut self, key: &str, values: &BTreeMap<String, Aggregate>) -> Result<(), AggregateError> {
        let ours = self.segments.entry(key.to_string()).or_default();
        for (value, aggregate) in values {
            match ours.get_mut(value) {
                Some(existing) => existing.merge(aggregate)?,
                None => {
                    ours.insert(value.clone(), aggregate.clone());
                }
            }
        }
        Ok(())
    }

    /// Keeps the [`MAX_SEGMENT_VALUES`] values with the most predictions per key (ties by value)
    /// and merges the rest into [`OTHER_SEGMENT_VALUE`].
    ///
    /// Stored hour and day aggregates are capped too, so a value that missed the cap in some hour
    /// or day counts under `other` there, and its window metrics leave those spans out.
    pub fn cap_values(&mut self) -> Result<(), AggregateError> {
        for values in self.segments.values_mut() {
            let named = values.keys().filter(|value| *value != OTHER_SEGMENT_VALUE).count();
            if named <= MAX_SEGMENT_VALUES {
                continue;
            }
            let mut ranked: Vec<(String, u64)> = values
                .iter()
                .filter(|(value, _)| *value != OTHER_SEGMENT_VALUE)
                .map(|(value, aggregate)| (value.clone(), aggregate.predictions))
                .collect();
            ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            for (value, _) in ranked.into_iter().skip(MAX_SEGMENT_VALUES) {
                let Some(aggregate) = values.remove(&value) else {
                    continue;
                };
                match values.get_mut(OTHER_SEGMENT_VALUE) {
                    Some(other) => other.merge(&aggregate)?,
                    None => {
                        values.insert(OTHER_SEGMENT_VALUE.to_string(), aggregate);
                    }
                }
            }
        }
        Ok(())
    }
}
