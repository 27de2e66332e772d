//! The replay's timeline: when each game's predictions and outcome are sent, and when ticks run.
//!
//! 538 gives a game's date but no tip-off time. So every prediction is stamped 17:00 UTC on the
//! game's date, before the earliest North American tip-off, and its actual arrives in a separate
//! call stamped 06:00 UTC the next day, after the latest final buzzer. Ticks, the scheduled
//! compute-metrics and check-degradation runs, are anchored at 12:00 UTC: a tick at 12:00 on day
//! D sees every game up to day D − 1 with its outcome, and the 1d window at that tick holds
//! exactly the games of day D − 1.

use std::ops::Range;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use mpt_core::time::Duration;

use super::data::Game;

/// The hour (UTC) every prediction is stamped with, on the game's date.
pub const PREDICTION_HOUR: u32 = 17;
/// The hour (UTC) every actual is stamped with, on the day after the game.
pub const ACTUAL_HOUR: u32 = 6;
/// The hour (UTC) ticks are anchored at.
pub const TICK_HOUR: u32 = 12;

/// One step of the replay, in the order it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send both versions' predictions for a day's games (indices into the game list).
    Predict {
        /// The prediction timestamp.
        at: DateTime<Utc>,
        /// The day's games.
        games: Range<usize>,
    },
    /// Send the outcomes of a day's games.
    Actuals {
        /// The arrival timestamp.
        at: DateTime<Utc>,
        /// The day's games.
        games: Range<usize>,
    },
    /// Run compute-metrics, then check-degradation, with a scheduled event at `at`.
    Tick {
        /// The event's time.
        at: DateTime<Utc>,
    },
}

impl Step {
    /// Returns the simulated time the step runs at.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Step::Predict { at, .. } | Step::Actuals { at, .. } | Step::Tick { at } => *at,
        }
    }

    /// Returns the order of steps at the same instant: data first, so a tick reads it.
    fn rank(&self) -> u8 {
        match self {
            Step::Predict { .. } => 0,
            Step::Actuals { .. } => 1,
            Step::Tick { .. } => 2,
        }
    }
}

/// Returns the UTC instant at `hour`:00 on `date`.
pub fn at_hour(date: NaiveDate, hour: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN);
    date.and_time(time).and_utc()
}

/// Plans the steps for games sorted by date, ticking every `tick_every`.
///
/// Ticks start at the first anchor (12:00 UTC plus a whole number of intervals) after the first
/// prediction, and the last tick is the first one at or after the last actual, so every outcome
/// is counted.
pub fn plan(games: &[Game], tick_every: Duration) -> Vec<Step> {
    let mut steps = Vec::new();
    let (Some(first), Some(last)) = (games.first(), games.last()) else {
        return steps;
    };

    for range in days(games) {
        let date = games[range.start].date;
        steps.push(Step::Predict {
            at: at_hour(date, PREDICTION_HOUR),
            games: range.clone(),
        });
        steps.push(Step::Actuals {
            at: at_hour(date, ACTUAL_HOUR) + TimeDelta::days(1),
            games: range,
        });
    }

    let first_prediction = at_hour(first.date, PREDICTION_HOUR);
    let last_actual = at_hour(last.date, ACTUAL_HOUR) + TimeDelta::days(1);
    let interval = tick_every.delta();
    let mut tick = at_hour(first.date, TICK_HOUR);
    while tick <= first_prediction {
        tick += interval;
    }
    loop {
        steps.push(Step::Tick { at: tick });
        if tick >= last_actual {
            break;
        }
        tick += interval;
    }

    // A stable sort keeps each day's games in file order.
    steps.sort_by_key(|step| (step.at(), step.rank()));
    steps
}

/// Splits games sorted by date into one index range per day.
fn days(games: &[Game]) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for index in 1..=games.len() {
        if index == games.len() || games[index].date != games[start].date {
            ranges.push(start..index);
            start = index;
        }
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::data::{Season, Stage};

    fn game(date: &str, id: &str) -> Game {
        Game {
            id: id.to_string(),
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
            season: Season(2023),
            stage: Stage::Regular,
            neutral: false,
            team1: "AAA".to_string(),
            team2: "BBB".to_string(),
            elo_prob1: 0.5,
            raptor_prob1: Some(0.5),
            score1: 100,
            score2: 90,
        }
    }

    fn time(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn daily() -> Duration {
        "1d".parse().unwrap()
    }

    #[test]
    fn plan_is_empty_without_games() {
        assert!(plan(&[], daily()).is_empty());
    }

    #[test]
    fn plan_groups_games_by_day() {
        let games = [
            game("2023-01-01", "a"),
            game("2023-01-01", "b"),
            game("2023-01-03", "c"),
        ];
        let predicts: Vec<_> = plan(&games, daily())
            .into_iter()
            .filter_map(|step| match step {
                Step::Predict { games, .. } => Some(games),
                _ => None,
            })
            .collect();
        assert_eq!(predicts, vec![0..2, 2..3]);
    }

    #[test]
    fn plan_stamps_prediction_at_17() {
        let steps = plan(&[game("2023-01-01", "a")], daily());
        assert_eq!(steps[0].at(), time("2023-01-01T17:00:00Z"));
    }

    #[test]
    fn plan_stamps_actual_next_morning() {
        let steps = plan(&[game("2023-01-01", "a")], daily());
        assert_eq!(steps[1].at(), time("2023-01-02T06:00:00Z"));
    }

    #[test]
    fn plan_first_tick_follows_first_prediction() {
        let steps = plan(&[game("2023-01-01", "a")], daily());
        assert_eq!(
            steps[2],
            Step::Tick {
                at: time("2023-01-02T12:00:00Z")
            }
        );
    }

    #[test]
    fn plan_last_tick_sees_last_actual() {
        let games = [game("2023-01-01", "a"), game("2023-01-05", "b")];
        let steps = plan(&games, daily());
        assert_eq!(steps.last().unwrap().at(), time("2023-01-06T12:00:00Z"));
    }

    #[test]
    fn plan_ticks_every_interval() {
        let games = [game("2023-01-01", "a"), game("2023-01-05", "b")];
        let ticks = plan(&games, daily())
            .iter()
            .filter(|step| matches!(step, Step::Tick { .. }))
            .count();
        assert_eq!(ticks, 5);
    }

    #[test]
    fn plan_runs_data_before_tick_at_same_instant() {
        let steps = plan(&[game("2023-01-01", "a")], "1h".parse().unwrap());
        let actual = steps
            .iter()
            .position(|step| matches!(step, Step::Actuals { .. }))
            .unwrap();
        assert_eq!(
            steps[actual + 1],
            Step::Tick {
                at: time("2023-01-02T06:00:00Z")
            }
        );
    }

    #[test]
    fn plan_is_in_time_order() {
        let games = [
            game("2023-01-01", "a"),
            game("2023-01-02", "b"),
            game("2023-01-09", "c"),
        ];
        let steps = plan(&games, "6h".parse().unwrap());
        assert!(steps.windows(2).all(|pair| pair[0].at() <= pair[1].at()));
    }
}
