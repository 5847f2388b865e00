//! The stack catalog over CloudFormation and the describe calls of Lambda,
//! DynamoDB, SQS and API Gateway.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::types::StackStatus;
use tracing::warn;

use super::{source_unavailable, to_timestamp};
use crate::domain::event::StackEvent;
use crate::domain::resource::{ConfigValue, Resource};
use crate::domain::stack::{StackSelection, StackSummary};
use crate::domain::time::Timestamp;
use crate::ports::{SourceError, StackCatalog};

/// CloudFormation and the services whose configuration is read.
#[derive(Clone, Debug)]
pub struct CloudFormationCatalog {
    cfn: aws_sdk_cloudformation::Client,
    lambda: aws_sdk_lambda::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    apigateway: aws_sdk_apigateway::Client,
}

impl CloudFormationCatalog {
    /// A catalog whose clients all use `config`.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            cfn: aws_sdk_cloudformation::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            sqs: aws_sdk_sqs::Client::new(config),
            apigateway: aws_sdk_apigateway::Client::new(config),
        }
    }

    /// A catalog over existing clients (tests give mocked ones).
    pub fn from_clients(
        cfn: aws_sdk_cloudformation::Client,
        lambda: aws_sdk_lambda::Client,
        dynamodb: aws_sdk_dynamodb::Client,
        sqs: aws_sdk_sqs::Client,
        apigateway: aws_sdk_apigateway::Client,
    ) -> Self {
        Self {
            cfn,
            lambda,
            dynamodb,
            sqs,
            apigateway,
        }
    }
}

/// Whether a CloudFormation error says the stack does not exist (it answers
/// `ValidationError` "Stack with id X does not exist").
fn stack_missing<E: aws_sdk_cloudformation::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ValidationError") && e.message().is_some_and(|m| m.contains("does not exist"))
}

/// Every status but `DELETE_COMPLETE`: a deleted stack drops out of the list
/// (and is forgotten); one being deleted is listed as inactive.
fn listed_statuses() -> Vec<StackStatus> {
    StackStatus::values()
        .iter()
        .filter(|s| **s != "DELETE_COMPLETE")
        .map(|s| StackStatus::from(*s))
        .collect()
}

impl StackCatalog for CloudFormationCatalog {
    async fn list_stacks(
        &self,
        selection: &StackSelection,
    ) -> Result<Vec<StackSummary>, SourceError> {
        let mut out = Vec::new();
        let mut token = None;
        if selection.needs_tags() {
            // DescribeStacks lists every stack that is not deleted, with tags.
            loop {
                let page = self
                    .cfn
                    .describe_stacks()
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| source_unavailable("DescribeStacks", e))?;
                for s in page.stacks() {
                    out.push(StackSummary {
                        name: s.stack_name().unwrap_or_default().to_string(),
                        status: s
                            .stack_status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        tags: s
                            .tags()
                            .iter()
                            .map(|t| {
                                (
                                    t.key().unwrap_or_default().to_string(),
                                    t.value().unwrap_or_default().to_string(),
                                )
                            })
                            .collect(),
                    });
                }
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
        } else {
            loop {
                let page = self
                    .cfn
                    .list_stacks()
                    .set_stack_status_filter(Some(listed_statuses()))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| source_unavailable("ListStacks", e))?;
                for s in page.stack_summaries() {
                    out.push(StackSummary {
                        name: s.stack_name().unwrap_or_default().to_string(),
                        status: s
                            .stack_status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        tags: Vec::new(),
                    });
                }
                token = page.next_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
        }
        out.retain(|s| !s.name.is_empty() && selection.matches(s));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out.dedup_by(|a, b| a.name == b.name);
        Ok(out)
    }

