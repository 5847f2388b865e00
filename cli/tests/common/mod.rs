//! What the replay tests share: a generated stack replayed and scored.
#![allow(clippy::unwrap_used, dead_code)]

use shared::synth::{Spec, generate};
use shared::truth::ScenarioScore;
use stackwatch::replay::{self, Outcome};

/// Generates `spec`, replays it with its history backfilled (as a real
/// deployment starts) and scores the insights against its ground truth.
pub(crate) async fn replay_and_score(spec: &Spec) -> (Outcome, ScenarioScore) {
    let generated = generate(spec).unwrap();
    let scenario =
        shared::adapters::scenario::parse("generated.json", generated.scenario_json()).unwrap();
    let first = scenario.span().unwrap().0;
    let options = replay::Options {
        history_secs: Some(generated.truth.eval_start.since(first)),
        ..replay::Options::default()
    };
    let outcome = replay::run(vec![scenario], &options).await.unwrap();
    let score = shared::truth::score(&generated.truth, &outcome.insights);
    (outcome, score)
}
