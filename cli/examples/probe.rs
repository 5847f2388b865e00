#![allow(clippy::print_stdout, clippy::unwrap_used)]
use shared::adapters::scenario;
use shared::domain::catalog::{ValueKind, find_spec};
use shared::domain::detector::*;
use shared::domain::resource::ResourceKind;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let s = scenario::load(std::path::Path::new(&args[1])).unwrap();
    let want = &args[2];
    let from = scenario::parse_rfc3339(&args[3]).unwrap();
    let to = scenario::parse_rfc3339(&args[4]).unwrap();
    for series in &s.series {
        if !series.key.id().contains(want.as_str()) {
            continue;
        }
        let ty = match series.key.namespace() {
            "AWS/Lambda" => "AWS::Lambda::Function",
            "AWS/DynamoDB" => "AWS::DynamoDB::Table",
            "AWS/ApiGateway" => "AWS::ApiGateway::RestApi",
            _ => "AWS::SQS::Queue",
        };
        let Some(spec) = find_spec(
            ResourceKind::from_type(ty).unwrap(),
            series.key.namespace(),
            series.key.name(),
            series.key.stat(),
        ) else {
            continue;
        };
        let traits = SignalTraits {
            kind: spec.kind,
            watch: spec.watch,
            min_change: spec.min_change,
            min_ratio: spec.min_ratio,
            period: 60,
        };
        let mut b = Baseline::new();
        let first = series.points[0].0;
        let last = series.points.last().unwrap().0;
        let mut i = 0;
        let mut t = first;
        println!("{}", series.key);
        while t <= last {
            let v = if i < series.points.len() && series.points[i].0 == t {
                i += 1;
                Some(series.points[i - 1].1)
            } else {
                None
            };
            let v = match v {
                Some(v) => v,
                None if spec.kind == ValueKind::Count => 0.0,
                None => {
                    t = t.add(60);
                    continue;
                }
            };
            let r = b.observe(t, v, &traits, &Sensitivity::default());
            if t >= from && t <= to {
                println!("{t} {v:>10.1} {:?}", r.map(|x| x.0));
            }
            t = t.add(60);
        }
    }
}
