//! Baselines and the detector.
//!
//! Each watched signal has a [`Baseline`]: a daily profile of 288 five-minute
//! slots learned in a transformed space (logarithmic for counts, latencies and
//! gauges, so that "twice as many" means the same at night and at noon), a
//! short-term level that follows the day's drift (a quiet Sunday, a slow
//! ramp), and a robust spread. [`Baseline::observe`] judges one point against
//! it and, only when the point is judged normal, learns from it: anomalous
//! points and points inside an ongoing anomaly never teach the baseline, so a
//! repeated incident is still an incident the third time.
//!
//! A single abnormal point is not an anomaly: a blip is common and harmless.
//! An anomaly starts when abnormal points persist (two in a row, or three of
//! the last five), and ends when the signal has been normal for a while.
//! The state is bounded: a few kilobytes per signal whatever the history.

use super::catalog::{Direction, ValueKind, Watch};
use super::time::{DAY, Timestamp, WEEK};

mod generic;

use generic::{Generic, Prior};

/// Slots in the daily profile.
pub const SLOTS: usize = 288;
/// Seconds per slot of the daily profile.
pub const SLOT_SECS: i64 = DAY / SLOTS as i64;

/// How eager the detector is. Higher sensitivity finds smaller changes and
/// reports more; the default suits production stacks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sensitivity {
    /// Robust z-score from which a point is abnormal.
    pub z_threshold: f64,
    /// Multiplier on the catalog's smallest change that matters.
    pub change_factor: f64,
}

impl Sensitivity {
    /// Fewer, surer insights.
    pub const LOW: Sensitivity = Sensitivity {
        z_threshold: 6.0,
        change_factor: 2.0,
    };
    /// The default.
    pub const MEDIUM: Sensitivity = Sensitivity {
        z_threshold: 4.5,
        change_factor: 1.0,
    };
    /// More, smaller insights.
    pub const HIGH: Sensitivity = Sensitivity {
        z_threshold: 3.5,
        change_factor: 0.5,
    };

    /// `low`, `medium` or `high`.
    pub fn parse(text: &str) -> Option<Sensitivity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Self::LOW),
            "medium" => Some(Self::MEDIUM),
            "high" => Some(Self::HIGH),
            _ => None,
        }
    }
}

impl Default for Sensitivity {
    fn default() -> Self {
        Self::MEDIUM
    }
}

/// What the detector needs to know about a signal besides its values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignalTraits {
    /// How values behave (noise model, transform).
    pub kind: ValueKind,
    /// Which changes are bad; changes the other way are ignored.
    pub watch: Watch,
    /// Smallest absolute change that matters at the default sensitivity,
    /// in the metric's unit (scaled by [`Sensitivity::change_factor`]).
    pub min_change: f64,
    /// A change that no sensitivity makes matter, in the metric's unit:
    /// what the metric does by design (a queue's age up to its visibility
    /// timeout is a message waiting for its retry). Zero for none.
    pub change_floor: f64,
    /// Smallest relative change that matters.
    pub min_ratio: f64,
    /// Period of the points in seconds.
    pub period: i64,
    /// Whether a small but lasting rise is also watched for: a rare-event
    /// count (errors, throttles) whose points each stay under the smallest
    /// change that matters while their sum over a stretch does not.
    pub drift: bool,
}

impl SignalTraits {
    /// The smallest absolute change that matters at `sensitivity`.
    pub fn smallest_change(&self, sensitivity: &Sensitivity) -> f64 {
        (self.min_change * sensitivity.change_factor).max(self.change_floor)
    }

    /// Whether small lasting changes are summed as a shift (see
    /// [`Baseline::shift_step`]): traffic (a count watched both ways that
    /// is not a rare event) and latency.
    pub fn shifts(&self) -> bool {
        match self.kind {
            ValueKind::Count => self.watch == Watch::Both && !self.drift,
            ValueKind::Latency => true,
            ValueKind::Gauge | ValueKind::Generic => false,
        }
    }

    /// The traits of a series whose meaning is unknown: both directions
    /// matter, no floor on the change, and the detector learns the noise
    /// model, the seasonality and the sampling interval from the points.
    pub fn generic() -> Self {
        Self {
            kind: ValueKind::Generic,
            watch: Watch::Both,
            min_change: 0.0,
            change_floor: 0.0,
            min_ratio: 0.0,
            period: 0,
            drift: false,
        }
    }
}

/// The judgement of one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// Too little history to judge; the point was learned.
    InsufficientHistory,
    /// Normal; `expected` is the baseline's value.
    Normal {
        /// The baseline's expected value.
        expected: f64,
    },
    /// Abnormal in a bad direction.
    Abnormal {
        /// Which way.
        direction: Direction,
        /// The baseline's expected value.
        expected: f64,
        /// Robust z-score (signed).
        score: f64,
    },
}

/// An anomaly of one signal: a stretch of persistently abnormal points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Episode {
    /// Which way the signal moved.
    pub direction: Direction,
    /// Start of the first abnormal period.
    pub start: Timestamp,
    /// Start of the last abnormal period.
    pub last_abnormal: Timestamp,
    /// Abnormal points so far.
    pub points: u32,
    /// Sum of observed values over abnormal points.
    pub observed_sum: f64,
    /// Sum of expected values over abnormal points.
    pub expected_sum: f64,
    /// Largest observed value (smallest for a decrease).
    pub peak: f64,
    /// Largest absolute z-score.
    pub peak_score: f64,
}

impl Episode {
    /// An anomaly from `start` whose first abnormal point, at `t`, has
    /// `value` where `expected` was, `score` spreads away.
    pub(crate) fn begin(
        direction: Direction,
        start: Timestamp,
        t: Timestamp,
        value: f64,
        expected: f64,
        score: f64,
    ) -> Self {
        Self {
            direction,
            start,
            last_abnormal: t,
            points: 1,
            observed_sum: value,
            expected_sum: expected,
            peak: value,
            peak_score: score.abs(),
        }
    }

    /// Takes another abnormal point.
    pub(crate) fn take(&mut self, t: Timestamp, value: f64, expected: f64, score: f64) {
        self.take_earlier(value, expected);
        self.last_abnormal = t;
        self.peak_score = self.peak_score.max(score.abs());
    }

    /// Takes a point from before the one that started the anomaly, part
    /// of the evidence that opened it.
    pub(crate) fn take_earlier(&mut self, value: f64, expected: f64) {
        self.points += 1;
        self.observed_sum += value;
        self.expected_sum += expected;
        self.peak = match self.direction {
            Direction::Increase => self.peak.max(value),
            Direction::Decrease => self.peak.min(value),
        };
    }

    /// Mean observed value over the abnormal points.
    pub fn observed(&self) -> f64 {
        self.observed_sum / f64::from(self.points.max(1))
    }

    /// Mean expected value over the abnormal points.
    pub fn expected(&self) -> f64 {
        self.expected_sum / f64::from(self.points.max(1))
    }
}

/// What happened to a signal's anomaly as a point was judged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EpisodeChange {
    /// Nothing changed.
    None,
    /// An anomaly started (its first points are already in it).
    Started(Episode),
    /// The ongoing anomaly took another abnormal point.
    Extended(Episode),
    /// The anomaly ended; its end is the end of its last abnormal period.
    Ended(Episode, Timestamp),
}

/// One slot of the daily profile.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Slot {
    /// Typical transformed value.
    pub loc: f32,
    /// Typical absolute deviation from `loc`. Negative after the slot's
    /// only point while that point is in doubt (see [`Baseline::learn`]):
    /// its magnitude is the deviation.
    pub dev: f32,
    /// Points learned (saturates at [`SLOT_N_MAX`], some fifty days of
    /// minutes, beyond which it no longer changes anything).
    pub n: u16,
}

/// Points that must be abnormal in a row to start an anomaly.
const OPEN_RUN: u32 = 2;
/// Or: abnormal points among the last [`OPEN_WINDOW`].
const OPEN_OF_WINDOW: u32 = 3;
/// The window for [`OPEN_OF_WINDOW`].
const OPEN_WINDOW: u32 = 5;
/// Runs of points whose accumulated evidence is judged, shortest first.
const SUSTAINED_RUNS: [u32; 2] = [3, 5];
/// Points of evidence kept (the longest run).
const RECENT: usize = 5;
/// Most evidence one point may bring to a run, in spreads.
const EVIDENCE_CAP: f64 = 3.0;
/// A single count this many thresholds away starts an anomaly at once...
const INSTANT_FACTOR: f64 = 2.0;
/// ...when it is also this many times the smallest change that matters.
const INSTANT_CHANGE: f64 = 5.0;
/// Normal periods after the last abnormal one that end an anomaly...
const CLOSE_AFTER: i64 = 5;
/// ...or normal time, if that is less: two five-minute points. Five of
/// them, and the insight's quarter of an hour of health after, closed a
/// five-minute insight some forty minutes after its incident ended.
const CLOSE_AFTER_SECS: i64 = 10 * 60;
/// Learning rate floor of a slot (memory of about ten points, two days).
const SLOT_RATE: f32 = 0.1;
/// Learning rate of the short-term level (memory of about half an hour).
const LEVEL_RATE: f32 = 1.0 / 30.0;
/// Learning rate of the serverless baseline's level (a memory of about 20
/// minutes): fast enough to follow the day's offset from the profile, slow
/// enough that a sudden change is judged before it is followed.
const SEASONAL_LEVEL_RATE: f32 = 1.0 / 20.0;
/// Learning rate of the global spread.
const NOISE_RATE: f32 = 1.0 / 200.0;
/// Smallest model spread in the transformed space (5%).
const MODEL_FLOOR: f64 = 0.05;
/// Relative step of the robust spread trackers.
const SPREAD_STEP: f32 = 0.05;
/// Points a slot learns plainly, before robust steps start, at one point a
/// minute: a day and a half of a slot's five minutes (see
/// [`young_points`]).
const YOUNG: u16 = 8;
/// The share of an established slot's level rate at which a young slot
/// of one point a day (see [`young_points`]) teaches the day's level.
const YOUNG_LEVEL_SHARE: f32 = 0.25;
/// How far from the slot before it, in that slot's spreads, the first
/// point of a slot of several points a day is in doubt until the slot's
/// next point tells a one-off from a new shape (see [`Baseline::learn`]).
const FIRST_POINT_LIMIT: f32 = 10.0;
/// How far beyond a young slot of several points a day, in spreads, a
/// residual teaches it as much as it would (see [`Baseline::learn`]).
const YOUNG_LIMIT: f32 = 6.0;
/// Pseudo-count that shrinks a young slot's spread towards the global one.
const SHRINK: f32 = 5.0;
/// Residuals the global spread learns plainly before robust steps start.
const NOISE_YOUNG: u32 = YOUNG as u32 * 8;
/// History needed before judging: one full daily cycle.
const WARMUP: i64 = DAY;
/// Evidence, in spreads, from which a point not abnormal on its own is
/// still worth a follow-up: the next point soon tells whether it began an
/// incident.
const SUSPECT_EVIDENCE: f64 = 3.0;
/// What a drift or a shift must have summed for the next points to be worth
/// a follow-up: about two thirds of its threshold at the default
/// sensitivity, which noise seldom reaches.
const SUSPECT_SUM: f64 = 6.0;
/// Periods after its start during which an anomaly that has not opened an
/// insight is worth a follow-up.
pub const UNSETTLED_PERIODS: i64 = 10;
/// Most a point may move the level while re-levelling after a change of
/// the day's type, in the transformed space (about ×4.5).
const RELEVEL_STEP: f32 = 1.5;
/// Spreads beyond the band that make a point at a weekend boundary a step
/// of the day's level (a single point, so well below the threshold).
const STEP_SCORE: f64 = 2.0;
/// The periods after a weekend boundary in which a traffic's shift can
/// still show that the metric stepped there.
const STEP_PERIODS: i64 = 3;
/// Weekend steps remembered (see [`Baseline::week_steps`]).
const WEEK_STEPS: usize = 3;
/// An anomaly that lasts this long becomes the new normal.
const ADAPT_AFTER: i64 = 6 * 3_600;
/// The rise per period a rare-event count's drift is tested for, as a
/// share of the smallest change that matters in one period (an error a
/// minute where three matter).
const DRIFT_RISE: f64 = 1.0 / 3.0;
/// The lowest rate a drift is tested against, as a share of that rise: a
/// count that is almost always zero still fails now and then, and one
/// error in an hour must not look like an infinite rise. For errors or
/// throttles (a rise of one a minute) that is about one an hour: at six an
/// hour, each quiet minute of a table that had never throttled took back a
/// whole throttle's evidence, and fifteen throttled reads in twenty minutes
/// were not enough. A few failures are still no anomaly: the drift's
/// excess must be [`DRIFT_EXCESS`] minutes' worth of the smallest change.
const DRIFT_FLOOR: f64 = 0.02;
/// The drift's threshold, per squared z-threshold of the sensitivity
/// (12 at the default): a log-likelihood ratio of e^12 to one.
const DRIFT_PER_Z2: f64 = 0.6;
/// Minutes that a drift needs at least: a point brings at most this share
/// of the threshold per minute it sums, so a burst of a minute or two
/// never opens an anomaly, and a five-minute point weighs as its five
/// minutes would (weighed as one, a dozen errors in a quarter of an hour
/// were never found at five minutes, and others a quarter hour late).
const DRIFT_MIN_PERIODS: f64 = 3.0;
/// The smallest total excess of a drift or a shift, in smallest changes
/// that matter: nine errors over some minutes where three in one would
/// matter, or sixty requests lost where twenty in one would.
pub const DRIFT_EXCESS: f64 = 3.0;
/// How far beyond the band, in spreads, a traffic point must be to add to
/// its shift (see [`Baseline::shift_step`]): the CUSUM's allowance, which
/// the band's own noise does not pass for long.
const SHIFT_ALLOWANCE: f64 = 1.0;
/// A traffic shift's threshold in multiples of the z-threshold: 9 at the
/// default sensitivity, which points each three spreads beyond the band
/// reach in five periods, and points each two beyond in nine.
const SHIFT_PER_Z: f64 = 2.0;
/// How far beyond the band, in spreads, a residual teaches the baseline
/// as much as it would (see [`Baseline::learn`]).
const LEARN_LIMIT: f32 = 2.5;
/// [`LEARN_LIMIT`] for the points of a traffic shift being weighed.
const SHIFT_LEARN_LIMIT: f32 = 1.0;
/// [`LEARN_LIMIT`] for the points of a shift being weighed of a metric
/// watched one way (a latency): its band may lag behind for a while, for
/// its coming back makes no alarm.
const ONE_WAY_SHIFT_LEARN_LIMIT: f32 = 0.5;
/// The narrowest and widest scaling of a latency's spread for the traffic
/// behind its point (see [`Baseline::observe_latency`]): four times the
/// usual traffic halves it, a ninth of it triples it.
const LOAD_SCALE: (f64, f64) = (0.5, 3.0);
/// The share of the smallest relative change that matters by which a
/// point beyond the band, the bad way, leans towards a shift (see
/// [`Baseline::leans`]).
const LEAN_RATIO: f64 = 0.25;
/// Share of a shift's threshold its sum must reach for what it taught the
/// level to be taken back when the traffic comes back (see
/// [`Baseline::come_back`]).
const LEAN_SHIFT: f64 = 0.5;
/// How fast the drift's usual share forgets (a memory of about half a day
/// of points).
const DRIFT_MEMORY_RATE: f32 = 1.0 / 720.0;

/// The learned state of one signal, with its ongoing anomaly if any.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    pub(crate) slots: Vec<Slot>,
    pub(crate) level: f32,
    pub(crate) noise: f32,
    pub(crate) learned: u32,
    pub(crate) first: Option<Timestamp>,
    /// Bit i set: the point i periods ago was abnormal upwards.
    pub(crate) up_bits: u8,
    /// Same, downwards.
    pub(crate) down_bits: u8,
    pub(crate) episode: Option<Episode>,
    /// Start of the last period judged (for persistence across gaps).
    pub(crate) last_judged: Option<Timestamp>,
    /// Nothing before this time is judged again.
    pub(crate) next: Option<Timestamp>,
    /// What the generic mode learns besides the profile (unused otherwise).
    pub(crate) generic: Generic,
    /// Standardized evidence of the last serverless points judged, oldest
    /// first: how far beyond the band each was, in spreads (signed, capped,
    /// zero when inside the band or too small to matter).
    pub(crate) recent: Vec<f32>,
    /// The last serverless points judged beyond the band in a way that
    /// matters (those with evidence), oldest first, at most [`RECENT`]:
    /// an anomaly that a run of them opens holds them all.
    pub(crate) beyond: Vec<Beyond>,
    /// Generic mode: per slot of the day, a stamp of the day the last
    /// excursion began there, then per slot how many days in a row one did
    /// (see `generic`); empty until an excursion is seen.
    pub(crate) recur: Vec<u8>,
    /// The last weekend boundary at which the metric stepped: points in
    /// its grace re-level (see [`Baseline::relevel`]).
    pub(crate) relevel_from: Option<Timestamp>,
    /// The short-term level from before that step, restored when the step
    /// turns out to be one point's blip.
    pub(crate) relevel_base: f32,
    /// The last weekend boundaries at which the metric stepped to a new
    /// level (a week's two, and this week's while last week's is still
    /// followed): the same boundary a week later re-levels whether or not
    /// its first minutes show the step (see [`Baseline::relevel`]).
    pub(crate) week_steps: [Option<WeekStep>; WEEK_STEPS],
    /// The slow lane of a rare-event count (see [`Baseline::drift_step`]).
    pub(crate) drift: Drift,
    /// What the points of a traffic shift being weighed taught the day's
    /// level lately (see [`Baseline::come_back`]).
    pub(crate) lean: Option<Lean>,
}

/// A point judged beyond its band in a way that matters (see
/// [`Baseline::beyond`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Beyond {
    /// The point's period.
    pub(crate) at: Timestamp,
    /// Its value.
    pub(crate) value: f32,
    /// The band's edge it passed.
    pub(crate) expected: f32,
    /// Which edge.
    pub(crate) direction: Direction,
}

/// A weekend boundary at which the metric stepped to a new level (see
/// [`Baseline::relevel`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct WeekStep {
    /// The boundary.
    pub(crate) at: Timestamp,
    /// How far the points in its grace moved the short-term level, in the
    /// transformed space.
    pub(crate) moved: f32,
}

/// How far the points of a traffic shift being weighed moved the day's
/// level (see [`Baseline::come_back`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Lean {
    /// The first period of the shift that started it.
    pub(crate) from: Timestamp,
    /// The level's move, in the transformed space: negative for a fall,
    /// never zero.
    pub(crate) moved: f32,
    /// Whether a shift it holds summed [`LEAN_SHIFT`] of the way to an
    /// anomaly, or its points moved the level by a relative change that
    /// matters (a drop of a few requests a minute that the band followed
    /// down before it summed half the way): a tentative lean is only noise
    /// that the next shift the same way replaces.
    pub(crate) confirmed: bool,
}

/// The traffic a count is a share of in one period (see
/// [`Baseline::observe_exposed`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Exposure {
    /// Read from the traffic's own point (or one per period for a count
    /// that is a share of nothing known).
    Measured(f64),
    /// What the traffic's baseline expected, its point not being fetched
    /// yet.
    Estimated(f64),
}

impl Exposure {
    /// The traffic, never negative.
    pub fn value(self) -> f64 {
        match self {
            Exposure::Measured(v) | Exposure::Estimated(v) => v.max(0.0),
        }
    }
}

/// What the drift made of a point.
#[derive(Clone, Copy, Debug)]
struct DriftPoint {
    /// The point's exposure.
    exposure: Exposure,
    /// The usual count, the score and the periods of the stretch, when
    /// the point is abnormal.
    abnormal: Option<(f64, f64, u32)>,
}

/// The slow lane of a count. For a rare-event count, a Poisson CUSUM: the
/// log-likelihood ratio of "the count rose by the smallest rise that
/// matters" against "the count is the usual share of the traffic",
/// accumulated over the points since it was last zero. For traffic, the
/// shift (see [`Baseline::shift_step`]): `sum` is signed by its direction
/// and the usual share is not used.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Drift {
    /// The accumulated log-likelihood ratio (never negative), or the
    /// traffic's shift (negative for a fall).
    pub(crate) sum: f32,
    /// The first period of the current accumulation.
    pub(crate) from: Option<Timestamp>,
    /// Counts observed since then.
    pub(crate) observed: f32,
    /// Usual counts (the band's edge, for a shift) since then.
    pub(crate) expected: f32,
    /// Decayed sum of the counts of learned points...
    pub(crate) seen: f32,
    /// ...and of their exposures (the traffic the count is a share of, or
    /// one per period): their ratio is the usual count per unit of
    /// exposure.
    pub(crate) exposed: f32,
}

impl Drift {
    /// The usual count at `exposure`, once some exposure was learned.
    fn usual(&self, exposure: f64) -> Option<f64> {
        (self.exposed > 0.0).then(|| f64::from(self.seen) / f64::from(self.exposed) * exposure)
    }

    /// Learns a normal point's count `x` at `exposure`.
    fn calibrate(&mut self, x: f64, exposure: f64) {
        let keep = 1.0 - DRIFT_MEMORY_RATE;
        self.seen = self.seen * keep + x as f32;
        self.exposed = self.exposed * keep + exposure as f32;
    }

    /// Starts summing afresh, keeping the calibration.
    fn clear(&mut self) {
        *self = Drift {
            seen: self.seen,
            exposed: self.exposed,
            ..Drift::default()
        };
    }
}

