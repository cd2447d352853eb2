//! What the streaming paths promise alike, table-driven over them:
//! `converse_with` (the handler runs on the caller's thread),
//! `converse_with_on_runtime` (it runs on the runtime thread) and, where no
//! handler decides anything, `spawn` (its handle's events drive the handler
//! on the caller's thread). A timeout or a cancel ends each the same way:
//! promptly, with the reply so far, the connection closed. One table keeps
//! the paths from drifting apart.

use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bedrock_converse::error::TimeoutKind;
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::{
    CancelToken, ConverseRequest, Converser, Delta, Error, Response, StreamHandler,
};
use bedrock_converse_mock::{Fault, MockServer, Reply};

use crate::support::{assert_prompt_cancel, assert_timeout, request, songs_request};

/// A blocking streaming call path.
#[derive(Debug, Clone, Copy)]
enum Path {
    ConverseWith,
    ConverseWithSend,
}

const PATHS: [Path; 2] = [Path::ConverseWith, Path::ConverseWithSend];

/// Every path a call can stream by: the blocking two and `spawn`.
#[derive(Debug, Clone, Copy)]
enum Any {
    Blocking(Path),
    Spawn,
}

const EVERY_PATH: [Any; 3] = [
    Any::Blocking(Path::ConverseWith),
    Any::Blocking(Path::ConverseWithSend),
    Any::Spawn,
];

impl Any {
    /// Makes the call; a spawned call's events drive `handler` on this
    /// thread as they arrive (its `ControlFlow` is not heeded), then its result.
    fn call<H: StreamHandler + Send>(
        self,
        converser: &Converser,
        request: &ConverseRequest,
        handler: &mut H,
    ) -> Result<Response, Error> {
        match self {
            Any::Blocking(path) => path.call(converser, request, handler),
            Any::Spawn => {
                let call = converser.spawn(request)?;
                for event in call.events().clone().iter() {
                    let _ = handler.on_event(&event);
                }
                call.wait()
            }
        }
    }
}

impl Path {
    fn call<H: StreamHandler + Send>(
        self,
        converser: &Converser,
        request: &ConverseRequest,
        handler: &mut H,
    ) -> Result<Response, Error> {
        match self {
            Path::ConverseWith => converser.converse_with(request, handler),
            Path::ConverseWithSend => converser.converse_with_on_runtime(request, handler),
        }
    }
}

/// Collects text and counts deltas; panics at delta `panic_at`.
#[derive(Default)]
struct Watch {
    text: String,
    deltas: usize,
    panic_at: Option<usize>,
}

impl StreamHandler for Watch {
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
        self.deltas += 1;
        if Some(self.deltas) == self.panic_at {
            panic!("handler blew up at delta {}", self.deltas);
        }
        self.text.push_str(delta.text().unwrap_or_default());
        ControlFlow::Continue(())
    }
}

/// README: "A handler that panics panics the calling thread; the
/// `Converser` stays usable." The panic reaches the caller with its message,
/// no callback follows it, the stream is dropped, and every kind of call
/// works afterwards.
#[test]
fn a_panicking_handler_panics_the_caller_and_the_converser_survives() {
    for path in PATHS {
        let server = MockServer::start().unwrap();
        let converser = server.converser().unwrap();
        server.push(
            Reply::text("abcdefgh")
                .deltas(4)
                .fault(Fault::Stall { after: 5 }),
        );
        let mut watch = Watch {
            panic_at: Some(2),
            ..Default::default()
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            path.call(&converser, &request(), &mut watch)
        }));
        let payload = outcome.expect_err("the panic reaches the caller");
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            msg.contains("handler blew up at delta 2"),
            "{path:?}: {msg:?}"
        );
        assert_eq!(watch.deltas, 2, "{path:?}: no callback after the panic");
        assert_eq!(
            server.wait_for_aborted_streams(1, Duration::from_secs(5)),
            1,
            "{path:?}: the stream was dropped"
        );
        for again in PATHS {
            let r = again
                .call(&converser, &request(), &mut NoopHandler)
                .unwrap();
            assert_eq!(r.text(), "You said: hello", "{path:?} then {again:?}");
        }
        assert_eq!(
            converser.converse(&request()).unwrap().text(),
            "You said: hello",
            "{path:?} then converse"
        );
    }
}

/// The idle timeout bounds the silence between events, not the call: 20
/// deltas 60 ms apart take longer than a 1 s idle timeout and complete, with
/// the handler seeing every delta.
#[test]
fn a_slow_trickle_within_the_idle_timeout_completes() {
    for path in PATHS {
        let server = MockServer::start().unwrap();
        let converser = server
            .converser_builder()
            .idle_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let text = "w ".repeat(20);
        server.push(
            Reply::text(text.clone())
                .deltas(20)
                .frame_delay(Duration::from_millis(60)),
        );
        let mut watch = Watch::default();
        let started = Instant::now();
        let r = path.call(&converser, &request(), &mut watch).unwrap();
        assert_eq!(r.text(), text, "{path:?}");
        assert_eq!(watch.text, text, "{path:?}");
        assert_eq!(watch.deltas, 20, "{path:?}");
        assert!(
            started.elapsed() > Duration::from_secs(1),
            "{path:?}: the reply outlasted the idle timeout"
        );
    }
}

