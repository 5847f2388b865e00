//! Tuning: how eager the detector is, per stack and per metric, and when
//! it must look away (exclusion windows).
//!
//! An exclusion window is time during which a stack's metrics are neither
//! judged nor learned: a maintenance window, a load test, a planned
//! migration. Nothing in it opens an insight, and nothing in it becomes the
//! new normal. Windows recur weekly (UTC) or are one-off ranges.

use std::collections::BTreeMap;

use super::detector::Sensitivity;
use super::metric::MetricKey;
use super::time::{DAY, MINUTE, TimeRange, Timestamp};

/// Time the detector looks away from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclusion {
    /// Every week, from `start` to `end` minutes after Monday 00:00 UTC
    /// (an end before the start wraps over the week's end).
    Weekly {
        /// Minutes after Monday 00:00 UTC.
        start: u32,
        /// Minutes after Monday 00:00 UTC.
        end: u32,
    },
    /// Once.
    Range(TimeRange),
}

/// Minutes in a week.
const WEEK_MINUTES: u32 = 7 * 24 * 60;

impl Exclusion {
    /// Whether the period starting at `t` falls in the window.
    pub fn covers(&self, t: Timestamp) -> bool {
        match *self {
            Exclusion::Range(r) => r.contains(t),
            Exclusion::Weekly { start, end } => {
                let days = t.weekday() as i64;
                let minute = ((days * DAY + t.second_of_day()) / MINUTE) as u32;
                if start <= end {
                    (start..end).contains(&minute)
                } else {
                    minute >= start || minute < end
                }
            }
        }
    }

    /// A weekly window from text such as `Sun 02:00-04:00` or
    /// `Mon-Fri 12:00-13:00` (every day of the range, UTC).
    ///
    /// # Errors
    ///
    /// A message naming what is wrong with the text.
    pub fn parse_weekly(text: &str) -> Result<Vec<Exclusion>, String> {
        let text = text.trim();
        let (days, hours) = text.split_once(' ').ok_or_else(|| {
            format!("{text:?} is not a weekly window such as \"Sun 02:00-04:00\"")
        })?;
        let day = |d: &str| -> Result<u32, String> {
            const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
            NAMES
                .iter()
                .position(|n| d.trim().to_ascii_lowercase().starts_with(n))
                .map(|i| i as u32)
                .ok_or_else(|| format!("{d:?} is not a day of the week (Mon … Sun)"))
        };
        let (first, last) = match days.split_once('-') {
            Some((a, b)) => (day(a)?, day(b)?),
            None => (day(days)?, day(days)?),
        };
        let (from, to) = hours
            .trim()
            .split_once('-')
            .ok_or_else(|| format!("{hours:?} is not a time range such as 02:00-04:00"))?;
        let minutes = |hm: &str| -> Result<u32, String> {
            let (h, m) = hm
                .trim()
                .split_once(':')
                .ok_or_else(|| format!("{hm:?} is not a time such as 02:00"))?;
            let h: u32 = h
                .parse()
                .map_err(|_| format!("{hm:?} is not a time such as 02:00"))?;
            let m: u32 = m
                .parse()
                .map_err(|_| format!("{hm:?} is not a time such as 02:00"))?;
            if h > 24 || m > 59 || (h == 24 && m > 0) {
                return Err(format!("{hm:?} is not a time of day"));
            }
            Ok(h * 60 + m)
        };
        let (from, to) = (minutes(from)?, minutes(to)?);
        if from == to {
            return Err(format!("{hours:?} is an empty window"));
        }
        let mut out = Vec::new();
        let mut d = first;
        loop {
            let start = d * 1440 + from;
            // A window that ends before it starts ends the next day.
            let end = if to > from {
                d * 1440 + to
            } else {
                (d + 1) * 1440 + to
            };
            out.push(Exclusion::Weekly {
                start: start % WEEK_MINUTES,
                end: end % WEEK_MINUTES,
            });
            if d == last {
                break;
            }
            d = (d + 1) % 7;
        }
        Ok(out)
    }
}

/// A rule that sets the sensitivity of the metrics it matches.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRule {
    /// Matches a metric whose name (`Errors`), namespace and name
    /// (`AWS/Lambda/Errors`) or dimension value (a function's name) equals
    /// this text.
    pub pattern: String,
    /// The sensitivity of the metrics it matches.
    pub sensitivity: Sensitivity,
}

impl MetricRule {
    fn matches(&self, key: &MetricKey) -> bool {
        let p = self.pattern.as_str();
        p == key.name()
            || p == format!("{}/{}", key.namespace(), key.name())
            || key.dimensions().iter().any(|d| d.value == p)
    }
}

/// Tuning of one stack.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackTuning {
    /// The stack's sensitivity, when it differs from the default.
    pub sensitivity: Option<Sensitivity>,
    /// Per-metric sensitivities; the first rule that matches wins.
    pub metrics: Vec<MetricRule>,
    /// When the stack's metrics are neither judged nor learned.
    pub exclusions: Vec<Exclusion>,
}

