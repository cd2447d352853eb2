//! Turns stream events into handler callbacks and an assembled [`Response`].

use aws_sdk_bedrockruntime::types::{
    Citation, CitationGeneratedContent, CitationSourceContent, CitationsContentBlock,
    CitationsDelta, ContentBlock, ContentBlockDelta, ContentBlockStart, ConverseStreamOutput,
    ErrorBlock, ImageBlock, ImageBlockDelta, ImageFormat, ImageSource, ReasoningContentBlock,
    ReasoningContentBlockDelta, ReasoningTextBlock, ToolResultBlock, ToolResultBlockDelta,
    ToolResultContentBlock, ToolResultStatus, ToolUseBlock, ToolUseType,
};
use aws_smithy_types::{Blob, Document};

use crate::converser::Msg;
use crate::document::{document_to_json, json_to_document};
use crate::error::Error;
use crate::handler::{BlockStart, Delta, Flow, Metadata, Stop, StreamHandler};
use crate::response::{non_negative, Metrics, Response, Trace, Usage};

/// What one message from the streaming task means for the call
/// ([`Assembler::take`]).
// An event is moved, not boxed, as in `Msg`.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Step {
    /// Recorded; nothing for the handler.
    Recorded,
    /// An event, for [`Assembler::handle`].
    Event(ConverseStreamOutput),
    /// The call is over, with this result.
    Ended(Result<Response, Error>),
}

/// One content block being built from its deltas.
#[derive(Debug, Clone)]
enum Block {
    Text(String),
    /// Text with citations: becomes a `CitationsContent` block.
    Cited {
        text: String,
        citations: Vec<Citation>,
    },
    ToolUse {
        id: String,
        name: String,
        tool_type: Option<ToolUseType>,
        input: String,
    },
    Reasoning {
        text: String,
        signature: Option<String>,
    },
    Redacted(Vec<u8>),
    ToolResult {
        tool_use_id: String,
        tool_type: Option<String>,
        status: Option<ToolResultStatus>,
        content: Vec<ToolResultContentBlock>,
    },
    Image {
        format: Option<ImageFormat>,
        source: Option<ImageSource>,
        error: Option<ErrorBlock>,
    },
}

/// Collects a streamed reply.
#[derive(Debug, Default)]
pub(crate) struct Assembler {
    response: Response,
    blocks: Vec<(u32, Block)>,
    /// Whether the reply's headers arrived: only then is there a partial
    /// response worth reporting.
    started: bool,
}

