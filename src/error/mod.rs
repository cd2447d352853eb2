//! The error type returned by every fallible call in this crate.

use std::fmt;
use std::path::PathBuf;

use crate::model::{Response, S3UriError};

mod service;

pub use service::{ServiceError, ServiceErrorKind};

/// The result of every fallible call in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong when talking to Bedrock.
///
/// The variants are grouped by *who* failed: the request you built
/// ([`InvalidRequest`](Error::InvalidRequest),
/// [`DuplicateRecordId`](Error::DuplicateRecordId)), the service
/// ([`Service`](Error::Service)), the network ([`Connect`](Error::Connect),
/// [`Transport`](Error::Transport), [`Timeout`](Error::Timeout)), the bytes on
/// the wire ([`Protocol`](Error::Protocol)), your own code
/// ([`Stopped`](Error::Stopped)), or the [`Converser`](crate::Converser)
/// itself ([`Config`](Error::Config), [`WouldDeadlock`](Error::WouldDeadlock),
/// [`Shutdown`](Error::Shutdown)).
///
/// Use the predicates ([`is_retryable`](Error::is_retryable),
/// [`is_timeout`](Error::is_timeout), [`is_throttling`](Error::is_throttling), …)
/// rather than matching when you only need a decision. When a stream fails
/// part-way, whatever had already arrived is kept:
/// [`partial_response`](Error::partial_response) returns it.
///
/// ```
/// use bedrock_converse::{ConverseRequest, Error, Message};
///
/// // An invalid request is refused before anything is sent.
/// let err = ConverseRequest::new("").message(Message::user("hi")).validate().unwrap_err();
/// assert!(matches!(err, Error::InvalidRequest { ref field, .. } if field == "model_id"));
/// assert!(!err.is_retryable());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was refused before sending: `field` names what is wrong.
    #[error("invalid request: `{field}` {reason}")]
    InvalidRequest {
        /// The request field at fault, e.g. `"temperature"` or `"messages[0].role"`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Two records of a [`Batch`](crate::batch::Batch) share an id, so their
    /// results could not be told apart; refused before anything is sent.
    /// Batch Inference refuses the same with
    /// `InferenceError::DuplicateRecordId`, of the same name and shape.
    /// [`is_invalid_request`](Error::is_invalid_request) is true for it.
    #[error("record id {record:?} appears more than once")]
    DuplicateRecordId {
        /// The id.
        record: String,
    },

    /// Bedrock answered with an exception (an HTTP error status, or an
    /// exception frame in the middle of a stream).
    #[error(transparent)]
    Service(Box<ServiceError>),

    /// No connection could be made to the endpoint.
    #[error("could not connect to Bedrock")]
    Connect {
        /// The underlying connector error.
        #[source]
        source: BoxError,
    },

    /// The connection failed after it was made (reset, closed early, I/O error).
    #[error("connection to Bedrock failed")]
    Transport {
        /// The underlying error.
        #[source]
        source: BoxError,
        /// What had arrived before the failure, if a stream had started.
        partial: Option<Box<Response>>,
    },

    /// A deadline passed before the call completed.
    #[error("{kind}")]
    Timeout {
        /// Which limit was hit.
        kind: TimeoutKind,
        /// What had arrived before the deadline, if a stream had started.
        partial: Option<Box<Response>>,
    },

    /// The service sent something that could not be understood
    /// (a malformed frame, a bad checksum, JSON of the wrong shape).
    #[error("malformed response from Bedrock: {message}")]
    Protocol {
        /// What was wrong with it.
        message: String,
        /// What had arrived before the malformed part.
        partial: Option<Box<Response>>,
    },

    /// A streamed tool call's input, its fragments joined, is not valid JSON.
    /// The rest of the reply is complete and kept in `response`, where this
    /// tool use's input is the raw text as a JSON string.
    #[error("tool use `{tool_use_id}` ({name}): its input is not valid ({reason})")]
    InvalidToolInput {
        /// The id of the tool use at fault.
        tool_use_id: String,
        /// The tool's name.
        name: String,
        /// The joined input, as received.
        input: String,
        /// What the JSON parser said.
        reason: String,
        /// The whole reply.
        response: Box<Response>,
    },

    /// A structured reply ([`Converser::extract`](crate::Converser::extract))
    /// is not valid JSON for the requested type: cut at `max_tokens`, a
    /// refusal, a guardrail's message, or JSON of the wrong shape. The reply
    /// is kept whole in `response`, with its stop reason and usage (summed
    /// over every attempt when re-asking).
    #[error("the model's reply is not valid output: {reason}")]
    InvalidOutput {
        /// The reply's JSON text as received (in tool mode, the tool's input).
        raw: String,
        /// Why it could not be read (the JSON parser's message, or what was missing).
        reason: String,
        /// The whole (last) reply.
        response: Box<Response>,
    },

    /// [`Converser::count_tokens`](crate::Converser::count_tokens) was
    /// refused because the service does not count tokens for the model
    /// (AWS documents CountTokens for Anthropic Claude models). Not
    /// retryable; `source` is the service's `ValidationException`.
    #[error("the model `{model_id}` does not support CountTokens (AWS documents it for Anthropic Claude models): {source}")]
    CountTokensUnsupported {
        /// The model id of the request.
        model_id: String,
        /// The service's refusal.
        source: Box<ServiceError>,
    },

    /// A tool loop ([`Conversation::run_tools`](crate::Conversation::run_tools))
    /// reached its maximum number of rounds while the model still asked for tools.
    #[error("the model still asked for tools after {max_rounds} tool rounds")]
    ToolRoundsExceeded {
        /// The limit that was reached.
        max_rounds: u32,
        /// The last reply, the one asking for more tools.
        response: Box<Response>,
    },

    /// A file given for an image or document could not be read.
    #[error("could not read `{}`", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// The [`StreamHandler`](crate::StreamHandler) returned
    /// [`ControlFlow::Break`](std::ops::ControlFlow::Break)>::Stop); the stream was dropped.
    #[error("the stream handler stopped the stream")]
    Stopped {
        /// Everything received up to and including the event that stopped it.
        partial: Box<Response>,
    },

    /// The call was cancelled through its [`CancelToken`](crate::CancelToken);
    /// the stream was dropped.
    #[error("the call was cancelled")]
    Cancelled {
        /// What had arrived before the cancellation, if a stream had started.
        partial: Option<Box<Response>>,
    },

    /// The [`Converser`](crate::Converser) could not be built (no region, a
    /// bad profile, the runtime thread could not start), a model catalogue
    /// file could not be read as one, or a call could not
    /// be signed because no credentials (or bearer token) are configured or
    /// their configuration is invalid. A credentials provider that timed out
    /// or failed on the network is [`Error::Transport`] instead: that may pass.
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },

    /// A blocking method of a [`Converser`](crate::Converser) was called on
    /// that `Converser`'s own runtime thread (from a
    /// [`converse_with_on_runtime`](crate::Converser::converse_with_on_runtime) handler or
    /// a [`spawn_with_waker`](crate::Converser::spawn_with_waker) waker), where
    /// it would wait forever for the thread it blocks. Nothing was sent.
    #[error(
        "`{method}` was called on the converser's own runtime thread, where it would wait forever"
    )]
    WouldDeadlock {
        /// The method that was called.
        method: &'static str,
    },

    /// The [`Converser`](crate::Converser)'s runtime thread is gone, so the call
    /// could not be made or could not finish.
    #[error("the converser has shut down")]
    Shutdown {
        /// What had arrived before shut-down, if a stream had started.
        partial: Option<Box<Response>>,
    },
}

