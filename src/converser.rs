//! The blocking client: [`Converser`] and its [`ConverserBuilder`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_sdk_bedrockruntime::operation::RequestId;
use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use aws_sdk_bedrockruntime::Client;
use crossbeam_channel::Receiver;

use crate::call::CallHandle;
use crate::cancel::CancelToken;
use crate::error::{Error, TimeoutKind};
use crate::handler::{Flow, StreamHandler};
use crate::inline::{InlineSink, Outcome, Slot};
use crate::request::{ConverseRequest, SdkParts, SetGuardrail};
use crate::response::Response;
use crate::stream::{Assembler, Step};

/// Work sent to the runtime thread: given the client, a future to spawn there.
type Job = Box<dyn FnOnce(&Client) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Fills either operation's fluent builder from validated request parts (the
/// two builders have the same setters but different types; the guardrail,
/// whose type differs per operation, is set through [`SetGuardrail`]).
macro_rules! fill {
    ($builder:expr, $parts:expr) => {{
        let mut p: SdkParts = $parts;
        $builder
            .set_guardrail_from(&mut p)
            .model_id(p.model_id)
            .set_messages(Some(p.messages))
            .set_system(p.system)
            .set_inference_config(p.inference_config)
            .set_additional_model_request_fields(p.additional_model_request_fields)
            .set_tool_config(p.tool_config)
            .set_request_metadata(p.request_metadata)
            .set_performance_config(p.performance_config)
            .set_service_tier(p.service_tier)
            .set_additional_model_response_field_paths(p.additional_model_response_field_paths)
            .set_prompt_variables(p.prompt_variables)
    }};
}

/// How long [`Converser::converse_with`] waits for the next stream event
/// unless [`ConverserBuilder::idle_timeout`] says otherwise.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long [`Converser::converse`] waits for a whole reply when no total
/// [`ConverserBuilder::timeout`] is set.
pub const DEFAULT_CONVERSE_TIMEOUT: Duration = Duration::from_secs(600);

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
/// `Send + Sync`. When the last clone is dropped, the runtime thread is told to
/// stop, any calls still running on it are cancelled (their connections
/// closed), and the thread is joined.
///
/// ```no_run
/// use bedrock_converse::{Converser, ConverseRequest};
///
/// let converser = Converser::from_env()?; // AWS_REGION, AWS_PROFILE, … as the AWS CLI reads them
/// let request = ConverseRequest::new("anthropic.claude-3-haiku-20240307-v1:0")
///     .user("Say hello in French.");
/// let reply = converser.converse(&request)?;
/// println!("{}", reply.text());
/// # Ok::<(), bedrock_converse::Error>(())
/// ```
#[derive(Clone)]
pub struct Converser {
    inner: Arc<Inner>,
}

struct Inner {
    jobs: Option<tokio::sync::mpsc::UnboundedSender<Job>>,
    thread: Option<thread::JoinHandle<()>>,
    timeout: Option<Duration>,
    idle_timeout: Duration,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel ends the runtime thread's receive loop; it then
        // shuts the runtime down, cancelling whatever is still running.
        self.jobs.take();
        if let Some(handle) = self.thread.take() {
            if handle.thread().id() == thread::current().id() {
                return; // never join ourselves
            }
            if handle.join().is_err() {
                log::error!("the bedrock-converse runtime thread panicked");
            }
        }
    }
}

impl fmt::Debug for Converser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Converser")
            .field("timeout", &self.inner.timeout)
            .field("idle_timeout", &self.inner.idle_timeout)
            .field(
                "running",
                &self.inner.jobs.as_ref().is_some_and(|j| !j.is_closed()),
            )
            .finish_non_exhaustive()
    }
}

/// A message from a streaming call's task to the calling thread.
// Events are moved, not boxed: one allocation less per event on the hot path.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Msg {
    Started(Option<String>),
    Event(ConverseStreamOutput),
    End,
    Failed(Error),
}

