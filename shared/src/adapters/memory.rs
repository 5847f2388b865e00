//! In-memory adapters: the stores, queue and delivery log of a replay or a
//! test. Everything lives in one process; clones of an adapter are not
//! shared (wrap it in an `Arc` to share it).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use crate::domain::analysis::StackState;
use crate::domain::insight::InsightChange;
use crate::domain::inventory::StackInventory;
use crate::domain::metric::MetricKey;
use crate::domain::time::{TimeRange, Timestamp};
use crate::domain::window::MetricWindow;
use crate::messages::Notification;
use crate::ports::{
    AnalysisQueue, DeliveryLog, FollowUpQueue, MetricStore, Notifier, PublishError, StateStore,
    StoreError, Version,
};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep going.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Debug, Default)]
struct StackData {
    inventory: Option<StackInventory>,
    windows: BTreeMap<MetricKey, MetricWindow>,
}

/// Windows and inventories in memory, keeping `retention_secs` of points
/// behind the newest coverage of each metric.
#[derive(Debug)]
pub struct InMemoryMetricStore {
    stacks: Mutex<HashMap<String, StackData>>,
    retention_secs: i64,
}

impl Default for InMemoryMetricStore {
    fn default() -> Self {
        Self::new(15 * 86_400)
    }
}

impl InMemoryMetricStore {
    /// A store keeping `retention_secs` of history per metric.
    pub fn new(retention_secs: i64) -> Self {
        Self {
            stacks: Mutex::new(HashMap::new()),
            retention_secs,
        }
    }

    /// Points stored, over all stacks and metrics.
    pub fn points(&self) -> usize {
        lock(&self.stacks)
            .values()
            .flat_map(|s| s.windows.values())
            .map(|w| w.points().len())
            .sum()
    }
}

impl MetricStore for InMemoryMetricStore {
    async fn inventory(&self, stack: &str) -> Result<Option<StackInventory>, StoreError> {
        Ok(lock(&self.stacks)
            .get(stack)
            .and_then(|s| s.inventory.clone()))
    }

    async fn put_inventory(&self, inventory: &StackInventory) -> Result<(), StoreError> {
        lock(&self.stacks)
            .entry(inventory.stack.clone())
            .or_default()
            .inventory = Some(inventory.clone());
        Ok(())
    }

    async fn put_windows(
        &self,
        stack: &str,
        windows: &[(MetricKey, MetricWindow)],
    ) -> Result<(), StoreError> {
        let mut stacks = lock(&self.stacks);
        let data = stacks.entry(stack.to_string()).or_default();
        for (key, w) in windows {
            let stored = data.windows.entry(key.clone()).or_default();
            stored.merge(w);
            if let Some(end) = stored.coverage().last().map(|r| r.end) {
                let horizon = end.add(-self.retention_secs);
                if stored.coverage().first().is_some_and(|r| r.start < horizon) {
                    stored.trim_before(horizon);
                }
            }
        }
        Ok(())
    }

