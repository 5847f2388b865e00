//! The metric store, state store and delivery log over one DynamoDB table.
//! The item layout and the reasons for it are in the parent module's docs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, Put, PutRequest, TransactWriteItem,
    WriteRequest,
};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::{debug, warn};

use super::store_unavailable;
use crate::codec::{self, CodecError, Cursor, InventoryParts};
use crate::domain::analysis::StackState;
use crate::domain::detector::Baseline;
use crate::domain::insight::InsightChange;
use crate::domain::inventory::StackInventory;
use crate::domain::metric::MetricKey;
use crate::domain::time::{DAY, HOUR, TimeRange, Timestamp};
use crate::domain::window::MetricWindow;
use crate::messages::Notification;
use crate::ports::{DeliveryLog, MetricStore, StateStore, StoreError, Version};

/// Most items in one `BatchWriteItem` call (DynamoDB refuses more).
pub const MAX_BATCH_WRITE: usize = 25;
/// Most keys in one `BatchGetItem` call.
pub const MAX_BATCH_GET: usize = 100;
/// Most actions in one `TransactWriteItems` call.
pub const MAX_TRANSACTION: usize = 100;
/// Bytes of one stored part at most, well under the 400 KB item limit.
pub const MAX_PART_BYTES: usize = 300_000;
/// Length of the time bucket a window slice covers at most.
pub const SLICE_SECS: i64 = 4 * HOUR;
/// How long a baseline item lives unless it is rewritten.
const BASELINE_TTL: i64 = 7 * DAY;
/// Baselines older than this are rewritten at the next save, to renew
/// their TTL.
const BASELINE_RENEW: i64 = 3 * DAY;
/// How long change items and delivery claims are kept.
const CHANGE_TTL: i64 = 30 * DAY;
/// How many window partitions are read at once.
const READ_CONCURRENCY: usize = 8;
/// Attempts at writing a batch's unprocessed items.
const BATCH_ATTEMPTS: u32 = 6;

/// Attribute names.
const PK: &str = "pk";
const SK: &str = "sk";
const EXPIRES: &str = "expires";
const DATA: &str = "data";

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn b(v: Vec<u8>) -> AttributeValue {
    AttributeValue::B(Blob::new(v))
}

/// A short, stable hash: 16 hex digits of SHA-256.
fn short_hash(bytes: &[u8]) -> String {
    to_hex(&short_digest(bytes))
}

/// The first 8 bytes of the SHA-256 of `bytes`.
fn short_digest(bytes: &[u8]) -> [u8; 8] {
    let digest = Sha256::digest(bytes);
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

/// A metric's name in partition keys: its tag in hex.
fn metric_hash(key: &MetricKey) -> String {
    to_hex(&metric_tag(key))
}

/// Time keys sort as strings: seconds, zero-padded.
fn time_key(t: Timestamp) -> String {
    format!("{:012}", t.secs().max(0))
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Which parts a stack's stored inventory is made of.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct InventoryMeta {
    catalog: String,
    chunks: usize,
    events: String,
}

/// A baseline's place in the state head's index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct IndexEntry {
    /// The generation (sort key) of its item.
    g: String,
    /// When the item was written (epoch seconds).
    w: i64,
    /// Hash of its bytes, to tell whether it changed.
    h: String,
}

/// Version of the head's binary baseline index.
const INDEX_VERSION: u8 = 1;
/// Bytes of one entry of the binary index.
const INDEX_ENTRY_BYTES: usize = 8 + 8 + 8 + 8 + 8;

fn hex8(text: &str) -> Option<[u8; 8]> {
    if text.len() != 16 {
        return None;
    }
    let mut out = [0u8; 8];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|x| format!("{x:02x}")).collect()
}

/// The head's baseline index as bytes: 40 a baseline (its metric hash,
/// generation version and nonce, write time and content hash), where JSON
/// took about 90. The head is rewritten at every analysis, so its size is
/// paid at every tick.
fn encode_index(index: &BTreeMap<String, IndexEntry>) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(5 + INDEX_ENTRY_BYTES * index.len());
    out.push(INDEX_VERSION);
    out.extend_from_slice(
        &u32::try_from(index.len())
            .map_err(|e| e.to_string())?
            .to_le_bytes(),
    );
    for (hash, e) in index {
        let (version, nonce) =
            e.g.split_once('-')
                .and_then(|(v, n)| Some((v.parse::<u64>().ok()?, hex8(n)?)))
                .ok_or_else(|| format!("generation {:?} is not VERSION-NONCE", e.g))?;
        let hash =
            hex8(hash).ok_or_else(|| format!("metric hash {hash:?} is not 16 hex digits"))?;
        let h = hex8(&e.h).ok_or_else(|| format!("content hash {:?} is not 16 hex digits", e.h))?;
        out.extend_from_slice(&hash);
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&e.w.to_le_bytes());
        out.extend_from_slice(&h);
    }
    Ok(out)
}

