//! Streaming with the handler on the runtime thread:
//! [`Converser::converse_with_on_runtime`](crate::Converser::converse_with_on_runtime).
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
//!
//! This is the crate's only `unsafe` code. [`run`] is its safe entry: it
//! returns only once the sink has let go of the handler, whatever `start`
//! did with the sink.
#![allow(unsafe_code)]

use std::any::Any;
use std::ops::ControlFlow;
use std::panic::{catch_unwind, AssertUnwindSafe};

use std::sync::{Arc, Condvar, Mutex};

use super::assemble::{Assembler, Step};
use super::protocol::{Interrupt, Msg, Sink};
use crate::error::Error;
use crate::model::Response;
use crate::stream::StreamHandler;

/// Runs a call whose `handler` is called on another thread (the runtime's):
/// `start` gets the sink that calls it and hands it to a task. Returns the
/// call's result once the sink has let go of the handler; a handler panic
/// resumes here. If `start` fails, its error is returned, after the sink it
/// was given has been dropped.
pub(crate) fn run<H: StreamHandler + Send>(
    handler: &mut H,
    start: impl FnOnce(InlineSink) -> Result<(), Error>,
) -> Result<Response, Error> {
    let slot = Arc::new(Slot::default());
    // Declared before the sink, so it is dropped after it on every way out.
    let mut waiting = Waiting {
        slot: &slot,
        waited: false,
    };
    // SAFETY: this function returns or unwinds only after the outcome has
    // been taken from `slot`: `waiting.outcome()` takes it on return, and
    // `waiting`'s drop takes it on unwinding (a `start` that panicked, even
    // after handing the sink to another thread). The sink puts the outcome
    // only after its last use of the handler, and puts it on every path:
    // when the call ends, when it is interrupted, and when the sink is
    // dropped unfinished (so also when `start` drops it). Until then
    // `handler` stays mutably borrowed here and unused. Were the sink
    // leaked, the wait would block forever: a hang, never a dangling pointer.
    let sink = unsafe { InlineSink::new(handler, slot.clone()) };
    let started = start(sink);
    let outcome = waiting.outcome();
    started?;
    match outcome {
        Outcome::Done(result) => result,
        Outcome::Panicked(payload) => std::panic::resume_unwind(payload),
    }
}

/// The caller's wait for the outcome, on every way out of [`run`]: taken
/// with [`outcome`](Waiting::outcome), or, if `run` unwinds first, when
/// dropped. So the handler stays borrowed until the sink is done with it
/// whatever `start` does, by construction.
struct Waiting<'s> {
    slot: &'s Slot,
    waited: bool,
}

impl Waiting<'_> {
    fn outcome(&mut self) -> Outcome {
        self.waited = true;
        self.slot.wait()
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if !self.waited {
            drop(self.slot.wait());
        }
    }
}

/// How an inline call ended, sent once to the waiting caller.
// Sent once per call, moved not boxed: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    /// The call's result.
    Done(Result<Response, Error>),
    /// The handler panicked: the payload, to resume on the calling thread.
    Panicked(Box<dyn Any + Send + 'static>),
}

/// Where the outcome waits for the caller, who sleeps on it.
///
/// Not a channel: the caller waits for a whole call, and a channel's receive
/// spins and yields before it parks, CPU taken from the runtime thread when
/// many callers share few cores. The sink always fills it, even when dropped
/// unfinished, so [`Slot::wait`] always returns.
#[derive(Default)]
struct Slot {
    outcome: Mutex<Option<Outcome>>,
    filled: Condvar,
}

impl Slot {
    fn fill(&self, outcome: Outcome) {
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
        self.filled.notify_one();
    }

