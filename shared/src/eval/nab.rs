//! The Numenta Anomaly Benchmark (NAB): its file formats, its scoring, and a
//! run of the detector's generic mode over one of its series.
//!
//! Scoring follows NAB's published method (Lavin & Ahmad, "Evaluating
//! Real-time Anomaly Detection Algorithms", 2015) as its reference code does
//! it (`nab/sweeper.py`, `nab/runner.py`): rows are keyed by their index in
//! the file, the first `min(floor(0.15·n), 750)` rows are a probationary
//! period that is not scored, the first detection in each label window earns
//! a scaled-sigmoid reward by its position in the window, every detection
//! outside a window costs the false-positive weight, scaled by its distance
//! after the preceding window (the full weight before any window), and every
//! window without a detection costs the false-negative weight. Summed raw
//! scores are normalised so that the null detector (no detection) scores 0
//! and a perfect one (every window found at its first row) scores 100.
//! A row is a detection when its anomaly score is at least
//! [`THRESHOLD`]; the threshold is fixed, never swept, because the detector
//! makes its own decisions.

use std::collections::BTreeMap;

use crate::domain::detector::{Baseline, EpisodeChange, Sensitivity, SignalTraits};
use crate::domain::time::{Civil, Timestamp};

/// Anomaly score from which a row counts as a detection.
pub const THRESHOLD: f64 = 0.5;

/// Share of a file's rows that is probationary, and the cap on their count.
const PROBATION_FRACTION: f64 = 0.15;
/// At most this many rows are probationary (0.15 · 5000).
const PROBATION_CAP: usize = 750;

/// One of NAB's application profiles: how much each outcome weighs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Profile {
    /// NAB's name of the profile.
    pub name: &'static str,
    /// Weight of a window found (`tpWeight`).
    pub tp_weight: f64,
    /// Weight of a detection outside every window (`fpWeight`).
    pub fp_weight: f64,
    /// Weight of a window missed (`fnWeight`).
    pub fn_weight: f64,
}

/// NAB's three profiles, as in its `config/profiles.json`.
pub const PROFILES: [Profile; 3] = [
    Profile {
        name: "standard",
        tp_weight: 1.0,
        fp_weight: 0.11,
        fn_weight: 1.0,
    },
    Profile {
        name: "reward_low_FP_rate",
        tp_weight: 1.0,
        fp_weight: 0.22,
        fn_weight: 1.0,
    },
    Profile {
        name: "reward_low_FN_rate",
        tp_weight: 1.0,
        fp_weight: 0.11,
        fn_weight: 2.0,
    },
];

/// One row of a NAB data file.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The timestamp as written in the file.
    pub timestamp_text: String,
    /// The timestamp, read as UTC.
    pub timestamp: Timestamp,
    /// The value as written in the file.
    pub value_text: String,
    /// The value.
    pub value: f64,
}

/// A data file or label file that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FormatError {
    /// A CSV line is malformed.
    #[error("line {line}: {problem}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        problem: String,
    },
    /// The label file is not what NAB writes.
    #[error("labels: {0}")]
    Labels(String),
}

/// Label windows that do not fit the data file they describe.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScoreError {
    /// A window bound is not a timestamp of the file.
    #[error("window {index} ({start} to {end}): {problem}")]
    Window {
        /// 0-based position of the window in the file's list.
        index: usize,
        /// Its first timestamp.
        start: Timestamp,
        /// Its last timestamp.
        end: Timestamp,
        /// What does not fit.
        problem: &'static str,
    },
    /// There are not as many anomaly scores as rows.
    #[error("{scores} anomaly scores for {rows} rows")]
    Length {
        /// Rows of the data file.
        rows: usize,
        /// Anomaly scores given.
        scores: usize,
    },
}

/// Reads `YYYY-MM-DD HH:MM:SS`, optionally followed by a fraction of a
/// second (ignored), as a UTC time.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    // Only a fraction of a second may follow: `.` and digits.
    let fraction_ok = match text.get(19..)? {
        "" => true,
        rest => rest
            .strip_prefix('.')
            .is_some_and(|f| !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit())),
    };
    if !fraction_ok {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = text.get(from..to)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(Timestamp::from_civil(Civil {
        year,
        month: month as u8,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
    }))
}