impl Default for Baseline {
    fn default() -> Self {
        Self::new()
    }
}

impl Baseline {
    /// A baseline that knows nothing yet.
    pub fn new() -> Self {
        Self {
            slots: vec![Slot::default(); SLOTS],
            level: 0.0,
            noise: 0.0,
            learned: 0,
            first: None,
            up_bits: 0,
            down_bits: 0,
            episode: None,
            last_judged: None,
            next: None,
            generic: Generic::default(),
            recent: Vec::new(),
            beyond: Vec::new(),
            recur: Vec::new(),
            relevel_from: None,
            relevel_base: 0.0,
            week_steps: [None; WEEK_STEPS],
            drift: Drift::default(),
            lean: None,
        }
    }

    /// The ongoing anomaly, if any.
    pub fn episode(&self) -> Option<&Episode> {
        self.episode.as_ref()
    }

    /// The band a serverless point at `t` is judged against, in the
    /// metric's units: `(low, high, spread)` where the spread is the model's
    /// standard deviation in the transformed space. `None` while there is
    /// too little history. For explaining verdicts.
    pub fn band(&self, t: Timestamp, kind: ValueKind) -> Option<(f64, f64, f64)> {
        let (low, high, sd) = self.expectation(t)?;
        Some((inverse(low, kind), inverse(high, kind), sd))
    }

    /// The first time not yet judged: periods before it are done.
    pub fn next(&self) -> Option<Timestamp> {
        self.next
    }

    /// Marks everything before `t` as judged, whether or not it had samples.
    pub fn advance(&mut self, t: Timestamp) {
        if self.next.is_none_or(|n| n < t) {
            self.next = Some(t);
        }
    }

    /// Whether the last point judged was abnormal, or had at least
    /// [`SUSPECT_EVIDENCE`], or a drift or shift being weighed has summed
    /// [`SUSPECT_SUM`], and the anomaly, if one started, is younger
    /// than [`UNSETTLED_PERIODS`]: the next points will soon tell whether
    /// it is an incident.
    pub fn unsettled(&self, period: i64) -> bool {
        let young = match (self.episode, self.last_judged) {
            (Some(ep), Some(last)) => last.since(ep.start) < UNSETTLED_PERIODS * period.max(1),
            _ => true,
        };
        (self.point_suspect() || f64::from(self.drift.sum.abs()) >= SUSPECT_SUM) && young
    }

    /// Whether the last point judged was abnormal, or had at least
    /// [`SUSPECT_EVIDENCE`].
    fn point_suspect(&self) -> bool {
        (self.up_bits | self.down_bits) & 1 != 0
            || self
                .recent
                .last()
                .is_some_and(|e| f64::from(e.abs()) >= SUSPECT_EVIDENCE)
    }

    /// What is usual at `t` in the transformed space: the daily profile's
    /// value there, the day's short-term level left out, once warm.
    pub fn usual(&self, t: Timestamp) -> Option<f64> {
        let first = self.first?;
        let slot = self.slots[Self::slot_index(t)];
        (t.since(first) >= WARMUP && slot.n > 0).then_some(f64::from(slot.loc))
    }

    /// Points learned so far.
    pub fn learned(&self) -> u32 {
        self.learned
    }

    /// The daily profile by UTC hour in the transformed space (the mean of
    /// each hour's slots, the short-term level left out), once a whole day
    /// has been learned.
    pub fn hourly_profile(&self) -> Option<[f64; 24]> {
        let first = self.first?;
        let last = self.last_judged?;
        if last.since(first) < WARMUP || self.slots.iter().any(|s| s.n == 0) {
            return None;
        }
        let per_hour = SLOTS / 24;
        let mut out = [0.0; 24];
        for (hour, v) in out.iter_mut().enumerate() {
            let slots = &self.slots[hour * per_hour..(hour + 1) * per_hour];
            *v = slots.iter().map(|s| f64::from(s.loc)).sum::<f64>() / per_hour as f64;
        }
        Some(out)
    }

    /// Takes the point at `t`, in the grace after `boundary` (a possible
    /// change of the day's type: the users' weekend starting or ending),
    /// as evidence of the new day's level rather than judging it, provided
    /// the metric stepped right at the boundary: its point of the
    /// boundary's own period was [`STEP_SCORE`] spreads beyond the band,
    /// whatever the size of the change, or, for traffic or a latency, the
    /// shift that began in those periods reached as much beyond its
    /// allowance within [`STEP_PERIODS`] periods of the boundary (a step
    /// hidden in the noise of a few requests a minute, or whose boundary
    /// minute fell only partway), or the metric stepped at the same
    /// boundary a week before (its traffic may come down over a few
    /// minutes, none of them a step on its own; that week's level moved at
    /// least [`STEP_SCORE`] spreads and is remembered in
    /// [`Baseline::week_steps`]). The short-term level then becomes the
    /// running mean of the points since the boundary, each point moving it
    /// by at most [`RELEVEL_STEP`], until a point is abnormal even against
    /// the new level (and, at a boundary stepped at a week before, against
    /// any level between it and the one taken then): then it is judged as
    /// usual, against the old level if it is normal there (the step was
    /// one point's blip). The point is normal for persistence and teaches
    /// no slot.
    ///
    /// Returns false, and changes nothing, when the point must be judged
    /// as usual: no step at the boundary (a change that starts after the
    /// first [`STEP_PERIODS`] periods is an incident like any other, and
    /// so is a traffic shift the same way weighed since before the
    /// boundary), an anomaly ongoing, too short a history, a period judged
    /// already, or a generic metric.
    pub fn relevel(
        &mut self,
        t: Timestamp,
        value: f64,
        traits: &SignalTraits,
        sensitivity: &Sensitivity,
        boundary: Timestamp,
    ) -> bool {
        if traits.kind == ValueKind::Generic
            || self.episode.is_some()
            || self.next.is_some_and(|next| t < next)
            || !value.is_finite()
            || t < boundary
        {
            return false;
        }
        let Some(band) = self.expectation(t) else {
            return false;
        };
        let period = traits.period.max(1);
        let index = t.since(boundary) / period;
        let y = transform(value, traits.kind);
        let score = Self::beyond_band(value, y, traits.kind, band).map_or(0.0, |(_, _, s)| s);
        // A traffic shift the same way, weighed since before the
        // boundary, is a change that began before it (a drop that started
        // a minute early, a surge already an hour old): no step.
        let earlier = traits.shifts()
            && self.drift.from.is_some_and(|from| from < boundary)
            && f64::from(self.drift.sum) * score > 0.0;
        // The shift since the boundary, with this point, as the
        // standardized mean evidence of its points. It may have started a
        // minute or two after the boundary: a minute that has fallen only
        // partway is no change that matters on its own.
        let shift = (traits.shifts() && self.drift.from.is_some_and(|from| from >= boundary))
            .then(|| f64::from(self.drift.sum))
            .filter(|sum| sum * score > 0.0)
            .map_or(0.0, |sum| {
                let minutes = minutes_per_point(period);
                shift_score(
                    sum.abs() + shift_evidence(score, minutes).abs() - SHIFT_ALLOWANCE * minutes,
                    (index + 1) as f64 * minutes,
                )
            });
        // The metric stepped at this boundary a week ago: the users' week
        // goes on, whatever the first minutes show.
        let remembered = self
            .week_steps
            .iter()
            .flatten()
            .find(|step| boundary.since(step.at) == WEEK)
            .map(|step| step.moved);
        if self.relevel_from == Some(boundary) {
            // A point between the new level and the one the metric took
            // a week ago is on its way there (traffic coming down over a
            // few minutes), not something on top of the new level.
            let on_the_way = remembered.is_some_and(|moved| {
                let to = f64::from(self.relevel_base + moved - self.level);
                let (low, high, sd) = band;
                let span = (low + to.min(0.0), high + to.max(0.0), sd);
                Self::beyond_band(value, y, traits.kind, span)
                    .is_none_or(|(_, _, s)| s.abs() < sensitivity.z_threshold)
            });
            if score.abs() >= sensitivity.z_threshold && !on_the_way {
                self.relevel_from = None;
                // A point the old level finds usual undoes the step (one
                // minute's dip at midnight); something on top of the new
                // level (a spike starting a few minutes after midnight)
                // is judged, not learned.
                let stepped = std::mem::replace(&mut self.level, self.relevel_base);
                let usual = self.expectation(t).is_some_and(|band| {
                    Self::beyond_band(value, y, traits.kind, band)
                        .is_none_or(|(_, _, s)| s.abs() < STEP_SCORE)
                });
                if usual {
                    for step in &mut self.week_steps {
                        if step.is_some_and(|step| step.at == boundary) {
                            *step = None;
                        }
                    }
                } else {
                    self.level = stepped;
                }
                return false;
            }
        } else if ((index == 0 && score.abs() >= STEP_SCORE)
            || (index < STEP_PERIODS && (shift >= STEP_SCORE || remembered.is_some())))
            && !earlier
        {
            self.relevel_from = Some(boundary);
            self.relevel_base = self.level;
            self.lean = None;
            if traits.shifts() {
                self.drift.clear();
            }
        } else {
            return false;
        }
        self.step_to(t, traits.period);
        self.push_evidence(0.0);
        let own = self.slots[Self::slot_index(t)].loc;
        let weight = 1.0 / (index as f32 + 1.0);
        let step = (y as f32 - own - self.level).clamp(-RELEVEL_STEP, RELEVEL_STEP);
        self.level += weight * step;
        let moved = self.level - self.relevel_base;
        if f64::from(moved.abs()) >= STEP_SCORE * band.2 {
            self.remember_step(WeekStep {
                at: boundary,
                moved,
            });
        }
        true
    }

    /// Keeps `step` in [`Baseline::week_steps`]: in place of the same
    /// boundary's, or in a free place, or in place of the oldest step but
    /// the one a week before it, which its grace still follows.
    fn remember_step(&mut self, step: WeekStep) {
        let steps = &self.week_steps;
        let place = steps
            .iter()
            .position(|s| s.is_some_and(|s| s.at == step.at))
            .or_else(|| steps.iter().position(Option::is_none))
            .or_else(|| {
                (0..WEEK_STEPS)
                    .filter(|&i| steps[i].is_some_and(|s| step.at.since(s.at) != WEEK))
                    .min_by_key(|&i| steps[i].map(|s| s.at))
            });
        if let Some(place) = place {
            self.week_steps[place] = Some(step);
        }
    }

    /// Judges the value of the period starting at `t` and learns from it if
    /// it is normal. Periods before [`Baseline::next`] are ignored (returns
    /// `None`), so replaying a window twice changes nothing.
    pub fn observe(
        &mut self,
        t: Timestamp,
        value: f64,
        traits: &SignalTraits,
        sensitivity: &Sensitivity,
    ) -> Option<(Verdict, EpisodeChange)> {
        self.observe_exposed(t, value, Some(Exposure::Measured(1.0)), traits, sensitivity)
    }

    /// [`Baseline::observe`] for a count that is a share of some traffic
    /// (errors of invocations, 5XX responses of requests): `exposure` is
    /// that traffic in the same period, so that a metric watched for drift
    /// expects more failures when there are more requests. `None` when it
    /// is not known: the point is judged, but not for drift.
    pub fn observe_exposed(
        &mut self,
        t: Timestamp,
        value: f64,
        exposure: Option<Exposure>,
        traits: &SignalTraits,
        sensitivity: &Sensitivity,
    ) -> Option<(Verdict, EpisodeChange)> {
        self.observe_point(t, value, exposure, None, traits, sensitivity)
    }

    /// [`Baseline::observe`] for an average latency: `load` is the traffic
    /// the average is taken over, against the usual traffic at this time
    /// of day (2.0: twice as many requests as usual), when known. An
    /// average of fewer requests is jumpier (one cold start among fifteen
    /// requests doubles it), and one of more is steadier, so the spread
    /// the profile learned is scaled by `1/√load`, within
    /// [`LOAD_SCALE`]; the point teaches the spread as if the traffic had
    /// been the usual one.
    pub fn observe_latency(
        &mut self,
        t: Timestamp,
        value: f64,
        load: Option<f64>,
        traits: &SignalTraits,
        sensitivity: &Sensitivity,
    ) -> Option<(Verdict, EpisodeChange)> {
        let exposure = Some(Exposure::Measured(1.0));
        self.observe_point(t, value, exposure, load, traits, sensitivity)
    }

    fn observe_point(
        &mut self,
        t: Timestamp,
        value: f64,
        exposure: Option<Exposure>,
        load: Option<f64>,
        traits: &SignalTraits,
        sensitivity: &Sensitivity,
    ) -> Option<(Verdict, EpisodeChange)> {
        if traits.kind == ValueKind::Generic {
            return self.observe_generic(t, value, sensitivity);
        }
        if self.next.is_some_and(|next| t < next) || !value.is_finite() {
            return None;
        }
        self.step_to(t, traits.period);

        // The transformed value, computed once for judging and learning.
        let y = transform(value, traits.kind);
        let scale = load_scale(load, traits.kind);
        let band = self
            .expectation(t)
            .map(|(low, high, sd)| (low, high, sd * f64::from(scale)));
        let (mut verdict, evidence, mut sustained) =
            self.judge(t, value, y, band, traits, sensitivity);
        self.push_evidence(evidence);
        if let Verdict::Abnormal { expected, .. } | Verdict::Normal { expected } = verdict
            && evidence != 0.0
        {
            self.push_beyond(Beyond {
                at: t,
                value: value as f32,
                expected: expected as f32,
                direction: if evidence > 0.0 {
                    Direction::Increase
                } else {
                    Direction::Decrease
                },
            });
        }
        let mut drifted = false;
        let drift = self.drift_step(t, value, band, exposure, traits, sensitivity);
        let slow = match drift.and_then(|d| d.abnormal) {
            Some((expected, score, periods)) => {
                Some((Direction::Increase, expected, score, periods))
            }
            None => self.shift_step(t, value, y, band, traits, sensitivity),
        };
        if let Some((direction, expected, score, periods)) = slow
            && matches!(verdict, Verdict::Normal { .. })
        {
            verdict = Verdict::Abnormal {
                direction,
                expected,
                score,
            };
            sustained = Some(periods);
            drifted = true;
        }
        let mut change = self.track(t, value, &verdict, traits, sensitivity, sustained);
        if drifted && let EpisodeChange::Started(ep) = &mut change {
            // The anomaly holds the whole stretch the drift summed.
            ep.points = periods_u32(ep.last_abnormal.since(ep.start) / traits.period.max(1) + 1);
            ep.observed_sum = f64::from(self.drift.observed);
            ep.expected_sum = f64::from(self.drift.expected);
            self.episode = Some(*ep);
        }
        // Traffic back to its level from before a shift the band followed
        // is no anomaly: the point is normal, and, judged against a level
        // just taken back, teaches nothing.
        let returned = matches!(change, EpisodeChange::Started(ep)
            if self.come_back(t, value, y, ep.direction, traits, sensitivity));
        if returned {
            change = EpisodeChange::None;
            let own = self.slots[Self::slot_index(t)].loc + self.level;
            verdict = Verdict::Normal {
                expected: inverse(f64::from(own), traits.kind),
            };
        }
        // A rise that the drift is weighing teaches nothing until it is
        // cleared: learning it would raise the rate it is tested against.
        // A traffic shift is learned while it is weighed (see
        // [`Baseline::shift_step`]).
        let suspect = traits.drift
            && f64::from(self.drift.sum) >= drift_threshold(sensitivity) / DRIFT_MIN_PERIODS;
        let learn = match verdict {
            Verdict::InsufficientHistory => true,
            Verdict::Normal { .. } => self.episode.is_none() && !suspect && !returned,
            Verdict::Abnormal { .. } => false,
        };
        if learn {
            // A shift being weighed, or a point leaning towards one, is
            // learned as if each of its points were at most a spread
            // beyond: the band follows a new level still, only too slowly
            // to hide a lost hour. Learned whole, the first minutes of a
            // drop of 40% would move a young slot and the day's level so
            // fast that no point is ever the change that matters beyond
            // the band. A latency's shift does not widen the band either:
            // a slowdown building up is no measure of the noise, and, the
            // metric being watched one way, a band too narrow for a while
            // makes no alarm when the latency comes back down.
            let shifting =
                traits.shifts() && (self.drift.sum != 0.0 || Self::leans(value, y, band, traits));
            let spreads = !shifting || traits.watch == Watch::Both;
            // A count beyond the band the harmless way by a relative change
            // that matters (a table's reads down to a tenth while its
            // callers hang) is learned as slowly
            // as a one-way shift: learned as any normal point, it took the
            // day's level down with it, and the reads back to usual were a
            // rise against it, open for hours until the level caught up.
            // Errors and throttles are left out: their quiet minutes are
            // their usual zeros, not an excursion.
            let harmless = band
                .and_then(|(low, high, _)| Self::edge_passed(y, (low, high)))
                .is_some_and(|(direction, edge)| {
                    traits.kind == ValueKind::Count
                        && !traits.drift
                        && !traits.watch.is_bad(direction)
                        && relative_change(value, inverse(edge, traits.kind), direction)
                            >= traits.min_ratio
                });
            let limit = if harmless {
                ONE_WAY_SHIFT_LEARN_LIMIT
            } else if !shifting {
                LEARN_LIMIT
            } else if spreads {
                SHIFT_LEARN_LIMIT
            } else {
                ONE_WAY_SHIFT_LEARN_LIMIT
            };
            let level = self.level;
            self.learn(t, y as f32, limit, spreads, scale, traits.period);
            if let Some(run) = self.drift.from
                && self.drift.sum != 0.0
                && traits.shifts()
                && traits.watch == Watch::Both
            {
                self.lean_by(
                    run,
                    f64::from(self.drift.sum),
                    self.level - level,
                    traits,
                    sensitivity,
                );
            }
            if let Some(d) = drift {
                self.drift.calibrate(value.max(0.0), d.exposure.value());
            }
        }
        Some((verdict, change))
    }

    /// Takes the point at `t`, of traffic `exposure` and expectation `band`,
    /// into the drift of a rare-event count (a Poisson CUSUM, Page's
    /// test). The usual count `r0` is the learned share of the exposure
    /// (with an estimated exposure, at least the band's upper edge), and
    /// at least [`DRIFT_FLOOR`] of the rise. Where the band's upper edge,
    /// taken as a mean count (the log-normal mean of the edge and the
    /// band's spread), is itself a change that matters (a nightly batch's
    /// throttles), the count is not rare then and the sum starts afresh.
    /// Each point adds its log-likelihood ratio between `r0` and a count
    /// risen by
    /// [`DRIFT_RISE`] of the smallest change that matters (and by the
    /// smallest ratio that matters), at most a [`DRIFT_MIN_PERIODS`]th of
    /// the threshold per minute the point sums; the sum never goes below
    /// zero. The point is
    /// abnormal when it is above `r0` and the sum is over the threshold
    /// with a total excess of at least [`DRIFT_EXCESS`] minutes' worth of
    /// the smallest change (see [`lasted`]):
    /// a rise too small for any single period to matter that has lasted
    /// (1.5 errors a minute for ten minutes where 0.3 are usual). `None`,
    /// and nothing changes, for a metric not watched for drift or an
    /// unknown exposure.
    fn drift_step(
        &mut self,
        t: Timestamp,
        value: f64,
        band: Option<(f64, f64, f64)>,
        exposure: Option<Exposure>,
        traits: &SignalTraits,
        sensitivity: &Sensitivity,
    ) -> Option<DriftPoint> {
        if !traits.drift || traits.kind != ValueKind::Count {
            return None;
        }
        let exposure = exposure.filter(|e| e.value().is_finite())?;
        let (Some((_, high, sd)), Some(usual)) = (band, self.drift.usual(exposure.value())) else {
            // Still learning: nothing is summed yet.
            self.drift.clear();
            return Some(DriftPoint {
                exposure,
                abnormal: None,
            });
        };
        let smallest = traits.smallest_change(sensitivity);
        let rise = DRIFT_RISE * smallest;
        let edge = inverse(high, traits.kind);
        // The usual count at the edge as a mean, not a median: a bursty
        // count (a batch's throttles, 0 one minute and 40 the next) has a
        // log whose mean understates it (the log-normal mean).
        let usual_mean = inverse(high + 0.5 * sd * sd, traits.kind);
        if usual_mean >= smallest {
            // Not a rare count at this time of day (a nightly batch's
            // throttles): a rise that matters shows in single periods.
            self.drift.clear();
            return Some(DriftPoint {
                exposure,
                abnormal: None,
            });
        }
        // An estimated exposure misses what only the traffic's own points
        // show (it doubled at midnight): the band's edge then bounds the
        // usual count from below too.
        let r0 = match exposure {
            Exposure::Measured(_) => usual,
            Exposure::Estimated(_) => usual.max(edge),
        }
        .max(DRIFT_FLOOR * rise);
        let r1 = (r0 + rise).max(r0 * (1.0 + traits.min_ratio));
        let threshold = drift_threshold(sensitivity);
        let x = value.max(0.0);
        let llr = (x * (r1 / r0).ln() - (r1 - r0))
            .min(threshold / DRIFT_MIN_PERIODS * minutes_per_point(traits.period));
        let before = f64::from(self.drift.sum);
        // The sum stops at the threshold, so that the first point back to
        // normal is normal again and an anomaly ends with the rise.
        let sum = (before + llr).clamp(0.0, threshold);
        let d = &mut self.drift;
        if sum <= 0.0 {
            d.clear();
            return Some(DriftPoint {
                exposure,
                abnormal: None,
            });
        }
        let from = match d.from {
            Some(from) if before > 0.0 => from,
            _ => {
                d.observed = 0.0;
                d.expected = 0.0;
                t
            }
        };
        d.from = Some(from);
        d.sum = sum as f32;
        d.observed += x as f32;
        d.expected += r0 as f32;
        let excess = f64::from(d.observed) - f64::from(d.expected);
        let abnormal = (sum >= threshold && x > r0 && lasted(excess, smallest, traits.period))
            .then(|| {
                let periods = t.since(from) / traits.period.max(1) + 1;
                (r0, (2.0 * sum).sqrt(), periods_u32(periods))
            });
        Some(DriftPoint { exposure, abnormal })
    }

