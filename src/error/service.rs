//! Exceptions from Bedrock: [`ServiceError`], with its [`ServiceErrorKind`]
//! read from the error code.

use std::fmt;

use crate::model::Response;

/// The kind of a Bedrock service exception, from its error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServiceErrorKind {
    /// `ValidationException`: the service rejected the input.
    Validation,
    /// `ThrottlingException`: too many requests; retry with back-off.
    Throttling,
    /// `AccessDeniedException`: the credentials may not call this model.
    AccessDenied,
    /// `ResourceNotFoundException`: unknown or retired model id.
    ResourceNotFound,
    /// `ServiceQuotaExceededException`: an account quota was exceeded.
    ServiceQuotaExceeded,
    /// `ModelNotReadyException`: the model is being loaded; retry later.
    ModelNotReady,
    /// `ModelTimeoutException`: the model took too long.
    ModelTimeout,
    /// `ModelErrorException`: the model failed while processing the request.
    ModelError,
    /// `ModelStreamErrorException`: the model failed part-way through a stream.
    ModelStreamError,
    /// `ServiceUnavailableException`: the service is temporarily unavailable.
    ServiceUnavailable,
    /// `InternalServerException`: a server-side error.
    InternalServer,
    /// Any other code (see [`ServiceError::code`]), e.g. `UnrecognizedClientException`.
    Other,
}

impl ServiceErrorKind {
    /// Classifies an error code such as `"ThrottlingException"`. Codes are
    /// matched without regard to case, and anything after a `:` (the service
    /// sometimes appends a namespace URL) is ignored.
    pub fn from_code(code: &str) -> Self {
        let code = code.split(':').next().unwrap_or(code).trim();
        let code = code.rsplit('#').next().unwrap_or(code);
        match code.to_ascii_lowercase().as_str() {
            "validationexception" => Self::Validation,
            "throttlingexception" | "toomanyrequestsexception" => Self::Throttling,
            "accessdeniedexception" => Self::AccessDenied,
            "resourcenotfoundexception" => Self::ResourceNotFound,
            "servicequotaexceededexception" => Self::ServiceQuotaExceeded,
            "modelnotreadyexception" => Self::ModelNotReady,
            "modeltimeoutexception" => Self::ModelTimeout,
            "modelerrorexception" => Self::ModelError,
            "modelstreamerrorexception" => Self::ModelStreamError,
            "serviceunavailableexception" => Self::ServiceUnavailable,
            "internalserverexception" => Self::InternalServer,
            _ => Self::Other,
        }
    }

    /// The service's error code for this kind (`"Unknown"` for [`Other`](Self::Other)).
    pub fn code(self) -> &'static str {
        match self {
            Self::Validation => "ValidationException",
            Self::Throttling => "ThrottlingException",
            Self::AccessDenied => "AccessDeniedException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::ServiceQuotaExceeded => "ServiceQuotaExceededException",
            Self::ModelNotReady => "ModelNotReadyException",
            Self::ModelTimeout => "ModelTimeoutException",
            Self::ModelError => "ModelErrorException",
            Self::ModelStreamError => "ModelStreamErrorException",
            Self::ServiceUnavailable => "ServiceUnavailableException",
            Self::InternalServer => "InternalServerException",
            Self::Other => "Unknown",
        }
    }

    /// Whether the same request may succeed if sent again later.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::Throttling
                | Self::ModelNotReady
                | Self::ModelTimeout
                | Self::ModelStreamError
                | Self::ServiceUnavailable
                | Self::InternalServer
        )
    }
}

/// An exception returned by Bedrock, with everything the service said about it.
#[derive(Debug)]
#[non_exhaustive]
pub struct ServiceError {
    /// The classified kind.
    pub kind: ServiceErrorKind,
    /// The error code as sent, e.g. `"ValidationException"`.
    pub code: String,
    /// The service's message, unchanged.
    pub message: String,
    /// The `x-amzn-RequestId` of the failed call, when known.
    pub request_id: Option<String>,
    /// The HTTP status, when the error came as an HTTP response (not mid-stream).
    pub status: Option<u16>,
    /// What had arrived before a mid-stream exception.
    pub partial: Option<Box<Response>>,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bedrock returned {}", self.code)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}
