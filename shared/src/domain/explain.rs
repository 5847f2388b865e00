//! Explanations of reactive insights: the probable cause, the primary
//! resource (where the problem is, not everything that felt it), what to
//! do, and a name people can read.
//!
//! The probable cause follows the order an experienced troubleshooter
//! checks things in:
//! 1. **Our own change**: a deployment or configuration change of an
//!    abnormal resource (or of one next to it) shortly before the start.
//!    Action: roll back.
//! 2. **A change by the system around us**: the first thing to move was the
//!    traffic entering the stack (a surge or a drop) at a resource that
//!    nothing abnormal sends work to; throttles, backlogs and errors that
//!    grow no faster than the traffic are its symptoms. Action: block the
//!    excess (or, for a drop, restart what stopped sending).
//! 3. **A limit reached**: throttles, or a backlog that the consumer cannot
//!    drain although it is healthy, with no surge before them. Action:
//!    scale up. A backlog whose consumer stopped receiving is that
//!    consumer's failure, named after the queue where the work waits.
//! 4. **A dependency failing**: the deepest abnormal resource is a table,
//!    queue, topic or stream that others call and that went wrong no later
//!    than they did. Action: exclude it (fail over, shed, bypass).
//! 5. **One component failing**: otherwise, the abnormal resource that went
//!    wrong first, preferring the deepest. Action: restart it.
//!
//! Load passes downstream: a resource whose only anomalies are more or less
//! work (invocations, consumed capacity, concurrency) while something that
//! sends it work is abnormal felt the change and did not make it, so it is
//! never the primary resource; nor is its own deployment blamed when its
//! callers' traffic moved the same way (less work because its callers fail
//! to call it, say after a broken permission, may be the deployment's).
//! An API answers for the functions behind it: its errors and latency are
//! theirs.

use std::collections::{BTreeMap, BTreeSet};

use super::catalog::{Direction, SignalClass};
use super::event::{EventClass, StackEvent, classify};
use super::insight::{Anomaly, Insight, Recommendation, Severity};
use super::recommend::recommend;
use super::resource::{ConfigValue, Resource, ResourceKind};
use super::time::{MINUTE, Timestamp};
use super::topology::Topology;

/// The kinds of probable cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cause {
    /// A deployment or configuration change of ours.
    OwnChange,
    /// A change by the system around the stack: its traffic.
    SystemChange,
    /// A limit or quota reached.
    LimitReached,
    /// One component failing on its own.
    ComponentFailure,
    /// A dependency failing and taking its callers down.
    DependencyFailure,
}

impl Cause {
    /// `OWN_CHANGE`, `SYSTEM_CHANGE`, `LIMIT_REACHED`, `COMPONENT_FAILURE`,
    /// `DEPENDENCY_FAILURE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::OwnChange => "OWN_CHANGE",
            Cause::SystemChange => "SYSTEM_CHANGE",
            Cause::LimitReached => "LIMIT_REACHED",
            Cause::ComponentFailure => "COMPONENT_FAILURE",
            Cause::DependencyFailure => "DEPENDENCY_FAILURE",
        }
    }
}

/// What to do first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Undo the change.
    RollBack,
    /// Refuse the excess traffic.
    Block,
    /// Add capacity or raise the limit.
    ScaleUp,
    /// Replace the failing component's instances, or revive what stopped.
    Restart,
    /// Take the failing dependency out of the path.
    Exclude,
}

impl Action {
    /// `ROLL_BACK`, `BLOCK`, `SCALE_UP`, `RESTART`, `EXCLUDE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::RollBack => "ROLL_BACK",
            Action::Block => "BLOCK",
            Action::ScaleUp => "SCALE_UP",
            Action::Restart => "RESTART",
            Action::Exclude => "EXCLUDE",
        }
    }
}

/// The probable cause of an insight.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbableCause {
    /// Which kind.
    pub cause: Cause,
    /// Where the problem is.
    pub primary: Resource,
    /// The observation that supports it, quoting times and numbers.
    pub evidence: String,
    /// What to do first.
    pub action: Action,
    /// The action as a sentence.
    pub suggestion: String,
}

/// What the explainer knows about the stack.
#[derive(Clone, Copy, Debug)]
pub struct StackContext<'a> {
    /// Every resource of the stack.
    pub resources: &'a [Resource],
    /// Describe-call output by physical id.
    pub configs: &'a BTreeMap<String, ConfigValue>,
    /// Recent stack events.
    pub events: &'a [StackEvent],
    /// Who sends work to whom.
    pub topology: &'a Topology,
}

/// The explanation of an insight.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The probable cause.
    pub cause: ProbableCause,
    /// A name people can read.
    pub name: String,
    /// What to do, most important first.
    pub recommendations: Vec<Recommendation>,
}

/// How long before an anomaly a change of the abnormal resource itself is a
/// suspect.
const OWN_CHANGE_WINDOW: i64 = 60 * MINUTE;
/// How long before an anomaly a change of a neighbour is a suspect.
const NEIGHBOUR_CHANGE_WINDOW: i64 = 30 * MINUTE;
/// How many periods apart the anomalies of one change may start: each is
/// dated back to where its own evidence began, and a quiet metric gathers
/// evidence minutes later (or, from one noisy minute, earlier) than a busy
/// one.
const SPREAD_PERIODS: i64 = 5;
/// How much faster than the traffic errors may grow and still be the
/// traffic's symptom (the same share of requests failing).
const IN_STEP: f64 = 1.5;

/// The name people know a resource by in an anomaly: an API's name rather
/// than its id, a queue's name rather than its URL.
pub fn display(anomaly: &Anomaly) -> String {
    match anomaly.metric.dimension("ApiName") {
        Some(name) => name.to_string(),
        None => anomaly.resource.display_name().to_string(),
    }
}

fn display_resource(resource: &Resource, anomalies: &[Anomaly]) -> String {
    anomalies
        .iter()
        .find(|a| &a.resource == resource)
        .map_or_else(|| resource.display_name().to_string(), display)
}

/// "errors of checkout-GetCart rose from 0.2% to 6.1%", with rates when
/// the anomaly has them.
pub fn describe(a: &Anomaly) -> String {
    let period = a.metric.period();
    let (from, to) = match a.rate {
        Some(rate) => (percent(rate.expected), percent(rate.observed)),
        None => (
            a.spec.format_value(a.expected, period),
            a.spec.format_value(a.observed, period),
        ),
    };
    format!(
        "{} of {} {} from {from} to {to}",
        a.spec.label,
        display(a),
        a.verb()
    )
}

