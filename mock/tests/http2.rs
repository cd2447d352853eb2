//! The server over HTTP/2 in cleartext with prior knowledge (h2c), as the AWS
//! SDK for JavaScript v3 speaks it to an `http://` endpoint: hyper's own
//! HTTP/2 client opens the connection with the HTTP/2 preface, and every
//! kind of answer (JSON, event stream, HTTP errors, stream faults) comes back
//! over it. The library's own tests drive the same server over HTTP/1.1.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::HeaderValue;
use bedrock_converse_mock::{Fault, MockServer, Reply};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use hyper::{StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};

const CLAUDE: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA: &str = "amazon.nova-lite-v1:0";

/// One HTTP/2 connection to the server (prior knowledge: no upgrade, no ALPN).
#[derive(Clone)]
struct H2 {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

/// A response read to its end, or to the error that ended it.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    version: Version,
    error_type: Option<String>,
    body: Vec<u8>,
    /// Why the body ended early, if it did.
    body_error: Option<String>,
}

/// One event-stream frame: `:message-type`, `:event-type` or
/// `:exception-type`, and the JSON payload.
#[derive(Debug, PartialEq)]
struct Frame {
    message_type: String,
    kind: String,
    payload: Value,
}

impl H2 {
    async fn connect(addr: SocketAddr) -> H2 {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .expect("an HTTP/2 handshake");
        tokio::spawn(connection);
        H2 { addr, sender }
    }

    async fn post(&self, path: &str, body: &Value) -> hyper::Response<hyper::body::Incoming> {
        let request = hyper::Request::post(format!("http://{}{path}", self.addr))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        self.sender
            .clone()
            .send_request(request)
            .await
            .expect("a response")
    }

    async fn call(&self, path: &str, body: &Value) -> Answer {
        let response = self.post(path, body).await;
        let (parts, mut incoming) = response.into_parts();
        let mut answer = Answer {
            status: parts.status,
            version: parts.version,
            error_type: parts
                .headers
                .get("x-amzn-errortype")
                .map(|v| v.to_str().unwrap().to_owned()),
            body: Vec::new(),
            body_error: None,
        };
        while let Some(frame) = incoming.frame().await {
            match frame {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        answer.body.extend_from_slice(&data);
                    }
                }
                Err(e) => {
                    answer.body_error = Some(format!("{e:?}"));
                    break;
                }
            }
        }
        answer
    }
}

fn messages() -> Value {
    json!({"messages": [{"role": "user", "content": [{"text": "Hi"}]}]})
}

fn converse(model: &str) -> String {
    format!("/model/{model}/converse")
}

fn stream(model: &str) -> String {
    format!("/model/{model}/converse-stream")
}

