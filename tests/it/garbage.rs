//! Garbled answers: whatever the server sends, the caller gets a typed result
//! (never a panic, never a hang).

use std::time::{Duration, Instant};

use bedrock_converse::stream::NoopHandler;
use bedrock_converse::{ConverseRequest, Converser, Error};
use bedrock_converse_mock::{event_frame, MockServer, Reply};
use proptest::prelude::*;

const EVENTSTREAM: &str = "application/vnd.amazon.eventstream";

fn setup() -> (MockServer, Converser) {
    let server = MockServer::start().unwrap();
    server.set_recording(false);
    let converser = server
        .converser_builder()
        .max_attempts(1)
        .idle_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    (server, converser)
}

fn request() -> ConverseRequest {
    ConverseRequest::new("amazon.nova-lite-v1:0").user("hello")
}

fn frames(parts: &[(&str, &str)]) -> Vec<u8> {
    parts
        .iter()
        .flat_map(|(t, p)| event_frame(t, p.as_bytes()))
        .collect()
}

#[test]
fn whole_reply_garbage_is_a_protocol_error() {
    let (server, converser) = setup();
    let cases: Vec<(u16, &str, Vec<u8>)> = vec![
        (
            200,
            "application/json",
            b"\x00\xff not json at all".to_vec(),
        ),
        (
            200,
            "application/json",
            br#"{"output": 5, "stopReason": []}"#.to_vec(),
        ),
        (
            200,
            "application/json",
            br#"{"stopReason":"end_turn"}"#.to_vec(),
        ),
        (200, "text/html", b"<html>proxy error</html>".to_vec()),
        (200, "application/json", b"".to_vec()),
    ];
    for (status, ct, body) in cases {
        server.push(Reply::raw(status, ct, body.clone()));
        let err = converser.converse(&request()).unwrap_err();
        assert!(
            matches!(err, Error::Protocol { .. }),
            "{}: {err:?}",
            String::from_utf8_lossy(&body)
        );
        assert!(!err.is_retryable());
    }
}

#[test]
fn error_statuses_with_garbage_bodies_are_service_errors() {
    let (server, converser) = setup();
    server.push(Reply::raw(
        500,
        "text/plain",
        b"Internal Server Error".to_vec(),
    ));
    let err = converser.converse(&request()).unwrap_err();
    let svc = err.as_service().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(svc.status, Some(500));
}

#[test]
fn stream_garbage_is_a_typed_error() {
    let (server, converser) = setup();
    let start = r#"{"role":"assistant"}"#;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "random bytes",
            b"\x13\x37 this is not an event stream \x00\x00".to_vec(),
        ),
        (
            "delta with the wrong JSON shape",
            frames(&[
                ("messageStart", start),
                (
                    "contentBlockDelta",
                    r#"{"contentBlockIndex":"x","delta":7}"#,
                ),
            ]),
        ),
        (
            "payload that is not JSON",
            frames(&[("messageStart", start), ("messageStop", "stop!")]),
        ),
        (
            "stream that ends before messageStop",
            frames(&[
                ("messageStart", start),
                (
                    "contentBlockDelta",
                    r#"{"contentBlockIndex":0,"delta":{"text":"hi"}}"#,
                ),
            ]),
        ),
        ("a frame claiming to be 16 MiB", {
            let mut f = vec![0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0];
            f.extend_from_slice(&[0u8; 64]);
            f
        }),
    ];
    for (what, body) in cases {
        server.push(Reply::raw(200, EVENTSTREAM, body));
        let started = Instant::now();
        let err = converser
            .converse_with(&request(), &mut NoopHandler)
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "{what} hung");
        assert!(
            matches!(
                err,
                Error::Protocol { .. } | Error::Transport { .. } | Error::Service(_)
            ),
            "{what}: {err:?}"
        );
    }
    // Unknown event types are skipped, not fatal.
    server.push(Reply::raw(
        200,
        EVENTSTREAM,
        frames(&[
            ("messageStart", start),
            ("someFutureEvent", r#"{"x":1}"#),
            (
                "contentBlockDelta",
                r#"{"contentBlockIndex":0,"delta":{"text":"ok"}}"#,
            ),
            ("messageStop", r#"{"stopReason":"end_turn"}"#),
        ]),
    ));
    let r = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap();
    assert_eq!(r.text(), "ok");
}

#[test]
fn wrong_content_type_for_a_stream_is_a_typed_error() {
    let (server, converser) = setup();
    server.push(Reply::raw(
        200,
        "application/json",
        br#"{"message":"hi"}"#.to_vec(),
    ));
    let err = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap_err();
    assert!(
        matches!(err, Error::Protocol { .. } | Error::Transport { .. }),
        "{err:?}"
    );
}

#[test]
fn a_tool_call_with_malformed_input_keeps_the_rest_of_the_reply() {
    let (server, converser) = setup();
    server.push(Reply::raw(
        200,
        EVENTSTREAM,
        frames(&[
            ("messageStart", r#"{"role":"assistant"}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"text":"Let me check."}}"#),
            ("contentBlockStart", r#"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tu-9","name":"weather"}}}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\": \"Par"}}}"#),
            ("messageStop", r#"{"stopReason":"tool_use"}"#),
        ]),
    ));
    let err = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap_err();
    assert!(err.to_string().contains("tu-9"), "{err}");
    let partial = err.partial_response().expect("the rest of the reply");
    assert_eq!(partial.text(), "Let me check.");
    assert_eq!(partial.content().len(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random bytes as an event stream: always a typed result, never a panic
    /// or a hang.
    #[test]
    fn random_stream_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..600)) {
        let (server, converser) = setup();
        server.push(Reply::raw(200, EVENTSTREAM, body));
        let started = Instant::now();
        let _ = converser.converse_with(&request(), &mut NoopHandler);
        prop_assert!(started.elapsed() < Duration::from_secs(6));
    }

    /// A valid stream with bytes flipped: typed result, and whatever succeeds
    /// is well-formed.
    #[test]
    fn corrupted_valid_streams_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut body = frames(&[
            ("messageStart", r#"{"role":"assistant"}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":0,"delta":{"text":"hello"}}"#),
            ("contentBlockStart", r#"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"t","name":"n"}}}"#),
            ("contentBlockDelta", r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{}"}}}"#),
            ("messageStop", r#"{"stopReason":"end_turn"}"#),
            ("metadata", r#"{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3},"metrics":{"latencyMs":4}}"#),
        ]);
        for (pos, x) in flips {
            let n = body.len();
            body[pos % n] ^= x | 1;
        }
        let (server, converser) = setup();
        server.push(Reply::raw(200, EVENTSTREAM, body));
        let result = converser.converse_with(&request(), &mut NoopHandler);
        if let Ok(r) = result {
            prop_assert!(r.stop_reason.is_some());
        }
    }
}
