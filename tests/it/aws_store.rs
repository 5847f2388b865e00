//! The DynamoDB stores against the emulator: idempotent windows, versioned
//! state with conflicts, changes recorded once, the delivery log, and
//! inventories that rewrite only what changed.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use shared::adapters::aws::dynamo::DynamoStore;
use shared::domain::analysis::StackState;
use shared::domain::catalog::plan_metrics;
use shared::domain::detector::Baseline;
use shared::domain::inventory::{StackInventory, TrackedMetric};
use shared::domain::metric::MetricKey;
use shared::domain::resource::Resource;
use shared::domain::time::{DAY, TimeRange, Timestamp};
use shared::domain::window::MetricWindow;
use shared::ports::{DeliveryLog, MetricStore, StateStore, StoreError, Version};

use crate::emulator::{self, Emulator};

async fn table(emu: &Emulator) -> String {
    let name = format!("{}-table", emu.ns);
    let key = |n: &str, k: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(k)
            .build()
            .unwrap()
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    aws_sdk_dynamodb::Client::new(&emu.sdk)
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .send()
        .await
        .unwrap();
    name
}

fn t(m: i64) -> Timestamp {
    Timestamp::from_secs(1_800_000_000 / DAY * DAY + m * 60)
}

fn inventory(stack: &str, functions: usize) -> StackInventory {
    let resources: Vec<Resource> = (0..functions)
        .map(|i| {
            Resource::new(
                format!("Fn{i}"),
                format!("{stack}-Fn{i}"),
                "AWS::Lambda::Function",
            )
        })
        .collect();
    let metrics = plan_metrics(&resources, &BTreeMap::new(), &[], 60)
        .into_iter()
        .map(|watched| TrackedMetric {
            watched,
            fetched_until: None,
            live_from: t(0),
        })
        .collect();
    StackInventory {
        stack: stack.into(),
        resources,
        metrics,
        updated: Some(t(0)),
        ..StackInventory::default()
    }
}

#[tokio::test]
async fn windows_stored_twice_read_back_the_same_and_inventories_rewrite_only_what_changed() {
    let Some(emu) = emulator::connect("windows").await else {
        return;
    };
    let table = table(&emu).await;
    let store = DynamoStore::new(&emu.sdk, &table, 15 * DAY);
    let stack = format!("{}-app", emu.ns);
    let mut inv = inventory(&stack, 2);
    store.put_inventory(&inv).await.unwrap();
    assert_eq!(store.inventory(&stack).await.unwrap(), Some(inv.clone()));
    assert!(store.stacks().await.unwrap().contains(&stack));

    // A 10-hour warm start and a later overlapping refetch with a revision.
    let key: MetricKey = inv.metrics[0].watched.key.clone();
    let warm = MetricWindow::from_fetch(
        TimeRange::new(t(-600), t(0)),
        (-600..0).map(|m| (t(m), m as f64)),
        60,
    );
    let late = MetricWindow::from_fetch(
        TimeRange::new(t(-3), t(5)),
        [(t(-3), 99.0), (t(2), 2.0)],
        60,
    );
    store
        .put_windows(&stack, &[(key.clone(), warm.clone())])
        .await
        .unwrap();
    store
        .put_windows(&stack, &[(key.clone(), late.clone())])
        .await
        .unwrap();
    let range = TimeRange::new(t(-700), t(10));
    let once = store.windows(&stack, range).await.unwrap();
    store
        .put_windows(&stack, &[(key.clone(), warm.clone())])
        .await
        .unwrap();
    store
        .put_windows(&stack, &[(key.clone(), late.clone())])
        .await
        .unwrap();
    let twice = store.windows(&stack, range).await.unwrap();
    assert_eq!(once, twice, "storing the same windows again changed them");
    // Even a second later, storing the old fetch again does not make it win.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    store
        .put_windows(&stack, &[(key.clone(), warm.clone())])
        .await
        .unwrap();
    assert_eq!(store.windows(&stack, range).await.unwrap(), once);
    let mut expected = warm.clone();
    expected.merge(&late);
    assert_eq!(once.get(&key), Some(&expected));
    assert_eq!(
        once[&key].value_at(t(-3)),
        Some(99.0),
        "the later fetch wins"
    );
    assert_eq!(once.len(), 1);

    // Only progress changed: one PutItem, no batch of catalog chunks.
    inv.metrics[0].fetched_until = Some(t(5));
    inv.updated = Some(t(5));
    emu.proxy.reset();
    store.put_inventory(&inv).await.unwrap();
    let counts = emu.proxy.counts();
    assert_eq!(counts.of("dynamodb:PutItem"), 1, "{counts:?}");
    assert_eq!(counts.of("dynamodb:BatchWriteItem"), 0, "{counts:?}");
    // Another process reads what this one wrote.
    let other = DynamoStore::new(&emu.sdk, &table, 15 * DAY);
    assert_eq!(other.inventory(&stack).await.unwrap(), Some(inv.clone()));
    // A resource more: the catalog is rewritten, the old one removed.
    let bigger = inventory(&stack, 3);
    other.put_inventory(&bigger).await.unwrap();
    assert_eq!(store.inventory(&stack).await.unwrap(), Some(bigger));

    // A big stack's fetch splits into several packs and reads back whole.
    let big = inventory(&stack, 120);
    store.put_inventory(&big).await.unwrap();
    let fetched: Vec<(MetricKey, MetricWindow)> = big
        .metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let w = MetricWindow::from_fetch(
                TimeRange::new(t(0), t(240)),
                (0..240).map(|j| (t(j), (i * 1000 + j as usize) as f64 + 0.123_456_789)),
                60,
            );
            (m.watched.key.clone(), w)
        })
        .collect();
    emu.proxy.reset();
    store.put_windows(&stack, &fetched).await.unwrap();
    // Some 2 MB in a handful of items under the item limit, not 720.
    let counts = emu.proxy.counts();
    assert_eq!(counts.of("dynamodb:BatchWriteItem"), 1, "{counts:?}");
    let back = store
        .windows(&stack, TimeRange::new(t(0), t(240)))
        .await
        .unwrap();
    assert_eq!(back.len(), fetched.len());
    for (key, w) in &fetched {
        assert_eq!(back.get(key), Some(w), "{key}");
    }

    store.forget(&stack).await.unwrap();
    assert_eq!(store.inventory(&stack).await.unwrap(), None);
    assert!(store.windows(&stack, range).await.unwrap().is_empty());
    assert!(!store.stacks().await.unwrap().contains(&stack));
}

