//! Offline evaluation of the replayed predictions, straight from the raw records: metrics per
//! version and season, the simulated betting return, and the paired comparison of the versions.
//!
//! The stored metrics come from the pipeline's aggregates. These come from the same records
//! without the pipeline, so the report can compare whole seasons and run paired tests on the
//! games both versions predicted.

use std::collections::BTreeMap;

use mpt_metrics::{
    binary::{BinaryMetrics, DEFAULT_THRESHOLD},
    stats::{delong_test, mcnemar_test, DeLongTest, McNemarTest},
    value::{BettingMetrics, BettingState},
    MetricsError,
};

use super::{
    data::{Game, Season},
    requests::{predictions_for, ELO, RAPTOR},
};

/// The confidence level of every interval in the report and summary.
pub const CONFIDENCE: f64 = 0.95;

/// One version's scored records: probabilities, outcomes and simulated bets, in game order.
#[derive(Debug, Clone, Default)]
pub struct Scored {
    /// Game ids.
    pub ids: Vec<String>,
    /// Probabilities that team1 wins.
    pub scores: Vec<f64>,
    /// True when team1 won.
    pub actuals: Vec<bool>,
    /// The simulated betting results.
    pub betting: BettingState,
    /// Profit of each bet, in units, for the return's interval.
    pub bet_profits: Vec<f64>,
}

impl Scored {
    /// Collects `version`'s predictions of `games` that pass `keep`.
    pub fn collect(games: &[Game], version: &str, keep: impl Fn(&Game) -> bool) -> Result<Self, MetricsError> {
        let mut scored = Scored::default();
        for game in games.iter().filter(|game| keep(game)) {
            let Some(prediction) = predictions_for(game).into_iter().find(|p| p.version == version) else {
                continue;
            };
            let actual = game.team1_won();
            scored.ids.push(game.id.clone());
            scored.scores.push(prediction.probability);
            scored.actuals.push(actual);
            if let Some(bet) = prediction.bet {
                scored.betting.update(&(bet.side == 1), bet.odds, bet.stake, &actual)?;
                scored.bet_profits.push(bet.profit(actual));
            }
        }
        Ok(scored)
    }

    /// Computes the exact binary metrics at the 0.5 threshold.
    pub fn metrics(&self) -> Result<BinaryMetrics, MetricsError> {
        BinaryMetrics::exact(&self.scores, &self.actuals, DEFAULT_THRESHOLD)
    }

    /// Computes the simulated betting results.
    pub fn betting(&self) -> BettingMetrics {
        self.betting.compute()
    }

    /// Returns the normal-approximation interval of the return per unit staked, when there are
    /// at least two bets. Every stake is one unit, so ROI is the mean profit per bet.
    pub fn roi_interval(&self) -> Option<(f64, f64)> {
        mean_interval(&self.bet_profits)
    }
}

/// Returns `mean ± z × sd / √n` at [`CONFIDENCE`], or `None` for fewer than two values.
pub fn mean_interval(values: &[f64]) -> Option<(f64, f64)> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half_width = Z_95 * (variance / n as f64).sqrt();
    Some((mean - half_width, mean + half_width))
}

/// The two-sided 95% standard normal quantile.
const Z_95: f64 = 1.959_963_984_540_054;

/// Metrics of one version over one scope (a season, or every replayed game).
#[derive(Debug, Clone)]
pub struct VersionEvaluation {
    /// `elo` or `raptor`.
    pub version: &'static str,
    /// The season, or `None` for every replayed game.
    pub season: Option<Season>,
    /// Exact metrics.
    pub metrics: BinaryMetrics,
    /// Simulated betting results.
    pub betting: BettingMetrics,
    /// Interval of the simulated ROI.
    pub roi_interval: Option<(f64, f64)>,
}

/// Evaluates each version over every replayed game and over each season.
pub fn evaluate_versions(games: &[Game]) -> Result<Vec<VersionEvaluation>, MetricsError> {
    let seasons: Vec<Season> = games
        .iter()
        .map(|game| game.season)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut evaluations = Vec::new();
    for version in [ELO, RAPTOR] {
        let scopes = std::iter::once(None).chain(seasons.iter().copied().map(Some));
        for season in scopes {
            let scored = Scored::collect(games, version, |game| season.is_none_or(|s| game.season == s))?;
            if scored.scores.is_empty() {
                continue;
            }
            evaluations.push(VersionEvaluation {
                version,
                season,
                metrics: scored.metrics()?,
                betting: scored.betting(),
                roi_interval: scored.roi_interval(),
            });
        }
    }
    Ok(evaluations)
}

/// The paired comparison of RAPTOR (candidate) against Elo (baseline) on the games both predict.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Games both versions predicted.
    pub shared_games: usize,
    /// DeLong's test of the ROC-AUCs.
    pub roc_auc: DeLongTest,
    /// Baseline accuracy on the shared games.
    pub accuracy_baseline: f64,
    /// Candidate accuracy on the shared games.
    pub accuracy_candidate: f64,
    /// Interval of the accuracy difference (candidate − baseline), paired Wald interval.
    pub accuracy_interval: (f64, f64),
    /// McNemar's test of the accuracies.
    pub accuracy: McNemarTest,
}

