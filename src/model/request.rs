//! What to send: [`ConverseRequest`], with its [`InferenceConfig`] and
//! [`GuardrailConfig`].

use std::collections::BTreeMap;

use aws_sdk_bedrockruntime::types::{
    GuardrailStreamProcessingMode, GuardrailTrace, PerformanceConfigLatency, ServiceTierType,
    SystemContentBlock,
};
use serde_json::Value;

use super::cache::CachePoint;
use super::media::ContentLimits;
use super::message::Message;
use super::output::{Effort, JsonSchemaFormat, OutputConfig};
use super::tools::{Tool, ToolChoice, ToolConfig};
use crate::cancel::CancelToken;

/// A guardrail to apply to the request: the Converse API's `guardrailConfig`.
///
/// ```
/// use bedrock_converse::ConverseRequest;
/// use bedrock_converse::model::GuardrailConfig;
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
#[must_use]
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
#[must_use]
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
    /// Structured output (a JSON schema for the reply's text) and effort.
    pub output_config: Option<OutputConfig>,
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
    /// button): the call returns [`Error::Cancelled`](crate::Error::Cancelled) promptly with what had
    /// arrived, and the HTTP stream is dropped.
    ///
    /// ```
    /// use bedrock_converse::{CancelToken, ConverseRequest};
    /// let token = CancelToken::new();
    /// let request = ConverseRequest::new("m").user("hi").cancel_token(token.clone());
    /// // later, from any thread:
    /// token.cancel();
    /// assert!(request.cancel_token.as_ref().is_some_and(CancelToken::is_cancelled));
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

    /// Sets the output configuration (structured output and effort).
    pub fn output_config(mut self, config: OutputConfig) -> Self {
        self.output_config = Some(config);
        self
    }

    /// Constrains the reply's text to a JSON schema (`outputConfig.textFormat`,
    /// type `json_schema`), keeping any effort set. The schema is checked
    /// against the service's subset by [`validate`](ConverseRequest::validate)
    /// and sent [fitted](crate::model::schema::fit) (a bound such as
    /// `minimum` moved into the description, unchecked on the reply: see
    /// [`Converser::extract`](crate::Converser::extract) for a checked one).
    ///
    /// ```
    /// use bedrock_converse::{ConverseRequest, Error};
    /// use serde_json::json;
    ///
    /// let schema = json!({"type": "object", "properties": {"age": {"type": "integer", "minimum": 0}}});
    /// assert!(ConverseRequest::new("m").user("hi").output_schema(schema).validate().is_ok());
    /// let map = json!({"type": "object", "additionalProperties": {"type": "integer"}});
    /// let err = ConverseRequest::new("m").user("hi").output_schema(map).validate().unwrap_err();
    /// assert!(matches!(err, Error::InvalidRequest { ref field, .. }
    ///     if field == "output_config.text_format.schema/additionalProperties"));
    /// ```
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_config
            .get_or_insert_with(Default::default)
            .text_format = Some(JsonSchemaFormat::new(schema));
        self
    }

    /// Sets the effort level ([`Effort`]), for models that support it,
    /// keeping any output schema set.
    ///
    /// ```
    /// use bedrock_converse::model::Effort;
    /// use bedrock_converse::ConverseRequest;
    /// let request = ConverseRequest::new("model").user("Plan a trip.").effort(Effort::Low);
    /// assert_eq!(request.output_config.unwrap().effort, Some(Effort::Low));
    /// ```
    pub fn effort(mut self, effort: Effort) -> Self {
        self.output_config
            .get_or_insert_with(Default::default)
            .effort = Some(effort);
        self
    }
}
