//! The detector's generic mode: a series whose meaning is unknown.
//!
//! The serverless mode knows from the catalog how a metric behaves (counts
//! are Poisson-like, latencies multiplicative), which direction is bad and
//! the smallest change that matters. Here nothing is known: values may be
//! negative, constant, integer or heavy-tailed, sampled every minute or
//! every hour, regularly or not, with or without a daily cycle. So the
//! baseline learns in the values' own units and chooses, as it goes:
//!
//! - between two predictions of the next value: a *flat* one (a robust
//!   running level, for series without a daily cycle) and the *daily
//!   profile* of the serverless mode (time-of-day slots plus the short-term
//!   level). Each is scored on the points it predicts, and the daily profile
//!   is only trusted once it has seen a day and predicts better;
//! - the spread, per prediction, robustly (clipped steps), with a floor
//!   relative to the series' magnitude so that a constant series can still
//!   change;
//! - the sampling interval (a running median of the time between points),
//!   so that persistence counts points, whatever their spacing.
//!
//! A single abnormal point is news here (spikes are what unknown series show
//! most), and a long anomaly whose points have settled around a new level
//! becomes the new normal, quietly. What is reported is rationed the way a
//! person reading the alerts would want:
//!
//! - a series that keeps surprising its model (heavy tails, frequent
//!   spikes) needs larger deviations before one is reported: the threshold
//!   rises with the recent rate of excursions (each excursion counts once,
//!   however long it lasts);
//! - in a busy series (several excursions in the last day or so), a new
//!   excursion is reported only if it is larger than the recent ones, so a
//!   daily incident is still reported every day, and an hourly spike is
//!   not. A lone abnormal point in a series that keeps surprising its model
//!   (more often than the surprise target, counted in points, so that an
//!   hourly series with a spike every other day qualifies) must be larger
//!   than the recent ones too;
//! - after a report, nothing is reported until the series has been free of
//!   abnormal points for a few points: one incident, one report, however
//!   long it flickers or escalates;
//! - a burst of abnormal points is news even when each of them alone would
//!   not be (each as large as the recent ones, or inside the usual range):
//!   the short-term count of abnormal points (a memory of a few dozen
//!   points) is compared with its own long-run mean and spread, so a series
//!   whose abnormal points always come in bunches has a wide spread and
//!   needs a much larger bunch, while a series with a steady trickle of
//!   spikes reports the moment they come thick and fast;
//! - an excursion that begins at a time of day (give or take five minutes)
//!   where one began on each of the three previous days is a daily habit (a
//!   nightly batch, a cron job), not news. The contamination guard keeps
//!   such points out of the profile, so without this memory they would be
//!   reported every day forever; with it, a repeated incident is still
//!   reported the second and the third time, and a habit from the fourth
//!   day on is not;
//! - in a series that keeps surprising its model, an abnormal point whose
//!   value lies inside the range the series normally takes (between running
//!   0.15% and 99.85% quantiles of its normal values) is not news either
//!   unless the deviation persists (three abnormal points of the last five):
//!   such series (spiky load, bursty traffic, hourly jobs drifting across
//!   the slots of the profile) show values at every level at odd times, and
//!   what a reader cares about is a value they have not seen or a deviation
//!   that lasts. Calm series keep the plain rule (two in a row);
//! - a young model is less sure of itself: the threshold is raised by a
//!   quarter on the first day judged, an eighth on the second, and so on
//!   (by 0.25 / days of history), since a profile learned from one or two
//!   days has spreads estimated from one or two points per slot;
//! - when a long anomaly has become the new normal and the series then
//!   goes back to where it was before it, that is recovery, not news: the
//!   predictions from before the anomaly (kept when it started) judge the
//!   point too, and if they find it normal they come back. A point on the
//!   way back (between the edge of the settled band and the edge of the
//!   band from before) is recovery too: a machine that cools down over an
//!   hour after a failure settled is not failing again at every step.
//!
//! None of this teaches the predictions: abnormal points never move the
//! level, the profile or their spreads (the contamination guard of the
//! serverless mode holds here too); they only move the excursion memory
//! (the size and count of recent excursions, the surprise rate, the burst
//! statistics, the daily stamps), which decides what is worth telling. The
//! range quantiles learn from normal points only, like the predictions.

