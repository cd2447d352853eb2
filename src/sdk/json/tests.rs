//! The codec over every content kind and field: JSON to typed to JSON is
//! the identity, and what it does not know is an error naming its path.

use serde_json::{json, Value};

use crate::error::Error;
use crate::model::{ConverseRequest, Response};

/// A structured-output schema as the service takes it: fitted and written
/// compactly with sorted keys, as `serde_json` writes it back.
const SCHEMA: &str = r#"{"additionalProperties":false,"properties":{"a":{"type":"string"}},"required":["a"],"type":"object"}"#;

/// Request bodies, one per subject, together covering every member.
pub(crate) fn request_bodies() -> Vec<(&'static str, Value)> {
    let user = |content: Value| json!({"role": "user", "content": content});
    let png = json!({"format": "png", "source": {"bytes": "aGVsbG8="}});
    vec![
        (
            "system blocks: text, guard content (text and image), cache point",
            json!({
                "system": [
                    {"text": "You are terse."},
                    {"guardContent": {"text": {"text": "Stay on topic.", "qualifiers": ["guard_content"]}}},
                    {"guardContent": {"image": {"format": "jpeg", "source": {"bytes": "aGVsbG8="}}}},
                    {"cachePoint": {"type": "default", "ttl": "1h"}}
                ],
                "messages": [user(json!([{"text": "Hi"}, {"cachePoint": {"type": "default"}}]))]
            }),
        ),
        (
            "media from bytes",
            json!({"messages": [user(json!([
                {"image": png},
                {"document": {"format": "pdf", "name": "Report 2026", "source": {"bytes": "aGVsbG8="},
                              "context": "the annual report", "citations": {"enabled": true}}},
                {"video": {"format": "mp4", "source": {"bytes": "aGVsbG8="}}},
                {"audio": {"format": "mp3", "source": {"bytes": "aGVsbG8="}}},
                {"text": "Describe them."}
            ]))]}),
        ),
        (
            "media from S3",
            json!({"messages": [user(json!([
                {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://b/i.png", "bucketOwner": "111122223333"}}}},
                {"document": {"format": "txt", "name": "notes", "source": {"s3Location": {"uri": "s3://b/n.txt"}}}},
                {"video": {"format": "mov", "source": {"s3Location": {"uri": "s3://b/v.mov"}}}},
                {"audio": {"format": "wav", "source": {"s3Location": {"uri": "s3://b/a.wav"}}}},
                {"text": "Describe them."}
            ]))]}),
        ),
        (
            "documents from text and content blocks",
            json!({"messages": [user(json!([
                {"document": {"format": "txt", "name": "a", "source": {"text": "plain text"}}},
                {"document": {"name": "b", "source": {"content": [{"text": "one"}, {"text": "two"}]}, "format": "txt"}},
                {"text": "Compare."}
            ]))]}),
        ),
        (
            "a tool round: tool use and results of every content type",
            json!({
                "toolConfig": {
                    "tools": [
                        {"toolSpec": {"name": "lookup", "description": "Looks up.", "inputSchema": {"json": {"type": "object", "properties": {"q": {"type": "string"}}}}}},
                        {"cachePoint": {"type": "default"}},
                        {"systemTool": {"name": "nova_grounding"}}
                    ],
                    "toolChoice": {"auto": {}}
                },
                "messages": [
                    user(json!([{"text": "Look it up."}])),
                    {"role": "assistant", "content": [
                        {"text": "Looking."},
                        {"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {"q": "x", "n": 2}}},
                        {"toolUse": {"toolUseId": "t2", "name": "lookup", "input": {}}}
                    ]},
                    user(json!([
                        {"toolResult": {"toolUseId": "t1", "status": "success", "content": [
                            {"text": "found"}, {"json": {"hits": [1, 2.5, null, true]}},
                            {"image": png},
                            {"document": {"format": "csv", "name": "hits", "source": {"bytes": "YSxi"}}},
                            {"video": {"format": "mp4", "source": {"s3Location": {"uri": "s3://b/v.mp4"}}}},
                            {"searchResult": {"source": "https://example.com", "title": "Ex", "content": [{"text": "passage"}]}}
                        ]}},
                        {"toolResult": {"toolUseId": "t2", "status": "error", "content": [{"text": "failed"}]}}
                    ]))
                ]
            }),
        ),
        (
            "tool choice any, and a server tool's use and result",
            json!({
                "toolConfig": {"tools": [{"systemTool": {"name": "nova_grounding"}}], "toolChoice": {"any": {}}},
                "messages": [
                    user(json!([{"text": "Search."}])),
                    {"role": "assistant", "content": [
                        {"toolUse": {"toolUseId": "s1", "name": "nova_grounding", "input": {"query": "q"}, "type": "server_tool_use"}},
                        {"toolResult": {"toolUseId": "s1", "content": [{"text": "result"}], "type": "nova_grounding_result"}},
                        {"text": "Done."}
                    ]},
                    user(json!([{"text": "Thanks."}]))
                ]
            }),
        ),
        (
            "tool choice of a named tool, strict",
            json!({
                "toolConfig": {
                    "tools": [{"toolSpec": {"name": "pick", "inputSchema": {"json": serde_json::from_str::<Value>(SCHEMA).unwrap()}, "strict": true}}],
                    "toolChoice": {"tool": {"name": "pick"}}
                },
                "messages": [user(json!([{"text": "Pick."}]))]
            }),
        ),
        (
            "reasoning (text with signature, redacted) and citations of every location, under a guardrail",
            json!({
                "guardrailConfig": {"guardrailIdentifier": "gr-1", "guardrailVersion": "DRAFT", "trace": "enabled"},
                "messages": [
                    user(json!([{"text": "Why?"}])),
                    {"role": "assistant", "content": [
                        {"reasoningContent": {"reasoningText": {"text": "Think.", "signature": "c2ln"}}},
                        {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
                        {"citationsContent": {
                            "content": [{"text": "Because."}],
                            "citations": [
                                {"title": "Doc", "sourceContent": [{"text": "quote"}], "location": {"documentChar": {"documentIndex": 0, "start": 1, "end": 9}}},
                                {"location": {"documentPage": {"documentIndex": 0, "start": 2, "end": 3}}},
                                {"location": {"documentChunk": {"documentIndex": 1, "start": 0, "end": 1}}},
                                {"source": "https://example.com", "location": {"searchResultLocation": {"searchResultIndex": 0, "start": 0, "end": 0}}},
                                {"location": {"web": {"url": "https://example.com/a", "domain": "example.com"}}}
                            ]
                        }}
                    ]},
                    user(json!([{"text": "More."}, {"guardContent": {"text": {"text": "checked"}}}]))
                ]
            }),
        ),
        (
            "search results with citations",
            json!({"messages": [user(json!([
                {"searchResult": {"source": "kb://1", "title": "One", "content": [{"text": "a"}, {"text": "b"}], "citations": {"enabled": true}}},
                {"text": "Answer from it."}
            ]))]}),
        ),
        (
            "a system turn adding and removing tools",
            json!({
                "toolConfig": {"tools": [{"toolSpec": {"name": "late", "inputSchema": {"json": {"type": "object"}}}}]},
                "messages": [
                    user(json!([{"text": "Hi"}])),
                    {"role": "assistant", "content": [{"text": "Hello"}]},
                    {"role": "system", "content": [
                        {"text": "You may now use `late`."},
                        {"toolAddition": {"tool": {"name": "late"}}},
                        {"toolRemoval": {"tool": {"type": "mcp", "name": "old", "serverName": "srv"}}}
                    ]},
                    user(json!([{"text": "Go."}]))
                ]
            }),
        ),
        (
            "every setting",
            json!({
                "messages": [user(json!([{"text": "Hi"}]))],
                "inferenceConfig": {"maxTokens": 512, "temperature": 0.7, "topP": 0.9, "stopSequences": ["END"]},
                "additionalModelRequestFields": {"top_k": 200, "thinking": {"type": "enabled", "budget_tokens": -1, "ratio": 0.25}},
                "additionalModelResponseFieldPaths": ["/stop_sequence"],
                "promptVariables": {"genre": {"text": "pop"}},
                "requestMetadata": {"team": "search", "run": "7"},
                "performanceConfig": {"latency": "optimized"},
                "serviceTier": {"type": "priority"},
                "outputConfig": {
                    "textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": SCHEMA, "name": "answer", "description": "The answer."}}},
                    "effort": "high"
                }
            }),
        ),
    ]
}

