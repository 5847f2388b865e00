//! The AWS adapters with mocked SDK clients, for what the emulator cannot
//! show: DynamoDB's limit of 25 items a batch (the emulator takes more),
//! percentile statistics (the emulator answers 500), paging of metric data
//! and of stack events (the emulator has stack-level events only), and the
//! errors of deleted stacks and vanished resources.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesError;
use aws_sdk_cloudformation::types::{ResourceStatus, StackEvent as CfnEvent};
use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::types::{MetricDataResult, StatusCode};
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemOutput;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationError;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_smithy_types::DateTime;
use shared::adapters::aws::catalog::CloudFormationCatalog;
use shared::adapters::aws::dynamo::{DynamoStore, MAX_BATCH_WRITE};
use shared::adapters::aws::metrics::CloudWatchSource;
use shared::domain::metric::{Dimension, MetricKey};
use shared::domain::resource::Resource;
use shared::domain::time::{TimeRange, Timestamp};
use shared::ports::{FetchRequest, MetricSource, SourceError, StackCatalog};

fn put(i: usize) -> WriteRequest {
    let item = [
        ("pk".to_string(), AttributeValue::S(format!("p{i}"))),
        ("sk".to_string(), AttributeValue::S("s".into())),
    ]
    .into_iter()
    .collect();
    WriteRequest::builder()
        .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
        .build()
}

#[tokio::test]
async fn batch_writes_send_at_most_25_items_a_call_and_retry_what_was_left() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&sizes);
    let rule = mock!(aws_sdk_dynamodb::Client::batch_write_item).then_compute_output(move |req| {
        let items = req
            .request_items()
            .and_then(|m| m.get("t"))
            .cloned()
            .unwrap_or_default();
        seen.lock().unwrap().push(items.len());
        // Leave the last item unprocessed whenever there is more than one.
        let left: Vec<WriteRequest> = if items.len() > 1 {
            items.last().cloned().into_iter().collect()
        } else {
            Vec::new()
        };
        BatchWriteItemOutput::builder()
            .unprocessed_items("t", left)
            .build()
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&rule]);
    let store = DynamoStore::from_client(client, "t", 86_400);
    store.batch_write((0..60).map(put).collect()).await.unwrap();
    let sizes = sizes.lock().unwrap().clone();
    assert!(sizes.iter().all(|&n| n <= MAX_BATCH_WRITE), "{sizes:?}");
    assert_eq!(sizes, vec![25, 1, 25, 1, 10, 1]);
}

#[tokio::test]
async fn items_that_stay_unprocessed_are_an_error_naming_the_operation() {
    let rule = mock!(aws_sdk_dynamodb::Client::batch_write_item).then_compute_output(|req| {
        let items = req
            .request_items()
            .and_then(|m| m.get("t"))
            .cloned()
            .unwrap_or_default();
        BatchWriteItemOutput::builder()
            .unprocessed_items("t", items)
            .build()
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&rule]);
    let store = DynamoStore::from_client(client, "t", 86_400);
    let err = store
        .batch_write((0..3).map(put).collect())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("BatchWriteItem"), "{err}");
}

fn key(stat: &str) -> MetricKey {
    MetricKey::new(
        "AWS/Lambda",
        "Duration",
        vec![Dimension::new("FunctionName", "f")],
        stat,
        60,
    )
}

#[tokio::test]
async fn percentile_statistics_are_asked_for_and_pages_are_joined() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(|r| {
            r.metric_data_queries()
                .iter()
                .all(|q| q.metric_stat().and_then(|s| s.stat()) == Some("p99"))
        })
        .then_compute_output(move |req| {
            let page = counter.fetch_add(1, Ordering::SeqCst);
            let id = req.metric_data_queries()[0]
                .id()
                .unwrap_or_default()
                .to_string();
            let (t, v, next) = if req.next_token().is_none() {
                (1_800_000_000, 120.5, Some("page-2"))
            } else {
                (1_800_000_060, 340.25, None)
            };
            assert!(page < 2, "asked for a third page");
            GetMetricDataOutput::builder()
                .metric_data_results(
                    MetricDataResult::builder()
                        .id(id)
                        .timestamps(DateTime::from_secs(t))
                        .values(v)
                        .status_code(if next.is_some() {
                            StatusCode::PartialData
                        } else {
                            StatusCode::Complete
                        })
                        .build(),
                )
                .set_next_token(next.map(str::to_string))
                .build()
        });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let source = CloudWatchSource::from_client(client);
    let range = TimeRange::new(
        Timestamp::from_secs(1_800_000_000),
        Timestamp::from_secs(1_800_000_120),
    );
    let series = source
        .fetch(&[FetchRequest {
            key: key("p99"),
            range,
        }])
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        series[0].points,
        vec![
            (Timestamp::from_secs(1_800_000_000), 120.5),
            (Timestamp::from_secs(1_800_000_060), 340.25)
        ]
    );
}

