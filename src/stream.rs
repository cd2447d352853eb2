//! Turns stream events into handler callbacks and an assembled [`Response`].

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ContentBlockDelta, ContentBlockStart, ConverseStreamOutput,
    ReasoningContentBlock, ReasoningContentBlockDelta, ReasoningTextBlock, ToolUseBlock,
};
use aws_smithy_types::{Blob, Document};

use crate::document::{document_to_json, json_to_document};
use crate::error::Error;
use crate::handler::{BlockStart, Delta, Flow, Metadata, Stop, StreamHandler};
use crate::response::{Metrics, Response, Usage};

/// One content block being built from its deltas.
#[derive(Debug, Clone)]
enum Block {
    Text(String),
    ToolUse {
        id: String,
        name: String,
        input: String,
    },
    Reasoning {
        text: String,
        signature: Option<String>,
    },
    Redacted(Vec<u8>),
}

/// Collects a streamed reply.
#[derive(Debug, Default)]
pub(crate) struct Assembler {
    response: Response,
    blocks: Vec<(u32, Block)>,
}

impl Assembler {
    pub(crate) fn new(request_id: Option<String>) -> Self {
        let mut a = Assembler::default();
        a.response.request_id = request_id;
        a
    }

    fn block(&mut self, index: u32, make: impl FnOnce() -> Block) -> &mut Block {
        let pos = match self.blocks.iter().rposition(|(i, _)| *i == index) {
            Some(pos) => pos,
            None => {
                self.blocks.push((index, make()));
                self.blocks.len() - 1
            }
        };
        &mut self.blocks[pos].1
    }

    /// Whether `messageStop` has arrived.
    pub(crate) fn has_stopped(&self) -> bool {
        self.response.stop_reason.is_some()
    }

    /// Passes one event to the handler, then records it.
    pub(crate) fn handle<H: StreamHandler + ?Sized>(
        &mut self,
        event: ConverseStreamOutput,
        handler: &mut H,
    ) -> Flow {
        match event {
            ConverseStreamOutput::MessageStart(e) => {
                let flow = handler.on_message_start(&e.role);
                self.response.message.role = e.role;
                flow
            }
            ConverseStreamOutput::ContentBlockStart(e) => {
                let index = e.content_block_index.max(0) as u32;
                let start = match e.start {
                    Some(ContentBlockStart::ToolUse(t)) => BlockStart::ToolUse {
                        tool_use_id: t.tool_use_id,
                        name: t.name,
                    },
                    other => BlockStart::Unknown(format!("{other:?}")),
                };
                let flow = handler.on_block_start(index, &start);
                if let BlockStart::ToolUse { tool_use_id, name } = start {
                    self.blocks.push((
                        index,
                        Block::ToolUse {
                            id: tool_use_id,
                            name,
                            input: String::new(),
                        },
                    ));
                }
                flow
            }
            ConverseStreamOutput::ContentBlockDelta(e) => {
                let index = e.content_block_index.max(0) as u32;
                let delta = match e.delta {
                    Some(ContentBlockDelta::Text(t)) => Delta::Text(t),
                    Some(ContentBlockDelta::ToolUse(t)) => Delta::ToolUseInput(t.input),
                    Some(ContentBlockDelta::ReasoningContent(r)) => match r {
                        ReasoningContentBlockDelta::Text(t) => Delta::ReasoningText(t),
                        ReasoningContentBlockDelta::Signature(s) => Delta::ReasoningSignature(s),
                        ReasoningContentBlockDelta::RedactedContent(b) => {
                            Delta::RedactedReasoning(b.into_inner())
                        }
                        other => Delta::Unknown(format!("{other:?}")),
                    },
                    Some(ContentBlockDelta::Citation(c)) => Delta::Citation(c),
                    other => Delta::Unknown(format!("{other:?}")),
                };
                let flow = handler.on_delta(index, &delta);
                self.record(index, delta);
                flow
            }
            ConverseStreamOutput::ContentBlockStop(e) => {
                handler.on_block_stop(e.content_block_index.max(0) as u32)
            }
            ConverseStreamOutput::MessageStop(e) => {
                let stop = Stop {
                    reason: e.stop_reason,
                    additional_model_response_fields: e
                        .additional_model_response_fields
                        .as_ref()
                        .map(document_to_json),
                };
                let flow = handler.on_stop(&stop);
                self.response.stop_reason = Some(stop.reason);
                self.response.additional_model_response_fields =
                    stop.additional_model_response_fields;
                flow
            }
            ConverseStreamOutput::Metadata(e) => {
                let metadata = Metadata {
                    usage: e.usage.as_ref().map(Usage::from),
                    metrics: e.metrics.as_ref().map(Metrics::from),
                };
                let flow = handler.on_metadata(&metadata);
                self.response.usage = metadata.usage;
                self.response.metrics = metadata.metrics;
                flow
            }
            other => {
                log::debug!("ignoring unknown stream event {other:?}");
                Flow::Continue
            }
        }
    }

