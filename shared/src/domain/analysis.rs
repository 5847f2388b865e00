//! The analyzer's core: judge the new points of every metric of a stack
//! against their baselines and turn the resulting anomalies into insight
//! changes. Pure: the caller loads the state and windows, passes `now`, and
//! stores what comes back.

use std::collections::BTreeMap;

use super::calendar::UsersNight;
use super::catalog::{Cadence, SignalClass, ValueKind, WatchedMetric};
use super::detector::{Baseline, Episode, EpisodeChange, Exposure, SignalTraits, transform};
use super::explain::StackContext;
use super::insight::{InsightChange, Rate, SignalEvent, StackInsights};
use super::inventory::{StackInventory, TrackedMetric};
use super::metric::MetricKey;
use super::proactive::{self, Peaks, wants_peaks};
use super::resource::ConfigValue;
use super::time::{HOUR, TimeRange, Timestamp};
use super::topology::Topology;
use super::tuning::Tuning;
use super::window::{MetricWindow, Observation};

/// Settings of the analyzer.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalyzerSettings {
    /// How eager the detector is, per stack and metric, and when it looks
    /// away.
    pub tuning: Tuning,
    /// Seconds after a period's end before it is judged, on top of the
    /// publication lag that ingest already leaves out of its coverage.
    pub settle_secs: i64,
    /// Seconds without any sample after which an anomaly of a metric that
    /// stopped reporting (a latency with no more requests) is over.
    pub quiet_secs: i64,
}

impl Default for AnalyzerSettings {
    fn default() -> Self {
        Self {
            tuning: Tuning::default(),
            settle_secs: 0,
            quiet_secs: 15 * 60,
        }
    }
}

/// The analyzer's state for one stack: a baseline per metric and the insight
/// lifecycle.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackState {
    /// Baselines by metric.
    pub baselines: BTreeMap<MetricKey, Baseline>,
    /// Open insights and pending anomalies.
    pub insights: StackInsights,
    /// Recent peaks of the metrics that proactive rules read.
    pub peaks: BTreeMap<MetricKey, Peaks>,
}

/// What one analysis did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Analysis {
    /// Insight changes, in order.
    pub changes: Vec<InsightChange>,
    /// Points judged (history included).
    pub points: u64,
    /// Metrics whose baseline changed.
    pub touched: Vec<MetricKey>,
}

/// The detector's view of a watched metric: its spec, with limits that
/// depend on configuration (a queue's age only matters beyond its
/// visibility timeout: up to it, a message is merely waiting for a retry,
/// whatever the sensitivity).
pub fn traits_for(metric: &WatchedMetric, configs: &BTreeMap<String, ConfigValue>) -> SignalTraits {
    let spec = metric.spec;
    let mut change_floor = 0.0;
    if spec.name == "ApproximateAgeOfOldestMessage" {
        let visibility = configs
            .get(&metric.resource.physical_id)
            .and_then(|c| c.at(&["Attributes", "VisibilityTimeout"]).as_f64())
            .unwrap_or(30.0);
        change_floor = visibility + 60.0;
    }
    SignalTraits {
        kind: spec.kind,
        watch: spec.watch,
        // The catalog's, which the sensitivity scales; the floor is not
        // scaled (`SignalTraits::smallest_change`).
        min_change: spec.min_change_at(i64::from(metric.key.period())),
        change_floor,
        min_ratio: spec.min_ratio,
        period: i64::from(metric.key.period()),
        drift: watched_for_drift(metric),
    }
}

/// Whether small but lasting rises of a metric are looked for: counts of
/// failures (errors, throttles), which matter summed over a stretch.
fn watched_for_drift(metric: &WatchedMetric) -> bool {
    metric.spec.kind == ValueKind::Count
        && matches!(
            metric.spec.class,
            SignalClass::Errors | SignalClass::Throttles
        )
}

/// The earliest time the analysis of this stack needs windows from.
pub fn needed_from(state: &StackState, inventory: &StackInventory) -> Option<Timestamp> {
    inventory
        .metrics
        .iter()
        .filter(|m| m.fetched_until.is_some())
        .map(
            |m| match state.baselines.get(&m.watched.key).and_then(Baseline::next) {
                Some(t) => t,
                None => Timestamp::from_secs(i64::MIN / 2),
            },
        )
        .min()
}

