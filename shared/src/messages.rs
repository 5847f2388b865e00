//! Wire contracts: the JSON that leaves the core.
//!
//! - [`InsightDto`] is an insight as `stackwatch replay --json` prints it
//!   (Contract 2) and as notifications carry it.
//! - [`Notification`] is the body of an SNS message (Contract 3) and what the
//!   analyzer records for the notifier.
//! - [`AnalyzeRequest`] is what ingest sends the analyzer.
//!
//! Field names are a contract that tools outside the code rely on: never
//! rename one; add fields freely.

use serde::{Deserialize, Serialize};

use crate::domain::event::RelevantEvent;
use crate::domain::insight::{Anomaly, Insight, InsightChange, Recommendation};
use crate::domain::time::Timestamp;

/// Version of the message formats below.
pub const FORMAT_VERSION: u32 = 1;

/// An insight (Contract 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightDto {
    /// Deterministic id.
    pub id: String,
    /// A sentence people can read.
    pub name: String,
    /// `REACTIVE` or `PROACTIVE`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `HIGH`, `MEDIUM` or `LOW`.
    pub severity: String,
    /// `ONGOING` or `CLOSED`.
    pub status: String,
    /// The stack.
    pub stack: String,
    /// When the metrics became abnormal (RFC 3339).
    pub start_time: String,
    /// When they stopped being abnormal; null while ongoing.
    pub end_time: Option<String>,
    /// The tick at which the pipeline opened it.
    pub open_time: String,
    /// The tick at which it closed; null while ongoing.
    pub close_time: Option<String>,
    /// Its anomalies.
    pub anomalies: Vec<AnomalyDto>,
    /// Changes shortly before it started.
    pub relevant_events: Vec<RelevantEventDto>,
    /// What to do.
    pub recommendations: Vec<RecommendationDto>,
    /// Physical id of the resource where the problem probably is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_resource: Option<String>,
    /// The probable cause, with its evidence and the action to take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probable_cause: Option<ProbableCauseDto>,
}

/// The probable cause of an insight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbableCauseDto {
    /// `OWN_CHANGE`, `SYSTEM_CHANGE`, `LIMIT_REACHED`, `COMPONENT_FAILURE`
    /// or `DEPENDENCY_FAILURE`.
    pub cause: String,
    /// Physical id of the resource where the problem probably is.
    pub primary_resource: String,
    /// Its CloudFormation type.
    pub primary_resource_type: String,
    /// Its logical id.
    pub primary_logical_id: String,
    /// What supports the cause, with times and numbers.
    pub evidence: String,
    /// `ROLL_BACK`, `BLOCK`, `SCALE_UP`, `RESTART` or `EXCLUDE`.
    pub action: String,
    /// The action as a sentence.
    pub suggestion: String,
}

/// An anomaly of an insight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyDto {
    /// Deterministic id.
    pub id: String,
    /// `HIGH`, `MEDIUM` or `LOW`.
    pub severity: String,
    /// `CAUSAL` or `CONTEXTUAL`.
    #[serde(rename = "type")]
    pub kind: String,
    /// CloudFormation type of the resource.
    pub resource_type: String,
    /// Physical id of the resource.
    pub resource_name: String,
    /// Logical id of the resource.
    #[serde(default)]
    pub logical_resource_id: String,
    /// CloudWatch namespace.
    pub namespace: String,
    /// Metric name.
    pub metric_name: String,
    /// Statistic.
    pub stat: String,
    /// Dimensions of the series.
    #[serde(default)]
    pub dimensions: Vec<DimensionDto>,
    /// `INCREASE` or `DECREASE`.
    pub direction: String,
    /// Mean observed value over the abnormal periods.
    pub observed: f64,
    /// Mean expected value over the same periods.
    pub expected: f64,
    /// Most extreme observed value.
    #[serde(default)]
    pub peak: f64,
    /// Start of the first abnormal period.
    pub start_time: String,
    /// End of the last abnormal period; null while ongoing.
    pub end_time: Option<String>,
    /// "errors of X rose from 0.2/min to 12/min".
    #[serde(default)]
    pub description: String,
    /// For errors: the observed share of requests that failed (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_rate: Option<f64>,
    /// For errors: the usual share of requests that failed (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_rate: Option<f64>,
}

/// A CloudWatch dimension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionDto {
    /// Dimension name.
    #[serde(rename = "Name")]
    pub name: String,
    /// Dimension value.
    #[serde(rename = "Value")]
    pub value: String,
}

/// A change shortly before an insight started.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelevantEventDto {
    /// When it completed.
    pub time: String,
    /// Physical id of the changed resource.
    pub resource_name: String,
    /// Its CloudFormation type.
    pub resource_type: String,
    /// `DEPLOYMENT`, `CONFIG_CHANGE`, `INFRASTRUCTURE`, `SECURITY_CHANGE`, `SCHEMA_CHANGE`.
    pub event_class: String,
    /// A sentence.
    pub description: String,
}

/// What to do about an insight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecommendationDto {
    /// A short title.
    pub name: String,
    /// What to do.
    pub description: String,
    /// Why, quoting what was observed.
    pub reason: String,
    /// The AWS documentation page.
    pub link: String,
}

