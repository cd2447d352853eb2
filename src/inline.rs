//! Streaming with the handler on the runtime thread:
//! [`Converser::converse_with_send`](crate::Converser::converse_with_send).
//!
//! [`Converser::converse_with`](crate::Converser::converse_with) hands every
//! stream event from the runtime thread to the calling thread. That hand-off
//! (and, between paced events, waking a parked caller) is most of what the
//! wrapper costs over the raw async SDK. A `Send` handler can instead be
//! called inside the task that reads the stream, as a raw SDK consumer would
//! do; the caller then wakes once per call, for the finished result.
//!
//! The handler is borrowed, not owned (`&mut H`, `H: Send`, any lifetime), as
//! a scoped thread borrows: the calling thread blocks until the task has
//! finished with it, on every path (see [`InlineSink`]).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crossbeam_channel::Sender;

use crate::converser::{Interrupt, Msg, Sink};
use crate::error::Error;
use crate::handler::{Flow, StreamHandler};
use crate::response::Response;
use crate::stream::Assembler;

/// How an inline call ended, sent once to the waiting caller.
// Sent once per call, moved not boxed: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Outcome {
    /// The call's result.
    Done(Result<Response, Error>),
    /// The handler panicked: the payload, to resume on the calling thread.
    Panicked(Box<dyn Any + Send + 'static>),
}

/// The caller's handler, its lifetime erased.
///
/// Only [`InlineSink`] holds one, and it dereferences the pointer only before
/// it sends its [`Outcome`]: see the safety argument on
/// [`InlineSink::new`].
struct HandlerPtr(*mut (dyn StreamHandler + Send + 'static));

// SAFETY: the pointee is `Send` (the bound on `converse_with_send`), and the
// pointer is used by one thread at a time: the caller does not touch the
// handler while it is blocked waiting for the outcome.
unsafe impl Send for HandlerPtr {}

/// Assembles an inline call on the runtime thread, calling the handler there.
pub(crate) struct InlineSink {
    assembler: Assembler,
    handler: HandlerPtr,
    /// `Some` until the outcome is sent; after that the handler is never used.
    done: Option<Sender<Outcome>>,
}

impl InlineSink {
    /// A sink calling `handler`, and sending the outcome to `done`.
    ///
    /// # Safety
    ///
    /// The caller must keep `handler` borrowed, and not use it, until it has
    /// received the [`Outcome`] from `done`'s receiver or seen that channel
    /// disconnect. The sink calls the handler only before it sends the
    /// outcome, and the channel disconnects only when the sink is dropped, so
    /// once either has happened the handler is no longer used.
    pub(crate) unsafe fn new<'a>(
        handler: &'a mut (dyn StreamHandler + Send + 'a),
        done: Sender<Outcome>,
    ) -> InlineSink {
        let ptr: *mut (dyn StreamHandler + Send + 'a) = handler;
        // SAFETY: only the trait object's lifetime bound changes (same layout);
        // the caller's contract above keeps the pointee alive while it is used.
        let ptr: *mut (dyn StreamHandler + Send + 'static) = unsafe { std::mem::transmute(ptr) };
        InlineSink {
            assembler: Assembler::default(),
            handler: HandlerPtr(ptr),
            done: Some(done),
        }
    }

    fn finish(&mut self, outcome: Outcome) {
        if let Some(done) = self.done.take() {
            let _ = done.send(outcome);
        }
    }
}

impl Sink for InlineSink {
    fn deliver(&mut self, msg: Msg) -> bool {
        if self.done.is_none() {
            return false;
        }
        match msg {
            Msg::Started(request_id) => {
                self.assembler.start(request_id);
                true
            }
            Msg::Event(event) => {
                let (assembler, handler) = (&mut self.assembler, self.handler.0);
                // SAFETY: the outcome has not been sent (checked above), so the
                // caller is still blocked with the handler borrowed for us.
                let handler = unsafe { &mut *handler };
                match catch_unwind(AssertUnwindSafe(|| assembler.handle(event, handler))) {
                    Ok(Flow::Continue) => true,
                    Ok(Flow::Stop) => {
                        let partial = Box::new(self.assembler.partial());
                        self.finish(Outcome::Done(Err(Error::Stopped { partial })));
                        false
                    }
                    Err(payload) => {
                        self.finish(Outcome::Panicked(payload));
                        false
                    }
                }
            }
            Msg::End => {
                let result = std::mem::take(&mut self.assembler).finish();
                self.finish(Outcome::Done(result));
                false
            }
            Msg::Failed(e) => {
                let e = self.assembler.attach(e);
                self.finish(Outcome::Done(Err(e)));
                false
            }
        }
    }

    fn interrupted(&mut self, why: Interrupt) {
        let partial = self.assembler.partial_if_started();
        self.finish(Outcome::Done(Err(why.into_error(partial))));
    }
}

impl Drop for InlineSink {
    /// The task was dropped unfinished: the runtime is shutting down.
    fn drop(&mut self) {
        if self.done.is_some() {
            let partial = self.assembler.partial_if_started();
            self.finish(Outcome::Done(Err(Error::Shutdown { partial })));
        }
    }
}
