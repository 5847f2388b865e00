//! Ground truth of a scenario (`NAME.truth.json`, format
//! `stackwatch-scenario-truth/1`) and the scoring of replay output against it.
//!
//! A truth file says what happened in a scenario's evaluation period: real
//! incidents, which a reactive insight should report, and benign events,
//! which should not open one. [`score`] applies the matching rule of the
//! scenarios' documentation to the insights of one replay, and [`summarize`]
//! aggregates many scenarios into recall, false positives per scenario-day,
//! time to insight, primary-resource and event-link accuracy.
//!
//! The rule: an insight is *about* an incident when the time its metrics were
//! abnormal (`startTime` to `endTime`, or to the end of the data while
//! ongoing) overlaps `[onset − 5 min, end + 15 min]`, and one of its anomalies
//! names one of the incident's `affected_resources` or one of their
//! `aliases`. Only reactive insights are matched; proactive ones are about
//! configuration, not about an incident, and are only counted.

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::adapters::scenario::parse_rfc3339;
use crate::domain::time::{DAY, MINUTE, Timestamp};
use crate::messages::InsightDto;

/// The format tag of truth files.
pub const TRUTH_FORMAT: &str = "stackwatch-scenario-truth/1";

/// How long before an incident's onset an insight may start and still be
/// about it.
pub const BEFORE_ONSET: i64 = 5 * MINUTE;
/// How long after an incident's end an insight may start and still be about
/// it.
pub const AFTER_END: i64 = 15 * MINUTE;
/// How long after an incident's end its insight should have closed.
pub const CLOSE_WITHIN: i64 = 30 * MINUTE;

/// A truth file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TruthError {
    /// The file cannot be read.
    #[error("{file}: cannot be read: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid truth file.
    #[error("{file}: at {path}: {problem}")]
    Invalid {
        /// The file.
        file: String,
        /// Where in the JSON, e.g. `incidents[2].onset`.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

/// What happened in a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Always [`TRUTH_FORMAT`].
    pub format: String,
    /// The scenario's name (its file name without `.json`).
    pub scenario: String,
    /// The stack.
    pub stack: String,
    /// The region.
    pub region: String,
    /// Seconds per point.
    pub period: u32,
    /// The first minute of the data.
    #[serde(with = "rfc3339")]
    pub history_start: Timestamp,
    /// The first minute of the evaluation period.
    #[serde(with = "rfc3339")]
    pub eval_start: Timestamp,
    /// The end of the evaluation period (exclusive), also the end of the data.
    #[serde(with = "rfc3339")]
    pub eval_end: Timestamp,
    /// Days of history before `eval_start`.
    pub history_days: u32,
    /// Days of evaluation.
    pub eval_days: u32,
    /// A summary of the simulated stack.
    pub stack_profile: StackProfile,
    /// Every resource that has metrics, by physical id.
    pub resources: Ordered<TruthResource>,
    /// Other names of the same resources, by physical id.
    #[serde(default)]
    pub aliases: Ordered<Vec<String>>,
    /// Real incidents and benign events of the evaluation period, in onset
    /// order.
    pub incidents: Vec<Incident>,
}

/// A summary of the simulated stack.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StackProfile {
    /// Weekday afternoon peak of API requests per minute.
    pub peak_requests_per_min: f64,
    /// Weekend traffic relative to weekdays.
    pub weekend_factor: f64,
    /// UTC offset of the stack's users, in hours.
    pub utc_offset_hours: i32,
    /// UTC time (`HH:MM`) of the daily scheduled batch, if there is one.
    pub batch_utc: Option<String>,
    /// Lambda functions.
    pub functions: u32,
    /// DynamoDB tables.
    pub tables: u32,
    /// Whether there is an SQS queue with a consumer function.
    pub queue: bool,
}

/// A resource that has metrics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthResource {
    /// CloudFormation type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Logical id.
    pub logical: String,
    /// Its part in the stack: `api`, `worker`, `batch`, `cron`, `table`,
    /// `queue`.
    pub role: String,
}

/// A real incident or a benign event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// `i1`, `b2`, …
    pub id: String,
    /// One of [`REAL_TYPES`] or [`BENIGN_TYPES`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether a reactive insight should report it.
    pub should_alert: bool,
    /// Whether a deployment caused it (the insight should list it).
    #[serde(default)]
    pub expect_event: bool,
    /// The first affected minute.
    #[serde(with = "rfc3339")]
    pub onset: Timestamp,
    /// The end of the last affected minute (exclusive).
    #[serde(with = "rfc3339")]
    pub end: Timestamp,
    /// The resource where the problem is (physical id).
    pub primary_resource: String,
    /// Every resource whose metrics it changes (physical ids).
    #[serde(default)]
    pub affected_resources: Vec<String>,
    /// For a bad deployment: the function whose update caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_resource: Option<String>,
    /// The `UPDATE_COMPLETE` time of the deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<EventTime>,
    /// For a bad deployment: the `UPDATE_COMPLETE` time of the rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_time: Option<EventTime>,
    /// For a bad deployment: other resources of the same update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co_deployed: Option<Vec<String>>,
    /// For a blip or an isolated error: the metric that moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Magnitudes: multipliers, error rate, drop fraction, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Ordered<f64>>,
    /// A sentence.
    #[serde(default)]
    pub description: String,
    /// The metrics that visibly change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_metrics: Option<Vec<ExpectedMetric>>,
}

