//! Reply builders for the newer content kinds and usage details: cache
//! writes by TTL, generated images, tool results the service produced
//! (with search results), so that each kind can be served from both
//! `/converse` and `/converse-stream`.

use serde_json::{json, Value};

use crate::reply::{request_words, FrameCache, Kind, Reply, ReplyBlock, Script};

/// The count for `POST /model/{modelId}/count-tokens`: the number of
/// words in the Converse request's messages and system prompts (the
/// estimate an echo reply reports too), at least 1. `Err` is the
/// `ValidationException` message for a body without
/// `input.converse.messages`, or for a model that is not an Anthropic
/// Claude model: AWS documents CountTokens for those
/// (https://docs.aws.amazon.com/bedrock/latest/userguide/count-tokens.html),
/// and users report other models refused with the message used here
/// (strands-agents/sdk-typescript #999, agentgateway #3254).
pub(crate) fn count_tokens(model_id: &str, body: &Value) -> Result<Value, String> {
    if !model_id.contains("anthropic.claude") {
        return Err("The provided model doesn't support counting tokens.".into());
    }
    let Some(converse) = body.pointer("/input/converse") else {
        return Err(
            "input must hold `converse` (or `invokeModel`, which this server does not count)"
                .into(),
        );
    };
    match converse["messages"].as_array() {
        Some(m) if !m.is_empty() => {}
        _ => return Err("input.converse.messages must be a non-empty list".into()),
    }
    Ok(json!({ "inputTokens": request_words(converse).max(1) }))
}

fn b64(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(bytes)
}

/// A [`Reply::json`] answering a request that forces a tool (`toolChoice`
/// `{"tool": {"name": …}}`) becomes a call of that tool with the JSON as
/// its input, stop reason `tool_use`, as a model answers a forced tool.
pub(crate) fn answer_forced_tool(mut reply: Reply, body: &Value) -> Reply {
    if let Kind::Success(script) = &mut reply.kind {
        force(script, body);
    }
    reply
}

fn force(script: &mut Script, body: &Value) {
    let Some(value) = script.json.clone() else {
        return;
    };
    let Some(name) = body
        .pointer("/toolConfig/toolChoice/tool/name")
        .and_then(Value::as_str)
    else {
        return;
    };
    // The script's encoded frames are shared with its clones: drop them.
    script.frames = FrameCache::default();
    script.blocks = vec![ReplyBlock::ToolUse {
        id: "tooluse_forced".into(),
        name: name.to_owned(),
        input: value,
    }];
    if script.stop_reason == "end_turn" {
        script.stop_reason = "tool_use".into();
    }
}

