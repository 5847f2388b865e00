//! The notifier over SNS: the body is the `Notification` JSON (Contract 3),
//! with message attributes for subscription filter policies.

use aws_sdk_sns::types::MessageAttributeValue;

use super::sdk_error;
use crate::messages::Notification;
use crate::ports::{Notifier, PublishError};

/// An SNS topic.
#[derive(Clone, Debug)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsNotifier {
    /// The topic `topic_arn`, using `config`.
    pub fn new(config: &aws_config::SdkConfig, topic_arn: impl Into<String>) -> Self {
        Self {
            client: aws_sdk_sns::Client::new(config),
            topic_arn: topic_arn.into(),
        }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue, aws_sdk_sns::error::BuildError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
}

impl Notifier for SnsNotifier {
    async fn publish(&self, notification: &Notification) -> Result<(), PublishError> {
        let fail = |source| PublishError {
            change_id: notification.change_id.clone(),
            source,
        };
        let body = serde_json::to_string(notification).map_err(|e| fail(Box::new(e)))?;
        let mut publish = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject(notification))
            .message(body);
        for (name, value) in [
            ("MessageType", notification.message_type.as_str()),
            ("Severity", notification.insight.severity.as_str()),
            ("Stack", notification.insight.stack.as_str()),
        ] {
            publish =
                publish.message_attributes(name, attribute(value).map_err(|e| fail(Box::new(e)))?);
        }
        publish.send().await.map_err(|e| fail(sdk_error(e)))?;
        Ok(())
    }
}

/// An e-mail subject: at most 100 printable ASCII characters.
fn subject(n: &Notification) -> String {
    let text = format!(
        "[stackwatch] {} {} {}: {}",
        n.insight.severity, n.message_type, n.insight.stack, n.insight.name
    );
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(100)
        .collect();
    clean
}
