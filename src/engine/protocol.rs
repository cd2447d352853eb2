//! What a call's task on the runtime thread and whoever waits for the call
//! say to each other: [`Msg`], [`Interrupt`] and the [`Sink`] messages go to.
//!
//! # One way a call ends
//!
//! Before a call is sent, the caller's thread waits for room under a quota
//! (`client::quota`) and honours the request's token and the deadline
//! itself: nothing has been sent, so nothing needs stopping. Once sent, the
//! engine's task alone ends the call. Every path (`converse`,
//! `converse_with`, `converse_with_on_runtime`, `spawn`, `count_tokens`) gives its
//! task the same [`interrupt`] (the request's token, a call handle's token,
//! the total deadline) and, when it streams, the idle timeout; the task
//! decides how the call ends and delivers that outcome, and the caller only
//! waits for it. A caller that stops waiting for its own reasons (a handler
//! that stopped or panicked) drops its [`Listening`], which stops the task
//! as promptly as a cancel. One exception, and why: [`FromTask`].

use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use crossbeam_channel::{Receiver, Sender};

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::cancel::CancelToken;
use crate::error::{Error, TimeoutKind};
use crate::model::Response;

/// A message from a streaming call's task.
// Events are moved, not boxed: one allocation less per event on the hot path.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Msg {
    /// The reply's headers arrived, with this request id.
    Started(Option<String>),
    /// One stream event.
    Event(ConverseStreamOutput),
    /// The stream ended normally.
    End,
    /// The call failed (before or during the stream).
    Failed(Error),
}

/// Why a call's task was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interrupt {
    /// A cancel token (the request's or a call handle's) was cancelled, or
    /// the caller stopped listening.
    Cancelled,
    /// The total deadline passed.
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

/// A waiting caller's hold on its call's task: dropped on any way out of
/// the wait (the call ended, the handler stopped it or panicked), it stops
/// the task if it still runs, as a cancel would; nobody hears that error.
#[must_use = "dropping it stops the call"]
pub(crate) struct Listening(#[allow(dead_code)] tokio::sync::oneshot::Sender<()>);

/// The task's side of a [`Listening`], for [`interrupt`].
pub(crate) struct Gone(tokio::sync::oneshot::Receiver<()>);

/// A caller's hold on a task it is about to start, and the task's side.
pub(crate) fn listening() -> (Listening, Gone) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    (Listening(tx), Gone(rx))
}

