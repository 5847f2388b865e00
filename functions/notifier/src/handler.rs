//! The notifier handler, generic over its ports.

use shared::domain::insight::Severity;
use shared::domain::notification::NotificationFilter;
use shared::messages::Notification;
use shared::ports::{DeliveryLog, Notifier};
use tracing::{info, warn};

/// The ports and settings the notifier runs with.
#[derive(Debug)]
pub struct Deps<N, L> {
    /// Where messages go.
    pub notifier: N,
    /// Which changes were already delivered.
    pub log: L,
    /// Which changes are worth a message.
    pub filter: NotificationFilter,
}

/// What one batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Messages sent.
    pub sent: usize,
    /// Changes the filter left out.
    pub filtered: usize,
    /// Changes already delivered before (a retry or redelivery).
    pub duplicates: usize,
    /// Changes that could not be delivered, by change id, with the reason.
    pub failures: Vec<(String, String)>,
}

/// Delivers a batch of insight changes. A change that fails is reported in
/// [`Report::failures`] and can be retried; the others are unaffected.
pub async fn handle<N, L>(deps: &Deps<N, L>, batch: &[Notification]) -> Report
where
    N: Notifier + Sync,
    L: DeliveryLog + Sync,
{
    let mut report = Report::default();
    for n in batch {
        let severity = Severity::parse(&n.insight.severity).unwrap_or(Severity::Low);
        if !deps.filter.accepts(severity, &n.message_type) {
            report.filtered += 1;
            continue;
        }
        match deps.log.claim(&n.change_id).await {
            Ok(true) => {}
            Ok(false) => {
                report.duplicates += 1;
                continue;
            }
            Err(e) => {
                report.failures.push((n.change_id.clone(), e.to_string()));
                continue;
            }
        }
        match deps.notifier.publish(n).await {
            Ok(()) => {
                report.sent += 1;
                info!(change_id = %n.change_id, message_type = %n.message_type, stack = %n.insight.stack, "notification sent");
            }
            Err(e) => {
                warn!(change_id = %n.change_id, error = %e, "notification failed");
                if let Err(release) = deps.log.release(&n.change_id).await {
                    warn!(change_id = %n.change_id, error = %release, "could not release the delivery claim");
                }
                report.failures.push((n.change_id.clone(), e.to_string()));
            }
        }
    }
    report
}
