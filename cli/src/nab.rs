//! `stackwatch nab`, `nab-score` and `nab-eval`: the detector's generic mode
//! over the Numenta Anomaly Benchmark (Contract 4).
//!
//! `nab` reads every `DATA_DIR/<category>/<file>.csv`, runs the detector
//! over each series in streaming order and writes
//! `OUT_DIR/<category>/<file>.csv` with an `anomaly_score` column (1 where
//! an anomaly is reported, 0 elsewhere). `nab-score` scores such results
//! against NAB's label windows; `nab-eval` does both in one process without
//! writing anything. Parsing and scoring live in `shared::eval::nab`; this
//! module only walks directories and reads and writes files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use shared::domain::detector::Sensitivity;
use shared::eval::nab::{
    FileScore, Layout, PROFILES, Row, THRESHOLD, Windows, anomaly_scores, parse_series,
    parse_windows, probationary_length,
};

/// One data file of the corpus.
#[derive(Clone, Debug)]
pub struct Series {
    /// `<category>/<file>.csv`, NAB's key for the file.
    pub name: String,
    /// Its rows, in file order.
    pub rows: Vec<Row>,
}

impl Series {
    /// The category (the directory the file is in).
    pub fn category(&self) -> &str {
        self.name.split('/').next().unwrap_or(&self.name)
    }
}

/// Reads every `<category>/<file>.csv` under `data_dir`, sorted by name.
///
/// # Errors
///
/// When a directory cannot be listed, a file cannot be read, or a file is
/// malformed (the error names the file, the line and the problem).
pub fn load_corpus(data_dir: &Path) -> Result<Vec<Series>> {
    let mut corpus = Vec::new();
    for category in sorted_entries(data_dir)? {
        if !category.is_dir() {
            continue;
        }
        let category_name = file_name(&category)?;
        for file in sorted_entries(&category)? {
            if !file.is_file() || file.extension().is_none_or(|e| e != "csv") {
                continue;
            }
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let rows = parse_series(&text).map_err(|e| anyhow!("{}: {e}", file.display()))?;
            corpus.push(Series {
                name: format!("{category_name}/{}", file_name(&file)?),
                rows,
            });
        }
    }
    if corpus.is_empty() {
        bail!(
            "{}: no <category>/<file>.csv data files found",
            data_dir.display()
        );
    }
    Ok(corpus)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("listing {}", dir.display()))?;
    entries.sort();
    Ok(entries)
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("{}: the name is not valid UTF-8", path.display()))
}

/// Anomaly scores for every series, and the time the detector took.
#[derive(Clone, Debug)]
pub struct Detections {
    /// One score per row, per series (in corpus order).
    pub scores: Vec<Vec<f64>>,
    /// Time spent in the detector (parsing and I/O excluded).
    pub elapsed: Duration,
    /// Points judged.
    pub points: usize,
}

