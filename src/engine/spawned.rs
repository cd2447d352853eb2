//! A spawned call ([`Converser::spawn`](crate::Converser::spawn)): its task,
//! which streams unless the model cannot stream the request and then falls
//! back to Converse (at once when that is known, or after the service
//! refused the stream before any event had arrived), and its sink, which
//! assembles the reply on the runtime thread and sends events and the result
//! to channels the caller's handle reads.
//!
//! Each attempt goes where the call's [`Attempts`] say (failover across
//! targets): an attempt that failed before any event reached the caller
//! may be moved to another target, whose client then sends it again.

use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use aws_sdk_bedrockruntime::Client;
use crossbeam_channel::{Receiver, Sender};

use super::assemble::{Assembler, Step};
use super::protocol::{Interrupt, Msg, Sink};
use super::pump::{pump, FirstFrameRetry, Task};
use crate::error::Error;
use crate::model::{Response, StreamFallback};
use crate::sdk::{fill, SdkParts};
use crate::stream::{StreamEvent, StreamHandler};

/// A waker a spawned call calls after new events and once at its end.
pub(crate) type Waker = Box<dyn FnMut() + Send + 'static>;

/// The waker, shared so the caller's side can take it away for good.
#[derive(Clone)]
pub(crate) struct SharedWaker(Arc<Mutex<Option<Waker>>>);

impl SharedWaker {
    fn wake(&self) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(w) = guard.as_mut() {
            w();
        }
    }

    /// Drops the waker. Taking it under its lock waits for a call in
    /// progress, and guarantees none happens after this returns.
    pub(crate) fn disarm(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// What the caller's side of a spawned call reads.
pub(crate) struct Receivers {
    /// Every event, in wire order.
    pub(crate) events: Receiver<StreamEvent>,
    /// The result, once.
    pub(crate) done: Receiver<Result<Response, Error>>,
    /// The waker, to disarm when the result has been taken.
    pub(crate) waker: SharedWaker,
}

/// Called once with a spawned call's result, before its caller sees it
/// (it may add to the response, e.g. which target answered).
pub(crate) type OnEnd = Box<dyn FnOnce(&mut Result<Response, Error>) + Send>;

/// An attempt's target, once one can take the call: the index of its
/// client and the request's parts for it (`None`: no target is left;
/// `Some(Err)`: the call cannot be sent there, and ends with that error).
pub(crate) type NextAttempt<'a> =
    Pin<Box<dyn Future<Output = Option<Result<(usize, SdkParts), Error>>> + Send + 'a>>;

/// Where a spawned call's attempts go: before each attempt the task asks
/// for a target, and an attempt that failed before any event reached the
/// caller is offered back.
pub(crate) trait Attempts: Send + 'static {
    /// Waits (on the runtime thread) until a target can take the call: the
    /// index of its client and the request's parts for it. `None` when no
    /// target is left.
    fn next(&mut self) -> NextAttempt<'_>;

    /// The attempt failed with `error` before any event reached the caller:
    /// whether the call moves on to another target (the error then goes no
    /// further).
    fn failed_early(&mut self, error: &Error) -> bool;

    /// The error the call ends with, when its last attempt failed with
    /// `last` and an earlier one, moved on, with `earlier`.
    fn ending(&mut self, earlier: Option<Error>, last: Error) -> Error;
}

/// Builds a spawned call's sink and what its caller reads.
pub(crate) fn spawned(waker: Option<Waker>, on_end: Option<OnEnd>) -> (Receivers, SpawnSink) {
    let (events_tx, events) = crossbeam_channel::unbounded();
    let (done_tx, done) = crossbeam_channel::bounded(1);
    let waker = SharedWaker(Arc::new(Mutex::new(waker)));
    let sink = SpawnSink {
        assembler: Assembler::default(),
        events: events_tx,
        done: Some(done_tx),
        waker: waker.clone(),
        on_end,
    };
    (
        Receivers {
            events,
            done,
            waker,
        },
        sink,
    )
}

/// Forwards each event to the caller's channel.
struct Forward<'a>(&'a Sender<StreamEvent>);

impl StreamHandler for Forward<'_> {
    fn on_event(&mut self, event: &StreamEvent) -> ControlFlow<()> {
        // Nobody listening to events is fine: the result still counts.
        let _ = self.0.send(event.clone());
        ControlFlow::Continue(())
    }
}

/// Assembles a spawned call on the runtime thread, forwarding events to the
/// handle's channel.
pub(crate) struct SpawnSink {
    assembler: Assembler,
    events: Sender<StreamEvent>,
    done: Option<Sender<Result<Response, Error>>>,
    waker: SharedWaker,
    on_end: Option<OnEnd>,
}

impl SpawnSink {
    fn finish(&mut self, mut result: Result<Response, Error>) {
        if let Some(done) = self.done.take() {
            if let Some(on_end) = self.on_end.take() {
                on_end(&mut result);
            }
            let _ = done.send(result);
            // After the result: a GUI woken now sees the call finished.
            self.waker.wake();
        }
    }
}

impl SpawnSink {
    /// Ends the call with a reply that came whole (a stream's fallback to
    /// Converse): its events first, as a stream would have carried them,
    /// then the result.
    pub(crate) fn whole(&mut self, result: Result<Response, Error>) {
        if let Ok(response) = &result {
            for event in super::whole::events(response) {
                // Nobody listening to events is fine, as in `deliver`.
                let _ = self.events.send(event);
            }
            self.waker.wake();
        }
        self.finish(result);
    }
}

