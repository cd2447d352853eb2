//! Behaviour found by trying the crate as a new user would (issue 12): each
//! of these once went wrong.

use std::time::{Duration, Instant};

use bedrock_converse::client::Quota;
use bedrock_converse::error::TimeoutKind;
use bedrock_converse::stream::{handler_fn, NoopHandler};
use bedrock_converse::{CancelToken, Conversation, Error, StreamEvent};
use bedrock_converse_mock::{Fault, MockServer, Reply};

use crate::common::{assert_timeout, request};

#[test]
fn a_cancelled_turn_does_not_poison_the_conversation() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(
        Reply::text("a long answer")
            .deltas(3)
            .fault(Fault::Stall { after: 1 }),
    );
    server.push(Reply::text("Second answer"));
    let mut chat = Conversation::new("amazon.nova-lite-v1:0");
    // The Cancel button holds this turn's token.
    let button = chat.cancel_token();
    let err = chat
        .send_with(
            &converser,
            "First question",
            &mut handler_fn(|_: &StreamEvent| button.cancel()),
        )
        .unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    assert!(
        chat.history().is_empty(),
        "the cancelled turn is rolled back"
    );
    // The next turn runs normally, with a fresh token, without rebuilding.
    let next = chat.cancel_token();
    assert!(!next.is_cancelled());
    assert_ne!(next, button);
    let reply = chat.send(&converser, "Second question").unwrap();
    assert_eq!(reply.text(), "Second answer");
    assert_eq!(chat.history().len(), 2);
    assert_eq!(server.request_count(), 2);
}

#[test]
fn error_messages_never_print_a_debug_dump() {
    let server = MockServer::start().unwrap();
    let converser = server.converser_builder().max_attempts(1).build().unwrap();
    let replies = [
        // A truncated body, and JSON of the wrong shape: protocol errors.
        Reply::raw(
            200,
            "application/json",
            br#"{"output": {"message": {"role": "assistant", "content": [{"te"#.to_vec(),
        ),
        Reply::raw(200, "application/json", br#"{"output": 5}"#.to_vec()),
        // A service error.
        Reply::error(400, "ValidationException", "bad input"),
    ];
    for reply in replies {
        server.push(reply);
        let err = converser.converse(&request()).unwrap_err();
        let text = err.to_string();
        for dump in [" { ", "Unhandled(", "DeserializeError", "Some(", "kind:"] {
            assert!(!text.contains(dump), "{dump:?} in the message: {text}");
        }
        assert!(text.len() < 300, "too long: {text}");
    }
    server.push(Reply::raw(
        200,
        "application/json",
        br#"{"output": {"message": {"role": "assistant", "content": [{"te"#.to_vec(),
    ));
    let text = converser.converse(&request()).unwrap_err().to_string();
    assert!(text.contains("unexpected end"), "{text}");
    // Nothing listens on a bound, never-listening port: a connect error.
    let (_reserved, port) = crate::common::refusing_port();
    let nowhere = bedrock_converse::Converser::builder()
        .region("us-east-1")
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials("AKIDTEST", "secret", None)
        .max_attempts(1)
        .build()
        .unwrap();
    let text = nowhere.converse(&request()).unwrap_err().to_string();
    assert!(!text.contains(" { "), "{text}");
}

#[test]
fn a_quota_makes_calls_wait_and_the_wait_honours_cancel_and_deadline() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .quota(Quota::new().requests_per_minute(1))
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    converser.converse(&request()).unwrap();
    // The minute's one request is spent: the next call waits, and a
    // deadline reached while waiting ends it with nothing sent.
    let started = Instant::now();
    let err = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap_err();
    assert_timeout(&err, TimeoutKind::Deadline);
    assert!(
        started.elapsed() >= Duration::from_millis(390),
        "{:?}",
        started.elapsed()
    );
    // A cancel while waiting ends it too.
    let token = CancelToken::new();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            token.cancel();
        })
    };
    let err = converser
        .converse(&request().cancel_token(token))
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled { partial: None }), "{err:?}");
    canceller.join().unwrap();
    assert_eq!(server.request_count(), 1, "a waiting call sent nothing");
    let stats = converser.limiter_stats().unwrap();
    assert_eq!(stats.calls, 1);
    assert_eq!(stats.waited_calls, 2);
    assert!(stats.total_wait >= Duration::from_millis(450), "{stats:?}");
}

#[test]
fn a_spawned_call_waits_for_the_quota_on_the_runtime_thread() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .max_attempts(1)
        .quota(Quota::new().requests_per_minute(1))
        .build()
        .unwrap();
    // The first call is throttled by the service: the limiter hears of it.
    server.push(Reply::throttling());
    let err = converser.spawn(&request()).unwrap().wait().unwrap_err();
    assert!(err.is_throttling(), "{err:?}");
    assert_eq!(converser.limiter_stats().unwrap().throttled, 1);
    // The minute's request is spent: spawn still returns at once, and the
    // call waits on the runtime thread until its handle cancels it.
    let started = Instant::now();
    let mut call = converser.spawn(&request()).unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "{:?}",
        started.elapsed()
    );
    assert!(
        call.wait_timeout(Duration::from_millis(200)).is_none(),
        "it did not wait"
    );
    call.cancel();
    let err = call.wait().unwrap_err();
    assert!(matches!(err, Error::Cancelled { partial: None }), "{err:?}");
    assert_eq!(server.request_count(), 1, "the waiting call sent nothing");
    assert_eq!(converser.limiter_stats().unwrap().calls, 1);
}