impl Assembler {
    /// The reply's headers arrived, with this request id.
    pub(crate) fn start(&mut self, request_id: Option<String>) {
        *self = Assembler {
            started: true,
            ..Assembler::default()
        };
        self.response.request_id = request_id;
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
                        log::warn!("content block {index} starts with a kind unknown to the SDK: {other:?}");
                        BlockStart::Unknown(format!(
                            "contentBlockStart {index} of a kind unknown to the SDK"
                        ))
                    }
                    None => BlockStart::Unknown(format!("contentBlockStart {index} with no start")),
                };
                let flow = handler.on_block_start(index, &start);
                let block = match start {
                    BlockStart::ToolUse {
                        tool_use_id,
                        name,
                        tool_type,
                    } => Some(Block::ToolUse {
                        id: tool_use_id,
                        name,
                        tool_type,
                        input: String::new(),
                    }),
                    BlockStart::ToolResult {
                        tool_use_id,
                        tool_type,
                        status,
                    } => Some(Block::ToolResult {
                        tool_use_id,
                        tool_type,
                        status,
                        content: Vec::new(),
                    }),
                    BlockStart::Image { format } => Some(Block::Image {
                        format: Some(format),
                        source: None,
                        error: None,
                    }),
                    BlockStart::Unknown(_) => None,
                };
                if let Some(block) = block {
                    self.blocks.push((index, block));
                }
                flow
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
                    None => {
                        Delta::Unknown(format!("contentBlockDelta with no delta in block {index}"))
                    }
                };
                let flow = handler.on_delta(index, &delta);
                self.record(index, delta);
                flow
            }
            ConverseStreamOutput::ContentBlockStop(e) => {
                handler.on_block_stop(non_negative(e.content_block_index))
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
                    trace: e.trace.map(Trace::from),
                    performance_config: e.performance_config,
                    service_tier: e.service_tier,
                };
                let flow = handler.on_metadata(&metadata);
                let Metadata {
                    usage,
                    metrics,
                    trace,
                    performance_config,
                    service_tier,
                } = metadata;
                self.response.usage = usage;
                self.response.metrics = metrics;
                self.response.trace = trace;
                self.response.performance_config = performance_config;
                self.response.service_tier = service_tier;
                flow
            }
            other => {
                log::warn!("ignoring a stream event unknown to the SDK: {other:?}");
                Flow::Continue
            }
        }
    }

    fn record(&mut self, index: u32, delta: Delta) {
        match delta {
            Delta::Text(t) => match self.block(index, || Block::Text(String::new())) {
                Block::Text(s) | Block::Cited { text: s, .. } => s.push_str(&t),
                other => log::warn!("text delta for block {index} ({}): dropped", kind(other)),
            },
            Delta::Citation(c) => {
                let citation = citation(c);
                let block = self.block(index, || Block::Cited {
                    text: String::new(),
                    citations: Vec::new(),
                });
                match block {
                    Block::Cited { citations, .. } => citations.push(citation),
                    Block::Text(text) => {
                        *block = Block::Cited {
                            text: std::mem::take(text),
                            citations: vec![citation],
                        }
                    }
                    other => log::warn!(
                        "citation delta for block {index} ({}): dropped",
                        kind(other)
                    ),
                }
            }
            Delta::ToolUseInput(fragment) => match self.block(index, || Block::ToolUse {
                id: String::new(),
                name: String::new(),
                tool_type: None,
                input: String::new(),
            }) {
                Block::ToolUse { input, .. } => input.push_str(&fragment),
                other => log::warn!(
                    "tool input delta for block {index} ({}): dropped",
                    kind(other)
                ),
            },
            Delta::ReasoningText(t) => match self.block(index, reasoning) {
                Block::Reasoning { text, .. } => text.push_str(&t),
                other => log::warn!(
                    "reasoning delta for block {index} ({}): dropped",
                    kind(other)
                ),
            },
            Delta::ReasoningSignature(s) => match self.block(index, reasoning) {
                Block::Reasoning { signature, .. } => {
                    signature.get_or_insert_with(String::new).push_str(&s)
                }
                other => log::warn!(
                    "signature delta for block {index} ({}): dropped",
                    kind(other)
                ),
            },
            Delta::RedactedReasoning(bytes) => {
                match self.block(index, || Block::Redacted(Vec::new())) {
                    Block::Redacted(b) => b.extend_from_slice(&bytes),
                    other => log::warn!(
                        "redacted delta for block {index} ({}): dropped",
                        kind(other)
                    ),
                }
            }
            Delta::ToolResult(pieces) => match self.block(index, || Block::ToolResult {
                tool_use_id: String::new(),
                tool_type: None,
                status: None,
                content: Vec::new(),
            }) {
                Block::ToolResult { content, .. } => {
                    for piece in pieces {
                        match piece {
                            ToolResultBlockDelta::Text(t) => match content.last_mut() {
                                Some(ToolResultContentBlock::Text(s)) => s.push_str(&t),
                                _ => content.push(ToolResultContentBlock::Text(t)),
                            },
                            ToolResultBlockDelta::Json(d) => {
                                content.push(ToolResultContentBlock::Json(d))
                            }
                            other => log::warn!(
                                "tool result delta of a kind unknown to the SDK in block {index}: {other:?}"
                            ),
                        }
                    }
                }
                other => log::warn!(
                    "tool result delta for block {index} ({}): dropped",
                    kind(other)
                ),
            },
            Delta::Image(ImageBlockDelta { source, error, .. }) => {
                match self.block(index, || Block::Image {
                    format: None,
                    source: None,
                    error: None,
                }) {
                    Block::Image {
                        source: current,
                        error: current_error,
                        ..
                    } => {
                        match (current.as_mut(), source) {
                            (Some(ImageSource::Bytes(have)), Some(ImageSource::Bytes(more))) => {
                                let mut bytes =
                                    std::mem::replace(have, Blob::new(Vec::new())).into_inner();
                                bytes.extend_from_slice(more.as_ref());
                                *have = Blob::new(bytes);
                            }
                            (_, Some(s)) => *current = Some(s),
                            (_, None) => {}
                        }
                        if error.is_some() {
                            *current_error = error;
                        }
                    }
                    other => log::warn!("image delta for block {index} ({}): dropped", kind(other)),
                }
            }
            Delta::Unknown(what) => log::warn!("{what}: passed to the handler only"),
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

    /// Takes one message from the streaming task: records the reply's start,
    /// hands back an event for [`handle`](Assembler::handle), and turns the
    /// stream's end or failure into the call's result.
    pub(crate) fn take(&mut self, msg: Msg) -> Step {
        match msg {
            Msg::Started(request_id) => {
                self.start(request_id);
                Step::Recorded
            }
            Msg::Event(event) => Step::Event(event),
            Msg::End => Step::Ended(std::mem::take(self).finish()),
            Msg::Failed(e) => Step::Ended(Err(self.attach(e))),
        }
    }

    /// The error for a call whose handler returned [`Flow::Stop`].
    pub(crate) fn stopped(&self) -> Error {
        Error::Stopped {
            partial: Box::new(self.partial()),
        }
    }

    /// What has arrived so far, if the reply had started, for an error.
    pub(crate) fn partial_if_started(&self) -> Option<Box<Response>> {
        self.started.then(|| Box::new(self.partial()))
    }

    /// Attaches what has arrived so far (if anything) to an error.
    pub(crate) fn attach(&self, e: Error) -> Error {
        match self.partial_if_started() {
            Some(p) => e.with_partial(*p),
            None => e,
        }
    }

    /// The complete reply, once the stream has ended. A stream that ended
    /// before `messageStop` is a protocol error carrying what arrived. A tool
    /// call whose joined input is not valid JSON is an
    /// [`Error::InvalidToolInput`] that names it and still carries the whole
    /// reply.
    pub(crate) fn finish(self) -> Result<Response, Error> {
        if self.response.stop_reason.is_none() {
            return Err(Error::Protocol {
                message: "the stream ended before `messageStop`".into(),
                partial: Some(Box::new(self.partial())),
            });
        }
        let Assembler {
            response: mut r,
            mut blocks,
            ..
        } = self;
        blocks.sort_by_key(|(i, _)| *i);
        let mut first_error = None;
        r.message.content = blocks
            .into_iter()
            .map(|(_, b)| {
                let (block, problem) = to_content(b);
                if let Some(p) = problem {
                    first_error.get_or_insert(p);
                }
                block
            })
            .collect();
        match first_error {
            None => Ok(r),
            Some(Problem::ToolInput {
                tool_use_id,
                name,
                input,
                reason,
            }) => Err(Error::InvalidToolInput {
                tool_use_id,
                name,
                input,
                reason,
                response: Box::new(r),
            }),
            Some(Problem::Build(message)) => Err(Error::Protocol {
                message,
                partial: Some(Box::new(r)),
            }),
        }
    }
}

fn kind(block: &Block) -> &'static str {
    match block {
        Block::Text(_) => "text",
        Block::Cited { .. } => "cited text",
        Block::ToolUse { .. } => "tool use",
        Block::Reasoning { .. } => "reasoning",
        Block::Redacted(_) => "redacted reasoning",
        Block::ToolResult { .. } => "tool result",
        Block::Image { .. } => "image",
    }
}

