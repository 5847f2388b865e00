//! A translating proxy for tests: the CloudWatch client of the AWS SDK
//! speaks only Smithy RPC v2 CBOR, the emulator only JSON 1.0. The proxy
//! takes `POST /service/<Service>/operation/<Operation>` with a CBOR body,
//! sends the emulator the same request as JSON 1.0 (`X-Amz-Target:
//! <Service>.<Operation>`), and answers in CBOR. Timestamps travel as CBOR
//! epoch tags (tag 1) one way and JSON epoch seconds the other. Other
//! requests pass through unchanged, so one endpoint serves every service.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ciborium::Value as Cbor;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value as Json;
use tokio::net::{TcpListener, TcpStream};

/// The CBOR tag of an epoch-seconds timestamp.
const EPOCH_TAG: u64 = 1;

/// What went through the proxy: requests by `service:Operation`, and what
/// AWS bills by rather than by request.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Counts {
    /// Requests by `service:Operation` (the service of the signature).
    pub(crate) calls: BTreeMap<String, u64>,
    /// Metrics requested in `GetMetricData` calls (what it is billed by).
    pub(crate) metrics_requested: u64,
    /// DynamoDB write request units, estimated from the items written (1 KB
    /// units; transactional writes count twice).
    pub(crate) write_units: u64,
    /// The same by kind of item (the key's prefix: `W`, `B`, `S`, …).
    pub(crate) write_units_by_kind: BTreeMap<String, u64>,
    /// DynamoDB read request units, estimated from the items read
    /// (strongly consistent 4 KB units).
    pub(crate) read_units: u64,
}

impl Counts {
    /// Requests of one operation.
    pub(crate) fn of(&self, op: &str) -> u64 {
        self.calls.get(op).copied().unwrap_or(0)
    }
}

/// A running proxy; it stops with the runtime that started it.
#[derive(Debug)]
pub(crate) struct CborProxy {
    /// Where clients connect.
    pub(crate) addr: SocketAddr,
    counts: Arc<Mutex<Counts>>,
}

impl CborProxy {
    /// Starts a proxy on 127.0.0.1 on a free port, forwarding to `upstream`
    /// (`host:port` on 127.0.0.1).
    pub(crate) async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Mutex::new(Counts::default()));
        let shared = Arc::clone(&counts);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let counts = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        handle(req, upstream, Arc::clone(&counts))
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, counts })
    }

    /// What went through so far.
    pub(crate) fn counts(&self) -> Counts {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Forgets what went through so far.
    pub(crate) fn reset(&self) {
        if let Ok(mut c) = self.counts.lock() {
            *c = Counts::default();
        }
    }

    /// The endpoint URL for SDK clients.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

type Body = Full<Bytes>;

fn reply(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r
}

async fn handle(
    req: Request<Incoming>,
    upstream: SocketAddr,
    counts: Arc<Mutex<Counts>>,
) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(match forward(req, upstream, &counts).await {
        Ok(r) => r,
        Err(e) => reply(StatusCode::BAD_GATEWAY, Bytes::from(e)),
    })
}

/// `Service` and `Operation` of an RPC v2 path.
pub(crate) fn rpc_target(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/service/")?;
    let (service, op) = rest.split_once("/operation/")?;
    (!service.is_empty() && !op.is_empty() && !op.contains('/')).then_some((service, op))
}

async fn send(
    upstream: SocketAddr,
    req: Request<Body>,
) -> Result<(StatusCode, hyper::HeaderMap, Bytes), String> {
    let stream = TcpStream::connect(upstream)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let res = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = res.status();
    let headers = res.headers().clone();
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, headers, body))
}

/// `service:Operation` of a request, whatever its protocol.
pub(crate) fn operation(
    method: &str,
    path: &str,
    headers: &hyper::HeaderMap,
    body: &[u8],
) -> String {
    let service = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(3))
        .unwrap_or("unknown")
        .to_string();
    let op = if let Some((_, op)) = rpc_target(path) {
        op.to_string()
    } else if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        target.rsplit('.').next().unwrap_or(target).to_string()
    } else if let Some(action) = std::str::from_utf8(body)
        .ok()
        .and_then(|b| b.split('&').find_map(|kv| kv.strip_prefix("Action=")))
    {
        action.to_string()
    } else if path.ends_with("/configuration") {
        "GetFunctionConfiguration".into()
    } else if path.ends_with("/concurrency") {
        "GetFunctionConcurrency".into()
    } else if path.contains("/event-source-mappings/") {
        "GetEventSourceMapping".into()
    } else if path.ends_with("/stages") {
        "GetStages".into()
    } else if path.starts_with("/restapis/") && method == "GET" {
        "GetRestApi".into()
    } else {
        format!("{method} {path}")
    };
    format!("{service}:{op}")
}

/// Bytes of a DynamoDB item as billed: attribute names plus values.
fn item_bytes(item: &Json) -> u64 {
    let Some(map) = item.as_object() else {
        return 0;
    };
    map.iter()
        .map(|(k, v)| {
            let value = v
                .as_object()
                .and_then(|t| t.iter().next())
                .map_or(0, |(ty, x)| match (ty.as_str(), x) {
                    ("B", Json::String(b64)) => b64.len() * 3 / 4,
                    (_, Json::String(s)) => s.len(),
                    (_, other) => other.to_string().len(),
                });
            (k.len() + value) as u64
        })
        .sum()
}