fn percent(fraction: f64) -> String {
    let p = fraction * 100.0;
    if p >= 10.0 {
        format!("{p:.0}%")
    } else if p >= 1.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.2}%")
    }
}

fn capitalised(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => text,
    }
}

fn is_dependency(kind: Option<ResourceKind>) -> bool {
    matches!(
        kind,
        Some(
            ResourceKind::DynamoDbTable
                | ResourceKind::SqsQueue
                | ResourceKind::SnsTopic
                | ResourceKind::KinesisStream
        )
    )
}

/// Signals that measure how much work a resource was given.
fn is_load(class: SignalClass) -> bool {
    matches!(
        class,
        SignalClass::Traffic | SignalClass::Capacity | SignalClass::Concurrency
    )
}

/// Whether an abnormal resource other than `resource` sends work to it.
fn fed_by_abnormal(anomalies: &[Anomaly], resource: &Resource, topology: &Topology) -> bool {
    anomalies.iter().any(|b| {
        b.resource.physical_id != resource.physical_id
            && topology.reaches(&b.resource.physical_id, &resource.physical_id)
    })
}

/// Whether a resource only felt a change in the work it was sent: all its
/// anomalies are load, and something abnormal sends it work.
fn passed_on(anomalies: &[Anomaly], resource: &Resource, topology: &Topology) -> bool {
    anomalies
        .iter()
        .filter(|a| a.resource.physical_id == resource.physical_id)
        .all(|a| is_load(a.spec.class))
        && fed_by_abnormal(anomalies, resource, topology)
}

/// Whether a resource's anomalies are only the work its callers sent: each
/// a load signal matched by a traffic anomaly, in the same direction, of a
/// resource that sends it work.
fn sent_by_callers(anomalies: &[Anomaly], resource: &Resource, topology: &Topology) -> bool {
    anomalies
        .iter()
        .filter(|a| a.resource.physical_id == resource.physical_id)
        .all(|a| {
            is_load(a.spec.class)
                && anomalies.iter().any(|b| {
                    b.resource.physical_id != resource.physical_id
                        && b.spec.class == SignalClass::Traffic
                        && b.direction == a.direction
                        && topology.reaches(&b.resource.physical_id, &resource.physical_id)
                })
        })
}

/// The function behind an API that its errors or latency come from: one
/// the API sends work to with an anomaly of the same class, the earliest.
fn behind_api(primary: &Resource, anomalies: &[Anomaly], topology: &Topology) -> Option<Resource> {
    if !matches!(
        ResourceKind::from_type(&primary.resource_type),
        Some(ResourceKind::RestApi | ResourceKind::HttpApi)
    ) {
        return None;
    }
    let own: Vec<SignalClass> = anomalies
        .iter()
        .filter(|a| a.resource == *primary)
        .map(|a| a.spec.class)
        .filter(|c| matches!(c, SignalClass::Errors | SignalClass::Latency))
        .collect();
    anomalies
        .iter()
        .filter(|b| {
            b.resource != *primary
                && ResourceKind::from_type(&b.resource.resource_type)
                    == Some(ResourceKind::LambdaFunction)
                && own.contains(&b.spec.class)
                && topology.reaches(&primary.physical_id, &b.resource.physical_id)
        })
        .min_by_key(|b| b.start)
        .map(|b| b.resource.clone())
}

/// Explains an insight, or `None` when it has no anomaly.
pub fn explain(insight: &Insight, ctx: &StackContext<'_>) -> Option<Explanation> {
    let anomalies = &insight.anomalies;
    let earliest = super::insight::start_of(anomalies)?;
    let abnormal: BTreeSet<&str> = anomalies
        .iter()
        .map(|a| a.resource.physical_id.as_str())
        .collect();
    let cause = own_change(anomalies, &abnormal, earliest, ctx)
        .or_else(|| demand_change(anomalies, earliest, ctx))
        .or_else(|| limit_reached(anomalies, ctx))
        .unwrap_or_else(|| failure(anomalies, earliest, ctx));
    let name = name(&cause, anomalies);
    let recommendations = recommendations(&cause, anomalies, ctx);
    Some(Explanation {
        cause,
        name,
        recommendations,
    })
}

/// The anomaly a resource is best described by: its most severe, then its
/// earliest.
fn lead_on<'a>(anomalies: &'a [Anomaly], resource: &Resource) -> Option<&'a Anomaly> {
    anomalies
        .iter()
        .filter(|a| &a.resource == resource)
        .max_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then(b.start.cmp(&a.start))
                .then(a.score.total_cmp(&b.score))
        })
}

fn own_change(
    anomalies: &[Anomaly],
    abnormal: &BTreeSet<&str>,
    earliest: Timestamp,
    ctx: &StackContext<'_>,
) -> Option<ProbableCause> {
    let period = anomalies
        .iter()
        .map(|a| i64::from(a.metric.period()))
        .max()
        .unwrap_or(60);
    let mut best: Option<(u8, Timestamp, &StackEvent, Resource)> = None;
    for event in ctx.events {
        let Some(class) = classify(event) else {
            continue;
        };
        if class == EventClass::Infrastructure && event.status != "CREATE_COMPLETE" {
            continue;
        }
        let id = event.resource.physical_id.as_str();
        let until = earliest.add(period);
        // The changed resource itself is abnormal: a strong suspect.
        let (strength, primary) = if abnormal.contains(id) {
            // Its own anomalies may start some periods after the insight's
            // first, which may be dated early.
            let own = anomalies.iter().filter(|a| a.resource.physical_id == id);
            let own_start = super::insight::start_of(own).map_or(earliest, |s| s.max(earliest));
            let own_until = own_start
                .add(period)
                .min(earliest.add(SPREAD_PERIODS * period));
            if event.time < earliest.add(-OWN_CHANGE_WINDOW) || event.time >= own_until {
                continue;
            }
            // More or less work sent by its callers is no sign of the
            // resource's own change (less work because its callers fail,
            // say on a broken permission, may be).
            if sent_by_callers(anomalies, &event.resource, ctx.topology) {
                continue;
            }
            (0, event.resource.clone())
        } else {
            if event.time < earliest.add(-NEIGHBOUR_CHANGE_WINDOW) || event.time >= until {
                continue;
            }
            // A neighbour: it calls or is called by an abnormal resource.
            let Some(a) = anomalies.iter().find(|a| {
                ctx.topology.reaches(id, &a.resource.physical_id)
                    || ctx.topology.reaches(&a.resource.physical_id, id)
            }) else {
                continue;
            };
            (1, a.resource.clone())
        };
        let better = match &best {
            None => true,
            Some((s, t, _, _)) => strength < *s || (strength == *s && event.time > *t),
        };
        if better {
            best = Some((strength, event.time, event, primary));
        }
    }
    let (_, _, event, primary) = best?;
    let lead = lead_on(anomalies, &primary)?;
    let minutes = lead.start.since(event.time).max(0) / MINUTE;
    let what = match classify(event) {
        Some(EventClass::Deployment) => "was deployed",
        Some(EventClass::Infrastructure) => "was created",
        _ => "was updated",
    };
    let changed = &event.resource.logical_id;
    let delay = match minutes {
        0 => "within a minute".to_string(),
        1 => "1 minute".to_string(),
        m => format!("{m} minutes"),
    };
    let evidence = capitalised(format!(
        "{} {delay} after {changed} {what} at {}",
        describe(lead),
        event.time.hhmm()
    ));
    Some(ProbableCause {
        cause: Cause::OwnChange,
        suggestion: format!("Roll back the change to {changed} and confirm the metrics recover"),
        primary,
        evidence,
        action: Action::RollBack,
    })
}