/// Reads a NAB data file: the header `timestamp,value`, then one
/// `timestamp,value` row per line. Blank lines are skipped; rows keep their
/// order, including repeated timestamps and steps back in time.
///
/// # Errors
///
/// [`FormatError::Csv`] naming the first malformed line and what is wrong.
pub fn parse_series(text: &str) -> Result<Vec<Row>, FormatError> {
    let mut rows = Vec::new();
    let mut header_seen = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim_end_matches('\r');
        let content = if index == 0 {
            content.trim_start_matches('\u{feff}')
        } else {
            content
        };
        if content.trim().is_empty() {
            continue;
        }
        let bad = |problem: String| FormatError::Csv { line, problem };
        let fields: Vec<&str> = content.split(',').map(str::trim).collect();
        if !header_seen {
            if fields.len() < 2 || fields[0] != "timestamp" || fields[1] != "value" {
                return Err(bad(format!(
                    "expected the header \"timestamp,value\", found {content:?}"
                )));
            }
            header_seen = true;
            continue;
        }
        if fields.len() != 2 {
            return Err(bad(format!(
                "expected 2 fields (timestamp,value), found {}",
                fields.len()
            )));
        }
        let timestamp = parse_timestamp(fields[0]).ok_or_else(|| {
            bad(format!(
                "timestamp {:?} is not of the form YYYY-MM-DD HH:MM:SS",
                fields[0]
            ))
        })?;
        let value: f64 = fields[1]
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| bad(format!("value {:?} is not a finite number", fields[1])))?;
        rows.push(Row {
            timestamp_text: fields[0].to_owned(),
            timestamp,
            value_text: fields[1].to_owned(),
            value,
        });
    }
    if !header_seen {
        return Err(FormatError::Csv {
            line: 1,
            problem: "the file is empty: expected the header \"timestamp,value\"".to_owned(),
        });
    }
    Ok(rows)
}

/// Label windows by file, as `(first, last)` timestamps (inclusive).
pub type Windows = BTreeMap<String, Vec<(Timestamp, Timestamp)>>;

/// Reads NAB's `combined_windows.json`:
/// `{"<category>/<file>.csv": [["start", "end"], ...]}`.
///
/// # Errors
///
/// [`FormatError::Labels`] naming the file key and what is wrong.
pub fn parse_windows(json: &str) -> Result<Windows, FormatError> {
    let raw: BTreeMap<String, Vec<Vec<String>>> = serde_json::from_str(json).map_err(|e| {
        FormatError::Labels(format!(
            "expected {{\"<category>/<file>.csv\": [[\"start\", \"end\"], ...]}}: {e}"
        ))
    })?;
    let mut out = Windows::new();
    for (file, windows) in raw {
        let mut parsed = Vec::with_capacity(windows.len());
        for (i, pair) in windows.iter().enumerate() {
            let [start, end] = pair.as_slice() else {
                return Err(FormatError::Labels(format!(
                    "{file}: window {i} has {} bounds, expected 2",
                    pair.len()
                )));
            };
            let read = |text: &str| {
                parse_timestamp(text).ok_or_else(|| {
                    FormatError::Labels(format!("{file}: window {i}: {text:?} is not a timestamp"))
                })
            };
            let (start, end) = (read(start)?, read(end)?);
            if end < start {
                return Err(FormatError::Labels(format!(
                    "{file}: window {i} ends before it starts"
                )));
            }
            parsed.push((start, end));
        }
        out.insert(file, parsed);
    }
    Ok(out)
}

/// NAB's scaled sigmoid: about 1 at relative position -1 (the start of a
/// window), 0 at its end, tending to -1 beyond it, and exactly -1 past 3.
pub fn scaled_sigmoid(position: f64) -> f64 {
    if position > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * position).exp()) - 1.0
    }
}

/// Rows at the start of a file of `rows` rows that are not scored.
pub fn probationary_length(rows: usize) -> usize {
    ((PROBATION_FRACTION * rows as f64).floor() as usize).min(PROBATION_CAP)
}

/// Where a row lies for the scorer.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Place {
    /// The window the row is in, if any.
    window: Option<usize>,
    /// The row's reward (in a window) or penalty (outside), before weights.
    unweighted: f64,
}

