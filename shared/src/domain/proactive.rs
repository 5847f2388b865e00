//! Proactive insights: what will go wrong, or is misconfigured, found from
//! resource configuration and metric peaks before anything is abnormal.
//!
//! Each rule states when it can fire ("detection time"). A finding opens a
//! proactive insight once; while the finding holds, nothing is sent again,
//! whatever its numbers do (re-sending unchanged advice is noise). When it
//! no longer holds, the insight closes. Peak-based rules look at the last
//! 24 hours, so a finding does not flap with every peak.

use std::collections::BTreeMap;

use super::insight::{Recommendation, Severity};
use super::metric::MetricKey;
use super::recommend::recommend;
use super::resource::{ConfigValue, Resource, ResourceKind};
use super::time::{DAY, HOUR, Timestamp};
use super::topology::Topology;

/// The proactive rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// A DynamoDB table without point-in-time recovery.
    TablePitrOff,
    /// A provisioned table that uses under 30% of its capacity at peak.
    TableOverProvisioned,
    /// A provisioned table at 80% of its capacity, or trending there.
    TableNearCapacity,
    /// A function at 80% of its reserved or account concurrency.
    FunctionConcurrencyNearLimit,
    /// A function whose duration reaches 80% of its timeout.
    FunctionDurationNearTimeout,
    /// A queue that triggers a function and has no dead-letter queue.
    QueueWithoutDeadLetter,
    /// A queue whose visibility timeout is shorter than its consumer's timeout.
    QueueVisibilityBelowTimeout,
    /// A queue whose oldest message approaches the retention period.
    QueueAgeNearRetention,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 8] = [
        Rule::TablePitrOff,
        Rule::TableOverProvisioned,
        Rule::TableNearCapacity,
        Rule::FunctionConcurrencyNearLimit,
        Rule::FunctionDurationNearTimeout,
        Rule::QueueWithoutDeadLetter,
        Rule::QueueVisibilityBelowTimeout,
        Rule::QueueAgeNearRetention,
    ];

    /// A stable id.
    pub fn id(self) -> &'static str {
        match self {
            Rule::TablePitrOff => "dynamodb-pitr-off",
            Rule::TableOverProvisioned => "dynamodb-over-provisioned",
            Rule::TableNearCapacity => "dynamodb-near-capacity",
            Rule::FunctionConcurrencyNearLimit => "lambda-concurrency-near-limit",
            Rule::FunctionDurationNearTimeout => "lambda-duration-near-timeout",
            Rule::QueueWithoutDeadLetter => "sqs-lambda-without-dlq",
            Rule::QueueVisibilityBelowTimeout => "sqs-visibility-below-timeout",
            Rule::QueueAgeNearRetention => "sqs-age-near-retention",
        }
    }

    /// When the rule can fire.
    pub fn detection_time(self) -> &'static str {
        match self {
            Rule::TablePitrOff
            | Rule::QueueWithoutDeadLetter
            | Rule::QueueVisibilityBelowTimeout => {
                "at the first analysis after ingest reads the configuration: one schedule interval after deployment or after the change"
            }
            Rule::TableOverProvisioned => {
                "once 24 hours of consumed capacity are known: at the first analysis after a warm start"
            }
            Rule::TableNearCapacity => {
                "within one fetch of consumed capacity after a peak crosses 80%, or once three days of daily peaks trend to the limit within a week"
            }
            Rule::FunctionConcurrencyNearLimit => {
                "within one fetch of ConcurrentExecutions after a peak crosses 80% of the limit"
            }
            Rule::FunctionDurationNearTimeout => {
                "within one fetch of Duration after a peak crosses 80% of the timeout"
            }
            Rule::QueueAgeNearRetention => {
                "within one fetch of ApproximateAgeOfOldestMessage after it crosses half the retention period"
            }
        }
    }
}

/// Hourly and daily maxima of one metric over the last day and week: what
/// the peak-based rules read. Bounded: 32 numbers.
#[derive(Clone, Debug)]
pub struct Peaks {
    hours: [f32; 24],
    hour: i64,
    days: [f32; 8],
    day: i64,
    first: Option<Timestamp>,
}