/// Compares the versions on the games both predicted, or returns `None` when no game has both
/// or one class is missing (DeLong's test needs two games of each outcome).
pub fn compare_versions(games: &[Game]) -> Result<Option<Comparison>, MetricsError> {
    let shared: Vec<&Game> = games.iter().filter(|game| game.raptor_prob1.is_some()).collect();
    let baseline: Vec<f64> = shared.iter().map(|game| game.elo_prob1).collect();
    let candidate: Vec<f64> = shared.iter().filter_map(|game| game.raptor_prob1).collect();
    let actuals: Vec<bool> = shared.iter().map(|game| game.team1_won()).collect();
    let positives = actuals.iter().filter(|actual| **actual).count();
    if positives < 2 || actuals.len() - positives < 2 {
        return Ok(None);
    }
    let roc_auc = delong_test(&baseline, &candidate, &actuals, CONFIDENCE)?;

    let correct = |score: f64, actual: bool| (score >= DEFAULT_THRESHOLD) == actual;
    let mut baseline_correct = 0u64;
    let mut candidate_correct = 0u64;
    let mut baseline_only = 0u64;
    let mut candidate_only = 0u64;
    for ((&b, &c), &actual) in baseline.iter().zip(&candidate).zip(&actuals) {
        let (b_right, c_right) = (correct(b, actual), correct(c, actual));
        baseline_correct += u64::from(b_right);
        candidate_correct += u64::from(c_right);
        baseline_only += u64::from(b_right && !c_right);
        candidate_only += u64::from(c_right && !b_right);
    }
    let n = actuals.len() as f64;
    Ok(Some(Comparison {
        shared_games: actuals.len(),
        roc_auc,
        accuracy_baseline: baseline_correct as f64 / n,
        accuracy_candidate: candidate_correct as f64 / n,
        accuracy_interval: paired_difference_interval(baseline_only, candidate_only, actuals.len()),
        accuracy: mcnemar_test(baseline_only, candidate_only),
    }))
}

/// Returns the Wald interval of a paired difference in proportions, `(c − b) / n`, at 95%.
///
/// With `b` pairs right only for the baseline and `c` only for the candidate out of `n`, the
/// variance of the difference is `((b + c) − (c − b)² / n) / n²`.
fn paired_difference_interval(baseline_only: u64, candidate_only: u64, n: usize) -> (f64, f64) {
    let n = n as f64;
    let (b, c) = (baseline_only as f64, candidate_only as f64);
    let difference = (c - b) / n;
    let variance = ((b + c) - (c - b).powi(2) / n).max(0.0) / (n * n);
    let half_width = Z_95 * variance.sqrt();
    (difference - half_width, difference + half_width)
}

/// Confusion counts per version and season, for the report's tables.
pub fn confusion_by_season(
    evaluations: &[VersionEvaluation],
) -> BTreeMap<(Season, &'static str), mpt_metrics::binary::ConfusionMatrix> {
    evaluations
        .iter()
        .filter_map(|evaluation| {
            Some((
                (evaluation.season?, evaluation.version),
                evaluation.metrics.confusion_matrix,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::replay::data::Stage;

    fn game(id: &str, elo: f64, raptor: f64, team1_won: bool) -> Game {
        Game {
            id: id.to_string(),
            date: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            season: Season(2023),
            stage: Stage::Regular,
            neutral: false,
            team1: "AAA".to_string(),
            team2: "BBB".to_string(),
            elo_prob1: elo,
            raptor_prob1: Some(raptor),
            score1: if team1_won { 100 } else { 90 },
            score2: 95,
        }
    }

    fn games() -> Vec<Game> {
        vec![
            game("a", 0.6, 0.7, true),
            game("b", 0.4, 0.45, true),
            game("c", 0.55, 0.3, false),
            game("d", 0.3, 0.2, false),
            game("e", 0.7, 0.8, true),
            game("f", 0.45, 0.6, false),
        ]
    }

    #[test]
    fn paired_interval_is_centred_on_difference() {
        let (low, high) = paired_difference_interval(10, 30, 200);
        assert!(((low + high) / 2.0 - 0.1).abs() < 1e-12);
    }

    #[test]
    fn paired_interval_is_point_without_discordance() {
        assert_eq!(paired_difference_interval(0, 0, 50), (0.0, 0.0));
    }

    #[test]
    fn compare_counts_discordant_pairs() {
        // Elo alone is right on c; RAPTOR alone is right on f.
        let comparison = compare_versions(&games()).unwrap().unwrap();
        assert_eq!(
            (comparison.accuracy.baseline_only, comparison.accuracy.candidate_only),
            (1, 1)
        );
    }

    #[test]
    fn compare_accuracy_of_candidate() {
        let comparison = compare_versions(&games()).unwrap().unwrap();
        assert!((comparison.accuracy_candidate - 4.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn compare_needs_both_outcomes() {
        let one_class = vec![game("a", 0.6, 0.7, true), game("b", 0.4, 0.45, true)];
        assert!(compare_versions(&one_class).unwrap().is_none());
    }

    #[test]
    fn evaluate_has_all_and_season_rows() {
        let evaluations = evaluate_versions(&games()).unwrap();
        assert_eq!(evaluations.len(), 4);
    }

    #[test]
    fn scored_profit_matches_betting_state() {
        let scored = Scored::collect(&games(), RAPTOR, |_| true).unwrap();
        let total: f64 = scored.bet_profits.iter().sum();
        let profit = scored.betting().profit.value().unwrap();
        assert!((total - profit).abs() < 1e-9);
    }

    #[test]
    fn mean_interval_needs_two_values() {
        assert_eq!(mean_interval(&[1.0]), None);
    }
}
