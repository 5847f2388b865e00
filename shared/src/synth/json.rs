//! The scenario document (Contract 1) in the shapes the AWS APIs return:
//! `ListStackResources` summaries, `GetMetricData` results (unsorted, many
//! newest first), `DescribeStackEvents` (newest first, millisecond times) and
//! describe-call configurations.

use rand::{Rng, RngExt};
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

use super::plan::Plan;
use super::sim::{Format, SeriesData};
use super::spec::Spec;
use super::stack::{Role, World};
use crate::domain::time::Timestamp;
use crate::truth::{EventTime, Ordered};

#[derive(Serialize)]
struct Document<'a> {
    stack: &'a str,
    region: &'a str,
    resources: Vec<ResourceOut>,
    metrics: Vec<MetricOut<'a>>,
    events: Vec<EventOut>,
    configurations: Ordered<Config>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceOut {
    logical_resource_id: String,
    physical_resource_id: String,
    resource_type: &'static str,
    last_updated_timestamp: String,
    resource_status: &'static str,
    drift_information: Drift,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Drift {
    stack_resource_drift_status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Dim<'a> {
    name: &'a str,
    value: &'a str,
}

/// Point order of a series, as an exporter may have written it.
#[derive(Clone, Copy)]
enum Order {
    /// Oldest first.
    Ascending,
    /// Newest first (`GetMetricData`'s default).
    Descending,
    /// Two newest-first pages, the older page first.
    Pages,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricOut<'a> {
    id: String,
    label: &'a str,
    namespace: &'a str,
    metric_name: &'a str,
    dimensions: Vec<Dim<'a>>,
    stat: &'a str,
    period: u32,
    status_code: &'static str,
    timestamps: Stamps<'a>,
    values: Values<'a>,
}

/// The order in which a series' points are written.
struct Points<'a> {
    points: &'a [(u32, f64)],
    order: Order,
}

impl Points<'_> {
    fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        let n = self.points.len();
        let half = n / 2;
        (0..n).map(move |k| match self.order {
            Order::Ascending => k,
            Order::Descending => n - 1 - k,
            Order::Pages => {
                if k < half {
                    half - 1 - k
                } else {
                    n - 1 - (k - half)
                }
            }
        })
    }
}

struct Stamps<'a> {
    points: Points<'a>,
    minutes: &'a [[u8; 20]],
}

impl Serialize for Stamps<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.points.points.len()))?;
        for i in self.points.indices() {
            let m = self.points.points[i].0 as usize;
            // Minute strings are built from ASCII digits and separators.
            let text = std::str::from_utf8(&self.minutes[m]).unwrap_or("");
            seq.serialize_element(text)?;
        }
        seq.end()
    }
}

struct Values<'a> {
    points: Points<'a>,
    format: Format,
}

