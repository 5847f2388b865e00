//! The minute-by-minute simulation: requests drawn from the daily curve,
//! routed to the functions, their invocations, errors, durations and
//! concurrency, the table's capacity and latency, and the queue's backlog,
//! with the plan's effects applied.

use std::collections::VecDeque;

use rand::{Rng, RngExt};
use rand_distr::{Binomial, Distribution, Normal, Poisson};

use super::plan::{EffectKind, Plan};
use super::spec::BacklogMode;
use super::stack::{Role, World};
use super::traffic::Curve;

/// How a series' values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Whole numbers.
    Count,
    /// Milliseconds or seconds with two decimals below 100, one above.
    Time,
    /// Capacity units, one decimal.
    Units,
}

/// One series of the scenario, its points in time order.
#[derive(Clone, Debug)]
pub(crate) struct SeriesData {
    pub(crate) namespace: &'static str,
    pub(crate) metric: &'static str,
    pub(crate) dims: Vec<(&'static str, String)>,
    pub(crate) stat: &'static str,
    pub(crate) format: Format,
    /// (minute, value), minutes increasing.
    pub(crate) points: Vec<(u32, f64)>,
}

/// What the simulation saw of a planned incident.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trace {
    /// Its traced function was throttled at its concurrency limit.
    pub(crate) throttled: bool,
    /// Its traced function timed out because it got too slow.
    pub(crate) timed_out: bool,
    /// Its queue backlog drained at this minute (exclusive end).
    pub(crate) backlog_end: Option<u32>,
    /// The largest backlog, in messages.
    pub(crate) peak_backlog: f64,
}

/// The simulation's output.
#[derive(Debug)]
pub(crate) struct Simulation {
    pub(crate) series: Vec<SeriesData>,
    pub(crate) traces: Vec<Trace>,
}

/// Per-minute modifiers from the active effects.
#[derive(Clone, Debug)]
struct Mods {
    traffic: f64,
    dur: Vec<f64>,
    add_ms: Vec<f64>,
    err: Vec<f64>,
    timeout: Vec<f64>,
    one_error: Vec<u32>,
    cold: Vec<bool>,
    op_lat: Vec<f64>,
    op_throttle: Vec<f64>,
    consumer: Option<(BacklogMode, f64, Option<usize>)>,
    retry: bool,
}

impl Mods {
    fn new(functions: usize, ops: usize) -> Mods {
        Mods {
            traffic: 1.0,
            dur: vec![1.0; functions],
            add_ms: vec![0.0; functions],
            err: vec![0.0; functions],
            timeout: vec![0.0; functions],
            one_error: vec![0; functions],
            cold: vec![false; functions],
            op_lat: vec![1.0; ops],
            op_throttle: vec![0.0; ops],
            consumer: None,
            retry: false,
        }
    }

    fn reset(&mut self) {
        self.traffic = 1.0;
        self.dur.fill(1.0);
        self.add_ms.fill(0.0);
        self.err.fill(0.0);
        self.timeout.fill(0.0);
        self.one_error.fill(0);
        self.cold.fill(false);
        self.op_lat.fill(1.0);
        self.op_throttle.fill(0.0);
        self.consumer = None;
        self.retry = false;
    }
}

/// One function's minute.
#[derive(Clone, Copy, Debug, Default)]
struct Outcome {
    invocations: u64,
    errors: u64,
    throttles: u64,
    avg: f64,
    p99: f64,
    concurrency: u64,
    /// Invocations that hit the timeout although nothing made them hang.
    overran: u64,
    /// Their durations, for percentiles over several functions.
    tail: Tail,
}

/// Where each resource's series sit in the output.
#[derive(Clone, Debug)]
struct Layout {
    api: Option<usize>,
    functions: usize,
    table: Option<usize>,
    queue: Option<usize>,
}

const LAMBDA_METRICS: [(&str, &str, Format); 6] = [
    ("Invocations", "Sum", Format::Count),
    ("Errors", "Sum", Format::Count),
    ("Throttles", "Sum", Format::Count),
    ("Duration", "Average", Format::Time),
    ("Duration", "p99", Format::Time),
    ("ConcurrentExecutions", "Maximum", Format::Count),
];

const API_METRICS: [(&str, &str, Format); 6] = [
    ("Count", "Sum", Format::Count),
    ("4XXError", "Sum", Format::Count),
    ("5XXError", "Sum", Format::Count),
    ("Latency", "Average", Format::Time),
    ("Latency", "p99", Format::Time),
    ("IntegrationLatency", "Average", Format::Time),
];

