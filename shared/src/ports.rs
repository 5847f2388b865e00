//! Ports: the traits the core needs from the outside world. Each speaks
//! domain types only; adapters (AWS, in-memory, scenario files) implement
//! them and convert their own types at the edge.
//!
//! Methods return `impl Future + Send` so that handlers generic over ports
//! run on a multi-threaded Lambda runtime and on a single-threaded replay
//! alike.

use std::collections::BTreeMap;
use std::future::Future;

use crate::domain::analysis::StackState;
use crate::domain::event::StackEvent;
use crate::domain::insight::InsightChange;
use crate::domain::inventory::StackInventory;
use crate::domain::metric::{Dimension, MetricKey, Series};
use crate::domain::resource::{ConfigValue, Resource};
use crate::domain::stack::{StackSelection, StackSummary};
use crate::domain::time::{TimeRange, Timestamp};
use crate::domain::window::MetricWindow;
use crate::messages::Notification;

/// Any error from below an adapter.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Tells the time. The only way handlers learn what time it is.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// A failure of a source of facts (CloudFormation, CloudWatch, a scenario).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The service refused or failed; retrying later may work.
    #[error("{operation} failed")]
    Unavailable {
        /// What was being done, e.g. "GetMetricData".
        operation: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The thing asked about does not exist (a deleted stack).
    #[error("{what} not found")]
    NotFound {
        /// What was missing.
        what: String,
    },
    /// The service answered something that cannot be understood.
    #[error("{operation} returned an invalid answer: {detail}")]
    Invalid {
        /// What was being done.
        operation: String,
        /// What was wrong.
        detail: String,
    },
}

/// CloudFormation, as the core needs it.
pub trait StackCatalog {
    /// Stacks matching `selection`, active or not (deleted stacks are
    /// reported so that their insights can be closed).
    ///
    /// # Errors
    ///
    /// [`SourceError::Unavailable`] when the listing fails.
    fn list_stacks(
        &self,
        selection: &StackSelection,
    ) -> impl Future<Output = Result<Vec<StackSummary>, SourceError>> + Send;

    /// Every resource of a stack.
    ///
    /// # Errors
    ///
    /// [`SourceError::NotFound`] for a stack that no longer exists,
    /// [`SourceError::Unavailable`] otherwise.
    fn resources(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<Vec<Resource>, SourceError>> + Send;

    /// Stack events at or after `since`.
    ///
    /// # Errors
    ///
    /// As [`StackCatalog::resources`].
    fn events(
        &self,
        stack: &str,
        since: Timestamp,
    ) -> impl Future<Output = Result<Vec<StackEvent>, SourceError>> + Send;

    /// The describe-call output of a resource (`GetFunctionConfiguration`,
    /// `DescribeTable`, …), or `None` for types that have none worth reading.
    ///
    /// # Errors
    ///
    /// As [`StackCatalog::resources`].
    fn configuration(
        &self,
        resource: &Resource,
    ) -> impl Future<Output = Result<Option<ConfigValue>, SourceError>> + Send;
}

/// One metric to fetch over one range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchRequest {
    /// The series.
    pub key: MetricKey,
    /// The range, aligned on the metric's period.
    pub range: TimeRange,
}

/// CloudWatch, as the core needs it.
pub trait MetricSource {
    /// The points of each requested series within its range, as published
    /// by now. One [`Series`] per request, in request order.
    ///
    /// # Errors
    ///
    /// [`SourceError`] when the fetch fails; nothing is partially returned.
    fn fetch(
        &self,
        requests: &[FetchRequest],
    ) -> impl Future<Output = Result<Vec<Series>, SourceError>> + Send;

    /// Series of `namespace` that carry `dimension` (CloudWatch
    /// `ListMetrics`): how DynamoDB operations and API stages are found.
    ///
    /// # Errors
    ///
    /// [`SourceError::Unavailable`] when the listing fails.
    fn discover(
        &self,
        namespace: &str,
        dimension: &Dimension,
    ) -> impl Future<Output = Result<Vec<MetricKey>, SourceError>> + Send;
}

