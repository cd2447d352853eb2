//! What to send: [`ConverseRequest`], [`Message`], [`CachePoint`] and
//! [`GuardrailConfig`].

use std::collections::BTreeMap;

use aws_sdk_bedrockruntime::types::{
    self, CachePointBlock, CachePointType, CacheTtl, ContentBlock, ConversationRole,
    GuardrailConfiguration, GuardrailStreamConfiguration, GuardrailStreamProcessingMode,
    GuardrailTrace, InferenceConfiguration, PerformanceConfigLatency, PerformanceConfiguration,
    PromptVariableValues, ServiceTier, ServiceTierType, SystemContentBlock, ToolConfiguration,
};
use aws_smithy_types::Document;
use serde_json::Value;

use crate::cancel::CancelToken;
use crate::document::{document_to_json, json_to_document};
use crate::error::Error;
use crate::media::{check_content, ContentLimits};
use crate::tools::{Tool, ToolChoice, ToolConfig, ToolResult, ToolUse};

/// The longest model id (or ARN) the API accepts.
const MAX_MODEL_ID_LEN: usize = 2048;

/// One turn of a conversation: a role and its content blocks.
///
/// Content blocks are the SDK's own [`ContentBlock`](crate::types::ContentBlock),
/// so anything the Converse API accepts can be put in a message; [`Image`](crate::Image),
/// [`Document`](crate::Document), [`ToolResult`](crate::ToolResult) and
/// [`CachePoint`] convert into one with [`Message::with`].
///
/// ```
/// use bedrock_converse::{Message, Role};
///
/// let m = Message::user("Create a list of 3 pop songs.");
/// assert_eq!(m.role, Role::User);
/// assert_eq!(m.text(), "Create a list of 3 pop songs.");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Who is speaking.
    pub role: ConversationRole,
    /// What they said, in order.
    pub content: Vec<ContentBlock>,
}

impl Message {
    /// A message with the given role and content blocks.
    pub fn new(role: ConversationRole, content: Vec<ContentBlock>) -> Self {
        Message { role, content }
    }

    /// A user turn holding one text block.
    pub fn user(text: impl Into<String>) -> Self {
        Message::new(
            ConversationRole::User,
            vec![ContentBlock::Text(text.into())],
        )
    }

    /// An assistant turn holding one text block (for replaying history).
    pub fn assistant(text: impl Into<String>) -> Self {
        Message::new(
            ConversationRole::Assistant,
            vec![ContentBlock::Text(text.into())],
        )
    }

    /// A user turn answering tool calls, one `toolResult` block per result.
    pub fn tool_results(results: impl IntoIterator<Item = ToolResult>) -> Self {
        Message::new(
            ConversationRole::User,
            results.into_iter().map(ContentBlock::from).collect(),
        )
    }

    /// Appends a content block (or anything that converts into one: an
    /// [`Image`](crate::Image), a [`Document`](crate::Document), a
    /// [`ToolResult`], a [`CachePoint`]) and returns the message.
    ///
    /// ```
    /// use bedrock_converse::{Message, types::ContentBlock};
    /// let m = Message::user("first").with(ContentBlock::Text("second".into()));
    /// assert_eq!(m.content.len(), 2);
    /// assert_eq!(m.text(), "firstsecond");
    /// ```
    pub fn with(mut self, block: impl Into<ContentBlock>) -> Self {
        self.content.push(block.into());
        self
    }

    /// Appends a prompt cache point: the conversation up to here is cached
    /// (for models that support prompt caching).
    pub fn with_cache_point(self) -> Self {
        self.with(CachePoint::new())
    }

