//! The whole pipeline's throughput and the state it keeps, printed (not
//! asserted).
//!
//! `cargo bench -p stackwatch --bench replay` generates the project's
//! benchmark stack (nine days at one-minute resolution, about 45 series,
//! about 400,000 points, about 11 MB of JSON), writes it as a scenario file,
//! then times, best of three:
//!
//! - reading the file (the scenario parser);
//! - the replay: ingest, analyzer and notifier at every five-minute tick,
//!   backfill included;
//!
//! and prints points per second for each, and the encoded bytes of state per
//! metric at the end. Other work on the machine can only slow a run down, so
//! the best run is printed.

#![allow(clippy::print_stdout, missing_docs)]

use std::time::{Duration, Instant};

use shared::adapters::scenario;
use shared::synth::{Spec, generate};
use stackwatch::replay;

const RUNS: usize = 3;

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let generated = generate(&Spec::benchmark(1)).expect("the benchmark stack generates");
    let (file, _) = generated
        .write_to(dir.path())
        .expect("the scenario is written");
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");

    let mut parse = Duration::MAX;
    let mut pipeline = Duration::MAX;
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let s = scenario::load(&file).expect("the scenario parses");
        parse = parse.min(start.elapsed());
        let start = Instant::now();
        let outcome = runtime
            .block_on(replay::run(vec![s], &replay::Options::default()))
            .expect("the replay runs");
        pipeline = pipeline.min(start.elapsed());
        last = Some(outcome);
    }
    let Some(outcome) = last else { return };
    let points = outcome.points as f64;
    println!(
        "scenario: {} series, {} points, {:.1} MB of JSON, {} days",
        generated.index_entry().metrics,
        outcome.points,
        bytes as f64 / 1e6,
        generated.truth.history_days + generated.truth.eval_days
    );
    println!(
        "parse:    {:>8.3} s  {:>10.2e} points/s",
        parse.as_secs_f64(),
        points / parse.as_secs_f64()
    );
    println!(
        "pipeline: {:>8.3} s  {:>10.2e} points/s  ({} ticks, {} points judged, {} insights)",
        pipeline.as_secs_f64(),
        points / pipeline.as_secs_f64(),
        outcome.ticks,
        outcome.judged,
        outcome.insights.len()
    );
    println!(
        "total:    {:>8.3} s  {:>10.2e} points/s",
        (parse + pipeline).as_secs_f64(),
        points / (parse + pipeline).as_secs_f64()
    );
    println!(
        "state:    {} metrics, {} bytes per metric on average, {} at most",
        outcome.state.metrics,
        outcome.state.mean_bytes(),
        outcome.state.max_bytes
    );
}
