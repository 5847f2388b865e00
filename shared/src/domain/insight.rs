//! Insights: what a person on call is told.
//!
//! Anomalies of one stack that overlap in time form one insight. An insight
//! opens when an anomaly that matters (MEDIUM or HIGH) starts, takes every
//! anomaly that starts while it is open, raises its severity with its worst
//! anomaly, and closes once all its anomalies that matter (MEDIUM or HIGH)
//! have ended and the stack has stayed healthy for a while. Every change is
//! an [`InsightChange`] that the notifier turns into one message. LOW
//! anomalies alone never open an insight: a tiny absolute change is not
//! worth waking anyone for. For the same reason they never hold one open:
//! the p99 duration of a function a little high as traffic comes back is
//! no reason to keep an outage's insight open for hours.

use super::catalog::{Direction, MetricSpec, SignalClass, ValueKind, WatchedMetric};
use super::detector::{Episode, EpisodeChange, lasted};
use super::event::{RelevantEvent, relevant_to};
use super::explain::{ProbableCause, StackContext, explain};
use super::ids;
use super::metric::MetricKey;
use super::proactive::Finding;
use super::resource::Resource;
use super::time::Timestamp;

/// How much an insight or anomaly matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Worth telling.
    Medium,
    /// Worth waking someone.
    High,
}

impl Severity {
    /// `LOW`, `MEDIUM`, `HIGH`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
        }
    }

    /// Parses `low`, `medium`, `high` in any case.
    pub fn parse(text: &str) -> Option<Severity> {
        match text.trim().to_ascii_uppercase().as_str() {
            "LOW" => Some(Severity::Low),
            "MEDIUM" => Some(Severity::Medium),
            "HIGH" => Some(Severity::High),
            _ => None,
        }
    }
}

/// Reactive (abnormal now) or proactive (about to go wrong).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InsightKind {
    /// Something is abnormal now.
    Reactive,
    /// Something will go wrong or is misconfigured.
    Proactive,
}

impl InsightKind {
    /// `REACTIVE` or `PROACTIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            InsightKind::Reactive => "REACTIVE",
            InsightKind::Proactive => "PROACTIVE",
        }
    }
}

/// Whether an insight is still going on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InsightStatus {
    /// Open.
    Ongoing,
    /// Closed.
    Closed,
}

impl InsightStatus {
    /// `ONGOING` or `CLOSED`.
    pub fn as_str(self) -> &'static str {
        match self {
            InsightStatus::Ongoing => "ONGOING",
            InsightStatus::Closed => "CLOSED",
        }
    }
}

/// Whether an anomaly is where the problem is or a symptom of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnomalyRole {
    /// On the resource where the problem probably is.
    Causal,
    /// Felt elsewhere.
    Contextual,
}

impl AnomalyRole {
    /// `CAUSAL` or `CONTEXTUAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyRole::Causal => "CAUSAL",
            AnomalyRole::Contextual => "CONTEXTUAL",
        }
    }
}

/// One abnormal metric within an insight.
#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    /// Deterministic id.
    pub id: String,
    /// The series.
    pub metric: MetricKey,
    /// The resource it belongs to.
    pub resource: Resource,
    /// The catalog's entry for it.
    pub spec: &'static MetricSpec,
    /// Which way it moved.
    pub direction: Direction,
    /// How much it matters.
    pub severity: Severity,
    /// Cause or symptom.
    pub role: AnomalyRole,
    /// Start of the first abnormal period.
    pub start: Timestamp,
    /// End of the last abnormal period, once over.
    pub end: Option<Timestamp>,
    /// Start of the last abnormal period seen.
    pub last_abnormal: Timestamp,
    /// Mean observed value over abnormal periods.
    pub observed: f64,
    /// Mean expected value over the same periods.
    pub expected: f64,
    /// Most extreme observed value.
    pub peak: f64,
    /// Largest robust z-score.
    pub score: f64,
    /// For errors: the share of requests that failed, observed and usual.
    pub rate: Option<Rate>,
}

/// A share of requests (errors per invocation), observed and expected.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Observed fraction, 0–1.
    pub observed: f64,
    /// Usual fraction, 0–1.
    pub expected: f64,
}

impl Anomaly {
    /// "rose" or "fell".
    pub fn verb(&self) -> &'static str {
        match self.direction {
            Direction::Increase => "rose",
            Direction::Decrease => "fell",
        }
    }

    /// "errors of checkout-GetCart rose from 0.2% to 6.1%".
    pub fn sentence(&self) -> String {
        super::explain::describe(self)
    }
}

/// What to do about an insight.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    /// A short title.
    pub name: String,
    /// What to do.
    pub description: String,
    /// Why, quoting what was observed.
    pub reason: String,
    /// The AWS documentation page.
    pub link: String,
}

/// An insight: anomalies, the changes before them, and what to do.
#[derive(Clone, Debug, PartialEq)]
pub struct Insight {
    /// Deterministic id.
    pub id: String,
    /// A sentence people can read.
    pub name: String,
    /// Reactive or proactive.
    pub kind: InsightKind,
    /// The highest severity of its anomalies.
    pub severity: Severity,
    /// Open or closed.
    pub status: InsightStatus,
    /// The stack.
    pub stack: String,
    /// When the metrics started being abnormal.
    pub start: Timestamp,
    /// When they stopped, once closed.
    pub end: Option<Timestamp>,
    /// When the pipeline opened it.
    pub open_time: Timestamp,
    /// When the pipeline closed it.
    pub close_time: Option<Timestamp>,
    /// Its anomalies, in the order they joined.
    pub anomalies: Vec<Anomaly>,
    /// Changes shortly before it started.
    pub relevant_events: Vec<RelevantEvent>,
    /// What to do.
    pub recommendations: Vec<Recommendation>,
    /// The probable cause (reactive insights).
    pub cause: Option<ProbableCause>,
}

impl Insight {
    /// Whether every anomaly that matters (MEDIUM or HIGH, as it takes to
    /// open an insight) has ended, and when the last of them did.
    fn settled_since(&self) -> Option<Timestamp> {
        let mut last = None;
        for a in self
            .anomalies
            .iter()
            .filter(|a| a.severity >= Severity::Medium)
        {
            last = last.max(Some(a.end?));
        }
        last
    }

    /// The end of its last anomaly.
    fn last_end(&self) -> Option<Timestamp> {
        self.anomalies.iter().filter_map(|a| a.end).max()
    }

