//! The API requests a replay sends: the model's registration, its monitor rules, predictions and
//! actuals, written as a model endpoint would send them.

use chrono::{DateTime, Utc};
use mpt_core::time::rfc3339;
use serde_json::{json, Value};

use super::{
    data::Game,
    market::{price, raptor_bet, Bet},
};

/// The model the replay registers.
pub const MODEL: &str = "nba-game-predictor";
/// The version fed by 538's Elo probabilities, which also price the simulated market.
pub const ELO: &str = "elo";
/// The version fed by 538's RAPTOR probabilities, which bets on the simulated market.
pub const RAPTOR: &str = "raptor";
/// The segment key each prediction carries.
pub const STAGE_SEGMENT: &str = "stage";

/// A version's prediction for one game, as sent and as kept for the report's paired tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The game id.
    pub id: String,
    /// `elo` or `raptor`.
    pub version: &'static str,
    /// The probability that team1 wins.
    pub probability: f64,
    /// The simulated bet placed because of this prediction.
    pub bet: Option<Bet>,
}

/// Returns the predictions of every version for one game: Elo always, RAPTOR where it exists.
pub fn predictions_for(game: &Game) -> Vec<Prediction> {
    let mut predictions = vec![Prediction {
        id: game.id.clone(),
        version: ELO,
        probability: game.elo_prob1,
        bet: None,
    }];
    if let Some(raptor_prob1) = game.raptor_prob1 {
        predictions.push(Prediction {
            id: game.id.clone(),
            version: RAPTOR,
            probability: raptor_prob1,
            bet: raptor_bet(price(game.elo_prob1), raptor_prob1),
        });
    }
    predictions
}

/// Builds the `PUT /v1/models/{model}` body: a binary model segmented by stage.
pub fn registration_body() -> Value {
    json!({
        "task": "binary",
        "threshold": 0.5,
        "classes": null,
        "segments": [STAGE_SEGMENT],
    })
}

/// Builds a `POST /v1/predictions` body for games predicted at `at`.
pub fn predictions_body(games: &[Game], at: DateTime<Utc>) -> Value {
    let timestamp = rfc3339(at);
    let records: Vec<Value> = games
        .iter()
        .flat_map(|game| {
            let timestamp = timestamp.clone();
            predictions_for(game).into_iter().map(move |prediction| {
                let mut record = json!({
                    "id": prediction.id,
                    "version": prediction.version,
                    "timestamp": timestamp,
                    "prediction": prediction.probability,
                    "segment": { STAGE_SEGMENT: game.stage.as_str() },
                });
                if let Some(bet) = prediction.bet {
                    record["bet"] = json!({ "side": bet.side, "odds": bet.odds, "stake": bet.stake });
                }
                record
            })
        })
        .collect();
    json!({ "model": MODEL, "predictions": records })
}

/// Builds a `POST /v1/actuals` body for the outcomes of games, arriving at `at`.
pub fn actuals_body(games: &[Game], at: DateTime<Utc>) -> Value {
    let timestamp = rfc3339(at);
    let records: Vec<Value> = games
        .iter()
        .map(|game| json!({ "id": game.id, "actual": u8::from(game.team1_won()), "timestamp": timestamp }))
        .collect();
    json!({ "model": MODEL, "actuals": records })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::replay::data::{Season, Stage};

    fn game(elo: f64, raptor: Option<f64>) -> Game {
        Game {
            id: "2023-06-12-DEN-MIA".to_string(),
            date: NaiveDate::from_ymd_opt(2023, 6, 12).unwrap(),
            season: Season(2023),
            stage: Stage::Playoffs,
            neutral: false,
            team1: "DEN".to_string(),
            team2: "MIA".to_string(),
            elo_prob1: elo,
            raptor_prob1: raptor,
            score1: 94,
            score2: 89,
        }
    }

    fn at() -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2023, 6, 12)
            .unwrap()
            .and_hms_opt(17, 0, 0)
            .unwrap()
            .and_utc()
    }

    #[test]
    fn predictions_body_has_both_versions() {
        let body = predictions_body(&[game(0.6, Some(0.7))], at());
        assert_eq!(body["predictions"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn predictions_body_history_game_has_elo_only() {
        let body = predictions_body(&[game(0.6, None)], at());
        assert_eq!(body["predictions"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn predictions_body_stamps_timestamp() {
        let body = predictions_body(&[game(0.6, Some(0.7))], at());
        assert_eq!(body["predictions"][0]["timestamp"], "2023-06-12T17:00:00Z");
    }

    #[test]
    fn predictions_body_sets_stage_segment() {
        let body = predictions_body(&[game(0.6, Some(0.7))], at());
        assert_eq!(body["predictions"][1]["segment"]["stage"], "playoffs");
    }

    #[test]
    fn predictions_body_raptor_bets_on_edge() {
        // The market prices team1 at 1 / (0.6 × 1.045) ≈ 1.595; 0.7 × 1.595 ≈ 1.116.
        let body = predictions_body(&[game(0.6, Some(0.7))], at());
        assert_eq!(body["predictions"][1]["bet"]["side"], 1);
    }

    #[test]
    fn predictions_body_elo_never_bets() {
        let body = predictions_body(&[game(0.6, Some(0.7))], at());
        assert!(body["predictions"][0].get("bet").is_none());
    }

    #[test]
    fn actuals_body_sends_team1_win_as_one() {
        let body = actuals_body(&[game(0.6, Some(0.7))], at());
        assert_eq!(body["actuals"][0]["actual"], 1);
    }
}