use super::super::catalog::Direction;
use super::super::time::{DAY, Timestamp};
use super::{Baseline, Episode, EpisodeChange, SLOTS, Sensitivity, Verdict};

/// Points learned before anything is judged.
const WARMUP_POINTS: u32 = 64;
/// Learning rate of the flat level.
const FLAT_RATE: f32 = 0.05;
/// Learning rate of the spreads.
const DEV_RATE: f32 = 0.02;
/// Learning rate of the predictions' error scores.
const ERROR_RATE: f32 = 0.01;
/// The daily profile is used when its error is below this share of the
/// flat prediction's.
const SEASON_ADVANTAGE: f32 = 0.8;
/// Smallest spread, relative to the series' typical magnitude.
const RELATIVE_FLOOR: f64 = 1e-3;
/// A single point this many thresholds away starts an anomaly at once (at
/// 1, every abnormal point may start one).
const SPIKE_FACTOR: f64 = 1.0;
/// Abnormal points after which a settled anomaly becomes the new normal.
const SETTLE_POINTS: u32 = 48;
/// Points after a report, or after an abnormal point that came while
/// reports were held back, during which no new anomaly is reported.
const QUIET_POINTS: f32 = 12.0;
/// Share of the daily profile's recent error that its spread is at least.
const YOUNG_SPREAD: f64 = 0.5;
/// The generic threshold relative to the sensitivity's.
const THRESHOLD_SCALE: f64 = 0.8;
/// Normal points that end an anomaly.
const CLOSE_POINTS: f32 = 5.0;
/// Learning rate of the surprise rate (memory of about a thousand points).
const SURPRISE_RATE: f32 = 1e-3;
/// Surprises per point that a series may show before its threshold rises.
const SURPRISE_TARGET: f32 = 2e-3;
/// How fast the threshold rises with the surprise rate.
const SURPRISE_EXPONENT: f32 = 0.5;
/// Half-life, in seconds, of the memory of recent excursions.
const EXCURSION_HALF_LIFE: f32 = 24.0 * 3_600.0;
/// Recent excursions (decayed count) from which the series is busy.
const BUSY_EXCURSIONS: f32 = 3.0;
/// In a busy series, a new excursion is reported only if it is this many
/// times larger than what remains of the memory of recent ones.
const EXCURSION_RATIO: f32 = 1.3;
/// Share of normal values above the high quantile of the normal range (and
/// below the low one).
const RANGE_TAIL: f32 = 0.0015;
/// In a spiky series, abnormal points among the last five from which a
/// deviation inside the normal range is news.
const PERSIST_IN_RANGE: u32 = 3;
/// How much the threshold is raised, divided by the days of history.
const YOUTH: f64 = 0.25;
/// Decay per point of the short-term count of abnormal points (a half-life
/// of 16 points: 2^(-1/16)).
const BURST_DECAY: f32 = 0.957_603_3;
/// Standard deviations above its long-run mean from which the short-term
/// count of abnormal points is a burst.
const BURST_SIGMAS: f32 = 5.0;
/// Smallest short-term count of abnormal points that is a burst.
const BURST_MIN: f32 = 3.0;
/// Step of the range quantiles towards the centre, relative to the flat
/// spread (the step outwards is larger by (1 - tail) / tail, so that the
/// quantiles settle where a share `RANGE_TAIL` of values lies beyond).
const RANGE_RATE: f32 = 5e-4;
/// Days in a row with an excursion beginning at the same time of day after
/// which another one there is a habit.
const HABIT_DAYS: u8 = 3;