/// The rows of a file placed in their windows, NAB's way: a window opens at
/// the first row whose timestamp equals its start, its right edge is the
/// first row whose timestamp equals its end, and a row outside every window
/// is weighted by its distance after the last window closed.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    places: Vec<Place>,
    windows: usize,
    probation: usize,
}

impl Layout {
    /// Places `timestamps` (the file's rows, in order) in `windows`, with
    /// `probation` rows not scored.
    ///
    /// # Errors
    ///
    /// [`ScoreError::Window`] when a window's bounds are not timestamps of
    /// the file in order.
    pub fn new(
        timestamps: &[Timestamp],
        windows: &[(Timestamp, Timestamp)],
        probation: usize,
    ) -> Result<Self, ScoreError> {
        let max_tp = scaled_sigmoid(-1.0);
        let mut places = Vec::with_capacity(timestamps.len());
        let mut pending = 0usize;
        // (index, right edge index, width) of the open window.
        let mut open: Option<(usize, usize, f64)> = None;
        // (row where it closed, width) of the last closed window.
        let mut previous: Option<(usize, f64)> = None;
        for (i, &t) in timestamps.iter().enumerate() {
            if let Some(&(start, end)) = windows.get(pending)
                && t == start
            {
                let right =
                    timestamps
                        .iter()
                        .position(|&x| x == end)
                        .ok_or(ScoreError::Window {
                            index: pending,
                            start,
                            end,
                            problem: "its end is not a timestamp of the file",
                        })?;
                if right < i {
                    return Err(ScoreError::Window {
                        index: pending,
                        start,
                        end,
                        problem: "its end comes before its start in the file",
                    });
                }
                open = Some((pending, right, (right - i + 1) as f64));
                pending += 1;
            }
            let place = match open {
                Some((index, right, width)) => {
                    let position = -((right as f64 - i as f64 + 1.0) / width);
                    Place {
                        window: Some(index),
                        unweighted: scaled_sigmoid(position) / max_tp,
                    }
                }
                None => Place {
                    window: None,
                    unweighted: match previous {
                        None => -1.0,
                        // A window of one row has no width to scale by: a
                        // row after it is as far as can be.
                        Some((_, width)) if width <= 1.0 => -1.0,
                        Some((right, width)) => scaled_sigmoid((i - right) as f64 / (width - 1.0)),
                    },
                },
            };
            places.push(place);
            if let Some((index, _, width)) = open
                && t == windows[index].1
            {
                previous = Some((i, width));
                open = None;
            }
        }
        if let Some(&(start, end)) = windows.get(pending) {
            return Err(ScoreError::Window {
                index: pending,
                start,
                end,
                problem: "its start is not a timestamp of the file after the previous window",
            });
        }
        Ok(Self {
            places,
            windows: windows.len(),
            probation,
        })
    }

    /// Scores one file's detections (`scores[i] >= THRESHOLD`) under a
    /// profile.
    ///
    /// # Errors
    ///
    /// [`ScoreError::Length`] when there is not one score per row.
    pub fn score(&self, scores: &[f64], profile: &Profile) -> Result<FileScore, ScoreError> {
        if scores.len() != self.places.len() {
            return Err(ScoreError::Length {
                rows: self.places.len(),
                scores: scores.len(),
            });
        }
        // A window counts once it has a scorable row: missed, it costs the
        // false-negative weight; found, its best (first) detection earns.
        let mut best: Vec<Option<f64>> = vec![None; self.windows];
        for place in &self.places[self.probation.min(self.places.len())..] {
            if let Some(w) = place.window {
                best[w] = Some(-profile.fn_weight);
            }
        }
        let mut fp_score = 0.0;
        let mut false_positives = 0;
        let mut detected = vec![false; self.windows];
        for (i, (place, &score)) in self.places.iter().zip(scores).enumerate() {
            if i < self.probation || score.is_nan() || score < THRESHOLD {
                continue;
            }
            match place.window {
                None => {
                    fp_score += place.unweighted * profile.fp_weight;
                    false_positives += 1;
                }
                Some(w) => {
                    let reward = place.unweighted * profile.tp_weight;
                    best[w] = Some(best[w].map_or(reward, |b| b.max(reward)));
                    detected[w] = true;
                }
            }
        }
        let scorable = best.iter().filter(|b| b.is_some()).count();
        let window_score: f64 = best.iter().flatten().sum();
        Ok(FileScore {
            raw: window_score + fp_score,
            null: -profile.fn_weight * scorable as f64,
            perfect: profile.tp_weight * self.windows as f64,
            windows: self.windows,
            detected: detected.iter().filter(|d| **d).count(),
            false_positives,
        })
    }
}