impl Reply {
    /// A reply whose one text block is `value` as JSON: what a model
    /// answers to a request with `outputConfig.textFormat`. To a request
    /// that forces a tool (`toolChoice` naming it), the same reply is a
    /// call of that tool (id `tooluse_forced`) with `value` as its input
    /// and stop reason `tool_use`, so one reply serves both modes of
    /// [`Converser::extract`](bedrock_converse::Converser::extract).
    ///
    /// ```
    /// use bedrock_converse_mock::{MockServer, Reply};
    /// use bedrock_converse::ConverseRequest;
    /// use serde_json::json;
    /// let server = MockServer::start()?;
    /// server.push(Reply::json(&json!({"n": 1})));
    /// let out = server.converser()?.converse(&ConverseRequest::new("amazon.nova-lite-v1:0").user("hi"))?;
    /// assert_eq!(out.text(), r#"{"n":1}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn json(value: &Value) -> Reply {
        let mut script = Script {
            blocks: vec![ReplyBlock::Text(value.to_string())],
            ..Script::default()
        };
        script.json = Some(value.clone());
        Reply::success(script)
    }

    /// A reply blocked by a guardrail, as the service sends it: the
    /// guardrail's message as text, stop reason `guardrail_intervened`, and a
    /// trace whose input assessment (for guardrail `mock-guardrail`) shows a
    /// denied topic. Replace the trace with [`trace`](Reply::trace).
    pub fn guardrail_intervened(message: impl Into<String>) -> Reply {
        Reply::text(message)
            .stop_reason("guardrail_intervened")
            .trace(json!({
                "guardrail": {
                    "inputAssessment": {
                        "mock-guardrail": {
                            "topicPolicy": {
                                "topics": [{
                                    "name": "Investment advice",
                                    "type": "DENY",
                                    "action": "BLOCKED",
                                    "detected": true
                                }]
                            },
                            "invocationMetrics": {
                                "guardrailProcessingLatency": 87,
                                "usage": {
                                    "topicPolicyUnits": 1,
                                    "contentPolicyUnits": 0,
                                    "wordPolicyUnits": 0,
                                    "sensitiveInformationPolicyUnits": 0,
                                    "sensitiveInformationPolicyFreeUnits": 0,
                                    "contextualGroundingPolicyUnits": 0
                                },
                                "guardrailCoverage": {
                                    "textCharacters": { "guarded": 40, "total": 40 }
                                }
                            }
                        }
                    },
                    "actionReason": "Guardrail blocked."
                }
            }))
    }

    /// Appends a generated image (`format` as on the wire, e.g. `"png"`):
    /// an `image` block in a whole reply; a `contentBlockStart` with the
    /// format and the bytes in two `image` deltas in a stream.
    pub fn image(self, format: &str, bytes: &[u8]) -> Reply {
        let (a, b) = bytes.split_at(bytes.len() / 2);
        let mut deltas = vec![json!({ "image": { "source": { "bytes": b64(a) } } })];
        if !b.is_empty() {
            deltas.push(json!({ "image": { "source": { "bytes": b64(b) } } }));
        }
        self.raw_block(
            json!({ "image": { "format": format, "source": { "bytes": b64(bytes) } } }),
            Some(json!({ "image": { "format": format } })),
            deltas,
        )
    }

    /// Appends a call of a tool the service runs itself (`type:
    /// server_tool_use`, e.g. a web search); its input is streamed in one
    /// delta. The stop reason is left alone: the service answers it in the
    /// same reply ([`tool_result`](Reply::tool_result)).
    pub fn server_tool_use(self, id: &str, name: &str, input: Value) -> Reply {
        self.raw_block(
            json!({ "toolUse": { "toolUseId": id, "name": name, "input": input, "type": "server_tool_use" } }),
            Some(json!({ "toolUse": { "toolUseId": id, "name": name, "type": "server_tool_use" } })),
            vec![json!({ "toolUse": { "input": input.to_string() } })],
        )
    }

    /// Appends the result of a tool the service ran, status `success`, with
    /// `content` in the wire's shape (`{"text": …}`, `{"json": …}`,
    /// `{"searchResult": {"source", "title", "content": [{"text"}]}}`, …).
    /// In a stream, each `text` piece is split over two `toolResult` deltas
    /// and each `json` piece is one (a stream cannot tell two text pieces in
    /// a row from one, so give one); ConverseStream has no delta for other
    /// kinds (search results among them), so those arrive only in a whole
    /// reply.
    pub fn tool_result(self, tool_use_id: &str, content: Vec<Value>) -> Reply {
        let mut deltas = Vec::new();
        for c in &content {
            if let Some(text) = c.get("text").and_then(Value::as_str) {
                let mid = text
                    .char_indices()
                    .map(|(i, _)| i)
                    .nth(text.chars().count() / 2)
                    .unwrap_or(text.len());
                let (a, b) = text.split_at(mid);
                for piece in [a, b].into_iter().filter(|p| !p.is_empty()) {
                    deltas.push(json!({ "toolResult": [{ "text": piece }] }));
                }
            } else if c.get("json").is_some() {
                deltas.push(json!({ "toolResult": [c] }));
            }
        }
        self.raw_block(
            json!({ "toolResult": { "toolUseId": tool_use_id, "content": content, "status": "success" } }),
            Some(json!({ "toolResult": { "toolUseId": tool_use_id, "status": "success" } })),
            deltas,
        )
    }

    /// The cache writes by time to live, `usage.cacheDetails` on the wire:
    /// one `{"ttl": …, "inputTokens": …}` per pair, e.g. `[("5m", 100), ("1h", 2048)]`,
    /// in the whole reply and in the stream's `metadata` event.
    ///
    /// ```
    /// use bedrock_converse_mock::{MockServer, Reply};
    /// use bedrock_converse::ConverseRequest;
    /// let server = MockServer::start()?;
    /// server.push(Reply::text("ok").cache_tokens(0, 2148).cache_details(&[("5m", 100), ("1h", 2048)]));
    /// let usage = server.converser()?.converse(&ConverseRequest::new("amazon.nova-lite-v1:0").user("hi"))?.usage.unwrap();
    /// let details = usage.cache_details.unwrap();
    /// assert_eq!((details.five_minutes, details.one_hour), (100, 2048));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cache_details(self, details: &[(&str, u32)]) -> Reply {
        let details: Vec<(String, u32)> =
            details.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect();
        self.edit(|s| s.cache_details = details)
    }
}
