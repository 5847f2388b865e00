//! The users' week, as far as a stack's own traffic tells it.
//!
//! Most services see another level of traffic at weekends, and the change
//! comes at the users' local midnight: Friday to Saturday and Sunday to
//! Monday. A baseline learned from a couple of days cannot know the weekly
//! pattern, so that step would read as a traffic incident ("requests fell
//! by half") on every weekend a fresh deployment meets.
//!
//! Nobody has to say where the users are: their night is the quietest part
//! of the daily profile. Midnight comes one to six hours before the middle
//! of the quietest three hours (people sleep from around midnight; traffic
//! bottoms out between one and six). An hour boundary in that range that
//! starts a Saturday or a Monday for the time zone it implies is a
//! **weekend boundary**: for [`GRACE_SECS`] after it, traffic metrics
//! re-level (their short-term level becomes the new day's) instead of
//! being judged. Everything else (errors, latencies, throttles, backlogs)
//! is judged as always, and a traffic change at any other minute is an
//! incident as before.
//!
//! A stack whose traffic has no clear night (a swing below
//! [`MIN_SWING`]) has no inferred week: nothing is re-levelled.

use super::time::{HOUR, Timestamp};

/// How long after a weekend boundary traffic re-levels instead of being
/// judged.
pub const GRACE_SECS: i64 = 15 * 60;
/// Hours from the users' midnight to the middle of their quietest three
/// hours, shortest and longest.
const MIDNIGHT_TO_TROUGH: (i64, i64) = (1, 6);
/// The smallest difference, in the transformed (logarithmic) space, between
/// the busiest and the quietest hour for the night to be told: about ×3.
const MIN_SWING: f64 = 1.1;
/// Monday, Saturday (Monday = 0).
const WEEK_STARTS: [usize; 2] = [0, 5];

/// Where the users' night falls, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsersNight {
    /// The UTC hour in the middle of the quietest three hours.
    trough_hour: i64,
}

