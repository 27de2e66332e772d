//! Counts of the AWS calls a replay makes and the time each operation spends on the wire.
//!
//! An interceptor on every SDK client measures them, so the summary can report where the time goes.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use aws_smithy_runtime_api::{
    box_error::BoxError,
    client::{
        interceptors::{
            context::{BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef},
            Intercept,
        },
        orchestrator::Metadata,
        runtime_components::RuntimeComponents,
    },
};
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// Calls and round-trip time of one operation, such as `DynamoDB.Query`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallStats {
    /// Requests sent, retries included.
    pub count: u64,
    /// Time from sending each request to receiving its response.
    pub round_trip: Duration,
}

/// An SDK interceptor that records [`CallStats`] per operation; clones share the counts.
#[derive(Clone, Default)]
pub struct CallCounter {
    stats: Arc<Mutex<BTreeMap<String, CallStats>>>,
}

impl fmt::Debug for CallCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallCounter").finish_non_exhaustive()
    }
}

/// When the current attempt's request was sent, kept in the request's config bag.
#[derive(Debug, Clone, Copy)]
struct SentAt(Instant);

impl Storable for SentAt {
    type Storer = StoreReplace<Self>;
}

impl CallCounter {
    /// Returns the counts so far, by `Service.Operation`.
    pub fn snapshot(&self) -> BTreeMap<String, CallStats> {
        self.stats.lock().map(|stats| stats.clone()).unwrap_or_default()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(SentAt(Instant::now()));
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let elapsed = cfg.load::<SentAt>().map(|sent| sent.0.elapsed()).unwrap_or_default();
        let operation = cfg
            .load::<Metadata>()
            .map(|metadata| format!("{}.{}", metadata.service(), metadata.name()))
            .unwrap_or_else(|| "unknown".to_string());
        if let Ok(mut stats) = self.stats.lock() {
            let entry = stats.entry(operation).or_default();
            entry.count += 1;
            entry.round_trip += elapsed;
        }
        Ok(())
    }
}
