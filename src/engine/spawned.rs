//! A spawned call ([`Converser::spawn`](crate::Converser::spawn)): its task,
//! which streams unless the model cannot stream the request and then falls
//! back to Converse (at once when that is known, or after the service
//! refused the stream before any event had arrived), and its sink, which
//! assembles the reply on the runtime thread and sends events and the result
//! to channels the caller's handle reads.

use std::sync::{Arc, Mutex};

use aws_sdk_bedrockruntime::Client;
use crossbeam_channel::{Receiver, Sender};

use super::assemble::{Assembler, Step};
use super::protocol::{Interrupt, Msg, Sink};
use super::pump::{pump, FirstFrameRetry, Gate, Task};
use crate::error::Error;
use crate::model::{Response, StreamFallback};
use crate::sdk::{fill, SdkParts};
use crate::stream::{Flow, StreamEvent, StreamHandler};

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

/// Called once with a spawned call's result, before its caller sees it.
pub(crate) type OnEnd = Box<dyn FnOnce(&Result<Response, Error>) + Send>;

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
    fn on_event(&mut self, event: &StreamEvent) -> Flow {
        // Nobody listening to events is fine: the result still counts.
        let _ = self.0.send(event.clone());
        Flow::Continue
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
    fn finish(&mut self, result: Result<Response, Error>) {
        if let Some(done) = self.done.take() {
            if let Some(on_end) = self.on_end.take() {
                on_end(&result);
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

/// Decides whether a stream's error, arriving before any event, is the
/// service refusing to stream this request (and remembers it if so).
pub(crate) type Learn = Box<dyn FnMut(&Error) -> Option<StreamFallback> + Send>;

/// How a spawned call may fall back to Converse.
pub(crate) struct Fallback {
    /// Known before sending: go straight to Converse.
    pub(crate) known: Option<StreamFallback>,
    /// Otherwise: what a refused stream teaches.
    pub(crate) learn: Learn,
}

/// The spawned call's sink, watching for the service's refusal of a stream:
/// such an error before any event is kept back from the caller, who gets
/// the Converse reply instead.
struct Watch {
    sink: SpawnSink,
    learn: Learn,
    event_seen: bool,
    refused: Option<StreamFallback>,
}

impl Sink for Watch {
    fn deliver(&mut self, msg: Msg) -> bool {
        match &msg {
            Msg::Event(_) => self.event_seen = true,
            Msg::Failed(e) if !self.event_seen => {
                if let Some(why) = (self.learn)(e) {
                    self.refused = Some(why);
                    return false;
                }
            }
            _ => {}
        }
        self.sink.deliver(msg)
    }

    fn interrupted(&mut self, why: Interrupt) {
        self.sink.interrupted(why);
    }
}

/// A spawned call that streams unless the model cannot stream it: sent
/// once the `gate` opens; a refused stream (or a `known` fallback) is
/// answered through Converse, the whole reply going to `sink` as a stream's
/// events. `interrupt` covers the whole call, fallback included.
pub(crate) fn spawned_task(
    client: &Client,
    parts: SdkParts,
    sink: SpawnSink,
    idle: Option<std::time::Duration>,
    interrupt: impl std::future::Future<Output = Interrupt> + Send + 'static,
    gate: Option<Gate>,
    fallback: Fallback,
) -> Task {
    let Fallback { known, learn } = fallback;
    // A stream that may be refused keeps the request for Converse.
    let stream = match known {
        Some(_) => None,
        None => Some(fill!(client.converse_stream(), parts.clone())),
    };
    let converse = fill!(client.converse(), parts);
    let retry = FirstFrameRetry::of(client);
    let mut watch = Watch {
        sink,
        learn,
        event_seen: false,
        refused: known,
    };
    Box::pin(async move {
        let interrupted = {
            let work = async {
                if let Some(gate) = gate {
                    gate.await;
                }
                if let Some(builder) = stream {
                    pump(builder, retry, &mut watch, idle).await;
                }
                let Some(why) = watch.refused else { return };
                let result = Box::pin(converse.send()).await;
                let reply = result.map_err(Error::from_sdk).and_then(|output| {
                    let mut response = Response::from_converse(output)?;
                    response.stream_fallback = Some(why);
                    Ok(response)
                });
                watch.sink.whole(reply);
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
