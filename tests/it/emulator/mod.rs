//! The emulator harness: the real AWS SDK against moto on 127.0.0.1.
//!
//! Tests here run only when `STACKWATCH_EMULATOR_URL` names a running moto
//! server (`scripts/test` starts one), and fail when
//! `STACKWATCH_REQUIRE_EMULATOR=1` is set without it. Every client gets fake
//! credentials, a region, an endpoint on 127.0.0.1 (the translating proxy in
//! front of moto) and at most two attempts, so emulator errors surface.

pub(crate) mod cbor_proxy;

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use serde_json::Value;

use cbor_proxy::CborProxy;

/// A connection to the emulator through the proxy.
#[derive(Debug)]
pub(crate) struct Emulator {
    /// The translating, counting proxy every client goes through.
    pub(crate) proxy: CborProxy,
    /// SDK configuration pointed at the proxy.
    pub(crate) sdk: SdkConfig,
    /// A name prefix unique to this test run, for resource names.
    pub(crate) ns: String,
}

/// The emulator, if one is configured.
///
/// # Panics
///
/// When `STACKWATCH_REQUIRE_EMULATOR=1` and no emulator is configured or
/// reachable: a run that must test against the emulator fails instead of
/// skipping.
pub(crate) async fn connect(test: &str) -> Option<Emulator> {
    let required = std::env::var("STACKWATCH_REQUIRE_EMULATOR").is_ok_and(|v| v == "1");
    let Some(url) = std::env::var("STACKWATCH_EMULATOR_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            !required,
            "STACKWATCH_REQUIRE_EMULATOR=1 but STACKWATCH_EMULATOR_URL is not set"
        );
        return None;
    };
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| {
            panic!("STACKWATCH_EMULATOR_URL={url:?} is not http://127.0.0.1:PORT: {e}")
        });
    assert!(
        addr.ip().is_loopback(),
        "the emulator must be on the loopback address, not {addr}"
    );
    let proxy = CborProxy::start(addr).await.expect("the proxy starts");
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .endpoint_url(proxy.url())
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .http_client(shared::adapters::aws::https_client())
        .load()
        .await;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let ns = format!("{test}-{:x}", nanos % 0xffff_ffff);
    Some(Emulator { proxy, sdk, ns })
}

impl Emulator {
    /// A raw JSON 1.0 call (for APIs whose SDK crate the project does not
    /// use, such as DynamoDB Streams).
    pub(crate) async fn json_call(&self, service: &str, target: &str, body: &Value) -> Value {
        use http_body_util::{BodyExt, Full};
        let stream = tokio::net::TcpStream::connect(self.proxy.addr)
            .await
            .expect("connect");
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("handshake");
        tokio::spawn(conn);
        let req = hyper::Request::builder()
            .method("POST")
            .uri("/")
            .header("host", self.proxy.addr.to_string())
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", target)
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
                ),
            )
            .body(Full::new(bytes::Bytes::from(serde_json::to_vec(body).expect("json"))))
            .expect("request");
        let res = sender.send_request(req).await.expect("response");
        let status = res.status();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        assert!(
            status.is_success(),
            "{target} failed: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
        serde_json::from_slice(&bytes).expect("JSON answer")
    }
}
