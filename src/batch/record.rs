//! The record format of Bedrock batch inference jobs with the `Converse`
//! model invocation type, read and written here so that a local batch run
//! and a Bedrock batch job use the same files.
//!
//! An input line is `{"recordId": "...", "modelInput": {...}}`, where
//! `modelInput` is a Converse request body without `modelId`. An output line
//! repeats both and adds either `"modelOutput"` (a Converse response body:
//! `output.message`, `stopReason`, `usage`, `metrics`) or
//! `"error": {"errorCode": <HTTP status, or 0>, "errorMessage": "..."}`, as
//! the [batch inference results](https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-results.html)
//! are.

use std::fmt;

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, DocumentFormat, ImageFormat, ReasoningContentBlock,
    SystemContentBlock,
};
use aws_smithy_types::base64;
use serde_json::{json, Map, Value};

use crate::error::{Error, ServiceErrorKind};
use crate::model::{ConverseRequest, Document, Image, InferenceConfig, Message, Response};
use crate::sdk::json::document_to_json;

/// One input record: its id and its Converse request body (without
/// `modelId`), kept as JSON so the output line can repeat it unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record's id, unique within a batch.
    pub id: String,
    /// The Converse request body.
    pub model_input: Value,
}

impl Record {
    /// A record from its id and Converse request body.
    pub fn new(id: impl Into<String>, model_input: Value) -> Self {
        Record {
            id: id.into(),
            model_input,
        }
    }

    /// Parses one input JSONL line. A line without `recordId` gets one made
    /// from `line_number` (Bedrock, too, adds ids where they are missing).
    ///
    /// ```
    /// use bedrock_converse::batch::Record;
    /// let r = Record::from_json_line(
    ///     r#"{"recordId": "r1", "modelInput": {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}}"#,
    ///     1,
    /// )?;
    /// assert_eq!(r.id, "r1");
    /// # Ok::<(), bedrock_converse::batch::RecordError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the line is not a JSON object with a
    /// `modelInput` object.
    pub fn from_json_line(line: &str, line_number: usize) -> Result<Record, RecordError> {
        let value: Value = serde_json::from_str(line)
            .map_err(|e| RecordError::new(format!("line {line_number} is not JSON: {e}")))?;
        let Value::Object(mut object) = value else {
            return Err(RecordError::new(format!(
                "line {line_number} is not a JSON object"
            )));
        };
        let id = match object.remove("recordId") {
            Some(Value::String(id)) => id,
            None | Some(Value::Null) => format!("RECORD{line_number:011}"),
            Some(other) => {
                return Err(RecordError::new(format!(
                    "line {line_number}: recordId must be a string, not {other}"
                )))
            }
        };
        match object.remove("modelInput") {
            Some(input @ Value::Object(_)) => Ok(Record::new(id, input)),
            _ => Err(RecordError::new(format!(
                "line {line_number}: modelInput must be a JSON object"
            ))),
        }
    }

    /// The record as an input JSONL line (no newline).
    pub fn to_json_line(&self) -> String {
        json!({"recordId": self.id, "modelInput": self.model_input}).to_string()
    }

    /// The [`ConverseRequest`] for this record, sent to `model_id`.
    ///
    /// # Errors
    ///
    /// See [`request_from_model_input`].
    pub fn request(&self, model_id: &str) -> Result<ConverseRequest, RecordError> {
        request_from_model_input(model_id, &self.model_input)
    }
}

/// Why a record could not be turned into a request, or why its call failed:
/// what goes in the output line's `error` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// The HTTP status of the failure, or 0 when there was none (a
    /// transport failure, a timeout).
    pub code: u16,
    /// What went wrong.
    pub message: String,
}

impl RecordError {
    /// A 400 error: the record itself is at fault.
    pub fn new(message: impl Into<String>) -> Self {
        RecordError {
            code: 400,
            message: message.into(),
        }
    }

    /// The error of a failed call: the service's HTTP status when there is
    /// one, else the usual status of the exception, else 0.
    pub fn from_error(error: &Error) -> Self {
        let code = match error {
            Error::InvalidRequest { .. } => 400,
            Error::Service(e) => e.status.unwrap_or(match e.kind {
                ServiceErrorKind::Validation | ServiceErrorKind::ServiceQuotaExceeded => 400,
                ServiceErrorKind::AccessDenied => 403,
                ServiceErrorKind::ResourceNotFound => 404,
                ServiceErrorKind::ModelTimeout => 408,
                ServiceErrorKind::ModelError | ServiceErrorKind::ModelStreamError => 424,
                ServiceErrorKind::Throttling | ServiceErrorKind::ModelNotReady => 429,
                ServiceErrorKind::InternalServer => 500,
                ServiceErrorKind::ServiceUnavailable => 503,
                _ => 0,
            }),
            _ => 0,
        };
        RecordError {
            code,
            message: error.to_string(),
        }
    }