impl Converser {
    /// A builder for a `Converser` with explicit settings.
    pub fn builder() -> ConverserBuilder {
        ConverserBuilder::default()
    }

    /// A `Converser` configured the way the AWS CLI and SDKs are: from
    /// `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_PROFILE`, the credential
    /// variables, `~/.aws/config` and `~/.aws/credentials`,
    /// `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`/`AWS_ENDPOINT_URL`, and
    /// `AWS_BEARER_TOKEN_BEDROCK` (Bedrock API keys).
    ///
    /// Fails with [`Error::Config`] when no region can be found.
    pub fn from_env() -> Result<Converser, Error> {
        Converser::builder().build()
    }

    fn submit(&self, job: Job) -> Result<(), Error> {
        self.inner
            .jobs
            .as_ref()
            .ok_or(Error::Shutdown { partial: None })?
            .send(job)
            .map_err(|_| Error::Shutdown { partial: None })
    }

    /// Test support: makes the runtime thread panic, to check that callers get
    /// errors instead of hanging if it ever dies.
    #[doc(hidden)]
    pub fn __crash_runtime_thread_for_tests(&self) {
        let _ = self.submit(Box::new(|_client: &Client| {
            panic!("bedrock-converse: deliberate runtime thread crash (test support)")
        }));
    }