    /// All text of the message, concatenated in order: text blocks and the
    /// text of cited ([`CitationsContent`](ContentBlock::CitationsContent)) blocks.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for b in &self.content {
            match b {
                ContentBlock::Text(t) => out.push_str(t),
                ContentBlock::CitationsContent(c) => {
                    for piece in c.content() {
                        if let types::CitationGeneratedContent::Text(t) = piece {
                            out.push_str(t);
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The calls to your tools in this message, in order. Tools the service
    /// ran itself (`type: server_tool_use`) are left out: their results are
    /// already in the reply.
    pub fn tool_uses(&self) -> Vec<ToolUse> {
        self.content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::ToolUse(t) if t.r#type.is_none() => Some(ToolUse::new(
                    &t.tool_use_id,
                    &t.name,
                    document_to_json(&t.input),
                )),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn to_sdk(&self, index: usize) -> Result<types::Message, Error> {
        types::Message::builder()
            .role(self.role.clone())
            .set_content(Some(self.content.clone()))
            .build()
            .map_err(|e| Error::invalid(format!("messages[{index}]"), e.to_string()))
    }
}

impl From<types::Message> for Message {
    fn from(m: types::Message) -> Self {
        Message {
            role: m.role,
            content: m.content,
        }
    }
}

impl Default for Message {
    /// An assistant message with no content (the start of a reply).
    fn default() -> Self {
        Message::new(ConversationRole::Assistant, Vec::new())
    }
}

/// A prompt cache point: everything before it (in the system prompts, the
/// messages or the tool list) may be cached by models that support prompt
/// caching, and later requests with the same prefix read it from the cache
/// (see [`Usage::cache_read_input_tokens`](crate::Usage::cache_read_input_tokens)).
///
/// ```
/// use bedrock_converse::{CachePoint, ConverseRequest, Message};
///
/// let request = ConverseRequest::new("model")
///     .system("A long, stable system prompt …")
///     .system_cache_point()
///     .message(Message::user("A long document …").with(CachePoint::new()).with(
///         bedrock_converse::types::ContentBlock::Text("The question".into()),
///     ));
/// assert!(request.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachePoint {
    /// How long the cached prefix lives (`None`: the service's default).
    pub ttl: Option<CacheTtl>,
}

impl CachePoint {
    /// A cache point with the default time to live.
    pub fn new() -> Self {
        CachePoint::default()
    }

    /// A cache point with the given time to live.
    pub fn with_ttl(ttl: CacheTtl) -> Self {
        CachePoint { ttl: Some(ttl) }
    }

    pub(crate) fn to_sdk(&self) -> CachePointBlock {
        CachePointBlock::builder()
            .r#type(CachePointType::Default)
            .set_ttl(self.ttl.clone())
            .build()
            // `type` is the only required member and it is set.
            .expect("type is set")
    }
}

impl From<CachePoint> for ContentBlock {
    fn from(c: CachePoint) -> Self {
        ContentBlock::CachePoint(c.to_sdk())
    }
}

impl From<CachePoint> for SystemContentBlock {
    fn from(c: CachePoint) -> Self {
        SystemContentBlock::CachePoint(c.to_sdk())
    }
}

/// A guardrail to apply to the request: the Converse API's `guardrailConfig`.
///
/// ```
/// use bedrock_converse::{ConverseRequest, GuardrailConfig};
/// use bedrock_converse::types::{GuardrailStreamProcessingMode, GuardrailTrace};
///
/// let request = ConverseRequest::new("model")
///     .user("hi")
///     .guardrail(
///         GuardrailConfig::new("gr-abc123", "1")
///             .trace(GuardrailTrace::Enabled)
///             .stream_processing_mode(GuardrailStreamProcessingMode::Async),
///     );
/// assert!(request.validate().is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GuardrailConfig {
    /// The guardrail's id or ARN.
    pub identifier: String,
    /// Its version: a number, or `"DRAFT"`.
    pub version: String,
    /// Whether the reply carries the guardrail's assessment
    /// ([`Response::trace`](crate::Response::trace)); the service's default
    /// is disabled.
    pub trace: Option<GuardrailTrace>,
    /// For streams only: whether the guardrail checks each chunk before it is
    /// sent (`sync`, the default) or in the background (`async`). Not sent
    /// with [`Converser::converse`](crate::Converser::converse), whose API
    /// has no such setting.
    pub stream_processing_mode: Option<GuardrailStreamProcessingMode>,
}

impl GuardrailConfig {
    /// A guardrail by id (or ARN) and version.
    pub fn new(identifier: impl Into<String>, version: impl Into<String>) -> Self {
        GuardrailConfig {
            identifier: identifier.into(),
            version: version.into(),
            trace: None,
            stream_processing_mode: None,
        }
    }

    /// Sets the trace setting.
    pub fn trace(mut self, trace: GuardrailTrace) -> Self {
        self.trace = Some(trace);
        self
    }

    /// Sets the stream processing mode (ConverseStream only).
    pub fn stream_processing_mode(mut self, mode: GuardrailStreamProcessingMode) -> Self {
        self.stream_processing_mode = Some(mode);
        self
    }