/// Equal when every field is equal bit for bit: an empty slot is NaN, and
/// NaN must equal NaN here.
impl PartialEq for Peaks {
    fn eq(&self, other: &Self) -> bool {
        let bits = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
        self.hour == other.hour
            && self.day == other.day
            && self.first == other.first
            && bits(&self.hours, &other.hours)
            && bits(&self.days, &other.days)
    }
}

impl Default for Peaks {
    fn default() -> Self {
        Self {
            hours: [f32::NAN; 24],
            hour: i64::MIN,
            days: [f32::NAN; 8],
            day: i64::MIN,
            first: None,
        }
    }
}

fn roll<const N: usize>(slots: &mut [f32; N], current: &mut i64, index: i64) -> bool {
    if *current == i64::MIN || index - *current >= N as i64 {
        *slots = [f32::NAN; N];
        *current = index;
    } else if index > *current {
        for i in (*current + 1)..=index {
            slots[i.rem_euclid(N as i64) as usize] = f32::NAN;
        }
        *current = index;
    } else if *current - index >= N as i64 {
        return false;
    }
    true
}

impl Peaks {
    /// Records the value of the period starting at `t`.
    pub fn record(&mut self, t: Timestamp, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        let v = value as f32;
        let h = t.secs().div_euclid(HOUR);
        if roll(&mut self.hours, &mut self.hour, h) {
            let slot = &mut self.hours[h.rem_euclid(24) as usize];
            *slot = if slot.is_nan() { v } else { slot.max(v) };
        }
        let d = t.secs().div_euclid(DAY);
        if roll(&mut self.days, &mut self.day, d) {
            let slot = &mut self.days[d.rem_euclid(8) as usize];
            *slot = if slot.is_nan() { v } else { slot.max(v) };
        }
    }

    /// The largest value of the last `hours` hours before `now`.
    pub fn max_over(&self, now: Timestamp, hours: i64) -> Option<f64> {
        let now_h = now.secs().div_euclid(HOUR);
        let mut best: Option<f32> = None;
        for h in (now_h - hours + 1)..=now_h {
            if h > self.hour || self.hour - h >= 24 {
                continue;
            }
            let v = self.hours[h.rem_euclid(24) as usize];
            if !v.is_nan() {
                best = Some(best.map_or(v, |b| b.max(v)));
            }
        }
        best.map(f64::from)
    }

    /// The peak that a finding may rest on: the last 24 hours, and the
    /// daily maxima of today and yesterday (so between 24 and 48 hours). A
    /// peak that recurs daily, a nightly batch, keeps its finding open
    /// instead of closing it every day just before the next one.
    pub fn recent_peak(&self, now: Timestamp) -> Option<f64> {
        let today = now.secs().div_euclid(DAY);
        let daily = self
            .daily()
            .into_iter()
            .filter(|(d, _)| *d >= today - 1 && *d <= today)
            .map(|(_, v)| v)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            });
        match (self.max_over(now, 24), daily) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// How long values have been recorded for.
    pub fn known_for(&self, now: Timestamp) -> i64 {
        self.first.map_or(0, |f| now.since(f))
    }

    /// Daily maxima of the last days, oldest first, with their day numbers.
    pub fn daily(&self) -> Vec<(i64, f64)> {
        if self.day == i64::MIN {
            return Vec::new();
        }
        ((self.day - 7)..=self.day)
            .filter_map(|d| {
                let v = self.days[d.rem_euclid(8) as usize];
                (!v.is_nan()).then_some((d, f64::from(v)))
            })
            .collect()
    }
}

/// Days of daily peaks a capacity trend needs.
const TREND_DAYS: usize = 7;