impl Detections {
    /// Detector throughput in points per second.
    pub fn points_per_sec(&self) -> f64 {
        self.points as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs the detector's generic mode over every series.
pub fn detect(corpus: &[Series], sensitivity: &Sensitivity) -> Detections {
    let started = Instant::now();
    let scores: Vec<Vec<f64>> = corpus
        .iter()
        .map(|s| anomaly_scores(&s.rows, sensitivity))
        .collect();
    Detections {
        scores,
        elapsed: started.elapsed(),
        points: corpus.iter().map(|s| s.rows.len()).sum(),
    }
}

/// Writes `out_dir/<category>/<file>.csv` with `timestamp,value,anomaly_score`
/// for every series.
///
/// # Errors
///
/// When a directory or file cannot be written.
pub fn write_results(out_dir: &Path, corpus: &[Series], scores: &[Vec<f64>]) -> Result<()> {
    for (series, scores) in corpus.iter().zip(scores) {
        let path = out_dir.join(&series.name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut text = String::with_capacity(series.rows.len() * 40);
        text.push_str("timestamp,value,anomaly_score\n");
        for (row, score) in series.rows.iter().zip(scores) {
            let _ = writeln!(text, "{},{},{}", row.timestamp_text, row.value_text, score);
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Reads the anomaly scores of `results_dir/<category>/<file>.csv` for every
/// series of the corpus.
///
/// # Errors
///
/// When a results file is missing, malformed, or does not have one row per
/// data row.
pub fn read_results(results_dir: &Path, corpus: &[Series]) -> Result<Vec<Vec<f64>>> {
    corpus
        .iter()
        .map(|series| {
            let path = results_dir.join(&series.name);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let scores = parse_scores(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            if scores.len() != series.rows.len() {
                bail!(
                    "{}: {} rows, but the data file has {}",
                    path.display(),
                    scores.len(),
                    series.rows.len()
                );
            }
            Ok(scores)
        })
        .collect()
}

/// The `anomaly_score` column of a results file.
fn parse_scores(text: &str) -> Result<Vec<f64>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| anyhow!("line 1: the file is empty"))?;
    let column = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .position(|h| h.trim() == "anomaly_score")
        .ok_or_else(|| anyhow!("line 1: no anomaly_score column in the header"))?;
    lines
        .map(|(i, line)| {
            let field = line
                .split(',')
                .nth(column)
                .ok_or_else(|| anyhow!("line {}: no anomaly_score field", i + 1))?
                .trim();
            field
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| anyhow!("line {}: anomaly_score {field:?} is not a number", i + 1))
        })
        .collect()
}

/// Reads NAB's `combined_windows.json`.
///
/// # Errors
///
/// When the file cannot be read or is malformed.
pub fn load_windows(path: &Path) -> Result<Windows> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_windows(&text).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Scores of one file under the three profiles.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// `<category>/<file>.csv`.
    pub name: String,
    /// One score per profile of [`PROFILES`].
    pub scores: [FileScore; 3],
}

/// Scores every series' detections against the label windows.
///
/// # Errors
///
/// When a series has no entry in the labels, or its windows do not fit it.
pub fn score(corpus: &[Series], scores: &[Vec<f64>], windows: &Windows) -> Result<Vec<FileReport>> {
    corpus
        .iter()
        .zip(scores)
        .map(|(series, scores)| {
            let limits = windows
                .get(&series.name)
                .ok_or_else(|| anyhow!("{}: no entry in the label windows", series.name))?;
            let timestamps: Vec<_> = series.rows.iter().map(|r| r.timestamp).collect();
            let layout = Layout::new(&timestamps, limits, probationary_length(timestamps.len()))
                .map_err(|e| anyhow!("{}: {e}", series.name))?;
            let mut out = [FileScore::default(); 3];
            for (slot, profile) in out.iter_mut().zip(&PROFILES) {
                *slot = layout
                    .score(scores, profile)
                    .map_err(|e| anyhow!("{}: {e}", series.name))?;
            }
            Ok(FileReport {
                name: series.name.clone(),
                scores: out,
            })
        })
        .collect()
}

/// The normalised scores per category and in total, as a table; with
/// `per_file`, one line per file too.
pub fn format_report(reports: &[FileReport], per_file: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "NAB scores (threshold {THRESHOLD}; 0 = no detection, 100 = perfect)"
    );
    let _ = writeln!(
        out,
        "{:<58} {:>9} {:>9} {:>9} {:>8} {:>5}",
        "", "standard", "low_FP", "low_FN", "windows", "FP"
    );
    let line = |out: &mut String, label: &str, s: &[FileScore; 3]| {
        let cell = |f: &FileScore| match f.normalised() {
            Some(v) => format!("{v:9.2}"),
            None => format!("{:>9}", format!("({:.2})", f.raw)),
        };
        let _ = writeln!(
            out,
            "{label:<58} {} {} {} {:>8} {:>5}",
            cell(&s[0]),
            cell(&s[1]),
            cell(&s[2]),
            format!("{}/{}", s[0].detected, s[0].windows),
            s[0].false_positives
        );
    };
    let mut categories: Vec<&str> = reports
        .iter()
        .map(|r| r.name.split('/').next().unwrap_or(&r.name))
        .collect();
    categories.dedup();
    let mut total = [FileScore::default(); 3];
    for category in categories {
        let mut sum = [FileScore::default(); 3];
        for report in reports
            .iter()
            .filter(|r| r.name.split('/').next() == Some(category))
        {
            if per_file {
                line(&mut out, &format!("  {}", report.name), &report.scores);
            }
            for (s, f) in sum.iter_mut().zip(&report.scores) {
                s.add(f);
            }
        }
        line(&mut out, category, &sum);
        for (t, s) in total.iter_mut().zip(&sum) {
            t.add(s);
        }
    }
    line(&mut out, "total", &total);
    let _ = writeln!(
        out,
        "(a category without windows shows its raw score in parentheses: 0 is best)"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn series_text(n: usize, spike_at: usize) -> String {
        let mut text = String::from("timestamp,value\n");
        for i in 0..n {
            let secs = 1_396_310_400 + 300 * i as i64;
            let t = shared::domain::time::Timestamp::from_secs(secs).civil();
            let v = if i == spike_at {
                500.0
            } else {
                20.0 + (i % 5) as f64
            };
            text.push_str(&format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{v}\n",
                t.year, t.month, t.day, t.hour, t.minute, t.second
            ));
        }
        text
    }

    #[test]
    fn a_corpus_runs_writes_one_score_per_row_and_scores_back() {
        let data = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        write(data.path(), "cat/a.csv", &series_text(1000, 700));
        write(data.path(), "cat/b.csv", &series_text(800, 10_000));
        let corpus = load_corpus(data.path()).unwrap();
        assert_eq!(corpus.len(), 2);
        assert_eq!(corpus[0].name, "cat/a.csv");
        let detections = detect(&corpus, &Sensitivity::default());
        write_results(out.path(), &corpus, &detections.scores).unwrap();
        let written = std::fs::read_to_string(out.path().join("cat/a.csv")).unwrap();
        assert!(written.starts_with("timestamp,value,anomaly_score\n2014-04-01 00:00:00,20,"));
        assert_eq!(written.lines().count(), 1001);
        let back = read_results(out.path(), &corpus).unwrap();
        assert_eq!(back, detections.scores);

        let windows = parse_windows(
            r#"{"cat/a.csv": [["2014-04-03 10:00:00.000000", "2014-04-03 13:15:00.000000"]],
                "cat/b.csv": []}"#,
        )
        .unwrap();
        let reports = score(&corpus, &back, &windows).unwrap();
        // The spike at row 700 (10:20 on the third day) is found in its
        // window.
        assert_eq!(reports[0].scores[0].detected, 1);
        let table = format_report(&reports, true);
        assert!(table.contains("total"), "{table}");
    }

    #[test]
    fn malformed_files_are_named_with_their_line() {
        let data = tempfile::tempdir().unwrap();
        write(
            data.path(),
            "cat/bad.csv",
            "timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01 00:05:00,oops\n",
        );
        let err = load_corpus(data.path()).unwrap_err().to_string();
        assert!(err.contains("bad.csv"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn results_that_do_not_match_the_data_are_refused() {
        let data = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        write(data.path(), "cat/a.csv", &series_text(10, 99));
        write(
            out.path(),
            "cat/a.csv",
            "timestamp,value,anomaly_score\n2014-04-01 00:00:00,1,0\n",
        );
        let corpus = load_corpus(data.path()).unwrap();
        let err = read_results(out.path(), &corpus).unwrap_err().to_string();
        assert!(err.contains("1 rows"), "{err}");
        let windows = parse_windows("{}").unwrap();
        let err = score(&corpus, &[vec![0.0; 10]], &windows)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no entry"), "{err}");
    }
}
