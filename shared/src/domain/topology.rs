//! A stack's topology: which resource sends work to which.
//!
//! Derived from what CloudFormation and the describe calls say, without any
//! tracing: an event source mapping links a queue or stream to its consumer
//! function; a Lambda permission named after a function links the stack's
//! API to it; functions are assumed to call the stack's tables and the
//! queues they do not consume. Requests flow downstream: API → function →
//! table, queue → consumer → table.

use std::collections::{BTreeMap, BTreeSet};

use super::resource::{ConfigValue, Resource, ResourceKind, short_name};

/// How sure the topology is of an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Edge {
    /// Declared: an event source mapping, a permission for the API.
    Declared,
    /// Assumed from the stack's shape: functions use the stack's tables.
    Assumed,
}

/// Directed edges between physical ids, caller → callee.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Topology {
    edges: BTreeMap<(String, String), Edge>,
}

impl Topology {
    /// Builds the topology of a stack.
    pub fn of(resources: &[Resource], configs: &BTreeMap<String, ConfigValue>) -> Self {
        let mut t = Topology::default();
        let kind = |r: &Resource| ResourceKind::from_type(&r.resource_type);
        let functions: Vec<&Resource> = resources
            .iter()
            .filter(|r| kind(r) == Some(ResourceKind::LambdaFunction))
            .collect();
        let by_short: BTreeMap<&str, &Resource> = resources
            .iter()
            .filter(|r| kind(r).is_some())
            .map(|r| (short_name(&r.physical_id), r))
            .collect();
        // Event source mappings: queue/stream/table → function.
        let mut consumers: BTreeSet<(String, String)> = BTreeSet::new();
        for r in resources
            .iter()
            .filter(|r| r.resource_type == "AWS::Lambda::EventSourceMapping")
        {
            let Some(config) = configs.get(&r.physical_id) else {
                continue;
            };
            let (Some(source), Some(function)) = (
                config.at(&["EventSourceArn"]).as_str(),
                config
                    .at(&["FunctionArn"])
                    .as_str()
                    .or_else(|| config.at(&["FunctionName"]).as_str()),
            ) else {
                continue;
            };
            let source = arn_resource_name(source);
            let function = arn_resource_name(function);
            if let (Some(s), Some(f)) = (by_short.get(source), by_short.get(function)) {
                t.add(&s.physical_id, &f.physical_id, Edge::Declared);
                consumers.insert((s.physical_id.clone(), f.physical_id.clone()));
            }
        }
        // Permissions for the API: API → function.
        let apis: Vec<&Resource> = resources
            .iter()
            .filter(|r| matches!(kind(r), Some(ResourceKind::RestApi | ResourceKind::HttpApi)))
            .collect();
        if apis.len() == 1 {
            for p in resources
                .iter()
                .filter(|r| r.resource_type == "AWS::Lambda::Permission")
            {
                let logical = p.logical_id.to_ascii_lowercase();
                if !logical.contains("api") {
                    continue;
                }
                if let Some(f) = named_after(resources, &p.logical_id) {
                    t.add(&apis[0].physical_id, &f.physical_id, Edge::Declared);
                }
            }
        }
        // Functions use the stack's tables, and queues they do not consume.
        for f in &functions {
            for r in resources {
                match kind(r) {
                    Some(ResourceKind::DynamoDbTable) => {
                        t.add(&f.physical_id, &r.physical_id, Edge::Assumed)
                    }
                    Some(
                        ResourceKind::SqsQueue
                        | ResourceKind::SnsTopic
                        | ResourceKind::KinesisStream,
                    ) if !consumers.contains(&(r.physical_id.clone(), f.physical_id.clone())) => {
                        t.add(&f.physical_id, &r.physical_id, Edge::Assumed);
                    }
                    _ => {}
                }
            }
        }
        t
    }

    fn add(&mut self, from: &str, to: &str, edge: Edge) {
        if from == to {
            return;
        }
        let e = self
            .edges
            .entry((from.to_string(), to.to_string()))
            .or_insert(edge);
        *e = (*e).min(edge);
    }

    /// The edge from `from` to `to`, if any.
    pub fn edge(&self, from: &str, to: &str) -> Option<Edge> {
        self.edges.get(&(from.to_string(), to.to_string())).copied()
    }

    /// Whether something of the stack is declared to send work to `to` (an
    /// event source mapping, the stack's API).
    pub fn fed(&self, to: &str) -> bool {
        self.edges
            .iter()
            .any(|((_, b), e)| b == to && *e == Edge::Declared)
    }