    /// Ends the anomalies still going on a period after their last
    /// abnormal point, at the latest `now`: when the insight closes, the
    /// LOW ones (context, which would not open an insight alone); when its
    /// stack is no longer watched, all.
    fn end_ongoing(&mut self, now: Timestamp) {
        for a in self.anomalies.iter_mut().filter(|a| a.end.is_none()) {
            a.end = Some(a.last_abnormal.add(i64::from(a.metric.period())).min(now));
        }
    }

    /// The anomaly the insight is named after: the most severe, then the
    /// earliest, then the one with the largest score.
    pub fn lead(&self) -> Option<&Anomaly> {
        self.anomalies.iter().max_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then(b.start.cmp(&a.start))
                .then(a.score.total_cmp(&b.score))
        })
    }
}

/// The kinds of insight change, one per notification type.
#[derive(Clone, Debug, PartialEq)]
pub enum ChangeKind {
    /// An insight opened.
    NewInsight,
    /// An anomaly joined an open insight.
    NewAssociation {
        /// The anomaly that joined.
        anomaly_id: String,
    },
    /// The insight's severity rose.
    SeverityUpgraded {
        /// The severity before.
        previous: Severity,
    },
    /// A recommendation was added.
    NewRecommendation {
        /// Its name.
        name: String,
    },
    /// The insight closed.
    ClosedInsight,
}

impl ChangeKind {
    /// The notification type: `NEW_INSIGHT`, `NEW_ASSOCIATION`, …
    pub fn message_type(&self) -> &'static str {
        match self {
            ChangeKind::NewInsight => "NEW_INSIGHT",
            ChangeKind::NewAssociation { .. } => "NEW_ASSOCIATION",
            ChangeKind::SeverityUpgraded { .. } => "SEVERITY_UPGRADED",
            ChangeKind::NewRecommendation { .. } => "NEW_RECOMMENDATION",
            ChangeKind::ClosedInsight => "CLOSED_INSIGHT",
        }
    }

    fn discriminator(&self) -> String {
        match self {
            ChangeKind::NewInsight | ChangeKind::ClosedInsight => String::new(),
            ChangeKind::NewAssociation { anomaly_id } => anomaly_id.clone(),
            ChangeKind::SeverityUpgraded { previous } => previous.as_str().to_string(),
            ChangeKind::NewRecommendation { name } => name.clone(),
        }
    }
}

/// One change of one insight, with the insight as it is after the change.
#[derive(Clone, Debug, PartialEq)]
pub struct InsightChange {
    /// Deterministic id: the same change always has the same id, which is
    /// what makes delivery exactly-once for subscribers.
    pub id: String,
    /// What changed.
    pub kind: ChangeKind,
    /// The tick at which it changed.
    pub at: Timestamp,
    /// The insight after the change.
    pub insight: Insight,
}

impl InsightChange {
    fn new(kind: ChangeKind, at: Timestamp, insight: &Insight) -> Self {
        let disc = kind.discriminator();
        Self {
            id: ids::derive(&[&insight.id, kind.message_type(), &disc]),
            kind,
            at,
            insight: insight.clone(),
        }
    }
}

/// A change of one signal's anomaly, with the metric it belongs to.
#[derive(Clone, Debug)]
pub struct SignalEvent<'a> {
    /// The metric.
    pub metric: &'a WatchedMetric,
    /// What happened.
    pub change: EpisodeChange,
    /// For errors: the share of requests that failed over the episode.
    pub rate: Option<Rate>,
    /// The end of the metric's last period judged so far, when known.
    pub judged_until: Option<Timestamp>,
    /// For latencies: the mean traffic per period behind them over the
    /// episode (requests for an API, invocations for a function), when
    /// known.
    pub volume: Option<f64>,
}

/// How long a stack must stay healthy before its insight closes.
pub const HEALTHY_SECS: i64 = 15 * 60;

/// The insight state of one stack.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackInsights {
    /// The open reactive insight, if any.
    pub(crate) open: Option<Insight>,
    /// Ongoing LOW anomalies that have not opened an insight.
    pub(crate) pending: Vec<Anomaly>,
    /// Open proactive insights, by rule and resource.
    pub(crate) proactive: Vec<(String, Insight)>,
}

impl StackInsights {
    /// No open insight.
    pub fn new() -> Self {
        Self::default()
    }

    /// The open reactive insight.
    pub fn open(&self) -> Option<&Insight> {
        self.open.as_ref()
    }

    /// Ongoing anomalies too small to open an insight.
    pub fn pending(&self) -> &[Anomaly] {
        &self.pending
    }

    /// Open proactive insights.
    pub fn proactive(&self) -> impl Iterator<Item = &Insight> {
        self.proactive.iter().map(|(_, i)| i)
    }

    /// Opens a proactive insight for each new finding and closes those whose
    /// finding no longer holds. A finding that still holds sends nothing,
    /// whatever its numbers do, unless its severity rose.
    pub fn apply_findings(
        &mut self,
        stack: &str,
        findings: &[Finding],
        now: Timestamp,
    ) -> Vec<InsightChange> {
        let mut changes = Vec::new();
        let current: Vec<String> = findings.iter().map(Finding::key).collect();
        let mut kept = Vec::new();
        for (k, mut insight) in std::mem::take(&mut self.proactive) {
            if current.contains(&k) {
                kept.push((k, insight));
            } else {
                insight.status = InsightStatus::Closed;
                insight.end = Some(now);
                insight.close_time = Some(now);
                changes.push(InsightChange::new(ChangeKind::ClosedInsight, now, &insight));
            }
        }
        self.proactive = kept;
        for f in findings {
            let k = f.key();
            if let Some((_, insight)) = self
                .proactive
                .iter_mut()
                .find(|(existing, _)| *existing == k)
            {
                if f.severity > insight.severity {
                    let previous = insight.severity;
                    insight.severity = f.severity;
                    changes.push(InsightChange::new(
                        ChangeKind::SeverityUpgraded { previous },
                        now,
                        insight,
                    ));
                }
                continue;
            }
            let insight = Insight {
                id: ids::derive(&[stack, "PROACTIVE", &k, &now.secs().to_string()]),
                name: f.name.clone(),
                kind: InsightKind::Proactive,
                severity: f.severity,
                status: InsightStatus::Ongoing,
                stack: stack.to_string(),
                start: now,
                end: None,
                open_time: now,
                close_time: None,
                anomalies: Vec::new(),
                relevant_events: Vec::new(),
                recommendations: vec![f.recommendation.clone()],
                cause: None,
            };
            changes.push(InsightChange::new(ChangeKind::NewInsight, now, &insight));
            self.proactive.push((k, insight));
        }
        changes
    }

