//! The harness of the recorded-traffic checks: where the recordings are,
//! what a recording says a reply holds (read from the recorded body, or from
//! its event-stream frames decoded here with aws-smithy-eventstream and
//! serde_json, not with the code under test), and what our `Response` and
//! handler callbacks hold, in the same shape for comparison.

use super::NOT_CHECKED;
use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::HeaderValue;
use aws_smithy_types::{Document, Number};
use bedrock_converse::error::ServiceErrorKind;
use bedrock_converse::model::{Role, Usage};
use bedrock_converse::stream::{BlockStart, Metadata, Stop};
use bedrock_converse::types::{ContentBlock, ReasoningContentBlock};
use bedrock_converse::{Delta, Response, StreamHandler};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Where the recordings are, relative to the crate root.
pub(super) const RECORDINGS: &str = "../shared/recordings/bedrock";

pub(super) fn recordings_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(RECORDINGS);
    if dir.is_dir() {
        Some(dir)
    } else {
        // CI always has them beside its clone: there, their absence is a
        // failure, not a reason to skip.
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but no recorded Bedrock traffic at {}",
            dir.display()
        );
        println!(
            "skipping: no recorded Bedrock traffic at {} (it lives beside the checkout, in shared/recordings/bedrock)",
            dir.display()
        );
        None
    }
}

pub(super) fn doc_to_json(d: &Document) -> Value {
    match d {
        Document::Null => Value::Null,
        Document::Bool(b) => json!(b),
        Document::Number(Number::PosInt(u)) => json!(u),
        Document::Number(Number::NegInt(i)) => json!(i),
        Document::Number(Number::Float(f)) => json!(f),
        Document::String(s) => json!(s),
        Document::Array(a) => Value::Array(a.iter().map(doc_to_json).collect()),
        Document::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), doc_to_json(v))).collect())
        }
    }
}

/// One streamed event (or callback), with its data.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Event {
    MessageStart(String),
    BlockStart {
        index: u32,
        tool_use_id: String,
        name: String,
    },
    Text(u32, String),
    ToolInput(u32, String),
    ReasoningText(u32, String),
    ReasoningSignature(u32, String),
    BlockStop(u32),
    Stop {
        reason: String,
        fields: Option<Value>,
    },
    Metadata {
        usage: Option<Usage>,
        latency_ms: Option<u64>,
    },
    /// A callback this test does not know how to compare.
    Other(String),
}

/// The reply as this test reads it from the recording.
#[derive(Debug, PartialEq)]
pub(super) struct Expected {
    pub(super) role: String,
    /// The content blocks in the `/converse` JSON shape.
    pub(super) content: Value,
    pub(super) stop_reason: String,
    pub(super) usage: Option<Usage>,
    pub(super) latency_ms: Option<u64>,
    pub(super) additional_fields: Option<Value>,
    pub(super) request_id: Option<String>,
}

/// Fails on any key of `obj` (at `at`) that is neither checked nor listed in
/// [`NOT_CHECKED`].
pub(super) fn assert_known_keys(obj: &Value, at: &str, checked: &[&str]) {
    let Some(map) = obj.as_object() else {
        panic!("{at} is not an object: {obj}")
    };
    for key in map.keys() {
        let full = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        assert!(
            checked.contains(&key.as_str()) || NOT_CHECKED.iter().any(|(k, _)| *k == full),
            "the recording has `{full}`, which this test neither checks nor lists in NOT_CHECKED"
        );
    }
}

pub(super) fn u32_at(v: &Value, key: &str) -> u32 {
    v[key].as_u64().unwrap_or_else(|| panic!("`{key}` in {v}")) as u32
}

pub(super) fn usage_of(v: &Value) -> Option<Usage> {
    if v.is_null() {
        return None;
    }
    assert_known_keys(
        v,
        "usage",
        &[
            "inputTokens",
            "outputTokens",
            "totalTokens",
            "cacheReadInputTokens",
            "cacheWriteInputTokens",
        ],
    );
    let mut u = Usage::new(
        u32_at(v, "inputTokens"),
        u32_at(v, "outputTokens"),
        u32_at(v, "totalTokens"),
    );
    u.cache_read_input_tokens = v["cacheReadInputTokens"].as_u64().map(|n| n as u32);
    u.cache_write_input_tokens = v["cacheWriteInputTokens"].as_u64().map(|n| n as u32);
    Some(u)
}

