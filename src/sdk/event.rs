//! The SDK's stream events as ours: one [`ConverseStreamOutput`] becomes
//! one [`StreamEvent`].

use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockStart, ConverseStreamOutput, ReasoningContentBlockDelta,
};

use super::json::document_to_json;
use super::response::non_negative;
use crate::model::{Metrics, Trace, Usage};
use crate::stream::{BlockStart, Delta, Metadata, Stop, StreamEvent};

/// The event a handler sees for `event`, or `None` for an event this version
/// of the SDK does not know (it is logged).
pub(crate) fn stream_event(event: ConverseStreamOutput) -> Option<StreamEvent> {
    Some(match event {
        ConverseStreamOutput::MessageStart(e) => StreamEvent::MessageStart { role: e.role },
        ConverseStreamOutput::ContentBlockStart(e) => {
            let index = non_negative(e.content_block_index);
            let start = match e.start {
                Some(ContentBlockStart::ToolUse(t)) => BlockStart::ToolUse {
                    tool_use_id: t.tool_use_id,
                    name: t.name,
                    tool_type: t.r#type,
                },
                Some(ContentBlockStart::ToolResult(t)) => BlockStart::ToolResult {
                    tool_use_id: t.tool_use_id,
                    tool_type: t.r#type,
                    status: t.status,
                },
                Some(ContentBlockStart::Image(i)) => BlockStart::Image { format: i.format },
                Some(other) => {
                    log::warn!(
                        "content block {index} starts with a kind unknown to the SDK: {other:?}"
                    );
                    BlockStart::Unknown(format!(
                        "contentBlockStart {index} of a kind unknown to the SDK"
                    ))
                }
                None => BlockStart::Unknown(format!("contentBlockStart {index} with no start")),
            };
            StreamEvent::BlockStart { index, start }
        }
        ConverseStreamOutput::ContentBlockDelta(e) => {
            let index = non_negative(e.content_block_index);
            let delta = match e.delta {
                Some(ContentBlockDelta::Text(t)) => Delta::Text(t),
                Some(ContentBlockDelta::ToolUse(t)) => Delta::ToolUseInput(t.input),
                Some(ContentBlockDelta::ReasoningContent(r)) => match r {
                    ReasoningContentBlockDelta::Text(t) => Delta::ReasoningText(t),
                    ReasoningContentBlockDelta::Signature(s) => Delta::ReasoningSignature(s),
                    ReasoningContentBlockDelta::RedactedContent(b) => {
                        Delta::RedactedReasoning(b.into_inner())
                    }
                    _ => Delta::Unknown(format!(
                        "reasoningContent delta of a kind unknown to the SDK in block {index}"
                    )),
                },
                Some(ContentBlockDelta::Citation(c)) => Delta::Citation(c),
                Some(ContentBlockDelta::ToolResult(r)) => Delta::ToolResult(r),
                Some(ContentBlockDelta::Image(i)) => Delta::Image(i),
                Some(_) => Delta::Unknown(format!(
                    "contentBlockDelta of a kind unknown to the SDK in block {index}"
                )),
                None => Delta::Unknown(format!("contentBlockDelta with no delta in block {index}")),
            };
            StreamEvent::Delta { index, delta }
        }
        ConverseStreamOutput::ContentBlockStop(e) => StreamEvent::BlockStop {
            index: non_negative(e.content_block_index),
        },
        ConverseStreamOutput::MessageStop(e) => StreamEvent::Stop(Stop {
            reason: e.stop_reason,
            additional_model_response_fields: e
                .additional_model_response_fields
                .as_ref()
                .map(document_to_json),
        }),
        ConverseStreamOutput::Metadata(e) => StreamEvent::Metadata(Metadata {
            usage: e.usage.as_ref().map(Usage::from),
            metrics: e.metrics.as_ref().map(Metrics::from),
            trace: e.trace.map(Trace::from),
            performance_config: e.performance_config,
            service_tier: e.service_tier,
        }),
        other => {
            log::warn!("ignoring a stream event unknown to the SDK: {other:?}");
            return None;
        }
    })
}