/// Response bodies, together covering every member a reply can carry.
pub(crate) fn response_bodies() -> Vec<(&'static str, Value)> {
    let reply = |content: Value| json!({"role": "assistant", "content": content});
    vec![
        (
            "text, usage with cache details, metrics",
            json!({
                "output": {"message": reply(json!([{"text": "Hello"}]))},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 10, "outputTokens": 2, "totalTokens": 12,
                          "cacheReadInputTokens": 5, "cacheWriteInputTokens": 3,
                          "cacheDetails": [{"ttl": "5m", "inputTokens": 1}, {"ttl": "1h", "inputTokens": 2}]},
                "metrics": {"latencyMs": 321}
            }),
        ),
        (
            "tool use, reasoning and redacted reasoning",
            json!({
                "output": {"message": reply(json!([
                    {"reasoningContent": {"reasoningText": {"text": "Hmm.", "signature": "c2ln"}}},
                    {"reasoningContent": {"redactedContent": "cmVk"}},
                    {"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {"q": "x"}}}
                ]))},
                "stopReason": "tool_use",
                "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}
            }),
        ),
        (
            "server tool use and result, citations, image, trace and settings",
            json!({
                "output": {"message": reply(json!([
                    {"toolUse": {"toolUseId": "s1", "name": "nova_grounding", "input": {}, "type": "server_tool_use"}},
                    {"toolResult": {"toolUseId": "s1", "content": [{"json": {"ok": true}}], "status": "success"}},
                    {"citationsContent": {"content": [{"text": "Cited."}], "citations": [{"location": {"web": {"url": "https://e.com"}}}]}},
                    {"image": {"format": "png", "source": {"bytes": "aGVsbG8="}}},
                    {"image": {"format": "png", "error": {"message": "could not render"}}}
                ]))},
                "stopReason": "end_turn",
                "additionalModelResponseFields": {"stop_sequence": null, "n": [1, 2]},
                "trace": {"promptRouter": {"invokedModelId": "arn:aws:bedrock:us-east-1::foundation-model/m"}},
                "performanceConfig": {"latency": "standard"},
                "serviceTier": {"type": "flex"}
            }),
        ),
        (
            "stop reason malformed_model_output",
            json!({"output": {"message": reply(json!([{"text": "{"}]))}, "stopReason": "malformed_model_output"}),
        ),
        (
            "stop reason malformed_tool_use",
            json!({"output": {"message": reply(json!([]))}, "stopReason": "malformed_tool_use"}),
        ),
        (
            "a stop reason this version does not know",
            json!({"output": {"message": reply(json!([{"text": "x"}]))}, "stopReason": "tomorrows_reason"}),
        ),
    ]
}

