//! The requests of the recordings, built through the public API as a user
//! would: [`request_for`] gives the request of a recording's turn, from the
//! replies of the turns before it.

use aws_smithy_types::{Blob, Document, Number};
use bedrock_converse::model::{GuardrailConfig, InferenceConfig, Role, Tool, ToolChoice};
use bedrock_converse::types::{
    CachePointBlock, CachePointType, ContentBlock, DocumentBlock, DocumentFormat, DocumentSource,
    GuardrailTrace, SystemContentBlock, ToolResultBlock, ToolResultContentBlock,
};
use bedrock_converse::{ConverseRequest, Message, Response};
use serde_json::{json, Value};
use std::collections::HashMap;

pub(super) const NOVA_LITE: &str = "amazon.nova-lite-v1:0";

pub(super) fn text_block(text: &str) -> ContentBlock {
    ContentBlock::Text(text.into())
}

pub(super) fn txt_document(name: &str, text: &str) -> ContentBlock {
    ContentBlock::Document(
        DocumentBlock::builder()
            .format(DocumentFormat::Txt)
            .name(name)
            .source(DocumentSource::Bytes(Blob::new(text.as_bytes())))
            .build()
            .unwrap(),
    )
}

pub(super) fn cache_point() -> CachePointBlock {
    CachePointBlock::builder()
        .r#type(CachePointType::Default)
        .build()
        .unwrap()
}

pub(super) fn json_to_doc(v: &Value) -> Document {
    match v {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap())
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(a) => Document::Array(a.iter().map(json_to_doc).collect()),
        Value::Object(o) => Document::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), json_to_doc(v)))
                .collect::<HashMap<_, _>>(),
        ),
    }
}

/// The tool use id of the (first) tool call in a reply.
pub(super) fn tool_use_id(reply: &Response) -> String {
    reply
        .content()
        .iter()
        .find_map(|b| match b {
            ContentBlock::ToolUse(t) => Some(t.tool_use_id.clone()),
            _ => None,
        })
        .expect("the first turn called a tool")
}

/// The user turn that answers the first turn's tool call.
pub(super) fn tool_result(reply: &Response, result: Value) -> Message {
    Message::new(
        Role::User,
        vec![ContentBlock::ToolResult(
            ToolResultBlock::builder()
                .tool_use_id(tool_use_id(reply))
                .content(ToolResultContentBlock::Json(json_to_doc(&result)))
                .build()
                .unwrap(),
        )],
    )
}

pub(super) fn number_tool(name: &str, description: &str, x: &str, y: &str) -> Tool {
    Tool::new(
        name,
        description,
        json!({
            "type": "object",
            "properties": {
                "x": {"type": "number", "description": x},
                "y": {"type": "number", "description": y},
            },
            "required": ["x", "y"],
        }),
    )
}

pub(super) fn add_tool() -> Tool {
    number_tool(
        "add",
        "Add x and y together",
        "The first number to add",
        "The second number to add",
    )
}

pub(super) fn subtract_tool() -> Tool {
    number_tool(
        "subtract",
        "Subtract y from x (i.e.: x - y)",
        "The number to subtract from",
        "The number to subtract",
    )
}

pub(super) fn no_arg_tool(name: &str, description: &str) -> Tool {
    Tool::new(
        name,
        description,
        json!({"type": "object", "properties": {}, "required": []}),
    )
}