    /// Sends `request` to the Converse API and blocks until the whole reply
    /// has arrived.
    ///
    /// The request is [validated](ConverseRequest::validate) first; an invalid
    /// one returns [`Error::InvalidRequest`] and nothing is sent. Throttling and
    /// transient server errors are retried by the SDK's retry policy before an
    /// error is returned.
    pub fn converse(&self, request: &ConverseRequest) -> Result<Response, Error> {
        let parts = self.prepare("converse", request)?;
        let token = request.cancel_token.as_ref();
        let limit = self.inner.timeout.unwrap_or(DEFAULT_CONVERSE_TIMEOUT);
        let deadline = Instant::now() + limit;
        let (tx, rx) = crossbeam_channel::bounded(1);
        // Dropping `_cancel` when this function returns, for any reason,
        // cancels the task if it is still running.
        let (_cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
        self.submit(Box::new(move |client: &Client| {
            // Boxed at once, as in `start_stream`: moving it is then a pointer copy.
            let send = Box::pin(fill!(client.converse(), parts).send());
            Box::pin(async move {
                tokio::select! {
                    biased;
                    _ = cancelled => {}
                    result = send => { let _ = tx.send(result); }
                }
            })
        }))?;
        match wait(&rx, token, deadline, TimeoutKind::Deadline) {
            Wait::Got(result) => Response::from_converse(result.map_err(Error::from_sdk)?),
            Wait::TimedOut(kind) => Err(Error::Timeout {
                kind,
                partial: None,
            }),
            Wait::Cancelled => Err(Error::Cancelled { partial: None }),
            Wait::Disconnected => Err(Error::Shutdown { partial: None }),
        }
    }

    /// Starts a ConverseStream call on the runtime thread: what it receives
    /// goes to `sink`, until `interrupt` resolves (which drops the HTTP
    /// stream). With `idle`, a silence that long ends the call with a timeout.
    pub(crate) fn start_stream<S: Sink>(
        &self,
        parts: SdkParts,
        mut sink: S,
        idle: Option<Duration>,
        interrupt: impl Future<Output = Interrupt> + Send + 'static,
    ) -> Result<(), Error> {
        self.submit(Box::new(move |client: &Client| {
            // Boxed at once: the SDK's future is kilobytes, and every move of
            // it (into this task, into `pump`, into a timeout) was a memcpy.
            let send = Box::pin(fill!(client.converse_stream(), parts).send());
            Box::pin(async move {
                let interrupted = {
                    let work = pump(send, &mut sink, idle);
                    tokio::select! {
                        biased;
                        why = interrupt => Some(why),
                        _ = work => None,
                    }
                };
                if let Some(why) = interrupted {
                    sink.interrupted(why);
                }
            })
        }))
    }

    /// Starts a streaming call in the background and returns at once with a
    /// [`CallHandle`] to poll, wait for, or cancel: the building block for GUI
    /// and worker-thread programs. An invalid request fails here, before
    /// anything is sent. The total [`timeout`](ConverserBuilder::timeout) and
    /// [`idle_timeout`](ConverserBuilder::idle_timeout) apply as for
    /// [`converse_with`](Converser::converse_with), and so does the request's
    /// [`CancelToken`].
    pub fn spawn(&self, request: &ConverseRequest) -> Result<CallHandle, Error> {
        self.spawn_inner(request, None)
    }

    /// Like [`spawn`](Converser::spawn), and calls `waker` after new events
    /// arrive and once more when the call ends, so a GUI can ask for a
    /// repaint (egui's `Context::request_repaint`) instead of polling. The
    /// waker runs on the `Converser`'s runtime thread, so it must be quick and
    /// must not block; it is never called after [`CallHandle::wait`] (or a
    /// `try_wait` that returned `Some`) has returned, nor after the handle is
    /// dropped.
    pub fn spawn_with_waker(
        &self,
        request: &ConverseRequest,
        waker: impl FnMut() + Send + 'static,
    ) -> Result<CallHandle, Error> {
        self.spawn_inner(request, Some(Box::new(waker)))
    }

    fn spawn_inner(
        &self,
        request: &ConverseRequest,
        waker: Option<Box<dyn FnMut() + Send + 'static>>,
    ) -> Result<CallHandle, Error> {
        let parts = request.to_sdk()?;
        let (handle, sink) = CallHandle::new(waker);
        let interrupt = self.interrupt([Some(handle.cancel_token()), request.cancel_token.clone()]);
        self.start_stream(parts, sink, Some(self.inner.idle_timeout), interrupt)?;
        Ok(handle)
    }

    /// For a call run wholly on the runtime thread: resolves when either token
    /// is cancelled or the total [`timeout`](ConverserBuilder::timeout), counted
    /// from now, passes.
    fn interrupt(
        &self,
        tokens: [Option<CancelToken>; 2],
    ) -> impl Future<Output = Interrupt> + Send + 'static {
        let deadline = self.inner.timeout.map(|t| tokio::time::Instant::now() + t);
        let [first, second] = tokens;
        let cancelled = |token: Option<CancelToken>| async move {
            match token {
                Some(t) => t.cancelled().await,
                None => std::future::pending().await,
            }
        };
        async move {
            let deadline = async move {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = cancelled(first) => Interrupt::Cancelled,
                _ = cancelled(second) => Interrupt::Cancelled,
                _ = deadline => Interrupt::Deadline,
            }
        }
    }

