//! Scenario files (Contract 1): a stack's resources, metrics, events and
//! configurations in the shapes the AWS APIs return, read into domain
//! types, and served as a [`StackCatalog`] and a [`MetricSource`] that only
//! show what CloudWatch would have published by the clock's time.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use crate::domain::event::StackEvent;
use crate::domain::metric::{Dimension, MetricKey, Series};
use crate::domain::resource::{ConfigValue, Resource};
use crate::domain::stack::{StackSelection, StackSummary};
use crate::domain::time::{Civil, TimeRange, Timestamp};
use crate::ports::{Clock, FetchRequest, MetricSource, SourceError, StackCatalog};

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("{file}: cannot be read: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid scenario.
    #[error("{file}: at {path}: {problem}")]
    Invalid {
        /// The file.
        file: String,
        /// Where in the JSON, e.g. `metrics[3].Timestamps[17]`.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

/// One series of a scenario, sorted by time, one point per period.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioSeries {
    /// The series.
    pub key: MetricKey,
    /// Points sorted by time.
    pub points: Vec<(Timestamp, f64)>,
}

/// A scenario, read and checked.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Scenario {
    /// Where it came from (for messages).
    pub file: String,
    /// The stack's name.
    pub stack: String,
    /// The region, when given.
    pub region: Option<String>,
    /// Every resource of the stack.
    pub resources: Vec<Resource>,
    /// The series, in file order.
    pub series: Vec<ScenarioSeries>,
    /// Stack events, oldest first.
    pub events: Vec<StackEvent>,
    /// Describe-call output by physical id.
    pub configs: BTreeMap<String, ConfigValue>,
    /// Tags of the stack, when given.
    pub tags: Vec<(String, String)>,
}

impl Scenario {
    /// The first and last point times, if there is any point.
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        let first = self
            .series
            .iter()
            .filter_map(|s| s.points.first())
            .map(|p| p.0)
            .min()?;
        let last = self
            .series
            .iter()
            .filter_map(|s| s.points.last())
            .map(|p| p.0)
            .max()?;
        Some((first, last))
    }

    /// Number of points in all series.
    pub fn points(&self) -> usize {
        self.series.iter().map(|s| s.points.len()).sum()
    }

    /// The longest period among the series (60 when there is none).
    pub fn max_period(&self) -> i64 {
        self.series
            .iter()
            .map(|s| i64::from(s.key.period()))
            .max()
            .unwrap_or(60)
    }

    /// The period the scenario is replayed at: that of most of its series
    /// (the shortest of the most common ones), 60 when there is none. An
    /// export at five minutes is replayed at five minutes.
    pub fn period(&self) -> u32 {
        let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
        for s in &self.series {
            *counts.entry(s.key.period()).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by_key(|&(period, n)| (n, std::cmp::Reverse(period)))
            .map_or(60, |(period, _)| period)
    }

    /// The series at another period than [`Scenario::period`]: ingest asks
    /// for one period, so these are not replayed.
    pub fn off_period(&self) -> impl Iterator<Item = &ScenarioSeries> {
        let period = self.period();
        self.series.iter().filter(move |s| s.key.period() != period)
    }
}

#[derive(Deserialize)]
struct ScenarioDto {
    stack: String,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    resources: Vec<ResourceDto>,
    #[serde(default)]
    metrics: Vec<MetricDto>,
    #[serde(default)]
    events: Vec<EventDto>,
    #[serde(default)]
    configurations: BTreeMap<String, serde_json::Value>,
    #[serde(default, rename = "Tags", alias = "tags")]
    tags: Vec<TagDto>,
}

#[derive(Deserialize)]
struct TagDto {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Value")]
    value: String,
}

#[derive(Deserialize)]
struct ResourceDto {
    #[serde(rename = "LogicalResourceId")]
    logical: String,
    #[serde(rename = "PhysicalResourceId", default)]
    physical: Option<String>,
    #[serde(rename = "ResourceType")]
    resource_type: String,
}

