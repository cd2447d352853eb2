//! Scripted replies of the local server, and how each is written on the wire.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};

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
}

/// What the server answers to one request. The same script serves both
/// `/converse` (as one JSON document) and `/converse-stream` (as event frames),
/// so the two can be compared.
///
/// ```
/// use bedrock_converse::mock::Reply;
/// let reply = Reply::text("Hello there, friend").deltas(3).usage(12, 4).latency_ms(250);
/// # let _ = reply;
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
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Script {
    pub(crate) blocks: Vec<ReplyBlock>,
    pub(crate) deltas: usize,
    pub(crate) stop_reason: String,
    pub(crate) usage: Option<(u32, u32)>,
    pub(crate) cache_tokens: Option<(u32, u32)>,
    pub(crate) latency_ms: Option<u64>,
    pub(crate) additional_fields: Option<Value>,
    pub(crate) fault: Option<Fault>,
    pub(crate) frame_delay: Duration,
    pub(crate) first_frame_delay: Duration,
    pub(crate) chunk_bytes: usize,
    pub(crate) frames: FrameCache,
}

/// A script's encoded stream frames, made on first use and shared by its
/// clones: the server clones the default reply for every request, and
/// re-encoding a long reply each time made the server, not the client under
/// test, the bottleneck of load runs. Any edit of the script drops it.
#[derive(Clone, Default)]
pub(crate) struct FrameCache(Arc<OnceLock<Arc<[Bytes]>>>);

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
            latency_ms: Some(100),
            additional_fields: None,
            fault: None,
            frame_delay: Duration::ZERO,
            first_frame_delay: Duration::ZERO,
            chunk_bytes: 0,
            frames: FrameCache::default(),
        }
    }
}