    /// Blocks until the sink has sent its outcome.
    fn wait(&self) -> Outcome {
        let mut slot = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(outcome) = slot.take() {
                return outcome;
            }
            slot = self.filled.wait(slot).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The caller's handler, its lifetime erased.
///
/// Only [`InlineSink`] holds one, and it dereferences the pointer only before
/// it sends its [`Outcome`]: see the safety argument on
/// [`InlineSink::new`].
struct HandlerPtr(*mut (dyn StreamHandler + Send + 'static));

// SAFETY: the pointee is `Send` (the bound on `converse_with_on_runtime`), and the
// pointer is used by one thread at a time: the caller does not touch the
// handler while it is blocked waiting for the outcome.
unsafe impl Send for HandlerPtr {}

/// Assembles an inline call on the runtime thread, calling the handler there.
pub(crate) struct InlineSink {
    assembler: Assembler,
    handler: HandlerPtr,
    /// `Some` until the outcome is sent; after that the handler is never used.
    done: Option<Arc<Slot>>,
}

impl InlineSink {
    /// A sink calling `handler`, and putting the outcome in `done`.
    ///
    /// # Safety
    ///
    /// The caller must keep `handler` borrowed, and not use it, until it has
    /// taken the [`Outcome`] from `done` (or the sink has been dropped
    /// without ever running). The sink calls the handler only before it puts
    /// the outcome, so from then on the handler is no longer used.
    unsafe fn new<'a>(
        handler: &'a mut (dyn StreamHandler + Send + 'a),
        done: Arc<Slot>,
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
            done.fill(outcome);
        }
    }
}

impl Sink for InlineSink {
    fn deliver(&mut self, msg: Msg) -> bool {
        if self.done.is_none() {
            return false;
        }
        match self.assembler.take(msg) {
            Step::Recorded => true,
            Step::Event(event) => {
                let (assembler, handler) = (&mut self.assembler, self.handler.0);
                // SAFETY: the outcome has not been sent (checked above), so the
                // caller is still blocked with the handler borrowed for us.
                let handler = unsafe { &mut *handler };
                match catch_unwind(AssertUnwindSafe(|| assembler.handle(event, handler))) {
                    Ok(ControlFlow::Continue(())) => true,
                    Ok(ControlFlow::Break(())) => {
                        let stopped = self.assembler.stopped();
                        self.finish(Outcome::Done(Err(stopped)));
                        false
                    }
                    Err(payload) => {
                        self.finish(Outcome::Panicked(payload));
                        false
                    }
                }
            }
            Step::Ended(result) => {
                self.finish(Outcome::Done(result));
                false
            }
        }
    }

    fn interrupted(&mut self, why: Interrupt) {
        let error = self.assembler.interrupted(why);
        self.finish(Outcome::Done(Err(error)));
    }
}

impl Drop for InlineSink {
    /// The task was dropped unfinished: the runtime is shutting down.
    fn drop(&mut self) {
        if self.done.is_some() {
            let error = self.assembler.shut_down();
            self.finish(Outcome::Done(Err(error)));
        }
    }
}

/// The hand-off alone, without I/O or a runtime: a plain thread plays the
/// runtime's part, so these also run under Miri (`cargo +nightly miri test
/// --lib engine::inline`), which checks the `unsafe` above.
#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::thread::JoinHandle;

    use aws_sdk_bedrockruntime::types::{
        ContentBlockDelta, ContentBlockDeltaEvent, ConverseStreamOutput, MessageStopEvent,
        StopReason,
    };

    use super::*;
    use crate::stream::Delta;

    fn text(t: &str) -> Msg {
        Msg::Event(ConverseStreamOutput::ContentBlockDelta(
            ContentBlockDeltaEvent::builder()
                .content_block_index(0)
                .delta(ContentBlockDelta::Text(t.into()))
                .build()
                .unwrap(),
        ))
    }

    fn stop() -> Msg {
        Msg::Event(ConverseStreamOutput::MessageStop(
            MessageStopEvent::builder()
                .stop_reason(StopReason::EndTurn)
                .build()
                .unwrap(),
        ))
    }

    #[derive(Default)]
    struct Collect {
        text: String,
        calls: usize,
        stop_at: Option<usize>,
        panic_at: Option<usize>,
    }

    impl StreamHandler for Collect {
        fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
            self.calls += 1;
            if Some(self.calls) == self.panic_at {
                panic!("handler blew up");
            }
            self.text.push_str(delta.text().unwrap_or_default());
            if Some(self.calls) == self.stop_at {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
    }

    /// Starts a thread that delivers `msgs` to the sink (as long as it takes
    /// them, then drops it), keeping its handle in `feeder`.
    fn feed(
        msgs: Vec<Msg>,
        feeder: &Mutex<Option<JoinHandle<usize>>>,
    ) -> impl FnOnce(InlineSink) -> Result<(), Error> + '_ {
        move |mut sink| {
            let handle = std::thread::spawn(move || {
                let mut taken = 0;
                for msg in msgs {
                    taken += 1;
                    if !sink.deliver(msg) {
                        break;
                    }
                }
                taken
            });
            *feeder.lock().unwrap() = Some(handle);
            Ok(())
        }
    }