/// The score of one file (or, summed, of several) under one profile.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FileScore {
    /// NAB's raw score.
    pub raw: f64,
    /// The raw score of the null detector (no detection at all).
    pub null: f64,
    /// The raw score of a perfect detector, as NAB counts it: the true
    /// positive weight times the number of windows.
    pub perfect: f64,
    /// Label windows.
    pub windows: usize,
    /// Windows with at least one scored detection.
    pub detected: usize,
    /// Scored detections outside every window.
    pub false_positives: usize,
}

impl FileScore {
    /// Adds another file's score.
    pub fn add(&mut self, other: &FileScore) {
        self.raw += other.raw;
        self.null += other.null;
        self.perfect += other.perfect;
        self.windows += other.windows;
        self.detected += other.detected;
        self.false_positives += other.false_positives;
    }

    /// The normalised score, 0 for the null detector and 100 for a perfect
    /// one; `None` when those coincide (files without windows).
    pub fn normalised(&self) -> Option<f64> {
        let span = self.perfect - self.null;
        (span.abs() > f64::EPSILON).then(|| 100.0 * (self.raw - self.null) / span)
    }
}

/// The traits of an unknown metric: both directions matter, no floor on
/// the change, and the detector chooses its own noise model.
pub fn generic_traits() -> SignalTraits {
    SignalTraits::generic()
}

