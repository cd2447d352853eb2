//! How an SDK failure becomes our [`Error`], which decides whether a
//! call is retried: transient kinds (connect, transport, timeout) may
//! pass on a retry, configuration and protocol faults never do.

use std::error::Error as StdError;
use std::time::Duration;

use aws_credential_types::provider::error::{CredentialsError, TokenError};
use aws_sdk_bedrockruntime::operation::converse::ConverseError;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::event_stream::RawMessage;

use super::*;

type Sdk = SdkError<ConverseError, Response>;

/// An error with an optional cause, to build chains of causes.
#[derive(Debug)]
struct Chain(&'static str, Option<Box<dyn StdError + Send + Sync>>);

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl StdError for Chain {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.1.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

fn reply(status: u16) -> Response {
    let mut r = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
    r.headers_mut().insert("x-amzn-requestid", "req-1");
    r
}

fn generic(code: &str) -> ConverseError {
    ConverseError::generic(
        ErrorMetadata::builder()
            .code(code)
            .message("said so")
            .build(),
    )
}

#[test]
fn an_unrecognised_body_under_a_success_status_is_a_protocol_error() {
    for status in [200, 299] {
        let err = Error::from_sdk(Sdk::service_error(generic("Mystery"), reply(status)));
        match err {
            Error::Protocol { message, .. } => {
                assert!(message.starts_with(&format!("HTTP {status} ")), "{message}")
            }
            other => panic!("HTTP {status}: {other:?}"),
        }
    }
}

#[test]
fn an_unrecognised_code_under_an_error_status_is_the_service_speaking() {
    for status in [300, 400, 500] {
        let err = Error::from_sdk(Sdk::service_error(generic("Mystery"), reply(status)));
        let Error::Service(e) = err else {
            panic!("HTTP {status}: {err:?}")
        };
        assert_eq!(e.kind, ServiceErrorKind::Other);
        assert_eq!(e.code, "Mystery");
        assert_eq!(e.message, "said so");
        assert_eq!(e.status, Some(status));
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
    }
}

#[test]
fn a_known_code_is_a_service_error_whatever_the_status() {
    let err = Error::from_sdk(Sdk::service_error(
        generic("ThrottlingException"),
        reply(200),
    ));
    let Error::Service(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.kind, ServiceErrorKind::Throttling);
    assert_eq!(e.status, Some(200));
    assert!(Error::Service(e).is_retryable());
}

#[test]
fn a_connection_that_breaks_while_a_reply_is_read_is_a_transport_failure() {
    let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
    let err = Error::from_sdk(Sdk::response_error(io, reply(200)));
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.is_retryable());

    for c in [
        ConnectorError::io("reset".into()),
        ConnectorError::timeout("slow".into()),
    ] {
        let wrapped = Chain("reading the body", Some(Box::new(c)));
        let err = Error::from_sdk(Sdk::response_error(wrapped, reply(200)));
        assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    }
}

#[test]
fn a_reply_that_arrived_whole_but_unparsable_is_a_protocol_error() {
    for source in [
        Chain("bad json", None),
        Chain(
            "bad json",
            Some(Box::new(ConnectorError::other("odd".into(), None))),
        ),
    ] {
        let err = Error::from_sdk(Sdk::response_error(source, reply(200)));
        assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
        assert!(!err.is_retryable());
    }
}

#[test]
fn dispatch_failures_are_connect_timeout_or_config() {
    let err = Error::from_sdk(Sdk::dispatch_failure(ConnectorError::io("refused".into())));
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    let err = Error::from_sdk(Sdk::dispatch_failure(ConnectorError::timeout(
        "slow".into(),
    )));
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    let missing = ConnectorError::other(
        Box::new(Chain(
            "signing",
            Some(Box::new(CredentialsError::not_loaded("no profile"))),
        )),
        None,
    );
    match Error::from_sdk(Sdk::dispatch_failure(missing)) {
        Error::Config { message } => {
            assert!(message.starts_with("no usable AWS credentials: "))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn credentials_that_are_missing_or_misconfigured_are_not_usable() {
    let wrap = |e: Box<dyn StdError + Send + Sync>| Chain("signing", Some(e));
    assert!(no_usable_credentials(&wrap(Box::new(
        CredentialsError::not_loaded("none")
    ))));
    assert!(no_usable_credentials(
        &CredentialsError::invalid_configuration("bad")
    ));
    assert!(no_usable_credentials(&wrap(Box::new(
        TokenError::not_loaded("none")
    ))));
    assert!(no_usable_credentials(&TokenError::invalid_configuration(
        "bad"
    )));
}

#[test]
fn a_provider_that_failed_or_timed_out_may_pass() {
    assert!(!no_usable_credentials(
        &CredentialsError::provider_timed_out(Duration::from_secs(1))
    ));
    assert!(!no_usable_credentials(&CredentialsError::provider_error(
        "sso down"
    )));
    assert!(!no_usable_credentials(&TokenError::provider_timed_out(
        Duration::from_secs(1)
    )));
    assert!(!no_usable_credentials(&Chain("plain", None)));
}

#[test]
fn causes_are_joined_and_a_repeated_one_left_out() {
    let e = Chain(
        "outer",
        Some(Box::new(Chain(
            "inner",
            Some(Box::new(Chain("out", Some(Box::new(Chain("root", None)))))),
        ))),
    );
    // "out" is already in "outer": left out.
    assert_eq!(causes(&e), "outer: inner: root");
    assert_eq!(causes(&Chain("alone", None)), "alone");
}

#[test]
fn a_frame_damaged_in_transit_is_a_transport_failure_and_one_unparsable_a_protocol_one() {
    type Stream = SdkError<ConverseStreamOutputError, RawMessage>;
    let err = Error::from_stream_sdk(Stream::response_error(
        Chain("bad crc", None),
        RawMessage::Invalid(None),
    ));
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let err = Error::from_stream_sdk(Stream::response_error(
        Chain("bad json", None),
        RawMessage::Decoded(aws_smithy_types::event_stream::Message::new(
            Vec::<u8>::new(),
        )),
    ));
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
    // Once the stream has started, a broken connection is never a connect failure.
    let err = Error::from_stream_sdk(Stream::dispatch_failure(ConnectorError::io("reset".into())));
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}