/// `x`, or 0 when it is so small that it means nothing. Rates and counts
/// that decay towards zero point after point would otherwise end as
/// subnormal numbers, which the processor handles a hundred times slower.
fn flush(x: f32) -> f32 {
    if x.abs() < 1e-15 { 0.0 } else { x }
}

/// What the generic mode learns on top of the daily profile.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Generic {
    /// Typical seconds between points (running median).
    pub(crate) interval: f32,
    /// The flat prediction: a robust running level.
    pub(crate) flat: f32,
    /// Typical absolute deviation from the flat level.
    pub(crate) flat_dev: f32,
    /// Recent absolute error of the flat prediction.
    pub(crate) flat_err: f32,
    /// Recent absolute error of the daily profile.
    pub(crate) season_err: f32,
    /// Typical magnitude of the values.
    pub(crate) magnitude: f32,
    /// Running level of the points of the ongoing anomaly.
    pub(crate) episode_level: f32,
    /// No anomaly is reported before this time.
    pub(crate) quiet_until: Option<Timestamp>,
    /// Share of recent points that began an abnormal excursion.
    pub(crate) surprise: f32,
    /// Largest deviation of recent abnormal points, as of `excursion_at`.
    pub(crate) excursion: f32,
    /// Recent excursions, a count decayed as `excursion` is.
    pub(crate) excursions: f32,
    /// When `excursion` and `excursions` were last updated.
    pub(crate) excursion_at: Option<Timestamp>,
    /// Abnormal points recently (a count decayed per point).
    pub(crate) burst: f32,
    /// Long-run mean of `burst`.
    pub(crate) burst_mean: f32,
    /// Long-run variance of `burst`.
    pub(crate) burst_var: f32,
    /// Low quantile of the normal values.
    pub(crate) range_low: f32,
    /// High quantile of the normal values.
    pub(crate) range_high: f32,
    /// The predictions as they were when the last anomaly started.
    pub(crate) prior: Option<Prior>,
}

/// What the predictions were before an anomaly, to recognise a return to
/// them once the anomaly has become the new normal.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Prior {
    /// The flat level.
    pub(crate) flat: f32,
    /// The flat spread.
    pub(crate) flat_dev: f32,
    /// The flat prediction's recent error.
    pub(crate) flat_err: f32,
    /// The daily profile's recent error.
    pub(crate) season_err: f32,
    /// The profile's short-term level.
    pub(crate) level: f32,
    /// Whether the anomaly settled as the new normal (only then is a return
    /// to these predictions recovery).
    pub(crate) settled: bool,
}

/// Which prediction judged a point.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Prediction {
    expected: f64,
    low: f64,
    high: f64,
    sd: f64,
}

impl Baseline {
    /// [`Baseline::observe`] for a series of unknown meaning.
    pub(super) fn observe_generic(
        &mut self,
        t: Timestamp,
        value: f64,
        sensitivity: &Sensitivity,
    ) -> Option<(Verdict, EpisodeChange)> {
        if self.next.is_some_and(|next| t < next) || !value.is_finite() {
            return None;
        }
        let dt = self.last_judged.map(|last| t.since(last));
        if let Some(dt) = dt {
            self.learn_interval(dt);
        }
        let interval = f64::from(self.generic.interval).max(1.0);
        let gap = dt.map_or(1, |dt| ((dt as f64 / interval).round() as i64).max(1));
        self.last_judged = Some(t);
        self.next = Some(t.add(1));
        self.shift_bits(gap);

        let mut verdict = self.judge_generic(t, value, sensitivity);
        if matches!(verdict, Verdict::Abnormal { .. })
            && let Some(prior) = self.generic.prior.filter(|p| p.settled)
        {
            // Back where the series was before the anomaly that settled?
            // That is recovery: the predictions from before come back. On
            // the way back (between where the anomaly settled and where the
            // series was before it) it is recovery too, and the point is
            // learned like any normal one.
            let now = self.swap_prior(prior);
            let before = self.judge_generic(t, value, sensitivity);
            if matches!(before, Verdict::Normal { .. }) {
                verdict = before;
                self.generic.prior = None;
            } else {
                self.swap_prior(now);
                if let (
                    Verdict::Abnormal {
                        expected: settled, ..
                    },
                    Verdict::Abnormal { expected: old, .. },
                ) = (verdict, before)
                    && (settled.min(old)..=settled.max(old)).contains(&value)
                {
                    verdict = Verdict::Normal { expected: settled };
                }
            }
        }
        self.score_predictions(t, value as f32);
        let change = self.track_generic(t, value, &verdict, sensitivity);
        let learn = match verdict {
            Verdict::InsufficientHistory => true,
            Verdict::Normal { .. } => self.episode.is_none(),
            Verdict::Abnormal { .. } => false,
        };
        if learn {
            self.learn_generic(t, value);
        }
        Some((verdict, change))
    }

