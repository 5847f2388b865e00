//! The whole pipeline (ingest → analyzer → notifier) over in-memory adapters
//! and a scenario built here: what it finds, and what it guarantees under
//! retries and redelivery.

use shared::adapters::clock::SimClock;
use shared::adapters::memory::{
    CollectingNotifier, InMemoryDeliveryLog, InMemoryMetricStore, InMemoryQueue, InMemoryStateStore,
};
use shared::adapters::scenario::{Scenario, ScenarioSeries, ScenarioSource};
use shared::domain::analysis::AnalyzerSettings;
use shared::domain::metric::{Dimension, MetricKey};
use shared::domain::notification::NotificationFilter;
use shared::domain::resource::Resource;
use shared::domain::stack::StackSelection;
use shared::domain::time::{DAY, Timestamp};
use shared::messages::Notification;

const START: i64 = 1_780_000_000 / DAY * DAY;
const FUNCTION: &str = "shop-Checkout-1A2B3C";

/// The checkout scenario with every errors point mapped by `f`.
fn checkout_with_errors(f: impl Fn(f64) -> f64) -> Scenario {
    let mut scenario = checkout_scenario();
    for series in &mut scenario.series {
        if series.key.name() == "Errors" {
            for p in &mut series.points {
                p.1 = f(p.1);
            }
        }
    }
    scenario
}

/// Three days of a checkout function: a daily traffic curve, a few errors,
/// and on the third day an error burst from 14:00 to 14:40.
fn checkout_scenario() -> Scenario {
    let minutes = 3 * 1440;
    let burst = (2 * 1440 + 14 * 60)..(2 * 1440 + 14 * 60 + 40);
    let mut invocations = Vec::new();
    let mut errors = Vec::new();
    for m in 0..minutes {
        let t = Timestamp::from_secs(START + m * 60);
        let phase = (m % 1440) as f64 / 1440.0 * std::f64::consts::TAU;
        let jitter = ((m * 7919) % 17) as f64 / 17.0 - 0.5;
        let calls = (400.0 * (0.55 - 0.45 * phase.cos()) * (1.0 + 0.1 * jitter)).round();
        let errs = if burst.contains(&m) {
            (calls * 0.08).round()
        } else if (m * 31) % 97 == 0 {
            1.0
        } else {
            0.0
        };
        invocations.push((t, calls));
        errors.push((t, errs));
    }
    let key = |name: &str| {
        MetricKey::new(
            "AWS/Lambda",
            name,
            vec![Dimension::new("FunctionName", FUNCTION)],
            "Sum",
            60,
        )
    };
    Scenario {
        file: "checkout.json".into(),
        stack: "shop".into(),
        resources: vec![
            Resource::new("Checkout", FUNCTION, "AWS::Lambda::Function"),
            Resource::new("CheckoutRole", "shop-CheckoutRole-9Z", "AWS::IAM::Role"),
        ],
        series: vec![
            ScenarioSeries {
                key: key("Invocations"),
                points: invocations,
            },
            ScenarioSeries {
                key: key("Errors"),
                points: errors,
            },
        ],
        ..Scenario::default()
    }
}

struct Pipeline {
    tuning: shared::domain::tuning::Tuning,
    clock: SimClock,
    source: ScenarioSource<SimClock>,
    store: InMemoryMetricStore,
    state: InMemoryStateStore,
    queue: InMemoryQueue,
    log: InMemoryDeliveryLog,
    notifier: CollectingNotifier,
}

impl Pipeline {
    fn new(scenario: Scenario, start: Timestamp) -> Self {
        let clock = SimClock::at(start);
        Self {
            tuning: Default::default(),
            source: ScenarioSource::new(vec![scenario], clock.clone(), 60),
            clock,
            store: InMemoryMetricStore::default(),
            state: InMemoryStateStore::new(),
            queue: InMemoryQueue::new(),
            log: InMemoryDeliveryLog::new(),
            notifier: CollectingNotifier::new(),
        }
    }

