//! `stackwatch`: replay exported CloudWatch data through the real pipeline.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};
use shared::adapters::scenario;
use shared::domain::detector::Sensitivity;
use shared::domain::notification::NotificationFilter;
use shared::domain::time::parse_duration;

use stackwatch::{output, replay};

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
        /// Detector sensitivity: low, medium or high.
        #[arg(long, default_value = "medium", value_parser = sensitivity)]
        sensitivity: Sensitivity,
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
}

fn duration(text: &str) -> Result<i64, String> {
    parse_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration such as 90s, 15m, 36h or 2d"))
}

fn sensitivity(text: &str) -> Result<Sensitivity, String> {
    Sensitivity::parse(text).ok_or_else(|| format!("{text:?} is not one of low, medium, high"))
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
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

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn run(cli: Cli) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .context("starting the runtime")?;
    match cli.command {
        Command::Replay {
            files,
            json,
            history,
            sensitivity,
            notifications,
            notify_severities,
            notify_types,
            quiet,
        } => {
            let filter = NotificationFilter::parse(&notify_severities, &notify_types)
                .map_err(|e| anyhow!("{e}"))?;
            let mut scenarios = Vec::with_capacity(files.len());
            for f in &files {
                if !quiet {
                    eprintln!("replay: reading {}", f.display());
                }
                scenarios.push(scenario::load(f)?);
            }
            let options = replay::Options {
                history_secs: history,
                sensitivity,
                notifications,
                filter,
                progress: !quiet,
                ..replay::Options::default()
            };
            let outcome = runtime.block_on(replay::run(scenarios, &options))?;
            if json {
                println!("{}", output::json(&outcome.insights)?);
            } else {
                print!("{}", output::table(&outcome.insights));
            }
            if !quiet {
                eprintln!(
                    "replay: {} points, {} judged over {} ticks, {} insight(s)",
                    outcome.points,
                    outcome.judged,
                    outcome.ticks,
                    outcome.insights.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