fn limit_reached(anomalies: &[Anomaly], ctx: &StackContext<'_>) -> Option<ProbableCause> {
    if let Some(a) = anomalies
        .iter()
        .filter(|a| a.spec.class == SignalClass::Throttles && a.direction == Direction::Increase)
        .min_by_key(|a| a.start)
    {
        return Some(ProbableCause {
            cause: Cause::LimitReached,
            primary: a.resource.clone(),
            evidence: capitalised(format!("{} at {}", describe(a), a.start.hhmm())),
            action: Action::ScaleUp,
            suggestion: format!("Give {} more capacity or a higher limit", display(a)),
        });
    }
    // A backlog that a healthy consumer does not drain: the consumer is at
    // its limit.
    let backlog = anomalies
        .iter()
        .filter(|a| a.spec.class == SignalClass::Backlog && a.direction == Direction::Increase)
        .min_by_key(|a| a.start)?;
    let consumers: Vec<&Resource> = ctx
        .resources
        .iter()
        .filter(|r| {
            ctx.topology
                .reaches(&backlog.resource.physical_id, &r.physical_id)
        })
        .collect();
    let consumer_failing = anomalies.iter().any(|a| {
        consumers.contains(&&a.resource)
            && matches!(a.spec.class, SignalClass::Errors | SignalClass::Latency)
    });
    if consumer_failing {
        return None;
    }
    // A consumer that stopped receiving while the work waits: the link
    // between them broke (a disabled event source mapping, no concurrency
    // left to it, a role that may no longer receive).
    if let Some(stalled) = stalled_consumer(&backlog.resource, anomalies, ctx) {
        let mapping = match mapping_state(&stalled.resource, ctx) {
            Some(state) if state != "Enabled" => {
                format!("; its event source mapping is {state}")
            }
            _ => String::new(),
        };
        return Some(ProbableCause {
            cause: Cause::ComponentFailure,
            primary: backlog.resource.clone(),
            evidence: capitalised(format!(
                "{} at {} while {} at {}{mapping}",
                describe(backlog),
                backlog.start.hhmm(),
                describe(stalled),
                stalled.start.hhmm()
            )),
            action: Action::Restart,
            suggestion: format!(
                "Check that {} still receives from {}: its event source mapping enabled, its concurrency above zero, its role allowed to receive",
                display(stalled),
                display(backlog)
            ),
        });
    }
    Some(ProbableCause {
        cause: Cause::LimitReached,
        primary: backlog.resource.clone(),
        evidence: capitalised(format!(
            "{} at {} while its consumers showed no errors",
            describe(backlog),
            backlog.start.hhmm()
        )),
        action: Action::ScaleUp,
        suggestion: format!(
            "Let the consumers of {} process more in parallel",
            display(backlog)
        ),
    })
}

/// The traffic anomaly of a consumer of `source` (a queue or stream) that
/// received less while `source` was abnormal, the earliest.
fn stalled_consumer<'a>(
    source: &Resource,
    anomalies: &'a [Anomaly],
    ctx: &StackContext<'_>,
) -> Option<&'a Anomaly> {
    if !matches!(
        ResourceKind::from_type(&source.resource_type),
        Some(ResourceKind::SqsQueue | ResourceKind::KinesisStream)
    ) || !anomalies.iter().any(|a| {
        a.resource == *source
            && a.spec.class == SignalClass::Backlog
            && a.direction == Direction::Increase
    }) {
        return None;
    }
    anomalies
        .iter()
        .filter(|a| {
            a.spec.class == SignalClass::Traffic
                && a.direction == Direction::Decrease
                && ResourceKind::from_type(&a.resource.resource_type)
                    == Some(ResourceKind::LambdaFunction)
                && ctx
                    .topology
                    .edge(&source.physical_id, &a.resource.physical_id)
                    .is_some()
        })
        .min_by_key(|a| a.start)
}

/// The state of the event source mapping that feeds `function`
/// (`Enabled`, `Disabled`, ...), when its description is known.
fn mapping_state<'a>(function: &Resource, ctx: &StackContext<'a>) -> Option<&'a str> {
    ctx.resources
        .iter()
        .filter(|r| r.resource_type == "AWS::Lambda::EventSourceMapping")
        .filter_map(|r| ctx.configs.get(&r.physical_id))
        .find(|c| {
            c.at(&["FunctionArn"])
                .as_str()
                .or_else(|| c.at(&["FunctionName"]).as_str())
                .is_some_and(|f| {
                    f == function.physical_id
                        || f.ends_with(&format!(":function:{}", function.physical_id))
                })
        })
        .and_then(|c| c.at(&["State"]).as_str())
}

