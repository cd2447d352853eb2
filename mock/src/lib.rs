//! A local Bedrock-compatible server for tests and offline examples, as a
//! library ([`MockServer`]) and as a program (`bedrock-local`, below).
//!
//! [`MockServer`] listens on `127.0.0.1` on a free port and speaks Bedrock
//! Runtime's real wire protocol, so the real SDK client talks to it unchanged:
//! `POST /model/{modelId}/converse` answers JSON, and
//! `POST /model/{modelId}/converse-stream` answers
//! `application/vnd.amazon.eventstream` frames (with prelude and message
//! CRC32s and `:event-type`/`:message-type`/`:content-type` headers, written
//! by `aws-smithy-eventstream`); `POST /model/{modelId}/count-tokens`
//! answers `{"inputTokens": N}`, N the words of the request's messages and
//! system prompts. Errors come in Bedrock's shape: an HTTP
//! status, an `x-amzn-ErrorType` header and a JSON message, or an exception
//! frame in the middle of a stream. Every request is recorded.
//!
//! [`MockServer::replay`] serves a recording instead (real Bedrock traffic
//! captured with [`ConverserBuilder::record_to`](bedrock_converse::ConverserBuilder::record_to),
//! see [`Replay`]).
//! A [`Reply`] can script every part of the Converse API's output: text,
//! tool use (its input streamed over several deltas), reasoning with its
//! signature, redacted reasoning, citations, a guardrail intervention with its
//! trace, cache token counts, latency, performance and service tier, and any
//! other block as raw wire JSON ([`Reply::raw_block`]). The same script
//! serves `/converse` and `/converse-stream`, so the two can be compared.
//! Requests with images, documents, tools or guardrails are accepted and
//! recorded as sent. A request with `outputConfig.textFormat` (or a strict
//! tool) is checked as the service checks it: the schema must be a JSON
//! string within the structured-output subset (every object closed with
//! `"additionalProperties": false`; no `minimum`, `maximum`, `minLength`,
//! `maxLength`, …) and, over all of a request's schemas, within the
//! service's complexity limits (16 union-typed and 24 optional parameters,
//! 20 strict tools), else the answer is a 400 `ValidationException`. What
//! it answers is only what was scripted, so a reply can break a bound the
//! schema no longer carries, as a model may.
//!
//! ```
//! use bedrock_converse_mock::{MockServer, Reply};
//! use bedrock_converse::ConverseRequest;
//! use bedrock_converse::stream::NoopHandler;
//!
//! let server = MockServer::start()?;
//! server.push(Reply::text("Hello from the mock").deltas(4));
//! let converser = server.converser()?;
//!
//! let request = ConverseRequest::new("us.anthropic.claude-haiku-4-5-20251001-v1:0").user("Hi");
//! let reply = converser.converse_with(&request, &mut NoopHandler)?;
//! assert_eq!(reply.text(), "Hello from the mock");
//! assert_eq!(server.requests()[0].model_id, "us.anthropic.claude-haiku-4-5-20251001-v1:0");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # `bedrock-local`
//!
//! The package's binary runs the server on its own, for any client: boto3,
//! the AWS CLI, the JavaScript SDK, curl. It listens on `127.0.0.1` only,
//! prints its URL (`http://127.0.0.1:PORT`) as the first line of its
//! standard output, and serves until killed:
//!
//! ```text
//! bedrock-local [--port PORT] [--script FILE | --replay FILE] [--echo] [--lenient]
//! ```
//!
//! - no option: a request the service accepts, on `/converse` and
//!   `/converse-stream`, gets a short fixed text streamed over a few deltas,
//!   with usage and metrics; one it refuses gets its refusal (see
//!   [`MockServer::set_lenient`]);
//! - `--lenient`: every request gets a reply, as the service would not;
//! - `--script FILE`: the replies of a JSON script, in order, then the
//!   default reply (the format is in [`script`]; `mock/examples/script.json`
//!   has one of each kind);
//! - `--echo`: the default reply repeats the last user message;
//! - `--replay FILE`: a recording's exchanges, in order ([`Replay`]);
//! - `--port PORT`: the port (default 0: any free one).
//!
//! ```text
//! $ bedrock-local --port 0 --script mock/examples/script.json &
//! http://127.0.0.1:40215
//! $ aws bedrock-runtime converse --endpoint-url http://127.0.0.1:40215 --region us-east-1 \
//!     --model-id amazon.nova-lite-v1:0 --messages '[{"role":"user","content":[{"text":"Hi"}]}]'
//! ```
//!
//! (Any credentials do; the server does not check signatures.)

mod content;
mod control;
mod output;
mod quota;
mod replay;
mod reply;
mod rules;
mod s3;
pub mod script;
mod serve;
mod wire;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::channel::Channel;
use http_body_util::{Either, Full};
use serde_json::Value;

