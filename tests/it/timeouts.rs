//! Timeouts: the documented defaults, the idle timeout between events, the
//! total deadline (streamed and whole), the connect timeout and the SDK's
//! own, each firing as a typed `Timeout` of its kind, never early, and
//! closing the connection. The idle timeout and the total deadline of a
//! stream, on every streaming path, are in paths.rs.

use crate::support::{assert_timeout, request};
use bedrock_converse::client::{DEFAULT_CONVERSE_TIMEOUT, DEFAULT_IDLE_TIMEOUT};
use bedrock_converse::error::TimeoutKind;
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::{CancelToken, Converser, Delta, StreamHandler};
use bedrock_converse_mock::{Fault, MockServer, Reply};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

/// Timers may round down by a tick; nothing fires earlier than this before
/// its limit.
const EARLY: Duration = Duration::from_millis(5);

#[test]
fn the_defaults_are_the_documented_ones() {
    assert_eq!(DEFAULT_IDLE_TIMEOUT, Duration::from_secs(60));
    assert_eq!(DEFAULT_CONVERSE_TIMEOUT, Duration::from_secs(10 * 60));
    // Built as a user builds one, setting nothing but where to go.
    let server = MockServer::start().unwrap();
    let builder = || {
        Converser::builder()
            .region("us-east-1")
            .endpoint_url(server.endpoint())
            .credentials("AKIDMOCKEXAMPLE", "mock-secret-key", None)
    };
    // No total deadline of its own (streams get none; `converse` falls back
    // to DEFAULT_CONVERSE_TIMEOUT), and the default idle timeout.
    let shown = format!("{:?}", builder().build().unwrap());
    assert!(shown.contains("timeout: None"), "{shown}");
    assert!(shown.contains("idle_timeout: 60s"), "{shown}");
    // What is shown is what was set, not a fixed text.
    let set = builder()
        .timeout(Duration::from_secs(7))
        .idle_timeout(Duration::from_secs(8))
        .build()
        .unwrap();
    let shown = format!("{set:?}");
    assert!(shown.contains("timeout: Some(7s)"), "{shown}");
    assert!(shown.contains("idle_timeout: 8s"), "{shown}");
}

/// Streams two events ("ab") and then stays silent for ever; returns the
/// call's error and how long the call took.
fn stalled_after_two_events(
    server: &MockServer,
    converser: &bedrock_converse::Converser,
) -> (bedrock_converse::Error, Duration) {
    server.push(
        Reply::text("abcd")
            .deltas(2)
            .fault(Fault::Stall { after: 2 }),
    );
    let started = Instant::now();
    let err = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap_err();
    (err, started.elapsed())
}

#[test]
fn a_deadline_ends_a_stream_no_earlier_than_its_limit_and_closes_the_connection() {
    let server = MockServer::start().unwrap();
    let limit = Duration::from_millis(300);
    let converser = server.converser_builder().timeout(limit).build().unwrap();
    let (err, took) = stalled_after_two_events(&server, &converser);
    assert_timeout(&err, TimeoutKind::Deadline);
    assert!(took + EARLY >= limit, "fired early: {took:?}");
    assert!(took < limit + Duration::from_secs(2), "took {took:?}");
    assert_eq!(err.partial_response().unwrap().text(), "ab");
    assert_eq!(
        server.wait_for_aborted_streams(1, Duration::from_secs(5)),
        1
    );
}

#[test]
fn an_idle_timeout_never_fires_early() {
    let server = MockServer::start().unwrap();
    let idle = Duration::from_millis(300);
    let converser = server
        .converser_builder()
        .idle_timeout(idle)
        .build()
        .unwrap();
    // The last event came after the call started, so the call may not end
    // before `idle` has passed since its start.
    let (err, took) = stalled_after_two_events(&server, &converser);
    assert_timeout(&err, TimeoutKind::Idle);
    assert_eq!(err.partial_response().unwrap().text(), "ab");
    assert!(took + EARLY >= idle, "fired early: {took:?}");
    assert!(took < idle + Duration::from_secs(2), "took {took:?}");
    assert_eq!(
        server.wait_for_aborted_streams(1, Duration::from_secs(5)),
        1
    );
}

#[test]
fn a_whole_reply_deadline_never_fires_early() {
    let server = MockServer::start().unwrap();
    let limit = Duration::from_millis(300);
    let converser = server.converser_builder().timeout(limit).build().unwrap();
    server.push(Reply::text("late").first_frame_delay(Duration::from_secs(30)));
    let started = Instant::now();
    let err = converser.converse(&request()).unwrap_err();
    let took = started.elapsed();
    assert_timeout(&err, TimeoutKind::Deadline);
    assert!(took + EARLY >= limit, "fired early: {took:?}");
    assert!(took < limit + Duration::from_secs(2), "took {took:?}");
}

