//! The recommendation catalogue: what to do, for each kind of resource,
//! with the AWS documentation page that explains how.
//!
//! A template says what to do; the reason, which quotes what was observed,
//! is written when the recommendation is made.

use super::insight::Recommendation;
use super::resource::ResourceKind;

/// One entry of the catalogue.
#[derive(Debug, PartialEq, Eq)]
pub struct Template {
    /// Stable id, e.g. `lambda-rollback`.
    pub id: &'static str,
    /// Title; `{resource}` is replaced with the resource's name.
    pub name: &'static str,
    /// What to do.
    pub description: &'static str,
    /// The AWS documentation page.
    pub link: &'static str,
    /// The kind of resource it applies to.
    pub kind: ResourceKind,
}

macro_rules! t {
    ($id:expr, $kind:ident, $name:expr, $desc:expr, $link:expr) => {
        Template {
            id: $id,
            kind: ResourceKind::$kind,
            name: $name,
            description: $desc,
            link: $link,
        }
    };
}

/// Every recommendation stackwatch can make.
pub static CATALOGUE: &[Template] = &[
    t!(
        "lambda-rollback",
        LambdaFunction,
        "Roll back the deployment of {resource}",
        "Point the function's alias back at the previous version, or redeploy the previous template, and check that the metric returns to its baseline before deploying a fix.",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html"
    ),
    t!(
        "lambda-concurrency",
        LambdaFunction,
        "Raise the concurrency available to {resource}",
        "Increase the function's reserved concurrency, or request a higher concurrency quota for the account, so that requests are not throttled at peak.",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html"
    ),
    t!(
        "lambda-cap-concurrency",
        LambdaFunction,
        "Cap the concurrency of {resource}",
        "Its invocations surged from outside the stack: reserved concurrency caps how many run at once, so that a surge is throttled at this function instead of taking the account's concurrency and the capacity of the tables behind it; then find which caller sends the excess.",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html"
    ),
    t!(
        "lambda-callers",
        LambdaFunction,
        "Check what invokes {resource}",
        "Its invocations fell with nothing of the stack failing: check the callers outside the stack (their errors and deployments, a rule, schedule or subscription disabled) and that they are still allowed to invoke it.",
        "https://docs.aws.amazon.com/lambda/latest/dg/lambda-invocation.html"
    ),
    t!(
        "lambda-timeout",
        LambdaFunction,
        "Review the timeout of {resource}",
        "Raise the function's timeout if the work legitimately takes longer, or set shorter timeouts on its downstream calls so that a slow dependency fails fast instead of holding the function.",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html"
    ),
    t!(
        "lambda-errors",
        LambdaFunction,
        "Find the errors raised by {resource}",
        "Search the function's log group for the errors raised since the anomaly started; if it cannot recover on its own, publish a new version or update its configuration so that Lambda replaces its execution environments.",
        "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"
    ),
    t!(
        "lambda-tracing",
        LambdaFunction,
        "Trace where {resource} spends its time",
        "Its duration rose with nothing of the stack slower to explain it: turn on X-Ray active tracing (or read the traces it already has) to see which call outside the stack slowed down, then give that call a shorter timeout and a fallback.",
        "https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html"
    ),
    t!(
        "lambda-memory",
        LambdaFunction,
        "Give {resource} more memory",
        "Duration rose without more traffic or a slower dependency: more memory also gives the function more CPU, which shortens compute-bound work.",
        "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"
    ),
    t!(
        "lambda-event-source",
        LambdaFunction,
        "Check that {resource} still receives its events",
        "The function stopped being invoked while work waits in its source: check that its event source mapping is enabled, that its reserved concurrency is not zero, and that its execution role may still read from the source. The backlog drains once it receives again.",
        "https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html"
    ),
    t!(
        "lambda-sqs-visibility",
        SqsQueue,
        "Raise the visibility timeout of {resource}",
        "Set the queue's visibility timeout to at least six times the timeout of the function that consumes it, so that a message is not delivered again while it is still being processed.",
        "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html"
    ),
    t!(
        "sqs-dead-letter-queue",
        SqsQueue,
        "Give {resource} a dead-letter queue",
        "Add a redrive policy that moves messages to a dead-letter queue after a few failed receives, so that a message that always fails stops blocking the consumer and is kept for inspection.",
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html"
    ),
    t!(
        "sqs-scale-consumer",
        SqsQueue,
        "Let the consumer of {resource} catch up",
        "Check the consumer function's errors and throttles first; then raise its maximum concurrency or batch size so that it drains the backlog faster than messages arrive.",
        "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html"
    ),
    t!(
        "sqs-retention",
        SqsQueue,
        "Keep the messages of {resource} longer",
        "Messages are getting close to the queue's retention period and will be deleted unread: drain the backlog, and raise the retention period (up to 14 days) while you do.",
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-queue-parameters.html"
    ),
    t!(
        "dynamodb-capacity",
        DynamoDbTable,
        "Give {resource} more capacity",
        "Switch the table to on-demand capacity, or raise its provisioned capacity and enable auto scaling, so that requests are not throttled.",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/capacity-mode.html"
    ),
    t!(
        "dynamodb-autoscaling",
        DynamoDbTable,
        "Enable auto scaling on {resource}",
        "Let DynamoDB adjust the provisioned capacity to the traffic, with a target utilisation around 70%, so that growth does not reach the limit.",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/AutoScaling.html"
    ),
    t!(
        "dynamodb-rightsize",
        DynamoDbTable,
        "Lower the provisioned capacity of {resource}",
        "The table uses a small part of the capacity it pays for: lower the provisioned capacity to about 65% utilisation at peak, or switch to on-demand capacity if the traffic is spiky.",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/provisioned-capacity-mode.html"
    ),
    t!(
        "dynamodb-pitr",
        DynamoDbTable,
        "Enable point-in-time recovery on {resource}",
        "Turn on continuous backups so that the table can be restored to any second of the last 35 days after an accidental write or delete.",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html"
    ),
    t!(
        "dynamodb-hot-keys",
        DynamoDbTable,
        "Spread the requests to {resource} over more keys",
        "Throttling on a table with spare capacity comes from hot partitions: spread requests over more partition key values, or add a cache for the hottest items.",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
    ),
    t!(
        "dynamodb-latency",
        DynamoDbTable,
        "Investigate the latency of {resource}",
        "Check whether the slower operations are scans or large queries, whether the table is throttled, and whether the callers retry with backoff and reuse connections.",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TroubleshootingLatency.html"
    ),
    t!(
        "apigw-throttle",
        RestApi,
        "Throttle excess traffic to {resource}",
        "Set stage or usage-plan throttling limits so that a surge is refused at the edge instead of overloading the functions and tables behind the API.",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html"
    ),
    t!(
        "apigw-waf",
        RestApi,
        "Block abusive clients of {resource}",
        "If the surge comes from a few clients, attach an AWS WAF web ACL with a rate-based rule to the stage.",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-control-access-aws-waf.html"
    ),
    t!(
        "apigw-logging",
        RestApi,
        "Find which integration of {resource} fails",
        "Turn on execution logging for the stage and look for the integration errors and timeouts behind the 5XX responses.",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html"
    ),
    t!(
        "apigw-traffic-drop",
        RestApi,
        "Check the clients of {resource}",
        "Traffic fell below its usual level: check the clients, DNS and any upstream service that calls the API, and the 4XX responses for refused requests.",
        "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html"
    ),
    t!(
        "kinesis-parallelization",
        KinesisStream,
        "Process {resource} with more parallelism",
        "Raise the parallelization factor or batch size of the consuming function's event source mapping so that it keeps up with the stream.",
        "https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html"
    ),
    t!(
        "kinesis-shards",
        KinesisStream,
        "Add shards to {resource}",
        "Writes or reads exceed the stream's throughput: add shards, or switch the stream to on-demand capacity.",
        "https://docs.aws.amazon.com/streams/latest/dev/kinesis-using-sdk-java-resharding.html"
    ),
    t!(
        "sfn-retry",
        StateMachine,
        "Add Retry and Catch to the failing states of {resource}",
        "Retry transient errors with backoff and catch the rest so that executions fail gracefully; check the failed executions' history for the failing state.",
        "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"
    ),
    t!(
        "sfn-quotas",
        StateMachine,
        "Request higher Step Functions quotas for {resource}",
        "Executions are throttled: request higher quotas, or smooth the rate at which executions start.",
        "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
    ),
    t!(
        "sns-delivery",
        SnsTopic,
        "Check the subscriptions of {resource}",
        "Deliveries are failing: check the subscriptions' endpoints and permissions, and give them a dead-letter queue.",
        "https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html"
    ),
    t!(
        "alb-targets",
        LoadBalancer,
        "Check the targets of {resource}",
        "The load balancer's targets return errors or respond slowly: check their health checks and logs.",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html"
    ),
];