pub(super) fn latency_of(metrics: &Value) -> Option<u64> {
    if metrics.is_null() {
        return None;
    }
    assert_known_keys(metrics, "metrics", &["latencyMs"]);
    Some(metrics["latencyMs"].as_u64().expect("latencyMs"))
}

pub(super) fn header<'a>(response: &'a Value, name: &str) -> Option<&'a str> {
    response["headers"][name].as_str()
}

/// A `/converse` reply, from its recorded JSON body.
pub(super) fn expected_from_body(response: &Value) -> Expected {
    let body: Value =
        serde_json::from_str(response["body"].as_str().expect("a text body")).unwrap();
    assert_known_keys(
        &body,
        "",
        &[
            "output",
            "stopReason",
            "usage",
            "metrics",
            "additionalModelResponseFields",
            // compared by `check_trace`
            "trace",
        ],
    );
    let message = &body["output"]["message"];
    Expected {
        role: message["role"].as_str().unwrap().to_owned(),
        content: message["content"].clone(),
        stop_reason: body["stopReason"].as_str().unwrap().to_owned(),
        usage: usage_of(&body["usage"]),
        latency_ms: latency_of(&body["metrics"]),
        additional_fields: body.get("additionalModelResponseFields").cloned(),
        request_id: header(response, "x-amzn-requestid").map(str::to_owned),
    }
}

/// Decodes the recorded event stream with aws-smithy-eventstream: each
/// frame's `:event-type` and JSON payload, in wire order.
pub(super) fn decode_frames(response: &Value) -> Vec<(String, Value)> {
    let raw = aws_smithy_types::base64::decode(
        response["body_base64"].as_str().expect("an event stream"),
    )
    .unwrap();
    let mut bytes = raw.as_slice();
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let message = read_message_from(&mut bytes).expect("a valid event-stream frame");
        let header = |name: &str| {
            message
                .headers()
                .iter()
                .find(|h| h.name().as_str() == name)
                .and_then(|h| match h.value() {
                    HeaderValue::String(s) => Some(s.as_str().to_owned()),
                    _ => None,
                })
        };
        assert_eq!(
            header(":message-type").as_deref(),
            Some("event"),
            "the recording holds an exception frame: extend this test to expect the error"
        );
        let payload: Value = serde_json::from_slice(message.payload()).expect("a JSON payload");
        frames.push((header(":event-type").expect(":event-type"), payload));
    }
    frames
}

/// The events a handler must see for these frames.
pub(super) fn events_of(frames: &[(String, Value)]) -> Vec<Event> {
    frames
        .iter()
        .map(|(kind, p)| {
            let index = || u32_at(p, "contentBlockIndex");
            match kind.as_str() {
                "messageStart" => {
                    assert_known_keys(p, "", &["role"]);
                    Event::MessageStart(p["role"].as_str().unwrap().to_owned())
                }
                "contentBlockStart" => {
                    assert_known_keys(p, "", &["contentBlockIndex", "start"]);
                    let tool = &p["start"]["toolUse"];
                    assert!(
                        tool.is_object(),
                        "a block start that is not a tool use: {p}"
                    );
                    Event::BlockStart {
                        index: index(),
                        tool_use_id: tool["toolUseId"].as_str().unwrap().to_owned(),
                        name: tool["name"].as_str().unwrap().to_owned(),
                    }
                }
                "contentBlockDelta" => {
                    assert_known_keys(p, "", &["contentBlockIndex", "delta"]);
                    let d = &p["delta"];
                    if let Some(t) = d["text"].as_str() {
                        Event::Text(index(), t.to_owned())
                    } else if let Some(i) = d["toolUse"]["input"].as_str() {
                        Event::ToolInput(index(), i.to_owned())
                    } else if let Some(t) = d["reasoningContent"]["text"].as_str() {
                        Event::ReasoningText(index(), t.to_owned())
                    } else if let Some(s) = d["reasoningContent"]["signature"].as_str() {
                        Event::ReasoningSignature(index(), s.to_owned())
                    } else {
                        panic!("a delta this test does not know: {p}")
                    }
                }
                "contentBlockStop" => {
                    assert_known_keys(p, "", &["contentBlockIndex"]);
                    Event::BlockStop(index())
                }
                "messageStop" => {
                    assert_known_keys(p, "", &["stopReason", "additionalModelResponseFields"]);
                    Event::Stop {
                        reason: p["stopReason"].as_str().unwrap().to_owned(),
                        fields: p.get("additionalModelResponseFields").cloned(),
                    }
                }
                "metadata" => {
                    assert_known_keys(p, "", &["usage", "metrics"]);
                    Event::Metadata {
                        usage: usage_of(&p["usage"]),
                        latency_ms: latency_of(&p["metrics"]),
                    }
                }
                other => panic!("an event type this test does not know: {other}"),
            }
        })
        .collect()
}

