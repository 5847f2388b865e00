//! `stackwatch`: replay exported CloudWatch data through the real pipeline,
//! generate synthetic scenarios, and score replays against ground truth.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};
use shared::adapters::scenario;
use shared::domain::detector::Sensitivity;
use shared::domain::notification::NotificationFilter;
use shared::domain::time::parse_duration;
use shared::domain::tuning::Tuning;

use stackwatch::{demo, nab, output, replay, score, synth};

#[derive(Parser)]
#[command(
    name = "stackwatch",
    version,
    about = "Self-hosted anomaly detection for serverless stacks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate three small stacks (a load spike, a bad deployment, a quiet
    /// day), replay them through the whole pipeline and print the insights.
    Demo {
        /// Where to write the scenario files (a temporary directory if absent).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Replay scenario files through ingest, analyzer and notifier.
    Replay {
        /// Scenario files (Contract 1).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print the insights as the contract's JSON array, and nothing else, on stdout.
        #[arg(long)]
        json: bool,
        /// History backfilled at the simulated deployment, e.g. 2d or 36h
        /// (default: 2 days, or two thirds of a shorter file).
        #[arg(long, value_parser = duration)]
        history: Option<i64>,
        /// Detector sensitivity: low, medium or high (overrides the tuning
        /// file's default).
        #[arg(long, value_parser = sensitivity)]
        sensitivity: Option<Sensitivity>,
        /// A tuning file: sensitivity per stack and metric, exclusion windows.
        #[arg(long)]
        tuning: Option<PathBuf>,
        /// Write every notification sent to this file, one JSON line each.
        #[arg(long)]
        notifications: Option<PathBuf>,
        /// Severities that are notified (comma-separated, or ALL).
        #[arg(long, default_value = "HIGH,MEDIUM")]
        notify_severities: String,
        /// Message types that are notified (comma-separated, or ALL).
        #[arg(long, default_value = "ALL")]
        notify_types: String,
        /// Do not print progress on stderr.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run the detector's generic mode over NAB data: every
    /// DATA_DIR/<category>/<file>.csv (timestamp,value) gives
    /// OUT_DIR/<category>/<file>.csv (timestamp,value,anomaly_score).
    Nab {
        /// Directory of <category>/<file>.csv series.
        data_dir: PathBuf,
        /// Where the results go (created if needed).
        out_dir: PathBuf,
        /// Detector sensitivity: low, medium or high.
        #[arg(long, default_value = "medium", value_parser = sensitivity)]
        sensitivity: Sensitivity,
    },
    /// Score results written by `nab` against NAB's label windows and print
    /// the three profiles' normalised scores per category and in total.
    NabScore {
        /// Directory of <category>/<file>.csv series.
        data_dir: PathBuf,
        /// NAB's labels/combined_windows.json.
        labels: PathBuf,
        /// Directory of the results to score.
        results_dir: PathBuf,
        /// Print one line per file too.
        #[arg(long)]
        files: bool,
    },
    /// Run and score in one go, in memory, and print the scores and the
    /// detector's throughput.
    NabEval {
        /// Directory of <category>/<file>.csv series.
        data_dir: PathBuf,
        /// NAB's labels/combined_windows.json.
        labels: PathBuf,
        /// Also write the results here, as `nab` does.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Detector sensitivity: low, medium or high.
        #[arg(long, default_value = "medium", value_parser = sensitivity)]
        sensitivity: Sensitivity,
        /// Print one line per file too.
        #[arg(long)]
        files: bool,
    },
    /// Write synthetic scenarios and their ground truth into a directory.
    Synth {
        /// The directory to write NAME.json, NAME.truth.json and index.json into.
        out_dir: PathBuf,
        /// A preset (quiet, load_spike, bad_deploy, ddb_throttle, slow_dependency,
        /// traffic_drop, queue_backlog, timeouts, benchmark) or all; repeatable.
        #[arg(long)]
        preset: Vec<String>,
        /// How many random scenarios (seeds SEED, SEED+1, …).
        #[arg(long, default_value_t = 0)]
        random: u32,
        /// Seed of the presets and of the first random scenario.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Days in all, history and evaluation (default: 3, or 9 for the benchmark).
        #[arg(long)]
        days: Option<u32>,
        /// Days of evaluation (default: 1, or 2 for the benchmark).
        #[arg(long)]
        eval_days: Option<u32>,
    },
    /// Score replay output against a scenario's ground truth.
    Score {
        /// TRUTH.json and REPLAY.json (the output of `stackwatch replay --json`).
        files: Vec<PathBuf>,
        /// Replay and score every X.json of this directory that has an X.truth.json.
        #[arg(long, conflicts_with = "files")]
        corpus: Option<PathBuf>,
        /// Print the scores as JSON.
        #[arg(long)]
        json: bool,
        /// Detector sensitivity for the replays: low, medium or high.
        #[arg(long, default_value = "medium", value_parser = sensitivity)]
        sensitivity: Sensitivity,
    },
}

fn duration(text: &str) -> Result<i64, String> {
    parse_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration such as 90s, 15m, 36h or 2d"))
}

fn sensitivity(text: &str) -> Result<Sensitivity, String> {
    Sensitivity::parse(text).ok_or_else(|| format!("{text:?} is not one of low, medium, high"))
}

/// `print!` for results: a reader that went away (`stackwatch replay --json
/// … | head`) ends the command quietly, as it ends other command-line
/// tools, and any other failure to write is reported, never a panic.
macro_rules! out {
    ($($arg:tt)*) => { write_out(format_args!($($arg)*)) };
}

/// `println!` for results, as [`out!`].
macro_rules! outln {
    ($($arg:tt)*) => { write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

#[allow(clippy::print_stderr)]
fn write_out(args: std::fmt::Arguments<'_>) {
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("stackwatch: writing the results: {e}");
        std::process::exit(2);
    }
}

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stackwatch: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[allow(clippy::print_stderr)]
fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Nab {
            data_dir,
            out_dir,
            sensitivity,
        } => {
            let corpus = nab::load_corpus(&data_dir)?;
            let detections = nab::detect(&corpus, &sensitivity);
            nab::write_results(&out_dir, &corpus, &detections.scores)?;
            eprintln!(
                "nab: {} files, {} rows, results in {}",
                corpus.len(),
                detections.points,
                out_dir.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Command::NabScore {
            data_dir,
            labels,
            results_dir,
            files,
        } => {
            let corpus = nab::load_corpus(&data_dir)?;
            let windows = nab::load_windows(&labels)?;
            let scores = nab::read_results(&results_dir, &corpus)?;
            out!(
                "{}",
                nab::format_report(&nab::score(&corpus, &scores, &windows)?, files)
            );
            return Ok(ExitCode::SUCCESS);
        }
        Command::NabEval {
            data_dir,
            labels,
            out,
            sensitivity,
            files,
        } => {
            let corpus = nab::load_corpus(&data_dir)?;
            let windows = nab::load_windows(&labels)?;
            let detections = nab::detect(&corpus, &sensitivity);
            if let Some(out) = &out {
                nab::write_results(out, &corpus, &detections.scores)?;
            }
            let reports = nab::score(&corpus, &detections.scores, &windows)?;
            out!("{}", nab::format_report(&reports, files));
            outln!(
                "detector: {} points in {:.3} s, {:.2e} points/s (one thread, I/O excluded)",
                detections.points,
                detections.elapsed.as_secs_f64(),
                detections.points_per_sec()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Command::Replay { .. }
        | Command::Synth { .. }
        | Command::Score { .. }
        | Command::Demo { .. } => {}
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .context("starting the runtime")?;
    match cli.command {
        Command::Nab { .. } | Command::NabScore { .. } | Command::NabEval { .. } => {
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { out } => {
            let temp;
            let dir = match out {
                Some(dir) => dir,
                None => {
                    temp = tempfile::tempdir().context("creating a temporary directory")?;
                    temp.path().to_path_buf()
                }
            };
            let results = runtime.block_on(demo::run(&dir, |line| eprintln!("{line}")))?;
            out!("{}", demo::report(&results));
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay {
            files,
            json,
            history,
            sensitivity,
            tuning,
            notifications,
            notify_severities,
            notify_types,
            quiet,
        } => {
            let filter = NotificationFilter::parse(&notify_severities, &notify_types)
                .map_err(|e| anyhow!("{e}"))?;
            let mut tuning = match &tuning {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    shared::tuning::parse(&path.display().to_string(), &text)?
                }
                None => Tuning::default(),
            };
            if let Some(s) = sensitivity {
                tuning.sensitivity = s;
            }
            let mut scenarios = Vec::with_capacity(files.len());
            for f in &files {
                if !quiet {
                    eprintln!("replay: reading {}", f.display());
                }
                scenarios.push(scenario::load(f)?);
            }
            let options = replay::Options {
                history_secs: history,
                tuning,
                notifications,
                filter,
                progress: !quiet,
                ..replay::Options::default()
            };
            let outcome = runtime.block_on(replay::run(scenarios, &options))?;
            if json {
                outln!("{}", output::json(&outcome.insights)?);
            } else {
                out!("{}", output::table(&outcome.insights));
            }
            if !quiet {
                eprintln!(
                    "replay: {} points, {} judged over {} ticks and {} follow-ups, {} insight(s)",
                    outcome.points,
                    outcome.judged,
                    outcome.ticks,
                    outcome.follow_ups,
                    outcome.insights.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Synth {
            out_dir,
            preset,
            random,
            seed,
            days,
            eval_days,
        } => {
            let request = synth::Request {
                out_dir,
                presets: preset,
                random,
                seed,
                days,
                eval_days,
            };
            let written = synth::run(&request, |w| {
                outln!(
                    "{:<24} {:>3} series {:>8} points {:>6.1} MB  generated in {:>5} ms  incidents: {}",
                    w.entry.name,
                    w.entry.metrics,
                    w.points,
                    w.entry.bytes as f64 / 1e6,
                    w.generated_in.as_millis(),
                    if w.entry.types.is_empty() {
                        "none".to_string()
                    } else {
                        w.entry.types.join(", ")
                    }
                );
            })?;
            outln!(
                "wrote {} scenario(s) and index.json into {}",
                written.len(),
                request.out_dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Score {
            files,
            corpus,
            json,
            sensitivity,
        } => {
            if let Some(dir) = corpus {
                let options = replay::Options {
                    tuning: Tuning::uniform(sensitivity),
                    ..replay::Options::default()
                };
                let report = runtime.block_on(score::corpus(&dir, &options, |s| {
                    if !json {
                        out!("{s}");
                    }
                }))?;
                if json {
                    outln!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    out!("\n{}", report.summary);
                }
                return Ok(ExitCode::SUCCESS);
            }
            let [truth, replay_output] = files.as_slice() else {
                return Err(anyhow!("give TRUTH.json and REPLAY.json, or --corpus DIR"));
            };
            let s = score::score_files(truth, replay_output)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                out!("{s}");
                out!("{}", shared::truth::summarize(std::slice::from_ref(&s)));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
