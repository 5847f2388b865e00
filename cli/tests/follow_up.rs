//! Follow-ups take the schedule's phase out of the time to insight: an
//! incident whose confirming point is published just after a tick is
//! reported then, not at the tick after.
#![allow(clippy::unwrap_used)]

mod common;

use shared::synth::{Injected, Injection, Spec};

#[tokio::test]
async fn an_incident_confirmed_just_after_a_tick_is_reported_before_the_next_one() {
    let mut spec = Spec::quiet(7).named("follow-up").with_days(2, 3);
    spec.injections.clear();
    // Ticks fall on multiples of five minutes and a minute's point is
    // published two minutes after it starts: an incident starting at
    // minute 3 has its second point out at minute 6, just after the tick of
    // minute 5; without a follow-up it waits for the tick of minute 10.
    for day in 0..3 {
        spec.injections.push(Injection {
            at_minute: day * 1440 + 10 * 60 + 35 * day + 3,
            minutes: 30,
            target: None,
            what: Injected::Timeouts { fraction: 0.6 },
        });
    }
    let (outcome, score) = common::replay_and_score(&spec).await;
    let times: Vec<i64> = score
        .incidents
        .iter()
        .filter_map(|i| i.time_to_insight_secs)
        .collect();
    assert_eq!(times.len(), 3, "{score}");
    assert!(times.iter().all(|t| *t <= 4 * 60), "{times:?}\n{score}");
    // Follow-ups are asked for when something turns abnormal, not on a
    // quiet day: a handful per incident at most.
    assert!(
        outcome.follow_ups <= 3 * 10,
        "{} follow-ups",
        outcome.follow_ups
    );
}