/// When the stack should be looked at again before the next scheduled
/// tick (the end of the period whose point is awaited; the caller adds
/// CloudWatch's publication lag), while no insight is open:
///
/// - as soon as the next point of a fast or frequent metric that just
///   turned abnormal, or halfway there ([`Baseline::unsettled`]), exists:
///   an incident is then confirmed a point or two after it starts rather
///   than at the next tick;
/// - for the first [`DEPLOY_WATCH_SECS`] after one of the stack's resources
///   was updated, at each new point of its fast and frequent metrics: a bad
///   deployment, the most common cause of incidents, is seen at its first
///   point.
///
/// A quiet stack that nobody deploys is never looked at more often.
pub fn follow_up(
    state: &StackState,
    inventory: &StackInventory,
    now: Timestamp,
) -> Option<Timestamp> {
    if state.insights.open().is_some() {
        return None;
    }
    let deployed: Vec<(&str, Timestamp)> = inventory
        .events
        .iter()
        .filter(|e| e.status == "UPDATE_COMPLETE" && now.since(e.time) < DEPLOY_WATCH_SECS)
        .map(|e| (e.resource.physical_id.as_str(), e.time))
        .collect();
    inventory
        .metrics
        .iter()
        .filter(|m| matches!(m.watched.spec.cadence, Cadence::Fast | Cadence::Frequent))
        .filter_map(|m| {
            let b = state.baselines.get(&m.watched.key)?;
            let next = b.next()?;
            let period = i64::from(m.watched.key.period());
            let watched = deployed
                .iter()
                .any(|(id, at)| *id == m.watched.resource.physical_id && next.add(period) > *at);
            (b.unsettled(period) || watched).then(|| next.add(period))
        })
        .min()
}

/// How long after a resource's update its metrics are followed up point by
/// point.
pub const DEPLOY_WATCH_SECS: i64 = 5 * 60;

/// Judges every new, settled point of the stack's metrics and applies the
/// resulting anomaly changes to its insights.
///
/// A point is settled once `settle_secs` have passed since its period ended.
/// Points before a metric's `live_from` teach its baseline without opening
/// insights. Running it twice with the same windows changes nothing the
/// second time.
pub fn analyze(
    state: &mut StackState,
    inventory: &StackInventory,
    windows: &BTreeMap<MetricKey, MetricWindow>,
    now: Timestamp,
    settings: &AnalyzerSettings,
) -> Analysis {
    let settled = now.add(-settings.settle_secs);
    let mut analysis = Analysis::default();
    let mut events: Vec<(Timestamp, usize, SignalEvent<'_>)> = Vec::new();
    // A long stretch (the history a new stack is backfilled with, or a
    // catch-up after an outage) is judged an hour at a time across all
    // metrics, so that the users' week is known as soon as the traffic
    // has taught it, not only from the next run on.
    let mut reached = first_unjudged(state, inventory, windows).unwrap_or(settled);
    loop {
        reached = reached.add(STAGE_SECS).floor(STAGE_SECS).min(settled);
        let night = users_night(state, inventory);
        for (index, tracked) in inventory.metrics.iter().enumerate() {
            let Some(window) = windows.get(&tracked.watched.key) else {
                continue;
            };
            let exposure = traffic_source_of(&tracked.watched, state, inventory, windows);
            let judged = judge_metric(
                state,
                &inventory.stack,
                tracked,
                window,
                &exposure,
                &inventory.configs,
                reached,
                night.filter(|_| follows_traffic(&tracked.watched)),
                settings,
                &mut |t, change| {
                    let rate = match change {
                        EpisodeChange::Started(ep) | EpisodeChange::Extended(ep) => {
                            error_rate(&tracked.watched, &ep, inventory, windows)
                        }
                        _ => None,
                    };
                    events.push((
                        t,
                        index,
                        SignalEvent {
                            metric: &tracked.watched,
                            change,
                            rate,
                            judged_until: None,
                            volume: None,
                        },
                    ));
                },
            );
            if judged > 0 {
                analysis.points += judged;
                if !analysis.touched.contains(&tracked.watched.key) {
                    analysis.touched.push(tracked.watched.key.clone());
                }
            }
        }
        if reached >= settled {
            break;
        }
    }
    // Anomalies of metrics that stopped reporting end after a quiet spell.
    for (index, tracked) in inventory.metrics.iter().enumerate() {
        let period = i64::from(tracked.watched.key.period());
        if let Some(b) = state.baselines.get_mut(&tracked.watched.key)
            && let Some((ep, end)) = b.expire(settled, settings.quiet_secs, period)
        {
            events.push((
                settled,
                index,
                SignalEvent {
                    metric: &tracked.watched,
                    change: EpisodeChange::Ended(ep, end),
                    rate: None,
                    judged_until: None,
                    volume: None,
                },
            ));
            if !analysis.touched.contains(&tracked.watched.key) {
                analysis.touched.push(tracked.watched.key.clone());
            }
        }
    }
    events.sort_by_key(|(t, i, _)| (*t, *i));
    // The volume behind a latency only decides whether an anomaly opens an
    // insight, which it cannot while one is open (an insight closes only
    // after all events are applied).
    let opening = state.insights.open().is_none();
    let ordered: Vec<SignalEvent<'_>> = events
        .into_iter()
        .map(|(_, _, e)| SignalEvent {
            judged_until: state.baselines.get(&e.metric.key).and_then(Baseline::next),
            volume: match e.change {
                EpisodeChange::Started(ep) | EpisodeChange::Extended(ep) if opening => {
                    volume(e.metric, &ep, state, inventory, windows)
                }
                _ => None,
            },
            ..e
        })
        .collect();
    let topology = Topology::of(&inventory.resources, &inventory.configs);
    let ctx = StackContext {
        resources: &inventory.resources,
        configs: &inventory.configs,
        events: &inventory.events,
        topology: &topology,
    };
    analysis.changes = state
        .insights
        .apply(&inventory.stack, &ordered, &ctx, now, settled);
    let peaks: Vec<(&MetricKey, &str, &Peaks)> = inventory
        .metrics
        .iter()
        .filter_map(|m| {
            let p = state.peaks.get(&m.watched.key)?;
            Some((&m.watched.key, m.watched.resource.physical_id.as_str(), p))
        })
        .collect();
    let findings = proactive::evaluate(&proactive::Context {
        resources: &inventory.resources,
        configs: &inventory.configs,
        topology: &topology,
        peaks: &peaks,
        account_concurrency: None,
        now,
    });
    let proactive_changes = state
        .insights
        .apply_findings(&inventory.stack, &findings, now);
    analysis.changes.extend(proactive_changes);
    analysis
}

/// What a count that is a share of traffic (errors of invocations, 5XX
/// responses of requests) is a share of.
enum TrafficSource<'a> {
    /// Not a share of anything known: every period weighs the same.
    Unit,
    /// The traffic metric of the same resource: its point of the period
    /// when fetched, else what its baseline expects then.
    Traffic {
        window: Option<&'a MetricWindow>,
        baseline: Option<Box<Baseline>>,
        kind: ValueKind,
    },
}

