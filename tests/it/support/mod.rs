//! Helpers shared by the test modules: a server and a client on it, the
//! usual requests, the streamed-equals-whole check, recording handlers, and a
//! temporary directory removed when the test ends.

pub mod examples;
pub mod weather;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use bedrock_converse::client::RetryConfig;
use bedrock_converse::error::TimeoutKind;
use bedrock_converse::stream::{NoopHandler, Stop};
use bedrock_converse::{ConverseRequest, Converser, Delta, Error, Response, StreamHandler};
use bedrock_converse_mock::{MockServer, Operation, Reply};
use serde_json::{json, Value};

/// The model of [`songs_request`].
pub const SONNET_3: &str = "anthropic.claude-3-sonnet-20240229-v1:0";

/// The documented limits (3.75 MB images, 4.5 MB documents, in binary MB),
/// which `ContentLimits::default()` must enforce.
pub const MAX_IMAGE_BYTES: usize = 3_932_160;
/// See [`MAX_IMAGE_BYTES`].
pub const MAX_DOCUMENT_BYTES: usize = 4_718_592;

/// A model that takes audio, video and S3 sources.
pub const OMNI: &str = "us.amazon.nova-2-omni-v1:0";

/// Asserts that `err` is an [`Error::Timeout`] of the given kind.
#[track_caller]
pub fn assert_timeout(err: &Error, kind: TimeoutKind) {
    assert!(
        matches!(err, Error::Timeout { kind: k, .. } if *k == kind),
        "{err:?}"
    );
}

/// A one-turn "hello" request to amazon.nova-lite-v1:0.
pub fn request() -> ConverseRequest {
    ConverseRequest::new("amazon.nova-lite-v1:0").user("hello")
}

/// One reply of each shape: plain text, a max-tokens stop with usage,
/// two text blocks, extra model fields, a tool use, and reasoning.
pub fn scripts() -> Vec<Reply> {
    vec![
        Reply::text("The quick brown fox jumps over the lazy dog").deltas(9),
        Reply::text("cut").stop_reason("max_tokens").usage(3, 1),
        Reply::empty().with_text("a").with_text("b").deltas(2),
        Reply::text("fields").additional_model_response_fields(json!({"x": [1, 2]})),
        Reply::text("Checking.")
            .tool_use("tu-1", "weather", json!({"city": "Paris", "days": 3}))
            .deltas(4),
        Reply::empty()
            .reasoning("let me think", "sig-abc")
            .with_text("42")
            .deltas(3),
    ]
}

/// A loopback port that refuses connections for as long as the returned
/// socket lives: bound (so no other test's server can take the port) but
/// never listening. A port freed by dropping a listener could be reused by
/// another test running at the same time.
pub fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// A local server and a `Converser` on it.
pub fn setup() -> (MockServer, Converser) {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    (server, converser)
}

/// Serves `reply` to `converse` and to `converse_with`; asserts that both
/// operations were used and gave equal content and equal `Response`s, field
/// by field; returns the whole one.
pub fn both_ways(
    server: &MockServer,
    converser: &Converser,
    reply: Reply,
    req: &ConverseRequest,
) -> Response {
    both_ways_with(server, converser, reply, req, &mut NoopHandler).0
}

/// [`both_ways`] with `handler` on the streamed call; returns the whole
/// response and the streamed one.
pub fn both_ways_with(
    server: &MockServer,
    converser: &Converser,
    reply: Reply,
    req: &ConverseRequest,
    handler: &mut impl StreamHandler,
) -> (Response, Response) {
    server.push(reply.clone().request_id("same"));
    server.push(reply.request_id("same"));
    let whole = converser.converse(req).expect("whole reply");
    let streamed = converser
        .converse_with(req, handler)
        .expect("streamed reply");
    let ops: Vec<_> = server.requests().iter().map(|r| r.operation).collect();
    assert_eq!(
        ops[ops.len() - 2..],
        [Some(Operation::Converse), Some(Operation::ConverseStream)]
    );
    assert_eq!(streamed.content(), whole.content(), "content");
    assert_same(&streamed, &whole);
    (whole, streamed)
}

/// Asserts that a streamed `Response` equals the whole one, field by field
/// (so that a difference names its field), then as a whole.
#[track_caller]
pub fn assert_same(streamed: &Response, whole: &Response) {
    assert_eq!(streamed.message, whole.message, "message");
    assert_eq!(streamed.stop_reason, whole.stop_reason, "stop_reason");
    assert_eq!(streamed.usage, whole.usage, "usage");
    assert_eq!(streamed.metrics, whole.metrics, "metrics");
    assert_eq!(
        streamed.additional_model_response_fields, whole.additional_model_response_fields,
        "additional_model_response_fields"
    );
    assert_eq!(streamed.request_id, whole.request_id, "request_id");
    assert_eq!(streamed.trace, whole.trace, "trace");
    assert_eq!(
        streamed.performance_config, whole.performance_config,
        "performance_config"
    );
    assert_eq!(streamed.service_tier, whole.service_tier, "service_tier");
    assert_eq!(streamed, whole, "whole Response");
}

