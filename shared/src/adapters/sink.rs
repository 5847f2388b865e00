//! A notifier that writes each message as one JSON line: the SNS message
//! attributes and the body, as the SNS adapter would publish them.

use std::io::Write;
use std::sync::Mutex;

use serde::Serialize;

use crate::messages::Notification;
use crate::ports::{Notifier, PublishError};

/// One line of a JSON-lines notification file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SinkLine<'a> {
    /// The SNS message attributes.
    pub attributes: Attributes<'a>,
    /// The message body.
    pub message: &'a Notification,
}

/// The SNS message attributes that subscription filter policies match on.
#[derive(Debug, Serialize)]
pub struct Attributes<'a> {
    /// `NEW_INSIGHT`, …
    #[serde(rename = "MessageType")]
    pub message_type: &'a str,
    /// `HIGH`, `MEDIUM`, `LOW`.
    #[serde(rename = "Severity")]
    pub severity: &'a str,
    /// The stack.
    #[serde(rename = "Stack")]
    pub stack: &'a str,
}

impl<'a> SinkLine<'a> {
    /// The line for `n`.
    pub fn new(n: &'a Notification) -> Self {
        Self {
            attributes: Attributes {
                message_type: &n.message_type,
                severity: &n.insight.severity,
                stack: &n.insight.stack,
            },
            message: n,
        }
    }
}

/// Writes notifications as JSON lines to any writer (a file, stderr).
#[derive(Debug)]
pub struct JsonLinesNotifier<W> {
    out: Mutex<W>,
}

impl<W: Write + Send> JsonLinesNotifier<W> {
    /// A notifier writing to `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }
}

impl<W: Write + Send> Notifier for JsonLinesNotifier<W> {
    async fn publish(&self, notification: &Notification) -> Result<(), PublishError> {
        let fail = |e: Box<dyn std::error::Error + Send + Sync>| PublishError {
            change_id: notification.change_id.clone(),
            source: e,
        };
        let line =
            serde_json::to_string(&SinkLine::new(notification)).map_err(|e| fail(e.into()))?;
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        writeln!(out, "{line}").map_err(|e| fail(e.into()))?;
        out.flush().map_err(|e| fail(e.into()))
    }
}
