//! Tests of the generator: determinism, the shape of its output, what
//! normal looks like, and what each incident does to the metrics.

use std::collections::BTreeMap;

use serde_json::Value;

use super::*;
use crate::adapters::scenario::{self, parse_rfc3339};
use crate::truth::Truth;

fn make(spec: &Spec) -> Generated {
    generate(spec).unwrap()
}

fn doc(g: &Generated) -> Value {
    serde_json::from_slice(g.scenario_json()).unwrap()
}

/// A series of a document by namespace, metric, stat and the value of one
/// of its dimensions, as minute → value.
fn series(doc: &Value, metric: &str, stat: &str, dim: &str) -> BTreeMap<i64, f64> {
    let m = doc["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["MetricName"] == metric
                && m["Stat"] == stat
                && m["Dimensions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| d["Value"] == dim)
        })
        .unwrap_or_else(|| panic!("no {metric} {stat} of {dim}"));
    m["Timestamps"]
        .as_array()
        .unwrap()
        .iter()
        .zip(m["Values"].as_array().unwrap())
        .map(|(t, v)| {
            let t = parse_rfc3339(t.as_str().unwrap()).unwrap();
            (t.secs() / 60, v.as_f64().unwrap())
        })
        .collect()
}

/// The physical id of the resource with logical id `logical`.
fn physical(g: &Generated, role: &str) -> String {
    g.truth
        .resources
        .0
        .iter()
        .find(|(_, r)| r.role == role)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no resource with role {role}"))
}

/// The dimension value CloudWatch uses for a resource.
fn dimension(g: &Generated, resource: &str) -> String {
    let aliases = g.truth.aliases.get(resource).cloned().unwrap_or_default();
    match g
        .truth
        .resources
        .get(resource)
        .map(|r| r.resource_type.as_str())
    {
        // The API's name, the queue's name: the first alias.
        Some("AWS::ApiGateway::RestApi" | "AWS::SQS::Queue") => aliases[0].clone(),
        _ => resource.to_string(),
    }
}

fn mean_over(s: &BTreeMap<i64, f64>, from: i64, to: i64, missing: Option<f64>) -> f64 {
    let mut sum = 0.0;
    let mut n = 0.0;
    for m in from..to {
        match (s.get(&m), missing) {
            (Some(v), _) => {
                sum += v;
                n += 1.0;
            }
            (None, Some(z)) => {
                sum += z;
                n += 1.0;
            }
            (None, None) => {}
        }
    }
    if n == 0.0 { 0.0 } else { sum / n }
}

#[test]
fn the_same_spec_gives_the_same_bytes_and_another_seed_other_bytes() {
    let a = make(&Spec::random(42));
    let b = make(&Spec::random(42));
    assert_eq!(a.scenario_json(), b.scenario_json());
    assert_eq!(a.truth_json().unwrap(), b.truth_json().unwrap());
    let c = make(&Spec::random(43));
    assert_ne!(a.scenario_json(), c.scenario_json());
}

#[test]
fn adding_an_incident_keeps_the_stack_and_its_names() {
    let quiet = Spec::quiet(5);
    let mut spiky = quiet.clone();
    spiky.injections.push(Injection {
        at_minute: 600,
        minutes: 30,
        target: None,
        what: Injected::LoadSpike {
            multiplier: 4.0,
            duration_multiplier: 1.2,
        },
    });
    let (a, b) = (make(&quiet), make(&spiky));
    assert_eq!(a.truth.resources, b.truth.resources);
    assert_eq!(a.truth.aliases, b.truth.aliases);
}

#[test]
fn every_preset_parses_as_a_scenario_and_its_truth_as_a_truth() {
    // The benchmark's nine days are parsed by their own test.
    for name in PRESETS.iter().filter(|p| **p != "benchmark") {
        let spec = Spec::preset(name, 1).unwrap().with_days(1, 1);
        let g = make(&spec);
        let s = scenario::parse(&g.name, g.scenario_json()).unwrap();
        assert_eq!(s.stack, spec.stack, "{name}");
        assert_eq!(s.series.len(), g.series, "{name}");
        assert_eq!(s.points(), g.points, "{name}");
        let (first, last) = s.span().unwrap();
        assert_eq!(first, g.truth.history_start, "{name}");
        assert!(
            last < g.truth.eval_end && last.add(60) >= g.truth.eval_end,
            "{name}"
        );
        let t = Truth::parse(&g.name, &g.truth_json().unwrap()).unwrap();
        assert_eq!(t, g.truth, "{name}");
        let real = t.incidents.iter().filter(|i| i.should_alert).count();
        let expected = if *name == "quiet" { 0 } else { 1 };
        assert_eq!(real, expected, "{name}");
    }
}