pub use quota::{QuotaModel, ServerQuota};
pub use replay::{json_diff, JsonDifference, Replay};
pub use reply::{Fault, Reply, ReplyBlock};
pub(crate) use serve::{error_response, full};
pub use wire::event_frame;

// The client crate's public root items, and nothing else of it: the server's
// wire code is its own.
use bedrock_converse::{Converser, ConverserBuilder, Error};

pub(crate) type Body = Either<Full<Bytes>, Channel<Bytes, std::io::Error>>;

/// Which Bedrock operation a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// `POST /model/{modelId}/converse`.
    Converse,
    /// `POST /model/{modelId}/converse-stream`.
    ConverseStream,
    /// `POST /model/{modelId}/count-tokens`: answered with a count made from
    /// the request (no scripted reply is taken).
    CountTokens,
}

impl Operation {
    /// Whether the operation runs the model (Converse or ConverseStream), so
    /// takes a scripted reply and counts against a quota.
    pub(crate) fn is_inference(self) -> bool {
        matches!(self, Operation::Converse | Operation::ConverseStream)
    }
}

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method.
    pub method: String,
    /// The raw path, model id still percent-encoded.
    pub path: String,
    /// The operation, when the path named one.
    pub operation: Option<Operation>,
    /// The model id, percent-decoded.
    pub model_id: String,
    /// The headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Value::Null` if it was not JSON).
    pub body: Value,
}

impl RecordedRequest {
    /// The first value of a header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Counters of how streams ended, from the server's side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamStats {
    /// Streams the server wrote to the end.
    pub completed: u64,
    /// Streams whose client went away before the end.
    pub aborted: u64,
}