    async fn windows(
        &self,
        stack: &str,
        range: TimeRange,
    ) -> Result<BTreeMap<MetricKey, MetricWindow>, StoreError> {
        Ok(lock(&self.stacks)
            .get(stack)
            .map(|s| {
                s.windows
                    .iter()
                    .map(|(k, w)| (k.clone(), w.slice(range)))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn stacks(&self) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> = lock(&self.stacks)
            .iter()
            .filter(|(_, s)| s.inventory.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        names.sort();
        Ok(names)
    }

    async fn forget(&self, stack: &str) -> Result<(), StoreError> {
        lock(&self.stacks).remove(stack);
        Ok(())
    }
}

/// Analyzer state in memory, with an outbox of the notifications that the
/// saved changes produced, in order.
#[derive(Debug, Default)]
pub struct InMemoryStateStore {
    states: Mutex<HashMap<String, (StackState, Version)>>,
    outbox: Mutex<(Vec<Notification>, BTreeSet<String>)>,
}

impl InMemoryStateStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the notifications recorded since the last call.
    pub fn drain_outbox(&self) -> Vec<Notification> {
        std::mem::take(&mut lock(&self.outbox).0)
    }
}

impl StateStore for InMemoryStateStore {
    async fn load(&self, stack: &str) -> Result<(StackState, Version), StoreError> {
        Ok(lock(&self.states).get(stack).cloned().unwrap_or_default())
    }

    async fn save(
        &self,
        stack: &str,
        state: &StackState,
        version: Version,
        changes: &[InsightChange],
    ) -> Result<(), StoreError> {
        let mut states = lock(&self.states);
        let current = states.get(stack).map(|s| s.1).unwrap_or_default();
        if current != version {
            return Err(StoreError::Conflict {
                what: format!("state of stack {stack}"),
            });
        }
        states.insert(stack.to_string(), (state.clone(), Version(version.0 + 1)));
        let mut outbox = lock(&self.outbox);
        for change in changes {
            if outbox.1.insert(change.id.clone()) {
                outbox.0.push(Notification::from(change));
            }
        }
        Ok(())
    }

    async fn has_open_insight(&self, stack: &str) -> Result<bool, StoreError> {
        Ok(lock(&self.states)
            .get(stack)
            .is_some_and(|(s, _)| s.insights.open().is_some()))
    }
}

/// Analysis requests in memory.
#[derive(Debug, Default)]
pub struct InMemoryQueue {
    requests: Mutex<VecDeque<(String, Timestamp)>>,
}

impl InMemoryQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes every queued request, oldest first.
    pub fn drain(&self) -> Vec<(String, Timestamp)> {
        lock(&self.requests).drain(..).collect()
    }
}

impl AnalysisQueue for InMemoryQueue {
    async fn request(&self, stack: &str, now: Timestamp) -> Result<(), StoreError> {
        lock(&self.requests).push_back((stack.to_string(), now));
        Ok(())
    }
}

/// Follow-ups in memory, by the time they are due.
#[derive(Debug, Default)]
pub struct InMemoryFollowUps {
    due: Mutex<BTreeMap<Timestamp, BTreeSet<String>>>,
}

impl InMemoryFollowUps {
    /// No follow-up asked for.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the stacks of the earliest follow-up if it is due before
    /// `before`, with its time.
    pub fn take_before(&self, before: Timestamp) -> Option<(Timestamp, Vec<String>)> {
        let mut due = lock(&self.due);
        let (&at, _) = due.first_key_value()?;
        if at >= before {
            return None;
        }
        due.remove(&at)
            .map(|stacks| (at, stacks.into_iter().collect()))
    }

    /// Forgets the follow-ups due at or before `t` (a tick at `t` did their
    /// work).
    pub fn drop_through(&self, t: Timestamp) {
        lock(&self.due).retain(|at, _| *at > t);
    }
}

impl FollowUpQueue for InMemoryFollowUps {
    async fn follow_up(
        &self,
        stack: &str,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        lock(&self.due)
            .entry(at.max(now))
            .or_default()
            .insert(stack.to_string());
        Ok(())
    }
}

/// Delivered change ids in memory.
#[derive(Debug, Default)]
pub struct InMemoryDeliveryLog {
    claimed: Mutex<BTreeSet<String>>,
}

impl InMemoryDeliveryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }
}

impl DeliveryLog for InMemoryDeliveryLog {
    async fn claim(&self, change_id: &str) -> Result<bool, StoreError> {
        Ok(lock(&self.claimed).insert(change_id.to_string()))
    }

    async fn release(&self, change_id: &str) -> Result<(), StoreError> {
        lock(&self.claimed).remove(change_id);
        Ok(())
    }
}

/// A notifier that keeps what it was asked to send.
#[derive(Debug, Default)]
pub struct CollectingNotifier {
    sent: Mutex<Vec<Notification>>,
}

impl CollectingNotifier {
    /// A notifier that has sent nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything sent so far, in order.
    pub fn sent(&self) -> Vec<Notification> {
        lock(&self.sent).clone()
    }
}

impl Notifier for CollectingNotifier {
    async fn publish(&self, notification: &Notification) -> Result<(), PublishError> {
        lock(&self.sent).push(notification.clone());
        Ok(())
    }
}
