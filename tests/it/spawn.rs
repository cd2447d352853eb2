//! Non-blocking calls (`Converser::spawn`), owned events and ready-made
//! handlers, against the bundled local server.

use crate::support::{assert_prompt_cancel, assert_timeout, request, scripts};
use std::ops::ControlFlow;

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use bedrock_converse::error::TimeoutKind;
use bedrock_converse::stream::{handler_fn, PrintHandler};
use bedrock_converse::{CancelToken, ConverseRequest, Error, StreamEvent};
use bedrock_converse_mock::{Fault, MockServer, Reply};

#[test]
fn handle_events_equal_the_callbacks_and_wait_equals_converse_with() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    for (i, script) in scripts().into_iter().enumerate() {
        let id = format!("spawn-{i}");
        server.push(script.clone().request_id(&id));
        server.push(script.request_id(&id));
        let mut via_callbacks = Vec::new();
        let blocking = converser
            .converse_with(
                &request(),
                &mut handler_fn(|e: &StreamEvent| via_callbacks.push(e.clone())),
            )
            .unwrap();
        let call = converser.spawn(&request()).unwrap();
        let events_rx = call.events().clone();
        let spawned = call.wait().unwrap();
        let via_handle: Vec<StreamEvent> = events_rx.try_iter().collect();
        assert_eq!(via_handle, via_callbacks, "script {i}");
        assert!(via_handle.len() >= 4, "script {i}");
        assert_eq!(spawned, blocking, "script {i}");
    }
}

/// The latency measured is from the cancel to the call's end (its events
/// channel closing, waited on by this thread while another one cancels),
/// the best of a few tries ([`assert_prompt_cancel`]).
#[test]
fn cancel_from_another_thread_is_prompt_and_keeps_the_partial() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let mut aborted = 0;
    assert_prompt_cancel("spawn", || {
        server.push(
            Reply::text("abcdef")
                .deltas(3)
                .fault(Fault::Stall { after: 3 }),
        );
        let mut call = converser.spawn(&request()).unwrap();
        // Wait for the two deltas that will arrive before the stall.
        let mut text = String::new();
        while text.len() < 4 {
            let e = call.events().recv_timeout(Duration::from_secs(5)).unwrap();
            text.push_str(e.text().unwrap_or_default());
        }
        let call_ref = &call;
        let (cancelled_at, ended_at) = std::thread::scope(|s| {
            let canceller = s.spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                let at = Instant::now();
                call_ref.cancel();
                at
            });
            // The events channel closes when the call ends: this thread
            // waits on it, as a caller waiting for the call does.
            let closed = call_ref.events().recv_timeout(Duration::from_secs(5));
            let ended_at = Instant::now();
            assert!(closed.is_err(), "no event after the stall: {closed:?}");
            (canceller.join().unwrap(), ended_at)
        });
        let result = call.wait_timeout(Duration::from_secs(5)).expect("ended");
        let err = result.as_ref().unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert_eq!(err.partial_response().unwrap().text(), "abcd");
        aborted += 1;
        assert_eq!(
            server.wait_for_aborted_streams(aborted, Duration::from_secs(5)),
            aborted,
            "the server saw the connection close"
        );
        ended_at.saturating_duration_since(cancelled_at)
    });
}

#[test]
fn the_request_cancel_token_also_cancels_a_spawned_call() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .fault(Fault::Stall { after: 2 }),
    );
    let token = CancelToken::new();
    let call = converser
        .spawn(&request().cancel_token(token.clone()))
        .unwrap();
    call.events().recv_timeout(Duration::from_secs(5)).unwrap();
    token.cancel();
    let err = call.wait().unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
}

#[test]
fn the_waker_wakes_a_loop_that_never_polls_and_never_runs_after_wait() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(
        Reply::text("one two three four five six")
            .deltas(6)
            .frame_delay(Duration::from_millis(5)),
    );
    let (wake_tx, wake_rx) = mpsc::channel::<()>();
    let returned = Arc::new(AtomicBool::new(false));
    let late_wakes = Arc::new(AtomicUsize::new(0));
    let wakes = Arc::new(AtomicUsize::new(0));
    let mut call = {
        let (returned, late_wakes, wakes) = (returned.clone(), late_wakes.clone(), wakes.clone());
        converser
            .spawn_with_waker(&request(), move || {
                wakes.fetch_add(1, Ordering::SeqCst);
                if returned.load(Ordering::SeqCst) {
                    late_wakes.fetch_add(1, Ordering::SeqCst);
                }
                let _ = wake_tx.send(());
            })
            .unwrap()
    };
    // A UI loop that only looks when woken: it must still see everything.
    let mut text = String::new();
    let mut events = 0;
    loop {
        wake_rx.recv_timeout(Duration::from_secs(5)).expect("woken");
        for e in call.events().try_iter() {
            events += 1;
            text.push_str(e.text().unwrap_or_default());
        }
        if call.try_wait().is_some() {
            break;
        }
    }
    returned.store(true, Ordering::SeqCst);
    for e in call.events().try_iter() {
        events += 1;
        text.push_str(e.text().unwrap_or_default());
    }
    assert_eq!(text, "one two three four five six");
    assert!(wakes.load(Ordering::SeqCst) >= 2);
    let response = call.wait().unwrap();
    assert_eq!(response.text(), text);
    assert!(events >= 9);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        late_wakes.load(Ordering::SeqCst),
        0,
        "waker called after wait returned"
    );
}

