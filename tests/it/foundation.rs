//! The foundation: the real SDK client, built by `Converser`, against the
//! bundled wire-faithful local server.

use crate::common::assert_timeout;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bedrock_converse::error::{ServiceErrorKind, TimeoutKind};
use bedrock_converse::model::{Metrics, Role, StopReason, Usage};
use bedrock_converse::stream::{BlockStart, Metadata, NoopHandler, Stop};
use bedrock_converse::types::ContentBlock;
use bedrock_converse::{ConverseRequest, Converser, Delta, Error, Flow, Message, StreamHandler};
use bedrock_converse_mock::{Fault, MockServer, Operation, Reply};
use serde_json::json;

const MODEL: &str = "anthropic.claude-3-sonnet-20240229-v1:0";

fn setup() -> (MockServer, Converser) {
    let server = MockServer::start().expect("mock server starts");
    let converser = server.converser().expect("converser builds");
    (server, converser)
}

fn request() -> ConverseRequest {
    ConverseRequest::new(MODEL).user("Create a list of 3 pop songs.")
}

/// Records every callback, in order, as text.
#[derive(Default)]
struct Recorder {
    events: Vec<String>,
    stop_after_deltas: Option<usize>,
    deltas: usize,
}

impl StreamHandler for Recorder {
    fn on_message_start(&mut self, role: &Role) -> Flow {
        self.events.push(format!("start:{}", role.as_str()));
        Flow::Continue
    }
    fn on_block_start(&mut self, index: u32, start: &BlockStart) -> Flow {
        self.events.push(format!("block_start:{index}:{start:?}"));
        Flow::Continue
    }
    fn on_delta(&mut self, index: u32, delta: &Delta) -> Flow {
        self.events
            .push(format!("delta:{index}:{}", delta.text().unwrap_or("?")));
        self.deltas += 1;
        match self.stop_after_deltas {
            Some(n) if self.deltas >= n => Flow::Stop,
            _ => Flow::Continue,
        }
    }
    fn on_block_stop(&mut self, index: u32) -> Flow {
        self.events.push(format!("block_stop:{index}"));
        Flow::Continue
    }
    fn on_stop(&mut self, stop: &Stop) -> Flow {
        self.events.push(format!("stop:{}", stop.reason.as_str()));
        Flow::Continue
    }
    fn on_metadata(&mut self, m: &Metadata) -> Flow {
        let u = m.usage.expect("usage");
        self.events.push(format!(
            "metadata:{}/{}/{}:{}ms",
            u.input_tokens,
            u.output_tokens,
            u.total_tokens,
            m.metrics.expect("metrics").latency_ms
        ));
        Flow::Continue
    }
}

