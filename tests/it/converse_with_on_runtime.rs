//! `Converser::converse_with_on_runtime`: the handler runs on the runtime thread.
//! Everything `converse_with` promises must hold here too (same callbacks,
//! same response, partial replies; panics, the slow trickle, timeouts and a
//! cancel from another thread are in paths.rs, over every path), and the borrowed handler must
//! never be used after the call returns.

use crate::support::{assert_timeout, request, scripts};
use bedrock_converse::error::{ServiceErrorKind, TimeoutKind};
use bedrock_converse::stream::{handler_fn, NoopHandler, Stop};
use bedrock_converse::{CancelToken, ConverseRequest, Delta, Error, StreamEvent, StreamHandler};
use bedrock_converse_mock::{Fault, MockServer, Reply};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// Records text and stops, names the thread it runs on, and can signal on
/// the first delta.
#[derive(Default)]
struct Watch {
    text: String,
    deltas: usize,
    stops: usize,
    threads: Vec<String>,
    first_delta: Option<mpsc::Sender<()>>,
}

impl StreamHandler for Watch {
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
        self.deltas += 1;
        self.threads.push(
            std::thread::current()
                .name()
                .unwrap_or("<unnamed>")
                .to_owned(),
        );
        self.text.push_str(delta.text().unwrap_or_default());
        if let Some(tx) = self.first_delta.take() {
            let _ = tx.send(());
        }
        ControlFlow::Continue(())
    }
    fn on_stop(&mut self, _stop: &Stop) -> ControlFlow<()> {
        self.stops += 1;
        ControlFlow::Continue(())
    }
}

#[test]
fn callbacks_and_response_equal_converse_with_for_every_script() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    for (i, script) in scripts().into_iter().enumerate() {
        let id = format!("inline-{i}");
        server.push(script.clone().request_id(&id));
        server.push(script.request_id(&id));
        let mut on_caller = Vec::new();
        let blocking = converser
            .converse_with(
                &request(),
                &mut handler_fn(|e: &StreamEvent| on_caller.push(e.clone())),
            )
            .unwrap();
        // The handler borrows a local: no `'static` needed.
        let mut on_runtime = Vec::new();
        let inline = converser
            .converse_with_on_runtime(
                &request(),
                &mut handler_fn(|e: &StreamEvent| on_runtime.push(e.clone())),
            )
            .unwrap();
        assert!(on_caller.len() >= 4, "script {i}");
        assert_eq!(on_runtime, on_caller, "script {i}");
        assert_eq!(inline, blocking, "script {i}");
        assert_eq!(inline.request_id.as_deref(), Some(id.as_str()));
    }
}

#[test]
fn the_handler_runs_on_the_runtime_thread_and_converse_with_s_on_the_caller() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text("one two three").deltas(3));
    server.push(Reply::text("one two three").deltas(3));
    let mut inline = Watch::default();
    converser
        .converse_with_on_runtime(&request(), &mut inline)
        .unwrap();
    assert_eq!(inline.threads, vec!["bedrock-converse-runtime"; 3]);

    let caller = std::thread::Builder::new()
        .name("the-caller".into())
        .spawn(move || {
            let mut watch = Watch::default();
            converser.converse_with(&request(), &mut watch).unwrap();
            watch.threads
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(caller, vec!["the-caller"; 3]);
}

#[test]
fn flow_stop_drops_the_stream_and_keeps_the_partial() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .fault(Fault::Stall { after: 3 }),
    );
    struct StopAtSecond(usize);
    impl StreamHandler for StopAtSecond {
        fn on_delta(&mut self, _: u32, _: &Delta) -> ControlFlow<()> {
            self.0 += 1;
            if self.0 == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
    }
    let started = Instant::now();
    let mut handler = StopAtSecond(0);
    let err = converser
        .converse_with_on_runtime(&request(), &mut handler)
        .unwrap_err();
    assert!(matches!(err, Error::Stopped { .. }), "{err:?}");
    assert_eq!(err.partial_response().unwrap().text(), "abcd");
    assert_eq!(handler.0, 2, "no callback after ControlFlow::Break(())");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        server.wait_for_aborted_streams(1, Duration::from_secs(5)),
        1,
        "the server saw the connection close"
    );
}

