//! Messages and their content blocks, system blocks and tool results: the
//! service model's `Message`, `ContentBlock`, `SystemContentBlock` and
//! `ToolResultContentBlock` shapes, as the SDK's types.

use aws_sdk_bedrockruntime::types::{
    CachePointBlock, ContentBlock, GuardrailConverseContentBlock, GuardrailConverseImageBlock,
    GuardrailConverseImageSource, GuardrailConverseTextBlock, Message, ReasoningContentBlock,
    ReasoningTextBlock, SystemContentBlock, ToolAdditionBlock, ToolReference, ToolRemovalBlock,
    ToolResultBlock, ToolResultContentBlock, ToolUseBlock,
};
use serde_json::Value;

use super::cite::{read_cited, write_cited};
use super::document::{document_to_json, json_to_document};
use super::media::{
    read_audio, read_document, read_image, read_search_result, read_source, read_video,
    write_audio, write_document, write_image, write_search_result, write_video,
};
use super::read::{
    blob, built, enumeration, list, member, not_writable, object, s, string, union, unknown_member,
    write_blob, Obj,
};
use super::JsonError;

/// A `Message`.
pub(crate) fn read_message(value: &Value, path: &str) -> Result<Message, JsonError> {
    let mut o = Obj::new(value, path)?;
    let role = o.req_with("role", enumeration)?;
    let content = o.req_with("content", |v, p| list(v, p, read_block))?;
    o.finish()?;
    built(
        Message::builder()
            .role(role)
            .set_content(Some(content))
            .build(),
        path,
    )
}

/// A `SystemContentBlock`.
pub(crate) fn read_system(value: &Value, path: &str) -> Result<SystemContentBlock, JsonError> {
    let (key, v, path) = union(value, path)?;
    Ok(match key {
        "text" => SystemContentBlock::Text(string(v, &path)?),
        "guardContent" => SystemContentBlock::GuardContent(read_guard(v, &path)?),
        "cachePoint" => SystemContentBlock::CachePoint(read_cache_point(v, &path)?),
        _ => return Err(unknown_member(&path)),
    })
}

pub(crate) fn write_system(block: &SystemContentBlock) -> Result<Value, JsonError> {
    Ok(match block {
        SystemContentBlock::Text(t) => member("text", Value::String(t.clone())),
        SystemContentBlock::GuardContent(g) => member("guardContent", write_guard(g)?),
        SystemContentBlock::CachePoint(c) => member("cachePoint", write_cache_point(c)),
        other => return Err(not_writable("system block", other)),
    })
}

/// A `ContentBlock`.
pub(crate) fn read_block(value: &Value, path: &str) -> Result<ContentBlock, JsonError> {
    let (key, v, path) = union(value, path)?;
    let path = path.as_str();
    Ok(match key {
        "text" => ContentBlock::Text(string(v, path)?),
        "image" => ContentBlock::Image(read_image(v, path)?),
        "document" => ContentBlock::Document(read_document(v, path)?),
        "video" => ContentBlock::Video(read_video(v, path)?),
        "audio" => ContentBlock::Audio(read_audio(v, path)?),
        "toolUse" => ContentBlock::ToolUse(read_tool_use(v, path)?),
        "toolResult" => ContentBlock::ToolResult(read_tool_result(v, path)?),
        "guardContent" => ContentBlock::GuardContent(read_guard(v, path)?),
        "cachePoint" => ContentBlock::CachePoint(read_cache_point(v, path)?),
        "reasoningContent" => ContentBlock::ReasoningContent(read_reasoning(v, path)?),
        "citationsContent" => ContentBlock::CitationsContent(read_cited(v, path)?),
        "searchResult" => ContentBlock::SearchResult(read_search_result(v, path)?),
        "toolAddition" => ContentBlock::ToolAddition(
            ToolAdditionBlock::builder()
                .set_tool(read_tool_holder(v, path)?)
                .build(),
        ),
        "toolRemoval" => ContentBlock::ToolRemoval(
            ToolRemovalBlock::builder()
                .set_tool(read_tool_holder(v, path)?)
                .build(),
        ),
        _ => return Err(unknown_member(path)),
    })
}