    fn learn_interval(&mut self, dt: i64) {
        if dt <= 0 {
            return;
        }
        let dt = dt as f32;
        let g = &mut self.generic;
        if g.interval <= 0.0 {
            g.interval = dt;
        } else {
            // A running median: small steps towards each new spacing, so a
            // gap now and then does not move it.
            let step = g.interval * 0.05;
            g.interval += if dt > g.interval { step } else { -step };
            if (dt - g.interval).abs() < step {
                g.interval = dt;
            }
        }
    }

    fn spread_floor(&self) -> f64 {
        (f64::from(self.generic.magnitude) * RELATIVE_FLOOR).max(1e-9)
    }

    /// The daily profile's band at `t`, once it has seen a day.
    fn seasonal(&self, t: Timestamp) -> Option<Prediction> {
        let first = self.first?;
        if t.since(first) < DAY {
            return None;
        }
        let (low, high, sd) = self.expectation_raw(t)?;
        let slot = self.slots[Self::slot_index(t)];
        Some(Prediction {
            expected: if slot.n > 0 {
                f64::from(slot.loc + self.level)
            } else {
                (low + high) / 2.0
            },
            low,
            high,
            // A young profile has no spread of its own yet: its recent
            // error is the least it can claim.
            sd: sd.max(YOUNG_SPREAD * f64::from(self.generic.season_err)),
        })
    }

    fn flat(&self) -> Prediction {
        let g = &self.generic;
        let flat = f64::from(g.flat);
        Prediction {
            expected: flat,
            low: flat,
            high: flat,
            sd: f64::from(g.flat_dev) * 1.25,
        }
    }

    /// The signed score of `value` against a prediction (0 inside its band).
    fn score_against(&self, p: &Prediction, value: f64) -> (f64, f64) {
        let sd = p.sd.max(self.spread_floor());
        if value > p.high {
            ((value - p.high) / sd, p.high)
        } else if value < p.low {
            ((value - p.low) / sd, p.low)
        } else {
            (0.0, p.expected)
        }
    }

    /// The predictions as they are now.
    fn snapshot(&self) -> Prior {
        let g = &self.generic;
        Prior {
            flat: g.flat,
            flat_dev: g.flat_dev,
            flat_err: g.flat_err,
            season_err: g.season_err,
            level: self.level,
            settled: false,
        }
    }

    /// Puts `prior`'s predictions in place and returns those it replaced
    /// (marked settled, so that swapping them back restores everything).
    fn swap_prior(&mut self, prior: Prior) -> Prior {
        let now = Prior {
            settled: true,
            ..self.snapshot()
        };
        let g = &mut self.generic;
        g.flat = prior.flat;
        g.flat_dev = prior.flat_dev;
        g.flat_err = prior.flat_err;
        g.season_err = prior.season_err;
        self.level = prior.level;
        now
    }