    /// Sends `request` to the ConverseStream API, calls `handler` for every
    /// event on **this** thread as it arrives, and returns the assembled
    /// [`Response`], equal to what [`converse`](Converser::converse) returns for
    /// the same reply.
    ///
    /// If the stream fails part-way, is cancelled through the request's
    /// [`CancelToken`], or the handler returns [`Flow::Stop`], the stream is
    /// dropped and the error carries what had arrived
    /// ([`Error::partial_response`]). If the handler panics, the stream is
    /// dropped and the panic continues on this thread; the `Converser` stays
    /// usable.
    ///
    /// Each event crosses from the runtime thread to this one. For a quick
    /// `Send` handler, [`converse_with_send`](Converser::converse_with_send)
    /// skips that hand-off.
    ///
    /// ```no_run
    /// use bedrock_converse::{Converser, ConverseRequest, Delta, Flow, StreamHandler};
    ///
    /// struct Print;
    /// impl StreamHandler for Print {
    ///     fn on_delta(&mut self, _index: u32, delta: &Delta) -> Flow {
    ///         if let Some(t) = delta.text() { print!("{t}"); }
    ///         Flow::Continue
    ///     }
    /// }
    ///
    /// let converser = Converser::from_env()?;
    /// let request = ConverseRequest::new("amazon.nova-lite-v1:0").user("Tell me a joke.");
    /// let reply = converser.converse_with(&request, &mut Print)?;
    /// println!("\n[{:?}]", reply.stop_reason);
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    pub fn converse_with<H: StreamHandler + ?Sized>(
        &self,
        request: &ConverseRequest,
        handler: &mut H,
    ) -> Result<Response, Error> {
        let parts = self.prepare("converse_with", request)?;
        let token = request.cancel_token.as_ref();
        let deadline = self.inner.timeout.map(|t| Instant::now() + t);
        let idle = self.inner.idle_timeout;
        // `_cancel` is dropped on every way out of this function (return,
        // error, handler panic), which cancels the task and drops the stream.
        let (tx, rx) = crossbeam_channel::unbounded::<Msg>();
        let (_cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
        // Timeouts are kept on this side, where the partial response is.
        self.start_stream(parts, tx, None, async move {
            let _ = cancelled.await;
            Interrupt::Cancelled
        })?;
        let mut assembler = Assembler::default();
        // Messages already queued are taken without reading the clock (on a
        // busy stream that read is a fifth of this thread's work); the
        // deadline and the token are still checked every CHECK_EVERY of them.
        const CHECK_EVERY: u32 = 64;
        let mut unchecked = 0u32;
        loop {
            let next = match rx.try_recv() {
                Ok(msg) if unchecked < CHECK_EVERY => {
                    unchecked += 1;
                    Wait::Got(msg)
                }
                Ok(msg) => {
                    unchecked = 0;
                    if token.is_some_and(CancelToken::is_cancelled) {
                        Wait::Cancelled
                    } else if deadline.is_some_and(|d| Instant::now() >= d) {
                        Wait::TimedOut(TimeoutKind::Deadline)
                    } else {
                        Wait::Got(msg)
                    }
                }
                Err(crossbeam_channel::TryRecvError::Disconnected) => Wait::Disconnected,
                Err(crossbeam_channel::TryRecvError::Empty) => {
                    unchecked = 0;
                    let idle_deadline = Instant::now() + idle;
                    let (until, kind) = match deadline {
                        Some(d) if d <= idle_deadline => (d, TimeoutKind::Deadline),
                        _ => (idle_deadline, TimeoutKind::Idle),
                    };
                    wait(&rx, token, until, kind)
                }
            };
            let partial = || assembler.partial_if_started();
            let msg = match next {
                Wait::Got(msg) => msg,
                Wait::TimedOut(kind) => {
                    return Err(Error::Timeout {
                        kind,
                        partial: partial(),
                    })
                }
                Wait::Cancelled => return Err(Error::Cancelled { partial: partial() }),
                Wait::Disconnected => return Err(Error::Shutdown { partial: partial() }),
            };
            match assembler.take(msg) {
                Step::Recorded => {}
                Step::Event(event) => {
                    if assembler.handle(event, handler) == Flow::Stop {
                        return Err(assembler.stopped());
                    }
                }
                Step::Ended(result) => return result,
            }
        }
    }
}

impl Converser {
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
    /// the call (it need not be `'static`), the callbacks and the returned
    /// [`Response`] are the same, the timeouts and the request's
    /// [`CancelToken`] apply, an error mid-stream carries the partial reply,
    /// and a panic in the handler drops the stream and continues on this
    /// thread.
    ///
    /// ```
    /// # use bedrock_converse_mock::{MockServer, Reply};
    /// # let server = MockServer::start()?;
    /// # server.push(Reply::text("Hello, world"));
    /// # let converser = server.converser()?;
    /// use bedrock_converse::{ConverseRequest, Delta, Flow, StreamHandler};
    ///
    /// /// Counts text bytes; `Send`, and quick.
    /// struct Count(usize);
    /// impl StreamHandler for Count {
    ///     fn on_delta(&mut self, _index: u32, delta: &Delta) -> Flow {
    ///         self.0 += delta.text().map_or(0, str::len);
    ///         Flow::Continue
    ///     }
    /// }
    ///
    /// let request = ConverseRequest::new("amazon.nova-lite-v1:0").user("Say hello.");
    /// let mut count = Count(0);
    /// let reply = converser.converse_with_send(&request, &mut count)?;
    /// assert_eq!(count.0, reply.text().len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn converse_with_send<H: StreamHandler + Send>(
        &self,
        request: &ConverseRequest,
        handler: &mut H,
    ) -> Result<Response, Error> {
        let parts = self.prepare("converse_with_send", request)?;
        let slot = Arc::new(Slot::default());
        // SAFETY: below, this function returns only after taking the outcome
        // from the slot, with `handler` borrowed and unused all along; if
        // `start_stream` fails, it has dropped the sink (and so its pointer)
        // before returning.
        let sink = unsafe { InlineSink::new(handler, slot.clone()) };
        let interrupt = self.interrupt([request.cancel_token.clone(), None]);
        self.start_stream(parts, sink, Some(self.inner.idle_timeout), interrupt)?;
        match slot.wait() {
            Outcome::Done(result) => result,
            Outcome::Panicked(payload) => std::panic::resume_unwind(payload),
        }
    }