/// Stored peaks that cannot be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("peaks are {0}")]
pub struct PeaksDecodeError(&'static str);

impl Peaks {
    /// Bytes of [`Peaks::encode`]'s layout.
    const BYTES: usize = 1 + 24 * 4 + 8 + 8 * 4 + 8 + 8;

    /// The peaks as compact bytes (little-endian, versioned, 153 bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::BYTES);
        out.push(1);
        for v in self.hours {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.hour.to_le_bytes());
        for v in self.days {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.day.to_le_bytes());
        out.extend_from_slice(&self.first.map_or(i64::MIN, Timestamp::secs).to_le_bytes());
        out
    }

    /// Peaks from [`Peaks::encode`]'s bytes.
    ///
    /// # Errors
    ///
    /// [`PeaksDecodeError`] for bytes of another length or version.
    pub fn decode(bytes: &[u8]) -> Result<Self, PeaksDecodeError> {
        if bytes.len() != Self::BYTES {
            return Err(PeaksDecodeError("truncated or too long"));
        }
        if bytes[0] != 1 {
            return Err(PeaksDecodeError("of an unknown version"));
        }
        let f = |at: usize| {
            f32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let i = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            i64::from_le_bytes(b)
        };
        let mut p = Peaks::default();
        let mut at = 1;
        for h in &mut p.hours {
            *h = f(at);
            at += 4;
        }
        p.hour = i(at);
        at += 8;
        for d in &mut p.days {
            *d = f(at);
            at += 4;
        }
        p.day = i(at);
        at += 8;
        let first = i(at);
        p.first = (first != i64::MIN).then(|| Timestamp::from_secs(first));
        if p.hours.iter().chain(p.days.iter()).any(|v| v.is_infinite()) {
            return Err(PeaksDecodeError("not finite"));
        }
        Ok(p)
    }
}

/// Whether a metric feeds a proactive rule (only those keep peaks).
pub fn wants_peaks(key: &MetricKey) -> bool {
    matches!(
        (key.name(), key.stat()),
        ("ConcurrentExecutions", _)
            | ("Duration", "p99" | "Maximum")
            | (
                "ConsumedReadCapacityUnits" | "ConsumedWriteCapacityUnits",
                "Sum"
            )
            | ("ApproximateAgeOfOldestMessage", _)
    )
}

/// One finding of a rule about a resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// The resource.
    pub resource: Resource,
    /// How much it matters.
    pub severity: Severity,
    /// What about the resource, when a rule can find several things
    /// (`read` or `write` capacity); empty otherwise.
    pub subject: &'static str,
    /// A name people can read.
    pub name: String,
    /// What to do, quoting the numbers.
    pub recommendation: Recommendation,
}

impl Finding {
    /// What identifies the finding while it holds: rule, resource, subject.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.rule.id(),
            self.resource.physical_id,
            self.subject
        )
    }
}

/// What the rules read.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Every resource of the stack.
    pub resources: &'a [Resource],
    /// Describe-call output by physical id.
    pub configs: &'a BTreeMap<String, ConfigValue>,
    /// Who sends work to whom.
    pub topology: &'a Topology,
    /// Peaks of the metrics that rules read, with the physical id of their
    /// resource.
    pub peaks: &'a [(&'a MetricKey, &'a str, &'a Peaks)],
    /// The account's concurrency limit, when known (1000 otherwise).
    pub account_concurrency: Option<f64>,
    /// The time.
    pub now: Timestamp,
}

impl Context<'_> {
    fn peaks(&self, resource: &Resource, name: &str, stats: &[&str]) -> Option<&Peaks> {
        stats.iter().find_map(|stat| {
            self.peaks
                .iter()
                .find(|(k, id, _)| {
                    *id == resource.physical_id && k.name() == name && k.stat() == *stat
                })
                .map(|(_, _, p)| *p)
        })
    }
}

/// Every finding that holds now, in a stable order.
pub fn evaluate(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in ctx.resources {
        let config = ctx.configs.get(&r.physical_id);
        match ResourceKind::from_type(&r.resource_type) {
            Some(ResourceKind::DynamoDbTable) => table_rules(ctx, r, config, &mut out),
            Some(ResourceKind::LambdaFunction) => function_rules(ctx, r, config, &mut out),
            Some(ResourceKind::SqsQueue) => queue_rules(ctx, r, config, &mut out),
            _ => {}
        }
    }
    out.sort_by(|a, b| (a.rule, &a.resource, a.subject).cmp(&(b.rule, &b.resource, b.subject)));
    out
}

fn finding(
    rule: Rule,
    resource: &Resource,
    severity: Severity,
    name: String,
    template: &str,
    reason: String,
) -> Option<Finding> {
    let recommendation = recommend(template, resource.display_name(), reason)?;
    Some(Finding {
        rule,
        resource: resource.clone(),
        subject: "",
        severity,
        name,
        recommendation,
    })
}