    fn judge_generic(&self, t: Timestamp, value: f64, sensitivity: &Sensitivity) -> Verdict {
        // Everything is learned for a day (and at least a few dozen
        // points), so that the daily profile has seen each time of day once
        // before the first judgement.
        if self.learned < WARMUP_POINTS || self.first.is_none_or(|f| t.since(f) < DAY) {
            return Verdict::InsufficientHistory;
        }
        let g = &self.generic;
        let flat = self.flat();
        let seasonal = self.seasonal(t);
        // The prediction with the smaller recent error judges. While the
        // other is not clearly worse, a point is only abnormal if both say
        // so: with no clear model of the series, doubt is not an anomaly.
        let (primary, second) = match seasonal {
            Some(s) if g.season_err < g.flat_err => (
                s,
                (g.flat_err * SEASON_ADVANTAGE <= g.season_err).then_some(flat),
            ),
            Some(s) => (
                flat,
                (g.season_err * SEASON_ADVANTAGE <= g.flat_err).then_some(s),
            ),
            None => (flat, None),
        };
        let threshold = sensitivity.z_threshold * THRESHOLD_SCALE * self.threshold_factor(t);
        let (score, edge) = self.score_against(&primary, value);
        let confirmed = second.is_none_or(|p| {
            let (other, _) = self.score_against(&p, value);
            other.abs() >= threshold && other.signum() == score.signum()
        });
        if score.abs() >= threshold && confirmed {
            Verdict::Abnormal {
                direction: if score > 0.0 {
                    Direction::Increase
                } else {
                    Direction::Decrease
                },
                expected: edge,
                score,
            }
        } else {
            Verdict::Normal {
                expected: primary.expected,
            }
        }
    }

    /// How much higher than the sensitivity's threshold a deviation must be
    /// at `t` in this series. A series that keeps surprising its model
    /// (spikes every few hours, heavy tails) needs a larger deviation before
    /// one of them is worth telling; one that rarely surprises keeps the
    /// plain threshold. Excursions count once, however long they last, so a
    /// long incident does not make the next one harder to see. A young
    /// model asks a little more too (see [`YOUTH`]).
    fn threshold_factor(&self, t: Timestamp) -> f64 {
        let ratio = (self.generic.surprise / SURPRISE_TARGET).max(1.0);
        let days = self
            .first
            .map_or(1.0, |first| t.since(first) as f64 / DAY as f64)
            .max(1.0);
        f64::from(ratio.powf(SURPRISE_EXPONENT)) * (1.0 + YOUTH / days)
    }

    /// Whether the series surprises its model more often than a calm one.
    fn spiky(&self) -> bool {
        self.generic.surprise > SURPRISE_TARGET
    }

    fn learn_generic(&mut self, t: Timestamp, value: f64) {
        let y = value as f32;
        let warm = self.learned > 0;
        let g = &mut self.generic;
        if !warm {
            g.flat = y;
            g.flat_dev = 0.0;
            g.magnitude = y.abs();
            g.range_low = y;
            g.range_high = y;
        } else {
            let residual = y - g.flat;
            let young = self.learned < WARMUP_POINTS;
            let limit = if young {
                f32::INFINITY
            } else {
                3.0 * g.flat_dev.max(f32::MIN_POSITIVE)
            };
            let clipped = residual.clamp(-limit, limit);
            let rate = if young {
                (1.0 / (self.learned as f32 + 1.0)).max(FLAT_RATE)
            } else {
                FLAT_RATE
            };
            g.flat += rate * clipped;
            let dev_rate = if young {
                (1.0 / (self.learned as f32 + 1.0)).max(DEV_RATE)
            } else {
                DEV_RATE
            };
            g.flat_dev += dev_rate * (clipped.abs() - g.flat_dev);
            g.magnitude += DEV_RATE * (y.abs() - g.magnitude);
            // Running quantiles: a step in, or a larger step out, so that
            // they settle where a share RANGE_TAIL of the values lies
            // beyond each.
            let step = RANGE_RATE * g.flat_dev.max(f32::MIN_POSITIVE);
            let out = step * (1.0 - RANGE_TAIL) / RANGE_TAIL;
            g.range_high += if y > g.range_high { out } else { -step };
            g.range_low += if y < g.range_low { -out } else { step };
        }
        self.learn_profile(t, y);
    }

