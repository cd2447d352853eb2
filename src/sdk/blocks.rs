//! A streamed reply's content blocks, built from their deltas into the SDK's
//! [`ContentBlock`]s, exactly as the Converse API returns them whole.

use aws_sdk_bedrockruntime::types::{
    Citation, CitationGeneratedContent, CitationSourceContent, CitationsContentBlock,
    CitationsDelta, ContentBlock, ErrorBlock, ImageBlock, ImageBlockDelta, ImageFormat,
    ImageSource, ReasoningContentBlock, ReasoningTextBlock, ToolResultBlock, ToolResultBlockDelta,
    ToolResultContentBlock, ToolResultStatus, ToolUseBlock, ToolUseType,
};
use aws_smithy_types::{Blob, Document};

use super::json::json_to_document;
use crate::stream::{BlockStart, Delta};

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

/// The content blocks of a reply so far, by index, in arrival order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Blocks(Vec<(u32, Block)>);

impl Blocks {
    fn block(&mut self, index: u32, make: impl FnOnce() -> Block) -> &mut Block {
        let pos = match self.0.iter().rposition(|(i, _)| *i == index) {
            Some(pos) => pos,
            None => {
                self.0.push((index, make()));
                self.0.len() - 1
            }
        };
        &mut self.0[pos].1
    }

    /// A block that announced itself (tool use, tool result, image) starts.
    pub(crate) fn start(&mut self, index: u32, start: BlockStart) {
        let block = match start {
            BlockStart::ToolUse {
                tool_use_id,
                name,
                tool_type,
            } => Block::ToolUse {
                id: tool_use_id,
                name,
                tool_type,
                input: String::new(),
            },
            BlockStart::ToolResult {
                tool_use_id,
                tool_type,
                status,
            } => Block::ToolResult {
                tool_use_id,
                tool_type,
                status,
                content: Vec::new(),
            },
            BlockStart::Image { format } => Block::Image {
                format: Some(format),
                source: None,
                error: None,
            },
            BlockStart::Unknown(_) => return,
        };
        self.0.push((index, block));
    }

    /// Appends a delta to block `index` (creating the block for kinds that do
    /// not announce themselves).
    pub(crate) fn push(&mut self, index: u32, delta: Delta) {
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

    /// The blocks as content, in index order, each with the problem that
    /// kept it from being exactly what the service meant (a best effort that
    /// loses nothing is built all the same).
    pub(crate) fn into_content(self) -> Vec<(ContentBlock, Option<Problem>)> {
        let mut blocks = self.0;
        blocks.sort_by_key(|(i, _)| *i);
        blocks.into_iter().map(|(_, b)| to_content(b)).collect()
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
pub(crate) enum Problem {
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