#[tokio::test]
async fn a_missing_or_failed_result_is_an_error_not_an_empty_series() {
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(|req| {
        GetMetricDataOutput::builder()
            .metric_data_results(
                MetricDataResult::builder()
                    .id(req.metric_data_queries()[0].id().unwrap_or_default())
                    .status_code(StatusCode::InternalError)
                    .build(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let source = CloudWatchSource::from_client(client);
    let range = TimeRange::new(
        Timestamp::from_secs(1_800_000_000),
        Timestamp::from_secs(1_800_000_120),
    );
    let err = source
        .fetch(&[FetchRequest {
            key: key("Average"),
            range,
        }])
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Invalid { .. }), "{err:?}");
}

/// A catalog whose CloudFormation and Lambda clients are mocked; the others
/// are never called here, and would only reach a closed loopback port.
fn catalog_with(
    cfn: aws_sdk_cloudformation::Client,
    lambda: aws_sdk_lambda::Client,
) -> CloudFormationCatalog {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "tests"),
        ))
        .build();
    CloudFormationCatalog::from_clients(
        cfn,
        lambda,
        aws_sdk_dynamodb::Client::new(&sdk),
        aws_sdk_sqs::Client::new(&sdk),
        aws_sdk_apigateway::Client::new(&sdk),
    )
}

fn event(secs: i64, logical: &str, status: ResourceStatus) -> CfnEvent {
    CfnEvent::builder()
        .stack_id("arn:aws:cloudformation:us-east-1:1:stack/app/1")
        .event_id(format!("{logical}-{secs}"))
        .stack_name("app")
        .timestamp(DateTime::from_secs(secs))
        .logical_resource_id(logical)
        .physical_resource_id(format!("app-{logical}"))
        .resource_type("AWS::Lambda::Function")
        .resource_status(status)
        .build()
}

#[tokio::test]
async fn stack_events_are_paged_newest_first_until_older_than_since() {
    let pages = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pages);
    let rule = mock!(aws_sdk_cloudformation::Client::describe_stack_events).then_compute_output(
        move |req| {
            counter.fetch_add(1, Ordering::SeqCst);
            match req.next_token() {
                None => DescribeStackEventsOutput::builder()
                    .stack_events(event(1_000, "Fn", ResourceStatus::UpdateComplete))
                    .stack_events(event(990, "Fn", ResourceStatus::UpdateInProgress))
                    .next_token("2")
                    .build(),
                Some("2") => DescribeStackEventsOutput::builder()
                    .stack_events(event(900, "Table", ResourceStatus::UpdateComplete))
                    .stack_events(event(500, "Table", ResourceStatus::UpdateInProgress))
                    .next_token("3")
                    .build(),
                Some(_) => panic!("paged past `since`"),
            }
        },
    );
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&rule]);
    let lambda = mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        Vec::<&aws_smithy_mocks::Rule>::new()
    );
    let catalog = catalog_with(cfn, lambda);
    let events = catalog
        .events("app", Timestamp::from_secs(800))
        .await
        .unwrap();
    assert_eq!(pages.load(Ordering::SeqCst), 2);
    let times: Vec<i64> = events.iter().map(|e| e.time.secs()).collect();
    assert_eq!(
        times,
        vec![900, 990, 1_000],
        "oldest first, nothing before since"
    );
    assert_eq!(events[2].status, "UPDATE_COMPLETE");
    assert_eq!(events[2].resource.physical_id, "app-Fn");
}

#[tokio::test]
async fn a_deleted_stack_is_not_found_and_a_vanished_function_has_no_configuration() {
    let gone = mock!(aws_sdk_cloudformation::Client::list_stack_resources).then_error(|| {
        ListStackResourcesError::generic(
            aws_sdk_cloudformation::error::ErrorMetadata::builder()
                .code("ValidationError")
                .message("Stack with id app does not exist")
                .build(),
        )
    });
    let missing = mock!(aws_sdk_lambda::Client::get_function_configuration).then_error(|| {
        GetFunctionConfigurationError::ResourceNotFoundException(
            aws_sdk_lambda::types::error::ResourceNotFoundException::builder()
                .message("Function not found")
                .build(),
        )
    });
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&gone]);
    let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&missing]);
    let catalog = catalog_with(cfn, lambda);
    let err = catalog.resources("app").await.unwrap_err();
    assert!(matches!(err, SourceError::NotFound { .. }), "{err:?}");
    let none = catalog
        .configuration(&Resource::new("Fn", "app-Fn", "AWS::Lambda::Function"))
        .await
        .unwrap();
    assert_eq!(none, None);
}

