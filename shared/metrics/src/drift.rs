//! Distribution drift between a reference and a current window, from counts over shared bins.
//!
//! Both distributions are given as counts over the same bins: the bins of two
//! [`ScoreHistogram`]s, other bins with the same edges, or predicted classes in the same order.
//! Counts become shares of their total.
//!
//! - **PSI** (population stability index) = Σ (c − r) · ln(c / r) over the bin shares r of the
//!   reference and c of the current window. A share of 0 is replaced by
//!   [`PSI_EMPTY_BIN_SHARE`] first, because ln(0) is undefined. A bin empty in both windows
//!   therefore adds 0. A common rule of thumb, not a test, reads below 0.1 as stable, 0.1 to 0.25
//!   as moderate and above 0.25 as large.
//! - **KS** (Kolmogorov–Smirnov statistic) = the largest difference between the two cumulative
//!   shares, taken at the bin edges only. It is at most the KS statistic of the raw samples,
//!   and below it by at most the largest share that one bin contains in either window. It needs
//!   ordered bins, so it is null for classes.
//! - **JS distance** (Jensen–Shannon) = √(½ KL(p ‖ m) + ½ KL(q ‖ m)) with m = (p + q) / 2 and
//!   base-2 logarithms, so it lies in [0, 1]. This is `scipy.spatial.distance.jensenshannon(p,
//!   q, base=2)` in SciPy 1.17.1.
//!
//! Every metric is null with a reason when either window has no records.

use serde::Serialize;

use crate::{histogram::ScoreHistogram, Metric, MetricsError};

/// The share that replaces the share of an empty bin in PSI: 0.01% of a window.
///
/// With this value a bin that contains 5% of one window and nothing of the other adds about
/// 0.05 · ln(0.05 / 0.0001) ≈ 0.31 to the PSI, enough to flag a new or vanished region.
pub const PSI_EMPTY_BIN_SHARE: f64 = 1e-4;

/// Drift of a current window against a reference window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftMetrics {
    /// Population stability index.
    pub psi: Metric,
    /// Kolmogorov–Smirnov statistic at the bin edges; null for unordered classes.
    pub ks: Metric,
    /// Jensen–Shannon distance, base 2, in [0, 1].
    pub js_distance: Metric,
}

const EMPTY_REFERENCE: &str = "the reference window has no records";
const EMPTY_CURRENT: &str = "the current window has no records";
const UNORDERED: &str = "classes have no order, so a cumulative distribution is not defined";

/// Compares two distributions over the same ordered bins (a score histogram).
pub fn compare_bins(reference: &[u64], current: &[u64]) -> Result<DriftMetrics, MetricsError> {
    Ok(DriftMetrics {
        psi: psi(reference, current)?,
        ks: ks_statistic(reference, current)?,
        js_distance: js_distance(reference, current)?,
    })
}

/// Compares the score distributions of two histograms, counting every score in them, labelled
/// or not. Both histograms share one bin layout, so the error case of [`compare_bins`] does not
/// arise.
pub fn compare_histograms(reference: &ScoreHistogram, current: &ScoreHistogram) -> Result<DriftMetrics, MetricsError> {
    compare_bins(&reference.totals(), &current.totals())
}

/// Compares two distributions of predicted classes, given as counts in the same class order.
pub fn compare_classes(reference: &[u64], current: &[u64]) -> Result<DriftMetrics, MetricsError> {
    Ok(DriftMetrics {
        psi: psi(reference, current)?,
        ks: Metric::Undefined(UNORDERED),
        js_distance: js_distance(reference, current)?,
    })
}

/// Returns the population stability index of `current` against `reference`.
pub fn psi(reference: &[u64], current: &[u64]) -> Result<Metric, MetricsError> {
    let Some(shares) = shares(reference, current)? else {
        return Ok(undefined(reference));
    };
    let psi = shares
        .reference
        .iter()
        .zip(&shares.current)
        .map(|(reference_share, current_share)| {
            let reference_share = reference_share.max(PSI_EMPTY_BIN_SHARE);
            let current_share = current_share.max(PSI_EMPTY_BIN_SHARE);
            (current_share - reference_share) * (current_share / reference_share).ln()
        })
        .sum();
    Ok(Metric::Value(psi))
}

/// Returns the Kolmogorov–Smirnov statistic at the bin edges.
pub fn ks_statistic(reference: &[u64], current: &[u64]) -> Result<Metric, MetricsError> {
    if shares(reference, current)?.is_none() {
        return Ok(undefined(reference));
    }
    // Cumulative counts stay exact integers, so each edge costs one rounding per division.
    let reference_total = reference.iter().sum::<u64>() as f64;
    let current_total = current.iter().sum::<u64>() as f64;
    let mut reference_cumulative = 0_u64;
    let mut current_cumulative = 0_u64;
    let mut statistic: f64 = 0.0;
    for (reference_count, current_count) in reference.iter().zip(current) {
        reference_cumulative += reference_count;
        current_cumulative += current_count;
        let gap = reference_cumulative as f64 / reference_total - current_cumulative as f64 / current_total;
        statistic = statistic.max(gap.abs());
    }
    Ok(Metric::Value(statistic))
}

/// Returns the Jensen–Shannon distance with base-2 logarithms.
pub fn js_distance(reference: &[u64], current: &[u64]) -> Result<Metric, MetricsError> {
    let Some(shares) = shares(reference, current)? else {
        return Ok(undefined(reference));
    };
    let divergence_nats: f64 = shares
        .reference
        .iter()
        .zip(&shares.current)
        .map(|(p, q)| {
            let mixture = (p + q) / 2.0;
            relative_entropy_term(*p, mixture) + relative_entropy_term(*q, mixture)
        })
        .sum::<f64>()
        / 2.0;
    let divergence_bits = divergence_nats / std::f64::consts::LN_2;
    // Rounding can push the divergence slightly outside [0, 1], so clamp it to the range the
    // distance has in exact arithmetic.
    Ok(Metric::Value(divergence_bits.clamp(0.0, 1.0).sqrt()))
}

/// Returns p · ln(p / m), which is 0 when p is 0 (`scipy.special.rel_entr`).
fn relative_entropy_term(p: f64, mixture: f64) -> f64 {
    if p > 0.0 {
        p * (p / mixture).ln()
    } else {
        0.0
    }
}

/// The bin shares of both windows, in bin order.
struct Shares {
    reference: Vec<f64>,
    current: Vec<f64>,
}

/// Converts both count vectors to shares, or returns `None` when either total is zero.
fn shares(reference: &[u64], current: &[u64]) -> Result<Option<Shares>, MetricsError> {
    if reference.len() != current.len() {
        return Err(MetricsError::LengthMismatch {
            what: "current bin counts",
            expected: reference.len(),
            got: current.len(),
        });
    }
    let reference_total: u64 = reference.iter().sum();
    let current_total: u64 = current.iter().sum();
    if reference_total == 0 || current_total == 0 {
        return Ok(None);
    }
    let to_shares = |counts: &[u64], total: u64| counts.iter().map(|count| *count as f64 / total as f64).collect();
    Ok(Some(Shares {
        reference: to_shares(reference, reference_total),
        current: to_shares(current, current_total),
    }))
}

/// Names the empty window; called only after [`shares`] found one.
fn undefined(reference: &[u64]) -> Metric {
    if reference.iter().sum::<u64>() == 0 {
        Metric::Undefined(EMPTY_REFERENCE)
    } else {
        Metric::Undefined(EMPTY_CURRENT)
    }
}
