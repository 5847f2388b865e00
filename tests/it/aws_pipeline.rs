//! The whole pipeline against the emulator: a stack created in
//! CloudFormation, an incident written to CloudWatch, the real handlers
//! behind the real AWS adapters, and what a subscriber of the topic gets.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::aws_world::{World, start_time};
use crate::emulator;

fn attribute<'a>(envelope: &'a Value, name: &str) -> Option<&'a str> {
    envelope["MessageAttributes"][name]["Value"].as_str()
}

fn body(envelope: &Value) -> Value {
    serde_json::from_str(envelope["Message"].as_str().expect("a message")).expect("a Notification")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_is_notified_once_when_it_opens_and_once_when_it_closes() {
    let Some(emu) = emulator::connect("pipeline").await else {
        return;
    };
    let mut world = World::create(emu, 1).await;
    let stores = world.stores();
    // Errors jump from none to 40 a minute for 15 minutes.
    world.put_errors(10, 25, 40.0).await;

    let mut received: Vec<Value> = Vec::new();
    let mut last = (None, None);
    for tick in 0..=18 {
        let t = start_time().add(tick * 300);
        last = world.tick(&stores, t).await;
        received.extend(world.inbox().await);
    }

    // The emulator's table has point-in-time recovery off: one proactive
    // insight says so, once; the rest is the incident's lifecycle.
    let of_kind = |kind: &str| -> Vec<String> {
        received
            .iter()
            .filter(|e| body(e)["type"] == kind)
            .map(|e| attribute(e, "MessageType").unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(of_kind("PROACTIVE"), vec!["NEW_INSIGHT"]);
    let types = of_kind("REACTIVE");
    let count = |ty: &str| types.iter().filter(|t| *t == ty).count();
    assert_eq!(count("NEW_INSIGHT"), 1, "messages: {types:?}");
    assert_eq!(count("CLOSED_INSIGHT"), 1, "messages: {types:?}");
    let mut ids = BTreeMap::new();
    for envelope in &received {
        let n = body(envelope);
        assert_eq!(
            attribute(envelope, "MessageType"),
            n["messageType"].as_str()
        );
        assert_eq!(attribute(envelope, "Severity"), n["severity"].as_str());
        assert_eq!(attribute(envelope, "Stack"), Some(world.stack.as_str()));
        assert_eq!(n["stack"], world.stack.as_str());
        *ids.entry(n["changeId"].as_str().unwrap_or_default().to_string())
            .or_insert(0) += 1;
    }
    assert!(
        ids.values().all(|&n| n == 1),
        "a change was sent twice: {ids:?}"
    );
    let new = received
        .iter()
        .map(body)
        .find(|n| n["messageType"] == "NEW_INSIGHT" && n["type"] == "REACTIVE")
        .expect("a new insight");
    assert_eq!(new["anomalies"][0]["metricName"], "Errors");
    assert_eq!(new["anomalies"][0]["resourceName"], world.function.as_str());

    // The same tick again, and the last batches delivered again: nothing new.
    let t = start_time().add(18 * 300);
    world.tick(&stores, t).await;
    if let Some(batch) = &last.0 {
        world.analyze(&stores.analyzer, batch).await;
    }
    if let Some(batch) = &last.1 {
        world.notify(&stores.notifier, batch).await;
    }
    assert!(
        world.take_stream_batch().await.is_none(),
        "a redelivery recorded a change"
    );
    assert!(
        world.inbox().await.is_empty(),
        "a retry or redelivery sent a message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_stack_is_forgotten_and_its_open_insight_closed() {
    let Some(emu) = emulator::connect("deleted").await else {
        return;
    };
    let mut world = World::create(emu, 1).await;
    let stores = world.stores();
    // Errors that do not stop: the insight stays open.
    world.put_errors(10, 60, 40.0).await;
    let mut types = Vec::new();
    for tick in 0..=5 {
        world.tick(&stores, start_time().add(tick * 300)).await;
        types.extend(
            world
                .inbox()
                .await
                .iter()
                .filter(|e| body(e)["type"] == "REACTIVE")
                .map(|e| body(e)["messageType"].clone()),
        );
    }
    assert_eq!(types, vec![Value::from("NEW_INSIGHT")]);

    aws_sdk_cloudformation::Client::new(&world.emu.sdk)
        .delete_stack()
        .stack_name(&world.stack)
        .send()
        .await
        .expect("DeleteStack");
    world.tick(&stores, start_time().add(6 * 300)).await;
    // Both the incident and the proactive insight about the table close.
    let closed: Vec<Value> = world.inbox().await.iter().map(body).collect();
    let closed_of = |kind: &str| closed.iter().filter(|n| n["type"] == kind).count();
    assert_eq!(
        (closed_of("REACTIVE"), closed_of("PROACTIVE")),
        (1, 1),
        "{closed:?}"
    );
    assert!(
        closed.iter().all(|n| n["messageType"] == "CLOSED_INSIGHT"),
        "{closed:?}"
    );
    use shared::ports::MetricStore;
    assert!(
        stores
            .ingest
            .inventory(&world.stack)
            .await
            .expect("readable")
            .is_none()
    );
    assert!(
        !stores
            .ingest
            .stacks()
            .await
            .expect("listable")
            .contains(&world.stack)
    );
}