fn reasoning() -> Block {
    Block::Reasoning {
        text: String::new(),
        signature: None,
    }
}

/// A streamed citation as the citation the whole reply holds: each citation
/// delta carries one complete citation.
fn citation(c: CitationsDelta) -> Citation {
    Citation::builder()
        .set_title(c.title)
        .set_source(c.source)
        .set_source_content(c.source_content.map(|pieces| {
            pieces
                .into_iter()
                .filter_map(|p| p.text.map(CitationSourceContent::Text))
                .collect()
        }))
        .set_location(c.location)
        .build()
}

/// Why an assembled block is not exactly what the service meant.
enum Problem {
    ToolInput {
        tool_use_id: String,
        name: String,
        input: String,
        reason: String,
    },
    Build(String),
}

/// Converts an assembled block, with the problem when it could not be
/// converted faithfully (the block is then a best effort that loses nothing:
/// unparsable tool input is kept as a JSON string).
fn to_content(block: Block) -> (ContentBlock, Option<Problem>) {
    let built = |r: Result<ContentBlock, aws_smithy_types::error::operation::BuildError>| match r {
        Ok(b) => (b, None),
        Err(e) => (
            ContentBlock::Text(String::new()),
            Some(Problem::Build(e.to_string())),
        ),
    };
    match block {
        Block::Text(t) => (ContentBlock::Text(t), None),
        Block::Cited { text, citations } => (
            ContentBlock::CitationsContent(
                CitationsContentBlock::builder()
                    .set_content(Some(if text.is_empty() {
                        Vec::new()
                    } else {
                        vec![CitationGeneratedContent::Text(text)]
                    }))
                    .set_citations(Some(citations))
                    .build(),
            ),
            None,
        ),
        Block::ToolUse {
            id,
            name,
            tool_type,
            input,
        } => {
            let parsed = if input.trim().is_empty() {
                Ok(serde_json::Value::Object(Default::default()))
            } else {
                serde_json::from_str::<serde_json::Value>(&input)
            };
            let (doc, problem) = match parsed {
                Ok(v) => (json_to_document(&v), None),
                Err(e) => (
                    Document::String(input.clone()),
                    Some(Problem::ToolInput {
                        tool_use_id: id.clone(),
                        name: name.clone(),
                        input,
                        reason: e.to_string(),
                    }),
                ),
            };
            let (block, build_problem) = built(
                ToolUseBlock::builder()
                    .tool_use_id(id)
                    .name(name)
                    .input(doc)
                    .set_type(tool_type)
                    .build()
                    .map(ContentBlock::ToolUse),
            );
            (block, problem.or(build_problem))
        }
        Block::Reasoning { text, signature } => built(
            ReasoningTextBlock::builder()
                .text(text)
                .set_signature(signature)
                .build()
                .map(|b| ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(b))),
        ),
        Block::Redacted(bytes) => (
            ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(Blob::new(
                bytes,
            ))),
            None,
        ),
        Block::ToolResult {
            tool_use_id,
            tool_type,
            status,
            content,
        } => built(
            ToolResultBlock::builder()
                .tool_use_id(tool_use_id)
                .set_content(Some(content))
                .set_status(status)
                .set_type(tool_type)
                .build()
                .map(ContentBlock::ToolResult),
        ),
        Block::Image {
            format,
            source,
            error,
        } => built(
            ImageBlock::builder()
                .set_format(format)
                .set_source(source)
                .set_error(error)
                .build()
                .map(ContentBlock::Image),
        ),
    }
}
