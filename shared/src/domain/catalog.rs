//! The metric catalog: for each kind of resource, which CloudWatch metrics to
//! watch, how their dimensions derive from the resource, which direction is
//! bad, how serious a change is, and the smallest change that matters.
//!
//! The catalog is data. The detector reads a [`MetricSpec`] to choose its
//! noise model and the meaning of a missing point; the insight builder reads
//! it to rate severity; the ingest planner reads it to decide how often a
//! metric is worth paying for.

use std::collections::{BTreeMap, BTreeSet};

use super::metric::{Dimension, MetricKey};
use super::resource::{ConfigValue, Resource, ResourceKind, short_name};
use super::time::Timestamp;
use super::topology::{Topology, named_after};

/// How the values of a metric behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// Event counts (`Sum` of requests, errors, throttles). Noise is
    /// Poisson-like. A period with no point had no event: once the period is
    /// settled, a missing point is a zero.
    Count,
    /// Durations (latency, duration, age in ms). Noise is multiplicative. A
    /// period with no point had no sample and is not judged.
    Latency,
    /// Levels sampled from a gauge (concurrency, queue depth, queue age).
    /// A period with no point had no sample and is not judged.
    Gauge,
    /// A series whose meaning is unknown (any sign, any scale, any
    /// sampling): the detector chooses its own noise model and seasonality.
    /// Not used by the catalog's metrics.
    Generic,
}

/// The direction of a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// The value rose.
    Increase,
    /// The value fell.
    Decrease,
}

impl Direction {
    /// `INCREASE` or `DECREASE`, the contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Increase => "INCREASE",
            Direction::Decrease => "DECREASE",
        }
    }
}

/// Which changes of a metric are bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Watch {
    /// Only a rise is bad (errors, latency, throttles, backlog).
    Increase,
    /// Only a fall is bad.
    Decrease,
    /// Both are worth telling (traffic: a surge, or traffic lost).
    Both,
}

impl Watch {
    /// Whether a change in `direction` is bad.
    pub fn is_bad(self, direction: Direction) -> bool {
        matches!(
            (self, direction),
            (Watch::Both, _)
                | (Watch::Increase, Direction::Increase)
                | (Watch::Decrease, Direction::Decrease)
        )
    }
}

/// What a metric tells about the service; drives severity and explanations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignalClass {
    /// Failed requests or executions (Lambda `Errors`, API `5XXError`).
    Errors,
    /// Requests refused as the caller's fault (`4XXError`, `UserErrors`).
    ClientErrors,
    /// Requests refused for capacity (`Throttles`, `ThrottledRequests`).
    Throttles,
    /// Time to serve (`Duration`, `Latency`).
    Latency,
    /// Work offered (`Invocations`, `Count`, `NumberOfMessagesSent`).
    Traffic,
    /// Work in flight (`ConcurrentExecutions`).
    Concurrency,
    /// Capacity consumed (`ConsumedReadCapacityUnits`).
    Capacity,
    /// Work waiting (`ApproximateNumberOfMessagesVisible`, iterator age).
    Backlog,
}

/// How often a metric is fetched. GetMetricData is billed per metric
/// requested, not per point, so a metric fetched every twelfth tick costs a
/// twelfth and still delivers every point, only later. While a stack has an
/// open insight, every metric of it is fetched at every tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cadence {
    /// Every tick: the first failure signal of each resource (its errors,
    /// requests, queue age).
    Fast,
    /// Every [`Cadence::FREQUENT_TICKS`] ticks: average latencies, which
    /// need a few minutes of evidence anyway.
    Frequent,
    /// Every [`Cadence::PROMPT_TICKS`] ticks: failures that the callers'
    /// SDKs retry, so that nothing fetched at every tick may show them (a
    /// table's throttled requests, a stream's exceeded throughput).
    Prompt,
    /// Every [`Cadence::NORMAL_TICKS`] ticks: what explains more than it
    /// reveals (invocations behind an API, a function's throttles,
    /// capacity).
    Normal,
    /// Every [`Cadence::SLOW_TICKS`] ticks: context (percentiles, client
    /// errors, concurrency, a table's latency).
    Slow,
}

impl Cadence {
    /// Every cadence.
    pub const ALL: [Cadence; 5] = [
        Cadence::Fast,
        Cadence::Frequent,
        Cadence::Prompt,
        Cadence::Normal,
        Cadence::Slow,
    ];
    /// Ticks between two fetches of a [`Cadence::Frequent`] metric.
    pub const FREQUENT_TICKS: i64 = 2;
    /// Ticks between two fetches of a [`Cadence::Prompt`] metric.
    pub const PROMPT_TICKS: i64 = 4;
    /// Ticks between two fetches of a [`Cadence::Normal`] metric.
    pub const NORMAL_TICKS: i64 = 12;
    /// Ticks between two fetches of a [`Cadence::Slow`] metric.
    pub const SLOW_TICKS: i64 = 72;

