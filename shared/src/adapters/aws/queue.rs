//! The analysis queue over SQS: one message per stack.

use super::store_unavailable;
use crate::domain::time::Timestamp;
use crate::messages::{AnalyzeRequest, FORMAT_VERSION};
use crate::ports::{AnalysisQueue, StoreError};

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
