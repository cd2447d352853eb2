//! What only the crate itself can do to a `Converser`: kill its runtime
//! thread mid-call, to check that callers get errors instead of hanging if
//! it ever dies. The local server is reached by URL only (it links its own
//! copy of this crate).

use std::ops::ControlFlow;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::Client;
use bedrock_converse_mock::{Fault, MockServer, Reply};

use crate::stream::{Delta, NoopHandler, StreamHandler};
use crate::{ConverseRequest, Converser, Error};

impl Converser {
    /// Makes the runtime thread panic outside any task.
    fn crash_runtime_thread(&self) {
        let _ = self.inner.runtime.submit(Box::new(|_clients: &[Client]| {
            panic!("bedrock-converse: deliberate runtime thread crash (test support)")
        }));
    }
}

fn converser(server: &MockServer) -> Converser {
    Converser::builder()
        .region("us-east-1")
        .endpoint_url(server.endpoint())
        .credentials("AKIDMOCKEXAMPLE", "mock-secret-key", None)
        .build()
        .unwrap()
}

fn request() -> ConverseRequest {
    ConverseRequest::new("amazon.nova-lite-v1:0").user("hello")
}

/// Collects text, and says when the first delta has arrived.
#[derive(Default)]
struct Watch {
    text: String,
    first_delta: Option<mpsc::Sender<()>>,
}

impl StreamHandler for Watch {
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
        self.text.push_str(delta.text().unwrap_or_default());
        if let Some(tx) = self.first_delta.take() {
            let _ = tx.send(());
        }
        ControlFlow::Continue(())
    }
}

/// A stream that stalls after "ab", and a call on it from another thread
/// that has seen its first delta.
fn stalled_call<T: Send + 'static>(
    server: &MockServer,
    converser: &Converser,
    call: impl FnOnce(&Converser, &mut Watch) -> T + Send + 'static,
) -> std::thread::JoinHandle<(T, String)> {
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .fault(Fault::Stall { after: 2 }),
    );
    let (seen_tx, seen_rx) = mpsc::channel();
    let c = converser.clone();
    let in_flight = std::thread::spawn(move || {
        let mut watch = Watch {
            first_delta: Some(seen_tx),
            ..Default::default()
        };
        let result = call(&c, &mut watch);
        (result, watch.text)
    });
    seen_rx.recv().unwrap();
    in_flight
}

#[test]
fn if_the_runtime_thread_dies_calls_fail_instead_of_hanging() {
    let server = MockServer::start().unwrap();
    let converser = converser(&server);
    let in_flight = stalled_call(&server, &converser, |c, w| c.converse_with(&request(), w));
    converser.crash_runtime_thread();
    let (result, _) = in_flight.join().unwrap();
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Shutdown { .. }), "{err:?}");
    assert_eq!(err.partial_response().unwrap().text(), "ab");
    let started = Instant::now();
    for _ in 0..3 {
        let err = converser.converse(&request()).unwrap_err();
        assert!(matches!(err, Error::Shutdown { .. }), "{err:?}");
        let err = converser
            .converse_with(&request(), &mut NoopHandler)
            .unwrap_err();
        assert!(matches!(err, Error::Shutdown { .. }), "{err:?}");
        let err = converser.spawn(&request()).unwrap_err();
        assert!(matches!(err, Error::Shutdown { .. }), "{err:?}");
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(converser); // joining a dead thread must not panic either
}

#[test]
fn if_the_runtime_thread_dies_mid_call_an_inline_call_ends_with_shutdown() {
    let server = MockServer::start().unwrap();
    let converser = converser(&server);
    let in_flight = stalled_call(&server, &converser, |c, w| {
        c.converse_with_on_runtime(&request(), w)
    });
    converser.crash_runtime_thread();
    let (result, text) = in_flight.join().unwrap();
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Shutdown { .. }), "{err:?}");
    assert_eq!(err.partial_response().unwrap().text(), "ab");
    // The handler is ours again, and holds what the partial holds.
    assert_eq!(text, "ab");
    let err = converser
        .converse_with_on_runtime(&request(), &mut NoopHandler)
        .unwrap_err();
    assert!(matches!(err, Error::Shutdown { partial: None }), "{err:?}");
}

impl Converser {
    /// The connect timeout in the SDK client's own configuration.
    fn sdk_connect_timeout(&self) -> Option<Duration> {
        let (tx, rx) = mpsc::channel();
        self.inner
            .runtime
            .submit(Box::new(move |clients: &[Client]| {
                let client = &clients[0];
                let connect = client
                    .config()
                    .timeout_config()
                    .and_then(|t| t.connect_timeout());
                let _ = tx.send(connect);
                Box::pin(async {})
            }))
            .unwrap();
        rx.recv().unwrap()
    }
}

/// README: "Defaults: connect timeout 3.1 s (the SDK's)". The client that
/// the builder makes from the standard configuration chain carries it, and
/// `connect_timeout` replaces it.
#[test]
fn the_connect_timeout_is_3_1_s_unless_set() {
    let builder = || {
        Converser::builder()
            .region("us-east-1")
            .endpoint_url("http://127.0.0.1:9")
            .credentials("AKIDMOCKEXAMPLE", "mock-secret-key", None)
    };
    let default = builder().build().unwrap();
    assert_eq!(
        default.sdk_connect_timeout(),
        Some(Duration::from_millis(3100))
    );
    let set = builder()
        .connect_timeout(Duration::from_millis(750))
        .build()
        .unwrap();
    assert_eq!(set.sdk_connect_timeout(), Some(Duration::from_millis(750)));
}