/// The body of one notification (Contract 3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// `NEW_INSIGHT`, `CLOSED_INSIGHT`, `NEW_ASSOCIATION`,
    /// `SEVERITY_UPGRADED` or `NEW_RECOMMENDATION`.
    pub message_type: String,
    /// Deterministic id of the change; subscribers may use it to deduplicate.
    pub change_id: String,
    /// The tick at which the insight changed.
    pub change_time: String,
    /// For `NEW_ASSOCIATION`: the anomaly that joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_id: Option<String>,
    /// For `SEVERITY_UPGRADED`: the severity before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_severity: Option<String>,
    /// For `NEW_RECOMMENDATION`: the recommendation's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<String>,
    /// Format version of this message.
    #[serde(default = "format_version")]
    pub format_version: u32,
    /// The insight after the change.
    #[serde(flatten)]
    pub insight: InsightDto,
}

fn format_version() -> u32 {
    FORMAT_VERSION
}

/// Ingest's request that the analyzer look at a stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzeRequest {
    /// The stack.
    pub stack: String,
    /// The tick that stored new windows (RFC 3339).
    pub requested_at: String,
    /// Format version.
    #[serde(default = "format_version")]
    pub format_version: u32,
}

fn time(t: Timestamp) -> String {
    t.to_string()
}

/// Rounds for JSON: enough digits to be faithful, few enough to read.
fn tidy(v: f64) -> f64 {
    if !v.is_finite() {
        return 0.0;
    }
    let scale = if v.abs() >= 100.0 { 10.0 } else { 1000.0 };
    (v * scale).round() / scale
}

fn tidy_rate(v: f64) -> f64 {
    if v.is_finite() {
        (v * 1e5).round() / 1e5
    } else {
        0.0
    }
}

impl From<&Anomaly> for AnomalyDto {
    fn from(a: &Anomaly) -> Self {
        Self {
            id: a.id.clone(),
            severity: a.severity.as_str().into(),
            kind: a.role.as_str().into(),
            resource_type: a.resource.resource_type.clone(),
            resource_name: a.resource.physical_id.clone(),
            logical_resource_id: a.resource.logical_id.clone(),
            namespace: a.metric.namespace().into(),
            metric_name: a.metric.name().into(),
            stat: a.metric.stat().into(),
            dimensions: a
                .metric
                .dimensions()
                .iter()
                .map(|d| DimensionDto {
                    name: d.name.clone(),
                    value: d.value.clone(),
                })
                .collect(),
            direction: a.direction.as_str().into(),
            observed: tidy(a.observed),
            expected: tidy(a.expected),
            peak: tidy(a.peak),
            start_time: time(a.start),
            end_time: a.end.map(time),
            description: a.sentence(),
            observed_rate: a.rate.map(|r| tidy_rate(r.observed)),
            expected_rate: a.rate.map(|r| tidy_rate(r.expected)),
        }
    }
}

impl From<&RelevantEvent> for RelevantEventDto {
    fn from(e: &RelevantEvent) -> Self {
        Self {
            time: time(e.time),
            resource_name: e.resource.physical_id.clone(),
            resource_type: e.resource.resource_type.clone(),
            event_class: e.class.as_str().into(),
            description: e.description.clone(),
        }
    }
}

impl From<&Recommendation> for RecommendationDto {
    fn from(r: &Recommendation) -> Self {
        Self {
            name: r.name.clone(),
            description: r.description.clone(),
            reason: r.reason.clone(),
            link: r.link.clone(),
        }
    }
}

impl From<&Insight> for InsightDto {
    fn from(i: &Insight) -> Self {
        Self {
            id: i.id.clone(),
            name: i.name.clone(),
            kind: i.kind.as_str().into(),
            severity: i.severity.as_str().into(),
            status: i.status.as_str().into(),
            stack: i.stack.clone(),
            start_time: time(i.start),
            end_time: i.end.map(time),
            open_time: time(i.open_time),
            close_time: i.close_time.map(time),
            anomalies: i.anomalies.iter().map(AnomalyDto::from).collect(),
            relevant_events: i
                .relevant_events
                .iter()
                .map(RelevantEventDto::from)
                .collect(),
            recommendations: i
                .recommendations
                .iter()
                .map(RecommendationDto::from)
                .collect(),
            primary_resource: i.cause.as_ref().map(|c| c.primary.physical_id.clone()),
            probable_cause: i.cause.as_ref().map(|c| ProbableCauseDto {
                cause: c.cause.as_str().into(),
                primary_resource: c.primary.physical_id.clone(),
                primary_resource_type: c.primary.resource_type.clone(),
                primary_logical_id: c.primary.logical_id.clone(),
                evidence: c.evidence.clone(),
                action: c.action.as_str().into(),
                suggestion: c.suggestion.clone(),
            }),
        }
    }
}

impl From<&InsightChange> for Notification {
    fn from(c: &InsightChange) -> Self {
        use crate::domain::insight::ChangeKind;
        let (anomaly_id, previous_severity, recommendation) = match &c.kind {
            ChangeKind::NewAssociation { anomaly_id } => (Some(anomaly_id.clone()), None, None),
            ChangeKind::SeverityUpgraded { previous } => {
                (None, Some(previous.as_str().to_string()), None)
            }
            ChangeKind::NewRecommendation { name } => (None, None, Some(name.clone())),
            ChangeKind::NewInsight | ChangeKind::ClosedInsight => (None, None, None),
        };
        Self {
            message_type: c.kind.message_type().into(),
            change_id: c.id.clone(),
            change_time: time(c.at),
            anomaly_id,
            previous_severity,
            recommendation,
            format_version: FORMAT_VERSION,
            insight: InsightDto::from(&c.insight),
        }
    }
}