    /// Takes the point at `t`, of transformed value `y` and expectation
    /// `band`, into the shift of a traffic count or a latency (see
    /// [`SignalTraits::shifts`]): a CUSUM (Page's test) of how far beyond
    /// the band its points are, in spreads, each capped at
    /// [`EVIDENCE_CAP`], less [`SHIFT_ALLOWANCE`], per minute the point
    /// sums (see [`shift_evidence`]). A point counts when its
    /// change is bad and its relative change matters, whatever its absolute
    /// change: half the requests of a service of 30 a minute lost for an
    /// hour is an incident, though no single minute's 15 is, and so is a
    /// function 60% slower for an hour, though 14 ms more is not. A point
    /// the other way starts afresh; the sum is kept in
    /// [`Baseline::drift`], signed by its direction. The point is abnormal
    /// when the sum is over [`SHIFT_PER_Z`] z-thresholds and the change
    /// summed over the run is at least [`DRIFT_EXCESS`] minutes' worth of
    /// the smallest change.
    /// Returns its direction, band edge, score (the run's mean evidence,
    /// standardized) and the periods of the run.
    ///
    /// Unlike a drift, a shift being weighed is still learned: a traffic's
    /// level moves for reasons of its own (a quieter Monday, a weekend
    /// that starts at another hour), so does a latency (a bigger payload
    /// since a release), and a level held wrong is a false alarm that
    /// lasts. The band follows a shift, only more slowly than the sum
    /// grows.
    fn shift_step(
        &mut self,
        t: Timestamp,
        value: f64,
        y: f64,
        band: Option<(f64, f64, f64)>,
        traits: &SignalTraits,
        sensitivity: &Sensitivity,
    ) -> Option<(Direction, f64, f64, u32)> {
        if !traits.shifts() {
            return None;
        }
        let Some(band) = band else {
            self.drift.clear();
            return None;
        };
        let beyond =
            Self::beyond_band(value, y, traits.kind, band).filter(|&(direction, expected, _)| {
                traits.watch.is_bad(direction)
                    && relative_change(value, expected, direction) >= traits.min_ratio
            });
        let minutes = minutes_per_point(traits.period);
        let (evidence, expected) = match beyond {
            Some((_, expected, score)) => (shift_evidence(score, minutes), expected),
            None => (0.0, value),
        };
        let before = f64::from(self.drift.sum);
        // A point the other way starts afresh.
        let before = if evidence * before < 0.0 { 0.0 } else { before };
        let magnitude = before.abs() + evidence.abs() - SHIFT_ALLOWANCE * minutes;
        if magnitude <= 0.0 {
            self.drift.clear();
            return None;
        }
        let sign = if before == 0.0 {
            evidence.signum()
        } else {
            before.signum()
        };
        let threshold = SHIFT_PER_Z * sensitivity.z_threshold;
        let d = &mut self.drift;
        let from = match d.from {
            Some(from) if before != 0.0 => from,
            _ => {
                d.observed = 0.0;
                d.expected = 0.0;
                t
            }
        };
        d.from = Some(from);
        // The sum stops at the threshold, so that an anomaly ends soon
        // after the shift does.
        d.sum = (sign * magnitude.min(threshold)) as f32;
        d.observed += value as f32;
        d.expected += expected as f32;
        let (direction, _, _) = beyond?;
        let lasting = lasted(
            f64::from(d.observed) - f64::from(d.expected),
            traits.smallest_change(sensitivity),
            traits.period,
        );
        (magnitude >= threshold && lasting).then(|| {
            let periods = t.since(from) / traits.period.max(1) + 1;
            (
                direction,
                expected,
                shift_score(magnitude, periods as f64 * minutes).copysign(sign),
                periods_u32(periods),
            )
        })
    }

    /// Whether the point of value `value` (transformed `y`) leans towards
    /// a shift: beyond `band` the bad way by at least [`LEAN_RATIO`] of
    /// the smallest relative change that matters. Not yet evidence of a
    /// shift, it is learned as one all the same (see
    /// [`Baseline::observe_point`]).
    fn leans(value: f64, y: f64, band: Option<(f64, f64, f64)>, traits: &SignalTraits) -> bool {
        band.and_then(|(low, high, _)| Self::edge_passed(y, (low, high)))
            .is_some_and(|(direction, edge)| {
                traits.watch.is_bad(direction)
                    && relative_change(value, inverse(edge, traits.kind), direction)
                        >= traits.min_ratio * LEAN_RATIO
            })
    }

    /// Adds `by`, what a point of a traffic shift being weighed since
    /// `run` (its sum `sum` now) taught the day's level, to the [`Lean`].
    /// A move the other way takes back what the lean had moved (the
    /// traffic may be coming back). A new shift the same way adds to a
    /// confirmed lean and replaces a tentative one. A lean is confirmed
    /// once its shift summed [`LEAN_SHIFT`] of the way to an anomaly or
    /// once it moved the level by the smallest relative change that
    /// matters (`traits.min_ratio`). A lean older than [`ADAPT_AFTER`] is
    /// forgotten.
    fn lean_by(
        &mut self,
        run: Timestamp,
        sum: f64,
        by: f32,
        traits: &SignalTraits,
        sensitivity: &Sensitivity,
    ) {
        if by == 0.0 {
            return;
        }
        let confirmed = sum.abs() >= LEAN_SHIFT * SHIFT_PER_Z * sensitivity.z_threshold;
        let fresh = Lean {
            from: run,
            moved: by,
            confirmed,
        };
        self.lean = match self.lean.filter(|lean| run.since(lean.from) < ADAPT_AFTER) {
            None => Some(fresh),
            Some(lean) if lean.from != run && lean.moved * by > 0.0 && !lean.confirmed => {
                Some(fresh)
            }
            Some(lean) => {
                let moved = lean.moved + by;
                let matters = f64::from(moved.abs()) >= traits.min_ratio.ln_1p();
                if moved * lean.moved > 0.0 {
                    Some(Lean {
                        moved,
                        confirmed: lean.confirmed || (confirmed && lean.from == run) || matters,
                        ..lean
                    })
                } else if moved == 0.0 {
                    None
                } else {
                    Some(Lean { moved, ..fresh })
                }
            }
        };
    }

    /// Takes back what a traffic shift being weighed taught the day's level
    /// when the anomaly starting at `t` (the way `direction`, with the
    /// point of value `value`, transformed `y`) is that traffic coming
    /// back: it goes against a confirmed [`Lean`], and the point would be
    /// normal against the level from before it. A drop (or a surge) whose
    /// points matter too little to be reported at once is learned, slowly,
    /// as a quieter (or busier) day; without this, the traffic back to
    /// usual would be an anomaly against the level that followed it, one
    /// that no point teaches, open for hours until it is taken for the new
    /// normal. A lean older than [`ADAPT_AFTER`] is the new normal already,
    /// and a rise beyond the old level is an anomaly as any other. Returns
    /// whether the anomaly was the traffic coming back: the level is then
    /// the old one again, and the anomaly, its abnormal points and the
    /// shift being weighed are forgotten.
    fn come_back(
        &mut self,
        t: Timestamp,
        value: f64,
        y: f64,
        direction: Direction,
        traits: &SignalTraits,
        sensitivity: &Sensitivity,
    ) -> bool {
        let Some(lean) = self
            .lean
            .filter(|lean| lean.confirmed && t.since(lean.from) < ADAPT_AFTER)
        else {
            return false;
        };
        let back = if lean.moved < 0.0 {
            Direction::Increase
        } else {
            Direction::Decrease
        };
        if direction != back {
            return false;
        }
        let Some((low, high, sd)) = self.expectation(t) else {
            return false;
        };
        let old = f64::from(lean.moved);
        let abnormal = Self::beyond_band(value, y, traits.kind, (low - old, high - old, sd))
            .is_some_and(|(d, expected, score)| {
                d == back
                    && score.abs() >= sensitivity.z_threshold
                    && relative_change(value, expected, d) >= traits.min_ratio
            });
        if abnormal {
            return false;
        }
        self.level -= lean.moved;
        self.lean = None;
        self.episode = None;
        self.up_bits = 0;
        self.down_bits = 0;
        self.drift.clear();
        true
    }

    /// Makes the period starting at `t` the last judged one. Periods
    /// skipped since the previous one count as normal for the persistence
    /// bits (nothing abnormal was seen in them), and evidence only
    /// accumulates over consecutive periods.
    fn step_to(&mut self, t: Timestamp, period: i64) {
        let period = period.max(1);
        let gap = self
            .last_judged
            .map_or(1, |last| (t.since(last) / period).max(1));
        self.last_judged = Some(t);
        self.next = Some(t.add(period));
        self.shift_bits(gap);
        if gap > 2 {
            self.recent.clear();
        }
    }

    /// Keeps a judged point's evidence, the last [`RECENT`] at most.
    fn push_evidence(&mut self, evidence: f32) {
        if self.recent.len() >= RECENT {
            self.recent.remove(0);
        }
        self.recent.push(evidence);
    }

    /// Keeps a point judged beyond its band, the last [`RECENT`] at most.
    fn push_beyond(&mut self, point: Beyond) {
        if self.beyond.len() >= RECENT {
            self.beyond.remove(0);
        }
        self.beyond.push(point);
    }

    fn shift_bits(&mut self, by: i64) {
        let by = by.clamp(0, 8) as u32;
        self.up_bits = self.up_bits.checked_shl(by).unwrap_or(0);
        self.down_bits = self.down_bits.checked_shl(by).unwrap_or(0);
    }

    fn slot_index(t: Timestamp) -> usize {
        (t.second_of_day() / SLOT_SECS) as usize % SLOTS
    }

    /// The expected transformed value at `t` as a band `(low, high)` with
    /// the model's spread, if known.
    ///
    /// Daily patterns drift by a few minutes from one day to the next (a
    /// batch that starts a minute late, ends two minutes early), so the band
    /// spans the slot and its two neighbours: a value is only abnormal if it
    /// would be abnormal at any of them.
    fn expectation(&self, t: Timestamp) -> Option<(f64, f64, f64)> {
        let first = self.first?;
        if t.since(first) < WARMUP {
            return None;
        }
        self.expectation_raw(t)
    }

    /// [`Baseline::expectation`] whatever the history.
    fn expectation_raw(&self, t: Timestamp) -> Option<(f64, f64, f64)> {
        let idx = Self::slot_index(t);
        if self.slots[idx].n == 0 {
            return None;
        }
        let mut low = f32::INFINITY;
        let mut high = f32::NEG_INFINITY;
        // The largest shrunk variance of the three slots: its root is the
        // largest shrunk spread (the root is monotonic), taken once.
        let mut var = 0.0f32;
        for i in [idx + SLOTS - 1, idx, idx + 1] {
            let slot = self.slots[i % SLOTS];
            if slot.n == 0 {
                continue;
            }
            low = low.min(slot.loc);
            high = high.max(slot.loc);
            let n = f32::from(slot.n);
            let shrunk =
                (n * slot.dev * slot.dev + SHRINK * self.noise * self.noise) / (n + SHRINK);
            var = var.max(shrunk);
        }
        let dev = var.sqrt();
        // Mean absolute deviation to standard deviation for a normal law.
        let model_sd = f64::from(dev) * 1.25;
        Some((
            f64::from(low + self.level),
            f64::from(high + self.level),
            model_sd,
        ))
    }

    /// Judges one serverless point: its verdict, its evidence (how many
    /// spreads beyond the band, signed, capped at [`EVIDENCE_CAP`], zero
    /// when inside the band, in a harmless direction or too small to
    /// matter), and the length of a run of recent points whose accumulated
    /// evidence is abnormal even though no single one is.
    /// `y` is the value transformed, `band` the expectation at `t`.
    fn judge(
        &self,
        t: Timestamp,
        value: f64,
        y: f64,
        band: Option<(f64, f64, f64)>,
        traits: &SignalTraits,
        sensitivity: &Sensitivity,
    ) -> (Verdict, f32, Option<u32>) {
        let Some((low, high, model_sd)) = band else {
            return (Verdict::InsufficientHistory, 0.0, None);
        };
        // Upward, a day quieter than the profile (a negative level) does
        // not lower the band of a metric watched for increases: a value the
        // profile finds usual at this time of day (a nightly batch's reads
        // on a weekend) is no increase. Traffic, watched both ways, keeps
        // the day's level: a surge on a quiet day is an incident.
        let high = if traits.watch == Watch::Increase {
            high - f64::from(self.level.min(0.0))
        } else {
            high
        };
        let Some((direction, expected, score)) =
            Self::beyond_band(value, y, traits.kind, (low, high, model_sd))
        else {
            let own = f64::from(self.slots[Self::slot_index(t)].loc + self.level);
            return (
                Verdict::Normal {
                    expected: inverse(own, traits.kind),
                },
                0.0,
                None,
            );
        };
        let change = (value - expected).abs();
        let matters = traits.watch.is_bad(direction)
            && change >= traits.smallest_change(sensitivity)
            && relative_change(value, expected, direction) >= traits.min_ratio;
        let evidence = if matters {
            score.clamp(-EVIDENCE_CAP, EVIDENCE_CAP) as f32
        } else {
            0.0
        };
        let abnormal = Verdict::Abnormal {
            direction,
            expected,
            score,
        };
        if matters && score.abs() >= sensitivity.z_threshold {
            return (abnormal, evidence, None);
        }
        // A run of points each a little beyond the band: their evidence
        // adds up (the mean of k standardized residuals has a spread of
        // 1/sqrt(k)). Capping each point's share keeps one blip from
        // carrying its neighbours.
        if evidence != 0.0 {
            for k in SUSTAINED_RUNS {
                let k = k as usize;
                if self.recent.len() + 1 < k {
                    continue;
                }
                let run = self.recent[self.recent.len() + 1 - k..]
                    .iter()
                    .chain(std::iter::once(&evidence));
                let (mut sum, mut agree) = (0.0f64, 0usize);
                for e in run {
                    sum += f64::from(*e);
                    if e.signum() == evidence.signum() && *e != 0.0 {
                        agree += 1;
                    }
                }
                if agree >= k && (sum / (k as f64).sqrt()).abs() >= sensitivity.z_threshold {
                    let score = sum / (k as f64).sqrt();
                    return (
                        Verdict::Abnormal {
                            direction,
                            expected,
                            score,
                        },
                        evidence,
                        Some(k as u32),
                    );
                }
            }
        }
        (Verdict::Normal { expected }, evidence, None)
    }

    /// How far a point is beyond the band `(low, high, model_sd)` of its
    /// time: its direction, the band edge in the metric's units and the
    /// score in spreads (for counts, the smaller of the Poisson and the
    /// model score). `None` inside the band.
    fn beyond_band(
        value: f64,
        y: f64,
        kind: ValueKind,
        (low, high, model_sd): (f64, f64, f64),
    ) -> Option<(Direction, f64, f64)> {
        let (direction, edge) = Self::edge_passed(y, (low, high))?;
        let expected = inverse(edge, kind);
        let score = match kind {
            ValueKind::Count => {
                // Two tests, both must fail: the count is implausible for a
                // Poisson process at the expected rate, and the shift is
                // beyond the day-to-day variability of the profile (its
                // spread less the Poisson part, which the first test has).
                let poisson_var = expected / ((expected + 1.0) * (expected + 1.0));
                let model = (model_sd * model_sd - poisson_var)
                    .max(MODEL_FLOOR * MODEL_FLOOR)
                    .sqrt();
                let z_model = (y - edge) / model;
                let z_poisson = poisson_z(value, expected);
                if z_model.abs() < z_poisson.abs() {
                    z_model
                } else {
                    z_poisson
                }
            }
            ValueKind::Latency | ValueKind::Gauge | ValueKind::Generic => {
                (y - edge) / (model_sd * model_sd + MODEL_FLOOR * MODEL_FLOOR).sqrt()
            }
        };
        Some((direction, expected, score))
    }

    /// Which edge of the band `(low, high)` the transformed value `y` is
    /// beyond, if any: the direction and the edge.
    fn edge_passed(y: f64, (low, high): (f64, f64)) -> Option<(Direction, f64)> {
        if y > high {
            Some((Direction::Increase, high))
        } else if y < low {
            Some((Direction::Decrease, low))
        } else {
            None
        }
    }

    fn track(
        &mut self,
        t: Timestamp,
        value: f64,
        verdict: &Verdict,
        traits: &SignalTraits,
        sensitivity: &Sensitivity,
        sustained: Option<u32>,
    ) -> EpisodeChange {
        let period = traits.period.max(1);
        if let Verdict::Abnormal {
            direction,
            expected,
            score,
        } = *verdict
        {
            match direction {
                Direction::Increase => self.up_bits |= 1,
                Direction::Decrease => self.down_bits |= 1,
            }
            if let Some(ep) = self.episode.as_mut().filter(|ep| ep.direction == direction) {
                ep.take(t, value, expected, score);
                // A very long anomaly is the new normal: let the level follow.
                if t.since(ep.start) >= ADAPT_AFTER {
                    let ended = *ep;
                    self.episode = None;
                    self.lean = None;
                    self.up_bits = 0;
                    self.down_bits = 0;
                    if self.drift.sum != 0.0 {
                        // A drift or a traffic shift is a lasting rate:
                        // take it whole, or the same change would be
                        // summed and reported again.
                        let step = transform(ended.observed(), traits.kind)
                            - transform(ended.expected(), traits.kind);
                        self.level += if traits.drift { step.max(0.0) } else { step } as f32;
                        self.drift.clear();
                    } else {
                        self.level += LEVEL_RATE
                            * 10.0
                            * (transform(value, traits.kind) - transform(expected, traits.kind))
                                as f32;
                    }
                    return EpisodeChange::Ended(ended, t.add(period));
                }
                return EpisodeChange::Extended(*ep);
            }
            let bits = match direction {
                Direction::Increase => self.up_bits,
                Direction::Decrease => self.down_bits,
            };
            let run = (bits & 0b11) == 0b11;
            let window_mask = (1u16 << OPEN_WINDOW) - 1;
            let recent = (u16::from(bits) & window_mask).count_ones();
            // Counts are Poisson at worst: twenty errors where 0.3 are
            // expected, or traffic five times its usual level, is not noise
            // even for one minute. Latencies and gauges spike alone too
            // often for that (cold starts, a slow request), so they wait.
            let overwhelming = traits.kind == ValueKind::Count
                && score.abs() >= INSTANT_FACTOR * sensitivity.z_threshold
                && (value - expected).abs() >= INSTANT_CHANGE * traits.smallest_change(sensitivity);
            if self.episode.is_none()
                && (run || recent >= OPEN_OF_WINDOW || overwhelming || sustained.is_some())
            {
                // The anomaly starts at the oldest abnormal point of the
                // evidence that opened it.
                let span = if run {
                    OPEN_RUN
                } else if recent >= OPEN_OF_WINDOW {
                    OPEN_WINDOW
                } else {
                    1
                };
                let mut oldest = 0;
                for i in 0..span {
                    if bits & (1 << i) != 0 {
                        oldest = i;
                    }
                }
                if let Some(k) = sustained {
                    oldest = oldest.max(k - 1);
                }
                let start = t.add(-(i64::from(oldest)) * period);
                let mut ep = Episode::begin(direction, start, t, value, expected, score);
                // The earlier points of the evidence are the anomaly's as
                // much as this one: three minutes each a third of the
                // traffic short lost three minutes' requests, not one.
                for b in &self.beyond {
                    if b.at >= start && b.at < t && b.direction == direction {
                        ep.take_earlier(f64::from(b.value), f64::from(b.expected));
                    }
                }
                self.episode = Some(ep);
                return EpisodeChange::Started(ep);
            }
        }
        if let Some(ep) = self.episode
            && t.since(ep.last_abnormal) >= (CLOSE_AFTER * period).min(CLOSE_AFTER_SECS)
        {
            // A drift of rare failures that an anomaly reported starts
            // afresh with it: its sum stays near the threshold for a while
            // after the failures stop, and its excess holds the whole
            // incident's, so a minute or two of the usual errors would
            // start the same anomaly again, from the incident's first
            // point. (A traffic shift's sum is what tells its return.)
            self.episode = None;
            if traits.drift {
                self.drift.clear();
            }
            return EpisodeChange::Ended(ep, ep.last_abnormal.add(period));
        }
        EpisodeChange::None
    }

