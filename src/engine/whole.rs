//! A whole reply where a stream was asked for: when a model cannot stream
//! (or cannot stream tool use), a streaming call goes through Converse and
//! its reply is handed on as the events a stream of it would have carried.
//! [`events`] is that translation, shared by every streaming path.

use aws_sdk_bedrockruntime::types::{ContentBlock, ReasoningContentBlock};

use crate::model::Response;
use crate::sdk::json::document_to_json;
use crate::stream::{BlockStart, Delta, Metadata, Stop, StreamEvent};

/// The events a stream of `response` would have carried, in order.
pub(crate) fn events(response: &Response) -> Vec<StreamEvent> {
    let mut out = vec![StreamEvent::MessageStart {
        role: response.message.role.clone(),
    }];
    for (index, block) in response.message.content.iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let delta = |delta| StreamEvent::Delta { index, delta };
        match block {
            ContentBlock::Text(t) => out.push(delta(Delta::Text(t.clone()))),
            ContentBlock::ToolUse(t) => {
                out.push(StreamEvent::BlockStart {
                    index,
                    start: BlockStart::ToolUse {
                        tool_use_id: t.tool_use_id.clone(),
                        name: t.name.clone(),
                        tool_type: t.r#type.clone(),
                    },
                });
                let input = document_to_json(&t.input).to_string();
                out.push(delta(Delta::ToolUseInput(input)));
            }
            ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(r)) => {
                out.push(delta(Delta::ReasoningText(r.text.clone())));
                if let Some(s) = &r.signature {
                    out.push(delta(Delta::ReasoningSignature(s.clone())));
                }
            }
            ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(b)) => {
                out.push(delta(Delta::RedactedReasoning(b.as_ref().to_vec())));
            }
            ContentBlock::CitationsContent(_) => {
                let text =
                    crate::model::Message::new(response.message.role.clone(), vec![block.clone()])
                        .text();
                out.push(delta(Delta::Text(text)));
            }
            // Other blocks are in the returned response only.
            _ => {}
        }
        out.push(StreamEvent::BlockStop { index });
    }
    if let Some(reason) = &response.stop_reason {
        out.push(StreamEvent::Stop(Stop {
            reason: reason.clone(),
            additional_model_response_fields: response.additional_model_response_fields.clone(),
        }));
    }
    out.push(StreamEvent::Metadata(Metadata {
        usage: response.usage,
        metrics: response.metrics,
        trace: response.trace.clone(),
        performance_config: response.performance_config.clone(),
        service_tier: response.service_tier.clone(),
    }));
    out
}