fn about(finding: Option<Finding>, subject: &'static str) -> Option<Finding> {
    finding.map(|f| Finding { subject, ..f })
}

/// "80%" up to the limit, "3.2 times" beyond it.
fn share(value: f64, limit: f64) -> String {
    let r = value / limit;
    if r <= 1.0 {
        format!("{:.0}%", r * 100.0)
    } else {
        format!("{r:.1} times")
    }
}

fn table_rules(
    ctx: &Context<'_>,
    table: &Resource,
    config: Option<&ConfigValue>,
    out: &mut Vec<Finding>,
) {
    let Some(config) = config else { return };
    let name = table.display_name();
    let pitr = config.at(&[
        "ContinuousBackupsDescription",
        "PointInTimeRecoveryDescription",
        "PointInTimeRecoveryStatus",
    ]);
    if let Some(status) = pitr.as_str()
        && status != "ENABLED"
    {
        out.extend(finding(
            Rule::TablePitrOff,
            table,
            Severity::Medium,
            format!("Point-in-time recovery is off for table {name}"),
            "dynamodb-pitr",
            format!("Point-in-time recovery of {name} is {status}: an accidental write or delete cannot be undone"),
        ));
    }
    let on_demand =
        config.at(&["BillingModeSummary", "BillingMode"]).as_str() == Some("PAY_PER_REQUEST");
    if on_demand {
        return;
    }
    for (unit, field, metric) in [
        ("read", "ReadCapacityUnits", "ConsumedReadCapacityUnits"),
        ("write", "WriteCapacityUnits", "ConsumedWriteCapacityUnits"),
    ] {
        let Some(provisioned) = config
            .at(&["ProvisionedThroughput", field])
            .as_f64()
            .filter(|p| *p > 0.0)
        else {
            continue;
        };
        let Some(peaks) = ctx.peaks(table, metric, &["Sum"]) else {
            continue;
        };
        // Consumed units per minute, as units per second.
        let per_second = |v: f64| v / 60.0;
        if let Some(hour) = peaks.recent_peak(ctx.now).map(per_second)
            && hour >= 0.8 * provisioned
        {
            out.extend(about(
                finding(
                    Rule::TableNearCapacity,
                    table,
                    Severity::Medium,
                    format!("Table {name} consumed {} its provisioned {unit} capacity at peak", share(hour, provisioned)),
                    "dynamodb-autoscaling",
                    format!("Consumed {unit} capacity of {name} peaked at {hour:.0} units/s in the last 24 hours, against {provisioned:.0} provisioned"),
                ),
                unit,
            ));
            continue;
        }
        if let Some(days) = trend_to(&peaks.daily(), provisioned * 60.0) {
            out.extend(about(
                finding(
                    Rule::TableNearCapacity,
                    table,
                    Severity::Medium,
                    format!("Table {name} will reach its provisioned {unit} capacity in about {days:.0} days"),
                    "dynamodb-autoscaling",
                    format!("Daily peaks of consumed {unit} capacity of {name} grow towards the {provisioned:.0} units/s provisioned and reach it in about {days:.0} days"),
                ),
                unit,
            ));
            continue;
        }
        if peaks.known_for(ctx.now) >= DAY
            && let Some(peak) = peaks.max_over(ctx.now, 24).map(per_second)
            && peak < 0.3 * provisioned
        {
            let suggested = (peak / 0.65).ceil().max(1.0);
            out.extend(about(finding(
                Rule::TableOverProvisioned,
                table,
                Severity::Low,
                format!("Table {name} uses {:.0}% of its provisioned {unit} capacity at peak", peak / provisioned * 100.0),
                "dynamodb-rightsize",
                format!(
                    "Consumed {unit} capacity of {name} peaked at {peak:.1} units/s over 24 hours against {provisioned:.0} provisioned: {suggested:.0} units/s would run at about 65% at peak, or switch to on-demand"
                ),
            ), unit));
        }
    }
}

