//! A repeated incident is reported every time it happens: anomalous points
//! never teach the baseline, so the same slowdown at the same time of day on
//! three days in a row is three insights, not one that then became normal.
#![allow(clippy::unwrap_used)]

mod common;

use shared::synth::{Injected, Injection, Spec};

#[tokio::test]
async fn the_same_incident_at_the_same_time_three_days_in_a_row_is_reported_three_times() {
    let mut spec = Spec::quiet(21).named("repeated").with_days(2, 3);
    let at = spec
        .injections
        .first()
        .map_or(11 * 60, |i| i.at_minute % 1440);
    spec.injections.clear();
    for day in 0..3 {
        spec.injections.push(Injection {
            at_minute: day * 1440 + at.clamp(120, 1200),
            minutes: 40,
            target: None,
            what: Injected::Timeouts { fraction: 0.6 },
        });
    }
    let (_, score) = common::replay_and_score(&spec).await;
    let detected: Vec<bool> = score.incidents.iter().map(|i| i.detected).collect();
    assert_eq!(detected, vec![true, true, true], "{score}");
    // Each time as quickly as the first.
    let times: Vec<i64> = score
        .incidents
        .iter()
        .filter_map(|i| i.time_to_insight_secs)
        .collect();
    assert!(times.iter().all(|t| *t <= times[0] + 300), "{score}");
}
