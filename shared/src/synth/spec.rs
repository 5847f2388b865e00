//! What to generate: the stack, its traffic, its routine noise, and the
//! incidents and benign events injected into its evaluation period.

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::time::{Civil, Timestamp};

/// Everything the generator needs; the same spec always gives the same
/// bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// The scenario's name: its files are `NAME.json` and `NAME.truth.json`.
    pub name: String,
    /// Seeds every random choice of the generator.
    pub seed: u64,
    /// The CloudFormation stack's name, e.g. `orders-prod`.
    pub stack: String,
    /// What the stack's API serves, e.g. `Order`; names functions and tables.
    pub entity: String,
    /// The AWS region.
    pub region: String,
    /// The first minute of the data (UTC, on a minute boundary).
    pub start: Timestamp,
    /// Days of history before the evaluation period.
    pub history_days: u32,
    /// Days of evaluation, where the injections happen.
    pub eval_days: u32,
    /// Seconds per point; only 60 is supported.
    pub period: u32,
    /// The stack and its traffic.
    pub profile: Profile,
    /// How often routine benign things happen, every day.
    pub background: Background,
    /// Incidents and benign events injected into the evaluation period.
    pub injections: Vec<Injection>,
}

/// The simulated stack and its traffic.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// API requests per minute at the weekday afternoon peak.
    pub peak_requests_per_min: f64,
    /// Weekend traffic relative to weekdays (0.3 for a business tool, 1.2 for
    /// a leisure app).
    pub weekend_factor: f64,
    /// UTC offset of the users, in hours: the daily curve follows their
    /// local time.
    pub utc_offset_hours: i32,
    /// The night trough relative to the afternoon peak (0.05 to 0.15).
    pub trough_ratio: f64,
    /// Minute of the UTC day at which the daily scheduled batch starts, if
    /// the stack has one.
    pub batch_utc_minute: Option<u32>,
    /// Functions serving API requests (at least one).
    pub api_functions: u32,
    /// Whether the stack has a DynamoDB table.
    pub table: bool,
    /// Whether the stack has an SQS queue fed by the API and a consumer
    /// function.
    pub queue: bool,
    /// Whether the functions sit behind a REST API (otherwise they are
    /// invoked directly).
    pub rest_api: bool,
    /// Whether the stack has a function run every five minutes.
    pub cron: bool,
}

/// How often routine benign things happen, per day. Those of the
/// evaluation period are listed in the truth.
#[derive(Clone, Debug, PartialEq)]
pub struct Background {
    /// One-minute latency blips.
    pub blips_per_day: f64,
    /// Single errors.
    pub isolated_errors_per_day: f64,
    /// Deployments that change nothing (during local working hours).
    pub harmless_deploys_per_day: f64,
    /// Failed consumer batches retried after the visibility timeout.
    pub consumer_failures_per_day: f64,
}

impl Default for Background {
    fn default() -> Self {
        Self {
            blips_per_day: 3.0,
            isolated_errors_per_day: 2.0,
            harmless_deploys_per_day: 0.7,
            consumer_failures_per_day: 8.0,
        }
    }
}

/// One incident or benign event injected into the evaluation period.
#[derive(Clone, Debug, PartialEq)]
pub struct Injection {
    /// Minutes after the start of the evaluation period of the first
    /// affected minute.
    pub at_minute: u32,
    /// How long the cause lasts, in minutes (a queue backlog takes longer to
    /// drain; single-minute events ignore it).
    pub minutes: u32,
    /// Logical id of the resource hit (a function, or the table for
    /// `SlowDependency` and `Blip`); `None` picks the usual one: the busiest
    /// API function, or a random one for benign events.
    pub target: Option<String>,
    /// What happens.
    pub what: Injected,
}