    /// What every blocking call checks before sending anything: that it is
    /// not on the runtime thread (from a waker or an inline handler it would
    /// wait for that very thread forever), that the request is valid, and
    /// that its token is not already cancelled.
    fn prepare(&self, method: &'static str, request: &ConverseRequest) -> Result<SdkParts, Error> {
        let runtime = self.inner.thread.as_ref().map(|t| t.thread().id());
        if runtime == Some(thread::current().id()) {
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

/// Why a streaming task was stopped from outside.
pub(crate) enum Interrupt {
    Cancelled,
    Deadline,
}

impl Interrupt {
    /// The error a call stopped this way ends with.
    pub(crate) fn into_error(self, partial: Option<Box<Response>>) -> Error {
        match self {
            Interrupt::Cancelled => Error::Cancelled { partial },
            Interrupt::Deadline => Error::Timeout {
                kind: TimeoutKind::Deadline,
                partial,
            },
        }
    }
}

/// Where a streaming task delivers what it receives.
pub(crate) trait Sink: Send + 'static {
    /// Delivers one message; `false` means nobody is listening any more.
    fn deliver(&mut self, msg: Msg) -> bool;
    /// The call was stopped from outside before it ended.
    fn interrupted(&mut self, _why: Interrupt) {}
}

impl Sink for crossbeam_channel::Sender<Msg> {
    fn deliver(&mut self, msg: Msg) -> bool {
        self.send(msg).is_ok()
    }
}

/// Sends the request, then moves every stream event into `sink`.
async fn pump<S: Sink>(
    send: impl Future<
        Output = Result<
            aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput,
            aws_sdk_bedrockruntime::error::SdkError<
                aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamError,
                aws_sdk_bedrockruntime::config::http::HttpResponse,
            >,
        >,
    >,
    sink: &mut S,
    idle: Option<Duration>,
) {
    let idle_timeout = || {
        Msg::Failed(Error::Timeout {
            kind: TimeoutKind::Idle,
            partial: None,
        })
    };
    let sent = match idle {
        Some(idle) => tokio::time::timeout(idle, send).await,
        None => Ok(send.await),
    };
    let output = match sent {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => {
            sink.deliver(Msg::Failed(Error::from_sdk(e)));
            return;
        }
        Err(_) => {
            sink.deliver(idle_timeout());
            return;
        }
    };
    let request_id = output.request_id().map(str::to_owned);
    if !sink.deliver(Msg::Started(request_id)) {
        return;
    }
    let mut stream = output.stream;
    loop {
        let received = match idle {
            Some(idle) => tokio::time::timeout(idle, stream.recv()).await,
            None => Ok(stream.recv().await),
        };
        let msg = match received {
            Ok(Ok(Some(event))) => Msg::Event(event),
            Ok(Ok(None)) => Msg::End,
            Ok(Err(e)) => Msg::Failed(Error::from_stream_sdk(e)),
            Err(_) => idle_timeout(),
        };
        let last = !matches!(msg, Msg::Event(_));
        if !sink.deliver(msg) || last {
            return;
        }
    }
}

/// The outcome of waiting for a message from the runtime thread.
enum Wait<T> {
    Got(T),
    TimedOut(TimeoutKind),
    Cancelled,
    Disconnected,
}

/// Blocks until a message arrives, the token is cancelled, or `until` passes.
fn wait<T>(
    rx: &Receiver<T>,
    token: Option<&CancelToken>,
    until: Instant,
    kind: TimeoutKind,
) -> Wait<T> {
    let got = |msg: Result<T, crossbeam_channel::RecvTimeoutError>| match msg {
        Ok(msg) => Wait::Got(msg),
        Err(crossbeam_channel::RecvTimeoutError::Timeout) => Wait::TimedOut(kind),
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Wait::Disconnected,
    };
    let Some(token) = token else {
        // One channel: its own receive spins briefly before parking.
        return got(rx.recv_deadline(until));
    };
    // Two sources. `select!` parks at once, and a park and wake-up per stream
    // event costs more than the event itself, so spin a little first, as a
    // single-channel receive would.
    let backoff = crossbeam_utils::Backoff::new();
    while !backoff.is_completed() {
        if token.is_cancelled() {
            return Wait::Cancelled;
        }
        match rx.try_recv() {
            Ok(msg) => return Wait::Got(msg),
            Err(crossbeam_channel::TryRecvError::Disconnected) => return Wait::Disconnected,
            Err(crossbeam_channel::TryRecvError::Empty) => backoff.snooze(),
        }
    }
    crossbeam_channel::select! {
        recv(rx) -> msg => got(msg.map_err(|_| crossbeam_channel::RecvTimeoutError::Disconnected)),
        recv(token.receiver()) -> _ => Wait::Cancelled,
        default(until.saturating_duration_since(Instant::now())) => Wait::TimedOut(kind),
    }
}

/// Where the SDK configuration starts from.
#[derive(Debug, Default)]
enum Base {
    /// The default AWS configuration chain.
    #[default]
    Env,
    Shared(Box<SdkConfig>),
    Service(Box<aws_sdk_bedrockruntime::Config>),
}

/// Settings for a [`Converser`]; start with [`Converser::builder`].
///
/// Anything not set comes from the standard AWS configuration chain (the same
/// environment variables and profile files the AWS CLI reads), or from the
/// configuration given to [`sdk_config`](ConverserBuilder::sdk_config) /
/// [`config`](ConverserBuilder::config).
///
/// ```no_run
/// use std::time::Duration;
/// use bedrock_converse::Converser;
///
/// let converser = Converser::builder()
///     .region("us-west-2")
///     .profile("bedrock")
///     .idle_timeout(Duration::from_secs(30))
///     .max_attempts(5)
///     .build()?;
/// # Ok::<(), bedrock_converse::Error>(())
/// ```
#[derive(Default)]
pub struct ConverserBuilder {
    base: Base,
    region: Option<String>,
    profile: Option<String>,
    endpoint_url: Option<String>,
    credentials: Option<Credentials>,
    bearer_token: Option<String>,
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    retry_config: Option<RetryConfig>,
    max_attempts: Option<u32>,
    record_to: Option<std::path::PathBuf>,
}

impl fmt::Debug for ConverserBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConverserBuilder")
            .field("base", &self.base)
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoint_url", &self.endpoint_url)
            // `Credentials`' own Debug redacts the secret parts.
            .field("credentials", &self.credentials)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "** redacted **"),
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("retry_config", &self.retry_config)
            .field("max_attempts", &self.max_attempts)
            .field("record_to", &self.record_to)
            .finish()
    }
}