#[test]
fn every_request_body_reads_and_writes_back_unchanged() {
    for (subject, body) in request_bodies() {
        let request = ConverseRequest::from_json("model", &body)
            .unwrap_or_else(|e| panic!("{subject}: not read: {e}"));
        let back = request
            .to_json()
            .unwrap_or_else(|e| panic!("{subject}: not written: {e}"));
        assert_eq!(back, body, "{subject}");
    }
}

#[test]
fn every_response_body_reads_and_writes_back_unchanged() {
    for (subject, body) in response_bodies() {
        let response =
            Response::from_json(&body).unwrap_or_else(|e| panic!("{subject}: not read: {e}"));
        let back = response
            .to_json()
            .unwrap_or_else(|e| panic!("{subject}: not written: {e}"));
        assert_eq!(back, body, "{subject}");
    }
}

#[test]
fn the_request_body_is_what_the_model_types_hold() {
    let (_, body) = request_bodies().pop().expect("every setting");
    let r = ConverseRequest::from_json("m", &body).unwrap();
    let config = r.inference_config.as_ref().unwrap();
    assert_eq!(config.max_tokens, Some(512));
    assert_eq!(config.temperature, Some(0.7));
    assert_eq!(r.prompt_variables["genre"], "pop");
    assert_eq!(r.request_metadata["run"], "7");
    let format = r.output_config.unwrap().text_format.unwrap();
    assert_eq!(format.schema["required"], json!(["a"]));
    assert_eq!(format.name.as_deref(), Some("answer"));
}