    /// Ends the ongoing anomaly if no sample came for `quiet` seconds (a
    /// latency series of a function nobody calls any more). A metric whose
    /// points still come ends its anomaly itself, after [`CLOSE_AFTER`]
    /// normal periods (see [`CLOSE_AFTER_SECS`]): counted from its last
    /// abnormal point instead, a
    /// five-minute anomaly ended after two normal points, and the next
    /// abnormal one started it again, an insight closing and opening
    /// around an incident still going on.
    pub fn expire(
        &mut self,
        now: Timestamp,
        quiet: i64,
        period: i64,
    ) -> Option<(Episode, Timestamp)> {
        let ep = self.episode?;
        let last = self
            .last_judged
            .map_or(ep.last_abnormal, |t| t.max(ep.last_abnormal));
        if now.since(last) >= quiet {
            self.episode = None;
            return Some((ep, ep.last_abnormal.add(period)));
        }
        None
    }

    /// Teaches a normal point to the serverless baseline, Holt-Winters
    /// style in the transformed space: the level first takes a share of the
    /// surprise (today runs 30% above the profile: a busy Monday after a
    /// quiet Sunday), then the slot learns what the level leaves. The spread
    /// is the one-step prediction error, so a day-type offset that the level
    /// follows does not widen it. While the slot is young, only the slot
    /// learns. Once it is established, a residual beyond `limit` spreads
    /// teaches as much as one at the limit, and, unless `spreads`, the
    /// spreads are left as they are.
    /// `scale` is how much jumpier than usual the point may be (see
    /// [`Baseline::observe_latency`]): it widens the limit, and the
    /// spreads learn the residual scaled back to the usual traffic.
    /// `period` is the seconds between two points: a slot is young for
    /// the same days of history whatever its points' period.
    fn learn(&mut self, t: Timestamp, y: f32, limit: f32, spreads: bool, scale: f32, period: i64) {
        if self.first.is_none() {
            self.first = Some(t);
        }
        self.learned = self.learned.saturating_add(1);
        let idx = Self::slot_index(t);
        let several = slot_points_a_day(period) > 1;
        let spread_of = |slot: &Slot, noise: f32| slot.dev.max(noise).max(0.02) * 1.25 * scale;
        let before = self.slots[(idx + SLOTS - 1) % SLOTS];
        let noise = self.noise;
        let slot = &mut self.slots[idx];
        if slot.n == 0 {
            // A slot's first point is its profile until the next one comes.
            // One far from the slot just before it, whose points all came,
            // may be a one-off (a one-minute blip ×7 in the first day of
            // history) or the start of a new shape (a batch): learned whole
            // a one-off set the slot's place, and the plain mean of its
            // young spread took it for days, blinding the slot and its
            // neighbours to a duration ×1.7 a day later. The slot's next
            // point tells which: the point is kept, in doubt, until then.
            // A slot of one point a day has no next point that day: its
            // first is taken as it is.
            let full = before.n >= u16::try_from(slot_points_a_day(period)).unwrap_or(u16::MAX);
            let doubt = several
                && full
                && (y - self.level - before.loc).abs()
                    > FIRST_POINT_LIMIT * spread_of(&before, noise);
            slot.loc = y - self.level;
            slot.dev = if doubt { -noise } else { noise };
            slot.n = 1;
            return;
        }
        if slot.dev < 0.0 {
            // The slot's first point was in doubt: it was a one-off if this
            // one is nearer the slot before, and the slot starts afresh.
            let y = y - self.level;
            slot.dev = -slot.dev;
            if (y - before.loc).abs() < (y - slot.loc).abs() {
                slot.loc = y;
                return;
            }
        }
        let residual = y - (slot.loc + self.level);
        let young = slot.n < young_points(period);
        // Robust steps (Huber): once the slot is established, a residual
        // beyond the limit moves the level and the slot only as much as
        // one at that limit would, so that a point just short of abnormal
        // (an incident still building up) barely teaches anything. A young
        // slot has no spread to trust yet: one of several points a day is
        // held only at a wide [`YOUNG_LIMIT`], which a one-off far out
        // meets while a new shape widens the spread at once and is learned
        // by its next points; one of a point a day learns plainly.
        let spread = spread_of(slot, noise);
        let clipped = if young && several {
            residual.clamp(-YOUNG_LIMIT * spread, YOUNG_LIMIT * spread)
        } else if young {
            residual
        } else {
            residual.clamp(-limit * spread, limit * spread)
        };
        let rate = (1.0 / f32::from(slot.n.saturating_add(1))).max(SLOT_RATE);
        // The share of the residual the day's level takes. A young slot
        // learns the point whole: the level is the day's offset from the
        // profile, which a young slot does not know yet, and its surprises
        // would otherwise steer the level with nothing to pull it back (a
        // five-minute schedule's one busy minute in five makes it slide
        // all day). But a slot of one point a day is young for a whole
        // day, with a single point to learn from: nothing in it tells the
        // day's offset from its own shape. Learned whole by the slots, a
        // quieter second day of history (a Saturday, a level taken wrongly
        // at its weekend boundary) became the profile of every day after
        // it, and its level stayed where that day began; the level takes
        // [`YOUNG_LEVEL_SHARE`] of its usual share, and the slot the rest.
        let share = if !young {
            1.0
        } else if !several {
            YOUNG_LEVEL_SHARE
        } else {
            0.0
        };
        let level_rate = per_point(SEASONAL_LEVEL_RATE, period);
        // The day's level may move as far in an hour whatever the period:
        // its limit is in spreads of a one-minute point, the spread of a
        // sum of `k` minutes being `sqrt(k)` times smaller. Limited in the
        // point's own spreads, a five-minute metric's level lagged hours
        // behind a weekend's own shape.
        let wide = limit * spread * (minutes_per_point(period) as f32).sqrt();
        let by = level_rate * share * residual.clamp(-wide, wide);
        self.level += by;
        slot.loc += if young {
            rate * (clipped - by)
        } else {
            rate * clipped * (1.0 - level_rate)
        };
        slot.n = slot.n.saturating_add(1).min(SLOT_N_MAX);
        if !spreads && !young {
            return;
        }
        let abs = residual.abs() / scale;
        robust_spread(&mut slot.dev, abs, rate, young, SPREAD_STEP);
        let residuals = self.residuals();
        robust_spread(
            &mut self.noise,
            abs,
            1.0 / residuals as f32,
            residuals < NOISE_YOUNG,
            SPREAD_STEP / 2.0,
        );
    }

    /// The residuals the global spread has learned, this point's included:
    /// the points learned less each slot's first, which has none. Counted
    /// among them, the day of first points a five-minute metric's history
    /// begins with made its first residuals weigh a three-hundredth each,
    /// and the spread stayed near zero: the band of a slot that had a
    /// point or two was then a few percent wide, and a function called
    /// twice in five minutes was slow every hour.
    fn residuals(&self) -> u32 {
        let firsts = if self.learned < NOISE_YOUNG + SLOTS as u32 {
            self.slots.iter().filter(|s| s.n > 0).count() as u32
        } else {
            SLOTS as u32
        };
        self.learned.saturating_sub(firsts).max(1)
    }

    /// Teaches the daily profile and the short-term level the transformed
    /// value `y` of the point at `t`.
    fn learn_profile(&mut self, t: Timestamp, y: f32) {
        if self.first.is_none() {
            self.first = Some(t);
        }
        self.learned = self.learned.saturating_add(1);
        let idx = Self::slot_index(t);
        let warm = self.slots[idx].n > 0;
        let slot = &mut self.slots[idx];
        if !warm {
            slot.loc = y - self.level;
            slot.dev = self.noise;
            slot.n = 1;
            return;
        }
        let residual = y - (slot.loc + self.level);
        // Robust step: once the slot is established, a residual far beyond
        // the spread moves it only as much as a residual at the limit would.
        // A young slot learns plainly: it has no spread to trust yet.
        let limit = if slot.n < YOUNG {
            f32::INFINITY
        } else {
            3.0 * (slot.dev.max(self.noise)).max(0.1)
        };
        let clipped = residual.clamp(-limit, limit);
        let rate = (1.0 / f32::from(slot.n.saturating_add(1))).max(SLOT_RATE);
        slot.loc += rate * clipped * 0.5;
        self.level += LEVEL_RATE * clipped * 0.5;
        slot.dev += rate * (clipped.abs() - slot.dev);
        slot.n = slot.n.saturating_add(1).min(SLOT_N_MAX);
        self.noise += NOISE_RATE.max(1.0 / self.learned as f32) * (clipped.abs() - self.noise);
        // Keep the split between slot and level honest: the level is the
        // short-term deviation from the profile and decays towards zero.
        self.level *= 1.0 - LEVEL_RATE / 4.0;
    }
}

/// Tracks the spread of residuals as a mean absolute deviation that
/// outliers cannot inflate: while young, a plain running mean; then a
/// stochastic median of |residual| (each residual moves it by `step` of
/// itself, up or down, whatever its size), scaled to the mean absolute
/// deviation a normal law with that median would have. A cold start ten
/// times slower than usual moves it as little as one twice as slow.
fn robust_spread(dev: &mut f32, abs: f32, rate: f32, young: bool, step: f32) {
    /// Mean over median of |x| for a normal law: 0.798 / 0.674.
    const MEAN_PER_MEDIAN: f32 = 1.184;
    if young || *dev <= 0.0 {
        *dev += rate.min(1.0) * (abs - *dev);
        return;
    }
    let median = *dev / MEAN_PER_MEDIAN;
    let towards = if abs > median { 1.0 } else { -1.0 };
    *dev = (median * (1.0 + towards * step)).max(1e-4) * MEAN_PER_MEDIAN;
}

/// Stored baseline bytes that cannot be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes end too early.
    #[error("baseline state is truncated at byte {0}")]
    Truncated(usize),
    /// Written by an unknown version of the encoding.
    #[error("baseline state has unknown format version {0}")]
    Version(u8),
    /// A field holds an impossible value.
    #[error("baseline state is invalid: {0}")]
    Invalid(&'static str),
}

/// Bytes of the generic-mode fields of version 2 at the end of the encoding.
#[cfg(test)]
const GENERIC_BYTES: usize = 10 * 4 + 2 * 8;

/// Bytes that version 3 adds at the end of the encoding when there is no
/// prior and no excursion stamp (a serverless baseline).
#[cfg(test)]
const V3_EMPTY_BYTES: usize = 5 * 4 + 1 + 2;

/// Version of [`Baseline::encode`]'s layout. Version 1 had no generic-mode
/// fields; version 2 had no normal range, no burst statistics, no memory
/// of the predictions before an anomaly and no memory of the times of day
/// of recent excursions. Both still
/// decode: missing fields take their defaults, except the normal range,
/// which starts at the flat level (a version 1 or 2 baseline judges as it
/// did until the range has learned).
/// Version 4 adds the serverless recent evidence (none before).
/// Version 5 stores a slot's count in one byte (it saturates at
/// [`SLOT_N_MAX`]): 288 bytes less, which keeps a stored baseline within
/// three DynamoDB write units.
/// Version 6 adds the weekend boundary the metric last stepped at.
/// Version 7 adds the drift of a rare-event count (none before).
/// Version 8 adds the level from before the last weekend step (zero
/// before).
/// Version 9 adds what a traffic's leaning points taught the level (none
/// before).
/// Version 10 adds the weekend boundaries the metric last stepped at, with
/// how far (none before).
/// Version 11 adds the last points judged beyond the band (none before).
const ENCODING_VERSION: u8 = 11;

/// Most points a slot counts: its learning rate and its weight against the
/// global spread have long stopped changing by then.
pub const SLOT_N_MAX: u16 = u8::MAX as u16;

impl Baseline {
    /// The baseline as compact bytes (little-endian, versioned): about 3 KB
    /// for a serverless baseline and at most about 3.7 KB for a generic one
    /// (with an episode, a prior and the daily excursion stamps), whatever
    /// the history, which is what bounds state per metric.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_as(ENCODING_VERSION)
    }

    /// [`Baseline::encode`] in the layout of `version` 4 to 11 (older
    /// layouts are version 4 truncated).
    fn encode_as(&self, version: u8) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.slots.len() * 9);
        out.push(version);
        out.extend_from_slice(&self.level.to_le_bytes());
        out.extend_from_slice(&self.noise.to_le_bytes());
        out.extend_from_slice(&self.learned.to_le_bytes());
        for t in [self.first, self.last_judged, self.next] {
            out.extend_from_slice(&t.map_or(i64::MIN, Timestamp::secs).to_le_bytes());
        }
        out.push(self.up_bits);
        out.push(self.down_bits);
        match &self.episode {
            None => out.push(0),
            Some(ep) => {
                out.push(match ep.direction {
                    Direction::Increase => 1,
                    Direction::Decrease => 2,
                });
                out.extend_from_slice(&ep.start.secs().to_le_bytes());
                out.extend_from_slice(&ep.last_abnormal.secs().to_le_bytes());
                out.extend_from_slice(&ep.points.to_le_bytes());
                for v in [ep.observed_sum, ep.expected_sum, ep.peak, ep.peak_score] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        out.extend_from_slice(&(self.slots.len() as u16).to_le_bytes());
        for slot in &self.slots {
            out.extend_from_slice(&slot.loc.to_le_bytes());
            out.extend_from_slice(&slot.dev.to_le_bytes());
            if version >= 5 {
                out.push(u8::try_from(slot.n.min(SLOT_N_MAX)).unwrap_or(u8::MAX));
            } else {
                out.extend_from_slice(&slot.n.to_le_bytes());
            }
        }
        let g = &self.generic;
        for v in [
            g.interval,
            g.flat,
            g.flat_dev,
            g.flat_err,
            g.season_err,
            g.magnitude,
            g.episode_level,
            g.surprise,
            g.excursion,
            g.excursions,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for t in [g.quiet_until, g.excursion_at] {
            out.extend_from_slice(&t.map_or(i64::MIN, Timestamp::secs).to_le_bytes());
        }
        for v in [
            g.range_low,
            g.range_high,
            g.burst,
            g.burst_mean,
            g.burst_var,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        match &g.prior {
            None => out.push(0),
            Some(p) => {
                out.push(if p.settled { 2 } else { 1 });
                for v in [p.flat, p.flat_dev, p.flat_err, p.season_err, p.level] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        out.extend_from_slice(&(self.recur.len() as u16).to_le_bytes());
        out.extend_from_slice(&self.recur);
        out.push(self.recent.len() as u8);
        for e in &self.recent {
            out.extend_from_slice(&e.to_le_bytes());
        }
        if version >= 6 {
            out.extend_from_slice(
                &self
                    .relevel_from
                    .map_or(i64::MIN, Timestamp::secs)
                    .to_le_bytes(),
            );
        }
        if version >= 7 {
            let d = &self.drift;
            for v in [d.sum, d.observed, d.expected, d.seen, d.exposed] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&d.from.map_or(i64::MIN, Timestamp::secs).to_le_bytes());
        }
        if version >= 8 {
            out.extend_from_slice(&self.relevel_base.to_le_bytes());
        }
        if version >= 9 {
            match &self.lean {
                None => out.push(0),
                Some(lean) => {
                    out.push(if lean.confirmed { 2 } else { 1 });
                    out.extend_from_slice(&lean.from.secs().to_le_bytes());
                    out.extend_from_slice(&lean.moved.to_le_bytes());
                }
            }
        }
        if version >= 10 {
            for step in self.week_steps {
                match step {
                    None => out.push(0),
                    Some(step) => {
                        out.push(1);
                        out.extend_from_slice(&step.at.secs().to_le_bytes());
                        out.extend_from_slice(&step.moved.to_le_bytes());
                    }
                }
            }
        }
        if version >= 11 {
            out.push(self.beyond.len() as u8);
            for b in &self.beyond {
                out.extend_from_slice(&b.at.secs().to_le_bytes());
                out.extend_from_slice(&b.value.to_le_bytes());
                out.extend_from_slice(&b.expected.to_le_bytes());
                out.push(match b.direction {
                    Direction::Increase => 0,
                    Direction::Decrease => 1,
                });
            }
        }
        out
    }

    /// A baseline from [`Baseline::encode`]'s bytes.
    ///
    /// # Errors
    ///
    /// [`DecodeError`] when the bytes are truncated, of an unknown version,
    /// or describe an impossible state.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader { bytes, at: 0 };
        let version = r.u8()?;
        if !(1..=ENCODING_VERSION).contains(&version) {
            return Err(DecodeError::Version(version));
        }
        let level = r.f32()?;
        let noise = r.f32()?;
        let learned = r.u32()?;
        let mut times = [None; 3];
        for t in &mut times {
            let secs = r.i64()?;
            *t = (secs != i64::MIN).then(|| Timestamp::from_secs(secs));
        }
        let up_bits = r.u8()?;
        let down_bits = r.u8()?;
        let episode = match r.u8()? {
            0 => None,
            d @ (1 | 2) => Some(Episode {
                direction: if d == 1 {
                    Direction::Increase
                } else {
                    Direction::Decrease
                },
                start: Timestamp::from_secs(r.i64()?),
                last_abnormal: Timestamp::from_secs(r.i64()?),
                points: r.u32()?,
                observed_sum: r.f64()?,
                expected_sum: r.f64()?,
                peak: r.f64()?,
                peak_score: r.f64()?,
            }),
            _ => return Err(DecodeError::Invalid("unknown episode direction")),
        };
        let count = usize::from(r.u16()?);
        if count != SLOTS {
            return Err(DecodeError::Invalid("wrong number of slots"));
        }
        let mut slots = Vec::with_capacity(count);
        for _ in 0..count {
            slots.push(Slot {
                loc: r.f32()?,
                dev: r.f32()?,
                n: if version >= 5 {
                    u16::from(r.u8()?)
                } else {
                    r.u16()?.min(SLOT_N_MAX)
                },
            });
        }
        let mut generic = Generic::default();
        if version >= 2 {
            for v in [
                &mut generic.interval,
                &mut generic.flat,
                &mut generic.flat_dev,
                &mut generic.flat_err,
                &mut generic.season_err,
                &mut generic.magnitude,
                &mut generic.episode_level,
                &mut generic.surprise,
                &mut generic.excursion,
                &mut generic.excursions,
            ] {
                *v = r.f32()?;
                if !v.is_finite() {
                    return Err(DecodeError::Invalid("a learned value is not finite"));
                }
            }
            for t in [&mut generic.quiet_until, &mut generic.excursion_at] {
                let secs = r.i64()?;
                *t = (secs != i64::MIN).then(|| Timestamp::from_secs(secs));
            }
        }
        let mut recur = Vec::new();
        if version >= 3 {
            generic.range_low = r.finite_f32()?;
            generic.range_high = r.finite_f32()?;
            generic.burst = r.finite_f32()?;
            generic.burst_mean = r.finite_f32()?;
            generic.burst_var = r.finite_f32()?;
            generic.prior = match r.u8()? {
                0 => None,
                flag @ (1 | 2) => Some(Prior {
                    flat: r.finite_f32()?,
                    flat_dev: r.finite_f32()?,
                    flat_err: r.finite_f32()?,
                    season_err: r.finite_f32()?,
                    level: r.finite_f32()?,
                    settled: flag == 2,
                }),
                _ => return Err(DecodeError::Invalid("unknown prior flag")),
            };
            let len = usize::from(r.u16()?);
            if len != 0 && len != 2 * SLOTS {
                return Err(DecodeError::Invalid(
                    "wrong number of daily excursion stamps",
                ));
            }
            for _ in 0..len {
                recur.push(r.u8()?);
            }
        } else {
            generic.range_low = generic.flat;
            generic.range_high = generic.flat;
        }
        let mut recent = Vec::new();
        if version >= 4 {
            let n = usize::from(r.u8()?);
            if n > RECENT {
                return Err(DecodeError::Invalid("too much recent evidence"));
            }
            for _ in 0..n {
                let e = r.f32()?;
                if !e.is_finite() {
                    return Err(DecodeError::Invalid("a learned value is not finite"));
                }
                recent.push(e);
            }
        }
        let mut relevel_from = None;
        if version >= 6 {
            let secs = r.i64()?;
            relevel_from = (secs != i64::MIN).then(|| Timestamp::from_secs(secs));
        }
        let mut drift = Drift::default();
        if version >= 7 {
            drift.sum = r.finite_f32()?;
            drift.observed = r.finite_f32()?;
            drift.expected = r.finite_f32()?;
            drift.seen = r.finite_f32()?;
            drift.exposed = r.finite_f32()?;
            let secs = r.i64()?;
            drift.from = (secs != i64::MIN).then(|| Timestamp::from_secs(secs));
            // A negative sum is a traffic's fall; a share is never negative.
            if drift.seen < 0.0 || drift.exposed < 0.0 {
                return Err(DecodeError::Invalid("a negative drift"));
            }
        }
        let relevel_base = if version >= 8 { r.finite_f32()? } else { 0.0 };
        let lean = match if version >= 9 { r.u8()? } else { 0 } {
            0 => None,
            flag @ (1 | 2) => {
                let from = Timestamp::from_secs(r.i64()?);
                let moved = r.finite_f32()?;
                if moved == 0.0 {
                    return Err(DecodeError::Invalid("a lean that moved nothing"));
                }
                Some(Lean {
                    from,
                    moved,
                    confirmed: flag == 2,
                })
            }
            _ => return Err(DecodeError::Invalid("unknown lean flag")),
        };
        let mut week_steps = [None; WEEK_STEPS];
        if version >= 10 {
            for step in &mut week_steps {
                *step = match r.u8()? {
                    0 => None,
                    1 => Some(WeekStep {
                        at: Timestamp::from_secs(r.i64()?),
                        moved: r.finite_f32()?,
                    }),
                    _ => return Err(DecodeError::Invalid("unknown weekend step flag")),
                };
            }
        }
        let mut beyond = Vec::new();
        if version >= 11 {
            let n = usize::from(r.u8()?);
            if n > RECENT {
                return Err(DecodeError::Invalid("too many points beyond the band"));
            }
            for _ in 0..n {
                let at = Timestamp::from_secs(r.i64()?);
                let value = r.finite_f32()?;
                let expected = r.finite_f32()?;
                let direction = match r.u8()? {
                    0 => Direction::Increase,
                    1 => Direction::Decrease,
                    _ => return Err(DecodeError::Invalid("unknown direction beyond the band")),
                };
                beyond.push(Beyond {
                    at,
                    value,
                    expected,
                    direction,
                });
            }
        }
        if r.at != bytes.len() {
            return Err(DecodeError::Invalid("trailing bytes"));
        }
        if !(level.is_finite()
            && noise.is_finite()
            && slots.iter().all(|s| s.loc.is_finite() && s.dev.is_finite()))
        {
            return Err(DecodeError::Invalid("a learned value is not finite"));
        }
        Ok(Self {
            slots,
            level,
            noise,
            learned,
            first: times[0],
            up_bits,
            down_bits,
            episode,
            last_judged: times[1],
            next: times[2],
            generic,
            recur,
            recent,
            beyond,
            relevel_from,
            relevel_base,
            week_steps,
            drift,
            lean,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let end = self.at + N;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or(DecodeError::Truncated(self.at))?;
        self.at = end;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.take()?))
    }
    fn f32(&mut self) -> Result<f32, DecodeError> {
        Ok(f32::from_le_bytes(self.take()?))
    }
    fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_le_bytes(self.take()?))
    }
    fn finite_f32(&mut self) -> Result<f32, DecodeError> {
        let v = self.f32()?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(DecodeError::Invalid("a learned value is not finite"))
        }
    }
}

