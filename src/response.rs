//! What comes back: [`Response`], [`Usage`], [`Metrics`] and [`Trace`].

use aws_sdk_bedrockruntime::operation::converse::ConverseOutput as SdkConverseOutput;
use aws_sdk_bedrockruntime::operation::RequestId;
use aws_sdk_bedrockruntime::types::{
    self, ContentBlock, GuardrailTraceAssessment, PerformanceConfiguration, PromptRouterTrace,
    ServiceTier, StopReason,
};
use serde_json::Value;

use crate::document::document_to_json;
use crate::error::Error;
use crate::request::Message;
use crate::tools::ToolUse;

/// What the service reports about how it handled a call: the guardrail's
/// assessment (when the request's guardrail has tracing on) and which model
/// a prompt router chose.
///
/// The Converse and ConverseStream APIs return this in two SDK types
/// (`ConverseTrace` and `ConverseStreamTrace`) with the same members; both
/// become this one type, so streamed and whole replies compare equal.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Trace {
    /// The guardrail's assessment of the input and output.
    pub guardrail: Option<GuardrailTraceAssessment>,
    /// The model a prompt router sent the request to.
    pub prompt_router: Option<PromptRouterTrace>,
}

impl Trace {
    /// The model a prompt router chose, if one did.
    pub fn invoked_model_id(&self) -> Option<&str> {
        self.prompt_router
            .as_ref()
            .and_then(|p| p.invoked_model_id.as_deref())
    }
}

impl From<types::ConverseTrace> for Trace {
    fn from(t: types::ConverseTrace) -> Self {
        Trace {
            guardrail: t.guardrail,
            prompt_router: t.prompt_router,
        }
    }
}

impl From<types::ConverseStreamTrace> for Trace {
    fn from(t: types::ConverseStreamTrace) -> Self {
        Trace {
            guardrail: t.guardrail,
            prompt_router: t.prompt_router,
        }
    }
}

/// Token counts for one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// Tokens in the prompt.
    pub input_tokens: u32,
    /// Tokens generated.
    pub output_tokens: u32,
    /// Total tokens billed.
    pub total_tokens: u32,
    /// Prompt tokens read from the prompt cache, when caching is used.
    pub cache_read_input_tokens: Option<u32>,
    /// Prompt tokens written to the prompt cache, when caching is used.
    pub cache_write_input_tokens: Option<u32>,
}

impl Usage {
    /// Token counts as given (cache counts unset).
    pub fn new(input_tokens: u32, output_tokens: u32, total_tokens: u32) -> Self {
        Usage {
            input_tokens,
            output_tokens,
            total_tokens,
            ..Default::default()
        }
    }
}

/// A count or index the SDK types as `i32`, never negative in practice.
pub(crate) fn non_negative(v: i32) -> u32 {
    v.max(0) as u32
}

impl From<&types::TokenUsage> for Usage {
    fn from(u: &types::TokenUsage) -> Self {
        Usage {
            input_tokens: non_negative(u.input_tokens),
            output_tokens: non_negative(u.output_tokens),
            total_tokens: non_negative(u.total_tokens),
            cache_read_input_tokens: u.cache_read_input_tokens.map(non_negative),
            cache_write_input_tokens: u.cache_write_input_tokens.map(non_negative),
        }
    }
}

/// Timing reported by the service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// The service-side latency of the call, in milliseconds.
    pub latency_ms: u64,
}

impl Metrics {
    /// Metrics with the given latency.
    pub fn new(latency_ms: u64) -> Self {
        Metrics { latency_ms }
    }
}

impl From<&types::ConverseMetrics> for Metrics {
    fn from(m: &types::ConverseMetrics) -> Self {
        Metrics::new(m.latency_ms.max(0) as u64)
    }
}

impl From<&types::ConverseStreamMetrics> for Metrics {
    fn from(m: &types::ConverseStreamMetrics) -> Self {
        Metrics::new(m.latency_ms.max(0) as u64)
    }
}

/// A whole reply, the same type whether it was streamed
/// ([`converse_with`](crate::Converser::converse_with)) or not
/// ([`converse`](crate::Converser::converse)).
///
/// ```
/// use bedrock_converse::{Response, Message, Usage};
/// let r = Response::default();
/// assert_eq!(r.text(), "");
/// assert!(r.usage.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Response {
    /// The assistant's message with all its content blocks.
    pub message: Message,
    /// Why the model stopped (`None` only in a partial response that never
    /// reached `messageStop`). Unknown reasons are kept as
    /// [`StopReason::Unknown`], whose `as_str()` gives the service's string.
    pub stop_reason: Option<StopReason>,
    /// Token counts.
    pub usage: Option<Usage>,
    /// Service-side timing.
    pub metrics: Option<Metrics>,
    /// Model-specific response fields requested with
    /// `additionalModelResponseFieldPaths`, as JSON.
    pub additional_model_response_fields: Option<Value>,
    /// The `x-amzn-RequestId` of the call.
    pub request_id: Option<String>,
    /// The guardrail assessment and prompt router trace, when present.
    pub trace: Option<Trace>,
    /// The performance setting (latency) the request was served with.
    pub performance_config: Option<PerformanceConfiguration>,
    /// The service tier the request was served with.
    pub service_tier: Option<ServiceTier>,
}

impl Response {
    /// All text blocks of the reply, concatenated.
    pub fn text(&self) -> String {
        self.message.text()
    }

    /// The content blocks of the reply.
    pub fn content(&self) -> &[ContentBlock] {
        &self.message.content
    }

    /// The tools the model asks you to run (not those the service ran
    /// itself), in order. See [`Message::tool_uses`].
    pub fn tool_uses(&self) -> Vec<ToolUse> {
        self.message.tool_uses()
    }

    pub(crate) fn from_converse(out: SdkConverseOutput) -> Result<Response, Error> {
        let request_id = out.request_id().map(str::to_owned);
        let message = match out.output {
            Some(types::ConverseOutput::Message(m)) => Message::from(m),
            Some(_) => {
                return Err(Error::Protocol {
                    message: "the reply's `output` is not a message".into(),
                    partial: None,
                })
            }
            None => {
                return Err(Error::Protocol {
                    message: "the reply has no `output`".into(),
                    partial: None,
                })
            }
        };
        Ok(Response {
            message,
            stop_reason: Some(out.stop_reason),
            usage: out.usage.as_ref().map(Usage::from),
            metrics: out.metrics.as_ref().map(Metrics::from),
            additional_model_response_fields: out
                .additional_model_response_fields
                .as_ref()
                .map(document_to_json),
            request_id,
            trace: out.trace.map(Trace::from),
            performance_config: out.performance_config,
            service_tier: out.service_tier,
        })
    }
}