#[test]
fn converse_returns_the_whole_reply() {
    let (server, converser) = setup();
    server.push(
        Reply::text("1. Shake It Off - Taylor Swift")
            .usage(25, 9)
            .latency_ms(321)
            .request_id("req-1"),
    );
    let r = converser.converse(&request()).unwrap();
    assert_eq!(r.text(), "1. Shake It Off - Taylor Swift");
    assert_eq!(r.message.role, Role::Assistant);
    assert_eq!(r.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(r.usage, Some(Usage::new(25, 9, 34)));
    assert_eq!(r.metrics, Some(Metrics::new(321)));
    assert_eq!(r.request_id.as_deref(), Some("req-1"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].operation, Some(Operation::Converse));
}

#[test]
fn stream_calls_every_callback_in_wire_order() {
    let (server, converser) = setup();
    server.push(Reply::text("abcdef").deltas(3).usage(7, 3).latency_ms(42));
    let mut rec = Recorder::default();
    let r = converser.converse_with(&request(), &mut rec).unwrap();
    assert_eq!(
        rec.events,
        vec![
            "start:assistant",
            "delta:0:ab",
            "delta:0:cd",
            "delta:0:ef",
            "block_stop:0",
            "stop:end_turn",
            "metadata:7/3/10:42ms",
        ]
    );
    assert_eq!(r.text(), "abcdef");
    assert_eq!(
        server.requests()[0].operation,
        Some(Operation::ConverseStream)
    );
}

#[test]
fn streamed_response_equals_whole_response() {
    let (server, converser) = setup();
    let scripts = [
        Reply::text("The quick brown fox jumps over the lazy dog").deltas(7),
        Reply::text("cut short")
            .stop_reason("max_tokens")
            .usage(3, 2),
        Reply::text("fields")
            .additional_model_response_fields(json!({"stop_sequence": "\n\nHuman:", "n": 3})),
        Reply::text("ünïcödé ✓ text").deltas(5).latency_ms(9),
        Reply::empty()
            .with_text("two")
            .with_text(" blocks")
            .deltas(2)
            .stop_reason("stop_sequence"),
        Reply::text("odd").stop_reason("some_future_reason"),
    ];
    for (i, script) in scripts.into_iter().enumerate() {
        let id = format!("same-{i}");
        server.push(script.clone().request_id(&id));
        server.push(script.request_id(&id));
        let whole = converser.converse(&request()).unwrap();
        let streamed = converser
            .converse_with(&request(), &mut NoopHandler)
            .unwrap();
        assert_eq!(streamed, whole, "script {i}");
        assert_eq!(whole.request_id.as_deref(), Some(id.as_str()));
    }
}

#[test]
fn unknown_stop_reason_is_kept_as_its_string() {
    let (server, converser) = setup();
    server.push(Reply::text("x").stop_reason("some_future_reason"));
    let r = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap();
    assert_eq!(r.stop_reason.unwrap().as_str(), "some_future_reason");
}

#[test]
fn every_parameter_arrives_as_sent() {
    let (server, converser) = setup();
    let req = ConverseRequest::new(MODEL)
        .system("You are an app that creates playlists.")
        .system("Only return song names and the artist.")
        .user("Create a list of 3 pop songs.")
        .assistant("Which decade?")
        .user("The 80s.")
        .max_tokens(512)
        .temperature(0.5)
        .top_p(0.9)
        .stop_sequence("END")
        .additional_model_request_fields(json!({
            "top_k": 200, "neg": -7, "ratio": 0.25, "big": 9007199254740993u64,
            "nested": {"list": [1, "two", null, true]}
        }));
    for streaming in [false, true] {
        if streaming {
            converser.converse_with(&req, &mut NoopHandler).unwrap();
        } else {
            converser.converse(&req).unwrap();
        }
        let got = server.requests().pop().unwrap();
        assert_eq!(got.method, "POST");
        assert_eq!(got.model_id, MODEL);
        assert_eq!(
            got.path,
            format!(
                "/model/anthropic.claude-3-sonnet-20240229-v1%3A0/{}",
                if streaming {
                    "converse-stream"
                } else {
                    "converse"
                }
            )
        );
        assert!(got
            .header("authorization")
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256 Credential=AKIDMOCKEXAMPLE/"));
        let b = &got.body;
        assert_eq!(
            b["system"],
            json!([{"text": "You are an app that creates playlists."},
                   {"text": "Only return song names and the artist."}])
        );
        assert_eq!(
            b["messages"],
            json!([
                {"role": "user", "content": [{"text": "Create a list of 3 pop songs."}]},
                {"role": "assistant", "content": [{"text": "Which decade?"}]},
                {"role": "user", "content": [{"text": "The 80s."}]},
            ])
        );
        assert_eq!(b["inferenceConfig"]["maxTokens"], json!(512));
        assert_eq!(b["inferenceConfig"]["temperature"], json!(0.5));
        assert!((b["inferenceConfig"]["topP"].as_f64().unwrap() - 0.9).abs() < 1e-6);
        assert_eq!(b["inferenceConfig"]["stopSequences"], json!(["END"]));
        assert_eq!(
            b["additionalModelRequestFields"],
            json!({"top_k": 200, "neg": -7, "ratio": 0.25, "big": 9007199254740993u64,
                   "nested": {"list": [1, "two", null, true]}})
        );
        // Integers go out as integers, not floats.
        assert_eq!(
            b["additionalModelRequestFields"]["top_k"].as_u64(),
            Some(200)
        );
    }
}

#[test]
fn minimal_request_sends_no_optional_sections() {
    let (server, converser) = setup();
    converser.converse(&request()).unwrap();
    let body = &server.requests()[0].body;
    for key in ["system", "inferenceConfig", "additionalModelRequestFields"] {
        assert!(body.get(key).is_none(), "{key} should be absent: {body}");
    }
}

#[test]
fn invalid_requests_fail_fast_and_send_nothing() {
    let (server, converser) = setup();
    let cases: Vec<(ConverseRequest, &str)> = vec![
        (ConverseRequest::new(MODEL), "messages"),
        (ConverseRequest::new("").user("hi"), "model_id"),
        (
            ConverseRequest::new(MODEL).assistant("hi"),
            "messages[0].role",
        ),
        (request().temperature(1.5), "temperature"),
        (request().temperature(-0.5), "temperature"),
        (request().max_tokens(0), "max_tokens"),
        (request().top_p(1.5), "top_p"),
        (
            request().additional_model_request_fields(json!("x")),
            "additional_model_request_fields",
        ),
    ];
    for (req, field) in cases {
        for streaming in [false, true] {
            let err = if streaming {
                converser.converse_with(&req, &mut NoopHandler).unwrap_err()
            } else {
                converser.converse(&req).unwrap_err()
            };
            match &err {
                Error::InvalidRequest { field: f, .. } => assert_eq!(f, field),
                other => panic!("expected InvalidRequest for {field}, got {other:?}"),
            }
            assert!(err.to_string().contains(field), "{err}");
            assert!(!err.is_retryable());
        }
    }
    assert_eq!(server.request_count(), 0, "nothing may reach the server");
}

fn no_retry(server: &MockServer) -> Converser {
    server.converser_builder().max_attempts(1).build().unwrap()
}

#[test]
fn http_errors_map_to_their_kind_with_message_and_request_id() {
    let server = MockServer::start().unwrap();
    let converser = no_retry(&server);
    let cases = [
        (
            400,
            "ValidationException",
            ServiceErrorKind::Validation,
            false,
        ),
        (
            429,
            "ThrottlingException",
            ServiceErrorKind::Throttling,
            true,
        ),
        (
            500,
            "InternalServerException",
            ServiceErrorKind::InternalServer,
            true,
        ),
        (
            403,
            "AccessDeniedException",
            ServiceErrorKind::AccessDenied,
            false,
        ),
        (
            404,
            "ResourceNotFoundException",
            ServiceErrorKind::ResourceNotFound,
            false,
        ),
        (
            424,
            "ModelErrorException",
            ServiceErrorKind::ModelError,
            false,
        ),
        (
            429,
            "ModelNotReadyException",
            ServiceErrorKind::ModelNotReady,
            true,
        ),
        (
            408,
            "ModelTimeoutException",
            ServiceErrorKind::ModelTimeout,
            true,
        ),
        (
            503,
            "ServiceUnavailableException",
            ServiceErrorKind::ServiceUnavailable,
            true,
        ),
        (
            400,
            "ServiceQuotaExceededException",
            ServiceErrorKind::ServiceQuotaExceeded,
            false,
        ),
        (
            403,
            "UnrecognizedClientException",
            ServiceErrorKind::Other,
            false,
        ),
        // The real service may suffix the error type with a namespace URL.
        (
            404,
            "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            ServiceErrorKind::ResourceNotFound,
            false,
        ),
    ];
    for (status, error_type, kind, retryable) in cases {
        for streaming in [false, true] {
            let msg = format!("message for {error_type}");
            server.push(Reply::error(status, error_type, &msg).request_id("err-req"));
            let err = if streaming {
                converser
                    .converse_with(&request(), &mut NoopHandler)
                    .unwrap_err()
            } else {
                converser.converse(&request()).unwrap_err()
            };
            let svc = err
                .as_service()
                .unwrap_or_else(|| panic!("{error_type}: {err:?}"));
            assert_eq!(svc.kind, kind, "{error_type}");
            assert_eq!(svc.message, msg);
            assert_eq!(svc.status, Some(status));
            assert_eq!(svc.request_id.as_deref(), Some("err-req"));
            assert_eq!(err.request_id(), Some("err-req"));
            assert_eq!(err.is_retryable(), retryable, "{error_type}");
            assert_eq!(err.is_throttling(), kind == ServiceErrorKind::Throttling);
            assert!(err.to_string().contains(&msg), "{err}");
        }
    }
}

#[test]
fn mid_stream_exception_keeps_what_arrived() {
    let (server, converser) = setup();
    // messageStart + 2 deltas, then the exception.
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .request_id("mid-1")
            .fault(Fault::Exception {
                after: 3,
                exception_type: "modelStreamErrorException".into(),
                message: "the model broke".into(),
            }),
    );
    let mut rec = Recorder::default();
    let err = converser.converse_with(&request(), &mut rec).unwrap_err();
    assert_eq!(
        err.service_kind(),
        Some(ServiceErrorKind::ModelStreamError),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.as_service().unwrap().message, "the model broke");
    let partial = err.partial_response().expect("partial response");
    assert_eq!(partial.text(), "abcd");
    assert_eq!(partial.stop_reason, None);
    assert_eq!(partial.request_id.as_deref(), Some("mid-1"));
    assert!(!rec.events.iter().any(|e| e.starts_with("stop:")));
    // The converser is fine afterwards.
    assert_eq!(
        converser.converse(&request()).unwrap().text(),
        "You said: Create a list of 3 pop songs."
    );
}

#[test]
fn handler_can_stop_the_stream() {
    let (server, converser) = setup();
    server.push(Reply::text("one two three four").deltas(4));
    let mut rec = Recorder {
        stop_after_deltas: Some(2),
        ..Default::default()
    };
    let err = converser.converse_with(&request(), &mut rec).unwrap_err();
    let Error::Stopped { partial } = &err else {
        panic!("expected Stopped, got {err:?}")
    };
    let seen: String = rec
        .events
        .iter()
        .filter_map(|e| e.strip_prefix("delta:0:"))
        .collect();
    assert_eq!(rec.deltas, 2);
    assert_eq!(
        partial.text(),
        seen,
        "the partial holds exactly what the handler saw"
    );
    assert!(partial.text().starts_with("one "));
    assert!(!err.is_retryable());
}

#[test]
fn idle_timeout_fires_on_a_stalled_stream() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .fault(Fault::Stall { after: 2 }),
    );
    let started = Instant::now();
    let err = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap_err();
    assert_timeout(&err, TimeoutKind::Idle);
    assert!(err.is_timeout());
    assert_eq!(err.partial_response().unwrap().text(), "ab");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The abandoned stream is closed: the server sees the client go away.
    assert_eq!(
        server.wait_for_aborted_streams(1, Duration::from_secs(5)),
        1
    );
}

