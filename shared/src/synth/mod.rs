//! Synthetic scenarios: a deterministic generator of realistic serverless
//! stacks, their CloudWatch metrics, CloudFormation events and resource
//! configurations (Contract 1), with the ground truth of what happened
//! ([`crate::truth`]).
//!
//! A [`Spec`] describes the stack (API functions, table, queue and consumer,
//! daily batch, five-minute schedule), its traffic (peak, weekend level,
//! users' time zone) and the incidents and benign events injected into its
//! evaluation period. [`generate`] turns it into a scenario file's bytes and
//! its truth. What normal looks like: a daily curve in the users' local time
//! with a night trough at 5-15% of the afternoon peak, other weekends,
//! Poisson-noisy counts; invocations, table capacity and queue messages that
//! follow from the API's requests; functions with little traffic and many
//! empty minutes; a daily batch at a fixed UTC time; single-minute latency
//! blips, isolated errors, deployments that change nothing, and a queue
//! consumer that now and then fails a batch, which waits for the visibility
//! timeout.
//!
//! The same spec gives the same bytes: every random choice comes from
//! ChaCha8 generators seeded with the spec's seed (one stream per stage, so
//! that adding an incident does not rename the stack), the distributions are
//! `rand_distr`'s portable ones, and the generator's own floating-point
//! functions are `libm`'s, which give the same results on every platform.
//! (`rand_distr` computes with `libm` too, unless another crate of the same
//! build turns on `num-traits/std`, as `proptest` does in test builds; the
//! platform's functions then could change a draw in the last bit, which in
//! practice never shows.)
//!
//! This is an adapter-level module: it serialises JSON and writes files, and
//! is not part of the pure domain.

mod json;
mod plan;
mod sim;
mod spec;
mod stack;
#[cfg(test)]
mod tests;
mod traffic;

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub use spec::{Background, BacklogMode, Injected, Injection, PRESETS, Profile, Spec};

use crate::domain::time::Timestamp;
use crate::truth::{
    ExpectedMetric, Incident, Ordered, StackProfile, TRUTH_FORMAT, Truth, TruthResource,
};
use stack::World;

/// A spec that cannot be generated, or files that cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The spec is inconsistent.
    #[error("invalid scenario spec: {what}")]
    Invalid {
        /// What is wrong.
        what: String,
    },
    /// A JSON document could not be written.
    #[error("cannot serialise {what}: {source}")]
    Json {
        /// Which document.
        what: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A file could not be written.
    #[error("cannot write {file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A generated scenario and its truth.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The scenario's name.
    pub name: String,
    /// What happened.
    pub truth: Truth,
    /// The scenario file's bytes.
    scenario: Vec<u8>,
    /// Points in all series.
    pub points: usize,
    /// Series (metric queries).
    pub series: usize,
}

/// One line of a scenario directory's `index.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndexEntry {
    /// The scenario's name.
    pub name: String,
    /// Its file.
    pub scenario: String,
    /// Its truth file.
    pub truth: String,
    /// The stack.
    pub stack: String,
    /// Days of history.
    pub history_days: u32,
    /// Days of evaluation.
    pub eval_days: u32,
    /// Real incidents.
    pub incidents: usize,
    /// Their types.
    pub types: Vec<String>,
    /// Size of the scenario file.
    pub bytes: usize,
    /// Series.
    pub metrics: usize,
}

impl Generated {
    /// The scenario file (Contract 1), compact JSON.
    pub fn scenario_json(&self) -> &[u8] {
        &self.scenario
    }

    /// The truth file, pretty JSON.
    ///
    /// # Errors
    ///
    /// [`SynthError::Json`], which does not happen in practice.
    pub fn truth_json(&self) -> Result<Vec<u8>, SynthError> {
        self.truth.to_json().map_err(|source| SynthError::Json {
            what: format!("the truth of {}", self.name),
            source,
        })
    }