    fn validate(&self) -> Result<(), Error> {
        if self.identifier.trim().is_empty() {
            return Err(Error::invalid("guardrail.identifier", "is empty"));
        }
        if self.identifier.len() > 2048 {
            return Err(Error::invalid(
                "guardrail.identifier",
                "is longer than 2048 bytes",
            ));
        }
        let v = &self.version;
        let numeric = !v.is_empty()
            && v.len() <= 8
            && v.bytes().all(|b| b.is_ascii_digit())
            && !v.starts_with('0');
        if !(numeric || v == "DRAFT") {
            return Err(Error::invalid(
                "guardrail.version",
                format!("is {v:?}: it must be a version number (1, 2, …) or \"DRAFT\""),
            ));
        }
        Ok(())
    }

    fn to_sdk(&self) -> GuardrailConfiguration {
        GuardrailConfiguration::builder()
            .guardrail_identifier(&self.identifier)
            .guardrail_version(&self.version)
            .set_trace(self.trace.clone())
            .build()
    }

    fn to_sdk_stream(&self) -> GuardrailStreamConfiguration {
        GuardrailStreamConfiguration::builder()
            .guardrail_identifier(&self.identifier)
            .guardrail_version(&self.version)
            .set_trace(self.trace.clone())
            .set_stream_processing_mode(self.stream_processing_mode.clone())
            .build()
    }
}

/// Sampling settings: the Converse API's `inferenceConfig`.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct InferenceConfig {
    /// The most tokens the model may generate (must be at least 1).
    pub max_tokens: Option<u32>,
    /// Randomness, from 0.0 to 1.0.
    pub temperature: Option<f32>,
    /// Nucleus sampling mass, from 0.0 to 1.0.
    pub top_p: Option<f32>,
    /// Strings that stop generation when produced.
    pub stop_sequences: Vec<String>,
}

impl InferenceConfig {
    fn to_sdk(&self) -> InferenceConfiguration {
        InferenceConfiguration::builder()
            .set_max_tokens(self.max_tokens.map(|m| m.min(i32::MAX as u32) as i32))
            .set_temperature(self.temperature)
            .set_top_p(self.top_p)
            .set_stop_sequences(if self.stop_sequences.is_empty() {
                None
            } else {
                Some(self.stop_sequences.clone())
            })
            .build()
    }
}

/// A request to the Converse or ConverseStream API.
///
/// Build it with [`ConverseRequest::new`] and the chained setters; it is checked
/// by [`validate`](ConverseRequest::validate) before anything is sent, and the
/// same request works for [`Converser::converse`](crate::Converser::converse)
/// and [`Converser::converse_with`](crate::Converser::converse_with).
///
/// ```
/// use bedrock_converse::{ConverseRequest, Message};
/// use serde_json::json;
///
/// let request = ConverseRequest::new("anthropic.claude-3-sonnet-20240229-v1:0")
///     .system("You are an app that creates playlists for a radio station that plays rock and pop music. Only return song names and the artist.")
///     .message(Message::user("Create a list of 3 pop songs."))
///     .temperature(0.5)
///     .additional_model_request_fields(json!({"top_k": 200}));
/// assert!(request.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ConverseRequest {
    /// The model id, inference profile id or ARN.
    pub model_id: String,
    /// The conversation so far; it must start with a user turn.
    pub messages: Vec<Message>,
    /// System prompts.
    pub system: Vec<SystemContentBlock>,
    /// Sampling settings; `None` leaves `inferenceConfig` out of the request
    /// (the model's defaults apply). The setters below fill it in.
    pub inference_config: Option<InferenceConfig>,
    /// Model-specific parameters the Converse API does not model (a JSON object),
    /// e.g. `{"top_k": 200}` for Anthropic models.
    pub additional_model_request_fields: Option<Value>,
    /// Cancels the call from another thread when cancelled (not sent to the
    /// service).
    pub cancel_token: Option<CancelToken>,
    /// The tools the model may call, and the tool choice.
    pub tool_config: Option<ToolConfig>,
    /// A guardrail to apply.
    pub guardrail: Option<GuardrailConfig>,
    /// Key-value pairs recorded with the call, for filtering invocation logs.
    pub request_metadata: BTreeMap<String, String>,
    /// The latency setting (`optimized` for latency-optimized inference on
    /// models that offer it).
    pub performance_latency: Option<PerformanceConfigLatency>,
    /// The service tier to serve the request with.
    pub service_tier: Option<ServiceTierType>,
    /// JSON Pointers (e.g. `/stop_sequence`) of model-specific response
    /// fields to return in
    /// [`Response::additional_model_response_fields`](crate::Response::additional_model_response_fields).
    pub additional_model_response_field_paths: Vec<String>,
    /// Values for the variables of a Prompt management prompt (when `model_id`
    /// is a prompt ARN), by variable name.
    pub prompt_variables: BTreeMap<String, String>,
    /// The image and document limits checked before sending (not sent).
    pub content_limits: ContentLimits,
}