/// `TimeoutKind::Sdk`: the SDK's own operation-attempt timeout, set through
/// the SDK's configuration, against a first byte that never comes.
#[test]
fn an_sdk_timeout_is_a_timeout_of_kind_sdk() {
    use aws_smithy_types::timeout::TimeoutConfig;
    let server = MockServer::start().unwrap();
    let limit = Duration::from_millis(300);
    let sdk = bedrock_converse::client::SdkClientConfig::builder()
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(limit)
                .build(),
        )
        .build();
    let converser = server
        .converser_builder()
        .config(sdk)
        .max_attempts(1)
        .build()
        .unwrap();
    for streaming in [false, true] {
        server.push(Reply::text("late").first_frame_delay(Duration::from_secs(30)));
        let started = Instant::now();
        let err = if streaming {
            converser.converse_with(&request(), &mut NoopHandler)
        } else {
            converser.converse(&request())
        }
        .unwrap_err();
        let took = started.elapsed();
        assert_timeout(&err, TimeoutKind::Sdk);
        assert!(err.is_timeout() && err.is_retryable(), "{err:?}");
        assert!(
            took + EARLY >= limit,
            "streaming={streaming}: fired early: {took:?}"
        );
        assert!(took < limit + Duration::from_secs(2), "took {took:?}");
    }
}

#[test]
fn idle_timeout_before_the_first_event() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    server.push(Reply::text("late").first_frame_delay(Duration::from_secs(30)));
    let err = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap_err();
    assert_timeout(&err, TimeoutKind::Idle);
    assert!(err.partial_response().is_none(), "{err:?}");
    assert!(err.is_retryable());
}

#[test]
fn total_deadline_bounds_a_whole_reply_call() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    server.push(Reply::text("late").first_frame_delay(Duration::from_secs(30)));
    let started = Instant::now();
    let err = converser.converse(&request()).unwrap_err();
    assert_timeout(&err, TimeoutKind::Deadline);
    assert!(started.elapsed() < Duration::from_secs(2));
    // And the next call is fine.
    assert!(converser.converse(&request()).is_ok());
}

#[test]
fn connect_timeout_fires_when_the_server_never_accepts() {
    // A listener whose accept queue is full: further connection attempts are
    // left unanswered, so connecting hangs until the connect timeout.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (addr, _listener, _fillers) = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut fillers = Vec::new();
        for _ in 0..4 {
            let s = tokio::net::TcpSocket::new_v4().unwrap();
            if let Ok(Ok(c)) =
                tokio::time::timeout(Duration::from_millis(100), s.connect(addr)).await
            {
                fillers.push(c);
            }
        }
        (addr, listener, fillers)
    });
    let converser = Converser::builder()
        .region("us-east-1")
        .endpoint_url(format!("http://{addr}"))
        .credentials("AKID", "secret", None)
        .connect_timeout(Duration::from_millis(300))
        // On a kernel that accepts beyond the backlog after all, the call
        // ends at this deadline (and the test fails on the kind) instead of
        // hanging.
        .timeout(Duration::from_secs(3))
        .max_attempts(1)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = converser.converse(&request()).unwrap_err();
    let took = started.elapsed();
    assert_timeout(&err, TimeoutKind::Connect);
    assert!(took >= Duration::from_millis(295), "fired early: {took:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(err.is_connect() && err.is_timeout() && err.is_retryable());
}

/// A stream so fast that its messages are always already queued: the
/// deadline and the cancel token must still be noticed promptly.
#[test]
fn deadline_and_cancel_are_seen_on_a_stream_that_never_pauses() {
    let server = MockServer::start().unwrap();
    let long = "word ".repeat(20_000);
    server.set_default(
        Reply::text(long.clone())
            .deltas(20_000)
            .chunk_bytes(64 * 1024),
    );

    // Cancel from inside the handler after 100 deltas: at most a few dozen
    // more may be handled before the call ends.
    let converser = server.converser().unwrap();
    let token = CancelToken::new();
    struct CancelAt(CancelToken, usize);
    impl StreamHandler for CancelAt {
        fn on_delta(&mut self, _: u32, _: &Delta) -> ControlFlow<()> {
            self.1 += 1;
            if self.1 == 100 {
                self.0.cancel();
            }
            ControlFlow::Continue(())
        }
    }
    let mut h = CancelAt(token.clone(), 0);
    let err = converser
        .converse_with(&request().cancel_token(token), &mut h)
        .unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    assert!(
        h.1 < 100 + 70,
        "{} deltas handled after the cancel",
        h.1 - 100
    );

    // A total deadline shorter than the stream.
    let converser = server
        .converser_builder()
        .timeout(Duration::from_millis(30))
        .build()
        .unwrap();
    struct Slow(usize);
    impl StreamHandler for Slow {
        fn on_delta(&mut self, _: u32, _: &Delta) -> ControlFlow<()> {
            self.0 += 1;
            std::thread::sleep(Duration::from_micros(50));
            ControlFlow::Continue(())
        }
    }
    let started = Instant::now();
    let mut slow = Slow(0);
    let err = converser.converse_with(&request(), &mut slow).unwrap_err();
    assert_timeout(&err, TimeoutKind::Deadline);
    assert!(slow.0 < 20_000, "the whole stream was handled");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}
