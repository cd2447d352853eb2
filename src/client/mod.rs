//! The client: [`Converser`], its [`ConverserBuilder`], and [`CallHandle`]
//! for calls running in the background.
//!
//! - `runtime`: the runtime thread that owns the tokio runtime and the SDK client;
//! - `builder` and `aws`: the settings, and the AWS configuration chain;
//! - `env`: questions about the environment answered without the network;
//! - `handle`: [`CallHandle`];
//! - `on_runtime`: one future run on the runtime thread (`batch-inference`).

mod attempts;
mod aws;
mod builder;
mod count;
mod env;
#[cfg(feature = "schema")]
mod extract;
mod fallback;
mod handle;
pub(crate) mod limiter;
#[cfg(feature = "batch-inference")]
mod on_runtime;
mod quota;
mod runtime;
mod spawn;
mod target;

use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::Client;

pub use builder::{ConverserBuilder, DEFAULT_CONVERSE_TIMEOUT, DEFAULT_IDLE_TIMEOUT};
pub use env::credentials_configured;
#[cfg(feature = "schema")]
#[cfg_attr(docsrs, doc(cfg(feature = "schema")))]
pub use extract::{Extract, ExtractMode, ExtractOptions, Extracted, DEFAULT_TOOL_NAME};
pub use handle::CallHandle;
pub(crate) use limiter::settle as settle_quota;
pub(crate) use quota::estimate as estimate_tokens;
pub use quota::DEFAULT_OUTPUT_ESTIMATE;
pub use target::{Target, TargetStats};

/// The quota limiter's settings and counters, for [`ConverserBuilder::quota`]
/// and [`Converser::limiter_stats`].
pub use crate::client::limiter::{LimiterStats, Quota};

use crate::cancel::CancelToken;
use crate::engine::{self, Assembler, Interrupt, Sink, Step};
use crate::error::Error;
use crate::model::{ConverseRequest, Response};
use crate::sdk::SdkParts;
use crate::stream::StreamHandler;
use quota::{reuse, Counted};
use runtime::Runtime;

/// The SDK's retry policy, for [`ConverserBuilder::retry_config`].
pub use aws_config::retry::{RetryConfig, RetryMode};
/// The SDK's own configuration types, for [`ConverserBuilder::sdk_config`]
/// and [`ConverserBuilder::config`].
pub use aws_config::SdkConfig;
/// The Bedrock Runtime client configuration, for [`ConverserBuilder::config`].
pub use aws_sdk_bedrockruntime::Config as SdkClientConfig;

/// A blocking client for Bedrock's Converse and ConverseStream APIs.
///
/// A `Converser` owns one SDK client on one single-threaded tokio runtime,
/// which runs on a thread of its own for the `Converser`'s whole life. Your
/// threads never enter that runtime: they hand it work over a channel and
/// block on the answer, so a `Converser` works the same from `main`, from a
/// worker thread, from many threads at once, and from inside someone else's
/// async runtime.
///
/// It is cheap to [`Clone`] (clones share the runtime and the client) and is
/// `Send + Sync`. When the last clone (and the last live [`CallHandle`]) is
/// dropped, the runtime thread is told to stop, any calls still running on
/// it are cancelled (their connections closed), and the thread is joined.
///
/// ```no_run
/// use bedrock_converse::{Converser, ConverseRequest};
///
/// let converser = Converser::from_env()?; // AWS_REGION, AWS_PROFILE, … as the AWS CLI reads them
/// let request = ConverseRequest::new("us.anthropic.claude-haiku-4-5-20251001-v1:0")
///     .user("Say hello in French.");
/// let reply = converser.converse(&request)?;
/// println!("{}", reply.text());
/// # Ok::<(), bedrock_converse::Error>(())
/// ```
#[derive(Clone)]
pub struct Converser {
    inner: Arc<Inner>,
}