/// The log-likelihood ratio at which a drift is abnormal.
fn drift_threshold(sensitivity: &Sensitivity) -> f64 {
    DRIFT_PER_Z2 * sensitivity.z_threshold * sensitivity.z_threshold
}

/// The standardized mean evidence of a shift of `minutes` minutes, from
/// its sum `magnitude` (each minute's allowance taken back).
fn shift_score(magnitude: f64, minutes: f64) -> f64 {
    let n = minutes.max(f64::MIN_POSITIVE);
    (magnitude + SHIFT_ALLOWANCE * n) / n.sqrt()
}

/// What a point `score` spreads beyond the band, of `minutes` minutes,
/// adds to a shift's sum: as much as that many one-minute points would.
/// The score of a point summing `k` minutes is `sqrt(k)` times that of
/// each of its minutes, so it weighs `sqrt(k)` times its score, capped
/// at `k` minutes' [`EVIDENCE_CAP`]; each point's allowance is `k`
/// minutes' [`SHIFT_ALLOWANCE`]. A shift is then found as fast, and a
/// level a few percent off is let go as surely, at any period: weighed
/// per point, a five-minute sum's smaller noise made a weekend's morning
/// a little late an incident, and its cap made a lost half of the
/// traffic wait five points.
fn shift_evidence(score: f64, minutes: f64) -> f64 {
    let root = minutes.sqrt();
    root * score.clamp(-EVIDENCE_CAP * root, EVIDENCE_CAP * root)
}

/// Whether `excess`, the change summed over a stretch of points `period`
/// seconds apart (signed), lasted: it is at least [`DRIFT_EXCESS`]
/// minutes' worth of `smallest`, the smallest change that matters in one
/// point. The sums are kept in `f32`, whose rounding must not make ten
/// errors where a tenth of one a minute was usual fall a hair short of
/// the nine needed: the test allows a millionth of the need.
pub fn lasted(excess: f64, smallest: f64, period: i64) -> bool {
    let need = DRIFT_EXCESS * smallest / minutes_per_point(period);
    excess.abs() >= need * (1.0 - 1e-6)
}

/// The minutes a point `period` seconds apart sums (at least ten
/// seconds' worth, at most an hour's).
pub fn minutes_per_point(period: i64) -> f64 {
    (period as f64 / 60.0).clamp(1.0 / 6.0, 60.0)
}

/// How much `value` changed from `expected` in `direction`, relative to
/// the smaller of the two (0.5: half as much again, or a third less).
fn relative_change(value: f64, expected: f64, direction: Direction) -> f64 {
    match direction {
        Direction::Increase => value / expected.max(f64::MIN_POSITIVE) - 1.0,
        Direction::Decrease => expected / value.max(f64::MIN_POSITIVE) - 1.0,
    }
}

/// The factor on a latency's spread for the traffic behind its point (see
/// [`Baseline::observe_latency`]); 1 for any other kind or an unknown
/// load.
fn load_scale(load: Option<f64>, kind: ValueKind) -> f32 {
    match load {
        Some(load) if kind == ValueKind::Latency && load.is_finite() && load > 0.0 => {
            (1.0 / load.sqrt()).clamp(LOAD_SCALE.0, LOAD_SCALE.1) as f32
        }
        _ => 1.0,
    }
}

/// Points a slot of points `period` seconds apart learns plainly: as many
/// as a day and a half gives it (a slot of five minutes has one point a
/// day at a period of five minutes, five at one minute), and at least two.
/// A slot that learned as long at one point a minute would leave a
/// five-minute metric's level still for eight days: a quieter weekend
/// would be an incident.
fn young_points(period: i64) -> u16 {
    let per_day = slot_points_a_day(period).unsigned_abs();
    let points = (u64::from(YOUNG) * per_day).div_ceil(SLOT_SECS.unsigned_abs() / 60);
    u16::try_from(points.max(2)).unwrap_or(u16::MAX)
}

/// The points a slot of the daily profile gets a day, at points `period`
/// seconds apart: five at one a minute, one at one every five minutes or
/// less often.
fn slot_points_a_day(period: i64) -> i64 {
    (SLOT_SECS / period.max(1)).max(1)
}

/// The learning rate per point of points `period` seconds apart for a
/// rate `per_minute` per point a minute apart: the same memory in time.
fn per_point(per_minute: f32, period: i64) -> f32 {
    // `1 - (1 - r)` rounds away from `r` in f32: one-minute points keep
    // the rate exactly.
    if period == 60 {
        return per_minute;
    }
    let minutes = (period as f32 / 60.0).clamp(0.1, 10.0);
    1.0 - (1.0 - per_minute).powf(minutes)
}

/// A number of periods as a `u32`, saturating.
fn periods_u32(periods: i64) -> u32 {
    u32::try_from(periods.max(1)).unwrap_or(u32::MAX)
}

/// How surprising a count of `x` is for a Poisson process of mean `lambda`,
/// in standard-normal units (signed): the signed root of the deviance, with
/// a continuity correction. Accurate in the far tails where a normal
/// approximation of small counts fails (7 errors when 0.3 are expected is
/// a one-in-ten-million event, not a "3.4 sigma" one).
pub fn poisson_z(x: f64, lambda: f64) -> f64 {
    let lambda = lambda.max(1e-6);
    let x = if x > lambda {
        (x - 0.5).max(lambda)
    } else {
        (x + 0.5).min(lambda)
    };
    let term = if x > 0.0 { x * (x / lambda).ln() } else { 0.0 };
    let deviance = (2.0 * (term - (x - lambda))).max(0.0);
    deviance.sqrt().copysign(x - lambda)
}

/// The space in which baselines are learned.
pub fn transform(value: f64, kind: ValueKind) -> f64 {
    match kind {
        ValueKind::Generic => value,
        ValueKind::Count | ValueKind::Gauge => (value.max(0.0) + 1.0).ln(),
        ValueKind::Latency => (value.max(0.0) + 1e-3).ln(),
    }
}

