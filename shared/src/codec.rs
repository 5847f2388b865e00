//! Storage encodings: how the analyzer's insights, a stack's inventory and
//! metric windows are written to a store and read back exactly.
//!
//! The wire DTOs of [`crate::messages`] are made for people and round their
//! numbers; what is stored here must come back bit for bit, or an analysis
//! that is repeated would not be idempotent. So insights are stored as JSON
//! built from the same field names plus the exact values the DTOs leave out
//! (`lastAbnormal`, `score`, unrounded means, the period), and a metric's
//! `&'static MetricSpec` is found again with
//! [`crate::domain::catalog::find_spec`]. Windows and per-metric progress are
//! small, versioned binary layouts, because they are written at every tick.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::catalog::{
    Direction, MetricSpec, WatchedMetric, find_spec, watch_entry_traffic,
};
use crate::domain::event::{EventClass, RelevantEvent, StackEvent};
use crate::domain::explain::{Action, Cause, ProbableCause};
use crate::domain::insight::{
    Anomaly, AnomalyRole, Insight, InsightKind, InsightStatus, Rate, Recommendation, Severity,
    StackInsights,
};
use crate::domain::inventory::{StackInventory, TrackedMetric};
use crate::domain::metric::{Dimension, MetricKey};
use crate::domain::proactive::Peaks;
use crate::domain::resource::{ConfigValue, Resource, ResourceKind};
use crate::domain::time::{TimeRange, Timestamp};
use crate::domain::window::MetricWindow;
use crate::messages::{DimensionDto, RecommendationDto};

/// Stored data that cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The JSON does not have the expected shape.
    #[error("{what} is not valid JSON of the expected shape")]
    Json {
        /// What was being decoded.
        what: &'static str,
        /// Why, with the path of the offending field.
        #[source]
        source: serde_path_to_error::Error<serde_json::Error>,
    },
    /// A value is impossible.
    #[error("{what} is invalid: {detail}")]
    Invalid {
        /// What was being decoded.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// A [`CodecError::Invalid`] of `what`.
pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> CodecError {
    CodecError::Invalid {
        what,
        detail: detail.into(),
    }
}

fn from_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, CodecError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|source| CodecError::Json { what, source })
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail: every map key is a string.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Floats that may not be finite: JSON has no NaN, so they travel as null.
mod lossy_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

// ---------------------------------------------------------------------------
// Metric keys and resources.

/// A metric key as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredKey {
    namespace: String,
    metric_name: String,
    dimensions: Vec<DimensionDto>,
    stat: String,
    period: u32,
}

impl From<&MetricKey> for StoredKey {
    fn from(k: &MetricKey) -> Self {
        Self {
            namespace: k.namespace().into(),
            metric_name: k.name().into(),
            dimensions: k
                .dimensions()
                .iter()
                .map(|d| DimensionDto {
                    name: d.name.clone(),
                    value: d.value.clone(),
                })
                .collect(),
            stat: k.stat().into(),
            period: k.period(),
        }
    }
}

impl From<StoredKey> for MetricKey {
    fn from(k: StoredKey) -> Self {
        MetricKey::new(
            k.namespace,
            k.metric_name,
            k.dimensions
                .into_iter()
                .map(|d| Dimension::new(d.name, d.value))
                .collect(),
            k.stat,
            k.period,
        )
    }
}

/// A metric key as JSON bytes (stored beside a baseline).
pub fn encode_key(key: &MetricKey) -> Vec<u8> {
    to_json(&StoredKey::from(key))
}

/// Reads back [`encode_key`].
///
/// # Errors
///
/// [`CodecError`] when the bytes are not a stored key.
pub fn decode_key(bytes: &[u8]) -> Result<MetricKey, CodecError> {
    from_json::<StoredKey>("metric key", bytes).map(MetricKey::from)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredResource {
    logical_resource_id: String,
    physical_resource_id: String,
    resource_type: String,
}

impl From<&Resource> for StoredResource {
    fn from(r: &Resource) -> Self {
        Self {
            logical_resource_id: r.logical_id.clone(),
            physical_resource_id: r.physical_id.clone(),
            resource_type: r.resource_type.clone(),
        }
    }
}

impl From<StoredResource> for Resource {
    fn from(r: StoredResource) -> Self {
        Resource::new(
            r.logical_resource_id,
            r.physical_resource_id,
            r.resource_type,
        )
    }
}

fn spec_for(resource: &Resource, key: &MetricKey) -> Result<&'static MetricSpec, CodecError> {
    let kind = ResourceKind::from_type(&resource.resource_type).ok_or_else(|| {
        invalid(
            "metric",
            format!("resource type {} has no metrics", resource.resource_type),
        )
    })?;
    find_spec(kind, key.namespace(), key.name(), key.stat()).ok_or_else(|| {
        invalid(
            "metric",
            format!("{} is not in the metric catalog", key.id()),
        )
    })
}

/// A configuration as JSON.
pub fn config_to_json(v: &ConfigValue) -> serde_json::Value {
    match v {
        ConfigValue::Null => serde_json::Value::Null,
        ConfigValue::Bool(b) => serde_json::Value::Bool(*b),
        ConfigValue::Number(n) => serde_json::Number::from_f64(*n)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        ConfigValue::Text(s) => serde_json::Value::String(s.clone()),
        ConfigValue::List(l) => serde_json::Value::Array(l.iter().map(config_to_json).collect()),
        ConfigValue::Map(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), config_to_json(v)))
                .collect(),
        ),
    }
}