    /// Ticks between two fetches when nothing is going on.
    pub fn ticks(self) -> i64 {
        match self {
            Cadence::Fast => 1,
            Cadence::Frequent => Self::FREQUENT_TICKS,
            Cadence::Prompt => Self::PROMPT_TICKS,
            Cadence::Normal => Self::NORMAL_TICKS,
            Cadence::Slow => Self::SLOW_TICKS,
        }
    }

    /// Whether a scheduled tick at `now` is one of this cadence's: every
    /// [`Cadence::ticks`]th tick of the clock (ticks numbered from the
    /// epoch), whenever the metric was last fetched.
    pub fn beats(self, now: Timestamp, schedule_secs: i64) -> bool {
        let tick = now.secs().div_euclid(schedule_secs.max(1));
        tick.rem_euclid(self.ticks()) == 0
    }
}

/// Everything the product knows about one metric of one kind of resource.
#[derive(Debug, PartialEq)]
pub struct MetricSpec {
    /// CloudWatch namespace.
    pub namespace: &'static str,
    /// Metric name.
    pub name: &'static str,
    /// Statistic to request.
    pub stat: &'static str,
    /// How values behave.
    pub kind: ValueKind,
    /// Which changes are bad.
    pub watch: Watch,
    /// What it tells about the service.
    pub class: SignalClass,
    /// The smallest absolute change that can matter, in the metric's unit
    /// (a count per minute, milliseconds, seconds); see
    /// [`MetricSpec::min_change_at`] for a period.
    pub min_change: f64,
    /// The smallest relative change that can matter (0.3 = 30%).
    pub min_ratio: f64,
    /// How often to fetch it.
    pub cadence: Cadence,
    /// Whether the metric has one series per DynamoDB operation.
    pub per_operation: bool,
    /// A short human phrase: "errors", "p99 duration".
    pub label: &'static str,
}

impl MetricSpec {
    /// The smallest change that can matter in one period of `period`
    /// seconds: [`MetricSpec::min_change`] per minute for a count summed
    /// over the period (three errors a minute are fifteen in five
    /// minutes), as it is for anything else (a latency, an age).
    pub fn min_change_at(&self, period: i64) -> f64 {
        if self.kind == ValueKind::Count && self.stat == "Sum" {
            self.min_change * period.max(1) as f64 / 60.0
        } else {
            self.min_change
        }
    }
}

macro_rules! spec {
    ($ns:expr, $name:expr, $stat:expr, $kind:ident, $watch:ident, $class:ident, $min:expr, $ratio:expr, $cad:ident, $label:expr) => {
        MetricSpec {
            namespace: $ns,
            name: $name,
            stat: $stat,
            kind: ValueKind::$kind,
            watch: Watch::$watch,
            class: SignalClass::$class,
            min_change: $min,
            min_ratio: $ratio,
            cadence: Cadence::$cad,
            per_operation: false,
            label: $label,
        }
    };
    (op $ns:expr, $name:expr, $stat:expr, $kind:ident, $watch:ident, $class:ident, $min:expr, $ratio:expr, $cad:ident, $label:expr) => {
        MetricSpec {
            per_operation: true,
            ..spec!(
                $ns, $name, $stat, $kind, $watch, $class, $min, $ratio, $cad, $label
            )
        }
    };
}

const LAMBDA: &str = "AWS/Lambda";
const DYNAMODB: &str = "AWS/DynamoDB";
const APIGW: &str = "AWS/ApiGateway";
const SQS: &str = "AWS/SQS";
const SNS: &str = "AWS/SNS";
const STATES: &str = "AWS/States";
const KINESIS: &str = "AWS/Kinesis";
const ELB: &str = "AWS/ApplicationELB";

#[rustfmt::skip]
static LAMBDA_SPECS: [MetricSpec; 6] = [
    spec!(LAMBDA, "Errors", "Sum", Count, Increase, Errors, 3.0, 1.0, Fast, "errors"),
    spec!(LAMBDA, "Invocations", "Sum", Count, Both, Traffic, 20.0, 0.5, Normal, "invocations"),
    spec!(LAMBDA, "Duration", "Average", Latency, Increase, Latency, 20.0, 0.3, Frequent, "duration"),
    spec!(LAMBDA, "Duration", "p99", Latency, Increase, Latency, 50.0, 0.5, Slow, "p99 duration"),
    spec!(LAMBDA, "Throttles", "Sum", Count, Increase, Throttles, 3.0, 1.0, Normal, "throttles"),
    spec!(LAMBDA, "ConcurrentExecutions", "Maximum", Gauge, Increase, Concurrency, 5.0, 0.5, Slow, "concurrency"),
];

