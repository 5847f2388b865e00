//! The notifier as a Lambda function: triggered by the table's stream,
//! filtered to inserted change items, failures reported per record by
//! sequence number (`ReportBatchItemFailures`). A record that cannot be
//! decoded is reported as that record's failure; the others are delivered.

use std::collections::BTreeMap;

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_json::Value;
use shared::adapters::aws::dynamo::DynamoStore;
use shared::adapters::aws::notify::SnsNotifier;
use shared::messages::Notification;
use shared::ports::{DeliveryLog, Notifier};
use tracing::{error, info};

use crate::config::Config;
use crate::handler::{self, Deps};

/// An event that is not a DynamoDB stream batch.
#[derive(Debug, thiserror::Error)]
#[error("the event is not a DynamoDB stream batch: {0}")]
pub struct InvokeError(String);

impl From<InvokeError> for lambda_runtime::Diagnostic {
    fn from(e: InvokeError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "InvalidEvent".into(),
            error_message: e.to_string(),
        }
    }
}

/// The AWS adapters the notifier runs with.
pub type AwsDeps<'a> = Deps<SnsNotifier, &'a DynamoStore>;

/// Builds the table adapter (the delivery log) for this configuration.
pub fn store(config: &Config, sdk: &shared::adapters::aws::SdkConfig) -> DynamoStore {
    DynamoStore::new(sdk, &config.table, 15 * shared::domain::time::DAY)
}

/// Builds the handler's ports.
pub fn deps<'a>(
    config: &Config,
    sdk: &shared::adapters::aws::SdkConfig,
    log: &'a DynamoStore,
) -> AwsDeps<'a> {
    Deps {
        notifier: SnsNotifier::new(sdk, &config.topic_arn),
        log,
        filter: config.filter.clone(),
    }
}

/// What one stream record holds.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    /// An inserted change item.
    Change(Box<Notification>),
    /// Another kind of item or event (left alone).
    Other,
}

/// Decodes one stream record.
///
/// # Errors
///
/// A sentence saying what is wrong with it.
pub fn decode_record(record: &Value) -> Result<Decoded, String> {
    let record: EventRecord =
        serde_json::from_value(record.clone()).map_err(|e| format!("not a stream record: {e}"))?;
    if record.event_name != "INSERT" {
        return Ok(Decoded::Other);
    }
    let image = serde_json::to_value(&record.change.new_image).map_err(|e| e.to_string())?;
    if image.pointer("/kind/S").and_then(Value::as_str) != Some("change") {
        return Ok(Decoded::Other);
    }
    let body = image
        .pointer("/body/S")
        .and_then(Value::as_str)
        .ok_or("the change item has no body")?;
    let notification: Notification =
        serde_json::from_str(body).map_err(|e| format!("the body is not a Notification: {e}"))?;
    Ok(Decoded::Change(Box::new(notification)))
}

/// Handles one stream batch with any adapters.
///
/// # Errors
///
/// [`InvokeError`] when the event has no `Records` list.
pub async fn handle<N, L>(
    deps: &Deps<N, L>,
    event: &Value,
) -> Result<DynamoDbEventResponse, InvokeError>
where
    N: Notifier + Sync,
    L: DeliveryLog + Sync,
{
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| InvokeError("no \"Records\" list".into()))?;
    let mut failures: Vec<String> = Vec::new();
    let mut batch = Vec::new();
    let mut sequence_of: BTreeMap<String, String> = BTreeMap::new();
    for record in records {
        let sequence = record
            .pointer("/dynamodb/SequenceNumber")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match decode_record(record) {
            Ok(Decoded::Change(n)) => {
                sequence_of.insert(n.change_id.clone(), sequence);
                batch.push(*n);
            }
            Ok(Decoded::Other) => {}
            Err(reason) => {
                error!(sequence_number = %sequence, reason, "malformed stream record");
                failures.push(sequence);
            }
        }
    }
    let report = handler::handle(deps, &batch).await;
    info!(
        sent = report.sent,
        filtered = report.filtered,
        duplicates = report.duplicates,
        failures = report.failures.len() + failures.len(),
        "notifications done"
    );
    failures.extend(
        report
            .failures
            .iter()
            .filter_map(|(change_id, _)| sequence_of.get(change_id).cloned()),
    );
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|sequence| {
            let mut f = DynamoDbBatchItemFailure::default();
            f.item_identifier = Some(sequence);
            f
        })
        .collect();
    Ok(response)
}
