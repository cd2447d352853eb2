//! How a scripted reply is written on the wire: the whole JSON reply of
//! `/converse`, and the event-stream frames of `/converse-stream`.

use std::sync::Arc;

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use serde_json::{json, Value};

use crate::reply::{ReplyBlock, Script};

fn b64(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(bytes)
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
                    ReplyBlock::Citations { text, .. } => text.split_whitespace().count(),
                    ReplyBlock::ToolUse { .. } => 8,
                    ReplyBlock::RedactedReasoning(_) | ReplyBlock::Raw { .. } => 4,
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
        if !self.cache_details.is_empty() {
            usage["cacheDetails"] = self
                .cache_details
                .iter()
                .map(|(ttl, n)| json!({ "ttl": ttl, "inputTokens": n }))
                .collect();
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
                ReplyBlock::RedactedReasoning(bytes) => json!({
                    "reasoningContent": { "redactedContent": b64(bytes) }
                }),
                ReplyBlock::Citations { text, citations } => {
                    let content = if text.is_empty() {
                        json!([])
                    } else {
                        json!([{ "text": text }])
                    };
                    json!({ "citationsContent": { "content": content, "citations": citations } })
                }
                ReplyBlock::Raw { converse, .. } => converse.clone(),
            })
            .collect();
        let mut body = json!({
            "output": { "message": { "role": "assistant", "content": content } },
            "stopReason": self.stop_reason,
        });
        if let Some(fields) = &self.additional_fields {
            body["additionalModelResponseFields"] = fields.clone();
        }
        self.add_trailer(&mut body);
        body
    }

    /// The members the whole reply and the `metadata` event share.
    fn add_trailer(&self, body: &mut Value) {
        body["usage"] = self.usage_json();
        if let Some(ms) = self.latency_ms {
            body["metrics"] = json!({ "latencyMs": ms });
        }
        if let Some(trace) = &self.trace {
            body["trace"] = trace.clone();
        }
        if let Some(latency) = &self.performance_latency {
            body["performanceConfig"] = json!({ "latency": latency });
        }
        if let Some(tier) = &self.service_tier {
            body["serviceTier"] = json!({ "type": tier });
        }
    }

    fn text_pieces<'a>(&self, text: &'a str) -> Vec<&'a str> {
        if self.word_deltas {
            split_words(text)
        } else {
            split(text, self.deltas)
        }
    }

    /// The `/converse-stream` frames, in order, encoded once per script.
    pub(crate) fn stream_frames(&self) -> Arc<[Bytes]> {
        self.frames
            .0
            .get_or_init(|| {
                self.stream_events()
                    .iter()
                    .map(|(event_type, payload)| {
                        event_frame_bytes(event_type, payload.to_string().into_bytes())
                    })
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
                    for piece in self.text_pieces(t) {
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
                ReplyBlock::RedactedReasoning(bytes) => {
                    let n = self.deltas.clamp(1, bytes.len().max(1));
                    let size = bytes.len().div_ceil(n).max(1);
                    for chunk in bytes.chunks(size) {
                        events.push((
                            "contentBlockDelta",
                            json!({ "contentBlockIndex": i, "delta": { "reasoningContent": { "redactedContent": b64(chunk) } } }),
                        ));
                    }
                }
                ReplyBlock::Citations { text, citations } => {
                    for c in citations {
                        events.push((
                            "contentBlockDelta",
                            json!({ "contentBlockIndex": i, "delta": { "citation": c } }),
                        ));
                    }
                    if !text.is_empty() {
                        for piece in self.text_pieces(text) {
                            events.push((
                                "contentBlockDelta",
                                json!({ "contentBlockIndex": i, "delta": { "text": piece } }),
                            ));
                        }
                    }
                }
                ReplyBlock::Raw { start, deltas, .. } => {
                    if let Some(start) = start {
                        events.push((
                            "contentBlockStart",
                            json!({ "contentBlockIndex": i, "start": start }),
                        ));
                    }
                    for d in deltas {
                        events.push((
                            "contentBlockDelta",
                            json!({ "contentBlockIndex": i, "delta": d }),
                        ));
                    }
                }
            }
            events.push(("contentBlockStop", json!({ "contentBlockIndex": i })));
        }
        let mut stop = json!({ "stopReason": self.stop_reason });
        if let Some(fields) = &self.additional_fields {
            stop["additionalModelResponseFields"] = fields.clone();
        }
        events.push(("messageStop", stop));
        let mut metadata = json!({});
        self.add_trailer(&mut metadata);
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

/// Splits `text` after each run of whitespace: one piece per word, with the
/// whitespace that follows it.
fn split_words(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            pieces.push(&text[start..i]);
            start = i;
            in_space = false;
        }
    }
    pieces.push(&text[start..]);
    pieces
}

/// Encodes one event-stream frame with `aws-smithy-eventstream`.
pub(crate) fn frame(headers: Vec<(&str, &str)>, payload: Vec<u8>) -> Bytes {
    let mut message = Message::new(payload);
    for (name, value) in headers {
        message = message.add_header(Header::new(
            name.to_owned(),
            HeaderValue::String(value.to_owned().into()),
        ));
    }
    let mut buf = Vec::new();
    // Writing to a Vec only fails for oversized headers, which we never make.
    if let Err(e) = write_message_to(&message, &mut buf) {
        log::error!("mock server: could not encode a frame: {e}");
    }
    Bytes::from(buf)
}

/// One `application/vnd.amazon.eventstream` event frame, as the service
/// writes it: `:event-type`, `:content-type: application/json` and
/// `:message-type: event` headers, the payload, and both CRC32s. Handy with
/// [`Reply::raw`](crate::Reply::raw) for serving hand-made streams.
///
/// ```
/// let frame = bedrock_converse_mock::event_frame("messageStart", br#"{"role":"assistant"}"#);
/// assert_eq!(u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize, frame.len());
/// ```
pub fn event_frame(event_type: &str, payload: &[u8]) -> Vec<u8> {
    event_frame_bytes(event_type, payload.to_vec()).to_vec()
}

/// [`event_frame`] for the server's own use: takes the payload and returns
/// the encoded frame without copying either.
pub(crate) fn event_frame_bytes(event_type: &str, payload: Vec<u8>) -> Bytes {
    frame(
        vec![
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload,
    )
}

pub(crate) fn exception_frame(exception_type: &str, message: &str) -> Bytes {
    frame(
        vec![
            (":exception-type", exception_type),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        json!({ "message": message }).to_string().into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{Kind, Reply};

    #[test]
    fn split_words_keeps_every_character() {
        assert_eq!(
            split_words("one two  three"),
            vec!["one ", "two  ", "three"]
        );
        assert_eq!(split_words(" lead"), vec![" ", "lead"]);
        assert_eq!(split_words(""), vec![""]);
    }

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