/// What the clones of a `Converser` and its live call handles share.
struct Inner {
    runtime: Runtime,
    /// The client's credentials provider when known, for the other AWS
    /// clients made from this one (Batch Inference's S3 and control plane).
    #[cfg_attr(not(feature = "batch-inference"), allow(dead_code))]
    credentials:
        Arc<std::sync::OnceLock<aws_credential_types::provider::SharedCredentialsProvider>>,
    /// The targets (the builder's own first), each with its quota limiter,
    /// and the failover policy every call of every clone goes through.
    router: Arc<target::Router>,
    timeout: Option<Duration>,
    idle_timeout: Duration,
    /// Models learnt to refuse streaming (tool use), for the fallback.
    fallback: Arc<fallback::Learnt>,
}

impl fmt::Debug for Converser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Converser")
            .field("timeout", &self.inner.timeout)
            .field("idle_timeout", &self.inner.idle_timeout)
            .field("running", &self.inner.runtime.is_running())
            .finish_non_exhaustive()
    }
}

impl Converser {
    /// A builder for a `Converser` with explicit settings.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = bedrock_converse::Converser::builder()
    ///     .region("us-east-1")
    ///     .idle_timeout(Duration::from_secs(30));
    /// assert!(format!("{builder:?}").contains("us-east-1"));
    /// ```
    pub fn builder() -> ConverserBuilder {
        ConverserBuilder::default()
    }

    /// A `Converser` configured the way the AWS CLI and SDKs are: from
    /// `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_PROFILE`, the credential
    /// variables, `~/.aws/config` and `~/.aws/credentials`,
    /// `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`/`AWS_ENDPOINT_URL`, and
    /// `AWS_BEARER_TOKEN_BEDROCK` (Bedrock API keys).
    ///
    /// ```no_run
    /// let converser = bedrock_converse::Converser::from_env()?;
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when no region can be found or the runtime thread
    /// cannot start.
    pub fn from_env() -> Result<Converser, Error> {
        Converser::builder().build()
    }