#[derive(Deserialize)]
struct DimensionDto {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Value")]
    value: String,
}

#[derive(Deserialize)]
struct MetricDto {
    #[serde(rename = "Namespace")]
    namespace: String,
    #[serde(rename = "MetricName")]
    name: String,
    #[serde(rename = "Dimensions", default)]
    dimensions: Vec<DimensionDto>,
    #[serde(rename = "Stat")]
    stat: String,
    #[serde(rename = "Period")]
    period: u32,
    #[serde(rename = "Timestamps")]
    timestamps: Vec<Rfc3339>,
    #[serde(rename = "Values")]
    values: Vec<f64>,
}

#[derive(Deserialize)]
struct EventDto {
    #[serde(rename = "Timestamp")]
    time: Rfc3339,
    #[serde(rename = "LogicalResourceId")]
    logical: String,
    #[serde(rename = "PhysicalResourceId", default)]
    physical: Option<String>,
    #[serde(rename = "ResourceType")]
    resource_type: String,
    #[serde(rename = "ResourceStatus")]
    status: String,
    #[serde(rename = "ResourceStatusReason", default)]
    reason: Option<String>,
}

/// An RFC 3339 timestamp, refused with a clear message when malformed.
struct Rfc3339(Timestamp);

impl<'de> Deserialize<'de> for Rfc3339 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Rfc3339;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an RFC 3339 timestamp such as \"2026-03-01T00:00:00Z\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Rfc3339, E> {
                parse_rfc3339(s).map(Rfc3339).ok_or_else(|| {
                    E::custom(format!(
                        "{s:?} is not an RFC 3339 timestamp such as \"2026-03-01T00:00:00Z\""
                    ))
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// Parses an RFC 3339 timestamp to whole seconds (fractions are dropped).
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    // Fast path for the common `YYYY-MM-DDTHH:MM:SSZ`.
    let b = s.as_bytes();
    if b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
    {
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let mut n = 0i64;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return None;
                }
                n = n * 10 + i64::from(c - b'0');
            }
            Some(n)
        };
        let (y, mo, d, h, mi, se) = (
            num(0..4)?,
            num(5..7)?,
            num(8..10)?,
            num(11..13)?,
            num(14..16)?,
            num(17..19)?,
        );
        if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
            return None;
        }
        let civil = Civil {
            year: y,
            month: mo as u8,
            day: d as u8,
            hour: h as u8,
            minute: mi as u8,
            second: se as u8,
        };
        let t = Timestamp::from_civil(civil);
        // Reject impossible dates such as February 30th.
        return (t.civil().day == civil.day).then_some(t);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|dt| Timestamp::from_secs(dt.timestamp()))
}

/// Converts JSON into the domain's configuration value.
pub fn config_value(v: &serde_json::Value) -> ConfigValue {
    match v {
        serde_json::Value::Null => ConfigValue::Null,
        serde_json::Value::Bool(b) => ConfigValue::Bool(*b),
        serde_json::Value::Number(n) => ConfigValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => ConfigValue::Text(s.clone()),
        serde_json::Value::Array(a) => ConfigValue::List(a.iter().map(config_value).collect()),
        serde_json::Value::Object(m) => ConfigValue::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), config_value(v)))
                .collect(),
        ),
    }
}

/// Reads and checks a scenario file.
///
/// # Errors
///
/// [`ScenarioError`] naming the file, the JSON path and the problem.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ScenarioError::Io {
        file: file.clone(),
        source,
    })?;
    parse(&file, &bytes)
}

