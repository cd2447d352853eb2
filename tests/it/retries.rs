//! Retries: the SDK's standard policy (three attempts) for throttling and 5xx
//! errors before the first event, adaptive mode, `max_attempts`, a throttle
//! as a stream's first frame retried like a throttled request, and nothing
//! sent again once events reached the handler.

use crate::support::{fast_retries, request, Watch};
use bedrock_converse::client::RetryConfig;
use bedrock_converse::error::ServiceErrorKind;
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::StreamHandler;
use bedrock_converse_mock::{Fault, MockServer, Reply};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

#[test]
fn three_attempts_by_default_for_a_retryable_error() {
    let server = MockServer::start().unwrap();
    // No retry settings at all: the SDK's standard policy.
    let converser = server.converser().unwrap();
    for _ in 0..4 {
        server.push(Reply::error(503, "ServiceUnavailableException", "busy"));
    }
    let err = converser.converse(&request()).unwrap_err();
    assert_eq!(
        err.service_kind(),
        Some(ServiceErrorKind::ServiceUnavailable),
        "{err:?}"
    );
    assert_eq!(server.request_count(), 3);
}

/// Collects what reaches a handler.
#[derive(Default)]
struct Seen {
    events: usize,
    text: String,
}

impl StreamHandler for Seen {
    fn on_event(&mut self, event: &bedrock_converse::StreamEvent) -> ControlFlow<()> {
        self.events += 1;
        self.text.push_str(event.text().unwrap_or_default());
        ControlFlow::Continue(())
    }
}

fn throttle_after(events: usize) -> Fault {
    Fault::Exception {
        after: events,
        exception_type: "throttlingException".into(),
        message: "slow down".into(),
    }
}

/// A throttle that is a stream's very first frame, before any event: nothing
/// reached the handler, so the request is sent again under the retry policy,
/// as a throttled HTTP response would be, and the handler sees the retry's
/// reply only.
#[test]
fn a_throttle_as_the_first_frame_is_retried_like_a_throttled_request() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text("never").fault(throttle_after(0)));
    server.push(Reply::text("never either").fault(throttle_after(0)));
    server.push(Reply::text("third time lucky").deltas(3));
    let mut seen = Seen::default();
    let reply = converser.converse_with(&request(), &mut seen).unwrap();
    assert_eq!(reply.text(), "third time lucky");
    assert_eq!(seen.text, "third time lucky", "nothing delivered twice");
    assert_eq!(server.request_count(), 3);
    // The retry policy's attempts bound it, as for an HTTP 429.
    for _ in 0..3 {
        server.push(Reply::text("never").fault(throttle_after(0)));
    }
    let err = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap_err();
    assert_eq!(err.service_kind(), Some(ServiceErrorKind::Throttling));
    assert_eq!(server.request_count(), 6);
    // With retries off, it is the caller's.
    let once = server.converser_builder().max_attempts(1).build().unwrap();
    server.push(Reply::text("never").fault(throttle_after(0)));
    let err = once
        .converse_with(&request(), &mut NoopHandler)
        .unwrap_err();
    assert!(err.is_throttling() && err.is_retryable(), "{err:?}");
    assert_eq!(server.request_count(), 7);
}

/// A stream that has delivered anything is never sent again: the handler
/// has seen it, and a re-send would repeat it.
#[test]
fn a_throttle_after_the_first_event_is_never_re_sent() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text("abcd").deltas(2).fault(throttle_after(2)));
    server.push(Reply::text("a retry would see this"));
    let mut seen = Seen::default();
    let err = converser.converse_with(&request(), &mut seen).unwrap_err();
    assert!(err.is_throttling(), "{err:?}");
    assert_eq!(seen.events, 2, "messageStart and the first delta");
    assert_eq!(seen.text, "ab");
    assert_eq!(err.partial_response().unwrap().text(), "ab");
    assert!(
        err.is_retryable(),
        "the caller may retry; the library did not"
    );
    assert_eq!(server.request_count(), 1);
}

#[test]
fn throttled_twice_then_success_is_a_success_after_three_requests() {
    for streaming in [false, true] {
        let server = MockServer::start().unwrap();
        let converser = fast_retries(&server, 3);
        server.push(Reply::throttling());
        server.push(Reply::throttling());
        server.push(Reply::text("finally"));
        let r = if streaming {
            converser.converse_with(&request(), &mut NoopHandler)
        } else {
            converser.converse(&request())
        };
        assert_eq!(r.unwrap().text(), "finally");
        assert_eq!(server.request_count(), 3, "streaming={streaming}");
    }
}