fn series(
    namespace: &'static str,
    metric: &'static str,
    dims: Vec<(&'static str, String)>,
    stat: &'static str,
    format: Format,
    capacity: usize,
) -> SeriesData {
    SeriesData {
        namespace,
        metric,
        dims,
        stat,
        format,
        points: Vec::with_capacity(capacity),
    }
}

/// The series of a stack, in the order a scenario lists them.
fn layout(w: &World, minutes: usize) -> (Layout, Vec<SeriesData>) {
    let mut out = Vec::new();
    let api = w.api.as_ref().map(|a| {
        let at = out.len();
        for (metric, stat, format) in API_METRICS {
            out.push(series(
                "AWS/ApiGateway",
                metric,
                vec![("ApiName", a.name.clone()), ("Stage", a.stage.clone())],
                stat,
                format,
                minutes,
            ));
        }
        at
    });
    let functions = out.len();
    for f in &w.functions {
        for (metric, stat, format) in LAMBDA_METRICS {
            let cap = if f.role == Role::Api || f.role == Role::Worker {
                minutes
            } else {
                minutes / 20
            };
            out.push(series(
                "AWS/Lambda",
                metric,
                vec![("FunctionName", f.physical.clone())],
                stat,
                format,
                cap,
            ));
        }
    }
    let table = w.table.as_ref().map(|t| {
        let at = out.len();
        let name = || ("TableName", t.physical.clone());
        out.push(series(
            "AWS/DynamoDB",
            "ConsumedReadCapacityUnits",
            vec![name()],
            "Sum",
            Format::Units,
            minutes,
        ));
        out.push(series(
            "AWS/DynamoDB",
            "ConsumedWriteCapacityUnits",
            vec![name()],
            "Sum",
            Format::Units,
            minutes,
        ));
        for op in &t.ops {
            out.push(series(
                "AWS/DynamoDB",
                "SuccessfulRequestLatency",
                vec![name(), ("Operation", op.as_str().to_string())],
                "Average",
                Format::Time,
                minutes,
            ));
        }
        for op in &t.ops {
            for metric in ["ThrottledRequests", "SystemErrors"] {
                out.push(series(
                    "AWS/DynamoDB",
                    metric,
                    vec![name(), ("Operation", op.as_str().to_string())],
                    "Sum",
                    Format::Count,
                    16,
                ));
            }
        }
        out.push(series(
            "AWS/DynamoDB",
            "UserErrors",
            vec![name()],
            "Sum",
            Format::Count,
            64,
        ));
        at
    });
    let queue = w.queue.as_ref().map(|q| {
        let at = out.len();
        for (metric, stat) in [
            ("NumberOfMessagesSent", "Sum"),
            ("ApproximateNumberOfMessagesVisible", "Maximum"),
            ("ApproximateAgeOfOldestMessage", "Maximum"),
        ] {
            out.push(series(
                "AWS/SQS",
                metric,
                vec![("QueueName", q.name.clone())],
                stat,
                Format::Count,
                minutes,
            ));
        }
        at
    });
    (
        Layout {
            api,
            functions,
            table,
            queue,
        },
        out,
    )
}

fn poisson<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 1e-12 {
        return 0;
    }
    Poisson::new(mean).map_or(0, |p| p.sample(rng) as u64)
}

fn binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    Binomial::new(n, p).map_or(0, |b| b.sample(rng))
}

fn normal<R: Rng + ?Sized>(rng: &mut R, sd: f64) -> f64 {
    Normal::new(0.0, sd.max(0.0)).map_or(0.0, |n| n.sample(rng))
}

/// The highest concurrency within a minute of mean concurrency `mean`:
/// requests arrive in bursts.
fn burst<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> u64 {
    let v = mean * 1.4 + 2.2 * mean.sqrt() + rng.random_range(-0.3..1.2);
    v.ceil().max(1.0) as u64
}

/// The durations of one function's invocations in a minute: a lognormal
/// body, and point masses for invocations that hung until the timeout and
/// for cold starts.
#[derive(Clone, Copy, Debug, Default)]
struct Tail {
    fine: f64,
    median: f64,
    sigma: f64,
    hung: f64,
    hang_ms: f64,
    cold: f64,
    cold_ms: f64,
}

impl Tail {
    fn count(&self) -> f64 {
        self.fine + self.hung + self.cold
    }