impl ConverseRequest {
    /// A request for the given model with no messages yet.
    pub fn new(model_id: impl Into<String>) -> Self {
        ConverseRequest {
            model_id: model_id.into(),
            ..Default::default()
        }
    }

    /// Appends a message.
    pub fn message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    /// Appends several messages.
    pub fn messages(mut self, messages: impl IntoIterator<Item = Message>) -> Self {
        self.messages.extend(messages);
        self
    }

    /// Appends a user turn with one text block.
    pub fn user(self, text: impl Into<String>) -> Self {
        self.message(Message::user(text))
    }

    /// Appends an assistant turn with one text block.
    pub fn assistant(self, text: impl Into<String>) -> Self {
        self.message(Message::assistant(text))
    }

    /// Appends a text system prompt.
    pub fn system(self, text: impl Into<String>) -> Self {
        self.system_block(SystemContentBlock::Text(text.into()))
    }

    /// Appends any system content block (for instance a cache point).
    pub fn system_block(mut self, block: SystemContentBlock) -> Self {
        self.system.push(block);
        self
    }

    /// Sets all sampling settings at once.
    pub fn inference_config(mut self, config: InferenceConfig) -> Self {
        self.inference_config = Some(config);
        self
    }

    /// The most tokens to generate (at least 1).
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.inference_config
            .get_or_insert_with(Default::default)
            .max_tokens = Some(max_tokens);
        self
    }

    /// Sampling temperature, 0.0 to 1.0.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.inference_config
            .get_or_insert_with(Default::default)
            .temperature = Some(temperature);
        self
    }

    /// Nucleus sampling mass, 0.0 to 1.0.
    pub fn top_p(mut self, top_p: f32) -> Self {
        self.inference_config
            .get_or_insert_with(Default::default)
            .top_p = Some(top_p);
        self
    }

    /// Adds a stop sequence.
    pub fn stop_sequence(mut self, stop: impl Into<String>) -> Self {
        self.inference_config
            .get_or_insert_with(Default::default)
            .stop_sequences
            .push(stop.into());
        self
    }

    /// Model-specific parameters as a JSON object, sent as
    /// `additionalModelRequestFields` exactly (integers stay integers).
    pub fn additional_model_request_fields(mut self, fields: Value) -> Self {
        self.additional_model_request_fields = Some(fields);
        self
    }

    /// Lets another thread cancel calls made with this request (a GUI's Cancel
    /// button): the call returns [`Error::Cancelled`] promptly with what had
    /// arrived, and the HTTP stream is dropped.
    ///
    /// ```
    /// use bedrock_converse::{CancelToken, ConverseRequest};
    /// let token = CancelToken::new();
    /// let request = ConverseRequest::new("m").user("hi").cancel_token(token.clone());
    /// // later, from any thread: token.cancel();
    /// # let _ = request;
    /// ```
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel_token = Some(token);
        self
    }

    /// Sets the tool configuration (replacing any tools added so far).
    pub fn tool_config(mut self, config: ToolConfig) -> Self {
        self.tool_config = Some(config);
        self
    }

    /// Adds a tool the model may call.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tool_config = Some(self.tool_config.take().unwrap_or_default().tool(tool));
        self
    }

    /// Sets the tool choice: auto, any, or a named tool.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_config = Some(self.tool_config.take().unwrap_or_default().choice(choice));
        self
    }

    /// Appends a prompt cache point after the tools added so far.
    pub fn tool_cache_point(mut self) -> Self {
        self.tool_config = Some(self.tool_config.take().unwrap_or_default().cache_point());
        self
    }

    /// Appends a prompt cache point after the system prompts so far.
    pub fn system_cache_point(self) -> Self {
        self.system_block(CachePoint::new().into())
    }

    /// Applies a guardrail.
    pub fn guardrail(mut self, guardrail: GuardrailConfig) -> Self {
        self.guardrail = Some(guardrail);
        self
    }

    /// Adds a request metadata pair (recorded for invocation log filtering).
    pub fn request_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.request_metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the latency setting (the Converse API's `performanceConfig`).
    pub fn performance_latency(mut self, latency: PerformanceConfigLatency) -> Self {
        self.performance_latency = Some(latency);
        self
    }

    /// Sets the service tier.
    pub fn service_tier(mut self, tier: ServiceTierType) -> Self {
        self.service_tier = Some(tier);
        self
    }

    /// Asks for a model-specific response field, by JSON Pointer (e.g.
    /// `"/stop_sequence"`).
    pub fn additional_model_response_field_path(mut self, path: impl Into<String>) -> Self {
        self.additional_model_response_field_paths.push(path.into());
        self
    }

    /// Sets a Prompt management variable.
    pub fn prompt_variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.prompt_variables.insert(name.into(), value.into());
        self
    }

    /// Sets the image and document limits checked before sending.
    pub fn content_limits(mut self, limits: ContentLimits) -> Self {
        self.content_limits = limits;
        self
    }

    /// Checks the request the way the service would, so that a bad request
    /// fails fast with [`Error::InvalidRequest`] naming the field, and nothing is
    /// sent. Both `converse` and `converse_with` call this first.
    ///
    /// ```
    /// use bedrock_converse::{ConverseRequest, Error};
    /// let err = ConverseRequest::new("m").user("hi").temperature(1.5).validate().unwrap_err();
    /// assert!(matches!(err, Error::InvalidRequest { ref field, .. } if field == "temperature"));
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        let model = self.model_id.trim();
        if model.is_empty() {
            return Err(Error::invalid("model_id", "is empty"));
        }
        if self.model_id.len() > MAX_MODEL_ID_LEN {
            return Err(Error::invalid(
                "model_id",
                format!("is longer than {MAX_MODEL_ID_LEN} bytes"),
            ));
        }
        if model != self.model_id {
            return Err(Error::invalid(
                "model_id",
                "has leading or trailing whitespace",
            ));
        }
        if self.messages.is_empty() {
            return Err(Error::invalid(
                "messages",
                "is empty: add at least one user message",
            ));
        }
        let mut previous: Option<&ConversationRole> = None;
        for (i, m) in self.messages.iter().enumerate() {
            match (&m.role, previous) {
                (ConversationRole::User, _) | (ConversationRole::Assistant, Some(_)) => {}
                (ConversationRole::Assistant, None) => {
                    return Err(Error::invalid(
                        "messages[0].role",
                        "must be `user`: a conversation starts with a user turn",
                    ))
                }
                (other, _) => {
                    return Err(Error::invalid(
                        format!("messages[{i}].role"),
                        format!(
                            "is `{}`: only `user` and `assistant` are allowed",
                            other.as_str()
                        ),
                    ))
                }
            }
            if m.content.is_empty() {
                return Err(Error::invalid(format!("messages[{i}].content"), "is empty"));
            }
            previous = Some(&m.role);
        }
        for (i, block) in self.system.iter().enumerate() {
            if let SystemContentBlock::Text(t) = block {
                if t.is_empty() {
                    return Err(Error::invalid(format!("system[{i}]"), "is an empty text"));
                }
            }
        }
        let default_config = InferenceConfig::default();
        let ic = self.inference_config.as_ref().unwrap_or(&default_config);
        if ic.max_tokens == Some(0) {
            return Err(Error::invalid("max_tokens", "must be at least 1"));
        }
        if let Some(t) = ic.temperature {
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::invalid(
                    "temperature",
                    format!("is {t}: it must be between 0.0 and 1.0"),
                ));
            }
        }
        if let Some(p) = ic.top_p {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::invalid(
                    "top_p",
                    format!("is {p}: it must be between 0.0 and 1.0"),
                ));
            }
        }
        for (i, s) in ic.stop_sequences.iter().enumerate() {
            if s.is_empty() {
                return Err(Error::invalid(format!("stop_sequences[{i}]"), "is empty"));
            }
        }
        if let Some(fields) = &self.additional_model_request_fields {
            if !fields.is_object() {
                return Err(Error::invalid(
                    "additional_model_request_fields",
                    "must be a JSON object",
                ));
            }
        }
        check_content(&self.messages, &self.content_limits)?;
        self.validate_tools()?;
        if let Some(g) = &self.guardrail {
            g.validate()?;
        }
        for (key, value) in &self.request_metadata {
            if key.is_empty() || key.chars().count() > 256 {
                return Err(Error::invalid(
                    format!("request_metadata[{key:?}]"),
                    "has a key that is not 1 to 256 characters long",
                ));
            }
            if value.chars().count() > 256 {
                return Err(Error::invalid(
                    format!("request_metadata[{key:?}]"),
                    "has a value longer than 256 characters",
                ));
            }
        }
        for (i, path) in self
            .additional_model_response_field_paths
            .iter()
            .enumerate()
        {
            if let Some(reason) = bad_json_pointer(path) {
                return Err(Error::invalid(
                    format!("additional_model_response_field_paths[{i}]"),
                    reason,
                ));
            }
        }
        if self.prompt_variables.keys().any(String::is_empty) {
            return Err(Error::invalid("prompt_variables", "has an empty name"));
        }
        Ok(())
    }

    fn validate_tools(&self) -> Result<(), Error> {
        if let Some(config) = &self.tool_config {
            config.validate()?;
        }
        for (i, m) in self.messages.iter().enumerate() {
            for (j, block) in m.content.iter().enumerate() {
                let id = match block {
                    ContentBlock::ToolUse(t) => &t.tool_use_id,
                    ContentBlock::ToolResult(r) => &r.tool_use_id,
                    _ => continue,
                };
                if self.tool_config.is_none() {
                    return Err(Error::invalid(
                        "tool_config",
                        format!(
                            "is required: messages[{i}].content[{j}] is a tool use or tool result"
                        ),
                    ));
                }
                if id.is_empty() {
                    return Err(Error::invalid(
                        format!("messages[{i}].content[{j}].tool_use_id"),
                        "is empty",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Validates, then converts to the SDK's input pieces.
    pub(crate) fn to_sdk(&self) -> Result<SdkParts, Error> {
        self.validate()?;
        let messages = self
            .messages
            .iter()
            .enumerate()
            .map(|(i, m)| m.to_sdk(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SdkParts {
            model_id: self.model_id.clone(),
            messages,
            system: if self.system.is_empty() {
                None
            } else {
                Some(self.system.clone())
            },
            inference_config: self.inference_config.as_ref().map(InferenceConfig::to_sdk),
            additional_model_request_fields: self
                .additional_model_request_fields
                .as_ref()
                .map(json_to_document),
            tool_config: self
                .tool_config
                .as_ref()
                .map(ToolConfig::to_sdk)
                .transpose()?,
            guardrail: self.guardrail.as_ref().map(GuardrailConfig::to_sdk),
            guardrail_stream: self.guardrail.as_ref().map(GuardrailConfig::to_sdk_stream),
            request_metadata: non_empty(&self.request_metadata)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            performance_config: self.performance_latency.as_ref().map(|l| {
                PerformanceConfiguration::builder()
                    .latency(l.clone())
                    .build()
            }),
            service_tier: self
                .service_tier
                .as_ref()
                .map(|t| {
                    ServiceTier::builder()
                        .r#type(t.clone())
                        .build()
                        .map_err(|e| Error::invalid("service_tier", e.to_string()))
                })
                .transpose()?,
            additional_model_response_field_paths: if self
                .additional_model_response_field_paths
                .is_empty()
            {
                None
            } else {
                Some(self.additional_model_response_field_paths.clone())
            },
            prompt_variables: non_empty(&self.prompt_variables).map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), PromptVariableValues::Text(v.clone())))
                    .collect()
            }),
        })
    }
}

fn non_empty<K, V>(map: &BTreeMap<K, V>) -> Option<&BTreeMap<K, V>> {
    (!map.is_empty()).then_some(map)
}

/// Why a JSON Pointer (RFC 6901) is malformed, if it is.
fn bad_json_pointer(path: &str) -> Option<String> {
    if path.is_empty() {
        return Some("is empty: it must be a JSON Pointer such as \"/stop_sequence\"".into());
    }
    if !path.starts_with('/') {
        return Some(format!(
            "is {path:?}: a JSON Pointer starts with `/`, e.g. \"/stop_sequence\""
        ));
    }
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Some(format!(
                "is {path:?}: in a JSON Pointer `~` must be followed by 0 or 1"
            ));
        }
    }
    None
}