#[rustfmt::skip]
static DYNAMODB_SPECS: [MetricSpec; 6] = [
    spec!(DYNAMODB, "ConsumedReadCapacityUnits", "Sum", Count, Increase, Capacity, 100.0, 1.0, Normal, "consumed read capacity"),
    spec!(DYNAMODB, "ConsumedWriteCapacityUnits", "Sum", Count, Increase, Capacity, 100.0, 1.0, Normal, "consumed write capacity"),
    spec!(DYNAMODB, "UserErrors", "Sum", Count, Increase, ClientErrors, 5.0, 1.0, Slow, "user errors"),
    spec!(op DYNAMODB, "SuccessfulRequestLatency", "Average", Latency, Increase, Latency, 5.0, 0.5, Slow, "latency"),
    spec!(op DYNAMODB, "ThrottledRequests", "Sum", Count, Increase, Throttles, 3.0, 1.0, Prompt, "throttled requests"),
    spec!(op DYNAMODB, "SystemErrors", "Sum", Count, Increase, Errors, 3.0, 1.0, Slow, "system errors"),
];

#[rustfmt::skip]
static REST_API_SPECS: [MetricSpec; 6] = [
    spec!(APIGW, "Count", "Sum", Count, Both, Traffic, 20.0, 0.5, Fast, "requests"),
    spec!(APIGW, "5XXError", "Sum", Count, Increase, Errors, 3.0, 1.0, Fast, "5XX errors"),
    spec!(APIGW, "4XXError", "Sum", Count, Increase, ClientErrors, 10.0, 2.0, Slow, "4XX errors"),
    spec!(APIGW, "Latency", "Average", Latency, Increase, Latency, 20.0, 0.3, Frequent, "latency"),
    spec!(APIGW, "Latency", "p99", Latency, Increase, Latency, 50.0, 0.5, Slow, "p99 latency"),
    spec!(APIGW, "IntegrationLatency", "Average", Latency, Increase, Latency, 20.0, 0.3, Slow, "integration latency"),
];

#[rustfmt::skip]
static HTTP_API_SPECS: [MetricSpec; 4] = [
    spec!(APIGW, "Count", "Sum", Count, Both, Traffic, 20.0, 0.5, Fast, "requests"),
    spec!(APIGW, "5xx", "Sum", Count, Increase, Errors, 3.0, 1.0, Fast, "5xx errors"),
    spec!(APIGW, "4xx", "Sum", Count, Increase, ClientErrors, 10.0, 2.0, Slow, "4xx errors"),
    spec!(APIGW, "Latency", "Average", Latency, Increase, Latency, 20.0, 0.3, Frequent, "latency"),
];

#[rustfmt::skip]
static SQS_SPECS: [MetricSpec; 3] = [
    spec!(SQS, "ApproximateAgeOfOldestMessage", "Maximum", Gauge, Increase, Backlog, 60.0, 1.0, Fast, "age of oldest message"),
    spec!(SQS, "ApproximateNumberOfMessagesVisible", "Maximum", Gauge, Increase, Backlog, 50.0, 2.0, Normal, "visible messages"),
    spec!(SQS, "NumberOfMessagesSent", "Sum", Count, Both, Traffic, 20.0, 0.5, Normal, "messages sent"),
];

#[rustfmt::skip]
static SNS_SPECS: [MetricSpec; 2] = [
    spec!(SNS, "NumberOfNotificationsFailed", "Sum", Count, Increase, Errors, 3.0, 1.0, Fast, "failed notifications"),
    spec!(SNS, "NumberOfMessagesPublished", "Sum", Count, Both, Traffic, 20.0, 0.5, Normal, "messages published"),
];

#[rustfmt::skip]
static STATES_SPECS: [MetricSpec; 5] = [
    spec!(STATES, "ExecutionsFailed", "Sum", Count, Increase, Errors, 2.0, 1.0, Fast, "failed executions"),
    spec!(STATES, "ExecutionsTimedOut", "Sum", Count, Increase, Errors, 2.0, 1.0, Normal, "timed-out executions"),
    spec!(STATES, "ExecutionThrottled", "Sum", Count, Increase, Throttles, 3.0, 1.0, Normal, "throttled executions"),
    spec!(STATES, "ExecutionsStarted", "Sum", Count, Both, Traffic, 10.0, 0.5, Normal, "executions started"),
    spec!(STATES, "ExecutionTime", "Average", Latency, Increase, Latency, 100.0, 0.5, Normal, "execution time"),
];

