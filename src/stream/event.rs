//! What the callbacks receive: [`Delta`], [`BlockStart`], [`Stop`] and
//! [`Metadata`].

use aws_sdk_bedrockruntime::types::{
    CitationsDelta, ImageBlockDelta, ImageFormat, PerformanceConfiguration, ServiceTier,
    StopReason, ToolResultBlockDelta, ToolResultStatus, ToolUseType,
};
use serde_json::Value;

use crate::model::{Metrics, Trace, Usage};

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
    /// A citation for the text of the same block. The assembled block is a
    /// [`CitationsContent`](crate::types::ContentBlock::CitationsContent) block
    /// holding the block's text and every citation, in order.
    Citation(CitationsDelta),
    /// Content of a tool result block (the result of a tool the service ran
    /// itself, announced by [`BlockStart::ToolResult`]).
    ToolResult(Vec<ToolResultBlockDelta>),
    /// Content of an image block the model generates (announced by
    /// [`BlockStart::Image`]).
    Image(ImageBlockDelta),
    /// A delta of a kind this version of the SDK does not know. The service's
    /// payload is not available (the SDK drops it); the string describes
    /// where it was seen. It is passed to the handler and logged, but cannot
    /// be part of the assembled [`Response`](crate::Response).
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

    /// The fragment of a [`Delta::ToolUseInput`], or `None`.
    pub fn tool_input(&self) -> Option<&str> {
        match self {
            Delta::ToolUseInput(t) => Some(t),
            _ => None,
        }
    }

    /// The text of a [`Delta::ReasoningText`], or `None`.
    pub fn reasoning_text(&self) -> Option<&str> {
        match self {
            Delta::ReasoningText(t) => Some(t),
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
    #[non_exhaustive]
    ToolUse {
        /// The id to quote in the tool result.
        tool_use_id: String,
        /// The tool's name.
        name: String,
        /// `Some(ServerToolUse)` when the service runs the tool itself
        /// (its result follows in the same reply); `None` for your tools.
        tool_type: Option<ToolUseType>,
    },
    /// The result of a tool the service ran itself.
    #[non_exhaustive]
    ToolResult {
        /// The tool use this is the result of.
        tool_use_id: String,
        /// The kind of tool result, as the service names it.
        tool_type: Option<String>,
        /// Whether the tool succeeded.
        status: Option<ToolResultStatus>,
    },
    /// An image the model generates.
    #[non_exhaustive]
    Image {
        /// The image's format.
        format: ImageFormat,
    },
    /// A block start of a kind this version of the SDK does not know (its
    /// payload is not available; the string says where it was seen).
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
    /// The guardrail assessment and prompt router trace, when a guardrail
    /// with tracing or a prompt router was used.
    pub trace: Option<Trace>,
    /// The performance setting the request was served with.
    pub performance_config: Option<PerformanceConfiguration>,
    /// The service tier the request was served with.
    pub service_tier: Option<ServiceTier>,
}