/// Writes a `ContentBlock`; only the SDK's `Unknown` variants fail.
pub(crate) fn write_block(block: &ContentBlock) -> Result<Value, JsonError> {
    Ok(match block {
        ContentBlock::Text(t) => member("text", Value::String(t.clone())),
        ContentBlock::Image(i) => member("image", write_image(i)?),
        ContentBlock::Document(d) => member("document", write_document(d)?),
        ContentBlock::Video(v) => member("video", write_video(v)?),
        ContentBlock::Audio(a) => member("audio", write_audio(a)?),
        ContentBlock::ToolUse(t) => member("toolUse", write_tool_use(t)),
        ContentBlock::ToolResult(t) => member("toolResult", write_tool_result(t)?),
        ContentBlock::GuardContent(g) => member("guardContent", write_guard(g)?),
        ContentBlock::CachePoint(c) => member("cachePoint", write_cache_point(c)),
        ContentBlock::ReasoningContent(r) => member("reasoningContent", write_reasoning(r)?),
        ContentBlock::CitationsContent(c) => member("citationsContent", write_cited(c)?),
        ContentBlock::SearchResult(r) => member("searchResult", write_search_result(r)),
        ContentBlock::ToolAddition(t) => member("toolAddition", write_tool_holder(t.tool())),
        ContentBlock::ToolRemoval(t) => member("toolRemoval", write_tool_holder(t.tool())),
        other => return Err(not_writable("content block", other)),
    })
}

fn read_tool_use(value: &Value, path: &str) -> Result<ToolUseBlock, JsonError> {
    let mut o = Obj::new(value, path)?;
    let id = o.req_str("toolUseId")?;
    let name = o.req_str("name")?;
    let (input, _) = o.req("input")?;
    let kind = o.opt_with("type", enumeration)?;
    o.finish()?;
    built(
        ToolUseBlock::builder()
            .tool_use_id(id)
            .name(name)
            .input(json_to_document(input))
            .set_type(kind)
            .build(),
        path,
    )
}