impl UsersNight {
    /// Reads the users' night from a daily traffic profile by UTC hour, in
    /// the transformed space (`Baseline::hourly_profile`). `None` when the
    /// day has no clear night.
    pub fn infer(profile: &[f64; 24]) -> Option<Self> {
        if profile.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let max = profile.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = profile.iter().copied().fold(f64::INFINITY, f64::min);
        if max - min < MIN_SWING {
            return None;
        }
        let quietest = (0..24)
            .map(|h| {
                let sum: f64 = (0..3).map(|i| profile[(h + i) % 24]).sum();
                (h, sum)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        Some(Self {
            trough_hour: (quietest.0 as i64 + 1) % 24,
        })
    }

    /// The weekend boundary whose grace `t` falls in, if any: an hour
    /// boundary that can be the users' midnight and starts a Saturday or a
    /// Monday in the time zone it implies.
    pub fn weekend_boundary(&self, t: Timestamp) -> Option<Timestamp> {
        let boundary = t.floor(HOUR);
        if t.since(boundary) >= GRACE_SECS {
            return None;
        }
        let hour = boundary.second_of_day() / HOUR;
        let to_trough = (self.trough_hour - hour).rem_euclid(24);
        if !(MIDNIGHT_TO_TROUGH.0..=MIDNIGHT_TO_TROUGH.1).contains(&to_trough) {
            return None;
        }
        // The UTC offsets for which this hour is local midnight (-12..=+14;
        // two of them near the date line).
        [-hour, 24 - hour]
            .into_iter()
            .filter(|o| (-12..=14).contains(o))
            .any(|o| WEEK_STARTS.contains(&boundary.add(o * HOUR).weekday()))
            .then_some(boundary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::DAY;

    /// A profile like a service used by people at UTC+`offset`: quietest
    /// from 1 to 4 local, busiest in the afternoon.
    fn profile(offset: i64) -> [f64; 24] {
        profile_busiest_at(offset, 15.0)
    }

    /// A profile busiest at `busiest` local hour and quietest twelve hours
    /// later.
    fn profile_busiest_at(offset: i64, busiest: f64) -> [f64; 24] {
        let mut p = [0.0; 24];
        for (utc, v) in p.iter_mut().enumerate() {
            let local = (utc as i64 + offset).rem_euclid(24) as f64;
            let phase = (local - busiest) / 24.0 * std::f64::consts::TAU;
            *v = 5.0 + 1.2 * phase.cos();
        }
        p
    }

    // 2026-01-03 was a Saturday.
    const SATURDAY: i64 = 1_767_398_400;

    #[test]
    fn the_users_midnight_before_a_saturday_or_monday_is_a_boundary() {
        // Users at UTC+1: their Saturday starts at 23:00 UTC on Friday.
        let night = UsersNight::infer(&profile(1)).expect("a clear night");
        let friday_23 = Timestamp::from_secs(SATURDAY - HOUR);
        assert_eq!(night.weekend_boundary(friday_23), Some(friday_23));
        assert_eq!(
            night.weekend_boundary(friday_23.add(GRACE_SECS - 60)),
            Some(friday_23)
        );
        assert_eq!(night.weekend_boundary(friday_23.add(GRACE_SECS)), None);
        // Their Monday starts at 23:00 UTC on Sunday.
        let sunday_23 = Timestamp::from_secs(SATURDAY + 2 * DAY - HOUR);
        assert_eq!(night.weekend_boundary(sunday_23), Some(sunday_23));
        // Not on Saturday night (Sunday starts) nor on weekdays.
        let saturday_23 = Timestamp::from_secs(SATURDAY + DAY - HOUR);
        assert_eq!(night.weekend_boundary(saturday_23), None);
        let tuesday_23 = Timestamp::from_secs(SATURDAY + 4 * DAY - HOUR);
        assert_eq!(night.weekend_boundary(tuesday_23), None);
        // Not in the afternoon either, whatever the day.
        let saturday_15 = Timestamp::from_secs(SATURDAY + 15 * HOUR);
        assert_eq!(night.weekend_boundary(saturday_15), None);
    }

    #[test]
    fn users_west_of_greenwich_start_their_week_later_in_utc() {
        // UTC-5: Monday starts at 05:00 UTC on Monday.
        let night = UsersNight::infer(&profile(-5)).expect("a clear night");
        let monday_05 = Timestamp::from_secs(SATURDAY + 2 * DAY + 5 * HOUR);
        assert_eq!(night.weekend_boundary(monday_05), Some(monday_05));
        assert_eq!(
            night.weekend_boundary(Timestamp::from_secs(SATURDAY + 2 * DAY)),
            None
        );
    }

    #[test]
    fn a_night_that_bottoms_out_at_six_still_tells_midnight() {
        // UTC-3, busiest at 18:00 and quietest at 06:00 local: Monday
        // starts at 03:00 UTC, six hours before the quietest hour.
        let night = UsersNight::infer(&profile_busiest_at(-3, 18.0)).expect("a clear night");
        let monday_03 = Timestamp::from_secs(SATURDAY + 2 * DAY + 3 * HOUR);
        assert_eq!(night.weekend_boundary(monday_03), Some(monday_03));
        // Seven hours before is too early for anyone's midnight.
        let monday_02 = Timestamp::from_secs(SATURDAY + 2 * DAY + 2 * HOUR);
        assert_eq!(night.weekend_boundary(monday_02), None);
    }

    #[test]
    fn traffic_without_a_night_has_no_week() {
        assert_eq!(UsersNight::infer(&[4.0; 24]), None);
        let mut shallow = profile(0);
        for v in &mut shallow {
            *v = 5.0 + (*v - 5.0) * 0.3;
        }
        assert_eq!(UsersNight::infer(&shallow), None);
        let mut broken = profile(0);
        broken[3] = f64::NAN;
        assert_eq!(UsersNight::infer(&broken), None);
    }
}