fn demand_change(
    anomalies: &[Anomaly],
    earliest: Timestamp,
    ctx: &StackContext<'_>,
) -> Option<ProbableCause> {
    let period = anomalies
        .iter()
        .map(|a| i64::from(a.metric.period()))
        .max()
        .unwrap_or(60);
    let first_movers: Vec<&Anomaly> = anomalies
        .iter()
        .filter(|a| a.start <= earliest.add(period) && a.spec.class == SignalClass::Traffic)
        .collect();
    // Traffic must be among the first to move.
    let first = first_movers.iter().copied().min_by_key(|a| a.start)?;
    let traffic_start = first.start;
    // The traffic of the same change: in the same direction, starting
    // within a few periods of the first.
    let moved: Vec<&Anomaly> = anomalies
        .iter()
        .filter(|a| {
            a.spec.class == SignalClass::Traffic
                && a.direction == first.direction
                && a.start <= traffic_start.add(SPREAD_PERIODS * period)
        })
        .collect();
    // Nothing may have been failing before it: errors that grew no faster
    // than the traffic (the same share of requests failing) are its
    // symptom, whenever their evidence began.
    let surge = moved
        .iter()
        .filter(|a| a.direction == Direction::Increase && a.expected > 0.0)
        .map(|a| a.observed / a.expected)
        .fold(1.0, f64::max);
    let failing_first = anomalies.iter().any(|a| {
        matches!(a.spec.class, SignalClass::Errors)
            && a.severity >= Severity::Medium
            && a.start < traffic_start
            && !(a.direction == Direction::Increase
                && surge > 1.0
                && a.observed <= IN_STEP * surge * a.expected)
    });
    if failing_first {
        return None;
    }
    // The entry point: where the change came in, a resource that nothing
    // abnormal sends work to; the largest change when there are several
    // (the busiest of the functions an unmonitored caller sends to).
    let entry = moved
        .iter()
        .copied()
        .filter(|a| !fed_by_abnormal(anomalies, &a.resource, ctx.topology))
        .max_by(|a, b| {
            (a.observed - a.expected)
                .abs()
                .total_cmp(&(b.observed - b.expected).abs())
                .then(b.start.cmp(&a.start))
        })?;
    let (action, suggestion) = match entry.direction {
        Direction::Increase => (
            Action::Block,
            format!("Throttle or block the excess traffic to {}", display(entry)),
        ),
        Direction::Decrease => (
            Action::Restart,
            format!(
                "Check and restart whatever stopped sending traffic to {}",
                display(entry)
            ),
        ),
    };
    Some(ProbableCause {
        cause: Cause::SystemChange,
        primary: entry.resource.clone(),
        evidence: capitalised(format!(
            "{} at {}, before anything else changed",
            describe(entry),
            entry.start.hhmm()
        )),
        action,
        suggestion,
    })
}

fn failure(anomalies: &[Anomaly], earliest: Timestamp, ctx: &StackContext<'_>) -> ProbableCause {
    let period = anomalies
        .iter()
        .map(|a| i64::from(a.metric.period()))
        .max()
        .unwrap_or(60);
    // Candidates went wrong within two periods of the insight's start; a
    // LOW anomaly that had lingered long before it is context, not a cause.
    let near: Vec<&Anomaly> = anomalies
        .iter()
        .filter(|a| a.start <= earliest.add(2 * period) && a.start >= earliest.add(-2 * period))
        .collect();
    // What only felt the work its callers passed on did not fail.
    let early: Vec<&Anomaly> = match near
        .iter()
        .copied()
        .filter(|a| !passed_on(anomalies, &a.resource, ctx.topology))
        .collect::<Vec<_>>()
    {
        failed if failed.is_empty() => near,
        failed => failed,
    };
    let depth = |r: &Resource| {
        anomalies
            .iter()
            .filter(|b| {
                b.resource != *r
                    && ctx
                        .topology
                        .reaches(&b.resource.physical_id, &r.physical_id)
            })
            .map(|b| b.resource.physical_id.as_str())
            .collect::<BTreeSet<_>>()
            .len()
    };
    let primary = early
        .iter()
        .max_by(|a, b| {
            depth(&a.resource)
                .cmp(&depth(&b.resource))
                .then(b.start.cmp(&a.start))
                .then(a.severity.cmp(&b.severity))
        })
        .map(|a| a.resource.clone())
        .unwrap_or_else(|| anomalies[0].resource.clone());
    let primary = behind_api(&primary, anomalies, ctx.topology).unwrap_or(primary);
    let lead = lead_on(anomalies, &primary).unwrap_or(&anomalies[0]);
    let callers_hurt = depth(&primary) > 0;
    let name = display(lead);
    if callers_hurt && is_dependency(ResourceKind::from_type(&primary.resource_type)) {
        let hurt: Vec<String> = anomalies
            .iter()
            .filter(|b| {
                b.resource != primary
                    && ctx
                        .topology
                        .reaches(&b.resource.physical_id, &primary.physical_id)
            })
            .map(display)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        ProbableCause {
            cause: Cause::DependencyFailure,
            evidence: capitalised(format!(
                "{} at {}, and its callers {} suffered",
                describe(lead),
                lead.start.hhmm(),
                hurt.join(", ")
            )),
            primary,
            action: Action::Exclude,
            suggestion: format!(
                "Take {name} out of the path (fail over, shed load, or serve from a cache) until it recovers"
            ),
        }
    } else {
        // A component that only got slower, with nothing of the stack's
        // to blame, most often waits on something outside it.
        let suggestion = if lead.spec.class == SignalClass::Latency {
            format!(
                "Find what slows {name} down: its calls to services outside the stack first, then its own capacity"
            )
        } else {
            format!("Find what fails in {name} and replace its failing instances")
        };
        ProbableCause {
            cause: Cause::ComponentFailure,
            evidence: capitalised(format!("{} at {}", describe(lead), lead.start.hhmm())),
            primary,
            action: Action::Restart,
            suggestion,
        }
    }
}

fn name(cause: &ProbableCause, anomalies: &[Anomaly]) -> String {
    // A change in traffic is named after the traffic, however the errors
    // that came with it rank.
    let traffic = anomalies
        .iter()
        .filter(|a| a.resource == cause.primary && a.spec.class == SignalClass::Traffic)
        .min_by_key(|a| a.start)
        .filter(|_| cause.cause == Cause::SystemChange);
    let Some(lead) = traffic.or_else(|| lead_on(anomalies, &cause.primary)) else {
        return "Anomalous behaviour".to_string();
    };
    let mut text = capitalised(describe(lead));
    match cause.cause {
        Cause::OwnChange => text.push_str(if cause.evidence.contains(" was deployed at ") {
            " after a deployment"
        } else {
            " after a change"
        }),
        Cause::DependencyFailure => {
            let hurt = anomalies
                .iter()
                .filter(|a| a.resource != cause.primary)
                .map(display)
                .collect::<BTreeSet<_>>();
            if let Some(first) = hurt.iter().next() {
                text.push_str(&format!(", slowing {first}"));
                if hurt.len() > 1 {
                    text.push_str(&format!(" and {} more", hurt.len() - 1));
                }
            }
        }
        _ => {}
    }
    text
}

