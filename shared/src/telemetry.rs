//! Logging for the Lambda functions: one JSON object a line with the keys
//! Powertools for AWS Lambda uses (`timestamp`, `level`, `message`,
//! `service`, `location`, `xray_trace_id`) and the event's structured fields
//! at the top level (`stack`, `change_id`, …), so that CloudWatch Logs
//! Insights queries written for Powertools work unchanged.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::domain::time::Timestamp;

/// Installs the JSON log subscriber. The service is the function's name
/// (`AWS_LAMBDA_FUNCTION_NAME`, or `POWERTOOLS_SERVICE_NAME` when set); the
/// level comes from `AWS_LAMBDA_LOG_LEVEL` (set by the function's
/// `LoggingConfig`) or `RUST_LOG`, `info` by default. A second call changes
/// nothing.
pub fn init_tracing() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_string());
    let filter =
        EnvFilter::try_new(level.to_ascii_lowercase()).unwrap_or_else(|_| EnvFilter::new("info"));
    let service = std::env::var("POWERTOOLS_SERVICE_NAME")
        .or_else(|_| std::env::var("AWS_LAMBDA_FUNCTION_NAME"))
        .unwrap_or_else(|_| "stackwatch".to_string());
    // Ignored when a subscriber is already installed (a test, a second call).
    let _ = tracing_subscriber::fmt()
        .with_ansi(false)
        .event_format(PowertoolsJson { service })
        .with_env_filter(filter)
        .try_init();
}

/// Formats events as Powertools-style JSON lines.
#[derive(Clone, Debug)]
pub struct PowertoolsJson {
    /// The `service` key of every line.
    pub service: String,
}

/// Collects an event's fields as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(
            field.name().to_string(),
            Value::String(format!("{value:?}")),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_string(), Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), Value::from(value));
    }
}

/// Now as RFC 3339 with milliseconds.
fn timestamp() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = Timestamp::from_secs(i64::try_from(now.as_secs()).unwrap_or(i64::MAX)).to_string();
    format!("{}.{:03}Z", secs.trim_end_matches('Z'), now.subsec_millis())
}

impl<S, N> FormatEvent<S, N> for PowertoolsJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = Map::new();
        event.record(&mut Fields(&mut fields));
        let mut line = Map::new();
        line.insert("timestamp".into(), Value::String(timestamp()));
        line.insert("level".into(), Value::String(meta.level().as_str().into()));
        line.insert(
            "message".into(),
            fields
                .remove("message")
                .unwrap_or(Value::String(String::new())),
        );
        line.insert("service".into(), Value::String(self.service.clone()));
        line.insert(
            "location".into(),
            Value::String(match (meta.module_path(), meta.line()) {
                (Some(module), Some(l)) => format!("{module}:{l}"),
                _ => meta.target().to_string(),
            }),
        );
        // The runtime sets the trace id of the invocation being handled.
        if let Ok(trace) = std::env::var("_X_AMZN_TRACE_ID") {
            line.insert("xray_trace_id".into(), Value::String(trace));
        }
        for (k, v) in fields {
            line.entry(k).or_insert(v);
        }
        let text = serde_json::to_string(&Value::Object(line)).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_carry_powertools_keys_and_the_event_fields() {
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(PowertoolsJson {
                service: "stackwatch-ingest".into(),
            })
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(
                stack = "orders-prod",
                failures = 2_u64,
                "ingest of stack failed"
            );
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "ingest of stack failed");
        assert_eq!(line["service"], "stackwatch-ingest");
        assert_eq!(line["stack"], "orders-prod");
        assert_eq!(line["failures"], 2);
        assert!(line["location"].as_str().unwrap().contains("telemetry"));
        let ts = line["timestamp"].as_str().unwrap();
        assert!(
            ts.ends_with('Z') && ts.contains('.') && ts.len() == 24,
            "{ts}"
        );
    }
}
