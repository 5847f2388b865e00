//! `stackwatch replay`: the real ingest → analyzer → notifier pipeline over
//! scenario files, with a simulated clock.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use shared::adapters::clock::SimClock;
use shared::adapters::memory::{
    InMemoryDeliveryLog, InMemoryFollowUps, InMemoryMetricStore, InMemoryQueue, InMemoryStateStore,
};
use shared::adapters::scenario::{DEFAULT_PUBLISH_DELAY, Scenario, ScenarioSeries, ScenarioSource};
use shared::adapters::sink::JsonLinesNotifier;
use shared::domain::analysis::AnalyzerSettings;
use shared::domain::notification::NotificationFilter;
use shared::domain::stack::StackSelection;
use shared::domain::time::{DAY, Timestamp};
use shared::domain::tuning::Tuning;
use shared::messages::InsightDto;
use shared::ports::StateStore;

/// How a replay runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Seconds of each file treated as history: backfilled at the simulated
    /// deployment, as a real deployment backfills CloudWatch history.
    pub history_secs: Option<i64>,
    /// Sensitivity per stack and metric, and exclusion windows.
    pub tuning: Tuning,
    /// Seconds between ticks.
    pub schedule_secs: i64,
    /// Where to write every notification sent, as JSON lines.
    pub notifications: Option<PathBuf>,
    /// Which notifications are sent.
    pub filter: NotificationFilter,
    /// Print progress on stderr.
    pub progress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            history_secs: None,
            tuning: Tuning::default(),
            schedule_secs: 300,
            notifications: None,
            filter: NotificationFilter::default(),
            progress: false,
        }
    }
}

/// What a replay produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every insight opened, as it was at the end, in the order opened.
    pub insights: Vec<InsightDto>,
    /// Notifications sent.
    pub sent: usize,
    /// Points in the scenarios.
    pub points: usize,
    /// Points judged by the analyzer (history included).
    pub judged: u64,
    /// Ticks simulated.
    pub ticks: u64,
    /// Follow-ups run between ticks at the analyzer's request.
    pub follow_ups: u64,
    /// The simulated deployment time.
    pub deployed_at: Option<Timestamp>,
    /// The size of the analyzer's state at the end.
    pub state: StateSize,
}

/// The size of the analyzer's state, as it would be stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateSize {
    /// Metrics with a baseline.
    pub metrics: usize,
    /// Encoded bytes of all baselines.
    pub total_bytes: usize,
    /// Encoded bytes of the largest baseline.
    pub max_bytes: usize,
}

impl StateSize {
    /// Mean bytes per metric.
    pub fn mean_bytes(&self) -> usize {
        self.total_bytes / self.metrics.max(1)
    }
}

/// The default history: two days, or two thirds of a shorter file.
pub fn default_history(span_secs: i64) -> i64 {
    if span_secs >= 3 * DAY {
        2 * DAY
    } else {
        span_secs * 2 / 3
    }
}

