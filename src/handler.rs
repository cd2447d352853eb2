//! Streaming callbacks: [`StreamHandler`] and the event types it receives.

use aws_sdk_bedrockruntime::types::{CitationsDelta, ConversationRole, StopReason};
use serde_json::Value;

use crate::response::{Metrics, Usage};

/// What a [`StreamHandler`] callback wants next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub enum Flow {
    /// Keep streaming.
    #[default]
    Continue,
    /// Drop the stream now: the call returns [`Error::Stopped`](crate::Error::Stopped)
    /// holding everything received so far.
    Stop,
}

/// A piece of a content block, as streamed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Delta {
    /// Text to append to a text block.
    Text(String),
    /// A fragment of a tool call's JSON input; the fragments of a block joined
    /// together form the JSON document.
    ToolUseInput(String),
    /// Text of a reasoning (extended thinking) block.
    ReasoningText(String),
    /// The signature of a reasoning block, to be sent back in later turns.
    ReasoningSignature(String),
    /// Encrypted reasoning content.
    RedactedReasoning(Vec<u8>),
    /// A citation for the generated text.
    Citation(CitationsDelta),
    /// A delta of a kind this version of the library does not know; its
    /// debug description is kept.
    Unknown(String),
}

impl Delta {
    /// The text of a [`Delta::Text`], or `None`.
    pub fn text(&self) -> Option<&str> {
        match self {
            Delta::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// The start of a content block that announces itself (tool use does; text
/// blocks do not).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BlockStart {
    /// The model is calling a tool.
    ToolUse {
        /// The id to quote in the tool result.
        tool_use_id: String,
        /// The tool's name.
        name: String,
    },
    /// A block start of a kind this version of the library does not know.
    Unknown(String),
}

/// The end of the message: why the model stopped.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Stop {
    /// The stop reason (`end_turn`, `tool_use`, `max_tokens`, …).
    pub reason: StopReason,
    /// Model-specific response fields, as JSON.
    pub additional_model_response_fields: Option<Value>,
}

/// The metadata that ends a stream.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Metadata {
    /// Token counts.
    pub usage: Option<Usage>,
    /// Service-side timing.
    pub metrics: Option<Metrics>,
}

/// Receives a streamed reply as it arrives.
///
/// Every method has a default that does nothing, so implement only what you
/// need. Callbacks run **on the thread that called**
/// [`converse_with`](crate::Converser::converse_with), in wire order, so a
/// handler may hold non-`Send` state (an `Rc`, a GUI handle, a `RefCell`).
/// Return [`Flow::Stop`] from any callback to end the stream early.
///
/// ```
/// use bedrock_converse::{Delta, Flow, StreamHandler};
///
/// struct Print;
/// impl StreamHandler for Print {
///     fn on_delta(&mut self, _index: u32, delta: &Delta) -> Flow {
///         if let Some(text) = delta.text() {
///             print!("{text}");
///         }
///         Flow::Continue
///     }
/// }
/// ```
#[allow(unused_variables)]
pub trait StreamHandler {
    /// The reply has begun; `role` is the speaker (always the assistant today).
    fn on_message_start(&mut self, role: &ConversationRole) -> Flow {
        Flow::Continue
    }

    /// Content block `index` has started (sent for tool use, not for text).
    fn on_block_start(&mut self, index: u32, start: &BlockStart) -> Flow {
        Flow::Continue
    }

    /// A piece of content block `index` has arrived.
    fn on_delta(&mut self, index: u32, delta: &Delta) -> Flow {
        Flow::Continue
    }

    /// Content block `index` is complete.
    fn on_block_stop(&mut self, index: u32) -> Flow {
        Flow::Continue
    }

    /// The message is complete; `stop.reason` says why.
    fn on_stop(&mut self, stop: &Stop) -> Flow {
        Flow::Continue
    }

    /// Usage and metrics, sent after the message stops.
    fn on_metadata(&mut self, metadata: &Metadata) -> Flow {
        Flow::Continue
    }
}

impl<H: StreamHandler + ?Sized> StreamHandler for &mut H {
    fn on_message_start(&mut self, role: &ConversationRole) -> Flow {
        (**self).on_message_start(role)
    }
    fn on_block_start(&mut self, index: u32, start: &BlockStart) -> Flow {
        (**self).on_block_start(index, start)
    }
    fn on_delta(&mut self, index: u32, delta: &Delta) -> Flow {
        (**self).on_delta(index, delta)
    }
    fn on_block_stop(&mut self, index: u32) -> Flow {
        (**self).on_block_stop(index)
    }
    fn on_stop(&mut self, stop: &Stop) -> Flow {
        (**self).on_stop(stop)
    }
    fn on_metadata(&mut self, metadata: &Metadata) -> Flow {
        (**self).on_metadata(metadata)
    }
}

/// A handler that ignores every event: `converse_with(&req, &mut NoopHandler)`
/// streams and returns the assembled [`Response`](crate::Response).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopHandler;

impl StreamHandler for NoopHandler {}