impl<'a> TrafficSource<'a> {
    /// The traffic metric `traffic`, read from its window in `windows` or
    /// its baseline in `state`.
    fn of(
        traffic: &TrackedMetric,
        state: &StackState,
        windows: &'a BTreeMap<MetricKey, MetricWindow>,
    ) -> Self {
        TrafficSource::Traffic {
            window: windows.get(&traffic.watched.key),
            baseline: state
                .baselines
                .get(&traffic.watched.key)
                .cloned()
                .map(Box::new),
            kind: traffic.watched.spec.kind,
        }
    }

    /// The exposure of the period starting at `t`, if known.
    fn at(&self, t: Timestamp) -> Option<Exposure> {
        match self {
            TrafficSource::Unit => Some(Exposure::Measured(1.0)),
            TrafficSource::Traffic {
                window,
                baseline,
                kind,
            } => {
                if let Some(w) = window
                    && w.covered_until(t).is_some()
                {
                    return Some(Exposure::Measured(w.value_at(t).unwrap_or(0.0)));
                }
                let (low, high, _) = baseline.as_ref()?.band(t, *kind)?;
                Some(Exposure::Estimated((low + high) / 2.0))
            }
        }
    }

    /// The traffic of the period starting at `t` against the usual traffic
    /// at this time of day (0.2: a fifth of it), if both are known.
    fn load_at(&self, t: Timestamp) -> Option<f64> {
        let TrafficSource::Traffic { baseline, kind, .. } = self else {
            return None;
        };
        let usual = baseline.as_ref()?.usual(t)?;
        let now = transform(self.at(t)?.value(), *kind);
        Some((now - usual).exp())
    }
}

/// Where a metric watched for drift reads its exposure, and an average
/// latency its load: the traffic metric of the same resource and period
/// (invocations for a function's errors, throttles and duration, requests
/// for an API's 5XX and latencies), or none.
fn traffic_source_of<'a>(
    metric: &WatchedMetric,
    state: &StackState,
    inventory: &StackInventory,
    windows: &'a BTreeMap<MetricKey, MetricWindow>,
) -> TrafficSource<'a> {
    let averages_traffic =
        metric.spec.class == SignalClass::Latency && metric.key.stat() == "Average";
    if !watched_for_drift(metric) && !averages_traffic {
        return TrafficSource::Unit;
    }
    match traffic_of(metric, inventory) {
        Some(t) => TrafficSource::of(t, state, windows),
        None => TrafficSource::Unit,
    }
}