/// Runs the detector's generic mode over a series and returns one anomaly
/// score per row: 1 at a row where an anomaly is reported (starts), 0
/// elsewhere. Streaming: a row's score depends only on rows before it and
/// itself.
///
/// Rows are fed with strictly increasing times, as a metric's points would
/// arrive: a repeated timestamp or a step back in time is read as one
/// second after the previous row, so every row is judged once.
pub fn anomaly_scores(rows: &[Row], sensitivity: &Sensitivity) -> Vec<f64> {
    let traits = generic_traits();
    let mut baseline = Baseline::new();
    let mut last: Option<Timestamp> = None;
    rows.iter()
        .map(|row| {
            let t = match last {
                Some(prev) if row.timestamp <= prev => prev.add(1),
                _ => row.timestamp,
            };
            last = Some(t);
            match baseline.observe(t, row.value, &traits, sensitivity) {
                Some((_, EpisodeChange::Started(_))) => 1.0,
                _ => 0.0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STANDARD: Profile = PROFILES[0];
    const UNIT: Profile = Profile {
        name: "unit",
        tp_weight: 1.0,
        fp_weight: 1.0,
        fn_weight: 1.0,
    };

    fn times(n: usize) -> Vec<Timestamp> {
        (0..n)
            .map(|i| Timestamp::from_secs(1_400_000_000 + 300 * i as i64))
            .collect()
    }

    fn detections(n: usize, at: &[usize]) -> Vec<f64> {
        (0..n)
            .map(|i| if at.contains(&i) { 1.0 } else { 0.0 })
            .collect()
    }

    /// 8 rows, one window over rows 2..=4 (width 3), nothing probationary.
    fn small() -> (Vec<Timestamp>, Layout) {
        let ts = times(8);
        let layout = Layout::new(&ts, &[(ts[2], ts[4])], 0).unwrap();
        (ts, layout)
    }

    fn raw(layout: &Layout, at: &[usize], profile: &Profile) -> f64 {
        layout
            .score(&detections(layout.places.len(), at), profile)
            .unwrap()
            .raw
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_scaled_sigmoid_has_its_published_values() {
        // tanh(2.5) = 0.986614..., tanh(1.25) = 0.848283...
        assert!(close(scaled_sigmoid(-1.0), 0.986_614_298_151_430_3));
        assert!(close(scaled_sigmoid(-0.5), 0.848_283_639_957_512_9));
        assert!(close(scaled_sigmoid(0.0), 0.0));
        assert!(close(scaled_sigmoid(1.0), -0.986_614_298_151_430_3));
        assert_eq!(scaled_sigmoid(3.5), -1.0);
    }

    #[test]
    fn a_detection_at_the_start_of_a_window_earns_the_full_weight() {
        let (_, layout) = small();
        assert!(close(raw(&layout, &[2], &UNIT), 1.0));
    }

    #[test]
    fn later_detections_in_a_window_earn_less_and_only_the_first_counts() {
        let (_, layout) = small();
        // Row 3: position -(4 - 3 + 1)/3; tanh(5/3) / tanh(2.5).
        let middle = 0.931_109_608_667_577_6 / 0.986_614_298_151_430_3;
        assert!(close(raw(&layout, &[3], &UNIT), middle));
        // Row 4, the last: position -1/3; tanh(5/6) / tanh(2.5).
        let end = 0.682_261_790_238_169_8 / 0.986_614_298_151_430_3;
        assert!(close(raw(&layout, &[4], &UNIT), end));
        // More detections in the window change nothing but the best one.
        assert!(close(raw(&layout, &[3, 4], &UNIT), middle));
        assert!(close(raw(&layout, &[2, 3, 4], &UNIT), 1.0));
    }

    #[test]
    fn a_missed_window_costs_the_false_negative_weight() {
        let (_, layout) = small();
        assert!(close(raw(&layout, &[], &UNIT), -1.0));
        assert!(close(raw(&layout, &[], &PROFILES[2]), -2.0));
    }

    #[test]
    fn false_positives_before_any_window_cost_the_full_weight() {
        let (_, layout) = small();
        assert!(close(raw(&layout, &[0], &STANDARD), -1.0 - 0.11));
        assert!(close(raw(&layout, &[0, 1], &PROFILES[1]), -1.0 - 0.44));
    }

    #[test]
    fn false_positives_after_a_window_cost_less_when_close_to_it() {
        let (_, layout) = small();
        // Row 5: (5 - 4) / (3 - 1) = 0.5 past the window: -tanh(1.25).
        let near = -0.848_283_639_957_512_9;
        assert!(close(raw(&layout, &[5], &UNIT), -1.0 + near));
        // Row 7: 1.5 past it: -tanh(3.75).
        let far = -0.998_894_442_726_152_8;
        assert!(close(raw(&layout, &[7], &UNIT), -1.0 + far));
        assert!(close(
            raw(&layout, &[2, 5, 7], &STANDARD),
            1.0 + 0.11 * (near + far)
        ));
    }

    #[test]
    fn probationary_rows_are_not_scored() {
        let ts = times(20);
        // floor(0.15 * 20) = 3 rows of probation.
        assert_eq!(probationary_length(20), 3);
        let layout = Layout::new(&ts, &[(ts[2], ts[6])], probationary_length(20)).unwrap();
        // A detection in the window's probationary part does not count...
        assert!(close(raw(&layout, &[0, 1, 2], &UNIT), -1.0));
        // ...one in its scored part does, as by its position in the window.
        let row3 = scaled_sigmoid(-4.0 / 5.0) / scaled_sigmoid(-1.0);
        assert!(close(raw(&layout, &[2, 3], &UNIT), row3));
        assert_eq!(probationary_length(100_000), 750);
    }

    #[test]
    fn the_null_and_perfect_detectors_score_0_and_100() {
        let ts = times(400);
        let windows = [(ts[100], ts[139]), (ts[300], ts[339])];
        let layout = Layout::new(&ts, &windows, probationary_length(400)).unwrap();
        for profile in &PROFILES {
            let null = layout.score(&detections(400, &[]), profile).unwrap();
            assert_eq!(null.normalised(), Some(0.0));
            let perfect = layout
                .score(&detections(400, &[100, 300]), profile)
                .unwrap();
            assert!(close(perfect.normalised().unwrap(), 100.0));
            assert_eq!((perfect.detected, perfect.false_positives), (2, 0));
            let noisy = layout
                .score(&detections(400, &[100, 300, 200]), profile)
                .unwrap();
            assert!(noisy.normalised().unwrap() < 100.0);
        }
    }

    #[test]
    fn rows_are_keyed_by_index_when_timestamps_repeat() {
        let mut ts = times(10);
        ts[5] = ts[4];
        let layout = Layout::new(&ts, &[(ts[3], ts[6])], 0).unwrap();
        // The window is rows 3..=6 (width 4): a detection at the repeated
        // row 5 is in it.
        let row5 = scaled_sigmoid(-2.0 / 4.0) / scaled_sigmoid(-1.0);
        assert!(close(raw(&layout, &[5], &UNIT), row5));
    }

    #[test]
    fn windows_that_do_not_fit_the_file_are_refused() {
        let ts = times(10);
        let missing = Timestamp::from_secs(7);
        assert!(matches!(
            Layout::new(&ts, &[(missing, ts[3])], 0),
            Err(ScoreError::Window { index: 0, .. })
        ));
        assert!(matches!(
            Layout::new(&ts, &[(ts[2], missing)], 0),
            Err(ScoreError::Window { index: 0, .. })
        ));
        let layout = Layout::new(&ts, &[], 0).unwrap();
        assert!(matches!(
            layout.score(&[0.0; 3], &STANDARD),
            Err(ScoreError::Length {
                rows: 10,
                scores: 3
            })
        ));
    }

    #[test]
    fn a_file_without_windows_has_no_normalised_score() {
        let ts = times(10);
        let layout = Layout::new(&ts, &[], 0).unwrap();
        let score = layout.score(&detections(10, &[4]), &STANDARD).unwrap();
        assert!(close(score.raw, -0.11));
        assert_eq!(score.normalised(), None);
    }

    #[test]
    fn series_parse_and_malformed_lines_are_named() {
        let rows = parse_series(
            "timestamp,value\n2014-04-01 00:00:00,20.5\n\n2014-04-01 00:05:00,-3\n2014-04-01 00:05:00,7\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].value, -3.0);
        assert_eq!(rows[2].timestamp, rows[1].timestamp);
        assert_eq!(rows[0].timestamp.to_string(), "2014-04-01T00:00:00Z");
        let err = |text: &str| parse_series(text).unwrap_err().to_string();
        assert!(err("").contains("line 1"));
        assert!(err("time,value\n").contains("header"));
        assert!(err("timestamp,value\n2014-04-01 00:00:00,x\n").starts_with("line 2: value"));
        assert!(
            err("timestamp,value\n2014-04-01 00:00:00,1\n2014-13-01 00:00:00,1\n")
                .starts_with("line 3: timestamp")
        );
        assert!(err("timestamp,value\n2014-04-01 00:00:00,1,2\n").contains("2 fields"));
        assert!(err("timestamp,value\n2014-04-01 00:00:00,NaN\n").contains("finite"));
    }

    #[test]
    fn label_windows_parse_with_fractional_seconds() {
        let windows = parse_windows(
            r#"{"a/b.csv": [["2014-04-10 07:15:00.000000", "2014-04-11 16:45:00.000000"]], "a/c.csv": []}"#,
        )
        .unwrap();
        let (start, end) = windows["a/b.csv"][0];
        assert_eq!(start.to_string(), "2014-04-10T07:15:00Z");
        assert_eq!(end.to_string(), "2014-04-11T16:45:00Z");
        assert!(windows["a/c.csv"].is_empty());
        assert!(parse_windows(r#"{"a/b.csv": [["2014-04-10 07:15:00"]]}"#).is_err());
        assert!(parse_windows(r#"{"a/b.csv": [["x", "y"]]}"#).is_err());
        assert!(parse_windows("[]").is_err());
    }

    #[test]
    fn every_row_gets_a_score_even_when_time_repeats_or_steps_back() {
        let mut rows = Vec::new();
        for i in 0..3000i64 {
            let secs = 1_400_000_000 + 300 * i - if i > 2000 { 3300 } else { 0 };
            let t = Timestamp::from_secs(if i == 1500 { secs - 300 } else { secs });
            rows.push(Row {
                timestamp_text: String::new(),
                timestamp: t,
                value_text: String::new(),
                value: (i % 7) as f64,
            });
        }
        let scores = anomaly_scores(&rows, &Sensitivity::default());
        assert_eq!(scores.len(), rows.len());
        assert!(scores.iter().all(|s| *s == 0.0 || *s == 1.0));
    }
}