#[rustfmt::skip]
static KINESIS_SPECS: [MetricSpec; 4] = [
    spec!(KINESIS, "GetRecords.IteratorAgeMilliseconds", "Maximum", Gauge, Increase, Backlog, 60_000.0, 2.0, Fast, "iterator age"),
    spec!(KINESIS, "IncomingRecords", "Sum", Count, Both, Traffic, 50.0, 0.5, Normal, "incoming records"),
    spec!(KINESIS, "WriteProvisionedThroughputExceeded", "Sum", Count, Increase, Throttles, 3.0, 1.0, Prompt, "write throughput exceeded"),
    spec!(KINESIS, "ReadProvisionedThroughputExceeded", "Sum", Count, Increase, Throttles, 3.0, 1.0, Prompt, "read throughput exceeded"),
];

#[rustfmt::skip]
static ELB_SPECS: [MetricSpec; 5] = [
    spec!(ELB, "HTTPCode_Target_5XX_Count", "Sum", Count, Increase, Errors, 3.0, 1.0, Fast, "target 5XX responses"),
    spec!(ELB, "RequestCount", "Sum", Count, Both, Traffic, 20.0, 0.5, Fast, "requests"),
    spec!(ELB, "HTTPCode_ELB_5XX_Count", "Sum", Count, Increase, Errors, 3.0, 1.0, Normal, "load balancer 5XX responses"),
    spec!(ELB, "TargetResponseTime", "Average", Latency, Increase, Latency, 0.02, 0.3, Normal, "target response time"),
    spec!(ELB, "RejectedConnectionCount", "Sum", Count, Increase, Throttles, 3.0, 1.0, Slow, "rejected connections"),
];

/// A function's invocations where they are the stack's traffic (see
/// [`watch_entry_traffic`]): fetched every other tick, not hourly.
#[rustfmt::skip]
static ENTRY_INVOCATIONS: MetricSpec =
    spec!(LAMBDA, "Invocations", "Sum", Count, Both, Traffic, 20.0, 0.5, Frequent, "invocations");

/// The metrics watched for a kind of resource.
pub fn specs(kind: ResourceKind) -> &'static [MetricSpec] {
    match kind {
        ResourceKind::LambdaFunction => &LAMBDA_SPECS,
        ResourceKind::DynamoDbTable => &DYNAMODB_SPECS,
        ResourceKind::RestApi => &REST_API_SPECS,
        ResourceKind::HttpApi => &HTTP_API_SPECS,
        ResourceKind::SqsQueue => &SQS_SPECS,
        ResourceKind::SnsTopic => &SNS_SPECS,
        ResourceKind::StateMachine => &STATES_SPECS,
        ResourceKind::KinesisStream => &KINESIS_SPECS,
        ResourceKind::LoadBalancer => &ELB_SPECS,
    }
}

/// Every kind of resource the catalog covers.
pub const KINDS: [ResourceKind; 9] = [
    ResourceKind::LambdaFunction,
    ResourceKind::DynamoDbTable,
    ResourceKind::RestApi,
    ResourceKind::HttpApi,
    ResourceKind::SqsQueue,
    ResourceKind::SnsTopic,
    ResourceKind::StateMachine,
    ResourceKind::KinesisStream,
    ResourceKind::LoadBalancer,
];

/// The spec of a metric of a kind of resource, by namespace, name and stat.
pub fn find_spec(
    kind: ResourceKind,
    namespace: &str,
    name: &str,
    stat: &str,
) -> Option<&'static MetricSpec> {
    specs(kind)
        .iter()
        .find(|s| s.namespace == namespace && s.name == name && s.stat == stat)
}

/// DynamoDB operations watched when none were discovered for a table.
pub const DEFAULT_TABLE_OPERATIONS: [&str; 4] = ["GetItem", "PutItem", "Query", "UpdateItem"];

/// One metric the product watches: its key, the resource it belongs to and
/// its spec.
#[derive(Clone, Debug, PartialEq)]
pub struct WatchedMetric {
    /// The CloudWatch series.
    pub key: MetricKey,
    /// The resource it describes.
    pub resource: Resource,
    /// What the catalog knows about it.
    pub spec: &'static MetricSpec,
}

impl WatchedMetric {
    /// The kind of the resource (always known: only catalogued resources
    /// have watched metrics).
    pub fn kind(&self) -> Option<ResourceKind> {
        ResourceKind::from_type(&self.resource.resource_type)
    }
}