/// The mean traffic per period behind a latency over the first five
/// periods of an episode, all that deciding whether it lasted needs
/// (requests for an API, invocations for a function): measured where
/// fetched, else what the traffic's baseline expects then.
fn volume(
    metric: &WatchedMetric,
    ep: &Episode,
    state: &StackState,
    inventory: &StackInventory,
    windows: &BTreeMap<MetricKey, MetricWindow>,
) -> Option<f64> {
    if metric.spec.class != SignalClass::Latency {
        return None;
    }
    let source = TrafficSource::of(traffic_of(metric, inventory)?, state, windows);
    let period = i64::from(metric.key.period()).max(1);
    let last = ep.last_abnormal.min(ep.start.add(4 * period));
    let (mut sum, mut n) = (0.0, 0u32);
    let mut t = ep.start;
    while t <= last {
        if let Some(e) = source.at(t) {
            sum += e.value();
            n += 1;
        }
        t = t.add(period);
    }
    (n > 0).then(|| sum / f64::from(n))
}

/// The traffic metric of a metric's resource with the same period
/// (invocations for a function, requests for an API), if watched.
fn traffic_of<'a>(
    metric: &WatchedMetric,
    inventory: &'a StackInventory,
) -> Option<&'a TrackedMetric> {
    inventory.metrics.iter().find(|m| {
        m.watched.resource == metric.resource
            && m.watched.spec.class == SignalClass::Traffic
            && m.watched.key.period() == metric.key.period()
    })
}

/// The share of requests that failed over an errors episode, from the
/// traffic metric of the same resource (invocations for a function,
/// requests for an API), when its points cover the episode.
fn error_rate(
    metric: &WatchedMetric,
    ep: &Episode,
    inventory: &StackInventory,
    windows: &BTreeMap<MetricKey, MetricWindow>,
) -> Option<Rate> {
    if metric.spec.class != SignalClass::Errors {
        return None;
    }
    let traffic = traffic_of(metric, inventory)?;
    let window = windows.get(&traffic.watched.key)?;
    let period = i64::from(metric.key.period());
    let end = ep.last_abnormal.add(period);
    if window.covered_until(ep.start)? < end {
        return None;
    }
    let requests: f64 = window
        .points()
        .iter()
        .filter(|(t, _)| *t >= ep.start && *t < end)
        .map(|(_, v)| v)
        .sum();
    // The episode's means per abnormal period, over every period of the
    // stretch (normal periods inside it had errors too, just fewer).
    let periods = (end.since(ep.start) / period).max(1) as f64;
    let errors = ep.observed() * periods;
    let usual = ep.expected() * periods;
    (requests >= 1.0).then(|| Rate {
        observed: (errors / requests).min(1.0),
        expected: (usual / requests).min(1.0),
    })
}

/// How much of a long stretch is judged, across all metrics, before the
/// users' night is read again.
const STAGE_SECS: i64 = HOUR;

/// The earliest period any metric may judge: the one after its last
/// judged, and not before its fetched window starts.
fn first_unjudged(
    state: &StackState,
    inventory: &StackInventory,
    windows: &BTreeMap<MetricKey, MetricWindow>,
) -> Option<Timestamp> {
    inventory
        .metrics
        .iter()
        .filter_map(|m| {
            let start = windows.get(&m.watched.key)?.coverage().first()?.start;
            let next = state.baselines.get(&m.watched.key).and_then(Baseline::next);
            Some(next.map_or(start, |next| next.max(start)))
        })
        .min()
}

/// The users' night, read from the stack's busiest traffic metric (the one
/// whose profile peaks highest), once it has learned a day.
fn users_night(state: &StackState, inventory: &StackInventory) -> Option<UsersNight> {
    inventory
        .metrics
        .iter()
        .filter(|m| m.watched.spec.class == SignalClass::Traffic)
        .filter_map(|m| state.baselines.get(&m.watched.key)?.hourly_profile())
        .max_by(|a, b| {
            let peak = |p: &[f64; 24]| p.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            peak(a).total_cmp(&peak(b))
        })
        .and_then(|p| UsersNight::infer(&p))
}

/// Whether a metric moves with the amount of traffic (and so changes level
/// when the users' weekend starts or ends): requests, invocations,
/// concurrency, consumed capacity.
fn follows_traffic(metric: &WatchedMetric) -> bool {
    matches!(
        metric.spec.class,
        SignalClass::Traffic | SignalClass::Concurrency | SignalClass::Capacity
    )
}

