//! The simulated stack: its resources with CloudFormation-style names, the
//! behaviour of each (durations, error rates, capacity units), and their
//! configurations as the describe calls return them.

use rand::{Rng, RngExt};

use super::spec::{Spec, round};

/// What a function does for the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Serves API requests.
    Api,
    /// Consumes the queue.
    Worker,
    /// Runs the daily batch.
    Batch,
    /// Runs every five minutes.
    Cron,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Api => "api",
            Role::Worker => "worker",
            Role::Batch => "batch",
            Role::Cron => "cron",
        }
    }
}

/// A DynamoDB operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Op {
    GetItem,
    PutItem,
    Query,
    UpdateItem,
    DeleteItem,
}

impl Op {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Op::GetItem => "GetItem",
            Op::PutItem => "PutItem",
            Op::Query => "Query",
            Op::UpdateItem => "UpdateItem",
            Op::DeleteItem => "DeleteItem",
        }
    }

    pub(crate) fn is_read(self) -> bool {
        matches!(self, Op::GetItem | Op::Query)
    }
}

/// A Lambda function and how it behaves.
#[derive(Clone, Debug)]
pub(crate) struct Func {
    pub(crate) logical: String,
    pub(crate) physical: String,
    pub(crate) role_logical: String,
    pub(crate) role_physical: String,
    pub(crate) role: Role,
    pub(crate) runtime: &'static str,
    pub(crate) handler: &'static str,
    pub(crate) architecture: &'static str,
    pub(crate) code_size: u64,
    pub(crate) memory: u32,
    pub(crate) timeout_s: u32,
    pub(crate) reserved: Option<u32>,
    /// Share of the API's requests (API functions only).
    pub(crate) share: f64,
    /// Median duration in ms when nothing is wrong.
    pub(crate) base_ms: f64,
    /// Extra ms of a cold start.
    pub(crate) init_ms: f64,
    /// p99 / average for many invocations.
    pub(crate) tail: f64,
    /// Fraction of invocations failing when nothing is wrong.
    pub(crate) error_rate: f64,
    /// The table operation it performs, if any.
    pub(crate) op: Option<Op>,
    /// Table requests per invocation (per message for the consumer).
    pub(crate) calls: f64,
    /// Capacity units per request.
    pub(crate) units: f64,
    /// Whether it sends a message to the queue per successful invocation.
    pub(crate) producer: bool,
}

impl Func {
    /// The logical id without its `Function` suffix, as people say it.
    pub(crate) fn short(&self) -> &str {
        self.logical
            .strip_suffix("Function")
            .unwrap_or(&self.logical)
    }

    pub(crate) fn arn(&self, w: &World) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            w.region, w.account, self.physical
        )
    }
}

/// The REST API.
#[derive(Clone, Debug)]
pub(crate) struct Api {
    pub(crate) logical: String,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) stage: String,
    /// ms the integration adds to the function's duration.
    pub(crate) integration_ms: f64,
    /// ms API Gateway adds on top.
    pub(crate) gateway_ms: f64,
    /// Fraction of requests refused with a 4XX before reaching a function.
    pub(crate) client_error_rate: f64,
}

/// The DynamoDB table.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub(crate) logical: String,
    pub(crate) physical: String,
    pub(crate) ops: Vec<Op>,
    /// Mean latency per operation, in `ops` order.
    pub(crate) latency_ms: Vec<f64>,
    pub(crate) provisioned: Option<(u32, u32)>,
    pub(crate) pitr: bool,
    pub(crate) items: u64,
    pub(crate) item_bytes: u64,
}

impl Table {
    pub(crate) fn op_index(&self, op: Op) -> Option<usize> {
        self.ops.iter().position(|o| *o == op)
    }
}

/// The SQS queue, its dead-letter queue and the consumer's event source
/// mapping.
#[derive(Clone, Debug)]
pub(crate) struct Queue {
    pub(crate) logical: String,
    pub(crate) name: String,
    pub(crate) url: String,
    pub(crate) dlq_logical: String,
    pub(crate) dlq_name: String,
    pub(crate) dlq_url: String,
    pub(crate) visibility_timeout: u32,
    pub(crate) max_receive: u32,
    pub(crate) batch_size: u32,
    /// The event source mapping's maximum concurrency.
    pub(crate) max_concurrency: u32,
    pub(crate) mapping_uuid: String,
}

