//! Scripted replies of the local server: [`Reply`], its [`ReplyBlock`]s and
//! [`Fault`]s. How a reply is written on the wire is in `wire.rs`.

use std::time::Duration;

use serde_json::Value;

use std::sync::{Arc, OnceLock};

use bytes::Bytes;

/// One content block of a scripted reply.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ReplyBlock {
    /// A text block.
    Text(String),
    /// A tool call with its JSON input.
    ToolUse {
        /// The tool use id.
        id: String,
        /// The tool name.
        name: String,
        /// The input document.
        input: Value,
    },
    /// A reasoning block with its signature.
    Reasoning {
        /// The reasoning text.
        text: String,
        /// The signature.
        signature: String,
    },
    /// A redacted (encrypted) reasoning block.
    RedactedReasoning(Vec<u8>),
    /// Text with citations: a `citationsContent` block in a whole reply;
    /// `citation` deltas then `text` deltas in a stream.
    Citations {
        /// The generated text.
        text: String,
        /// The citations, each in the wire's JSON shape (`title`, `source`,
        /// `sourceContent: [{"text": …}]`, `location: {"documentChar": …}`).
        citations: Vec<Value>,
    },
    /// Any block, given as wire JSON: the content block of a whole reply,
    /// and the optional `start` and the `delta`s of a stream. For kinds the
    /// helpers do not cover (service-run tools, generated images) and for
    /// kinds the SDK does not know.
    Raw {
        /// The block in `/converse`'s `output.message.content`.
        converse: Value,
        /// The `start` of the block's `contentBlockStart` event, if it has one.
        start: Option<Value>,
        /// The `delta` of each `contentBlockDelta` event.
        deltas: Vec<Value>,
    },
}

/// Something that goes wrong part-way through a stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// After `after` events, send an exception frame and end the stream.
    Exception {
        /// Events sent before the exception.
        after: usize,
        /// The `:exception-type`, e.g. `modelStreamErrorException`.
        exception_type: String,
        /// The message in the exception's JSON payload.
        message: String,
    },
    /// After `after` events, send nothing more but keep the connection open
    /// until the client goes away.
    Stall {
        /// Events sent before stalling.
        after: usize,
    },
    /// After `after` events, drop the connection without ending the response.
    Drop {
        /// Events sent before the connection is dropped.
        after: usize,
    },
    /// After `after` events, send the next event with a corrupted message CRC.
    BadCrc {
        /// Events sent before the corrupted one.
        after: usize,
    },
    /// After `after` events, send half of the next frame and end the response.
    Truncated {
        /// Events sent before the truncated one.
        after: usize,
    },
}

impl Fault {
    pub(crate) fn after(&self) -> usize {
        match self {
            Fault::Exception { after, .. }
            | Fault::Stall { after }
            | Fault::Drop { after }
            | Fault::BadCrc { after }
            | Fault::Truncated { after } => *after,
        }
    }
}

/// What the server answers to one request. The same script serves both
/// `/converse` (as one JSON document) and `/converse-stream` (as event frames),
/// so the two can be compared.
///
/// ```
/// use bedrock_converse_mock::Reply;
/// use bedrock_converse::ConverseRequest;
/// use bedrock_converse_mock::MockServer;
///
/// let reply = Reply::text("Hello there, friend").deltas(3).usage(12, 4).latency_ms(250);
/// let server = MockServer::start()?;
/// server.push(reply);
/// let out = server.converser()?.converse(&ConverseRequest::new("amazon.nova-lite-v1:0").user("hi"))?;
/// assert_eq!(out.text(), "Hello there, friend");
/// assert_eq!(out.usage.map(|u| (u.input_tokens, u.output_tokens)), Some((12, 4)));
/// assert_eq!(out.metrics.map(|m| m.latency_ms), Some(250));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub(crate) kind: Kind,
    pub(crate) request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Success(Script),
    Error {
        status: u16,
        error_type: String,
        message: String,
    },
    /// Replies with the text of the last user message (after a prefix).
    Echo(Script, String),
    /// Any HTTP response at all, for testing garbage.
    Raw {
        status: u16,
        content_type: String,
        body: Vec<u8>,
    },
}