/// Checks and converts the bytes of a scenario; `file` names it in errors.
///
/// # Errors
///
/// [`ScenarioError::Invalid`] naming the JSON path and the problem.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Scenario, ScenarioError> {
    let invalid = |path: String, problem: String| ScenarioError::Invalid {
        file: file.to_string(),
        path,
        problem,
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid(
            "the top level".into(),
            "the file is empty; a scenario is a JSON object with at least a \"stack\"".into(),
        ));
    }
    let dto: ScenarioDto = crate::document::parse(bytes).map_err(|p| invalid(p.path, p.problem))?;

    if dto.stack.trim().is_empty() {
        return Err(invalid("stack".into(), "the stack name is empty".into()));
    }
    let resources = dto
        .resources
        .into_iter()
        .map(|r| {
            let physical = r.physical.unwrap_or_else(|| r.logical.clone());
            Resource::new(r.logical, physical, r.resource_type)
        })
        .collect();

    let mut series: Vec<ScenarioSeries> = Vec::with_capacity(dto.metrics.len());
    let mut by_key: HashMap<MetricKey, usize> = HashMap::new();
    for (i, m) in dto.metrics.into_iter().enumerate() {
        if m.timestamps.len() != m.values.len() {
            return Err(invalid(
                format!("metrics[{i}]"),
                format!(
                    "Timestamps has {} entries but Values has {}",
                    m.timestamps.len(),
                    m.values.len()
                ),
            ));
        }
        if m.period == 0 {
            return Err(invalid(
                format!("metrics[{i}].Period"),
                "the period must be a positive number of seconds".into(),
            ));
        }
        if let Some(j) = m.values.iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                format!("metrics[{i}].Values[{j}]"),
                "not a finite number".into(),
            ));
        }
        let key = MetricKey::new(
            m.namespace,
            m.name,
            m.dimensions
                .into_iter()
                .map(|d| Dimension::new(d.name, d.value))
                .collect(),
            m.stat,
            m.period,
        );
        let period = i64::from(m.period);
        let mut points: Vec<(Timestamp, f64)> = m
            .timestamps
            .into_iter()
            .map(|t| t.0.floor(period))
            .zip(m.values)
            .collect();
        points.sort_by_key(|p| p.0);
        // One point per period; the later entry of the file wins.
        points.dedup_by(|later, earlier| {
            if later.0 == earlier.0 {
                earlier.1 = later.1;
                true
            } else {
                false
            }
        });
        match by_key.get(&key) {
            Some(&j) => {
                let merged = &mut series[j].points;
                merged.extend(points);
                merged.sort_by_key(|p| p.0);
                merged.dedup_by_key(|p| p.0);
            }
            None => {
                by_key.insert(key.clone(), series.len());
                series.push(ScenarioSeries { key, points });
            }
        }
    }

    let mut events: Vec<StackEvent> = dto
        .events
        .into_iter()
        .map(|e| StackEvent {
            time: e.time.0,
            resource: Resource::new(
                e.logical.clone(),
                e.physical.unwrap_or(e.logical),
                e.resource_type,
            ),
            status: e.status,
            reason: e.reason,
        })
        .collect();
    events.sort();

    Ok(Scenario {
        file: file.to_string(),
        stack: dto.stack,
        region: dto.region,
        resources,
        series,
        events,
        configs: dto
            .configurations
            .iter()
            .map(|(k, v)| (k.clone(), config_value(v)))
            .collect(),
        tags: dto.tags.into_iter().map(|t| (t.key, t.value)).collect(),
    })
}

/// Serves scenarios as CloudFormation and CloudWatch would have at the
/// clock's time: a point of the period starting at `t` is published at
/// `t + period + publish_delay`; an event is visible once it happened.
#[derive(Debug)]
pub struct ScenarioSource<C> {
    scenarios: Vec<Scenario>,
    index: HashMap<MetricKey, (usize, usize)>,
    clock: C,
    publish_delay: i64,
}

/// Seconds after a period ends until CloudWatch has published its point, as
/// the replay assumes.
pub const DEFAULT_PUBLISH_DELAY: i64 = 60;