/// Which time limit a [`Error::Timeout`] hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// The connection could not be established in time
    /// ([`ConverserBuilder::connect_timeout`](crate::ConverserBuilder::connect_timeout)).
    Connect,
    /// The whole call took longer than
    /// [`ConverserBuilder::timeout`](crate::ConverserBuilder::timeout).
    Deadline,
    /// Nothing arrived for longer than
    /// [`ConverserBuilder::idle_timeout`](crate::ConverserBuilder::idle_timeout).
    Idle,
    /// A timeout inside the SDK (read or operation-attempt timeout).
    Sdk,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "timed out connecting to Bedrock",
            TimeoutKind::Deadline => "the call exceeded its total deadline",
            TimeoutKind::Idle => "the stream was idle for longer than the idle timeout",
            TimeoutKind::Sdk => "the SDK timed out waiting for Bedrock",
        })
    }
}

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidRequest {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }

    /// Whether sending the same request again may succeed: throttling, a model
    /// that is not ready or timed out, a transient service or network failure,
    /// or a timeout. Invalid requests, access errors, handler stops and
    /// malformed responses are not retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Service(e) => e.kind.is_retryable(),
            Error::Connect { .. } | Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::InvalidRequest { .. }
            | Error::DuplicateRecordId { .. }
            | Error::Protocol { .. }
            | Error::InvalidToolInput { .. }
            | Error::InvalidOutput { .. }
            | Error::CountTokensUnsupported { .. }
            | Error::ToolRoundsExceeded { .. }
            | Error::File { .. }
            | Error::Stopped { .. }
            | Error::Cancelled { .. }
            | Error::Config { .. }
            | Error::WouldDeadlock { .. }
            | Error::Shutdown { .. } => false,
        }
    }

    /// Whether a time limit was hit (ours, the SDK's or the service's
    /// `ModelTimeoutException`).
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. } => true,
            Error::Service(e) => e.kind == ServiceErrorKind::ModelTimeout,
            _ => false,
        }
    }

    /// Whether Bedrock throttled the call (`ThrottlingException`).
    pub fn is_throttling(&self) -> bool {
        self.service_kind() == Some(ServiceErrorKind::Throttling)
    }

    /// Whether no connection could be made.
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. }
                | Error::Timeout {
                    kind: TimeoutKind::Connect,
                    ..
                }
        )
    }

    /// Whether the call was cancelled through its token.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled { .. })
    }

    /// Whether a structured reply could not be read as the requested type
    /// ([`Error::InvalidOutput`]).
    pub fn is_invalid_output(&self) -> bool {
        matches!(self, Error::InvalidOutput { .. })
    }

    /// Whether the request was refused locally before sending
    /// ([`InvalidRequest`](Error::InvalidRequest), or a batch's
    /// [`DuplicateRecordId`](Error::DuplicateRecordId)).
    pub fn is_invalid_request(&self) -> bool {
        matches!(
            self,
            Error::InvalidRequest { .. } | Error::DuplicateRecordId { .. }
        )
    }

    /// The kind of service exception, if this is one.
    pub fn service_kind(&self) -> Option<ServiceErrorKind> {
        match self {
            Error::Service(e) => Some(e.kind),
            _ => None,
        }
    }

    /// The service error, if this is one.
    pub fn as_service(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) | Error::CountTokensUnsupported { source: e, .. } => Some(e),
            _ => None,
        }
    }

    /// The request id Bedrock gave the failed call, when known.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Service(e) | Error::CountTokensUnsupported { source: e, .. } => {
                e.request_id.as_deref()
            }
            _ => self
                .partial_response()
                .and_then(|r| r.request_id.as_deref()),
        }
    }

    /// The part of the reply that arrived before a stream failed or was
    /// stopped; for [`InvalidToolInput`](Error::InvalidToolInput),
    /// [`InvalidOutput`](Error::InvalidOutput) and
    /// [`ToolRoundsExceeded`](Error::ToolRoundsExceeded), the whole reply.
    pub fn partial_response(&self) -> Option<&Response> {
        match self {
            Error::Service(e) => e.partial.as_deref(),
            Error::Transport { partial, .. }
            | Error::Timeout { partial, .. }
            | Error::Protocol { partial, .. }
            | Error::Cancelled { partial }
            | Error::Shutdown { partial } => partial.as_deref(),
            Error::Stopped { partial } => Some(partial),
            Error::InvalidToolInput { response, .. }
            | Error::InvalidOutput { response, .. }
            | Error::ToolRoundsExceeded { response, .. } => Some(response),
            _ => None,
        }
    }

    /// Takes the partial response out of the error (see [`partial_response`](Error::partial_response)).
    pub fn into_partial_response(self) -> Option<Response> {
        match self {
            Error::Service(e) => e.partial.map(|b| *b),
            Error::Transport { partial, .. }
            | Error::Timeout { partial, .. }
            | Error::Protocol { partial, .. }
            | Error::Cancelled { partial }
            | Error::Shutdown { partial } => partial.map(|b| *b),
            Error::Stopped { partial } => Some(*partial),
            Error::InvalidToolInput { response, .. }
            | Error::InvalidOutput { response, .. }
            | Error::ToolRoundsExceeded { response, .. } => Some(*response),
            _ => None,
        }
    }

    /// The partial response, to add to it (which target answered).
    pub(crate) fn partial_response_mut(&mut self) -> Option<&mut Response> {
        match self {
            Error::Service(e) => e.partial.as_deref_mut(),
            Error::Transport { partial, .. }
            | Error::Timeout { partial, .. }
            | Error::Protocol { partial, .. }
            | Error::Cancelled { partial }
            | Error::Shutdown { partial } => partial.as_deref_mut(),
            Error::Stopped { partial } => Some(partial),
            Error::InvalidToolInput { response, .. }
            | Error::InvalidOutput { response, .. }
            | Error::ToolRoundsExceeded { response, .. } => Some(response),
            _ => None,
        }
    }

    /// Attaches what had arrived so far to an error from the middle of a stream.
    pub(crate) fn with_partial(mut self, response: Response) -> Self {
        let slot = match &mut self {
            Error::Service(e) => &mut e.partial,
            Error::Transport { partial, .. }
            | Error::Timeout { partial, .. }
            | Error::Protocol { partial, .. }
            | Error::Cancelled { partial }
            | Error::Shutdown { partial } => partial,
            _ => return self,
        };
        if slot.is_none() {
            *slot = Some(Box::new(response));
        }
        self
    }
}

/// A bad S3 URI given where an [`Error`] is returned is an
/// [`Error::InvalidRequest`] on the field `uri`.
///
/// ```
/// use bedrock_converse::model::Image;
/// use bedrock_converse::types::ImageFormat;
/// use bedrock_converse::Error;
///
/// fn photo() -> Result<Image, Error> {
///     Ok(Image::from_s3(ImageFormat::Png, "my-bucket/cat.png")?)
/// }
/// assert!(matches!(photo(), Err(Error::InvalidRequest { field, .. }) if field == "uri"));
/// ```
impl From<S3UriError> for Error {
    fn from(e: S3UriError) -> Self {
        Error::invalid("uri", e.to_string())
    }
}
