//! The timeline of a scenario: batch runs, deployments, routine benign
//! events and injected incidents, each turned into effects on the
//! simulation's minutes and, for the evaluation period, into an entry of the
//! truth.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Poisson};

use super::SynthError;
use super::spec::{BacklogMode, Injected, Injection, Spec, round};
use super::stack::{self, Op, Role, World, times};
use crate::truth::{EventTime, ExpectedMetric, Ordered};

/// What an effect does to a minute.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum EffectKind {
    /// API requests multiplied.
    Traffic { multiplier: f64 },
    /// A function's durations multiplied.
    Duration { function: usize, multiplier: f64 },
    /// A function's error rate raised.
    Errors { function: usize, rate: f64 },
    /// A fraction of a function's invocations hang until the timeout.
    Timeouts { function: usize, fraction: f64 },
    /// One more error of a function.
    OneError { function: usize },
    /// Every instance of a function starts cold (a deployment).
    Cold { function: usize },
    /// A table operation's latency multiplied; `propagate` slows the
    /// functions that wait on it.
    OpLatency {
        op: usize,
        multiplier: f64,
        propagate: bool,
    },
    /// A fraction of a table operation's requests throttled.
    OpThrottle { op: usize, fraction: f64 },
    /// The queue's consumer falls behind.
    Consumer { mode: BacklogMode },
    /// One consumer batch fails and comes back after the visibility timeout.
    ConsumerRetry,
}

/// An effect over minutes `[start, end)`, ramping up over `up` minutes and
/// down over `down`; the last minute counts for `last_fraction` of it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Effect {
    pub(crate) start: u32,
    pub(crate) end: u32,
    pub(crate) up: u32,
    pub(crate) down: u32,
    pub(crate) last_fraction: f64,
    pub(crate) kind: EffectKind,
    /// The planned incident it belongs to, for the simulation's traces.
    pub(crate) incident: Option<usize>,
}

impl Effect {
    fn new(start: u32, end: u32, kind: EffectKind, incident: Option<usize>) -> Effect {
        Effect {
            start,
            end: end.max(start + 1),
            up: 0,
            down: 0,
            last_fraction: 1.0,
            kind,
            incident,
        }
    }

    fn ramps(mut self, up: u32, down: u32) -> Effect {
        self.up = up;
        self.down = down;
        self
    }

    /// How much of the effect applies in minute `m`, in `[0, 1]`.
    pub(crate) fn envelope(&self, m: u32) -> f64 {
        if m < self.start || m >= self.end {
            return 0.0;
        }
        let mut e: f64 = 1.0;
        let from_start = m - self.start;
        if from_start < self.up {
            e = e.min(f64::from(from_start + 1) / f64::from(self.up + 1));
        }
        let to_end = self.end - m;
        if to_end <= self.down {
            e = e.min(f64::from(to_end) / f64::from(self.down + 1));
        }
        if m + 1 == self.end {
            e *= self.last_fraction;
        }
        e
    }
}

/// One step of a deployment: a resource updated.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub(crate) logical: String,
    pub(crate) physical: String,
    pub(crate) resource_type: &'static str,
    pub(crate) in_progress_ms: i64,
    pub(crate) complete_ms: i64,
}

/// A stack update: the stack's events around its resources' steps.
#[derive(Clone, Debug)]
pub(crate) struct Deployment {
    pub(crate) token: String,
    pub(crate) start_ms: i64,
    pub(crate) steps: Vec<Step>,
    pub(crate) cleanup_ms: i64,
    pub(crate) complete_ms: i64,
    pub(crate) event_ids: [String; 3],
}

/// An entry the truth will list (evaluation period only).
#[derive(Clone, Debug)]
pub(crate) struct Planned {
    pub(crate) kind: &'static str,
    pub(crate) real: bool,
    pub(crate) expect_event: bool,
    pub(crate) onset: u32,
    pub(crate) end: u32,
    pub(crate) primary: String,
    pub(crate) affected: Vec<String>,
    pub(crate) deployed: Option<String>,
    pub(crate) event_time: Option<EventTime>,
    pub(crate) rollback_time: Option<EventTime>,
    pub(crate) co_deployed: Option<Vec<String>>,
    pub(crate) metric: Option<String>,
    pub(crate) details: Option<Ordered<f64>>,
    pub(crate) description: String,
    pub(crate) expected: Vec<ExpectedMetric>,
    /// The function whose behaviour the simulation traces for it.
    pub(crate) traced_function: Option<usize>,
}

/// The scenario's timeline.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// Minutes of data.
    pub(crate) minutes: u32,
    /// First minute of the evaluation period.
    pub(crate) eval_start: u32,
    /// Minute of the UTC day of minute 0.
    pub(crate) start_minute_of_day: u32,
    /// Daily batch runs: (first minute, length).
    pub(crate) batch_runs: Vec<(u32, u32)>,
    /// Single off-schedule batch invocations.
    pub(crate) batch_singles: Vec<u32>,
    pub(crate) deployments: Vec<Deployment>,
    /// Sorted by start.
    pub(crate) effects: Vec<Effect>,
    pub(crate) planned: Vec<Planned>,
}

fn poisson<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    Poisson::new(mean).map_or(0, |p| p.sample(rng) as u32)
}

fn metric(
    resource: &str,
    namespace: &str,
    name: &str,
    stat: &str,
    direction: &str,
    operation: Option<&str>,
) -> ExpectedMetric {
    ExpectedMetric {
        resource: resource.to_string(),
        namespace: namespace.to_string(),
        metric: name.to_string(),
        stat: stat.to_string(),
        direction: direction.to_string(),
        operation: operation.map(str::to_string),
    }
}

