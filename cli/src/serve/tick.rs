//! The background schedule of `mpt serve --tick-every`: compute-metrics, then check-degradation,
//! with "now" taken from the clock at each tick.

use std::{future::Future, time::Duration};

use chrono::{DateTime, Utc};
use tokio::{sync::watch, task::JoinHandle, time::MissedTickBehavior};
use tracing::{error, info};

/// Starts a task that calls `run` every `period`, the first time right away, until `stop`
/// changes. A run that is in progress when `stop` changes finishes first. A run that overruns
/// the period delays the next one instead of stacking runs.
pub fn spawn_schedule<F, Fut>(period: Duration, mut stop: watch::Receiver<bool>, run: F) -> JoinHandle<()>
where
    F: Fn(DateTime<Utc>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = stop.changed() => break,
            }
            let now = Utc::now();
            let started = std::time::Instant::now();
            match run(now).await {
                Ok(()) => info!(at = %now, elapsed_ms = started.elapsed().as_millis() as u64, "scheduled run finished"),
                // The server keeps serving, and the next tick tries again.
                Err(message) => error!(at = %now, error = %message, "scheduled run failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    use super::*;

    #[tokio::test]
    async fn schedule_runs_until_stopped() {
        let runs = Arc::new(AtomicUsize::new(0));
        let (stop_sender, stop) = watch::channel(false);
        let counter = runs.clone();
        let handle = spawn_schedule(Duration::from_millis(20), stop, move |_| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
        tokio::time::sleep(Duration::from_millis(110)).await;
        stop_sender.send(true).unwrap();
        handle.await.unwrap();
        let count = runs.load(Ordering::SeqCst);
        assert!(
            count >= 3,
            "expected at least 3 runs in 110 ms at a 20 ms period, got {count}"
        );
        assert!(
            count <= 7,
            "expected at most 7 runs in 110 ms at a 20 ms period, got {count}"
        );
    }

    #[tokio::test]
    async fn schedule_survives_failed_run() {
        let runs = Arc::new(AtomicUsize::new(0));
        let (stop_sender, stop) = watch::channel(false);
        let counter = runs.clone();
        let handle = spawn_schedule(Duration::from_millis(10), stop, move |_| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Err("emulator unreachable".to_string())
            }
        });
        tokio::time::sleep(Duration::from_millis(60)).await;
        stop_sender.send(true).unwrap();
        handle.await.unwrap();
        assert!(runs.load(Ordering::SeqCst) >= 2);
    }
}
