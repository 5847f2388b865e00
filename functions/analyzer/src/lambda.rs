//! The analyzer as a Lambda function: one SQS record per stack to analyze,
//! failures reported per record (`ReportBatchItemFailures`), so that only
//! the failed stacks come back. Safe under at-least-once delivery: the
//! handler's analysis is idempotent and versioned.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use shared::adapters::aws::dynamo::DynamoStore;
use shared::adapters::aws::queue::SqsFollowUpQueue;
use shared::adapters::clock::SystemClock;
use shared::messages::AnalyzeRequest;
use shared::ports::{Clock, FollowUpQueue, MetricStore, PUBLICATION_LAG_SECS, StateStore};
use tracing::{error, info};

use crate::config::Config;
use crate::handler::{self, Deps, Request};

/// A batch that could not be handled at all.
#[derive(Debug, thiserror::Error)]
#[error("the SQS event could not be decoded: {0}")]
pub struct InvokeError(String);

impl From<InvokeError> for lambda_runtime::Diagnostic {
    fn from(e: InvokeError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "InvalidEvent".into(),
            error_message: e.to_string(),
        }
    }
}

/// The AWS adapters the analyzer runs with.
pub type AwsDeps<'a> =
    Deps<&'a DynamoStore, &'a DynamoStore, Option<SqsFollowUpQueue>, SystemClock>;

/// Builds the table adapter for this configuration.
pub fn store(config: &Config, sdk: &shared::adapters::aws::SdkConfig) -> DynamoStore {
    // The analyzer never writes windows: retention does not matter here.
    DynamoStore::new(sdk, &config.table, 15 * shared::domain::time::DAY)
}

/// Builds the handler's ports.
pub fn deps<'a>(
    config: &Config,
    sdk: &shared::adapters::aws::SdkConfig,
    store: &'a DynamoStore,
) -> AwsDeps<'a> {
    Deps {
        store,
        state: store,
        follow_ups: config
            .follow_up_queue_url
            .as_ref()
            .map(|url| SqsFollowUpQueue::new(sdk, url)),
        clock: SystemClock,
        settings: config.settings.clone(),
        publication_lag_secs: PUBLICATION_LAG_SECS,
    }
}

/// Decodes one record's body: the stack to analyze.
///
/// # Errors
///
/// A sentence saying what is wrong with it.
pub fn decode_record(body: Option<&str>) -> Result<Request, String> {
    let body = body.ok_or("the record has no body")?;
    let request: AnalyzeRequest = serde_json::from_str(body)
        .map_err(|e| format!("the body is not an AnalyzeRequest: {e}"))?;
    if request.stack.trim().is_empty() {
        return Err("the request names no stack".into());
    }
    Ok(Request {
        stack: request.stack,
    })
}

/// Handles one SQS batch with any adapters. A stack named by several
/// records is analyzed once; a record that cannot be decoded or whose
/// analysis fails is reported as a batch item failure.
///
/// # Errors
///
/// Never for a well-formed SQS event; the signature leaves room for one.
pub async fn handle<Store, State, FollowUps, Clk>(
    deps: &Deps<Store, State, FollowUps, Clk>,
    event: SqsEvent,
) -> Result<SqsBatchResponse, InvokeError>
where
    Store: MetricStore + Sync,
    State: StateStore + Sync,
    FollowUps: FollowUpQueue + Sync,
    Clk: Clock + Sync,
{
    let mut failures = Vec::new();
    let mut by_stack: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for record in event.records {
        let id = record.message_id.unwrap_or_default();
        match decode_record(record.body.as_deref()) {
            Ok(request) => by_stack.entry(request.stack).or_default().push(id),
            Err(reason) => {
                error!(message_id = %id, reason, "malformed analysis request");
                failures.push(id);
            }
        }
    }
    for (stack, ids) in by_stack {
        match handler::handle(
            deps,
            &Request {
                stack: stack.clone(),
            },
        )
        .await
        {
            Ok(report) => info!(
                stack,
                points = report.points,
                changes = report.changes,
                attempts = report.attempts,
                "analysis done"
            ),
            Err(e) => {
                error!(stack, error = %shared::error_chain(&e), "analysis failed");
                failures.extend(ids);
            }
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    Ok(response)
}
