//! The callback trait, [`StreamHandler`], and its events as one owned value,
//! [`StreamEvent`].
//!
//! A callback is declared in one place: a method of the trait, a variant of
//! [`StreamEvent`] and its arm in [`StreamEvent::dispatch`], all in this file.
//! The engine calls only [`StreamHandler::on_event`], so nothing else changes
//! when a callback is added.

use aws_sdk_bedrockruntime::types::ConversationRole;
use std::ops::ControlFlow;

use super::event::{BlockStart, Delta, Metadata, Stop};

/// Receives a streamed reply as it arrives.
///
/// Every method has a default that does nothing, so implement only what you
/// need. Callbacks run **on the thread that called**
/// [`converse_with`](crate::Converser::converse_with), in wire order, so a
/// handler may hold non-`Send` state (an `Rc`, a GUI handle, a `RefCell`).
/// Each callback returns std's [`ControlFlow<()>`]: `ControlFlow::Continue(())`
/// to keep streaming, `ControlFlow::Break(())` to drop the stream now (the
/// call then returns [`Error::Stopped`](crate::Error::Stopped) holding
/// everything received so far).
///
/// Every event reaches [`on_event`](StreamHandler::on_event) first, whose
/// default passes it to the matching method; override `on_event` instead to
/// see them all as one [`StreamEvent`].
///
/// ```
/// use std::ops::ControlFlow;
/// use bedrock_converse::{Delta, StreamHandler};
///
/// #[derive(Default)]
/// struct Collect(String);
/// impl StreamHandler for Collect {
///     fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
///         if let Some(text) = delta.text() {
///             self.0.push_str(text);
///         }
///         ControlFlow::Continue(())
///     }
/// }
///
/// let mut collect = Collect::default();
/// let flow = collect.on_delta(0, &Delta::Text("Hi".into()));
/// assert_eq!((flow, collect.0.as_str()), (ControlFlow::Continue(()), "Hi"));
/// ```
#[allow(unused_variables)]
pub trait StreamHandler {
    /// The reply has begun; `role` is the speaker (always the assistant today).
    fn on_message_start(&mut self, role: &ConversationRole) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// Content block `index` has started (sent for tool use, tool results and
    /// images; not for text or reasoning).
    fn on_block_start(&mut self, index: u32, start: &BlockStart) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// A piece of content block `index` has arrived.
    fn on_delta(&mut self, index: u32, delta: &Delta) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// Content block `index` is complete.
    fn on_block_stop(&mut self, index: u32) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// The message is complete; `stop.reason` says why.
    fn on_stop(&mut self, stop: &Stop) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// Usage, metrics, trace and performance settings, sent after the
    /// message stops.
    fn on_metadata(&mut self, metadata: &Metadata) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    /// Every event, before any other method: the default passes it to the
    /// matching method above ([`StreamEvent::dispatch`]).
    fn on_event(&mut self, event: &StreamEvent) -> ControlFlow<()> {
        event.dispatch(self)
    }
}

/// One [`StreamHandler`] callback as an owned, `Send` value, so that stream
/// events can cross threads (see [`CallHandle::events`](crate::CallHandle::events)).
///
/// ```
/// use bedrock_converse::{Delta, StreamEvent};
/// let event = StreamEvent::Delta { index: 0, delta: Delta::Text("Hi".into()) };
/// assert_eq!(event.text(), Some("Hi"));
/// ```
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

    /// Passes this event to the matching method of `handler` (not to its
    /// [`on_event`](StreamHandler::on_event)), returning what it returns.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use bedrock_converse::{StreamEvent, StreamHandler};
    ///
    /// struct StopAtBlockEnd;
    /// impl StreamHandler for StopAtBlockEnd {
    ///     fn on_block_stop(&mut self, _index: u32) -> ControlFlow<()> { ControlFlow::Break(()) }
    /// }
    /// let flow = StreamEvent::BlockStop { index: 0 }.dispatch(&mut StopAtBlockEnd);
    /// assert_eq!(flow, ControlFlow::Break(()));
    /// ```
    pub fn dispatch<H: StreamHandler + ?Sized>(&self, handler: &mut H) -> ControlFlow<()> {
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

/// A borrowed handler is a handler: every method forwards, `on_event`
/// included, so an override of either kind is kept.
impl<H: StreamHandler + ?Sized> StreamHandler for &mut H {
    fn on_message_start(&mut self, role: &ConversationRole) -> ControlFlow<()> {
        (**self).on_message_start(role)
    }
    fn on_block_start(&mut self, index: u32, start: &BlockStart) -> ControlFlow<()> {
        (**self).on_block_start(index, start)
    }
    fn on_delta(&mut self, index: u32, delta: &Delta) -> ControlFlow<()> {
        (**self).on_delta(index, delta)
    }
    fn on_block_stop(&mut self, index: u32) -> ControlFlow<()> {
        (**self).on_block_stop(index)
    }
    fn on_stop(&mut self, stop: &Stop) -> ControlFlow<()> {
        (**self).on_stop(stop)
    }
    fn on_metadata(&mut self, metadata: &Metadata) -> ControlFlow<()> {
        (**self).on_metadata(metadata)
    }
    fn on_event(&mut self, event: &StreamEvent) -> ControlFlow<()> {
        (**self).on_event(event)
    }
}

/// A handler that ignores every event: `converse_with(&req, &mut NoopHandler)`
/// streams and returns the assembled [`Response`](crate::Response).
///
/// ```
/// use std::ops::ControlFlow;
/// use bedrock_converse::stream::{NoopHandler, StreamHandler};
/// assert_eq!(NoopHandler.on_block_stop(0), ControlFlow::Continue(()));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopHandler;

impl StreamHandler for NoopHandler {}
