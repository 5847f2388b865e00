//! `stackwatch synth`: writes synthetic scenarios with their ground truth
//! (`NAME.json` + `NAME.truth.json`) and an `index.json` into a directory.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use shared::synth::{self, IndexEntry, PRESETS, Spec};

/// What to write.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The directory written into.
    pub out_dir: PathBuf,
    /// Presets by name (`all` for every one).
    pub presets: Vec<String>,
    /// How many random scenarios.
    pub random: u32,
    /// The seed of the presets and of the first random scenario (the others
    /// follow it).
    pub seed: u64,
    /// Days in all (history and evaluation); the spec's own when absent.
    pub days: Option<u32>,
    /// Days of evaluation; the spec's own (1, or 2 for the benchmark) when
    /// absent.
    pub eval_days: Option<u32>,
}

/// One scenario written.
#[derive(Clone, Debug)]
pub struct Written {
    /// Its line of the index.
    pub entry: IndexEntry,
    /// Points in all its series.
    pub points: usize,
    /// Time spent generating it (not writing it).
    pub generated_in: Duration,
}

/// The specs a request asks for, in order.
///
/// # Errors
///
/// An unknown preset, no scenario asked for, or days that leave no history.
pub fn specs(req: &Request) -> Result<Vec<Spec>> {
    let mut names: Vec<&str> = Vec::new();
    for p in &req.presets {
        if p == "all" {
            names.extend(PRESETS);
        } else if let Some(known) = PRESETS.iter().find(|k| **k == p.replace('-', "_")) {
            names.push(known);
        } else {
            bail!(
                "unknown preset {p:?}; presets are {} (or all)",
                PRESETS.join(", ")
            );
        }
    }
    if names.is_empty() && req.random == 0 {
        bail!("nothing to write: give --preset NAME (or all) and/or --random N");
    }
    let days = |spec: &Spec| -> Result<(u32, u32)> {
        let eval = req.eval_days.unwrap_or(spec.eval_days).max(1);
        let total = req.days.unwrap_or(spec.history_days + eval);
        if total <= eval {
            bail!("{total} day(s) in all leave no history before {eval} evaluation day(s)");
        }
        Ok((total - eval, eval))
    };
    let mut out = Vec::new();
    for name in names {
        let spec =
            Spec::preset(name, req.seed).with_context(|| format!("preset {name} is missing"))?;
        let (history, eval) = days(&spec)?;
        out.push(spec.with_days(history, eval));
    }
    for k in 0..u64::from(req.random) {
        let seed = req.seed.wrapping_add(k);
        let base = Spec::random(seed);
        let (history, eval) = days(&base)?;
        out.push(Spec::random_with_days(seed, history, eval));
    }
    Ok(out)
}

/// Generates and writes the scenarios of `req`, calling `done` after each,
/// then writes `index.json`.
///
/// # Errors
///
/// An invalid request or spec, or a file that cannot be written.
pub fn run(req: &Request, mut done: impl FnMut(&Written)) -> Result<Vec<Written>> {
    let mut written = Vec::new();
    for spec in specs(req)? {
        let started = Instant::now();
        let generated = synth::generate(&spec)?;
        let generated_in = started.elapsed();
        generated.write_to(&req.out_dir)?;
        let w = Written {
            entry: generated.index_entry(),
            points: generated.points,
            generated_in,
        };
        done(&w);
        written.push(w);
    }
    let entries: Vec<IndexEntry> = written.iter().map(|w| w.entry.clone()).collect();
    let index = req.out_dir.join("index.json");
    std::fs::write(&index, synth::index_json(&entries)?)
        .with_context(|| format!("writing {}", index.display()))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_presets_and_empty_requests_are_refused_with_the_choices() {
        let err = specs(&Request {
            presets: vec!["nope".into()],
            ..Request::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("load_spike"), "{err}");
        let err = specs(&Request::default()).unwrap_err().to_string();
        assert!(err.contains("--random"), "{err}");
    }

    #[test]
    fn days_split_into_history_and_evaluation() {
        let s = specs(&Request {
            presets: vec!["load-spike".into()],
            random: 2,
            seed: 7,
            days: Some(5),
            eval_days: Some(2),
            ..Request::default()
        })
        .unwrap();
        assert_eq!(s.len(), 3);
        for spec in &s {
            assert_eq!((spec.history_days, spec.eval_days), (3, 2));
        }
        assert_eq!(s[1].seed, 7);
        assert_eq!(s[2].seed, 8);
        let err = specs(&Request {
            random: 1,
            days: Some(1),
            ..Request::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("no history"), "{err}");
    }

    #[test]
    fn a_written_directory_has_scenarios_truths_and_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let written = run(
            &Request {
                out_dir: dir.path().to_path_buf(),
                presets: vec!["quiet".into()],
                random: 1,
                seed: 3,
                ..Request::default()
            },
            |_| {},
        )
        .unwrap();
        assert_eq!(written.len(), 2);
        for w in &written {
            assert!(dir.path().join(&w.entry.scenario).is_file());
            assert!(dir.path().join(&w.entry.truth).is_file());
        }
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        assert_eq!(index["scenarios"].as_array().unwrap().len(), 2);
    }
}
