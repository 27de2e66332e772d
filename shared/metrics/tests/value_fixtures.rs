//! Betting returns and cost-matrix values against the fixture script's NumPy sums.

mod task_fixtures;

use mpt_metrics::value::{BettingState, CostMatrixState};
use serde_json::Value;
use task_fixtures::{assert_metric, load, name, strings, EXACT};

fn cases(kind: &str) -> Vec<Value> {
    load("value").into_iter().filter(|case| case["kind"] == kind).collect()
}

fn betting_of(bets: &[Value]) -> BettingState {
    let mut state = BettingState::new();
    for bet in bets {
        let side = bet["side"].as_u64().expect("side");
        let actual = bet["actual"].as_u64().expect("actual");
        let odds = bet["odds"].as_f64().expect("odds");
        let stake = bet["stake"].as_f64().expect("stake");
        state
            .update(&side, odds, stake, &actual)
            .expect("fixture bets are valid");
    }
    state
}

fn cost_matrix_of(case: &Value, records: &[Value]) -> CostMatrixState {
    let values: Vec<Vec<f64>> = serde_json::from_value(case["values"].clone()).expect("values matrix");
    let mut state = CostMatrixState::new(strings(case, "classes"), values).expect("fixture matrix is valid");
    for record in records {
        let predicted = record["predicted"].as_str().expect("predicted");
        let actual = record["actual"].as_str().expect("actual");
        state.update(predicted, actual).expect("fixture classes are known");
    }
    state
}

#[test]
fn betting_matches_numpy() {
    for case in cases("betting") {
        let bets = case["bets"].as_array().expect("bets list");
        let metrics = betting_of(bets).compute();
        let expected = &case["expected"];
        assert_eq!(
            metrics.bets,
            expected["bets"].as_u64().expect("bets"),
            "{}: bets",
            name(&case)
        );
        assert_eq!(
            metrics.won,
            expected["won"].as_u64().expect("won"),
            "{}: won",
            name(&case)
        );
        assert_metric(
            metrics.total_staked,
            &expected["total_staked"],
            EXACT,
            &format!("{}: staked", name(&case)),
        );
        assert_metric(
            metrics.profit,
            &expected["profit"],
            EXACT,
            &format!("{}: profit", name(&case)),
        );
        assert_metric(metrics.roi, &expected["roi"], EXACT, &format!("{}: roi", name(&case)));
    }
}

#[test]
fn betting_merged_matches_numpy() {
    for case in cases("betting") {
        let bets = case["bets"].as_array().expect("bets list");
        let mut merged = BettingState::new();
        for chunk in bets.chunks(13) {
            merged.merge(&betting_of(chunk)).expect("betting states always merge");
        }
        assert_metric(merged.compute().roi, &case["expected"]["roi"], EXACT, name(&case));
    }
}

#[test]
fn betting_rejects_odds_of_one() {
    assert!(BettingState::new().update("H", 1.0, 10.0, "H").is_err());
}

#[test]
fn betting_rejects_zero_stake() {
    assert!(BettingState::new().update("H", 2.0, 0.0, "H").is_err());
}

#[test]
fn betting_no_bets_roi_is_null() {
    assert_eq!(
        BettingState::new().compute().roi.reason(),
        Some("no bets in the window")
    );
}

#[test]
fn cost_matrix_matches_numpy() {
    for case in cases("cost_matrix") {
        let records = case["records"].as_array().expect("records list");
        let metrics = cost_matrix_of(&case, records).compute();
        let expected = &case["expected"];
        assert_eq!(
            metrics.count,
            expected["count"].as_u64().expect("count"),
            "{}: count",
            name(&case)
        );
        assert_metric(
            metrics.total_value,
            &expected["total_value"],
            EXACT,
            &format!("{}: total", name(&case)),
        );
        assert_metric(
            metrics.mean_value,
            &expected["mean_value"],
            EXACT,
            &format!("{}: mean", name(&case)),
        );
    }
}

#[test]
fn cost_matrix_merged_matches_numpy() {
    for case in cases("cost_matrix") {
        let records = case["records"].as_array().expect("records list");
        let mut merged = cost_matrix_of(&case, &[]);
        for chunk in records.chunks(17) {
            merged.merge(&cost_matrix_of(&case, chunk)).expect("same matrix merges");
        }
        let expected = &case["expected"]["total_value"];
        assert_metric(merged.compute().total_value, expected, EXACT, name(&case));
    }
}

#[test]
fn cost_matrix_serde_round_trip() {
    let case = &cases("cost_matrix")[0];
    let state = cost_matrix_of(case, case["records"].as_array().expect("records list"));
    let text = serde_json::to_string(&state).expect("state serialises");
    let restored: CostMatrixState = serde_json::from_str(&text).expect("state deserialises");
    assert_eq!(restored, state);
}

#[test]
fn cost_matrix_rejects_ragged_values() {
    let values = vec![vec![1.0, 2.0], vec![3.0]];
    assert!(CostMatrixState::new(vec!["a".into(), "b".into()], values).is_err());
}

#[test]
fn cost_matrix_unknown_class_is_error() {
    let mut state = CostMatrixState::new(vec!["a".into(), "b".into()], vec![vec![0.0; 2]; 2]).expect("valid");
    assert!(state.update("a", "c").is_err());
}

#[test]
fn cost_matrix_merge_rejects_other_values() {
    let classes = vec!["a".to_string(), "b".to_string()];
    let mut state = CostMatrixState::new(classes.clone(), vec![vec![0.0; 2]; 2]).expect("valid");
    let other = CostMatrixState::new(classes, vec![vec![1.0; 2]; 2]).expect("valid");
    assert!(state.merge(&other).is_err());
}