    /// One tick at `t`; returns the changes recorded by the analyzer.
    async fn tick(&self, t: Timestamp) -> Vec<Notification> {
        self.ingest(t, ingest::handler::Request::Scheduled).await;
        self.analyze().await
    }

    /// Ingest alone, at `t`; returns what it fetched.
    async fn ingest(
        &self,
        t: Timestamp,
        request: ingest::handler::Request,
    ) -> ingest::handler::Report {
        self.clock.set(t);
        let ingest = ingest::handler::Deps {
            catalog: &self.source,
            source: &self.source,
            store: &self.store,
            state: &self.state,
            queue: &self.queue,
            clock: self.clock.clone(),
            settings: ingest::handler::Settings {
                selection: StackSelection::All,
                warm_start_secs: 2 * DAY,
                ..ingest::handler::Settings::default()
            },
        };
        let report = ingest::handler::handle(&ingest, &request).await.unwrap();
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        report
    }

    async fn analyze(&self) -> Vec<Notification> {
        let analyzer = analyzer::handler::Deps {
            store: &self.store,
            state: &self.state,
            follow_ups: shared::ports::NoFollowUps,
            clock: self.clock.clone(),
            settings: AnalyzerSettings {
                tuning: self.tuning.clone(),
                ..AnalyzerSettings::default()
            },
            publication_lag_secs: shared::ports::PUBLICATION_LAG_SECS,
        };
        for (stack, _) in self.queue.drain() {
            analyzer::handler::handle(&analyzer, &analyzer::handler::Request { stack })
                .await
                .unwrap();
        }
        let changes = self.state.drain_outbox();
        self.deliver(&changes).await;
        changes
    }

    async fn deliver(&self, batch: &[Notification]) -> notifier::handler::Report {
        let deps = notifier::handler::Deps {
            notifier: &self.notifier,
            log: &self.log,
            filter: NotificationFilter::default(),
        };
        notifier::handler::handle(&deps, batch).await
    }
}

fn types(notifications: &[Notification]) -> Vec<&str> {
    notifications
        .iter()
        .map(|n| n.message_type.as_str())
        .collect()
}

#[tokio::test]
async fn an_error_burst_opens_one_insight_that_closes_and_is_notified_once_each() {
    let deployed = Timestamp::from_secs(START + 2 * DAY);
    let p = Pipeline::new(checkout_scenario(), deployed);
    let mut all = Vec::new();
    let mut t = deployed;
    while t < Timestamp::from_secs(START + 3 * DAY) {
        all.extend(p.tick(t).await);
        t = t.add(300);
    }
    assert_eq!(
        types(&all).first(),
        Some(&"NEW_INSIGHT"),
        "{:?}",
        types(&all)
    );
    assert_eq!(
        types(&all).iter().filter(|t| **t == "NEW_INSIGHT").count(),
        1
    );
    assert_eq!(types(&all).last(), Some(&"CLOSED_INSIGHT"));
    let opened = &all[0];
    let onset = Timestamp::from_secs(START + 2 * DAY + 14 * 3600);
    assert_eq!(opened.insight.anomalies[0].resource_name, FUNCTION);
    assert_eq!(opened.insight.anomalies[0].metric_name, "Errors");
    assert_eq!(opened.insight.start_time, onset.to_string());
    assert!(
        opened.change_time <= onset.add(600).to_string(),
        "opened at {}",
        opened.change_time
    );
    // Every change was sent once, and only once.
    let sent = p.notifier.sent();
    assert_eq!(sent.len(), all.len());
    let mut ids: Vec<_> = sent.iter().map(|n| n.change_id.clone()).collect();
    ids.dedup();
    assert_eq!(ids.len(), sent.len());
}