// ---------------------------------------------------------------------------
// Insights.

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAnomaly {
    id: String,
    severity: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(flatten)]
    resource: StoredResource,
    #[serde(flatten)]
    key: StoredKey,
    direction: String,
    start_time: i64,
    end_time: Option<i64>,
    last_abnormal: i64,
    #[serde(with = "lossy_f64")]
    observed: f64,
    #[serde(with = "lossy_f64")]
    expected: f64,
    #[serde(with = "lossy_f64")]
    peak: f64,
    #[serde(with = "lossy_f64")]
    score: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rate: Option<StoredRate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredRate {
    #[serde(with = "lossy_f64")]
    observed: f64,
    #[serde(with = "lossy_f64")]
    expected: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredCause {
    cause: String,
    primary: StoredResource,
    evidence: String,
    action: String,
    suggestion: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StoredProactive {
    key: String,
    insight: StoredInsight,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredEvent {
    time: i64,
    #[serde(flatten)]
    resource: StoredResource,
    event_class: String,
    description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredInsight {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    severity: String,
    status: String,
    stack: String,
    start_time: i64,
    end_time: Option<i64>,
    open_time: i64,
    close_time: Option<i64>,
    anomalies: Vec<StoredAnomaly>,
    relevant_events: Vec<StoredEvent>,
    recommendations: Vec<RecommendationDto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cause: Option<StoredCause>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredInsights {
    format_version: u32,
    open: Option<StoredInsight>,
    pending: Vec<StoredAnomaly>,
    #[serde(default)]
    proactive: Vec<StoredProactive>,
}

const INSIGHTS_VERSION: u32 = 1;

fn store_anomaly(a: &Anomaly) -> StoredAnomaly {
    StoredAnomaly {
        id: a.id.clone(),
        severity: a.severity.as_str().into(),
        kind: a.role.as_str().into(),
        resource: StoredResource::from(&a.resource),
        key: StoredKey::from(&a.metric),
        direction: a.direction.as_str().into(),
        start_time: a.start.secs(),
        end_time: a.end.map(Timestamp::secs),
        last_abnormal: a.last_abnormal.secs(),
        observed: a.observed,
        expected: a.expected,
        peak: a.peak,
        score: a.score,
        rate: a.rate.map(|r| StoredRate {
            observed: r.observed,
            expected: r.expected,
        }),
    }
}

fn severity(text: &str) -> Result<Severity, CodecError> {
    Severity::parse(text).ok_or_else(|| invalid("insights", format!("unknown severity {text:?}")))
}

fn restore_anomaly(a: StoredAnomaly) -> Result<Anomaly, CodecError> {
    let resource = Resource::from(a.resource);
    let metric = MetricKey::from(a.key);
    let spec = spec_for(&resource, &metric)?;
    let direction = match a.direction.as_str() {
        "INCREASE" => Direction::Increase,
        "DECREASE" => Direction::Decrease,
        other => return Err(invalid("insights", format!("unknown direction {other:?}"))),
    };
    let role = match a.kind.as_str() {
        "CAUSAL" => AnomalyRole::Causal,
        "CONTEXTUAL" => AnomalyRole::Contextual,
        other => {
            return Err(invalid(
                "insights",
                format!("unknown anomaly type {other:?}"),
            ));
        }
    };
    Ok(Anomaly {
        id: a.id,
        metric,
        resource,
        spec,
        direction,
        severity: severity(&a.severity)?,
        role,
        start: Timestamp::from_secs(a.start_time),
        end: a.end_time.map(Timestamp::from_secs),
        last_abnormal: Timestamp::from_secs(a.last_abnormal),
        observed: a.observed,
        expected: a.expected,
        peak: a.peak,
        score: a.score,
        rate: a.rate.map(|r| Rate {
            observed: r.observed,
            expected: r.expected,
        }),
    })
}

fn event_class(text: &str) -> Result<EventClass, CodecError> {
    [
        EventClass::Deployment,
        EventClass::ConfigChange,
        EventClass::Infrastructure,
        EventClass::SecurityChange,
        EventClass::SchemaChange,
    ]
    .into_iter()
    .find(|c| c.as_str() == text)
    .ok_or_else(|| invalid("insights", format!("unknown event class {text:?}")))
}

fn store_insight(i: &Insight) -> StoredInsight {
    StoredInsight {
        id: i.id.clone(),
        name: i.name.clone(),
        kind: i.kind.as_str().into(),
        severity: i.severity.as_str().into(),
        status: i.status.as_str().into(),
        stack: i.stack.clone(),
        start_time: i.start.secs(),
        end_time: i.end.map(Timestamp::secs),
        open_time: i.open_time.secs(),
        close_time: i.close_time.map(Timestamp::secs),
        anomalies: i.anomalies.iter().map(store_anomaly).collect(),
        relevant_events: i
            .relevant_events
            .iter()
            .map(|e| StoredEvent {
                time: e.time.secs(),
                resource: StoredResource::from(&e.resource),
                event_class: e.class.as_str().into(),
                description: e.description.clone(),
            })
            .collect(),
        recommendations: i
            .recommendations
            .iter()
            .map(RecommendationDto::from)
            .collect(),
        cause: i.cause.as_ref().map(|c| StoredCause {
            cause: c.cause.as_str().into(),
            primary: StoredResource::from(&c.primary),
            evidence: c.evidence.clone(),
            action: c.action.as_str().into(),
            suggestion: c.suggestion.clone(),
        }),
    }
}

fn restore_insight(i: StoredInsight) -> Result<Insight, CodecError> {
    let kind = match i.kind.as_str() {
        "REACTIVE" => InsightKind::Reactive,
        "PROACTIVE" => InsightKind::Proactive,
        other => {
            return Err(invalid(
                "insights",
                format!("unknown insight type {other:?}"),
            ));
        }
    };
    let status = match i.status.as_str() {
        "ONGOING" => InsightStatus::Ongoing,
        "CLOSED" => InsightStatus::Closed,
        other => return Err(invalid("insights", format!("unknown status {other:?}"))),
    };
    Ok(Insight {
        id: i.id,
        name: i.name,
        kind,
        severity: severity(&i.severity)?,
        status,
        stack: i.stack,
        start: Timestamp::from_secs(i.start_time),
        end: i.end_time.map(Timestamp::from_secs),
        open_time: Timestamp::from_secs(i.open_time),
        close_time: i.close_time.map(Timestamp::from_secs),
        anomalies: i
            .anomalies
            .into_iter()
            .map(restore_anomaly)
            .collect::<Result<_, _>>()?,
        relevant_events: i
            .relevant_events
            .into_iter()
            .map(|e| {
                Ok(RelevantEvent {
                    time: Timestamp::from_secs(e.time),
                    resource: Resource::from(e.resource),
                    class: event_class(&e.event_class)?,
                    description: e.description,
                })
            })
            .collect::<Result<_, CodecError>>()?,
        recommendations: i
            .recommendations
            .into_iter()
            .map(|r| Recommendation {
                name: r.name,
                description: r.description,
                reason: r.reason,
                link: r.link,
            })
            .collect(),
        cause: i.cause.map(restore_cause).transpose()?,
    })
}

fn restore_cause(c: StoredCause) -> Result<ProbableCause, CodecError> {
    let cause = [
        Cause::OwnChange,
        Cause::SystemChange,
        Cause::LimitReached,
        Cause::ComponentFailure,
        Cause::DependencyFailure,
    ]
    .into_iter()
    .find(|k| k.as_str() == c.cause)
    .ok_or_else(|| invalid("insights", format!("unknown cause {:?}", c.cause)))?;
    let action = [
        Action::RollBack,
        Action::Block,
        Action::ScaleUp,
        Action::Restart,
        Action::Exclude,
    ]
    .into_iter()
    .find(|a| a.as_str() == c.action)
    .ok_or_else(|| invalid("insights", format!("unknown action {:?}", c.action)))?;
    Ok(ProbableCause {
        cause,
        primary: Resource::from(c.primary),
        evidence: c.evidence,
        action,
        suggestion: c.suggestion,
    })
}

/// A stack's insight lifecycle (open insight and pending anomalies) as JSON.
pub fn encode_insights(insights: &StackInsights) -> Vec<u8> {
    to_json(&StoredInsights {
        format_version: INSIGHTS_VERSION,
        open: insights.open.as_ref().map(store_insight),
        pending: insights.pending.iter().map(store_anomaly).collect(),
        proactive: insights
            .proactive
            .iter()
            .map(|(key, insight)| StoredProactive {
                key: key.clone(),
                insight: store_insight(insight),
            })
            .collect(),
    })
}

/// Reads back [`encode_insights`].
///
/// # Errors
///
/// [`CodecError`] when the bytes are not stored insights or name a metric
/// the catalog does not know.
pub fn decode_insights(bytes: &[u8]) -> Result<StackInsights, CodecError> {
    let stored: StoredInsights = from_json("insights", bytes)?;
    if stored.format_version != INSIGHTS_VERSION {
        return Err(invalid(
            "insights",
            format!("unknown format version {}", stored.format_version),
        ));
    }
    Ok(StackInsights {
        open: stored.open.map(restore_insight).transpose()?,
        pending: stored
            .pending
            .into_iter()
            .map(restore_anomaly)
            .collect::<Result<_, _>>()?,
        proactive: stored
            .proactive
            .into_iter()
            .map(|p| Ok((p.key, restore_insight(p.insight)?)))
            .collect::<Result<_, CodecError>>()?,
    })
}

/// The metric peaks of an analyzer state, as bytes: a count, then for each
/// metric its key ([`encode_key`]) and its peaks ([`Peaks::encode`]), each
/// preceded by its length.
pub fn encode_peaks(peaks: &BTreeMap<MetricKey, Peaks>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(peaks.len() as u32).to_le_bytes());
    for (key, p) in peaks {
        for part in [encode_key(key), p.encode()] {
            out.extend_from_slice(&(part.len() as u32).to_le_bytes());
            out.extend_from_slice(&part);
        }
    }
    out
}

/// Reads back [`encode_peaks`]; no bytes at all are no peaks.
///
/// # Errors
///
/// [`CodecError`] for truncated or invalid bytes.
pub fn decode_peaks(bytes: &[u8]) -> Result<BTreeMap<MetricKey, Peaks>, CodecError> {
    let mut out = BTreeMap::new();
    if bytes.is_empty() {
        return Ok(out);
    }
    let mut c = Cursor::new("peaks", bytes, 0);
    for _ in 0..c.u32_len()? {
        let key = decode_key(c.prefixed()?)?;
        let p = Peaks::decode(c.prefixed()?).map_err(|e| invalid("peaks", e.to_string()))?;
        out.insert(key, p);
    }
    c.finish()?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// Inventories.

/// What rarely changes in an inventory: resources, configurations and the
/// watched metrics. Written only when it changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredCatalog {
    format_version: u32,
    resources: Vec<StoredResource>,
    /// How many of `resources` are the stack's; the rest belong to metrics
    /// of resources that are no longer listed.
    listed: usize,
    configs: BTreeMap<String, serde_json::Value>,
    /// Watched metrics: the key and the index of its resource.
    metrics: Vec<(StoredKey, usize)>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredStackEvent {
    time: i64,
    #[serde(flatten)]
    resource: StoredResource,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// An inventory split by how often its parts change, so that a store
/// rewrites at each tick only what changed: `catalog` (resources,
/// configurations, watched metrics) and `events` change with deployments,
/// `progress` (how far each metric was fetched) at every tick.
#[derive(Clone, Debug, PartialEq)]
pub struct InventoryParts {
    /// Resources, configurations and watched metrics (JSON).
    pub catalog: Vec<u8>,
    /// Recent stack events (JSON).
    pub events: Vec<u8>,
    /// Per watched metric, in the catalog's order: fetched until and live
    /// from (binary, 16 bytes a metric).
    pub progress: Vec<u8>,
    /// The inventory's `updated`.
    pub updated: Option<Timestamp>,
}

const CATALOG_VERSION: u32 = 1;
const PROGRESS_VERSION: u8 = 1;
const NONE_TIME: i64 = i64::MIN;

/// Splits an inventory into its parts.
pub fn encode_inventory(inventory: &StackInventory) -> InventoryParts {
    let mut resources: Vec<StoredResource> = inventory
        .resources
        .iter()
        .map(StoredResource::from)
        .collect();
    let listed = resources.len();
    let mut metrics = Vec::with_capacity(inventory.metrics.len());
    for m in &inventory.metrics {
        let index = match inventory
            .resources
            .iter()
            .position(|r| r == &m.watched.resource)
        {
            Some(i) => i,
            None => {
                // A metric of a resource no longer listed keeps its own copy.
                resources.push(StoredResource::from(&m.watched.resource));
                resources.len() - 1
            }
        };
        metrics.push((StoredKey::from(&m.watched.key), index));
    }
    let catalog = StoredCatalog {
        format_version: CATALOG_VERSION,
        resources,
        listed,
        configs: inventory
            .configs
            .iter()
            .map(|(k, v)| (k.clone(), config_to_json(v)))
            .collect(),
        metrics,
    };
    let events: Vec<StoredStackEvent> = inventory
        .events
        .iter()
        .map(|e| StoredStackEvent {
            time: e.time.secs(),
            resource: StoredResource::from(&e.resource),
            status: e.status.clone(),
            reason: e.reason.clone(),
        })
        .collect();
    let mut progress = Vec::with_capacity(1 + 16 * inventory.metrics.len());
    progress.push(PROGRESS_VERSION);
    for m in &inventory.metrics {
        let until = m.fetched_until.map_or(NONE_TIME, Timestamp::secs);
        progress.extend_from_slice(&until.to_le_bytes());
        progress.extend_from_slice(&m.live_from.secs().to_le_bytes());
    }
    InventoryParts {
        catalog: to_json(&catalog),
        events: to_json(&events),
        progress,
        updated: inventory.updated,
    }
}

/// The events part of an inventory keeping only the newest events that fit
/// in `max_bytes` (a store's item limit), and how many were left out.
pub fn encode_events_within(events: &[StackEvent], max_bytes: usize) -> (Vec<u8>, usize) {
    let mut from = 0;
    loop {
        let stored: Vec<StoredStackEvent> = events[from..]
            .iter()
            .map(|e| StoredStackEvent {
                time: e.time.secs(),
                resource: StoredResource::from(&e.resource),
                status: e.status.clone(),
                reason: e.reason.clone(),
            })
            .collect();
        let bytes = to_json(&stored);
        if bytes.len() <= max_bytes || from >= events.len() {
            return (bytes, from);
        }
        // Drop the oldest tenth (events are oldest first) and try again.
        from += (events.len() - from).div_ceil(10);
    }
}

/// Rebuilds an inventory from its parts.
///
/// # Errors
///
/// [`CodecError`] when a part cannot be decoded or the parts do not belong
/// together (a progress for another number of metrics).
pub fn decode_inventory(stack: &str, parts: &InventoryParts) -> Result<StackInventory, CodecError> {
    let catalog: StoredCatalog = from_json("inventory catalog", &parts.catalog)?;
    if catalog.format_version != CATALOG_VERSION {
        return Err(invalid(
            "inventory catalog",
            format!("unknown format version {}", catalog.format_version),
        ));
    }
    let events: Vec<StoredStackEvent> = from_json("inventory events", &parts.events)?;
    let progress = &parts.progress;
    if progress.first() != Some(&PROGRESS_VERSION) {
        return Err(invalid("inventory progress", "unknown format version"));
    }
    if progress.len() != 1 + 16 * catalog.metrics.len() {
        return Err(invalid(
            "inventory progress",
            format!(
                "{} bytes for {} metrics",
                progress.len(),
                catalog.metrics.len()
            ),
        ));
    }
    let all: Vec<Resource> = catalog.resources.into_iter().map(Resource::from).collect();
    let mut metrics = Vec::with_capacity(catalog.metrics.len());
    for (i, (key, index)) in catalog.metrics.into_iter().enumerate() {
        let resource = all
            .get(index)
            .ok_or_else(|| invalid("inventory catalog", format!("no resource #{index}")))?
            .clone();
        let key = MetricKey::from(key);
        let spec = spec_for(&resource, &key)?;
        let at = 1 + 16 * i;
        let until = read_i64(progress, at);
        let live = read_i64(progress, at + 8);
        metrics.push(TrackedMetric {
            watched: WatchedMetric {
                key,
                resource,
                spec,
            },
            fetched_until: (until != NONE_TIME).then(|| Timestamp::from_secs(until)),
            live_from: Timestamp::from_secs(live),
        });
    }
    // Resources of metrics only (see `encode_inventory`) are not listed.
    let resources = all.get(..catalog.listed).unwrap_or(&all).to_vec();
    let configs: BTreeMap<String, ConfigValue> = catalog
        .configs
        .iter()
        .map(|(k, v)| (k.clone(), crate::adapters::scenario::config_value(v)))
        .collect();
    // Specs are found by name: the stack's traffic is found again too.
    watch_entry_traffic(
        &mut metrics
            .iter_mut()
            .map(|m| &mut m.watched)
            .collect::<Vec<_>>(),
        &resources,
        &configs,
    );
    Ok(StackInventory {
        stack: stack.to_string(),
        resources,
        configs,
        metrics,
        events: events
            .into_iter()
            .map(|e| StackEvent {
                time: Timestamp::from_secs(e.time),
                resource: Resource::from(e.resource),
                status: e.status,
                reason: e.reason,
            })
            .collect(),
        updated: parts.updated,
    })
}

fn read_i64(bytes: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    if let Some(s) = bytes.get(at..at + 8) {
        b.copy_from_slice(s);
    }
    i64::from_le_bytes(b)
}

// ---------------------------------------------------------------------------
// Windows.

/// Version 1 spent 16 bytes on every point; version 2 (written now) spends
/// about 3 on a count and 10 on an average. Both decode.
const WINDOW_VERSION_1: u8 = 1;
const WINDOW_VERSION: u8 = 2;

/// How a point's value is stored in version 2.
const VALUE_INT: u8 = 0;
const VALUE_F32: u8 = 1;
const VALUE_F64: u8 = 2;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_signed(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)).cast_unsigned());
}

/// Reads stored bytes front to back; every error names what was being
/// read and the byte where it went wrong.
pub(crate) struct Cursor<'a> {
    what: &'static str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Reads `bytes` of `what` (for errors) from byte `at`.
    pub(crate) fn new(what: &'static str, bytes: &'a [u8], at: usize) -> Self {
        Self { what, bytes, at }
    }

    fn fail(&self) -> CodecError {
        invalid(
            self.what,
            format!("truncated or invalid at byte {}", self.at),
        )
    }

    /// The next `n` bytes.
    pub(crate) fn slice(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.at.checked_add(n).ok_or_else(|| self.fail())?;
        let s = self.bytes.get(self.at..end).ok_or_else(|| self.fail())?;
        self.at = end;
        Ok(s)
    }

    /// A little-endian `u32` length or count.
    pub(crate) fn u32_len(&mut self) -> Result<usize, CodecError> {
        Ok(u32::from_le_bytes(self.array()?) as usize)
    }

    /// The next `n` bytes, after their `u32` length.
    pub(crate) fn prefixed(&mut self) -> Result<&'a [u8], CodecError> {
        let n = self.u32_len()?;
        self.slice(n)
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(&self) -> Result<(), CodecError> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(invalid(
                self.what,
                format!("{} bytes where {} were expected", self.bytes.len(), self.at),
            ))
        }
    }

    fn byte(&mut self) -> Result<u8, CodecError> {
        let b = *self.bytes.get(self.at).ok_or_else(|| self.fail())?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, CodecError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.fail())
    }

    fn signed(&mut self) -> Result<i64, CodecError> {
        let v = self.varint()?;
        Ok((v >> 1).cast_signed() ^ -((v & 1).cast_signed()))
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], CodecError> {
        let mut b = [0u8; N];
        b.copy_from_slice(self.slice(N)?);
        Ok(b)
    }

    /// A count of items each at least one byte long: more than the bytes
    /// left is corruption, refused before anything is allocated.
    fn count(&mut self) -> Result<usize, CodecError> {
        let n = self.varint()?;
        let left = (self.bytes.len() - self.at) as u64;
        if n > left {
            return Err(self.fail());
        }
        Ok(n as usize)
    }
}

