//! Time as the domain sees it: whole seconds since the Unix epoch, in UTC.
//!
//! The domain never reads a clock. Every function that needs "now" takes it
//! as an argument, so a replay, a test and a Lambda invocation all run the
//! same code with different clocks.

use std::fmt;

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Seconds in one minute, hour, day and week.
pub const MINUTE: i64 = 60;
/// Seconds in one hour.
pub const HOUR: i64 = 3_600;
/// Seconds in one day.
pub const DAY: i64 = 86_400;
/// Seconds in one week.
pub const WEEK: i64 = 7 * DAY;

impl Timestamp {
    /// The timestamp `secs` seconds after the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    /// Seconds since the epoch.
    pub const fn secs(self) -> i64 {
        self.0
    }

    /// This timestamp moved by `secs` seconds (negative moves back).
    #[must_use]
    pub const fn add(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// Seconds from `earlier` to `self` (negative when `earlier` is later).
    pub const fn since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The start of the period of length `period` seconds that contains this
    /// timestamp, periods being aligned on the epoch as CloudWatch aligns them.
    #[must_use]
    pub const fn floor(self, period: i64) -> Self {
        if period <= 0 {
            return self;
        }
        Self(self.0.div_euclid(period) * period)
    }

    /// The first period boundary at or after this timestamp.
    #[must_use]
    pub const fn ceil(self, period: i64) -> Self {
        let f = self.floor(period);
        if f.0 == self.0 { f } else { Self(f.0 + period) }
    }

    /// Seconds since midnight UTC, in `0..86_400`.
    pub const fn second_of_day(self) -> i64 {
        self.0.rem_euclid(DAY)
    }

    /// Day of the week, Monday = 0 … Sunday = 6.
    pub const fn weekday(self) -> usize {
        // 1970-01-01 was a Thursday (3 with Monday = 0).
        ((self.0.div_euclid(DAY) + 3).rem_euclid(7)) as usize
    }

    /// The calendar date and time of day in UTC.
    pub const fn civil(self) -> Civil {
        let days = self.0.div_euclid(DAY);
        let sod = self.0.rem_euclid(DAY);
        // Howard Hinnant's days-to-civil algorithm.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
        Civil {
            year,
            month: month as u8,
            day: day as u8,
            hour: (sod / HOUR) as u8,
            minute: ((sod % HOUR) / MINUTE) as u8,
            second: (sod % MINUTE) as u8,
        }
    }

    /// The timestamp of a calendar date and time in UTC.
    pub const fn from_civil(c: Civil) -> Self {
        let y = if c.month <= 2 { c.year - 1 } else { c.year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = c.month as i64;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + c.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Self(days * DAY + c.hour as i64 * HOUR + c.minute as i64 * MINUTE + c.second as i64)
    }

    /// `HH:MM` in UTC, for sentences such as "updated at 14:02".
    pub fn hhmm(self) -> String {
        let c = self.civil();
        format!("{:02}:{:02}", c.hour, c.minute)
    }
}

/// A calendar date and time of day in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    /// Proleptic Gregorian year.
    pub year: i64,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–59.
    pub second: u8,
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with second precision, e.g. `2026-03-08T14:05:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.civil();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }
}

/// A half-open time range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeRange {
    /// First second in the range.
    pub start: Timestamp,
    /// First second after the range.
    pub end: Timestamp,
}

impl TimeRange {
    /// The range `[start, end)`; an inverted range is empty.
    pub const fn new(start: Timestamp, end: Timestamp) -> Self {
        Self { start, end }
    }

    /// Whether the range holds no second at all.
    pub const fn is_empty(&self) -> bool {
        self.end.0 <= self.start.0
    }

    /// Whether `t` lies in the range.
    pub const fn contains(&self, t: Timestamp) -> bool {
        t.0 >= self.start.0 && t.0 < self.end.0
    }

    /// Length in seconds (0 when empty).
    pub const fn len_secs(&self) -> i64 {
        if self.is_empty() {
            0
        } else {
            self.end.0 - self.start.0
        }
    }
}

/// Parses durations such as `90s`, `15m`, `2h`, `3d`, `1w` into seconds.
///
/// Returns `None` when the text is not a positive whole number followed by
/// one of the units `s`, `m`, `h`, `d`, `w`.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(unit_at);
    let n: i64 = digits.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => MINUTE,
        "h" => HOUR,
        "d" => DAY,
        "w" => WEEK,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(y: i64, mo: u8, d: u8, h: u8, mi: u8, s: u8) -> Timestamp {
        Timestamp::from_civil(Civil {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: s,
        })
    }

    #[test]
    fn civil_round_trips_across_leap_years_and_centuries() {
        for secs in [
            0,
            951_782_400,
            1_772_980_000,
            4_102_444_800,
            -86_400,
            1_709_164_800,
        ] {
            let t = Timestamp::from_secs(secs);
            assert_eq!(Timestamp::from_civil(t.civil()), t, "{secs}");
        }
        assert_eq!(ts(2026, 3, 8, 14, 5, 0).to_string(), "2026-03-08T14:05:00Z");
        assert_eq!(ts(2024, 2, 29, 0, 0, 0).to_string(), "2024-02-29T00:00:00Z");
    }

    #[test]
    fn weekday_is_monday_based() {
        assert_eq!(ts(2026, 3, 9, 12, 0, 0).weekday(), 0); // a Monday
        assert_eq!(ts(2026, 3, 8, 23, 59, 59).weekday(), 6); // a Sunday
    }

    #[test]
    fn floor_and_ceil_align_on_periods() {
        let t = ts(2026, 3, 8, 14, 7, 31);
        assert_eq!(t.floor(300), ts(2026, 3, 8, 14, 5, 0));
        assert_eq!(t.ceil(300), ts(2026, 3, 8, 14, 10, 0));
        assert_eq!(t.floor(300).ceil(300), t.floor(300));
        assert_eq!(
            Timestamp::from_secs(-1).floor(60),
            Timestamp::from_secs(-60)
        );
    }

    #[test]
    fn durations_parse_with_units_and_refuse_the_rest() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("2d"), Some(172_800));
        assert_eq!(parse_duration("1w"), Some(WEEK));
        for bad in ["", "15", "m", "1.5h", "-3m", "3 parsecs"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