#[tokio::test]
async fn a_follow_up_never_delays_the_next_scheduled_fetch_of_a_latency() {
    // The checkout function with its duration: the average is fetched
    // every other tick, errors at every tick, the invocations every other
    // tick too (the stack has no API: they are its traffic), on the ticks
    // between the duration's, the others hourly or less.
    let mut scenario = checkout_scenario();
    let duration = ScenarioSeries {
        key: MetricKey::new(
            "AWS/Lambda",
            "Duration",
            vec![Dimension::new("FunctionName", FUNCTION)],
            "Average",
            60,
        ),
        points: scenario.series[0]
            .points
            .iter()
            .map(|(t, _)| (*t, 120.0))
            .collect(),
    };
    scenario.series.push(duration);
    let deployed = Timestamp::from_secs(START + 2 * DAY);
    let p = Pipeline::new(scenario, deployed);
    let fetched = |r: ingest::handler::Report| r.stacks.iter().map(|s| s.fetched).sum::<usize>();
    let scheduled = ingest::handler::Request::Scheduled;
    let follow_up = ingest::handler::Request::FollowUp(vec!["shop".into()]);
    // The warm start fetches all six metrics of a function.
    assert_eq!(fetched(p.ingest(deployed, scheduled.clone()).await), 6);
    // Errors and invocations five minutes later; a follow-up a minute
    // after that adds the duration.
    assert_eq!(
        fetched(p.ingest(deployed.add(300), scheduled.clone()).await),
        2
    );
    assert_eq!(fetched(p.ingest(deployed.add(360), follow_up).await), 3);
    // Ten minutes after the warm start the duration is due as always,
    // although the follow-up fetched it four minutes earlier.
    assert_eq!(
        fetched(p.ingest(deployed.add(600), scheduled.clone()).await),
        2
    );
    assert_eq!(fetched(p.ingest(deployed.add(900), scheduled).await), 2);
}

#[tokio::test]
async fn rerunning_a_tick_and_redelivering_a_batch_send_nothing_new() {
    let deployed = Timestamp::from_secs(START + 2 * DAY);
    let p = Pipeline::new(checkout_scenario(), deployed);
    let mut t = deployed;
    let mut opened = Vec::new();
    while opened.is_empty() {
        opened = p.tick(t).await;
        t = t.add(300);
    }
    let again = p.tick(t.add(-300)).await;
    assert!(
        again.is_empty(),
        "re-running a tick recorded {:?}",
        types(&again)
    );
    let redelivered = p.deliver(&opened).await;
    assert_eq!(
        (redelivered.sent, redelivered.duplicates),
        (0, opened.len())
    );
    assert_eq!(p.notifier.sent().len(), opened.len());
}

#[tokio::test]
async fn a_quiet_stack_produces_nothing() {
    // Without the burst: only the occasional single error. (Clamping the
    // burst to one error a minute would not do: forty failures in forty
    // minutes where one in an hour and a half is usual is an incident.)
    let scenario = checkout_with_errors(|v| if v > 1.0 { 0.0 } else { v });
    let deployed = Timestamp::from_secs(START + 2 * DAY);
    let p = Pipeline::new(scenario, deployed);
    let mut t = deployed;
    while t < Timestamp::from_secs(START + 3 * DAY) {
        let changes = p.tick(t).await;
        assert!(
            changes.is_empty(),
            "at {t}: {:?}",
            changes.first().map(|c| &c.insight.name)
        );
        t = t.add(300);
    }
}

#[tokio::test]
async fn one_error_a_minute_that_lasts_is_an_incident() {
    // The burst at one error a minute: never the three in one minute that
    // matter alone, but forty in forty minutes where one in an hour and a
    // half is usual.
    let scenario = checkout_with_errors(|v| v.min(1.0));
    let deployed = Timestamp::from_secs(START + 2 * DAY);
    let p = Pipeline::new(scenario, deployed);
    let onset = Timestamp::from_secs(START + 2 * DAY + 14 * 3600);
    let mut t = deployed;
    let opened = loop {
        assert!(
            t < onset.add(3600),
            "no insight within an hour of the onset"
        );
        let changes = p.tick(t).await;
        if let Some(first) = changes.first() {
            break (t, first.clone());
        }
        t = t.add(300);
    };
    let (at, first) = opened;
    assert!(at >= onset, "an insight before the burst at {at}");
    assert!(
        at.since(onset) <= 30 * 60,
        "found {} s after onset",
        at.since(onset)
    );
    assert_eq!(first.insight.anomalies[0].metric_name, "Errors");
}