impl Sink for SpawnSink {
    fn deliver(&mut self, msg: Msg) -> bool {
        match self.assembler.take(msg) {
            Step::Recorded => true,
            Step::Event(event) => {
                let _ = self.assembler.handle(event, &mut Forward(&self.events));
                self.waker.wake();
                true
            }
            Step::Ended(result) => {
                self.finish(result);
                false
            }
        }
    }

    fn interrupted(&mut self, why: Interrupt) {
        let error = self.assembler.interrupted(why);
        self.finish(Err(error));
    }
}

impl Drop for SpawnSink {
    /// The task was dropped unfinished: the runtime is shutting down.
    fn drop(&mut self) {
        if self.done.is_some() {
            let error = self.assembler.shut_down();
            self.finish(Err(error));
        }
    }
}

/// Whether an attempt with the given model id is known, before it is
/// sent, to need Converse.
pub(crate) type Known = Box<dyn FnMut(&str) -> Option<StreamFallback> + Send>;

/// Decides whether a stream's error, arriving before any event, is the
/// service refusing to stream this request with the given model id (and
/// remembers it for that model if so).
pub(crate) type Learn = Box<dyn FnMut(&str, &Error) -> Option<StreamFallback> + Send>;

/// How a spawned call may fall back to Converse, asked for each attempt
/// with the model id that attempt sends (a fallback target's may differ).
pub(crate) struct Fallback {
    /// Known before sending: go straight to Converse.
    pub(crate) known: Known,
    /// Otherwise: what a refused stream teaches.
    pub(crate) learn: Learn,
}

/// The spawned call's sink, watching for an error before any event: the
/// service's refusal of a stream is kept back from the caller, who gets the
/// Converse reply instead; any other such error is held for the task to
/// offer to its [`Attempts`].
struct Watch {
    sink: SpawnSink,
    learn: Learn,
    /// The model id the attempt in flight sends.
    model_id: String,
    event_seen: bool,
    refused: Option<StreamFallback>,
    early: Option<Error>,
}

impl Sink for Watch {
    fn deliver(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Event(_) => self.event_seen = true,
            Msg::Failed(e) if !self.event_seen => {
                if let Some(why) = (self.learn)(&self.model_id, &e) {
                    self.refused = Some(why);
                } else {
                    self.early = Some(e);
                }
                return false;
            }
            _ => {}
        }
        self.sink.deliver(msg)
    }

    fn interrupted(&mut self, why: Interrupt) {
        self.sink.interrupted(why);
    }
}

/// A spawned call that streams unless the model cannot stream it: each
/// attempt goes to the target `attempts` gives (which may wait for room
/// under a quota); an attempt that failed before any event is offered back
/// to `attempts`, and sent again elsewhere if they say so. A refused stream
/// (or a `known` fallback) is answered through Converse, the whole reply
/// going to `sink` as a stream's events. `interrupt` covers the whole call,
/// waits and fallback included.
pub(crate) fn spawned_task(
    clients: &[Client],
    sink: SpawnSink,
    idle: Option<std::time::Duration>,
    interrupt: impl Future<Output = Interrupt> + Send + 'static,
    mut attempts: Box<dyn Attempts>,
    fallback: Fallback,
) -> Task {
    let clients = clients.to_vec();
    let Fallback { mut known, learn } = fallback;
    let mut watch = Watch {
        sink,
        learn,
        model_id: String::new(),
        event_seen: false,
        refused: None,
        early: None,
    };
    Box::pin(async move {
        let interrupted = {
            let work = async {
                let mut last = None;
                loop {
                    let (index, parts) = match attempts.next().await {
                        Some(Ok(next)) => next,
                        Some(Err(error)) => {
                            let error = attempts.ending(last, error);
                            watch.sink.deliver(Msg::Failed(error));
                            return;
                        }
                        None => {
                            let error = last.unwrap_or(Error::Shutdown { partial: None });
                            watch.sink.deliver(Msg::Failed(error));
                            return;
                        }
                    };
                    let Some(client) = clients.get(index) else {
                        watch
                            .sink
                            .deliver(Msg::Failed(Error::Shutdown { partial: None }));
                        return;
                    };
                    // Whether this attempt streams depends on its own model.
                    watch.refused = known(&parts.model_id);
                    watch.model_id.clone_from(&parts.model_id);
                    if watch.refused.is_none() {
                        let stream = fill!(client.converse_stream(), parts.clone());
                        pump(stream, FirstFrameRetry::of(client), &mut watch, idle).await;
                        if let Some(error) = watch.early.take() {
                            if attempts.failed_early(&error) {
                                last = Some(error);
                                continue;
                            }
                            watch
                                .sink
                                .deliver(Msg::Failed(attempts.ending(last, error)));
                            return;
                        }
                    }
                    let Some(why) = watch.refused else { return };
                    let result = Box::pin(fill!(client.converse(), parts).send()).await;
                    let reply = result.map_err(Error::from_sdk).and_then(|output| {
                        let mut response = Response::from_converse(output)?;
                        response.stream_fallback = Some(why);
                        Ok(response)
                    });
                    // Converse delivers nothing before its reply: an error
                    // may move the call, as an early stream error does.
                    let reply = match reply {
                        Err(error) if attempts.failed_early(&error) => {
                            last = Some(error);
                            continue;
                        }
                        Err(error) => Err(attempts.ending(last, error)),
                        ok => ok,
                    };
                    watch.sink.whole(reply);
                    return;
                }
            };
            tokio::select! {
                biased;
                why = interrupt => Some(why),
                _ = work => None,
            }
        };
        if let Some(why) = interrupted {
            watch.interrupted(why);
        }
    })
}