const INC: &str = "INCREASE";
const DEC: &str = "DECREASE";
const LAMBDA: &str = "AWS/Lambda";
const APIGW: &str = "AWS/ApiGateway";
const DDB: &str = "AWS/DynamoDB";
const SQS: &str = "AWS/SQS";

struct Planner<'a, R: ?Sized> {
    spec: &'a Spec,
    w: &'a World,
    rng: &'a mut R,
    plan: Plan,
    /// Minute of the UTC day of minute 0.
    day0: u32,
    /// Windows `[from, to)` kept clear of routine benign events.
    busy: Vec<(u32, u32)>,
    /// Minutes of routine benign events already placed.
    taken: Vec<u32>,
}

/// Plans the timeline of `spec` on the stack `w`.
pub(crate) fn plan<R: Rng + ?Sized>(
    spec: &Spec,
    w: &World,
    rng: &mut R,
) -> Result<Plan, SynthError> {
    let minutes = (spec.history_days + spec.eval_days) * 1440;
    let eval_start = spec.history_days * 1440;
    let mut p = Planner {
        spec,
        w,
        rng,
        plan: Plan {
            minutes,
            eval_start,
            start_minute_of_day: (spec.start.second_of_day() / 60) as u32,
            batch_runs: Vec::new(),
            batch_singles: Vec::new(),
            deployments: Vec::new(),
            effects: Vec::new(),
            planned: Vec::new(),
        },
        day0: (spec.start.second_of_day() / 60) as u32,
        busy: Vec::new(),
        taken: Vec::new(),
    };
    for inj in &spec.injections {
        p.inject(inj, true)?;
    }
    p.batches();
    p.routine();
    let mut plan = p.plan;
    plan.effects.sort_by_key(|e| (e.start, e.end));
    plan.deployments.sort_by_key(|d| d.start_ms);
    Ok(plan)
}

