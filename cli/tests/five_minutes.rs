//! A scenario exported at five-minute periods is replayed at five minutes:
//! its incidents are found, and its quiet days stay quiet.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::{Value, json};
use shared::adapters::scenario::{Scenario, parse};
use shared::synth::{Spec, generate};
use stackwatch::replay::{self, Options};

/// The scenario of `spec`, each series summed (counts), averaged
/// (averages) or maximised (the rest) over five minutes, as GetMetricData
/// returns it for a period of 300 seconds.
fn five_minutes(spec: &Spec) -> (Scenario, shared::truth::Truth) {
    let generated = generate(spec).unwrap();
    let mut doc: Value = serde_json::from_slice(generated.scenario_json()).unwrap();
    for metric in doc["metrics"].as_array_mut().unwrap() {
        let stat = metric["Stat"].as_str().unwrap().to_string();
        let mut buckets: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let times = metric["Timestamps"].as_array().unwrap();
        let values = metric["Values"].as_array().unwrap();
        for (t, v) in times.iter().zip(values) {
            let t = t.as_str().unwrap();
            // "2026-03-01T00:07:00Z" → "2026-03-01T00:05:00Z"
            let minute: u32 = t[14..16].parse().unwrap();
            let bucket = format!("{}{:02}:00Z", &t[..14], minute / 5 * 5);
            buckets.entry(bucket).or_default().push(v.as_f64().unwrap());
        }
        let (times, values): (Vec<Value>, Vec<Value>) = buckets
            .into_iter()
            .map(|(t, vs)| {
                let v = match stat.as_str() {
                    "Sum" => vs.iter().sum(),
                    "Average" => vs.iter().sum::<f64>() / vs.len() as f64,
                    _ => vs.iter().copied().fold(f64::MIN, f64::max),
                };
                (json!(t), json!(v))
            })
            .unzip();
        metric["Timestamps"] = Value::Array(times);
        metric["Values"] = Value::Array(values);
        metric["Period"] = json!(300);
    }
    let bytes = serde_json::to_vec(&doc).unwrap();
    let scenario = parse(&format!("{}.json", spec.name), &bytes).unwrap();
    (scenario, generated.truth)
}

#[tokio::test]
async fn a_bad_deployment_exported_at_five_minutes_is_found_at_its_function() {
    let (scenario, truth) = five_minutes(&Spec::bad_deploy(3));
    assert!(scenario.series.iter().all(|s| s.key.period() == 300));
    assert_eq!(scenario.period(), 300);
    let deployed = truth
        .incidents
        .iter()
        .find(|i| i.should_alert)
        .map(|i| i.primary_resource.clone())
        .unwrap();
    let outcome = replay::run(vec![scenario], &Options::default())
        .await
        .unwrap();
    let names: Vec<&str> = outcome.insights.iter().map(|i| i.name.as_str()).collect();
    assert!(
        outcome
            .insights
            .iter()
            .any(|i| i.primary_resource.as_deref() == Some(deployed.as_str())),
        "{names:?}"
    );
}

#[tokio::test]
async fn quiet_days_exported_at_five_minutes_stay_quiet() {
    let (scenario, _) = five_minutes(&Spec::quiet(4));
    let outcome = replay::run(vec![scenario], &Options::default())
        .await
        .unwrap();
    let names: Vec<&str> = outcome.insights.iter().map(|i| i.name.as_str()).collect();
    assert!(
        outcome.insights.iter().all(|i| i.kind == "PROACTIVE"),
        "{names:?}"
    );
}