/// Resolves the metrics to watch for a stack.
///
/// `configs` maps physical ids to describe-call output (the REST API's name
/// and stage come from there, a queue's visibility timeout too). `known`
/// lists series known to exist (from CloudWatch `ListMetrics`, or a scenario
/// file): they supply DynamoDB operations and API stages that configuration
/// alone does not name. The result is sorted by key and has no duplicates.
pub fn plan_metrics(
    resources: &[Resource],
    configs: &BTreeMap<String, ConfigValue>,
    known: &[MetricKey],
    period: u32,
) -> Vec<WatchedMetric> {
    let mut out: BTreeMap<MetricKey, WatchedMetric> = BTreeMap::new();
    let stage_resources: Vec<&str> = resources
        .iter()
        .filter(|r| {
            r.resource_type == "AWS::ApiGateway::Stage"
                || r.resource_type == "AWS::ApiGatewayV2::Stage"
        })
        .map(|r| r.physical_id.as_str())
        .collect();
    let rest_apis = resources
        .iter()
        .filter(|r| ResourceKind::from_type(&r.resource_type) == Some(ResourceKind::RestApi))
        .count();

    for resource in resources {
        let Some(kind) = ResourceKind::from_type(&resource.resource_type) else {
            continue;
        };
        let config = configs
            .get(&resource.physical_id)
            .unwrap_or(&ConfigValue::Null);
        for base in base_dimensions(kind, resource, config, known, &stage_resources, rest_apis) {
            for spec in specs(kind) {
                if spec.per_operation {
                    for op in table_operations(&resource.physical_id, known) {
                        let mut dims = base.clone();
                        dims.push(Dimension::new("Operation", op));
                        insert(&mut out, spec, dims, resource, period);
                    }
                } else {
                    insert(&mut out, spec, base.clone(), resource, period);
                }
            }
        }
    }
    let mut metrics: Vec<WatchedMetric> = out.into_values().collect();
    watch_entry_traffic(
        &mut metrics.iter_mut().collect::<Vec<_>>(),
        resources,
        configs,
    );
    metrics
}

/// Resource types that start the function they are named after, as SAM
/// names the resources of a function's events (`<Function><Event>`): a
/// schedule or an EventBridge rule, a topic subscription, a log
/// subscription, an IoT rule.
const STARTERS: [&str; 5] = [
    "AWS::Events::Rule",
    "AWS::Scheduler::Schedule",
    "AWS::SNS::Subscription",
    "AWS::Logs::SubscriptionFilter",
    "AWS::IoT::TopicRule",
];

/// Where no traffic metric of a stack is fetched at every tick (it has no
/// API stage or load balancer: its functions are called from another
/// stack, a function URL or an SDK), its traffic is the invocations of the
/// functions that nothing in the stack starts: no queue, stream or table
/// feeds them (an event source mapping) and no schedule, rule or
/// subscription of the stack is named after them ([`STARTERS`]).
/// Those are fetched every other tick rather than hourly, so that traffic
/// lost or a surge shows within minutes, as an API's requests would.
/// Applied by [`plan_metrics`], and again to an inventory read back from a
/// store, whose specs are found by name.
pub fn watch_entry_traffic(
    metrics: &mut [&mut WatchedMetric],
    resources: &[Resource],
    configs: &BTreeMap<String, ConfigValue>,
) {
    if metrics
        .iter()
        .any(|m| m.spec.class == SignalClass::Traffic && m.spec.cadence == Cadence::Fast)
    {
        return;
    }
    let Some(invocations) = find_spec(
        ResourceKind::LambdaFunction,
        ENTRY_INVOCATIONS.namespace,
        ENTRY_INVOCATIONS.name,
        ENTRY_INVOCATIONS.stat,
    ) else {
        return;
    };
    let topology = Topology::of(resources, configs);
    let started: BTreeSet<&str> = resources
        .iter()
        .filter(|r| STARTERS.contains(&r.resource_type.as_str()))
        .filter_map(|starter| named_after(resources, &starter.logical_id))
        .map(|f| f.physical_id.as_str())
        .collect();
    for m in metrics.iter_mut() {
        let id = m.resource.physical_id.as_str();
        if m.spec == invocations && !topology.fed(id) && !started.contains(id) {
            m.spec = &ENTRY_INVOCATIONS;
        }
    }
}

fn insert(
    out: &mut BTreeMap<MetricKey, WatchedMetric>,
    spec: &'static MetricSpec,
    dims: Vec<Dimension>,
    resource: &Resource,
    period: u32,
) {
    let key = MetricKey::new(spec.namespace, spec.name, dims, spec.stat, period);
    out.entry(key.clone()).or_insert_with(|| WatchedMetric {
        key,
        resource: resource.clone(),
        spec,
    });
}

