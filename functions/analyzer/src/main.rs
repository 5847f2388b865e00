//! The analyzer Lambda function: wiring only.

use analyzer::config::Config;
use analyzer::lambda;
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    shared::telemetry::init_tracing();
    let config = Config::from_env()?;
    let sdk = shared::adapters::aws::load_sdk_config().await;
    let store = lambda::store(&config, &sdk);
    let deps = lambda::deps(&config, &sdk, &store);
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let deps = &deps;
        async move { lambda::handle(deps, event.payload).await }
    }))
    .await
}