    /// The output line's `error` object.
    pub fn to_json(&self) -> Value {
        json!({"errorCode": self.code, "errorMessage": self.message})
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for RecordError {}

fn unsupported(path: &str, what: &str) -> RecordError {
    RecordError::new(format!(
        "modelInput.{path}: {what} is not supported by this batch runner"
    ))
}

fn field<'v>(
    object: &'v Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'v str, RecordError> {
    object
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| RecordError::new(format!("modelInput.{path}.{key} must be a string")))
}

fn bytes(block: &Map<String, Value>, path: &str) -> Result<Vec<u8>, RecordError> {
    let source = block
        .get("source")
        .and_then(Value::as_object)
        .ok_or_else(|| RecordError::new(format!("modelInput.{path}.source must be an object")))?;
    if source.keys().any(|k| k != "bytes") {
        return Err(unsupported(
            &format!("{path}.source"),
            "a source other than bytes",
        ));
    }
    let encoded = field(source, &format!("{path}.source"), "bytes")?;
    base64::decode(encoded)
        .map_err(|e| RecordError::new(format!("modelInput.{path}.source.bytes is not base64: {e}")))
}

fn content_block(value: &Value, path: &str) -> Result<ContentBlock, RecordError> {
    let block = value
        .as_object()
        .filter(|o| o.len() == 1)
        .ok_or_else(|| RecordError::new(format!("modelInput.{path} must have exactly one key")))?;
    let (kind, inner) = block.iter().next().expect("one key");
    let path = format!("{path}.{kind}");
    match (kind.as_str(), inner) {
        ("text", Value::String(text)) => Ok(ContentBlock::Text(text.clone())),
        ("image", Value::Object(image)) => {
            let format = field(image, &path, "format")?;
            if !ImageFormat::values().contains(&format) {
                return Err(RecordError::new(format!(
                    "modelInput.{path}.format: unknown image format {format:?}"
                )));
            }
            Ok(Image::new(ImageFormat::from(format), bytes(image, &path)?).into())
        }
        ("document", Value::Object(doc)) => {
            let format = field(doc, &path, "format")?;
            if !DocumentFormat::values().contains(&format) {
                return Err(RecordError::new(format!(
                    "modelInput.{path}.format: unknown document format {format:?}"
                )));
            }
            let name = field(doc, &path, "name")?;
            if let Some(extra) = doc
                .keys()
                .find(|k| !["format", "name", "source"].contains(&k.as_str()))
            {
                return Err(unsupported(
                    &format!("{path}.{extra}"),
                    "this document field",
                ));
            }
            Ok(Document::new(DocumentFormat::from(format), name, bytes(doc, &path)?).into())
        }
        ("text" | "image" | "document", _) => Err(RecordError::new(format!(
            "modelInput.{path} has the wrong type"
        ))),
        _ => Err(unsupported(&path, "this content block")),
    }
}

fn message(value: &Value, path: &str) -> Result<Message, RecordError> {
    let object = value
        .as_object()
        .ok_or_else(|| RecordError::new(format!("modelInput.{path} must be an object")))?;
    let role = match field(object, path, "role")? {
        "user" => ConversationRole::User,
        "assistant" => ConversationRole::Assistant,
        other => {
            return Err(RecordError::new(format!(
                "modelInput.{path}.role: unknown role {other:?}"
            )))
        }
    };
    let content = object
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| RecordError::new(format!("modelInput.{path}.content must be an array")))?;
    let content = content
        .iter()
        .enumerate()
        .map(|(i, b)| content_block(b, &format!("{path}.content[{i}]")))
        .collect::<Result<_, _>>()?;
    Ok(Message::new(role, content))
}

fn inference_config(value: &Value) -> Result<InferenceConfig, RecordError> {
    let object = value
        .as_object()
        .ok_or_else(|| RecordError::new("modelInput.inferenceConfig must be an object"))?;
    let bad = |key: &str| {
        RecordError::new(format!(
            "modelInput.inferenceConfig.{key} has the wrong type"
        ))
    };
    let mut config = InferenceConfig::default();
    for (key, v) in object {
        match key.as_str() {
            "maxTokens" => {
                config.max_tokens = Some(
                    v.as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| bad(key))?,
                )
            }
            "temperature" => config.temperature = Some(v.as_f64().ok_or_else(|| bad(key))? as f32),
            "topP" => config.top_p = Some(v.as_f64().ok_or_else(|| bad(key))? as f32),
            "stopSequences" => {
                config.stop_sequences = v
                    .as_array()
                    .ok_or_else(|| bad(key))?
                    .iter()
                    .map(|s| s.as_str().map(str::to_owned).ok_or_else(|| bad(key)))
                    .collect::<Result<_, _>>()?
            }
            _ => {
                return Err(unsupported(
                    &format!("inferenceConfig.{key}"),
                    "this setting",
                ))
            }
        }
    }
    Ok(config)
}