impl Queue {
    pub(crate) fn arn(&self, w: &World) -> String {
        format!("arn:aws:sqs:{}:{}:{}", w.region, w.account, self.name)
    }

    pub(crate) fn dlq_arn(&self, w: &World) -> String {
        format!("arn:aws:sqs:{}:{}:{}", w.region, w.account, self.dlq_name)
    }
}

/// The daily batch's behaviour.
#[derive(Clone, Debug)]
pub(crate) struct BatchJob {
    pub(crate) function: usize,
    pub(crate) start_minute: u32,
    pub(crate) minutes: u32,
    pub(crate) per_minute: f64,
    pub(crate) duration_multiplier: f64,
    pub(crate) read_units: f64,
    pub(crate) write_units: f64,
}

/// A resource without metrics (roles, permissions, rules, …).
#[derive(Clone, Debug)]
pub(crate) struct Plain {
    pub(crate) logical: String,
    pub(crate) physical: String,
    pub(crate) resource_type: &'static str,
}

/// The whole simulated stack.
#[derive(Clone, Debug)]
pub(crate) struct World {
    pub(crate) stack: String,
    pub(crate) region: String,
    pub(crate) account: String,
    pub(crate) stack_uuid: String,
    pub(crate) created_ms: i64,
    pub(crate) api: Option<Api>,
    pub(crate) functions: Vec<Func>,
    pub(crate) table: Option<Table>,
    pub(crate) queue: Option<Queue>,
    pub(crate) consumer: Option<usize>,
    pub(crate) producer: Option<usize>,
    pub(crate) batch: Option<BatchJob>,
    pub(crate) cron: Option<usize>,
    pub(crate) cron_offset: u32,
    pub(crate) plain: Vec<Plain>,
}

impl World {
    pub(crate) fn stack_arn(&self) -> String {
        format!(
            "arn:aws:cloudformation:{}:{}:stack/{}/{}",
            self.region, self.account, self.stack, self.stack_uuid
        )
    }

    pub(crate) fn table_arn(&self, t: &Table) -> String {
        format!(
            "arn:aws:dynamodb:{}:{}:table/{}",
            self.region, self.account, t.physical
        )
    }

    /// The API functions, busiest first.
    pub(crate) fn api_functions(&self) -> impl Iterator<Item = usize> + '_ {
        self.functions
            .iter()
            .enumerate()
            .filter(|(_, f)| f.role == Role::Api)
            .map(|(i, _)| i)
    }

    /// The busiest API function.
    pub(crate) fn main_function(&self) -> usize {
        self.api_functions()
            .max_by(|a, b| {
                self.functions[*a]
                    .share
                    .total_cmp(&self.functions[*b].share)
            })
            .unwrap_or(0)
    }

    pub(crate) fn function_by_logical(&self, logical: &str) -> Option<usize> {
        self.functions.iter().position(|f| f.logical == logical)
    }
}

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";

pub(crate) fn token<R: Rng + ?Sized>(rng: &mut R, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

pub(crate) fn hex<R: Rng + ?Sized>(rng: &mut R, len: usize) -> String {
    token(rng, HEX, len)
}

pub(crate) fn uuid<R: Rng + ?Sized>(rng: &mut R) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 4),
        hex(rng, 12)
    )
}

/// A CloudFormation-generated physical name: `stack-Logical-SUFFIX`, the
/// logical part cut so that the whole fits in 64 characters.
fn cfn_name<R: Rng + ?Sized>(rng: &mut R, stack: &str, logical: &str, alphabet: &[u8]) -> String {
    let mut prefix = format!("{stack}-{logical}");
    prefix.truncate(51);
    format!("{prefix}-{}", token(rng, alphabet, 12))
}

