//! The sink of a spawned call ([`Converser::spawn`](crate::Converser::spawn)):
//! the reply is assembled on the runtime thread, and events and the result
//! go to channels the caller's handle reads.

use std::sync::{Arc, Mutex};

use crossbeam_channel::{Receiver, Sender};

use super::assemble::{Assembler, Step};
use super::protocol::{Interrupt, Msg, Sink};
use crate::error::Error;
use crate::model::Response;
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