impl Answer {
    fn json(&self) -> Value {
        assert_eq!(self.version, Version::HTTP_2);
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The event-stream frames, decoded with aws-smithy-eventstream.
    fn frames(&self) -> Vec<Frame> {
        assert_eq!(self.version, Version::HTTP_2);
        let mut bytes = self.body.as_slice();
        let mut frames = Vec::new();
        while !bytes.is_empty() {
            let message = read_message_from(&mut bytes).expect("a valid event-stream frame");
            let header = |name: &str| {
                message
                    .headers()
                    .iter()
                    .find(|h| h.name().as_str() == name)
                    .and_then(|h| match h.value() {
                        HeaderValue::String(s) => Some(s.as_str().to_owned()),
                        _ => None,
                    })
            };
            let message_type = header(":message-type").expect(":message-type");
            let kind = header(":event-type")
                .or_else(|| header(":exception-type"))
                .expect("an event or exception type");
            let payload = serde_json::from_slice(message.payload()).expect("a JSON payload");
            frames.push(Frame {
                message_type,
                kind,
                payload,
            });
        }
        frames
    }
}

fn kinds(frames: &[Frame]) -> Vec<&str> {
    frames.iter().map(|f| f.kind.as_str()).collect()
}

/// The text of the deltas, joined, and the tool-use input deltas, joined.
fn deltas(frames: &[Frame]) -> (String, String) {
    let (mut text, mut tool) = (String::new(), String::new());
    for f in frames.iter().filter(|f| f.kind == "contentBlockDelta") {
        text.push_str(f.payload["delta"]["text"].as_str().unwrap_or_default());
        tool.push_str(
            f.payload["delta"]["toolUse"]["input"]
                .as_str()
                .unwrap_or_default(),
        );
    }
    (text, tool)
}

/// `bedrock-local --script FILE`, killed when dropped.
struct Local(Child, SocketAddr);

impl Local {
    fn start(script: &str) -> Local {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
        let mut child = Command::new(env!("CARGO_BIN_EXE_bedrock-local"))
            .args(["--port", "0", "--script", script.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("bedrock-local starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim_end()
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok());
        match addr {
            Some(addr) => Local(child, addr),
            None => {
                let _ = child.kill();
                panic!("the first line is not the URL: {line:?}")
            }
        }
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn bedrock_local_serves_the_clients_script_over_http2() {
    // The script the JavaScript SDK and AWS CLI checks in CI take.
    let local = Local::start("tests/clients_script.json");
    let h2 = H2::connect(local.1).await;

    // 0, 1: a reply for each of two model families, whole and streamed.
    let whole = h2.call(&converse(CLAUDE), &messages()).await;
    assert_eq!(whole.status, StatusCode::OK);
    let whole = whole.json();
    assert_eq!(
        whole["output"]["message"]["content"],
        json!([{"text": "Hello from the script."}])
    );
    assert_eq!(whole["usage"]["totalTokens"], 15);
    let streamed = h2.call(&stream(NOVA), &messages()).await;
    assert_eq!(streamed.body_error, None);
    let frames = streamed.frames();
    assert!(frames.iter().all(|f| f.message_type == "event"));
    assert_eq!(kinds(&frames)[0], "messageStart");
    assert_eq!(
        kinds(&frames)[frames.len() - 2..],
        ["messageStop", "metadata"]
    );
    assert_eq!(
        frames
            .iter()
            .filter(|f| f.kind == "contentBlockDelta")
            .count(),
        4
    );
    assert_eq!(deltas(&frames).0, "Nova says hello, in parts.");
    assert_eq!(frames.last().unwrap().payload["usage"]["outputTokens"], 6);

    // 2: a tool use.
    let tool = h2.call(&converse(CLAUDE), &messages()).await.json();
    assert_eq!(tool["stopReason"], "tool_use");
    assert_eq!(
        tool["output"]["message"]["content"][1]["toolUse"]["input"],
        json!({"city": "Paris", "days": 3})
    );

    // 3: HTTP 429 in Bedrock's shape.
    let throttled = h2.call(&converse(NOVA), &messages()).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.error_type.as_deref(), Some("ThrottlingException"));
    assert_eq!(throttled.json(), json!({"message": "slow down"}));

    // 4, 5: taken whole; 6: the tool use streamed, its input in pieces.
    for model in [CLAUDE, NOVA] {
        assert_eq!(
            h2.call(&converse(model), &messages()).await.status,
            StatusCode::OK
        );
    }
    let frames = h2.call(&stream(NOVA), &messages()).await.frames();
    let (text, input) = deltas(&frames);
    assert_eq!(text, "Let me check the weather.");
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap(),
        json!({"city": "Paris", "days": 3})
    );
    let start = frames
        .iter()
        .find(|f| f.kind == "contentBlockStart")
        .unwrap();
    assert_eq!(start.payload["start"]["toolUse"]["name"], "weather");

    // 7: an exception frame after the first events, and the stream ends.
    let broken = h2.call(&stream(CLAUDE), &messages()).await;
    assert_eq!(broken.status, StatusCode::OK);
    assert_eq!(broken.body_error, None);
    let frames = broken.frames();
    let last = frames.last().unwrap();
    assert_eq!(
        (last.message_type.as_str(), last.kind.as_str()),
        ("exception", "modelStreamErrorException")
    );
    assert_eq!(last.payload["message"], "the model stream broke");
    assert_eq!(deltas(&frames).0, "partial answer");

    // Then the default reply, three streams at once on the one connection.
    let calls = (0..3).map(|_| {
        let h2 = h2.clone();
        tokio::spawn(async move { h2.call(&stream(CLAUDE), &messages()).await })
    });
    for call in calls.collect::<Vec<_>>() {
        let frames = call.await.unwrap().frames();
        assert_eq!(kinds(&frames).last(), Some(&"metadata"));
        assert!(deltas(&frames).0.starts_with("Hello from bedrock-local"));
    }
}

#[tokio::test]
async fn http_errors_come_in_bedrocks_shape_over_http2() {
    let server = MockServer::start().unwrap();
    let h2 = H2::connect(server.addr()).await;

    server.push(Reply::error(
        503,
        "ServiceUnavailableException",
        "try later",
    ));
    let unavailable = h2.call(&stream(CLAUDE), &messages()).await;
    assert_eq!(unavailable.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        unavailable.error_type.as_deref(),
        Some("ServiceUnavailableException")
    );
    assert_eq!(unavailable.json()["message"], "try later");

    let unknown = h2.call("/model/m/invoke-sideways", &messages()).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.error_type.as_deref(),
        Some("UnknownOperationException")
    );

    let invalid = h2.call("/model/m/count-tokens", &json!({})).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid.error_type.as_deref(), Some("ValidationException"));