fn units(bytes: u64, unit: u64) -> u64 {
    bytes.div_ceil(unit).max(1)
}

/// Counts the write units of one item, in total and by its kind.
fn write(c: &mut Counts, item: &Json, factor: u64) {
    let n = factor * units(item_bytes(item), 1024);
    c.write_units += n;
    let kind = item["pk"]["S"]
        .as_str()
        .and_then(|pk| pk.split('#').next())
        .unwrap_or("?")
        .to_string();
    *c.write_units_by_kind.entry(kind).or_default() += n;
}

/// Adds what one DynamoDB call costs in request units.
fn count_dynamodb(op: &str, request: &Json, response: &Json, c: &mut Counts) {
    match op {
        "dynamodb:PutItem" => write(c, &request["Item"], 1),
        "dynamodb:DeleteItem" | "dynamodb:UpdateItem" => c.write_units += 1,
        "dynamodb:BatchWriteItem" => {
            for requests in request["RequestItems"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
            {
                for r in requests.as_array().into_iter().flatten() {
                    if r.get("PutRequest").is_some() {
                        write(c, &r["PutRequest"]["Item"], 1);
                    } else {
                        c.write_units += 1;
                    }
                }
            }
        }
        "dynamodb:TransactWriteItems" => {
            for t in request["TransactItems"].as_array().into_iter().flatten() {
                write(c, &t["Put"]["Item"], 2);
            }
        }
        "dynamodb:GetItem" => c.read_units += units(item_bytes(&response["Item"]), 4096),
        "dynamodb:Query" => {
            let bytes: u64 = response["Items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(item_bytes)
                .sum();
            c.read_units += units(bytes, 4096);
        }
        "dynamodb:BatchGetItem" => {
            for items in response["Responses"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
            {
                for i in items.as_array().into_iter().flatten() {
                    c.read_units += units(item_bytes(i), 4096);
                }
            }
        }
        _ => {}
    }
}

async fn forward(
    req: Request<Incoming>,
    upstream: SocketAddr,
    counts: &Mutex<Counts>,
) -> Result<Response<Body>, String> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let op = operation(
        parts.method.as_str(),
        parts.uri.path(),
        &parts.headers,
        &body,
    );
    if let Ok(mut c) = counts.lock() {
        *c.calls.entry(op.clone()).or_default() += 1;
    }
    let target = rpc_target(parts.uri.path()).map(|(s, o)| format!("{s}.{o}"));
    let Some(target) = target else {
        // Not CBOR RPC: pass through as it is.
        let mut out = Request::builder().method(parts.method).uri(parts.uri);
        for (k, v) in &parts.headers {
            out = out.header(k, v);
        }
        let out = out
            .body(Full::new(body.clone()))
            .map_err(|e| e.to_string())?;
        let (status, headers, answer) = send(upstream, out).await?;
        if op.starts_with("dynamodb:") {
            let request: Json = serde_json::from_slice(&body).unwrap_or(Json::Null);
            let response: Json = serde_json::from_slice(&answer).unwrap_or(Json::Null);
            if let Ok(mut c) = counts.lock() {
                count_dynamodb(&op, &request, &response, &mut c);
            }
        }
        let mut r = reply(status, answer);
        *r.headers_mut() = headers;
        return Ok(r);
    };
    let json = if body.is_empty() {
        Json::Object(serde_json::Map::new())
    } else {
        let cbor: Cbor =
            ciborium::from_reader(body.as_ref()).map_err(|e| format!("bad CBOR: {e}"))?;
        cbor_to_json(cbor)
    };
    if op.ends_with(":GetMetricData")
        && let Ok(mut c) = counts.lock()
    {
        c.metrics_requested += json["MetricDataQueries"]
            .as_array()
            .map_or(0, |q| q.len() as u64);
    }
    let json_bytes = serde_json::to_vec(&json).map_err(|e| e.to_string())?;
    let mut out = Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", target);
    // The emulator reads the region and account from the signature.
    for name in [
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "host",
    ] {
        if let Some(v) = parts.headers.get(name) {
            out = out.header(name, v);
        }
    }
    let out = out
        .body(Full::new(Bytes::from(json_bytes)))
        .map_err(|e| e.to_string())?;
    let (status, _, body) = send(upstream, out).await?;
    let answer: Json = if body.is_empty() {
        Json::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| format!("emulator answered non-JSON ({status}): {e}"))?
    };
    let mut bytes = Vec::new();
    ciborium::into_writer(&json_to_cbor(answer, None), &mut bytes).map_err(|e| e.to_string())?;
    let mut r = reply(status, Bytes::from(bytes));
    r.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/cbor"),
    );
    r.headers_mut().insert(
        "smithy-protocol",
        hyper::header::HeaderValue::from_static("rpc-v2-cbor"),
    );
    Ok(r)
}