/// What an injection does.
#[derive(Clone, Debug, PartialEq)]
pub enum Injected {
    /// API requests multiplied (with a ramp up and down); everything
    /// downstream follows; the API functions slow by `duration_multiplier`.
    LoadSpike {
        /// Requests multiplier at the top.
        multiplier: f64,
        /// Duration multiplier of the API functions at the top.
        duration_multiplier: f64,
    },
    /// A fraction of one DynamoDB operation's requests is throttled; the
    /// functions using it retry (slower) and some fail.
    DdbThrottle {
        /// Fraction of requests throttled.
        fraction: f64,
        /// The operation (`GetItem`, `PutItem`, …); `None` picks the busiest.
        operation: Option<String>,
    },
    /// A deployment of the target function, then errors and slower
    /// invocations until a rollback deployment at the end.
    BadDeploy {
        /// Fraction of invocations that fail.
        error_rate: f64,
        /// Duration multiplier.
        duration_multiplier: f64,
        /// Other functions updated in the same deployment (logical ids).
        co_deployed: Vec<String>,
    },
    /// A dependency slows down: an external service of the target function,
    /// or the table's latency when the target is the table.
    SlowDependency {
        /// Duration (or table latency) multiplier at the top.
        multiplier: f64,
    },
    /// API requests fall to a fraction of normal (a client or DNS broke).
    TrafficDrop {
        /// Fraction of normal traffic left (0.2 = an 80% drop).
        remaining: f64,
    },
    /// The queue's consumer falls behind; messages pile up until it catches
    /// up after the cause ends.
    QueueBacklog {
        /// How the consumer fails.
        mode: BacklogMode,
    },
    /// Invocations of the target function hang until its timeout.
    Timeouts {
        /// Fraction of invocations that time out.
        fraction: f64,
    },
    /// A deployment of the target function that changes nothing.
    HarmlessDeploy,
    /// A one-minute latency blip of the target function or the table.
    Blip {
        /// Latency multiplier for that minute.
        multiplier: f64,
    },
    /// A single error of the target function.
    IsolatedError,
}

/// How a queue's consumer falls behind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BacklogMode {
    /// It fails a fraction of its batches, which come back after the
    /// visibility timeout.
    Failing {
        /// Fraction of batches that fail.
        error_rate: f64,
    },
    /// It slows down at its concurrency limit.
    Slow {
        /// Duration multiplier.
        multiplier: f64,
    },
    /// It stops polling (its event source mapping is stuck).
    Stopped,
}

impl Injected {
    /// The truth's type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Injected::LoadSpike { .. } => "load_spike",
            Injected::DdbThrottle { .. } => "ddb_throttle",
            Injected::BadDeploy { .. } => "bad_deploy",
            Injected::SlowDependency { .. } => "slow_dependency",
            Injected::TrafficDrop { .. } => "traffic_drop",
            Injected::QueueBacklog { .. } => "queue_backlog",
            Injected::Timeouts { .. } => "timeouts",
            Injected::HarmlessDeploy => "harmless_deploy",
            Injected::Blip { .. } => "blip",
            Injected::IsolatedError => "isolated_error",
        }
    }

    /// Whether it is a real incident (which should alert).
    pub fn is_real(&self) -> bool {
        !matches!(
            self,
            Injected::HarmlessDeploy | Injected::Blip { .. } | Injected::IsolatedError
        )
    }
}

/// The names of the presets, for [`Spec::preset`].
pub const PRESETS: [&str; 9] = [
    "quiet",
    "load_spike",
    "bad_deploy",
    "ddb_throttle",
    "slow_dependency",
    "traffic_drop",
    "queue_backlog",
    "timeouts",
    "benchmark",
];

/// Stack name stems and what their API serves.
const THEMES: [(&str, &str); 16] = [
    ("inventory", "Item"),
    ("checkout", "Cart"),
    ("pricing", "Price"),
    ("orders", "Order"),
    ("billing", "Invoice"),
    ("catalog", "Product"),
    ("booking", "Booking"),
    ("profiles", "Profile"),
    ("messaging", "Message"),
    ("payments", "Payment"),
    ("shipping", "Shipment"),
    ("reviews", "Review"),
    ("documents", "Document"),
    ("loyalty", "Reward"),
    ("media", "Asset"),
    ("support", "Ticket"),
];