/// The inverse of [`transform`].
pub fn inverse(y: f64, kind: ValueKind) -> f64 {
    match kind {
        ValueKind::Generic => y,
        ValueKind::Count | ValueKind::Gauge => (y.exp() - 1.0).max(0.0),
        ValueKind::Latency => (y.exp() - 1e-3).max(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::GRACE_SECS;

    const T0: i64 = 1_780_000_000 / 86_400 * 86_400;

    fn traits(kind: ValueKind, watch: Watch) -> SignalTraits {
        SignalTraits {
            kind,
            watch,
            min_change: 3.0,
            change_floor: 0.0,
            min_ratio: 0.3,
            period: 60,
            drift: false,
        }
    }

    /// A deterministic noisy daily curve: low at night, high in the afternoon.
    fn daily(minute: i64, peak: f64) -> f64 {
        let phase = (minute % 1440) as f64 / 1440.0 * std::f64::consts::TAU;
        let base = peak * (0.55 - 0.45 * phase.cos());
        let jitter = ((minute * 7919) % 13) as f64 / 13.0 - 0.5;
        (base * (1.0 + 0.08 * jitter)).round()
    }

    fn run(
        b: &mut Baseline,
        minutes: impl IntoIterator<Item = i64>,
        tr: &SignalTraits,
        f: impl Fn(i64) -> f64,
    ) -> Vec<(i64, EpisodeChange)> {
        run_at(b, minutes, tr, &Sensitivity::default(), f)
    }

    /// [`run`] at `sensitivity`.
    fn run_at(
        b: &mut Baseline,
        minutes: impl IntoIterator<Item = i64>,
        tr: &SignalTraits,
        sensitivity: &Sensitivity,
        f: impl Fn(i64) -> f64,
    ) -> Vec<(i64, EpisodeChange)> {
        let mut out = Vec::new();
        for m in minutes {
            let t = Timestamp::from_secs(T0 + m * 60);
            if let Some((_, change)) = b.observe(t, f(m), tr, sensitivity)
                && change != EpisodeChange::None
            {
                out.push((m, change));
            }
        }
        out
    }

    /// A Poisson draw of mean `lambda` from the uniform `u` (inverse CDF).
    fn poisson(lambda: f64, u: f64) -> f64 {
        let (mut k, mut p) = (0.0, (-lambda).exp());
        let mut cdf = p;
        while u > cdf && k < 1_000.0 {
            k += 1.0;
            p *= lambda / k;
            cdf += p;
        }
        k
    }

    /// A deterministic uniform draw in [0, 1) for minute `m` of stream `seed`.
    fn uniform(m: i64, seed: u64) -> f64 {
        let mut x = (m as u64).wrapping_mul(6_364_136_223_846_793_005) ^ seed;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The errors of a function: a rare-event count watched for drift.
    fn error_traits() -> SignalTraits {
        SignalTraits {
            drift: true,
            min_ratio: 1.0,
            ..traits(ValueKind::Count, Watch::Increase)
        }
    }

    /// Errors of a function: a share `rate` of its daily traffic fails, and
    /// the detector knows the traffic. Returns the changes from `minutes`.
    fn run_errors(
        b: &mut Baseline,
        minutes: std::ops::Range<i64>,
        traffic: impl Fn(i64) -> f64,
        rate: impl Fn(i64) -> f64,
    ) -> Vec<(i64, EpisodeChange)> {
        run_errors_seeded(b, minutes, traffic, rate, 7)
    }

    /// [`run_errors`] with the Poisson draws of stream `seed`.
    fn run_errors_seeded(
        b: &mut Baseline,
        minutes: std::ops::Range<i64>,
        traffic: impl Fn(i64) -> f64,
        rate: impl Fn(i64) -> f64,
        seed: u64,
    ) -> Vec<(i64, EpisodeChange)> {
        let tr = error_traits();
        let mut out = Vec::new();
        for m in minutes {
            let t = Timestamp::from_secs(T0 + m * 60);
            let n = traffic(m);
            let errors = poisson(n * rate(m), uniform(m, seed));
            if let Some((_, change)) = b.observe_exposed(
                t,
                errors,
                Some(Exposure::Measured(n)),
                &tr,
                &Sensitivity::default(),
            ) && change != EpisodeChange::None
            {
                out.push((m, change));
            }
        }
        out
    }

    #[test]
    fn the_usual_errors_after_an_outage_do_not_start_it_again() {
        // Most requests fail for 27 minutes at noon, then one in seven
        // hundred (half as many again as usual, too few to matter). The
        // drift's sum had stopped at its threshold and its excess held the
        // outage's thousands of errors: once the anomaly ended, a minute of
        // two errors started it again, from the outage's first minute, and
        // the insight about an outage over for twenty minutes opened a
        // second time.
        const ONSET: i64 = 2 * 1440 + 720;
        let rate = |m: i64| match m - ONSET {
            0..27 => 0.7,
            27.. => 0.0015,
            _ => 0.001,
        };
        for seed in 1..=6 {
            let mut b = Baseline::new();
            let traffic = |m| daily(m, 600.0);
            let changes = run_errors_seeded(&mut b, 0..ONSET + 240, traffic, rate, seed);
            let at = started(&changes);
            assert_eq!(at.len(), 1, "seed {seed}: {changes:?}");
            assert!((ONSET..ONSET + 3).contains(&at[0]), "seed {seed}: {at:?}");
        }
    }

    /// The share of requests that fail: 0.1%, and 0.3% for the 40 minutes
    /// from `onset`.
    fn tripled_after(onset: i64) -> impl Fn(i64) -> f64 + Copy {
        move |m| {
            if (onset..onset + 40).contains(&m) {
                0.003
            } else {
                0.001
            }
        }
    }

    #[test]
    fn a_slot_is_young_and_the_level_remembers_for_the_same_time_at_any_period() {
        assert_eq!(young_points(60), YOUNG);
        assert_eq!(young_points(300), 2);
        assert_eq!(young_points(3_600), 2);
        assert_eq!(per_point(SEASONAL_LEVEL_RATE, 60), SEASONAL_LEVEL_RATE);
        // Five points a minute apart leave as much as one five minutes on.
        let five = 1.0 - (1.0 - SEASONAL_LEVEL_RATE).powi(5);
        assert!((per_point(SEASONAL_LEVEL_RATE, 300) - five).abs() < 1e-6);
    }

    #[test]
    fn a_small_lasting_rise_of_errors_is_an_anomaly() {
        // 0.1% of up to 500 requests a minute fail (up to 0.5 errors a
        // minute); for 40 minutes after a deployment, 0.3% do: about 1.4
        // errors a minute, never the 3 in one minute that matter alone.
        let traffic = |m: i64| daily(m, 500.0).max(1.0);
        let mut b = Baseline::new();
        let quiet = run_errors(&mut b, 0..3 * 1440, traffic, |_| 0.001);
        assert!(quiet.is_empty(), "{quiet:?}");
        let onset = 3 * 1440 + 720;
        let changes = run_errors(&mut b, 3 * 1440..4 * 1440, traffic, tripled_after(onset));
        let Some((at, EpisodeChange::Started(ep))) = changes.first() else {
            panic!("no anomaly: {changes:?}");
        };
        // A tripled rate of half an error a minute: the slow lane needs
        // some twenty-odd minutes to be sure.
        assert!(
            *at - onset <= 30,
            "found {} minutes after onset",
            at - onset
        );
        assert_eq!(ep.direction, Direction::Increase);
        assert!(ep.start.secs() <= T0 + (onset + 3) * 60, "{ep:?}");
        // The anomaly holds what the drift summed: a lasting excess of
        // at least three times the smallest change.
        assert!(
            ep.observed_sum - ep.expected_sum >= DRIFT_EXCESS * 3.0,
            "{ep:?}"
        );
        assert!(
            changes
                .iter()
                .any(|(m, c)| matches!(c, EpisodeChange::Ended(..)) && *m < onset + 60),
            "{changes:?}"
        );
        assert_eq!(started(&changes).len(), 1, "{changes:?}");
    }

    #[test]
    fn an_error_a_minute_where_none_are_usual_is_found_within_ten_minutes() {
        // A function whose 14 invocations a minute never fail, until one
        // in fourteen does (a dependency timing out): an error a minute,
        // never the 3 that matter alone. Nine of them are an incident.
        let traffic = |m: i64| daily(m, 14.0).max(1.0);
        let onset = 3 * 1440 + 720;
        let mut b = Baseline::new();
        let quiet = run_errors(&mut b, 0..3 * 1440, traffic, |_| 0.0);
        assert!(quiet.is_empty(), "{quiet:?}");
        let tr = error_traits();
        let found = (onset..onset + 30).find(|&m| {
            let t = Timestamp::from_secs(T0 + m * 60);
            let exposure = Some(Exposure::Measured(traffic(m)));
            matches!(
                b.observe_exposed(t, 1.0, exposure, &tr, &Sensitivity::default()),
                Some((_, EpisodeChange::Started(_)))
            )
        });
        let Some(at) = found else {
            panic!("no anomaly in half an hour");
        };
        assert!(at - onset < 10, "found {} minutes after onset", at - onset);
    }

    /// `factor` for the hour from minute `onset`, 1 otherwise.
    fn for_an_hour(onset: i64, factor: f64) -> impl Fn(i64) -> f64 {
        move |m| {
            if (onset..onset + 60).contains(&m) {
                factor
            } else {
                1.0
            }
        }
    }

    /// The anomaly `changes` begin with, checked to start within five
    /// minutes of `onset` and to be found within a quarter of an hour.
    fn found_soon(changes: &[(i64, EpisodeChange)], onset: i64) -> Episode {
        let Some((at, EpisodeChange::Started(ep))) = changes.first() else {
            panic!("no anomaly: {changes:?}");
        };
        assert!(
            *at - onset <= 15,
            "found {} minutes after onset",
            at - onset
        );
        assert!(ep.start.secs() <= T0 + (onset + 5) * 60, "{ep:?}");
        *ep
    }

    /// The minutes at which `changes` started an anomaly.
    fn started(changes: &[(i64, EpisodeChange)]) -> Vec<i64> {
        changes
            .iter()
            .filter_map(|(m, c)| matches!(c, EpisodeChange::Started(_)).then_some(*m))
            .collect()
    }

    /// A traffic count with the catalog's smallest changes (20 requests,
    /// half as many again or a third lost).
    fn traffic_traits() -> SignalTraits {
        SignalTraits {
            min_change: 20.0,
            min_ratio: 0.5,
            ..traits(ValueKind::Count, Watch::Both)
        }
    }

    /// Requests of a small service, about 30 a minute at its busiest: a
    /// Poisson draw around [`daily`], times `factor(minute)`.
    fn small_service(factor: impl Fn(i64) -> f64) -> impl Fn(i64) -> f64 {
        move |m| poisson(daily(m, 30.0).max(1.0) * factor(m), uniform(m, 11))
    }

    /// The changes from `minutes` of [`small_service`]'s requests.
    fn run_requests(
        b: &mut Baseline,
        minutes: std::ops::Range<i64>,
        factor: impl Fn(i64) -> f64,
    ) -> Vec<(i64, EpisodeChange)> {
        run(b, minutes, &traffic_traits(), small_service(factor))
    }

    #[test]
    fn a_third_of_the_traffic_lost_is_found_though_the_band_would_follow_it() {
        // Some 170 requests a minute in the afternoon, two days learned,
        // then 35% of them lost for an hour: just over the third that
        // matters, and only if the band does not follow the first minutes
        // down.
        let tr = traffic_traits();
        let onset = 2 * 1440 + 900;
        let requests = |m: i64| {
            let factor = if (onset..onset + 60).contains(&m) {
                0.65
            } else {
                1.0
            };
            poisson(daily(m, 200.0) * factor, uniform(m, 5))
        };
        let mut b = Baseline::new();
        let quiet = run(&mut b, 0..2 * 1440, &tr, requests);
        assert!(quiet.is_empty(), "{quiet:?}");
        let changes = run(&mut b, 2 * 1440..3 * 1440, &tr, requests);
        let ep = found_soon(&changes, onset);
        assert_eq!(ep.direction, Direction::Decrease);
    }

    #[test]
    fn half_the_traffic_of_a_small_service_lost_for_long_is_an_anomaly() {
        let mut b = Baseline::new();
        let quiet = run_requests(&mut b, 0..4 * 1440, |_| 1.0);
        assert!(quiet.is_empty(), "{quiet:?}");
        // At the busiest hour, half of some 30 requests a minute are lost
        // for an hour: never the 20 a minute that matter alone.
        let onset = 4 * 1440 + 720;
        let changes = run_requests(&mut b, 4 * 1440..5 * 1440, for_an_hour(onset, 0.5));
        let ep = found_soon(&changes, onset);
        assert_eq!(ep.direction, Direction::Decrease);
        // The anomaly holds the whole shortfall summed, well over three
        // times the smallest change.
        assert!(
            ep.expected_sum - ep.observed_sum >= DRIFT_EXCESS * 20.0,
            "{ep:?}"
        );
        assert!(
            changes
                .iter()
                .any(|(m, c)| matches!(c, EpisodeChange::Ended(..)) && *m < onset + 75),
            "{changes:?}"
        );
    }

    /// Feeds five-minute sums of `f(minute)` for `minutes` (whole five
    /// minutes), as a metric of five-minute points; returns the changes
    /// by the minute their point starts.
    fn run_five_minutes(
        b: &mut Baseline,
        minutes: std::ops::Range<i64>,
        tr: &SignalTraits,
        f: impl Fn(i64) -> f64,
    ) -> Vec<(i64, EpisodeChange)> {
        let mut out = Vec::new();
        for m in minutes.step_by(5) {
            let t = Timestamp::from_secs(T0 + m * 60);
            let sum: f64 = (m..m + 5).map(&f).sum();
            if let Some((_, change)) = b.observe(t, sum, tr, &Sensitivity::default())
                && change != EpisodeChange::None
            {
                out.push((m, change));
            }
        }
        out
    }

    #[test]
    fn a_change_lasted_at_three_minutes_worth_of_the_smallest_at_any_period() {
        assert!(lasted(9.0, 3.0, 60));
        assert!(lasted(-9.0, 3.0, 60));
        assert!(!lasted(8.9, 3.0, 60));
        // Five-minute points: the smallest change of one is five minutes'
        // worth, and the need is the same nine.
        assert!(lasted(9.0, 15.0, 300));
        assert!(!lasted(8.9, 15.0, 300));
        // Sums kept in f32: ten tenths are a hair over one.
        let usual = (0..10).map(|_| 0.1f32).sum::<f32>();
        assert!(lasted(10.0 - f64::from(usual), 3.0, 60));
    }

    #[test]
    fn a_rise_of_errors_is_found_as_soon_at_five_minutes() {
        // Three errors every five minutes for an hour, where one in an
        // hour and a half is usual: thirty-six extra errors. Needing five
        // minutes' worth of nine (forty-five), they were never found.
        let tr = SignalTraits {
            period: 300,
            min_change: 15.0,
            ..error_traits()
        };
        let mut b = Baseline::new();
        let onset = 3 * 1440 + 600;
        let errors = |m: i64| {
            let failing = (onset..onset + 60).contains(&m) && m % 5 < 3;
            if failing || m % 97 == 0 { 1.0 } else { 0.0 }
        };
        let changes = run_five_minutes(&mut b, 0..onset + 120, &tr, errors);
        let at = started(&changes);
        assert_eq!(at.len(), 1, "{changes:?}");
        assert!(
            (onset..=onset + 30).contains(&at[0]),
            "found at minute {} of the rise",
            at[0] - onset
        );
    }

    #[test]
    fn a_table_read_as_usual_again_after_its_callers_hung_is_no_rise() {
        // A table read three times as much as its profile says (its
        // traffic grew), whose reads fall to a tenth for 55 minutes while
        // the function that reads it hangs, then come back. A fall is
        // harmless for the capacity a table consumes, so those points were
        // learned as any normal point: the day's level followed them down,
        // and the reads back to usual were a rise against it, held open
        // for hours until the level caught up.
        let tr = SignalTraits {
            period: 300,
            min_change: 100.0,
            min_ratio: 1.0,
            ..traits(ValueKind::Count, Watch::Increase)
        };
        let onset = 3 * 1440 + 900;
        let back = onset + 55;
        // Reads a minute, a fifth more or less from minute to minute.
        let reads = |m: i64| {
            let grown = if m >= 3 * 1440 - 240 { 3.0 } else { 1.0 };
            let usual = (grown * daily(m, 1000.0) * (0.8 + 0.4 * uniform(m, 11))).round();
            if (onset..back).contains(&m) {
                (usual / 10.0).round()
            } else {
                usual
            }
        };
        let mut b = Baseline::new();
        let changes = run_five_minutes(&mut b, 0..back + 240, &tr, reads);
        let after = started(&changes)
            .into_iter()
            .filter(|&m| m >= onset)
            .collect::<Vec<_>>();
        assert!(after.is_empty(), "{changes:?}");
    }

    #[test]
    fn a_table_that_never_throttles_throttling_every_minute_or_two_is_found() {
        // A fifth of a table's reads are throttled for twenty minutes:
        // fifteen throttled reads where none was seen in three days. Tested
        // against six a hour as the usual rate, the drift lost a whole
        // throttle's worth of evidence at each quiet minute and ended the
        // burst just short of its threshold.
        let onset = 3 * 1440 + 880;
        let burst = [
            1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0,
            0.0, 1.0, 1.0, 3.0, 1.0,
        ];
        let throttles = |m: i64| match usize::try_from(m - onset) {
            Ok(i) if i < burst.len() => burst[i],
            _ => 0.0,
        };
        let mut b = Baseline::new();
        let changes = run(&mut b, 0..onset + 60, &error_traits(), throttles);
        let at = started(&changes);
        assert_eq!(at.len(), 1, "{changes:?}");
        assert!(
            (onset..onset + 22).contains(&at[0]),
            "found at minute {} of the burst",
            at[0] - onset
        );
    }

    #[test]
    fn a_dozen_errors_in_a_quarter_of_an_hour_are_found_at_five_minutes() {
        // Some of a function's calls hang until they time out for a
        // quarter of an hour: seven errors in the first five minutes,
        // three in the next, two in the last, where one a day is usual.
        // Found at one minute; at five, each point weighed in the drift as
        // one minute would, so three points could not sum to its
        // threshold.
        let tr = SignalTraits {
            period: 300,
            min_change: 15.0,
            ..error_traits()
        };
        let onset = 3 * 1440 + 1240;
        let burst = [
            2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0,
        ];
        let errors = |m: i64| match usize::try_from(m - onset) {
            Ok(i) if i < burst.len() => burst[i],
            _ if m % 1440 == 600 => 1.0,
            _ => 0.0,
        };
        let mut b = Baseline::new();
        let changes = run_five_minutes(&mut b, 0..onset + 60, &tr, errors);
        let at = started(&changes);
        assert_eq!(at.len(), 1, "{changes:?}");
        assert!(
            (onset..onset + 15).contains(&at[0]),
            "found at minute {} of the burst",
            at[0] - onset
        );
    }

    #[test]
    fn a_five_minute_point_weighs_in_a_shift_as_much_as_its_five_minutes() {
        assert_eq!(minutes_per_point(60), 1.0);
        assert_eq!(minutes_per_point(300), 5.0);
        assert_eq!(shift_evidence(-7.0, 1.0), -EVIDENCE_CAP);
        // Five minutes each 2 spreads beyond the band add 10 (before
        // their five allowances); their sum is 2 * sqrt(5) of its own
        // spreads beyond.
        let five = shift_evidence(2.0 * 5f64.sqrt(), 5.0);
        assert!((five - 10.0).abs() < 1e-9, "{five}");
        // Capped at five minutes' caps.
        assert!((shift_evidence(100.0, 5.0) - 5.0 * EVIDENCE_CAP).abs() < 1e-9);
        assert!(
            (shift_score(5.0 * (2.0 - SHIFT_ALLOWANCE), 5.0) - five / 5f64.sqrt()).abs() < 1e-9
        );
    }

    #[test]
    fn a_five_minute_anomaly_whose_points_still_come_is_not_expired() {
        // A function ten times slower for two five-minute points, then
        // back. Its anomaly ends on its own points, two normal ones; the
        // quiet spell that ends the anomaly of a metric that stopped
        // reporting counts from its last point, not its last abnormal one:
        // from that, a five-minute anomaly ended a quarter of an hour after
        // its last abnormal point even with a normal point since, before
        // the next one told whether the incident was over.
        const ONSET: i64 = 3 * 1440 + 600;
        let tr = SignalTraits {
            min_change: 20.0,
            period: 300,
            ..traits(ValueKind::Latency, Watch::Increase)
        };
        let at = |m: i64| Timestamp::from_secs(T0 + m * 60);
        let duration = |m: i64| {
            let slow = if m >= ONSET { 10.0 } else { 1.0 };
            100.0 * (0.1 * standard_normal(m, 41)).exp() * slow
        };
        let mut b = Baseline::new();
        let changes = run(&mut b, (0..ONSET + 10).step_by(5), &tr, duration);
        assert_eq!(started(&changes), [ONSET + 5], "{changes:?}");
        let mut quiet = b.clone();
        let back = b.observe(at(ONSET + 10), 100.0, &tr, &Sensitivity::default());
        assert!(matches!(
            back,
            Some((Verdict::Normal { .. }, EpisodeChange::None))
        ));
        // A quarter of an hour after the last abnormal point, ten minutes
        // after the last point: still going on.
        assert_eq!(b.expire(at(ONSET + 20), 15 * 60, 300), None);
        let over = b.observe(at(ONSET + 15), 100.0, &tr, &Sensitivity::default());
        assert!(
            matches!(over, Some((_, EpisodeChange::Ended(_, end))) if end == at(ONSET + 10)),
            "{over:?}"
        );
        // One whose points stop coming still has its anomaly ended.
        assert!(quiet.expire(at(ONSET + 20), 15 * 60, 300).is_some());
    }

    #[test]
    fn a_function_called_a_few_times_in_five_minutes_is_not_slow_every_hour() {
        // Five-minute averages of one to three calls: some 60 ms, half of
        // them below 36 or above 100, and a third of the periods without
        // a call. Each slot has had two points when the third day comes,
        // the global spread its only measure of the noise: counting the
        // first day's points, which teach it nothing, it stayed a few
        // percent, and the third day was slow every hour or two.
        let tr = SignalTraits {
            min_change: 20.0,
            period: 300,
            ..traits(ValueKind::Latency, Watch::Increase)
        };
        let mut b = Baseline::new();
        let called = (0..3 * 1440).step_by(5).filter(|&m| uniform(m, 31) >= 0.3);
        let changes = run(&mut b, called, &tr, |m| {
            60.0 * (0.75 * standard_normal(m, 32)).exp()
        });
        assert!(started(&changes).is_empty(), "{changes:?}");
        assert!(b.noise > 0.3, "global spread {}", b.noise);
    }

    #[test]
    fn a_quieter_second_day_of_five_minute_points_moves_the_level_not_only_the_profile() {
        // Five-minute points: each slot of the profile has one point a day,
        // so it is young for the whole second day of history. That day is
        // 40% quieter at every hour (a Saturday).
        let tr = SignalTraits {
            period: 300,
            ..traits(ValueKind::Count, Watch::Both)
        };
        let quiet = |m: i64| {
            let v = daily(m, 100.0);
            if m >= 1440 { (v * 0.6).round() } else { v }
        };
        let mut b = Baseline::new();
        run_five_minutes(&mut b, 0..2 * 1440, &tr, quiet);
        // The day's level carries most of the quieter day...
        assert!(b.level < -0.3, "level {}", b.level);
        // ...and the profile keeps most of the first day's shape.
        let noon = Timestamp::from_secs(T0 + (1440 + 720) * 60);
        let usual = b.usual(noon).map(|y| inverse(y, ValueKind::Count));
        let first = (720..725).map(|m| daily(m, 100.0)).sum::<f64>();
        assert!(
            usual.is_some_and(|u| u > 0.8 * first),
            "{usual:?} vs {first}"
        );
    }

    #[test]
    fn half_the_traffic_of_a_small_service_lost_is_found_as_soon_at_five_minutes() {
        // As in the one-minute case: some 30 requests a minute at the
        // busiest hour, half of them lost for an hour, never the 100 in
        // five minutes that matter alone. Weighed point by point, five
        // points of evidence (25 minutes) were needed.
        let tr = SignalTraits {
            min_change: 100.0,
            period: 300,
            ..traffic_traits()
        };
        let mut b = Baseline::new();
        let quiet = run_five_minutes(&mut b, 0..4 * 1440, &tr, small_service(|_| 1.0));
        assert!(quiet.is_empty(), "{quiet:?}");
        const ONSET: i64 = 4 * 1440 + 720;
        let changes = run_five_minutes(
            &mut b,
            4 * 1440..5 * 1440,
            &tr,
            small_service(for_an_hour(ONSET, 0.5)),
        );
        let ep = found_soon(&changes, ONSET);
        assert_eq!(ep.direction, Direction::Decrease);
        assert_eq!(started(&changes).len(), 1, "{changes:?}");
    }

    /// Minute of the morning drop of [`morning_drop`], and of its end.
    const DROP: i64 = 2 * 1440 + 480;
    const BACK: i64 = DROP + 150;

    /// Requests of a small service of some 11 a minute in the morning
    /// (noise stream `seed`): 60% of them lost from [`DROP`] to [`BACK`],
    /// then `after` times the usual for an hour.
    fn morning_drop(seed: u64, after: f64) -> impl Fn(i64) -> f64 + Copy {
        move |m| {
            let factor = if (DROP..BACK).contains(&m) {
                0.4
            } else if (BACK..BACK + 60).contains(&m) {
                after
            } else {
                1.0
            };
            poisson(daily(m, 14.0).max(1.0) * factor, uniform(m, seed))
        }
    }

    #[test]
    fn traffic_back_after_a_drop_the_band_followed_is_no_anomaly() {
        // A small service of some 11 requests a minute in the morning
        // loses 60% of them for two and a half hours. Its minutes lose too
        // few requests each for the band not to follow them down, whether
        // or not the drop is reported. The traffic back to usual is no
        // rise, whatever the noise.
        let tr = traffic_traits();
        for seed in 1..=8 {
            let requests = morning_drop(seed, 1.0);
            let mut b = Baseline::new();
            run(&mut b, 0..DROP, &tr, requests);
            let changes = run(&mut b, DROP..BACK + 120, &tr, requests);
            let rises: Vec<_> = changes
                .iter()
                .filter(|(m, c)| {
                    *m >= BACK
                        && matches!(c, EpisodeChange::Started(ep)
                            if ep.direction == Direction::Increase)
                })
                .collect();
            assert!(rises.is_empty(), "seed {seed}: {rises:?}");
        }
    }

    #[test]
    fn a_surge_beyond_the_level_from_before_a_drop_is_still_an_anomaly() {
        // The same drop, then the traffic comes back three times its
        // usual: no return, a surge.
        let tr = traffic_traits();
        for seed in 1..=8 {
            let requests = morning_drop(seed, 3.0);
            let mut b = Baseline::new();
            run(&mut b, 0..BACK, &tr, requests);
            let changes = run(&mut b, BACK..BACK + 60, &tr, requests);
            let ep = found_soon(&changes, BACK);
            assert_eq!(ep.direction, Direction::Increase, "seed {seed}");
        }
    }

    #[test]
    fn a_lean_that_moved_the_level_by_a_change_that_matters_is_confirmed() {
        // Points of a drop each too small to sum half the way to an
        // anomaly, the band following them down: what they taught the
        // level is taken back when the traffic returns once it is a change
        // that matters (a third lost, for traffic), whatever the sum.
        let tr = traffic_traits();
        let sensitivity = Sensitivity::default();
        let run = Timestamp::from_secs(T0);
        let small = 0.2 * SHIFT_PER_Z * sensitivity.z_threshold;
        let mut b = Baseline::new();
        b.lean_by(run, -small, -0.2, &tr, &sensitivity);
        assert!(b.lean.is_some_and(|lean| !lean.confirmed), "{:?}", b.lean);
        // Two thirds of the traffic's log-ratio that matters: still noise.
        b.lean_by(run, -small, -0.07, &tr, &sensitivity);
        assert!(b.lean.is_some_and(|lean| !lean.confirmed), "{:?}", b.lean);
        // Past ln(1.5): a third of the traffic lost.
        b.lean_by(run, -small, -0.15, &tr, &sensitivity);
        assert!(b.lean.is_some_and(|lean| lean.confirmed), "{:?}", b.lean);
    }

    /// A standard normal draw for `m` from the uniform streams `seed` and
    /// `seed + 1` (Box-Muller).
    fn standard_normal(m: i64, seed: u64) -> f64 {
        let (u, v) = (uniform(m, seed).max(1e-12), uniform(m, seed + 1));
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// The average duration of a function, `typical` ms times a log-normal
    /// factor of σ `sigma` (streams `seed`, `seed + 1`) times `factor(m)`.
    /// Returns the changes from `minutes`.
    fn run_typical_duration(
        b: &mut Baseline,
        minutes: std::ops::Range<i64>,
        (typical, sigma, seed): (f64, f64, u64),
        factor: impl Fn(i64) -> f64,
    ) -> Vec<(i64, EpisodeChange)> {
        let tr = SignalTraits {
            min_change: 20.0,
            ..traits(ValueKind::Latency, Watch::Increase)
        };
        run(b, minutes, &tr, |m| {
            typical * (sigma * standard_normal(m, seed)).exp() * factor(m)
        })
    }

    /// The average duration of a quiet function, some 17 ms with the
    /// spread of a few requests a minute, times `factor(m)`.
    fn run_duration(
        b: &mut Baseline,
        minutes: std::ops::Range<i64>,
        factor: impl Fn(i64) -> f64,
    ) -> Vec<(i64, EpisodeChange)> {
        run_typical_duration(b, minutes, (17.0, 0.15, 21), factor)
    }

    /// The average duration of a busy function, some 160 ms steady to a
    /// few percent, times `factor(m)`.
    fn run_busy_duration(
        b: &mut Baseline,
        minutes: std::ops::Range<i64>,
        factor: impl Fn(i64) -> f64,
    ) -> Vec<(i64, EpisodeChange)> {
        run_typical_duration(b, minutes, (160.0, 0.04, 23), factor)
    }

    #[test]
    fn a_one_minute_blip_in_the_first_day_does_not_blind_its_slot() {
        // One minute seven times slower at 21:00 of the first day of
        // history, the first point of its slot; the next day, a dependency
        // makes the function 70% slower at that hour for twelve minutes.
        let blip = 21 * 60;
        let onset = 2 * 1440 + 21 * 60;
        let mut b = Baseline::new();
        let history = run_busy_duration(&mut b, 0..2 * 1440, |m| if m == blip { 7.0 } else { 1.0 });
        assert!(history.is_empty(), "{history:?}");
        let slower = |m| {
            if (onset..onset + 12).contains(&m) {
                1.7
            } else {
                1.0
            }
        };
        let changes = run_busy_duration(&mut b, 2 * 1440..onset + 60, slower);
        let ep = found_soon(&changes, onset);
        assert_eq!(ep.direction, Direction::Increase);
    }

    #[test]
    fn a_one_off_in_a_young_slot_barely_moves_its_place() {
        // One minute seven times slower at 21:02 of the first day of
        // history, the third point of its slot: the profile two days later
        // still expects about 160 ms there.
        let blip = 21 * 60 + 2;
        let mut b = Baseline::new();
        run_busy_duration(&mut b, 0..2 * 1440, |m| if m == blip { 7.0 } else { 1.0 });
        let t = Timestamp::from_secs(T0 + (2 * 1440 + blip) * 60);
        let (_, high, _) = b
            .band(t, ValueKind::Latency)
            .expect("a band after two days");
        assert!(high < 160.0 * 1.1, "expects up to {high:.0} ms");
    }

    #[test]
    fn a_new_shape_starting_at_a_slot_is_still_learned_from_its_next_points() {
        // A nightly job makes the function four times slower from 03:00
        // to 03:20: its first minute is taken for a one-off, not the rest.
        let nightly = |m: i64| {
            if (180..200).contains(&(m % 1440)) {
                4.0
            } else {
                1.0
            }
        };
        let mut b = Baseline::new();
        run_busy_duration(&mut b, 0..1440, nightly);
        let after = run_busy_duration(&mut b, 1440..4 * 1440, nightly);
        assert!(after.is_empty(), "the nightly job alarmed: {after:?}");
    }

    #[test]
    fn a_quiet_function_slower_by_half_for_long_is_an_anomaly() {
        let mut b = Baseline::new();
        let quiet = run_duration(&mut b, 0..4 * 1440, |_| 1.0);
        assert!(quiet.is_empty(), "{quiet:?}");
        // A dependency slows down: 55% slower for an hour, some 9 ms a
        // request, never the 20 ms that matter alone. Each minute is
        // within a few spreads of the band: only the shift sums it, and
        // only if the band neither follows nor widens as fast.
        let onset = 4 * 1440 + 600;
        let changes = run_duration(&mut b, 4 * 1440..5 * 1440, for_an_hour(onset, 1.55));
        let ep = found_soon(&changes, onset);
        assert_eq!(ep.direction, Direction::Increase);
        assert!(
            ep.observed_sum - ep.expected_sum >= DRIFT_EXCESS * 20.0,
            "{ep:?}"
        );
        assert!(
            changes.iter().all(|(m, _)| (onset..onset + 75).contains(m)),
            "{changes:?}"
        );
    }

    #[test]
    fn a_nightly_batch_that_throttles_in_bursts_is_no_anomaly() {
        // A batch runs at 04:30 for nine minutes every night and hits its
        // concurrency limit: some minutes 5 to 45 throttles, others none.
        // Its log mean says a couple a minute, its spread says far more:
        // a count this bursty is no rare event then, and, a week learned,
        // the next nights raise nothing.
        let tr = SignalTraits {
            min_ratio: 1.0,
            drift: true,
            ..traits(ValueKind::Count, Watch::Increase)
        };
        let throttles = |m: i64| {
            let minute = m % 1440;
            if (271..279).contains(&minute) && uniform(m, 31) < 0.6 {
                (5.0 + 40.0 * uniform(m, 32)).round()
            } else {
                0.0
            }
        };
        let mut b = Baseline::new();
        run(&mut b, 0..7 * 1440, &tr, throttles);
        let changes = run(&mut b, 7 * 1440..10 * 1440, &tr, throttles);
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn a_message_waiting_for_its_retry_is_no_anomaly_at_any_sensitivity() {
        // The age of the oldest message of a queue with a visibility
        // timeout of 300 s: a few seconds as a rule.
        let tr = SignalTraits {
            min_change: 360.0,
            change_floor: 360.0,
            min_ratio: 1.0,
            ..traits(ValueKind::Gauge, Watch::Increase)
        };
        let failed_batch = 2 * 1440 + 600;
        let stuck = 2 * 1440 + 840;
        let age = |m: i64| {
            let usual = 2.0 + 6.0 * uniform(m, 3);
            if (failed_batch..failed_batch + 5).contains(&m) {
                // A batch failed: its messages wait out the visibility
                // timeout, then are retried.
                usual + 60.0 * (m - failed_batch + 1) as f64
            } else if m >= stuck {
                // The consumer stops: the oldest message only ages.
                usual + 60.0 * (m - stuck + 1) as f64
            } else {
                usual
            }
        };
        for sensitivity in [Sensitivity::LOW, Sensitivity::MEDIUM, Sensitivity::HIGH] {
            let changes = run_at(&mut Baseline::new(), 0..stuck + 30, &tr, &sensitivity, age);
            let first = changes.first().map(|(m, _)| *m);
            assert!(
                first.is_some_and(|m| (stuck..stuck + 15).contains(&m)),
                "{sensitivity:?}: {changes:?}"
            );
        }
    }

    #[test]
    fn a_shift_being_weighed_is_unsettled_before_any_point_is_suspect() {
        let mut b = Baseline::new();
        run_duration(&mut b, 0..4 * 1440, |_| 1.0);
        let onset = 4 * 1440 + 600;
        let mut weighed_first = None;
        for m in onset..onset + 60 {
            let changes = run_duration(&mut b, m..m + 1, |_| 1.55);
            if !changes.is_empty() {
                break;
            }
            if b.unsettled(60) && !b.point_suspect() {
                weighed_first = Some(m);
                break;
            }
        }
        // The next points are fetched at once: they tell whether the
        // slow-down is an incident.
        assert!(weighed_first.is_some(), "{:?}", b.drift);
    }

    #[test]
    fn a_one_minute_dip_at_a_weekend_boundary_is_no_new_level() {
        let tr = traits(ValueKind::Count, Watch::Both);
        let sens = Sensitivity::default();
        let mut b = Baseline::new();
        run(&mut b, 0..3 * 1440, &tr, |m| daily(m, 300.0));
        let at = 3 * 1440 + 720;
        let boundary = Timestamp::from_secs(T0 + at * 60);
        let before = b.level;
        // The boundary's minute falls to a tenth: it may be a new level...
        assert!(b.relevel(boundary, daily(at, 300.0) / 10.0, &tr, &sens, boundary));
        assert!(b.level < before - 1.0, "{} {before}", b.level);
        // ...until the next minute is as usual: the step was a blip, and
        // that minute is judged against the old level, as normal.
        let next = boundary.add(60);
        let usual = daily(at + 1, 300.0);
        assert!(!b.relevel(next, usual, &tr, &sens, boundary));
        assert_eq!(b.level, before);
        // Nor is it remembered as a step for next week.
        assert_eq!(b.week_steps, [None; WEEK_STEPS]);
        let (verdict, change) = b.observe(next, usual, &tr, &sens).expect("judged");
        assert!(matches!(verdict, Verdict::Normal { .. }), "{verdict:?}");
        assert_eq!(change, EpisodeChange::None);
    }

    #[test]
    fn a_change_weighed_since_before_a_weekend_boundary_is_no_new_level() {
        let tr = traits(ValueKind::Count, Watch::Both);
        let sens = Sensitivity::default();
        let at = 3 * 1440 + 720;
        let boundary = Timestamp::from_secs(T0 + at * 60);
        let mut quiet = Baseline::new();
        run(&mut quiet, 0..at, &tr, |m| daily(m, 300.0));
        // Requests risen by half for three minutes before the boundary,
        // each minute too little to be abnormal alone: a surge being
        // weighed (a drop would be weighed the same way, negative).
        let mut surging = quiet.clone();
        surging.drift = Drift {
            sum: 4.0,
            from: Some(boundary.add(-180)),
            observed: 3.0 * 450.0,
            expected: 3.0 * 300.0,
            ..quiet.drift
        };
        let risen = daily(at, 300.0) * 1.5;
        // It goes on at the boundary: a change that began before it, to be
        // judged, not the new day's level.
        assert!(!surging.relevel(boundary, risen, &tr, &sens, boundary));
        assert_eq!(surging.level, quiet.level);
        // The same step with nothing weighed before is the new day's level,
        // and so is a step the other way (the weekend starts as a surge
        // ends).
        assert!(quiet.clone().relevel(boundary, risen, &tr, &sens, boundary));
        let fallen = daily(at, 300.0) * 0.5;
        assert!(surging.relevel(boundary, fallen, &tr, &sens, boundary));
    }

    /// Feeds `f(m)` each minute as the analysis does around weekend
    /// boundaries: in the grace after a minute of `boundaries` the point
    /// may re-level, else it is judged.
    fn run_weeks(
        b: &mut Baseline,
        minutes: std::ops::Range<i64>,
        boundaries: &[i64],
        f: impl Fn(i64) -> f64,
    ) -> Vec<(i64, EpisodeChange)> {
        let tr = traits(ValueKind::Count, Watch::Both);
        let sens = Sensitivity::default();
        let mut out = Vec::new();
        for m in minutes {
            let t = Timestamp::from_secs(T0 + m * 60);
            let boundary = boundaries
                .iter()
                .find(|&&at| (0..GRACE_SECS / 60).contains(&(m - at)))
                .map(|&at| Timestamp::from_secs(T0 + at * 60));
            if !boundary.is_some_and(|boundary| b.relevel(t, f(m), &tr, &sens, boundary)) {
                out.extend(run(b, m..m + 1, &tr, &f));
            }
        }
        out
    }

    #[test]
    fn a_weekend_that_comes_down_over_minutes_re_levels_where_it_stepped_a_week_before() {
        // Weekends at half the traffic, from midnight on day 3 to
        // midnight on day 5, then a week later. The first weekend steps
        // at its boundary's own minute; the second comes down over four
        // minutes, none of them a step on its own.
        let sat = 3 * 1440 + 720;
        let weekends = [(sat, sat + 2 * 1440), (sat + 7 * 1440, sat + 9 * 1440)];
        let boundaries: Vec<i64> = weekends.iter().flat_map(|&(s, m)| [s, m]).collect();
        let traffic = |m: i64| {
            let factor = match weekends.iter().find(|(s, e)| (*s..*e).contains(&m)) {
                Some(&(s, _)) if s > sat => [0.85, 0.72, 0.62, 0.55]
                    .get(usize::try_from(m - s).unwrap_or(0))
                    .copied()
                    .unwrap_or(0.5),
                Some(_) => 0.5,
                None => 1.0,
            };
            poisson(daily(m, 100.0) * factor, uniform(m, 11))
        };
        let mut b = Baseline::new();
        let changes = run_weeks(&mut b, 0..weekends[1].0, &boundaries, traffic);
        assert!(changes.is_empty(), "{changes:?}");
        let ramp = weekends[1].0..weekends[1].0 + 360;
        let changes = run_weeks(&mut b.clone(), ramp.clone(), &boundaries, traffic);
        assert!(changes.is_empty(), "{changes:?}");
        // Without last week's step to go by, the same ramp is a drop.
        let mut forgetful = b.clone();
        forgetful.week_steps = [None; WEEK_STEPS];
        let changes = run_weeks(&mut forgetful, ramp, &boundaries, traffic);
        assert!(
            changes.iter().any(|(_, c)| matches!(c,
                EpisodeChange::Started(ep) if ep.direction == Direction::Decrease)),
            "{changes:?}"
        );
    }

    #[test]
    fn more_errors_with_more_traffic_is_no_drift() {
        // A busy day: traffic and errors both triple for hours, the share
        // that fails stays the same.
        let mut b = Baseline::new();
        run_errors(&mut b, 0..3 * 1440, |m| daily(m, 500.0).max(1.0), |_| 0.001);
        let busy = |m: i64| {
            let base = daily(m, 500.0).max(1.0);
            if (3 * 1440 + 600..3 * 1440 + 900).contains(&m) {
                base * 3.0
            } else {
                base
            }
        };
        let changes = run_errors(&mut b, 3 * 1440..4 * 1440, busy, |_| 0.001);
        assert!(started(&changes).is_empty(), "{changes:?}");
    }

    #[test]
    fn without_drift_the_same_small_rise_goes_unseen() {
        // The lane is what finds it: with drift off, the same rise is too
        // small in every single minute.
        let tr = SignalTraits {
            min_ratio: 1.0,
            ..traits(ValueKind::Count, Watch::Increase)
        };
        let mut b = Baseline::new();
        let rate = tripled_after(3 * 1440 + 720);
        let changes = run(&mut b, 0..4 * 1440, &tr, |m| {
            poisson(daily(m, 500.0).max(1.0) * rate(m), uniform(m, 7))
        });
        assert!(changes.is_empty(), "{changes:?}");
    }

    #[test]
    fn encoding_round_trips_and_stays_small() {
        let tr = traits(ValueKind::Count, Watch::Both);
        let mut b = Baseline::new();
        run(&mut b, 0..3 * 1440, &tr, |m| daily(m, 300.0));
        run(&mut b, 3 * 1440..3 * 1440 + 5, &tr, |_| 5000.0);
        assert!(b.episode().is_some());
        let bytes = b.encode();
        assert!(bytes.len() <= 4096, "{} bytes", bytes.len());
        assert_eq!(Baseline::decode(&bytes).unwrap(), b);
        assert_eq!(
            Baseline::decode(&Baseline::new().encode()).unwrap(),
            Baseline::new()
        );
    }

    /// Feeds `f(i)` every five minutes in generic mode; returns the points
    /// at which an anomaly was reported.
    fn run_generic(
        b: &mut Baseline,
        points: std::ops::Range<i64>,
        f: impl Fn(i64) -> f64,
    ) -> Vec<i64> {
        let tr = SignalTraits::generic();
        let mut reports = Vec::new();
        for i in points {
            let t = Timestamp::from_secs(T0 + i * 300);
            if let Some((_, EpisodeChange::Started(_))) =
                b.observe(t, f(i), &tr, &Sensitivity::default())
            {
                reports.push(i);
            }
        }
        reports
    }

    /// A noisy daily curve around zero, sampled every five minutes.
    fn generic_daily(i: i64) -> f64 {
        let phase = (i % 288) as f64 / 288.0 * std::f64::consts::TAU;
        let jitter = ((i * 7919) % 13) as f64 / 13.0 - 0.5;
        -20.0 + 50.0 * phase.sin() + 4.0 * jitter
    }

    #[test]
    fn a_generic_baseline_round_trips_with_everything_it_learned() {
        let mut b = Baseline::new();
        run_generic(&mut b, 0..2000, |i| {
            generic_daily(i) + if i == 1500 { 400.0 } else { 0.0 }
        });
        assert_ne!(b.generic, Generic::default());
        let bytes = b.encode();
        assert!(bytes.len() <= 4096, "{} bytes", bytes.len());
        assert_eq!(Baseline::decode(&bytes).unwrap(), b);
    }

    #[test]
    fn an_anomaly_holds_every_point_of_the_evidence_that_opened_it() {
        // Two points in a row three times the usual open an anomaly at the
        // second; it starts at the first and holds both, so that what it
        // lost or gained (and so how much it matters) is both points'.
        let tr = traits(ValueKind::Gauge, Watch::Increase);
        let mut b = Baseline::new();
        run(&mut b, 0..3 * 1440, &tr, |m| daily(m, 100.0));
        let onset = 3 * 1440 + 600;
        let tripled = |m: i64| {
            let usual = daily(m, 100.0);
            if m >= onset { 3.0 * usual } else { usual }
        };
        let changes = run(&mut b, 3 * 1440..onset + 2, &tr, tripled);
        let [(m, EpisodeChange::Started(ep))] = changes[..] else {
            panic!("one anomaly expected: {changes:?}");
        };
        assert_eq!(m, onset + 1);
        assert_eq!(ep.start, Timestamp::from_secs(T0 + onset * 60));
        assert_eq!(ep.points, 2);
        assert_eq!(ep.observed_sum, tripled(onset) + tripled(onset + 1));
        // Each point's band edge, a little above the usual value.
        let usual = daily(onset, 100.0) + daily(onset + 1, 100.0);
        assert!(
            ep.expected_sum > usual && ep.expected_sum < 1.5 * usual,
            "{ep:?}"
        );
        assert_eq!(ep.peak, tripled(onset).max(tripled(onset + 1)));
    }

    #[test]
    fn baselines_of_the_previous_encoding_still_decode() {
        let mut b = Baseline::new();
        let tr = traits(ValueKind::Count, Watch::Both);
        run(&mut b, 0..1500, &tr, |m| daily(m, 100.0));
        // Versions before 11 kept no points beyond the band.
        b.beyond.clear();
        // Version 1 had neither the generic fields nor the recent evidence.
        let mut v1 = b.encode_as(4);
        v1[0] = 1;
        v1.truncate(v1.len() - GENERIC_BYTES - V3_EMPTY_BYTES - recent_bytes(&b));
        let mut expected = b.clone();
        expected.recent.clear();
        assert_eq!(Baseline::decode(&v1).unwrap(), expected);
        let mut v2 = b.encode_as(4);
        v2[0] = 2;
        v2.truncate(v2.len() - V3_EMPTY_BYTES - recent_bytes(&b));
        assert_eq!(Baseline::decode(&v2).unwrap(), expected);
        let mut v3 = b.encode_as(4);
        v3[0] = 3;
        v3.truncate(v3.len() - recent_bytes(&b));
        assert_eq!(Baseline::decode(&v3).unwrap(), expected);
        // Version 4 counted a slot's points in two bytes.
        assert_eq!(Baseline::decode(&b.encode_as(4)).unwrap(), b);
        assert_eq!(b.encode_as(4).len(), b.encode_as(5).len() + SLOTS);
        // Version 6 adds the weekend boundary of the last step (8 bytes);
        // before it, none was known.
        let mut stepped = b.clone();
        stepped.relevel_from = Some(Timestamp::from_secs(T0 + 2 * DAY));
        assert_eq!(Baseline::decode(&stepped.encode()).unwrap(), stepped);
        assert_eq!(stepped.encode_as(6).len(), stepped.encode_as(5).len() + 8);
        assert_eq!(Baseline::decode(&stepped.encode_as(5)).unwrap(), b);
        // Version 7 adds the drift of a rare-event count (28 bytes).
        let mut drifting = stepped.clone();
        drifting.drift = Drift {
            sum: 7.5,
            from: Some(Timestamp::from_secs(T0 + 2 * DAY + 600)),
            observed: 12.0,
            expected: 0.8,
            seen: 210.0,
            exposed: 150.0,
        };
        assert_eq!(Baseline::decode(&drifting.encode()).unwrap(), drifting);
        assert_eq!(
            drifting.encode_as(7).len(),
            drifting.encode_as(6).len() + 28
        );
        assert_eq!(Baseline::decode(&drifting.encode_as(6)).unwrap(), stepped);
        // A traffic's fall is a negative sum.
        let falling = Baseline {
            drift: Drift {
                sum: -4.0,
                ..drifting.drift
            },
            ..drifting.clone()
        };
        assert_eq!(Baseline::decode(&falling.encode()).unwrap(), falling);
        // Version 8 adds the level from before the step (4 bytes).
        let based = Baseline {
            relevel_base: -0.7,
            ..drifting.clone()
        };
        assert_eq!(Baseline::decode(&based.encode()).unwrap(), based);
        assert_eq!(based.encode_as(8).len(), based.encode_as(7).len() + 4);
        assert_eq!(Baseline::decode(&based.encode_as(7)).unwrap(), drifting);
        // Version 9 adds what a traffic's lean taught the level (a flag,
        // then 12 bytes when there is one).
        assert_eq!(based.encode_as(9).len(), based.encode_as(8).len() + 1);
        for confirmed in [false, true] {
            let leaning = Baseline {
                lean: Some(Lean {
                    from: Timestamp::from_secs(T0 + 2 * DAY + 900),
                    moved: -0.4,
                    confirmed,
                }),
                ..based.clone()
            };
            assert_eq!(Baseline::decode(&leaning.encode()).unwrap(), leaning);
            assert_eq!(leaning.encode().len(), based.encode().len() + 12);
            assert_eq!(Baseline::decode(&leaning.encode_as(8)).unwrap(), based);
        }
        // Version 10 adds the weekend boundaries of the last steps (a flag
        // each, then 12 bytes for each known).
        let remembering = Baseline {
            week_steps: [
                None,
                Some(WeekStep {
                    at: Timestamp::from_secs(T0 + 2 * DAY),
                    moved: -0.9,
                }),
                None,
            ],
            ..based.clone()
        };
        assert_eq!(
            Baseline::decode(&remembering.encode()).unwrap(),
            remembering
        );
        assert_eq!(
            based.encode_as(10).len(),
            based.encode_as(9).len() + WEEK_STEPS
        );
        assert_eq!(remembering.encode().len(), based.encode().len() + 12);
        assert_eq!(Baseline::decode(&remembering.encode_as(9)).unwrap(), based);
        let mut unknown = based.encode_as(10);
        *unknown.last_mut().unwrap() = 2;
        assert_eq!(
            Baseline::decode(&unknown),
            Err(DecodeError::Invalid("unknown weekend step flag"))
        );
        // Version 11 adds the last points beyond the band (a count, then
        // 17 bytes each).
        let beyond = Baseline {
            beyond: vec![
                Beyond {
                    at: Timestamp::from_secs(T0 + 2 * DAY + 60),
                    value: 41.0,
                    expected: 70.5,
                    direction: Direction::Decrease,
                },
                Beyond {
                    at: Timestamp::from_secs(T0 + 2 * DAY + 120),
                    value: 130.0,
                    expected: 90.0,
                    direction: Direction::Increase,
                },
            ],
            ..remembering.clone()
        };
        assert_eq!(Baseline::decode(&beyond.encode()).unwrap(), beyond);
        assert_eq!(
            remembering.encode().len(),
            remembering.encode_as(10).len() + 1
        );
        assert_eq!(beyond.encode().len(), remembering.encode().len() + 2 * 17);
        assert_eq!(
            Baseline::decode(&beyond.encode_as(10)).unwrap(),
            remembering
        );
        let mut unknown = beyond.encode();
        *unknown.last_mut().unwrap() = 2;
        assert_eq!(
            Baseline::decode(&unknown),
            Err(DecodeError::Invalid("unknown direction beyond the band"))
        );
        let mut too_many = remembering.encode();
        *too_many.last_mut().unwrap() = RECENT as u8 + 1;
        assert_eq!(
            Baseline::decode(&too_many),
            Err(DecodeError::Invalid("too many points beyond the band"))
        );
        let mut unknown = based.encode_as(9);
        *unknown.last_mut().unwrap() = 3;
        assert_eq!(
            Baseline::decode(&unknown),
            Err(DecodeError::Invalid("unknown lean flag"))
        );
        let mut negative = drifting.encode_as(7);
        // `seen`, after the sum, the observed and the expected counts.
        let at = negative.len() - 28 + 12;
        negative[at..at + 4].copy_from_slice(&(-1.0f32).to_le_bytes());
        assert_eq!(
            Baseline::decode(&negative),
            Err(DecodeError::Invalid("a negative drift"))
        );
    }

    #[test]
    fn an_abnormal_last_point_is_unsettled_until_normal_or_old() {
        let tr = traits(ValueKind::Count, Watch::Both);
        let mut b = Baseline::new();
        run(&mut b, 0..3 * 1440, &tr, |m| daily(m, 300.0));
        assert!(!b.unsettled(60));
        // One point far beyond the band: the next will tell.
        run(&mut b, 3 * 1440..3 * 1440 + 1, &tr, |_| 3000.0);
        assert!(b.unsettled(60));
        // Back to normal: nothing to wait for.
        run(&mut b, 3 * 1440 + 1..3 * 1440 + 7, &tr, |m| daily(m, 300.0));
        assert!(!b.unsettled(60));
        // An anomaly that has gone on for a while without an insight is no
        // longer worth a follow-up.
        run(&mut b, 4 * 1440..4 * 1440 + 30, &tr, |_| 3000.0);
        assert!(b.episode().is_some());
        assert!(!b.unsettled(60));
    }

    #[test]
    fn a_quiet_day_does_not_turn_a_usual_peak_into_an_increase() {
        // Consumed capacity: a nightly batch reads 10,000 units a minute
        // for a quarter of an hour, the traffic about 1,500 at its peak.
        let tr = traits(ValueKind::Count, Watch::Increase);
        let batch = |m: i64| (m % 1440) / 15 == 70;
        let day = |traffic: f64, size: f64| {
            move |m: i64| {
                if batch(m) {
                    size
                } else {
                    (daily(m, 1500.0) * traffic).round()
                }
            }
        };
        let mut b = Baseline::new();
        run(&mut b, 0..3 * 1440, &tr, day(1.0, 10_000.0));
        // A weekend day, traffic at 40%: the batch as big as always is
        // not an increase...
        let quiet = run(&mut b.clone(), 3 * 1440..4 * 1440, &tr, day(0.4, 10_000.0));
        assert_eq!(started(&quiet).len(), 0);
        // ...three times as big, it is.
        let big = run(&mut b.clone(), 3 * 1440..4 * 1440, &tr, day(0.4, 30_000.0));
        assert_eq!(started(&big).len(), 1);
    }

    #[test]
    fn a_point_halfway_to_abnormal_is_unsettled_too() {
        let tr = traits(ValueKind::Count, Watch::Both);
        let mut b = Baseline::new();
        run(&mut b, 0..3 * 1440, &tr, |m| daily(m, 300.0));
        let m = 3 * 1440;
        let t = Timestamp::from_secs(T0 + m * 60);
        let judged = |factor: f64| {
            let mut b = b.clone();
            let (verdict, _) = b
                .observe(t, daily(m, 300.0) * factor, &tr, &Sensitivity::MEDIUM)
                .unwrap();
            (matches!(verdict, Verdict::Abnormal { .. }), b.unsettled(60))
        };
        // From the usual value up: normal and settled, then normal but
        // suspect, then abnormal.
        let seen: Vec<(bool, bool)> = (0..200)
            .map(|i| judged(1.0 + f64::from(i) * 0.01))
            .collect();
        let suspect = seen.iter().position(|s| *s == (false, true)).unwrap();
        let abnormal = seen.iter().position(|s| s.0).unwrap();
        assert!(0 < suspect && suspect < abnormal, "{suspect} {abnormal}");
        assert!(seen[..suspect].iter().all(|s| *s == (false, false)));
        assert!(seen[suspect..abnormal].iter().all(|s| *s == (false, true)));
        assert!(seen[abnormal..].iter().all(|s| *s == (true, true)));
    }

    #[test]
    fn slot_counts_saturate_and_still_round_trip() {
        let mut b = Baseline::new();
        let tr = traits(ValueKind::Count, Watch::Both);
        // Sixty days of minutes: five points a slot a day.
        run(&mut b, 0..60 * 1440, &tr, |m| daily(m, 100.0));
        assert!(b.slots.iter().all(|s| s.n <= SLOT_N_MAX));
        assert!(b.slots.iter().any(|s| s.n == SLOT_N_MAX));
        assert_eq!(Baseline::decode(&b.encode()).unwrap(), b);
    }

    /// Bytes that version 4 adds: the count of recent evidence and each.
    fn recent_bytes(b: &Baseline) -> usize {
        1 + 4 * b.recent.len()
    }

    #[test]
    fn generic_baselines_of_version_2_decode_with_the_new_memories_empty() {
        let mut b = Baseline::new();
        run_generic(&mut b, 0..2000, |i| {
            generic_daily(i) + if i == 1500 { 400.0 } else { 0.0 }
        });
        b.generic.prior = None;
        b.recur.clear();
        let mut v2 = b.encode_as(4);
        v2[0] = 2;
        v2.truncate(v2.len() - V3_EMPTY_BYTES - recent_bytes(&b));
        let decoded = Baseline::decode(&v2).unwrap();
        assert_eq!(decoded.generic.range_low, b.generic.flat);
        assert_eq!(decoded.generic.range_high, b.generic.flat);
        let mut expected = b.clone();
        expected.generic.range_low = b.generic.flat;
        expected.generic.range_high = b.generic.flat;
        expected.generic.burst = 0.0;
        expected.generic.burst_mean = 0.0;
        expected.generic.burst_var = 0.0;
        assert_eq!(decoded, expected);
    }

    #[test]
    fn generic_mode_learns_a_daily_cycle_and_finds_what_breaks_it() {
        let mut b = Baseline::new();
        // Four quiet days of a daily cycle with negative values: nothing.
        assert_eq!(
            run_generic(&mut b, 0..4 * 288, generic_daily),
            Vec::<i64>::new()
        );
        // Then the cycle stops at its low point for half a day.
        let onset = 4 * 288 + 30;
        let reports = run_generic(&mut b, 4 * 288..5 * 288, |i| {
            if (onset..onset + 144).contains(&i) {
                -20.0
            } else {
                generic_daily(i)
            }
        });
        assert!(
            matches!(reports.first(), Some(&i) if i >= onset && i <= onset + 12),
            "{reports:?}"
        );
    }

    #[test]
    fn generic_mode_reports_a_spike_at_once_and_a_level_shift_once() {
        let mut b = Baseline::new();
        let noise = |i: i64| ((i * 7919) % 11) as f64 / 11.0;
        assert!(run_generic(&mut b, 0..600, |i| 3.0 + noise(i)).is_empty());
        assert_eq!(run_generic(&mut b, 600..601, |_| 30.0), vec![600]);
        // A lasting shift is reported when it starts, then becomes normal.
        let reports = run_generic(&mut b, 601..2000, |i| {
            if i >= 900 {
                9.0 + noise(i)
            } else {
                3.0 + noise(i)
            }
        });
        assert_eq!(reports, vec![900]);
    }

    #[test]
    fn generic_mode_keeps_a_constant_series_quiet_until_it_moves() {
        let mut b = Baseline::new();
        assert!(run_generic(&mut b, 0..1000, |_| 45.0).is_empty());
        assert_eq!(
            run_generic(&mut b, 1000..1010, |_| 46.0).first(),
            Some(&1000)
        );
    }

    #[test]
    fn generic_mode_never_learns_from_abnormal_points() {
        let mut b = Baseline::new();
        let noise = |i: i64| ((i * 7919) % 11) as f64 / 11.0;
        run_generic(&mut b, 0..600, |i| 3.0 + noise(i));
        let before = b.clone();
        run_generic(&mut b, 600..601, |_| 300.0);
        assert_eq!(
            (b.slots.clone(), b.generic.flat, b.generic.flat_dev, b.level),
            (
                before.slots,
                before.generic.flat,
                before.generic.flat_dev,
                before.level
            )
        );
    }

    #[test]
    fn generic_mode_reports_a_daily_incident_every_day() {
        let mut b = Baseline::new();
        let noise = |i: i64| ((i * 7919) % 11) as f64 / 11.0;
        let reports = run_generic(&mut b, 0..8 * 288, |i| {
            let day = i / 288;
            let at = 100 + 7 * day;
            if day >= 2 && (at..at + 6).contains(&(i % 288)) {
                40.0
            } else {
                3.0 + noise(i)
            }
        });
        assert_eq!(reports.len(), 6, "{reports:?}");
    }

    #[test]
    fn generic_mode_reports_a_daily_spike_three_times_then_takes_it_as_a_habit() {
        let mut b = Baseline::new();
        let noise = |i: i64| ((i * 7919) % 11) as f64 / 11.0;
        // The same spike at the same time every day from the third day on:
        // reported three times, then a habit.
        let reports = run_generic(&mut b, 0..9 * 288, |i| {
            if i / 288 >= 2 && i % 288 == 100 {
                40.0
            } else {
                3.0 + noise(i)
            }
        });
        assert_eq!(reports, vec![2 * 288 + 100, 3 * 288 + 100, 4 * 288 + 100]);
    }

    #[test]
    fn generic_mode_recognises_a_return_to_the_level_before_a_settled_shift() {
        let mut b = Baseline::new();
        let noise = |i: i64| ((i * 7919) % 11) as f64 / 11.0;
        let reports = run_generic(&mut b, 0..2000, |i| {
            if (600..1000).contains(&i) {
                9.0 + noise(i)
            } else {
                3.0 + noise(i)
            }
        });
        assert_eq!(reports, vec![600]);
    }

    #[test]
    fn generic_mode_takes_a_slow_way_back_to_the_level_before_a_settled_shift_as_recovery() {
        let mut b = Baseline::new();
        let noise = |i: i64| ((i * 7919) % 11) as f64 / 11.0;
        // Up from 3 to 20 at once, then back down over a hundred points.
        let reports = run_generic(&mut b, 0..1400, |i| {
            let level = match i {
                ..600 => 3.0,
                600..1000 => 20.0,
                1000..1100 => 20.0 - 17.0 * (i - 1000) as f64 / 100.0,
                _ => 3.0,
            };
            level + noise(i)
        });
        assert_eq!(reports, vec![600]);
    }

    /// Night at 5, day at 95 (five-minute points), with `spikes` to 1000
    /// every 200 points (at 150, 350, ...), and one value of 95 at night on
    /// the fourth day.
    fn day_and_night(i: i64, spikes: bool) -> f64 {
        let jitter = ((i * 7919) % 11) as f64 / 11.0;
        if spikes && i % 200 == 150 {
            1000.0
        } else if i == 3 * 288 + 20 {
            95.0
        } else if (100..200).contains(&(i % 288)) {
            95.0 + jitter
        } else {
            5.0 + jitter
        }
    }

    #[test]
    fn generic_mode_reports_a_lone_usual_value_at_an_odd_time_only_in_a_calm_series() {
        let odd = 3 * 288 + 20;
        let mut calm = Baseline::new();
        let reports = run_generic(&mut calm, 0..4 * 288, |i| day_and_night(i, false));
        assert!(reports.contains(&odd), "{reports:?}");
        // In a series that keeps surprising its model, a value it often
        // takes is not news, wherever it falls; a value it never takes is.
        let mut spiky = Baseline::new();
        let reports = run_generic(&mut spiky, 0..4 * 288, |i| day_and_night(i, true));
        assert!(!reports.contains(&odd), "{reports:?}");
        assert!(reports.contains(&1150), "{reports:?}");
    }

    #[test]
    fn generic_mode_in_a_spiky_series_reports_a_lone_spike_only_if_it_is_larger() {
        let series = |spikes: bool| {
            move |i: i64| {
                let jitter = ((i * 7919) % 11) as f64 / 11.0;
                match i {
                    1000 => 600.0,
                    1100 => 5000.0,
                    _ if spikes && i % 200 == 150 => 1000.0,
                    _ => 5.0 + jitter,
                }
            }
        };
        let mut calm = Baseline::new();
        let reports = run_generic(&mut calm, 0..1200, series(false));
        assert_eq!(reports, vec![1000, 1100]);
        let mut spiky = Baseline::new();
        let reports = run_generic(&mut spiky, 0..1200, series(true));
        assert!(!reports.contains(&1000), "{reports:?}");
        assert!(reports.contains(&1100), "{reports:?}");
    }

    #[test]
    fn generic_mode_reports_an_escalating_incident_once() {
        let mut b = Baseline::new();
        let noise = |i: i64| ((i * 7919) % 11) as f64 / 11.0;
        // Spikes every ten points, each twice the last, calm in between.
        let reports = run_generic(&mut b, 0..800, |i| match i {
            600 | 610 | 620 | 630 | 640 => 10.0 * 2f64.powi(((i - 600) / 10) as i32),
            _ => 3.0 + noise(i),
        });
        assert_eq!(reports, vec![600]);
    }

    #[test]
    fn generic_mode_reports_a_burst_of_spikes_each_as_usual_as_the_others() {
        let mut b = Baseline::new();
        // Two spikes every hundred points, then five in fifteen points.
        let reports = run_generic(&mut b, 0..1200, |i| {
            let spike = matches!(i % 100, 0 | 6) || matches!(i, 1005 | 1010 | 1015);
            if spike { 20.0 } else { 0.0 }
        });
        assert!(
            reports.iter().all(|i| !(700..1000).contains(i)),
            "{reports:?}"
        );
        assert!(
            reports.iter().any(|&i| (1000..=1015).contains(&i)),
            "{reports:?}"
        );
    }

    #[test]
    fn generic_mode_judges_every_point_whatever_the_spacing() {
        let mut b = Baseline::new();
        let tr = SignalTraits::generic();
        let mut judged = 0;
        for i in 0..3000i64 {
            // Irregular spacing: mostly 500 s, every third point 200 s.
            let t = Timestamp::from_secs(T0 + i * 400 + (i % 3) * 100);
            if b.observe(t, (i % 5) as f64, &tr, &Sensitivity::default())
                .is_some()
            {
                judged += 1;
            }
        }
        assert_eq!(judged, 3000);
        assert!(
            (450.0..550.0).contains(&b.generic.interval),
            "{}",
            b.generic.interval
        );
    }

    #[test]
    fn corrupt_encodings_are_refused_not_trusted() {
        let bytes = Baseline::new().encode();
        assert_eq!(
            Baseline::decode(&bytes[..10]),
            Err(DecodeError::Truncated(9))
        );
        let mut wrong = bytes.clone();
        wrong[0] = 99;
        assert_eq!(Baseline::decode(&wrong), Err(DecodeError::Version(99)));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            Baseline::decode(&longer),
            Err(DecodeError::Invalid(_))
        ));
        assert!(Baseline::decode(&[]).is_err());
    }

    #[test]
    fn a_five_minute_schedule_keeps_a_flat_profile() {
        // One run every five minutes: one busy minute in five, all day.
        // The day's profile is flat and the level stays put. (Young slots
        // used to steer the level, which then slid all day: the profile
        // read as a ramp, and the busiest-looking traffic of a stack hid
        // where its users' night is.)
        let tr = traits(ValueKind::Count, Watch::Both);
        let mut b = Baseline::default();
        run(
            &mut b,
            0..3 * 1440,
            &tr,
            |m| if m % 5 == 0 { 1.0 } else { 0.0 },
        );
        let profile = b.hourly_profile().expect("a learned day");
        let low = profile.iter().copied().fold(f64::INFINITY, f64::min);
        let high = profile.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!(high - low < 0.2, "{profile:?}");
        assert!(b.level.abs() < 0.5, "level {}", b.level);
    }

    #[test]
    fn poisson_scores_match_known_tail_probabilities() {
        // P(X >= 7 | 0.3) is about 3.6e-8 (z about 5.4).
        let z = poisson_z(7.0, 0.3);
        assert!((5.0..6.0).contains(&z), "{z}");
        // One error when 0.3 are expected is not surprising.
        assert!(poisson_z(1.0, 0.3) < 1.0);
        // Nothing when 200 are expected is as surprising as it gets.
        assert!(poisson_z(0.0, 200.0) < -15.0);
        assert_eq!(poisson_z(5.0, 5.0), 0.0);
    }

    #[test]
    fn sparse_errors_that_jump_are_found() {
        let tr = traits(ValueKind::Count, Watch::Increase);
        let mut b = Baseline::new();
        // About one error every four minutes for two days.
        run(&mut b, 0..2 * 1440, &tr, |m| {
            if (m * 7919) % 4 == 0 { 1.0 } else { 0.0 }
        });
        let start = 2 * 1440 + 100;
        let changes = run(&mut b, start..start + 10, &tr, |m| {
            [5.0, 20.0, 10.0, 7.0, 14.0][(m % 5) as usize]
        });
        assert!(
            matches!(changes.first(), Some((m, EpisodeChange::Started(_))) if *m <= start + 2),
            "{changes:?}"
        );
    }

    #[test]
    fn a_constant_series_is_never_anomalous() {
        let tr = traits(ValueKind::Count, Watch::Both);
        let mut b = Baseline::new();
        assert!(run(&mut b, 0..4 * 1440, &tr, |_| 100.0).is_empty());
    }

    #[test]
    fn the_first_day_is_learned_not_judged() {
        let tr = traits(ValueKind::Count, Watch::Both);
        let mut b = Baseline::new();
        let mut seen = Vec::new();
        for m in 0..1440 {
            let (v, _) = b
                .observe(
                    Timestamp::from_secs(T0 + m * 60),
                    if m == 700 { 1e6 } else { 50.0 },
                    &tr,
                    &Sensitivity::default(),
                )
                .unwrap();
            seen.push(v);
        }
        assert!(seen.iter().all(|v| *v == Verdict::InsufficientHistory));
    }

    #[test]
    fn a_daily_curve_is_learned_and_a_surge_is_found_quickly() {
        let tr = traits(ValueKind::Count, Watch::Both);
        let mut b = Baseline::new();
        assert!(run(&mut b, 0..3 * 1440, &tr, |m| daily(m, 500.0)).is_empty());
        let onset = 3 * 1440 + 800;
        let changes = run(&mut b, 3 * 1440..onset + 60, &tr, |m| {
            let v = daily(m, 500.0);
            if m >= onset { v * 4.0 } else { v }
        });
        let (m, first) = changes.first().copied().expect("the surge is found");
        assert!(
            matches!(first, EpisodeChange::Started(ep) if ep.direction == Direction::Increase && ep.start.secs() == T0 + onset * 60)
        );
        assert!(m <= onset + 2, "found at minute {} after onset", m - onset);
    }

    #[test]
    fn a_single_blip_is_not_an_anomaly_and_is_not_learned() {
        let tr = traits(ValueKind::Latency, Watch::Increase);
        let mut b = Baseline::new();
        run(&mut b, 0..2 * 1440, &tr, |m| 100.0 + (m % 7) as f64);
        let before = b.clone();
        let changes = run(&mut b, 2 * 1440..2 * 1440 + 1, &tr, |_| 900.0);
        assert!(changes.is_empty());
        assert_eq!(
            b.slots, before.slots,
            "an abnormal point taught the baseline"
        );
    }

    #[test]
    fn a_repeated_incident_is_reported_every_time() {
        let tr = SignalTraits {
            min_change: 2.0,
            ..traits(ValueKind::Count, Watch::Increase)
        };
        let mut b = Baseline::new();
        let mut starts = 0;
        for day in 0..6 {
            let changes = run(&mut b, day * 1440..(day + 1) * 1440, &tr, |m| {
                if day >= 1 && (m % 1440) >= 600 + day * 37 && (m % 1440) < 640 + day * 37 {
                    40.0
                } else {
                    1.0
                }
            });
            starts += started(&changes).len();
        }
        assert_eq!(
            starts, 5,
            "each of the five incidents after the first day is reported"
        );
    }

    #[test]
    fn good_direction_changes_are_ignored() {
        let tr = traits(ValueKind::Count, Watch::Increase);
        let mut b = Baseline::new();
        run(&mut b, 0..2 * 1440, &tr, |_| 50.0);
        assert!(run(&mut b, 2 * 1440..2 * 1440 + 60, &tr, |_| 0.0).is_empty());
    }

    #[test]
    fn an_anomaly_ends_after_the_signal_recovers() {
        let tr = traits(ValueKind::Count, Watch::Increase);
        let mut b = Baseline::new();
        run(&mut b, 0..2 * 1440, &tr, |_| 5.0);
        let changes = run(&mut b, 2 * 1440..2 * 1440 + 60, &tr, |m| {
            if m < 2 * 1440 + 20 { 80.0 } else { 5.0 }
        });
        let ended = changes.iter().find_map(|(_, c)| match c {
            EpisodeChange::Ended(ep, end) => Some((*ep, *end)),
            _ => None,
        });
        let (ep, end) = ended.expect("the anomaly ends");
        assert_eq!(ep.start.secs(), T0 + 2 * 86_400);
        assert_eq!(end.secs(), T0 + 2 * 86_400 + 20 * 60);
    }

    #[test]
    fn replaying_the_same_points_changes_nothing() {
        let tr = traits(ValueKind::Count, Watch::Both);
        let mut b = Baseline::new();
        run(&mut b, 0..1500, &tr, |m| daily(m, 100.0));
        let snapshot = b.clone();
        assert!(run(&mut b, 1400..1500, &tr, |m| daily(m, 100.0) * 9.0).is_empty());
        assert_eq!(b, snapshot);
    }

    /// The average latency of `n` requests in minute `m`: each request
    /// takes 100 ms times a log-normal factor (σ = 0.5), scaled by `slower`.
    fn average_of(n: usize, m: i64, slower: f64) -> f64 {
        let sum: f64 = (0..n as i64)
            .map(|i| {
                let k = m * 1_000 + i;
                100.0 * (0.5 * standard_normal(k, 11)).exp() * slower
            })
            .sum();
        sum / n as f64
    }

    /// Feeds minutes `minutes` of the average latency of `n(m)` requests,
    /// whose usual number is `usual`, telling the detector their load or
    /// not; returns the anomalies started.
    fn run_latency(
        b: &mut Baseline,
        minutes: std::ops::Range<i64>,
        n: impl Fn(i64) -> usize,
        usual: usize,
        slower: impl Fn(i64) -> f64,
        told: bool,
    ) -> Vec<i64> {
        let tr = SignalTraits {
            min_change: 20.0,
            min_ratio: 0.3,
            ..traits(ValueKind::Latency, Watch::Increase)
        };
        let mut started = Vec::new();
        for m in minutes {
            let t = Timestamp::from_secs(T0 + m * 60);
            let load = told.then(|| (n(m) as f64 + 1.0) / (usual as f64 + 1.0));
            let value = average_of(n(m), m, slower(m));
            if let Some((_, EpisodeChange::Started(_))) =
                b.observe_latency(t, value, load, &tr, &Sensitivity::default())
            {
                started.push(m);
            }
        }
        started
    }

    #[test]
    fn an_average_of_fewer_requests_than_usual_may_be_jumpier() {
        // Learned at 80 requests a minute, then a day at 8 (a weekend
        // morning): each average is some three times as jumpy.
        for told in [true, false] {
            let mut b = Baseline::new();
            let learning = run_latency(&mut b, 0..3 * 1440, |_| 80, 80, |_| 1.0, told);
            assert!(learning.is_empty(), "{learning:?}");
            let quiet = run_latency(&mut b, 3 * 1440..4 * 1440, |_| 8, 80, |_| 1.0, told);
            if told {
                assert!(quiet.is_empty(), "a quiet day alarmed at {quiet:?}");
            } else {
                assert!(
                    !quiet.is_empty(),
                    "the band was wide enough without the load"
                );
            }
        }
    }

    #[test]
    fn an_average_of_more_requests_than_usual_is_steadier() {
        // Learned at 10 requests a minute; then a busy hour at 40 in which
        // the function is 60% slower: found only when the detector knows
        // how steady an average of 40 is.
        let onset = 3 * 1440 + 600;
        let n = |m: i64| if m >= onset - 60 { 40 } else { 10 };
        let slower = |m: i64| if m >= onset { 1.6 } else { 1.0 };
        for told in [true, false] {
            let mut b = Baseline::new();
            let found = run_latency(&mut b, 0..onset + 60, n, 10, slower, told);
            if told {
                assert!(
                    found.first().is_some_and(|&m| m >= onset && m < onset + 10),
                    "{found:?}"
                );
            } else {
                assert!(found.iter().all(|&m| m >= onset + 10), "{found:?}");
            }
        }
    }
}
