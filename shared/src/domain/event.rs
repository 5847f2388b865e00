//! Stack events (CloudFormation `StackEvent`) and which of them are relevant
//! to an anomaly: the deployments and changes shortly before it started.

use super::resource::Resource;
use super::time::Timestamp;

/// One CloudFormation stack event.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StackEvent {
    /// When it happened.
    pub time: Timestamp,
    /// The resource (the stack itself for stack-level events).
    pub resource: Resource,
    /// `UPDATE_COMPLETE`, `CREATE_COMPLETE`, …
    pub status: String,
    /// CloudFormation's reason text, if any.
    pub reason: Option<String>,
}

/// DevOps Guru's classes of relevant events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventClass {
    /// New code or a new API deployment.
    Deployment,
    /// A change of configuration.
    ConfigChange,
    /// A resource created or deleted.
    Infrastructure,
    /// A change of permissions.
    SecurityChange,
    /// A change of a table's keys or indexes.
    SchemaChange,
}

impl EventClass {
    /// The contract's spelling: `DEPLOYMENT`, `CONFIG_CHANGE`, …
    pub fn as_str(self) -> &'static str {
        match self {
            EventClass::Deployment => "DEPLOYMENT",
            EventClass::ConfigChange => "CONFIG_CHANGE",
            EventClass::Infrastructure => "INFRASTRUCTURE",
            EventClass::SecurityChange => "SECURITY_CHANGE",
            EventClass::SchemaChange => "SCHEMA_CHANGE",
        }
    }
}

/// A stack event that may explain an insight.
#[derive(Clone, Debug, PartialEq)]
pub struct RelevantEvent {
    /// When the change completed.
    pub time: Timestamp,
    /// The changed resource.
    pub resource: Resource,
    /// What kind of change.
    pub class: EventClass,
    /// A sentence: "GetOrderFunction (AWS::Lambda::Function) updated".
    pub description: String,
}

/// How far before an anomaly's start a change is still relevant.
pub const LOOKBACK_SECS: i64 = 2 * 3_600;

/// The class of a completed resource change, or `None` for events that are
/// not changes (in-progress and failed steps, stack-level bookkeeping).
pub fn classify(event: &StackEvent) -> Option<EventClass> {
    if event.resource.resource_type == "AWS::CloudFormation::Stack" {
        return None;
    }
    let ty = event.resource.resource_type.as_str();
    match event.status.as_str() {
        "UPDATE_COMPLETE" => Some(match ty {
            "AWS::Lambda::Function"
            | "AWS::Lambda::Version"
            | "AWS::Lambda::Alias"
            | "AWS::Lambda::LayerVersion"
            | "AWS::ApiGateway::Deployment"
            | "AWS::ApiGateway::Stage"
            | "AWS::ApiGatewayV2::Deployment"
            | "AWS::ApiGatewayV2::Stage"
            | "AWS::StepFunctions::StateMachine"
            | "AWS::ECS::Service"
            | "AWS::ECS::TaskDefinition" => EventClass::Deployment,
            "AWS::IAM::Role"
            | "AWS::IAM::Policy"
            | "AWS::IAM::ManagedPolicy"
            | "AWS::Lambda::Permission"
            | "AWS::KMS::Key" => EventClass::SecurityChange,
            "AWS::DynamoDB::Table" | "AWS::DynamoDB::GlobalTable" => EventClass::SchemaChange,
            _ => EventClass::ConfigChange,
        }),
        "CREATE_COMPLETE" | "DELETE_COMPLETE" => match ty {
            "AWS::Lambda::Version"
            | "AWS::ApiGateway::Deployment"
            | "AWS::ApiGatewayV2::Deployment" => Some(EventClass::Deployment),
            _ => Some(EventClass::Infrastructure),
        },
        _ => None,
    }
}

/// The completed changes from [`LOOKBACK_SECS`] before `start` to the end
/// of the period that starts at `start` (a change during the first abnormal
/// minute may well be its cause), newest first.
pub fn relevant_to(events: &[StackEvent], start: Timestamp, period: i64) -> Vec<RelevantEvent> {
    let from = start.add(-LOOKBACK_SECS);
    let until = start.add(period);
    let mut out: Vec<RelevantEvent> = events
        .iter()
        .filter(|e| e.time >= from && e.time < until)
        .filter_map(|e| {
            let class = classify(e)?;
            let verb = match e.status.as_str() {
                "CREATE_COMPLETE" => "created",
                "DELETE_COMPLETE" => "deleted",
                _ => "updated",
            };
            Some(RelevantEvent {
                time: e.time,
                resource: e.resource.clone(),
                class,
                description: format!(
                    "{} ({}) {verb} at {}",
                    e.resource.logical_id,
                    e.resource.resource_type,
                    e.time.hhmm()
                ),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.time
            .cmp(&a.time)
            .then_with(|| a.resource.cmp(&b.resource))
    });
    out.dedup_by(|a, b| a.time == b.time && a.resource == b.resource);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(secs: i64, ty: &str, status: &str) -> StackEvent {
        StackEvent {
            time: Timestamp::from_secs(secs),
            resource: Resource::new("Fn", "stack-Fn-1", ty),
            status: status.into(),
            reason: None,
        }
    }

    #[test]
    fn function_updates_are_deployments_and_stack_bookkeeping_is_not_an_event() {
        assert_eq!(
            classify(&ev(0, "AWS::Lambda::Function", "UPDATE_COMPLETE")),
            Some(EventClass::Deployment)
        );
        assert_eq!(
            classify(&ev(0, "AWS::Lambda::Function", "UPDATE_IN_PROGRESS")),
            None
        );
        assert_eq!(
            classify(&ev(0, "AWS::IAM::Role", "UPDATE_COMPLETE")),
            Some(EventClass::SecurityChange)
        );
        assert_eq!(
            classify(&ev(0, "AWS::SQS::Queue", "UPDATE_COMPLETE")),
            Some(EventClass::ConfigChange)
        );
        assert_eq!(
            classify(&ev(0, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE")),
            None
        );
    }

    #[test]
    fn only_changes_shortly_before_the_start_are_relevant() {
        let events = vec![
            ev(10_000, "AWS::Lambda::Function", "UPDATE_COMPLETE"),
            ev(
                10_000 - LOOKBACK_SECS - 1,
                "AWS::Lambda::Function",
                "UPDATE_COMPLETE",
            ),
            ev(10_100, "AWS::Lambda::Function", "UPDATE_COMPLETE"),
        ];
        let got = relevant_to(&events, Timestamp::from_secs(10_050), 60);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].time.secs(),
            10_100,
            "a change during the first minute counts"
        );
        let got = relevant_to(&events, Timestamp::from_secs(10_000), 60);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].time.secs(), 10_000);
        assert_eq!(got[0].class, EventClass::Deployment);
    }
}