    /// Applies signal events (in metric-time order) observed by the tick at
    /// `now`, explains the open insight, and closes it when every anomaly
    /// has ended and metrics up to `settled` have stayed healthy for
    /// [`HEALTHY_SECS`]. Every change carries the insight as it is at the
    /// end of the call.
    pub fn apply(
        &mut self,
        stack: &str,
        events: &[SignalEvent<'_>],
        ctx: &StackContext<'_>,
        now: Timestamp,
        settled: Timestamp,
    ) -> Vec<InsightChange> {
        let severity_before = self.open.as_ref().map(|i| i.severity);
        let mut kinds: Vec<ChangeKind> = Vec::new();
        for ev in events {
            match ev.change {
                EpisodeChange::None => {}
                EpisodeChange::Started(ep) | EpisodeChange::Extended(ep) => {
                    self.on_abnormal(stack, ev, &ep, ctx, now, &mut kinds);
                }
                EpisodeChange::Ended(ep, end) => self.on_ended(ev.metric, &ep, end),
            }
        }
        let mut changes = Vec::new();
        let Some(insight) = self.open.as_mut() else {
            return changes;
        };
        let opened = kinds.contains(&ChangeKind::NewInsight);
        // Re-explain whenever the open insight heard anything: metrics that
        // arrive after it opened (every metric is fetched at every tick
        // while it is open) refine the cause, the rates and the name.
        if !events.is_empty() {
            let before: Vec<String> = insight
                .recommendations
                .iter()
                .map(|r| r.name.clone())
                .collect();
            if let Some(x) = explain(insight, ctx) {
                for a in &mut insight.anomalies {
                    a.role = if a.resource == x.cause.primary {
                        AnomalyRole::Causal
                    } else {
                        AnomalyRole::Contextual
                    };
                }
                // Where the problem is comes first.
                insight
                    .anomalies
                    .sort_by_key(|a| (a.role != AnomalyRole::Causal, a.start));
                // The name follows the explanation: more metrics arrive in
                // the ticks after an insight opens (every metric of the stack
                // is fetched at every tick while it is open), and a name
                // about the resource where the problem is beats a name about
                // the first symptom seen. The id never changes.
                insight.name = x.name;
                insight.cause = Some(x.cause);
                // The recommendations follow it too, most important first:
                // advice from a first, partial view (find which integration
                // of an API fails) gives way once the failing function and
                // its deployment are known.
                if !opened {
                    for r in &x.recommendations {
                        if !before.contains(&r.name) {
                            kinds.push(ChangeKind::NewRecommendation {
                                name: r.name.clone(),
                            });
                        }
                    }
                }
                insight.recommendations = x.recommendations;
            }
        }
        if let Some(previous) = severity_before
            && insight.severity > previous
        {
            kinds.push(ChangeKind::SeverityUpgraded { previous });
        }
        for kind in kinds {
            changes.push(InsightChange::new(kind, now, insight));
        }
        if insight
            .settled_since()
            .is_some_and(|end| settled.since(end) >= HEALTHY_SECS)
        {
            // A LOW anomaly still going on that grows to matter later opens
            // an insight of its own.
            insight.end_ongoing(now);
            insight.status = InsightStatus::Closed;
            insight.end = insight.last_end();
            insight.close_time = Some(now);
            changes.push(InsightChange::new(ChangeKind::ClosedInsight, now, insight));
            self.open = None;
        }
        changes
    }

    /// Closes the open insight of a stack that is no longer watched (deleted
    /// or deselected): nothing will ever end its anomalies otherwise.
    pub fn close_all(&mut self, now: Timestamp) -> Vec<InsightChange> {
        self.pending.clear();
        let mut changes = self.apply_findings("", &[], now);
        let Some(mut insight) = self.open.take() else {
            return changes;
        };
        insight.end_ongoing(now);
        insight.status = InsightStatus::Closed;
        insight.end = insight.last_end();
        insight.close_time = Some(now);
        changes.push(InsightChange::new(ChangeKind::ClosedInsight, now, &insight));
        changes
    }

    #[allow(clippy::too_many_arguments)]
    fn on_abnormal(
        &mut self,
        stack: &str,
        ev: &SignalEvent<'_>,
        ep: &Episode,
        ctx: &StackContext<'_>,
        now: Timestamp,
        kinds: &mut Vec<ChangeKind>,
    ) {
        let (metric, rate) = (ev.metric, ev.rate);
        let period = i64::from(metric.key.period());
        let severity = rate_severity(metric.spec, ep, rate, period);
        // An anomaly of this metric already in the open insight: update it.
        if let Some(insight) = self.open.as_mut()
            && let Some(a) = insight
                .anomalies
                .iter_mut()
                .find(|a| a.metric == metric.key && a.direction == ep.direction)
        {
            update(a, ep, severity, rate);
            insight.severity = insight.severity.max(severity);
            return;
        }
        let mut anomaly = match self
            .pending
            .iter()
            .position(|a| a.metric == metric.key && a.direction == ep.direction)
        {
            Some(i) => {
                let mut a = self.pending.remove(i);
                update(&mut a, ep, severity, rate);
                a
            }
            None => new_anomaly(stack, metric, ep, severity, rate),
        };
        match self.open.as_mut() {
            // Judged late (a metric fetched rarely catches up once an
            // insight opens), an anomaly over long before the insight's
            // began is another episode: it waits with the others.
            Some(insight) if !overlaps(&anomaly, insight.start) => self.pending.push(anomaly),
            Some(insight) => {
                anomaly.role = AnomalyRole::Contextual;
                let id = anomaly.id.clone();
                insight.severity = insight.severity.max(anomaly.severity);
                insight.anomalies.push(anomaly);
                insight.start = start_of(&insight.anomalies).unwrap_or(insight.start);
                kinds.push(ChangeKind::NewAssociation { anomaly_id: id });
            }
            None if anomaly.severity >= Severity::Medium
                && persisted_enough(metric, ep, ev.volume, ctx)
                && still_on(metric, ep, ev.judged_until) =>
            {
                let (mut anomalies, stale): (Vec<Anomaly>, Vec<Anomaly>) =
                    std::mem::take(&mut self.pending)
                        .into_iter()
                        .partition(|a| overlaps(a, anomaly.start));
                self.pending = stale;
                anomaly.role = AnomalyRole::Causal;
                for a in &mut anomalies {
                    a.role = AnomalyRole::Contextual;
                }
                anomalies.insert(0, anomaly);
                self.open = Some(open_insight(stack, anomalies, ctx, now));
                kinds.retain(|k| !matches!(k, ChangeKind::NewAssociation { .. }));
                kinds.push(ChangeKind::NewInsight);
            }
            None => self.pending.push(anomaly),
        }
    }

    fn on_ended(&mut self, metric: &WatchedMetric, ep: &Episode, end: Timestamp) {
        if let Some(insight) = self.open.as_mut()
            && let Some(a) = insight
                .anomalies
                .iter_mut()
                .find(|a| a.metric == metric.key && a.direction == ep.direction && a.end.is_none())
        {
            a.end = Some(end);
            return;
        }
        self.pending
            .retain(|a| !(a.metric == metric.key && a.direction == ep.direction));
    }
}

/// Whether an anomaly has lasted long enough to open an insight on its own.
///
/// Counts open at once (the detector already asked for persistence or
/// overwhelming evidence). Latencies and gauges spike for a minute or two
/// all the time, from a cold start or one slow request among few, so they
/// must last three periods; percentiles, which at low traffic are the
/// slowest request of the minute, five, and so must an average of at most
/// [`FEW_REQUESTS`] a minute, which one slow request or cold start makes
/// as well. A function's duration that reached its timeout needs two
/// periods, however few the requests: calls stopped at their timeout
/// failed. The latency of a resource deployed just before must outlast
/// the deployment's grace: all its instances start cold, and at low (or
/// unknown) traffic they keep starting for ten minutes; behind more
/// requests, five. A short anomaly can still join an insight that
/// something else opened.
fn persisted_enough(
    metric: &WatchedMetric,
    ep: &Episode,
    volume: Option<f64>,
    ctx: &StackContext<'_>,
) -> bool {
    if metric.spec.kind == ValueKind::Count {
        return true;
    }
    let period = i64::from(metric.key.period()).max(1);
    let periods = ep.last_abnormal.since(ep.start) / period + 1;
    let percentile = metric.key.stat().starts_with('p') || metric.key.stat() == "Maximum";
    let few = metric.spec.class == SignalClass::Latency
        && volume.is_some_and(|v| v * 60.0 / period as f64 <= FEW_REQUESTS);
    let just_deployed = ctx.events.iter().any(|e| {
        e.resource.physical_id == metric.resource.physical_id
            && e.status == "UPDATE_COMPLETE"
            && e.time >= ep.start.add(-DEPLOY_GRACE)
            && e.time < ep.start.add(period)
    });
    let needed = if at_timeout(metric, ep, ctx) {
        // Calls that ran until the function's timeout failed: no cold start
        // lasts that long, however few the requests.
        TIMEOUT_PERIODS
    } else if just_deployed && metric.spec.class == SignalClass::Latency {
        // All its instances start cold once. Behind more than a few
        // requests a minute they are all warm within a minute or two;
        // behind a few, they keep starting as the traffic trickles in.
        let grace = if few || volume.is_none() {
            DEPLOY_GRACE
        } else {
            BUSY_DEPLOY_GRACE
        };
        grace / period
    } else if percentile || few {
        5
    } else {
        3
    };
    periods >= needed
}

/// Whether `ep`, an anomaly of a function's duration, reached the
/// function's timeout (at least [`TIMEOUT_SHARE`] of it): its calls ran
/// until they were stopped, and failed.
fn at_timeout(metric: &WatchedMetric, ep: &Episode, ctx: &StackContext<'_>) -> bool {
    metric.spec.namespace == "AWS/Lambda"
        && metric.spec.name == "Duration"
        && ep.direction == Direction::Increase
        && ctx
            .configs
            .get(&metric.resource.physical_id)
            .and_then(|c| c.at(&["Timeout"]).as_f64())
            .is_some_and(|secs| secs > 0.0 && ep.peak >= TIMEOUT_SHARE * secs * 1000.0)
}

/// The share of a function's timeout from which a duration is calls that
/// timed out (the duration of a call stopped at its timeout is a few
/// milliseconds over or under it).
const TIMEOUT_SHARE: f64 = 0.95;

/// Periods for which a function's duration at its timeout must last: two
/// in a row, as any anomaly.
const TIMEOUT_PERIODS: i64 = 2;

/// Whether an anomaly is still going on at the last point judged (or the
/// one before: a slow dependency lets a minute through now and then).
///
/// Counts always are: they open at once. A latency or gauge anomaly seen
/// whole at once, already over when judged (three minutes of cold starts
/// among few requests, read at the next tick), is a blip and opens
/// nothing on its own; one that lasts is still on when its points arrive.
fn still_on(metric: &WatchedMetric, ep: &Episode, judged_until: Option<Timestamp>) -> bool {
    if metric.spec.kind == ValueKind::Count {
        return true;
    }
    let period = i64::from(metric.key.period()).max(1);
    judged_until.is_none_or(|until| ep.last_abnormal >= until.add(-3 * period))
}

/// Requests a minute up to which an average latency is as jumpy as a
/// percentile.
const FEW_REQUESTS: f64 = 10.0;

/// How long after a deployment a resource's latency may be high from cold
/// starts.
const DEPLOY_GRACE: i64 = 10 * 60;

/// [`DEPLOY_GRACE`] for an average latency of more than [`FEW_REQUESTS`]
/// a minute.
const BUSY_DEPLOY_GRACE: i64 = 5 * 60;

fn new_anomaly(
    stack: &str,
    metric: &WatchedMetric,
    ep: &Episode,
    severity: Severity,
    rate: Option<Rate>,
) -> Anomaly {
    let start = ep.start.secs().to_string();
    Anomaly {
        id: ids::derive(&[stack, &metric.key.id(), ep.direction.as_str(), &start]),
        metric: metric.key.clone(),
        resource: metric.resource.clone(),
        spec: metric.spec,
        direction: ep.direction,
        severity,
        role: AnomalyRole::Contextual,
        start: ep.start,
        end: None,
        last_abnormal: ep.last_abnormal,
        observed: ep.observed(),
        expected: ep.expected(),
        peak: ep.peak,
        score: ep.peak_score,
        rate,
    }
}

/// Whether an anomaly belongs with an insight that started at `start`:
/// it was abnormal after, or at most [`HEALTHY_SECS`] before (the time
/// after which the stack counts as healthy again, and an insight closes).
fn overlaps(a: &Anomaly, start: Timestamp) -> bool {
    a.last_abnormal >= start.add(-HEALTHY_SECS)
}

fn update(a: &mut Anomaly, ep: &Episode, severity: Severity, rate: Option<Rate>) {
    if rate.is_some() {
        a.rate = rate;
    }
    a.end = None;
    a.last_abnormal = ep.last_abnormal;
    a.observed = ep.observed();
    a.expected = ep.expected();
    a.peak = ep.peak;
    a.score = a.score.max(ep.peak_score);
    a.severity = a.severity.max(severity);
}

fn open_insight(
    stack: &str,
    anomalies: Vec<Anomaly>,
    ctx: &StackContext<'_>,
    now: Timestamp,
) -> Insight {
    let start = start_of(&anomalies).unwrap_or(now);
    let first = &anomalies[0];
    // The tick is part of the id: an anomaly that ends and starts again
    // from the same first point (a drift whose sum comes back over its
    // threshold) may reopen an insight that just closed, and with the same
    // id its changes would have the ids of the first one's, which are
    // delivered once and never again: its close would never be sent.
    let id = ids::derive(&[
        stack,
        "REACTIVE",
        &first.metric.id(),
        &first.start.secs().to_string(),
        &now.secs().to_string(),
    ]);
    let period = anomalies
        .iter()
        .map(|a| i64::from(a.metric.period()))
        .max()
        .unwrap_or(60);
    let relevant_events = relevant_to(ctx.events, start, period);
    let severity = anomalies
        .iter()
        .map(|a| a.severity)
        .max()
        .unwrap_or(Severity::Medium);
    let name = format!("{} in stack {stack}", first.sentence());
    Insight {
        id,
        name,
        kind: InsightKind::Reactive,
        severity,
        status: InsightStatus::Ongoing,
        stack: stack.to_string(),
        start,
        end: None,
        open_time: now,
        close_time: None,
        anomalies,
        relevant_events,
        recommendations: Vec::new(),
        cause: None,
    }
}

/// When an insight's anomalies started to matter: the earliest start of
/// those that are MEDIUM or HIGH, or of all when none is. LOW anomalies are
/// context: one that lingered for an hour before something serious happened
/// does not move the start back (nor, through it, the changes "before").
pub fn start_of<'a, I>(anomalies: I) -> Option<Timestamp>
where
    I: IntoIterator<Item = &'a Anomaly>,
    I::IntoIter: Clone,
{
    let anomalies = anomalies.into_iter();
    anomalies
        .clone()
        .filter(|a| a.severity >= Severity::Medium)
        .map(|a| a.start)
        .min()
        .or_else(|| anomalies.map(|a| a.start).min())
}

/// How much an anomaly matters, with the error rate when known: a failure
/// rate of several percent is HIGH whatever the volume.
fn rate_severity(spec: &MetricSpec, ep: &Episode, rate: Option<Rate>, period: i64) -> Severity {
    // A percentile at low traffic is the slowest request of the minute,
    // which a cold start decides: context for an insight, never its reason.
    if spec.stat.starts_with('p') {
        return Severity::Low;
    }
    let by_size = rate_anomaly(spec, ep, period);
    match rate {
        Some(r)
            if spec.class == SignalClass::Errors
                && ep.direction == Direction::Increase
                && by_size >= Severity::Medium =>
        {
            if r.observed >= 0.05 && r.observed >= 3.0 * r.expected {
                Severity::High
            } else {
                by_size
            }
        }
        _ => by_size,
    }
}

/// How much an anomaly matters, from what the metric means and how far it
/// moved: a large, clear change of a bad kind is HIGH; a change too small
/// in absolute terms to hurt anyone is LOW whatever its z-score. `period`
/// is the seconds of one point (see [`MetricSpec::min_change_at`]).
pub fn rate_anomaly(spec: &MetricSpec, ep: &Episode, period: i64) -> Severity {
    let min_change = spec.min_change_at(period);
    let observed = ep.observed();
    let expected = ep.expected();
    let excess = (observed - expected).abs();
    let ratio = match ep.direction {
        Direction::Increase => observed / expected.max(1e-9),
        Direction::Decrease => expected / observed.max(1e-9),
    };
    let big = excess >= 5.0 * min_change;
    let clear = excess >= 2.0 * min_change;
    // A change that each period is too small to matter but has gone on:
    // nine errors over ten minutes hurt as much as nine in two, and
    // fifteen requests a minute lost for an hour more than fifty in one.
    // As many minutes of the smallest change at any period (see
    // `detector::lasted`).
    let lasting = lasted(ep.observed_sum - ep.expected_sum, min_change, period);
    match (spec.class, ep.direction) {
        (SignalClass::Errors | SignalClass::Throttles, Direction::Increase) => {
            if big && ratio >= 3.0 {
                Severity::High
            } else if clear || (lasting && ratio >= 3.0) {
                Severity::Medium
            } else {
                Severity::Low
            }
        }
        (SignalClass::Latency, Direction::Increase) => {
            if big && ratio >= 3.0 {
                Severity::High
            } else if (ratio >= 1.5 && clear) || (ratio >= 1.0 + spec.min_ratio && lasting) {
                Severity::Medium
            } else {
                Severity::Low
            }
        }
        (SignalClass::Traffic, Direction::Decrease) => {
            // Traffic lost: two thirds gone is serious at any volume, as
            // long as it is more than the smallest change that matters.
            if big && ratio >= 3.0 {
                Severity::High
            } else if (ratio >= 3.0 && excess >= min_change) || ((clear || lasting) && ratio >= 1.5)
            {
                Severity::Medium
            } else {
                Severity::Low
            }
        }
        (SignalClass::Traffic, Direction::Increase) => {
            // Doubled traffic is news for a small service as much as for a
            // big one, as long as it is more than a handful of requests.
            if ((clear || lasting) && ratio >= 1.5) || (ratio >= 2.5 && excess >= min_change) {
                Severity::Medium
            } else {
                Severity::Low
            }
        }
        (SignalClass::Backlog, Direction::Increase) => {
            if big && ratio >= 5.0 {
                Severity::High
            } else if clear {
                Severity::Medium
            } else {
                Severity::Low
            }
        }
        (SignalClass::Concurrency | SignalClass::Capacity, Direction::Increase) => {
            if big && ratio >= 2.0 {
                Severity::Medium
            } else {
                Severity::Low
            }
        }
        (SignalClass::ClientErrors, Direction::Increase) => {
            if big && ratio >= 5.0 {
                Severity::Medium
            } else {
                Severity::Low
            }
        }
        _ => Severity::Low,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::find_spec;
    use crate::domain::metric::Dimension;
    use crate::domain::resource::ResourceKind;

    fn errors(points: u32, observed_sum: f64, expected_sum: f64) -> Episode {
        episode(Direction::Increase, points, observed_sum, expected_sum)
    }

    fn episode(direction: Direction, points: u32, observed_sum: f64, expected_sum: f64) -> Episode {
        let mut ep = Episode::begin(
            direction,
            Timestamp::from_secs(0),
            Timestamp::from_secs(0),
            observed_sum / f64::from(points),
            expected_sum / f64::from(points),
            5.0,
        );
        ep.points = points;
        ep.observed_sum = observed_sum;
        ep.expected_sum = expected_sum;
        ep
    }

    /// `points` periods of `observed` where `expected` is usual.
    fn steady(direction: Direction, points: u32, observed: f64, expected: f64) -> Episode {
        let n = f64::from(points);
        episode(direction, points, observed * n, expected * n)
    }

    #[test]
    fn failures_that_last_matter_even_when_each_period_is_small() {
        let spec = find_spec(ResourceKind::LambdaFunction, "AWS/Lambda", "Errors", "Sum")
            .expect("errors are watched");
        // 1.5 errors a minute where 0.1 are usual: too few in one minute...
        assert_eq!(rate_anomaly(spec, &errors(1, 1.5, 0.1), 60), Severity::Low);
        // ...but fifteen extra over ten minutes is an incident.
        assert_eq!(
            rate_anomaly(spec, &errors(10, 15.0, 1.0), 60),
            Severity::Medium
        );
        // A lasting excess that is not a clear multiple of the usual count
        // (22 where 9 are usual) stays low.
        assert_eq!(
            rate_anomaly(spec, &errors(10, 22.0, 9.0), 60),
            Severity::Low
        );
    }

    #[test]
    fn a_lasting_excess_exactly_at_the_need_matters_whatever_the_rounding() {
        let spec = find_spec(
            ResourceKind::DynamoDbTable,
            "AWS/DynamoDB",
            "ThrottledRequests",
            "Sum",
        )
        .expect("throttles are watched");
        // Ten throttles where a tenth of one a minute is usual, summed as
        // the detector sums them (in f32): nine extra, exactly the need,
        // though the tenths add up to a hair over one.
        let usual = (0..10).map(|_| 0.1f32).sum::<f32>();
        assert!(f64::from(usual) > 1.0);
        let ep = errors(10, 10.0, f64::from(usual));
        assert_eq!(rate_anomaly(spec, &ep, 60), Severity::Medium);
        // At five minutes the need is the same nine throttles, not five
        // minutes' worth of them.
        let ep = errors(2, 10.0, f64::from(usual));
        assert_eq!(rate_anomaly(spec, &ep, 300), Severity::Medium);
    }

    #[test]
    fn traffic_lost_for_long_matters_even_when_each_period_is_small() {
        let spec = find_spec(ResourceKind::RestApi, "AWS/ApiGateway", "Count", "Sum")
            .expect("requests are watched");
        // 15 requests a minute where 30 are usual: a minute of it is not
        // worth waking anyone...
        let fall = |points| steady(Direction::Decrease, points, 15.0, 30.0);
        assert_eq!(rate_anomaly(spec, &fall(2), 60), Severity::Low);
        // ...but ten minutes of it, 150 requests lost, is an incident.
        assert_eq!(rate_anomaly(spec, &fall(10), 60), Severity::Medium);
        // The same goes for a surge: 45 where 25 are usual.
        let surge = |points| steady(Direction::Increase, points, 45.0, 25.0);
        assert_eq!(rate_anomaly(spec, &surge(2), 60), Severity::Low);
        assert_eq!(rate_anomaly(spec, &surge(10), 60), Severity::Medium);
        // A lasting change that is not a clear multiple of the usual
        // traffic (24 where 30 are usual) stays low.
        let dip = steady(Direction::Decrease, 30, 24.0, 30.0);
        assert_eq!(rate_anomaly(spec, &dip, 60), Severity::Low);
    }

    #[test]
    fn a_lasting_slowdown_matters_even_when_each_period_is_small() {
        let spec = find_spec(
            ResourceKind::LambdaFunction,
            "AWS/Lambda",
            "Duration",
            "Average",
        )
        .expect("duration is watched");
        let slower =
            |points, observed, expected| steady(Direction::Increase, points, observed, expected);
        // 34 ms where 26 are usual: two minutes of it are nothing...
        assert_eq!(
            rate_anomaly(spec, &slower(2, 34.0, 26.0), 60),
            Severity::Low
        );
        // ...but a function a third slower for a quarter of an hour has a
        // dependency in trouble.
        assert_eq!(
            rate_anomaly(spec, &slower(15, 34.0, 26.0), 60),
            Severity::Medium
        );
        // Lasting but within the relative change that matters: low.
        assert_eq!(
            rate_anomaly(spec, &slower(30, 30.0, 26.0), 60),
            Severity::Low
        );
        // A clear change need not last.
        assert_eq!(
            rate_anomaly(spec, &slower(1, 80.0, 26.0), 60),
            Severity::Medium
        );
    }

    fn watched(name: &str, stat: &str) -> WatchedMetric {
        let spec =
            find_spec(ResourceKind::LambdaFunction, "AWS/Lambda", name, stat).expect("watched");
        WatchedMetric {
            key: MetricKey::new(
                spec.namespace,
                spec.name,
                vec![Dimension::new("FunctionName", "f")],
                spec.stat,
                60,
            ),
            resource: Resource::new("F", "f", "AWS::Lambda::Function"),
            spec,
        }
    }

    #[test]
    fn a_latency_anomaly_already_over_when_seen_whole_is_a_blip() {
        let at = |minute: i64| Timestamp::from_secs(minute * 60);
        // Abnormal in minutes 10, 11 and 12.
        let ep = Episode::begin(Direction::Increase, at(10), at(12), 300.0, 150.0, 6.0);
        let duration = watched("Duration", "Average");
        // Judged through minute 12, 13 or 14: still on (a slow dependency
        // lets a minute or two through now and then).
        for until in 13..=15 {
            assert!(still_on(&duration, &ep, Some(at(until))), "{until}");
        }
        // Three normal minutes after it when first seen: over.
        assert!(!still_on(&duration, &ep, Some(at(16))));
        assert!(still_on(&duration, &ep, None));
        // Counts open at once, over or not.
        assert!(still_on(&watched("Errors", "Sum"), &ep, Some(at(30))));
    }

    /// A stack of nothing (no resources, configuration or events), for
    /// the rules that only read the metric and its episode.
    struct EmptyStack {
        configs: std::collections::BTreeMap<String, crate::domain::resource::ConfigValue>,
        topology: crate::domain::topology::Topology,
    }

    impl EmptyStack {
        fn new() -> Self {
            let configs = std::collections::BTreeMap::new();
            let topology = crate::domain::topology::Topology::of(&[], &configs);
            Self { configs, topology }
        }

        fn ctx(&self) -> StackContext<'_> {
            self.with_events(&[])
        }

        /// The stack with only these `events`.
        fn with_events<'a>(
            &'a self,
            events: &'a [crate::domain::event::StackEvent],
        ) -> StackContext<'a> {
            StackContext {
                resources: &[],
                configs: &self.configs,
                events,
                topology: &self.topology,
            }
        }
    }

    /// A change of `metric` as the analysis reports it, with nothing else
    /// known (no failure rate, volume or judging horizon).
    fn event(metric: &WatchedMetric, change: EpisodeChange) -> SignalEvent<'_> {
        SignalEvent {
            metric,
            change,
            rate: None,
            judged_until: None,
            volume: None,
        }
    }

    #[test]
    fn a_low_anomaly_still_going_on_does_not_hold_an_insight_open() {
        let at = |minute: i64| Timestamp::from_secs(minute * 60);
        let empty = EmptyStack::new();
        let ctx = empty.ctx();
        let errors = watched("Errors", "Sum");
        let p99 = watched("Duration", "p99");
        let mut insights = StackInsights::new();
        // Thirty errors in minute 10 open an insight; the p99 duration,
        // a little high from minute 12 as the function recovers, joins it.
        let failing = Episode::begin(Direction::Increase, at(10), at(10), 30.0, 0.5, 9.0);
        let slow = |last| Episode::begin(Direction::Increase, at(12), at(last), 900.0, 300.0, 4.0);
        let opened = insights.apply(
            "s",
            &[
                event(&errors, EpisodeChange::Started(failing)),
                event(&p99, EpisodeChange::Started(slow(12))),
            ],
            &ctx,
            at(13),
            at(13),
        );
        assert!(matches!(opened[0].kind, ChangeKind::NewInsight));
        let open = insights.open().expect("the errors opened an insight");
        assert_eq!(open.anomalies.len(), 2);
        assert!(open.anomalies[0].severity >= Severity::Medium);
        assert_eq!(open.anomalies[1].severity, Severity::Low);

        // The errors end at minute 15; the p99 stays high.
        let ended = event(&errors, EpisodeChange::Ended(failing, at(15)));
        let changes = insights.apply(
            "s",
            &[ended, event(&p99, EpisodeChange::Extended(slow(25)))],
            &ctx,
            at(26),
            at(26),
        );
        assert!(changes.is_empty(), "healthy for 11 minutes only");
        assert!(insights.open().is_some());

        // Fifteen minutes after the errors ended, the insight closes, and
        // the p99 anomaly ends with it.
        let changes = insights.apply(
            "s",
            &[event(&p99, EpisodeChange::Extended(slow(29)))],
            &ctx,
            at(30),
            at(30),
        );
        let closed = changes.last().expect("closed");
        assert!(matches!(closed.kind, ChangeKind::ClosedInsight));
        assert_eq!(closed.insight.status, InsightStatus::Closed);
        assert_eq!(closed.insight.anomalies[1].end, Some(at(30)));
        assert_eq!(closed.insight.end, Some(at(30)));
        assert!(insights.open().is_none());

        // Going on alone, it opens nothing.
        let changes = insights.apply(
            "s",
            &[event(&p99, EpisodeChange::Extended(slow(40)))],
            &ctx,
            at(41),
            at(41),
        );
        assert!(changes.is_empty());
        assert!(insights.open().is_none());
        assert_eq!(insights.pending().len(), 1);
    }

    #[test]
    fn an_insight_reopened_from_the_same_first_point_has_its_own_changes() {
        let at = |minute: i64| Timestamp::from_secs(minute * 60);
        let empty = EmptyStack::new();
        let ctx = empty.ctx();
        let errors = watched("Errors", "Sum");
        let mut insights = StackInsights::new();
        let mut all = Vec::new();
        // One tick at `minute` that hears `change` of the errors, if any.
        let mut tick = |insights: &mut StackInsights, change: Option<EpisodeChange>, minute| {
            let events: Vec<_> = change.map(|c| event(&errors, c)).into_iter().collect();
            all.extend(insights.apply("s", &events, &ctx, at(minute), at(minute)));
        };
        // Errors from minute 10 to 20 open an insight that closes at 35.
        let failing = |last| Episode::begin(Direction::Increase, at(10), at(last), 30.0, 0.5, 9.0);
        tick(&mut insights, Some(EpisodeChange::Started(failing(10))), 11);
        tick(
            &mut insights,
            Some(EpisodeChange::Ended(failing(20), at(21))),
            26,
        );
        tick(&mut insights, None, 36);
        assert!(insights.open().is_none());
        // The same anomaly starts again from minute 10 (a drift whose sum
        // came back over its threshold): a second insight, whose opening
        // and closing are changes of their own, not the first one's again.
        tick(&mut insights, Some(EpisodeChange::Started(failing(40))), 41);
        tick(
            &mut insights,
            Some(EpisodeChange::Ended(failing(40), at(41))),
            46,
        );
        tick(&mut insights, None, 57);
        let kinds: Vec<_> = all.iter().map(|c| c.kind.message_type()).collect();
        assert_eq!(
            kinds,
            [
                "NEW_INSIGHT",
                "CLOSED_INSIGHT",
                "NEW_INSIGHT",
                "CLOSED_INSIGHT"
            ]
        );
        assert_ne!(all[0].insight.id, all[2].insight.id);
        let mut ids: Vec<_> = all.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 4, "a change id repeated: {all:?}");
    }

    #[test]
    fn an_anomaly_over_long_before_an_insight_began_is_not_part_of_it() {
        let at = |minute: i64| Timestamp::from_secs(minute * 60);
        let empty = EmptyStack::new();
        let ctx = empty.ctx();
        let errors = watched("Errors", "Sum");
        let p99 = watched("Duration", "p99");
        let throttles = watched("Throttles", "Sum");
        // A p99 duration a little high from minute 20 to 26, seen at once,
        // waits alone: LOW, it opens nothing.
        let slow = |last| Episode::begin(Direction::Increase, at(20), at(last), 900.0, 300.0, 4.0);
        let mut insights = StackInsights::new();
        insights.apply(
            "s",
            &[event(&p99, EpisodeChange::Started(slow(26)))],
            &ctx,
            at(27),
            at(27),
        );
        assert_eq!(insights.pending().len(), 1);
        // Errors at minute 100 open an insight without it.
        let failing = Episode::begin(Direction::Increase, at(100), at(100), 30.0, 0.5, 9.0);
        insights.apply(
            "s",
            &[event(&errors, EpisodeChange::Started(failing))],
            &ctx,
            at(101),
            at(101),
        );
        let open = insights.open().expect("the errors opened an insight");
        assert_eq!(open.anomalies.len(), 1, "{:?}", open.anomalies);
        assert_eq!(open.start, at(100));
        // Another metric judged late (fetched rarely, caught up now that
        // an insight is open): its anomaly of minutes 30 to 40 is over
        // long before, and stays out too.
        let old = Episode::begin(Direction::Increase, at(30), at(40), 12.0, 0.0, 6.0);
        let changes = insights.apply(
            "s",
            &[
                event(&throttles, EpisodeChange::Started(old)),
                event(&throttles, EpisodeChange::Ended(old, at(41))),
            ],
            &ctx,
            at(102),
            at(102),
        );
        assert!(
            changes
                .iter()
                .all(|c| !matches!(c.kind, ChangeKind::NewAssociation { .. }))
        );
        assert_eq!(insights.open().map(|i| i.anomalies.len()), Some(1));
        // One abnormal ten minutes before the insight began still joins it:
        // the stack was not healthy for long in between.
        let recent = Episode::begin(Direction::Increase, at(85), at(90), 12.0, 0.0, 6.0);
        let changes = insights.apply(
            "s",
            &[event(&throttles, EpisodeChange::Started(recent))],
            &ctx,
            at(103),
            at(103),
        );
        assert!(
            changes
                .iter()
                .any(|c| matches!(c.kind, ChangeKind::NewAssociation { .. }))
        );
        assert_eq!(insights.open().map(|i| i.anomalies.len()), Some(2));
    }

    #[test]
    fn an_average_of_a_few_requests_must_last_like_a_percentile() {
        let at = |minute: i64| Timestamp::from_secs(minute * 60);
        let empty = EmptyStack::new();
        let ctx = empty.ctx();
        let duration = watched("Duration", "Average");
        let lasting = |minutes: i64| {
            Episode::begin(
                Direction::Increase,
                at(10),
                at(10 + minutes - 1),
                300.0,
                90.0,
                6.0,
            )
        };
        // Fifty invocations a minute: three minutes are enough.
        assert!(persisted_enough(&duration, &lasting(3), Some(50.0), &ctx));
        assert!(persisted_enough(&duration, &lasting(3), None, &ctx));
        // Three a minute: one slow request or cold start makes the
        // average, so it must last five.
        assert!(!persisted_enough(&duration, &lasting(4), Some(3.0), &ctx));
        assert!(persisted_enough(&duration, &lasting(5), Some(3.0), &ctx));
    }

    #[test]
    fn a_function_at_its_timeout_is_failing_not_starting_cold() {
        use crate::domain::resource::ConfigValue;
        let at = |minute: i64| Timestamp::from_secs(minute * 60);
        let timeout = ConfigValue::Map(
            [("Timeout".to_string(), ConfigValue::Number(15.0))]
                .into_iter()
                .collect(),
        );
        let mut stack = EmptyStack::new();
        stack.configs.insert("f".into(), timeout);
        let p99 = watched("Duration", "p99");
        let two_minutes =
            |peak: f64| Episode::begin(Direction::Increase, at(10), at(11), peak, 80.0, 9.0);
        // Five calls a minute, one of which ran until its 15 s timeout in
        // each of two minutes: calls that failed, not a cold start.
        assert!(persisted_enough(
            &p99,
            &two_minutes(15_020.0),
            Some(5.0),
            &stack.ctx()
        ));
        // Two minutes of three-second cold starts must last as long as
        // any percentile.
        assert!(!persisted_enough(
            &p99,
            &two_minutes(3_000.0),
            Some(5.0),
            &stack.ctx()
        ));
        // And so must the same minutes of a function whose timeout is
        // not known.
        let unknown = EmptyStack::new();
        assert!(!persisted_enough(
            &p99,
            &two_minutes(15_020.0),
            Some(5.0),
            &unknown.ctx()
        ));
    }

    #[test]
    fn a_deployed_function_behind_more_traffic_is_slow_for_real_sooner() {
        let at = |minute: i64| Timestamp::from_secs(minute * 60);
        let duration = watched("Duration", "Average");
        let empty = EmptyStack::new();
        // The function was deployed in the minute its slowdown began.
        let events = [crate::domain::event::StackEvent {
            time: at(10).add(20),
            resource: duration.resource.clone(),
            status: "UPDATE_COMPLETE".into(),
            reason: None,
        }];
        let ctx = empty.with_events(&events);
        let lasting = |minutes: i64| {
            Episode::begin(
                Direction::Increase,
                at(10),
                at(10 + minutes - 1),
                500.0,
                150.0,
                8.0,
            )
        };
        // Fifty invocations a minute: its new instances are all warm
        // within a minute or two, so five minutes slow is no cold start.
        assert!(!persisted_enough(&duration, &lasting(4), Some(50.0), &ctx));
        assert!(persisted_enough(&duration, &lasting(5), Some(50.0), &ctx));
        // Three a minute, or an unknown traffic: they keep starting cold
        // for ten.
        for volume in [Some(3.0), None] {
            assert!(!persisted_enough(&duration, &lasting(9), volume, &ctx));
            assert!(persisted_enough(&duration, &lasting(10), volume, &ctx));
        }
    }
}