    async fn resources(&self, stack: &str) -> Result<Vec<Resource>, SourceError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = match self
                .cfn
                .list_stack_resources()
                .stack_name(stack)
                .set_next_token(token)
                .send()
                .await
            {
                Ok(page) => page,
                Err(e) if e.as_service_error().is_some_and(stack_missing) => {
                    return Err(SourceError::NotFound {
                        what: format!("stack {stack}"),
                    });
                }
                Err(e) => return Err(source_unavailable("ListStackResources", e)),
            };
            for r in page.stack_resource_summaries() {
                // A resource that failed to create has no physical id.
                if let Some(physical) = r.physical_resource_id().filter(|p| !p.is_empty()) {
                    out.push(Resource::new(
                        r.logical_resource_id().unwrap_or_default(),
                        physical,
                        r.resource_type().unwrap_or_default(),
                    ));
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn events(&self, stack: &str, since: Timestamp) -> Result<Vec<StackEvent>, SourceError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = match self
                .cfn
                .describe_stack_events()
                .stack_name(stack)
                .set_next_token(token)
                .send()
                .await
            {
                Ok(page) => page,
                Err(e) if e.as_service_error().is_some_and(stack_missing) => {
                    return Err(SourceError::NotFound {
                        what: format!("stack {stack}"),
                    });
                }
                Err(e) => return Err(source_unavailable("DescribeStackEvents", e)),
            };
            let mut reached_since = false;
            for e in page.stack_events() {
                let Some(time) = e.timestamp().map(to_timestamp) else {
                    continue;
                };
                if time < since {
                    reached_since = true;
                    continue;
                }
                out.push(StackEvent {
                    time,
                    resource: Resource::new(
                        e.logical_resource_id().unwrap_or_default(),
                        e.physical_resource_id().unwrap_or_default(),
                        e.resource_type().unwrap_or_default(),
                    ),
                    status: e
                        .resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    reason: e.resource_status_reason().map(str::to_string),
                });
            }
            // Events come newest first: once a page reaches back before
            // `since`, the next pages are older still.
            token = page.next_token().map(str::to_string);
            if reached_since || token.is_none() {
                break;
            }
        }
        out.sort();
        Ok(out)
    }