/// Counts deltas and keeps their text; says when the first arrives.
#[derive(Default)]
struct Seen {
    text: String,
    first: Option<mpsc::Sender<()>>,
}

impl StreamHandler for Seen {
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
        self.text.push_str(delta.text().unwrap_or_default());
        if let Some(tx) = self.first.take() {
            let _ = tx.send(());
        }
        ControlFlow::Continue(())
    }
}

/// A stream that stalls after its second frame (`ab` of `abcdef`).
fn stalled() -> Reply {
    Reply::text("abcdef")
        .deltas(3)
        .fault(Fault::Stall { after: 2 })
}

#[test]
fn an_idle_timeout_ends_a_stalled_stream_with_the_partial_and_closes_it() {
    for (n, path) in EVERY_PATH.into_iter().enumerate() {
        let server = MockServer::start().unwrap();
        let converser = server
            .converser_builder()
            .idle_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        server.push(stalled());
        let started = Instant::now();
        let mut seen = Seen::default();
        let err = path
            .call(&converser, &songs_request(), &mut seen)
            .unwrap_err();
        let took = started.elapsed();
        assert_timeout(&err, TimeoutKind::Idle);
        assert!(err.is_retryable(), "{path:?}");
        assert_eq!(err.partial_response().unwrap().text(), "ab", "{path:?}");
        assert_eq!(seen.text, "ab", "{path:?}");
        assert!(took >= Duration::from_millis(295), "{path:?}: {took:?}");
        assert!(took < Duration::from_secs(5), "{path:?}: {took:?}");
        // The abandoned stream is closed: the server sees the client go away.
        assert_eq!(
            server.wait_for_aborted_streams(1, Duration::from_secs(5)),
            1,
            "{path:?} ({n})"
        );
    }
}

#[test]
fn a_total_deadline_ends_a_stream_while_events_flow_with_the_partial() {
    for path in EVERY_PATH {
        let server = MockServer::start().unwrap();
        let converser = server
            .converser_builder()
            .timeout(Duration::from_secs(1))
            .idle_timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        // A delta every 50 ms for 3 s: the first long before the 1 s
        // deadline, the last long after it, never silent for more than 50 ms.
        let full = "x".repeat(60);
        server.push(
            Reply::text(full.clone())
                .deltas(60)
                .frame_delay(Duration::from_millis(50)),
        );
        let started = Instant::now();
        let mut seen = Seen::default();
        let err = path.call(&converser, &request(), &mut seen).unwrap_err();
        let took = started.elapsed();
        assert_timeout(&err, TimeoutKind::Deadline);
        assert!(
            took >= Duration::from_millis(995),
            "{path:?}: fired early: {took:?}"
        );
        assert!(took < Duration::from_secs(3), "{path:?}: {took:?}");
        let partial = err.partial_response().expect("the stream had started");
        assert_eq!(partial.text(), seen.text, "{path:?}");
        assert!(
            !seen.text.is_empty() && seen.text.len() < full.len(),
            "{path:?}: {:?}",
            seen.text
        );
    }
}

#[test]
fn a_cancel_from_another_thread_is_prompt_keeps_the_partial_and_closes_the_connection() {
    for path in EVERY_PATH {
        let server = MockServer::start().unwrap();
        let converser = server.converser().unwrap();
        let mut aborted = 0;
        let mut last_token = None;
        assert_prompt_cancel(&format!("{path:?}"), || {
            server.push(
                Reply::text("abcdef")
                    .deltas(3)
                    .fault(Fault::Stall { after: 3 }),
            );
            let token = CancelToken::new();
            let (seen_tx, seen_rx) = mpsc::channel();
            let canceller = {
                let token = token.clone();
                std::thread::spawn(move || {
                    seen_rx.recv().unwrap();
                    // Long enough for the caller to be blocked again, waiting.
                    std::thread::sleep(Duration::from_millis(30));
                    let at = Instant::now();
                    token.cancel();
                    at
                })
            };
            let mut seen = Seen {
                first: Some(seen_tx),
                ..Default::default()
            };
            let request = request().cancel_token(token.clone());
            let err = path.call(&converser, &request, &mut seen).unwrap_err();
            let latency = Instant::now().duration_since(canceller.join().unwrap());
            assert!(err.is_cancelled(), "{path:?}: {err:?}");
            assert!(!err.is_retryable(), "{path:?}");
            assert_eq!(err.partial_response().unwrap().text(), "abcd", "{path:?}");
            aborted += 1;
            assert_eq!(
                server.wait_for_aborted_streams(aborted, Duration::from_secs(5)),
                aborted,
                "{path:?}: the server saw the connection close"
            );
            last_token = Some(token);
            latency
        });
        // An already-cancelled token sends nothing.
        let sent = server.request_count();
        let request = request().cancel_token(last_token.unwrap());
        let err = path
            .call(&converser, &request, &mut NoopHandler)
            .unwrap_err();
        assert!(err.is_cancelled(), "{path:?}: {err:?}");
        assert_eq!(server.request_count(), sent, "{path:?}");
        // Fully usable afterwards.
        assert!(path
            .call(&converser, &crate::support::request(), &mut NoopHandler)
            .is_ok());
    }
}