/// A validated request in the SDK's types, ready for either operation's builder.
pub(crate) struct SdkParts {
    pub(crate) model_id: String,
    pub(crate) messages: Vec<types::Message>,
    pub(crate) system: Option<Vec<SystemContentBlock>>,
    pub(crate) inference_config: Option<InferenceConfiguration>,
    pub(crate) additional_model_request_fields: Option<Document>,
    pub(crate) tool_config: Option<ToolConfiguration>,
    /// The guardrail for Converse.
    pub(crate) guardrail: Option<GuardrailConfiguration>,
    /// The same guardrail for ConverseStream, which takes a different type.
    pub(crate) guardrail_stream: Option<GuardrailStreamConfiguration>,
    pub(crate) request_metadata: Option<std::collections::HashMap<String, String>>,
    pub(crate) performance_config: Option<PerformanceConfiguration>,
    pub(crate) service_tier: Option<ServiceTier>,
    pub(crate) additional_model_response_field_paths: Option<Vec<String>>,
    pub(crate) prompt_variables: Option<std::collections::HashMap<String, PromptVariableValues>>,
}

/// Sets the guardrail on either operation's fluent builder: the two
/// operations take different guardrail types, so each builder picks its own
/// from the [`SdkParts`].
pub(crate) trait SetGuardrail: Sized {
    fn set_guardrail_from(self, parts: &mut SdkParts) -> Self;
}