/// A Lambda runtime: its handler, and the range of median durations (ms)
/// and of cold starts (ms) of functions written for it.
#[derive(Clone, Copy)]
struct Runtime {
    name: &'static str,
    handler: &'static str,
    duration_ms: (f64, f64),
    init_ms: (f64, f64),
}

const RUNTIMES: [Runtime; 5] = [
    Runtime {
        name: "provided.al2023",
        handler: "bootstrap",
        duration_ms: (8.0, 35.0),
        init_ms: (30.0, 90.0),
    },
    Runtime {
        name: "nodejs22.x",
        handler: "index.handler",
        duration_ms: (35.0, 120.0),
        init_ms: (150.0, 400.0),
    },
    Runtime {
        name: "python3.13",
        handler: "app.handler",
        duration_ms: (45.0, 180.0),
        init_ms: (200.0, 600.0),
    },
    Runtime {
        name: "java21",
        handler: "com.example.Handler::handleRequest",
        duration_ms: (60.0, 220.0),
        init_ms: (1500.0, 3500.0),
    },
    Runtime {
        name: "nodejs20.x",
        handler: "app.lambdaHandler",
        duration_ms: (40.0, 130.0),
        init_ms: (150.0, 450.0),
    },
];

/// What an API function does: `{verb}{Entity}Function`, on one entity or a
/// list of them, with one table operation per request.
#[derive(Clone, Copy)]
struct Verb {
    verb: &'static str,
    plural: bool,
    op: Op,
    /// Range of its share of the API's requests.
    share: (f64, f64),
    /// Capacity units per table request.
    units: f64,
}

const fn verb(verb: &'static str, plural: bool, op: Op, share: (f64, f64), units: f64) -> Verb {
    Verb {
        verb,
        plural,
        op,
        share,
        units,
    }
}

const VERBS: [Verb; 6] = [
    verb("Get", false, Op::GetItem, (0.45, 0.75), 0.5),
    verb("Create", false, Op::PutItem, (0.08, 0.25), 1.0),
    verb("List", true, Op::Query, (0.08, 0.2), 4.0),
    verb("Update", false, Op::UpdateItem, (0.02, 0.1), 1.0),
    verb("Delete", false, Op::DeleteItem, (0.0005, 0.003), 1.0),
    verb("Search", true, Op::Query, (0.002, 0.02), 6.0),
];

struct Naming<'a, R: ?Sized> {
    rng: &'a mut R,
    stack: &'a str,
}

impl<R: Rng + ?Sized> Naming<'_, R> {
    fn function(&mut self, logical: &str) -> (String, String, String) {
        let physical = cfn_name(self.rng, self.stack, logical, MIXED);
        let role_logical = format!("{logical}Role");
        let role_physical = cfn_name(self.rng, self.stack, &role_logical, MIXED);
        (physical, role_logical, role_physical)
    }
}

