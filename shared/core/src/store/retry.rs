//! Retries of DynamoDB calls: exponential backoff with full jitter, bounded by a deadline.

use std::{future::Future, time::Duration};

use aws_sdk_dynamodb::{
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
};
use rand::Rng;
use tokio::time::Instant;
use tracing::warn;

use super::StoreError;

/// Error codes DynamoDB returns when a request exceeded capacity; these are retried.
const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
];

/// Error codes of transient server-side failures; these are retried.
const TRANSIENT_CODES: &[&str] = &["InternalServerError", "ServiceUnavailable"];

/// How DynamoDB calls are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The backoff ceiling before the first retry; it doubles with each retry.
    pub base: Duration,
    /// The largest backoff ceiling.
    pub cap: Duration,
    /// The time budget of read calls, which take no deadline of their own.
    pub read_budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(25),
            cap: Duration::from_secs(1),
            read_budget: Duration::from_secs(10),
        }
    }
}

/// Sleeps between attempts: a uniformly random time up to `min(cap, base × 2^attempt)`.
pub(crate) struct Backoff {
    policy: RetryPolicy,
    deadline: Instant,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(policy: RetryPolicy, deadline: Instant) -> Self {
        Self {
            policy,
            deadline,
            attempt: 0,
        }
    }

    /// Returns the number of waits so far.
    pub(crate) fn retries(&self) -> u32 {
        self.attempt
    }

    /// Sleeps before the next attempt. Returns false, without sleeping, when the sleep would
    /// end past the deadline.
    pub(crate) async fn wait(&mut self) -> bool {
        let ceiling = self
            .policy
            .base
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.policy.cap);
        let sleep = rand::rng().random_range(Duration::ZERO..=ceiling);
        if Instant::now() + sleep >= self.deadline {
            return false;
        }
        tokio::time::sleep(sleep).await;
        self.attempt += 1;
        true
    }
}

/// Whether a failed call may succeed when tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Capacity exceeded.
    Throttled,
    /// A server-side or network failure.
    Transient(String),
    /// A failure that repeats on retry, with the error code when there is one.
    Permanent(Option<String>, String),
}

/// Classifies an SDK error as retryable or not.
pub(crate) fn classify<E>(error: &SdkError<E, HttpResponse>) -> Fault
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().map(String::from);
            let message = service.err().message().unwrap_or("no message").to_string();
            let status = service.raw().status().as_u16();
            match code.as_deref() {
                Some(c) if THROTTLING_CODES.contains(&c) => Fault::Throttled,
                Some(c) if TRANSIENT_CODES.contains(&c) => Fault::Transient(format!("{c}: {message}")),
                _ if status >= 500 => Fault::Transient(format!("HTTP {status}: {message}")),
                _ => Fault::Permanent(code, message),
            }
        }
        SdkError::TimeoutError(_) => Fault::Transient("request timed out".into()),
        SdkError::DispatchFailure(_) => Fault::Transient("could not reach DynamoDB".into()),
        SdkError::ResponseError(_) => Fault::Transient("unreadable response".into()),
        other => Fault::Permanent(None, describe(other)),
    }
}

fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Turns a fault that could not be retried away into a store error.
pub(crate) fn give_up(operation: &'static str, fault: Fault) -> StoreError {
    match fault {
        Fault::Throttled => StoreError::Throttled { operation },
        Fault::Transient(message) => StoreError::Unavailable { operation, message },
        Fault::Permanent(code, message) => StoreError::Service {
            operation,
            code,
            message,
        },
    }
}

/// Calls `call` until it succeeds, fails permanently, or the next backoff would pass `deadline`.
pub(crate) async fn with_retry<T, E, Fut>(
    policy: RetryPolicy,
    deadline: Instant,
    operation: &'static str,
    mut call: impl FnMut() -> Fut,
) -> Result<T, StoreError>
where
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut backoff = Backoff::new(policy, deadline);
    loop {
        let error = match call().await {
            Ok(output) => return Ok(output),
            Err(error) => error,
        };
        let fault = classify(&error);
        if matches!(fault, Fault::Permanent(..)) || !backoff.wait().await {
            return Err(give_up(operation, fault));
        }
        warn!(operation, retry = backoff.retries(), fault = ?fault, "retrying DynamoDB call");
    }
}