const ENVIRONMENTS: [&str; 6] = ["prod", "production", "live", "api", "prd", "main"];

/// Regions and the UTC offsets their users plausibly have.
const REGIONS: [(&str, &[i32]); 9] = [
    ("us-east-1", &[-5, -4, -6]),
    ("us-west-2", &[-8, -7]),
    ("eu-west-1", &[0, 1]),
    ("eu-central-1", &[1, 2]),
    ("ap-northeast-1", &[9]),
    ("ap-southeast-2", &[10, 11]),
    ("sa-east-1", &[-3]),
    ("ca-central-1", &[-5, -4]),
    ("eu-north-1", &[1, 2, 3]),
];

fn pick<'a, T, R: Rng + ?Sized>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A random minute-aligned start in 2026, at a random hour.
fn random_start<R: Rng + ?Sized>(rng: &mut R) -> Timestamp {
    Timestamp::from_civil(Civil {
        year: 2026,
        month: rng.random_range(1..=11u8),
        day: rng.random_range(1..=28u8),
        hour: rng.random_range(0..24u8),
        minute: 0,
        second: 0,
    })
}

/// Rounds to `digits` decimals, so that specs and truth read well.
pub(crate) fn round(v: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (v * scale).round() / scale
}

impl Profile {
    /// A varied stack drawn from `rng`.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> Profile {
        // Traffic spans three orders of magnitude, log-uniformly.
        let peak = libm::exp(rng.random_range(libm::log(40.0)..libm::log(4000.0)));
        let weekend_factor = if rng.random_bool(0.5) {
            rng.random_range(0.3..0.8)
        } else {
            rng.random_range(0.8..1.25)
        };
        Profile {
            peak_requests_per_min: round(peak, 1),
            weekend_factor: round(weekend_factor, 2),
            utc_offset_hours: 0,
            trough_ratio: round(rng.random_range(0.05..0.15), 3),
            batch_utc_minute: rng
                .random_bool(0.85)
                .then(|| rng.random_range(0..96u32) * 15),
            api_functions: *pick(rng, &[1, 2, 2, 3, 3, 4, 5]),
            table: rng.random_bool(0.85),
            queue: rng.random_bool(0.45),
            rest_api: rng.random_bool(0.9),
            cron: rng.random_bool(0.35),
        }
    }
}

impl Spec {
    /// A spec with a stack, region and profile drawn from `seed`, no
    /// injection, 2 days of history and 1 of evaluation.
    fn base(name: &str, seed: u64) -> (Spec, ChaCha8Rng) {
        // Each kind of spec has its own stream, so that presets of one seed
        // describe different stacks.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        }));
        let (stem, entity) = *pick(&mut rng, &THEMES);
        let env = *pick(&mut rng, &ENVIRONMENTS);
        let (region, offsets) = *pick(&mut rng, &REGIONS);
        let mut profile = Profile::random(&mut rng);
        profile.utc_offset_hours = *pick(&mut rng, offsets);
        let background = Background {
            blips_per_day: round(rng.random_range(1.0..5.0), 1),
            isolated_errors_per_day: round(rng.random_range(1.0..4.0), 1),
            harmless_deploys_per_day: round(rng.random_range(0.3..1.5), 1),
            consumer_failures_per_day: round(rng.random_range(3.0..14.0), 1),
        };
        let spec = Spec {
            name: format!("{name}-{seed}"),
            seed,
            stack: format!("{stem}-{env}"),
            entity: entity.to_string(),
            region: region.to_string(),
            start: random_start(&mut rng),
            history_days: 2,
            eval_days: 1,
            period: 60,
            profile,
            background,
            injections: Vec::new(),
        };
        (spec, rng)
    }