    /// Writes `NAME.json` and `NAME.truth.json` into `dir` (created if
    /// needed) and returns their paths.
    ///
    /// # Errors
    ///
    /// [`SynthError::Io`] naming the file that could not be written.
    pub fn write_to(&self, dir: &Path) -> Result<(PathBuf, PathBuf), SynthError> {
        std::fs::create_dir_all(dir).map_err(|source| SynthError::Io {
            file: dir.display().to_string(),
            source,
        })?;
        let scenario = dir.join(format!("{}.json", self.name));
        let truth = dir.join(format!("{}.truth.json", self.name));
        let write = |path: &Path, bytes: &[u8]| {
            std::fs::write(path, bytes).map_err(|source| SynthError::Io {
                file: path.display().to_string(),
                source,
            })
        };
        write(&scenario, &self.scenario)?;
        write(&truth, &self.truth_json()?)?;
        Ok((scenario, truth))
    }

    /// Its line of `index.json`.
    pub fn index_entry(&self) -> IndexEntry {
        let real: Vec<&Incident> = self
            .truth
            .incidents
            .iter()
            .filter(|i| i.is_real())
            .collect();
        IndexEntry {
            name: self.name.clone(),
            scenario: format!("{}.json", self.name),
            truth: format!("{}.truth.json", self.name),
            stack: self.truth.stack.clone(),
            history_days: self.truth.history_days,
            eval_days: self.truth.eval_days,
            incidents: real.len(),
            types: real.iter().map(|i| i.kind.clone()).collect(),
            bytes: self.scenario.len(),
            metrics: self.series,
        }
    }
}

/// `index.json` of a directory of scenarios, as the example scenarios have.
///
/// # Errors
///
/// [`SynthError::Json`], which does not happen in practice.
pub fn index_json(entries: &[IndexEntry]) -> Result<Vec<u8>, SynthError> {
    #[derive(Serialize)]
    struct Index<'a> {
        format: &'static str,
        scenarios: &'a [IndexEntry],
    }
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    Index {
        format: "stackwatch-scenario-index/1",
        scenarios: entries,
    }
    .serialize(&mut ser)
    .map_err(|source| SynthError::Json {
        what: "the index".into(),
        source,
    })?;
    out.push(b'\n');
    Ok(out)
}

/// The generator of one stage of the generation.
fn stream(seed: u64, stage: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stage);
    rng
}

fn check(spec: &Spec) -> Result<(), SynthError> {
    let invalid = |what: String| Err(SynthError::Invalid { what });
    let p = &spec.profile;
    if spec.period != 60 {
        return invalid(format!("period {} s: only 60 is supported", spec.period));
    }
    if spec.history_days == 0 || spec.eval_days == 0 || spec.history_days + spec.eval_days > 120 {
        return invalid(format!(
            "{} history day(s) and {} evaluation day(s): both must be at least 1, 120 in all",
            spec.history_days, spec.eval_days
        ));
    }
    if spec.start.secs() % 60 != 0 {
        return invalid(format!("start {} is not on a minute", spec.start));
    }
    if spec.stack.is_empty()
        || !spec
            .stack
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return invalid(format!(
            "stack name {:?} must be letters, digits and hyphens",
            spec.stack
        ));
    }
    if spec.entity.is_empty() || !spec.entity.chars().all(|c| c.is_ascii_alphanumeric()) {
        return invalid(format!(
            "entity {:?} must be letters and digits",
            spec.entity
        ));
    }
    if spec.name.is_empty() || spec.name.contains(['/', '\\']) {
        return invalid(format!("scenario name {:?} cannot name a file", spec.name));
    }
    if !(p.peak_requests_per_min > 0.0 && p.peak_requests_per_min < 1e7) {
        return invalid(format!(
            "peak of {} requests/min: must be positive and below 10 million",
            p.peak_requests_per_min
        ));
    }
    if !(p.weekend_factor > 0.0 && p.weekend_factor <= 5.0) {
        return invalid(format!(
            "weekend factor {} must be in (0, 5]",
            p.weekend_factor
        ));
    }
    if !(p.trough_ratio > 0.0 && p.trough_ratio < 1.0) {
        return invalid(format!("trough ratio {} must be in (0, 1)", p.trough_ratio));
    }
    if !(-12..=14).contains(&p.utc_offset_hours) {
        return invalid(format!("UTC offset {} h is not one", p.utc_offset_hours));
    }
    if p.batch_utc_minute.is_some_and(|m| m >= 1440) {
        return invalid("the batch minute must be below 1440".into());
    }
    if p.api_functions == 0 {
        return invalid("a stack needs at least one API function".into());
    }
    for (i, inj) in spec.injections.iter().enumerate() {
        let bad = |what: &str| SynthError::Invalid {
            what: format!("injection {i} ({}): {what}", inj.what.type_name()),
        };
        let ok = match &inj.what {
            Injected::LoadSpike {
                multiplier,
                duration_multiplier,
            } => *multiplier > 0.0 && *duration_multiplier > 0.0,
            Injected::DdbThrottle { fraction, .. } => (0.0..=1.0).contains(fraction),
            Injected::BadDeploy {
                error_rate,
                duration_multiplier,
                ..
            } => (0.0..=1.0).contains(error_rate) && *duration_multiplier > 0.0,
            Injected::SlowDependency { multiplier } | Injected::Blip { multiplier } => {
                *multiplier > 0.0
            }
            Injected::TrafficDrop { remaining } => (0.0..=1.0).contains(remaining),
            Injected::QueueBacklog { mode } => match mode {
                BacklogMode::Failing { error_rate } => (0.0..=1.0).contains(error_rate),
                BacklogMode::Slow { multiplier } => *multiplier >= 1.0,
                BacklogMode::Stopped => true,
            },
            Injected::Timeouts { fraction } => (0.0..=1.0).contains(fraction),
            Injected::HarmlessDeploy | Injected::IsolatedError => true,
        };
        if !ok {
            return Err(bad("a magnitude is out of range"));
        }
        if inj.what.is_real() && inj.minutes == 0 {
            return Err(bad("it lasts 0 minutes"));
        }
    }
    Ok(())
}