/// The template with `id`.
pub fn template(id: &str) -> Option<&'static Template> {
    CATALOGUE.iter().find(|t| t.id == id)
}

/// A recommendation from template `id` for the resource named `display`,
/// with `reason` quoting what was observed. `None` for an unknown id.
pub fn recommend(id: &str, display: &str, reason: String) -> Option<Recommendation> {
    let t = template(id)?;
    Some(Recommendation {
        name: t.name.replace("{resource}", display),
        description: t.description.to_string(),
        reason,
        link: t.link.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn the_catalogue_covers_the_serverless_services_with_well_formed_entries() {
        assert!(CATALOGUE.len() >= 15);
        let kinds: BTreeSet<_> = CATALOGUE.iter().map(|t| t.kind).collect();
        for kind in [
            ResourceKind::LambdaFunction,
            ResourceKind::DynamoDbTable,
            ResourceKind::RestApi,
            ResourceKind::SqsQueue,
            ResourceKind::KinesisStream,
            ResourceKind::StateMachine,
        ] {
            assert!(kinds.contains(&kind), "{kind:?} has no recommendation");
        }
        let ids: BTreeSet<_> = CATALOGUE.iter().map(|t| t.id).collect();
        assert_eq!(ids.len(), CATALOGUE.len(), "ids are unique");
        for t in CATALOGUE {
            assert!(
                t.link.starts_with("https://docs.aws.amazon.com/"),
                "{}",
                t.id
            );
            assert!(t.link.ends_with(".html"), "{}", t.id);
            assert!(!t.link.contains(' ') && !t.link.contains('#'), "{}", t.id);
            assert!(t.name.contains("{resource}"), "{}", t.id);
            assert!(t.description.ends_with('.'), "{}", t.id);
            assert!(t.description.len() > 40, "{}", t.id);
        }
    }
}
