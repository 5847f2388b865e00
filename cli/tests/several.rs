//! Files replayed together are judged as each alone: a file that starts or
//! ends at other times than the rest is never watched where it knows
//! nothing.
#![allow(clippy::unwrap_used)]

use shared::adapters::scenario::{Scenario, parse};
use shared::domain::time::DAY;
use shared::synth::{Spec, generate};
use stackwatch::replay::{self, Options};

fn scenario(spec: &Spec) -> Scenario {
    let generated = generate(spec).unwrap();
    parse(&format!("{}.json", spec.name), generated.scenario_json()).unwrap()
}

fn summary(insights: &[shared::messages::InsightDto]) -> Vec<(String, String, String)> {
    insights
        .iter()
        .map(|i| (i.stack.clone(), i.open_time.clone(), i.name.clone()))
        .collect()
}

#[tokio::test]
async fn files_of_other_weeks_replayed_together_give_what_each_gives_alone() {
    let early = Spec::bad_deploy(3).named("early");
    let mut late = Spec::quiet(4).named("late");
    late.stack = "late-prod".to_string();
    late.start = early.start.add(40 * DAY);
    let options = Options::default();
    let mut alone = Vec::new();
    for spec in [&late, &early] {
        let outcome = replay::run(vec![scenario(spec)], &options).await.unwrap();
        alone.extend(outcome.insights);
    }
    alone.sort_by(|a, b| a.open_time.cmp(&b.open_time));
    assert!(
        alone.iter().any(|i| i.stack == early.stack),
        "{:?}",
        summary(&alone)
    );
    let together = replay::run(vec![scenario(&late), scenario(&early)], &options)
        .await
        .unwrap();
    assert_eq!(summary(&together.insights), summary(&alone));
}
