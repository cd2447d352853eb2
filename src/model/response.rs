//! What comes back: [`Response`], [`Usage`], [`Metrics`] and [`Trace`].

use aws_sdk_bedrockruntime::types::{
    ContentBlock, GuardrailTraceAssessment, PerformanceConfiguration, PromptRouterTrace,
    ServiceTier, StopReason,
};
use serde_json::Value;

use super::message::Message;
use super::tools::ToolUse;

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
    /// The cache writes broken down by time to live (the service's
    /// `cacheDetails`), when it sent them.
    pub cache_details: Option<CacheDetails>,
}

/// Prompt tokens written to the cache, by the time to live of the cache
/// point that wrote them (the service's `usage.cacheDetails`, one entry per
/// TTL). A TTL this version does not know is counted in `other`.
///
/// ```
/// use bedrock_converse::model::CacheDetails;
/// let d = CacheDetails::new(100, 2048);
/// assert_eq!((d.five_minutes, d.one_hour, d.other), (100, 2048, 0));
/// assert_eq!(d.total(), 2148);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheDetails {
    /// Tokens written with the 5-minute TTL (`"5m"`).
    pub five_minutes: u32,
    /// Tokens written with the 1-hour TTL (`"1h"`).
    pub one_hour: u32,
    /// Tokens written with a TTL this version does not know.
    pub other: u32,
}

impl CacheDetails {
    /// Tokens written with the 5-minute and the 1-hour TTL.
    pub fn new(five_minutes: u32, one_hour: u32) -> Self {
        CacheDetails {
            five_minutes,
            one_hour,
            other: 0,
        }
    }

    /// All tokens written, whatever their TTL.
    pub fn total(&self) -> u32 {
        self.five_minutes
            .saturating_add(self.one_hour)
            .saturating_add(self.other)
    }
}

impl std::ops::Add for CacheDetails {
    type Output = CacheDetails;

    fn add(self, other: CacheDetails) -> CacheDetails {
        CacheDetails {
            five_minutes: self.five_minutes.saturating_add(other.five_minutes),
            one_hour: self.one_hour.saturating_add(other.one_hour),
            other: self.other.saturating_add(other.other),
        }
    }
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

/// Sums two calls' counts (cache counts add when either has them), as
/// [`Converser::extract`](crate::Converser::extract) does over its attempts.
///
/// ```
/// use bedrock_converse::model::Usage;
/// assert_eq!(Usage::new(10, 2, 12) + Usage::new(5, 1, 6), Usage::new(15, 3, 18));
/// ```
impl std::ops::Add for Usage {
    type Output = Usage;

    fn add(self, other: Usage) -> Usage {
        let opt = |a: Option<u32>, b: Option<u32>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
        };
        Usage {
            input_tokens: self.input_tokens.saturating_add(other.input_tokens),
            output_tokens: self.output_tokens.saturating_add(other.output_tokens),
            total_tokens: self.total_tokens.saturating_add(other.total_tokens),
            cache_read_input_tokens: opt(
                self.cache_read_input_tokens,
                other.cache_read_input_tokens,
            ),
            cache_write_input_tokens: opt(
                self.cache_write_input_tokens,
                other.cache_write_input_tokens,
            ),
            cache_details: match (self.cache_details, other.cache_details) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
            },
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

/// A whole reply, the same type whether it was streamed
/// ([`converse_with`](crate::Converser::converse_with)) or not
/// ([`converse`](crate::Converser::converse)).
///
/// ```
/// use bedrock_converse::{Response, Message};
/// use bedrock_converse::model::Usage;
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
    /// Set when a streaming call ([`converse_with`](crate::Converser::converse_with)
    /// and the like) was answered through Converse instead, because the
    /// model cannot stream (this request): the handler was then driven with
    /// the whole reply at once. `None` for a streamed reply and for
    /// [`converse`](crate::Converser::converse).
    pub stream_fallback: Option<StreamFallback>,
    /// Which target answered, when the `Converser` has
    /// [fallback targets](crate::ConverserBuilder::fallback): its index (0
    /// is the builder's own), and the model id and Region actually called.
    /// `None` from a `Converser` with one target.
    pub answered_by: Option<AnsweredBy>,
}

/// Which of a `Converser`'s targets answered a call ([`Response::answered_by`]).
///
/// ```
/// use bedrock_converse::Response;
/// let r = Response::default();
/// assert!(r.answered_by.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnsweredBy {
    /// The target's index: 0 is the builder's own, then the fallbacks in
    /// the order they were added.
    pub target: usize,
    /// The model id (or inference profile) the request was sent with.
    pub model_id: String,
    /// The Region of the client that sent it, when known.
    pub region: Option<String>,
}