impl Reply {
    fn success(script: Script) -> Reply {
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
    /// handy for checking that each reply reaches the caller that asked.
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
            Kind::Error { .. } => None,
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Script)) -> Reply {
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
                let last = body["messages"]
                    .as_array()
                    .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
                    .and_then(|m| m["content"].as_array())
                    .map(|blocks| {
                        blocks
                            .iter()
                            .filter_map(|b| b["text"].as_str())
                            .collect::<String>()
                    })
                    .unwrap_or_default();
                script.blocks = vec![ReplyBlock::Text(format!("{prefix}{last}"))];
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

impl Script {
    fn usage_json(&self) -> Value {
        let (input, output) = self.usage.unwrap_or_else(|| {
            let words: usize = self
                .blocks
                .iter()
                .map(|b| match b {
                    ReplyBlock::Text(t) => t.split_whitespace().count(),
                    ReplyBlock::Reasoning { text, .. } => text.split_whitespace().count(),
                    ReplyBlock::ToolUse { .. } => 8,
                })
                .sum();
            (10, words as u32)
        });
        let mut usage = json!({
            "inputTokens": input,
            "outputTokens": output,
            "totalTokens": input + output,
        });
        if let Some((read, write)) = self.cache_tokens {
            usage["cacheReadInputTokens"] = json!(read);
            usage["cacheWriteInputTokens"] = json!(write);
        }
        usage
    }

    /// The `/converse` JSON body.
    pub(crate) fn converse_body(&self) -> Value {
        let content: Vec<Value> = self
            .blocks
            .iter()
            .map(|b| match b {
                ReplyBlock::Text(t) => json!({ "text": t }),
                ReplyBlock::ToolUse { id, name, input } => {
                    json!({ "toolUse": { "toolUseId": id, "name": name, "input": input } })
                }
                ReplyBlock::Reasoning { text, signature } => json!({
                    "reasoningContent": { "reasoningText": { "text": text, "signature": signature } }
                }),
            })
            .collect();
        let mut body = json!({
            "output": { "message": { "role": "assistant", "content": content } },
            "stopReason": self.stop_reason,
            "usage": self.usage_json(),
        });
        if let Some(ms) = self.latency_ms {
            body["metrics"] = json!({ "latencyMs": ms });
        }
        if let Some(fields) = &self.additional_fields {
            body["additionalModelResponseFields"] = fields.clone();
        }
        body
    }

    /// The `/converse-stream` frames, in order, encoded once per script.
    pub(crate) fn stream_frames(&self) -> Arc<[Bytes]> {
        self.frames
            .0
            .get_or_init(|| {
                self.stream_events()
                    .iter()
                    .map(|(event_type, payload)| super::event_frame(event_type, payload))
                    .collect()
            })
            .clone()
    }

    /// The `/converse-stream` events, as (event type, JSON payload), in order.
    pub(crate) fn stream_events(&self) -> Vec<(&'static str, Value)> {
        let mut events = vec![("messageStart", json!({ "role": "assistant" }))];
        for (i, block) in self.blocks.iter().enumerate() {
            match block {
                ReplyBlock::Text(t) => {
                    for piece in split(t, self.deltas) {
                        events.push((
                            "contentBlockDelta",
                            json!({ "contentBlockIndex": i, "delta": { "text": piece } }),
                        ));
                    }
                }
                ReplyBlock::ToolUse { id, name, input } => {
                    events.push((
                        "contentBlockStart",
                        json!({ "contentBlockIndex": i, "start": { "toolUse": { "toolUseId": id, "name": name } } }),
                    ));
                    let text = input.to_string();
                    for piece in split(&text, self.deltas) {
                        events.push((
                            "contentBlockDelta",
                            json!({ "contentBlockIndex": i, "delta": { "toolUse": { "input": piece } } }),
                        ));
                    }
                }
                ReplyBlock::Reasoning { text, signature } => {
                    for piece in split(text, self.deltas) {
                        events.push((
                            "contentBlockDelta",
                            json!({ "contentBlockIndex": i, "delta": { "reasoningContent": { "text": piece } } }),
                        ));
                    }
                    events.push((
                        "contentBlockDelta",
                        json!({ "contentBlockIndex": i, "delta": { "reasoningContent": { "signature": signature } } }),
                    ));
                }
            }
            events.push(("contentBlockStop", json!({ "contentBlockIndex": i })));
        }
        let mut stop = json!({ "stopReason": self.stop_reason });
        if let Some(fields) = &self.additional_fields {
            stop["additionalModelResponseFields"] = fields.clone();
        }
        events.push(("messageStop", stop));
        let mut metadata = json!({ "usage": self.usage_json() });
        if let Some(ms) = self.latency_ms {
            metadata["metrics"] = json!({ "latencyMs": ms });
        }
        events.push(("metadata", metadata));
        // The real service pads every event with a random-length "p" field
        // that clients must ignore; do the same so that we prove we do.
        for (n, (_, payload)) in events.iter_mut().enumerate() {
            payload["p"] = json!(&"abcdefghijklmnopqrstuvwxyz"[..n % 26]);
        }
        events
    }
}

/// Splits `text` into `n` pieces of about equal length, on char boundaries.
/// An empty text is one empty piece.
fn split(text: &str, n: usize) -> Vec<&str> {
    let chars: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if chars.is_empty() {
        return vec![text];
    }
    let n = n.clamp(1, chars.len());
    let mut pieces = Vec::with_capacity(n);
    let mut start = 0;
    for k in 1..=n {
        let end = if k == n {
            text.len()
        } else {
            chars[k * chars.len() / n]
        };
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_text_on_char_boundaries() {
        assert_eq!(split("héllo wörld", 3).concat(), "héllo wörld");
        assert_eq!(split("héllo wörld", 3).len(), 3);
        assert_eq!(split("ab", 5), vec!["a", "b"]);
        assert_eq!(split("", 4), vec![""]);
    }

    fn frames(reply: &Reply) -> Arc<[Bytes]> {
        match &reply.kind {
            Kind::Success(script) => script.clone().stream_frames(),
            other => panic!("not a success: {other:?}"),
        }
    }

    #[test]
    fn encoded_frames_are_shared_by_clones_and_dropped_by_edits() {
        let reply = Reply::text("one two three four").deltas(2);
        let served = reply.clone();
        let first = frames(&served);
        // messageStart, 2 deltas, contentBlockStop, messageStop, metadata
        assert_eq!(first.len(), 6);
        assert!(
            Arc::ptr_eq(&first, &frames(&reply)),
            "clones share one encoding"
        );
        let edited = reply.deltas(4);
        let again = frames(&edited);
        assert_eq!(again.len(), 8, "an edit re-encodes");
        assert!(!Arc::ptr_eq(&first, &again));
        assert_eq!(frames(&served).len(), 6, "the served clone is unchanged");
    }
}