    /// The preset called `name` (one of [`PRESETS`]).
    pub fn preset(name: &str, seed: u64) -> Option<Spec> {
        Some(match name {
            "quiet" => Spec::quiet(seed),
            "load_spike" => Spec::load_spike(seed),
            "bad_deploy" => Spec::bad_deploy(seed),
            "ddb_throttle" => Spec::ddb_throttle(seed),
            "slow_dependency" => Spec::slow_dependency(seed),
            "traffic_drop" => Spec::traffic_drop(seed),
            "queue_backlog" => Spec::queue_backlog(seed),
            "timeouts" => Spec::timeouts(seed),
            "benchmark" => Spec::benchmark(seed),
            _ => return None,
        })
    }

    /// A day with only benign events.
    pub fn quiet(seed: u64) -> Spec {
        Spec::base("quiet", seed).0
    }

    /// The preset for one real incident: a daytime onset, a clear magnitude.
    fn one(
        name: &str,
        seed: u64,
        minutes: u32,
        what: impl FnOnce(&mut ChaCha8Rng) -> Injected,
    ) -> Spec {
        let (mut spec, mut rng) = Spec::base(name, seed);
        let what = what(&mut rng);
        match &what {
            Injected::QueueBacklog { .. } => spec.profile.queue = true,
            Injected::DdbThrottle { .. } => spec.profile.table = true,
            _ => {}
        }
        // Mid-morning to mid-afternoon in the users' time, clear of the batch.
        let local = rng.random_range(10 * 60..15 * 60) as i64;
        let utc = (local - i64::from(spec.profile.utc_offset_hours) * 60).rem_euclid(1440) as u32;
        spec.profile.batch_utc_minute = spec
            .profile
            .batch_utc_minute
            .map(|_| (utc + 720) / 15 * 15 % 1440);
        let day_start = spec.start.second_of_day() as u32 / 60;
        let at = (utc + 1440 - day_start) % 1440;
        spec.injections.push(Injection {
            at_minute: at.clamp(60, 1440 - minutes - 60),
            minutes,
            target: None,
            what,
        });
        spec
    }

    /// API traffic about x3 to x6 for 40 to 70 minutes.
    pub fn load_spike(seed: u64) -> Spec {
        let minutes = 40 + (seed % 31) as u32;
        Spec::one("load-spike", seed, minutes, |rng| Injected::LoadSpike {
            multiplier: round(rng.random_range(3.0..6.0), 2),
            duration_multiplier: round(rng.random_range(1.1..1.5), 2),
        })
    }

    /// A deployment raising a function's errors to 8-20% until its rollback.
    pub fn bad_deploy(seed: u64) -> Spec {
        let minutes = 35 + (seed % 31) as u32;
        Spec::one("bad-deploy", seed, minutes, |rng| Injected::BadDeploy {
            error_rate: round(rng.random_range(0.08..0.2), 3),
            duration_multiplier: round(rng.random_range(1.0..1.3), 2),
            co_deployed: Vec::new(),
        })
    }

    /// A fifth to a half of the busiest table operation throttled.
    pub fn ddb_throttle(seed: u64) -> Spec {
        let minutes = 25 + (seed % 21) as u32;
        Spec::one("ddb-throttle", seed, minutes, |rng| Injected::DdbThrottle {
            fraction: round(rng.random_range(0.2..0.5), 3),
            operation: None,
        })
    }

    /// The busiest function's external dependency x3 to x6 slower.
    pub fn slow_dependency(seed: u64) -> Spec {
        let minutes = 30 + (seed % 31) as u32;
        Spec::one("slow-dependency", seed, minutes, |rng| {
            Injected::SlowDependency {
                multiplier: round(rng.random_range(3.0..6.0), 2),
            }
        })
    }