fn recommendations(
    cause: &ProbableCause,
    anomalies: &[Anomaly],
    ctx: &StackContext<'_>,
) -> Vec<Recommendation> {
    let mut out: Vec<Recommendation> = Vec::new();
    let mut push = |id: &str, display: &str, reason: String| {
        if let Some(r) = recommend(id, display, reason)
            && !out.iter().any(|o| o.name == r.name)
        {
            out.push(r);
        }
    };
    let primary_name = display_resource(&cause.primary, anomalies);
    let primary_kind = ResourceKind::from_type(&cause.primary.resource_type);
    if cause.cause == Cause::OwnChange && primary_kind == Some(ResourceKind::LambdaFunction) {
        push("lambda-rollback", &primary_name, cause.evidence.clone());
    }
    if let Some(stalled) = stalled_consumer(&cause.primary, anomalies, ctx) {
        push(
            "lambda-event-source",
            &display(stalled),
            cause.evidence.clone(),
        );
    }
    // Then one recommendation per abnormal resource, primary first.
    let mut order: Vec<&Anomaly> = anomalies.iter().collect();
    // A change in traffic is answered first, whatever came with it.
    order.sort_by_key(|a| {
        (
            a.resource != cause.primary,
            !(cause.cause == Cause::SystemChange && a.spec.class == SignalClass::Traffic),
            std::cmp::Reverse(a.severity),
            a.start,
        )
    });
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for a in order {
        if !seen.insert(a.resource.physical_id.as_str()) && a.resource != cause.primary {
            continue;
        }
        let name = display(a);
        let reason = capitalised(format!("{} at {}", describe(a), a.start.hhmm()));
        let config = ctx.configs.get(&a.resource.physical_id);
        match (
            ResourceKind::from_type(&a.resource.resource_type),
            a.spec.class,
            a.direction,
        ) {
            (
                Some(ResourceKind::LambdaFunction),
                SignalClass::Throttles | SignalClass::Concurrency,
                _,
            ) => push("lambda-concurrency", &name, reason),
            // A function that traffic from outside the stack enters.
            (Some(ResourceKind::LambdaFunction), SignalClass::Traffic, direction)
                if cause.cause == Cause::SystemChange && a.resource == cause.primary =>
            {
                match direction {
                    Direction::Increase => push("lambda-cap-concurrency", &name, reason),
                    Direction::Decrease => push("lambda-callers", &name, reason),
                }
            }
            (Some(ResourceKind::LambdaFunction), SignalClass::Errors, _)
                if cause.cause != Cause::OwnChange =>
            {
                push("lambda-errors", &name, reason)
            }
            (Some(ResourceKind::LambdaFunction), SignalClass::Latency, _)
                if cause.cause != Cause::OwnChange =>
            {
                let timeout_ms = config
                    .and_then(|c| c.at(&["Timeout"]).as_f64())
                    .map(|s| s * 1000.0);
                match timeout_ms {
                    Some(limit) if a.peak >= 0.8 * limit => push(
                        "lambda-timeout",
                        &name,
                        format!(
                            "{reason}, {:.0}% of its {:.0} s timeout",
                            a.peak / limit * 100.0,
                            limit / 1000.0
                        ),
                    ),
                    _ if cause.cause == Cause::DependencyFailure => {
                        push("lambda-timeout", &name, reason)
                    }
                    // Slower with nothing of the stack to blame: most often
                    // a call outside it, which traces show; then its own
                    // capacity.
                    _ if cause.cause == Cause::ComponentFailure => {
                        push("lambda-tracing", &name, reason.clone());
                        push("lambda-memory", &name, reason)
                    }
                    _ => {}
                }
            }
            (Some(ResourceKind::DynamoDbTable), SignalClass::Throttles, _) => {
                let provisioned = config
                    .and_then(|c| c.at(&["BillingModeSummary", "BillingMode"]).as_str())
                    .is_none_or(|m| m == "PROVISIONED");
                if provisioned {
                    push("dynamodb-capacity", &name, reason);
                } else {
                    push("dynamodb-hot-keys", &name, reason);
                }
            }
            (Some(ResourceKind::DynamoDbTable), SignalClass::Latency | SignalClass::Errors, _) => {
                push("dynamodb-latency", &name, reason)
            }
            (
                Some(ResourceKind::RestApi | ResourceKind::HttpApi),
                SignalClass::Traffic,
                Direction::Increase,
            ) => {
                push("apigw-throttle", &name, reason.clone());
                push("apigw-waf", &name, reason);
            }
            (
                Some(ResourceKind::RestApi | ResourceKind::HttpApi),
                SignalClass::Traffic,
                Direction::Decrease,
            ) => push("apigw-traffic-drop", &name, reason),
            (Some(ResourceKind::RestApi | ResourceKind::HttpApi), SignalClass::Errors, _)
                if !anomalies.iter().any(|b| {
                    b.spec.class == SignalClass::Errors
                        && ResourceKind::from_type(&b.resource.resource_type)
                            == Some(ResourceKind::LambdaFunction)
                }) =>
            {
                push("apigw-logging", &name, reason)
            }
            (Some(ResourceKind::SqsQueue), SignalClass::Backlog, _) => {
                push("sqs-scale-consumer", &name, reason)
            }
            (Some(ResourceKind::KinesisStream), SignalClass::Backlog, _) => {
                push("kinesis-parallelization", &name, reason)
            }
            (Some(ResourceKind::KinesisStream), SignalClass::Throttles, _) => {
                push("kinesis-shards", &name, reason)
            }
            (Some(ResourceKind::StateMachine), SignalClass::Errors, _) => {
                push("sfn-retry", &name, reason)
            }
            (Some(ResourceKind::StateMachine), SignalClass::Throttles, _) => {
                push("sfn-quotas", &name, reason)
            }
            (Some(ResourceKind::SnsTopic), SignalClass::Errors, _) => {
                push("sns-delivery", &name, reason)
            }
            (Some(ResourceKind::LoadBalancer), SignalClass::Errors | SignalClass::Latency, _) => {
                push("alb-targets", &name, reason)
            }
            _ => {}
        }
    }
    out.truncate(4);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::find_spec;
    use crate::domain::insight::{AnomalyRole, InsightKind, InsightStatus, Rate};
    use crate::domain::metric::{Dimension, MetricKey};

    const T0: i64 = 1_780_000_000 / 60 * 60;

    fn at(minute: i64) -> Timestamp {
        Timestamp::from_secs(T0 + minute * 60)
    }

    struct Stack {
        api: Resource,
        function: Resource,
        consumer: Resource,
        queue: Resource,
        table: Resource,
        resources: Vec<Resource>,
        configs: BTreeMap<String, ConfigValue>,
    }

    fn text(pairs: &[(&str, &str)]) -> ConfigValue {
        ConfigValue::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), ConfigValue::Text(v.to_string())))
                .collect(),
        )
    }

    fn stack() -> Stack {
        let api = Resource::new("Api", "api1", "AWS::ApiGateway::RestApi");
        let function = Resource::new("GetFunction", "shop-Get-1", "AWS::Lambda::Function");
        let consumer = Resource::new(
            "ConsumerFunction",
            "shop-Consumer-2",
            "AWS::Lambda::Function",
        );
        let queue = Resource::new(
            "Queue",
            "https://sqs.r.amazonaws.com/1/shop-Q",
            "AWS::SQS::Queue",
        );
        let table = Resource::new("Table", "shop-Table-3", "AWS::DynamoDB::Table");
        let mut resources = vec![
            api.clone(),
            function.clone(),
            consumer.clone(),
            queue.clone(),
            table.clone(),
        ];
        resources.push(Resource::new(
            "GetFunctionApiPermission",
            "p",
            "AWS::Lambda::Permission",
        ));
        resources.push(Resource::new(
            "ConsumerMapping",
            "esm-1",
            "AWS::Lambda::EventSourceMapping",
        ));
        let mut configs = BTreeMap::new();
        configs.insert(
            "esm-1".to_string(),
            text(&[
                ("EventSourceArn", "arn:aws:sqs:r:1:shop-Q"),
                ("FunctionArn", "arn:aws:lambda:r:1:function:shop-Consumer-2"),
            ]),
        );
        configs.insert(
            "shop-Table-3".to_string(),
            ConfigValue::Map(
                [(
                    "BillingModeSummary".to_string(),
                    text(&[("BillingMode", "PAY_PER_REQUEST")]),
                )]
                .into_iter()
                .collect(),
            ),
        );
        configs.insert(
            "api1".to_string(),
            text(&[("name", "shop-api"), ("stageName", "live")]),
        );
        Stack {
            api,
            function,
            consumer,
            queue,
            table,
            resources,
            configs,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn anomaly(
        resource: &Resource,
        name: &str,
        stat: &str,
        start: i64,
        direction: Direction,
        observed: f64,
        expected: f64,
        severity: Severity,
    ) -> Anomaly {
        let kind = ResourceKind::from_type(&resource.resource_type).unwrap();
        let namespace = match kind {
            ResourceKind::LambdaFunction => "AWS/Lambda",
            ResourceKind::DynamoDbTable => "AWS/DynamoDB",
            ResourceKind::RestApi => "AWS/ApiGateway",
            _ => "AWS/SQS",
        };
        let spec = find_spec(kind, namespace, name, stat).unwrap();
        let dims = match kind {
            ResourceKind::RestApi => vec![
                Dimension::new("ApiName", "shop-api"),
                Dimension::new("Stage", "live"),
            ],
            _ => vec![Dimension::new("Id", resource.physical_id.as_str())],
        };
        Anomaly {
            id: format!("{}-{name}", resource.logical_id),
            metric: MetricKey::new(namespace, name, dims, stat, 60),
            resource: resource.clone(),
            spec,
            direction,
            severity,
            role: AnomalyRole::Contextual,
            start: at(start),
            end: None,
            last_abnormal: at(start + 5),
            observed,
            expected,
            peak: observed,
            score: 10.0,
            rate: None,
        }
    }

    fn insight(anomalies: Vec<Anomaly>) -> Insight {
        Insight {
            id: "i".into(),
            name: String::new(),
            kind: InsightKind::Reactive,
            severity: Severity::High,
            status: InsightStatus::Ongoing,
            stack: "shop".into(),
            start: anomalies.iter().map(|a| a.start).min().unwrap(),
            end: None,
            open_time: at(10),
            close_time: None,
            anomalies,
            relevant_events: Vec::new(),
            recommendations: Vec::new(),
            cause: None,
        }
    }

    fn explain_with(s: &Stack, events: &[StackEvent], anomalies: Vec<Anomaly>) -> Explanation {
        let topology = Topology::of(&s.resources, &s.configs);
        let ctx = StackContext {
            resources: &s.resources,
            configs: &s.configs,
            events,
            topology: &topology,
        };
        explain(&insight(anomalies), &ctx).unwrap()
    }

    fn updated(r: &Resource, minute: i64) -> StackEvent {
        StackEvent {
            time: at(minute),
            resource: r.clone(),
            status: "UPDATE_COMPLETE".into(),
            reason: None,
        }
    }

    use Direction::{Decrease, Increase};
    use Severity::{High, Low, Medium};

    #[test]
    fn errors_right_after_a_deployment_of_the_function_are_our_own_change() {
        let s = stack();
        let mut errors = anomaly(&s.function, "Errors", "Sum", 2, Increase, 12.0, 0.2, High);
        errors.rate = Some(Rate {
            observed: 0.062,
            expected: 0.001,
        });
        let x = explain_with(
            &s,
            &[updated(&s.function, 0)],
            vec![
                anomaly(&s.api, "5XXError", "Sum", 2, Increase, 12.0, 0.2, High),
                errors,
            ],
        );
        assert_eq!(x.cause.cause, Cause::OwnChange);
        assert_eq!(x.cause.primary, s.function);
        assert_eq!(x.cause.action, Action::RollBack);
        assert!(
            x.cause
                .evidence
                .contains("2 minutes after GetFunction was deployed at"),
            "{}",
            x.cause.evidence
        );
        assert_eq!(
            x.name,
            "Errors of shop-Get-1 rose from 0.10% to 6.2% after a deployment"
        );
        assert!(
            x.recommendations[0]
                .name
                .starts_with("Roll back the deployment of shop-Get-1")
        );
    }

    #[test]
    fn a_change_long_before_or_to_an_unrelated_resource_is_not_the_cause() {
        let s = stack();
        let other = Resource::new("Topic", "arn:aws:sns:r:1:alarms", "AWS::SNS::Topic");
        let x = explain_with(
            &s,
            &[updated(&s.function, -90), updated(&other, 1)],
            vec![anomaly(
                &s.function,
                "Errors",
                "Sum",
                2,
                Increase,
                12.0,
                0.2,
                High,
            )],
        );
        assert_eq!(x.cause.cause, Cause::ComponentFailure);
        assert_eq!(x.cause.primary, s.function);
        assert!(
            x.cause.suggestion.starts_with("Find what fails in"),
            "{}",
            x.cause.suggestion
        );
    }

    #[test]
    fn a_function_that_only_got_slower_is_looked_at_for_what_slows_it() {
        let s = stack();
        let slow = explain_with(
            &s,
            &[],
            vec![anomaly(
                &s.function,
                "Duration",
                "Average",
                2,
                Increase,
                40.0,
                26.0,
                Medium,
            )],
        );
        assert_eq!(slow.cause.cause, Cause::ComponentFailure);
        assert!(
            slow.cause
                .suggestion
                .starts_with("Find what slows shop-Get-1 down"),
            "{}",
            slow.cause.suggestion
        );
        let names: Vec<&str> = slow
            .recommendations
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "Trace where shop-Get-1 spends its time",
                "Give shop-Get-1 more memory"
            ]
        );
    }

    #[test]
    fn throttles_mean_a_limit_was_reached_where_they_happen() {
        let s = stack();
        let x = explain_with(
            &s,
            &[],
            vec![
                anomaly(&s.function, "Errors", "Sum", 3, Increase, 20.0, 0.2, High),
                anomaly(
                    &s.table,
                    "ThrottledRequests",
                    "Sum",
                    3,
                    Increase,
                    40.0,
                    0.0,
                    High,
                ),
            ],
        );
        assert_eq!(x.cause.cause, Cause::LimitReached);
        assert_eq!(x.cause.primary, s.table);
        assert_eq!(x.cause.action, Action::ScaleUp);
        // An on-demand table throttles on hot keys, not on its capacity.
        assert!(
            x.recommendations
                .iter()
                .any(|r| r.link.ends_with("bp-partition-key-design.html"))
        );
    }

    #[test]
    fn a_surge_is_blamed_on_the_entry_point_not_on_what_felt_it() {
        let s = stack();
        let x = explain_with(
            &s,
            &[],
            vec![
                anomaly(
                    &s.table,
                    "ConsumedReadCapacityUnits",
                    "Sum",
                    0,
                    Increase,
                    6500.0,
                    1600.0,
                    Medium,
                ),
                anomaly(
                    &s.function,
                    "Invocations",
                    "Sum",
                    0,
                    Increase,
                    6500.0,
                    1600.0,
                    Medium,
                ),
                anomaly(&s.api, "Count", "Sum", 0, Increase, 6500.0, 1600.0, Medium),
                anomaly(
                    &s.function,
                    "ConcurrentExecutions",
                    "Maximum",
                    1,
                    Increase,
                    12.0,
                    4.0,
                    Low,
                ),
            ],
        );
        assert_eq!(x.cause.cause, Cause::SystemChange);
        assert_eq!(x.cause.primary, s.api);
        assert_eq!(x.cause.action, Action::Block);
        assert!(
            x.name.starts_with("Requests of shop-api rose"),
            "{}",
            x.name
        );
    }

    #[test]
    fn a_slow_table_that_slows_its_callers_is_a_failing_dependency() {
        let s = stack();
        let x = explain_with(
            &s,
            &[],
            vec![
                anomaly(
                    &s.api, "Latency", "Average", 1, Increase, 900.0, 120.0, Medium,
                ),
                anomaly(
                    &s.function,
                    "Duration",
                    "Average",
                    0,
                    Increase,
                    850.0,
                    100.0,
                    Medium,
                ),
                anomaly(
                    &s.table,
                    "SuccessfulRequestLatency",
                    "Average",
                    0,
                    Increase,
                    600.0,
                    5.0,
                    Medium,
                ),
            ],
        );
        assert_eq!(x.cause.cause, Cause::DependencyFailure);
        assert_eq!(x.cause.primary, s.table);
        assert_eq!(x.cause.action, Action::Exclude);
        assert!(x.name.contains(", slowing "), "{}", x.name);
    }

    #[test]
    fn a_traffic_drop_points_at_the_entry_point() {
        let s = stack();
        let x = explain_with(
            &s,
            &[],
            vec![
                anomaly(
                    &s.function,
                    "Invocations",
                    "Sum",
                    0,
                    Decrease,
                    100.0,
                    900.0,
                    High,
                ),
                anomaly(&s.api, "Count", "Sum", 0, Decrease, 100.0, 900.0, High),
            ],
        );
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone()),
            (Cause::SystemChange, s.api.clone())
        );
        assert_eq!(x.cause.action, Action::Restart);
    }

    #[test]
    fn a_backlog_is_the_consumers_fault_when_it_fails_and_a_limit_when_it_does_not() {
        let s = stack();
        let backlog = || {
            anomaly(
                &s.queue,
                "ApproximateAgeOfOldestMessage",
                "Maximum",
                0,
                Increase,
                900.0,
                5.0,
                High,
            )
        };
        let x = explain_with(&s, &[], vec![backlog()]);
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone()),
            (Cause::LimitReached, s.queue.clone())
        );
        let x = explain_with(
            &s,
            &[],
            vec![
                backlog(),
                anomaly(&s.consumer, "Errors", "Sum", 0, Increase, 30.0, 0.1, High),
            ],
        );
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone()),
            (Cause::ComponentFailure, s.consumer.clone())
        );
    }

    #[test]
    fn errors_that_grow_with_a_surge_are_its_symptom_even_when_dated_a_minute_before_it() {
        let s = stack();
        // The share failing stays the same: 1.6 in 1,400 and 6.7 in 6,400.
        let x = explain_with(
            &s,
            &[],
            vec![
                anomaly(&s.function, "Errors", "Sum", 0, Increase, 6.7, 1.6, Medium),
                anomaly(&s.api, "Count", "Sum", 1, Increase, 6430.0, 1412.0, Medium),
                anomaly(
                    &s.table,
                    "ConsumedReadCapacityUnits",
                    "Sum",
                    2,
                    Increase,
                    6568.0,
                    2056.0,
                    Medium,
                ),
            ],
        );
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone()),
            (Cause::SystemChange, s.api.clone())
        );
        assert!(
            x.name.starts_with("Requests of shop-api rose"),
            "{}",
            x.name
        );
        // Errors ten times as frequent on five times the traffic came first.
        let x = explain_with(
            &s,
            &[],
            vec![
                anomaly(&s.function, "Errors", "Sum", 0, Increase, 16.0, 1.6, Medium),
                anomaly(&s.api, "Count", "Sum", 1, Increase, 6430.0, 1412.0, Medium),
            ],
        );
        assert_ne!(x.cause.cause, Cause::SystemChange);
    }

    #[test]
    fn a_surge_is_named_at_the_api_even_when_a_function_showed_it_minutes_earlier() {
        let s = stack();
        let x = explain_with(
            &s,
            &[],
            vec![
                anomaly(
                    &s.function,
                    "Invocations",
                    "Sum",
                    0,
                    Increase,
                    11.0,
                    1.8,
                    Medium,
                ),
                anomaly(&s.api, "Count", "Sum", 2, Increase, 75.0, 15.0, Medium),
            ],
        );
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone()),
            (Cause::SystemChange, s.api.clone())
        );
    }

    #[test]
    fn without_an_api_a_surge_is_named_after_the_function_that_got_the_most_of_it() {
        let mut s = stack();
        let list = Resource::new("ListFunction", "shop-List-4", "AWS::Lambda::Function");
        s.resources.push(list.clone());
        let x = explain_with(
            &s,
            &[],
            vec![
                anomaly(
                    &list,
                    "Invocations",
                    "Sum",
                    0,
                    Increase,
                    695.0,
                    274.0,
                    Medium,
                ),
                anomaly(
                    &s.function,
                    "Invocations",
                    "Sum",
                    1,
                    Increase,
                    2582.0,
                    1051.0,
                    Medium,
                ),
                anomaly(&s.function, "Errors", "Sum", 1, Increase, 9.0, 1.0, High),
            ],
        );
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone()),
            (Cause::SystemChange, s.function.clone())
        );
        // Named after its traffic, not after its more severe errors.
        assert!(
            x.name.starts_with("Invocations of shop-Get-1 rose"),
            "{}",
            x.name
        );
        assert_eq!(
            x.recommendations[0].name,
            "Cap the concurrency of shop-Get-1"
        );
    }

    #[test]
    fn less_work_downstream_of_a_failing_function_is_its_symptom_not_a_cause() {
        let s = stack();
        // The function hangs; it sends fewer messages, so its queue's
        // consumer runs less.
        let x = explain_with(
            &s,
            &[],
            vec![
                anomaly(
                    &s.function,
                    "Duration",
                    "Average",
                    0,
                    Increase,
                    2067.0,
                    12.0,
                    High,
                ),
                anomaly(
                    &s.api, "Latency", "Average", 0, Increase, 2080.0, 35.0, High,
                ),
                anomaly(
                    &s.queue,
                    "NumberOfMessagesSent",
                    "Sum",
                    1,
                    Decrease,
                    415.0,
                    674.0,
                    Medium,
                ),
                anomaly(
                    &s.consumer,
                    "Invocations",
                    "Sum",
                    1,
                    Decrease,
                    415.0,
                    674.0,
                    Medium,
                ),
            ],
        );
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone()),
            (Cause::ComponentFailure, s.function.clone())
        );
    }

    #[test]
    fn an_api_answers_for_the_function_behind_it_even_when_its_errors_are_dated_earlier() {
        let s = stack();
        let x = explain_with(
            &s,
            &[],
            vec![
                anomaly(&s.api, "5XXError", "Sum", 0, Increase, 2.2, 0.4, Medium),
                anomaly(&s.function, "Errors", "Sum", 7, Increase, 6.1, 0.35, High),
                anomaly(
                    &s.function,
                    "Duration",
                    "Average",
                    7,
                    Increase,
                    988.0,
                    88.0,
                    High,
                ),
            ],
        );
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone()),
            (Cause::ComponentFailure, s.function.clone())
        );
    }

    #[test]
    fn a_consumer_that_stopped_receiving_is_named_at_the_queue_where_work_waits() {
        let mut s = stack();
        let stalled = || {
            vec![
                anomaly(
                    &s.consumer,
                    "Invocations",
                    "Sum",
                    0,
                    Decrease,
                    0.0,
                    16.0,
                    Medium,
                ),
                anomaly(
                    &s.queue,
                    "ApproximateNumberOfMessagesVisible",
                    "Maximum",
                    4,
                    Increase,
                    209.0,
                    1.9,
                    High,
                ),
            ]
        };
        let x = explain_with(&s, &[], stalled());
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone(), x.cause.action),
            (Cause::ComponentFailure, s.queue.clone(), Action::Restart)
        );
        assert!(
            x.cause
                .suggestion
                .starts_with("Check that shop-Consumer-2 still receives from"),
            "{}",
            x.cause.suggestion
        );
        assert!(
            x.recommendations[0].name == "Check that shop-Consumer-2 still receives its events",
            "{:?}",
            x.recommendations
        );
        // What the mapping's description says is quoted.
        s.configs.insert(
            "esm-1".to_string(),
            text(&[
                ("EventSourceArn", "arn:aws:sqs:r:1:shop-Q"),
                ("FunctionArn", "arn:aws:lambda:r:1:function:shop-Consumer-2"),
                ("State", "Disabled"),
            ]),
        );
        let x = explain_with(&s, &[], stalled());
        assert!(
            x.cause
                .evidence
                .ends_with("; its event source mapping is Disabled"),
            "{}",
            x.cause.evidence
        );
    }

    #[test]
    fn a_deployment_is_not_blamed_for_traffic_its_callers_sent() {
        let s = stack();
        let x = explain_with(
            &s,
            &[updated(&s.function, -50)],
            vec![
                anomaly(
                    &s.function,
                    "Invocations",
                    "Sum",
                    0,
                    Increase,
                    5085.0,
                    961.0,
                    Medium,
                ),
                anomaly(&s.api, "Count", "Sum", 0, Increase, 5107.0, 964.0, Medium),
            ],
        );
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone()),
            (Cause::SystemChange, s.api.clone())
        );
    }

    #[test]
    fn a_deployment_after_which_the_api_fails_to_call_the_function_is_blamed() {
        let s = stack();
        let x = explain_with(
            &s,
            &[updated(&s.function, -3)],
            vec![
                anomaly(
                    &s.function,
                    "Invocations",
                    "Sum",
                    0,
                    Decrease,
                    0.0,
                    90.0,
                    High,
                ),
                anomaly(&s.api, "5XXError", "Sum", 0, Increase, 90.0, 0.2, High),
            ],
        );
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone()),
            (Cause::OwnChange, s.function.clone())
        );
    }

    #[test]
    fn a_deployment_before_the_functions_own_errors_is_blamed_though_the_api_showed_them_earlier() {
        let s = stack();
        let x = explain_with(
            &s,
            &[updated(&s.function, 3)],
            vec![
                anomaly(&s.api, "5XXError", "Sum", 0, Increase, 3.0, 0.3, Medium),
                anomaly(&s.function, "Errors", "Sum", 4, Increase, 4.4, 0.4, Medium),
            ],
        );
        assert_eq!(
            (x.cause.cause, x.cause.primary.clone()),
            (Cause::OwnChange, s.function.clone())
        );
        // Not once the function had been failing for a while.
        let x = explain_with(
            &s,
            &[updated(&s.function, 3)],
            vec![
                anomaly(&s.api, "5XXError", "Sum", 0, Increase, 3.0, 0.3, Medium),
                anomaly(&s.function, "Errors", "Sum", 0, Increase, 4.4, 0.4, Medium),
            ],
        );
        assert_ne!(x.cause.cause, Cause::OwnChange);
    }

    #[test]
    fn percentages_read_well() {
        assert_eq!(percent(0.0012), "0.12%");
        assert_eq!(percent(0.062), "6.2%");
        assert_eq!(percent(0.5), "50%");
    }
}