    /// Scores both predictions on every point, abnormal ones included (a
    /// prediction that misses every daily rise must not look good because
    /// its misses were never learned), with each error clipped so that one
    /// wild point weighs little.
    fn score_predictions(&mut self, t: Timestamp, y: f32) {
        if self.learned == 0 {
            return;
        }
        let flat_res = (y - self.generic.flat).abs();
        let idx = Self::slot_index(t);
        let slot = self.slots[idx];
        let season_res = (slot.n > 0 && self.first.is_some_and(|f| t.since(f) >= DAY))
            .then(|| (y - (slot.loc + self.level)).abs());
        let g = &mut self.generic;
        let limit = 6.0 * g.flat_err.max(g.flat_dev).max(f32::MIN_POSITIVE);
        g.flat_err += ERROR_RATE * (flat_res.min(limit) - g.flat_err);
        match season_res {
            Some(r) => g.season_err += ERROR_RATE * (r.min(limit) - g.season_err),
            // Until the profile has seen a day it is no better than flat.
            None => g.season_err = g.flat_err.max(g.season_err),
        }
    }

    fn track_generic(
        &mut self,
        t: Timestamp,
        value: f64,
        verdict: &Verdict,
        sensitivity: &Sensitivity,
    ) -> EpisodeChange {
        let interval = f64::from(self.generic.interval).max(1.0) as i64;
        let fresh = match verdict {
            Verdict::Abnormal { direction, .. } => {
                let bits = match direction {
                    Direction::Increase => self.up_bits,
                    Direction::Decrease => self.down_bits,
                };
                bits & 0b10 == 0
            }
            _ => false,
        };
        let abnormal = matches!(verdict, Verdict::Abnormal { .. });
        let mut burst = false;
        if !matches!(verdict, Verdict::InsufficientHistory) {
            let g = &mut self.generic;
            let hit = if fresh { 1.0 } else { 0.0 };
            g.surprise = flush(g.surprise + SURPRISE_RATE * (hit - g.surprise));
            g.burst = flush(g.burst * BURST_DECAY + if abnormal { 1.0 } else { 0.0 });
            burst = abnormal
                && g.burst >= BURST_MIN
                && g.burst > g.burst_mean + BURST_SIGMAS * g.burst_var.sqrt();
            let diff = g.burst - g.burst_mean;
            g.burst_mean = flush(g.burst_mean + SURPRISE_RATE * diff);
            g.burst_var = flush(g.burst_var + SURPRISE_RATE * (diff * diff - g.burst_var));
        }
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
                self.generic.episode_level += 0.2 * (value as f32 - self.generic.episode_level);
                if ep.points >= SETTLE_POINTS {
                    // A long anomaly has become the new normal.
                    let ended = *ep;
                    self.episode = None;
                    self.up_bits = 0;
                    self.down_bits = 0;
                    self.settle(t);
                    return EpisodeChange::Ended(ended, t.add(interval));
                }
                return EpisodeChange::Extended(*ep);
            }
            let bits = match direction {
                Direction::Increase => self.up_bits,
                Direction::Decrease => self.down_bits,
            };
            let run = (bits & 0b11) == 0b11;
            let recent = (bits & 0b1_1111).count_ones();
            let spike = score.abs() >= SPIKE_FACTOR * THRESHOLD_SCALE * sensitivity.z_threshold;
            let deviation = (value - expected).abs() as f32;
            let habit = self.habitual(t);
            let decay = self.excursion_decay(t);
            let remembered = self.generic.excursion * decay;
            let lone = !run && recent < 2;
            let busy = self.generic.excursions * decay >= BUSY_EXCURSIONS || (lone && self.spiky());
            self.generic.excursion = remembered.max(deviation);
            self.generic.excursions =
                self.generic.excursions * decay + if fresh { 1.0 } else { 0.0 };
            self.generic.excursion_at = Some(t);
            // A short deviation inside the usual range of a spiky series.
            let ordinary = recent < PERSIST_IN_RANGE
                && self.spiky()
                && (f64::from(self.generic.range_low)..=f64::from(self.generic.range_high))
                    .contains(&value);
            // An abnormal point while reports are held back holds them back
            // longer: the incident is not over.
            let held = self.generic.quiet_until.is_some_and(|q| t < q);
            if held {
                self.generic.quiet_until =
                    Some(t.add((QUIET_POINTS * self.generic.interval.max(1.0)) as i64));
            }
            let quiet = held
                || (!burst
                    && (ordinary || habit || (busy && deviation <= EXCURSION_RATIO * remembered)));
            if self.episode.is_none() && (run || recent >= 3 || spike) && !quiet {
                let ep = Episode::begin(direction, t, t, value, expected, score);
                self.episode = Some(ep);
                self.generic.prior = Some(self.snapshot());
                self.generic.episode_level = value as f32;
                self.generic.quiet_until =
                    Some(t.add((QUIET_POINTS * self.generic.interval.max(1.0)) as i64));
                return EpisodeChange::Started(ep);
            }
        }
        if let Some(ep) = self.episode
            && t.since(ep.last_abnormal) as f32 >= CLOSE_POINTS * self.generic.interval.max(1.0)
        {
            self.episode = None;
            return EpisodeChange::Ended(ep, ep.last_abnormal.add(interval));
        }
        EpisodeChange::None
    }

    /// Whether excursions began at this time of day (give or take a slot
    /// of the profile) on each of the last [`HABIT_DAYS`] days, and
    /// remembers this one.
    ///
    /// `recur` holds, per slot, a stamp of the last day an excursion began
    /// there and, after them, how many days in a row (up to that day) one
    /// did.
    fn habitual(&mut self, t: Timestamp) -> bool {
        if self.recur.len() != 2 * SLOTS {
            self.recur = vec![0; 2 * SLOTS];
        }
        // Days are stamped 1 to 255 (0 is "never"), so a stamp is
        // ambiguous only across 255 days, far beyond the few days counted.
        let stamp = |day: i64| (day.rem_euclid(255) + 1) as u8;
        let day = t.secs().div_euclid(DAY);
        let (today, yesterday) = (stamp(day), stamp(day - 1));
        let idx = Self::slot_index(t);
        let (stamps, streaks) = self.recur.split_at_mut(SLOTS);
        let streak = [idx + SLOTS - 1, idx, idx + 1]
            .iter()
            .map(|&i| i % SLOTS)
            .filter(|&i| stamps[i] == yesterday)
            .map(|i| streaks[i])
            .max()
            .unwrap_or(0);
        let own = if stamps[idx] == today {
            streaks[idx]
        } else {
            0
        };
        stamps[idx] = today;
        streaks[idx] = own.max(streak.saturating_add(1));
        streak >= HABIT_DAYS
    }

    /// How much of the memory of recent excursions remains at `t`.
    fn excursion_decay(&self, t: Timestamp) -> f32 {
        match self.generic.excursion_at {
            None => 0.0,
            Some(at) => {
                let age = t.since(at).max(0) as f32;
                (-age / EXCURSION_HALF_LIFE * std::f32::consts::LN_2).exp()
            }
        }
    }

    /// Moves both predictions to the level the anomaly settled at.
    fn settle(&mut self, t: Timestamp) {
        if let Some(prior) = self.generic.prior.as_mut() {
            prior.settled = true;
        }
        let target = self.generic.episode_level;
        let shift = target - self.generic.flat;
        self.generic.flat = target;
        let idx = Self::slot_index(t);
        if self.slots[idx].n > 0 {
            self.level = target - self.slots[idx].loc;
        } else {
            self.level += shift;
        }
    }
}
