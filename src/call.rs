//! Non-blocking streaming calls: [`Converser::spawn`](crate::Converser::spawn),
//! [`CallHandle`] and the owned [`StreamEvent`].

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_bedrockruntime::types::ConversationRole;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::cancel::CancelToken;
use crate::converser::{Interrupt, Msg, Sink};
use crate::error::Error;
use crate::handler::{BlockStart, Delta, Flow, Metadata, Stop, StreamHandler};
use crate::response::Response;
use crate::stream::{Assembler, Step};

/// One [`StreamHandler`] callback as an owned, `Send` value, so that stream
/// events can cross threads (see [`CallHandle::events`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// [`StreamHandler::on_message_start`].
    MessageStart {
        /// The speaker.
        role: ConversationRole,
    },
    /// [`StreamHandler::on_block_start`].
    BlockStart {
        /// The content block index.
        index: u32,
        /// What kind of block starts.
        start: BlockStart,
    },
    /// [`StreamHandler::on_delta`].
    Delta {
        /// The content block index.
        index: u32,
        /// The piece that arrived.
        delta: Delta,
    },
    /// [`StreamHandler::on_block_stop`].
    BlockStop {
        /// The content block index.
        index: u32,
    },
    /// [`StreamHandler::on_stop`].
    Stop(Stop),
    /// [`StreamHandler::on_metadata`].
    Metadata(Metadata),
}

impl StreamEvent {
    /// The text of a text delta, or `None`.
    pub fn text(&self) -> Option<&str> {
        match self {
            StreamEvent::Delta { delta, .. } => delta.text(),
            _ => None,
        }
    }

    /// Passes this event to the matching callback of `handler`.
    pub fn dispatch<H: StreamHandler + ?Sized>(&self, handler: &mut H) -> Flow {
        match self {
            StreamEvent::MessageStart { role } => handler.on_message_start(role),
            StreamEvent::BlockStart { index, start } => handler.on_block_start(*index, start),
            StreamEvent::Delta { index, delta } => handler.on_delta(*index, delta),
            StreamEvent::BlockStop { index } => handler.on_block_stop(*index),
            StreamEvent::Stop(stop) => handler.on_stop(stop),
            StreamEvent::Metadata(metadata) => handler.on_metadata(metadata),
        }
    }
}

/// Turns callbacks into [`StreamEvent`]s for a closure.
pub(crate) struct EventFn<F>(pub(crate) F);

impl<F: FnMut(StreamEvent) -> Flow> StreamHandler for EventFn<F> {
    fn on_message_start(&mut self, role: &ConversationRole) -> Flow {
        (self.0)(StreamEvent::MessageStart { role: role.clone() })
    }
    fn on_block_start(&mut self, index: u32, start: &BlockStart) -> Flow {
        (self.0)(StreamEvent::BlockStart {
            index,
            start: start.clone(),
        })
    }
    fn on_delta(&mut self, index: u32, delta: &Delta) -> Flow {
        (self.0)(StreamEvent::Delta {
            index,
            delta: delta.clone(),
        })
    }
    fn on_block_stop(&mut self, index: u32) -> Flow {
        (self.0)(StreamEvent::BlockStop { index })
    }
    fn on_stop(&mut self, stop: &Stop) -> Flow {
        (self.0)(StreamEvent::Stop(stop.clone()))
    }
    fn on_metadata(&mut self, metadata: &Metadata) -> Flow {
        (self.0)(StreamEvent::Metadata(metadata.clone()))
    }
}

type Waker = Box<dyn FnMut() + Send + 'static>;
type SharedWaker = Arc<Mutex<Option<Waker>>>;

fn wake(waker: &SharedWaker) {
    let mut guard = waker.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(w) = guard.as_mut() {
        w();
    }
}

/// Assembles a spawned call on the runtime thread, forwarding events to the
/// handle's channel.
pub(crate) struct SpawnSink {
    assembler: Assembler,
    events: Sender<StreamEvent>,
    done: Option<Sender<Result<Response, Error>>>,
    waker: SharedWaker,
}

impl SpawnSink {
    fn finish(&mut self, result: Result<Response, Error>) {
        if let Some(done) = self.done.take() {
            let _ = done.send(result);
            // After the result: a GUI woken now sees the call finished.
            wake(&self.waker);
        }
    }
}

impl Sink for SpawnSink {
    fn deliver(&mut self, msg: Msg) -> bool {
        match self.assembler.take(msg) {
            Step::Recorded => true,
            Step::Event(event) => {
                let events = &self.events;
                // Nobody listening to events is fine: the result still counts.
                let mut forward = EventFn(|e| {
                    let _ = events.send(e);
                    Flow::Continue
                });
                let _ = self.assembler.handle(event, &mut forward);
                wake(&self.waker);
                true
            }
            Step::Ended(result) => {
                self.finish(result);
                false
            }
        }
    }

    fn interrupted(&mut self, why: Interrupt) {
        let partial = self.assembler.partial_if_started();
        self.finish(Err(why.into_error(partial)));
    }
}

impl Drop for SpawnSink {
    /// The task was dropped unfinished: the runtime is shutting down.
    fn drop(&mut self) {
        if self.done.is_some() {
            let partial = self.assembler.partial_if_started();
            self.finish(Err(Error::Shutdown { partial }));
        }
    }
}

