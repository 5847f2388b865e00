//! The ingest handler, generic over its ports: the same code runs in Lambda
//! behind AWS adapters and in `stackwatch replay` behind scenario files.

use std::collections::BTreeMap;

use shared::domain::catalog::{Cadence, WatchedMetric, plan_metrics};
use shared::domain::inventory::{StackInventory, TrackedMetric};
use shared::domain::metric::{Dimension, MetricKey};
use shared::domain::resource::{Resource, ResourceKind};
use shared::domain::stack::StackSelection;
use shared::domain::time::{DAY, TimeRange, Timestamp};
use shared::domain::window::MetricWindow;
use shared::ports::{
    AnalysisQueue, Clock, FetchRequest, MetricSource, MetricStore, SourceError, StackCatalog,
    StateStore, StoreError,
};
use tracing::{info, warn};

/// Settings of ingest.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Which stacks to watch.
    pub selection: StackSelection,
    /// Seconds between two scheduled ticks.
    pub schedule_secs: i64,
    /// Period of the metrics requested, in seconds.
    pub period: u32,
    /// Seconds after a period ends until CloudWatch has published its point:
    /// the newest periods are left out of the coverage until then.
    pub publication_lag_secs: i64,
    /// Seconds of already-fetched history fetched again at each tick, to
    /// pick up late points and revisions.
    pub refetch_secs: i64,
    /// History fetched the first time a metric is seen (the warm start).
    pub warm_start_secs: i64,
    /// Stack events kept for explaining insights.
    pub event_horizon_secs: i64,
    /// How often configuration and metric discovery are refreshed.
    pub refresh_secs: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            selection: StackSelection::All,
            schedule_secs: 300,
            period: 60,
            publication_lag_secs: shared::ports::PUBLICATION_LAG_SECS,
            refetch_secs: 180,
            warm_start_secs: 14 * DAY,
            event_horizon_secs: DAY,
            refresh_secs: DAY,
        }
    }
}

/// What to ingest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// A scheduled tick: every selected stack.
    Scheduled,
    /// A manual run for these stacks, whether selected or not.
    Stacks(Vec<String>),
    /// A follow-up of these stacks, asked for by the analyzer when a fast
    /// metric just turned abnormal: what a manual run fetches, and the
    /// latencies too, whatever their cadence.
    FollowUp(Vec<String>),
}

/// The ports and settings ingest runs with.
#[derive(Debug)]
pub struct Deps<Cat, Src, Store, State, Queue, Clk> {
    /// CloudFormation.
    pub catalog: Cat,
    /// CloudWatch.
    pub source: Src,
    /// Where windows and inventories go.
    pub store: Store,
    /// The analyzer's state (read only: is an insight open?).
    pub state: State,
    /// Where analysis requests go.
    pub queue: Queue,
    /// The time.
    pub clock: Clk,
    /// Settings.
    pub settings: Settings,
}

/// What one stack's ingest did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackReport {
    /// The stack.
    pub stack: String,
    /// Metrics watched.
    pub watched: usize,
    /// Metrics fetched at this tick.
    pub fetched: usize,
    /// Points received.
    pub points: usize,
    /// New stack events recorded.
    pub events: usize,
    /// Whether the stack is gone and was forgotten.
    pub removed: bool,
}

/// What a tick did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per stack handled.
    pub stacks: Vec<StackReport>,
    /// Stacks that failed, with the reason; the others were still ingested.
    pub failures: Vec<(String, String)>,
}

