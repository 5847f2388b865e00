//! The analyzer handler, generic over its ports.
//!
//! Safe under at-least-once delivery: analyzing a stack twice with the same
//! windows changes nothing the second time, and two concurrent analyses of a
//! stack cannot both save (the state is versioned); the loser reloads and
//! tries again.

use shared::domain::analysis::{AnalyzerSettings, analyze, needed_from};
use shared::domain::time::{DAY, TimeRange};
use shared::ports::{Clock, MetricStore, StateStore, StoreError};
use tracing::{debug, info};

/// The ports and settings the analyzer runs with.
#[derive(Debug)]
pub struct Deps<Store, State, Clk> {
    /// Windows and inventories written by ingest.
    pub store: Store,
    /// Baselines and insights.
    pub state: State,
    /// The time.
    pub clock: Clk,
    /// Settings.
    pub settings: AnalyzerSettings,
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
pub async fn handle<Store, State, Clk>(
    deps: &Deps<Store, State, Clk>,
    request: &Request,
) -> Result<Report, AnalyzerError>
where
    Store: MetricStore + Sync,
    State: StateStore + Sync,
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
