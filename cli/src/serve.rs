//! `mpt serve`: the whole HTTP API on a local address, backed by the AWS services at
//! `AWS_ENDPOINT_URL` (normally the local emulator), with the scheduled functions optionally
//! running in the background.

mod api;
mod http;
mod tick;

use std::{env, io, net::SocketAddr, sync::Arc, time::Duration as StdDuration};

use aws_config::BehaviorVersion;
use mpt_core::{
    alert::sns::{ensure_local_alerts, local_queue_name, LOCAL_TOPIC},
    config::ConfigError,
    time::Duration,
    Config,
};
use tokio::{net::TcpListener, sync::watch};
use tracing::{info, warn};

/// How long a scheduled run in progress at shutdown may take to finish before it is abandoned.
const SCHEDULE_STOP_TIMEOUT: StdDuration = StdDuration::from_secs(30);

/// Options of `mpt serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on, as IP:PORT. Port 0 picks a free port, which the ready line logs.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Also run compute-metrics and then check-degradation at this interval, written <n>m, <n>h
    /// or <n>d (for example 1m).
    #[arg(long, value_name = "DURATION")]
    pub tick_every: Option<Duration>,

    /// Allow listening on an address other than loopback. The local server has no authentication.
    #[arg(long)]
    pub allow_remote: bool,
}

/// An error that stops `mpt serve` from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is not loopback and `--allow-remote` was not passed.
    #[error(
        "{addr} is not a loopback address, and the local server has no authentication, so listen on \
         127.0.0.1 or pass --allow-remote to accept remote clients"
    )]
    NotLoopback {
        /// The rejected address.
        addr: SocketAddr,
    },
    /// `AWS_ENDPOINT_URL` is unset, so the server would reach real AWS.
    #[error(
        "AWS_ENDPOINT_URL is not set; set it to the local emulator's URL, which `scripts/emulator.sh start` prints"
    )]
    MissingEndpoint,
    /// The configuration in the environment is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The table, topic or queue could not be created.
    #[error("{0}; check that the emulator at AWS_ENDPOINT_URL is running")]
    Setup(String),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}; pick another address with --addr")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// The shutdown signal handlers could not be installed.
    #[error("failed to install the shutdown signal handlers: {0}")]
    Signal(io::Error),
}

impl ServeError {
    /// Returns whether the error is a usage error (exit status 2) rather than a failure.
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::NotLoopback { .. })
    }
}

/// Runs the server until SIGINT or SIGTERM, then drains open connections and stops the schedule.
pub async fn run(args: ServeArgs) -> Result<(), ServeError> {
    if !args.allow_remote && !args.addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback { addr: args.addr });
    }
    let mut config = Config::from_env()?;
    let endpoint = env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|value| !value.trim().is_empty())
        .ok_or(ServeError::MissingEndpoint)?;
    let shutdown = shutdown_signal().map_err(ServeError::Signal)?;

    // Set up the table, topic and queue before accepting requests.
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    info!(%endpoint, table = %config.table, "setting up local resources");
    // Deployments create their topic in the template. Locally, without MPT_TOPIC_ARN, the
    // topic and a queue to read alerts back from are created here.
    if config.topic_arn.is_none() {
        let local = ensure_local_alerts(
            &aws_sdk_sns::Client::new(&sdk),
            &aws_sdk_sqs::Client::new(&sdk),
            LOCAL_TOPIC,
            &local_queue_name(),
        )
        .await
        .map_err(|error| ServeError::Setup(error.to_string()))?;
        info!(topic_arn = %local.topic_arn, queue_url = %local.queue_url, "alert topic and queue ready");
        config.topic_arn = Some(local.topic_arn);
    }
    let api = api::Api::connect(&sdk, config).await.map_err(ServeError::Setup)?;
    let api = Arc::new(api);

    let listener = TcpListener::bind(args.addr).await.map_err(|source| ServeError::Bind {
        addr: args.addr,
        source,
    })?;
    let local = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: args.addr,
        source,
    })?;

    let (stop_schedule, schedule_stopped) = watch::channel(false);
    let schedule = args.tick_every.map(|every| {
        let api = api.clone();
        let period = StdDuration::from_secs(every.secs().unsigned_abs());
        tick::spawn_schedule(period, schedule_stopped, move |now| {
            let api = api.clone();
            async move { api.run_scheduled(now).await }
        })
    });

    // Scripts wait for this line, so its wording and the URL in it are part of the interface.
    info!(url = %format!("http://{local}"), tick_every = ?args.tick_every.map(|d| d.to_string()), "listening");
    http::serve(listener, api, shutdown).await;

    let _ = stop_schedule.send(true);
    if let Some(schedule) = schedule {
        if tokio::time::timeout(SCHEDULE_STOP_TIMEOUT, schedule).await.is_err() {
            warn!(
                timeout_secs = SCHEDULE_STOP_TIMEOUT.as_secs(),
                "abandoned a scheduled run still in progress"
            );
        }
    }
    info!("stopped");
    Ok(())
}

/// Returns a future that completes on the first SIGINT (Ctrl-C) or SIGTERM. The handlers are
/// installed before it returns, so a signal that arrives during set-up is not lost.
fn shutdown_signal() -> io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;

    Ok(async move {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = terminate.recv() => info!(signal = "SIGTERM", "shutdown requested"),
                _ = interrupt.recv() => info!(signal = "SIGINT", "shutdown requested"),
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_ok() {
                info!(signal = "Ctrl-C", "shutdown requested");
            }
        }
    })
}
