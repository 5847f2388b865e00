//! AWS adapters: the ports over CloudFormation, CloudWatch, DynamoDB, SQS
//! and SNS. SDK types stay in here; every SDK error becomes the port's error
//! with the operation that failed.
//!
//! # Stack catalog ([`catalog::CloudFormationCatalog`])
//!
//! `ListStacks` (paginated, every status but `DELETE_COMPLETE`, so that a
//! stack being deleted is still seen as inactive) gives names and statuses;
//! `DescribeStacks` is called per stack only when the selection is by tag.
//! `ListStackResources` (paginated) gives resources; a stack that no longer
//! exists is [`crate::ports::SourceError::NotFound`], so ingest forgets it and
//! the analyzer closes its open insight. `DescribeStackEvents` is paged
//! newest first and stops at the first page that reaches back before
//! `since`. `configuration` reads `GetFunctionConfiguration` (+
//! `GetFunctionConcurrency` for the reserved concurrency), `DescribeTable` +
//! `DescribeContinuousBackups`, `GetQueueAttributes` (all), `GetRestApi` (+
//! `stageName` from `GetStages`, the first stage), `GetEventSourceMapping`,
//! as [`crate::domain::resource::ConfigValue`] maps with the field names of
//! the AWS API, the same shape as a scenario file's `configurations`.
//!
//! # Metric source ([`metrics::CloudWatchSource`])
//!
//! `GetMetricData` with the requests grouped by identical range, at most
//! 500 queries a call and at most 100,800 datapoints a call (a 14-day warm
//! start of a 60-second metric is 20,160 points, so 5 such queries go in one
//! call), `NextToken` paging, results matched to requests by query id (`m0`,
//! `m1`, …). `discover` is `ListMetrics` (paginated) on the namespace and
//! dimension.
//!
//! # One DynamoDB table ([`dynamo::DynamoStore`])
//!
//! Keys `pk` (S) and `sk` (S); TTL attribute `expires` (epoch seconds);
//! stream `NEW_IMAGE`. Items:
//!
//! | pk | sk | what | written |
//! |---|---|---|---|
//! | `STACKS` | stack | registry of stacks with an inventory | when the catalog changes |
//! | `I#<stack>` | `TICK` | inventory progress: per metric fetched-until/live-from (16 B each), `updated`, hashes of the parts below | every tick |
//! | `I#<stack>` | `CAT#<hash>#<n>` | inventory catalog (resources, configurations, watched metrics), content-addressed, in chunks of ≤ 300 KB | when it changes |
//! | `I#<stack>` | `EV#<hash>` | recent stack events, cut oldest first to ≤ 300 KB | when they change |
//! | `W#<stack>#<bucket start>` | `<start>#<end>#<hash>` | a window pack: every metric's slice of one fetch in one 4-hour bucket (8-byte metric tag + `encode_window`, ~3 B a count point, ~10 B an average), `written`, immutable | per fetch |
//! | `S#<stack>` | `HEAD` | analyzer state head: `version`, `open`, insights, peaks, binary baseline index (40 B a baseline) | every analysis |
//! | `B#<stack>#<metric hash>` | `<generation>` | one baseline (`Baseline::encode`, ~2.9 KB: three or four write units), immutable | when it changed |
//! | `C#<change id>` | `CHANGE` | an insight change: `kind = change`, `body` = Notification JSON | with the head |
//! | `D#<change id>` | `DELIVERY` | the notifier's delivery claim | per delivery |
//!
//! Windows are immutable packs, one per fetch and 4-hour bucket holding the
//! slices of every metric fetched (split at 300 KB): storing the same
//! windows again writes the same items (the sort key ends with a hash of
//! the content, so it is idempotent), later fetches of the same periods are
//! merged after earlier ones (by the end of their range, then `written`)
//! and win (CloudWatch revisions),
//! and old packs leave through TTL. A tick therefore writes one or two
//! window items for the whole stack rather than one per metric, plus the
//! progress item, the state head and the changed baselines. Each bucket of a
//! stack's windows has its own partition key, so a backfill of two weeks
//! spreads over some eighty partitions and a tick reads one or two; each
//! baseline has its own.
//!
//! State is copy-on-write: `save` writes the changed baselines as new items
//! (a new generation each; readers never see them until the head names
//! them), then commits the head with `version = :loaded` in one
//! `TransactWriteItems` with the change items (a plain conditional
//! `PutItem`, half the price, when there are none). A lost race fails that
//! condition: [`crate::ports::StoreError::Conflict`], and the state stays as
//! the winner left it (the loser's baseline items are unreferenced and expire
//! through TTL). Baselines carry a TTL of 7 days that `save` renews by
//! rewriting any baseline older than 3 days, so an idle metric's learning is
//! kept. Change items are the notifier's trigger (stream filter on
//! `kind = change`, `INSERT`); the same change saved twice is one item.
//!
//! # Queue and topic
//!
//! [`queue::SqsAnalysisQueue`] sends one `AnalyzeRequest` message per stack.
//! [`notify::SnsNotifier`] publishes the `Notification` JSON with message
//! attributes `MessageType`, `Severity` and `Stack`; the notifier handler
//! claims each change id in the delivery log before publishing and gives the
//! claim back when publishing fails, so retries and redeliveries send each
//! change once.

pub mod catalog;
pub mod dynamo;
pub mod metrics;
pub mod notify;
pub mod queue;

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// The SDK configuration the adapters are built from.
pub use aws_config::SdkConfig;

use crate::ports::{BoxError, SourceError, StoreError};

/// The SDK configuration of a function: region, credentials and endpoint
/// from the environment (`AWS_REGION`, the execution role's variables,
/// `AWS_ENDPOINT_URL`), HTTPS through rustls on ring.
pub async fn load_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https_client())
        .load()
        .await
}

/// The HTTP client every SDK client here uses.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Turns any SDK error into a boxed error whose message carries the chain
/// of causes (the SDK's own `Display` says only "service error"), without
/// the raw response.
fn sdk_error<E>(e: E) -> BoxError
where
    E: std::error::Error + Send + Sync + 'static,
{
    Box::new(ContextError(crate::error_chain(&e)))
}

/// An SDK error with its full context in its message.
#[derive(Debug)]
struct ContextError(String);

impl std::fmt::Display for ContextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ContextError {}

fn source_unavailable<E>(operation: &str, e: E) -> SourceError
where
    E: std::error::Error + Send + Sync + 'static,
{
    SourceError::Unavailable {
        operation: operation.to_string(),
        source: sdk_error(e),
    }
}

fn store_unavailable<E>(operation: &str, e: E) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    StoreError::Unavailable {
        operation: operation.to_string(),
        source: sdk_error(e),
    }
}

/// Timestamps of the SDK as domain time (whole seconds).
fn to_timestamp(t: &aws_smithy_types::DateTime) -> crate::domain::time::Timestamp {
    crate::domain::time::Timestamp::from_secs(t.secs())
}

/// Domain time as an SDK timestamp.
fn to_datetime(t: crate::domain::time::Timestamp) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.secs())
}