    /// Expected invocations longer than `v` ms.
    fn above(&self, v: f64) -> f64 {
        let mut c = 0.0;
        if self.fine > 0.0 && self.median > 0.0 {
            c += self.fine * lognormal_above(self.median, self.sigma, v);
        }
        if self.hang_ms > v {
            c += self.hung;
        }
        if self.cold_ms > v {
            c += self.cold;
        }
        c
    }

    fn top(&self) -> f64 {
        (self.median * libm::exp(5.0 * self.sigma))
            .max(self.hang_ms)
            .max(self.cold_ms)
    }
}

/// The share of a lognormal (median `median`, spread `sigma`) above `v`.
fn lognormal_above(median: f64, sigma: f64, v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    0.5 * libm::erfc(libm::log(v / median) / (sigma.max(1e-6) * std::f64::consts::SQRT_2))
}

/// The standard normal quantile of `p` in (0, 1) (Acklam's rational
/// approximation, relative error below 1.2e-9).
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail(libm::sqrt(-2.0 * libm::log(p)))
    } else if p > 1.0 - 0.024_25 {
        -tail(libm::sqrt(-2.0 * libm::log(1.0 - p)))
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The spread of a lognormal whose 99th percentile is `tail` times its
/// mean.
fn sigma_for(tail: f64) -> f64 {
    const Z99: f64 = 2.326;
    let ln = libm::log(tail.max(1.01));
    (Z99 - (Z99 * Z99 - 2.0 * ln).max(0.0).sqrt()).max(0.05)
}

/// The p99 CloudWatch reports for invocations of these durations: the
/// 99th percentile of their mix, or about the longest one when there are
/// fewer than a hundred.
fn percentile99(tails: &[Tail]) -> f64 {
    let n: f64 = tails.iter().map(Tail::count).sum();
    if n <= 0.0 {
        return 0.0;
    }
    let target = (0.01 * n).max(n / (n + 1.0));
    if let [t] = tails
        && t.hung == 0.0
        && t.cold == 0.0
    {
        // One lognormal: its quantile directly.
        return t.median * libm::exp(t.sigma * normal_quantile(1.0 - target / n));
    }
    let above = |v: f64| tails.iter().map(|t| t.above(v)).sum::<f64>();
    let mut hi = tails.iter().map(Tail::top).fold(0.0, f64::max).max(1e-3);
    let mut lo = tails
        .iter()
        .filter(|t| t.fine > 0.0)
        .map(|t| t.median * 0.2)
        .fold(hi, f64::min)
        .min(hi);
    if above(hi) >= target {
        return hi;
    }
    // Bisection on a log scale, to a precision far below what is written.
    for _ in 0..28 {
        let mid = (lo * hi).sqrt();
        if above(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// Messages per consumer invocation: batches fill up as traffic grows.
fn batch_fill(messages: f64, batch_size: u32) -> f64 {
    (1.0 + messages / 150.0).min(f64::from(batch_size.max(1)))
}

struct Sim<'a, R: ?Sized> {
    w: &'a World,
    plan: &'a Plan,
    curve: &'a Curve,
    rng: &'a mut R,
    out: Vec<SeriesData>,
    at: Layout,
    mods: Mods,
    traces: Vec<Trace>,
    peak_rate: f64,
}

/// Simulates every minute of `plan` on the stack `w`.
pub(crate) fn simulate<R: Rng + ?Sized>(
    w: &World,
    plan: &Plan,
    curve: &Curve,
    rng: &mut R,
) -> Simulation {
    let (at, out) = layout(w, plan.minutes as usize);
    let ops = w.table.as_ref().map_or(0, |t| t.ops.len());
    let mut sim = Sim {
        w,
        plan,
        curve,
        rng,
        out,
        at,
        mods: Mods::new(w.functions.len(), ops),
        traces: vec![Trace::default(); plan.planned.len()],
        peak_rate: curve.max().max(1e-9),
    };
    sim.run();
    Simulation {
        series: sim.out,
        traces: sim.traces,
    }
}

/// The queue's unprocessed messages, oldest first, as (minute sent, count).
#[derive(Debug, Default)]
struct Backlog {
    waiting: VecDeque<(u32, f64)>,
    incident: Option<usize>,
    /// Minute of the last routine failure, whose batch waits for the
    /// visibility timeout.
    retry_from: Option<u32>,
}

impl Backlog {
    fn total(&self) -> f64 {
        self.waiting.iter().map(|w| w.1).sum()
    }

    /// Takes up to `n` messages, oldest first.
    fn take(&mut self, mut n: f64) {
        while n > 1e-9 {
            let Some(front) = self.waiting.front_mut() else {
                break;
            };
            if front.1 <= n {
                n -= front.1;
                self.waiting.pop_front();
            } else {
                front.1 -= n;
                n = 0.0;
            }
        }
    }
}

impl<R: Rng + ?Sized> Sim<'_, R> {
    fn push(&mut self, index: usize, m: u32, v: f64) {
        self.out[index].points.push((m, v));
    }

    fn apply_effects(&mut self, m: u32) {
        self.mods.reset();
        let w = self.w;
        for e in &self.plan.effects {
            if e.start > m {
                break;
            }
            let env = e.envelope(m);
            if env <= 0.0 {
                continue;
            }
            let mods = &mut self.mods;
            match &e.kind {
                EffectKind::Traffic { multiplier } => {
                    mods.traffic *= 1.0 + (multiplier - 1.0) * env
                }
                EffectKind::Duration {
                    function,
                    multiplier,
                } => {
                    mods.dur[*function] *= 1.0 + (multiplier - 1.0) * env;
                }
                EffectKind::Errors { function, rate } => mods.err[*function] += rate * env,
                EffectKind::Timeouts { function, fraction } => {
                    mods.timeout[*function] = mods.timeout[*function].max(fraction * env);
                }
                EffectKind::OneError { function } => mods.one_error[*function] += 1,
                EffectKind::Cold { function } => mods.cold[*function] = true,
                EffectKind::OpLatency {
                    op,
                    multiplier,
                    propagate,
                } => {
                    let k = 1.0 + (multiplier - 1.0) * env;
                    mods.op_lat[*op] *= k;
                    if *propagate && let Some(t) = &w.table {
                        for (i, f) in w.functions.iter().enumerate() {
                            if f.op == Some(t.ops[*op]) {
                                mods.add_ms[i] += (k - 1.0) * t.latency_ms[*op] * f.calls;
                            }
                        }
                    }
                }
                EffectKind::OpThrottle { op, fraction } => {
                    let phi = fraction * env;
                    mods.op_throttle[*op] = mods.op_throttle[*op].max(phi);
                    if let Some(t) = &w.table {
                        for (i, f) in w.functions.iter().enumerate() {
                            if f.op == Some(t.ops[*op]) {
                                // SDKs retry throttled requests with a long
                                // jittered backoff; some run out of retries.
                                mods.add_ms[i] += (phi * 250.0 + phi * phi * 500.0) * f.calls;
                                mods.err[i] += (phi * phi * phi * f.calls).min(1.0);
                            }
                        }
                    }
                }
                EffectKind::Consumer { mode } => mods.consumer = Some((*mode, env, e.incident)),
                EffectKind::ConsumerRetry => mods.retry = true,
            }
        }
    }

    /// A function's minute, given the invocations asked of it; `scale`
    /// multiplies its normal duration (the batch's heavy work).
    fn invoke(&mut self, f: usize, requested: u64, m: u32, scale: f64) -> Outcome {
        let func = &self.w.functions[f];
        let one_error = u64::from(self.mods.one_error[f]);
        let requested = if one_error > 0 {
            requested.max(1)
        } else {
            requested
        };
        if requested == 0 {
            return Outcome::default();
        }
        let load = if func.role == Role::Api {
            1.0 + 0.06 * self.curve.rate(m) / self.peak_rate
        } else {
            1.0
        };
        let common = libm::exp(normal(self.rng, 0.04));
        let limit = f64::from(func.timeout_s) * 1000.0;
        let mean = func.base_ms * scale * load * common * self.mods.dur[f] + self.mods.add_ms[f];
        let sigma = sigma_for(func.tail);
        let median = mean / libm::exp(sigma * sigma / 2.0);
        let overrun = if mean < limit / 30.0 {
            0.0
        } else {
            lognormal_above(median, sigma, limit)
        };
        let fraction = self.mods.timeout[f].max(overrun);
        let mut hung = binomial(self.rng, requested, fraction);
        let mut fine = requested - hung;
        let typical = mean.min(limit * 0.9);
        let avg_fine = if fine > 0 {
            (typical * (1.0 + normal(self.rng, 0.5 / (fine as f64).sqrt()))).max(0.3 * typical)
        } else {
            0.0
        };
        let mean_c = (fine as f64 * avg_fine + hung as f64 * limit) / 60_000.0;
        let mut conc = burst(self.rng, mean_c);
        let mut throttles = 0;
        if let Some(limit_c) = func.reserved.map(u64::from)
            && conc > limit_c
        {
            let kept = limit_c as f64 / conc as f64;
            let total = requested as f64;
            let keep = (total * kept).round() as u64;
            throttles = requested - keep;
            let scale_down = keep as f64 / total;
            hung = (hung as f64 * scale_down).round() as u64;
            fine = keep.saturating_sub(hung);
            conc = limit_c;
        }
        let n = fine + hung;
        if n == 0 {
            return Outcome {
                throttles,
                ..Outcome::default()
            };
        }
        let cold = if self.mods.cold[f] {
            conc.min(n)
        } else {
            u64::from(self.rng.random_bool(0.015))
        };
        let hang_ms = limit * self.rng.random_range(1.0..1.002);
        let total_ms = fine as f64 * avg_fine + hung as f64 * hang_ms + cold as f64 * func.init_ms;
        let avg = total_ms / n as f64;
        let rate = (func.error_rate + self.mods.err[f]).clamp(0.0, 1.0);
        let errors = (binomial(self.rng, fine, rate) + hung + one_error).min(n);
        let tail = Tail {
            fine: fine as f64,
            median: avg_fine / libm::exp(sigma * sigma / 2.0),
            sigma,
            hung: hung as f64,
            hang_ms,
            cold: cold as f64,
            cold_ms: avg_fine + func.init_ms,
        };
        let p99 = if n == 1 {
            avg
        } else {
            let q = percentile99(&[tail]);
            // Sampling noise, except where the hung invocations set it.
            let q = if tail.hung > 0.0 && q >= hang_ms * 0.99 {
                q
            } else {
                q * libm::exp(normal(self.rng, 0.08))
            };
            q.min(hang_ms.max(limit)).max(avg)
        };
        let overran = if self.mods.timeout[f] > 0.0 { 0 } else { hung };
        Outcome {
            invocations: n,
            errors,
            throttles,
            avg,
            p99,
            concurrency: conc,
            overran,
            tail,
        }
    }

    fn record(&mut self, f: usize, m: u32, o: &Outcome) {
        if o.invocations == 0 && o.throttles == 0 {
            return;
        }
        let base = self.at.functions + f * 6;
        self.push(base, m, o.invocations as f64);
        self.push(base + 1, m, o.errors as f64);
        self.push(base + 2, m, o.throttles as f64);
        if o.invocations > 0 {
            self.push(base + 3, m, o.avg);
            self.push(base + 4, m, o.p99);
            self.push(base + 5, m, o.concurrency as f64);
        }
    }

    fn trace(&mut self, m: u32, f: usize, o: &Outcome) {
        for e in &self.plan.effects {
            if e.start > m {
                break;
            }
            if let Some(i) = e.incident
                && m < e.end
                && self.plan.planned[i].traced_function == Some(f)
            {
                self.traces[i].throttled |= o.throttles > 0;
                self.traces[i].timed_out |= o.overran > 0;
            }
        }
    }

    fn run(&mut self) {
        let w = self.w;
        let nf = w.functions.len();
        let ops = w.table.as_ref().map_or(0, |t| t.ops.len());
        let mut outcomes = vec![Outcome::default(); nf];
        let mut backlog = Backlog::default();
        // The consumer's concurrency limit (its event source mapping's).
        let consumer_limit = w.queue.as_ref().map_or(2, |q| q.max_concurrency);
        let mut calls = vec![0.0f64; ops];
        let api_functions: Vec<usize> = w.api_functions().collect();
        let shares: Vec<f64> = api_functions
            .iter()
            .map(|&f| w.functions[f].share)
            .collect();
        let mut batch_runs = self.plan.batch_runs.iter().peekable();
        let mut singles = self.plan.batch_singles.iter().peekable();
        let start_minute_of_day = self.plan.start_minute_of_day;

        for m in 0..self.plan.minutes {
            self.apply_effects(m);
            outcomes.fill(Outcome::default());
            calls.fill(0.0);

            // API requests, routed to the functions.
            let rate = self.curve.rate(m) * self.mods.traffic;
            let mut client_errors = 0;
            let mut total = 0;
            let mut routed = vec![0u64; api_functions.len()];
            if let Some(api) = &w.api {
                total = poisson(self.rng, rate);
                client_errors = binomial(self.rng, total, api.client_error_rate);
                let mut rest = total - client_errors;
                let mut share_left = 1.0;
                for (k, s) in shares.iter().enumerate() {
                    let n = if k + 1 == shares.len() {
                        rest
                    } else {
                        binomial(self.rng, rest, (s / share_left).min(1.0))
                    };
                    routed[k] = n;
                    rest -= n;
                    share_left -= s;
                }
            } else {
                for (k, s) in shares.iter().enumerate() {
                    routed[k] = poisson(self.rng, rate * s);
                }
            }
            for (k, &f) in api_functions.iter().enumerate() {
                let o = self.invoke(f, routed[k], m, 1.0);
                outcomes[f] = o;
            }

            // The daily batch and its stray single runs.
            if let Some(job) = &w.batch {
                while batch_runs.peek().is_some_and(|r| r.0 + r.1 <= m) {
                    batch_runs.next();
                }
                let mut requested = 0;
                let mut scale = 1.0;
                if let Some(&&(s, l)) = batch_runs.peek()
                    && m >= s
                {
                    let phase = if m == s {
                        0.45
                    } else if m + 1 == s + l {
                        0.75
                    } else {
                        1.0
                    };
                    requested = poisson(self.rng, job.per_minute * phase);
                    scale = job.duration_multiplier;
                }
                while singles.peek().is_some_and(|&&s| s < m) {
                    singles.next();
                }
                if singles.peek().is_some_and(|&&s| s == m) {
                    requested += 1;
                }
                let o = self.invoke(job.function, requested, m, scale);
                outcomes[job.function] = o;
            }

            // The five-minute schedule.
            if let Some(c) = w.cron
                && (start_minute_of_day + m) % 5 == w.cron_offset
            {
                let o = self.invoke(c, 1, m, 1.0);
                outcomes[c] = o;
            }

            // The queue and its consumer.
            let mut processed = 0.0;
            if let (Some(q), Some(c)) = (&w.queue, w.consumer) {
                let sent = w.producer.map_or(0, |p| {
                    let o = &outcomes[p];
                    o.invocations - o.errors.min(o.invocations)
                });
                if sent > 0 {
                    backlog.waiting.push_back((m, sent as f64));
                }
                let available = backlog.total();
                let consumer = self.mods.consumer;
                if let Some((_, _, Some(i))) = consumer {
                    backlog.incident = Some(i);
                }
                let vt = f64::from(q.visibility_timeout);
                // Messages a minute at the concurrency limit, durations times `k`.
                let base_ms = w.functions[c].base_ms;
                let capacity = |k: f64| {
                    let fill = batch_fill(available, q.batch_size);
                    f64::from(consumer_limit) * 60_000.0 / (base_ms * k).max(1.0) * fill
                };
                let (attempts, ok_fraction) = match consumer {
                    Some((BacklogMode::Stopped, _, _)) => (0.0, 0.0),
                    Some((BacklogMode::Failing { error_rate }, env, _)) => {
                        self.mods.err[c] += error_rate * env;
                        let old = available - sent as f64;
                        (
                            sent as f64 + old * (60.0 / vt).min(1.0),
                            1.0 - error_rate * env,
                        )
                    }
                    Some((BacklogMode::Slow { multiplier }, env, _)) => {
                        let k = 1.0 + (multiplier - 1.0) * env;
                        self.mods.dur[c] *= k;
                        (available.min(capacity(k)), 1.0)
                    }
                    // Normally everything is taken at once; after trouble the
                    // consumer catches up at its concurrency limit.
                    None => (available.min(capacity(1.0)), 1.0),
                };
                let fill = batch_fill(attempts, q.batch_size);
                let requested = if attempts > 0.0 {
                    ((attempts / fill) * self.rng.random_range(0.95..1.05))
                        .round()
                        .max(1.0) as u64
                } else {
                    0
                };
                let mut o = self.invoke(c, requested, m, 1.0);
                if attempts > 0.0 && attempts >= capacity(1.0) * 0.9 {
                    // Working through a backlog at the concurrency limit.
                    o.concurrency = u64::from(consumer_limit);
                }
                if let Some((BacklogMode::Slow { .. }, _, _)) = consumer {
                    o.concurrency = u64::from(consumer_limit);
                }
                let ok = if o.invocations > 0 {
                    let failed_share = o.errors as f64 / o.invocations as f64;
                    attempts * (1.0 - failed_share).min(ok_fraction.max(0.0))
                } else {
                    0.0
                };
                backlog.take(ok);
                processed = ok;
                // Messages received too often go to the dead-letter queue.
                let max_age = f64::from(q.max_receive) * vt;
                while backlog
                    .waiting
                    .front()
                    .is_some_and(|f| f64::from(m - f.0) * 60.0 > max_age)
                {
                    backlog.waiting.pop_front();
                }
                outcomes[c] = o;

                let left = backlog.total();
                let normal_visible = poisson(self.rng, sent as f64 / 60.0 * 1.2 + 0.2) as f64;
                let visible_share = if matches!(consumer, Some((BacklogMode::Failing { .. }, _, _)))
                {
                    0.5
                } else {
                    1.0
                };
                let mut age = if sent > 0 || left > 0.5 {
                    1.0 + poisson(self.rng, 0.8) as f64
                } else {
                    0.0
                };
                if left > 0.5
                    && let Some(front) = backlog.waiting.front()
                {
                    age = age.max(f64::from(m - front.0) * 60.0 + self.rng.random_range(5.0..55.0));
                }
                if self.mods.retry {
                    backlog.retry_from = Some(m);
                }
                if let Some(r) = backlog.retry_from {
                    let k = m - r;
                    if k >= 1 && f64::from(k) * 60.0 < vt {
                        let v = (f64::from(k) * 60.0 + self.rng.random_range(0.0..50.0))
                            .min(vt - self.rng.random_range(0.0..15.0));
                        age = age.max(v);
                    } else if k >= 1 {
                        backlog.retry_from = None;
                    }
                }
                if let Some(i) = backlog.incident {
                    let t = &mut self.traces[i];
                    t.peak_backlog = t.peak_backlog.max(left);
                    if left <= 0.5 && consumer.is_none() {
                        t.backlog_end = Some(m);
                        backlog.incident = None;
                    }
                }
                let qa = self.at.queue.unwrap_or(0);
                self.push(qa, m, sent as f64);
                self.push(qa + 1, m, normal_visible + (left * visible_share).round());
                self.push(qa + 2, m, age.round());
            }

            for (f, o) in outcomes.iter().enumerate() {
                self.record(f, m, o);
                self.trace(m, f, o);
            }

            // The REST API in front of the API functions.
            if let (Some(api), Some(a)) = (&w.api, self.at.api)
                && total > 0
            {
                let mut inv = 0.0;
                let mut dur_sum = 0.0;
                let mut failed = 0;
                let mut tails = Vec::with_capacity(api_functions.len());
                for &f in &api_functions {
                    let o = &outcomes[f];
                    inv += o.invocations as f64;
                    dur_sum += o.invocations as f64 * o.avg;
                    failed += o.errors + o.throttles;
                    if o.invocations > 0 {
                        tails.push(o.tail);
                    }
                }
                let quick = (total as f64 - inv).max(0.0);
                let integration = if inv > 0.0 {
                    Some(dur_sum / inv + api.integration_ms + normal(self.rng, 0.4))
                } else {
                    None
                };
                let latency = (dur_sum
                    + inv * (api.integration_ms + api.gateway_ms)
                    + quick * api.gateway_ms * 0.6)
                    / total as f64
                    + normal(self.rng, 0.4);
                let p99 = if inv > 0.0 {
                    let q = percentile99(&tails);
                    let hung = tails.iter().any(|t| t.hung > 0.0 && q >= t.hang_ms * 0.99);
                    (if hung {
                        q
                    } else {
                        q * libm::exp(normal(self.rng, 0.05))
                    }) + api.integration_ms
                        + api.gateway_ms
                        + self.rng.random_range(0.0..6.0)
                } else {
                    api.gateway_ms * 1.5
                };
                self.push(a, m, total as f64);
                self.push(a + 1, m, client_errors as f64);
                self.push(a + 2, m, failed as f64);
                self.push(a + 3, m, latency.max(1.0));
                self.push(a + 4, m, p99.max(latency));
                if let Some(i) = integration {
                    self.push(a + 5, m, i.max(1.0));
                }
            }

            // The table: capacity, latency and errors per operation.
            if let (Some(t), Some(ta)) = (&w.table, self.at.table) {
                let mut read = 0.0;
                let mut write = 0.0;
                for (f, func) in w.functions.iter().enumerate() {
                    let o = &outcomes[f];
                    let Some(op) = func.op else { continue };
                    let Some(k) = t.op_index(op) else { continue };
                    let (n, units) = match func.role {
                        Role::Worker => (processed * func.calls, func.units),
                        Role::Batch => {
                            let job = w.batch.as_ref();
                            let per = job.map_or(0.0, |j| j.read_units);
                            write += o.invocations as f64 * job.map_or(0.0, |j| j.write_units);
                            (o.invocations as f64 * func.calls, per / func.calls.max(1.0))
                        }
                        _ if op.is_read() => (o.invocations as f64 * func.calls, func.units),
                        _ => (
                            (o.invocations - o.errors.min(o.invocations)) as f64 * func.calls,
                            func.units,
                        ),
                    };
                    calls[k] += n;
                    let phi = self.mods.op_throttle[k];
                    let consumed = n * units * (1.0 - phi * phi * phi);
                    if op.is_read() {
                        read += consumed;
                    } else {
                        write += consumed;
                    }
                }
                // Half units are as fine as the table reports them.
                let read = (read * 2.0).round() / 2.0;
                let write = (write * 2.0).round() / 2.0;
                if read > 0.0 {
                    self.push(ta, m, read);
                }
                if write > 0.0 {
                    self.push(ta + 1, m, write);
                }
                let mut all_calls = 0.0;
                for (k, &n) in calls.iter().enumerate() {
                    all_calls += n;
                    if n < 0.5 {
                        continue;
                    }
                    let sd = 0.3 / n.sqrt() + 0.04;
                    let lat = t.latency_ms[k]
                        * self.mods.op_lat[k]
                        * (1.0 + normal(self.rng, sd)).max(0.4);
                    self.push(ta + 2 + k, m, lat);
                    let phi = self.mods.op_throttle[k];
                    if phi > 0.0 {
                        let hit = binomial(self.rng, n.round() as u64, phi) as f64;
                        let throttled = (hit * (1.0 + phi + phi * phi)).round();
                        if throttled > 0.0 {
                            self.push(ta + 2 + ops + 2 * k, m, throttled);
                        }
                    }
                    let system = poisson(self.rng, n * 1.5e-6);
                    if system > 0 {
                        self.push(ta + 2 + ops + 2 * k + 1, m, system as f64);
                    }
                }
                let user = poisson(self.rng, all_calls * 1.5e-5);
                if user > 0 {
                    self.push(ta + 2 + 3 * ops, m, user as f64);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_quantile_matches_known_values() {
        for (p, z) in [
            (0.5, 0.0),
            (0.99, 2.326_348),
            (0.01, -2.326_348),
            (0.999, 3.090_232),
            (0.8, 0.841_621),
        ] {
            assert!(
                (normal_quantile(p) - z).abs() < 1e-5,
                "{p}: {}",
                normal_quantile(p)
            );
        }
    }

    #[test]
    fn p99_of_one_lognormal_is_its_quantile_and_of_a_mix_lies_between() {
        let body = |median: f64, count: f64| Tail {
            fine: count,
            median,
            sigma: 0.4,
            ..Tail::default()
        };
        let one = percentile99(&[body(100.0, 1000.0)]);
        assert!(
            (one - 100.0 * libm::exp(0.4 * 2.326_348)).abs() < 0.01,
            "{one}"
        );
        // The bisection agrees with the closed form.
        let mut with_nothing_cold = body(100.0, 1000.0);
        with_nothing_cold.cold_ms = 1.0;
        let searched = percentile99(&[with_nothing_cold, body(100.0, 0.0)]);
        assert!((searched - one).abs() / one < 1e-4, "{searched} vs {one}");
        // A slow function with 2% of the requests pulls the mix's p99 up,
        // but not to its own.
        let slow = percentile99(&[body(1000.0, 20.0)]);
        let mix = percentile99(&[body(100.0, 980.0), body(1000.0, 20.0)]);
        assert!(mix > one && mix < slow, "{one} < {mix} < {slow}");
    }

    #[test]
    fn hung_invocations_pin_p99_at_the_timeout_and_one_cold_start_shows_at_low_traffic() {
        let hung = Tail {
            fine: 90.0,
            median: 50.0,
            sigma: 0.4,
            hung: 10.0,
            hang_ms: 3000.0,
            ..Tail::default()
        };
        assert_eq!(percentile99(&[hung]), 3000.0);
        let cold = Tail {
            fine: 30.0,
            median: 50.0,
            sigma: 0.4,
            cold: 1.0,
            cold_ms: 400.0,
            ..Tail::default()
        };
        assert!((percentile99(&[cold]) - 400.0).abs() < 1.0);
        let busy = Tail {
            fine: 5000.0,
            ..cold
        };
        assert!(percentile99(&[busy]) < 200.0);
    }
}
