//! Ending a call early: an already-cancelled token, a handler that stops,
//! and a `Converser` dropped mid-stream each end the call promptly, close
//! the connection and keep what had arrived; events queued for a slow
//! `converse_with` handler delay neither a cancel nor the deadline. A cancel
//! from another thread, on every streaming path, is in paths.rs.

use crate::support::{request, setup, songs_request, wait_for_aborted};
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::{CancelToken, Delta, Error, StreamHandler};
use bedrock_converse_mock::{Fault, MockServer, Reply};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

#[test]
fn cancel_ends_a_whole_reply_call() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text("late").first_frame_delay(Duration::from_secs(30)));
    let token = CancelToken::new();
    let t2 = token.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        t2.cancel();
        Instant::now()
    });
    let err = converser
        .converse(&request().cancel_token(token))
        .unwrap_err();
    let latency = Instant::now().duration_since(canceller.join().unwrap());
    assert!(err.is_cancelled(), "{err:?}");
    assert!(
        latency < Duration::from_millis(100),
        "cancel took {latency:?}"
    );
}

#[test]
fn an_already_cancelled_token_sends_nothing() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let token = CancelToken::new();
    token.cancel();
    let req = request().cancel_token(token);
    assert!(converser.converse(&req).unwrap_err().is_cancelled());
    assert!(converser
        .converse_with(&req, &mut NoopHandler)
        .unwrap_err()
        .is_cancelled());
    assert_eq!(server.request_count(), 0);
}

#[test]
fn handler_stop_closes_the_connection() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .fault(Fault::Stall { after: 3 }),
    );
    struct StopAtFirst;
    impl StreamHandler for StopAtFirst {
        fn on_delta(&mut self, _: u32, _: &Delta) -> ControlFlow<()> {
            ControlFlow::Break(())
        }
    }
    let started = Instant::now();
    let err = converser
        .converse_with(&request(), &mut StopAtFirst)
        .unwrap_err();
    assert!(matches!(err, Error::Stopped { .. }));
    assert_eq!(err.partial_response().unwrap().text(), "ab");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(wait_for_aborted(&server, 1), 1);
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
    let call = converser.spawn(&songs_request()).unwrap();
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

/// Sleeps on every delta (a handler slower than the stream, so events queue
/// up on `converse_with`'s caller), keeping their text; cancels `token`, if
/// any, at delta 3.
struct Slow {
    text: String,
    deltas: usize,
    token: Option<CancelToken>,
}

impl StreamHandler for Slow {
    fn on_delta(&mut self, _: u32, delta: &Delta) -> ControlFlow<()> {
        self.deltas += 1;
        self.text.push_str(delta.text().unwrap_or_default());
        if self.deltas == 3 {
            if let Some(token) = &self.token {
                token.cancel();
            }
        }
        std::thread::sleep(Duration::from_millis(20));
        ControlFlow::Continue(())
    }
}

/// `converse_with` with a backlog: 150 events arrive at once and the
/// handler takes 20 ms each. A cancel (from the handler, at delta 3) or the
/// total deadline (1 s) still ends the call within a few events, not after
/// the backlog (3 s more), with what the handler saw as the partial reply.
#[test]
fn a_cancel_or_the_deadline_ends_converse_with_ahead_of_queued_events() {
    for cancel in [true, false] {
        let server = MockServer::start().unwrap();
        let converser = server
            .converser_builder()
            .timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        server.push(
            Reply::text("x".repeat(200))
                .deltas(200)
                .fault(Fault::Stall { after: 150 }),
        );
        let token = CancelToken::new();
        let mut slow = Slow {
            text: String::new(),
            deltas: 0,
            token: cancel.then(|| token.clone()),
        };
        let started = Instant::now();
        let err = converser
            .converse_with(&request().cancel_token(token), &mut slow)
            .unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.is_cancelled(), cancel, "{err:?}");
        assert_eq!(err.is_timeout(), !cancel, "{err:?}");
        let bound = if cancel { 3 + 10 } else { 50 + 10 };
        assert!(
            slow.deltas <= bound,
            "cancel {cancel}: the handler saw {} queued events, {took:?}",
            slow.deltas
        );
        assert!(took < Duration::from_millis(1_800), "{took:?}");
        assert_eq!(err.partial_response().unwrap().text(), slow.text);
        assert_eq!(wait_for_aborted(&server, 1), 1, "the stream was dropped");
    }
}