/// [`encode_index`]'s bytes, or the JSON index that heads held before.
fn decode_index(bytes: &[u8]) -> Result<BTreeMap<String, IndexEntry>, String> {
    match bytes.first() {
        None => Ok(BTreeMap::new()),
        Some(b'{') => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
        Some(&INDEX_VERSION) => {
            let count = bytes
                .get(1..5)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_le_bytes)
                .ok_or("truncated count")?;
            let body = &bytes[5..];
            if body.len() != INDEX_ENTRY_BYTES * count as usize {
                return Err(format!("{} bytes for {count} entries", body.len()));
            }
            let mut index = BTreeMap::new();
            for e in body.chunks_exact(INDEX_ENTRY_BYTES) {
                let word = |at: usize| {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(&e[at..at + 8]);
                    w
                };
                index.insert(
                    to_hex(&e[..8]),
                    IndexEntry {
                        g: format!("{:012}-{}", u64::from_le_bytes(word(8)), to_hex(&e[16..24])),
                        w: i64::from_le_bytes(word(24)),
                        h: to_hex(&e[32..40]),
                    },
                );
            }
            Ok(index)
        }
        Some(v) => Err(format!("unknown index version {v}")),
    }
}

#[derive(Debug, Default)]
struct Cache {
    inventories: HashMap<String, StackInventory>,
    state: HashMap<String, (Version, BTreeMap<String, IndexEntry>)>,
}

/// The table, and what this process last read of it.
#[derive(Debug)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    retention_secs: i64,
    cache: Mutex<Cache>,
    counter: std::sync::atomic::AtomicU64,
}

fn lock(m: &Mutex<Cache>) -> std::sync::MutexGuard<'_, Cache> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn corrupt(what: impl Into<String>, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what: what.into(),
        detail: detail.to_string(),
    }
}

fn blob(item: &HashMap<String, AttributeValue>, name: &str) -> Option<Vec<u8>> {
    match item.get(name) {
        Some(AttributeValue::B(b)) => Some(b.as_ref().to_vec()),
        _ => None,
    }
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> Option<i64> {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

impl DynamoStore {
    /// The table `table`, keeping `retention_secs` of windows.
    pub fn new(
        config: &aws_config::SdkConfig,
        table: impl Into<String>,
        retention_secs: i64,
    ) -> Self {
        Self::from_client(aws_sdk_dynamodb::Client::new(config), table, retention_secs)
    }

    /// The same over an existing client.
    pub fn from_client(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        retention_secs: i64,
    ) -> Self {
        Self {
            client,
            table: table.into(),
            retention_secs,
            cache: Mutex::new(Cache::default()),
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn put(&self, item: HashMap<String, AttributeValue>) -> WriteRequest {
        // The builder only fails without an item, and the item is set.
        let request = PutRequest::builder().set_item(Some(item)).build();
        WriteRequest::builder()
            .set_put_request(request.ok())
            .build()
    }

    fn delete(&self, pk: String, sk: String) -> WriteRequest {
        let key = HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))]);
        let request = DeleteRequest::builder().set_key(Some(key)).build();
        WriteRequest::builder()
            .set_delete_request(request.ok())
            .build()
    }

    /// Writes `requests` with `BatchWriteItem`, [`MAX_BATCH_WRITE`] at a
    /// time, retrying unprocessed items with a growing pause.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when a call fails or items stay
    /// unprocessed after every attempt.
    pub async fn batch_write(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(MAX_BATCH_WRITE) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                attempt += 1;
                if attempt > BATCH_ATTEMPTS {
                    return Err(StoreError::Unavailable {
                        operation: "BatchWriteItem".into(),
                        source: format!(
                            "{} items still unprocessed after {BATCH_ATTEMPTS} attempts",
                            pending.len()
                        )
                        .into(),
                    });
                }
                if attempt > 1 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(|e| store_unavailable("BatchWriteItem", e))?;
                pending = out
                    .unprocessed_items()
                    .and_then(|m| m.get(&self.table))
                    .cloned()
                    .unwrap_or_default();
            }
        }
        Ok(())
    }

    async fn get(
        &self,
        pk: &str,
        sk: &str,
        operation: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_unavailable(operation, e))?;
        Ok(out.item().cloned())
    }

    /// Every item of a partition whose sort key is between `from` and `to`
    /// (inclusive), in sort key order.
    async fn query(
        &self,
        pk: &str,
        range: Option<(&str, &str)>,
        keys_only: bool,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start);
            q = match range {
                Some((from, to)) => q
                    .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                    .expression_attribute_names("#sk", SK)
                    .expression_attribute_values(":from", s(from))
                    .expression_attribute_values(":to", s(to)),
                None => q.key_condition_expression("#pk = :pk"),
            };
            if keys_only {
                q = q
                    .projection_expression("#pk, #k2")
                    .expression_attribute_names("#k2", SK);
            }
            let page = q.send().await.map_err(|e| store_unavailable("Query", e))?;
            out.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    /// A unique generation for items written by one save.
    fn generation(&self, version: u64) -> String {
        let count = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let nonce = short_hash(format!("{nanos}/{count}/{}", std::process::id()).as_bytes());
        format!("{version:012}-{nonce}")
    }
}