/// Generates the scenario and truth that `spec` describes.
///
/// # Errors
///
/// [`SynthError::Invalid`] when the spec is inconsistent (a queue backlog
/// on a stack without a queue, an injection after the data, a magnitude out
/// of range, …).
pub fn generate(spec: &Spec) -> Result<Generated, SynthError> {
    check(spec)?;
    let world = stack::build(spec, &mut stream(spec.seed, 1));
    let plan = plan::plan(spec, &world, &mut stream(spec.seed, 2))?;
    let curve = traffic::Curve::new(
        &spec.profile,
        spec.start,
        plan.minutes,
        &mut stream(spec.seed, 3),
    );
    let sim = sim::simulate(&world, &plan, &curve, &mut stream(spec.seed, 4));
    let truth = truth(spec, &world, &plan, &sim);
    let scenario = json::scenario(spec, &world, &plan, &sim.series, &mut stream(spec.seed, 5))
        .map_err(|source| SynthError::Json {
            what: format!("scenario {}", spec.name),
            source,
        })?;
    Ok(Generated {
        name: spec.name.clone(),
        truth,
        scenario,
        points: sim.series.iter().map(|s| s.points.len()).sum(),
        series: sim.series.len(),
    })
}

fn at(spec: &Spec, minute: u32) -> Timestamp {
    spec.start.add(i64::from(minute) * 60)
}

fn resources(w: &World) -> (Ordered<TruthResource>, Ordered<Vec<String>>) {
    let mut resources = Vec::new();
    let mut aliases = Vec::new();
    let res = |ty: &str, logical: &str, role: &str| TruthResource {
        resource_type: ty.to_string(),
        logical: logical.to_string(),
        role: role.to_string(),
    };
    if let Some(a) = &w.api {
        resources.push((
            a.id.clone(),
            res("AWS::ApiGateway::RestApi", &a.logical, "api"),
        ));
        aliases.push((
            a.id.clone(),
            vec![
                a.name.clone(),
                format!("{}/{}", a.name, a.stage),
                format!("{}/{}", a.id, a.stage),
                format!("arn:aws:apigateway:{}::/restapis/{}", w.region, a.id),
                a.logical.clone(),
            ],
        ));
    }
    for f in &w.functions {
        resources.push((
            f.physical.clone(),
            res("AWS::Lambda::Function", &f.logical, f.role.as_str()),
        ));
        aliases.push((f.physical.clone(), vec![f.arn(w), f.logical.clone()]));
    }
    if let Some(t) = &w.table {
        resources.push((
            t.physical.clone(),
            res("AWS::DynamoDB::Table", &t.logical, "table"),
        ));
        aliases.push((t.physical.clone(), vec![w.table_arn(t), t.logical.clone()]));
    }
    if let Some(q) = &w.queue {
        resources.push((q.url.clone(), res("AWS::SQS::Queue", &q.logical, "queue")));
        aliases.push((
            q.url.clone(),
            vec![q.name.clone(), q.arn(w), q.logical.clone()],
        ));
    }
    (Ordered(resources), Ordered(aliases))
}