/// Turns a record's `modelInput` (a Converse request body without
/// `modelId`) into a [`ConverseRequest`] for `model_id`.
///
/// The common subset is understood: `messages` (text, image and document
/// blocks, with base64 `bytes` sources), `system` (text blocks),
/// `inferenceConfig` (`maxTokens`, `temperature`, `topP`, `stopSequences`)
/// and `additionalModelRequestFields`.
///
/// # Errors
///
/// A 400 [`RecordError`] naming the field, for anything else (tools,
/// guardrails, S3 sources, …) and for fields of the wrong shape.
pub fn request_from_model_input(
    model_id: &str,
    input: &Value,
) -> Result<ConverseRequest, RecordError> {
    let object = input
        .as_object()
        .ok_or_else(|| RecordError::new("modelInput must be a JSON object"))?;
    let mut request = ConverseRequest::new(model_id);
    for (key, value) in object {
        match key.as_str() {
            "messages" => {
                let messages = value
                    .as_array()
                    .ok_or_else(|| RecordError::new("modelInput.messages must be an array"))?;
                for (i, m) in messages.iter().enumerate() {
                    request
                        .messages
                        .push(message(m, &format!("messages[{i}]"))?);
                }
            }
            "system" => {
                let blocks = value
                    .as_array()
                    .ok_or_else(|| RecordError::new("modelInput.system must be an array"))?;
                for (i, b) in blocks.iter().enumerate() {
                    match b
                        .as_object()
                        .filter(|o| o.len() == 1)
                        .and_then(|o| o.get("text"))
                    {
                        Some(Value::String(text)) => {
                            request.system.push(SystemContentBlock::Text(text.clone()))
                        }
                        _ => {
                            return Err(unsupported(
                                &format!("system[{i}]"),
                                "a system block other than text",
                            ))
                        }
                    }
                }
            }
            "inferenceConfig" => request.inference_config = Some(inference_config(value)?),
            "additionalModelRequestFields" => {
                if !value.is_object() {
                    return Err(RecordError::new(
                        "modelInput.additionalModelRequestFields must be an object",
                    ));
                }
                request.additional_model_request_fields = Some(value.clone());
            }
            "modelId" => {
                return Err(RecordError::new(
                    "modelInput must not contain modelId: the batch's model is used",
                ))
            }
            _ => return Err(unsupported(key, "this field")),
        }
    }
    Ok(request)
}

/// The output line's `modelOutput` for `response`: a Converse response body.
///
/// Text, tool use and reasoning text blocks are written as the Converse API
/// writes them; any other block is left out, and a `"note"` field says how
/// many were.
pub fn model_output(response: &Response) -> Value {
    let mut content = Vec::new();
    let mut left_out = 0;
    for block in response.content() {
        match block {
            ContentBlock::Text(text) => content.push(json!({"text": text})),
            ContentBlock::ToolUse(tool) => content.push(json!({"toolUse": {
                "toolUseId": tool.tool_use_id(),
                "name": tool.name(),
                "input": document_to_json(tool.input()),
            }})),
            ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(r)) => {
                let mut text = json!({"text": r.text()});
                if let Some(sig) = r.signature() {
                    text["signature"] = json!(sig);
                }
                content.push(json!({"reasoningContent": {"reasoningText": text}}));
            }
            _ => left_out += 1,
        }
    }
    let mut output = json!({
        "output": {"message": {"role": response.message.role.as_str(), "content": content}},
    });
    if let Some(reason) = &response.stop_reason {
        output["stopReason"] = json!(reason.as_str());
    }
    if let Some(usage) = &response.usage {
        output["usage"] = json!({
            "inputTokens": usage.input_tokens,
            "outputTokens": usage.output_tokens,
            "totalTokens": usage.total_tokens,
        });
    }
    if let Some(metrics) = &response.metrics {
        output["metrics"] = json!({"latencyMs": metrics.latency_ms});
    }
    if let Some(fields) = &response.additional_model_response_fields {
        output["additionalModelResponseFields"] = fields.clone();
    }
    if left_out > 0 {
        output["note"] = json!(format!(
            "{left_out} content block(s) of other kinds were left out"
        ));
    }
    output
}

#[cfg(test)]
mod tests;
