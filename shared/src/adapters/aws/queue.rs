//! The analysis queue over SQS, one message per stack, and the follow-up
//! queue that sends ingest back to a stack a minute or two later.

use super::store_unavailable;
use crate::domain::time::Timestamp;
use crate::messages::{AnalyzeRequest, FORMAT_VERSION};
use crate::ports::{AnalysisQueue, FollowUpQueue, StoreError};

/// An SQS queue of [`AnalyzeRequest`] messages.
#[derive(Clone, Debug)]
pub struct SqsAnalysisQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsAnalysisQueue {
    /// The queue at `url`, using `config`.
    pub fn new(config: &aws_config::SdkConfig, url: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_sqs::Client::new(config),
            url: url.into(),
        }
    }
}

impl AnalysisQueue for SqsAnalysisQueue {
    async fn request(&self, stack: &str, now: Timestamp) -> Result<(), StoreError> {
        let body = serde_json::to_string(&AnalyzeRequest {
            stack: stack.to_string(),
            requested_at: now.to_string(),
            format_version: FORMAT_VERSION,
        })
        .map_err(|e| StoreError::Unavailable {
            operation: "SendMessage".into(),
            source: Box::new(e),
        })?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| store_unavailable("SendMessage", e))?;
        Ok(())
    }
}

/// An SQS queue of follow-ups for ingest: `{"stacks": [stack]}`, the body of
/// a manual run, delayed until the point awaited is published (SQS delays a
/// message by at most 15 minutes). A follow-up delivered twice only fetches
/// the same points again.
#[derive(Clone, Debug)]
pub struct SqsFollowUpQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

/// The longest delay SQS allows.
pub const MAX_DELAY_SECS: i64 = 900;

impl SqsFollowUpQueue {
    /// The queue at `url`, using `config`.
    pub fn new(config: &aws_config::SdkConfig, url: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_sqs::Client::new(config),
            url: url.into(),
        }
    }
}

/// Seconds a follow-up due at `at` waits when sent at `now`.
pub fn delay_secs(at: Timestamp, now: Timestamp) -> i32 {
    i32::try_from(at.since(now).clamp(0, MAX_DELAY_SECS)).unwrap_or(0)
}

impl FollowUpQueue for SqsFollowUpQueue {
    async fn follow_up(
        &self,
        stack: &str,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let body = serde_json::json!({ "stacks": [stack] }).to_string();
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay_secs(at, now))
            .send()
            .await
            .map_err(|e| store_unavailable("SendMessage", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_clamped_to_what_sqs_allows() {
        let now = Timestamp::from_secs(1_800_000_000);
        assert_eq!(delay_secs(now.add(95), now), 95);
        assert_eq!(delay_secs(now.add(-30), now), 0);
        assert_eq!(delay_secs(now.add(3_600), now), 900);
    }
}
