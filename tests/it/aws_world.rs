//! A watched application and a stackwatch deployment inside the emulator,
//! and one tick of the real pipeline: ingest → SQS → analyzer → table
//! stream → notifier → SNS → a subscribed SQS queue.

use std::collections::BTreeMap;

use analyzer::handler as analysis;
use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_cloudwatch::types::{Dimension as CwDimension, MetricDatum};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use ingest::handler::{self as ingestion, Request, Settings};
use serde_json::{Value, json};
use shared::adapters::aws::catalog::CloudFormationCatalog;
use shared::adapters::aws::dynamo::DynamoStore;
use shared::adapters::aws::metrics::CloudWatchSource;
use shared::adapters::aws::notify::SnsNotifier;
use shared::adapters::aws::queue::SqsAnalysisQueue;
use shared::adapters::clock::SimClock;
use shared::domain::analysis::AnalyzerSettings;
use shared::domain::notification::NotificationFilter;
use shared::domain::stack::StackSelection;
use shared::domain::time::{DAY, HOUR, Timestamp};

use crate::emulator::Emulator;

/// Names of everything created for one test.
#[derive(Debug)]
pub(crate) struct World {
    /// The emulator connection.
    pub(crate) emu: Emulator,
    /// stackwatch's table.
    pub(crate) table: String,
    /// The analysis queue.
    pub(crate) queue_url: String,
    /// The insight topic.
    pub(crate) topic_arn: String,
    /// The queue subscribed to the topic.
    pub(crate) inbox_url: String,
    /// The watched stack.
    pub(crate) stack: String,
    /// Its function's name.
    pub(crate) function: String,
    /// The stream of stackwatch's table.
    pub(crate) stream_arn: String,
    /// Last sequence number read per shard.
    pub(crate) stream_position: BTreeMap<String, String>,
    /// The simulated time.
    pub(crate) clock: SimClock,
}

/// A time aligned on days, in the recent past (the emulator does not mind).
pub(crate) fn start_time() -> Timestamp {
    Timestamp::from_secs(1_800_000_000 / DAY * DAY + 12 * HOUR)
}