#[allow(clippy::too_many_arguments)]
fn judge_metric(
    state: &mut StackState,
    stack: &str,
    tracked: &TrackedMetric,
    window: &MetricWindow,
    exposure: &TrafficSource<'_>,
    configs: &BTreeMap<String, ConfigValue>,
    settled: Timestamp,
    night: Option<UsersNight>,
    settings: &AnalyzerSettings,
    emit: &mut impl FnMut(Timestamp, EpisodeChange),
) -> u64 {
    let key = &tracked.watched.key;
    let period = i64::from(key.period());
    let traits = traits_for(&tracked.watched, configs);
    let sensitivity = settings.tuning.sensitivity(stack, key);
    let StackState {
        baselines,
        peaks: all_peaks,
        ..
    } = state;
    let baseline = baselines.entry(key.clone()).or_default();
    let from = match baseline.next() {
        Some(t) => t,
        None => match window.coverage().first() {
            Some(r) => r.start,
            None => return 0,
        },
    };
    // Only whole periods that ended at least `settle` ago, and only as far
    // as the fetched coverage reaches. A gap in the coverage (ingest was
    // down) is skipped: nothing is known of it, so nothing is judged.
    let Some(stretch) = window.coverage().iter().find(|r| r.end > from) else {
        return 0;
    };
    let from = from.max(stretch.start.ceil(period));
    let until = settled.floor(period).min(stretch.end.floor(period));
    if until <= from {
        return 0;
    }
    let mut peaks = wants_peaks(key).then(|| all_peaks.entry(key.clone()).or_default());
    let mut judged = 0;
    for (t, obs) in window.observations(TimeRange::new(from, until), period) {
        // An exclusion window is neither judged nor learned: a maintenance
        // window must not alert, nor become the new normal.
        if settings.tuning.excluded(stack, t) {
            continue;
        }
        let value = match obs {
            Observation::Value(v) => v,
            // The work a resource is given has its history begin at its
            // first point: before it the resource did not exist yet or was
            // not used (a new stack or function, whose backfill reaches
            // before it), which is not a stretch of zeros to learn. Errors
            // and throttles, published only when they happen, still count
            // their empty periods from the start: none is their normal.
            Observation::NoSamples
                if baseline.learned() == 0
                    && matches!(
                        tracked.watched.spec.class,
                        SignalClass::Traffic | SignalClass::Capacity | SignalClass::Concurrency
                    ) =>
            {
                baseline.advance(t.add(period));
                continue;
            }
            Observation::NoSamples if traits.kind == ValueKind::Count => 0.0,
            Observation::NoSamples => continue,
        };
        // At the users' weekend boundary, traffic takes its new level
        // rather than being judged against the old one.
        if let Some(boundary) = night.and_then(|n| n.weekend_boundary(t))
            && baseline.relevel(t, value, &traits, &sensitivity, boundary)
        {
            if let Some(p) = peaks.as_mut() {
                p.record(t, value);
            }
            judged += 1;
            continue;
        }
        let judgement = if traits.kind == ValueKind::Latency {
            baseline.observe_latency(t, value, exposure.load_at(t), &traits, &sensitivity)
        } else {
            baseline.observe_exposed(t, value, exposure.at(t), &traits, &sensitivity)
        };
        if let Some((_, change)) = judgement {
            if let Some(p) = peaks.as_mut() {
                p.record(t, value);
            }
            judged += 1;
            if t >= tracked.live_from && change != EpisodeChange::None {
                emit(t, change);
            }
        }
    }
    baseline.advance(until);
    judged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::plan_metrics;
    use crate::domain::detector::Sensitivity;
    use crate::domain::resource::{Resource, object};
    use crate::domain::time::{DAY, TimeRange};
    use crate::domain::tuning::{Exclusion, StackTuning};

    const T0: i64 = 1_780_000_000 / DAY * DAY;

    fn inventory() -> StackInventory {
        inventory_of("Errors", 4 * DAY, DAY)
    }

    /// A stack of one function, watching its metric `name`, fetched until
    /// `T0 + fetched` and reported from `T0 + live`.
    fn inventory_of(name: &str, fetched: i64, live: i64) -> StackInventory {
        let resources = vec![Resource::new("F", "shop-F-1", "AWS::Lambda::Function")];
        let metrics = plan_metrics(&resources, &BTreeMap::new(), &[], 60)
            .into_iter()
            .filter(|m| m.key.name() == name)
            .map(|watched| TrackedMetric {
                watched,
                fetched_until: Some(Timestamp::from_secs(T0 + fetched)),
                live_from: Timestamp::from_secs(T0 + live),
            })
            .collect();
        StackInventory {
            stack: "shop".into(),
            resources,
            metrics,
            ..StackInventory::default()
        }
    }

    #[test]
    fn a_queue_s_retry_wait_is_no_change_at_any_sensitivity_and_is_not_scaled_by_it() {
        let queue = Resource::new(
            "Q",
            "https://sqs.us-east-1.amazonaws.com/1/shop-Q",
            "AWS::SQS::Queue",
        );
        let smallest = |visibility: Option<&str>, sensitivity: &Sensitivity| {
            let mut configs = BTreeMap::new();
            if let Some(v) = visibility {
                let attributes = object([("VisibilityTimeout", ConfigValue::Text(v.to_string()))]);
                configs.insert(
                    queue.physical_id.clone(),
                    object([("Attributes", attributes)]),
                );
            }
            let metrics = plan_metrics(std::slice::from_ref(&queue), &configs, &[], 60);
            let age = metrics
                .iter()
                .find(|m| m.key.name() == "ApproximateAgeOfOldestMessage")
                .expect("a queue's age is watched");
            traits_for(age, &configs).smallest_change(sensitivity)
        };
        // A retry waits out the visibility timeout: up to it and a minute,
        // the age is no change, whatever the sensitivity.
        for s in [Sensitivity::LOW, Sensitivity::MEDIUM, Sensitivity::HIGH] {
            assert_eq!(smallest(Some("300"), &s), 360.0);
        }
        // Beyond it, the sensitivity scales the catalog's minute, not the
        // floor: twice a minute at `low`, where the retry wait is shorter.
        assert_eq!(smallest(Some("0"), &Sensitivity::LOW), 120.0);
        assert_eq!(smallest(None, &Sensitivity::MEDIUM), 90.0);
        assert_eq!(smallest(None, &Sensitivity::LOW), 120.0);
    }

    #[test]
    fn a_deployed_function_is_followed_up_point_by_point_for_five_minutes() {
        let mut inv = inventory();
        let deployed = Timestamp::from_secs(T0 + 4 * DAY + 50 * 60 + 52);
        inv.events.push(crate::domain::event::StackEvent {
            time: deployed,
            resource: inv.resources[0].clone(),
            status: "UPDATE_COMPLETE".into(),
            reason: None,
        });
        let mut state = StackState::default();
        let key = inv.metrics[0].watched.key.clone();
        let mut b = Baseline::new();
        // Judged up to 20:49: the point of 20:50 is next.
        let next = Timestamp::from_secs(T0 + 4 * DAY + 50 * 60);
        b.advance(next);
        state.baselines.insert(key, b);
        let now = Timestamp::from_secs(T0 + 4 * DAY + 52 * 60);
        assert_eq!(follow_up(&state, &inv, now), Some(next.add(60)));
        // Long after the deployment, a quiet metric waits for the tick.
        assert_eq!(
            follow_up(&state, &inv, deployed.add(DEPLOY_WATCH_SECS)),
            None
        );
        // Without a deployment, nothing.
        inv.events.clear();
        assert_eq!(follow_up(&state, &inv, now), None);
    }

    #[test]
    fn a_latency_knows_its_load_from_the_traffic_behind_it() {
        // Invocations learned at 80 a minute for two days; on the third,
        // 15 fetched at 10:00 and nothing fetched after.
        let traits = SignalTraits {
            kind: ValueKind::Count,
            watch: crate::domain::catalog::Watch::Both,
            min_change: 20.0,
            change_floor: 0.0,
            min_ratio: 0.5,
            period: 60,
            drift: false,
        };
        let mut b = Baseline::new();
        for m in 0..2 * 1440 {
            let t = Timestamp::from_secs(T0 + m * 60);
            b.observe(t, 80.0, &traits, &Default::default());
        }
        let at = |minute: i64| Timestamp::from_secs(T0 + 2 * DAY + minute * 60);
        let window =
            MetricWindow::from_fetch(TimeRange::new(at(0), at(601)), [(at(600), 15.0)], 60);
        let source = TrafficSource::Traffic {
            window: Some(&window),
            baseline: Some(Box::new(b)),
            kind: ValueKind::Count,
        };
        let measured = source.load_at(at(600)).expect("a load");
        assert!((measured - 16.0 / 81.0).abs() < 0.01, "{measured}");
        // Not fetched yet: what the traffic's baseline expects, as usual.
        let expected = source.load_at(at(700)).expect("a load");
        assert!((expected - 1.0).abs() < 0.1, "{expected}");
        assert_eq!(TrafficSource::Unit.load_at(at(600)), None);
    }

    /// Errors: one every so often for three days, then a burst of 30 a
    /// minute for 40 minutes on the fourth day at 14:00.
    fn windows(inv: &StackInventory) -> BTreeMap<MetricKey, MetricWindow> {
        let key = inv.metrics[0].watched.key.clone();
        let burst = (3 * 1440 + 14 * 60)..(3 * 1440 + 14 * 60 + 40);
        let points = (0..4 * 1440).map(|m| {
            let v = if burst.contains(&m) {
                30.0
            } else if m % 97 == 0 {
                1.0
            } else {
                0.0
            };
            (Timestamp::from_secs(T0 + m * 60), v)
        });
        let range = TimeRange::new(Timestamp::from_secs(T0), Timestamp::from_secs(T0 + 4 * DAY));
        [(key, MetricWindow::from_fetch(range, points, 60))]
            .into_iter()
            .collect()
    }

    #[test]
    fn traffic_learns_from_its_first_point_not_from_the_empty_days_before_it() {
        // A function created on day 12 is called about 40 times a minute
        // from its first minute; stackwatch's first tick backfills the
        // fourteen days before, twelve of which have no point at all.
        let inv = inventory_of("Invocations", 14 * DAY, 12 * DAY);
        let key = inv.metrics[0].watched.key.clone();
        let created = 12 * 1440;
        let points = (created..14 * 1440)
            .map(|m| (Timestamp::from_secs(T0 + m * 60), 40.0 + (m % 7) as f64));
        let range = TimeRange::new(
            Timestamp::from_secs(T0),
            Timestamp::from_secs(T0 + 14 * DAY),
        );
        let windows: BTreeMap<MetricKey, MetricWindow> =
            [(key.clone(), MetricWindow::from_fetch(range, points, 60))]
                .into_iter()
                .collect();
        let mut state = StackState::default();
        let a = analyze(
            &mut state,
            &inv,
            &windows,
            Timestamp::from_secs(T0 + 14 * DAY),
            &AnalyzerSettings::default(),
        );
        assert!(
            a.changes.is_empty(),
            "{:?}",
            a.changes.first().map(|c| &c.insight.name)
        );
        let b = &state.baselines[&key];
        assert!(b.learned() <= 2 * 1440, "{}", b.learned());
        assert!(b.learned() >= 2 * 1440 - 10, "{}", b.learned());
    }

    #[test]
    fn an_exclusion_window_is_neither_judged_nor_learned() {
        let inv = inventory();
        let windows = windows(&inv);
        let now = Timestamp::from_secs(T0 + 4 * DAY);
        // Without the window the burst opens an insight.
        let mut plain = StackState::default();
        let a = analyze(
            &mut plain,
            &inv,
            &windows,
            now,
            &AnalyzerSettings::default(),
        );
        assert!(
            a.changes
                .iter()
                .any(|c| c.kind == crate::domain::insight::ChangeKind::NewInsight)
        );
        // With a window over it, nothing opens and the window's points are
        // not learned.
        let window = TimeRange::new(
            Timestamp::from_secs(T0 + 3 * DAY + 13 * 3600),
            Timestamp::from_secs(T0 + 3 * DAY + 16 * 3600),
        );
        let mut settings = AnalyzerSettings::default();
        settings.tuning.stacks.insert(
            "shop".into(),
            StackTuning {
                exclusions: vec![Exclusion::Range(window)],
                ..StackTuning::default()
            },
        );
        let mut excluded = StackState::default();
        let b = analyze(&mut excluded, &inv, &windows, now, &settings);
        assert!(
            b.changes.is_empty(),
            "{:?}",
            b.changes.first().map(|c| &c.insight.name)
        );
        let learned = |s: &StackState| s.baselines.values().map(Baseline::learned).sum::<u32>();
        // Every point outside the three-hour window is ordinary and learned;
        // none inside it is.
        assert_eq!(learned(&excluded), 4 * 1440 - 3 * 60);
        assert!(learned(&plain) > learned(&excluded));
    }

    /// A function's invocations over `days` from `T0` (a Thursday): a
    /// daily curve for users at UTC, quietest at 03:00, busiest at 15:00,
    /// with a few percent of noise; `shape` scales each minute.
    fn traffic(
        days: i64,
        shape: impl Fn(i64) -> f64,
    ) -> (StackInventory, BTreeMap<MetricKey, MetricWindow>) {
        let resources = vec![Resource::new("F", "shop-F-1", "AWS::Lambda::Function")];
        let end = Timestamp::from_secs(T0 + days * DAY);
        let metrics: Vec<TrackedMetric> = plan_metrics(&resources, &BTreeMap::new(), &[], 60)
            .into_iter()
            .filter(|m| m.key.name() == "Invocations")
            .map(|watched| TrackedMetric {
                watched,
                fetched_until: Some(end),
                live_from: Timestamp::from_secs(T0 + DAY),
            })
            .collect();
        let key = metrics[0].watched.key.clone();
        let points = (0..days * 1440).map(|m| {
            let hour = (m % 1440) as f64 / 60.0;
            let curve = 0.1 + 0.45 * (1.0 - ((hour - 3.0) / 24.0 * std::f64::consts::TAU).cos());
            let noise = ((m * 2_654_435_761) % 1000) as f64 / 1000.0 - 0.5;
            let v = (1000.0 * curve * shape(m) * (1.0 + 0.08 * noise)).round();
            (Timestamp::from_secs(T0 + m * 60), v)
        });
        let range = TimeRange::new(Timestamp::from_secs(T0), end);
        let windows = [(key, MetricWindow::from_fetch(range, points, 60))]
            .into_iter()
            .collect();
        let inv = StackInventory {
            stack: "shop".into(),
            resources,
            metrics,
            ..StackInventory::default()
        };
        (inv, windows)
    }

    /// The insights opened when the analysis runs every five minutes, as
    /// the schedule runs it.
    fn opened(days: i64, shape: impl Fn(i64) -> f64) -> Vec<String> {
        opened_by_runs(days, shape, (1..=days * 288).map(|tick| tick * 5))
    }

    /// The insights opened when the analysis runs at each of `minutes`.
    fn opened_by_runs(
        days: i64,
        shape: impl Fn(i64) -> f64,
        minutes: impl IntoIterator<Item = i64>,
    ) -> Vec<String> {
        let (inv, windows) = traffic(days, shape);
        let mut state = StackState::default();
        let mut names = Vec::new();
        for minute in minutes {
            let now = Timestamp::from_secs(T0 + minute * 60);
            let analysis = analyze(
                &mut state,
                &inv,
                &windows,
                now,
                &AnalyzerSettings::default(),
            );
            names.extend(
                analysis
                    .changes
                    .into_iter()
                    .filter(|c| c.kind == crate::domain::insight::ChangeKind::NewInsight)
                    .map(|c| c.insight.name),
            );
        }
        names
    }

    /// Minute of `T0` at which the users' Saturday starts (UTC users).
    const SATURDAY: i64 = 2 * 1440;

    #[test]
    fn a_long_stretch_judged_in_one_run_still_knows_the_users_week() {
        // The whole history and half the weekend arrive in one run (a new
        // stack's backfill, a catch-up after an outage): the step at the
        // users' Saturday midnight in it takes its new level all the same,
        // rather than opening an incident that lasts into the live data.
        let weekend = |m: i64| if m >= SATURDAY { 0.4 } else { 1.0 };
        assert_eq!(
            opened_by_runs(3, weekend, [SATURDAY + 12 * 60, 3 * 1440]),
            Vec::<String>::new()
        );
        // The same drop seven minutes later is an incident, even judged in
        // one run.
        let late = |m: i64| if m >= SATURDAY + 7 { 0.4 } else { 1.0 };
        assert!(!opened_by_runs(3, late, [SATURDAY + 12 * 60]).is_empty());
    }

    #[test]
    fn traffic_that_steps_at_the_users_weekend_takes_its_new_level() {
        // Weekend traffic at 40% of weekdays from Saturday midnight: no
        // insight, then or later in the day.
        let weekend = |m: i64| if m >= SATURDAY { 0.4 } else { 1.0 };
        assert_eq!(opened(3, weekend), Vec::<String>::new());
        // Nor when the boundary's own minute has fallen only partway (its
        // users switch off over a minute), so that the shift starts a
        // minute after the boundary.
        let partway = |m: i64| match m {
            SATURDAY => 0.7,
            m if m > SATURDAY => 0.4,
            _ => 1.0,
        };
        assert_eq!(opened(3, partway), Vec::<String>::new());
        // The same drop seven minutes later is no weekend: an incident.
        let late = |m: i64| if m >= SATURDAY + 7 { 0.4 } else { 1.0 };
        assert_eq!(opened(3, late).len(), 1);
        // So is the same drop at midnight on a Thursday.
        let thursday = |m: i64| {
            if m >= SATURDAY - 2 * 1440 + 1440 {
                0.4
            } else {
                1.0
            }
        };
        assert_eq!(opened(2, thursday).len(), 1);
    }

    #[test]
    fn a_weekend_that_comes_down_over_minutes_takes_the_level_it_took_a_week_before() {
        // Weekends at 40% of weekdays. The first one steps at Saturday
        // midnight; a week later the traffic comes down over four minutes,
        // the first of them barely lower: no insight.
        let week = 7 * 1440;
        let ramp = |m: i64| {
            let weekend = (m - SATURDAY).rem_euclid(week) < 2 * 1440;
            let minute = usize::try_from(m - SATURDAY - week).ok();
            match minute {
                _ if !weekend => 1.0,
                Some(i) => [0.97, 0.8, 0.6, 0.45].get(i).copied().unwrap_or(0.4),
                None => 0.4,
            }
        };
        assert_eq!(opened(10, ramp), Vec::<String>::new());
        // Without last week's step to go by, the same ramp is a drop.
        let first = |m: i64| if m < SATURDAY + week { 1.0 } else { ramp(m) };
        assert_eq!(opened(10, first).len(), 1);
    }

    #[test]
    fn a_surge_just_after_the_weekend_starts_is_still_an_incident() {
        // Weekend traffic steps down at midnight, then a surge four times
        // the new level starts three minutes later.
        let surge = |m: i64| {
            let weekend = if m >= SATURDAY { 0.4 } else { 1.0 };
            if (SATURDAY + 3..SATURDAY + 60).contains(&m) {
                weekend * 4.0
            } else {
                weekend
            }
        };
        assert_eq!(opened(3, surge).len(), 1);
    }
}
