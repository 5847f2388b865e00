//! The analyzer's follow-ups through SQS in the emulator: the message a
//! follow-up queues is held back until the point awaited is published, and
//! ingest reads it as a batch of follow-ups.

use serde_json::{Value, json};
use shared::adapters::aws::queue::SqsFollowUpQueue;
use shared::adapters::clock::SimClock;
use shared::adapters::memory::{InMemoryMetricStore, InMemoryQueue, InMemoryStateStore};
use shared::domain::time::Timestamp;
use shared::ports::FollowUpQueue;

use crate::emulator;
use crate::fixtures::NoStacks;

#[tokio::test]
async fn a_follow_up_waits_for_its_point_and_ingest_reads_it() {
    let Some(emu) = emulator::connect("follow-up").await else {
        return;
    };
    let sqs = aws_sdk_sqs::Client::new(&emu.sdk);
    let url = sqs
        .create_queue()
        .queue_name(format!("{}-follow-ups", emu.ns))
        .send()
        .await
        .expect("CreateQueue")
        .queue_url()
        .expect("url")
        .to_string();
    let queue = SqsFollowUpQueue::new(&emu.sdk, &url);
    let now = Timestamp::from_secs(1_800_000_000);
    // Due in two minutes: not there yet.
    queue
        .follow_up("orders-later", now.add(120), now)
        .await
        .unwrap();
    // Due already: there at once.
    queue
        .follow_up("orders-prod", now.add(-5), now)
        .await
        .unwrap();
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("ReceiveMessage");
    let bodies: Vec<&str> = got.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, vec![r#"{"stacks":["orders-prod"]}"#]);

    // Ingest takes the batch: the stack is looked at (here: it is gone, so
    // it is forgotten and its insights closed) and no record fails.
    let records: Vec<Value> = got
        .messages()
        .iter()
        .map(|m| {
            json!({
                "messageId": m.message_id(), "receiptHandle": m.receipt_handle(),
                "body": m.body(), "attributes": {}, "messageAttributes": {},
                "md5OfBody": m.md5_of_body(), "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:follow-ups",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    let store = InMemoryMetricStore::default();
    let state = InMemoryStateStore::new();
    let analysis = InMemoryQueue::new();
    let deps = ingest::handler::Deps {
        catalog: NoStacks,
        source: NoStacks,
        store: &store,
        state: &state,
        queue: &analysis,
        clock: SimClock::at(now),
        settings: ingest::handler::Settings::default(),
    };
    let response = ingest::lambda::handle(&deps, &json!({ "Records": records }))
        .await
        .unwrap();
    assert_eq!(response["batchItemFailures"], json!([]), "{response}");
    let requested: Vec<String> = analysis.drain().into_iter().map(|(s, _)| s).collect();
    assert_eq!(requested, vec!["orders-prod".to_string()]);
}