impl<C: Clock> ScenarioSource<C> {
    /// A source over `scenarios`, showing what is published by `clock`.
    pub fn new(scenarios: Vec<Scenario>, clock: C, publish_delay: i64) -> Self {
        let mut index = HashMap::new();
        for (i, s) in scenarios.iter().enumerate() {
            for (j, series) in s.series.iter().enumerate() {
                index.entry(series.key.clone()).or_insert((i, j));
            }
        }
        Self {
            scenarios,
            index,
            clock,
            publish_delay,
        }
    }

    /// The scenarios served.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    fn scenario(&self, stack: &str) -> Result<&Scenario, SourceError> {
        self.scenarios
            .iter()
            .find(|s| s.stack == stack)
            .ok_or_else(|| SourceError::NotFound {
                what: format!("stack {stack}"),
            })
    }
}

impl<C: Clock + Send + Sync> StackCatalog for ScenarioSource<C> {
    async fn list_stacks(
        &self,
        selection: &StackSelection,
    ) -> Result<Vec<StackSummary>, SourceError> {
        Ok(self
            .scenarios
            .iter()
            .map(|s| StackSummary {
                name: s.stack.clone(),
                status: "UPDATE_COMPLETE".into(),
                tags: s.tags.clone(),
            })
            .filter(|s| selection.matches(s))
            .collect())
    }

    async fn resources(&self, stack: &str) -> Result<Vec<Resource>, SourceError> {
        Ok(self.scenario(stack)?.resources.clone())
    }

    async fn events(&self, stack: &str, since: Timestamp) -> Result<Vec<StackEvent>, SourceError> {
        let now = self.clock.now();
        Ok(self
            .scenario(stack)?
            .events
            .iter()
            .filter(|e| e.time >= since && e.time <= now)
            .cloned()
            .collect())
    }

    async fn configuration(&self, resource: &Resource) -> Result<Option<ConfigValue>, SourceError> {
        Ok(self
            .scenarios
            .iter()
            .find_map(|s| s.configs.get(&resource.physical_id))
            .cloned())
    }
}

impl<C: Clock + Send + Sync> MetricSource for ScenarioSource<C> {
    async fn fetch(&self, requests: &[FetchRequest]) -> Result<Vec<Series>, SourceError> {
        let now = self.clock.now();
        Ok(requests
            .iter()
            .map(|req| {
                let period = i64::from(req.key.period());
                // Published by now: t + period + delay <= now.
                let published_before = now.add(-(period + self.publish_delay) + 1);
                let range = TimeRange::new(req.range.start, req.range.end.min(published_before));
                let points = match self.index.get(&req.key) {
                    Some(&(i, j)) if !range.is_empty() => {
                        let pts = &self.scenarios[i].series[j].points;
                        let from = pts.partition_point(|p| p.0 < range.start);
                        let to = pts.partition_point(|p| p.0 < range.end);
                        pts[from..to.max(from)].to_vec()
                    }
                    _ => Vec::new(),
                };
                Series {
                    key: req.key.clone(),
                    points,
                }
            })
            .collect())
    }