#[test]
fn random_specs_of_many_seeds_generate_scenarios_the_adapter_accepts() {
    for seed in 100..116 {
        let spec = Spec::random_with_days(seed, 1, 1);
        let g = make(&spec);
        let s = scenario::parse(&g.name, g.scenario_json())
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(s.points() > 1000, "seed {seed}");
        for inc in &g.truth.incidents {
            assert!(
                inc.onset >= g.truth.eval_start && inc.end <= g.truth.eval_end,
                "seed {seed}: {inc:?}"
            );
            for r in inc.affected_resources.iter().chain([&inc.primary_resource]) {
                assert!(
                    g.truth.resources.get(r).is_some(),
                    "seed {seed}: {r} is not a resource"
                );
            }
        }
    }
}

#[test]
fn a_nine_day_benchmark_has_about_forty_series_and_half_a_million_points() {
    let g = make(&Spec::benchmark(1));
    assert_eq!(g.truth.history_days + g.truth.eval_days, 9);
    assert!((35..=50).contains(&g.series), "{} series", g.series);
    assert!(g.points > 300_000, "{} points", g.points);
    let s = scenario::parse(&g.name, g.scenario_json()).unwrap();
    assert_eq!(s.points(), g.points);
}

#[test]
fn the_document_has_the_shapes_the_aws_apis_return() {
    let g = make(&Spec::queue_backlog(3));
    let d = doc(&g);
    let resources = d["resources"].as_array().unwrap();
    let types: Vec<&str> = resources
        .iter()
        .map(|r| r["ResourceType"].as_str().unwrap())
        .collect();
    for ty in [
        "AWS::IAM::Role",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventSourceMapping",
        "AWS::ApiGateway::Stage",
        "AWS::ApiGateway::Deployment",
        "AWS::Events::Rule",
    ] {
        if ty.starts_with("AWS::ApiGateway")
            && !g
                .truth
                .resources
                .0
                .iter()
                .any(|(_, r)| r.role == "api" && r.resource_type.contains("RestApi"))
        {
            continue;
        }
        if ty == "AWS::Events::Rule" && g.truth.stack_profile.batch_utc.is_none() {
            continue;
        }
        assert!(types.contains(&ty), "no {ty} in {types:?}");
    }
    // Summaries are sorted by logical id, as ListStackResources returns them.
    let logical: Vec<&str> = resources
        .iter()
        .map(|r| r["LogicalResourceId"].as_str().unwrap())
        .collect();
    let mut sorted = logical.clone();
    sorted.sort_unstable();
    assert_eq!(logical, sorted);
    // Two queues, one of them the dead-letter queue, which has no metrics.
    let queues: Vec<&Value> = resources
        .iter()
        .filter(|r| r["ResourceType"] == "AWS::SQS::Queue")
        .collect();
    assert_eq!(queues.len(), 2);
    let metrics = d["metrics"].as_array().unwrap();
    let dlq = queues
        .iter()
        .find(|q| q["LogicalResourceId"].as_str().unwrap().ends_with("DLQ"))
        .unwrap();
    let dlq_name = dlq["PhysicalResourceId"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    assert!(
        !metrics
            .iter()
            .any(|m| m["Dimensions"][0]["Value"] == dlq_name)
    );

    // Points are unsorted: many series newest first, some oldest first.
    let (mut newest_first, mut oldest_first) = (0, 0);
    for m in metrics {
        let ts: Vec<&str> = m["Timestamps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        if ts.len() > 2 {
            if ts[0] > ts[1] {
                newest_first += 1;
            } else {
                oldest_first += 1;
            }
        }
        for key in [
            "Id",
            "Label",
            "Namespace",
            "MetricName",
            "Dimensions",
            "Stat",
            "Period",
            "StatusCode",
        ] {
            assert!(m.get(key).is_some(), "{key} missing");
        }
    }
    assert!(
        newest_first >= 5 && oldest_first >= 3,
        "{newest_first} newest first, {oldest_first} oldest first"
    );

    // Events: newest first, millisecond times, deployments as sequences.
    let events = d["events"].as_array().unwrap();
    assert!(!events.is_empty());
    let times: Vec<&str> = events
        .iter()
        .map(|e| e["Timestamp"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "events are not newest first"
    );
    assert!(
        times
            .iter()
            .all(|t| t.len() == 24 && t.ends_with('Z') && t.as_bytes()[19] == b'.')
    );
    let mut by_token: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for e in events.iter().rev() {
        by_token
            .entry(e["ClientRequestToken"].as_str().unwrap())
            .or_default()
            .push((
                e["ResourceType"].as_str().unwrap(),
                e["ResourceStatus"].as_str().unwrap(),
            ));
    }
    for (token, steps) in by_token {
        let stack: Vec<&str> = steps
            .iter()
            .filter(|s| s.0 == "AWS::CloudFormation::Stack")
            .map(|s| s.1)
            .collect();
        assert_eq!(
            stack,
            [
                "UPDATE_IN_PROGRESS",
                "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                "UPDATE_COMPLETE"
            ],
            "{token}"
        );
        assert_eq!(steps.first().unwrap().1, "UPDATE_IN_PROGRESS");
        assert_eq!(steps.last().unwrap().1, "UPDATE_COMPLETE");
        assert!(steps.len() >= 5, "{token}: {steps:?}");
    }

    // Configurations as the describe calls return them.
    let configs = d["configurations"].as_object().unwrap();
    let function = physical(&g, "worker");
    assert!(configs[&function]["Timeout"].as_u64().is_some());
    assert!(configs[&function]["MemorySize"].as_u64().is_some());
    let table = physical(&g, "table");
    assert!(
        configs[&table]["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
            .is_object()
    );
    let queue = physical(&g, "queue");
    let attrs = configs[&queue]["Attributes"].as_object().unwrap();
    assert!(attrs.values().all(Value::is_string));
    assert!(
        attrs["VisibilityTimeout"]
            .as_str()
            .unwrap()
            .parse::<u32>()
            .is_ok()
    );
    let mapping = configs.values().find(|c| c.get("UUID").is_some()).unwrap();
    assert_eq!(
        mapping["FunctionArn"]
            .as_str()
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap(),
        function
    );
    if let Some((api, _)) = g
        .truth
        .resources
        .0
        .iter()
        .find(|(_, r)| r.resource_type == "AWS::ApiGateway::RestApi")
    {
        assert!(configs[api]["name"].is_string() && configs[api]["stageName"].is_string());
    }
}

#[test]
fn sparse_series_have_no_zero_points_and_lambda_series_none_without_invocations() {
    let g = make(&Spec::ddb_throttle(2));
    let d = doc(&g);
    for m in d["metrics"].as_array().unwrap() {
        let name = m["MetricName"].as_str().unwrap();
        let values: Vec<f64> = m["Values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        if ["ThrottledRequests", "SystemErrors", "UserErrors"].contains(&name) {
            assert!(values.iter().all(|v| *v > 0.0), "{name} has a zero point");
        }
        if name == "Invocations" {
            let f = m["Dimensions"][0]["Value"].as_str().unwrap();
            let throttles = series(&d, "Throttles", "Sum", f);
            let inv = series(&d, "Invocations", "Sum", f);
            let errors = series(&d, "Errors", "Sum", f);
            // Errors and Throttles have a point, even 0, wherever there
            // were invocations, and Invocations is 0 only when all were
            // throttled.
            assert_eq!(
                inv.keys().collect::<Vec<_>>(),
                errors.keys().collect::<Vec<_>>()
            );
            assert_eq!(
                inv.keys().collect::<Vec<_>>(),
                throttles.keys().collect::<Vec<_>>()
            );
            for (t, v) in &inv {
                assert!(*v > 0.0 || throttles[t] > 0.0, "{f} has an empty minute");
            }
        }
    }
}

fn low_traffic_spec() -> Spec {
    let mut spec = Spec::quiet(9);
    spec.profile.api_functions = 5;
    spec.profile.peak_requests_per_min = 300.0;
    spec.profile.rest_api = true;
    spec.profile.cron = true;
    spec
}

#[test]
fn little_used_functions_have_many_empty_minutes() {
    let g = make(&low_traffic_spec());
    let d = doc(&g);
    let minutes = (g.truth.eval_end.since(g.truth.history_start) / 60) as usize;
    let delete = g
        .truth
        .resources
        .0
        .iter()
        .find(|(_, r)| r.logical.starts_with("Delete"))
        .map(|(id, _)| id.clone())
        .unwrap();
    let points = series(&d, "Invocations", "Sum", &delete).len();
    assert!(
        points < minutes / 2,
        "{points} of {minutes} minutes have invocations"
    );
    let cron = physical(&g, "cron");
    let points = series(&d, "Invocations", "Sum", &cron).len();
    assert!(
        (minutes / 5 - 2..=minutes / 5 + 2).contains(&points),
        "{points} runs of a 5-minute schedule in {minutes} minutes"
    );
}

#[test]
fn the_daily_batch_runs_at_the_same_time_for_about_ten_minutes_of_varying_length() {
    let mut spec = Spec::quiet(4).with_days(5, 1);
    spec.profile.batch_utc_minute = Some(2 * 60 + 30);
    spec.profile.table = true;
    let g = make(&spec);
    let d = doc(&g);
    let batch = physical(&g, "batch");
    let inv = series(&d, "Invocations", "Sum", &batch);
    let dur = series(&d, "Duration", "Average", &batch);
    // Runs: minutes with many invocations, grouped by day.
    let mut runs: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (m, v) in &inv {
        if *v >= 5.0 {
            runs.entry(m.div_euclid(1440)).or_default().push(*m);
        }
    }
    assert!(runs.len() >= 5, "{} runs", runs.len());
    let mut lengths = std::collections::BTreeSet::new();
    for minutes in runs.values() {
        assert_eq!(minutes[0].rem_euclid(1440), 150, "runs start at 02:30 UTC");
        let len = minutes.len();
        assert!((6..=15).contains(&len), "a run of {len} minutes");
        lengths.insert(len);
    }
    assert!(lengths.len() > 1, "every run lasts {lengths:?} minutes");
    // Runs are slower than the stray single invocations, and read the table.
    let in_run: Vec<f64> = runs.values().flatten().map(|m| dur[m]).collect();
    let singles: Vec<f64> = inv
        .iter()
        .filter(|(_, v)| **v == 1.0)
        .map(|(m, _)| dur[m])
        .collect();
    if !singles.is_empty() {
        let a = in_run.iter().sum::<f64>() / in_run.len() as f64;
        let b = singles.iter().sum::<f64>() / singles.len() as f64;
        assert!(a > 3.0 * b, "batch {a} ms vs single runs {b} ms");
    }
    let table = physical(&g, "table");
    let reads = series(&d, "ConsumedReadCapacityUnits", "Sum", &table);
    let first = runs.values().next().unwrap();
    let during = mean_over(&reads, first[2], first[5], Some(0.0));
    let before = mean_over(&reads, first[0] - 60, first[0] - 20, Some(0.0));
    assert!(
        during > 3.0 * before,
        "reads {during} during the batch vs {before}"
    );
    // The truth lists the evaluation day's run.
    assert!(
        g.truth
            .incidents
            .iter()
            .any(|i| i.kind == "scheduled_batch")
    );
}

#[test]
fn a_failed_consumer_batch_makes_the_oldest_message_wait_for_the_visibility_timeout() {
    let mut spec = Spec::queue_backlog(6);
    spec.injections.clear();
    spec.background.consumer_failures_per_day = 12.0;
    let g = make(&spec);
    let d = doc(&g);
    let queue = physical(&g, "queue");
    let consumer = physical(&g, "worker");
    let vt: f64 = d["configurations"][&queue]["Attributes"]["VisibilityTimeout"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let age = series(
        &d,
        "ApproximateAgeOfOldestMessage",
        "Maximum",
        &dimension(&g, &queue),
    );
    let errors = series(&d, "Errors", "Sum", &consumer);
    let failures: Vec<i64> = errors
        .iter()
        .filter(|(_, v)| **v > 0.0)
        .map(|(m, _)| *m)
        .collect();
    assert!(failures.len() >= 10, "{} failures", failures.len());
    let mut jumped = 0;
    for m in &failures {
        let top = (1..=(vt / 60.0) as i64)
            .filter_map(|k| age.get(&(m + k)))
            .copied()
            .fold(0.0, f64::max);
        if top >= 0.6 * vt.min(300.0) && top <= vt + 60.0 {
            jumped += 1;
        }
    }
    assert!(
        jumped * 10 >= failures.len() * 8,
        "{jumped} of {} failures raised the age",
        failures.len()
    );
    // Otherwise messages are a few seconds old.
    let calm: Vec<f64> = age.values().copied().filter(|v| *v < 30.0).collect();
    assert!(calm.len() * 10 > age.len() * 8);
}

/// The spec of one incident type: a preset, or a hand-made spec for the
/// variants presets do not cover.
fn incident_specs() -> Vec<Spec> {
    let mut out: Vec<Spec> = PRESETS
        .iter()
        .filter(|p| !["quiet", "benchmark"].contains(p))
        .flat_map(|p| [1, 2].map(|seed| Spec::preset(p, seed).unwrap().with_days(1, 1)))
        .collect();
    let mut slow_table = Spec::slow_dependency(3).with_days(1, 1);
    slow_table.profile.table = true;
    let g = make(&slow_table);
    let table = g
        .truth
        .resources
        .0
        .iter()
        .find(|(_, r)| r.role == "table")
        .map(|(_, r)| r.logical.clone());
    slow_table.injections[0].target = table;
    slow_table.injections[0].what = Injected::SlowDependency { multiplier: 6.0 };
    out.push(slow_table.named("slow-table-3"));
    let mut slow_consumer = Spec::queue_backlog(4).with_days(1, 1);
    slow_consumer.injections[0].what = Injected::QueueBacklog {
        mode: BacklogMode::Slow { multiplier: 15.0 },
    };
    out.push(slow_consumer.named("slow-consumer-4"));
    let mut latency_deploy = Spec::bad_deploy(5).with_days(1, 1);
    latency_deploy.injections[0].what = Injected::BadDeploy {
        error_rate: 0.0,
        duration_multiplier: 3.0,
        co_deployed: Vec::new(),
    };
    out.push(latency_deploy.named("latency-deploy-5"));
    out
}

#[test]
fn every_incident_type_changes_the_metrics_its_truth_expects() {
    for spec in incident_specs() {
        let g = make(&spec);
        let d = doc(&g);
        let incident = g.truth.incidents.iter().find(|i| i.should_alert).unwrap();
        let onset = incident.onset.secs() / 60;
        let end = incident.end.secs() / 60;
        let metrics = incident.expected_metrics.as_ref().unwrap();
        assert!(!metrics.is_empty(), "{}: no expected metric", g.name);
        for em in metrics {
            let dim = match &em.operation {
                Some(op) => op.clone(),
                None => dimension(&g, &em.resource),
            };
            let s = series(&d, &em.metric, &em.stat, &dim);
            // Counts are 0 where a minute has no point; other values are
            // not judged there.
            let count = em.stat == "Sum" || em.metric == "ConcurrentExecutions";
            let missing = count.then_some(0.0);
            let before = mean_over(&s, onset - 45, onset - 5, missing);
            let inner = ((end - onset) / 4).min(5);
            let during = mean_over(&s, onset + inner, end - inner, missing);
            let what = format!(
                "{} ({}): {} {} of {} went from {before:.2} to {during:.2}",
                g.name, incident.description, em.metric, em.stat, em.resource
            );
            if em.direction == "INCREASE" {
                assert!(during > before * 1.15 + 0.2, "{what}, expected an increase");
            } else {
                assert!(during < before * 0.85, "{what}, expected a decrease");
            }
        }
        // Nothing changes outside the incident: the hour before and the
        // hour after look alike for the primary metric.
        if let Some(em) = metrics.first() {
            let dim = em
                .operation
                .clone()
                .unwrap_or_else(|| dimension(&g, &em.resource));
            let s = series(&d, &em.metric, &em.stat, &dim);
            let missing = (em.stat == "Sum").then_some(0.0);
            let before = mean_over(&s, onset - 65, onset - 5, missing);
            let after = mean_over(&s, end + 5, end + 65, missing);
            assert!(
                after < before * 1.5 + 1.0 && after > before / 1.5 - 1.0,
                "{}: {} {} before {before:.2}, after {after:.2}",
                g.name,
                em.metric,
                em.stat
            );
        }
    }
}

#[test]
fn a_bad_deployment_has_its_deployment_and_rollback_events() {
    let g = make(&Spec::bad_deploy(7));
    let d = doc(&g);
    let inc = g
        .truth
        .incidents
        .iter()
        .find(|i| i.kind == "bad_deploy")
        .unwrap();
    assert!(inc.expect_event);
    let deployed = inc.deployed_resource.clone().unwrap();
    let event = inc.event_time.unwrap();
    let rollback = inc.rollback_time.unwrap();
    assert!(event.timestamp() < inc.onset && inc.onset.since(event.timestamp()) <= 120);
    assert!(rollback.timestamp() < inc.end && inc.end.since(rollback.timestamp()) <= 60);
    let completes: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["PhysicalResourceId"] == deployed.as_str() && e["ResourceStatus"] == "UPDATE_COMPLETE"
        })
        .map(|e| e["Timestamp"].as_str().unwrap())
        .collect();
    assert!(completes.contains(&event.to_string().as_str()));
    assert!(completes.contains(&rollback.to_string().as_str()));
}

#[test]
fn benign_events_are_listed_for_the_evaluation_period_only() {
    let mut spec = Spec::quiet(8);
    spec.background.blips_per_day = 4.0;
    spec.background.isolated_errors_per_day = 4.0;
    spec.background.harmless_deploys_per_day = 2.0;
    let g = make(&spec);
    let kinds: Vec<&str> = g.truth.incidents.iter().map(|i| i.kind.as_str()).collect();
    assert!(
        kinds.contains(&"blip") && kinds.contains(&"isolated_error"),
        "{kinds:?}"
    );
    for i in &g.truth.incidents {
        assert!(!i.should_alert);
        assert!(
            i.onset >= g.truth.eval_start,
            "{} at {} is in the history",
            i.id,
            i.onset
        );
    }
    // Incidents are in onset order, numbered in that order.
    assert!(
        g.truth
            .incidents
            .windows(2)
            .all(|w| w[0].onset <= w[1].onset)
    );
    // History days had deployments too, which the truth does not list.
    let d = doc(&g);
    let history_deploys = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["ResourceStatus"] == "UPDATE_COMPLETE"
                && parse_rfc3339(e["Timestamp"].as_str().unwrap()).unwrap() < g.truth.eval_start
        })
        .count();
    assert!(history_deploys > 0);
}