    fn record(&mut self, index: u32, delta: Delta) {
        match delta {
            Delta::Text(t) => match self.block(index, || Block::Text(String::new())) {
                Block::Text(s) => s.push_str(&t),
                other => log::warn!("text delta for non-text block {index}: {other:?}"),
            },
            Delta::ToolUseInput(fragment) => match self.block(index, || Block::ToolUse {
                id: String::new(),
                name: String::new(),
                input: String::new(),
            }) {
                Block::ToolUse { input, .. } => input.push_str(&fragment),
                other => log::warn!("tool input delta for block {index}: {other:?}"),
            },
            Delta::ReasoningText(t) => match self.block(index, reasoning) {
                Block::Reasoning { text, .. } => text.push_str(&t),
                other => log::warn!("reasoning delta for block {index}: {other:?}"),
            },
            Delta::ReasoningSignature(s) => match self.block(index, reasoning) {
                Block::Reasoning { signature, .. } => {
                    signature.get_or_insert_with(String::new).push_str(&s)
                }
                other => log::warn!("signature delta for block {index}: {other:?}"),
            },
            Delta::RedactedReasoning(bytes) => {
                match self.block(index, || Block::Redacted(Vec::new())) {
                    Block::Redacted(b) => b.extend_from_slice(&bytes),
                    other => log::warn!("redacted delta for block {index}: {other:?}"),
                }
            }
            Delta::Citation(_) | Delta::Unknown(_) => {}
        }
    }

    /// What has arrived so far, for an error. Tool input that is not (yet)
    /// valid JSON is kept as a JSON string.
    pub(crate) fn partial(&self) -> Response {
        let mut r = self.response.clone();
        let mut blocks = self.blocks.clone();
        blocks.sort_by_key(|(i, _)| *i);
        r.message.content = blocks.into_iter().map(|(_, b)| to_content(b).0).collect();
        r
    }

    /// The complete reply. A tool call whose joined input is not valid JSON is
    /// an error that names it and still carries the rest of the reply.
    pub(crate) fn finish(self) -> Result<Response, Error> {
        let Assembler {
            response: mut r,
            mut blocks,
        } = self;
        blocks.sort_by_key(|(i, _)| *i);
        let mut first_error = None;
        r.message.content = blocks
            .into_iter()
            .map(|(_, b)| {
                let (block, problem) = to_content(b);
                if let Some(msg) = problem {
                    first_error.get_or_insert(msg);
                }
                block
            })
            .collect();
        match first_error {
            None => Ok(r),
            Some(message) => Err(Error::Protocol {
                message,
                partial: Some(Box::new(r)),
            }),
        }
    }
}

fn reasoning() -> Block {
    Block::Reasoning {
        text: String::new(),
        signature: None,
    }
}

/// Converts an assembled block, with a message when it could not be
/// converted faithfully (the block is then a best effort that loses nothing:
/// unparsable tool input is kept as a JSON string).
fn to_content(block: Block) -> (ContentBlock, Option<String>) {
    match block {
        Block::Text(t) => (ContentBlock::Text(t), None),
        Block::ToolUse { id, name, input } => {
            let parsed = if input.trim().is_empty() {
                Ok(serde_json::Value::Object(Default::default()))
            } else {
                serde_json::from_str::<serde_json::Value>(&input)
            };
            let (doc, problem) = match parsed {
                Ok(v) => (json_to_document(&v), None),
                Err(e) => {
                    let msg = format!(
                        "tool use `{id}` ({name}): its streamed input is not valid JSON ({e}): {input:?}"
                    );
                    (Document::String(input), Some(msg))
                }
            };
            let block = ToolUseBlock::builder()
                .tool_use_id(id)
                .name(name)
                .input(doc)
                .build()
                .map(ContentBlock::ToolUse);
            match block {
                Ok(b) => (b, problem),
                Err(e) => (ContentBlock::Text(String::new()), Some(e.to_string())),
            }
        }
        Block::Reasoning { text, signature } => {
            let block = ReasoningTextBlock::builder()
                .text(text)
                .set_signature(signature)
                .build()
                .map(|b| ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(b)));
            match block {
                Ok(b) => (b, None),
                Err(e) => (ContentBlock::Text(String::new()), Some(e.to_string())),
            }
        }
        Block::Redacted(bytes) => (
            ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(Blob::new(
                bytes,
            ))),
            None,
        ),
    }
}