    async fn configuration(&self, resource: &Resource) -> Result<Option<ConfigValue>, SourceError> {
        let id = resource.physical_id.as_str();
        let config = match resource.resource_type.as_str() {
            "AWS::Lambda::Function" | "AWS::Serverless::Function" => self.function(id).await,
            "AWS::DynamoDB::Table"
            | "AWS::DynamoDB::GlobalTable"
            | "AWS::Serverless::SimpleTable" => self.table(id).await,
            "AWS::SQS::Queue" => self.queue(id).await,
            "AWS::ApiGateway::RestApi" | "AWS::Serverless::Api" => self.rest_api(id).await,
            "AWS::Lambda::EventSourceMapping" => self.event_source_mapping(id).await,
            _ => return Ok(None),
        };
        match config {
            Ok(c) => Ok(Some(c)),
            // The resource left its stack's back: nothing to describe.
            Err(SourceError::NotFound { what }) => {
                warn!(
                    resource = id,
                    what, "resource not found while reading its configuration"
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// Builds a [`ConfigValue::Map`] field by field, leaving out absent values.
#[derive(Default)]
struct Fields(BTreeMap<String, ConfigValue>);

impl Fields {
    fn text(mut self, name: &str, v: Option<&str>) -> Self {
        if let Some(v) = v {
            self.0.insert(name.into(), ConfigValue::Text(v.into()));
        }
        self
    }
    fn num(mut self, name: &str, v: Option<f64>) -> Self {
        if let Some(v) = v {
            self.0.insert(name.into(), ConfigValue::Number(v));
        }
        self
    }
    fn value(mut self, name: &str, v: Option<ConfigValue>) -> Self {
        if let Some(v) = v {
            self.0.insert(name.into(), v);
        }
        self
    }
    fn done(self) -> ConfigValue {
        ConfigValue::Map(self.0)
    }
}

fn texts<'a>(items: impl IntoIterator<Item = &'a str>) -> ConfigValue {
    ConfigValue::List(
        items
            .into_iter()
            .map(|s| ConfigValue::Text(s.into()))
            .collect(),
    )
}

fn not_found(what: String) -> SourceError {
    SourceError::NotFound { what }
}

impl CloudFormationCatalog {
    async fn function(&self, name: &str) -> Result<ConfigValue, SourceError> {
        let c = match self
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
        {
            Ok(c) => c,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Err(not_found(format!("function {name}")));
            }
            Err(e) => return Err(source_unavailable("GetFunctionConfiguration", e)),
        };
        let reserved = match self
            .lambda
            .get_function_concurrency()
            .function_name(name)
            .send()
            .await
        {
            Ok(r) => r.reserved_concurrent_executions(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Err(not_found(format!("function {name}")));
            }
            Err(e) => return Err(source_unavailable("GetFunctionConcurrency", e)),
        };
        Ok(Fields::default()
            .text("FunctionName", c.function_name())
            .text("FunctionArn", c.function_arn())
            .text("Runtime", c.runtime().map(|r| r.as_str()))
            .text("Role", c.role())
            .text("Handler", c.handler())
            .num("CodeSize", Some(c.code_size() as f64))
            .num("Timeout", c.timeout().map(f64::from))
            .num("MemorySize", c.memory_size().map(f64::from))
            .text("LastModified", c.last_modified())
            .value(
                "Architectures",
                Some(texts(c.architectures().iter().map(|a| a.as_str()))),
            )
            .text("PackageType", c.package_type().map(|p| p.as_str()))
            .value(
                "TracingConfig",
                c.tracing_config().map(|t| {
                    Fields::default()
                        .text("Mode", t.mode().map(|m| m.as_str()))
                        .done()
                }),
            )
            .text("State", c.state().map(|s| s.as_str()))
            .text(
                "LastUpdateStatus",
                c.last_update_status().map(|s| s.as_str()),
            )
            .value(
                "EphemeralStorage",
                c.ephemeral_storage().map(|s| {
                    Fields::default()
                        .num("Size", Some(f64::from(s.size())))
                        .done()
                }),
            )
            .num("ReservedConcurrentExecutions", reserved.map(f64::from))
            .done())
    }

    async fn table(&self, name: &str) -> Result<ConfigValue, SourceError> {
        let t = match self.dynamodb.describe_table().table_name(name).send().await {
            Ok(t) => t,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Err(not_found(format!("table {name}")));
            }
            Err(e) => return Err(source_unavailable("DescribeTable", e)),
        };
        let backups = match self
            .dynamodb
            .describe_continuous_backups()
            .table_name(name)
            .send()
            .await
        {
            Ok(b) => b.continuous_backups_description().map(|d| {
                Fields::default()
                    .text(
                        "ContinuousBackupsStatus",
                        Some(d.continuous_backups_status().as_str()),
                    )
                    .value(
                        "PointInTimeRecoveryDescription",
                        d.point_in_time_recovery_description().map(|p| {
                            Fields::default()
                                .text(
                                    "PointInTimeRecoveryStatus",
                                    p.point_in_time_recovery_status().map(|s| s.as_str()),
                                )
                                .done()
                        }),
                    )
                    .done()
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_table_not_found_exception()) =>
            {
                return Err(not_found(format!("table {name}")));
            }
            Err(e) => return Err(source_unavailable("DescribeContinuousBackups", e)),
        };
        let Some(t) = t.table() else {
            return Err(SourceError::Invalid {
                operation: "DescribeTable".into(),
                detail: format!("no table description for {name}"),
            });
        };
        Ok(Fields::default()
            .text("TableName", t.table_name())
            .text("TableArn", t.table_arn())
            .text("TableStatus", t.table_status().map(|s| s.as_str()))
            .value(
                "KeySchema",
                Some(ConfigValue::List(
                    t.key_schema()
                        .iter()
                        .map(|k| {
                            Fields::default()
                                .text("AttributeName", Some(k.attribute_name()))
                                .text("KeyType", Some(k.key_type().as_str()))
                                .done()
                        })
                        .collect(),
                )),
            )
            .num("ItemCount", t.item_count().map(|n| n as f64))
            .num("TableSizeBytes", t.table_size_bytes().map(|n| n as f64))
            .value(
                "BillingModeSummary",
                t.billing_mode_summary().map(|b| {
                    Fields::default()
                        .text("BillingMode", b.billing_mode().map(|m| m.as_str()))
                        .done()
                }),
            )
            .value(
                "ProvisionedThroughput",
                t.provisioned_throughput().map(|p| {
                    Fields::default()
                        .num(
                            "ReadCapacityUnits",
                            p.read_capacity_units().map(|n| n as f64),
                        )
                        .num(
                            "WriteCapacityUnits",
                            p.write_capacity_units().map(|n| n as f64),
                        )
                        .num(
                            "NumberOfDecreasesToday",
                            p.number_of_decreases_today().map(|n| n as f64),
                        )
                        .done()
                }),
            )
            .value(
                "StreamSpecification",
                t.stream_specification().map(|s| {
                    Fields::default()
                        .value("StreamEnabled", Some(ConfigValue::Bool(s.stream_enabled())))
                        .text("StreamViewType", s.stream_view_type().map(|v| v.as_str()))
                        .done()
                }),
            )
            .value(
                "GlobalSecondaryIndexes",
                (!t.global_secondary_indexes().is_empty()).then(|| {
                    ConfigValue::List(
                        t.global_secondary_indexes()
                            .iter()
                            .map(|i| Fields::default().text("IndexName", i.index_name()).done())
                            .collect(),
                    )
                }),
            )
            .value("ContinuousBackupsDescription", backups)
            .done())
    }

    async fn queue(&self, url: &str) -> Result<ConfigValue, SourceError> {
        let a = match self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
        {
            Ok(a) => a,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_queue_does_not_exist()) =>
            {
                return Err(not_found(format!("queue {url}")));
            }
            Err(e) => return Err(source_unavailable("GetQueueAttributes", e)),
        };
        let attributes: BTreeMap<String, ConfigValue> = a
            .attributes()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.as_str().to_string(), ConfigValue::Text(v.clone())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Fields::default()
            .text("QueueUrl", Some(url))
            .value("Attributes", Some(ConfigValue::Map(attributes)))
            .done())
    }

    async fn rest_api(&self, id: &str) -> Result<ConfigValue, SourceError> {
        let api = match self.apigateway.get_rest_api().rest_api_id(id).send().await {
            Ok(a) => a,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_not_found_exception()) =>
            {
                return Err(not_found(format!("REST API {id}")));
            }
            Err(e) => return Err(source_unavailable("GetRestApi", e)),
        };
        let stages = match self.apigateway.get_stages().rest_api_id(id).send().await {
            Ok(s) => s,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_not_found_exception()) =>
            {
                return Err(not_found(format!("REST API {id}")));
            }
            Err(e) => return Err(source_unavailable("GetStages", e)),
        };
        let mut stage_names: Vec<&str> = stages
            .item()
            .iter()
            .filter_map(|s| s.stage_name())
            .collect();
        stage_names.sort_unstable();
        Ok(Fields::default()
            .text("id", api.id())
            .text("name", api.name())
            .text("description", api.description())
            .text("apiKeySource", api.api_key_source().map(|s| s.as_str()))
            .value(
                "endpointConfiguration",
                api.endpoint_configuration().map(|c| {
                    Fields::default()
                        .value("types", Some(texts(c.types().iter().map(|t| t.as_str()))))
                        .done()
                }),
            )
            .value(
                "tags",
                api.tags().map(|t| {
                    ConfigValue::Map(
                        t.iter()
                            .map(|(k, v)| (k.clone(), ConfigValue::Text(v.clone())))
                            .collect(),
                    )
                }),
            )
            .text("stageName", stage_names.first().copied())
            .value("stages", Some(texts(stage_names.iter().copied())))
            .done())
    }

    async fn event_source_mapping(&self, uuid: &str) -> Result<ConfigValue, SourceError> {
        let m = match self
            .lambda
            .get_event_source_mapping()
            .uuid(uuid)
            .send()
            .await
        {
            Ok(m) => m,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Err(not_found(format!("event source mapping {uuid}")));
            }
            Err(e) => return Err(source_unavailable("GetEventSourceMapping", e)),
        };
        Ok(Fields::default()
            .text("UUID", m.uuid())
            .text("EventSourceArn", m.event_source_arn())
            .text("FunctionArn", m.function_arn())
            .num("BatchSize", m.batch_size().map(f64::from))
            .num(
                "MaximumBatchingWindowInSeconds",
                m.maximum_batching_window_in_seconds().map(f64::from),
            )
            .num(
                "MaximumRetryAttempts",
                m.maximum_retry_attempts().map(f64::from),
            )
            .text("State", m.state())
            .value(
                "FunctionResponseTypes",
                Some(texts(
                    m.function_response_types().iter().map(|t| t.as_str()),
                )),
            )
            .done())
    }
}
