//! Degradation alerts: monitor evaluation, alert state, messages and their delivery.
//!
//! A scheduled run ([`check::run_check`]) evaluates every monitor rule of every model version
//! at the hour its event time falls in, steps each monitor's state machine, and publishes a
//! message to SNS when a monitor starts firing, escalates or resolves. The pure parts
//! ([`evaluate`], [`state`], [`message`]) do no I/O; the adapters ([`sns`] here and
//! [`crate::store::alerts`]) talk to AWS.

pub mod check;
pub mod evaluate;
pub mod memory;
pub mod message;
pub mod metric;
pub mod report;
pub mod rule;
pub mod significance;
pub mod sns;
pub mod source;
pub mod state;
pub mod store;
pub mod stored;

pub use check::{run_check, AwsCheckDeps, CheckDeps, CheckSummary};
pub use evaluate::{evaluate, Evaluation, Outcome};
pub use rule::Check;
pub use state::{MonitorState, Severity, Status};
