//! Stack resources and their configuration, as CloudFormation and the
//! describe calls of each service report them.

use std::collections::BTreeMap;

/// One resource of a stack, in the shape of CloudFormation's
/// `StackResourceSummary`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resource {
    /// The template's name for it, e.g. `GetOrderFunction`.
    pub logical_id: String,
    /// The service's name for it, e.g. `orders-prod-GetOrder-1A2B3C`.
    pub physical_id: String,
    /// The CloudFormation type, e.g. `AWS::Lambda::Function`.
    pub resource_type: String,
}

impl Resource {
    /// A resource from its three names.
    pub fn new(
        logical_id: impl Into<String>,
        physical_id: impl Into<String>,
        resource_type: impl Into<String>,
    ) -> Self {
        Self {
            logical_id: logical_id.into(),
            physical_id: physical_id.into(),
            resource_type: resource_type.into(),
        }
    }

    /// The shortest name people recognise: the last segment of a queue URL
    /// or an ARN, the physical id otherwise.
    pub fn display_name(&self) -> &str {
        short_name(&self.physical_id)
    }
}

/// The last `/`- or `:`-separated segment of an ARN or URL (`…/my-queue` →
/// `my-queue`), or the text itself when it has none.
pub fn short_name(id: &str) -> &str {
    if id.starts_with("https://") || id.starts_with("arn:") {
        id.rsplit(['/', ':']).find(|s| !s.is_empty()).unwrap_or(id)
    } else {
        id
    }
}

/// A value of a resource's configuration: the JSON that a describe call
/// (`GetFunctionConfiguration`, `DescribeTable`, `GetQueueAttributes`, …)
/// returns, in a form the domain can read without a wire format.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum ConfigValue {
    /// JSON null or an absent field.
    #[default]
    Null,
    /// true or false.
    Bool(bool),
    /// Any number.
    Number(f64),
    /// A string.
    Text(String),
    /// An array.
    List(Vec<ConfigValue>),
    /// An object.
    Map(BTreeMap<String, ConfigValue>),
}

impl ConfigValue {
    /// The value at `path` (object keys), or `Null` when any step is missing.
    pub fn at(&self, path: &[&str]) -> &ConfigValue {
        static NULL: ConfigValue = ConfigValue::Null;
        let mut here = self;
        for key in path {
            match here {
                ConfigValue::Map(m) => match m.get(*key) {
                    Some(v) => here = v,
                    None => return &NULL,
                },
                _ => return &NULL,
            }
        }
        here
    }

    /// A number, also from a numeric string: SQS returns its attributes as
    /// strings (`"VisibilityTimeout": "360"`).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ConfigValue::Number(n) => Some(*n),
            ConfigValue::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ConfigValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is null or absent.
    pub fn is_null(&self) -> bool {
        matches!(self, ConfigValue::Null)
    }
}

/// The kinds of resource stackwatch knows how to watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// `AWS::Lambda::Function`.
    LambdaFunction,
    /// `AWS::DynamoDB::Table` (and `GlobalTable`).
    DynamoDbTable,
    /// `AWS::ApiGateway::RestApi`, watched per stage.
    RestApi,
    /// `AWS::ApiGatewayV2::Api` (HTTP APIs), watched per stage.
    HttpApi,
    /// `AWS::SQS::Queue`.
    SqsQueue,
    /// `AWS::SNS::Topic`.
    SnsTopic,
    /// `AWS::StepFunctions::StateMachine`.
    StateMachine,
    /// `AWS::Kinesis::Stream`.
    KinesisStream,
    /// `AWS::ElasticLoadBalancingV2::LoadBalancer` (application load balancers).
    LoadBalancer,
}

impl ResourceKind {
    /// The kind of a CloudFormation resource type, if stackwatch watches it.
    pub fn from_type(resource_type: &str) -> Option<Self> {
        Some(match resource_type {
            "AWS::Lambda::Function" | "AWS::Serverless::Function" => Self::LambdaFunction,
            "AWS::DynamoDB::Table"
            | "AWS::DynamoDB::GlobalTable"
            | "AWS::Serverless::SimpleTable" => Self::DynamoDbTable,
            "AWS::ApiGateway::RestApi" | "AWS::Serverless::Api" => Self::RestApi,
            "AWS::ApiGatewayV2::Api" | "AWS::Serverless::HttpApi" => Self::HttpApi,
            "AWS::SQS::Queue" => Self::SqsQueue,
            "AWS::SNS::Topic" => Self::SnsTopic,
            "AWS::StepFunctions::StateMachine" | "AWS::Serverless::StateMachine" => {
                Self::StateMachine
            }
            "AWS::Kinesis::Stream" => Self::KinesisStream,
            "AWS::ElasticLoadBalancingV2::LoadBalancer" => Self::LoadBalancer,
            _ => return None,
        })
    }

    /// How people call it in a sentence: "function", "table", "API", …
    pub fn noun(self) -> &'static str {
        match self {
            Self::LambdaFunction => "function",
            Self::DynamoDbTable => "table",
            Self::RestApi | Self::HttpApi => "API",
            Self::SqsQueue => "queue",
            Self::SnsTopic => "topic",
            Self::StateMachine => "state machine",
            Self::KinesisStream => "stream",
            Self::LoadBalancer => "load balancer",
        }
    }
}

/// An object of `pairs`, as a describe call returns one: the tests'
/// configurations.
#[cfg(test)]
pub(crate) fn object<'a>(pairs: impl IntoIterator<Item = (&'a str, ConfigValue)>) -> ConfigValue {
    ConfigValue::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_come_from_urls_and_arns() {
        assert_eq!(
            short_name("https://sqs.eu-west-1.amazonaws.com/1/orders-q"),
            "orders-q"
        );
        assert_eq!(short_name("arn:aws:sns:eu-west-1:1:alarms"), "alarms");
        assert_eq!(short_name("orders-GetOrder-1A2B"), "orders-GetOrder-1A2B");
    }

    #[test]
    fn config_paths_read_nested_values_and_numeric_strings() {
        let v = object([(
            "Attributes",
            object([("VisibilityTimeout", ConfigValue::Text("360".into()))]),
        )]);
        assert_eq!(
            v.at(&["Attributes", "VisibilityTimeout"]).as_f64(),
            Some(360.0)
        );
        assert!(v.at(&["Attributes", "Missing"]).is_null());
        assert!(
            v.at(&["Attributes", "VisibilityTimeout", "deeper"])
                .is_null()
        );
    }
}