/// Builds the stack a spec describes, drawing names and behaviours from
/// `rng`.
pub(crate) fn build<R: Rng + ?Sized>(spec: &Spec, rng: &mut R) -> World {
    let p = &spec.profile;
    let stack = spec.stack.as_str();
    let entity = spec.entity.as_str();
    let account = format!(
        "{}{}",
        rng.random_range(1..10u32),
        (0..11)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect::<String>()
    );
    let stack_uuid = uuid(rng);
    // The stack was created 3 to 12 months before the data starts.
    let created_ms = (spec.start.secs() - rng.random_range(90..365i64) * 86_400
        + rng.random_range(0..86_400i64))
        * 1000
        + rng.random_range(0..1000i64);
    let runtime = RUNTIMES[rng.random_range(0..RUNTIMES.len())];
    let mut plain: Vec<Plain> = Vec::new();
    let mut functions: Vec<Func> = Vec::new();

    let api = p.rest_api.then(|| {
        let sam = rng.random_bool(0.5);
        let logical = if sam { "ServerlessRestApi" } else { "RestApi" }.to_string();
        let stage = ["v1", "live", "prod", "Prod", "api"][rng.random_range(0..5)].to_string();
        let name = match rng.random_range(0..3) {
            0 => format!("{stack}-api"),
            1 => format!("{stack}-rest"),
            _ => stack.to_string(),
        };
        let deployment_logical = format!("{logical}Deployment{}", hex(rng, 10));
        let deployment_id = token(rng, LOWER, 6);
        plain.push(Plain {
            logical: deployment_logical,
            physical: deployment_id,
            resource_type: "AWS::ApiGateway::Deployment",
        });
        plain.push(Plain {
            logical: format!("{logical}{stage}Stage"),
            physical: stage.clone(),
            resource_type: "AWS::ApiGateway::Stage",
        });
        Api {
            logical,
            id: token(rng, LOWER, 10),
            name,
            stage,
            integration_ms: rng.random_range(6.0..14.0),
            gateway_ms: rng.random_range(8.0..15.0),
            client_error_rate: rng.random_range(0.003..0.015),
        }
    });

    // API functions: the verbs in order, `Create` first after `Get` so that
    // a stack with a queue has its producer.
    let mut verbs: Vec<usize> = (0..VERBS.len()).collect();
    if p.queue && p.api_functions == 1 {
        verbs.swap(0, 1);
    }
    let n_api = p.api_functions.clamp(1, VERBS.len() as u32) as usize;
    let mut shares: Vec<f64> = verbs[..n_api]
        .iter()
        .map(|&v| rng.random_range(VERBS[v].share.0..VERBS[v].share.1))
        .collect();
    let total: f64 = shares.iter().sum();
    for s in &mut shares {
        *s /= total;
    }
    let mut naming = Naming { rng, stack };
    for (k, &v) in verbs[..n_api].iter().enumerate() {
        let Verb {
            verb,
            plural,
            op,
            units,
            ..
        } = VERBS[v];
        let object = if plural {
            format!("{entity}s")
        } else {
            entity.to_string()
        };
        let logical = format!("{verb}{object}Function");
        let (physical, role_logical, role_physical) = naming.function(&logical);
        let rng = &mut *naming.rng;
        let base_ms = rng.random_range(runtime.duration_ms.0..runtime.duration_ms.1);
        let timeout_s = [3u32, 5, 6, 10, 15, 20, 29][rng.random_range(0..7)];
        functions.push(Func {
            logical,
            physical,
            role_logical,
            role_physical,
            role: Role::Api,
            runtime: runtime.name,
            handler: runtime.handler,
            architecture: if rng.random_bool(0.5) {
                "arm64"
            } else {
                "x86_64"
            },
            code_size: rng.random_range(400_000..9_000_000),
            memory: [128u32, 256, 512, 1024, 1769][rng.random_range(0..5)],
            timeout_s,
            reserved: None,
            share: shares[k],
            base_ms,
            init_ms: rng.random_range(runtime.init_ms.0..runtime.init_ms.1),
            tail: rng.random_range(2.0..3.2),
            error_rate: rng.random_range(0.0005..0.004),
            op: p.table.then_some(op),
            calls: 1.0,
            units: if op.is_read() {
                units * [1.0, 2.0][rng.random_range(0..2)]
            } else {
                units * f64::from(rng.random_range(1..4u8))
            },
            producer: p.queue && verb == "Create",
        });
    }
    let rng = naming.rng;

    let mut queue = None;
    let mut consumer = None;
    if p.queue {
        let logical = format!("{entity}Queue");
        let name = cfn_name(rng, stack, &logical, UPPER);
        let dlq_logical = format!("{logical}DLQ");
        let dlq_name = cfn_name(rng, stack, &dlq_logical, UPPER);
        let url = |n: &str| format!("https://sqs.{}.amazonaws.com/{account}/{n}", spec.region);
        let f_logical = format!("{entity}EventsConsumerFunction");
        let (physical, role_logical, role_physical) = Naming { rng, stack }.function(&f_logical);
        let timeout_s = [30u32, 60, 60, 120][rng.random_range(0..4)];
        let batch_size = [1u32, 5, 10, 10][rng.random_range(0..4)];
        let mapping_logical = format!("{f_logical}{logical}Event");
        let mapping_uuid = uuid(rng);
        consumer = Some(functions.len());
        functions.push(Func {
            logical: f_logical,
            physical,
            role_logical,
            role_physical,
            role: Role::Worker,
            runtime: runtime.name,
            handler: runtime.handler,
            architecture: "x86_64",
            code_size: rng.random_range(400_000..9_000_000),
            memory: [128u32, 256, 512][rng.random_range(0..3)],
            timeout_s,
            reserved: None,
            share: 0.0,
            base_ms: rng.random_range(runtime.duration_ms.0 * 2.0..runtime.duration_ms.1 * 3.0),
            init_ms: rng.random_range(runtime.init_ms.0..runtime.init_ms.1),
            tail: rng.random_range(2.0..3.5),
            error_rate: 0.0,
            op: p.table.then_some(Op::PutItem),
            calls: 1.0,
            units: f64::from(rng.random_range(1..6u8)),
            producer: false,
        });
        plain.push(Plain {
            logical: mapping_logical,
            physical: mapping_uuid.clone(),
            resource_type: "AWS::Lambda::EventSourceMapping",
        });
        queue = Some(Queue {
            logical,
            url: url(&name),
            name,
            dlq_logical,
            dlq_url: url(&dlq_name),
            dlq_name,
            visibility_timeout: timeout_s * 6,
            max_receive: [3u32, 5, 5][rng.random_range(0..3)],
            batch_size,
            max_concurrency: 2,
            mapping_uuid,
        });
    }
    let producer = functions.iter().position(|f| f.producer);
    // The consumer's pollers are capped with room for three times the peak.
    if let (Some(q), Some(c), Some(pr)) = (&mut queue, consumer, producer) {
        let sent = p.peak_requests_per_min * functions[pr].share;
        let per_minute = sent / (1.0 + sent / 150.0).min(f64::from(q.batch_size));
        let mean = per_minute * functions[c].base_ms / 60_000.0;
        q.max_concurrency = (3.0 * mean + 1.0).ceil().max(2.0) as u32;
    }

    let mut batch = None;
    if let Some(start_minute) = p.batch_utc_minute {
        let name = match rng.random_range(0..3) {
            0 => format!("{entity}DigestBatchFunction"),
            1 => format!("Daily{entity}ReconcileFunction"),
            _ => format!("Nightly{entity}ExportFunction"),
        };
        let (physical, role_logical, role_physical) = Naming { rng, stack }.function(&name);
        let base_ms = rng.random_range(200.0..1000.0);
        batch = Some(BatchJob {
            function: functions.len(),
            start_minute: start_minute % 1440,
            minutes: rng.random_range(8..13),
            per_minute: libm::exp(rng.random_range(libm::log(30.0)..libm::log(400.0))),
            duration_multiplier: rng.random_range(5.0..10.0),
            read_units: rng.random_range(15.0..60.0),
            write_units: if rng.random_bool(0.5) {
                f64::from(rng.random_range(1..4u8))
            } else {
                0.0
            },
        });
        schedule(&mut plain, rng, stack, &name);
        functions.push(Func {
            logical: name,
            physical,
            role_logical,
            role_physical,
            role: Role::Batch,
            runtime: ["python3.13", "java21", "nodejs22.x"][rng.random_range(0..3)],
            handler: "app.handler",
            architecture: "arm64",
            code_size: rng.random_range(90_000..6_000_000),
            memory: [256u32, 1024, 1769][rng.random_range(0..3)],
            timeout_s: [300u32, 600, 900][rng.random_range(0..3)],
            reserved: rng.random_bool(0.4).then_some(500),
            share: 0.0,
            base_ms,
            init_ms: rng.random_range(300.0..1500.0),
            tail: rng.random_range(2.2..2.8),
            error_rate: rng.random_range(0.0005..0.003),
            op: p.table.then_some(Op::Query),
            calls: 3.0,
            units: 0.0,
            producer: false,
        });
    }

    let mut cron = None;
    if p.cron {
        let name = if rng.random_bool(0.5) {
            format!("{entity}CleanupFunction")
        } else {
            format!("Expire{entity}sFunction")
        };
        let (physical, role_logical, role_physical) = Naming { rng, stack }.function(&name);
        schedule(&mut plain, rng, stack, &name);
        cron = Some(functions.len());
        functions.push(Func {
            logical: name,
            physical,
            role_logical,
            role_physical,
            role: Role::Cron,
            runtime: runtime.name,
            handler: runtime.handler,
            architecture: "arm64",
            code_size: rng.random_range(90_000..3_000_000),
            memory: 256,
            timeout_s: 60,
            reserved: None,
            share: 0.0,
            base_ms: rng.random_range(150.0..900.0),
            init_ms: rng.random_range(runtime.init_ms.0..runtime.init_ms.1),
            tail: 1.0,
            error_rate: 0.002,
            op: p.table.then_some(Op::Query),
            calls: 1.0,
            units: rng.random_range(2.0..10.0),
            producer: false,
        });
    }
    let cron_offset = rng.random_range(0..5u32);

    // Reserved concurrency on some functions, with room to spare.
    for f in &mut functions {
        if f.reserved.is_none() && f.role != Role::Cron && rng.random_bool(0.3) {
            f.reserved = Some([50u32, 100, 200, 250, 500][rng.random_range(0..5)]);
        }
    }

    let table = p.table.then(|| {
        let logical = format!("{entity}sTable");
        let physical = cfn_name(rng, stack, &logical, UPPER);
        let mut ops: Vec<Op> = functions.iter().filter_map(|f| f.op).collect();
        ops.sort();
        ops.dedup();
        let latency_ms = ops
            .iter()
            .map(|op| match op {
                Op::GetItem => rng.random_range(2.5..5.0),
                Op::Query => rng.random_range(7.0..14.0),
                _ => rng.random_range(4.5..8.5),
            })
            .collect();
        let provisioned = rng.random_bool(0.25).then(|| {
            let peak = p.peak_requests_per_min / 60.0;
            (
                (peak * rng.random_range(3.0..8.0)).ceil().max(5.0) as u32,
                (peak * rng.random_range(1.0..3.0)).ceil().max(5.0) as u32,
            )
        });
        Table {
            logical,
            physical,
            ops,
            latency_ms,
            provisioned,
            pitr: rng.random_bool(0.7),
            items: rng.random_range(10_000..20_000_000),
            item_bytes: rng.random_range(300..4000),
        }
    });

    for f in &functions {
        plain.push(Plain {
            logical: f.role_logical.clone(),
            physical: f.role_physical.clone(),
            resource_type: "AWS::IAM::Role",
        });
        if f.role == Role::Api
            && let Some(api) = &api
        {
            let logical = format!("{}ApiPermission{}", f.logical, api.stage);
            plain.push(Plain {
                physical: cfn_name(rng, stack, &logical, UPPER),
                logical,
                resource_type: "AWS::Lambda::Permission",
            });
        }
    }
    if rng.random_bool(0.6) {
        let logical = "AlarmTopic".to_string();
        plain.push(Plain {
            physical: format!(
                "arn:aws:sns:{}:{account}:{}",
                spec.region,
                cfn_name(rng, stack, &logical, MIXED)
            ),
            logical,
            resource_type: "AWS::SNS::Topic",
        });
    }

    World {
        stack: stack.to_string(),
        region: spec.region.clone(),
        account,
        stack_uuid,
        created_ms,
        api,
        functions,
        table,
        queue,
        consumer,
        producer,
        batch,
        cron,
        cron_offset,
        plain,
    }
}

/// The EventBridge rule and permission of a scheduled function.
fn schedule<R: Rng + ?Sized>(plain: &mut Vec<Plain>, rng: &mut R, stack: &str, function: &str) {
    for (suffix, ty) in [
        ("Schedule", "AWS::Events::Rule"),
        ("SchedulePermission", "AWS::Lambda::Permission"),
    ] {
        let logical = format!("{function}{suffix}");
        plain.push(Plain {
            physical: cfn_name(rng, stack, &logical, UPPER),
            logical,
            resource_type: ty,
        });
    }
}

/// Rounds a multiplier for sentences: `x4.9`.
pub(crate) fn times(v: f64) -> String {
    format!("x{:.1}", round(v, 1))
}
