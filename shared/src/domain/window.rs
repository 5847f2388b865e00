//! Metric windows: what is known of one metric over a stretch of time.
//!
//! A window holds the points a metric source returned and, as importantly,
//! the time ranges it was asked about (its coverage). Inside the coverage a
//! period without a point had no samples, as in CloudWatch; outside it
//! nothing is known. Merging is idempotent and order-free: merging the same
//! points twice, or in another order, gives the same window.

use super::time::{TimeRange, Timestamp};

/// Points and coverage of one metric.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MetricWindow {
    /// `(period start, value)`, sorted by time, one per period.
    points: Vec<(Timestamp, f64)>,
    /// Disjoint, sorted, non-adjacent ranges the source was asked about.
    coverage: Vec<TimeRange>,
}

/// What a window says about one period.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Observation {
    /// A point.
    Value(f64),
    /// Covered, but no point: the period had no samples.
    NoSamples,
}

impl MetricWindow {
    /// An empty window: nothing known.
    pub fn new() -> Self {
        Self::default()
    }

    /// A window from a fetch: `points` (any order, repeats allowed, the
    /// last of equal times winning) and the range that was fetched. Points
    /// outside `fetched` are kept and extend nothing.
    pub fn from_fetch(
        fetched: TimeRange,
        points: impl IntoIterator<Item = (Timestamp, f64)>,
        period: i64,
    ) -> Self {
        let mut w = Self::new();
        w.record(fetched, points, period);
        w
    }

    /// Merges a fetch into this window. A repeated point replaces the older
    /// value (CloudWatch revises a period as late samples arrive); a point
    /// that is not a finite number is ignored.
    pub fn record(
        &mut self,
        fetched: TimeRange,
        points: impl IntoIterator<Item = (Timestamp, f64)>,
        period: i64,
    ) {
        for (t, v) in points {
            if v.is_finite() {
                self.put(t.floor(period), v);
            }
        }
        self.cover(fetched);
    }

    /// Merges another window into this one.
    pub fn merge(&mut self, other: &MetricWindow) {
        for &(t, v) in &other.points {
            self.put(t, v);
        }
        for &r in &other.coverage {
            self.cover(r);
        }
    }

    fn put(&mut self, t: Timestamp, v: f64) {
        match self.points.binary_search_by_key(&t, |p| p.0) {
            Ok(i) => self.points[i].1 = v,
            Err(i) => self.points.insert(i, (t, v)),
        }
    }

    fn cover(&mut self, r: TimeRange) {
        if r.is_empty() {
            return;
        }
        let mut merged = r;
        let mut kept = Vec::with_capacity(self.coverage.len() + 1);
        for &c in &self.coverage {
            if c.end < merged.start || c.start > merged.end {
                kept.push(c);
            } else {
                merged = TimeRange::new(c.start.min(merged.start), c.end.max(merged.end));
            }
        }
        kept.push(merged);
        kept.sort_by_key(|c| c.start);
        self.coverage = kept;
    }

    /// The points, sorted by time.
    pub fn points(&self) -> &[(Timestamp, f64)] {
        &self.points
    }

    /// The covered ranges, sorted and disjoint.
    pub fn coverage(&self) -> &[TimeRange] {
        &self.coverage
    }