/// A failure of the whole tick.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The stacks to watch could not be listed.
    #[error("listing stacks failed")]
    Catalog(#[source] SourceError),
    /// The store could not be read or written.
    #[error("store failed")]
    Store(#[from] StoreError),
}

/// Handles one tick or manual run. A failure on one stack is reported in
/// [`Report::failures`] and does not stop the others.
///
/// # Errors
///
/// [`IngestError`] when nothing could be done at all.
pub async fn handle<Cat, Src, Store, State, Queue, Clk>(
    deps: &Deps<Cat, Src, Store, State, Queue, Clk>,
    request: &Request,
) -> Result<Report, IngestError>
where
    Cat: StackCatalog + Sync,
    Src: MetricSource + Sync,
    Store: MetricStore + Sync,
    State: StateStore + Sync,
    Queue: AnalysisQueue + Sync,
    Clk: Clock + Sync,
{
    let now = deps.clock.now();
    let names: Vec<String> = match request {
        Request::Stacks(names) | Request::FollowUp(names) => names.clone(),
        Request::Scheduled => {
            let listed = deps
                .catalog
                .list_stacks(&deps.settings.selection)
                .await
                .map_err(IngestError::Catalog)?;
            let active: Vec<String> = listed
                .iter()
                .filter(|s| s.is_active())
                .map(|s| s.name.clone())
                .collect();
            // Stacks we knew that are gone or no longer selected are forgotten.
            for known in deps.store.stacks().await? {
                if !active.contains(&known) {
                    info!(stack = %known, "stack no longer watched; forgetting it");
                    deps.store.forget(&known).await?;
                    deps.queue.request(&known, now).await?;
                }
            }
            active
        }
    };
    let follow_up = matches!(request, Request::FollowUp(_));
    let mut report = Report::default();
    for stack in names {
        match ingest_stack(deps, &stack, now, follow_up).await {
            Ok(r) => report.stacks.push(r),
            Err(e) => {
                warn!(stack = %stack, error = %e, "ingest of stack failed");
                report.failures.push((stack, shared::error_chain(&e)));
            }
        }
    }
    Ok(report)
}

/// A failure of one stack's ingest.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// CloudFormation or CloudWatch failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

async fn ingest_stack<Cat, Src, Store, State, Queue, Clk>(
    deps: &Deps<Cat, Src, Store, State, Queue, Clk>,
    stack: &str,
    now: Timestamp,
    follow_up: bool,
) -> Result<StackReport, StackError>
where
    Cat: StackCatalog + Sync,
    Src: MetricSource + Sync,
    Store: MetricStore + Sync,
    State: StateStore + Sync,
    Queue: AnalysisQueue + Sync,
    Clk: Clock + Sync,
{
    let s = &deps.settings;
    let period = i64::from(s.period);
    let mut report = StackReport {
        stack: stack.to_string(),
        ..StackReport::default()
    };
    let resources = match deps.catalog.resources(stack).await {
        Ok(r) => r,
        Err(SourceError::NotFound { .. }) => {
            info!(stack, "stack is gone; forgetting it");
            deps.store.forget(stack).await?;
            deps.queue.request(stack, now).await?;
            report.removed = true;
            return Ok(report);
        }
        Err(e) => return Err(e.into()),
    };
    let mut inventory = deps
        .store
        .inventory(stack)
        .await?
        .unwrap_or_else(|| StackInventory::new(stack));

    // Stack events since the last one known (or the horizon).
    let horizon = now.add(-s.event_horizon_secs);
    let since = inventory
        .events
        .last()
        .map_or(horizon, |e| e.time.max(horizon));
    let events = deps.catalog.events(stack, since).await?;
    let changed: Vec<String> = events
        .iter()
        .filter(|e| e.status.ends_with("_COMPLETE"))
        .map(|e| e.resource.physical_id.clone())
        .collect();
    let known_events = inventory.events.len();
    inventory.record_events(events, horizon);
    report.events = inventory.events.len().saturating_sub(known_events);

    // Configuration and discovery: refreshed when a resource appears or
    // changes, and once per refresh interval.
    let refresh_all = inventory
        .updated
        .is_none_or(|u| now.floor(s.refresh_secs) > u.floor(s.refresh_secs));
    let resources_changed = inventory.resources != resources;
    // Watched resources, and event source mappings (they say which queue or
    // stream feeds which function).
    for r in resources.iter().filter(|r| {
        ResourceKind::from_type(&r.resource_type).is_some()
            || r.resource_type == "AWS::Lambda::EventSourceMapping"
    }) {
        let stale = refresh_all
            || !inventory.configs.contains_key(&r.physical_id)
            || changed.contains(&r.physical_id);
        if stale && let Some(config) = deps.catalog.configuration(r).await? {
            inventory.configs.insert(r.physical_id.clone(), config);
        }
    }
    inventory
        .configs
        .retain(|id, _| resources.iter().any(|r| &r.physical_id == id));
    let known = if refresh_all || resources_changed || inventory.metrics.is_empty() {
        discover(&deps.source, &resources, &inventory).await?
    } else {
        inventory
            .metrics
            .iter()
            .map(|m| m.watched.key.clone())
            .collect()
    };
    inventory.resources = resources;

    // The metrics to watch, keeping what is known of those already watched.
    let planned = plan_metrics(&inventory.resources, &inventory.configs, &known, s.period);
    let mut previous: BTreeMap<MetricKey, TrackedMetric> = std::mem::take(&mut inventory.metrics)
        .into_iter()
        .map(|m| (m.watched.key.clone(), m))
        .collect();
    inventory.metrics = planned
        .into_iter()
        .map(
            |watched: WatchedMetric| match previous.remove(&watched.key) {
                Some(old) => TrackedMetric { watched, ..old },
                None => TrackedMetric {
                    watched,
                    fetched_until: None,
                    live_from: now.floor(period),
                },
            },
        )
        .collect();
    report.watched = inventory.metrics.len();

    // What is due at this tick: new metrics (warm start), every metric while
    // an insight is open, and otherwise each metric at its cadence (the
    // frequent ones at every follow-up too). A cadence beats on the clock's
    // ticks, not from the last fetch, so that a follow-up never delays the
    // next scheduled fetch; a fetch overdue (a missed tick) is made anyway.
    let hot = deps.state.has_open_insight(stack).await?;
    let end = now.floor(period);
    let covered_end = now.add(-s.publication_lag_secs).floor(period);
    let mut requests = Vec::new();
    for m in &inventory.metrics {
        let start = match m.fetched_until {
            None => now.add(-s.warm_start_secs).floor(period),
            Some(until) => {
                let spec = m.watched.spec;
                let every = spec.cadence.ticks() * s.schedule_secs;
                let stale = now.since(until) + s.publication_lag_secs;
                let due = hot
                    || spec.cadence == Cadence::Fast
                    || (follow_up && spec.cadence == Cadence::Frequent)
                    || (!follow_up && spec.beats(now, s.schedule_secs))
                    || stale >= every;
                if !due {
                    continue;
                }
                until.add(-s.refetch_secs).floor(period)
            }
        };
        if start < end {
            requests.push(FetchRequest {
                key: m.watched.key.clone(),
                range: TimeRange::new(start, end),
            });
        }
    }
    let series = if requests.is_empty() {
        Vec::new()
    } else {
        deps.source.fetch(&requests).await?
    };
    let mut windows = Vec::with_capacity(series.len());
    for (req, series) in requests.iter().zip(series) {
        report.points += series.points.len();
        let coverage = TimeRange::new(req.range.start, covered_end.max(req.range.start));
        windows.push((
            req.key.clone(),
            MetricWindow::from_fetch(coverage, series.points, period),
        ));
    }
    report.fetched = windows.len();
    // Windows first, then the inventory that says they were fetched: a crash
    // in between only means fetching them again.
    if !windows.is_empty() {
        deps.store.put_windows(stack, &windows).await?;
    }
    for (key, w) in &windows {
        if let (Some(m), Some(r)) = (
            inventory.metrics.iter_mut().find(|m| &m.watched.key == key),
            w.coverage().last(),
        ) {
            m.fetched_until = Some(m.fetched_until.map_or(r.end, |u| u.max(r.end)));
        }
    }
    inventory.updated = Some(now);
    deps.store.put_inventory(&inventory).await?;
    deps.queue.request(stack, now).await?;
    Ok(report)
}

/// Series known to CloudWatch for the tables and APIs of the stack: which
/// DynamoDB operations and API stages have metrics.
async fn discover<Src: MetricSource + Sync>(
    source: &Src,
    resources: &[Resource],
    inventory: &StackInventory,
) -> Result<Vec<MetricKey>, SourceError> {
    let mut known = Vec::new();
    for r in resources {
        let probe = match ResourceKind::from_type(&r.resource_type) {
            Some(ResourceKind::DynamoDbTable) => Some((
                "AWS/DynamoDB",
                Dimension::new("TableName", r.physical_id.as_str()),
            )),
            Some(ResourceKind::RestApi) => inventory
                .configs
                .get(&r.physical_id)
                .and_then(|c| c.at(&["name"]).as_str())
                .map(|name| ("AWS/ApiGateway", Dimension::new("ApiName", name))),
            Some(ResourceKind::HttpApi) => Some((
                "AWS/ApiGateway",
                Dimension::new("ApiId", r.physical_id.as_str()),
            )),
            _ => None,
        };
        if let Some((namespace, dimension)) = probe {
            known.extend(source.discover(namespace, &dimension).await?);
        }
    }
    Ok(known)
}
