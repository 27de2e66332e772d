//! Runs the planned steps in time order against a pipeline, timing each kind of call.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use serde_json::Value;

use super::{
    data::Game,
    requests::{actuals_body, predictions_body},
    schedule::Step,
    ReplayError,
};

/// Counts a pipeline returns for one ingest call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestCounts {
    /// Records stored.
    pub stored: usize,
}

/// Counts a pipeline returns for one tick.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickCounts {
    /// Alert notifications sent by the degradation check.
    pub alerts_sent: usize,
}

/// The code a replay drives: the ingest API and the two scheduled functions.
pub(crate) trait Pipeline {
    /// Sends a `POST /v1/predictions` body at simulated time `at`.
    async fn send_predictions(&mut self, at: DateTime<Utc>, body: Value) -> Result<IngestCounts, ReplayError>;
    /// Sends a `POST /v1/actuals` body at simulated time `at`.
    async fn send_actuals(&mut self, at: DateTime<Utc>, body: Value) -> Result<IngestCounts, ReplayError>;
    /// Runs compute-metrics with a scheduled event at `at`.
    async fn compute(&mut self, at: DateTime<Utc>) -> Result<(), ReplayError>;
    /// Runs check-degradation with a scheduled event at `at`.
    async fn check(&mut self, at: DateTime<Utc>) -> Result<TickCounts, ReplayError>;
}

/// Wall time and call counts of a replay, by kind of call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timings {
    /// Ingest calls made (predictions and actuals).
    pub ingest_calls: usize,
    /// Records stored by them.
    pub records_stored: usize,
    /// Time spent in ingest calls.
    pub ingest: StdDuration,
    /// Ticks run.
    pub ticks: usize,
    /// Time spent in compute-metrics.
    pub compute: StdDuration,
    /// Time spent in check-degradation.
    pub check: StdDuration,
    /// Alert notifications sent, as the checks reported them.
    pub alerts_sent: usize,
}

/// Runs `steps` over `games` in order, advancing `progress` by one per step.
pub(crate) async fn drive<P: Pipeline>(
    pipeline: &mut P,
    games: &[Game],
    steps: &[Step],
    progress: &ProgressBar,
) -> Result<Timings, ReplayError> {
    let mut timings = Timings::default();
    for step in steps {
        match step {
            Step::Predict { at, games: range } => {
                let started = Instant::now();
                let counts = pipeline
                    .send_predictions(*at, predictions_body(&games[range.clone()], *at))
                    .await?;
                timings.ingest += started.elapsed();
                timings.ingest_calls += 1;
                timings.records_stored += counts.stored;
            }
            Step::Actuals { at, games: range } => {
                let started = Instant::now();
                let counts = pipeline
                    .send_actuals(*at, actuals_body(&games[range.clone()], *at))
                    .await?;
                timings.ingest += started.elapsed();
                timings.ingest_calls += 1;
                timings.records_stored += counts.stored;
            }
            Step::Tick { at } => {
                progress.set_message(at.format("%Y-%m-%d").to_string());
                let started = Instant::now();
                pipeline.compute(*at).await?;
                let computed = Instant::now();
                let counts = pipeline.check(*at).await?;
                timings.compute += computed - started;
                timings.check += computed.elapsed();
                timings.ticks += 1;
                timings.alerts_sent += counts.alerts_sent;
            }
        }
        progress.inc(1);
    }
    Ok(timings)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::replay::{
        data::{Season, Stage},
        schedule::plan,
    };

    /// Records what each call saw, so tests can check the order of data and ticks.
    #[derive(Default)]
    struct RecordingPipeline {
        calls: Vec<String>,
        predictions: usize,
        actuals: usize,
    }

    impl Pipeline for RecordingPipeline {
        async fn send_predictions(&mut self, _at: DateTime<Utc>, body: Value) -> Result<IngestCounts, ReplayError> {
            let stored = body["predictions"].as_array().map_or(0, Vec::len);
            self.predictions += stored;
            self.calls.push(format!("predict {stored}"));
            Ok(IngestCounts { stored })
        }

        async fn send_actuals(&mut self, _at: DateTime<Utc>, body: Value) -> Result<IngestCounts, ReplayError> {
            let stored = body["actuals"].as_array().map_or(0, Vec::len);
            self.actuals += stored;
            self.calls.push(format!("actuals {stored}"));
            Ok(IngestCounts { stored })
        }

        async fn compute(&mut self, at: DateTime<Utc>) -> Result<(), ReplayError> {
            self.calls.push(format!(
                "compute {} seen {}/{}",
                at.format("%d"),
                self.predictions,
                self.actuals
            ));
            Ok(())
        }

        async fn check(&mut self, _at: DateTime<Utc>) -> Result<TickCounts, ReplayError> {
            self.calls.push("check".to_string());
            Ok(TickCounts { alerts_sent: 1 })
        }
    }

    fn game(day: u32, id: &str) -> Game {
        Game {
            id: id.to_string(),
            date: NaiveDate::from_ymd_opt(2023, 1, day).unwrap(),
            season: Season(2023),
            stage: Stage::Regular,
            neutral: false,
            team1: "AAA".to_string(),
            team2: "BBB".to_string(),
            elo_prob1: 0.5,
            raptor_prob1: Some(0.6),
            score1: 100,
            score2: 90,
        }
    }

    async fn run(games: &[Game]) -> (RecordingPipeline, Timings) {
        let steps = plan(games, "1d".parse().unwrap());
        let mut pipeline = RecordingPipeline::default();
        let timings = drive(&mut pipeline, games, &steps, &ProgressBar::hidden())
            .await
            .unwrap();
        (pipeline, timings)
    }

    #[tokio::test]
    async fn drive_tick_sees_previous_day_with_outcomes() {
        let (pipeline, _) = run(&[game(1, "a"), game(2, "b")]).await;
        assert_eq!(pipeline.calls[2], "compute 02 seen 2/1");
    }

    #[tokio::test]
    async fn drive_checks_after_each_compute() {
        let (pipeline, _) = run(&[game(1, "a"), game(2, "b")]).await;
        assert_eq!(pipeline.calls[3], "check");
    }

    #[tokio::test]
    async fn drive_sends_every_record() {
        let (_, timings) = run(&[game(1, "a"), game(1, "b"), game(3, "c")]).await;
        // Two versions' predictions and one actual for each of three games.
        assert_eq!(timings.records_stored, 9);
    }

    #[tokio::test]
    async fn drive_counts_ticks_and_alerts() {
        let (_, timings) = run(&[game(1, "a"), game(3, "c")]).await;
        assert_eq!((timings.ticks, timings.alerts_sent), (3, 3));
    }
}