    async fn discover(
        &self,
        namespace: &str,
        dimension: &Dimension,
    ) -> Result<Vec<MetricKey>, SourceError> {
        Ok(self
            .index
            .keys()
            .filter(|k| {
                k.namespace() == namespace
                    && k.dimension(&dimension.name) == Some(dimension.value.as_str())
            })
            .cloned()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> (String, String) {
        match parse("s.json", text.as_bytes()) {
            Err(ScenarioError::Invalid { path, problem, .. }) => (path, problem),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    const MINIMAL: &str = r#"{"stack": "s", "resources": [], "metrics": [
        {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
         "Stat": "Sum", "Period": 60,
         "Timestamps": ["2026-03-01T00:01:00Z", "2026-03-01T00:00:00Z"], "Values": [2, 1]}]}"#;

    #[test]
    fn a_valid_scenario_is_read_with_points_sorted() {
        let s = parse("s.json", MINIMAL.as_bytes()).unwrap();
        assert_eq!(s.stack, "s");
        let pts = &s.series[0].points;
        assert_eq!(pts.len(), 2);
        assert!(pts[0].0 < pts[1].0);
        assert_eq!(pts[0].1, 1.0);
    }

    #[test]
    fn malformed_scenarios_name_the_path_and_the_problem() {
        let bad_time = MINIMAL.replace("2026-03-01T00:01:00Z", "2026-13-01T00:01:00Z");
        let (path, msg) = problem(&bad_time);
        assert_eq!(path, "metrics[0].Timestamps[0]");
        assert!(msg.contains("2026-13-01T00:01:00Z"), "{msg}");

        let (path, msg) = problem(&MINIMAL.replace("[2, 1]", "[2]"));
        assert_eq!(path, "metrics[0]");
        assert!(
            msg.contains("Timestamps has 2 entries but Values has 1"),
            "{msg}"
        );

        let (path, _) = problem(&MINIMAL.replace("[2, 1]", "[2, null]"));
        assert_eq!(path, "metrics[0].Values[1]");

        let (path, msg) = problem(r#"{"resources": []}"#);
        assert_eq!(path, "the top level");
        assert!(msg.contains("stack"), "{msg}");

        let (path, _) = problem(r#"{"stack": "s", "metrics": [{"Namespace": 3}]}"#);
        assert_eq!(path, "metrics[0].Namespace");

        let (path, _) = problem("");
        assert_eq!(path, "the top level");

        let (_, msg) = problem(r#"{"stack": "s", "metrics": ["#);
        assert!(msg.contains("EOF"), "{msg}");
    }

    /// A scenario of one series per `(name, period)`.
    fn of_periods(series: &[(&str, u32)]) -> Scenario {
        let metrics: Vec<String> = series
            .iter()
            .map(|(name, period)| {
                format!(
                    r#"{{"Namespace": "AWS/Lambda", "MetricName": "{name}", "Dimensions": [{{"Name": "FunctionName", "Value": "f"}}],
                        "Stat": "Sum", "Period": {period}, "Timestamps": ["2026-03-01T00:00:00Z"], "Values": [1]}}"#
                )
            })
            .collect();
        let text = format!(r#"{{"stack": "s", "metrics": [{}]}}"#, metrics.join(","));
        parse("s.json", text.as_bytes()).unwrap()
    }

    #[test]
    fn a_scenario_is_replayed_at_the_period_of_most_of_its_series() {
        let s = of_periods(&[("Errors", 300), ("Invocations", 300), ("Throttles", 60)]);
        assert_eq!(s.period(), 300);
        let off: Vec<&str> = s.off_period().map(|x| x.key.name()).collect();
        assert_eq!(off, ["Throttles"]);
        // A tie goes to the shorter period; no series at all is 60.
        assert_eq!(
            of_periods(&[("Errors", 300), ("Invocations", 60)]).period(),
            60
        );
        assert_eq!(of_periods(&[]).period(), 60);
        assert_eq!(
            parse("s.json", MINIMAL.as_bytes())
                .unwrap()
                .off_period()
                .count(),
            0
        );
    }

    #[test]
    fn an_empty_scenario_is_not_an_error() {
        let s = parse("s.json", br#"{"stack": "s"}"#).unwrap();
        assert!(s.series.is_empty() && s.span().is_none());
    }

    #[test]
    fn timestamps_parse_with_and_without_fractions() {
        assert_eq!(
            parse_rfc3339("2026-04-28T11:47:32.050Z")
                .unwrap()
                .to_string(),
            "2026-04-28T11:47:32Z"
        );
        assert_eq!(
            parse_rfc3339("2026-04-28T13:47:32+02:00")
                .unwrap()
                .to_string(),
            "2026-04-28T11:47:32Z"
        );
        assert!(parse_rfc3339("2026-02-30T00:00:00Z").is_none());
        assert!(parse_rfc3339("yesterday").is_none());
    }
}
