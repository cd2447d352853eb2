//! The SDK's errors as ours: [`SdkError`] to [`Error`], with the service's
//! exception kinds read from the SDK's modeled variants.

use std::fmt;

use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::event_stream::RawMessage;

use crate::error::{Error, ServiceError, ServiceErrorKind, TimeoutKind};

impl Error {
    /// Maps an SDK error from receiving a stream event. Once the stream has
    /// started, a broken connection is a transport failure (never a connect
    /// one), and so is a frame damaged or cut off in transit (bad CRC, bad
    /// lengths, truncation): the bytes, not the service, were at fault, so a
    /// retry may succeed. A frame that arrived intact but that the SDK cannot
    /// understand is a protocol error, which a retry would not fix. The SDK
    /// says which is which: the raw message of a frame that failed to decode
    /// is [`RawMessage::Invalid`], of one that decoded but failed to parse,
    /// [`RawMessage::Decoded`].
    pub(crate) fn from_stream_sdk<E>(err: SdkError<E, RawMessage>) -> Self
    where
        E: ProvideErrorMetadata + ModeledKind + std::error::Error + Send + Sync + 'static,
    {
        if let SdkError::ResponseError(ctx) = &err {
            if matches!(ctx.raw(), RawMessage::Invalid(_)) {
                return Error::Transport {
                    source: Box::new(err),
                    partial: None,
                };
            }
        }
        match Error::from_sdk(err) {
            Error::Connect { source } => Error::Transport {
                source,
                partial: None,
            },
            other => other,
        }
    }

    /// Maps an SDK error of either operation, or of the event stream, to ours.
    pub(crate) fn from_sdk<E, R>(err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + ModeledKind + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        let request_id = err.raw_response().and_then(raw_request_id);
        match err {
            SdkError::ServiceError(ctx) => {
                let status = raw_status(ctx.raw());
                let e = ctx.err();
                // The modeled variant is authoritative; exceptions decoded
                // from stream frames carry no code in their metadata.
                let kind = e
                    .modeled_kind()
                    .unwrap_or_else(|| ServiceErrorKind::from_code(e.code().unwrap_or_default()));
                let code = match e.code() {
                    Some(code) => code.to_owned(),
                    None => kind.code().to_owned(),
                };
                let message = e.message().unwrap_or_default().to_owned();
                // A success status whose body the SDK could not parse is not
                // the service reporting an error: it is a malformed reply.
                if kind == ServiceErrorKind::Other && status.is_some_and(|s| s < 300) {
                    return Error::Protocol {
                        message: format!(
                            "HTTP {} with a body that could not be parsed: {}",
                            status.unwrap_or_default(),
                            causes(e)
                        ),
                        partial: None,
                    };
                }
                Error::Service(Box::new(ServiceError {
                    kind,
                    code,
                    message,
                    request_id,
                    status,
                    partial: None,
                }))
            }
            SdkError::TimeoutError(_) => Error::Timeout {
                kind: TimeoutKind::Sdk,
                partial: None,
            },
            SdkError::DispatchFailure(f) => {
                if let Some(c) = f.as_connector_error().filter(|c| no_usable_credentials(*c)) {
                    // Not transient: the same request fails the same way
                    // until the configuration changes.
                    return Error::Config {
                        message: format!("no usable AWS credentials: {}", causes(c)),
                    };
                }
                if f.is_timeout() {
                    Error::Timeout {
                        kind: TimeoutKind::Connect,
                        partial: None,
                    }
                } else if f.is_io() {
                    Error::Connect {
                        source: Box::new(SdkError::<E, R>::DispatchFailure(f)),
                    }
                } else {
                    Error::Transport {
                        source: Box::new(SdkError::<E, R>::DispatchFailure(f)),
                        partial: None,
                    }
                }
            }
            SdkError::ResponseError(r) => {
                let err = SdkError::<E, R>::ResponseError(r);
                // A body the SDK could not parse is a protocol problem; a
                // connection that broke while reading it is a transport one.
                if broke_in_transit(&err) {
                    Error::Transport {
                        source: Box::new(err),
                        partial: None,
                    }
                } else {
                    Error::Protocol {
                        message: causes(&err),
                        partial: None,
                    }
                }
            }
            SdkError::ConstructionFailure(c) => Error::InvalidRequest {
                field: "request".into(),
                reason: format!(
                    "could not be built by the SDK: {}",
                    causes(&SdkError::<E, R>::ConstructionFailure(c))
                ),
            },
            other => Error::Transport {
                source: Box::new(other),
                partial: None,
            },
        }
    }
}