/// The reply the events add up to, assembled here.
pub(super) fn expected_from_events(events: &[Event], response: &Value) -> Expected {
    enum Block {
        Text(String),
        Tool {
            id: String,
            name: String,
            input: String,
        },
        Reasoning {
            text: String,
            signature: Option<String>,
        },
    }
    let mut blocks: BTreeMap<u32, Block> = BTreeMap::new();
    let mut expected = Expected {
        role: String::new(),
        content: Value::Null,
        stop_reason: String::new(),
        usage: None,
        latency_ms: None,
        additional_fields: None,
        request_id: header(response, "x-amzn-requestid").map(str::to_owned),
    };
    let reasoning = || Block::Reasoning {
        text: String::new(),
        signature: None,
    };
    for e in events {
        match e {
            Event::MessageStart(role) => expected.role = role.clone(),
            Event::BlockStart {
                index,
                tool_use_id,
                name,
            } => {
                blocks.insert(
                    *index,
                    Block::Tool {
                        id: tool_use_id.clone(),
                        name: name.clone(),
                        input: String::new(),
                    },
                );
            }
            Event::Text(i, t) => match blocks
                .entry(*i)
                .or_insert_with(|| Block::Text(String::new()))
            {
                Block::Text(s) => s.push_str(t),
                _ => panic!("text for a non-text block {i}"),
            },
            Event::ToolInput(i, t) => match blocks.get_mut(i) {
                Some(Block::Tool { input, .. }) => input.push_str(t),
                _ => panic!("tool input for a block that did not start as a tool use: {i}"),
            },
            Event::ReasoningText(i, t) => match blocks.entry(*i).or_insert_with(reasoning) {
                Block::Reasoning { text, .. } => text.push_str(t),
                _ => panic!("reasoning for a non-reasoning block {i}"),
            },
            Event::ReasoningSignature(i, s) => match blocks.entry(*i).or_insert_with(reasoning) {
                Block::Reasoning { signature, .. } => {
                    signature.get_or_insert_with(String::new).push_str(s)
                }
                _ => panic!("a signature for a non-reasoning block {i}"),
            },
            Event::BlockStop(_) => {}
            Event::Stop { reason, fields } => {
                expected.stop_reason = reason.clone();
                expected.additional_fields = fields.clone();
            }
            Event::Metadata { usage, latency_ms } => {
                expected.usage = *usage;
                expected.latency_ms = *latency_ms;
            }
            Event::Other(o) => panic!("{o}"),
        }
    }
    expected.content = blocks
        .into_values()
        .map(|b| match b {
            Block::Text(t) => json!({ "text": t }),
            Block::Tool { id, name, input } => {
                let input: Value = serde_json::from_str(&input).unwrap_or_else(|e| {
                    panic!("the recorded tool input {input:?} is not JSON: {e}")
                });
                json!({ "toolUse": { "toolUseId": id, "name": name, "input": input } })
            }
            Block::Reasoning { text, signature } => {
                let mut r = json!({ "text": text });
                if let Some(s) = signature {
                    r["signature"] = json!(s);
                }
                json!({ "reasoningContent": { "reasoningText": r } })
            }
        })
        .collect();
    expected
}