/// Why a streaming call was answered through Converse
/// ([`Response::stream_fallback`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamFallback {
    /// The model cannot stream at all ("The model is unsupported for streaming.").
    ModelCannotStream,
    /// The model takes tools only through Converse ("This model doesn't
    /// support tool use in streaming mode.").
    ModelCannotStreamToolUse,
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

    /// Whether the reply was cut short by a length limit: the stop reason is
    /// `max_tokens` (the request's `max_tokens`) or
    /// `model_context_window_exceeded` (the model's context window). The
    /// text is then incomplete, and JSON in it is likely unparsable.
    ///
    /// ```
    /// use bedrock_converse::Response;
    /// use bedrock_converse::types::StopReason;
    /// let mut r = Response::default();
    /// r.stop_reason = Some(StopReason::MaxTokens);
    /// assert!(r.is_truncated());
    /// r.stop_reason = Some(StopReason::ModelContextWindowExceeded);
    /// assert!(r.is_truncated());
    /// r.stop_reason = Some(StopReason::EndTurn);
    /// assert!(!r.is_truncated());
    /// ```
    pub fn is_truncated(&self) -> bool {
        matches!(
            self.stop_reason,
            Some(StopReason::MaxTokens | StopReason::ModelContextWindowExceeded)
        )
    }

    /// Whether the model stopped to have tools run (stop reason
    /// `tool_use`): answer [`tool_uses`](Response::tool_uses) with
    /// [`Message::tool_results`] and call again.
    ///
    /// ```
    /// use bedrock_converse::Response;
    /// use bedrock_converse::types::StopReason;
    /// let mut r = Response::default();
    /// assert!(!r.stopped_for_tool_use());
    /// r.stop_reason = Some(StopReason::ToolUse);
    /// assert!(r.stopped_for_tool_use());
    /// ```
    pub fn stopped_for_tool_use(&self) -> bool {
        matches!(self.stop_reason, Some(StopReason::ToolUse))
    }

    /// Whether the reply was withheld or cut by a safety layer: the stop
    /// reason is `guardrail_intervened` (see [`trace`](Response::trace)) or
    /// `content_filtered`.
    ///
    /// ```
    /// use bedrock_converse::Response;
    /// use bedrock_converse::types::StopReason;
    /// let mut r = Response::default();
    /// r.stop_reason = Some(StopReason::ContentFiltered);
    /// assert!(r.is_blocked());
    /// r.stop_reason = Some(StopReason::MaxTokens);
    /// assert!(!r.is_blocked());
    /// ```
    pub fn is_blocked(&self) -> bool {
        matches!(
            self.stop_reason,
            Some(StopReason::GuardrailIntervened | StopReason::ContentFiltered)
        )
    }

    /// Whether the service found the model's output malformed: the stop
    /// reason is `malformed_model_output` (output that does not follow the
    /// requested structure) or `malformed_tool_use` (a tool call the service
    /// could not read). What text or tool input there is should not be
    /// trusted; [`Converser::extract`](crate::Converser::extract) treats
    /// such a reply as invalid output.
    ///
    /// ```
    /// use bedrock_converse::Response;
    /// use bedrock_converse::types::StopReason;
    /// let mut r = Response::default();
    /// r.stop_reason = Some(StopReason::MalformedModelOutput);
    /// assert!(r.is_malformed());
    /// r.stop_reason = Some(StopReason::MalformedToolUse);
    /// assert!(r.is_malformed());
    /// assert!(!r.is_truncated() && !r.is_blocked());
    /// r.stop_reason = Some(StopReason::EndTurn);
    /// assert!(!r.is_malformed());
    /// ```
    pub fn is_malformed(&self) -> bool {
        matches!(
            self.stop_reason,
            Some(StopReason::MalformedModelOutput | StopReason::MalformedToolUse)
        )
    }
}