/// CBOR request body as JSON: epoch tags become seconds, bytes base64.
pub(crate) fn cbor_to_json(v: Cbor) -> Json {
    match v {
        Cbor::Null => Json::Null,
        Cbor::Bool(b) => Json::Bool(b),
        Cbor::Integer(i) => {
            let i = i128::from(i);
            i64::try_from(i).map_or_else(|_| Json::from(i as f64), Json::from)
        }
        Cbor::Float(f) => serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number),
        Cbor::Text(s) => Json::String(s),
        Cbor::Bytes(b) => Json::String(base64(&b)),
        Cbor::Array(a) => Json::Array(a.into_iter().map(cbor_to_json).collect()),
        Cbor::Map(m) => Json::Object(
            m.into_iter()
                .filter_map(|(k, v)| match k {
                    Cbor::Text(k) => Some((k, cbor_to_json(v))),
                    _ => None,
                })
                .collect(),
        ),
        Cbor::Tag(_, inner) => cbor_to_json(*inner),
        _ => Json::Null,
    }
}

/// Whether a JSON field holds timestamps (the CloudWatch shapes used here:
/// `Timestamps` of metric data results, `…Timestamp` fields).
fn is_time_field(key: &str) -> bool {
    key == "Timestamps" || key.ends_with("Timestamp")
}

fn epoch(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp_millis() as f64 / 1000.0),
        _ => None,
    }
}

fn tagged(v: &Json) -> Cbor {
    match epoch(v) {
        Some(secs) => Cbor::Tag(EPOCH_TAG, Box::new(Cbor::Float(secs))),
        None => Cbor::Null,
    }
}

/// JSON response body as CBOR, timestamps as epoch tags. `key` is the field
/// that holds `v`.
pub(crate) fn json_to_cbor(v: Json, key: Option<&str>) -> Cbor {
    if let Some(k) = key
        && is_time_field(k)
    {
        return match &v {
            Json::Array(a) => Cbor::Array(a.iter().map(tagged).collect()),
            other => tagged(other),
        };
    }
    match v {
        Json::Null => Cbor::Null,
        Json::Bool(b) => Cbor::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) if !n.is_f64() => Cbor::Integer(i.into()),
            _ => Cbor::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Cbor::Text(s),
        Json::Array(a) => Cbor::Array(a.into_iter().map(|v| json_to_cbor(v, None)).collect()),
        Json::Object(m) => Cbor::Map(
            m.into_iter()
                .map(|(k, v)| {
                    let value = json_to_cbor(v, Some(&k));
                    (Cbor::Text(k), value)
                })
                .collect(),
        ),
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_paths_name_service_and_operation() {
        assert_eq!(
            rpc_target("/service/GraniteServiceVersion20100801/operation/GetMetricData"),
            Some(("GraniteServiceVersion20100801", "GetMetricData"))
        );
        assert_eq!(rpc_target("/"), None);
        assert_eq!(rpc_target("/service//operation/X"), None);
    }

    #[test]
    fn request_timestamps_become_epoch_seconds() {
        let cbor = Cbor::Map(vec![
            (
                Cbor::Text("StartTime".into()),
                Cbor::Tag(1, Box::new(Cbor::Integer(1_800_000_000.into()))),
            ),
            (Cbor::Text("MaxDatapoints".into()), Cbor::Integer(5.into())),
            (Cbor::Text("Blob".into()), Cbor::Bytes(b"hi!?".to_vec())),
        ]);
        let json = cbor_to_json(cbor);
        assert_eq!(json["StartTime"], 1_800_000_000);
        assert_eq!(json["MaxDatapoints"], 5);
        assert_eq!(json["Blob"], "aGkhPw==");
    }

    #[test]
    fn response_timestamps_become_epoch_tags_and_values_stay_floats() {
        let json = serde_json::json!({
            "MetricDataResults": [{
                "Id": "m0",
                "Timestamps": [1_800_000_060.0, "2027-01-15T08:00:00Z"],
                "Values": [1.0, 2.5],
                "StatusCode": "Complete"
            }]
        });
        let cbor = json_to_cbor(json, None);
        let mut bytes = Vec::new();
        ciborium::into_writer(&cbor, &mut bytes).unwrap();
        let back: Cbor = ciborium::from_reader(bytes.as_slice()).unwrap();
        let Cbor::Map(top) = back else {
            panic!("not a map")
        };
        let Cbor::Array(results) = &top[0].1 else {
            panic!("no results")
        };
        let Cbor::Map(result) = &results[0] else {
            panic!("no result")
        };
        let field = |name: &str| {
            result
                .iter()
                .find(|(k, _)| k == &Cbor::Text(name.into()))
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            field("Timestamps"),
            Some(Cbor::Array(vec![
                Cbor::Tag(1, Box::new(Cbor::Float(1_800_000_060.0))),
                Cbor::Tag(1, Box::new(Cbor::Float(1_800_000_000.0))),
            ]))
        );
        assert_eq!(
            field("Values"),
            Some(Cbor::Array(vec![Cbor::Float(1.0), Cbor::Float(2.5)]))
        );
    }
}
