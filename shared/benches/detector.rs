//! Detector throughput and state size, printed (not asserted).
//!
//! `cargo bench -p shared --bench detector` runs the detector in its
//! generic mode and in a serverless mode over synthetic series and prints
//! points per second of detector work on one thread, and the encoded size
//! of a baseline. The series are generated before the clock starts, and
//! each mode is timed several times: the best run is printed, since other
//! work on the machine can only slow a run down.

#![allow(clippy::print_stdout, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use shared::domain::catalog::{ValueKind, Watch};
use shared::domain::detector::{Baseline, EpisodeChange, Sensitivity, SignalTraits};
use shared::domain::time::Timestamp;

/// Timed runs per mode.
const RUNS: usize = 5;

/// A deterministic noisy daily curve with a spike now and then.
fn value(i: u64) -> f64 {
    let phase = (i % 288) as f64 / 288.0 * std::f64::consts::TAU;
    let noise = ((i.wrapping_mul(2_654_435_761) >> 7) % 1000) as f64 / 1000.0 - 0.5;
    let spike = if i.is_multiple_of(5_003) { 80.0 } else { 0.0 };
    100.0 + 40.0 * phase.sin() + 6.0 * noise + spike
}

fn run(label: &str, traits: &SignalTraits, points: u64, series: u64) {
    let sensitivity = Sensitivity::default();
    let per_series = points / series;
    let inputs: Vec<Vec<(Timestamp, f64)>> = (0..series)
        .map(|s| {
            (0..per_series)
                .map(|i| {
                    let t = Timestamp::from_secs(1_700_000_000 + (i * 300) as i64);
                    (t, value(i + s * 7))
                })
                .collect()
        })
        .collect();
    let mut best = Duration::MAX;
    let mut reports = 0u64;
    let mut size = 0;
    for _ in 0..RUNS {
        reports = 0;
        let started = Instant::now();
        for input in &inputs {
            let mut baseline = Baseline::new();
            for &(t, v) in input {
                if let Some((_, EpisodeChange::Started(_))) =
                    baseline.observe(t, black_box(v), traits, &sensitivity)
                {
                    reports += 1;
                }
            }
            black_box(&baseline);
            size = size.max(baseline.encode().len());
        }
        best = best.min(started.elapsed());
    }
    println!(
        "{label:<28} {:>12.3e} points/s  (best of {RUNS} runs of {} points, {series} series, {reports} reports, {size} bytes of state per metric)",
        (per_series * series) as f64 / best.as_secs_f64(),
        per_series * series,
    );
}

fn main() {
    let points = 10_000_000;
    run("generic mode", &SignalTraits::generic(), points, 10);
    let count = SignalTraits {
        kind: ValueKind::Count,
        watch: Watch::Both,
        min_change: 3.0,
        change_floor: 0.0,
        min_ratio: 0.3,
        period: 300,
        drift: true,
    };
    run("serverless mode (Count)", &count, points, 10);
    // Requests: a count watched both ways for shifts rather than drift.
    let traffic = SignalTraits {
        min_change: 20.0,
        change_floor: 0.0,
        min_ratio: 0.5,
        drift: false,
        ..count
    };
    run("serverless mode (traffic)", &traffic, points, 10);
}