/// A one-turn request to Claude 3 Sonnet that the local server's default
/// reply echoes: "You said: Create a list of 3 pop songs.".
pub fn songs_request() -> ConverseRequest {
    ConverseRequest::new(SONNET_3).user("Create a list of 3 pop songs.")
}

/// A one-turn "hello there" request to Claude Haiku 4.5.
pub fn haiku_request() -> ConverseRequest {
    ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0").user("hello there")
}

/// Sends `req` through both operations (each answered "ok"); returns the two
/// bodies received, whole then streamed.
pub fn sent_both_ways(
    server: &MockServer,
    converser: &Converser,
    req: &ConverseRequest,
) -> [Value; 2] {
    server.push(Reply::text("ok"));
    server.push(Reply::text("ok"));
    converser.converse(req).unwrap();
    converser.converse_with(req, &mut NoopHandler).unwrap();
    let mut r = server.requests();
    let streamed = r.pop().unwrap();
    let whole = r.pop().unwrap();
    assert_eq!(whole.operation, Some(Operation::Converse));
    assert_eq!(streamed.operation, Some(Operation::ConverseStream));
    [whole.body, streamed.body]
}

/// The field a request's local validation names.
#[track_caller]
pub fn field_of(req: &ConverseRequest) -> String {
    match req.validate() {
        Err(Error::InvalidRequest { field, .. }) => field,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

/// A `Converser` with the standard retry policy, `attempts` attempts and
/// millisecond backoff.
pub fn fast_retries(server: &MockServer, attempts: u32) -> Converser {
    fast_retries_with(server, RetryConfig::standard(), attempts)
}

/// `base` with `attempts` attempts and millisecond backoff.
pub fn fast_retries_with(server: &MockServer, base: RetryConfig, attempts: u32) -> Converser {
    server
        .converser_builder()
        .retry_config(
            base.with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

/// Waits (bounded) until the server has seen `n` aborted streams.
pub fn wait_for_aborted(server: &MockServer, n: u64) -> u64 {
    server.wait_for_aborted_streams(n, Duration::from_secs(5))
}

/// Records deltas and stops; optionally tells another thread when the first
/// delta arrived.
#[derive(Default)]
pub struct Watch {
    pub text: String,
    pub deltas: usize,
    pub stops: usize,
    pub first_delta: Option<mpsc::Sender<()>>,
}

impl StreamHandler for Watch {
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
        self.deltas += 1;
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

/// How soon a cancel must end a call: the README says a cancel "takes well
/// under a millisecond to be seen".
pub const CANCEL_BOUND: Duration = Duration::from_millis(1);

/// Tries of [`assert_prompt_cancel`]. One try's latency includes the OS
/// waking the threads involved, which a loaded machine can delay by whole
/// scheduler slices; the best of a few tries is the library's own latency.
pub const CANCEL_TRIES: usize = 8;

/// Runs `try_once`, which cancels a call from another thread, asserts what
/// the cancelled call returned, and gives the time from the cancel to the
/// call's end; until one try is under [`CANCEL_BOUND`], at most
/// [`CANCEL_TRIES`] times. Fails if none was.
#[track_caller]
pub fn assert_prompt_cancel(what: &str, mut try_once: impl FnMut() -> Duration) {
    let mut seen = Vec::new();
    for _ in 0..CANCEL_TRIES {
        let latency = try_once();
        seen.push(latency);
        if latency < CANCEL_BOUND {
            println!("{what}: cancel latency {latency:?} (tries: {seen:?})");
            return;
        }
    }
    panic!("{what}: no cancel was seen within {CANCEL_BOUND:?} in {CANCEL_TRIES} tries: {seen:?}");
}

/// A fresh directory under the system's temporary directory, named after
/// the process and `name`, removed with everything in it when dropped (so a
/// test leaves nothing behind, pass or fail).
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates (or empties) the directory.
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("bc-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh file path under the system temp dir, removed when dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    /// A path named after the process, a counter and `name`.
    pub fn new(name: &str) -> TempFile {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        TempFile(std::env::temp_dir().join(format!(
            "bedrock-converse-test-{}-{n}-{name}.json",
            std::process::id()
        )))
    }
    /// The file's content as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(&self.0).unwrap()).unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