#[test]
fn total_deadline_fires_even_while_events_flow() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .timeout(Duration::from_secs(1))
        .idle_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    // The server's script: a delta every 50 ms for 3 s. The first comes long
    // before the 1 s deadline and the last long after it, even on a loaded
    // machine, yet the stream is never silent for more than 50 ms.
    let full = "x".repeat(60);
    server.push(
        Reply::text(full.clone())
            .deltas(60)
            .frame_delay(Duration::from_millis(50)),
    );
    let started = Instant::now();
    let err = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap_err();
    let took = started.elapsed();
    assert_timeout(&err, TimeoutKind::Deadline);
    assert!(took >= Duration::from_millis(995), "fired early: {took:?}");
    let partial = err.partial_response().unwrap().text();
    assert!(
        !partial.is_empty() && partial.len() < full.len(),
        "{partial:?}"
    );
}

#[test]
fn eight_threads_share_one_converser() {
    let (server, converser) = setup();
    server.set_default(Reply::echo("echo:").deltas(3));
    let converser = Arc::new(converser);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let c = converser.clone();
            std::thread::spawn(move || {
                for i in 0..20 {
                    let nonce = format!("thread {t} call {i}");
                    let req = ConverseRequest::new(MODEL).user(nonce.clone());
                    let r = if i % 2 == 0 {
                        c.converse(&req).unwrap()
                    } else {
                        c.converse_with(&req, &mut NoopHandler).unwrap()
                    };
                    assert_eq!(r.text(), format!("echo:{nonce}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(server.request_count(), 160);
}

#[test]
fn clones_share_the_runtime_and_survive_each_other() {
    let (_server, converser) = setup();
    let clone = converser.clone();
    drop(converser);
    assert!(clone.converse(&request()).is_ok());
}

#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_current_thread_tokio_runtime() {
    let (_server, converser) = setup();
    let r = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap();
    assert_eq!(r.text(), "You said: Create a list of 3 pop songs.");
    assert!(converser.converse(&request()).is_ok());
    drop(converser); // dropping inside an async context must not panic
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_tokio_runtime() {
    let (_server, converser) = setup();
    let r = converser.converse(&request()).unwrap();
    assert_eq!(r.text(), "You said: Create a list of 3 pop songs.");
    drop(converser);
}

#[test]
fn dropping_with_a_stream_in_flight_returns_promptly_and_closes_it() {
    let (server, converser) = setup();
    // Two events, then the server keeps the stream open forever.
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .fault(Fault::Stall { after: 2 }),
    );
    // A spawned call is the one thing that can outlive the `Converser` clone
    // that started it: its handle shares the runtime, so the runtime's last
    // owner goes away only when both are dropped.
    let call = converser.spawn(&request()).unwrap();
    let first = call
        .events()
        .recv_timeout(Duration::from_secs(5))
        .expect("the stream has started");
    assert!(
        matches!(first, bedrock_converse::StreamEvent::MessageStart { .. }),
        "{first:?}"
    );
    drop(converser);
    // Still in flight: dropping a `Converser` with a handle alive stops nothing.
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        !call.is_finished(),
        "the call ended when the Converser dropped"
    );
    assert_eq!(server.stream_stats().aborted, 0);
    // Now the last owner of the runtime goes, with the stream still stalled.
    let started = Instant::now();
    drop(call);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "drop took {:?}",
        started.elapsed()
    );
    assert_eq!(
        server.wait_for_aborted_streams(1, Duration::from_secs(5)),
        1,
        "the server saw the stream closed"
    );
}

#[test]
fn dropping_a_clone_while_another_thread_streams_does_not_disturb_it() {
    let (server, converser) = setup();
    server.push(
        Reply::text("slow but sure")
            .deltas(5)
            .frame_delay(Duration::from_millis(30)),
    );
    let c = converser.clone();
    let worker = std::thread::spawn(move || c.converse_with(&request(), &mut NoopHandler));
    std::thread::sleep(Duration::from_millis(50));
    drop(converser);
    assert_eq!(worker.join().unwrap().unwrap().text(), "slow but sure");
}

#[test]
fn connection_refused_is_a_retryable_connect_error() {
    let (_reserved, port) = crate::common::refusing_port();
    let converser = Converser::builder()
        .region("us-east-1")
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials("AKID", "secret", None)
        .max_attempts(1)
        .build()
        .unwrap();
    let err = converser.converse(&request()).unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(err.is_retryable());
}

#[test]
fn reply_content_blocks_are_the_sdk_types() {
    let (server, converser) = setup();
    server.push(Reply::text("hi"));
    let r = converser.converse(&request()).unwrap();
    assert_eq!(r.content(), &[ContentBlock::Text("hi".into())]);
    assert_eq!(r.message, Message::assistant("hi"));
}