/// Tuning of every stack.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tuning {
    /// The default sensitivity.
    pub sensitivity: Sensitivity,
    /// Stacks that differ from the default, by name.
    pub stacks: BTreeMap<String, StackTuning>,
}

impl Tuning {
    /// Default tuning at `sensitivity`, for every stack alike.
    pub fn uniform(sensitivity: Sensitivity) -> Self {
        Self {
            sensitivity,
            stacks: BTreeMap::new(),
        }
    }

    /// The sensitivity for a metric of a stack: the first matching metric
    /// rule, else the stack's, else the default.
    pub fn sensitivity(&self, stack: &str, key: &MetricKey) -> Sensitivity {
        let Some(s) = self.stacks.get(stack) else {
            return self.sensitivity;
        };
        s.metrics
            .iter()
            .find(|r| r.matches(key))
            .map(|r| r.sensitivity)
            .or(s.sensitivity)
            .unwrap_or(self.sensitivity)
    }

    /// Whether the period starting at `t` of a stack's metrics is excluded.
    pub fn excluded(&self, stack: &str, t: Timestamp) -> bool {
        self.stacks
            .get(stack)
            .is_some_and(|s| s.exclusions.iter().any(|e| e.covers(t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::metric::Dimension;
    use crate::domain::time::Civil;

    fn at(y: i64, mo: u8, d: u8, h: u8, mi: u8) -> Timestamp {
        Timestamp::from_civil(Civil {
            year: y,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: 0,
        })
    }

    #[test]
    fn weekly_windows_parse_and_cover_their_minutes_in_utc() {
        let w = Exclusion::parse_weekly("Sun 02:00-04:00").unwrap();
        assert_eq!(w.len(), 1);
        // 2026-03-08 is a Sunday.
        assert!(w[0].covers(at(2026, 3, 8, 2, 0)));
        assert!(w[0].covers(at(2026, 3, 8, 3, 59)));
        assert!(!w[0].covers(at(2026, 3, 8, 4, 0)));
        assert!(!w[0].covers(at(2026, 3, 9, 2, 30)));
        let weekdays = Exclusion::parse_weekly("mon-fri 23:30-00:30").unwrap();
        assert_eq!(weekdays.len(), 5);
        assert!(
            weekdays.iter().any(|e| e.covers(at(2026, 3, 7, 0, 15))),
            "Friday's window ends on Saturday"
        );
        assert!(
            !weekdays.iter().any(|e| e.covers(at(2026, 3, 8, 0, 15))),
            "not Saturday night"
        );
        // Sunday to Monday across the week's end.
        let wrap = Exclusion::parse_weekly("Sun 23:00-01:00").unwrap();
        assert!(wrap[0].covers(at(2026, 3, 9, 0, 30)));
    }

    #[test]
    fn bad_weekly_windows_say_what_is_wrong() {
        for (text, says) in [
            ("Sunday", "weekly window"),
            ("Funday 02:00-04:00", "day of the week"),
            ("Sun 02:00", "time range"),
            ("Sun 2-4", "time such as"),
            ("Sun 25:00-26:00", "time of day"),
            ("Sun 02:00-02:00", "empty"),
        ] {
            let err = Exclusion::parse_weekly(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn the_first_matching_rule_then_the_stack_then_the_default_decide() {
        let key = MetricKey::new(
            "AWS/Lambda",
            "Duration",
            vec![Dimension::new("FunctionName", "shop-Batch-1")],
            "Average",
            60,
        );
        let other = MetricKey::new(
            "AWS/Lambda",
            "Errors",
            vec![Dimension::new("FunctionName", "shop-Get-2")],
            "Sum",
            60,
        );
        let mut t = Tuning::uniform(Sensitivity::MEDIUM);
        t.stacks.insert(
            "shop".into(),
            StackTuning {
                sensitivity: Some(Sensitivity::HIGH),
                metrics: vec![MetricRule {
                    pattern: "shop-Batch-1".into(),
                    sensitivity: Sensitivity::LOW,
                }],
                exclusions: vec![Exclusion::Range(TimeRange::new(
                    at(2026, 3, 8, 2, 0),
                    at(2026, 3, 8, 3, 0),
                ))],
            },
        );
        assert_eq!(t.sensitivity("shop", &key), Sensitivity::LOW);
        assert_eq!(t.sensitivity("shop", &other), Sensitivity::HIGH);
        assert_eq!(t.sensitivity("elsewhere", &key), Sensitivity::MEDIUM);
        assert!(t.excluded("shop", at(2026, 3, 8, 2, 30)));
        assert!(!t.excluded("shop", at(2026, 3, 8, 3, 0)));
        assert!(!t.excluded("elsewhere", at(2026, 3, 8, 2, 30)));
    }
}