pub(super) fn block_json(block: &ContentBlock) -> Value {
    match block {
        ContentBlock::Text(t) => json!({ "text": t }),
        ContentBlock::ToolUse(t) => json!({
            "toolUse": { "toolUseId": t.tool_use_id, "name": t.name, "input": doc_to_json(&t.input) }
        }),
        ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(r)) => {
            let mut v = json!({ "text": r.text });
            if let Some(s) = &r.signature {
                v["signature"] = json!(s);
            }
            json!({ "reasoningContent": { "reasoningText": v } })
        }
        other => json!({ "unexpected block": format!("{other:?}") }),
    }
}

pub(super) fn actual(r: &Response) -> Expected {
    Expected {
        role: r.message.role.as_str().to_owned(),
        content: r.content().iter().map(block_json).collect(),
        stop_reason: r
            .stop_reason
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        usage: r.usage,
        latency_ms: r.metrics.map(|m| m.latency_ms),
        additional_fields: r.additional_model_response_fields.clone(),
        request_id: r.request_id.clone(),
    }
}

/// Every callback, in order, as [`Event`]s.
#[derive(Default)]
pub(super) struct Seen(pub(super) Vec<Event>);

impl StreamHandler for Seen {
    fn on_message_start(&mut self, role: &Role) -> ControlFlow<()> {
        self.0.push(Event::MessageStart(role.as_str().to_owned()));
        ControlFlow::Continue(())
    }
    fn on_block_start(&mut self, index: u32, start: &BlockStart) -> ControlFlow<()> {
        self.0.push(match start {
            BlockStart::ToolUse {
                tool_use_id, name, ..
            } => Event::BlockStart {
                index,
                tool_use_id: tool_use_id.clone(),
                name: name.clone(),
            },
            other => Event::Other(format!("block start {index} {other:?}")),
        });
        ControlFlow::Continue(())
    }
    fn on_delta(&mut self, index: u32, delta: &Delta) -> ControlFlow<()> {
        self.0.push(match delta {
            Delta::Text(t) => Event::Text(index, t.clone()),
            Delta::ToolUseInput(t) => Event::ToolInput(index, t.clone()),
            Delta::ReasoningText(t) => Event::ReasoningText(index, t.clone()),
            Delta::ReasoningSignature(s) => Event::ReasoningSignature(index, s.clone()),
            other => Event::Other(format!("delta {index} {other:?}")),
        });
        ControlFlow::Continue(())
    }
    fn on_block_stop(&mut self, index: u32) -> ControlFlow<()> {
        self.0.push(Event::BlockStop(index));
        ControlFlow::Continue(())
    }
    fn on_stop(&mut self, stop: &Stop) -> ControlFlow<()> {
        self.0.push(Event::Stop {
            reason: stop.reason.as_str().to_owned(),
            fields: stop.additional_model_response_fields.clone(),
        });
        ControlFlow::Continue(())
    }
    fn on_metadata(&mut self, m: &Metadata) -> ControlFlow<()> {
        self.0.push(Event::Metadata {
            usage: m.usage,
            latency_ms: m.metrics.map(|m| m.latency_ms),
        });
        ControlFlow::Continue(())
    }
}

/// The kind an error code must map to, written out here rather than taken
/// from the code under test.
pub(super) fn kind_of(code: &str) -> ServiceErrorKind {
    match code {
        "ValidationException" => ServiceErrorKind::Validation,
        "ResourceNotFoundException" => ServiceErrorKind::ResourceNotFound,
        "AccessDeniedException" => ServiceErrorKind::AccessDenied,
        "ThrottlingException" => ServiceErrorKind::Throttling,
        other => panic!("a recorded error code this test does not know: {other}"),
    }
}
