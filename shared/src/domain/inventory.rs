//! A stack's inventory: what ingest found and fetched, and what the analyzer
//! needs to judge it.

use std::collections::BTreeMap;

use super::catalog::WatchedMetric;
use super::event::StackEvent;
use super::resource::{ConfigValue, Resource};
use super::time::Timestamp;

/// One watched metric and how far it has been fetched.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackedMetric {
    /// The metric, its resource and spec.
    pub watched: WatchedMetric,
    /// End of the last fetched range (exclusive).
    pub fetched_until: Option<Timestamp>,
    /// When watching began: points before it were fetched as history (a warm
    /// start) and teach the baseline without opening insights.
    pub live_from: Timestamp,
}

/// Everything ingest knows about one stack.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct StackInventory {
    /// The stack's name.
    pub stack: String,
    /// All its resources, watched or not.
    pub resources: Vec<Resource>,
    /// Describe-call output by physical id.
    pub configs: BTreeMap<String, ConfigValue>,
    /// Watched metrics, sorted by key.
    pub metrics: Vec<TrackedMetric>,
    /// Recent stack events, oldest first.
    pub events: Vec<StackEvent>,
    /// Time of the last ingest tick that updated this inventory.
    pub updated: Option<Timestamp>,
}

impl StackInventory {
    /// An empty inventory for `stack`.
    pub fn new(stack: impl Into<String>) -> Self {
        Self {
            stack: stack.into(),
            ..Self::default()
        }
    }

    /// Adds events not already known and keeps those newer than `horizon`,
    /// oldest first.
    pub fn record_events(
        &mut self,
        events: impl IntoIterator<Item = StackEvent>,
        horizon: Timestamp,
    ) {
        self.events.extend(events);
        self.events.retain(|e| e.time >= horizon);
        self.events.sort();
        self.events.dedup();
    }
}