impl ConverserBuilder {
    /// The AWS region, e.g. `"us-east-1"` (overrides `AWS_REGION` and profiles).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The named profile to read from `~/.aws/config` and `~/.aws/credentials`
    /// (overrides `AWS_PROFILE`).
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// A custom endpoint, e.g. a VPC endpoint or a local test server
    /// (overrides `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` and `AWS_ENDPOINT_URL`).
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Static credentials, instead of the default credential chain.
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        self.credentials = Some(Credentials::new(
            access_key_id,
            secret_access_key,
            session_token,
            None,
            "bedrock-converse",
        ));
        self
    }

    /// A Bedrock API key, sent as a bearer token instead of SigV4 signing
    /// (what `AWS_BEARER_TOKEN_BEDROCK` does from the environment).
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Start from a shared `SdkConfig` (e.g. one your program already loaded
    /// with `aws_config`) instead of the default chain. Settings given to this
    /// builder still override it.
    pub fn sdk_config(mut self, config: SdkConfig) -> Self {
        self.base = Base::Shared(Box::new(config));
        self
    }

    /// Start from a complete Bedrock Runtime client configuration. Settings
    /// given to this builder still override it.
    pub fn config(mut self, config: aws_sdk_bedrockruntime::Config) -> Self {
        self.base = Base::Service(Box::new(config));
        self
    }

    /// The longest to wait for a TCP/TLS connection (the SDK's default is 3.1 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// A total deadline for each call, from the call to its last event
    /// (default: none for streams, [`DEFAULT_CONVERSE_TIMEOUT`] for
    /// [`Converser::converse`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The longest a stream may stay silent, before its first event or between
    /// two events, before the call fails with a timeout (default
    /// [`DEFAULT_IDLE_TIMEOUT`]). Long replies are fine: only silence counts.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// The SDK's retry policy (standard or adaptive mode, attempts, back-off).
    /// Retries happen only before a stream's first event, never after.
    pub fn retry_config(mut self, config: RetryConfig) -> Self {
        self.retry_config = Some(config);
        self
    }

    /// The most attempts per call, including the first (the SDK default is 3;
    /// 1 disables retries).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Records every HTTP exchange (request path and body, response status,
    /// headers and body; for streams the raw event-stream bytes, teed as they
    /// arrive) to a JSON file that `mock::Replay` (feature `mock`) can serve
    /// back. The file is created (or truncated) by
    /// [`build`](ConverserBuilder::build) and rewritten as each exchange ends.
    /// Credentials never reach it: request headers (`authorization`,
    /// `x-amz-security-token`, …) are not written. Recording changes nothing
    /// the caller sees, and adds no latency to streams.
    ///
    /// ```no_run
    /// use bedrock_converse::Converser;
    /// let converser = Converser::builder()
    ///     .region("us-east-1")
    ///     .record_to("tests/recordings/haiku.json")
    ///     .build()?;
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    pub fn record_to(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.record_to = Some(path.into());
        self
    }

    /// Starts the runtime thread, loads the configuration there and builds the
    /// SDK client. Fails with [`Error::Config`] if no region is configured or
    /// the thread cannot start.
    pub fn build(self) -> Result<Converser, Error> {
        let timeout = self.timeout;
        let idle_timeout = self.idle_timeout.unwrap_or(DEFAULT_IDLE_TIMEOUT);
        let (jobs_tx, mut jobs_rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Result<(), Error>>(1);
        let handle = thread::Builder::new()
            .name("bedrock-converse-runtime".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(Error::config(format!(
                            "could not start the tokio runtime: {e}"
                        ))));
                        return;
                    }
                };
                rt.block_on(async move {
                    let client = match self.make_client().await {
                        Ok(client) => client,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    if ready_tx.send(Ok(())).is_err() {
                        return;
                    }
                    while let Some(job) = jobs_rx.recv().await {
                        tokio::spawn(job(&client));
                    }
                    log::debug!("bedrock-converse runtime: all handles dropped, shutting down");
                });
                // Cancels tasks still running; does not wait long for blocking
                // work such as a DNS lookup.
                rt.shutdown_timeout(Duration::from_millis(500));
            })
            .map_err(|e| Error::config(format!("could not start the runtime thread: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Converser {
                inner: Arc::new(Inner {
                    jobs: Some(jobs_tx),
                    thread: Some(handle),
                    timeout,
                    idle_timeout,
                }),
            }),
            Ok(Err(e)) => {
                let _ = handle.join();
                Err(e)
            }
            Err(_) => {
                let _ = handle.join();
                Err(Error::config("the runtime thread stopped during start-up"))
            }
        }
    }

    async fn make_client(self) -> Result<Client, Error> {
        let mut conf = match self.base {
            Base::Service(config) => config.to_builder(),
            Base::Shared(shared) => aws_sdk_bedrockruntime::config::Builder::from(&*shared),
            Base::Env => {
                let mut loader = aws_config::defaults(BehaviorVersion::latest());
                if let Some(profile) = &self.profile {
                    loader = loader.profile_name(profile);
                }
                if let Some(region) = &self.region {
                    loader = loader.region(Region::new(region.clone()));
                }
                if let Some(credentials) = &self.credentials {
                    loader = loader.credentials_provider(credentials.clone());
                }
                let mut conf = aws_sdk_bedrockruntime::config::Builder::from(&loader.load().await);
                if self.endpoint_url.is_none() {
                    let (env, fs) = (
                        aws_types::os_shim_internal::Env::real(),
                        aws_types::os_shim_internal::Fs::real(),
                    );
                    if let Some(url) =
                        crate::env::profile_services_endpoint(&env, &fs, self.profile.as_deref())
                            .await
                    {
                        conf = conf.endpoint_url(url);
                    }
                }
                conf
            }
        };
        if let Some(region) = self.region {
            conf = conf.region(Region::new(region));
        }
        if let Some(url) = self.endpoint_url {
            conf = conf.endpoint_url(url);
        }
        if let Some(credentials) = self.credentials {
            conf = conf.credentials_provider(credentials);
        }
        if let Some(token) = self.bearer_token {
            conf = conf
                .bearer_token(aws_sdk_bedrockruntime::config::Token::new(token, None))
                .auth_scheme_preference([
                    aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID,
                ]);
        }
        if let Some(connect) = self.connect_timeout {
            conf = conf.timeout_config(TimeoutConfig::builder().connect_timeout(connect).build());
        }
        let retry = match (self.retry_config, self.max_attempts) {
            (Some(rc), Some(n)) => Some(rc.with_max_attempts(n)),
            (Some(rc), None) => Some(rc),
            (None, Some(n)) => Some(RetryConfig::standard().with_max_attempts(n)),
            (None, None) => None,
        };
        if let Some(retry) = retry {
            conf = conf.retry_config(retry);
        }
        if let Some(path) = self.record_to {
            conf = conf.interceptor(crate::record::Recorder::create(path)?);
        }
        let conf = conf.build();
        if conf.region().is_none() {
            return Err(Error::config(
                "no AWS region: set AWS_REGION, a `region` in the profile, or ConverserBuilder::region",
            ));
        }
        Ok(Client::from_conf(conf))
    }
}