/// A metric that an incident visibly changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedMetric {
    /// Physical id of the resource.
    pub resource: String,
    /// CloudWatch namespace.
    pub namespace: String,
    /// Metric name.
    pub metric: String,
    /// Statistic.
    pub stat: String,
    /// `INCREASE` or `DECREASE`.
    pub direction: String,
    /// The DynamoDB operation, for per-operation metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

/// The incident types that should alert.
pub const REAL_TYPES: [&str; 7] = [
    "load_spike",
    "ddb_throttle",
    "bad_deploy",
    "slow_dependency",
    "traffic_drop",
    "queue_backlog",
    "timeouts",
];

/// The benign event types, which should not alert.
pub const BENIGN_TYPES: [&str; 4] = [
    "scheduled_batch",
    "harmless_deploy",
    "blip",
    "isolated_error",
];

/// A JSON object whose key order is kept, as a list of pairs.
#[derive(Clone, Debug, PartialEq)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> Ordered<V> {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Visit<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered<V>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// The time of a stack event, with CloudFormation's millisecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTime {
    millis: i64,
}

impl EventTime {
    /// The time `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self { millis }
    }

    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.millis
    }

    /// The whole second it falls in.
    pub const fn timestamp(self) -> Timestamp {
        Timestamp::from_secs(self.millis.div_euclid(1000))
    }

    /// Parses RFC 3339 with or without fractional seconds.
    pub fn parse(text: &str) -> Option<Self> {
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| Self::from_millis(t.timestamp_millis()))
    }
}

impl fmt::Display for EventTime {
    /// `2026-02-10T20:50:52.617Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.timestamp().civil();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second,
            self.millis.rem_euclid(1000)
        )
    }
}

impl Serialize for EventTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        EventTime::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{text:?} is not an RFC 3339 timestamp such as \"2026-03-01T00:00:00.000Z\""
            ))
        })
    }
}

/// Serde for whole-second RFC 3339 timestamps.
mod rfc3339 {
    use super::{Timestamp, parse_rfc3339};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(t)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        parse_rfc3339(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{text:?} is not an RFC 3339 timestamp such as \"2026-03-01T00:00:00Z\""
            ))
        })
    }
}

impl Incident {
    /// Whether this is a real incident type (rather than a benign event).
    pub fn is_real(&self) -> bool {
        self.should_alert
    }
}

impl Truth {
    /// Reads a truth file's bytes; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`TruthError::Invalid`] naming the JSON path and the problem, also
    /// when the format tag is not [`TRUTH_FORMAT`] or an incident ends before
    /// it starts.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Truth, TruthError> {
        let invalid = |path: String, problem: String| TruthError::Invalid {
            file: file.to_string(),
            path,
            problem,
        };
        let truth: Truth = crate::document::parse(bytes).map_err(|p| invalid(p.path, p.problem))?;
        if truth.format != TRUTH_FORMAT {
            return Err(invalid(
                "format".into(),
                format!("{:?} is not {TRUTH_FORMAT:?}", truth.format),
            ));
        }
        if truth.eval_end <= truth.eval_start {
            return Err(invalid(
                "eval_end".into(),
                "the evaluation period ends before it starts".into(),
            ));
        }
        for (i, inc) in truth.incidents.iter().enumerate() {
            if inc.end <= inc.onset {
                return Err(invalid(
                    format!("incidents[{i}].end"),
                    format!("incident {} ends before it starts", inc.id),
                ));
            }
        }
        Ok(truth)
    }

    /// Reads a truth file.
    ///
    /// # Errors
    ///
    /// [`TruthError`] naming the file and the problem.
    pub fn load(path: &Path) -> Result<Truth, TruthError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| TruthError::Io {
            file: file.clone(),
            source,
        })?;
        Self::parse(&file, &bytes)
    }

    /// The truth as pretty JSON (one-space indent, as the example files).
    ///
    /// # Errors
    ///
    /// Never in practice: every field serialises.
    pub fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
        self.serialize(&mut ser)?;
        out.push(b'\n');
        Ok(out)
    }

    /// Days of evaluation, from the evaluation period's bounds.
    pub fn scenario_days(&self) -> f64 {
        self.eval_end.since(self.eval_start) as f64 / DAY as f64
    }

    /// Maps every name of every resource (physical id, aliases, logical id)
    /// to the physical id.
    fn names(&self) -> HashMap<&str, &str> {
        let mut names: HashMap<&str, &str> = HashMap::new();
        for (id, r) in &self.resources.0 {
            names.insert(id, id);
            names.insert(&r.logical, id);
        }
        for (id, aliases) in &self.aliases.0 {
            names.insert(id, id);
            for a in aliases {
                names.insert(a, id);
            }
        }
        names
    }
}

/// How the replay did on one real incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IncidentScore {
    /// The incident's id.
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its onset.
    pub onset: String,
    /// Whether a reactive insight was about it.
    pub detected: bool,
    /// The insights about it, in the order opened.
    pub insights: Vec<String>,
    /// Seconds from the onset to the first insight's `openTime`.
    pub time_to_insight_secs: Option<i64>,
    /// Whether the first insight's lead anomaly (its first CAUSAL anomaly,
    /// else its first anomaly) names the primary resource.
    pub primary_named: Option<bool>,
    /// For an incident caused by a deployment: whether an insight about it
    /// lists the deployed resource among its relevant events.
    pub event_linked: Option<bool>,
    /// Whether every insight about it was closed within 30 minutes of its
    /// end.
    pub closed_in_time: Option<bool>,
    /// Seconds from its end to the last close of an insight about it
    /// (absent while one is still open).
    pub close_delay_secs: Option<i64>,
}

