//! Logging for the Lambda functions: one JSON object a line with the keys
//! Powertools for AWS Lambda uses (`timestamp`, `level`, `message`) and the
//! event's structured fields at the top level (`stack`, `change_id`, …), so
//! that CloudWatch Logs Insights can filter on them.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// Installs the JSON log subscriber. The level comes from `AWS_LAMBDA_LOG_LEVEL`
/// (set by the function's `LoggingConfig`) or `RUST_LOG`, `INFO` by default.
/// Calling it twice is harmless: the second call changes nothing.
pub fn init_tracing() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_string());
    let filter =
        EnvFilter::try_new(level.to_ascii_lowercase()).unwrap_or_else(|_| EnvFilter::new("info"));
    // Ignored when a subscriber is already installed (a test, a second call).
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
        .with_ansi(false)
        .with_span_events(FmtSpan::NONE)
        .with_env_filter(filter)
        .try_init();
}