/// A failure of a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone else changed the item since it was read; reload and retry.
    #[error("{what} was changed concurrently")]
    Conflict {
        /// The item.
        what: String,
    },
    /// Stored data cannot be read back.
    #[error("{what} is corrupt: {detail}")]
    Corrupt {
        /// The item.
        what: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The store failed; retrying later may work.
    #[error("{operation} failed")]
    Unavailable {
        /// What was being done.
        operation: String,
        /// Why.
        #[source]
        source: BoxError,
    },
}

/// Where ingest keeps what it fetched, and the analyzer reads it.
pub trait MetricStore {
    /// The inventory of a stack, if ingest has seen it.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when it cannot be read.
    fn inventory(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<Option<StackInventory>, StoreError>> + Send;

    /// Replaces the inventory of a stack.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when it cannot be written.
    fn put_inventory(
        &self,
        inventory: &StackInventory,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Merges fetched windows into what is stored. Idempotent: storing the
    /// same windows again changes nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when they cannot be written; windows already stored
    /// stay as they were.
    fn put_windows(
        &self,
        stack: &str,
        windows: &[(MetricKey, MetricWindow)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// What is stored for each metric of a stack within `range`.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when they cannot be read.
    fn windows(
        &self,
        stack: &str,
        range: TimeRange,
    ) -> impl Future<Output = Result<BTreeMap<MetricKey, MetricWindow>, StoreError>> + Send;

    /// Stacks that have an inventory.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when they cannot be listed.
    fn stacks(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Forgets a stack's inventory and windows (the stack was deleted).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when they cannot be removed.
    fn forget(&self, stack: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// An opaque version of a stored state, for optimistic concurrency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64);

/// Where the analyzer keeps baselines and insights, and records insight
/// changes for the notifier.
pub trait StateStore {
    /// The state of a stack and its version (a new state at version 0 when
    /// none is stored).
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] when stored state cannot be decoded,
    /// [`StoreError::Unavailable`] otherwise.
    fn load(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<(StackState, Version), StoreError>> + Send;

    /// Stores the state and the changes it produced, only if the stored
    /// version is still `version`. Changes are keyed by their id, so saving
    /// the same change twice records it once.
    ///
    /// # Errors
    ///
    /// [`StoreError::Conflict`] when another analysis saved first (nothing
    /// is written), [`StoreError::Unavailable`] otherwise.
    fn save(
        &self,
        stack: &str,
        state: &StackState,
        version: Version,
        changes: &[InsightChange],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Whether the stack has an open insight (ingest then fetches every
    /// metric of it at every tick).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when it cannot be read.
    fn has_open_insight(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Seconds after a period ends until CloudWatch has published its point,
/// as ingest and the analyzer's follow-ups assume by default.
pub const PUBLICATION_LAG_SECS: i64 = 60;

/// How ingest asks for a stack to be analyzed.
pub trait AnalysisQueue {
    /// Asks for `stack` to be analyzed with what was stored up to `now`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the request cannot be queued.
    fn request(
        &self,
        stack: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// How the analyzer asks ingest to look at a stack again before the next
/// scheduled tick, when a point has just turned abnormal.
pub trait FollowUpQueue {
    /// Asks for `stack` to be ingested again at `at` (at once when `at` is
    /// not after `now`).
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the request cannot be queued.
    fn follow_up(
        &self,
        stack: &str,
        at: Timestamp,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// No follow-ups: every stack waits for the next tick.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoFollowUps;

impl FollowUpQueue for NoFollowUps {
    async fn follow_up(&self, _: &str, _: Timestamp, _: Timestamp) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A failure to deliver a notification.
#[derive(Debug, thiserror::Error)]
#[error("publishing {change_id} failed")]
pub struct PublishError {
    /// The change that was not delivered.
    pub change_id: String,
    /// Why.
    #[source]
    pub source: BoxError,
}

/// Where notifications go (SNS, a file, stdout).
pub trait Notifier {
    /// Sends one message.
    ///
    /// # Errors
    ///
    /// [`PublishError`] when it was not sent.
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

/// Remembers which changes were delivered, so that a retried or redelivered
/// batch sends nothing twice.
pub trait DeliveryLog {
    /// Claims `change_id` for delivery: `true` the first time, `false` when
    /// it was claimed before.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the log cannot be written.
    fn claim(&self, change_id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Gives a claim back after a failed delivery, so a retry can send it.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the log cannot be written.
    fn release(&self, change_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

// Shared references to a port are ports too, so that one adapter can serve
// several handlers (a replay hands the same store to ingest and analyzer).

impl<T: Clock + ?Sized> Clock for &T {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

impl<T: StackCatalog + Sync + ?Sized> StackCatalog for &T {
    fn list_stacks(
        &self,
        selection: &StackSelection,
    ) -> impl Future<Output = Result<Vec<StackSummary>, SourceError>> + Send {
        (**self).list_stacks(selection)
    }
    fn resources(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<Vec<Resource>, SourceError>> + Send {
        (**self).resources(stack)
    }
    fn events(
        &self,
        stack: &str,
        since: Timestamp,
    ) -> impl Future<Output = Result<Vec<StackEvent>, SourceError>> + Send {
        (**self).events(stack, since)
    }
    fn configuration(
        &self,
        resource: &Resource,
    ) -> impl Future<Output = Result<Option<ConfigValue>, SourceError>> + Send {
        (**self).configuration(resource)
    }
}

impl<T: MetricSource + Sync + ?Sized> MetricSource for &T {
    fn fetch(
        &self,
        requests: &[FetchRequest],
    ) -> impl Future<Output = Result<Vec<Series>, SourceError>> + Send {
        (**self).fetch(requests)
    }
    fn discover(
        &self,
        namespace: &str,
        dimension: &Dimension,
    ) -> impl Future<Output = Result<Vec<MetricKey>, SourceError>> + Send {
        (**self).discover(namespace, dimension)
    }
}

impl<T: MetricStore + Sync + ?Sized> MetricStore for &T {
    fn inventory(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<Option<StackInventory>, StoreError>> + Send {
        (**self).inventory(stack)
    }
    fn put_inventory(
        &self,
        inventory: &StackInventory,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put_inventory(inventory)
    }
    fn put_windows(
        &self,
        stack: &str,
        windows: &[(MetricKey, MetricWindow)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put_windows(stack, windows)
    }
    fn windows(
        &self,
        stack: &str,
        range: TimeRange,
    ) -> impl Future<Output = Result<BTreeMap<MetricKey, MetricWindow>, StoreError>> + Send {
        (**self).windows(stack, range)
    }
    fn stacks(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send {
        (**self).stacks()
    }
    fn forget(&self, stack: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).forget(stack)
    }
}

impl<T: StateStore + Sync + ?Sized> StateStore for &T {
    fn load(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<(StackState, Version), StoreError>> + Send {
        (**self).load(stack)
    }
    fn save(
        &self,
        stack: &str,
        state: &StackState,
        version: Version,
        changes: &[InsightChange],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).save(stack, state, version, changes)
    }
    fn has_open_insight(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).has_open_insight(stack)
    }
}

impl<T: AnalysisQueue + Sync + ?Sized> AnalysisQueue for &T {
    fn request(
        &self,
        stack: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).request(stack, now)
    }
}

impl<T: FollowUpQueue + Sync + ?Sized> FollowUpQueue for &T {
    fn follow_up(
        &self,
        stack: &str,
        at: Timestamp,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).follow_up(stack, at, now)
    }
}

/// An optional queue: `None` asks for nothing.
impl<T: FollowUpQueue + Sync> FollowUpQueue for Option<T> {
    async fn follow_up(
        &self,
        stack: &str,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        match self {
            Some(q) => q.follow_up(stack, at, now).await,
            None => Ok(()),
        }
    }
}

impl<T: Notifier + Sync + ?Sized> Notifier for &T {
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<(), PublishError>> + Send {
        (**self).publish(notification)
    }
}

impl<T: DeliveryLog + Sync + ?Sized> DeliveryLog for &T {
    fn claim(&self, change_id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).claim(change_id)
    }
    fn release(&self, change_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).release(change_id)
    }
}
