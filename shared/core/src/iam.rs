//! The IAM actions each function calls, composed from the actions each adapter declares.
//!
//! The template check reads `template.yaml` and holds every function's policy to exactly this
//! list, so a new AWS call must be declared here (through its adapter) before it can deploy.

use std::collections::BTreeSet;

/// The Lambda functions of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `functions/ingest`: writes predictions, actuals, registrations and monitor rules.
    Ingest,
    /// `functions/compute-metrics`: aggregates, computes windows, publishes to CloudWatch.
    ComputeMetrics,
    /// `functions/check-degradation`: evaluates monitors and publishes alerts to SNS.
    CheckDegradation,
    /// `functions/query`: read-only API.
    Query,
}

impl Function {
    /// Every function, in deployment order.
    pub const ALL: [Function; 4] = [
        Function::Ingest,
        Function::ComputeMetrics,
        Function::CheckDegradation,
        Function::Query,
    ];

    /// Returns the crate directory name under `functions/`.
    pub fn crate_name(&self) -> &'static str {
        match self {
            Function::Ingest => "ingest",
            Function::ComputeMetrics => "compute-metrics",
            Function::CheckDegradation => "check-degradation",
            Function::Query => "query",
        }
    }
}

use crate::{
    alert, cloudwatch,
    store::{aggregates, alerts, batch, catalog, dirty, history, hours, join, reads, registry},
};

/// DynamoDB actions the ingest path calls, through the store modules it uses.
const INGEST_DYNAMODB: &[&[&str]] = &[
    batch::IAM_ACTIONS,
    catalog::IAM_ACTIONS,
    registry::IAM_ACTIONS,
    join::IAM_ACTIONS,
];

/// Actions the metrics computation calls: registrations, dirty markers, raw hours, aggregates,
/// history and CloudWatch. It reads and writes aggregates through their own module, which fetches
/// a version's hour and day items with `BatchGetItem`.
const COMPUTE: &[&[&str]] = &[
    catalog::IAM_ACTIONS,
    dirty::IAM_ACTIONS,
    hours::IAM_ACTIONS,
    aggregates::IAM_ACTIONS,
    history::IAM_ACTIONS,
    cloudwatch::IAM_ACTIONS,
];

/// Actions the degradation check calls: catalogue, snapshot and aggregate reads, monitor states
/// and the alert log, and SNS.
const CHECK: &[&[&str]] = &[
    alert::stored::IAM_ACTIONS,
    aggregates::READ_IAM_ACTIONS,
    alerts::IAM_ACTIONS,
    alert::sns::IAM_ACTIONS,
];

/// DynamoDB actions the read-only API calls. The history and aggregate modules also write, so
/// their reads are declared apart: in `reads`, and in the aggregates' `READ_IAM_ACTIONS`.
const QUERY_DYNAMODB: &[&[&str]] = &[
    catalog::IAM_ACTIONS,
    hours::IAM_ACTIONS,
    reads::IAM_ACTIONS,
    aggregates::READ_IAM_ACTIONS,
];

/// Returns the set of IAM actions `function` calls.
pub fn actions(function: Function) -> BTreeSet<&'static str> {
    let parts: &[&[&str]] = match function {
        Function::Ingest => INGEST_DYNAMODB,
        Function::ComputeMetrics => COMPUTE,
        Function::CheckDegradation => CHECK,
        Function::Query => QUERY_DYNAMODB,
    };
    parts.iter().flat_map(|list| list.iter().copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_function_is_read_only() {
        let writes = [
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:DeleteItem",
        ];
        for action in writes {
            assert!(!actions(Function::Query).contains(action), "{action}");
        }
    }

    #[test]
    fn compute_actions_are_exact() {
        let expected = [
            "cloudwatch:PutMetricData",
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
        ];
        assert_eq!(actions(Function::ComputeMetrics), expected.into_iter().collect());
    }

    #[test]
    fn ingest_actions_come_from_store_modules() {
        let expected = [
            "dynamodb:BatchGetItem",
            "dynamodb:BatchWriteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
        ];
        assert_eq!(actions(Function::Ingest), expected.into_iter().collect());
    }

    #[test]
    fn query_actions_are_reads() {
        let expected = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"];
        assert_eq!(actions(Function::Query), expected.into_iter().collect());
    }

    #[test]
    fn no_function_has_wildcard_action() {
        for function in Function::ALL {
            assert!(actions(function).iter().all(|a| !a.contains('*')));
        }
    }
}
