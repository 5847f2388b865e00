//! Traffic back to usual after an outage is no incident of its own, even on
//! a resource that only felt the outage: a queue's consumer whose feed
//! stopped saw too few invocations lost each minute to be reported, the
//! band followed it down, and then its invocations came back.
#![allow(clippy::unwrap_used)]

mod common;

use shared::synth::Spec;

#[tokio::test]
async fn a_consumer_whose_feed_comes_back_after_an_outage_raises_no_alarm() {
    // A week learned, then a day in which 94% of the API's requests are
    // lost for an hour and a half: the consumer of the queue the API feeds
    // goes quiet with it.
    let spec = Spec::random_with_days(31_025, 7, 2).named("recovery");
    let (_, score) = common::replay_and_score(&spec).await;
    let drop = score
        .incidents
        .iter()
        .find(|i| i.kind == "traffic_drop")
        .unwrap();
    assert!(drop.detected, "{score}");
    assert_eq!(drop.closed_in_time, Some(true), "{score}");
    assert!(score.false_positives.is_empty(), "{score}");
}