fn raw_request_id<R: fmt::Debug + 'static>(raw: &R) -> Option<String> {
    use aws_types::request_id::RequestId;
    let any: &dyn std::any::Any = raw;
    any.downcast_ref::<aws_smithy_runtime_api::http::Response>()?
        .request_id()
        .map(str::to_owned)
}

fn raw_status<R: fmt::Debug + 'static>(raw: &R) -> Option<u16> {
    let any: &dyn std::any::Any = raw;
    any.downcast_ref::<aws_smithy_runtime_api::http::Response>()
        .map(|r| r.status().as_u16())
}

/// An error and its causes, by their `Display` only (never a `Debug` dump),
/// joined with `: `; a cause whose text its parent already holds is left out.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let more = e.to_string();
        // An empty cause is in every text, so it is left out too.
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cur = e.source();
    }
    text
}

/// Whether the request could not be signed because there are no
/// credentials (or no bearer token), or their configuration is invalid: the
/// SDK's typed [`CredentialsError`] / [`TokenError`] somewhere in the chain.
/// A provider that timed out or failed (say, a network call to SSO) is left
/// to the other kinds: that may pass.
///
/// [`CredentialsError`]: aws_credential_types::provider::error::CredentialsError
/// [`TokenError`]: aws_credential_types::provider::error::TokenError
fn no_usable_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    use aws_credential_types::provider::error::{CredentialsError, TokenError};
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            return matches!(
                c,
                CredentialsError::CredentialsNotLoaded(_)
                    | CredentialsError::InvalidConfiguration(_)
            );
        }
        if let Some(t) = e.downcast_ref::<TokenError>() {
            return matches!(
                t,
                TokenError::TokenNotLoaded(_) | TokenError::InvalidConfiguration(_)
            );
        }
        cur = e.source();
    }
    false
}

/// Whether reading a reply failed because the connection did: an I/O error
/// or a connector error somewhere in the chain of causes.
fn broke_in_transit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = err.source();
    while let Some(e) = cur {
        if e.is::<std::io::Error>()
            || e.downcast_ref::<ConnectorError>()
                .is_some_and(|c| c.is_io() || c.is_timeout())
        {
            return true;
        }
        cur = e.source();
    }
    false
}
/// The kind of a modeled SDK exception, from its enum variant.
pub(crate) trait ModeledKind {
    fn modeled_kind(&self) -> Option<ServiceErrorKind>;
}

macro_rules! modeled_kind {
    ($ty:ty { $($variant:ident => $kind:ident),* $(,)? }) => {
        impl ModeledKind for $ty {
            fn modeled_kind(&self) -> Option<ServiceErrorKind> {
                match self {
                    $(Self::$variant(_) => Some(ServiceErrorKind::$kind),)*
                    _ => None,
                }
            }
        }
    };
}

modeled_kind!(aws_sdk_bedrockruntime::operation::converse::ConverseError {
    AccessDeniedException => AccessDenied,
    InternalServerException => InternalServer,
    ModelErrorException => ModelError,
    ModelNotReadyException => ModelNotReady,
    ModelTimeoutException => ModelTimeout,
    ResourceNotFoundException => ResourceNotFound,
    ServiceUnavailableException => ServiceUnavailable,
    ThrottlingException => Throttling,
    ValidationException => Validation,
});

modeled_kind!(aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamError {
    AccessDeniedException => AccessDenied,
    InternalServerException => InternalServer,
    ModelErrorException => ModelError,
    ModelNotReadyException => ModelNotReady,
    ModelTimeoutException => ModelTimeout,
    ResourceNotFoundException => ResourceNotFound,
    ServiceUnavailableException => ServiceUnavailable,
    ThrottlingException => Throttling,
    ValidationException => Validation,
    ModelStreamErrorException => ModelStreamError,
});

modeled_kind!(aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError {
    InternalServerException => InternalServer,
    ModelStreamErrorException => ModelStreamError,
    ValidationException => Validation,
    ThrottlingException => Throttling,
    ServiceUnavailableException => ServiceUnavailable,
});

modeled_kind!(aws_sdk_bedrockruntime::operation::count_tokens::CountTokensError {
    AccessDeniedException => AccessDenied,
    InternalServerException => InternalServer,
    ResourceNotFoundException => ResourceNotFound,
    ServiceUnavailableException => ServiceUnavailable,
    ThrottlingException => Throttling,
    ValidationException => Validation,
});

#[cfg(test)]
mod tests;