/// Replays scenarios through ingest, analyzer and notifier.
///
/// Each file is replayed as a deployment of its own: its first `history`
/// is backfilled at the first tick (a warm start), then ticks follow every
/// `schedule_secs` until its last point is published. A file is judged the
/// same whatever other files are replayed with it: one that starts or ends
/// at other times than the rest is never watched where it knows nothing
/// (no data before its first point or after its last is not the same as no
/// samples). Insights of several files come in the order they opened.
///
/// # Errors
///
/// When two scenarios name the same stack, the notifications file cannot be
/// written, or a stage of the pipeline fails.
pub async fn run(scenarios: Vec<Scenario>, options: &Options) -> Result<Outcome> {
    let mut stacks: HashMap<&str, &str> = HashMap::new();
    for s in &scenarios {
        if let Some(other) = stacks.insert(&s.stack, &s.file) {
            bail!(
                "{} and {} both describe stack {:?}; replay them separately",
                other,
                s.file,
                s.stack
            );
        }
    }
    let mut sink: Box<dyn Write + Send> = match &options.notifications {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::sink()),
    };
    let several = scenarios.len() > 1;
    let mut outcome = Outcome::default();
    for scenario in scenarios {
        let file = scenario.file.clone();
        let one = run_one(scenario, options, &mut *sink)
            .await
            .with_context(|| format!("replaying {file}"))?;
        outcome.insights.extend(one.insights);
        outcome.sent += one.sent;
        outcome.points += one.points;
        outcome.judged += one.judged;
        outcome.ticks += one.ticks;
        outcome.follow_ups += one.follow_ups;
        outcome.deployed_at = match (outcome.deployed_at, one.deployed_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        outcome.state.metrics += one.state.metrics;
        outcome.state.total_bytes += one.state.total_bytes;
        outcome.state.max_bytes = outcome.state.max_bytes.max(one.state.max_bytes);
    }
    if several {
        // RFC 3339 times in UTC sort as text; the sort is stable, so each
        // file's own order stands among insights opened together.
        outcome
            .insights
            .sort_by(|a, b| a.open_time.cmp(&b.open_time));
    }
    if let Some(path) = &options.notifications {
        sink.flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(outcome)
}

/// Replays one scenario as a deployment of its own, sending notifications
/// to `sink`.
async fn run_one(
    scenario: Scenario,
    options: &Options,
    sink: &mut (dyn Write + Send),
) -> Result<Outcome> {
    let period = scenario.period();
    warn_off_period(&scenario, period);
    let stack_names = vec![scenario.stack.clone()];
    let scenarios = vec![scenario];
    let mut outcome = Outcome {
        points: scenarios.iter().map(Scenario::points).sum(),
        ..Outcome::default()
    };
    let spans: Vec<(Timestamp, Timestamp, i64)> = scenarios
        .iter()
        .filter_map(|s| s.span().map(|(a, b)| (a, b, s.max_period())))
        .collect();
    let (Some(first), Some(last)) = (
        spans.iter().map(|s| s.0).min(),
        spans.iter().map(|s| s.1).max(),
    ) else {
        // No points at all: nothing to replay, nothing found.
        return Ok(outcome);
    };
    let max_period = spans.iter().map(|s| s.2).max().unwrap_or(60);
    let history = options
        .history_secs
        .unwrap_or_else(|| default_history(last.since(first)));
    let schedule = options.schedule_secs;
    let deployed = first.add(history).ceil(schedule);
    // The last point is published at last + period + delay. Ticks stop at
    // the last one that sees no time beyond the file: after its end the
    // file knows nothing, which is not the same as "no samples".
    let stop = last.add(max_period + DEFAULT_PUBLISH_DELAY).floor(schedule);
    outcome.deployed_at = Some(deployed);

    let clock = SimClock::at(deployed);
    let source = ScenarioSource::new(scenarios, clock.clone(), DEFAULT_PUBLISH_DELAY);
    let ingest_settings = ingest::handler::Settings {
        selection: StackSelection::All,
        schedule_secs: schedule,
        // Backfill exactly from the first point: before it the file knows
        // nothing, which is not the same as "no samples".
        warm_start_secs: deployed.since(first.floor(max_period)),
        period,
        ..ingest::handler::Settings::default()
    };
    let store = InMemoryMetricStore::default();
    let state = InMemoryStateStore::new();
    let queue = InMemoryQueue::new();
    let ingest_deps = ingest::handler::Deps {
        catalog: &source,
        source: &source,
        store: &store,
        state: &state,
        queue: &queue,
        clock: clock.clone(),
        settings: ingest_settings,
    };
    let follow_ups = InMemoryFollowUps::new();
    let analyzer_deps = analyzer::handler::Deps {
        store: &store,
        state: &state,
        follow_ups: &follow_ups,
        publication_lag_secs: DEFAULT_PUBLISH_DELAY,
        clock: clock.clone(),
        settings: AnalyzerSettings {
            tuning: options.tuning.clone(),
            ..AnalyzerSettings::default()
        },
    };
    let notifier_deps = notifier::handler::Deps {
        notifier: JsonLinesNotifier::new(sink),
        log: InMemoryDeliveryLog::new(),
        filter: options.filter.clone(),
    };

    let mut order: Vec<String> = Vec::new();
    let mut latest: HashMap<String, InsightDto> = HashMap::new();
    let total_ticks = ((stop.since(deployed)) / schedule + 1).max(1) as u64;
    let mut next_progress = 0u64;
    // Follow-ups the analyzer asked for run when the point they wait for
    // is published, unless a scheduled tick comes first.
    let mut t = deployed;
    while t <= stop {
        let (now, request) = match follow_ups.take_before(t) {
            Some((at, stacks)) => (at, ingest::handler::Request::FollowUp(stacks)),
            None => {
                follow_ups.drop_through(t);
                (t, ingest::handler::Request::Scheduled)
            }
        };
        let scheduled = request == ingest::handler::Request::Scheduled;
        clock.set(now);
        let report = ingest::handler::handle(&ingest_deps, &request)
            .await
            .with_context(|| format!("ingest at {now}"))?;
        if let Some((stack, why)) = report.failures.first() {
            bail!("ingest of stack {stack} at {now} failed: {why}");
        }
        for (stack, _) in queue.drain() {
            let r =
                analyzer::handler::handle(&analyzer_deps, &analyzer::handler::Request { stack })
                    .await
                    .with_context(|| format!("analysis at {now}"))?;
            outcome.judged += r.points;
        }
        let batch = state.drain_outbox();
        for n in &batch {
            if !latest.contains_key(&n.insight.id) {
                order.push(n.insight.id.clone());
            }
            latest.insert(n.insight.id.clone(), n.insight.clone());
        }
        let delivered = notifier::handler::handle(&notifier_deps, &batch).await;
        outcome.sent += delivered.sent;
        if let Some((id, why)) = delivered.failures.first() {
            bail!("sending notification {id} failed: {why}");
        }
        if !scheduled {
            outcome.follow_ups += 1;
            continue;
        }
        outcome.ticks += 1;
        if options.progress && outcome.ticks >= next_progress {
            progress(&stack_names[0], outcome.ticks, total_ticks, t, order.len());
            next_progress += (total_ticks / 20).max(1);
        }
        t = t.add(schedule);
    }
    outcome.insights = order
        .into_iter()
        .filter_map(|id| latest.remove(&id))
        .collect();
    for stack in &stack_names {
        let (state, _) = state.load(stack).await?;
        for baseline in state.baselines.values() {
            let bytes = baseline.encode().len();
            outcome.state.metrics += 1;
            outcome.state.total_bytes += bytes;
            outcome.state.max_bytes = outcome.state.max_bytes.max(bytes);
        }
    }
    Ok(outcome)
}

/// Says on stderr which series of `scenario` are not replayed because
/// their period is not `period`, the one the file is replayed at.
#[allow(clippy::print_stderr)]
fn warn_off_period(scenario: &Scenario, period: u32) {
    let off: Vec<&ScenarioSeries> = scenario.off_period().collect();
    if let Some(first) = off.first() {
        let key = &first.key;
        eprintln!(
            "replay: {}: {} series not at a period of {period} s are left out (e.g. {} {} {} at {} s): a file is replayed at the period of most of its series",
            scenario.file,
            off.len(),
            key.namespace(),
            key.name(),
            key.stat(),
            key.period()
        );
    }
}

#[allow(clippy::print_stderr)]
fn progress(stack: &str, tick: u64, total: u64, t: Timestamp, insights: usize) {
    eprintln!("replay: {stack}: tick {tick}/{total} at {t}, {insights} insight(s) so far");
}