impl Reply {
    pub(crate) fn success(script: Script) -> Reply {
        Reply {
            kind: Kind::Success(script),
            request_id: None,
        }
    }

    /// A reply of one text block, ending with `end_turn`. Usage defaults to
    /// 10 input tokens and one output token per whitespace-separated word.
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::success(Script {
            blocks: vec![ReplyBlock::Text(text.into())],
            ..Default::default()
        })
    }

    /// A reply with no content blocks yet; add them with
    /// [`with_text`](Reply::with_text), [`tool_use`](Reply::tool_use), ….
    pub fn empty() -> Reply {
        Reply::success(Script::default())
    }

    /// A reply that repeats the last user message's text after `prefix`,
    /// handy for checking that each reply reaches the caller that asked. A
    /// user turn of tool results is echoed as the results' text and JSON.
    /// Unless [`usage`](Reply::usage) is set, the input token count is the
    /// number of words in the request's messages and system prompts, so it
    /// grows with a conversation as a real model's does.
    pub fn echo(prefix: impl Into<String>) -> Reply {
        Reply {
            kind: Kind::Echo(Script::default(), prefix.into()),
            request_id: None,
        }
    }

    /// An HTTP error in Bedrock's shape: `status`, an `x-amzn-ErrorType`
    /// header and a JSON body `{"message": …}`.
    pub fn error(status: u16, error_type: impl Into<String>, message: impl Into<String>) -> Reply {
        Reply {
            kind: Kind::Error {
                status,
                error_type: error_type.into(),
                message: message.into(),
            },
            request_id: None,
        }
    }

    /// Exactly this HTTP response: status, content type and body bytes, for
    /// checking how clients cope with garbage (see also [`event_frame`](crate::event_frame)).
    pub fn raw(status: u16, content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            kind: Kind::Raw {
                status,
                content_type: content_type.into(),
                body: body.into(),
            },
            request_id: None,
        }
    }

    /// A 429 `ThrottlingException`.
    pub fn throttling() -> Reply {
        Reply::error(
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        )
    }

    fn script(&mut self) -> Option<&mut Script> {
        match &mut self.kind {
            Kind::Success(s) | Kind::Echo(s, _) => Some(s),
            Kind::Error { .. } | Kind::Raw { .. } => None,
        }
    }

    pub(crate) fn edit(mut self, f: impl FnOnce(&mut Script)) -> Reply {
        if let Some(s) = self.script() {
            s.frames = FrameCache::default();
            f(s);
        }
        self
    }

    /// Appends a text block.
    pub fn with_text(self, text: impl Into<String>) -> Reply {
        let text = text.into();
        self.edit(|s| s.blocks.push(ReplyBlock::Text(text)))
    }

    /// Appends a tool call; its JSON input is streamed in
    /// [`deltas`](Reply::deltas) fragments. Sets the stop reason to `tool_use`.
    pub fn tool_use(self, id: impl Into<String>, name: impl Into<String>, input: Value) -> Reply {
        let (id, name) = (id.into(), name.into());
        self.edit(|s| {
            s.blocks.push(ReplyBlock::ToolUse { id, name, input });
            s.stop_reason = "tool_use".into();
        })
    }

    /// Appends a reasoning block with its signature.
    pub fn reasoning(self, text: impl Into<String>, signature: impl Into<String>) -> Reply {
        let (text, signature) = (text.into(), signature.into());
        self.edit(|s| s.blocks.push(ReplyBlock::Reasoning { text, signature }))
    }

    /// Appends a redacted (encrypted) reasoning block.
    pub fn redacted_reasoning(self, bytes: impl Into<Vec<u8>>) -> Reply {
        let bytes = bytes.into();
        self.edit(|s| s.blocks.push(ReplyBlock::RedactedReasoning(bytes)))
    }

    /// Appends a block of text with citations (each citation in the wire's
    /// JSON shape, see [`ReplyBlock::Citations`]).
    pub fn cited_text(self, text: impl Into<String>, citations: Vec<Value>) -> Reply {
        let text = text.into();
        self.edit(|s| s.blocks.push(ReplyBlock::Citations { text, citations }))
    }

    /// Appends a block given as wire JSON (see [`ReplyBlock::Raw`]).
    pub fn raw_block(self, converse: Value, start: Option<Value>, deltas: Vec<Value>) -> Reply {
        self.edit(|s| {
            s.blocks.push(ReplyBlock::Raw {
                converse,
                start,
                deltas,
            })
        })
    }

    /// The `trace` of the reply (wire JSON: `{"guardrail": …, "promptRouter": …}`),
    /// in the whole reply and in the stream's `metadata` event.
    pub fn trace(self, trace: Value) -> Reply {
        self.edit(|s| s.trace = Some(trace))
    }

    /// The `performanceConfig.latency` of the reply (`"standard"` or `"optimized"`).
    pub fn performance_latency(self, latency: impl Into<String>) -> Reply {
        let latency = latency.into();
        self.edit(|s| s.performance_latency = Some(latency))
    }

    /// The `serviceTier.type` of the reply (e.g. `"priority"`).
    pub fn service_tier(self, tier: impl Into<String>) -> Reply {
        let tier = tier.into();
        self.edit(|s| s.service_tier = Some(tier))
    }

    /// Streams text one word at a time (with its trailing space), as a model
    /// does, instead of in [`deltas`](Reply::deltas) equal pieces.
    pub fn word_deltas(self) -> Reply {
        self.edit(|s| s.word_deltas = true)
    }

    /// Splits each streamed block into `n` deltas (at least 1).
    pub fn deltas(self, n: usize) -> Reply {
        self.edit(|s| s.deltas = n.max(1))
    }

    /// The stop reason string, e.g. `"max_tokens"`.
    pub fn stop_reason(self, reason: impl Into<String>) -> Reply {
        let reason = reason.into();
        self.edit(|s| s.stop_reason = reason)
    }

    /// Input and output token counts (total is their sum).
    pub fn usage(self, input_tokens: u32, output_tokens: u32) -> Reply {
        self.edit(|s| s.usage = Some((input_tokens, output_tokens)))
    }

    /// Cache read and cache write input token counts.
    pub fn cache_tokens(self, read: u32, write: u32) -> Reply {
        self.edit(|s| s.cache_tokens = Some((read, write)))
    }

    /// The reported latency.
    pub fn latency_ms(self, ms: u64) -> Reply {
        self.edit(|s| s.latency_ms = Some(ms))
    }

    /// `additionalModelResponseFields` in the reply.
    pub fn additional_model_response_fields(self, fields: Value) -> Reply {
        self.edit(|s| s.additional_fields = Some(fields))
    }

    /// The `x-amzn-RequestId` header (default: `mock-<n>`).
    pub fn request_id(mut self, id: impl Into<String>) -> Reply {
        self.request_id = Some(id.into());
        self
    }

    /// Something to go wrong part-way through the stream.
    pub fn fault(self, fault: Fault) -> Reply {
        self.edit(|s| s.fault = Some(fault))
    }

    /// Wait this long before each stream frame (and before a JSON reply).
    pub fn frame_delay(self, delay: Duration) -> Reply {
        self.edit(|s| s.frame_delay = delay)
    }

    /// Write the stream in HTTP chunks of up to `bytes`, as many whole frames
    /// as fit in each, instead of one frame per chunk (the default, as the
    /// service does). The client sees the same frames; the server does far
    /// fewer writes, so that load runs of long replies measure the client,
    /// not the server. A [`frame_delay`](Reply::frame_delay) then comes
    /// before each chunk.
    pub fn chunk_bytes(self, bytes: usize) -> Reply {
        self.edit(|s| s.chunk_bytes = bytes)
    }

    /// Wait this long before the response starts.
    pub fn first_frame_delay(self, delay: Duration) -> Reply {
        self.edit(|s| s.first_frame_delay = delay)
    }

    /// Resolves an echo against the request body.
    pub(crate) fn resolve(self, body: &Value) -> Reply {
        match self.kind {
            Kind::Echo(mut script, prefix) => {
                script.frames = FrameCache::default();
                let blocks = body["messages"]
                    .as_array()
                    .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
                    .and_then(|m| m["content"].as_array())
                    .cloned()
                    .unwrap_or_default();
                let mut last: String = blocks.iter().filter_map(|b| b["text"].as_str()).collect();
                if last.is_empty() {
                    // A turn of tool results: echo what the tools returned.
                    let results: Vec<String> = blocks
                        .iter()
                        .filter_map(|b| b["toolResult"]["content"].as_array())
                        .flatten()
                        .map(|c| match c["text"].as_str() {
                            Some(t) => t.to_owned(),
                            None => c["json"].to_string(),
                        })
                        .collect();
                    last = results.join(", ");
                }
                let text = format!("{prefix}{last}");
                if script.usage.is_none() {
                    let output = text.split_whitespace().count() as u32;
                    script.usage = Some((request_words(body).max(1), output));
                }
                script.blocks = vec![ReplyBlock::Text(text)];
                Reply {
                    kind: Kind::Success(script),
                    request_id: self.request_id,
                }
            }
            kind => Reply {
                kind,
                request_id: self.request_id,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Script {
    pub(crate) blocks: Vec<ReplyBlock>,
    pub(crate) deltas: usize,
    pub(crate) stop_reason: String,
    pub(crate) usage: Option<(u32, u32)>,
    pub(crate) cache_tokens: Option<(u32, u32)>,
    pub(crate) cache_details: Vec<(String, u32)>,
    pub(crate) latency_ms: Option<u64>,
    pub(crate) additional_fields: Option<Value>,
    pub(crate) trace: Option<Value>,
    pub(crate) performance_latency: Option<String>,
    pub(crate) service_tier: Option<String>,
    pub(crate) word_deltas: bool,
    pub(crate) fault: Option<Fault>,
    pub(crate) frame_delay: Duration,
    pub(crate) first_frame_delay: Duration,
    pub(crate) chunk_bytes: usize,
    pub(crate) frames: FrameCache,
    /// The JSON of a [`Reply::json`], which a request forcing a tool gets
    /// as that tool's input instead of as text.
    pub(crate) json: Option<Value>,
}

/// A script's encoded stream frames, made on first use and shared by its
/// clones: the server clones the default reply for every request, and
/// re-encoding a long reply each time made the server, not the client under
/// test, the bottleneck of load runs. Any edit of the script drops it.
#[derive(Clone, Default)]
pub(crate) struct FrameCache(pub(crate) Arc<OnceLock<Arc<[Bytes]>>>);

impl PartialEq for FrameCache {
    /// A cache is not part of what a reply is.
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for FrameCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FrameCache")
    }
}

impl Default for Script {
    fn default() -> Self {
        Script {
            blocks: Vec::new(),
            deltas: 1,
            stop_reason: "end_turn".into(),
            usage: None,
            cache_tokens: None,
            cache_details: Vec::new(),
            latency_ms: Some(100),
            additional_fields: None,
            trace: None,
            performance_latency: None,
            service_tier: None,
            word_deltas: false,
            fault: None,
            frame_delay: Duration::ZERO,
            first_frame_delay: Duration::ZERO,
            chunk_bytes: 0,
            frames: FrameCache::default(),
            json: None,
        }
    }
}

/// The number of words in a request's text: messages and system prompts.
pub(crate) fn request_words(body: &Value) -> u32 {
    let mut words = 0;
    let mut count = |blocks: &Value| {
        for b in blocks.as_array().into_iter().flatten() {
            if let Some(t) = b["text"].as_str() {
                words += t.split_whitespace().count();
            }
        }
    };
    count(&body["system"]);
    for m in body["messages"].as_array().into_iter().flatten() {
        count(&m["content"]);
    }
    words as u32
}