// ---------------------------------------------------------------------------
// Inventories and windows.

fn inventory_pk(stack: &str) -> String {
    format!("I#{stack}")
}

/// The partition of a stack's window packs of one 4-hour bucket: a tick
/// writes one or two, a backfill spreads over many.
fn window_pk(stack: &str, bucket: Timestamp) -> String {
    format!("W#{stack}#{}", time_key(bucket.floor(SLICE_SECS)))
}

/// The starts of the buckets that meet `[from, to)`.
fn buckets(from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
    let mut out = Vec::new();
    let mut bucket = from.floor(SLICE_SECS);
    while bucket < to {
        out.push(bucket);
        bucket = bucket.add(SLICE_SECS);
    }
    out
}

/// The 8 bytes of a metric's hash that name it inside a window pack.
fn metric_tag(key: &MetricKey) -> [u8; 8] {
    short_digest(key.id().as_bytes())
}

/// A metric's tag in a window pack.
type Tag = [u8; 8];

/// One metric's slice on its way into a pack: its range, tag and bytes.
type PackPart = (TimeRange, Tag, Vec<u8>);

/// Version of a window pack's layout.
const PACK_VERSION: u8 = 1;

/// Many metrics' window slices of one bucket as one item's bytes: for each,
/// its metric tag and its [`codec::encode_window`] bytes, length-prefixed.
fn encode_pack(parts: &[([u8; 8], Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + parts.iter().map(|p| 12 + p.1.len()).sum::<usize>());
    out.push(PACK_VERSION);
    out.extend_from_slice(&(parts.len() as u32).to_le_bytes());
    for (tag, bytes) in parts {
        out.extend_from_slice(tag);
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// Reads back [`encode_pack`]'s entries, the window bytes not yet decoded.
fn decode_pack(bytes: &[u8]) -> Result<Vec<(Tag, &[u8])>, CodecError> {
    let mut c = Cursor::new("window pack", bytes, 0);
    if c.array::<1>()? != [PACK_VERSION] {
        return Err(codec::invalid("window pack", "unknown version"));
    }
    let count = c.u32_len()?;
    let mut out = Vec::with_capacity(count.min(bytes.len() / 12));
    for _ in 0..count {
        let tag = c.array::<8>()?;
        out.push((tag, c.prefixed()?));
    }
    c.finish()?;
    Ok(out)
}

/// Cuts a window into slices of at most [`SLICE_SECS`], aligned on the
/// bucket grid.
fn slices(w: &MetricWindow, period: i64) -> Vec<(TimeRange, MetricWindow)> {
    let cov_start = w.coverage().first().map(|r| r.start);
    let cov_end = w.coverage().last().map(|r| r.end);
    let pts_start = w.points().first().map(|p| p.0);
    let pts_end = w.points().last().map(|p| p.0.add(period.max(1)));
    let (Some(start), Some(end)) = (
        cov_start.into_iter().chain(pts_start).min(),
        cov_end.into_iter().chain(pts_end).max(),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut from = start;
    while from < end {
        let to = from.floor(SLICE_SECS).add(SLICE_SECS).min(end);
        let range = TimeRange::new(from, to);
        let part = w.slice(range);
        if !part.is_empty() {
            out.push((range, part));
        }
        from = to;
    }
    out
}

impl DynamoStore {
    async fn read_inventory(&self, stack: &str) -> Result<Option<StackInventory>, StoreError> {
        let pk = inventory_pk(stack);
        // The tick names the parts; a concurrent put may replace them between
        // the two reads, so a missing part means: read the tick again.
        for _ in 0..3 {
            let Some(tick) = self.get(&pk, "TICK", "GetItem").await? else {
                return Ok(None);
            };
            let meta = InventoryMeta {
                catalog: text(&tick, "catalog").unwrap_or_default().to_string(),
                chunks: number(&tick, "chunks").unwrap_or(0).try_into().unwrap_or(0),
                events: text(&tick, "events").unwrap_or_default().to_string(),
            };
            let progress = blob(&tick, "progress").unwrap_or_default();
            let updated = number(&tick, "updated").map(Timestamp::from_secs);
            let prefix = format!("CAT#{}#", meta.catalog);
            let chunks = self
                .query(
                    &pk,
                    Some((&format!("{prefix}000"), &format!("{prefix}999"))),
                    false,
                )
                .await?;
            let events = self
                .get(&pk, &format!("EV#{}", meta.events), "GetItem")
                .await?;
            let (Some(events), true) = (events, chunks.len() == meta.chunks) else {
                debug!(
                    stack,
                    "inventory changed while it was read; reading it again"
                );
                continue;
            };
            let mut catalog = Vec::new();
            for c in &chunks {
                catalog.extend(blob(c, DATA).unwrap_or_default());
            }
            let parts = InventoryParts {
                catalog,
                events: blob(&events, DATA).unwrap_or_default(),
                progress,
                updated,
            };
            let inventory = codec::decode_inventory(stack, &parts).map_err(|e| {
                corrupt(
                    format!("inventory of stack {stack}"),
                    crate::error_chain(&e),
                )
            })?;
            return Ok(Some(inventory));
        }
        Err(corrupt(
            format!("inventory of stack {stack}"),
            "its parts kept changing or are missing",
        ))
    }

    /// The parts the stored tick names, read afresh: another invocation
    /// may have replaced them since this one last looked.
    async fn stored_meta(&self, stack: &str) -> Result<Option<InventoryMeta>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(inventory_pk(stack)))
            .key(SK, s("TICK"))
            .projection_expression("#c, #n, #e")
            .expression_attribute_names("#c", "catalog")
            .expression_attribute_names("#n", "chunks")
            .expression_attribute_names("#e", "events")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_unavailable("GetItem", e))?;
        Ok(out.item().map(|tick| InventoryMeta {
            catalog: text(tick, "catalog").unwrap_or_default().to_string(),
            chunks: number(tick, "chunks").unwrap_or(0).try_into().unwrap_or(0),
            events: text(tick, "events").unwrap_or_default().to_string(),
        }))
    }

    async fn metrics_of(&self, stack: &str) -> Result<Vec<MetricKey>, StoreError> {
        let cached = lock(&self.cache).inventories.get(stack).cloned();
        let inventory = match cached {
            Some(i) => Some(i),
            None => self.inventory(stack).await?,
        };
        Ok(inventory
            .map(|i| i.metrics.into_iter().map(|m| m.watched.key).collect())
            .unwrap_or_default())
    }
}

impl MetricStore for DynamoStore {
    async fn inventory(&self, stack: &str) -> Result<Option<StackInventory>, StoreError> {
        let found = self.read_inventory(stack).await?;
        let mut cache = lock(&self.cache);
        match found {
            Some(inventory) => {
                cache
                    .inventories
                    .insert(stack.to_string(), inventory.clone());
                Ok(Some(inventory))
            }
            None => {
                cache.inventories.remove(stack);
                Ok(None)
            }
        }
    }

    async fn put_inventory(&self, inventory: &StackInventory) -> Result<(), StoreError> {
        let stack = inventory.stack.as_str();
        let pk = inventory_pk(stack);
        let mut parts = codec::encode_inventory(inventory);
        let (events, dropped) = codec::encode_events_within(&inventory.events, MAX_PART_BYTES);
        if dropped > 0 {
            warn!(
                stack,
                dropped, "oldest stack events left out to fit one item"
            );
        }
        parts.events = events;
        let chunks: Vec<&[u8]> = parts.catalog.chunks(MAX_PART_BYTES).collect();
        if chunks.len() > 999 {
            return Err(StoreError::Unavailable {
                operation: "PutItem".into(),
                source: format!("the inventory of stack {stack} is too large to store").into(),
            });
        }
        let meta = InventoryMeta {
            catalog: short_hash(&parts.catalog),
            chunks: chunks.len(),
            events: short_hash(&parts.events),
        };
        let before = self.stored_meta(stack).await?;
        let mut writes = Vec::new();
        if before.as_ref().map(|m| &m.catalog) != Some(&meta.catalog) {
            for (i, chunk) in chunks.iter().enumerate() {
                writes.push(self.put(HashMap::from([
                    (PK.to_string(), s(&pk)),
                    (SK.to_string(), s(format!("CAT#{}#{i:03}", meta.catalog))),
                    (DATA.to_string(), b(chunk.to_vec())),
                ])));
            }
            writes.push(self.put(HashMap::from([
                (PK.to_string(), s("STACKS")),
                (SK.to_string(), s(stack)),
            ])));
        }
        if before.as_ref().map(|m| &m.events) != Some(&meta.events) {
            writes.push(self.put(HashMap::from([
                (PK.to_string(), s(&pk)),
                (SK.to_string(), s(format!("EV#{}", meta.events))),
                (DATA.to_string(), b(parts.events.clone())),
            ])));
        }
        self.batch_write(writes).await?;
        // The parts are in place: now the tick that names them.
        let mut tick = HashMap::from([
            (PK.to_string(), s(&pk)),
            (SK.to_string(), s("TICK")),
            ("catalog".to_string(), s(&meta.catalog)),
            ("chunks".to_string(), n(meta.chunks as i64)),
            ("events".to_string(), s(&meta.events)),
            ("progress".to_string(), b(parts.progress)),
        ]);
        if let Some(u) = parts.updated {
            tick.insert("updated".to_string(), n(u.secs()));
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(tick))
            .send()
            .await
            .map_err(|e| store_unavailable("PutItem", e))?;
        // Parts no longer named are removed (readers in between retry).
        if let Some(old) = &before {
            let mut stale = Vec::new();
            if old.catalog != meta.catalog {
                stale.extend(
                    (0..old.chunks)
                        .map(|i| self.delete(pk.clone(), format!("CAT#{}#{i:03}", old.catalog))),
                );
            }
            if old.events != meta.events {
                stale.push(self.delete(pk.clone(), format!("EV#{}", old.events)));
            }
            if let Err(e) = self.batch_write(stale).await {
                warn!(stack, error = %crate::error_chain(&e), "stale inventory parts not removed");
            }
        }
        lock(&self.cache)
            .inventories
            .insert(stack.to_string(), inventory.clone());
        Ok(())
    }

    async fn put_windows(
        &self,
        stack: &str,
        windows: &[(MetricKey, MetricWindow)],
    ) -> Result<(), StoreError> {
        // One item per bucket for every metric of the stack: a tick's new
        // points cost one write, not one a metric.
        let mut buckets: BTreeMap<Timestamp, Vec<PackPart>> = BTreeMap::new();
        for (key, w) in windows {
            let tag = metric_tag(key);
            for (range, part) in slices(w, i64::from(key.period())) {
                buckets
                    .entry(range.start.floor(SLICE_SECS))
                    .or_default()
                    .push((range, tag, codec::encode_window(&part)));
            }
        }
        let written = now_secs();
        let mut writes = Vec::new();
        for (bucket, parts) in buckets {
            let pk = window_pk(stack, bucket);
            let mut packs: Vec<Vec<PackPart>> = vec![Vec::new()];
            let mut size = 0;
            for part in parts {
                if size + part.2.len() + 12 > MAX_PART_BYTES && size > 0 {
                    packs.push(Vec::new());
                    size = 0;
                }
                size += part.2.len() + 12;
                if let Some(last) = packs.last_mut() {
                    last.push(part);
                }
            }
            for pack in packs.into_iter().filter(|p| !p.is_empty()) {
                let (Some(from), Some(to)) = (
                    pack.iter().map(|p| p.0.start).min(),
                    pack.iter().map(|p| p.0.end).max(),
                ) else {
                    continue;
                };
                let entries: Vec<([u8; 8], Vec<u8>)> = pack
                    .into_iter()
                    .map(|(_, tag, bytes)| (tag, bytes))
                    .collect();
                let bytes = encode_pack(&entries);
                // The same content keeps the same key: a re-run tick
                // rewrites its item rather than adding one.
                let sk = format!("{}#{}#{}", time_key(from), time_key(to), short_hash(&bytes));
                writes.push(self.put(HashMap::from([
                    (PK.to_string(), s(&pk)),
                    (SK.to_string(), s(sk)),
                    (DATA.to_string(), b(bytes)),
                    ("written".to_string(), n(written)),
                    (EXPIRES.to_string(), n(to.add(self.retention_secs).secs())),
                ])));
            }
        }
        self.batch_write(writes).await
    }

    async fn windows(
        &self,
        stack: &str,
        range: TimeRange,
    ) -> Result<BTreeMap<MetricKey, MetricWindow>, StoreError> {
        let keys: HashMap<[u8; 8], MetricKey> = self
            .metrics_of(stack)
            .await?
            .into_iter()
            .map(|k| (metric_tag(&k), k))
            .collect();
        let to = time_key(range.end);
        let pages: Vec<Vec<HashMap<String, AttributeValue>>> =
            stream::iter(buckets(range.start, range.end))
                .map(|bucket| {
                    let (pk, from, to) = (window_pk(stack, bucket), time_key(bucket), to.clone());
                    async move { self.query(&pk, Some((&from, &to)), false).await }
                })
                .buffered(READ_CONCURRENCY)
                .try_collect()
                .await?;
        let mut items: Vec<HashMap<String, AttributeValue>> = pages.into_iter().flatten().collect();
        // Later fetches win: a fetch ends no earlier than those before it,
        // so packs merge by the end of what they hold, then by start, then
        // by when they were written (a retried fetch of the same range).
        // Storing an old pack again changes none of these.
        items.sort_by_cached_key(|i| {
            let sk = text(i, SK).unwrap_or_default();
            let mut fields = sk.split('#');
            let from = fields.next().unwrap_or_default().to_string();
            let to = fields.next().unwrap_or_default().to_string();
            (to, from, number(i, "written").unwrap_or(0))
        });
        let mut out: BTreeMap<MetricKey, MetricWindow> = BTreeMap::new();
        for item in &items {
            let bytes = blob(item, DATA).unwrap_or_default();
            let entries = decode_pack(&bytes).map_err(|e| {
                corrupt(
                    format!("metric windows of stack {stack}"),
                    crate::error_chain(&e),
                )
            })?;
            for (tag, window) in entries {
                // Metrics no longer watched are left out.
                let Some(key) = keys.get(&tag) else {
                    continue;
                };
                let part = codec::decode_window(window, i64::from(key.period())).map_err(|e| {
                    corrupt(
                        format!("window of {key} in stack {stack}"),
                        crate::error_chain(&e),
                    )
                })?;
                out.entry(key.clone()).or_default().merge(&part);
            }
        }
        Ok(out
            .into_iter()
            .filter_map(|(key, w)| {
                let w = w.slice(range);
                (!w.is_empty()).then_some((key, w))
            })
            .collect())
    }

    async fn stacks(&self) -> Result<Vec<String>, StoreError> {
        let items = self.query("STACKS", None, true).await?;
        let mut names: Vec<String> = items
            .iter()
            .filter_map(|i| text(i, SK))
            .map(str::to_string)
            .collect();
        names.sort();
        Ok(names)
    }

    async fn forget(&self, stack: &str) -> Result<(), StoreError> {
        let mut deletes = Vec::new();
        // Packs older than the retention have expired or soon will.
        let now = Timestamp::from_secs(now_secs());
        let pks = buckets(
            now.add(-self.retention_secs - SLICE_SECS),
            now.add(SLICE_SECS),
        )
        .into_iter()
        .map(|b| window_pk(stack, b))
        .chain(std::iter::once(inventory_pk(stack)));
        for pk in pks {
            for item in self.query(&pk, None, true).await? {
                if let Some(sk) = text(&item, SK) {
                    deletes.push(self.delete(pk.clone(), sk.to_string()));
                }
            }
        }
        deletes.push(self.delete("STACKS".into(), stack.to_string()));
        self.batch_write(deletes).await?;
        lock(&self.cache).inventories.remove(stack);
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Analyzer state and changes.

fn state_pk(stack: &str) -> String {
    format!("S#{stack}")
}

fn baseline_pk(stack: &str, hash: &str) -> String {
    format!("B#{stack}#{hash}")
}

/// Whether a failed transaction lost the race on the head's condition.
fn lost_race(e: &TransactWriteItemsError) -> bool {
    match e {
        TransactWriteItemsError::TransactionCanceledException(t) => t
            .cancellation_reasons()
            .iter()
            .any(|r| r.code() == Some("ConditionalCheckFailed")),
        _ => false,
    }
}

impl StateStore for DynamoStore {
    async fn load(&self, stack: &str) -> Result<(StackState, Version), StoreError> {
        let what = || format!("state of stack {stack}");
        let Some(head) = self.get(&state_pk(stack), "HEAD", "GetItem").await? else {
            lock(&self.cache)
                .state
                .insert(stack.to_string(), (Version(0), BTreeMap::new()));
            return Ok((StackState::default(), Version(0)));
        };
        let version = Version(
            number(&head, "version")
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| corrupt(what(), "no version"))?,
        );
        let insights = codec::decode_insights(&blob(&head, "insights").unwrap_or_default())
            .map_err(|e| corrupt(what(), crate::error_chain(&e)))?;
        let peaks = codec::decode_peaks(&blob(&head, "peaks").unwrap_or_default())
            .map_err(|e| corrupt(what(), crate::error_chain(&e)))?;
        let index = decode_index(&blob(&head, "index").unwrap_or_default())
            .map_err(|e| corrupt(what(), format!("baseline index: {e}")))?;
        let mut baselines = BTreeMap::new();
        let keys: Vec<(String, String)> = index
            .iter()
            .map(|(hash, e)| (baseline_pk(stack, hash), e.g.clone()))
            .collect();
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let mut pending: Vec<HashMap<String, AttributeValue>> = chunk
                .iter()
                .map(|(pk, sk)| HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))]))
                .collect();
            let mut attempt = 0;
            while !pending.is_empty() {
                attempt += 1;
                if attempt > BATCH_ATTEMPTS {
                    return Err(StoreError::Unavailable {
                        operation: "BatchGetItem".into(),
                        source: format!("{} baselines still unprocessed", pending.len()).into(),
                    });
                }
                if attempt > 1 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
                }
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| store_unavailable("BatchGetItem", e))?;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| store_unavailable("BatchGetItem", e))?;
                for item in out
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    let key = codec::decode_key(&blob(item, "key").unwrap_or_default())
                        .map_err(|e| corrupt(what(), crate::error_chain(&e)))?;
                    let baseline = Baseline::decode(&blob(item, DATA).unwrap_or_default())
                        .map_err(|e| corrupt(what(), format!("baseline of {key}: {e}")))?;
                    baselines.insert(key, baseline);
                }
                pending = out
                    .unprocessed_keys()
                    .and_then(|m| m.get(&self.table))
                    .map(|k| k.keys().to_vec())
                    .unwrap_or_default();
            }
        }
        if baselines.len() != index.len() {
            return Err(corrupt(
                what(),
                format!(
                    "{} baselines indexed, {} found",
                    index.len(),
                    baselines.len()
                ),
            ));
        }
        lock(&self.cache)
            .state
            .insert(stack.to_string(), (version, index));
        Ok((
            StackState {
                baselines,
                insights,
                peaks,
            },
            version,
        ))
    }

    async fn save(
        &self,
        stack: &str,
        state: &StackState,
        version: Version,
        changes: &[InsightChange],
    ) -> Result<(), StoreError> {
        let conflict = || StoreError::Conflict {
            what: format!("state of stack {stack}"),
        };
        let now = now_secs();
        let loaded = match lock(&self.cache).state.get(stack) {
            Some((v, index)) if *v == version => index.clone(),
            _ => BTreeMap::new(),
        };
        let next = Version(version.0 + 1);
        let generation = self.generation(next.0);
        let mut index = BTreeMap::new();
        let mut writes = Vec::new();
        for (key, baseline) in &state.baselines {
            let hash = metric_hash(key);
            let bytes = baseline.encode();
            let digest = short_hash(&bytes);
            match loaded.get(&hash) {
                Some(e) if e.h == digest && now - e.w < BASELINE_RENEW => {
                    index.insert(hash, e.clone());
                }
                _ => {
                    writes.push(self.put(HashMap::from([
                        (PK.to_string(), s(baseline_pk(stack, &hash))),
                        (SK.to_string(), s(&generation)),
                        ("key".to_string(), b(codec::encode_key(key))),
                        (DATA.to_string(), b(bytes)),
                        (EXPIRES.to_string(), n(now + BASELINE_TTL)),
                    ])));
                    index.insert(
                        hash,
                        IndexEntry {
                            g: generation.clone(),
                            w: now,
                            h: digest,
                        },
                    );
                }
            }
        }
        let index_bytes =
            encode_index(&index).map_err(|e| corrupt(format!("state of stack {stack}"), e))?;
        let insights = codec::encode_insights(&state.insights);
        let peaks = codec::encode_peaks(&state.peaks);
        // The head is one item: say so plainly rather than let DynamoDB
        // refuse it (about 40 bytes a metric: some 7,000 metrics a stack).
        if insights.len() + index_bytes.len() + peaks.len() > MAX_PART_BYTES {
            return Err(StoreError::Unavailable {
                operation: "PutItem".into(),
                source: format!(
                    "the analyzer state of stack {stack} takes {} bytes for {} baselines, more than one item holds",
                    insights.len() + index_bytes.len() + peaks.len(),
                    state.baselines.len()
                )
                .into(),
            });
        }
        if !writes.is_empty() {
            // Fail early, before writing baselines nobody will use.
            let head = self.get(&state_pk(stack), "HEAD", "GetItem").await?;
            let stored = head
                .as_ref()
                .and_then(|h| number(h, "version"))
                .unwrap_or(0);
            if u64::try_from(stored).ok() != Some(version.0) {
                return Err(conflict());
            }
            self.batch_write(writes).await?;
        }
        let head = HashMap::from([
            (PK.to_string(), s(state_pk(stack))),
            (SK.to_string(), s("HEAD")),
            (
                "version".to_string(),
                n(i64::try_from(next.0).unwrap_or(i64::MAX)),
            ),
            (
                "open".to_string(),
                AttributeValue::Bool(state.insights.open().is_some()),
            ),
            ("insights".to_string(), b(insights)),
            ("peaks".to_string(), b(peaks)),
            ("index".to_string(), b(index_bytes)),
        ]);
        let mut put_head = Put::builder().table_name(&self.table).set_item(Some(head));
        put_head = if version.0 == 0 {
            put_head
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
        } else {
            put_head
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", n(i64::try_from(version.0).unwrap_or(i64::MAX)))
        };
        let put_head = put_head
            .build()
            .map_err(|e| store_unavailable("TransactWriteItems", e))?;
        if changes.is_empty() {
            // Nothing to record with it: a conditional put costs half a
            // transaction.
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(put_head.item().clone()))
                .set_condition_expression(put_head.condition_expression().map(str::to_string))
                .set_expression_attribute_names(put_head.expression_attribute_names().cloned())
                .set_expression_attribute_values(put_head.expression_attribute_values().cloned());
            return match put.send().await {
                Ok(_) => {
                    lock(&self.cache)
                        .state
                        .insert(stack.to_string(), (next, index));
                    Ok(())
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    Err(conflict())
                }
                Err(e) => Err(store_unavailable("PutItem", e)),
            };
        }
        let mut items = vec![TransactWriteItem::builder().put(put_head).build()];
        let mut spill = Vec::new();
        for change in changes {
            let item = change_item(change, now)?;
            if items.len() < MAX_TRANSACTION {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| store_unavailable("TransactWriteItems", e))?;
                items.push(TransactWriteItem::builder().put(put).build());
            } else {
                spill.push(self.put(item));
            }
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(lost_race) => return Err(conflict()),
            Err(e) => return Err(store_unavailable("TransactWriteItems", e)),
        }
        // More changes than one transaction holds: the rest follow at once
        // (change ids are deterministic, so a retry writes the same items).
        self.batch_write(spill).await?;
        lock(&self.cache)
            .state
            .insert(stack.to_string(), (next, index));
        Ok(())
    }

    async fn has_open_insight(&self, stack: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(state_pk(stack)))
            .key(SK, s("HEAD"))
            .projection_expression("#o")
            .expression_attribute_names("#o", "open")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_unavailable("GetItem", e))?;
        Ok(matches!(
            out.item().and_then(|i| i.get("open")),
            Some(AttributeValue::Bool(true))
        ))
    }
}

