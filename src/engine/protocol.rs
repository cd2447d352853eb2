//! What a call's task on the runtime thread and whoever waits for the call
//! say to each other: [`Msg`], [`Interrupt`] and the [`Sink`] messages go to.

use aws_sdk_bedrockruntime::types::ConverseStreamOutput;

use std::future::Future;
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

/// Why a streaming task was stopped from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interrupt {
    /// A cancel token (the request's or a call handle's) was cancelled.
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

/// For a call run wholly on the runtime thread: resolves when either token
/// is cancelled or the call's total `deadline` passes.
pub(crate) fn interrupt(
    tokens: [Option<CancelToken>; 2],
    deadline: Option<Instant>,
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
        tokio::select! {
            _ = cancelled(first) => Interrupt::Cancelled,
            _ = cancelled(second) => Interrupt::Cancelled,
            _ = deadline => Interrupt::Deadline,
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

/// The sink of [`converse_with`](crate::Converser::converse_with): every
/// message goes to the calling thread, which assembles the reply itself.
impl Sink for crossbeam_channel::Sender<Msg> {
    fn deliver(&mut self, msg: Msg) -> bool {
        self.send(msg).is_ok()
    }
}