    /// Whether nothing at all is known.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty() && self.coverage.is_empty()
    }

    /// The end of the covered stretch that contains `t`, or `None` when `t`
    /// is not covered.
    pub fn covered_until(&self, t: Timestamp) -> Option<Timestamp> {
        self.coverage.iter().find(|r| r.contains(t)).map(|r| r.end)
    }

    /// The value at period start `t`, if there is a point.
    pub fn value_at(&self, t: Timestamp) -> Option<f64> {
        self.points
            .binary_search_by_key(&t, |p| p.0)
            .ok()
            .map(|i| self.points[i].1)
    }

    /// Every period of `range` that the window covers, in order, with what is
    /// known of it. Periods outside the coverage are skipped.
    pub fn observations(
        &self,
        range: TimeRange,
        period: i64,
    ) -> impl Iterator<Item = (Timestamp, Observation)> + '_ {
        let start = range.start.ceil(period);
        let first = self.points.partition_point(|p| p.0 < start);
        let mut next_point = first;
        let mut t = start;
        std::iter::from_fn(move || {
            while t < range.end {
                let here = t;
                t = t.add(period);
                // Skip quickly over uncovered stretches.
                match self.coverage.iter().find(|r| r.end > here) {
                    None => {
                        t = range.end;
                        return None;
                    }
                    Some(r) if r.start > here => {
                        t = r.start.ceil(period);
                        continue;
                    }
                    Some(_) => {}
                }
                while next_point < self.points.len() && self.points[next_point].0 < here {
                    next_point += 1;
                }
                if next_point < self.points.len() && self.points[next_point].0 == here {
                    return Some((here, Observation::Value(self.points[next_point].1)));
                }
                return Some((here, Observation::NoSamples));
            }
            None
        })
    }

    /// Forgets everything before `t` (the retention horizon).
    pub fn trim_before(&mut self, t: Timestamp) {
        self.points.retain(|p| p.0 >= t);
        self.coverage.retain(|r| r.end > t);
        if let Some(first) = self.coverage.first_mut() {
            first.start = first.start.max(t);
        }
    }

    /// The part of this window inside `range` (points and coverage clipped).
    pub fn slice(&self, range: TimeRange) -> MetricWindow {
        let from = self.points.partition_point(|p| p.0 < range.start);
        let to = self.points.partition_point(|p| p.0 < range.end);
        MetricWindow {
            points: self.points[from..to.max(from)].to_vec(),
            coverage: self
                .coverage
                .iter()
                .filter_map(|r| {
                    let c = TimeRange::new(r.start.max(range.start), r.end.min(range.end));
                    (!c.is_empty()).then_some(c)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(m: i64) -> Timestamp {
        Timestamp::from_secs(1_800_000_000 / 60 * 60 + m * 60)
    }

    fn range(a: i64, b: i64) -> TimeRange {
        TimeRange::new(t(a), t(b))
    }

    #[test]
    fn missing_points_inside_coverage_mean_no_samples_and_outside_mean_unknown() {
        let w = MetricWindow::from_fetch(range(0, 3), [(t(1), 5.0)], 60);
        let got: Vec<_> = w.observations(range(-2, 5), 60).collect();
        assert_eq!(
            got,
            vec![
                (t(0), Observation::NoSamples),
                (t(1), Observation::Value(5.0)),
                (t(2), Observation::NoSamples)
            ]
        );
        assert_eq!(w.covered_until(t(1)), Some(t(3)));
        assert_eq!(w.covered_until(t(3)), None);
    }

    #[test]
    fn adjacent_fetches_join_into_one_covered_stretch() {
        let mut w = MetricWindow::from_fetch(range(0, 5), [], 60);
        w.record(range(5, 10), [(t(7), 1.0)], 60);
        w.record(range(20, 25), [], 60);
        assert_eq!(w.coverage(), &[range(0, 10), range(20, 25)]);
        assert_eq!(w.observations(range(0, 30), 60).count(), 15);
    }

    #[test]
    fn unaligned_and_non_finite_points_are_aligned_or_dropped() {
        let w = MetricWindow::from_fetch(
            range(0, 2),
            [(t(0).add(17), 2.0), (t(1), f64::NAN), (t(1), f64::INFINITY)],
            60,
        );
        assert_eq!(w.points(), &[(t(0), 2.0)]);
    }

    #[test]
    fn trim_and_slice_keep_only_the_asked_range() {
        let mut w = MetricWindow::from_fetch(range(0, 10), (0..10).map(|m| (t(m), m as f64)), 60);
        let s = w.slice(range(3, 5));
        assert_eq!(s.points(), &[(t(3), 3.0), (t(4), 4.0)]);
        assert_eq!(s.coverage(), &[range(3, 5)]);
        w.trim_before(t(8));
        assert_eq!(w.points().len(), 2);
        assert_eq!(w.coverage(), &[range(8, 10)]);
    }

    proptest! {
        #[test]
        fn merging_is_idempotent_and_order_free(
            pts in proptest::collection::vec((0i64..50, 0u32..1000), 0..60),
            cut in 0usize..60,
        ) {
            let points: Vec<_> = pts.iter().map(|&(m, v)| (t(m), f64::from(v))).collect();
            // One value per period so that "last wins" cannot depend on order.
            let mut dedup = std::collections::BTreeMap::new();
            for &(ts, v) in &points { dedup.insert(ts, v); }
            let points: Vec<_> = dedup.into_iter().collect();
            let cut = cut.min(points.len());
            let whole = MetricWindow::from_fetch(range(0, 50), points.clone(), 60);
            let mut a = MetricWindow::from_fetch(range(0, 25), points[..cut].to_vec(), 60);
            a.record(range(25, 50), points[cut..].to_vec(), 60);
            let mut b = MetricWindow::from_fetch(range(25, 50), points[cut..].iter().rev().copied(), 60);
            b.record(range(0, 25), points[..cut].to_vec(), 60);
            prop_assert_eq!(&a, &whole);
            prop_assert_eq!(&b, &whole);
            let mut twice = whole.clone();
            twice.merge(&whole);
            prop_assert_eq!(&twice, &whole);
        }
    }
}
