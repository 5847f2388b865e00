//! How replay results are printed: a table for people, or the contract's
//! JSON array for tools.

use std::fmt::Write as _;

use shared::messages::InsightDto;

/// The contract's JSON array (Contract 2), pretty-printed.
///
/// # Errors
///
/// Never in practice: the DTOs always serialise.
pub fn json(insights: &[InsightDto]) -> serde_json::Result<String> {
    serde_json::to_string_pretty(insights)
}

/// A table people can read, one block per insight.
pub fn table(insights: &[InsightDto]) -> String {
    let mut out = String::new();
    if insights.is_empty() {
        out.push_str("No insights: nothing abnormal was found.\n");
        return out;
    }
    for (i, ins) in insights.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. [{} {} {}] {}",
            i + 1,
            ins.severity,
            ins.kind,
            ins.status,
            ins.name
        );
        let _ = writeln!(
            out,
            "   stack {}  abnormal {} → {}  opened {}  closed {}",
            ins.stack,
            ins.start_time,
            ins.end_time.as_deref().unwrap_or("ongoing"),
            ins.open_time,
            ins.close_time.as_deref().unwrap_or("-"),
        );
        if let Some(c) = &ins.probable_cause {
            let _ = writeln!(
                out,
                "   probable cause {} at {}: {}",
                c.cause, c.primary_resource, c.evidence
            );
            let _ = writeln!(out, "   action {}: {}", c.action, c.suggestion);
        }
        for a in &ins.anomalies {
            let _ = writeln!(
                out,
                "   - {:<6} {:<10} {} {} {}/{} {}: observed {} vs expected {} from {}",
                a.severity,
                a.kind,
                a.resource_name,
                a.direction,
                a.namespace,
                a.metric_name,
                a.stat,
                a.observed,
                a.expected,
                a.start_time
            );
        }
        for e in &ins.relevant_events {
            let _ = writeln!(out, "   * {} {}: {}", e.time, e.event_class, e.description);
        }
        for r in &ins.recommendations {
            let _ = writeln!(out, "   > {}: {} ({})", r.name, r.reason, r.link);
        }
    }
    out
}