    /// Sends `request` to the Converse API and blocks until the whole reply
    /// has arrived.
    ///
    /// The request is [validated](ConverseRequest::validate) first. Throttling
    /// and transient server errors are retried by the SDK's retry policy
    /// before an error is returned. The total
    /// [`timeout`](ConverserBuilder::timeout) applies
    /// ([`DEFAULT_CONVERSE_TIMEOUT`] if none is set), and so does the
    /// request's [`CancelToken`].
    ///
    /// ```no_run
    /// # use bedrock_converse::{Converser, ConverseRequest};
    /// let converser = Converser::from_env()?;
    /// let reply = converser.converse(&ConverseRequest::new("amazon.nova-lite-v1:0").user("Hi"))?;
    /// println!("{} ({:?})", reply.text(), reply.stop_reason);
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequest`] (nothing is sent), [`Error::Service`],
    /// [`Error::Connect`], [`Error::Transport`], [`Error::Timeout`],
    /// [`Error::Protocol`], [`Error::Cancelled`], [`Error::WouldDeadlock`]
    /// (called on the runtime thread) or [`Error::Shutdown`].
    pub fn converse(&self, request: &ConverseRequest) -> Result<Response, Error> {
        request.checked_reply(self.converse_unchecked(request))
    }

    /// [`converse`](Converser::converse) without the check of a structured
    /// reply, for a caller that checks it itself.
    fn converse_unchecked(&self, request: &ConverseRequest) -> Result<Response, Error> {
        let parts = self.prepare("converse", request)?;
        let limit = self.inner.timeout.unwrap_or(DEFAULT_CONVERSE_TIMEOUT);
        let deadline = Instant::now() + limit;
        let mut parts = Some(parts);
        self.routed(request, Some(deadline), |target, sent| {
            let result = reuse(&mut parts, request, sent)
                .and_then(|parts| self.converse_inner(sent, parts, target, deadline));
            (result, false)
        })
    }

    fn converse_inner(
        &self,
        request: &ConverseRequest,
        parts: SdkParts,
        target: usize,
        deadline: Instant,
    ) -> Result<Response, Error> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let (_listening, interrupt) = self.interrupt(request, Some(deadline));
        self.inner
            .runtime
            .submit(Box::new(move |clients: &[Client]| {
                engine::converse_task(&clients[target], parts, tx, interrupt)
            }))?;
        // The task alone ends the call (a cancel, the deadline): this thread
        // only waits for its outcome.
        let result = rx.recv().map_err(|_| Error::Shutdown { partial: None })?;
        Response::from_converse(result?)
    }

    /// How a blocking call's task is stopped from outside (see
    /// [`engine::protocol`](crate::engine::protocol)): the request's token,
    /// the total `deadline`, and the caller's hold, which stops the task
    /// when dropped (on any way out of the caller's wait).
    fn interrupt(
        &self,
        request: &ConverseRequest,
        deadline: Option<Instant>,
    ) -> (
        engine::Listening,
        impl Future<Output = Interrupt> + Send + 'static,
    ) {
        let (listening, gone) = engine::listening();
        let tokens = [request.cancel_token.clone(), None];
        (listening, engine::interrupt(tokens, deadline, Some(gone)))
    }

    /// Sends `request` to the ConverseStream API, calls `handler` for every
    /// event on **this** thread as it arrives, and returns the assembled
    /// [`Response`], equal to what [`converse`](Converser::converse) returns for
    /// the same reply.
    ///
    /// If the stream fails part-way, is cancelled through the request's
    /// [`CancelToken`], times out, or the handler returns [`ControlFlow::Break`], the
    /// stream is dropped and the error carries what had arrived
    /// ([`Error::partial_response`]). If the handler panics, the stream is
    /// dropped and the panic continues on this thread; the `Converser` stays
    /// usable.
    ///
    /// Each event crosses from the runtime thread to this one. For a quick
    /// `Send` handler, [`converse_with_on_runtime`](Converser::converse_with_on_runtime)
    /// skips that hand-off.
    ///
    /// ```no_run
    /// use std::ops::ControlFlow;
    /// use bedrock_converse::{Converser, ConverseRequest, Delta, StreamHandler};
    ///
    /// struct Print;
    /// impl StreamHandler for Print {
    ///     fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
    ///         if let Some(t) = delta.text() { print!("{t}"); }
    ///         ControlFlow::Continue(())
    ///     }
    /// }
    ///
    /// let converser = Converser::from_env()?;
    /// let request = ConverseRequest::new("amazon.nova-lite-v1:0").user("Tell me a joke.");
    /// let reply = converser.converse_with(&request, &mut Print)?;
    /// println!("\n[{:?}]", reply.stop_reason);
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`converse`](Converser::converse), and also [`Error::Stopped`] (the
    /// handler returned [`ControlFlow::Break`]) and [`Error::InvalidToolInput`] (a
    /// streamed tool call's input is not JSON); timeouts are the total
    /// deadline or the [idle timeout](ConverserBuilder::idle_timeout).
    pub fn converse_with<H: StreamHandler + ?Sized>(
        &self,
        request: &ConverseRequest,
        handler: &mut H,
    ) -> Result<Response, Error> {
        let mut parts = Some(self.prepare("converse_with", request)?);
        let deadline = self.stream_deadline();
        let mut handler = Counted::new(handler);
        let result = self.routed(request, deadline, |target, sent| {
            let result = reuse(&mut parts, request, sent).and_then(|parts| {
                self.stream_or_converse(sent, target, deadline, parts, &mut handler, |parts, h| {
                    self.converse_with_inner(sent, parts, target, deadline, h)
                })
            });
            (result, handler.take_delivered())
        });
        request.checked_reply(result)
    }

    fn converse_with_inner<H: StreamHandler + ?Sized>(
        &self,
        request: &ConverseRequest,
        parts: SdkParts,
        target: usize,
        deadline: Option<Instant>,
        handler: &mut H,
    ) -> Result<Response, Error> {
        let (sink, from_task) = engine::to_caller(request.cancel_token.clone());
        // `_listening` is dropped on every way out of this function (return,
        // error, handler panic), which stops the task and drops the stream.
        let (_listening, interrupt) = self.interrupt(request, deadline);
        let idle = Some(self.inner.idle_timeout);
        self.start_stream(target, parts, sink, idle, interrupt, None)?;
        // The task alone ends the call (a cancel, a timeout): this thread
        // takes its messages and attaches what it has assembled to the error.
        let mut assembler = Assembler::default();
        loop {
            let Some(msg) = from_task.recv() else {
                return Err(assembler.shut_down());
            };
            match assembler.take(msg) {
                Step::Recorded => {}
                Step::Event(event) => {
                    if assembler.handle(event, handler) == ControlFlow::Break(()) {
                        return Err(assembler.stopped());
                    }
                }
                Step::Ended(result) => return result,
            }
        }
    }

    /// Like [`converse_with`](Converser::converse_with), but calls the handler
    /// on the `Converser`'s **runtime thread**, inside the task that reads the
    /// stream, instead of on this thread. For handlers that are `Send` and
    /// quick: counting, appending to a buffer, forwarding to a channel.
    ///
    /// `converse_with` hands every event from the runtime thread to this one,
    /// and between paced events this thread is parked and must be woken for
    /// each: that hand-off is most of what it costs over the raw async SDK
    /// (see BENCHMARKS.md). Here this thread sleeps until the call has ended
    /// and wakes once, so each event reaches the handler as soon as the SDK
    /// has decoded it, as in an async program using the SDK directly.
    ///
    /// The price: while the handler runs, the runtime thread does nothing
    /// else, so a slow handler holds up every other call on this `Converser`
    /// (its clones included), and a handler that blocks forever stalls them
    /// all, timeouts included. Do not call this `Converser`'s blocking methods
    /// from the handler: they return [`Error::WouldDeadlock`].
    ///
    /// Everything else is as for `converse_with`: the handler is borrowed for
    /// the call (it need not be `'static`), is never used after this returns,
    /// the callbacks and the returned [`Response`] are the same, the timeouts
    /// and the request's [`CancelToken`] apply, an error mid-stream carries
    /// the partial reply, and a panic in the handler drops the stream and
    /// continues on this thread.
    ///
    /// ```
    /// # use bedrock_converse_mock::{MockServer, Reply};
    /// # let server = MockServer::start()?;
    /// # server.push(Reply::text("Hello, world"));
    /// # let converser = server.converser()?;
    /// use std::ops::ControlFlow;
    /// use bedrock_converse::{ConverseRequest, Delta, StreamHandler};
    ///
    /// /// Counts text bytes; `Send`, and quick.
    /// struct Count(usize);
    /// impl StreamHandler for Count {
    ///     fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
    ///         self.0 += delta.text().map_or(0, str::len);
    ///         ControlFlow::Continue(())
    ///     }
    /// }
    ///
    /// let request = ConverseRequest::new("amazon.nova-lite-v1:0").user("Say hello.");
    /// let mut count = Count(0);
    /// let reply = converser.converse_with_on_runtime(&request, &mut count)?;
    /// assert_eq!(count.0, reply.text().len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`converse_with`](Converser::converse_with).
    pub fn converse_with_on_runtime<H: StreamHandler + Send>(
        &self,
        request: &ConverseRequest,
        handler: &mut H,
    ) -> Result<Response, Error> {
        let mut parts = Some(self.prepare("converse_with_on_runtime", request)?);
        let deadline = self.stream_deadline();
        let mut handler = Counted::new(handler);
        let result = self.routed(request, deadline, |target, sent| {
            let result = reuse(&mut parts, request, sent).and_then(|parts| {
                self.stream_or_converse(sent, target, deadline, parts, &mut handler, |parts, h| {
                    // The caller waits for the sink's outcome on every
                    // path: it never stops listening early.
                    let tokens = [request.cancel_token.clone(), None];
                    let interrupt = engine::interrupt(tokens, deadline, None);
                    let idle = Some(self.inner.idle_timeout);
                    engine::inline::run(h, |sink| {
                        self.start_stream(target, parts, sink, idle, interrupt, None)
                    })
                })
            });
            (result, handler.take_delivered())
        });
        request.checked_reply(result)
    }

    /// Starts a ConverseStream call on the runtime thread (see
    /// [`engine::stream_task`]).
    fn start_stream<S: Sink>(
        &self,
        target: usize,
        parts: SdkParts,
        sink: S,
        idle: Option<Duration>,
        interrupt: impl Future<Output = Interrupt> + Send + 'static,
        gate: Option<engine::Gate>,
    ) -> Result<(), Error> {
        self.inner
            .runtime
            .submit(Box::new(move |clients: &[Client]| {
                engine::stream_task(&clients[target], parts, sink, idle, interrupt, gate)
            }))
    }

    /// A stream's total deadline, counted from now: none unless
    /// [`timeout`](ConverserBuilder::timeout) is set.
    fn stream_deadline(&self) -> Option<Instant> {
        self.inner.timeout.map(|t| Instant::now() + t)
    }

    /// The quota limiter's counters (calls, waits, throttles, the current
    /// rate), or `None` without a [`quota`](ConverserBuilder::quota): the
    /// builder's own target's (see [`target_stats`](Converser::target_stats)
    /// for the [fallbacks](ConverserBuilder::fallback)).
    ///
    /// ```
    /// # use bedrock_converse_mock::MockServer;
    /// # let server = MockServer::start()?;
    /// use bedrock_converse::client::Quota;
    /// let converser = server
    ///     .converser_builder()
    ///     .quota(Quota::new().requests_per_minute(300))
    ///     .build()?;
    /// assert_eq!(converser.limiter_stats().map(|s| s.calls), Some(0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn limiter_stats(&self) -> Option<LimiterStats> {
        self.inner.router.limiter(0).map(|l| l.stats())
    }

    /// Each target's counters, the builder's own first, then the
    /// [fallbacks](ConverserBuilder::fallback) in order: calls sent there,
    /// calls moved away from it, throttles, and whether it is cooling down.
    ///
    /// ```
    /// # use bedrock_converse_mock::MockServer;
    /// # let server = MockServer::start()?;
    /// use bedrock_converse::client::Target;
    /// let converser = server
    ///     .converser_builder()
    ///     .fallback(Target::new().model_id("amazon.nova-pro-v1:0"))
    ///     .build()?;
    /// let stats = converser.target_stats();
    /// assert_eq!(stats.len(), 2);
    /// assert_eq!(stats[1].model_id.as_deref(), Some("amazon.nova-pro-v1:0"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn target_stats(&self) -> Vec<TargetStats> {
        self.inner.router.stats()
    }

    /// What every blocking call checks before sending anything: that it is
    /// not on the runtime thread (from a waker or an inline handler it would
    /// wait for that very thread forever), that the request is valid, and
    /// that its token is not already cancelled.
    fn prepare(&self, method: &'static str, request: &ConverseRequest) -> Result<SdkParts, Error> {
        if self.inner.runtime.is_current_thread() {
            return Err(Error::WouldDeadlock { method });
        }
        let parts = request.to_sdk()?;
        if request
            .cancel_token
            .as_ref()
            .is_some_and(CancelToken::is_cancelled)
        {
            return Err(Error::Cancelled { partial: None });
        }
        Ok(parts)
    }
}

#[cfg(test)]
mod tests;
