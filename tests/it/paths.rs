//! What the two blocking streaming paths promise alike, table-driven over
//! both: `converse_with` (the handler runs on the caller's thread) and
//! `converse_with_send` (it runs on the runtime thread). Each test here was
//! written once per path before, in reliability.rs and inline.rs; one table
//! keeps the paths from drifting apart.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use bedrock_converse::stream::NoopHandler;
use bedrock_converse::{ConverseRequest, Converser, Delta, Error, Flow, Response, StreamHandler};
use bedrock_converse_mock::{Fault, MockServer, Reply};

use crate::support::request;

/// A blocking streaming call path.
#[derive(Debug, Clone, Copy)]
enum Path {
    ConverseWith,
    ConverseWithSend,
}

const PATHS: [Path; 2] = [Path::ConverseWith, Path::ConverseWithSend];

impl Path {
    fn call<H: StreamHandler + Send>(
        self,
        converser: &Converser,
        request: &ConverseRequest,
        handler: &mut H,
    ) -> Result<Response, Error> {
        match self {
            Path::ConverseWith => converser.converse_with(request, handler),
            Path::ConverseWithSend => converser.converse_with_send(request, handler),
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
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> Flow {
        self.deltas += 1;
        if Some(self.deltas) == self.panic_at {
            panic!("handler blew up at delta {}", self.deltas);
        }
        self.text.push_str(delta.text().unwrap_or_default());
        Flow::Continue
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