fn push_unique(list: &mut Vec<ExpectedMetric>, m: ExpectedMetric) {
    if !list
        .iter()
        .any(|e| e.resource == m.resource && e.metric == m.metric && e.stat == m.stat)
    {
        list.push(m);
    }
}

fn lambda_metric(resource: &str, metric: &str, stat: &str) -> ExpectedMetric {
    ExpectedMetric {
        resource: resource.to_string(),
        namespace: "AWS/Lambda".into(),
        metric: metric.into(),
        stat: stat.into(),
        direction: "INCREASE".into(),
        operation: None,
    }
}

fn truth(spec: &Spec, w: &World, plan: &plan::Plan, sim: &sim::Simulation) -> Truth {
    let (resources, aliases) = resources(w);
    let mut planned: Vec<(usize, &plan::Planned)> = plan.planned.iter().enumerate().collect();
    planned.sort_by_key(|(i, p)| (p.onset, !p.real, *i));
    let (mut real_n, mut benign_n) = (0, 0);
    let incidents = planned
        .iter()
        .map(|&(i, p)| {
            let trace = sim.traces.get(i).cloned().unwrap_or_default();
            let mut expected = p.expected.clone();
            let mut end = p.end;
            let mut details = p.details.clone();
            if let Some(f) = p.traced_function {
                let id = &w.functions[f].physical;
                if trace.throttled {
                    push_unique(&mut expected, lambda_metric(id, "Throttles", "Sum"));
                }
                if trace.timed_out {
                    push_unique(&mut expected, lambda_metric(id, "Errors", "Sum"));
                }
            }
            if p.kind == "queue_backlog" {
                end = end.max(trace.backlog_end.unwrap_or(plan.minutes));
                if trace.peak_backlog < 10.0 {
                    // The consumer kept up: the queue never visibly backed up.
                    expected.retain(|m| m.namespace != "AWS/SQS");
                }
                if let Some(d) = &mut details {
                    d.0.push(("peak_backlog".into(), trace.peak_backlog.round()));
                }
            }
            let id = if p.real {
                real_n += 1;
                format!("i{real_n}")
            } else {
                benign_n += 1;
                format!("b{benign_n}")
            };
            Incident {
                id,
                kind: p.kind.to_string(),
                should_alert: p.real,
                expect_event: p.expect_event,
                onset: at(spec, p.onset),
                end: at(spec, end.min(plan.minutes)),
                primary_resource: p.primary.clone(),
                affected_resources: p.affected.clone(),
                deployed_resource: p.deployed.clone(),
                event_time: p.event_time,
                rollback_time: p.rollback_time,
                co_deployed: p.co_deployed.clone(),
                metric: p.metric.clone(),
                details,
                description: p.description.clone(),
                expected_metrics: p.real.then_some(expected),
            }
        })
        .collect();
    let p = &spec.profile;
    Truth {
        format: TRUTH_FORMAT.to_string(),
        scenario: spec.name.clone(),
        stack: spec.stack.clone(),
        region: spec.region.clone(),
        period: spec.period,
        history_start: spec.start,
        eval_start: at(spec, plan.eval_start),
        eval_end: at(spec, plan.minutes),
        history_days: spec.history_days,
        eval_days: spec.eval_days,
        stack_profile: StackProfile {
            peak_requests_per_min: spec::round(p.peak_requests_per_min, 1),
            weekend_factor: spec::round(p.weekend_factor, 2),
            utc_offset_hours: p.utc_offset_hours,
            batch_utc: w
                .batch
                .as_ref()
                .map(|b| format!("{:02}:{:02}", b.start_minute / 60, b.start_minute % 60)),
            functions: w.functions.len() as u32,
            tables: u32::from(w.table.is_some()),
            queue: w.queue.is_some(),
        },
        resources,
        aliases,
        incidents,
    }
}