/// A value as CloudWatch's JSON shows it: whole numbers without a
/// fraction, times to two decimals below 100 and one above.
fn tidy(v: f64, format: Format) -> f64 {
    match format {
        Format::Count => v.round(),
        Format::Units => (v * 10.0).round() / 10.0,
        Format::Time if v.abs() >= 100.0 => (v * 10.0).round() / 10.0,
        Format::Time => (v * 100.0).round() / 100.0,
    }
}

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.points.points.len()))?;
        for i in self.points.indices() {
            let v = tidy(self.points.points[i].1, self.format);
            if v.fract() == 0.0 && v.abs() < 1e15 {
                seq.serialize_element(&(v as i64))?;
            } else {
                seq.serialize_element(&v)?;
            }
        }
        seq.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventOut {
    stack_id: String,
    event_id: String,
    stack_name: String,
    logical_resource_id: String,
    physical_resource_id: String,
    resource_type: &'static str,
    timestamp: String,
    resource_status: &'static str,
    client_request_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_status_reason: Option<&'static str>,
    #[serde(skip)]
    millis: i64,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Config {
    Lambda(Box<LambdaConfig>),
    Table(Box<TableConfig>),
    Queue(QueueConfig),
    Mapping(MappingConfig),
    Api(ApiConfig),
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LambdaConfig {
    function_name: String,
    function_arn: String,
    runtime: &'static str,
    role: String,
    handler: &'static str,
    code_size: u64,
    timeout: u32,
    memory_size: u32,
    last_modified: String,
    architectures: [&'static str; 1],
    package_type: &'static str,
    tracing_config: Mode,
    state: &'static str,
    last_update_status: &'static str,
    ephemeral_storage: Size,
    #[serde(skip_serializing_if = "Option::is_none")]
    reserved_concurrent_executions: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Mode {
    mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Size {
    size: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TableConfig {
    table_name: String,
    table_arn: String,
    table_status: &'static str,
    key_schema: [KeyElement; 2],
    item_count: u64,
    table_size_bytes: u64,
    billing_mode_summary: BillingMode,
    provisioned_throughput: Throughput,
    continuous_backups_description: Backups,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyElement {
    attribute_name: &'static str,
    key_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BillingMode {
    billing_mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Throughput {
    number_of_decreases_today: u32,
    read_capacity_units: u32,
    write_capacity_units: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Backups {
    continuous_backups_status: &'static str,
    point_in_time_recovery_description: Pitr,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Pitr {
    point_in_time_recovery_status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct QueueConfig {
    queue_url: String,
    attributes: Ordered<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MappingConfig {
    #[serde(rename = "UUID")]
    uuid: String,
    batch_size: u32,
    event_source_arn: String,
    function_arn: String,
    state: &'static str,
    maximum_batching_window_in_seconds: u32,
    function_response_types: [&'static str; 0],
    scaling_config: Scaling,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Scaling {
    maximum_concurrency: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApiConfig {
    id: String,
    name: String,
    api_key_source: &'static str,
    endpoint_configuration: Endpoint,
    stage_name: String,
    tags: Ordered<String>,
}

#[derive(Serialize)]
struct Endpoint {
    types: [&'static str; 1],
}

/// `2026-04-11T08:12:17.059+0000`, as Lambda's `LastModified`.
fn lambda_time(ms: i64) -> String {
    let text = EventTime::from_millis(ms).to_string();
    format!("{}+0000", text.trim_end_matches('Z'))
}

/// The last update of each resource: (logical id → completion ms).
fn last_updates(plan: &Plan) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = Vec::new();
    for d in &plan.deployments {
        for s in &d.steps {
            match out.iter_mut().find(|(l, _)| *l == s.logical) {
                Some(e) => e.1 = e.1.max(s.complete_ms),
                None => out.push((s.logical.clone(), s.complete_ms)),
            }
        }
    }
    out
}

/// The minute strings of the data, `YYYY-MM-DDTHH:MM:00Z`.
fn minute_strings(start: Timestamp, minutes: u32) -> Vec<[u8; 20]> {
    (0..minutes)
        .map(|m| {
            let mut buf = [0u8; 20];
            let text = start.add(i64::from(m) * 60).to_string();
            let bytes = text.as_bytes();
            let n = bytes.len().min(20);
            buf[..n].copy_from_slice(&bytes[..n]);
            buf
        })
        .collect()
}

/// Writes the scenario document.
pub(crate) fn scenario<R: Rng + ?Sized>(
    spec: &Spec,
    w: &World,
    plan: &Plan,
    series: &[SeriesData],
    rng: &mut R,
) -> serde_json::Result<Vec<u8>> {
    let created = EventTime::from_millis(w.created_ms).to_string();
    let updates = last_updates(plan);
    let updated = |logical: &str| updates.iter().find(|(l, _)| l == logical).map(|u| u.1);

    let mut resources: Vec<ResourceOut> = Vec::new();
    let mut add = |logical: &str, physical: &str, ty: &'static str| {
        let (time, status) = match updated(logical) {
            Some(ms) => (EventTime::from_millis(ms).to_string(), "UPDATE_COMPLETE"),
            None => (created.clone(), "CREATE_COMPLETE"),
        };
        resources.push(ResourceOut {
            logical_resource_id: logical.to_string(),
            physical_resource_id: physical.to_string(),
            resource_type: ty,
            last_updated_timestamp: time,
            resource_status: status,
            drift_information: Drift {
                stack_resource_drift_status: "NOT_CHECKED",
            },
        });
    };
    if let Some(a) = &w.api {
        add(&a.logical, &a.id, "AWS::ApiGateway::RestApi");
    }
    for f in &w.functions {
        add(&f.logical, &f.physical, "AWS::Lambda::Function");
    }
    if let Some(t) = &w.table {
        add(&t.logical, &t.physical, "AWS::DynamoDB::Table");
    }
    if let Some(q) = &w.queue {
        add(&q.logical, &q.url, "AWS::SQS::Queue");
        add(&q.dlq_logical, &q.dlq_url, "AWS::SQS::Queue");
    }
    for p in &w.plain {
        add(&p.logical, &p.physical, p.resource_type);
    }
    resources.sort_by(|a, b| a.logical_resource_id.cmp(&b.logical_resource_id));

    let minutes = minute_strings(spec.start, plan.minutes);
    let metrics = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let order = match rng.random_range(0..20) {
                0..8 => Order::Ascending,
                8..18 => Order::Descending,
                _ => Order::Pages,
            };
            MetricOut {
                id: format!("m{}", i + 1),
                label: s.metric,
                namespace: s.namespace,
                metric_name: s.metric,
                dimensions: s
                    .dims
                    .iter()
                    .map(|(n, v)| Dim { name: n, value: v })
                    .collect(),
                stat: s.stat,
                period: spec.period,
                status_code: "Complete",
                timestamps: Stamps {
                    points: Points {
                        points: &s.points,
                        order,
                    },
                    minutes: &minutes,
                },
                values: Values {
                    points: Points {
                        points: &s.points,
                        order,
                    },
                    format: s.format,
                },
            }
        })
        .collect();

    let stack_arn = w.stack_arn();
    let mut events: Vec<EventOut> = Vec::new();
    for d in &plan.deployments {
        let stack_event =
            |id: &str, ms: i64, status: &'static str, reason: Option<&'static str>| EventOut {
                stack_id: stack_arn.clone(),
                event_id: id.to_string(),
                stack_name: w.stack.clone(),
                logical_resource_id: w.stack.clone(),
                physical_resource_id: stack_arn.clone(),
                resource_type: "AWS::CloudFormation::Stack",
                timestamp: EventTime::from_millis(ms).to_string(),
                resource_status: status,
                client_request_token: d.token.clone(),
                resource_status_reason: reason,
                millis: ms,
            };
        events.push(stack_event(
            &d.event_ids[0],
            d.start_ms,
            "UPDATE_IN_PROGRESS",
            Some("User Initiated"),
        ));
        events.push(stack_event(
            &d.event_ids[1],
            d.cleanup_ms,
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            None,
        ));
        events.push(stack_event(
            &d.event_ids[2],
            d.complete_ms,
            "UPDATE_COMPLETE",
            None,
        ));
        for s in &d.steps {
            for (ms, status) in [
                (s.in_progress_ms, "UPDATE_IN_PROGRESS"),
                (s.complete_ms, "UPDATE_COMPLETE"),
            ] {
                let time = EventTime::from_millis(ms).to_string();
                events.push(EventOut {
                    stack_id: stack_arn.clone(),
                    event_id: format!("{}-{status}-{time}", s.logical),
                    stack_name: w.stack.clone(),
                    logical_resource_id: s.logical.clone(),
                    physical_resource_id: s.physical.clone(),
                    resource_type: s.resource_type,
                    timestamp: time,
                    resource_status: status,
                    client_request_token: d.token.clone(),
                    resource_status_reason: None,
                    millis: ms,
                });
            }
        }
    }
    // Newest first, as DescribeStackEvents returns them.
    events.sort_by(|a, b| {
        b.millis
            .cmp(&a.millis)
            .then_with(|| b.event_id.cmp(&a.event_id))
    });

    let configurations = configurations(w, &updated, rng);
    let doc = Document {
        stack: &w.stack,
        region: &w.region,
        resources,
        metrics,
        events,
        configurations,
    };
    serde_json::to_vec(&doc)
}

fn configurations<R: Rng + ?Sized>(
    w: &World,
    updated: &dyn Fn(&str) -> Option<i64>,
    rng: &mut R,
) -> Ordered<Config> {
    let mut out: Vec<(String, Config)> = Vec::new();
    for f in &w.functions {
        // Functions never deployed in the data were last changed a while
        // before it.
        let modified = updated(&f.logical)
            .unwrap_or_else(|| w.created_ms + rng.random_range(0..60i64) * 86_400_000);
        out.push((
            f.physical.clone(),
            Config::Lambda(Box::new(LambdaConfig {
                function_name: f.physical.clone(),
                function_arn: f.arn(w),
                runtime: f.runtime,
                role: format!("arn:aws:iam::{}:role/{}", w.account, f.role_physical),
                handler: f.handler,
                code_size: f.code_size,
                timeout: f.timeout_s,
                memory_size: f.memory,
                last_modified: lambda_time(modified),
                architectures: [f.architecture],
                package_type: "Zip",
                tracing_config: Mode {
                    mode: if f.role == Role::Batch {
                        "PassThrough"
                    } else {
                        "Active"
                    },
                },
                state: "Active",
                last_update_status: "Successful",
                ephemeral_storage: Size { size: 512 },
                reserved_concurrent_executions: f.reserved,
            })),
        ));
    }
    if let Some(t) = &w.table {
        out.push((
            t.physical.clone(),
            Config::Table(Box::new(TableConfig {
                table_name: t.physical.clone(),
                table_arn: w.table_arn(t),
                table_status: "ACTIVE",
                key_schema: [
                    KeyElement {
                        attribute_name: "pk",
                        key_type: "HASH",
                    },
                    KeyElement {
                        attribute_name: "sk",
                        key_type: "RANGE",
                    },
                ],
                item_count: t.items,
                table_size_bytes: t.items * t.item_bytes,
                billing_mode_summary: BillingMode {
                    billing_mode: if t.provisioned.is_some() {
                        "PROVISIONED"
                    } else {
                        "PAY_PER_REQUEST"
                    },
                },
                provisioned_throughput: Throughput {
                    number_of_decreases_today: 0,
                    read_capacity_units: t.provisioned.map_or(0, |p| p.0),
                    write_capacity_units: t.provisioned.map_or(0, |p| p.1),
                },
                continuous_backups_description: Backups {
                    continuous_backups_status: "ENABLED",
                    point_in_time_recovery_description: Pitr {
                        point_in_time_recovery_status: if t.pitr { "ENABLED" } else { "DISABLED" },
                    },
                },
            })),
        ));
    }
    if let (Some(q), Some(c)) = (&w.queue, w.consumer) {
        let attrs = |arn: String, vt: u32, retention: u32, redrive: Option<String>| {
            let mut a = vec![
                ("QueueArn".to_string(), arn),
                ("VisibilityTimeout".to_string(), vt.to_string()),
                ("MessageRetentionPeriod".to_string(), retention.to_string()),
                (
                    "ReceiveMessageWaitTimeSeconds".to_string(),
                    "20".to_string(),
                ),
                ("DelaySeconds".to_string(), "0".to_string()),
                ("MaximumMessageSize".to_string(), "262144".to_string()),
            ];
            if let Some(r) = redrive {
                a.push(("RedrivePolicy".to_string(), r));
            }
            Ordered(a)
        };
        out.push((
            q.url.clone(),
            Config::Queue(QueueConfig {
                queue_url: q.url.clone(),
                attributes: attrs(
                    q.arn(w),
                    q.visibility_timeout,
                    345_600,
                    Some(format!(
                        "{{\"deadLetterTargetArn\":\"{}\",\"maxReceiveCount\":{}}}",
                        q.dlq_arn(w),
                        q.max_receive
                    )),
                ),
            }),
        ));
        out.push((
            q.dlq_url.clone(),
            Config::Queue(QueueConfig {
                queue_url: q.dlq_url.clone(),
                attributes: attrs(q.dlq_arn(w), 30, 1_209_600, None),
            }),
        ));
        out.push((
            q.mapping_uuid.clone(),
            Config::Mapping(MappingConfig {
                uuid: q.mapping_uuid.clone(),
                batch_size: q.batch_size,
                event_source_arn: q.arn(w),
                function_arn: w.functions[c].arn(w),
                state: "Enabled",
                maximum_batching_window_in_seconds: 0,
                function_response_types: [],
                scaling_config: Scaling {
                    maximum_concurrency: q.max_concurrency,
                },
            }),
        ));
    }
    if let Some(a) = &w.api {
        out.push((
            a.id.clone(),
            Config::Api(ApiConfig {
                id: a.id.clone(),
                name: a.name.clone(),
                api_key_source: "HEADER",
                endpoint_configuration: Endpoint {
                    types: ["REGIONAL"],
                },
                stage_name: a.stage.clone(),
                tags: Ordered(vec![(
                    "aws:cloudformation:stack-name".to_string(),
                    w.stack.clone(),
                )]),
            }),
        ));
    }
    Ordered(out)
}