/// How the replay did on one benign event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenignScore {
    /// The event's id.
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its onset.
    pub onset: String,
    /// Whether a reactive insight about no real incident was about it.
    pub false_alarm: bool,
    /// Those insights.
    pub insights: Vec<String>,
}

/// A reactive insight about no real incident.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FalsePositive {
    /// The insight's id.
    pub insight: String,
    /// Its name.
    pub name: String,
    /// When its metrics became abnormal.
    pub start: String,
    /// The benign events it is about (empty when it is about none).
    pub benign: Vec<String>,
}

/// The score of one replay against its truth.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioScore {
    /// The scenario.
    pub scenario: String,
    /// Days of evaluation.
    pub scenario_days: f64,
    /// Reactive insights whose abnormal time overlaps the evaluation period.
    pub insights: usize,
    /// Proactive insights (not matched against incidents).
    pub proactive: usize,
    /// Insights that could not be read (a malformed time).
    pub malformed: usize,
    /// One entry per real incident.
    pub incidents: Vec<IncidentScore>,
    /// One entry per benign event.
    pub benign: Vec<BenignScore>,
    /// Reactive insights about no real incident.
    pub false_positives: Vec<FalsePositive>,
}

/// An insight with its times read.
struct Read<'a> {
    dto: &'a InsightDto,
    start: Timestamp,
    /// End of the abnormal time; the end of the data while ongoing.
    end: Timestamp,
    open: Timestamp,
    close: Option<Timestamp>,
}

fn read(dto: &InsightDto, end_of_data: Timestamp) -> Option<Read<'_>> {
    let start = parse_rfc3339(&dto.start_time)?;
    let end = match &dto.end_time {
        Some(t) => parse_rfc3339(t)?,
        None => end_of_data,
    };
    let open = parse_rfc3339(&dto.open_time)?;
    let close = match &dto.close_time {
        Some(t) => Some(parse_rfc3339(t)?),
        None => None,
    };
    Some(Read {
        dto,
        start,
        // An abnormal time is at least the minute that was abnormal.
        end: end.max(start.add(MINUTE)),
        open,
        close,
    })
}

/// The anomaly an insight leads with: its first CAUSAL anomaly, else its
/// first anomaly.
fn lead(dto: &InsightDto) -> Option<&crate::messages::AnomalyDto> {
    dto.anomalies
        .iter()
        .find(|a| a.kind == "CAUSAL")
        .or_else(|| dto.anomalies.first())
}

/// Whether an anomaly names the resource with physical id `id`.
fn names_resource(names: &HashMap<&str, &str>, a: &crate::messages::AnomalyDto, id: &str) -> bool {
    let resolves = |n: &str| n == id || names.get(n).copied() == Some(id);
    resolves(&a.resource_name)
        || (!a.logical_resource_id.is_empty() && resolves(&a.logical_resource_id))
}

fn is_about(names: &HashMap<&str, &str>, ins: &Read<'_>, inc: &Incident) -> bool {
    let from = inc.onset.add(-BEFORE_ONSET);
    let to = inc.end.add(AFTER_END);
    if !(ins.start < to && ins.end > from) {
        return false;
    }
    ins.dto.anomalies.iter().any(|a| {
        inc.affected_resources
            .iter()
            .chain(std::iter::once(&inc.primary_resource))
            .any(|r| names_resource(names, a, r))
    })
}

/// Scores the insights of one replay against the truth of its scenario.
///
/// Insights whose times cannot be read are counted as `malformed` and not
/// matched; reactive insights whose abnormal time lies wholly outside the
/// evaluation period are ignored (the history is not judged).
pub fn score(truth: &Truth, insights: &[InsightDto]) -> ScenarioScore {
    let names = truth.names();
    let mut malformed = 0;
    let mut proactive = 0;
    let mut reactive: Vec<Read<'_>> = Vec::new();
    for dto in insights {
        if dto.kind == "PROACTIVE" {
            proactive += 1;
            continue;
        }
        match read(dto, truth.eval_end) {
            Some(r) if r.start < truth.eval_end && r.end > truth.eval_start => reactive.push(r),
            Some(_) => {}
            None => malformed += 1,
        }
    }
    reactive.sort_by_key(|r| (r.open, r.start));

    let real: Vec<&Incident> = truth.incidents.iter().filter(|i| i.is_real()).collect();
    let about_real: Vec<bool> = reactive
        .iter()
        .map(|r| real.iter().any(|inc| is_about(&names, r, inc)))
        .collect();

    let incidents = real
        .iter()
        .map(|inc| score_incident(&names, &reactive, inc))
        .collect();

    let benign_incidents: Vec<&Incident> =
        truth.incidents.iter().filter(|i| !i.is_real()).collect();
    let benign = benign_incidents
        .iter()
        .map(|inc| {
            let ids: Vec<String> = reactive
                .iter()
                .zip(&about_real)
                .filter(|(r, real)| !**real && is_about(&names, r, inc))
                .map(|(r, _)| r.dto.id.clone())
                .collect();
            BenignScore {
                id: inc.id.clone(),
                kind: inc.kind.clone(),
                onset: inc.onset.to_string(),
                false_alarm: !ids.is_empty(),
                insights: ids,
            }
        })
        .collect();

    let false_positives = reactive
        .iter()
        .zip(&about_real)
        .filter(|(_, real)| !**real)
        .map(|(r, _)| FalsePositive {
            insight: r.dto.id.clone(),
            name: r.dto.name.clone(),
            start: r.dto.start_time.clone(),
            benign: benign_incidents
                .iter()
                .filter(|inc| is_about(&names, r, inc))
                .map(|inc| inc.id.clone())
                .collect(),
        })
        .collect();

    ScenarioScore {
        scenario: truth.scenario.clone(),
        scenario_days: truth.scenario_days(),
        insights: reactive.len(),
        proactive,
        malformed,
        incidents,
        benign,
        false_positives,
    }
}