#[test]
fn dropping_a_handle_mid_stream_cancels_it_and_the_converser_stays_usable() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .fault(Fault::Stall { after: 2 }),
    );
    let call = converser.spawn(&request()).unwrap();
    call.events().recv_timeout(Duration::from_secs(5)).unwrap();
    drop(call);
    assert_eq!(
        server.wait_for_aborted_streams(1, Duration::from_secs(5)),
        1
    );
    assert_eq!(
        converser.spawn(&request()).unwrap().wait().unwrap().text(),
        "You said: hello"
    );
}

#[test]
fn sixty_four_handles_in_flight_all_complete_with_their_own_replies() {
    let server = MockServer::start().unwrap();
    server.set_default(
        Reply::echo("echo:")
            .deltas(3)
            .frame_delay(Duration::from_millis(2)),
    );
    let converser = server.converser().unwrap();
    let calls: Vec<_> = (0..64)
        .map(|i| {
            let nonce = format!("nonce-{i}");
            let call = converser
                .spawn(&ConverseRequest::new("amazon.nova-lite-v1:0").user(&nonce))
                .unwrap();
            (nonce, call)
        })
        .collect();
    for (nonce, call) in calls {
        let events = call.events().clone();
        let r = call.wait().unwrap();
        assert_eq!(r.text(), format!("echo:{nonce}"));
        let streamed: String = events
            .try_iter()
            .filter_map(|e| e.text().map(str::to_owned))
            .collect();
        assert_eq!(streamed, r.text());
    }
}

#[test]
fn a_live_call_handle_keeps_the_runtime_running() {
    // README: a live handle keeps the runtime alive, so a call outlives the
    // Converser that started it, even one dropped at once.
    let server = MockServer::start().unwrap();
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .frame_delay(Duration::from_millis(30)),
    );
    let call = server.converser().unwrap().spawn(&request()).unwrap();
    let reply = call.wait().unwrap();
    assert_eq!(reply.text(), "abcdef");

    // And with the Converser dropped after the stream has started.
    server.push(
        Reply::text("ghijkl")
            .deltas(3)
            .frame_delay(Duration::from_millis(30)),
    );
    let converser = server.converser().unwrap();
    let call = converser.spawn(&request()).unwrap();
    call.events().recv_timeout(Duration::from_secs(5)).unwrap();
    drop(converser);
    assert_eq!(call.wait().unwrap().text(), "ghijkl");
}

#[test]
fn dropping_the_last_handle_and_converser_closes_the_stream() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .fault(Fault::Stall { after: 2 }),
    );
    let call = converser.spawn(&request()).unwrap();
    call.events().recv_timeout(Duration::from_secs(5)).unwrap();
    let started = Instant::now();
    drop(converser);
    drop(call);
    // Both gone: the runtime thread was joined, and the connection closed.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        server.wait_for_aborted_streams(1, Duration::from_secs(5)),
        1,
        "the server did not see the stream closed"
    );
}

#[test]
fn spawned_calls_honour_the_idle_timeout_and_the_deadline() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .fault(Fault::Stall { after: 2 }),
    );
    let err = converser.spawn(&request()).unwrap().wait().unwrap_err();
    assert_timeout(&err, TimeoutKind::Idle);
    assert_eq!(err.partial_response().unwrap().text(), "ab");

    let converser = server
        .converser_builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    // A delta every 50 ms for 3 s: events flow well before and well after
    // the 1 s deadline.
    server.push(
        Reply::text("x".repeat(60))
            .deltas(60)
            .frame_delay(Duration::from_millis(50)),
    );
    let started = Instant::now();
    let err = converser.spawn(&request()).unwrap().wait().unwrap_err();
    let took = started.elapsed();
    assert_timeout(&err, TimeoutKind::Deadline);
    assert!(took >= Duration::from_millis(995), "fired early: {took:?}");
    let partial = err.partial_response().unwrap().text();
    assert!(!partial.is_empty() && partial.len() < 60, "{partial:?}");
}

#[test]
fn an_invalid_request_fails_at_spawn_and_sends_nothing() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let err = converser.spawn(&ConverseRequest::new("m")).unwrap_err();
    assert!(err.is_invalid_request());
    assert_eq!(server.request_count(), 0);
}

#[test]
fn print_handler_writes_text_as_it_arrives_and_stops_on_a_write_error() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text("Hello, world").deltas(4));
    let mut out = PrintHandler::new(Vec::new());
    converser.converse_with(&request(), &mut out).unwrap();
    assert!(out.error().is_none());
    assert_eq!(out.into_inner(), b"Hello, world");

    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    server.push(Reply::text("Hello, world").deltas(4));
    let mut broken = PrintHandler::new(Broken);
    let err = converser
        .converse_with(&request(), &mut broken)
        .unwrap_err();
    assert!(matches!(err, Error::Stopped { .. }), "{err:?}");
    assert_eq!(broken.error().unwrap().kind(), io::ErrorKind::BrokenPipe);
}

#[test]
fn handler_fn_closures_can_stop_the_stream() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text("abcdef").deltas(3));
    let mut seen = 0;
    let err = converser
        .converse_with(
            &request(),
            &mut handler_fn(|e: &StreamEvent| {
                if e.text().is_some() {
                    seen += 1;
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            }),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Stopped { .. }));
    assert_eq!(seen, 1);
}