/// The dimension sets under which a resource's metrics are published; APIs
/// have one per stage, everything else exactly one, or none when the
/// resource cannot be named (an API whose name is unknown).
fn base_dimensions(
    kind: ResourceKind,
    resource: &Resource,
    config: &ConfigValue,
    known: &[MetricKey],
    stage_resources: &[&str],
    rest_apis: usize,
) -> Vec<Vec<Dimension>> {
    let id = resource.physical_id.as_str();
    let one = |name: &str, value: &str| vec![vec![Dimension::new(name, value)]];
    match kind {
        ResourceKind::LambdaFunction => one("FunctionName", id),
        ResourceKind::DynamoDbTable => one("TableName", id),
        ResourceKind::SqsQueue => one("QueueName", short_name(id)),
        ResourceKind::SnsTopic => one("TopicName", short_name(id)),
        ResourceKind::StateMachine => one("StateMachineArn", id),
        ResourceKind::KinesisStream => one("StreamName", id),
        ResourceKind::LoadBalancer => match id.split_once(":loadbalancer/") {
            Some((_, suffix)) => one("LoadBalancer", suffix),
            None => Vec::new(),
        },
        ResourceKind::RestApi => {
            let Some(name) = config.at(&["name"]).as_str() else {
                return Vec::new();
            };
            let mut stages: BTreeSet<String> = BTreeSet::new();
            if let Some(stage) = config.at(&["stageName"]).as_str() {
                stages.insert(stage.to_string());
            }
            for key in known
                .iter()
                .filter(|k| k.namespace() == APIGW && k.dimension("ApiName") == Some(name))
            {
                if let Some(stage) = key.dimension("Stage") {
                    stages.insert(stage.to_string());
                }
            }
            if stages.is_empty() && rest_apis == 1 {
                stages.extend(stage_resources.iter().map(|s| s.to_string()));
            }
            stages
                .into_iter()
                .map(|stage| {
                    vec![
                        Dimension::new("ApiName", name),
                        Dimension::new("Stage", stage),
                    ]
                })
                .collect()
        }
        ResourceKind::HttpApi => {
            let mut stages: BTreeSet<String> = BTreeSet::new();
            for key in known
                .iter()
                .filter(|k| k.namespace() == APIGW && k.dimension("ApiId") == Some(id))
            {
                if let Some(stage) = key.dimension("Stage") {
                    stages.insert(stage.to_string());
                }
            }
            if stages.is_empty() {
                stages.insert("$default".to_string());
            }
            stages
                .into_iter()
                .map(|stage| vec![Dimension::new("ApiId", id), Dimension::new("Stage", stage)])
                .collect()
        }
    }
}