#[test]
fn adaptive_retry_mode_retries_throttling_too() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        // The SDK keeps adaptive mode's rate limiter in a process-wide map
        // keyed by region: a region of its own keeps this test's throttling
        // away from every other test's client.
        .region("us-adaptive-1")
        .retry_config(
            RetryConfig::adaptive()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    server.push(Reply::throttling());
    server.push(Reply::throttling());
    server.push(Reply::text("adaptive"));
    let r = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap();
    assert_eq!(r.text(), "adaptive");
    assert_eq!(server.request_count(), 3);
}

/// The one thing only adaptive mode does: after a throttling answer, its
/// client-side rate limiter turns on: an empty token bucket refilled at 0.7
/// times the measured request rate (at least 0.5, and at most 1.19 tokens a
/// second for a client that has sent one request), so the next call waits
/// 0.84 to 2 s for its token before it is sent. Standard mode sends at once.
#[test]
fn adaptive_mode_slows_the_next_call_after_throttling_and_standard_does_not() {
    // (mode, region of its own for the SDK's process-wide limiter map)
    let modes = [
        ("standard", RetryConfig::standard(), "us-standard-2"),
        ("adaptive", RetryConfig::adaptive(), "us-adaptive-2"),
    ];
    for (name, config, region) in modes {
        let server = MockServer::start().unwrap();
        let converser = server
            .converser_builder()
            .region(region)
            .retry_config(config.with_max_attempts(1))
            .build()
            .unwrap();
        server.push(Reply::throttling());
        let err = converser.converse(&request()).unwrap_err();
        assert!(err.is_throttling(), "{name}: {err:?}");
        server.push(Reply::text("next"));
        let started = Instant::now();
        let r = converser.converse(&request()).unwrap();
        let took = started.elapsed();
        assert_eq!(r.text(), "next");
        assert_eq!(server.request_count(), 2, "{name}");
        if name == "adaptive" {
            assert!(
                took >= Duration::from_millis(500),
                "{name}: next call took {took:?}"
            );
        } else {
            assert!(
                took < Duration::from_millis(500),
                "{name}: next call took {took:?}"
            );
        }
    }
}

#[test]
fn max_attempts_one_disables_retries() {
    let server = MockServer::start().unwrap();
    let converser = server.converser_builder().max_attempts(1).build().unwrap();
    server.push(Reply::throttling());
    server.push(Reply::text("never reached"));
    assert!(converser.converse(&request()).unwrap_err().is_throttling());
    assert_eq!(server.request_count(), 1);
}

#[test]
fn server_errors_before_the_first_event_are_retried() {
    let server = MockServer::start().unwrap();
    let converser = fast_retries(&server, 3);
    server.push(Reply::error(500, "InternalServerException", "oops"));
    server.push(Reply::error(503, "ServiceUnavailableException", "busy"));
    server.push(Reply::text("ok"));
    let r = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap();
    assert_eq!(r.text(), "ok");
    assert_eq!(server.request_count(), 3);
}

#[test]
fn retries_stop_at_max_attempts_and_validation_is_never_retried() {
    let server = MockServer::start().unwrap();
    let converser = fast_retries(&server, 2);
    for _ in 0..3 {
        server.push(Reply::throttling());
    }
    let err = converser.converse(&request()).unwrap_err();
    assert!(err.is_throttling());
    assert_eq!(server.request_count(), 2);

    let server = MockServer::start().unwrap();
    let converser = fast_retries(&server, 3);
    server.push(Reply::error(400, "ValidationException", "bad"));
    let err = converser.converse(&request()).unwrap_err();
    assert_eq!(err.service_kind(), Some(ServiceErrorKind::Validation));
    assert_eq!(server.request_count(), 1);
}

#[test]
fn nothing_is_retried_once_events_reached_the_handler() {
    let server = MockServer::start().unwrap();
    let converser = fast_retries(&server, 5);
    server.push(Reply::text("abcdef").deltas(3).fault(Fault::Exception {
        after: 2,
        exception_type: "throttlingException".into(),
        message: "slow down".into(),
    }));
    let mut watch = Watch::default();
    let err = converser.converse_with(&request(), &mut watch).unwrap_err();
    assert!(err.is_throttling(), "{err:?}");
    assert!(
        err.is_retryable(),
        "the caller may retry; the library must not"
    );
    assert_eq!(server.request_count(), 1, "no automatic retry mid-stream");
    assert_eq!(watch.deltas, 1, "no duplicated deltas");
    assert_eq!(watch.text, "ab");
}