/// How a call's task is stopped from outside: resolves when either token is
/// cancelled, the call's total `deadline` passes, or (with `gone`) the
/// caller drops its [`Listening`] (as [`Interrupt::Cancelled`]).
pub(crate) fn interrupt(
    tokens: [Option<CancelToken>; 2],
    deadline: Option<Instant>,
    gone: Option<Gone>,
) -> impl Future<Output = Interrupt> + Send + 'static {
    let deadline = deadline.map(tokio::time::Instant::from_std);
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
        let gone = async move {
            match gone {
                // Resolves when the sender is dropped (it never sends).
                Some(Gone(rx)) => drop(rx.await),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = cancelled(first) => Interrupt::Cancelled,
            _ = cancelled(second) => Interrupt::Cancelled,
            _ = deadline => Interrupt::Deadline,
            _ = gone => Interrupt::Cancelled,
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

/// A channel of a call's messages to a caller that assembles the reply on
/// its own thread ([`converse_with`](crate::Converser::converse_with)): the
/// task's [`ToCaller`] sink and the caller's [`FromTask`]. `token` is the
/// request's, also in the task's [`interrupt`].
pub(crate) fn to_caller(token: Option<CancelToken>) -> (ToCaller, FromTask) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let ended = Arc::new(OnceLock::new());
    (
        ToCaller {
            tx,
            ended: ended.clone(),
        },
        FromTask { rx, ended, token },
    )
}

/// The sink of [`converse_with`](crate::Converser::converse_with): every
/// message goes to the calling thread, which assembles the reply itself; an
/// interrupt goes there as the error it ends the call with.
pub(crate) struct ToCaller {
    tx: Sender<Msg>,
    /// The interrupt that ended the call, for a caller with events queued.
    ended: Arc<OnceLock<Interrupt>>,
}

impl Sink for ToCaller {
    fn deliver(&mut self, msg: Msg) -> bool {
        self.tx.send(msg).is_ok()
    }

    fn interrupted(&mut self, why: Interrupt) {
        // First the flag, for a caller busy with queued events; then the
        // message, for a caller blocked on an empty queue.
        let _ = self.ended.set(why);
        let _ = self.tx.send(Msg::Failed(why.into_error(None)));
    }
}

/// The caller's end of [`to_caller`]: the task's messages in order, except
/// that once the task has been interrupted, the interrupt's error comes
/// next, ahead of events still queued (a handler slower than the stream
/// would otherwise work through the backlog past a cancel or the deadline).
///
/// The one exception to "the task alone ends a sent call": with events
/// queued, the caller also looks at the request's token before each one.
/// A cancel must end the call at the next event even while the runtime
/// thread does not run (descheduled on a busy machine, or reading on for
/// tokio's whole budget on a stream that never pauses), and only the
/// caller's thread is there to see it then. It ends the call as the task
/// would, with [`Interrupt::Cancelled`]'s error, and the caller's
/// [`Listening`], dropped, stops the task.
pub(crate) struct FromTask {
    rx: Receiver<Msg>,
    ended: Arc<OnceLock<Interrupt>>,
    token: Option<CancelToken>,
}

impl FromTask {
    /// The next message; `None` when the task is gone without a word (the
    /// runtime shut down).
    pub(crate) fn recv(&self) -> Option<Msg> {
        let why = match self.ended.get() {
            Some(why) => Some(*why),
            None => self
                .token
                .as_ref()
                .is_some_and(CancelToken::is_cancelled)
                .then_some(Interrupt::Cancelled),
        };
        if let Some(why) = why {
            return Some(Msg::Failed(why.into_error(None)));
        }
        self.rx.recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_bedrockruntime::types::{ContentBlockDelta, ContentBlockDeltaEvent};

    use super::*;

    fn event(n: usize) -> Msg {
        Msg::Event(ConverseStreamOutput::ContentBlockDelta(
            ContentBlockDeltaEvent::builder()
                .content_block_index(0)
                .delta(ContentBlockDelta::Text(n.to_string()))
                .build()
                .unwrap(),
        ))
    }

    fn text(msg: Option<Msg>) -> String {
        match msg {
            Some(Msg::Event(ConverseStreamOutput::ContentBlockDelta(d))) => {
                d.delta.unwrap().as_text().unwrap().clone()
            }
            _ => panic!("not an event"),
        }
    }

    #[test]
    fn the_caller_gets_every_message_in_order_until_an_interrupt() {
        let (mut sink, from) = to_caller(None);
        assert!(sink.deliver(Msg::Started(Some("r".into()))));
        for n in 0..100 {
            assert!(sink.deliver(event(n)));
        }
        assert!(matches!(from.recv(), Some(Msg::Started(Some(id))) if id == "r"));
        for n in 0..100 {
            assert_eq!(text(from.recv()), n.to_string());
        }
    }

    #[test]
    fn an_interrupt_comes_ahead_of_a_backlog_and_stays() {
        for why in [Interrupt::Cancelled, Interrupt::Deadline] {
            let (mut sink, from) = to_caller(None);
            sink.deliver(Msg::Started(None));
            for n in 0..100 {
                sink.deliver(event(n));
            }
            assert!(matches!(from.recv(), Some(Msg::Started(None))));
            assert_eq!(text(from.recv()), "0");
            sink.interrupted(why);
            for _ in 0..2 {
                match from.recv() {
                    Some(Msg::Failed(e)) => assert_eq!(
                        (e.is_cancelled(), e.is_timeout()),
                        (why == Interrupt::Cancelled, why == Interrupt::Deadline),
                    ),
                    _ => panic!("{why:?}: the backlog came before the interrupt"),
                }
            }
        }
    }

    #[test]
    fn a_cancel_ends_the_call_at_the_next_message_even_before_the_task_sees_it() {
        let token = CancelToken::new();
        let (mut sink, from) = to_caller(Some(token.clone()));
        sink.deliver(Msg::Started(None));
        for n in 0..100 {
            assert!(sink.deliver(event(n)));
        }
        assert!(matches!(from.recv(), Some(Msg::Started(None))));
        // The task has not run since: the caller sees the cancel itself.
        token.cancel();
        for _ in 0..2 {
            assert!(matches!(
                from.recv(),
                Some(Msg::Failed(Error::Cancelled { .. }))
            ));
        }
    }

    #[test]
    fn an_interrupt_reaches_a_caller_blocked_on_an_empty_queue() {
        let (mut sink, from) = to_caller(None);
        let interrupter = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            sink.interrupted(Interrupt::Cancelled);
            sink
        });
        assert!(matches!(
            from.recv(),
            Some(Msg::Failed(Error::Cancelled { partial: None }))
        ));
        drop(interrupter.join().unwrap());
        // The task gone: still the interrupt, never a shutdown.
        assert!(matches!(
            from.recv(),
            Some(Msg::Failed(Error::Cancelled { .. }))
        ));
    }

    #[test]
    fn the_interrupt_resolves_for_each_source_and_not_before() {
        use std::time::Duration;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let cancelled = CancelToken::new();
            cancelled.cancel();
            for tokens in [[Some(cancelled.clone()), None], [None, Some(cancelled)]] {
                assert_eq!(interrupt(tokens, None, None).await, Interrupt::Cancelled);
            }
            let deadline = Instant::now() + Duration::from_millis(30);
            let why = interrupt([Some(CancelToken::new()), None], Some(deadline), None).await;
            assert_eq!(why, Interrupt::Deadline);
            assert!(Instant::now() >= deadline);
            // The caller's hold: nothing while held, a cancel once dropped.
            let (hold, gone) = listening();
            let waiting = interrupt([Some(CancelToken::new()), None], None, Some(gone));
            tokio::pin!(waiting);
            let early = tokio::time::timeout(Duration::from_millis(30), waiting.as_mut()).await;
            assert!(early.is_err(), "resolved with every source quiet");
            drop(hold);
            assert_eq!(waiting.await, Interrupt::Cancelled);
        });
    }

    #[test]
    fn a_task_gone_without_a_word_is_none_and_a_listener_gone_is_seen() {
        let (sink, from) = to_caller(None);
        drop(sink);
        assert!(from.recv().is_none());
        let (mut sink, from) = to_caller(None);
        drop(from);
        assert!(!sink.deliver(Msg::End));
    }
}
