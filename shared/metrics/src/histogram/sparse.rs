//! The sparse, column-wise serialised form of [`ScoreHistogram`].

use serde::{Deserialize, Serialize};

use super::{BinCounts, ScoreHistogram, LAYOUT, NUM_BINS};
use crate::MetricsError;

/// The non-empty bins as columns, as described on [`ScoreHistogram`].
#[derive(Serialize, Deserialize)]
pub(super) struct SparseHistogram {
    layout: String,
    gaps: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    positive: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    negative: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unlabelled: Vec<u64>,
}

impl From<ScoreHistogram> for SparseHistogram {
    fn from(histogram: ScoreHistogram) -> Self {
        let mut repr = SparseHistogram {
            layout: LAYOUT.to_string(),
            gaps: Vec::new(),
            positive: Vec::new(),
            negative: Vec::new(),
            unlabelled: Vec::new(),
        };
        let mut previous = 0;
        for bin in histogram.bins() {
            repr.gaps.push(bin.index - previous);
            previous = bin.index;
            repr.positive.push(bin.positive);
            repr.negative.push(bin.negative);
            repr.unlabelled.push(bin.unlabelled);
        }
        for column in [&mut repr.positive, &mut repr.negative, &mut repr.unlabelled] {
            if column.iter().all(|count| *count == 0) {
                column.clear();
            }
        }
        repr
    }
}

impl TryFrom<SparseHistogram> for ScoreHistogram {
    type Error = MetricsError;

    fn try_from(repr: SparseHistogram) -> Result<Self, Self::Error> {
        if repr.layout != LAYOUT {
            return Err(MetricsError::Incompatible {
                what: "histogram layout",
                left: repr.layout,
                right: LAYOUT.to_string(),
            });
        }
        let len = repr.gaps.len();
        for (name, column) in [
            ("positive", &repr.positive),
            ("negative", &repr.negative),
            ("unlabelled", &repr.unlabelled),
        ] {
            if !column.is_empty() && column.len() != len {
                return Err(MetricsError::Invalid(format!(
                    "histogram column {name} has {} entries but gaps has {len}. \
                     Store every column with one entry per non-empty bin, or leave it out",
                    column.len()
                )));
            }
        }

        let mut histogram = ScoreHistogram::new();
        if len == 0 {
            return Ok(histogram);
        }
        histogram.bins = vec![BinCounts::default(); NUM_BINS];
        let mut index = 0usize;
        for (i, gap) in repr.gaps.iter().enumerate() {
            if i > 0 && *gap == 0 {
                return Err(MetricsError::Invalid(format!(
                    "histogram gap {i} is 0, but gaps after the first must be at least 1"
                )));
            }
            index = index.saturating_add(*gap);
            if index >= NUM_BINS {
                return Err(MetricsError::Invalid(format!(
                    "histogram bin index {index} is out of range, because layout {LAYOUT} has {NUM_BINS} bins"
                )));
            }
            let count_at = |column: &Vec<u64>| column.get(i).copied().unwrap_or(0);
            histogram.bins[index] = BinCounts {
                positive: count_at(&repr.positive),
                negative: count_at(&repr.negative),
                unlabelled: count_at(&repr.unlabelled),
            };
        }
        Ok(histogram)
    }
}