/// The request for turn `turn` of a recording; `previous` holds the replies
/// to the earlier turns, which a second turn sends back as history.
pub(super) fn request_for(name: &str, turn: usize, previous: &[Response]) -> ConverseRequest {
    let nova = ConverseRequest::new(NOVA_LITE);
    // Some recording clients sent `inferenceConfig: {}` when no setting was given.
    let nova_empty_config =
        ConverseRequest::new(NOVA_LITE).inference_config(InferenceConfig::default());
    match name {
        "agent__completion_smoke" => nova_empty_config
            .system("You are a concise assistant. Answer directly.")
            .user("In one or two sentences, explain what Rust programming language is and why memory safety matters."),
        "agent__completion_with_context_smoke" => nova_empty_config
            .system("Answer the user using only the supplied context.")
            .message(Message::new(
                Role::User,
                vec![
                    text_block("Use provided document"),
                    txt_document(
                        "document-REDACTED-1",
                        "<file id: static_doc_0>\nDefinition of a *flurbo*: A flurbo is a green alien that lives on cold planets.\n</file>\n | <file id: static_doc_1>\nDefinition of a *glarb-glarb*: A glarb-glarb is an ancient tool used by the ancestors of the inhabitants of planet Jiro to farm the land.\n</file>\n | <file id: static_doc_2>\nDefinition of a *linglingdong*: A term used by inhabitants of the far side of the moon to describe humans.\n</file>\n",
                    ),
                ],
            ))
            // Two user turns in a row: Bedrock accepted them.
            .user("What does \"glarb-glarb\" mean?"),
        "agent__prompt_caching_completion_smoke" => nova_empty_config
            .system("You are a concise assistant. Answer directly.")
            .system_block(SystemContentBlock::CachePoint(cache_point()))
            .message(
                Message::user("In one or two sentences, explain what Rust programming language is and why memory safety matters.")
                    .with(ContentBlock::CachePoint(cache_point())),
            ),
        "agent__tool_roundtrip_smoke" => {
            let first = nova
                .system("You are a calculator. Use the provided tools before answering arithmetic questions.")
                .tool(add_tool())
                .tool(subtract_tool())
                .max_tokens(1024)
                .user("Calculate 2 - 5.");
            match turn {
                0 => first,
                _ => first
                    .message(previous[0].message.clone())
                    .message(tool_result(&previous[0], json!({"result": -3}))),
            }
        }
        "document_ordering__documents_are_prepended_before_history" => nova
            .system("Answer with the exact token from the document only.")
            .max_tokens(32)
            .temperature(0.0)
            .message(Message::new(
                Role::User,
                vec![
                    text_block("Use provided document"),
                    txt_document(
                        "document-REDACTED-1",
                        "<file id: ordering-note>\nThe ordering token is violet-needle.\n</file>\n",
                    ),
                ],
            ))
            .assistant("Acknowledged.")
            .user("According to the document, what is the ordering token?"),
        "model_ids__bare_profile_only_model_id_is_rejected" => {
            ConverseRequest::new("deepseek.r1-v1:0").max_tokens(8).user("Say hi.")
        }
        "model_ids__claude_profile_constant_completes" => {
            ConverseRequest::new("us.anthropic.claude-haiku-4-5-20251001-v1:0")
                .inference_config(InferenceConfig::default())
                .system("You are concise.")
                .user("Reply with the single word: ready.")
        }
        "model_ids__cross_region_profile_id_completes" => ConverseRequest::new("us.deepseek.r1-v1:0")
            .max_tokens(512)
            .user("Reply with the single word: ready."),
        "model_ids__retired_model_id_preserves_provider_error" => {
            ConverseRequest::new("anthropic.claude-3-5-sonnet-20240620-v1:0")
                .max_tokens(8)
                .user("Say hi.")
        }
        "raw_completion__raw_response_text_matches_normalized_choice_text" => nova
            .system("Return exactly the requested text as plain text with no bullets, quotes, or extra commentary.")
            .temperature(0.0)
            .user("Reply with exactly two short lines and nothing else. First line: cedar. Second line: maple."),
        "raw_provider_data__guardrail_trace_survives_into_raw_completion" => nova
            .guardrail(GuardrailConfig::new("fytaiyvapuzp", "DRAFT").trace(GuardrailTrace::Enabled))
            .max_tokens(64)
            .user("Explain a gravitational singularity in one sentence."),
        "raw_provider_data__request_id_survives_into_raw_completion" => nova
            .max_tokens(16)
            .user("Reply with the single word: ready."),
        "raw_streaming__raw_stream_emits_required_zero_arg_tool_call" => nova_empty_config
            .tool(no_arg_tool("ping", "A zero-argument tool named ping."))
            .tool_choice(ToolChoice::Any)
            .user(
            "Call the ping tool with no arguments. Do not answer with normal text before the tool call.",
        ),
        "raw_streaming__raw_stream_emits_tool_call_before_text" => nova_empty_config
            .tool(no_arg_tool("lookup_harbor_label", "Return the alpha signal marker."))
            .tool_choice(ToolChoice::tool("lookup_harbor_label"))
            .system("You must call the requested tool before writing any normal text. After the tool result is available, do not call any more tools and answer in one short sentence that includes the exact tool output.")
            .user("Call `lookup_harbor_label` exactly once before answering. After the tool result is available, answer in one short sentence that includes the exact tool output."),
        "raw_streaming__raw_stream_surfaces_two_distinct_tool_calls" => nova_empty_config
            .tool(no_arg_tool("lookup_harbor_label", "Return the alpha signal marker."))
            .tool(no_arg_tool("lookup_orchard_label", "Return the beta signal marker."))
            .system("You are a precise assistant. When tools are available, you must use them instead of guessing. Call both `lookup_harbor_label` and `lookup_orchard_label` before writing any normal text. Never call the same tool twice once you already have its result.")
            .user("Call `lookup_harbor_label` and `lookup_orchard_label` exactly once each before answering. After both tool results are available, stop calling tools and respond in one short sentence that includes both exact tool outputs."),
        "raw_streaming__raw_stream_text_response_smoke" => nova
            .system("Reply with exactly the requested text.")
            .temperature(0.0)
            .user("Reply with exactly two short lines and nothing else. First line: cedar. Second line: maple."),
        "streaming__streaming_smoke" => nova_empty_config
            .system("You are a concise assistant. Answer directly in plain text.")
            .user("In one short paragraph, explain what a solar eclipse is."),
        "streaming__streaming_tools_smoke" => {
            let first = nova
                .system("You are a calculator. Use the provided tools before answering arithmetic questions.")
                .tool(subtract_tool())
                .max_tokens(1024)
                .user("Calculate 2 - 5.");
            match turn {
                0 => first,
                // The streamed first reply, as assembled, is the history.
                _ => first
                    .message(previous[0].message.clone())
                    .message(tool_result(&previous[0], json!({"result": -3}))),
            }
        }
        "tool_choice__none_nonstreaming_no_tools" | "tool_choice__none_streaming_no_tools" => nova
            .system("You are a deterministic calculator test. Answer directly in text.")
            .temperature(0.0)
            .user("Calculate 20 + 22 directly in text. Do not call tools."),
        "tool_choice__required_forces_function_call" => nova
            .tool(add_tool())
            .tool_choice(ToolChoice::Any)
            .temperature(0.0)
            .user("Use the add tool to calculate 20 + 22."),
        "tool_choice__specific_add_raw_nonstreaming" | "tool_choice__specific_add_raw_streaming" => nova
            .tool(add_tool())
            .tool(subtract_tool())
            .tool_choice(ToolChoice::tool("add"))
            .temperature(0.0)
            .user("Use the add tool to calculate 20 + 22. Do not use subtraction."),
        other => panic!("no request is written for the recording {other:?}: add it to request_for"),
    }
}