pub(crate) struct State {
    queue: VecDeque<Reply>,
    default: Reply,
    requests: Vec<RecordedRequest>,
    stats: StreamStats,
    record: bool,
    /// Set in quota mode: what each model has used of its quota.
    quota: Option<quota::Meter>,
    /// Whether to answer requests the service refuses (see [`rules`]).
    lenient: bool,
    /// The Batch Inference path: the in-memory S3, and the jobs.
    s3: s3::Store,
    jobs: control::Jobs,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    counter: AtomicU64,
    /// Set in replay mode: recorded interactions answer instead of replies.
    replay: Option<replay::Player>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not take the server down with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The local Bedrock-compatible server. It stops when dropped.
///
/// Replies are served in the order they were [pushed](MockServer::push);
/// when the queue is empty the [default](MockServer::set_default) answers
/// (initially [`Reply::echo`] with the prefix `"You said: "`, streamed a word
/// at a time, which makes a usable stand-in for a chat model).
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl MockServer {
    /// Starts the server on `127.0.0.1` with a free port.
    ///
    /// # Errors
    ///
    /// The I/O error if no port on 127.0.0.1 can be bound or the server thread cannot start.
    pub fn start() -> std::io::Result<MockServer> {
        MockServer::launch(0, None)
    }

    /// Starts the server on `127.0.0.1:port` (0: any free port, as
    /// [`start`](MockServer::start)).
    ///
    /// # Errors
    ///
    /// The I/O error if `port` on 127.0.0.1 cannot be bound (e.g. it is in use) or the server thread cannot start.
    pub fn start_on_port(port: u16) -> std::io::Result<MockServer> {
        MockServer::launch(port, None)
    }

    /// Starts a server that answers with a recording's interactions, in
    /// order, instead of scripted replies (see [`Replay`]). Requests are
    /// still kept ([`requests`](MockServer::requests)).
    ///
    /// # Errors
    ///
    /// As [`start`](MockServer::start).
    pub fn replay(replay: Replay) -> std::io::Result<MockServer> {
        MockServer::launch(0, Some(replay::Player::new(replay)))
    }

    /// [`replay`](MockServer::replay) on `127.0.0.1:port` (0: any free port).
    ///
    /// # Errors
    ///
    /// As [`start_on_port`](MockServer::start_on_port).
    pub fn replay_on_port(replay: Replay, port: u16) -> std::io::Result<MockServer> {
        MockServer::launch(port, Some(replay::Player::new(replay)))
    }

    /// How many recorded interactions have not been served yet (0 when not
    /// replaying).
    pub fn replay_remaining(&self) -> usize {
        self.shared.replay.as_ref().map_or(0, |p| p.remaining())
    }

    fn launch(port: u16, replay: Option<replay::Player>) -> std::io::Result<MockServer> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                default: Reply::echo("You said: ").word_deltas(),
                requests: Vec::new(),
                stats: StreamStats::default(),
                record: true,
                quota: None,
                lenient: false,
                s3: s3::Store::default(),
                jobs: control::Jobs::default(),
            }),
            counter: AtomicU64::new(0),
            replay,
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let server_shared = shared.clone();
        let thread = thread::Builder::new()
            .name("bedrock-mock-server".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            log::error!("mock server: {e}");
                            return;
                        }
                    };
                    loop {
                        tokio::select! {
                            _ = &mut stop => break,
                            accepted = listener.accept() => {
                                let Ok((stream, _)) = accepted else { continue };
                                tokio::spawn(serve::connection(stream, server_shared.clone()));
                            }
                        }
                    }
                });
                rt.shutdown_timeout(Duration::from_millis(200));
            })?;
        Ok(MockServer {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The server's base URL, e.g. `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a reply for the next request.
    pub fn push(&self, reply: Reply) {
        self.shared.lock().queue.push_back(reply);
    }

    /// The reply used when the queue is empty.
    pub fn set_default(&self, reply: Reply) {
        self.shared.lock().default = reply;
    }

    /// Whether to answer requests the service would refuse. A server is
    /// strict by default: it says no where Bedrock says no, with the
    /// service's status, error type and message, from the same rules table
    /// the client checks before sending
    /// ([`bedrock_converse::model::rules`]) and the same model catalogue: an
    /// unknown model id, a retired model, a profile-only model called on
    /// demand, no messages, a first turn from the assistant, blank text, tool
    /// blocks without a `toolConfig`, `temperature` 5, two user turns to a
    /// Claude model, tools on ConverseStream for a model that takes them only
    /// through Converse. A lenient server answers them all with its reply.
    ///
    /// ```
    /// use bedrock_converse::ConverseRequest;
    /// use bedrock_converse_mock::MockServer;
    ///
    /// let server = MockServer::start()?;
    /// let converser = server.converser()?;
    /// let request = ConverseRequest::new("example.unknown-v1:0").user("hi");
    /// let err = converser.converse(&request).unwrap_err();
    /// assert_eq!(err.as_service().map(|e| e.message.as_str()), Some("The provided model identifier is invalid."));
    /// server.set_lenient(true);
    /// assert!(converser.converse(&request).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_lenient(&self, lenient: bool) {
        self.shared.lock().lenient = lenient;
    }

    /// Whether to keep a copy of each request (on by default; turn off for
    /// long load runs so memory stays flat).
    pub fn set_recording(&self, on: bool) {
        self.shared.lock().record = on;
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// How many requests have been received.
    pub fn request_count(&self) -> u64 {
        self.shared.counter.load(Ordering::SeqCst)
    }

    /// Enforces per-model quotas from now on, as Bedrock's on-demand quotas
    /// do: past them a request gets HTTP 429 `ThrottlingException` (see
    /// [`ServerQuota`] for how it counts).
    ///
    /// ```
    /// use bedrock_converse::ConverseRequest;
    /// use bedrock_converse_mock::{MockServer, ServerQuota};
    ///
    /// let server = MockServer::start()?;
    /// server.set_quota(ServerQuota::new().requests_per_minute(1));
    /// let converser = server.converser_builder().max_attempts(1).build()?;
    /// let request = ConverseRequest::new("amazon.nova-lite-v1:0").user("hi");
    /// converser.converse(&request)?;
    /// assert!(converser.converse(&request).unwrap_err().is_throttling());
    /// assert_eq!(server.throttled_count(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_quota(&self, quota: ServerQuota) {
        self.shared.lock().quota = Some(quota::Meter::new(quota));
    }

    /// How many requests the quota mode has throttled.
    pub fn throttled_count(&self) -> u64 {
        self.shared.lock().quota.as_ref().map_or(0, |m| m.throttled)
    }

    /// How streams have ended so far.
    pub fn stream_stats(&self) -> StreamStats {
        self.shared.lock().stats
    }

    /// Waits until the server has seen at least `n` streams aborted by their
    /// client (a cancelled, stopped or timed-out call closes its connection),
    /// or until `timeout` passes, and returns the count then. Streams end on
    /// the server's side a moment after the client gives up, hence the wait.
    pub fn wait_for_aborted_streams(&self, n: u64, timeout: Duration) -> u64 {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let aborted = self.stream_stats().aborted;
            if aborted >= n || std::time::Instant::now() >= deadline {
                return aborted;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// A [`ConverserBuilder`] aimed at this server, with region `us-east-1`,
    /// static test credentials and no retries' delay surprises (the SDK's
    /// standard policy still applies).
    pub fn converser_builder(&self) -> ConverserBuilder {
        Converser::builder()
            .region("us-east-1")
            .endpoint_url(self.endpoint())
            .credentials("AKIDMOCKEXAMPLE", "mock-secret-key", None)
    }

    /// A [`Converser`] aimed at this server (see
    /// [`converser_builder`](MockServer::converser_builder)).
    ///
    /// # Errors
    ///
    /// As [`ConverserBuilder::build`].
    pub fn converser(&self) -> Result<Converser, Error> {
        self.converser_builder().build()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