fn check_fault(fault: Fault, retryable: bool, expect: fn(&Error) -> bool) {
    let server = MockServer::start().unwrap();
    let converser = server.converser_builder().max_attempts(3).build().unwrap();
    server.push(
        Reply::text("abcdefgh")
            .deltas(4)
            .request_id("fault-req")
            .fault(fault.clone()),
    );
    let mut watch = Watch::default();
    let started = Instant::now();
    let err = converser
        .converse_with_on_runtime(&request(), &mut watch)
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{fault:?} hung"
    );
    assert!(expect(&err), "{fault:?}: unexpected {err:?}");
    assert_eq!(err.is_retryable(), retryable, "{fault:?}: {err:?}");
    let partial = err
        .partial_response()
        .unwrap_or_else(|| panic!("{fault:?}: no partial in {err:?}"));
    assert_eq!(partial.text(), "abcd", "{fault:?}");
    assert_eq!(watch.text, "abcd", "{fault:?}");
    assert_eq!(partial.request_id.as_deref(), Some("fault-req"));
    assert_eq!(watch.stops, 0, "{fault:?}: on_stop must not be called");
    assert_eq!(server.request_count(), 1, "{fault:?}: no retry mid-stream");
    let r = converser
        .converse_with_on_runtime(&request(), &mut NoopHandler)
        .unwrap();
    assert_eq!(r.text(), "You said: hello");
}

#[test]
fn faults_mid_stream_are_typed_and_keep_the_partial() {
    check_fault(
        Fault::Exception {
            after: 3,
            exception_type: "modelStreamErrorException".into(),
            message: "boom".into(),
        },
        true,
        |e| e.service_kind() == Some(ServiceErrorKind::ModelStreamError),
    );
    check_fault(Fault::Drop { after: 3 }, true, |e| {
        matches!(e, Error::Transport { .. })
    });
    check_fault(Fault::BadCrc { after: 3 }, true, |e| {
        matches!(e, Error::Transport { .. })
    });
    check_fault(Fault::Truncated { after: 3 }, true, |e| {
        matches!(e, Error::Transport { .. })
    });
}

#[test]
fn service_errors_before_the_stream_are_typed() {
    let server = MockServer::start().unwrap();
    let converser = server.converser_builder().max_attempts(1).build().unwrap();
    server.push(Reply::error(400, "ValidationException", "bad model"));
    let mut watch = Watch::default();
    let err = converser
        .converse_with_on_runtime(&request(), &mut watch)
        .unwrap_err();
    assert_eq!(err.service_kind(), Some(ServiceErrorKind::Validation));
    assert!(err.partial_response().is_none());
    assert_eq!(watch.deltas, 0);
    // Invalid requests are refused before anything is sent.
    let err = converser
        .converse_with_on_runtime(&ConverseRequest::new("m"), &mut watch)
        .unwrap_err();
    assert!(err.is_invalid_request(), "{err:?}");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn blocking_calls_from_the_handler_or_a_waker_are_refused_not_deadlocked() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text("ab").deltas(2));
    let mut refusals = Vec::new();
    let r = converser
        .converse_with_on_runtime(
            &request(),
            &mut handler_fn(|e: &StreamEvent| {
                if e.text().is_some() {
                    refusals.push(converser.converse(&request()).unwrap_err());
                    refusals.push(
                        converser
                            .converse_with(&request(), &mut NoopHandler)
                            .unwrap_err(),
                    );
                    refusals.push(
                        converser
                            .converse_with_on_runtime(&request(), &mut NoopHandler)
                            .unwrap_err(),
                    );
                }
            }),
        )
        .unwrap();
    assert_eq!(r.text(), "ab");
    let methods: Vec<_> = refusals
        .iter()
        .map(|e| match e {
            Error::WouldDeadlock { method } => *method,
            other => panic!("expected WouldDeadlock, got {other:?}"),
        })
        .collect();
    assert_eq!(
        methods,
        ["converse", "converse_with", "converse_with_on_runtime"].repeat(2)
    );
    assert!(!refusals[0].is_retryable());
    assert!(refusals[0].to_string().contains("runtime thread"));

    // A spawn waker runs on the runtime thread too.
    let (tx, rx) = mpsc::channel();
    let inner = converser.clone();
    let mut once = Some(tx);
    let call = converser
        .spawn_with_waker(&request(), move || {
            if let Some(tx) = once.take() {
                let _ = tx.send(inner.converse(&request()));
            }
        })
        .unwrap();
    call.wait().unwrap();
    let err = rx
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, Error::WouldDeadlock { method: "converse" }),
        "{err:?}"
    );
    // Only the outer calls reached the server.
    assert_eq!(server.request_count(), 2);
}