fn insight_change() -> shared::domain::insight::InsightChange {
    use shared::domain::insight::{
        ChangeKind, Insight, InsightChange, InsightKind, InsightStatus, Severity,
    };
    let at = Timestamp::from_secs(1_800_000_000);
    InsightChange {
        id: "change-1".into(),
        kind: ChangeKind::NewInsight,
        at,
        insight: Insight {
            id: "insight-1".into(),
            name: "errors rose".into(),
            kind: InsightKind::Reactive,
            severity: Severity::High,
            status: InsightStatus::Ongoing,
            stack: "app".into(),
            start: at,
            end: None,
            open_time: at,
            close_time: None,
            anomalies: Vec::new(),
            relevant_events: Vec::new(),
            recommendations: Vec::new(),
            cause: None,
        },
    }
}

#[tokio::test]
async fn a_head_condition_that_fails_at_commit_is_a_conflict_with_or_without_changes() {
    use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    use aws_sdk_dynamodb::types::CancellationReason;
    use aws_sdk_dynamodb::types::error::{
        ConditionalCheckFailedException, TransactionCanceledException,
    };
    use shared::domain::analysis::StackState;
    use shared::domain::detector::Baseline;
    use shared::ports::{StateStore, StoreError, Version};

    // The early check sees version 0, then another analysis commits first.
    let get =
        mock!(aws_sdk_dynamodb::Client::get_item).then_output(|| GetItemOutput::builder().build());
    let batch = mock!(aws_sdk_dynamodb::Client::batch_write_item)
        .then_output(|| BatchWriteItemOutput::builder().build());
    let put = mock!(aws_sdk_dynamodb::Client::put_item).then_error(|| {
        PutItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder()
                .message("version changed")
                .build(),
        )
    });
    let transact = mock!(aws_sdk_dynamodb::Client::transact_write_items).then_error(|| {
        TransactWriteItemsError::TransactionCanceledException(
            TransactionCanceledException::builder()
                .cancellation_reasons(
                    CancellationReason::builder()
                        .code("ConditionalCheckFailed")
                        .build(),
                )
                .cancellation_reasons(CancellationReason::builder().code("None").build())
                .build(),
        )
    });
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        [&get, &batch, &put, &transact]
    );
    let store = DynamoStore::from_client(client, "t", 86_400);
    let mut state = StackState::default();
    state.baselines.insert(key("Sum"), Baseline::new());
    let quiet = store.save("app", &state, Version(0), &[]).await;
    assert!(
        matches!(quiet, Err(StoreError::Conflict { .. })),
        "{quiet:?}"
    );
    let busy = store
        .save("app", &state, Version(0), &[insight_change()])
        .await;
    assert!(matches!(busy, Err(StoreError::Conflict { .. })), "{busy:?}");
    assert_eq!(transact.num_calls(), 1);
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn a_tag_selection_reads_tags_from_describe_stacks_across_pages() {
    use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
    use aws_sdk_cloudformation::types::{Stack, StackStatus, Tag};
    use shared::domain::stack::StackSelection;

    let stack = |name: &str, team: &str, status: StackStatus| {
        Stack::builder()
            .stack_name(name)
            .creation_time(DateTime::from_secs(1_700_000_000))
            .stack_status(status)
            .tags(Tag::builder().key("team").value(team).build())
            .build()
    };
    let rule =
        mock!(aws_sdk_cloudformation::Client::describe_stacks).then_compute_output(move |req| {
            match req.next_token() {
                None => DescribeStacksOutput::builder()
                    .stacks(stack(
                        "orders-prod",
                        "payments",
                        StackStatus::UpdateComplete,
                    ))
                    .stacks(stack("search-prod", "search", StackStatus::CreateComplete))
                    .next_token("2")
                    .build(),
                Some(_) => DescribeStacksOutput::builder()
                    .stacks(stack(
                        "billing-prod",
                        "payments",
                        StackStatus::DeleteInProgress,
                    ))
                    .build(),
            }
        });
    let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, [&rule]);
    let lambda = mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        Vec::<&aws_smithy_mocks::Rule>::new()
    );
    let catalog = catalog_with(cfn, lambda);
    let selection = StackSelection::Tag {
        key: "team".into(),
        value: Some("payments".into()),
    };
    let found = catalog.list_stacks(&selection).await.unwrap();
    let names: Vec<(&str, bool)> = found
        .iter()
        .map(|s| (s.name.as_str(), s.is_active()))
        .collect();
    assert_eq!(names, vec![("billing-prod", false), ("orders-prod", true)]);
    assert_eq!(rule.num_calls(), 2);
}
