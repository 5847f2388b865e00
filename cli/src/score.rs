//! `stackwatch score`: replay output scored against a scenario's ground
//! truth, for one replay or for a whole directory of scenarios replayed in
//! process.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use shared::adapters::scenario;
use shared::messages::InsightDto;
use shared::truth::{self, ScenarioScore, Summary, Truth};

use crate::replay;

/// The scores of a directory of scenarios and their aggregate.
#[derive(Clone, Debug, Serialize)]
pub struct CorpusScore {
    /// One score per scenario, in file name order.
    pub scenarios: Vec<ScenarioScore>,
    /// The aggregate.
    pub summary: Summary,
}

/// Scores a replay's JSON output (`stackwatch replay --json`) against a
/// truth file.
///
/// # Errors
///
/// A file that cannot be read or parsed.
pub fn score_files(truth: &Path, replay_output: &Path) -> Result<ScenarioScore> {
    let truth = Truth::load(truth)?;
    let bytes = std::fs::read(replay_output)
        .with_context(|| format!("reading {}", replay_output.display()))?;
    let insights: Vec<InsightDto> = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{}: not the JSON array of insights that `stackwatch replay --json` prints",
            replay_output.display()
        )
    })?;
    Ok(truth::score(&truth, &insights))
}

/// Every `X.json` of `dir` that has an `X.truth.json` beside it, with that
/// truth file, sorted by name.
///
/// # Errors
///
/// When the directory cannot be listed.
pub fn corpus_entries(dir: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        if stem.ends_with(".truth") {
            continue;
        }
        let truth = dir.join(format!("{stem}.truth.json"));
        if truth.is_file() {
            out.push((path, truth));
        }
    }
    out.sort();
    Ok(out)
}

/// Replays one scenario with its truth's history and scores the result.
///
/// # Errors
///
/// A file that cannot be read, a truth about another stack, or a failed
/// replay.
pub async fn score_scenario(
    scenario_file: &Path,
    truth_file: &Path,
    options: &replay::Options,
) -> Result<ScenarioScore> {
    let truth = Truth::load(truth_file)?;
    let scenario = scenario::load(scenario_file)?;
    if scenario.stack != truth.stack {
        bail!(
            "{} describes stack {:?} but {} is about {:?}",
            truth_file.display(),
            truth.stack,
            scenario_file.display(),
            scenario.stack
        );
    }
    // Everything before the evaluation period is history, as the truth says.
    let first = scenario
        .span()
        .map_or(truth.history_start, |(first, _)| first);
    let options = replay::Options {
        history_secs: Some(truth.eval_start.since(first).max(0)),
        progress: false,
        ..options.clone()
    };
    let outcome = replay::run(vec![scenario], &options)
        .await
        .with_context(|| format!("replaying {}", scenario_file.display()))?;
    Ok(truth::score(&truth, &outcome.insights))
}

/// Replays and scores every scenario of `dir` that has a truth file,
/// calling `done` after each.
///
/// # Errors
///
/// No scenario with a truth in `dir`, or one that fails (named).
pub async fn corpus(
    dir: &Path,
    options: &replay::Options,
    mut done: impl FnMut(&ScenarioScore),
) -> Result<CorpusScore> {
    let entries = corpus_entries(dir)?;
    if entries.is_empty() {
        bail!(
            "{} has no scenario X.json with an X.truth.json beside it",
            dir.display()
        );
    }
    let mut scenarios = Vec::with_capacity(entries.len());
    for (scenario_file, truth_file) in &entries {
        let s = score_scenario(scenario_file, truth_file, options).await?;
        done(&s);
        scenarios.push(s);
    }
    let summary = truth::summarize(&scenarios);
    Ok(CorpusScore { scenarios, summary })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::synth::{Spec, generate};

    #[test]
    fn corpus_entries_pair_scenarios_with_their_truth_and_skip_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "a.json",
            "a.truth.json",
            "b.json",
            "index.json",
            "c.truth.json",
        ] {
            std::fs::write(dir.path().join(f), "{}").unwrap();
        }
        let entries = corpus_entries(dir.path()).unwrap();
        assert_eq!(entries.len(), 1);
        assert!(entries[0].0.ends_with("a.json"));
        assert!(entries[0].1.ends_with("a.truth.json"));
    }

    #[tokio::test]
    async fn a_generated_corpus_is_replayed_and_scored_in_process() {
        let dir = tempfile::tempdir().unwrap();
        let g = generate(&Spec::load_spike(11)).unwrap();
        g.write_to(dir.path()).unwrap();
        let mut seen = Vec::new();
        let report = corpus(dir.path(), &replay::Options::default(), |s| {
            seen.push(s.scenario.clone())
        })
        .await
        .unwrap();
        assert_eq!(seen, vec![g.name.clone()]);
        assert_eq!(report.summary.scenarios, 1);
        assert_eq!(report.summary.incidents, 1);
        assert_eq!(report.scenarios[0].incidents[0].kind, "load_spike");
        // The benign events of the truth are all scored.
        let benign = g.truth.incidents.iter().filter(|i| !i.should_alert).count();
        assert_eq!(report.scenarios[0].benign.len(), benign);
    }

    #[test]
    fn a_replay_file_that_is_not_an_insight_array_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let g = generate(&Spec::quiet(2)).unwrap();
        let (_, truth) = g.write_to(dir.path()).unwrap();
        let replay = dir.path().join("replay.json");
        std::fs::write(&replay, r#"{"not": "an array"}"#).unwrap();
        let err = format!("{:#}", score_files(&truth, &replay).unwrap_err());
        assert!(err.contains("replay.json"), "{err}");
        std::fs::write(&replay, "[]").unwrap();
        let s = score_files(&truth, &replay).unwrap();
        assert!(s.false_positives.is_empty());
    }
}
