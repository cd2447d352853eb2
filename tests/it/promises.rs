//! README promises that no other module pins: the defaults, where retries
//! stop, that interrupted calls close their connection, the SDK's own
//! timeouts, that timeouts never fire early, and that `converse_with_send`
//! never touches the handler after it returns.

use crate::common::{assert_timeout, request};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bedrock_converse::client::{DEFAULT_CONVERSE_TIMEOUT, DEFAULT_IDLE_TIMEOUT};
use bedrock_converse::error::{ServiceErrorKind, TimeoutKind};
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::{CancelToken, Delta, Flow, StreamHandler};
use bedrock_converse_mock::{Fault, MockServer, Reply};

/// Timers may round down by a tick; nothing fires earlier than this before
/// its limit.
const EARLY: Duration = Duration::from_millis(5);

#[test]
fn the_defaults_are_the_documented_ones() {
    assert_eq!(DEFAULT_IDLE_TIMEOUT, Duration::from_secs(60));
    assert_eq!(DEFAULT_CONVERSE_TIMEOUT, Duration::from_secs(10 * 60));
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    // No total deadline (streams get none; `converse` falls back to
    // DEFAULT_CONVERSE_TIMEOUT), and the default idle timeout.
    let shown = format!("{converser:?}");
    assert!(shown.contains("timeout: None"), "{shown}");
    assert!(shown.contains("idle_timeout: 60s"), "{shown}");
}

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
    fn on_event(&mut self, event: &bedrock_converse::StreamEvent) -> Flow {
        self.events += 1;
        self.text.push_str(event.text().unwrap_or_default());
        Flow::Continue
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

/// Counts its callbacks in a counter the test keeps after the call.
struct Counting(Arc<AtomicUsize>);

impl StreamHandler for Counting {
    fn on_delta(&mut self, _: u32, _: &Delta) -> Flow {
        self.0.fetch_add(1, Ordering::SeqCst);
        Flow::Continue
    }
}

/// After `converse_with_send` returns (here: timed out, or cancelled, with
/// the server still sending a delta every 5 ms), the handler is never called
/// again.
#[test]
fn converse_with_send_never_uses_the_handler_after_a_timeout_or_cancel() {
    for how in ["timeout", "cancel"] {
        let server = MockServer::start().unwrap();
        // The deadline only for the timeout case: with one on the cancel case
        // too, a loaded machine could reach it first, and the canceller would
        // wait for events that never come.
        let mut builder = server.converser_builder();
        if how == "timeout" {
            builder = builder.timeout(Duration::from_secs(1));
        }
        let converser = builder.build().unwrap();
        // ~4 s of stream: the deadline (1 s) or the cancel lands mid-stream.
        server.push(
            Reply::text("x".repeat(400))
                .deltas(400)
                .frame_delay(Duration::from_millis(10)),
        );
        let calls = Arc::new(AtomicUsize::new(0));
        let returned = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut handler = Counting(calls.clone());
        let token = CancelToken::new();
        let request = request().cancel_token(token.clone());
        let canceller = (how == "cancel").then(|| {
            let (calls, returned) = (calls.clone(), returned.clone());
            std::thread::spawn(move || {
                while calls.load(Ordering::SeqCst) < 5 && !returned.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                token.cancel();
            })
        });
        let err = converser
            .converse_with_send(&request, &mut handler)
            .unwrap_err();
        let at_return = calls.load(Ordering::SeqCst);
        returned.store(true, Ordering::SeqCst);
        if let Some(c) = canceller {
            c.join().unwrap();
            assert!(err.is_cancelled(), "{how}: {err:?}");
        } else {
            assert_timeout(&err, TimeoutKind::Deadline);
        }
        assert!(at_return >= 1, "{how}: the stream was under way");
        // The server would have sent ~10 more deltas by now.
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(calls.load(Ordering::SeqCst), at_return, "{how}");
        assert_eq!(
            server.wait_for_aborted_streams(1, Duration::from_secs(5)),
            1,
            "{how}: the connection was closed"
        );
        drop(handler);
    }
}

/// The calling thread's voluntary context switches so far: each time it
/// blocked and was woken again (Linux's `/proc/thread-self/status`).
fn voluntary_switches() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/thread-self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
}

/// "`converse_with_send` ... calls it inside the task that reads the stream
/// instead: your thread wakes once, for the result." Counted as the calling
/// thread's voluntary context switches over a 100-event stream with 2 ms
/// between events (`converse_with`, the control, wakes for most of them on
/// an idle machine; on a loaded one events bunch up, so it only shows here
/// that the count moves at all).
#[test]
fn converse_with_send_wakes_the_caller_once_and_converse_with_per_event() {
    if voluntary_switches().is_none() {
        if cfg!(target_os = "linux") {
            panic!("/proc/thread-self/status should exist on Linux");
        }
        eprintln!("skipping: no /proc/thread-self/status here");
        return;
    }
    // The measure itself: ten sleeps are ten voluntary switches.
    let before = voluntary_switches().unwrap();
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let slept = voluntary_switches().unwrap() - before;
    assert!(slept >= 10, "ten sleeps counted as {slept} switches");

    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let reply = || {
        Reply::text("x".repeat(100))
            .deltas(100)
            .frame_delay(Duration::from_millis(2))
    };
    // A first call opens the connection, so that the measured call does not
    // include the connect.
    server.push(Reply::text("warm"));
    converser.converse(&request()).unwrap();

    server.push(reply());
    let calls = Arc::new(AtomicUsize::new(0));
    let before = voluntary_switches().unwrap();
    converser
        .converse_with_send(&request(), &mut Counting(calls.clone()))
        .unwrap();
    let send = voluntary_switches().unwrap() - before;
    assert_eq!(calls.load(Ordering::SeqCst), 100);
    assert!(
        send <= 3,
        "converse_with_send: the caller woke {send} times"
    );

    server.push(reply());
    let before = voluntary_switches().unwrap();
    converser
        .converse_with(&request(), &mut Counting(calls.clone()))
        .unwrap();
    let with = voluntary_switches().unwrap() - before;
    assert_eq!(calls.load(Ordering::SeqCst), 200);
    eprintln!("caller wake-ups for 100 events: converse_with_send {send}, converse_with {with}");
}

/// No credentials at all (the provider says so, as the default chain does
/// when nothing is configured): a configuration error, not retryable, and
/// nothing reaches the server.
#[test]
fn missing_credentials_are_a_config_error_not_a_transient_one() {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};

    #[derive(Debug)]
    struct Nothing;
    impl ProvideCredentials for Nothing {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
                "no credentials in the environment or profile",
            )))
        }
    }

    let server = MockServer::start().unwrap();
    let shared = aws_config::SdkConfig::builder()
        .region(aws_config::Region::new("us-west-2"))
        .endpoint_url(server.endpoint())
        .credentials_provider(SharedCredentialsProvider::new(Nothing))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let converser = bedrock_converse::Converser::builder()
        .sdk_config(shared)
        .build()
        .unwrap();
    for streamed in [false, true] {
        let err = if streamed {
            converser.converse_with(&request(), &mut NoopHandler)
        } else {
            converser.converse(&request())
        }
        .unwrap_err();
        assert!(
            matches!(err, bedrock_converse::Error::Config { .. }),
            "streamed={streamed}: {err:?}"
        );
        assert!(!err.is_retryable(), "{err}");
        assert!(err.to_string().contains("credentials"), "{err}");
    }
    assert_eq!(server.request_count(), 0, "nothing was sent unsigned");
}
