//! Binary metrics on the FiveThirtyEight NBA forecasts: exact against scikit-learn, and the
//! binned ROC-AUC and PR-AUC within 1e-3 of exact, as the histogram documents.

mod binary_support;

use std::collections::BTreeMap;

use binary_support::{assert_close, assert_counts_and_reliability, assert_metrics, cases, name, repository_root};
use binary_support::{EXACT, METRIC_KEYS};
use mpt_metrics::binary::{BinaryMetrics, BinaryState};
use serde_json::Value;

/// The accuracy that `ScoreHistogram` documents for its binned AUCs on this data.
const BINNED_TOLERANCE: f64 = 1e-3;

/// Reads played games from the case's files in order, a later file replacing an earlier one's
/// game. A game's key is (date, team1, team2) plus its occurrence within the file, so both games
/// of a doubleheader are kept. Returns the model's scores and whether team1 won.
fn games(case: &Value) -> (Vec<f64>, Vec<bool>) {
    let column = case["column"].as_str().expect("column");
    let mut games: BTreeMap<(String, String, String, u32), (f64, bool)> = BTreeMap::new();
    for file in case["files"].as_array().expect("files") {
        let path = repository_root().join(file.as_str().expect("file path"));
        let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let headers = reader.headers().unwrap().clone();
        let index = |name: &str| headers.iter().position(|header| header == name).expect(name);
        let (date, team1, team2) = (index("date"), index("team1"), index("team2"));
        let (score1, score2, prediction) = (index("score1"), index("score2"), index(column));

        let mut occurrences: BTreeMap<(String, String, String), u32> = BTreeMap::new();
        for record in reader.records() {
            let record = record.unwrap();
            let key = (
                record[date].to_string(),
                record[team1].to_string(),
                record[team2].to_string(),
            );
            let occurrence = occurrences.entry(key.clone()).or_default();
            *occurrence += 1;
            if record[score1].is_empty() || record[score2].is_empty() {
                continue;
            }
            let home_won = record[score1].parse::<f64>().unwrap() > record[score2].parse::<f64>().unwrap();
            let score: f64 = record[prediction].parse().unwrap();
            games.insert((key.0, key.1, key.2, *occurrence), (score, home_won));
        }
    }
    games.into_values().unzip()
}

#[test]
fn nba_exact_metrics_match_sklearn() {
    for case in cases("nba.json") {
        let (scores, actuals) = games(&case);
        assert_eq!(
            scores.len() as u64,
            case["games"].as_u64().unwrap(),
            "{} games",
            name(&case)
        );
        let metrics = BinaryMetrics::exact(&scores, &actuals, 0.5).unwrap();
        assert_metrics(name(&case), &metrics, &case["expected"], &METRIC_KEYS, EXACT);
        assert_counts_and_reliability(name(&case), &metrics, &case["expected"]);
    }
}

#[test]
fn nba_binned_aucs_within_bound() {
    let (mut worst_roc_auc, mut worst_pr_auc) = (0.0f64, 0.0f64);
    for case in cases("nba.json") {
        let (scores, actuals) = games(&case);
        let mut state = BinaryState::default();
        for (score, actual) in scores.iter().zip(&actuals) {
            state.update(*score, *actual).unwrap();
        }
        let metrics = state.compute();
        let roc_auc = metrics.roc_auc.value().unwrap();
        let pr_auc = metrics.pr_auc.value().unwrap();
        let exact_roc_auc = case["expected"]["roc_auc"].as_f64().unwrap();
        let exact_pr_auc = case["expected"]["pr_auc"].as_f64().unwrap();
        assert_close(
            &format!("{} binned roc_auc", name(&case)),
            roc_auc,
            exact_roc_auc,
            BINNED_TOLERANCE,
        );
        assert_close(
            &format!("{} binned pr_auc", name(&case)),
            pr_auc,
            exact_pr_auc,
            BINNED_TOLERANCE,
        );
        worst_roc_auc = worst_roc_auc.max((roc_auc - exact_roc_auc).abs());
        worst_pr_auc = worst_pr_auc.max((pr_auc - exact_pr_auc).abs());
    }
    eprintln!("largest binned error on the NBA forecasts: roc_auc {worst_roc_auc:.2e}, pr_auc {worst_pr_auc:.2e}");
}