    fn join(feeder: &Mutex<Option<JoinHandle<usize>>>) -> usize {
        feeder.lock().unwrap().take().unwrap().join().unwrap()
    }

    #[test]
    fn a_whole_stream_reaches_the_handler_and_the_result() {
        let feeder = Mutex::new(None);
        let mut handler = Collect::default();
        let msgs = vec![
            Msg::Started(Some("r1".into())),
            text("Hel"),
            text("lo"),
            stop(),
            Msg::End,
        ];
        let reply = run(&mut handler, feed(msgs, &feeder)).unwrap();
        assert_eq!(join(&feeder), 5);
        assert_eq!(
            (reply.text(), handler.text.as_str()),
            ("Hello".into(), "Hello")
        );
        assert_eq!(reply.request_id.as_deref(), Some("r1"));
    }

    #[test]
    fn the_handler_is_never_used_after_a_stop_returns() {
        let feeder = Mutex::new(None);
        let mut handler = Collect {
            stop_at: Some(1),
            ..Default::default()
        };
        let msgs = vec![
            Msg::Started(None),
            text("a"),
            text("b"),
            text("c"),
            stop(),
            Msg::End,
        ];
        let err = run(&mut handler, feed(msgs, &feeder)).unwrap_err();
        assert!(matches!(err, Error::Stopped { .. }), "{err:?}");
        assert_eq!(err.partial_response().unwrap().text(), "a");
        // The delivery that stopped the call was the sink's last: it said so,
        // and the handler saw no more.
        assert_eq!(join(&feeder), 2);
        assert_eq!(handler.calls, 1);
    }

    #[test]
    fn a_sink_dropped_unfinished_ends_the_call_with_shutdown() {
        let feeder = Mutex::new(None);
        let mut handler = Collect::default();
        let msgs = vec![Msg::Started(None), text("ab")];
        let err = run(&mut handler, feed(msgs, &feeder)).unwrap_err();
        assert!(matches!(err, Error::Shutdown { .. }), "{err:?}");
        assert_eq!(err.partial_response().unwrap().text(), "ab");
        assert_eq!(handler.text, "ab");
        join(&feeder);
    }

    #[test]
    fn a_start_that_panics_after_handing_off_the_sink_unwinds_only_once_the_sink_is_done() {
        let mut handler = Collect::default();
        let msgs = vec![Msg::Started(None), text("a"), text("b"), stop(), Msg::End];
        let mut feeder = None;
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            run(&mut handler, |mut sink| {
                // The task is slow to start: without a wait on unwinding,
                // `run` would be long gone when it uses the handler.
                feeder = Some(std::thread::spawn(move || {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    for msg in msgs {
                        if !sink.deliver(msg) {
                            break;
                        }
                    }
                }));
                // A panic without the hook's report, which takes long
                // enough to hide a missing wait.
                std::panic::resume_unwind(Box::new("start blew up after the hand-off"));
            })
        }));
        let payload = unwound.expect_err("the panic goes on to the caller");
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"start blew up after the hand-off")
        );
        // By the time `run` let the panic through, the sink had finished
        // with the handler: every delivery happened, none after.
        assert_eq!(handler.text, "ab");
        assert_eq!(handler.calls, 2);
        feeder.expect("started").join().unwrap();
    }

    #[test]
    fn a_start_that_fails_returns_its_error_after_dropping_the_sink() {
        let mut handler = Collect::default();
        let err = run(&mut handler, |sink| {
            drop(sink);
            Err(Error::config("no runtime"))
        })
        .unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
        assert_eq!(handler.calls, 0);
    }

    #[test]
    fn a_handler_panic_resumes_on_the_caller_and_nothing_runs_after() {
        let feeder = Mutex::new(None);
        let mut handler = Collect {
            panic_at: Some(2),
            ..Default::default()
        };
        let msgs = vec![
            Msg::Started(None),
            text("a"),
            text("b"),
            text("c"),
            Msg::End,
        ];
        let payload =
            std::panic::catch_unwind(AssertUnwindSafe(|| run(&mut handler, feed(msgs, &feeder))))
                .unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"handler blew up"));
        assert_eq!(join(&feeder), 3);
        assert_eq!((handler.calls, handler.text.as_str()), (2, "a"));
    }
}