#[test]
fn many_threads_share_one_converser_and_nothing_crosses() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    std::thread::scope(|s| {
        for t in 0..16 {
            let converser = &converser;
            s.spawn(move || {
                for i in 0..25 {
                    let nonce = format!("t{t}-c{i}");
                    let mut text = String::new();
                    let r = converser
                        .converse_with_on_runtime(
                            &ConverseRequest::new("amazon.nova-lite-v1:0").user(nonce.clone()),
                            &mut handler_fn(|e: &StreamEvent| {
                                text.push_str(e.text().unwrap_or_default())
                            }),
                        )
                        .unwrap();
                    assert_eq!(r.text(), format!("You said: {nonce}"));
                    assert_eq!(text, r.text());
                }
            });
        }
    });
    assert_eq!(server.request_count(), 16 * 25);
}

#[test]
fn works_from_inside_an_async_runtime() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let text = rt.block_on(async {
        let mut text = String::new();
        converser
            .converse_with_on_runtime(
                &request(),
                &mut handler_fn(|e: &StreamEvent| text.push_str(e.text().unwrap_or_default())),
            )
            .unwrap();
        text
    });
    assert_eq!(text, "You said: hello");
}

/// Counts its callbacks in a counter the test keeps after the call.
struct Counting(Arc<AtomicUsize>);

impl StreamHandler for Counting {
    fn on_delta(&mut self, _: u32, _: &Delta) -> ControlFlow<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        ControlFlow::Continue(())
    }
}

/// After `converse_with_on_runtime` returns (here: timed out, or cancelled, with
/// the server still sending a delta every 5 ms), the handler is never called
/// again.
#[test]
fn converse_with_on_runtime_never_uses_the_handler_after_a_timeout_or_cancel() {
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
            .converse_with_on_runtime(&request, &mut handler)
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

/// "`converse_with_on_runtime` ... calls it inside the task that reads the stream
/// instead: your thread wakes once, for the result", where `converse_with`'s
/// caller "is parked and must be woken for each one". Counted as the calling
/// thread's voluntary context switches over a 50-event stream with 5 ms
/// between events. A loaded machine can add a switch to either call (a lock
/// held by a descheduled thread) or bunch events up for `converse_with`, so
/// the best of three tries is compared: one wake for `converse_with_on_runtime`,
/// and for `converse_with` at least one per five events.
#[test]
fn converse_with_on_runtime_wakes_the_caller_once_and_converse_with_per_event() {
    const EVENTS: u64 = 50;
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
        Reply::text("x".repeat(EVENTS as usize))
            .deltas(EVENTS as usize)
            .frame_delay(Duration::from_millis(5))
    };
    // A first call opens the connection, so that the measured calls do not
    // include the connect.
    server.push(Reply::text("warm"));
    converser.converse(&request()).unwrap();

    let calls = Arc::new(AtomicUsize::new(0));
    let (mut send_best, mut with_best) = (u64::MAX, 0);
    let mut tries = Vec::new();
    for _ in 0..3 {
        server.push(reply());
        let before = voluntary_switches().unwrap();
        calls.store(0, Ordering::SeqCst);
        converser
            .converse_with_on_runtime(&request(), &mut Counting(calls.clone()))
            .unwrap();
        let send = voluntary_switches().unwrap() - before;
        assert_eq!(calls.load(Ordering::SeqCst), EVENTS as usize);

        server.push(reply());
        calls.store(0, Ordering::SeqCst);
        let before = voluntary_switches().unwrap();
        converser
            .converse_with(&request(), &mut Counting(calls.clone()))
            .unwrap();
        let with = voluntary_switches().unwrap() - before;
        assert_eq!(calls.load(Ordering::SeqCst), EVENTS as usize);

        tries.push((send, with));
        send_best = send_best.min(send);
        with_best = with_best.max(with);
        if send_best <= 1 && with_best >= EVENTS / 5 {
            break;
        }
    }
    println!(
        "caller wake-ups for {EVENTS} events (converse_with_on_runtime, converse_with): {tries:?}"
    );
    assert!(
        send_best <= 1,
        "converse_with_on_runtime: the caller woke more than once: {tries:?}"
    );
    assert!(
        with_best >= EVENTS / 5,
        "converse_with: the caller woke fewer than once per five events: {tries:?}"
    );
}