/// Days until daily peaks (per minute sums) reach `limit` on a least-squares
/// line through a week of days, if within a week, growing, and the line
/// explains most of the variation (R² ≥ 0.6): a weekday/weekend pattern is
/// not a trend.
fn trend_to(daily: &[(i64, f64)], limit: f64) -> Option<f64> {
    if daily.len() < TREND_DAYS {
        return None;
    }
    let n = daily.len() as f64;
    let mx = daily.iter().map(|d| d.0 as f64).sum::<f64>() / n;
    let my = daily.iter().map(|d| d.1).sum::<f64>() / n;
    let sxy: f64 = daily.iter().map(|d| (d.0 as f64 - mx) * (d.1 - my)).sum();
    let sxx: f64 = daily.iter().map(|d| (d.0 as f64 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let syy: f64 = daily.iter().map(|d| (d.1 - my).powi(2)).sum();
    if syy == 0.0 || sxy * sxy / (sxx * syy) < 0.6 {
        return None;
    }
    let last = daily.last()?;
    if slope <= 0.0 || last.1 >= limit {
        return None;
    }
    let at_last = my + slope * (last.0 as f64 - mx);
    let days = (limit - at_last) / slope;
    (days > 0.0 && days <= 7.0).then_some(days)
}

fn function_rules(
    ctx: &Context<'_>,
    function: &Resource,
    config: Option<&ConfigValue>,
    out: &mut Vec<Finding>,
) {
    let name = function.display_name();
    let reserved = config.and_then(|c| c.at(&["ReservedConcurrentExecutions"]).as_f64());
    let (limit, what) = match reserved {
        Some(r) if r > 0.0 => (r, "reserved concurrency"),
        _ => (
            ctx.account_concurrency.unwrap_or(1000.0),
            "account concurrency limit",
        ),
    };
    if let Some(peak) = ctx
        .peaks(function, "ConcurrentExecutions", &["Maximum"])
        .and_then(|p| p.recent_peak(ctx.now))
        && peak >= 0.8 * limit
    {
        out.extend(finding(
            Rule::FunctionConcurrencyNearLimit,
            function,
            if peak >= limit { Severity::High } else { Severity::Medium },
            format!("Function {name} reached {} its {what}", share(peak, limit)),
            "lambda-concurrency",
            format!("Concurrent executions of {name} peaked at {peak:.0} in the last 24 hours, against a {what} of {limit:.0}"),
        ));
    }
    let Some(timeout_s) = config
        .and_then(|c| c.at(&["Timeout"]).as_f64())
        .filter(|t| *t > 0.0)
    else {
        return;
    };
    let timeout_ms = timeout_s * 1000.0;
    if let Some(peak) = ctx
        .peaks(function, "Duration", &["Maximum", "p99"])
        .and_then(|p| p.recent_peak(ctx.now))
        && peak >= 0.8 * timeout_ms
    {
        out.extend(finding(
            Rule::FunctionDurationNearTimeout,
            function,
            Severity::Medium,
            format!("Function {name} runs up to {} its {timeout_s:.0} s timeout", share(peak, timeout_ms)),
            "lambda-timeout",
            format!("Duration of {name} peaked at {:.1} s in the last 24 hours, against a timeout of {timeout_s:.0} s", peak / 1000.0),
        ));
    }
}

fn queue_rules(
    ctx: &Context<'_>,
    queue: &Resource,
    config: Option<&ConfigValue>,
    out: &mut Vec<Finding>,
) {
    let Some(config) = config else { return };
    let name = queue.display_name();
    let attributes = config.at(&["Attributes"]);
    let consumers: Vec<&Resource> = ctx
        .resources
        .iter()
        .filter(|r| {
            ResourceKind::from_type(&r.resource_type) == Some(ResourceKind::LambdaFunction)
                && ctx
                    .topology
                    .edge(&queue.physical_id, &r.physical_id)
                    .is_some()
        })
        .collect();
    if let Some(consumer) = consumers.first() {
        let redrive = attributes.at(&["RedrivePolicy"]);
        let has_dlq = redrive
            .as_str()
            .is_some_and(|p| p.contains("deadLetterTargetArn"))
            || matches!(redrive, ConfigValue::Map(_));
        if !has_dlq {
            out.extend(finding(
                Rule::QueueWithoutDeadLetter,
                queue,
                Severity::Medium,
                format!("Queue {name} feeds {} but has no dead-letter queue", consumer.display_name()),
                "sqs-dead-letter-queue",
                format!("{name} triggers {} and has no redrive policy: a message that always fails is retried until it expires", consumer.display_name()),
            ));
        }
        let visibility = attributes.at(&["VisibilityTimeout"]).as_f64();
        for c in &consumers {
            let timeout = ctx
                .configs
                .get(&c.physical_id)
                .and_then(|cfg| cfg.at(&["Timeout"]).as_f64());
            if let (Some(v), Some(t)) = (visibility, timeout)
                && v < t
            {
                out.extend(finding(
                    Rule::QueueVisibilityBelowTimeout,
                    queue,
                    Severity::Medium,
                    format!("Queue {name} hides messages for {v:.0} s, less than the {t:.0} s timeout of {}", c.display_name()),
                    "lambda-sqs-visibility",
                    format!("The visibility timeout of {name} is {v:.0} s and {} may run for {t:.0} s: a message can be delivered again while it is still being processed", c.display_name()),
                ));
                break;
            }
        }
    }
    if let Some(retention) = attributes
        .at(&["MessageRetentionPeriod"])
        .as_f64()
        .filter(|r| *r > 0.0)
        && let Some(age) = ctx
            .peaks(queue, "ApproximateAgeOfOldestMessage", &["Maximum"])
            .and_then(|p| p.recent_peak(ctx.now))
        && age >= 0.5 * retention
    {
        out.extend(finding(
            Rule::QueueAgeNearRetention,
            queue,
            if age >= 0.8 * retention { Severity::High } else { Severity::Medium },
            format!("Messages of queue {name} are {:.0}% of the way to deletion", age / retention * 100.0),
            "sqs-retention",
            format!("The oldest message of {name} reached {:.1} h in the last 24 hours, against a retention period of {:.1} h", age / 3600.0, retention / 3600.0),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::metric::Dimension;
    use crate::domain::resource::object as map;

    const T0: i64 = 1_780_000_000 / DAY * DAY;

    fn num(n: f64) -> ConfigValue {
        ConfigValue::Number(n)
    }
    fn text(s: &str) -> ConfigValue {
        ConfigValue::Text(s.to_string())
    }

    struct Case {
        resources: Vec<Resource>,
        configs: BTreeMap<String, ConfigValue>,
        peaks: Vec<(MetricKey, String, Peaks)>,
    }

    impl Case {
        fn new() -> Self {
            Self {
                resources: Vec::new(),
                configs: BTreeMap::new(),
                peaks: Vec::new(),
            }
        }
        fn with(mut self, r: Resource, config: ConfigValue) -> Self {
            self.configs.insert(r.physical_id.clone(), config);
            self.resources.push(r);
            self
        }
        fn series(
            mut self,
            id: &str,
            name: &str,
            stat: &str,
            values: impl Fn(i64) -> f64,
            minutes: i64,
        ) -> Self {
            let mut p = Peaks::default();
            for m in 0..minutes {
                p.record(Timestamp::from_secs(T0 + m * 60), values(m));
            }
            let key = MetricKey::new("AWS/X", name, vec![Dimension::new("Id", id)], stat, 60);
            self.peaks.push((key, id.to_string(), p));
            self
        }
        fn findings(&self, now_minute: i64) -> Vec<(Rule, Severity)> {
            let topology = Topology::of(&self.resources, &self.configs);
            let peaks: Vec<(&MetricKey, &str, &Peaks)> = self
                .peaks
                .iter()
                .map(|(k, id, p)| (k, id.as_str(), p))
                .collect();
            let ctx = Context {
                resources: &self.resources,
                configs: &self.configs,
                topology: &topology,
                peaks: &peaks,
                account_concurrency: None,
                now: Timestamp::from_secs(T0 + now_minute * 60),
            };
            evaluate(&ctx)
                .into_iter()
                .map(|f| (f.rule, f.severity))
                .collect()
        }
    }

    fn table(pitr: &str, billing: &str, rcu: f64) -> ConfigValue {
        map(vec![
            (
                "BillingModeSummary",
                map(vec![("BillingMode", text(billing))]),
            ),
            (
                "ProvisionedThroughput",
                map(vec![
                    ("ReadCapacityUnits", num(rcu)),
                    ("WriteCapacityUnits", num(rcu)),
                ]),
            ),
            (
                "ContinuousBackupsDescription",
                map(vec![(
                    "PointInTimeRecoveryDescription",
                    map(vec![("PointInTimeRecoveryStatus", text(pitr))]),
                )]),
            ),
        ])
    }

    #[test]
    fn a_healthy_stack_has_no_finding() {
        let t = Resource::new("T", "t", "AWS::DynamoDB::Table");
        let f = Resource::new("F", "f", "AWS::Lambda::Function");
        let case = Case::new()
            .with(t, table("ENABLED", "PAY_PER_REQUEST", 0.0))
            .with(
                f,
                map(vec![
                    ("Timeout", num(30.0)),
                    ("ReservedConcurrentExecutions", num(100.0)),
                ]),
            )
            .series(
                "f",
                "ConcurrentExecutions",
                "Maximum",
                |m| (m % 20) as f64,
                2 * 1440,
            )
            .series("f", "Duration", "p99", |_| 900.0, 2 * 1440);
        assert_eq!(case.findings(2 * 1440), vec![]);
    }

    #[test]
    fn table_rules_find_missing_backups_and_wrong_capacity() {
        let t = Resource::new("T", "t", "AWS::DynamoDB::Table");
        let case = Case::new().with(t.clone(), table("DISABLED", "PROVISIONED", 100.0));
        assert_eq!(
            case.findings(0),
            vec![(Rule::TablePitrOff, Severity::Medium)]
        );
        // 10 units/s at peak out of 100 provisioned, for a day and more.
        let under = Case::new()
            .with(t.clone(), table("ENABLED", "PROVISIONED", 100.0))
            .series(
                "t",
                "ConsumedReadCapacityUnits",
                "Sum",
                |m| if m % 1440 == 600 { 600.0 } else { 60.0 },
                1500,
            );
        assert_eq!(
            under.findings(1500),
            vec![(Rule::TableOverProvisioned, Severity::Low)]
        );
        assert_eq!(under.findings(1000).len(), 0, "not before a day of data");
        // 90 units/s at peak.
        let near = Case::new()
            .with(t, table("ENABLED", "PROVISIONED", 100.0))
            .series(
                "t",
                "ConsumedReadCapacityUnits",
                "Sum",
                |m| if m == 700 { 5400.0 } else { 600.0 },
                800,
            );
        assert_eq!(
            near.findings(800),
            vec![(Rule::TableNearCapacity, Severity::Medium)]
        );
    }

    #[test]
    fn daily_peaks_growing_towards_the_limit_are_found_before_they_reach_it() {
        // Peaks of 30 to 66 units/s over a week (per-minute sums ×60), against 78.
        let daily: Vec<(i64, f64)> = (0..7).map(|d| (d, 1800.0 + 360.0 * d as f64)).collect();
        let days = trend_to(&daily, 4680.0).unwrap();
        assert!((days - 2.0).abs() < 1e-9, "{days}");
        assert_eq!(trend_to(&daily[..5], 4800.0), None, "a week at least");
        let falling: Vec<(i64, f64)> = (0..7).map(|d| (d, 100.0 - d as f64)).collect();
        assert_eq!(trend_to(&falling, 200.0), None, "falling");
        // Weekdays and a weekend are not a trend.
        let weekly: Vec<(i64, f64)> = (0..7)
            .map(|d| {
                (
                    d,
                    if d % 7 >= 5 {
                        1000.0
                    } else {
                        3000.0 + 10.0 * d as f64
                    },
                )
            })
            .collect();
        assert_eq!(
            trend_to(&weekly, 4800.0),
            None,
            "no trend in a weekly pattern"
        );
    }

    #[test]
    fn functions_near_their_limits_are_found() {
        let f = Resource::new("F", "f", "AWS::Lambda::Function");
        let case = Case::new()
            .with(
                f,
                map(vec![
                    ("Timeout", num(10.0)),
                    ("ReservedConcurrentExecutions", num(50.0)),
                ]),
            )
            .series(
                "f",
                "ConcurrentExecutions",
                "Maximum",
                |m| if m == 30 { 45.0 } else { 5.0 },
                60,
            )
            .series(
                "f",
                "Duration",
                "p99",
                |m| if m == 40 { 9_500.0 } else { 800.0 },
                60,
            );
        assert_eq!(
            case.findings(60),
            vec![
                (Rule::FunctionConcurrencyNearLimit, Severity::Medium),
                (Rule::FunctionDurationNearTimeout, Severity::Medium)
            ]
        );
        // Two days later the peaks are forgotten and the findings clear.
        assert_eq!(case.findings(60 + 49 * 60), vec![]);
    }

    #[test]
    fn queue_rules_read_the_consumers_configuration() {
        let q = Resource::new("Q", "https://sqs.r.amazonaws.com/1/jobs", "AWS::SQS::Queue");
        let f = Resource::new("Worker", "stack-Worker-1", "AWS::Lambda::Function");
        let esm = Resource::new("WorkerMapping", "esm", "AWS::Lambda::EventSourceMapping");
        let queue = |redrive: bool| {
            let mut attrs = vec![
                ("VisibilityTimeout", text("30")),
                ("MessageRetentionPeriod", text("3600")),
            ];
            if redrive {
                attrs.push((
                    "RedrivePolicy",
                    text("{\"deadLetterTargetArn\":\"arn:aws:sqs:r:1:dlq\",\"maxReceiveCount\":5}"),
                ));
            }
            map(vec![("Attributes", map(attrs))])
        };
        let mapping = map(vec![
            ("EventSourceArn", text("arn:aws:sqs:r:1:jobs")),
            (
                "FunctionArn",
                text("arn:aws:lambda:r:1:function:stack-Worker-1"),
            ),
        ]);
        let bad = Case::new()
            .with(q.clone(), queue(false))
            .with(f.clone(), map(vec![("Timeout", num(60.0))]))
            .with(esm.clone(), mapping.clone())
            .series(
                &q.physical_id,
                "ApproximateAgeOfOldestMessage",
                "Maximum",
                |m| if m == 50 { 3000.0 } else { 5.0 },
                60,
            );
        assert_eq!(
            bad.findings(60),
            vec![
                (Rule::QueueWithoutDeadLetter, Severity::Medium),
                (Rule::QueueVisibilityBelowTimeout, Severity::Medium),
                (Rule::QueueAgeNearRetention, Severity::High),
            ]
        );
        let good = Case::new()
            .with(q, queue(true))
            .with(f, map(vec![("Timeout", num(5.0))]))
            .with(esm, mapping);
        assert_eq!(good.findings(60), vec![]);
    }

    #[test]
    fn a_peak_that_recurs_daily_keeps_its_finding_open() {
        let f = Resource::new("F", "f", "AWS::Lambda::Function");
        // Concurrency reaches 45 of 50 for ten minutes at 15:00 every day,
        // a few minutes later each day.
        let case = Case::new()
            .with(
                f,
                map(vec![
                    ("Timeout", num(900.0)),
                    ("ReservedConcurrentExecutions", num(50.0)),
                ]),
            )
            .series(
                "f",
                "ConcurrentExecutions",
                "Maximum",
                |m| {
                    let day = m / 1440;
                    let start = 900 + day * 7;
                    if (start..start + 10).contains(&(m % 1440)) {
                        45.0
                    } else {
                        3.0
                    }
                },
                4 * 1440,
            );
        for minute in (1440..4 * 1440).step_by(30) {
            assert_eq!(case.findings(minute).len(), 1, "at minute {minute}");
        }
    }

    #[test]
    fn peaks_round_trip_through_bytes() {
        let mut p = Peaks::default();
        assert_eq!(Peaks::decode(&p.encode()).unwrap(), p);
        for m in 0..3000 {
            p.record(Timestamp::from_secs(T0 + m * 60), (m % 97) as f64);
        }
        let bytes = p.encode();
        assert_eq!(Peaks::decode(&bytes).unwrap(), p);
        assert!(Peaks::decode(&bytes[..10]).is_err());
    }

    #[test]
    fn every_rule_states_its_detection_time() {
        for rule in Rule::ALL {
            assert!(rule.detection_time().len() > 20, "{}", rule.id());
        }
    }
}