/// A CloudFormation template of a small application: a function, a table
/// and a REST API with a stage.
pub(crate) fn app_template(ns: &str, functions: usize) -> String {
    let mut resources = serde_json::Map::new();
    resources.insert(
        "FnRole".into(),
        json!({"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}}}),
    );
    for i in 0..functions {
        let name = if i == 0 {
            format!("{ns}-orders")
        } else {
            format!("{ns}-worker{i}")
        };
        resources.insert(
            format!("Function{i}"),
            json!({"Type": "AWS::Lambda::Function", "Properties": {
                "FunctionName": name, "Runtime": "python3.12", "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["FnRole", "Arn"]}, "Timeout": 3, "MemorySize": 128,
                "Code": {"ZipFile": "def handler(event, context):\n    return 1\n"}}}),
        );
    }
    resources.insert(
        "OrdersTable".into(),
        json!({"Type": "AWS::DynamoDB::Table", "Properties": {
            "TableName": format!("{ns}-orders-table"), "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}}),
    );
    resources.insert(
        "OrdersQueue".into(),
        json!({"Type": "AWS::SQS::Queue", "Properties": {"QueueName": format!("{ns}-jobs"), "VisibilityTimeout": 30}}),
    );
    resources.insert(
        "OrdersApi".into(),
        json!({"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": format!("{ns}-api")}}),
    );
    json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}).to_string()
}

impl World {
    /// Creates stackwatch's resources and the watched stack.
    pub(crate) async fn create(emu: Emulator, functions: usize) -> World {
        let ns = emu.ns.clone();
        let sdk = &emu.sdk;
        let ddb = aws_sdk_dynamodb::Client::new(sdk);
        let table = format!("{ns}-stackwatch");
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("key")
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute")
        };
        ddb.create_table()
            .table_name(&table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .attribute_definitions(attr("pk"))
            .attribute_definitions(attr("sk"))
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()
                    .expect("stream"),
            )
            .send()
            .await
            .expect("CreateTable");
        let stream_arn = ddb
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .expect("DescribeTable")
            .table()
            .and_then(|t| t.latest_stream_arn())
            .expect("a stream")
            .to_string();
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("{ns}-analysis"))
            .send()
            .await
            .expect("CreateQueue")
            .queue_url()
            .expect("url")
            .to_string();
        let inbox_url = sqs
            .create_queue()
            .queue_name(format!("{ns}-inbox"))
            .send()
            .await
            .expect("CreateQueue")
            .queue_url()
            .expect("url")
            .to_string();
        let inbox_arn = sqs
            .get_queue_attributes()
            .queue_url(&inbox_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("GetQueueAttributes")
            .attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .expect("an ARN");
        let sns = aws_sdk_sns::Client::new(sdk);
        let topic_arn = sns
            .create_topic()
            .name(format!("{ns}-insights"))
            .send()
            .await
            .expect("CreateTopic")
            .topic_arn()
            .expect("arn")
            .to_string();
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(inbox_arn)
            .send()
            .await
            .expect("Subscribe");
        let stack = format!("{ns}-app");
        aws_sdk_cloudformation::Client::new(sdk)
            .create_stack()
            .stack_name(&stack)
            .template_body(app_template(&ns, functions))
            .send()
            .await
            .expect("CreateStack");
        World {
            table,
            queue_url,
            topic_arn,
            inbox_url,
            function: format!("{ns}-orders"),
            stack,
            stream_arn,
            stream_position: BTreeMap::new(),
            clock: SimClock::at(start_time()),
            emu,
        }
    }

    /// Ingest's settings for this world: only its stack, a 36-hour warm start.
    pub(crate) fn ingest_settings(&self) -> Settings {
        Settings {
            selection: StackSelection::Names(vec![self.stack.clone()]),
            warm_start_secs: 36 * HOUR,
            ..Settings::default()
        }
    }

    /// Writes `value` errors per minute of the function for minutes
    /// `[from, to)` after the start.
    pub(crate) async fn put_errors(&self, from: i64, to: i64, value: f64) {
        let function = self.function.clone();
        self.put_metric(
            "AWS/Lambda",
            "Errors",
            &[("FunctionName", &function)],
            from,
            to,
            value,
        )
        .await;
    }

    /// Writes `value` requests per minute of the API's stage `prod` for
    /// minutes `[from, to)` after the start (which lets discovery find the
    /// stage, as CloudWatch's ListMetrics does for a real API).
    pub(crate) async fn put_api_requests(&self, from: i64, to: i64, value: f64) {
        let api = format!("{}-api", self.emu.ns);
        self.put_metric(
            "AWS/ApiGateway",
            "Count",
            &[("ApiName", &api), ("Stage", "prod")],
            from,
            to,
            value,
        )
        .await;
    }

    async fn put_metric(
        &self,
        namespace: &str,
        name: &str,
        dimensions: &[(&str, &str)],
        from: i64,
        to: i64,
        value: f64,
    ) {
        let cw = aws_sdk_cloudwatch::Client::new(&self.emu.sdk);
        let data: Vec<MetricDatum> = (from..to)
            .map(|m| {
                let mut datum = MetricDatum::builder().metric_name(name);
                for (k, v) in dimensions {
                    datum = datum.dimensions(CwDimension::builder().name(*k).value(*v).build());
                }
                datum
                    .timestamp(aws_smithy_types::DateTime::from_secs(
                        start_time().add(m * 60).secs(),
                    ))
                    .value(value)
                    .build()
            })
            .collect();
        cw.put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(data))
            .send()
            .await
            .expect("PutMetricData");
    }

    /// Runs ingest at the clock's time.
    pub(crate) async fn ingest(&self, store: &DynamoStore) -> ingestion::Report {
        let sdk = &self.emu.sdk;
        let deps = ingestion::Deps {
            catalog: CloudFormationCatalog::new(sdk),
            source: CloudWatchSource::new(sdk),
            store,
            state: store,
            queue: SqsAnalysisQueue::new(sdk, &self.queue_url),
            clock: self.clock.clone(),
            settings: self.ingest_settings(),
        };
        let report = ingestion::handle(&deps, &Request::Scheduled)
            .await
            .expect("ingest");
        assert!(
            report.failures.is_empty(),
            "ingest failures: {:?}",
            report.failures
        );
        report
    }

    /// Takes the analysis requests waiting in the queue, as the SQS event
    /// Lambda would deliver.
    pub(crate) async fn take_analysis_batch(&self) -> Option<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.emu.sdk);
        let out = sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("ReceiveMessage");
        let mut records = Vec::new();
        for m in out.messages() {
            records.push(json!({
                "messageId": m.message_id(), "receiptHandle": m.receipt_handle(),
                "body": m.body(), "attributes": {}, "messageAttributes": {},
                "md5OfBody": m.md5_of_body(), "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:analysis",
                "awsRegion": "us-east-1"
            }));
            sqs.delete_message()
                .queue_url(&self.queue_url)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage");
        }
        (!records.is_empty()).then(|| json!({ "Records": records }))
    }

    /// Runs the analyzer function's handler on an SQS batch.
    pub(crate) async fn analyze(&self, store: &DynamoStore, batch: &Value) {
        let deps = analysis::Deps {
            store,
            state: store,
            follow_ups: shared::ports::NoFollowUps,
            clock: self.clock.clone(),
            settings: AnalyzerSettings::default(),
            publication_lag_secs: shared::ports::PUBLICATION_LAG_SECS,
        };
        let event: SqsEvent = serde_json::from_value(batch.clone()).expect("an SQS event");
        let response = analyzer::lambda::handle(&deps, event)
            .await
            .expect("analyzer");
        assert!(response.batch_item_failures.is_empty(), "analysis failed");
    }

    /// New records of the table's stream that the notifier's filter lets
    /// through (inserted change items, as the template's FilterCriteria
    /// says), as the Lambda event of a stream batch.
    pub(crate) async fn take_stream_batch(&mut self) -> Option<Value> {
        let described = self
            .emu
            .json_call(
                "dynamodb",
                "DynamoDBStreams_20120810.DescribeStream",
                &json!({"StreamArn": self.stream_arn}),
            )
            .await;
        let shards: Vec<String> = described["StreamDescription"]["Shards"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["ShardId"].as_str().map(str::to_string))
            .collect();
        let mut records = Vec::new();
        for shard in shards {
            let mut request = json!({"StreamArn": self.stream_arn, "ShardId": shard});
            match self.stream_position.get(&shard) {
                Some(seq) => {
                    request["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER".into();
                    request["SequenceNumber"] = seq.clone().into();
                }
                None => request["ShardIteratorType"] = "TRIM_HORIZON".into(),
            }
            let it = self
                .emu
                .json_call(
                    "dynamodb",
                    "DynamoDBStreams_20120810.GetShardIterator",
                    &request,
                )
                .await;
            let mut iterator = it["ShardIterator"].as_str().map(str::to_string);
            while let Some(current) = iterator.take() {
                let page = self
                    .emu
                    .json_call(
                        "dynamodb",
                        "DynamoDBStreams_20120810.GetRecords",
                        &json!({"ShardIterator": current, "Limit": 1000}),
                    )
                    .await;
                let got = page["Records"].as_array().cloned().unwrap_or_default();
                if got.is_empty() {
                    break;
                }
                for mut r in got {
                    if let Some(seq) = r["dynamodb"]["SequenceNumber"].as_str() {
                        self.stream_position.insert(shard.clone(), seq.to_string());
                    }
                    let passes = r["eventName"] == "INSERT"
                        && r["dynamodb"]["NewImage"]["kind"]["S"] == "change";
                    if passes {
                        r["eventSourceARN"] = self.stream_arn.clone().into();
                        records.push(r);
                    }
                }
                iterator = page["NextShardIterator"].as_str().map(str::to_string);
            }
        }
        (!records.is_empty()).then(|| json!({ "Records": records }))
    }

    /// Runs the notifier function's handler on a stream batch.
    pub(crate) async fn notify(&self, store: &DynamoStore, batch: &Value) {
        let deps = notifier::handler::Deps {
            notifier: SnsNotifier::new(&self.emu.sdk, &self.topic_arn),
            log: store,
            filter: NotificationFilter::all(),
        };
        let response = notifier::lambda::handle(&deps, batch)
            .await
            .expect("notifier");
        assert!(
            response.batch_item_failures.is_empty(),
            "notifications failed"
        );
    }

    /// Messages that reached the subscribed queue since the last call: the
    /// SNS envelope of each.
    pub(crate) async fn inbox(&self) -> Vec<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.emu.sdk);
        let mut out = Vec::new();
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&self.inbox_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("ReceiveMessage");
            if got.messages().is_empty() {
                return out;
            }
            for m in got.messages() {
                out.push(
                    serde_json::from_str(m.body().unwrap_or_default()).expect("an SNS envelope"),
                );
                sqs.delete_message()
                    .queue_url(&self.inbox_url)
                    .receipt_handle(m.receipt_handle().unwrap_or_default())
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
        }
    }

    /// One whole tick at `t`: ingest, analyze what was queued, notify what
    /// changed. Returns the batches handled, for redelivery.
    pub(crate) async fn tick(
        &mut self,
        stores: &Stores,
        t: Timestamp,
    ) -> (Option<Value>, Option<Value>) {
        self.clock.set(t);
        self.ingest(&stores.ingest).await;
        let analysis = self.take_analysis_batch().await;
        if let Some(batch) = &analysis {
            self.analyze(&stores.analyzer, batch).await;
        }
        let changes = self.take_stream_batch().await;
        if let Some(batch) = &changes {
            self.notify(&stores.notifier, batch).await;
        }
        (analysis, changes)
    }

    /// One table adapter per function, as in a deployment.
    pub(crate) fn stores(&self) -> Stores {
        let store = || DynamoStore::new(&self.emu.sdk, &self.table, 15 * DAY);
        Stores {
            ingest: store(),
            analyzer: store(),
            notifier: store(),
        }
    }
}

/// The table adapters of the three functions.
#[derive(Debug)]
pub(crate) struct Stores {
    /// Ingest's.
    pub(crate) ingest: DynamoStore,
    /// The analyzer's.
    pub(crate) analyzer: DynamoStore,
    /// The notifier's.
    pub(crate) notifier: DynamoStore,
}
