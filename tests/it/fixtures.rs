//! Every sample event in `events/` goes through its function's decoding and
//! handler with in-memory adapters: the samples users invoke by hand stay
//! in step with the code.

use std::path::{Path, PathBuf};

use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::Value;
use shared::adapters::clock::SimClock;
use shared::adapters::memory::{
    CollectingNotifier, InMemoryDeliveryLog, InMemoryMetricStore, InMemoryQueue, InMemoryStateStore,
};
use shared::domain::event::StackEvent;
use shared::domain::metric::{Dimension, MetricKey, Series};
use shared::domain::notification::NotificationFilter;
use shared::domain::resource::{ConfigValue, Resource};
use shared::domain::stack::{StackSelection, StackSummary};
use shared::domain::time::Timestamp;
use shared::ports::{FetchRequest, MetricSource, SourceError, StackCatalog};

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn samples(function: &str) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(events_dir().join(function))
        .unwrap_or_else(|e| panic!("events/{function}: {e}"))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&p).unwrap();
            let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, json)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!out.is_empty(), "no samples for {function}");
    out
}

/// A CloudFormation with no stacks.
pub(crate) struct NoStacks;

impl StackCatalog for NoStacks {
    async fn list_stacks(&self, _: &StackSelection) -> Result<Vec<StackSummary>, SourceError> {
        Ok(Vec::new())
    }
    async fn resources(&self, stack: &str) -> Result<Vec<Resource>, SourceError> {
        Err(SourceError::NotFound {
            what: format!("stack {stack}"),
        })
    }
    async fn events(&self, _: &str, _: Timestamp) -> Result<Vec<StackEvent>, SourceError> {
        Ok(Vec::new())
    }
    async fn configuration(&self, _: &Resource) -> Result<Option<ConfigValue>, SourceError> {
        Ok(None)
    }
}

impl MetricSource for NoStacks {
    async fn fetch(&self, requests: &[FetchRequest]) -> Result<Vec<Series>, SourceError> {
        Ok(requests
            .iter()
            .map(|r| Series {
                key: r.key.clone(),
                points: Vec::new(),
            })
            .collect())
    }
    async fn discover(&self, _: &str, _: &Dimension) -> Result<Vec<MetricKey>, SourceError> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn every_ingest_sample_is_decoded_and_handled_or_refused() {
    for (name, event) in samples("ingest") {
        let store = InMemoryMetricStore::default();
        let state = InMemoryStateStore::new();
        let deps = ingest::handler::Deps {
            catalog: NoStacks,
            source: NoStacks,
            store: &store,
            state: &state,
            queue: InMemoryQueue::new(),
            clock: SimClock::at(Timestamp::from_secs(1_800_000_000)),
            settings: ingest::handler::Settings::default(),
        };
        let result = ingest::lambda::handle(&deps, &event).await;
        if let Some(records) = event.get("Records").and_then(Value::as_array) {
            // A batch of follow-ups: only the records that cannot be read fail.
            let response = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            let failed: Vec<&str> = response["batchItemFailures"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: {response}"))
                .iter()
                .filter_map(|f| f["itemIdentifier"].as_str())
                .collect();
            let bad: Vec<&str> = records
                .iter()
                .filter(|r| ingest::lambda::decode_follow_up(r["body"].as_str()).is_err())
                .filter_map(|r| r["messageId"].as_str())
                .collect();
            assert_eq!(failed, bad, "{name}");
            assert_eq!(!bad.is_empty(), name.contains("malformed"), "{name}");
        } else if name.contains("malformed") {
            let err = result.expect_err(&name);
            let diagnostic = lambda_diagnostic(err);
            assert_eq!(diagnostic.0, "InvalidEvent", "{name}");
        } else {
            let summary = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                summary["failures"].as_array().unwrap().is_empty(),
                "{name}: {summary}"
            );
            let named = event
                .get("stacks")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            assert_eq!(summary["stacks"].as_array().unwrap().len(), named, "{name}");
        }
    }
}

fn lambda_diagnostic(e: ingest::lambda::InvokeError) -> (String, String) {
    let d: lambda_runtime::Diagnostic = e.into();
    (d.error_type, d.error_message)
}

#[tokio::test]
async fn every_analyzer_sample_fails_only_its_malformed_records() {
    for (name, event) in samples("analyzer") {
        let store = InMemoryMetricStore::default();
        let state = InMemoryStateStore::new();
        let deps = analyzer::handler::Deps {
            store: &store,
            state: &state,
            follow_ups: shared::ports::NoFollowUps,
            clock: SimClock::at(Timestamp::from_secs(1_800_000_000)),
            settings: Default::default(),
            publication_lag_secs: shared::ports::PUBLICATION_LAG_SECS,
        };
        let sqs: SqsEvent =
            serde_json::from_value(event.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let bad: Vec<String> = sqs
            .records
            .iter()
            .filter(|r| analyzer::lambda::decode_record(r.body.as_deref()).is_err())
            .filter_map(|r| r.message_id.clone())
            .collect();
        assert_eq!(!bad.is_empty(), name.contains("malformed"), "{name}");
        let response = analyzer::lambda::handle(&deps, sqs).await.unwrap();
        let failed: Vec<String> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        assert_eq!(failed, bad, "{name}");
    }
}

#[tokio::test]
async fn every_notifier_sample_is_sent_once_and_malformed_records_fail_alone() {
    for (name, event) in samples("notifier") {
        let notifier = CollectingNotifier::new();
        let log = InMemoryDeliveryLog::new();
        let deps = notifier::handler::Deps {
            notifier: &notifier,
            log: &log,
            filter: NotificationFilter::all(),
        };
        let records = event["Records"].as_array().unwrap();
        let bad: Vec<String> = records
            .iter()
            .filter(|r| notifier::lambda::decode_record(r).is_err())
            .map(|r| {
                r["dynamodb"]["SequenceNumber"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(!bad.is_empty(), name.contains("malformed"), "{name}");
        let response = notifier::lambda::handle(&deps, &event).await.unwrap();
        let failed: Vec<String> = response
            .batch_item_failures
            .iter()
            .filter_map(|f| f.item_identifier.clone())
            .collect();
        assert_eq!(failed, bad, "{name}");
        assert_eq!(notifier.sent().len(), records.len() - bad.len(), "{name}");
        // Delivered again: nothing more is sent.
        notifier::lambda::handle(&deps, &event).await.unwrap();
        assert_eq!(notifier.sent().len(), records.len() - bad.len(), "{name}");
    }
}