/// The item that records one insight change for the notifier.
fn change_item(
    change: &InsightChange,
    now: i64,
) -> Result<HashMap<String, AttributeValue>, StoreError> {
    let notification = Notification::from(change);
    let body = serde_json::to_string(&notification).map_err(|e| StoreError::Unavailable {
        operation: "TransactWriteItems".into(),
        source: Box::new(e),
    })?;
    Ok(HashMap::from([
        (PK.to_string(), s(format!("C#{}", change.id))),
        (SK.to_string(), s("CHANGE")),
        ("kind".to_string(), s("change")),
        ("stack".to_string(), s(&notification.insight.stack)),
        ("messageType".to_string(), s(&notification.message_type)),
        ("body".to_string(), s(body)),
        (EXPIRES.to_string(), n(now + CHANGE_TTL)),
    ]))
}

// ---------------------------------------------------------------------------
// Delivery log.

impl DeliveryLog for DynamoStore {
    async fn claim(&self, change_id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(format!("D#{change_id}")))
            .item(SK, s("DELIVERY"))
            .item(EXPIRES, n(now_secs() + CHANGE_TTL))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_unavailable("PutItem", e)),
        }
    }

    async fn release(&self, change_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(format!("D#{change_id}")))
            .key(SK, s("DELIVERY"))
            .send()
            .await
            .map_err(|e| store_unavailable("DeleteItem", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs(1_800_000_000 / SLICE_SECS * SLICE_SECS + s)
    }

    #[test]
    fn the_baseline_index_round_trips_in_binary_and_reads_the_json_it_replaces() {
        let index = BTreeMap::from([
            (
                short_hash(b"one"),
                IndexEntry {
                    g: format!("{:012}-{}", 42, short_hash(b"nonce")),
                    w: 1_700_000_000,
                    h: short_hash(b"bytes"),
                },
            ),
            (
                short_hash(b"two"),
                IndexEntry {
                    g: format!("{:012}-{}", 7, short_hash(b"other")),
                    w: 1_700_000_300,
                    h: short_hash(b"more"),
                },
            ),
        ]);
        let bytes = encode_index(&index).unwrap();
        assert_eq!(bytes.len(), 5 + 2 * INDEX_ENTRY_BYTES);
        assert_eq!(decode_index(&bytes).unwrap(), index);
        let json = serde_json::to_vec(&index).unwrap();
        assert!(json.len() > 2 * bytes.len());
        assert_eq!(decode_index(&json).unwrap(), index);
        assert_eq!(decode_index(&[]).unwrap(), BTreeMap::new());
        assert!(decode_index(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_index(&[9, 0, 0, 0, 0]).is_err());
        assert!(decode_index(&[1, 0]).is_err());
        let mut odd = index.clone();
        odd.insert("not-hex".into(), index[&short_hash(b"one")].clone());
        assert!(encode_index(&odd).is_err());
    }

    #[test]
    fn windows_are_cut_into_bucket_aligned_slices_that_merge_back() {
        let points: Vec<(Timestamp, f64)> = (0..600).map(|m| (t(m * 60), m as f64)).collect();
        let w = MetricWindow::from_fetch(TimeRange::new(t(-120), t(36_000)), points, 60);
        let parts = slices(&w, 60);
        assert_eq!(parts.len(), 4, "[-2m, 0) and three 4-hour buckets");
        let mut back = MetricWindow::new();
        for (range, part) in &parts {
            assert!(range.len_secs() <= SLICE_SECS);
            assert_eq!(
                range.start.floor(SLICE_SECS),
                range.end.add(-1).floor(SLICE_SECS)
            );
            back.merge(part);
        }
        assert_eq!(back, w);
        assert!(slices(&MetricWindow::new(), 60).is_empty());
    }

    #[test]
    fn window_packs_round_trip_and_corrupt_ones_are_refused() {
        let entries = vec![
            ([1u8; 8], vec![1, 2, 3]),
            ([2u8; 8], Vec::new()),
            ([3u8; 8], vec![9; 300]),
        ];
        let bytes = encode_pack(&entries);
        let back = decode_pack(&bytes).unwrap();
        assert_eq!(back.len(), 3);
        for ((tag, data), (tag2, data2)) in entries.iter().zip(&back) {
            assert_eq!(tag, tag2);
            assert_eq!(data.as_slice(), *data2);
        }
        assert!(decode_pack(&encode_pack(&[])).unwrap().is_empty());
        for cut in [0, 1, 4, 12, bytes.len() - 1] {
            assert!(decode_pack(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_pack(&longer).is_err());
        let mut huge = bytes;
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_pack(&huge).is_err());
    }
}