fn score_incident(
    names: &HashMap<&str, &str>,
    reactive: &[Read<'_>],
    inc: &Incident,
) -> IncidentScore {
    let about: Vec<&Read<'_>> = reactive
        .iter()
        .filter(|r| is_about(names, r, inc))
        .collect();
    let first = about.first();
    let deployed = inc.deployed_resource.as_deref();
    let event_linked = match (inc.expect_event, deployed, first) {
        (true, Some(dep), Some(_)) => Some(about.iter().any(|r| {
            r.dto.relevant_events.iter().any(|e| {
                e.resource_name == dep || names.get(e.resource_name.as_str()) == Some(&dep)
            })
        })),
        (true, _, Some(_)) => Some(false),
        _ => None,
    };
    let last_close = if about.is_empty() || about.iter().any(|r| r.close.is_none()) {
        None
    } else {
        about.iter().filter_map(|r| r.close).max()
    };
    IncidentScore {
        id: inc.id.clone(),
        kind: inc.kind.clone(),
        onset: inc.onset.to_string(),
        detected: first.is_some(),
        insights: about.iter().map(|r| r.dto.id.clone()).collect(),
        time_to_insight_secs: first.map(|r| r.open.since(inc.onset)),
        primary_named: first
            .map(|r| lead(r.dto).is_some_and(|a| names_resource(names, a, &inc.primary_resource))),
        event_linked,
        closed_in_time: first.map(|_| last_close.is_some_and(|c| c.since(inc.end) <= CLOSE_WITHIN)),
        close_delay_secs: last_close.map(|c| c.since(inc.end)),
    }
}

/// Figures for one incident type over many scenarios.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TypeSummary {
    /// The incident type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Incidents of this type.
    pub incidents: usize,
    /// Of which detected.
    pub detected: usize,
    /// Median seconds from onset to insight, over the detected ones.
    pub median_time_to_insight_secs: Option<f64>,
    /// Detected ones whose first insight leads with the primary resource.
    pub primary_named: usize,
    /// Detected ones closed within 30 minutes of their end.
    pub closed_in_time: usize,
    /// Ids (`scenario/incident`) of the missed ones.
    pub missed: Vec<String>,
}

/// Figures for one benign event type over many scenarios.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenignSummary {
    /// The event type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Events of this type.
    pub events: usize,
    /// Of which some insight wrongly opened about.
    pub false_alarms: usize,
}

/// Aggregate figures over many scored scenarios.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Scenarios scored.
    pub scenarios: usize,
    /// Days of evaluation, summed.
    pub scenario_days: f64,
    /// Real incidents.
    pub incidents: usize,
    /// Of which detected.
    pub detected: usize,
    /// `detected / incidents`.
    pub recall: Option<f64>,
    /// Reactive insights about no real incident.
    pub false_positives: usize,
    /// Of which about no benign event either.
    pub unexplained_false_positives: usize,
    /// False positives per scenario-day.
    pub false_positives_per_day: Option<f64>,
    /// Median seconds from onset to the first insight (nearest rank).
    pub median_time_to_insight_secs: Option<f64>,
    /// 90th percentile of the same (nearest rank).
    pub p90_time_to_insight_secs: Option<f64>,
    /// Detected incidents whose first insight leads with the primary resource,
    /// over the detected ones.
    pub primary_accuracy: Option<f64>,
    /// Detected deployment-caused incidents whose insight lists the
    /// deployment, over those.
    pub event_link_accuracy: Option<f64>,
    /// Detected incidents whose insights closed within 30 minutes of the end,
    /// over the detected ones.
    pub closed_in_time: Option<f64>,
    /// Proactive insights.
    pub proactive: usize,
    /// Insights that could not be read.
    pub malformed: usize,
    /// Per incident type, in [`REAL_TYPES`] order then others.
    pub by_type: Vec<TypeSummary>,
    /// Per benign event type.
    pub benign_by_type: Vec<BenignSummary>,
}