    // Every request was recorded, with its model id decoded from the path.
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0].model_id, CLAUDE);
    assert_eq!(requests[0].body, messages());
}

#[tokio::test]
async fn a_dropped_stream_resets_only_that_stream_over_http2() {
    let server = MockServer::start().unwrap();
    let h2 = H2::connect(server.addr()).await;
    server.push(
        Reply::text("cut off mid-stream")
            .deltas(4)
            .fault(Fault::Drop { after: 2 }),
    );
    let dropped = h2.call(&stream(CLAUDE), &messages()).await;
    assert_eq!(dropped.status, StatusCode::OK);
    // The events before the fault arrive, then the body fails: the stream is
    // reset (RST_STREAM), where HTTP/1.1 closes the connection.
    let error = dropped.body_error.expect("the body ends in an error");
    assert!(
        error.contains("RST_STREAM") || error.contains("Reset"),
        "{error}"
    );
    let mut bytes = dropped.body.as_slice();
    let mut events = Vec::new();
    while !bytes.is_empty() {
        let message = read_message_from(&mut bytes).expect("whole frames before the reset");
        events.push(message);
    }
    assert_eq!(events.len(), 2);
    assert_eq!(server.stream_stats().aborted, 1);

    // The connection's other streams go on.
    let next = h2.call(&converse(NOVA), &messages()).await;
    assert_eq!(next.status, StatusCode::OK);
    assert_eq!(
        next.json()["output"]["message"]["content"][0]["text"],
        "You said: Hi"
    );
}

#[tokio::test]
async fn a_client_that_gives_up_on_a_stalled_stream_frees_it_over_http2() {
    let server = MockServer::start().unwrap();
    let h2 = H2::connect(server.addr()).await;
    server.push(
        Reply::text("never finishes")
            .deltas(4)
            .fault(Fault::Stall { after: 3 }),
    );
    let response = h2.post(&stream(CLAUDE), &messages()).await;
    assert_eq!(response.version(), Version::HTTP_2);
    let mut body = response.into_body();
    // The first events come, then nothing.
    let first = body.frame().await.expect("a first chunk").unwrap();
    assert!(!first.into_data().unwrap().is_empty());
    let waited = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            match body.frame().await {
                Some(Ok(f)) if f.data_ref().is_some_and(|d| !d.is_empty()) => continue,
                other => return other.map(|r| r.is_ok()),
            }
        }
    })
    .await;
    assert!(waited.is_err(), "the stalled stream ended: {waited:?}");
    assert_eq!(server.stream_stats(), Default::default());
    // Dropping the body resets the stream; the server sees it go.
    drop(body);
    let aborted = tokio::task::spawn_blocking(move || {
        let n = server.wait_for_aborted_streams(1, Duration::from_secs(5));
        (n, server.stream_stats().completed)
    })
    .await
    .unwrap();
    assert_eq!(aborted, (1, 0));
}