#[test]
fn inconsistent_specs_are_refused_with_what_is_wrong() {
    let mut no_queue = Spec::queue_backlog(1);
    no_queue.profile.queue = false;
    let err = generate(&no_queue).unwrap_err().to_string();
    assert!(err.contains("queue"), "{err}");

    let mut late = Spec::load_spike(1);
    late.injections[0].at_minute = 1430;
    let err = generate(&late).unwrap_err().to_string();
    assert!(err.contains("does not end"), "{err}");

    let mut unknown = Spec::bad_deploy(1);
    unknown.injections[0].target = Some("NoSuchFunction".into());
    let err = generate(&unknown).unwrap_err().to_string();
    assert!(
        err.contains("NoSuchFunction") && err.contains("Function"),
        "{err}"
    );

    let mut negative = Spec::load_spike(1);
    negative.injections[0].what = Injected::TrafficDrop { remaining: 1.5 };
    assert!(generate(&negative).is_err());

    let mut period = Spec::quiet(1);
    period.period = 300;
    assert!(generate(&period).unwrap_err().to_string().contains("60"));
}

#[test]
fn written_files_are_named_after_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let g = make(&Spec::quiet(12).named("tiny"));
    let (scenario_file, truth_file) = g.write_to(&dir.path().join("out")).unwrap();
    assert!(scenario_file.ends_with("tiny.json") && truth_file.ends_with("tiny.truth.json"));
    assert_eq!(std::fs::read(&scenario_file).unwrap(), g.scenario_json());
    assert!(scenario::load(&scenario_file).is_ok());
    assert_eq!(Truth::load(&truth_file).unwrap(), g.truth);
    let index: Value = serde_json::from_slice(&index_json(&[g.index_entry()]).unwrap()).unwrap();
    assert_eq!(index["scenarios"][0]["scenario"], "tiny.json");
}