fn write_tool_use(t: &ToolUseBlock) -> Value {
    object([
        ("toolUseId", s(&t.tool_use_id)),
        ("name", s(&t.name)),
        ("input", Some(document_to_json(&t.input))),
        ("type", t.r#type.as_ref().and_then(|k| s(k.as_str()))),
    ])
}

fn read_tool_result(value: &Value, path: &str) -> Result<ToolResultBlock, JsonError> {
    let mut o = Obj::new(value, path)?;
    let id = o.req_str("toolUseId")?;
    let content = o.req_with("content", |v, p| list(v, p, read_result_content))?;
    let status = o.opt_with("status", enumeration)?;
    let kind = o.opt_str("type")?;
    o.finish()?;
    built(
        ToolResultBlock::builder()
            .tool_use_id(id)
            .set_content(Some(content))
            .set_status(status)
            .set_type(kind)
            .build(),
        path,
    )
}

fn write_tool_result(t: &ToolResultBlock) -> Result<Value, JsonError> {
    let content = t
        .content
        .iter()
        .map(write_result_content)
        .collect::<Result<_, _>>()?;
    Ok(object([
        ("toolUseId", s(&t.tool_use_id)),
        ("content", Some(content)),
        ("status", t.status.as_ref().and_then(|k| s(k.as_str()))),
        ("type", t.r#type.as_deref().and_then(s)),
    ]))
}

/// A `ToolResultContentBlock`.
pub(crate) fn read_result_content(
    value: &Value,
    path: &str,
) -> Result<ToolResultContentBlock, JsonError> {
    let (key, v, path) = union(value, path)?;
    let path = path.as_str();
    Ok(match key {
        "text" => ToolResultContentBlock::Text(string(v, path)?),
        "json" => ToolResultContentBlock::Json(json_to_document(v)),
        "image" => ToolResultContentBlock::Image(read_image(v, path)?),
        "document" => ToolResultContentBlock::Document(read_document(v, path)?),
        "video" => ToolResultContentBlock::Video(read_video(v, path)?),
        "searchResult" => ToolResultContentBlock::SearchResult(read_search_result(v, path)?),
        _ => return Err(unknown_member(path)),
    })
}

fn write_result_content(block: &ToolResultContentBlock) -> Result<Value, JsonError> {
    Ok(match block {
        ToolResultContentBlock::Text(t) => member("text", Value::String(t.clone())),
        ToolResultContentBlock::Json(d) => member("json", document_to_json(d)),
        ToolResultContentBlock::Image(i) => member("image", write_image(i)?),
        ToolResultContentBlock::Document(d) => member("document", write_document(d)?),
        ToolResultContentBlock::Video(v) => member("video", write_video(v)?),
        ToolResultContentBlock::SearchResult(r) => member("searchResult", write_search_result(r)),
        other => return Err(not_writable("tool result block", other)),
    })
}

fn read_guard(value: &Value, path: &str) -> Result<GuardrailConverseContentBlock, JsonError> {
    let (key, v, path) = union(value, path)?;
    let path = path.as_str();
    Ok(match key {
        "text" => {
            let mut o = Obj::new(v, path)?;
            let text = o.req_str("text")?;
            let qualifiers = o.opt_with("qualifiers", |v, p| list(v, p, enumeration))?;
            o.finish()?;
            GuardrailConverseContentBlock::Text(built(
                GuardrailConverseTextBlock::builder()
                    .text(text)
                    .set_qualifiers(qualifiers)
                    .build(),
                path,
            )?)
        }
        "image" => {
            let mut o = Obj::new(v, path)?;
            let format = o.req_with("format", enumeration)?;
            let source = o.opt_with("source", |v, p| {
                read_source(v, p, |k, v, p| match k {
                    "bytes" => Some(blob(v, p).map(GuardrailConverseImageSource::Bytes)),
                    _ => None,
                })
            })?;
            o.finish()?;
            GuardrailConverseContentBlock::Image(built(
                GuardrailConverseImageBlock::builder()
                    .format(format)
                    .set_source(source)
                    .build(),
                path,
            )?)
        }
        _ => return Err(unknown_member(path)),
    })
}

fn write_guard(g: &GuardrailConverseContentBlock) -> Result<Value, JsonError> {
    Ok(match g {
        GuardrailConverseContentBlock::Text(t) => member(
            "text",
            object([
                ("text", s(&t.text)),
                (
                    "qualifiers",
                    t.qualifiers
                        .as_ref()
                        .map(|q| q.iter().map(|q| Value::from(q.as_str())).collect()),
                ),
            ]),
        ),
        GuardrailConverseContentBlock::Image(i) => {
            let source = i
                .source
                .as_ref()
                .map(|src| match src {
                    GuardrailConverseImageSource::Bytes(b) => Ok(member("bytes", write_blob(b))),
                    other => Err(not_writable("guardrail image source", other)),
                })
                .transpose()?;
            member(
                "image",
                object([("format", s(i.format.as_str())), ("source", source)]),
            )
        }
        other => return Err(not_writable("guard content block", other)),
    })
}

/// A `CachePointBlock`.
pub(crate) fn read_cache_point(value: &Value, path: &str) -> Result<CachePointBlock, JsonError> {
    let mut o = Obj::new(value, path)?;
    let kind = o.req_with("type", enumeration)?;
    let ttl = o.opt_with("ttl", enumeration)?;
    o.finish()?;
    built(
        CachePointBlock::builder().r#type(kind).set_ttl(ttl).build(),
        path,
    )
}

pub(crate) fn write_cache_point(c: &CachePointBlock) -> Value {
    object([
        ("type", s(c.r#type.as_str())),
        ("ttl", c.ttl.as_ref().and_then(|t| s(t.as_str()))),
    ])
}

fn read_reasoning(value: &Value, path: &str) -> Result<ReasoningContentBlock, JsonError> {
    let (key, v, path) = union(value, path)?;
    Ok(match key {
        "reasoningText" => {
            let mut o = Obj::new(v, &path)?;
            let text = o.req_str("text")?;
            let signature = o.opt_str("signature")?;
            o.finish()?;
            ReasoningContentBlock::ReasoningText(built(
                ReasoningTextBlock::builder()
                    .text(text)
                    .set_signature(signature)
                    .build(),
                &path,
            )?)
        }
        "redactedContent" => ReasoningContentBlock::RedactedContent(blob(v, &path)?),
        _ => return Err(unknown_member(&path)),
    })
}

fn write_reasoning(r: &ReasoningContentBlock) -> Result<Value, JsonError> {
    Ok(match r {
        ReasoningContentBlock::ReasoningText(t) => member(
            "reasoningText",
            object([
                ("text", s(&t.text)),
                ("signature", t.signature.as_deref().and_then(s)),
            ]),
        ),
        ReasoningContentBlock::RedactedContent(b) => member("redactedContent", write_blob(b)),
        other => return Err(not_writable("reasoning block", other)),
    })
}

/// The `{"tool": ToolReference}` of a tool addition or removal block.
fn read_tool_holder(value: &Value, path: &str) -> Result<Option<ToolReference>, JsonError> {
    let mut o = Obj::new(value, path)?;
    let tool = o.opt_with("tool", |v, p| {
        let mut o = Obj::new(v, p)?;
        let kind = o.opt_str("type")?;
        let name = o.opt_str("name")?;
        let server = o.opt_str("serverName")?;
        o.finish()?;
        Ok(ToolReference::builder()
            .set_type(kind)
            .set_name(name)
            .set_server_name(server)
            .build())
    })?;
    o.finish()?;
    Ok(tool)
}

fn write_tool_holder(tool: Option<&ToolReference>) -> Value {
    object([(
        "tool",
        tool.map(|t| {
            object([
                ("type", t.r#type.as_deref().and_then(s)),
                ("name", t.name.as_deref().and_then(s)),
                ("serverName", t.server_name.as_deref().and_then(s)),
            ])
        }),
    )])
}