#[tokio::test]
async fn a_lost_race_is_a_conflict_that_leaves_the_winners_state() {
    let Some(emu) = emulator::connect("state").await else {
        return;
    };
    let table = table(&emu).await;
    let a = DynamoStore::new(&emu.sdk, &table, 15 * DAY);
    let b = DynamoStore::new(&emu.sdk, &table, 15 * DAY);
    let stack = format!("{}-app", emu.ns);
    let inv = inventory(&stack, 1);
    let (empty, v0) = a.load(&stack).await.unwrap();
    assert_eq!((empty.clone(), v0), (StackState::default(), Version(0)));
    assert!(!a.has_open_insight(&stack).await.unwrap());

    // Both load version 0; a saves first.
    let (_, vb) = b.load(&stack).await.unwrap();
    let mut state_a = StackState::default();
    for m in &inv.metrics {
        state_a
            .baselines
            .insert(m.watched.key.clone(), Baseline::new());
    }
    a.save(&stack, &state_a, v0, &[]).await.unwrap();
    let mut state_b = state_a.clone();
    let first = inv.metrics[0].watched.key.clone();
    state_b.baselines.get_mut(&first).unwrap().advance(t(100));
    let lost = b.save(&stack, &state_b, vb, &[]).await;
    assert!(matches!(lost, Err(StoreError::Conflict { .. })), "{lost:?}");
    let (stored, v1) = b.load(&stack).await.unwrap();
    assert_eq!(v1, Version(1));
    assert_eq!(stored, state_a, "the loser wrote something visible");

    // The loser reloads and saves: only its changed baseline is written.
    emu.proxy.reset();
    b.save(&stack, &state_b, v1, &[]).await.unwrap();
    let counts = emu.proxy.counts();
    assert_eq!(counts.of("dynamodb:BatchWriteItem"), 1, "{counts:?}");
    let (stored, v2) = a.load(&stack).await.unwrap();
    assert_eq!((stored, v2), (state_b, Version(2)));
}

#[tokio::test]
async fn a_change_is_claimed_for_delivery_once_until_released() {
    let Some(emu) = emulator::connect("delivery").await else {
        return;
    };
    let table = table(&emu).await;
    let log = DynamoStore::new(&emu.sdk, &table, 15 * DAY);
    let id = format!("{}-change", emu.ns);
    assert!(log.claim(&id).await.unwrap());
    assert!(!log.claim(&id).await.unwrap());
    log.release(&id).await.unwrap();
    assert!(log.claim(&id).await.unwrap());
}