#[tokio::test]
async fn a_stack_that_disappears_has_its_open_insight_closed() {
    let deployed = Timestamp::from_secs(START + 2 * DAY);
    let p = Pipeline::new(checkout_scenario(), deployed);
    let mut t = deployed;
    while p.state.drain_outbox().is_empty() && p.notifier.sent().is_empty() {
        p.tick(t).await;
        t = t.add(300);
    }
    // The stack is deleted: the source now lists no stack at all.
    let empty = Pipeline::new(
        Scenario {
            stack: "other".into(),
            ..Scenario::default()
        },
        t,
    );
    let ingest = ingest::handler::Deps {
        catalog: &empty.source,
        source: &empty.source,
        store: &p.store,
        state: &p.state,
        queue: &p.queue,
        clock: p.clock.clone(),
        settings: ingest::handler::Settings::default(),
    };
    p.clock.set(t);
    ingest::handler::handle(&ingest, &ingest::handler::Request::Scheduled)
        .await
        .unwrap();
    let closed = p.analyze().await;
    assert_eq!(types(&closed), vec!["CLOSED_INSIGHT"]);
    assert_eq!(closed[0].insight.status, "CLOSED");
}

#[tokio::test]
async fn a_misconfiguration_opens_one_proactive_insight_that_is_never_sent_again() {
    use shared::domain::resource::ConfigValue;
    let mut scenario = checkout_scenario();
    scenario.resources.push(Resource::new(
        "Orders",
        "shop-Orders-7",
        "AWS::DynamoDB::Table",
    ));
    let pitr = ConfigValue::Map(
        [(
            "ContinuousBackupsDescription".to_string(),
            ConfigValue::Map(
                [(
                    "PointInTimeRecoveryDescription".to_string(),
                    ConfigValue::Map(
                        [(
                            "PointInTimeRecoveryStatus".to_string(),
                            ConfigValue::Text("DISABLED".into()),
                        )]
                        .into_iter()
                        .collect(),
                    ),
                )]
                .into_iter()
                .collect(),
            ),
        )]
        .into_iter()
        .collect(),
    );
    scenario.configs.insert("shop-Orders-7".into(), pitr);
    let deployed = Timestamp::from_secs(START + 2 * DAY);
    let p = Pipeline::new(scenario, deployed);
    let mut proactive = Vec::new();
    let mut t = deployed;
    for _ in 0..48 {
        proactive.extend(
            p.tick(t)
                .await
                .into_iter()
                .filter(|n| n.insight.kind == "PROACTIVE"),
        );
        t = t.add(300);
    }
    assert_eq!(
        types(&proactive),
        vec!["NEW_INSIGHT"],
        "sent once, at the first tick"
    );
    let insight = &proactive[0].insight;
    assert_eq!(proactive[0].change_time, deployed.to_string());
    assert!(
        insight.name.contains("Point-in-time recovery is off"),
        "{}",
        insight.name
    );
    assert!(
        insight.recommendations[0]
            .link
            .starts_with("https://docs.aws.amazon.com/")
    );
}

#[tokio::test]
async fn a_maintenance_window_over_an_error_burst_opens_nothing() {
    use shared::domain::time::TimeRange;
    use shared::domain::tuning::{Exclusion, StackTuning};
    let deployed = Timestamp::from_secs(START + 2 * DAY);
    let burst = Timestamp::from_secs(START + 2 * DAY + 14 * 3600);
    let mut p = Pipeline::new(checkout_scenario(), deployed);
    p.tuning.stacks.insert(
        "shop".into(),
        StackTuning {
            exclusions: vec![Exclusion::Range(TimeRange::new(
                burst.add(-1800),
                burst.add(3600),
            ))],
            ..StackTuning::default()
        },
    );
    let mut t = deployed;
    while t < Timestamp::from_secs(START + 3 * DAY) {
        let changes = p.tick(t).await;
        assert!(
            changes.is_empty(),
            "at {t}: {:?}",
            changes.first().map(|c| &c.insight.name)
        );
        t = t.add(300);
    }
}
