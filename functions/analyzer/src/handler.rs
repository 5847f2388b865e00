//! The analyzer handler, generic over its ports.
//!
//! Safe under at-least-once delivery: analyzing a stack twice with the same
//! windows changes nothing the second time, and two concurrent analyses of a
//! stack cannot both save (the state is versioned); the loser reloads and
//! tries again.

use shared::domain::analysis::{AnalyzerSettings, analyze, follow_up, needed_from};
use shared::domain::time::{DAY, TimeRange, Timestamp};
use shared::ports::{Clock, FollowUpQueue, MetricStore, StateStore, StoreError};
use tracing::{debug, info, warn};

/// The ports and settings the analyzer runs with.
#[derive(Debug)]
pub struct Deps<Store, State, FollowUps, Clk> {
    /// Windows and inventories written by ingest.
    pub store: Store,
    /// Baselines and insights.
    pub state: State,
    /// Where follow-ups for ingest go.
    pub follow_ups: FollowUps,
    /// The time.
    pub clock: Clk,
    /// Settings.
    pub settings: AnalyzerSettings,
    /// Seconds after a period ends until CloudWatch has published its point
    /// (as ingest assumes): a follow-up waits that long after the period
    /// it awaits.
    pub publication_lag_secs: i64,
}

/// What to analyze.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The stack.
    pub stack: String,
}

/// What one analysis did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The stack.
    pub stack: String,
    /// Points judged.
    pub points: u64,
    /// Insight changes recorded.
    pub changes: usize,
    /// Attempts needed (more than one after a concurrent save).
    pub attempts: u32,
    /// When a fast metric just turned abnormal and no insight is open: when
    /// its next point is published and ingest should look at the stack
    /// again rather than wait for the next tick (see
    /// [`shared::domain::analysis::follow_up`]).
    pub follow_up: Option<Timestamp>,
}

/// A failed analysis.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzerError {
    /// The store failed, or kept conflicting.
    #[error("analysis of stack {stack} failed")]
    Store {
        /// The stack.
        stack: String,
        /// Why.
        #[source]
        source: StoreError,
    },
}

/// How many times a save that lost a race is retried.
const ATTEMPTS: u32 = 4;
/// The most history an analysis ever reads.
const MAX_LOOKBACK: i64 = 15 * DAY;

/// Analyzes one stack with what is stored up to now.
///
/// # Errors
///
/// [`AnalyzerError`] when the store fails or conflicts persist; nothing is
/// half-saved.
pub async fn handle<Store, State, FollowUps, Clk>(
    deps: &Deps<Store, State, FollowUps, Clk>,
    request: &Request,
) -> Result<Report, AnalyzerError>
where
    Store: MetricStore + Sync,
    State: StateStore + Sync,
    FollowUps: FollowUpQueue + Sync,
    Clk: Clock + Sync,
{
    let stack = request.stack.as_str();
    let fail = |source| AnalyzerError::Store {
        stack: stack.to_string(),
        source,
    };
    let now = deps.clock.now();
    let mut report = Report {
        stack: stack.to_string(),
        ..Report::default()
    };
    let inventory = deps.store.inventory(stack).await.map_err(fail)?;
    for attempt in 1..=ATTEMPTS {
        report.attempts = attempt;
        let (mut state, version) = deps.state.load(stack).await.map_err(fail)?;
        let changes = match &inventory {
            // The stack is no longer watched: close what is open.
            None => state.insights.close_all(now),
            Some(inventory) => {
                let from = needed_from(&state, inventory)
                    .unwrap_or(now)
                    .max(now.add(-MAX_LOOKBACK));
                let windows = deps
                    .store
                    .windows(stack, TimeRange::new(from, now.add(1)))
                    .await
                    .map_err(fail)?;
                let analysis = analyze(&mut state, inventory, &windows, now, &deps.settings);
                report.points = analysis.points;
                analysis.changes
            }
        };
        if inventory.is_none() && changes.is_empty() {
            return Ok(report);
        }
        match deps.state.save(stack, &state, version, &changes).await {
            Ok(()) => {
                report.changes = changes.len();
                report.follow_up = inventory
                    .as_ref()
                    .and_then(|i| follow_up(&state, i, now))
                    .map(|at| at.add(deps.publication_lag_secs))
                    // A point that should be out by now and is not (a
                    // sparse metric) is left to the next tick.
                    .filter(|at| *at > now);
                if let Some(at) = report.follow_up {
                    // The state is saved: a lost follow-up only means
                    // waiting for the next tick.
                    if let Err(e) = deps.follow_ups.follow_up(stack, at, now).await {
                        warn!(stack, error = %e, "follow-up not queued");
                    }
                }
                if !changes.is_empty() {
                    info!(
                        stack,
                        changes = changes.len(),
                        points = report.points,
                        "insights changed"
                    );
                }
                return Ok(report);
            }
            Err(StoreError::Conflict { .. }) if attempt < ATTEMPTS => {
                debug!(stack, attempt, "state changed concurrently; retrying");
            }
            Err(e) => return Err(fail(e)),
        }
    }
    unreachable_attempts(stack)
}

fn unreachable_attempts(stack: &str) -> Result<Report, AnalyzerError> {
    Err(AnalyzerError::Store {
        stack: stack.to_string(),
        source: StoreError::Conflict {
            what: format!("state of stack {stack}"),
        },
    })
}