    /// API traffic down 70-90%.
    pub fn traffic_drop(seed: u64) -> Spec {
        let minutes = 40 + (seed % 41) as u32;
        Spec::one("traffic-drop", seed, minutes, |rng| Injected::TrafficDrop {
            remaining: round(rng.random_range(0.1..0.3), 2),
        })
    }

    /// The queue's consumer stops or fails for 20-40 minutes.
    pub fn queue_backlog(seed: u64) -> Spec {
        let minutes = 20 + (seed % 21) as u32;
        Spec::one("queue-backlog", seed, minutes, |rng| {
            Injected::QueueBacklog {
                mode: if rng.random_bool(0.5) {
                    BacklogMode::Stopped
                } else {
                    BacklogMode::Failing {
                        error_rate: round(rng.random_range(0.8..1.0), 2),
                    }
                },
            }
        })
    }

    /// Half or more of the busiest function's invocations time out.
    pub fn timeouts(seed: u64) -> Spec {
        let minutes = 20 + (seed % 26) as u32;
        Spec::one("timeouts", seed, minutes, |rng| Injected::Timeouts {
            fraction: round(rng.random_range(0.5..1.0), 2),
        })
    }

    /// The replay benchmark's input: a fixed stack shape (about 40 series:
    /// a REST API, two API functions, a batch function, a table with three
    /// operations, a queue and its consumer) over 7 days of history and 2 of
    /// evaluation, with random incidents.
    pub fn benchmark(seed: u64) -> Spec {
        let mut spec = Spec::random_with_days(seed, 7, 2);
        let p = &mut spec.profile;
        p.api_functions = 2;
        p.table = true;
        p.queue = true;
        p.rest_api = true;
        p.cron = false;
        p.peak_requests_per_min = p.peak_requests_per_min.max(300.0);
        p.batch_utc_minute = Some(p.batch_utc_minute.unwrap_or(180));
        spec.name = format!("benchmark-{seed}");
        // The shape changed: draw the incidents again for it.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(7);
        spec.injections = random_injections(&mut rng, &spec);
        spec
    }

    /// A varied stack with varied incidents (0 to 2 a day, some subtle),
    /// 2 days of history and 1 of evaluation.
    pub fn random(seed: u64) -> Spec {
        Spec::random_with_days(seed, 2, 1)
    }

    /// [`Spec::random`] with other durations.
    pub fn random_with_days(seed: u64, history_days: u32, eval_days: u32) -> Spec {
        let (mut spec, mut rng) = Spec::base("random", seed);
        spec.history_days = history_days.max(1);
        spec.eval_days = eval_days.max(1);
        rng.set_stream(7);
        spec.injections = random_injections(&mut rng, &spec);
        spec
    }

    /// The same spec with other durations; injections keep their place in
    /// the evaluation period (those that no longer fit are dropped).
    #[must_use]
    pub fn with_days(mut self, history_days: u32, eval_days: u32) -> Spec {
        self.history_days = history_days.max(1);
        self.eval_days = eval_days.max(1);
        let limit = self.eval_days * 1440;
        self.injections
            .retain(|i| i.at_minute + i.minutes.max(1) + 30 <= limit);
        self
    }

    /// The same spec under another name.
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> Spec {
        self.name = name.into();
        self
    }
}

/// The incident types a profile supports.
fn supported(profile: &Profile) -> Vec<&'static str> {
    let mut out = vec![
        "load_spike",
        "bad_deploy",
        "slow_dependency",
        "traffic_drop",
        "timeouts",
    ];
    if profile.table {
        out.push("ddb_throttle");
    }
    if profile.queue {
        out.push("queue_backlog");
    }
    out
}