impl SetGuardrail for aws_sdk_bedrockruntime::operation::converse::builders::ConverseFluentBuilder {
    fn set_guardrail_from(self, parts: &mut SdkParts) -> Self {
        self.set_guardrail_config(parts.guardrail.take())
    }
}

impl SetGuardrail
    for aws_sdk_bedrockruntime::operation::converse_stream::builders::ConverseStreamFluentBuilder
{
    fn set_guardrail_from(self, parts: &mut SdkParts) -> Self {
        self.set_guardrail_config(parts.guardrail_stream.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(r: &ConverseRequest) -> String {
        match r.validate() {
            Err(Error::InvalidRequest { field, .. }) => field,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    #[test]
    fn each_rule_names_its_field() {
        let ok = ConverseRequest::new("m").user("hi");
        assert!(ok.validate().is_ok());
        assert_eq!(field(&ConverseRequest::new("").user("hi")), "model_id");
        assert_eq!(field(&ConverseRequest::new(" m").user("hi")), "model_id");
        assert_eq!(field(&ConverseRequest::new("m")), "messages");
        assert_eq!(
            field(&ConverseRequest::new("m").assistant("hi")),
            "messages[0].role"
        );
        // Bedrock accepts consecutive turns of the same role (a recorded
        // exchange shows it), so they are not refused here.
        assert!(ConverseRequest::new("m")
            .user("a")
            .user("b")
            .validate()
            .is_ok());
        assert_eq!(
            field(&ConverseRequest::new("m").message(Message::new(ConversationRole::User, vec![]))),
            "messages[0].content"
        );
        assert_eq!(field(&ok.clone().temperature(1.01)), "temperature");
        assert_eq!(field(&ok.clone().temperature(-0.1)), "temperature");
        assert_eq!(field(&ok.clone().temperature(f32::NAN)), "temperature");
        assert_eq!(field(&ok.clone().top_p(2.0)), "top_p");
        assert_eq!(field(&ok.clone().max_tokens(0)), "max_tokens");
        assert_eq!(field(&ok.clone().stop_sequence("")), "stop_sequences[0]");
        assert_eq!(field(&ok.clone().system("")), "system[0]");
        assert_eq!(
            field(&ok.clone().additional_model_request_fields(json!([1]))),
            "additional_model_request_fields"
        );
        assert!(ok
            .clone()
            .temperature(0.0)
            .temperature(1.0)
            .validate()
            .is_ok());
    }

    #[test]
    fn sdk_parts_omit_empty_sections() {
        let p = ConverseRequest::new("m").user("hi").to_sdk().unwrap();
        assert!(p.system.is_none());
        assert!(p.inference_config.is_none());
        assert!(p.additional_model_request_fields.is_none());
        assert_eq!(p.messages.len(), 1);
    }
}
