//! What an insight tells at the end: its recommendations follow the
//! explanation, most important first.
#![allow(clippy::unwrap_used)]

mod common;

use shared::synth::Spec;

#[tokio::test]
async fn a_bad_deployment_recommends_its_rollback_first() {
    // The API's 5XX errors arrive before the function's own: the first
    // explanation looks for the failing integration, the final one knows it.
    let (outcome, score) = common::replay_and_score(&Spec::bad_deploy(7)).await;
    assert!(score.incidents.iter().all(|i| i.detected), "{score}");
    let insight = outcome
        .insights
        .iter()
        .find(|i| i.kind == "REACTIVE")
        .unwrap();
    let first = &insight.recommendations[0].name;
    assert!(first.starts_with("Roll back the deployment of "), "{first}");
    assert!(
        insight
            .recommendations
            .iter()
            .all(|r| !r.name.starts_with("Find which integration")),
        "{:?}",
        insight.recommendations
    );
}