fn table_operations(table: &str, known: &[MetricKey]) -> Vec<String> {
    let found: BTreeSet<String> = known
        .iter()
        .filter(|k| k.namespace() == DYNAMODB && k.dimension("TableName") == Some(table))
        .filter_map(|k| k.dimension("Operation").map(str::to_string))
        .collect();
    if found.is_empty() {
        DEFAULT_TABLE_OPERATIONS
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        found.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::resource::object as map;

    #[test]
    fn a_count_s_smallest_change_is_per_minute_whatever_the_period() {
        let errors = find_spec(ResourceKind::LambdaFunction, LAMBDA, "Errors", "Sum").unwrap();
        assert_eq!(errors.min_change_at(60), 3.0);
        assert_eq!(errors.min_change_at(300), 15.0);
        let duration =
            find_spec(ResourceKind::LambdaFunction, LAMBDA, "Duration", "Average").unwrap();
        assert_eq!(duration.min_change_at(300), duration.min_change);
    }

    #[test]
    fn cadences_beat_on_the_clock_ticks() {
        let at = |tick: i64| Timestamp::from_secs(tick * 300 + 17);
        let beats = |c: Cadence| {
            (0..144)
                .filter(|t| c.beats(at(*t), 300))
                .collect::<Vec<_>>()
        };
        assert_eq!(beats(Cadence::Fast).len(), 144);
        assert_eq!(
            beats(Cadence::Frequent),
            (0..144).step_by(2).collect::<Vec<_>>()
        );
        assert_eq!(
            beats(Cadence::Prompt),
            (0..144).step_by(4).collect::<Vec<_>>()
        );
        assert_eq!(
            beats(Cadence::Normal),
            (0..144).step_by(12).collect::<Vec<_>>()
        );
        assert_eq!(beats(Cadence::Slow), vec![0, 72]);
        // Before the epoch too, and with a nonsensical schedule.
        assert!(Cadence::Frequent.beats(Timestamp::from_secs(-600), 300));
        assert!(!Cadence::Frequent.beats(Timestamp::from_secs(-300), 300));
        assert!(Cadence::Fast.beats(at(5), 0));
    }

    #[test]
    fn an_api_latency_or_entry_invocations_and_the_functions_durations_beat_on_alternate_ticks() {
        let frequent: Vec<&MetricSpec> = KINDS
            .iter()
            .flat_map(|k| specs(*k))
            .chain(std::iter::once(&ENTRY_INVOCATIONS))
            .filter(|s| s.cadence == Cadence::Frequent)
            .collect();
        let (api, function): (Vec<&MetricSpec>, Vec<&MetricSpec>) = frequent
            .iter()
            .partition(|s| s.namespace == APIGW || s.class == SignalClass::Traffic);
        assert!(!function.is_empty() && api.len() >= 3, "{frequent:?}");
        for tick in 0..6 {
            let now = Timestamp::from_secs(tick * 300 + 42);
            let f = function.iter().all(|s| s.beats(now, 300));
            let a = api.iter().all(|s| s.beats(now, 300));
            assert!(f != a, "tick {tick}: functions {f}, API {a}");
            assert!(function.iter().all(|s| s.beats(now, 300) == f));
            assert!(api.iter().all(|s| s.beats(now, 300) == a));
        }
    }

    /// Invocations of each function of `resources` and `configs`: whether
    /// fetched every other tick, by function logical id.
    fn entry_invocations(
        resources: &[Resource],
        configs: &BTreeMap<String, ConfigValue>,
    ) -> BTreeMap<String, bool> {
        plan_metrics(resources, configs, &[], 60)
            .into_iter()
            .filter(|m| m.key.name() == "Invocations")
            .map(|m| (m.resource.logical_id, m.spec.cadence == Cadence::Frequent))
            .collect()
    }

    #[test]
    fn without_an_api_the_functions_nothing_in_the_stack_starts_are_its_traffic() {
        let mut resources = vec![
            Resource::new("Get", "shop-Get-1", "AWS::Lambda::Function"),
            Resource::new("Consumer", "shop-Consumer-1", "AWS::Lambda::Function"),
            Resource::new("Cleanup", "shop-Cleanup-1", "AWS::Lambda::Function"),
            Resource::new(
                "CleanupReport",
                "shop-CleanupReport-1",
                "AWS::Lambda::Function",
            ),
            Resource::new(
                "CleanupReportNightly",
                "shop-CleanupReportNightly-1",
                "AWS::Events::Rule",
            ),
            Resource::new(
                "Q",
                "https://sqs.us-east-1.amazonaws.com/1/shop-Q",
                "AWS::SQS::Queue",
            ),
            Resource::new("ConsumerQueue", "esm-1", "AWS::Lambda::EventSourceMapping"),
            Resource::new("Notify", "shop-Notify-1", "AWS::Lambda::Function"),
            Resource::new(
                "NotifyOrderPlaced",
                "arn:aws:sns:us-east-1:1:shop-Orders:5f1c",
                "AWS::SNS::Subscription",
            ),
        ];
        let mut configs = BTreeMap::new();
        configs.insert(
            "esm-1".to_string(),
            map([
                (
                    "EventSourceArn",
                    ConfigValue::Text("arn:aws:sqs:us-east-1:1:shop-Q".into()),
                ),
                (
                    "FunctionArn",
                    ConfigValue::Text("arn:aws:lambda:us-east-1:1:function:shop-Consumer-1".into()),
                ),
            ]),
        );
        // The queue's consumer, the scheduled report and the topic's
        // subscriber are started by the stack; `Cleanup` only prefixes the
        // report's schedule.
        let expected: BTreeMap<String, bool> = [
            ("Cleanup", true),
            ("CleanupReport", false),
            ("Consumer", false),
            ("Get", true),
            ("Notify", false),
        ]
        .into_iter()
        .map(|(f, frequent)| (f.to_string(), frequent))
        .collect();
        assert_eq!(entry_invocations(&resources, &configs), expected);
        let entry = plan_metrics(&resources, &configs, &[], 60)
            .into_iter()
            .find(|m| m.key.name() == "Invocations" && m.resource.logical_id == "Get")
            .map(|m| m.spec);
        assert_eq!(
            entry.map(|s| s.beats(Timestamp::from_secs(300), 300)),
            Some(true)
        );

        // With an API stage, its requests are the traffic, at every tick.
        resources.push(Resource::new("Api", "abc123", "AWS::ApiGateway::RestApi"));
        configs.insert(
            "abc123".to_string(),
            map([
                ("name", ConfigValue::Text("shop-api".into())),
                ("stageName", ConfigValue::Text("prod".into())),
            ]),
        );
        assert!(
            entry_invocations(&resources, &configs)
                .values()
                .all(|frequent| !frequent)
        );
    }

    #[test]
    fn every_kind_has_specs_with_sane_floors() {
        for kind in KINDS {
            let specs = specs(kind);
            assert!(!specs.is_empty(), "{kind:?}");
            // Tables are watched through the functions that call them (their
            // errors and duration are fast) until an insight makes every
            // metric of the stack fast.
            if kind != ResourceKind::DynamoDbTable {
                assert!(
                    specs.iter().any(|s| s.cadence == Cadence::Fast),
                    "{kind:?} has no fast metric"
                );
            }
            for s in specs {
                assert!(s.min_change > 0.0 && s.min_ratio > 0.0, "{}", s.name);
                assert_eq!(find_spec(kind, s.namespace, s.name, s.stat), Some(s));
            }
        }
    }

    #[test]
    fn lambda_and_queue_dimensions_come_from_the_physical_id() {
        let resources = vec![
            Resource::new("Fn", "orders-Fn-1", "AWS::Lambda::Function"),
            Resource::new(
                "Q",
                "https://sqs.us-east-1.amazonaws.com/1/orders-Q",
                "AWS::SQS::Queue",
            ),
            Resource::new("Role", "orders-Role", "AWS::IAM::Role"),
        ];
        let planned = plan_metrics(&resources, &BTreeMap::new(), &[], 60);
        assert_eq!(planned.len(), LAMBDA_SPECS.len() + SQS_SPECS.len());
        assert!(
            planned
                .iter()
                .any(|m| m.key.dimension("FunctionName") == Some("orders-Fn-1"))
        );
        assert!(
            planned
                .iter()
                .any(|m| m.key.dimension("QueueName") == Some("orders-Q"))
        );
    }

    #[test]
    fn rest_api_is_watched_per_stage_under_its_name() {
        let resources = vec![Resource::new("Api", "abc123", "AWS::ApiGateway::RestApi")];
        let mut configs = BTreeMap::new();
        configs.insert(
            "abc123".to_string(),
            map([
                ("name", ConfigValue::Text("orders-api".into())),
                ("stageName", ConfigValue::Text("v1".into())),
            ]),
        );
        let planned = plan_metrics(&resources, &configs, &[], 60);
        assert_eq!(planned.len(), REST_API_SPECS.len());
        assert!(
            planned
                .iter()
                .all(|m| m.key.dimension("ApiName") == Some("orders-api"))
        );
        assert!(
            planned
                .iter()
                .all(|m| m.key.dimension("Stage") == Some("v1"))
        );
        // Without its name the API cannot be watched, and nothing is invented.
        assert!(plan_metrics(&resources, &BTreeMap::new(), &[], 60).is_empty());
    }

    #[test]
    fn table_operations_come_from_known_series() {
        let resources = vec![Resource::new("T", "orders-T", "AWS::DynamoDB::Table")];
        let known = vec![MetricKey::new(
            DYNAMODB,
            "SuccessfulRequestLatency",
            vec![
                Dimension::new("TableName", "orders-T"),
                Dimension::new("Operation", "Scan"),
            ],
            "Average",
            60,
        )];
        let planned = plan_metrics(&resources, &BTreeMap::new(), &known, 60);
        let ops: BTreeSet<_> = planned
            .iter()
            .filter_map(|m| m.key.dimension("Operation"))
            .collect();
        assert_eq!(ops.into_iter().collect::<Vec<_>>(), vec!["Scan"]);
    }
}

/// How a metric's values read in a sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Events per period ("12/min").
    PerPeriod,
    /// Milliseconds.
    Millis,
    /// Seconds.
    Seconds,
    /// A plain level (concurrency, queue depth).
    Plain,
}

