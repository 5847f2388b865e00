//! The daily curve of API requests: a peak in the users' afternoon, a night
//! trough at 5-15% of it, another level at weekends, a level that varies
//! from day to day, and a slow wander around the curve, on top of which the
//! simulation draws Poisson counts.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Normal};

use super::spec::Profile;
use crate::domain::time::Timestamp;

/// Expected API requests per minute, minute by minute.
#[derive(Clone, Debug)]
pub(crate) struct Curve {
    /// Expected requests per minute for each minute of the data.
    rates: Vec<f64>,
}

/// A raised cosine of half-width `width` hours around `center`, on the
/// 24-hour circle: 1 at the center, 0 beyond `width`.
fn bell(hour: f64, center: f64, width: f64) -> f64 {
    let d = (hour - center).rem_euclid(24.0);
    let d = d.min(24.0 - d);
    if d >= width {
        0.0
    } else {
        (1.0 + libm::cos(std::f64::consts::PI * d / width)) / 2.0
    }
}

impl Curve {
    /// The curve of `profile` over `minutes` minutes from `start`.
    pub(crate) fn new<R: Rng + ?Sized>(
        profile: &Profile,
        start: Timestamp,
        minutes: u32,
        rng: &mut R,
    ) -> Curve {
        let peak_hour = rng.random_range(13.5..16.5);
        let width = rng.random_range(10.0..11.5);
        // Some apps have a second, evening peak (people at home).
        let evening = if rng.random_bool(0.4) {
            rng.random_range(0.1..0.35)
        } else {
            0.0
        };
        let weekend_shift = rng.random_range(0.5..2.0);
        let offset = i64::from(profile.utc_offset_hours) * 3600;
        let trough = profile.trough_ratio.clamp(0.01, 0.9);
        let day_noise = Normal::new(1.0, 0.05).ok();
        let wander = Normal::new(0.0, 0.008).ok();
        let mut day_levels: Vec<(i64, f64)> = Vec::new();
        let mut x = 0.0f64;
        let mut rates = Vec::with_capacity(minutes as usize);
        for m in 0..minutes {
            let local = start.add(i64::from(m) * 60 + offset);
            let day = local.secs().div_euclid(86_400);
            let level = match day_levels.last() {
                Some(&(d, l)) if d == day => l,
                _ => {
                    let l: f64 = day_noise.map_or(1.0, |n| n.sample(rng));
                    let l = l.clamp(0.85, 1.15);
                    day_levels.push((day, l));
                    l
                }
            };
            let weekend = local.weekday() >= 5;
            let hour = local.second_of_day() as f64 / 3600.0;
            let shift = if weekend { weekend_shift } else { 0.0 };
            let main = bell(hour, peak_hour + shift, width);
            let eve = bell(hour, 20.5 + shift, 3.0);
            let top = 1.0 + evening * bell(peak_hour, 20.5, 3.0);
            let shape = ((main + evening * eve) / top).min(1.0);
            let mut rate =
                profile.peak_requests_per_min * (trough + (1.0 - trough) * shape) * level;
            if weekend {
                rate *= profile.weekend_factor;
            }
            // A slow, mean-reverting wander of a few percent.
            x = 0.98 * x + wander.map_or(0.0, |n| n.sample(rng));
            rates.push(rate * (1.0 + x).max(0.5));
        }
        Curve { rates }
    }

    /// Expected requests in minute `m`.
    pub(crate) fn rate(&self, m: u32) -> f64 {
        self.rates.get(m as usize).copied().unwrap_or(0.0)
    }

    /// The largest expected rate over the data.
    pub(crate) fn max(&self) -> f64 {
        self.rates.iter().copied().fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn profile() -> Profile {
        Profile {
            peak_requests_per_min: 1000.0,
            weekend_factor: 0.5,
            utc_offset_hours: 9,
            trough_ratio: 0.08,
            batch_utc_minute: None,
            api_functions: 1,
            table: false,
            queue: false,
            rest_api: true,
            cron: false,
        }
    }

    #[test]
    fn the_night_trough_is_a_small_fraction_of_the_afternoon_peak_in_local_time() {
        // 2026-03-02 is a Monday; start at local midnight (UTC+9).
        let start = Timestamp::from_secs(1_772_409_600 - 9 * 3600);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let curve = Curve::new(&profile(), start, 1440, &mut rng);
        let hourly: Vec<f64> = (0..24)
            .map(|h| (0..60).map(|m| curve.rate(h * 60 + m)).sum::<f64>() / 60.0)
            .collect();
        let night = hourly[2..6].iter().copied().fold(f64::MAX, f64::min);
        let afternoon = hourly[13..17].iter().copied().fold(0.0, f64::max);
        let ratio = night / afternoon;
        assert!((0.04..0.2).contains(&ratio), "trough/peak {ratio}");
    }

    #[test]
    fn weekends_follow_the_weekend_factor() {
        // Monday 2026-03-02 00:00 UTC, one week, users at UTC.
        let mut p = profile();
        p.utc_offset_hours = 0;
        let start = Timestamp::from_secs(1_772_409_600);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let curve = Curve::new(&p, start, 7 * 1440, &mut rng);
        let day = |d: u32| (0..1440).map(|m| curve.rate(d * 1440 + m)).sum::<f64>();
        let weekday = (0..5).map(day).sum::<f64>() / 5.0;
        let weekend = (5..7).map(day).sum::<f64>() / 2.0;
        let ratio = weekend / weekday;
        assert!((0.4..0.6).contains(&ratio), "weekend/weekday {ratio}");
    }
}