impl<R: Rng + ?Sized> Planner<'_, R> {
    fn ms_of_minute(&self, m: u32) -> i64 {
        (self.spec.start.secs() + i64::from(m) * 60) * 1000
    }

    fn in_eval(&self, m: u32) -> bool {
        m >= self.plan.eval_start && m < self.plan.minutes
    }

    fn is_busy(&self, from: u32, to: u32) -> bool {
        self.busy.iter().any(|&(a, b)| from < b && a < to)
    }

    fn api_id(&self) -> Option<String> {
        self.w.api.as_ref().map(|a| a.id.clone())
    }

    fn fn_id(&self, f: usize) -> String {
        self.w.functions[f].physical.clone()
    }

    fn table_id(&self) -> Option<String> {
        self.w.table.as_ref().map(|t| t.physical.clone())
    }

    fn queue_id(&self) -> Option<String> {
        self.w.queue.as_ref().map(|q| q.url.clone())
    }

    /// The function an injection targets (a logical id, or the busiest API
    /// function).
    fn target_function(&self, inj: &Injection) -> Result<usize, SynthError> {
        match &inj.target {
            Some(t) => self
                .w
                .function_by_logical(t)
                .ok_or_else(|| SynthError::Invalid {
                    what: format!(
                        "{} targets {t:?}, which is not a function of the stack (functions: {})",
                        inj.what.type_name(),
                        self.w
                            .functions
                            .iter()
                            .map(|f| f.logical.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }),
            None => Ok(self.w.main_function()),
        }
    }

    fn targets_table(&self, inj: &Injection) -> bool {
        match (&inj.target, &self.w.table) {
            (Some(t), Some(table)) => *t == table.logical,
            _ => false,
        }
    }

    /// The table operation with the most requests: the busiest API
    /// function's, else the first.
    fn busiest_op(&self) -> Option<(usize, Op)> {
        let t = self.w.table.as_ref()?;
        let op = self.w.functions[self.w.main_function()]
            .op
            .or_else(|| t.ops.first().copied())?;
        Some((t.op_index(op)?, op))
    }

    /// Functions (behind the API or not) whose requests use `op`.
    fn users_of(&self, op: Op) -> Vec<usize> {
        self.w
            .functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.op == Some(op) && f.role != Role::Batch)
            .map(|(i, _)| i)
            .collect()
    }

    fn behind_api(&self, f: usize) -> bool {
        self.w.api.is_some() && self.w.functions[f].role == Role::Api
    }

    fn push_effect(&mut self, e: Effect) {
        self.plan.effects.push(e);
    }

    fn deployment(&mut self, functions: &[usize], primary_complete_ms: i64) -> Deployment {
        let rng = &mut *self.rng;
        let mut steps = Vec::new();
        let mut cursor = primary_complete_ms;
        for (k, &f) in functions.iter().enumerate() {
            let complete = if k == 0 {
                cursor
            } else {
                cursor - rng.random_range(300..4000)
            };
            let in_progress = complete - rng.random_range(4000..19_000);
            let func = &self.w.functions[f];
            steps.push(Step {
                logical: func.logical.clone(),
                physical: func.physical.clone(),
                resource_type: "AWS::Lambda::Function",
                in_progress_ms: in_progress,
                complete_ms: complete,
            });
            cursor = in_progress;
        }
        let start_ms = cursor - rng.random_range(9000..40_000);
        let cleanup_ms = primary_complete_ms + rng.random_range(6000..40_000);
        let complete_ms = cleanup_ms + rng.random_range(9000..40_000);
        let token = if rng.random_bool(0.7) {
            format!("sam-deploy-{}", stack::hex(rng, 8))
        } else {
            format!("Console-UpdateStack-{}", stack::hex(rng, 8))
        };
        Deployment {
            token,
            start_ms,
            steps,
            cleanup_ms,
            complete_ms,
            event_ids: [stack::uuid(rng), stack::uuid(rng), stack::uuid(rng)],
        }
    }

    /// Cold starts of the deployed functions in the minute of the update and
    /// the next.
    fn cold_starts(&mut self, functions: &[usize], complete_ms: i64) {
        let m = ((complete_ms / 1000 - self.spec.start.secs()) / 60).max(0) as u32;
        for &f in functions {
            self.push_effect(Effect::new(
                m,
                m + 2,
                EffectKind::Cold { function: f },
                None,
            ));
        }
    }

    fn inject(&mut self, inj: &Injection, listed: bool) -> Result<(), SynthError> {
        let eval = self.plan.eval_start;
        let onset = eval + inj.at_minute;
        let minutes = inj.minutes.max(1);
        if inj.what.is_real() && onset + minutes + 20 > self.plan.minutes {
            return Err(SynthError::Invalid {
                what: format!(
                    "{} at minute {} for {} minutes does not end 20 minutes before the data ({} evaluation minutes)",
                    inj.what.type_name(),
                    inj.at_minute,
                    minutes,
                    self.plan.minutes - eval
                ),
            });
        }
        if onset >= self.plan.minutes {
            return Err(SynthError::Invalid {
                what: format!(
                    "{} at minute {} is after the evaluation period",
                    inj.what.type_name(),
                    inj.at_minute
                ),
            });
        }
        let end = onset + minutes;
        let idx = self.plan.planned.len();
        if inj.what.is_real() {
            self.busy.push((onset.saturating_sub(30), end + 45));
        }
        let api = self.api_id();
        let table = self.table_id();
        let queue = self.queue_id();
        let (up, down) = (
            self.rng.random_range(1..=3u32),
            self.rng.random_range(2..=5u32),
        );
        match &inj.what {
            Injected::LoadSpike {
                multiplier,
                duration_multiplier,
            } => {
                self.push_effect(
                    Effect::new(
                        onset,
                        end,
                        EffectKind::Traffic {
                            multiplier: *multiplier,
                        },
                        Some(idx),
                    )
                    .ramps(up, down),
                );
                let apis: Vec<usize> = self.w.api_functions().collect();
                for &f in &apis {
                    self.push_effect(
                        Effect::new(
                            onset,
                            end,
                            EffectKind::Duration {
                                function: f,
                                multiplier: *duration_multiplier,
                            },
                            Some(idx),
                        )
                        .ramps(up, down),
                    );
                }
                let main = self.w.main_function();
                let main_id = self.fn_id(main);
                let primary = api.clone().unwrap_or_else(|| main_id.clone());
                let mut affected: Vec<String> = api.iter().cloned().collect();
                affected.extend(apis.iter().map(|&f| self.fn_id(f)));
                let mut expected = Vec::new();
                if let Some(a) = &api {
                    expected.push(metric(a, APIGW, "Count", "Sum", INC, None));
                }
                expected.push(metric(&main_id, LAMBDA, "Invocations", "Sum", INC, None));
                if *duration_multiplier >= 1.25 {
                    expected.push(metric(&main_id, LAMBDA, "Duration", "Average", INC, None));
                }
                expected.push(metric(
                    &main_id,
                    LAMBDA,
                    "ConcurrentExecutions",
                    "Maximum",
                    INC,
                    None,
                ));
                if let Some(t) = &table {
                    affected.push(t.clone());
                    if self.w.functions[main].op.is_some_and(Op::is_read) {
                        expected.push(metric(
                            t,
                            DDB,
                            "ConsumedReadCapacityUnits",
                            "Sum",
                            INC,
                            None,
                        ));
                    } else {
                        expected.push(metric(
                            t,
                            DDB,
                            "ConsumedWriteCapacityUnits",
                            "Sum",
                            INC,
                            None,
                        ));
                    }
                }
                if let (Some(q), Some(c)) = (&queue, self.w.consumer)
                    && self.w.producer.is_some()
                {
                    affected.push(q.clone());
                    affected.push(self.fn_id(c));
                    expected.push(metric(q, SQS, "NumberOfMessagesSent", "Sum", INC, None));
                }
                let name = self.w.functions[main].short().to_string();
                self.plan.planned.push(Planned {
                    details: Some(Ordered(vec![
                        ("multiplier".into(), round(*multiplier, 2)),
                        ("duration_multiplier".into(), round(*duration_multiplier, 2)),
                    ])),
                    description: format!(
                        "API requests {} for {} min; {name} duration {}",
                        times(*multiplier),
                        minutes,
                        times(*duration_multiplier)
                    ),
                    traced_function: Some(main),
                    ..self.entry("load_spike", true, onset, end, primary, affected, expected)
                });
            }
            Injected::TrafficDrop { remaining } => {
                let remaining = remaining.clamp(0.0, 1.0);
                self.push_effect(
                    Effect::new(
                        onset,
                        end,
                        EffectKind::Traffic {
                            multiplier: remaining,
                        },
                        Some(idx),
                    )
                    .ramps(up.min(2), down.min(3)),
                );
                let main = self.w.main_function();
                let main_id = self.fn_id(main);
                let primary = api.clone().unwrap_or_else(|| main_id.clone());
                let mut affected: Vec<String> = api.iter().cloned().collect();
                affected.extend(self.w.api_functions().map(|f| self.fn_id(f)));
                let mut expected = Vec::new();
                if let Some(a) = &api {
                    expected.push(metric(a, APIGW, "Count", "Sum", DEC, None));
                }
                expected.push(metric(&main_id, LAMBDA, "Invocations", "Sum", DEC, None));
                if let Some(t) = &table {
                    affected.push(t.clone());
                    let m = if self.w.functions[main].op.is_some_and(Op::is_read) {
                        "ConsumedReadCapacityUnits"
                    } else {
                        "ConsumedWriteCapacityUnits"
                    };
                    expected.push(metric(t, DDB, m, "Sum", DEC, None));
                }
                if let (Some(q), Some(c)) = (&queue, self.w.consumer)
                    && self.w.producer.is_some()
                {
                    affected.push(q.clone());
                    affected.push(self.fn_id(c));
                    expected.push(metric(q, SQS, "NumberOfMessagesSent", "Sum", DEC, None));
                }
                self.plan.planned.push(Planned {
                    details: Some(Ordered(vec![("drop".into(), round(1.0 - remaining, 2))])),
                    description: format!(
                        "API requests down {:.0}% for {} min",
                        (1.0 - remaining) * 100.0,
                        minutes
                    ),
                    traced_function: Some(main),
                    ..self.entry(
                        "traffic_drop",
                        true,
                        onset,
                        end,
                        primary,
                        affected,
                        expected,
                    )
                });
            }
            Injected::BadDeploy {
                error_rate,
                duration_multiplier,
                co_deployed,
            } => {
                let f = self.target_function(inj)?;
                let mut co: Vec<usize> = Vec::new();
                for c in co_deployed {
                    co.push(self.w.function_by_logical(c).ok_or_else(|| SynthError::Invalid {
                        what: format!("bad_deploy co-deploys {c:?}, which is not a function of the stack"),
                    })?);
                }
                let mut deployed = vec![f];
                deployed.extend(co.iter().copied().filter(|&c| c != f));
                let event_ms = self.ms_of_minute(onset) - self.rng.random_range(8000..55_000);
                let d = self.deployment(&deployed, event_ms);
                self.plan.deployments.push(d);
                // The rollback completes within the last affected minute.
                let into_last = self.rng.random_range(5000..55_000);
                let rollback_ms = self.ms_of_minute(end - 1) + into_last;
                let r = self.deployment(&deployed, rollback_ms);
                self.plan.deployments.push(r);
                self.cold_starts(&deployed, event_ms);
                self.cold_starts(&deployed, rollback_ms);
                let last_fraction = into_last as f64 / 60_000.0;
                if *error_rate > 0.0 {
                    let mut e = Effect::new(
                        onset,
                        end,
                        EffectKind::Errors {
                            function: f,
                            rate: *error_rate,
                        },
                        Some(idx),
                    );
                    e.last_fraction = last_fraction;
                    self.push_effect(e);
                }
                if (*duration_multiplier - 1.0).abs() > 1e-9 {
                    let mut e = Effect::new(
                        onset,
                        end,
                        EffectKind::Duration {
                            function: f,
                            multiplier: *duration_multiplier,
                        },
                        Some(idx),
                    );
                    e.last_fraction = last_fraction;
                    self.push_effect(e);
                }
                let fid = self.fn_id(f);
                let mut affected = vec![fid.clone()];
                let mut expected = Vec::new();
                if *error_rate > 0.0 {
                    expected.push(metric(&fid, LAMBDA, "Errors", "Sum", INC, None));
                }
                if *duration_multiplier >= 1.25 {
                    expected.push(metric(&fid, LAMBDA, "Duration", "Average", INC, None));
                }
                if self.behind_api(f)
                    && let Some(a) = &api
                {
                    affected.push(a.clone());
                    if *error_rate > 0.0 {
                        expected.push(metric(a, APIGW, "5XXError", "Sum", INC, None));
                    }
                    if *duration_multiplier >= 1.5 {
                        expected.push(metric(a, APIGW, "Latency", "Average", INC, None));
                    }
                }
                let name = self.w.functions[f].short().to_string();
                let at = |ms: i64| EventTime::from_millis(ms).timestamp().hhmm();
                let what = if *error_rate > 0.0 {
                    format!("raised errors to ~{:.0}%", error_rate * 100.0)
                } else {
                    format!("made it {} slower", times(*duration_multiplier))
                };
                self.plan.planned.push(Planned {
                    expect_event: true,
                    deployed: Some(fid),
                    event_time: Some(EventTime::from_millis(event_ms)),
                    rollback_time: Some(EventTime::from_millis(rollback_ms)),
                    co_deployed: Some(co.iter().map(|&c| self.fn_id(c)).collect()),
                    details: Some(Ordered(vec![
                        ("error_rate".into(), round(*error_rate, 3)),
                        ("duration_multiplier".into(), round(*duration_multiplier, 2)),
                    ])),
                    description: format!(
                        "deployment of {name} at {} {what} until the rollback at {}",
                        at(event_ms),
                        at(rollback_ms)
                    ),
                    traced_function: Some(f),
                    ..self.entry(
                        "bad_deploy",
                        true,
                        onset,
                        end,
                        self.fn_id(f),
                        affected,
                        expected,
                    )
                });
            }
            Injected::SlowDependency { multiplier } => {
                let up = self.rng.random_range(1..=8u32);
                let down = self.rng.random_range(1..=3u32);
                if self.targets_table(inj) {
                    let Some((o, op)) = self.busiest_op() else {
                        return Err(SynthError::Invalid {
                            what: "slow_dependency targets the table, which serves no operation"
                                .into(),
                        });
                    };
                    self.push_effect(
                        Effect::new(
                            onset,
                            end,
                            EffectKind::OpLatency {
                                op: o,
                                multiplier: *multiplier,
                                propagate: true,
                            },
                            Some(idx),
                        )
                        .ramps(up, down),
                    );
                    let tid = table.clone().unwrap_or_default();
                    let users = self.users_of(op);
                    let mut affected = vec![tid.clone()];
                    let mut expected = vec![metric(
                        &tid,
                        DDB,
                        "SuccessfulRequestLatency",
                        "Average",
                        INC,
                        Some(op.as_str()),
                    )];
                    for &u in &users {
                        let id = self.fn_id(u);
                        affected.push(id.clone());
                        let base = self.w.functions[u].base_ms;
                        let lat = self.w.table.as_ref().map_or(0.0, |t| t.latency_ms[o]);
                        if lat * (multiplier - 1.0) * self.w.functions[u].calls > 0.25 * base {
                            expected.push(metric(&id, LAMBDA, "Duration", "Average", INC, None));
                        }
                    }
                    if users.iter().any(|&u| self.behind_api(u))
                        && let Some(a) = &api
                    {
                        affected.push(a.clone());
                    }
                    let tname = self
                        .w
                        .table
                        .as_ref()
                        .map_or("", |t| t.logical.as_str())
                        .to_string();
                    self.plan.planned.push(Planned {
                        details: Some(Ordered(vec![(
                            "latency_multiplier".into(),
                            round(*multiplier, 2),
                        )])),
                        description: format!(
                            "{} latency of {tname} {} for {} min; its callers slow down",
                            op.as_str(),
                            times(*multiplier),
                            minutes
                        ),
                        traced_function: users.first().copied(),
                        ..self.entry("slow_dependency", true, onset, end, tid, affected, expected)
                    });
                } else {
                    let f = self.target_function(inj)?;
                    self.push_effect(
                        Effect::new(
                            onset,
                            end,
                            EffectKind::Duration {
                                function: f,
                                multiplier: *multiplier,
                            },
                            Some(idx),
                        )
                        .ramps(up, down),
                    );
                    let fid = self.fn_id(f);
                    let mut affected = vec![fid.clone()];
                    let mut expected = vec![
                        metric(&fid, LAMBDA, "Duration", "Average", INC, None),
                        metric(&fid, LAMBDA, "Duration", "p99", INC, None),
                    ];
                    if *multiplier >= 2.0 {
                        expected.push(metric(
                            &fid,
                            LAMBDA,
                            "ConcurrentExecutions",
                            "Maximum",
                            INC,
                            None,
                        ));
                    }
                    if self.behind_api(f)
                        && let Some(a) = &api
                    {
                        affected.push(a.clone());
                        if self.w.functions[f].share >= 0.3 {
                            expected.push(metric(a, APIGW, "Latency", "Average", INC, None));
                            expected.push(metric(
                                a,
                                APIGW,
                                "IntegrationLatency",
                                "Average",
                                INC,
                                None,
                            ));
                        }
                    }
                    let name = self.w.functions[f].short().to_string();
                    self.plan.planned.push(Planned {
                        details: Some(Ordered(vec![(
                            "duration_multiplier".into(),
                            round(*multiplier, 2),
                        )])),
                        description: format!(
                            "a dependency of {name} slowed down: duration {} for {} min",
                            times(*multiplier),
                            minutes
                        ),
                        traced_function: Some(f),
                        ..self.entry("slow_dependency", true, onset, end, fid, affected, expected)
                    });
                }
            }
            Injected::DdbThrottle {
                fraction,
                operation,
            } => {
                let Some(t) = self.w.table.as_ref() else {
                    return Err(SynthError::Invalid {
                        what: "ddb_throttle needs a stack with a table (profile.table)".into(),
                    });
                };
                let (o, op) = match operation {
                    Some(name) => {
                        let found = t
                            .ops
                            .iter()
                            .enumerate()
                            .find(|(_, op)| op.as_str() == name)
                            .map(|(i, op)| (i, *op));
                        found.ok_or_else(|| SynthError::Invalid {
                            what: format!(
                                "ddb_throttle on {name:?}, which the table does not serve (it serves {})",
                                t.ops.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(", ")
                            ),
                        })?
                    }
                    None => self.busiest_op().ok_or_else(|| SynthError::Invalid {
                        what: "ddb_throttle on a table that serves no operation".into(),
                    })?,
                };
                let fraction = fraction.clamp(0.0, 1.0);
                self.push_effect(
                    Effect::new(
                        onset,
                        end,
                        EffectKind::OpThrottle { op: o, fraction },
                        Some(idx),
                    )
                    .ramps(up.min(2), down.min(2)),
                );
                let tid = t.physical.clone();
                let tname = t.logical.clone();
                let users = self.users_of(op);
                let mut affected = vec![tid.clone()];
                let mut expected = vec![metric(
                    &tid,
                    DDB,
                    "ThrottledRequests",
                    "Sum",
                    INC,
                    Some(op.as_str()),
                )];
                for &u in &users {
                    let id = self.fn_id(u);
                    affected.push(id.clone());
                    if fraction >= 0.2 {
                        expected.push(metric(&id, LAMBDA, "Duration", "Average", INC, None));
                    }
                    if fraction >= 0.3 {
                        expected.push(metric(&id, LAMBDA, "Errors", "Sum", INC, None));
                    }
                }
                if users.iter().any(|&u| self.behind_api(u))
                    && let Some(a) = &api
                {
                    affected.push(a.clone());
                    if fraction >= 0.3 {
                        expected.push(metric(a, APIGW, "5XXError", "Sum", INC, None));
                    }
                }
                self.plan.planned.push(Planned {
                    details: Some(Ordered(vec![("throttled_fraction".into(), round(fraction, 3))])),
                    description: format!(
                        "{:.0}% of {} requests on {tname} throttled for {} min; callers retry and some fail",
                        fraction * 100.0,
                        op.as_str(),
                        minutes
                    ),
                    traced_function: users.first().copied(),
                    ..self.entry("ddb_throttle", true, onset, end, tid, affected, expected)
                });
            }
            Injected::QueueBacklog { mode } => {
                let (Some(q), Some(c)) = (queue.clone(), self.w.consumer) else {
                    return Err(SynthError::Invalid {
                        what: "queue_backlog needs a stack with a queue (profile.queue)".into(),
                    });
                };
                self.push_effect(Effect::new(
                    onset,
                    end,
                    EffectKind::Consumer { mode: *mode },
                    Some(idx),
                ));
                let cid = self.fn_id(c);
                let mut affected = vec![cid.clone(), q.clone()];
                if let Some(t) = &table {
                    affected.push(t.clone());
                }
                let name = self.w.functions[c].short().to_string();
                let (primary, what, detail, mut expected) = match mode {
                    BacklogMode::Failing { error_rate } => (
                        cid.clone(),
                        format!("{name} fails {:.0}% of its batches", error_rate * 100.0),
                        ("error_rate", *error_rate),
                        vec![metric(&cid, LAMBDA, "Errors", "Sum", INC, None)],
                    ),
                    BacklogMode::Slow { multiplier } => (
                        cid.clone(),
                        format!(
                            "{name} slows down {} at its concurrency limit",
                            times(*multiplier)
                        ),
                        ("duration_multiplier", *multiplier),
                        vec![metric(&cid, LAMBDA, "Duration", "Average", INC, None)],
                    ),
                    BacklogMode::Stopped => (
                        q.clone(),
                        format!("{name} stops receiving messages"),
                        ("stopped", 1.0),
                        vec![metric(&cid, LAMBDA, "Invocations", "Sum", DEC, None)],
                    ),
                };
                expected.push(metric(
                    &q,
                    SQS,
                    "ApproximateAgeOfOldestMessage",
                    "Maximum",
                    INC,
                    None,
                ));
                expected.push(metric(
                    &q,
                    SQS,
                    "ApproximateNumberOfMessagesVisible",
                    "Maximum",
                    INC,
                    None,
                ));
                self.plan.planned.push(Planned {
                    details: Some(Ordered(vec![(detail.0.into(), round(detail.1, 2))])),
                    description: format!(
                        "{what} for {minutes} min; messages pile up until it catches up"
                    ),
                    traced_function: Some(c),
                    ..self.entry(
                        "queue_backlog",
                        true,
                        onset,
                        end,
                        primary,
                        affected,
                        expected,
                    )
                });
            }
            Injected::Timeouts { fraction } => {
                let f = self.target_function(inj)?;
                let fraction = fraction.clamp(0.0, 1.0);
                self.push_effect(
                    Effect::new(
                        onset,
                        end,
                        EffectKind::Timeouts {
                            function: f,
                            fraction,
                        },
                        Some(idx),
                    )
                    .ramps(up, down.min(2)),
                );
                let fid = self.fn_id(f);
                let timeout = self.w.functions[f].timeout_s;
                let mut affected = vec![fid.clone()];
                let mut expected = vec![
                    metric(&fid, LAMBDA, "Duration", "Average", INC, None),
                    metric(&fid, LAMBDA, "Duration", "p99", INC, None),
                    metric(&fid, LAMBDA, "Errors", "Sum", INC, None),
                    metric(&fid, LAMBDA, "ConcurrentExecutions", "Maximum", INC, None),
                ];
                if self.behind_api(f)
                    && let Some(a) = &api
                {
                    affected.push(a.clone());
                    expected.push(metric(a, APIGW, "5XXError", "Sum", INC, None));
                    expected.push(metric(a, APIGW, "Latency", "Average", INC, None));
                }
                let name = self.w.functions[f].short().to_string();
                self.plan.planned.push(Planned {
                    details: Some(Ordered(vec![
                        ("timeout_fraction".into(), round(fraction, 3)),
                        ("timeout_s".into(), f64::from(timeout)),
                    ])),
                    description: format!(
                        "{:.0}% of {name} invocations hang until its {timeout} s timeout for {minutes} min",
                        fraction * 100.0
                    ),
                    traced_function: Some(f),
                    ..self.entry("timeouts", true, onset, end, fid, affected, expected)
                });
            }
            Injected::HarmlessDeploy => {
                let f = match &inj.target {
                    Some(_) => self.target_function(inj)?,
                    None => self.random_function(),
                };
                self.harmless_deploy(f, onset, listed);
            }
            Injected::Blip { multiplier } => {
                if self.targets_table(inj) {
                    let o = self.busiest_op().map_or(0, |b| b.0);
                    self.table_blip(o, *multiplier, onset, listed);
                } else {
                    let f = match &inj.target {
                        Some(_) => self.target_function(inj)?,
                        None => self.random_busy_function(),
                    };
                    self.function_blip(f, *multiplier, onset, listed);
                }
            }
            Injected::IsolatedError => {
                let f = match &inj.target {
                    Some(_) => self.target_function(inj)?,
                    None => self.random_busy_function(),
                };
                self.isolated_error(f, onset, listed);
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn entry(
        &self,
        kind: &'static str,
        real: bool,
        onset: u32,
        end: u32,
        primary: String,
        affected: Vec<String>,
        expected: Vec<ExpectedMetric>,
    ) -> Planned {
        Planned {
            kind,
            real,
            expect_event: false,
            onset,
            end,
            primary,
            affected,
            deployed: None,
            event_time: None,
            rollback_time: None,
            co_deployed: None,
            metric: None,
            details: None,
            description: String::new(),
            expected,
            traced_function: None,
        }
    }

    /// Table operations used by a busy function (see
    /// [`Planner::random_busy_function`]).
    fn busy_ops(&self) -> Vec<usize> {
        let Some(t) = &self.w.table else {
            return Vec::new();
        };
        (0..t.ops.len())
            .filter(|&o| {
                self.users_of(t.ops[o]).iter().any(|&u| {
                    let f = &self.w.functions[u];
                    f.share >= 0.1 || f.role == Role::Worker
                })
            })
            .collect()
    }

    /// A function for a routine deployment: API functions mostly.
    fn random_function(&mut self) -> usize {
        let apis: Vec<usize> = self.w.api_functions().collect();
        if !apis.is_empty() && self.rng.random_bool(0.75) {
            apis[self.rng.random_range(0..apis.len())]
        } else {
            self.rng.random_range(0..self.w.functions.len())
        }
    }

    /// A function busy enough that a blip or an error shows: an API function
    /// with a tenth of the traffic or more, or the consumer.
    fn random_busy_function(&mut self) -> usize {
        let mut busy: Vec<usize> = self
            .w
            .api_functions()
            .filter(|&f| self.w.functions[f].share >= 0.1)
            .collect();
        busy.extend(self.w.consumer);
        if busy.is_empty() {
            return self.w.main_function();
        }
        busy[self.rng.random_range(0..busy.len())]
    }

    fn harmless_deploy(&mut self, f: usize, minute: u32, listed: bool) {
        let mut deployed = vec![f];
        if self.rng.random_bool(0.3) {
            let other = self.rng.random_range(0..self.w.functions.len());
            if other != f {
                deployed.push(other);
            }
        }
        let ms = self.ms_of_minute(minute) + self.rng.random_range(5000..55_000);
        let d = self.deployment(&deployed, ms);
        self.plan.deployments.push(d);
        self.cold_starts(&deployed, ms);
        if listed && self.in_eval(minute) {
            let ids: Vec<String> = deployed.iter().map(|&d| self.fn_id(d)).collect();
            let logical = self.w.functions[f].logical.clone();
            self.plan.planned.push(Planned {
                event_time: Some(EventTime::from_millis(ms)),
                description: format!(
                    "deployment of {logical} with no lasting effect on metrics (its new instances start cold for a minute or two)"
                ),
                ..self.entry(
                    "harmless_deploy",
                    false,
                    minute,
                    minute + 1,
                    self.fn_id(f),
                    ids,
                    Vec::new(),
                )
            });
        }
    }

    fn function_blip(&mut self, f: usize, multiplier: f64, minute: u32, listed: bool) {
        self.push_effect(Effect::new(
            minute,
            minute + 1,
            EffectKind::Duration {
                function: f,
                multiplier,
            },
            None,
        ));
        if listed && self.in_eval(minute) {
            let mut affected = vec![self.fn_id(f)];
            if self.behind_api(f) {
                affected.extend(self.api_id());
            }
            let name = self.w.functions[f].short().to_string();
            self.plan.planned.push(Planned {
                metric: Some("Duration".into()),
                description: format!("one-minute duration blip {} on {name}", times(multiplier)),
                ..self.entry(
                    "blip",
                    false,
                    minute,
                    minute + 1,
                    self.fn_id(f),
                    affected,
                    Vec::new(),
                )
            });
        }
    }

    fn table_blip(&mut self, o: usize, multiplier: f64, minute: u32, listed: bool) {
        self.push_effect(Effect::new(
            minute,
            minute + 1,
            EffectKind::OpLatency {
                op: o,
                multiplier,
                propagate: false,
            },
            None,
        ));
        if listed
            && self.in_eval(minute)
            && let Some(t) = &self.w.table
        {
            let id = t.physical.clone();
            let description = format!(
                "one-minute {} latency blip {} on {}",
                t.ops[o].as_str(),
                times(multiplier),
                t.logical
            );
            self.plan.planned.push(Planned {
                metric: Some("SuccessfulRequestLatency".into()),
                description,
                ..self.entry(
                    "blip",
                    false,
                    minute,
                    minute + 1,
                    id.clone(),
                    vec![id],
                    Vec::new(),
                )
            });
        }
    }

    fn isolated_error(&mut self, f: usize, minute: u32, listed: bool) {
        self.push_effect(Effect::new(
            minute,
            minute + 1,
            EffectKind::OneError { function: f },
            None,
        ));
        if listed && self.in_eval(minute) {
            let mut affected = vec![self.fn_id(f)];
            if self.behind_api(f) {
                affected.extend(self.api_id());
            }
            let name = self.w.functions[f].short().to_string();
            self.plan.planned.push(Planned {
                metric: Some("Errors".into()),
                description: format!("a single error in {name}"),
                ..self.entry(
                    "isolated_error",
                    false,
                    minute,
                    minute + 1,
                    self.fn_id(f),
                    affected,
                    Vec::new(),
                )
            });
        }
    }

    /// The daily batch runs at the same UTC minute, lasting a minute or two
    /// more or less each day, and a few single off-schedule invocations.
    fn batches(&mut self) {
        let Some(job) = self.w.batch.clone() else {
            return;
        };
        let days = self.plan.minutes / 1440 + 2;
        for d in 0..days {
            let start = i64::from(d) * 1440 + i64::from(job.start_minute) - i64::from(self.day0);
            let len = (i64::from(job.minutes) + self.rng.random_range(-1..=2i64)).max(3) as u32;
            if start < 0 || start as u32 >= self.plan.minutes {
                continue;
            }
            let start = start as u32;
            self.plan.batch_runs.push((start, len));
            let end = (start + len).min(self.plan.minutes);
            if self.in_eval(start) {
                let f = &self.w.functions[job.function];
                let mut affected = vec![f.physical.clone()];
                affected.extend(self.table_id());
                let description = format!(
                    "daily scheduled batch of {} ({:.0} invocations/min, duration {}), same time every day",
                    f.short(),
                    job.per_minute,
                    times(job.duration_multiplier)
                );
                self.plan.planned.push(Planned {
                    description,
                    ..self.entry(
                        "scheduled_batch",
                        false,
                        start,
                        end,
                        f.physical.clone(),
                        affected,
                        Vec::new(),
                    )
                });
            }
        }
        let n = poisson(self.rng, 0.8 * f64::from(self.plan.minutes) / 1440.0);
        for _ in 0..n {
            let m = self.rng.random_range(0..self.plan.minutes);
            if !self
                .plan
                .batch_runs
                .iter()
                .any(|&(s, l)| m + 5 > s && m < s + l + 5)
            {
                self.plan.batch_singles.push(m);
            }
        }
        self.plan.batch_singles.sort_unstable();
    }

    /// A free minute for a routine event: clear of the incidents' windows in
    /// the evaluation period, of the batch, and five minutes from the other
    /// routine events.
    fn free_minute(&mut self, from: u32, to: u32) -> Option<u32> {
        self.free_minute_where(from, to, |_| true)
    }

    /// [`Planner::free_minute`] among the minutes `fits` accepts.
    fn free_minute_where(&mut self, from: u32, to: u32, fits: impl Fn(u32) -> bool) -> Option<u32> {
        for _ in 0..60 {
            let m = self.rng.random_range(from..to);
            if !fits(m) {
                continue;
            }
            let near_batch = self
                .plan
                .batch_runs
                .iter()
                .any(|&(s, l)| m + 10 > s && m < s + l + 10);
            let crowded = self.taken.iter().any(|&t| t.abs_diff(m) < 5);
            if !self.is_busy(m, m + 1) && !near_batch && !crowded {
                self.taken.push(m);
                return Some(m);
            }
        }
        None
    }

    /// Routine benign events, every day at the background's rates.
    fn routine(&mut self) {
        let bg = self.spec.background.clone();
        let days = self.plan.minutes.div_ceil(1440);
        let offset = i64::from(self.spec.profile.utc_offset_hours) * 60;
        for d in 0..days {
            let from = d * 1440;
            let to = ((d + 1) * 1440).min(self.plan.minutes);
            for _ in 0..poisson(self.rng, bg.blips_per_day) {
                let Some(m) = self.free_minute(from, to) else {
                    continue;
                };
                let k = libm::exp(self.rng.random_range(libm::log(2.0)..libm::log(8.0)));
                if self.w.table.is_some() && self.rng.random_bool(0.35) {
                    // On an operation that has requests to slow down.
                    let ops = self.busy_ops();
                    if !ops.is_empty() {
                        let o = ops[self.rng.random_range(0..ops.len())];
                        self.table_blip(o, k, m, true);
                        continue;
                    }
                }
                let f = self.random_busy_function();
                self.function_blip(f, k, m, true);
            }
            for _ in 0..poisson(self.rng, bg.isolated_errors_per_day) {
                let Some(m) = self.free_minute(from, to) else {
                    continue;
                };
                let f = self.random_busy_function();
                self.isolated_error(f, m, true);
            }
            for _ in 0..poisson(self.rng, bg.harmless_deploys_per_day) {
                // Working hours in the users' time.
                let day0 = i64::from(self.day0);
                let working = |m: u32| {
                    let local = (day0 + i64::from(m) + offset).rem_euclid(1440);
                    (9 * 60..18 * 60).contains(&local)
                };
                if let Some(m) = self.free_minute_where(from, to, working) {
                    let f = self.random_function();
                    self.harmless_deploy(f, m, true);
                }
            }
            if let (Some(c), Some(q)) = (self.w.consumer, self.w.queue.as_ref()) {
                let vt = q.visibility_timeout;
                let qid = q.url.clone();
                for _ in 0..poisson(self.rng, bg.consumer_failures_per_day) {
                    let Some(m) = self.free_minute(from, to) else {
                        continue;
                    };
                    let ramp = vt.div_ceil(60);
                    if self.is_busy(m, m + ramp + 1) {
                        continue;
                    }
                    self.push_effect(Effect::new(m, m + 1, EffectKind::ConsumerRetry, None));
                    self.push_effect(Effect::new(
                        m,
                        m + 1,
                        EffectKind::OneError { function: c },
                        None,
                    ));
                    if self.in_eval(m) {
                        let name = self.w.functions[c].short().to_string();
                        let cid = self.fn_id(c);
                        self.plan.planned.push(Planned {
                            metric: Some("Errors".into()),
                            description: format!(
                                "a failed batch of {name}, retried after the {vt} s visibility timeout (age of the oldest message up to ~{vt} s)"
                            ),
                            ..self.entry(
                                "isolated_error",
                                false,
                                m,
                                (m + ramp + 1).min(self.plan.minutes),
                                cid.clone(),
                                vec![cid, qid.clone()],
                                Vec::new(),
                            )
                        });
                    }
                }
            }
        }
    }
}