fn request_error(body: Value) -> (String, String) {
    match ConverseRequest::from_json("m", &body) {
        Err(Error::InvalidRequest { field, reason }) => (field, reason),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn an_unknown_key_is_an_error_naming_its_path() {
    let cases = [
        (json!({"messages": [], "temprature": 1}), "temprature"),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a"}, {"toolUse": {"toolUseId": "t", "name": "n", "input": {}, "extra": 1}}]}]}),
            "messages[0].content[1].toolUse.extra",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"image": {"format": "png", "source": {"url": "x"}}}]}]}),
            "messages[0].content[0].image.source.url",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"hologram": {}}]}]}),
            "messages[0].content[0].hologram",
        ),
        (
            json!({"messages": [], "inferenceConfig": {"maxTokens": 1, "topK": 5}}),
            "inferenceConfig.topK",
        ),
        (
            json!({"messages": [], "toolConfig": {"tools": [], "toolChoice": {"none": {}}}}),
            "toolConfig.toolChoice.none",
        ),
        (
            json!({"messages": [], "guardrailConfig": {"guardrailIdentifier": "g", "guardrailVersion": "1", "streamProcessingMode": "sync"}}),
            "guardrailConfig.streamProcessingMode",
        ),
        (json!({"messages": [], "modelId": "m"}), "modelId"),
    ];
    for (body, path) in cases {
        let (field, reason) = request_error(body);
        assert_eq!((field.as_str(), reason.as_str()), (path, "unknown key"));
    }
}

#[test]
fn a_malformed_member_is_an_error_naming_its_path() {
    let cases = [
        (json!([]), "", "must be an object"),
        (json!({}), "messages", "is required"),
        (
            json!({"messages": [{"role": "user", "content": [{"text": 1}]}]}),
            "messages[0].content[0].text",
            "must be a string",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a", "image": {}}]}]}),
            "messages[0].content[0]",
            "must be an object with exactly one key",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": "%%"}}}]}]}),
            "messages[0].content[0].image.source.bytes",
            "is not base64",
        ),
        (
            json!({"messages": [], "inferenceConfig": {"maxTokens": -1}}),
            "inferenceConfig.maxTokens",
            "must not be negative",
        ),
        (
            json!({"messages": [], "outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": "{"}}}}}),
            "outputConfig.textFormat.structure.jsonSchema.schema",
            "is not JSON",
        ),
    ];
    for (body, path, reason) in cases {
        let (field, why) = request_error(body);
        assert_eq!(field, path);
        assert!(why.starts_with(reason), "{path}: {why}");
    }
}

#[test]
fn a_response_with_an_unknown_key_is_a_protocol_error_naming_it() {
    let body = json!({"output": {"message": {"role": "assistant", "content": [{"text": "x"}]}}, "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2, "bonusTokens": 1}});
    let err = Response::from_json(&body).unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { message, .. } if message.ends_with("usage.bonusTokens: unknown key")),
        "{err}"
    );
}

#[test]
fn writing_a_request_validates_it_first() {
    let err = ConverseRequest::new("m").to_json().unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { ref field, .. } if field == "messages"));
}