/// A streaming call running in the background, from
/// [`Converser::spawn`](crate::Converser::spawn).
///
/// Poll it from a UI loop: drain [`events`](CallHandle::events) with
/// `try_recv` once per frame, check [`try_wait`](CallHandle::try_wait), and
/// [`cancel`](CallHandle::cancel) it from a button. Dropping the handle
/// cancels the call. The handle does not keep the
/// [`Converser`](crate::Converser) alive: if the last `Converser` is dropped,
/// the call ends with [`Error::Shutdown`].
///
/// ```
/// # use bedrock_converse_mock::{MockServer, Reply};
/// # let server = MockServer::start()?;
/// # server.push(Reply::text("Hello there").deltas(2));
/// # let converser = server.converser()?;
/// use bedrock_converse::ConverseRequest;
///
/// let request = ConverseRequest::new("amazon.nova-lite-v1:0").user("Hi");
/// let mut call = converser.spawn(&request)?;
/// let mut text = String::new();
/// loop {
///     // A UI would do this once per frame.
///     while let Ok(event) = call.events().try_recv() {
///         text.push_str(event.text().unwrap_or_default());
///     }
///     if call.try_wait().is_some() {
///         break;
///     }
///     std::thread::sleep(std::time::Duration::from_millis(16));
/// }
/// while let Ok(event) = call.events().try_recv() {
///     text.push_str(event.text().unwrap_or_default());
/// }
/// assert_eq!(call.wait()?.text(), text);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CallHandle {
    events: Receiver<StreamEvent>,
    done: Receiver<Result<Response, Error>>,
    result: Option<Result<Response, Error>>,
    cancel: CancelToken,
    waker: SharedWaker,
}

impl fmt::Debug for CallHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallHandle")
            .field("pending_events", &self.events.len())
            .field("finished", &self.is_finished())
            .field("cancelled", &self.cancel.is_cancelled())
            .finish()
    }
}

impl CallHandle {
    /// Builds the handle and the sink that feeds it.
    pub(crate) fn new(waker: Option<Waker>) -> (CallHandle, SpawnSink) {
        let (events_tx, events) = crossbeam_channel::unbounded();
        let (done_tx, done) = crossbeam_channel::bounded(1);
        let waker: SharedWaker = Arc::new(Mutex::new(waker));
        let handle = CallHandle {
            events,
            done,
            result: None,
            cancel: CancelToken::new(),
            waker: waker.clone(),
        };
        let sink = SpawnSink {
            assembler: Assembler::default(),
            events: events_tx,
            done: Some(done_tx),
            waker,
        };
        (handle, sink)
    }

    pub(crate) fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    /// The call's events, in wire order: none lost, none duplicated. Use it
    /// with `try_recv` once per frame or in a `crossbeam_channel::select!`.
    /// Every event is sent before the call's result is available, so after
    /// [`try_wait`](CallHandle::try_wait) returns `Some`, draining the channel
    /// yields the rest.
    pub fn events(&self) -> &Receiver<StreamEvent> {
        &self.events
    }

    /// Cancels the call: it ends with [`Error::Cancelled`] holding what had
    /// arrived, and its HTTP stream is dropped. Callable from any thread
    /// through a shared reference.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether the call has ended (its result is ready).
    pub fn is_finished(&self) -> bool {
        self.result.is_some() || !self.done.is_empty()
    }

    fn settle(&mut self, result: Result<Response, Error>) {
        // Taking the waker under its lock waits for a call in progress, and
        // guarantees none happens after this.
        self.waker.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.result = Some(result);
    }

    /// The result, if the call has ended; never blocks. Keeps returning it.
    pub fn try_wait(&mut self) -> Option<&Result<Response, Error>> {
        if self.result.is_none() {
            match self.done.try_recv() {
                Ok(r) => self.settle(r),
                Err(crossbeam_channel::TryRecvError::Empty) => return None,
                Err(crossbeam_channel::TryRecvError::Disconnected) => {
                    self.settle(Err(Error::Shutdown { partial: None }))
                }
            }
        }
        self.result.as_ref()
    }

    /// Waits up to `timeout` for the result.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<&Result<Response, Error>> {
        if self.result.is_none() {
            match self.done.recv_timeout(timeout) {
                Ok(r) => self.settle(r),
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => {
                    self.settle(Err(Error::Shutdown { partial: None }))
                }
            }
        }
        self.result.as_ref()
    }

    /// Blocks until the call ends and returns its [`Response`], equal to what
    /// [`converse_with`](crate::Converser::converse_with) returns for the same
    /// reply. The waker is never called after this returns.
    pub fn wait(mut self) -> Result<Response, Error> {
        if self.result.is_none() {
            let r = self
                .done
                .recv()
                .unwrap_or(Err(Error::Shutdown { partial: None }));
            self.settle(r);
        }
        self.result
            .take()
            .unwrap_or(Err(Error::Shutdown { partial: None }))
    }
}

impl Drop for CallHandle {
    /// Cancels the call if it is still running, and frees its resources.
    fn drop(&mut self) {
        self.cancel.cancel();
        self.waker.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}