impl MetricSpec {
    /// Whether a scheduled tick at `now` is one of this metric's fetches.
    /// An API's average latency beats on the ticks between those of its
    /// functions' durations: a slow dependency shows in both, so the next
    /// tick sees it whichever it is. So do the invocations fetched as a
    /// stack's traffic (see [`watch_entry_traffic`]): every tick then
    /// fetches something of the stack's entry functions.
    pub fn beats(&self, now: Timestamp, schedule_secs: i64) -> bool {
        let offset = i64::from(
            self.cadence == Cadence::Frequent
                && (self.namespace == APIGW || self.class == SignalClass::Traffic),
        );
        self.cadence
            .beats(now.add(offset * schedule_secs), schedule_secs)
    }

    /// The unit of the metric's values.
    pub fn unit(&self) -> Unit {
        match (self.kind, self.name) {
            (ValueKind::Count, _) => Unit::PerPeriod,
            (_, "ApproximateAgeOfOldestMessage" | "TargetResponseTime") => Unit::Seconds,
            (ValueKind::Latency, _) | (_, "GetRecords.IteratorAgeMilliseconds") => Unit::Millis,
            _ => Unit::Plain,
        }
    }

    /// A value in the metric's unit, rounded for people: `12/min`, `240 ms`.
    pub fn format_value(&self, value: f64, period: u32) -> String {
        let n = round_for_people(value);
        match self.unit() {
            Unit::PerPeriod => match period {
                60 => format!("{n}/min"),
                300 => format!("{n}/5 min"),
                3600 => format!("{n}/h"),
                p => format!("{n}/{p} s"),
            },
            Unit::Millis => format!("{n} ms"),
            Unit::Seconds => format!("{n} s"),
            Unit::Plain => n,
        }
    }
}

/// Whole numbers from 10 up, one decimal from 1 to 10, two significant
/// digits below 1.
pub fn round_for_people(v: f64) -> String {
    let a = v.abs();
    if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        let s = format!("{:.1}", v);
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    } else {
        let digits = (-a.log10()).ceil() as usize + 1;
        format!("{:.*}", digits.min(6), v)
    }
}