    /// Whether `from` sends work to `to`, directly or through others.
    pub fn reaches(&self, from: &str, to: &str) -> bool {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(here) = stack.pop() {
            for ((a, b), _) in self.edges.range((here.to_string(), String::new())..) {
                if a != here {
                    break;
                }
                if b == to {
                    return true;
                }
                if seen.insert(b) {
                    stack.push(b);
                }
            }
        }
        false
    }

    /// How many edges there are.
    pub fn len(&self) -> usize {
        self.edges.len()
    }

    /// Whether there is no edge at all.
    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }
}

/// The function of `resources` that a resource SAM made for one of its
/// events is named after (`GetOrderApiPermission`, `CleanupSchedule`): the
/// one whose logical id is the longest that prefixes `logical_id`, so that
/// `CleanupReportSchedule` belongs to `CleanupReport`, not to `Cleanup`.
pub fn named_after<'a>(resources: &'a [Resource], logical_id: &str) -> Option<&'a Resource> {
    resources
        .iter()
        .filter(|f| ResourceKind::from_type(&f.resource_type) == Some(ResourceKind::LambdaFunction))
        .filter(|f| logical_id.starts_with(f.logical_id.as_str()))
        .max_by_key(|f| f.logical_id.len())
}

/// The resource name at the end of an ARN (`…:function:name` → `name`,
/// `…:table/name/stream/…` → `name`), or the text itself.
fn arn_resource_name(arn: &str) -> &str {
    if !arn.starts_with("arn:") {
        return short_name(arn);
    }
    let tail = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    let tail = tail.strip_prefix("function:").unwrap_or(tail);
    let mut parts = tail.split('/');
    match (parts.next(), parts.next()) {
        (Some("table" | "stream"), Some(name)) => name,
        (Some(first), _) => first.split(':').next().unwrap_or(first),
        _ => tail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> ConfigValue {
        ConfigValue::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), ConfigValue::Text(v.to_string())))
                .collect(),
        )
    }

    #[test]
    fn mappings_permissions_and_tables_make_the_edges() {
        let queue_url = "https://sqs.eu-west-1.amazonaws.com/1/shop-Queue-X";
        let resources = vec![
            Resource::new("RestApi", "api1", "AWS::ApiGateway::RestApi"),
            Resource::new("CreateFunction", "shop-Create-1", "AWS::Lambda::Function"),
            Resource::new(
                "CreateFunctionApiPermissionlive",
                "perm",
                "AWS::Lambda::Permission",
            ),
            Resource::new(
                "ConsumerFunction",
                "shop-Consumer-2",
                "AWS::Lambda::Function",
            ),
            Resource::new(
                "ConsumerFunctionQueueEvent",
                "uuid-1",
                "AWS::Lambda::EventSourceMapping",
            ),
            Resource::new("Queue", queue_url, "AWS::SQS::Queue"),
            Resource::new("Table", "shop-Table-3", "AWS::DynamoDB::Table"),
        ];
        let mut configs = BTreeMap::new();
        configs.insert(
            "uuid-1".to_string(),
            config(&[
                ("EventSourceArn", "arn:aws:sqs:eu-west-1:1:shop-Queue-X"),
                (
                    "FunctionArn",
                    "arn:aws:lambda:eu-west-1:1:function:shop-Consumer-2",
                ),
            ]),
        );
        let t = Topology::of(&resources, &configs);
        assert_eq!(t.edge("api1", "shop-Create-1"), Some(Edge::Declared));
        assert_eq!(t.edge("api1", "shop-Consumer-2"), None);
        assert_eq!(t.edge(queue_url, "shop-Consumer-2"), Some(Edge::Declared));
        assert_eq!(
            t.edge("shop-Consumer-2", queue_url),
            None,
            "a consumer does not feed its own queue"
        );
        assert_eq!(t.edge("shop-Create-1", queue_url), Some(Edge::Assumed));
        assert_eq!(t.edge("shop-Create-1", "shop-Table-3"), Some(Edge::Assumed));
        assert!(t.reaches("api1", "shop-Table-3"));
        assert!(t.reaches("api1", "shop-Consumer-2"), "through the queue");
        assert!(!t.reaches("shop-Table-3", "api1"));
    }

    #[test]
    fn arn_names_are_extracted() {
        assert_eq!(arn_resource_name("arn:aws:lambda:r:1:function:f-1"), "f-1");
        assert_eq!(
            arn_resource_name("arn:aws:lambda:r:1:function:f-1:live"),
            "f-1"
        );
        assert_eq!(arn_resource_name("arn:aws:sqs:r:1:q"), "q");
        assert_eq!(
            arn_resource_name("arn:aws:dynamodb:r:1:table/t/stream/2026"),
            "t"
        );
        assert_eq!(arn_resource_name("arn:aws:kinesis:r:1:stream/s"), "s");
    }
}