/// Draws 0 to 2 real incidents per evaluation day, of varied types,
/// magnitudes (about a third subtle) and times of day, apart from each other
/// and from the daily batch.
fn random_injections<R: Rng + ?Sized>(rng: &mut R, spec: &Spec) -> Vec<Injection> {
    let kinds = supported(&spec.profile);
    let day_start = spec.start.second_of_day() as u32 / 60;
    let mut out: Vec<Injection> = Vec::new();
    for day in 0..spec.eval_days {
        let count = match rng.random_range(0..100) {
            0..15 => 0,
            15..65 => 1,
            _ => 2,
        };
        for _ in 0..count {
            let kind = *pick(rng, &kinds);
            let subtle = rng.random_bool(0.3);
            let (minutes, what) = random_incident(rng, kind, subtle);
            // Try a few times for a slot clear of the batch and the others.
            for _ in 0..40 {
                let at = day * 1440 + rng.random_range(30..1440 - minutes - 60);
                let utc = (day_start + at) % 1440;
                let near_batch = spec.profile.batch_utc_minute.is_some_and(|b| {
                    let d = (i64::from(utc) - i64::from(b)).rem_euclid(1440);
                    d < 40 + i64::from(minutes) || d > 1440 - 40 - i64::from(minutes)
                });
                let clash = out
                    .iter()
                    .any(|o| at < o.at_minute + o.minutes + 90 && o.at_minute < at + minutes + 90);
                if !near_batch && !clash {
                    out.push(Injection {
                        at_minute: at,
                        minutes,
                        target: None,
                        what,
                    });
                    break;
                }
            }
        }
    }
    out.sort_by_key(|i| i.at_minute);
    out
}

fn random_incident<R: Rng + ?Sized>(rng: &mut R, kind: &str, subtle: bool) -> (u32, Injected) {
    let range = |rng: &mut R, clear: std::ops::Range<f64>, faint: std::ops::Range<f64>| {
        round(rng.random_range(if subtle { faint } else { clear }), 3)
    };
    match kind {
        "load_spike" => {
            let multiplier = range(rng, 2.5..8.0, 1.6..2.2);
            let duration_multiplier = range(rng, 1.05..1.6, 1.0..1.15);
            (
                rng.random_range(15..90),
                Injected::LoadSpike {
                    multiplier,
                    duration_multiplier,
                },
            )
        }
        "ddb_throttle" => {
            let fraction = range(rng, 0.1..0.5, 0.02..0.06);
            (
                rng.random_range(10..60),
                Injected::DdbThrottle {
                    fraction,
                    operation: None,
                },
            )
        }
        "bad_deploy" => {
            let what = if rng.random_bool(0.75) {
                Injected::BadDeploy {
                    error_rate: range(rng, 0.08..0.5, 0.02..0.05),
                    duration_multiplier: round(rng.random_range(1.0..1.3), 2),
                    co_deployed: Vec::new(),
                }
            } else {
                Injected::BadDeploy {
                    error_rate: 0.0,
                    duration_multiplier: range(rng, 1.8..4.0, 1.4..1.7),
                    co_deployed: Vec::new(),
                }
            };
            (rng.random_range(15..90), what)
        }
        "slow_dependency" => {
            let multiplier = range(rng, 2.5..8.0, 1.5..2.0);
            (
                rng.random_range(15..90),
                Injected::SlowDependency { multiplier },
            )
        }
        "traffic_drop" => {
            let remaining = range(rng, 0.05..0.4, 0.5..0.65);
            (
                rng.random_range(20..120),
                Injected::TrafficDrop { remaining },
            )
        }
        "queue_backlog" => {
            let mode = match rng.random_range(0..10) {
                0..4 => BacklogMode::Failing {
                    error_rate: round(rng.random_range(0.7..1.0), 2),
                },
                4..7 => BacklogMode::Slow {
                    multiplier: round(rng.random_range(5.0..20.0), 1),
                },
                _ => BacklogMode::Stopped,
            };
            let minutes = if subtle {
                rng.random_range(8..15)
            } else {
                rng.random_range(15..60)
            };
            (minutes, Injected::QueueBacklog { mode })
        }
        _ => {
            let fraction = range(rng, 0.3..1.0, 0.03..0.08);
            (rng.random_range(10..60), Injected::Timeouts { fraction })
        }
    }
}
