//! Ingest as a Lambda function: decodes its three kinds of invocation (the
//! EventBridge schedule, a manual event naming stacks, and a batch of the
//! analyzer's follow-ups from SQS) and wires the AWS adapters to the
//! handler.

use std::collections::BTreeMap;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde::Deserialize;
use serde_json::Value;
use shared::adapters::aws::catalog::CloudFormationCatalog;
use shared::adapters::aws::dynamo::DynamoStore;
use shared::adapters::aws::metrics::CloudWatchSource;
use shared::adapters::aws::queue::SqsAnalysisQueue;
use shared::adapters::clock::SystemClock;
use shared::domain::time::DAY;
use tracing::{error, info};

use crate::config::Config;
use crate::handler::{self, Deps, IngestError, Report, Request};

/// An invocation that is neither a schedule tick nor a list of stacks.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The event is not one ingest knows.
    #[error(
        "unsupported event: {0} (expected an EventBridge \"Scheduled Event\" or {{\"stacks\": [\"name\", …]}})"
    )]
    Unsupported(String),
}

/// A failed invocation, as Lambda reports it.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The event could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The tick failed as a whole.
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

impl From<InvokeError> for lambda_runtime::Diagnostic {
    fn from(e: InvokeError) -> Self {
        let error_type = match &e {
            InvokeError::Decode(_) => "InvalidEvent",
            InvokeError::Ingest(_) => "IngestFailed",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.into(),
            error_message: shared::error_chain(&e),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manual {
    stacks: Vec<String>,
}

/// Decodes an invocation.
///
/// # Errors
///
/// [`DecodeError`] saying what the event lacks.
pub fn decode(event: &Value) -> Result<Request, DecodeError> {
    if event.get("detail-type").is_some() {
        let e: EventBridgeEvent<Value> = serde_json::from_value(event.clone())
            .map_err(|e| DecodeError::Unsupported(format!("malformed EventBridge event: {e}")))?;
        return if e.detail_type == "Scheduled Event" {
            Ok(Request::Scheduled)
        } else {
            Err(DecodeError::Unsupported(format!(
                "detail-type {:?}",
                e.detail_type
            )))
        };
    }
    let manual: Manual = serde_json::from_value(event.clone())
        .map_err(|e| DecodeError::Unsupported(e.to_string()))?;
    let stacks: Vec<String> = manual
        .stacks
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if stacks.is_empty() {
        return Err(DecodeError::Unsupported("\"stacks\" names no stack".into()));
    }
    Ok(Request::Stacks(stacks))
}

/// The AWS adapters ingest runs with.
pub type AwsDeps<'a> = Deps<
    CloudFormationCatalog,
    CloudWatchSource,
    &'a DynamoStore,
    &'a DynamoStore,
    SqsAnalysisQueue,
    SystemClock,
>;

/// Builds the adapters from the configuration; `store` is shared by the
/// metric store and state ports.
pub fn deps<'a>(
    config: &Config,
    sdk: &shared::adapters::aws::SdkConfig,
    store: &'a DynamoStore,
) -> AwsDeps<'a> {
    Deps {
        catalog: CloudFormationCatalog::new(sdk),
        source: CloudWatchSource::new(sdk),
        store,
        state: store,
        queue: SqsAnalysisQueue::new(sdk, &config.queue_url),
        clock: SystemClock,
        settings: config.settings.clone(),
    }
}

/// The table adapter for this configuration.
pub fn store(config: &Config, sdk: &shared::adapters::aws::SdkConfig) -> DynamoStore {
    DynamoStore::new(sdk, &config.table, config.retention_days * DAY)
}

/// Handles one invocation with any adapters: decode, ingest, summarise.
///
/// # Errors
///
/// [`InvokeError`] when the event is not understood or nothing could be
/// done; failures of single stacks are in the returned summary instead.
pub async fn handle<Cat, Src, Store, State, Queue, Clk>(
    deps: &Deps<Cat, Src, Store, State, Queue, Clk>,
    event: &Value,
) -> Result<Value, InvokeError>
where
    Cat: shared::ports::StackCatalog + Sync,
    Src: shared::ports::MetricSource + Sync,
    Store: shared::ports::MetricStore + Sync,
    State: shared::ports::StateStore + Sync,
    Queue: shared::ports::AnalysisQueue + Sync,
    Clk: shared::ports::Clock + Sync,
{
    if is_sqs(event) {
        return follow_ups(deps, event).await;
    }
    let request = decode(event)?;
    let report = handler::handle(deps, &request).await?;
    info!(
        stacks = report.stacks.len(),
        failures = report.failures.len(),
        fetched = report.stacks.iter().map(|s| s.fetched).sum::<usize>(),
        "ingest done"
    );
    Ok(summary(&report))
}

/// Whether the event is a batch of SQS records (the follow-up queue).
fn is_sqs(event: &Value) -> bool {
    event
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(|r| r.get("eventSource"))
        .and_then(Value::as_str)
        == Some("aws:sqs")
}

/// The stacks one follow-up record names (its body is a manual event).
///
/// # Errors
///
/// A sentence saying what is wrong with the body.
pub fn decode_follow_up(body: Option<&str>) -> Result<Vec<String>, String> {
    let body = body.ok_or("the record has no body")?;
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    match decode(&value) {
        Ok(Request::Stacks(stacks)) => Ok(stacks),
        Ok(_) => Err("the body is not {\"stacks\": [...]}".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs a batch of follow-ups: every stack named, once; a record that
/// cannot be decoded, or whose stack failed, is a batch item failure (the
/// queue retries it; the next tick would cover it anyway).
async fn follow_ups<Cat, Src, Store, State, Queue, Clk>(
    deps: &Deps<Cat, Src, Store, State, Queue, Clk>,
    event: &Value,
) -> Result<Value, InvokeError>
where
    Cat: shared::ports::StackCatalog + Sync,
    Src: shared::ports::MetricSource + Sync,
    Store: shared::ports::MetricStore + Sync,
    State: shared::ports::StateStore + Sync,
    Queue: shared::ports::AnalysisQueue + Sync,
    Clk: shared::ports::Clock + Sync,
{
    let sqs: SqsEvent = serde_json::from_value(event.clone())
        .map_err(|e| DecodeError::Unsupported(format!("malformed SQS event: {e}")))?;
    let mut failed: Vec<String> = Vec::new();
    let mut by_stack: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for record in sqs.records {
        let id = record.message_id.unwrap_or_default();
        match decode_follow_up(record.body.as_deref()) {
            Ok(stacks) => {
                for stack in stacks {
                    by_stack.entry(stack).or_default().push(id.clone());
                }
            }
            Err(reason) => {
                error!(message_id = %id, reason, "malformed follow-up");
                failed.push(id);
            }
        }
    }
    if !by_stack.is_empty() {
        let stacks: Vec<String> = by_stack.keys().cloned().collect();
        match handler::handle(deps, &Request::FollowUp(stacks)).await {
            Ok(report) => {
                info!(
                    stacks = report.stacks.len(),
                    failures = report.failures.len(),
                    fetched = report.stacks.iter().map(|s| s.fetched).sum::<usize>(),
                    "follow-up done"
                );
                for (stack, _) in &report.failures {
                    failed.extend(by_stack.get(stack).into_iter().flatten().cloned());
                }
            }
            Err(e) => {
                error!(error = %shared::error_chain(&e), "follow-up failed");
                failed.extend(by_stack.into_values().flatten());
            }
        }
    }
    failed.sort();
    failed.dedup();
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    serde_json::to_value(response)
        .map_err(|e| InvokeError::Decode(DecodeError::Unsupported(e.to_string())))
}

fn summary(report: &Report) -> Value {
    serde_json::json!({
        "stacks": report.stacks.iter().map(|s| serde_json::json!({
            "stack": s.stack,
            "watched": s.watched,
            "fetched": s.fetched,
            "points": s.points,
            "events": s.events,
            "removed": s.removed,
        })).collect::<Vec<_>>(),
        "failures": report.failures.iter().map(|(stack, error)| serde_json::json!({
            "stack": stack,
            "error": error,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_ticks_and_manual_runs_are_told_apart() {
        let tick = serde_json::json!({
            "version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-03-08T14:05:00Z", "region": "eu-west-1",
            "resources": [], "detail": {}
        });
        assert_eq!(decode(&tick).unwrap(), Request::Scheduled);
        let manual = serde_json::json!({"stacks": ["orders-prod", " "]});
        assert_eq!(
            decode(&manual).unwrap(),
            Request::Stacks(vec!["orders-prod".into()])
        );
        for bad in [
            serde_json::json!({"stacks": []}),
            serde_json::json!({"stack": "x"}),
            serde_json::json!([1]),
        ] {
            assert!(decode(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn follow_up_bodies_name_stacks_and_bad_ones_say_why() {
        assert_eq!(
            decode_follow_up(Some(r#"{"stacks": ["orders-prod"]}"#)).unwrap(),
            vec!["orders-prod".to_string()]
        );
        assert!(decode_follow_up(None).unwrap_err().contains("no body"));
        assert!(
            decode_follow_up(Some("{"))
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(decode_follow_up(Some(r#"{"stacks": []}"#)).is_err());
        let sqs = serde_json::json!({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]});
        assert!(is_sqs(&sqs));
        assert!(!is_sqs(&serde_json::json!({"stacks": ["x"]})));
    }
}