/// The value at quantile `q` (nearest rank) of `values`, which it sorts.
pub fn nearest_rank(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (q * values.len() as f64).ceil().max(1.0) as usize;
    values.get(rank.min(values.len()) - 1).copied()
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn type_order(kinds: &[&str], kind: &str) -> usize {
    kinds.iter().position(|k| *k == kind).unwrap_or(kinds.len())
}

/// Aggregates scored scenarios.
pub fn summarize(scores: &[ScenarioScore]) -> Summary {
    let all: Vec<(&ScenarioScore, &IncidentScore)> = scores
        .iter()
        .flat_map(|s| s.incidents.iter().map(move |i| (s, i)))
        .collect();
    let detected: Vec<&IncidentScore> = all.iter().map(|p| p.1).filter(|i| i.detected).collect();
    let mut ttis: Vec<f64> = detected
        .iter()
        .filter_map(|i| i.time_to_insight_secs)
        .map(|s| s as f64)
        .collect();
    let with_event: Vec<&&IncidentScore> = detected
        .iter()
        .filter(|i| i.event_linked.is_some())
        .collect();
    let false_positives: usize = scores.iter().map(|s| s.false_positives.len()).sum();
    let unexplained = scores
        .iter()
        .flat_map(|s| &s.false_positives)
        .filter(|f| f.benign.is_empty())
        .count();
    let days: f64 = scores.iter().map(|s| s.scenario_days).sum();

    let mut by_type: BTreeMap<(usize, String), TypeSummary> = BTreeMap::new();
    for (s, i) in &all {
        let entry = by_type
            .entry((type_order(&REAL_TYPES, &i.kind), i.kind.clone()))
            .or_insert_with(|| TypeSummary {
                kind: i.kind.clone(),
                incidents: 0,
                detected: 0,
                median_time_to_insight_secs: None,
                primary_named: 0,
                closed_in_time: 0,
                missed: Vec::new(),
            });
        entry.incidents += 1;
        if i.detected {
            entry.detected += 1;
            entry.primary_named += usize::from(i.primary_named == Some(true));
            entry.closed_in_time += usize::from(i.closed_in_time == Some(true));
        } else {
            entry.missed.push(format!("{}/{}", s.scenario, i.id));
        }
    }
    for ((_, kind), entry) in &mut by_type {
        let mut t: Vec<f64> = all
            .iter()
            .map(|p| p.1)
            .filter(|i| &i.kind == kind && i.detected)
            .filter_map(|i| i.time_to_insight_secs)
            .map(|s| s as f64)
            .collect();
        entry.median_time_to_insight_secs = nearest_rank(&mut t, 0.5);
    }

    let mut benign: BTreeMap<(usize, String), BenignSummary> = BTreeMap::new();
    for b in scores.iter().flat_map(|s| &s.benign) {
        let entry = benign
            .entry((type_order(&BENIGN_TYPES, &b.kind), b.kind.clone()))
            .or_insert_with(|| BenignSummary {
                kind: b.kind.clone(),
                events: 0,
                false_alarms: 0,
            });
        entry.events += 1;
        entry.false_alarms += usize::from(b.false_alarm);
    }

    Summary {
        scenarios: scores.len(),
        scenario_days: days,
        incidents: all.len(),
        detected: detected.len(),
        recall: ratio(detected.len(), all.len()),
        false_positives,
        unexplained_false_positives: unexplained,
        false_positives_per_day: (days > 0.0).then(|| false_positives as f64 / days),
        median_time_to_insight_secs: nearest_rank(&mut ttis, 0.5),
        p90_time_to_insight_secs: nearest_rank(&mut ttis, 0.9),
        primary_accuracy: ratio(
            detected
                .iter()
                .filter(|i| i.primary_named == Some(true))
                .count(),
            detected.len(),
        ),
        event_link_accuracy: ratio(
            with_event
                .iter()
                .filter(|i| i.event_linked == Some(true))
                .count(),
            with_event.len(),
        ),
        closed_in_time: ratio(
            detected
                .iter()
                .filter(|i| i.closed_in_time == Some(true))
                .count(),
            detected.len(),
        ),
        proactive: scores.iter().map(|s| s.proactive).sum(),
        malformed: scores.iter().map(|s| s.malformed).sum(),
        by_type: by_type.into_values().collect(),
        benign_by_type: benign.into_values().collect(),
    }
}

fn minutes(secs: Option<f64>) -> String {
    match secs {
        Some(s) => format!("{:.1} min", s / 60.0),
        None => "-".into(),
    }
}

fn percent(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{:.0}%", r * 100.0),
        None => "-".into(),
    }
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

impl fmt::Display for ScenarioScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detected = self.incidents.iter().filter(|i| i.detected).count();
        writeln!(
            f,
            "{}: {}/{} incidents detected, {} false positive(s) in {:.1} day(s), {} reactive insight(s){}",
            self.scenario,
            detected,
            self.incidents.len(),
            self.false_positives.len(),
            self.scenario_days,
            self.insights,
            if self.malformed > 0 {
                format!(", {} malformed", self.malformed)
            } else {
                String::new()
            }
        )?;
        for i in &self.incidents {
            let mut line = format!("  {} {:<16} onset {}  ", i.id, i.kind, i.onset);
            if i.detected {
                let _ = write!(
                    line,
                    "detected after {}, primary {}, event {}, closed in time {}",
                    minutes(i.time_to_insight_secs.map(|s| s as f64)),
                    yes_no(i.primary_named),
                    yes_no(i.event_linked),
                    yes_no(i.closed_in_time)
                );
                if i.insights.len() > 1 {
                    let _ = write!(line, " ({} insights)", i.insights.len());
                }
            } else {
                line.push_str("MISSED");
            }
            writeln!(f, "{line}")?;
        }
        for b in self.benign.iter().filter(|b| b.false_alarm) {
            writeln!(
                f,
                "  {} {:<16} onset {}  false alarm",
                b.id, b.kind, b.onset
            )?;
        }
        for fp in self
            .false_positives
            .iter()
            .filter(|fp| fp.benign.is_empty())
        {
            writeln!(f, "  false positive from {}: {}", fp.start, fp.name)?;
        }
        Ok(())
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} scenario(s), {:.1} scenario-day(s), {} real incident(s)",
            self.scenarios, self.scenario_days, self.incidents
        )?;
        writeln!(
            f,
            "  recall                  {} ({}/{})",
            percent(self.recall),
            self.detected,
            self.incidents
        )?;
        writeln!(
            f,
            "  false positives         {} ({:.2}/scenario-day; {} about no benign event)",
            self.false_positives,
            self.false_positives_per_day.unwrap_or(0.0),
            self.unexplained_false_positives
        )?;
        writeln!(
            f,
            "  time to insight         median {}, p90 {}",
            minutes(self.median_time_to_insight_secs),
            minutes(self.p90_time_to_insight_secs)
        )?;
        writeln!(
            f,
            "  primary resource named  {}",
            percent(self.primary_accuracy)
        )?;
        writeln!(
            f,
            "  deployment linked       {}",
            percent(self.event_link_accuracy)
        )?;
        writeln!(
            f,
            "  closed within 30 min    {}",
            percent(self.closed_in_time)
        )?;
        if self.proactive > 0 || self.malformed > 0 {
            writeln!(
                f,
                "  proactive insights {}, malformed insights {}",
                self.proactive, self.malformed
            )?;
        }
        if !self.by_type.is_empty() {
            writeln!(
                f,
                "  {:<16} {:>9} {:>9} {:>11} {:>8} {:>8}",
                "incident type", "incidents", "detected", "median tti", "primary", "closed"
            )?;
            for t in &self.by_type {
                writeln!(
                    f,
                    "  {:<16} {:>9} {:>9} {:>11} {:>8} {:>8}",
                    t.kind,
                    t.incidents,
                    t.detected,
                    minutes(t.median_time_to_insight_secs),
                    t.primary_named,
                    t.closed_in_time
                )?;
            }
        }
        if !self.benign_by_type.is_empty() {
            writeln!(
                f,
                "  {:<16} {:>9} {:>12}",
                "benign type", "events", "false alarms"
            )?;
            for b in &self.benign_by_type {
                writeln!(f, "  {:<16} {:>9} {:>12}", b.kind, b.events, b.false_alarms)?;
            }
        }
        for t in self.by_type.iter().filter(|t| !t.missed.is_empty()) {
            writeln!(f, "  missed {}: {}", t.kind, t.missed.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{AnomalyDto, RelevantEventDto};

    /// The example scenario `ex2-bad-deploy`'s truth, as published.
    const EXAMPLE: &str = include_str!("../fixtures/bad-deploy.truth.json");

    const API: &str = "e07thgo5zl";
    const CART: &str = "checkout-api-GetCartFunction-lbrH2NstH7bE";
    const TABLE: &str = "checkout-api-CartsTable-OWBZ3Y5ALZU6";

    fn truth() -> Truth {
        Truth::parse("example", EXAMPLE.as_bytes()).unwrap()
    }

    fn anomaly(kind: &str, resource: &str, logical: &str) -> AnomalyDto {
        AnomalyDto {
            id: format!("a-{resource}"),
            severity: "MEDIUM".into(),
            kind: kind.into(),
            resource_type: "AWS::Lambda::Function".into(),
            resource_name: resource.into(),
            logical_resource_id: logical.into(),
            namespace: "AWS/Lambda".into(),
            metric_name: "Errors".into(),
            stat: "Sum".into(),
            dimensions: Vec::new(),
            direction: "INCREASE".into(),
            observed: 10.0,
            expected: 0.3,
            peak: 20.0,
            start_time: "2026-02-10T20:52:00Z".into(),
            end_time: None,
            description: String::new(),
            observed_rate: None,
            expected_rate: None,
        }
    }

    fn insight(
        id: &str,
        start: &str,
        end: Option<&str>,
        open: &str,
        close: Option<&str>,
    ) -> InsightDto {
        InsightDto {
            id: id.into(),
            name: format!("insight {id}"),
            kind: "REACTIVE".into(),
            severity: "MEDIUM".into(),
            status: if close.is_some() { "CLOSED" } else { "ONGOING" }.into(),
            stack: "checkout-api".into(),
            start_time: start.into(),
            end_time: end.map(str::to_string),
            open_time: open.into(),
            close_time: close.map(str::to_string),
            anomalies: vec![anomaly("CAUSAL", CART, "GetCartFunction")],
            relevant_events: Vec::new(),
            recommendations: Vec::new(),
            primary_resource: None,
            probable_cause: None,
        }
    }

    fn deployment(resource: &str) -> RelevantEventDto {
        RelevantEventDto {
            time: "2026-02-10T20:50:52Z".into(),
            resource_name: resource.into(),
            resource_type: "AWS::Lambda::Function".into(),
            event_class: "DEPLOYMENT".into(),
            description: "GetCartFunction updated".into(),
        }
    }

    #[test]
    fn the_example_truth_file_loads_and_round_trips() {
        let t = truth();
        assert_eq!(t.stack, "checkout-api");
        assert_eq!(t.eval_start.to_string(), "2026-02-10T18:00:00Z");
        assert_eq!(t.resources.keys().count(), 4);
        let bad = t.incidents.iter().find(|i| i.kind == "bad_deploy").unwrap();
        assert!(bad.should_alert && bad.expect_event);
        assert_eq!(bad.deployed_resource.as_deref(), Some(CART));
        assert_eq!(
            bad.event_time.unwrap().to_string(),
            "2026-02-10T20:50:52.617Z"
        );
        assert_eq!(
            bad.details.as_ref().unwrap().get("error_rate"),
            Some(&0.062)
        );
        // Writing it again gives the same document.
        let again = Truth::parse("again", &t.to_json().unwrap()).unwrap();
        assert_eq!(again, t);
        let original: serde_json::Value = serde_json::from_str(EXAMPLE).unwrap();
        let written: serde_json::Value = serde_json::from_slice(&t.to_json().unwrap()).unwrap();
        assert_eq!(original, written);
    }

    #[test]
    fn malformed_truth_files_name_the_path_and_the_problem() {
        let bad_time = EXAMPLE.replace("2026-02-10T20:52:00Z", "yesterday");
        match Truth::parse("t.json", bad_time.as_bytes()) {
            Err(TruthError::Invalid { path, problem, .. }) => {
                assert_eq!(path, "incidents[1].onset");
                assert!(problem.contains("yesterday"), "{problem}");
            }
            other => panic!("expected an error, got {other:?}"),
        }
        let other_format = EXAMPLE.replace("stackwatch-scenario-truth/1", "something/2");
        assert!(matches!(
            Truth::parse("t.json", other_format.as_bytes()),
            Err(TruthError::Invalid { path, .. }) if path == "format"
        ));
        let backwards = EXAMPLE.replace(
            "\"end\": \"2026-02-10T21:42:00Z\"",
            "\"end\": \"2026-02-10T20:00:00Z\"",
        );
        assert!(matches!(
            Truth::parse("t.json", backwards.as_bytes()),
            Err(TruthError::Invalid { path, .. }) if path == "incidents[1].end"
        ));
    }

    #[test]
    fn a_good_insight_detects_names_links_and_closes() {
        let mut i = insight(
            "x",
            "2026-02-10T20:52:00Z",
            Some("2026-02-10T21:43:00Z"),
            "2026-02-10T20:55:00Z",
            Some("2026-02-10T22:00:00Z"),
        );
        i.relevant_events.push(deployment(CART));
        let s = score(&truth(), &[i]);
        let inc = &s.incidents[0];
        assert!(inc.detected);
        assert_eq!(inc.time_to_insight_secs, Some(180));
        assert_eq!(inc.primary_named, Some(true));
        assert_eq!(inc.event_linked, Some(true));
        assert_eq!(inc.closed_in_time, Some(true));
        assert_eq!(inc.close_delay_secs, Some(18 * 60));
        assert!(s.false_positives.is_empty());
    }

    #[test]
    fn resources_are_matched_by_alias_and_logical_id() {
        // The API named by its name, the deployment by its ARN.
        let mut i = insight(
            "x",
            "2026-02-10T20:52:00Z",
            None,
            "2026-02-10T20:55:00Z",
            None,
        );
        i.anomalies = vec![anomaly("CAUSAL", "checkout-api-rest", "")];
        i.relevant_events.push(deployment(
            "arn:aws:lambda:us-east-1:987100333328:function:checkout-api-GetCartFunction-lbrH2NstH7bE",
        ));
        let s = score(&truth(), &[i.clone()]);
        assert!(s.incidents[0].detected);
        // The API is affected but not the primary resource.
        assert_eq!(s.incidents[0].primary_named, Some(false));
        assert_eq!(s.incidents[0].event_linked, Some(true));
        // The function named only by its logical id.
        i.anomalies = vec![anomaly("CAUSAL", "some-other-name", "GetCartFunction")];
        assert_eq!(
            score(&truth(), &[i.clone()]).incidents[0].primary_named,
            Some(true)
        );
        // A resource the incident does not affect does not make it about it.
        i.anomalies = vec![anomaly("CAUSAL", TABLE, "CartsTable")];
        let s = score(&truth(), &[i]);
        assert!(!s.incidents[0].detected);
        assert_eq!(s.false_positives.len(), 1);
    }

    #[test]
    fn the_window_runs_from_five_minutes_before_onset_to_fifteen_after_end() {
        // Onset 20:52, end 21:42: the window is [20:47, 21:57).
        let check = |start: &str, end: &str, about: bool| {
            let i = insight("x", start, Some(end), start, Some(end));
            let s = score(&truth(), &[i]);
            assert_eq!(s.incidents[0].detected, about, "{start}..{end}");
        };
        check("2026-02-10T20:30:00Z", "2026-02-10T20:47:00Z", false);
        check("2026-02-10T20:30:00Z", "2026-02-10T20:48:00Z", true);
        check("2026-02-10T21:56:00Z", "2026-02-10T22:10:00Z", true);
        check("2026-02-10T21:57:00Z", "2026-02-10T22:10:00Z", false);
    }

    #[test]
    fn an_ongoing_insight_reaches_the_end_of_the_data_and_never_closed_in_time() {
        let i = insight(
            "x",
            "2026-02-10T19:00:00Z",
            None,
            "2026-02-10T19:05:00Z",
            None,
        );
        let s = score(&truth(), &[i]);
        let inc = &s.incidents[0];
        assert!(inc.detected);
        // Opened before the onset: the time to insight is negative.
        assert_eq!(inc.time_to_insight_secs, Some(-107 * 60));
        assert_eq!(inc.closed_in_time, Some(false));
        assert_eq!(inc.close_delay_secs, None);
        assert_eq!(inc.event_linked, Some(false));
    }

    #[test]
    fn the_lead_is_the_first_causal_anomaly_else_the_first() {
        let mut i = insight(
            "x",
            "2026-02-10T20:52:00Z",
            None,
            "2026-02-10T20:55:00Z",
            None,
        );
        i.anomalies = vec![
            anomaly("CONTEXTUAL", CART, "GetCartFunction"),
            anomaly("CAUSAL", API, "RestApi"),
        ];
        assert_eq!(
            score(&truth(), &[i.clone()]).incidents[0].primary_named,
            Some(false)
        );
        i.anomalies = vec![
            anomaly("CONTEXTUAL", CART, "GetCartFunction"),
            anomaly("CONTEXTUAL", API, "RestApi"),
        ];
        assert_eq!(score(&truth(), &[i]).incidents[0].primary_named, Some(true));
    }

    #[test]
    fn insights_about_benign_events_only_are_false_alarms() {
        // The blip at 19:24 on the table.
        let mut blip = insight(
            "blip",
            "2026-02-10T19:24:00Z",
            Some("2026-02-10T19:25:00Z"),
            "2026-02-10T19:30:00Z",
            Some("2026-02-10T19:40:00Z"),
        );
        blip.anomalies = vec![anomaly("CAUSAL", TABLE, "CartsTable")];
        // Something at 03:00 about nothing the truth lists.
        let mut stray = insight(
            "stray",
            "2026-02-11T03:00:00Z",
            Some("2026-02-11T03:10:00Z"),
            "2026-02-11T03:05:00Z",
            Some("2026-02-11T03:20:00Z"),
        );
        stray.anomalies = vec![anomaly("CAUSAL", API, "RestApi")];
        // A proactive insight and one wholly in the history are not judged.
        let mut proactive = stray.clone();
        proactive.id = "proactive".into();
        proactive.kind = "PROACTIVE".into();
        let mut history = stray.clone();
        history.id = "history".into();
        history.start_time = "2026-02-09T03:00:00Z".into();
        history.end_time = Some("2026-02-09T03:10:00Z".into());
        let s = score(&truth(), &[blip, stray, proactive, history]);
        assert_eq!(s.insights, 2);
        assert_eq!(s.proactive, 1);
        assert_eq!(s.false_positives.len(), 2);
        assert_eq!(s.false_positives[0].benign, vec!["b3".to_string()]);
        assert!(s.false_positives[1].benign.is_empty());
        let blip_score = s.benign.iter().find(|b| b.id == "b3").unwrap();
        assert!(blip_score.false_alarm);
        assert!(!s.incidents[0].detected);
    }

    #[test]
    fn an_insight_about_a_real_incident_is_no_false_alarm_for_a_benign_event_it_overlaps() {
        let mut t = truth();
        // A benign event on the same function during the incident.
        t.incidents.push(Incident {
            id: "b9".into(),
            kind: "isolated_error".into(),
            should_alert: false,
            expect_event: false,
            onset: parse_rfc3339("2026-02-10T21:00:00Z").unwrap(),
            end: parse_rfc3339("2026-02-10T21:01:00Z").unwrap(),
            primary_resource: CART.into(),
            affected_resources: vec![CART.into()],
            deployed_resource: None,
            event_time: None,
            rollback_time: None,
            co_deployed: None,
            metric: Some("Errors".into()),
            details: None,
            description: String::new(),
            expected_metrics: None,
        });
        let i = insight(
            "x",
            "2026-02-10T20:52:00Z",
            None,
            "2026-02-10T20:55:00Z",
            None,
        );
        let s = score(&t, &[i]);
        assert!(s.incidents[0].detected);
        assert!(s.false_positives.is_empty());
        assert!(s.benign.iter().all(|b| !b.false_alarm));
    }

    #[test]
    fn insights_with_unreadable_times_are_counted_not_matched() {
        let i = insight("x", "soon", None, "2026-02-10T20:55:00Z", None);
        let s = score(&truth(), &[i]);
        assert_eq!(s.malformed, 1);
        assert!(!s.incidents[0].detected);
    }

    #[test]
    fn summaries_aggregate_recall_false_positives_and_percentiles() {
        let good = insight(
            "x",
            "2026-02-10T20:52:00Z",
            Some("2026-02-10T21:43:00Z"),
            "2026-02-10T20:57:00Z",
            Some("2026-02-10T22:00:00Z"),
        );
        let mut stray = insight(
            "s",
            "2026-02-11T03:00:00Z",
            None,
            "2026-02-11T03:05:00Z",
            None,
        );
        stray.anomalies = vec![anomaly("CAUSAL", API, "RestApi")];
        let scores = vec![
            score(&truth(), std::slice::from_ref(&good)),
            score(&truth(), &[stray]),
            score(&truth(), &[]),
        ];
        let sum = summarize(&scores);
        assert_eq!((sum.incidents, sum.detected), (3, 1));
        assert!((sum.recall.unwrap() - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(sum.false_positives, 1);
        assert_eq!(sum.unexplained_false_positives, 1);
        assert!((sum.false_positives_per_day.unwrap() - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(sum.median_time_to_insight_secs, Some(300.0));
        assert_eq!(sum.primary_accuracy, Some(1.0));
        assert_eq!(sum.event_link_accuracy, Some(0.0));
        assert_eq!(sum.by_type.len(), 1);
        assert_eq!(sum.by_type[0].missed.len(), 2);
        let text = sum.to_string();
        assert!(
            text.contains("recall") && text.contains("bad_deploy"),
            "{text}"
        );
        let json = serde_json::to_value(&sum).unwrap();
        assert_eq!(json["detected"], 1);
    }

    #[test]
    fn nearest_rank_percentiles_pick_an_observed_value() {
        let mut v = vec![5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(nearest_rank(&mut v, 0.5), Some(3.0));
        assert_eq!(nearest_rank(&mut v, 0.9), Some(5.0));
        assert_eq!(nearest_rank(&mut v, 0.0), Some(1.0));
        assert_eq!(nearest_rank(&mut [], 0.5), None);
    }
}