/// A window as compact bytes: its coverage and its points, each point as
/// the time since the previous one and its value (whole numbers as
/// varints, others as `f32` when that is exact, else `f64`). Decoding gives
/// back the very same bits.
pub fn encode_window(w: &MetricWindow) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + 16 * w.coverage().len() + 4 * w.points().len());
    out.push(WINDOW_VERSION);
    put_varint(&mut out, w.coverage().len() as u64);
    let mut prev = 0i64;
    for r in w.coverage() {
        put_signed(&mut out, r.start.secs().wrapping_sub(prev));
        put_signed(&mut out, r.end.secs().wrapping_sub(r.start.secs()));
        prev = r.end.secs();
    }
    put_varint(&mut out, w.points().len() as u64);
    let mut prev = 0i64;
    for &(t, v) in w.points() {
        put_signed(&mut out, t.secs().wrapping_sub(prev));
        prev = t.secs();
        let whole = v as u64;
        if (0.0..9.0e15).contains(&v) && (whole as f64).to_bits() == v.to_bits() {
            out.push(VALUE_INT);
            put_varint(&mut out, whole);
        } else if f64::from(v as f32).to_bits() == v.to_bits() {
            out.push(VALUE_F32);
            out.extend_from_slice(&(v as f32).to_le_bytes());
        } else {
            out.push(VALUE_F64);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Reads back [`encode_window`] (either version); `period` aligns the
/// points as they were.
///
/// # Errors
///
/// [`CodecError::Invalid`] when the bytes are truncated or of another
/// version.
pub fn decode_window(bytes: &[u8], period: i64) -> Result<MetricWindow, CodecError> {
    let (ranges, points) = match bytes.first() {
        Some(&WINDOW_VERSION_1) => decode_window_v1(bytes)?,
        Some(&WINDOW_VERSION) => decode_window_v2(bytes)?,
        _ => return Err(invalid("metric window", "unknown format version")),
    };
    // An empty range covers nothing: this only records the points.
    let empty = TimeRange::new(Timestamp::default(), Timestamp::default());
    let mut w = MetricWindow::from_fetch(empty, points, period);
    for r in ranges {
        w.record(r, [], period);
    }
    Ok(w)
}

type WindowParts = (Vec<TimeRange>, Vec<(Timestamp, f64)>);

fn decode_window_v2(bytes: &[u8]) -> Result<WindowParts, CodecError> {
    let mut c = Cursor::new("metric window", bytes, 1);
    let n = c.count()?;
    let mut ranges = Vec::with_capacity(n);
    let mut prev = 0i64;
    for _ in 0..n {
        let start = prev.wrapping_add(c.signed()?);
        let end = start.wrapping_add(c.signed()?);
        ranges.push(TimeRange::new(
            Timestamp::from_secs(start),
            Timestamp::from_secs(end),
        ));
        prev = end;
    }
    let n = c.count()?;
    let mut points = Vec::with_capacity(n);
    let mut prev = 0i64;
    for _ in 0..n {
        prev = prev.wrapping_add(c.signed()?);
        let v = match c.byte()? {
            VALUE_INT => c.varint()? as f64,
            VALUE_F32 => f64::from(f32::from_le_bytes(c.array()?)),
            VALUE_F64 => f64::from_le_bytes(c.array()?),
            _ => return Err(c.fail()),
        };
        points.push((Timestamp::from_secs(prev), v));
    }
    c.finish()?;
    Ok((ranges, points))
}

fn decode_window_v1(bytes: &[u8]) -> Result<WindowParts, CodecError> {
    const WHAT: &str = "metric window";
    let count = |at: usize| -> Result<usize, CodecError> {
        let s = bytes
            .get(at..at + 4)
            .ok_or_else(|| invalid(WHAT, format!("truncated at byte {at}")))?;
        let mut b = [0u8; 4];
        b.copy_from_slice(s);
        Ok(u32::from_le_bytes(b) as usize)
    };
    let ranges = count(1)?;
    let points_at = 5 + 16 * ranges;
    let points = count(points_at)?;
    let end = points_at + 4 + 16 * points;
    if bytes.len() != end {
        return Err(invalid(
            WHAT,
            format!("{} bytes where {end} were expected", bytes.len()),
        ));
    }
    let pts = (0..points)
        .map(|i| {
            let at = points_at + 4 + 16 * i;
            (
                Timestamp::from_secs(read_i64(bytes, at)),
                f64::from_bits(read_i64(bytes, at + 8).cast_unsigned()),
            )
        })
        .collect();
    let ranges = (0..ranges)
        .map(|i| {
            let at = 5 + 16 * i;
            TimeRange::new(
                Timestamp::from_secs(read_i64(bytes, at)),
                Timestamp::from_secs(read_i64(bytes, at + 8)),
            )
        })
        .collect();
    Ok((ranges, pts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::plan_metrics;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_secs(1_800_000_000 + s)
    }

    fn function() -> Resource {
        Resource::new("Fn", "orders-Fn-1", "AWS::Lambda::Function")
    }

    fn anomaly(id: &str, end: Option<Timestamp>) -> Anomaly {
        let planned = plan_metrics(&[function()], &BTreeMap::new(), &[], 60);
        let m = &planned[0];
        Anomaly {
            id: id.into(),
            metric: m.key.clone(),
            resource: m.resource.clone(),
            spec: m.spec,
            direction: Direction::Increase,
            severity: Severity::High,
            role: AnomalyRole::Causal,
            start: t(0),
            end,
            last_abnormal: t(120),
            observed: 12.345_678_901_234_567,
            expected: 0.1 + 0.2,
            peak: f64::NAN,
            score: 7.25,
            rate: Some(Rate {
                observed: 0.061_234_5,
                expected: 0.001_5,
            }),
        }
    }

    #[test]
    fn insights_round_trip_exactly_with_their_catalog_specs() {
        let insight = Insight {
            id: "i-1".into(),
            name: "errors of orders-Fn-1 rose".into(),
            kind: InsightKind::Reactive,
            severity: Severity::High,
            status: InsightStatus::Ongoing,
            stack: "orders".into(),
            start: t(0),
            end: None,
            open_time: t(300),
            close_time: None,
            anomalies: vec![anomaly("a-1", None), anomaly("a-2", Some(t(600)))],
            relevant_events: vec![RelevantEvent {
                time: t(-60),
                resource: function(),
                class: EventClass::Deployment,
                description: "Fn updated".into(),
            }],
            recommendations: vec![Recommendation {
                name: "Roll back".into(),
                description: "Roll back the deployment".into(),
                reason: "errors rose after it".into(),
                link: "https://docs.aws.amazon.com/".into(),
            }],
            cause: Some(ProbableCause {
                cause: Cause::OwnChange,
                primary: function(),
                evidence: "Errors rose 2 minutes after Fn was deployed at 14:02".into(),
                action: Action::RollBack,
                suggestion: "Roll back Fn".into(),
            }),
        };
        let mut proactive = insight.clone();
        proactive.kind = InsightKind::Proactive;
        proactive.anomalies.clear();
        proactive.cause = None;
        let insights = StackInsights {
            open: Some(insight),
            pending: vec![anomaly("a-3", None)],
            proactive: vec![("dynamodb-pitr-off|t|".into(), proactive)],
        };
        let back = decode_insights(&encode_insights(&insights)).unwrap();
        // NaN is not equal to itself: compare it apart.
        let peak = |s: &StackInsights| s.open.as_ref().unwrap().anomalies[0].peak;
        assert!(peak(&back).is_nan());
        let scrub = |mut s: StackInsights| {
            for a in s
                .open
                .as_mut()
                .unwrap()
                .anomalies
                .iter_mut()
                .chain(s.pending.iter_mut())
            {
                a.peak = 0.0;
            }
            s
        };
        assert_eq!(scrub(back), scrub(insights));
        assert!(
            decode_insights(&encode_insights(&StackInsights::new())).unwrap()
                == StackInsights::new()
        );
    }

    #[test]
    fn insights_stored_before_causes_and_rates_still_decode() {
        let mut json: serde_json::Value =
            serde_json::from_slice(&encode_insights(&StackInsights {
                open: None,
                pending: vec![anomaly("a", None)],
                proactive: Vec::new(),
            }))
            .unwrap();
        json["pending"][0].as_object_mut().unwrap().remove("rate");
        json.as_object_mut().unwrap().remove("proactive");
        let back = decode_insights(&serde_json::to_vec(&json).unwrap()).unwrap();
        assert_eq!(back.pending[0].rate, None);
        assert!(back.proactive.is_empty());
    }

    #[test]
    fn peaks_round_trip_by_metric() {
        let planned = plan_metrics(&[function()], &BTreeMap::new(), &[], 60);
        let mut peaks = BTreeMap::new();
        let mut p = Peaks::default();
        p.record(t(0), 42.0);
        peaks.insert(planned[0].key.clone(), p);
        peaks.insert(planned[1].key.clone(), Peaks::default());
        assert_eq!(decode_peaks(&encode_peaks(&peaks)).unwrap(), peaks);
        assert!(decode_peaks(&[]).unwrap().is_empty());
        assert!(decode_peaks(&encode_peaks(&peaks)[..9]).is_err());
        let mut longer = encode_peaks(&peaks);
        longer.push(0);
        assert!(decode_peaks(&longer).is_err());
    }

    #[test]
    fn insights_naming_an_unknown_metric_are_refused_with_the_metric() {
        let mut json: serde_json::Value =
            serde_json::from_slice(&encode_insights(&StackInsights {
                open: None,
                pending: vec![anomaly("a", None)],
                proactive: Vec::new(),
            }))
            .unwrap();
        json["pending"][0]["metricName"] = "Bogus".into();
        let err = decode_insights(&serde_json::to_vec(&json).unwrap()).unwrap_err();
        assert!(err.to_string().contains("invalid"), "{err}");
        assert!(format!("{err:?}").contains("Bogus"), "{err:?}");
        let err = decode_insights(b"{\"formatVersion\":1,\"pending\":[{}]}").unwrap_err();
        assert!(format!("{err:?}").contains("pending"), "{err:?}");
    }

    #[test]
    fn inventories_round_trip_through_their_parts() {
        let resources = vec![
            function(),
            Resource::new("Role", "orders-Role", "AWS::IAM::Role"),
        ];
        let mut configs = BTreeMap::new();
        configs.insert(
            "orders-Fn-1".to_string(),
            ConfigValue::Map(
                [
                    ("Timeout".to_string(), ConfigValue::Number(3.0)),
                    (
                        "Runtime".to_string(),
                        ConfigValue::Text("provided.al2023".into()),
                    ),
                    (
                        "Layers".to_string(),
                        ConfigValue::List(vec![ConfigValue::Bool(true)]),
                    ),
                ]
                .into_iter()
                .collect(),
            ),
        );
        let mut metrics: Vec<TrackedMetric> = plan_metrics(&resources, &configs, &[], 60)
            .into_iter()
            .map(|watched| TrackedMetric {
                watched,
                fetched_until: Some(t(600)),
                live_from: t(0),
            })
            .collect();
        metrics[0].fetched_until = None;
        // A metric of a resource that left the stack keeps its resource.
        let gone = Resource::new("Old", "orders-Old-1", "AWS::Lambda::Function");
        let mut extra = plan_metrics(std::slice::from_ref(&gone), &BTreeMap::new(), &[], 60);
        metrics.push(TrackedMetric {
            watched: extra.remove(0),
            fetched_until: Some(t(60)),
            live_from: t(-60),
        });
        let inventory = StackInventory {
            stack: "orders".into(),
            resources,
            configs,
            metrics,
            events: vec![StackEvent {
                time: t(-30),
                resource: function(),
                status: "UPDATE_COMPLETE".into(),
                reason: None,
            }],
            updated: Some(t(600)),
        };
        let parts = encode_inventory(&inventory);
        assert_eq!(parts.progress.len(), 1 + 16 * inventory.metrics.len());
        assert_eq!(decode_inventory("orders", &parts).unwrap(), inventory);
        let mut torn = parts.clone();
        torn.progress.pop();
        assert!(decode_inventory("orders", &torn).is_err());
    }

    #[test]
    fn events_are_cut_oldest_first_to_fit_an_item() {
        let events: Vec<StackEvent> = (0..200)
            .map(|i| StackEvent {
                time: t(i),
                resource: function(),
                status: "UPDATE_COMPLETE".into(),
                reason: Some("x".repeat(100)),
            })
            .collect();
        let (all, dropped) = encode_events_within(&events, 1 << 20);
        assert_eq!(dropped, 0);
        let (bytes, dropped) = encode_events_within(&events, all.len() / 2);
        assert!(bytes.len() <= all.len() / 2);
        assert!(dropped > 0 && dropped < 200);
        let kept: Vec<StoredStackEvent> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            kept.last().unwrap().time,
            t(199).secs(),
            "the newest is kept"
        );
    }

    #[test]
    fn windows_round_trip_and_truncated_bytes_are_refused() {
        let mut w = MetricWindow::from_fetch(
            TimeRange::new(t(0), t(600)),
            [(t(60), 1.5), (t(120), -0.0), (t(540), 1e300)],
            60,
        );
        w.record(TimeRange::new(t(1200), t(1800)), [(t(1260), 2.0)], 60);
        let bytes = encode_window(&w);
        assert_eq!(decode_window(&bytes, 60).unwrap(), w);
        assert_eq!(
            decode_window(&encode_window(&MetricWindow::new()), 60).unwrap(),
            MetricWindow::new()
        );
        for cut in [0, 1, 5, bytes.len() - 1] {
            assert!(decode_window(&bytes[..cut], 60).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_window(&longer, 60).is_err());
        assert!(decode_window(&[2, 0xff, 0xff, 0xff, 0xff, 0x0f], 60).is_err());
        assert!(
            decode_window(&[2, 0, 1, 2, 9], 60).is_err(),
            "unknown value tag"
        );
    }

    /// Version 1's layout, as tables written before hold it.
    fn encode_window_v1(w: &MetricWindow) -> Vec<u8> {
        let mut out = vec![WINDOW_VERSION_1];
        out.extend_from_slice(&(w.coverage().len() as u32).to_le_bytes());
        for r in w.coverage() {
            out.extend_from_slice(&r.start.secs().to_le_bytes());
            out.extend_from_slice(&r.end.secs().to_le_bytes());
        }
        out.extend_from_slice(&(w.points().len() as u32).to_le_bytes());
        for (t, v) in w.points() {
            out.extend_from_slice(&t.secs().to_le_bytes());
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    #[test]
    fn windows_keep_every_value_bit_for_bit_in_a_fraction_of_the_bytes() {
        let values = [
            0.0,
            -0.0,
            1.0,
            3.0,
            250.0,
            1.5,
            0.1,
            47.923,
            -3.0,
            1e300,
            9.1e15,
            2e-310,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
        ];
        let pts: Vec<(Timestamp, f64)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (t(60 * i as i64), *v))
            .collect();
        let w =
            MetricWindow::from_fetch(TimeRange::new(t(0), t(60 * values.len() as i64)), pts, 60);
        let decoded = decode_window(&encode_window(&w), 60).unwrap();
        let bits = |w: &MetricWindow| {
            w.points()
                .iter()
                .map(|(t, v)| (*t, v.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&decoded), bits(&w));
        assert_eq!(decode_window(&encode_window_v1(&w), 60).unwrap(), w);
        // An hour of error counts: about three bytes a point, not sixteen.
        let counts = MetricWindow::from_fetch(
            TimeRange::new(t(0), t(3600)),
            (0..60).map(|i| (t(60 * i), f64::from(i as u32 % 7))),
            60,
        );
        assert!(
            encode_window(&counts).len() <= 3 * 60 + 16,
            "{}",
            encode_window(&counts).len()
        );
        assert!(encode_window_v1(&counts).len() >= 16 * 60);
    }

    #[test]
    fn keys_round_trip() {
        let k = MetricKey::new(
            "AWS/DynamoDB",
            "SuccessfulRequestLatency",
            vec![
                Dimension::new("TableName", "t|x,y=z"),
                Dimension::new("Operation", "GetItem"),
            ],
            "Average",
            60,
        );
        assert_eq!(decode_key(&encode_key(&k)).unwrap(), k);
    }
}
