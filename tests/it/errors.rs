//! Errors: each failure a typed `Error` of the right kind, with the service's
//! message and request id, retryable or not as documented, readable when
//! printed; faults in the middle of a stream typed and keeping the partial
//! reply; configuration errors (no region, no credentials) before anything
//! is sent.

use crate::support::{fast_retries, request, songs_request, Watch};
use bedrock_converse::error::ServiceErrorKind;
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::{Converser, Error};
use bedrock_converse_mock::{Fault, MockServer, Reply};
use std::time::{Duration, Instant};

fn no_retry(server: &MockServer) -> Converser {
    server.converser_builder().max_attempts(1).build().unwrap()
}

#[test]
fn http_errors_map_to_their_kind_with_message_and_request_id() {
    let server = MockServer::start().unwrap();
    let converser = no_retry(&server);
    let cases = [
        (
            400,
            "ValidationException",
            ServiceErrorKind::Validation,
            false,
        ),
        (
            429,
            "ThrottlingException",
            ServiceErrorKind::Throttling,
            true,
        ),
        (
            500,
            "InternalServerException",
            ServiceErrorKind::InternalServer,
            true,
        ),
        (
            403,
            "AccessDeniedException",
            ServiceErrorKind::AccessDenied,
            false,
        ),
        (
            404,
            "ResourceNotFoundException",
            ServiceErrorKind::ResourceNotFound,
            false,
        ),
        (
            424,
            "ModelErrorException",
            ServiceErrorKind::ModelError,
            false,
        ),
        (
            429,
            "ModelNotReadyException",
            ServiceErrorKind::ModelNotReady,
            true,
        ),
        (
            408,
            "ModelTimeoutException",
            ServiceErrorKind::ModelTimeout,
            true,
        ),
        (
            503,
            "ServiceUnavailableException",
            ServiceErrorKind::ServiceUnavailable,
            true,
        ),
        (
            400,
            "ServiceQuotaExceededException",
            ServiceErrorKind::ServiceQuotaExceeded,
            false,
        ),
        (
            403,
            "UnrecognizedClientException",
            ServiceErrorKind::Other,
            false,
        ),
        // The real service may suffix the error type with a namespace URL.
        (
            404,
            "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            ServiceErrorKind::ResourceNotFound,
            false,
        ),
    ];
    for (status, error_type, kind, retryable) in cases {
        for streaming in [false, true] {
            let msg = format!("message for {error_type}");
            server.push(Reply::error(status, error_type, &msg).request_id("err-req"));
            let err = if streaming {
                converser
                    .converse_with(&songs_request(), &mut NoopHandler)
                    .unwrap_err()
            } else {
                converser.converse(&songs_request()).unwrap_err()
            };
            let svc = err
                .as_service()
                .unwrap_or_else(|| panic!("{error_type}: {err:?}"));
            assert_eq!(svc.kind, kind, "{error_type}");
            assert_eq!(svc.message, msg);
            assert_eq!(svc.status, Some(status));
            assert_eq!(svc.request_id.as_deref(), Some("err-req"));
            assert_eq!(err.request_id(), Some("err-req"));
            assert_eq!(err.is_retryable(), retryable, "{error_type}");
            assert_eq!(err.is_throttling(), kind == ServiceErrorKind::Throttling);
            assert!(err.to_string().contains(&msg), "{err}");
        }
    }
}

#[test]
fn connection_refused_is_a_retryable_connect_error() {
    let (_reserved, port) = crate::support::refusing_port();
    let converser = Converser::builder()
        .region("us-east-1")
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials("AKID", "secret", None)
        .max_attempts(1)
        .build()
        .unwrap();
    let err = converser.converse(&songs_request()).unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(err.is_retryable());
}

#[test]
fn error_messages_never_print_a_debug_dump() {
    let server = MockServer::start().unwrap();
    let converser = server.converser_builder().max_attempts(1).build().unwrap();
    let replies = [
        // A truncated body, and JSON of the wrong shape: protocol errors.
        Reply::raw(
            200,
            "application/json",
            br#"{"output": {"message": {"role": "assistant", "content": [{"te"#.to_vec(),
        ),
        Reply::raw(200, "application/json", br#"{"output": 5}"#.to_vec()),
        // A service error.
        Reply::error(400, "ValidationException", "bad input"),
    ];
    for reply in replies {
        server.push(reply);
        let err = converser.converse(&request()).unwrap_err();
        let text = err.to_string();
        for dump in [" { ", "Unhandled(", "DeserializeError", "Some(", "kind:"] {
            assert!(!text.contains(dump), "{dump:?} in the message: {text}");
        }
        assert!(text.len() < 300, "too long: {text}");
    }
    server.push(Reply::raw(
        200,
        "application/json",
        br#"{"output": {"message": {"role": "assistant", "content": [{"te"#.to_vec(),
    ));
    let text = converser.converse(&request()).unwrap_err().to_string();
    assert!(text.contains("unexpected end"), "{text}");
    // Nothing listens on a bound, never-listening port: a connect error.
    let (_reserved, port) = crate::support::refusing_port();
    let nowhere = bedrock_converse::Converser::builder()
        .region("us-east-1")
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials("AKIDTEST", "secret", None)
        .max_attempts(1)
        .build()
        .unwrap();
    let text = nowhere.converse(&request()).unwrap_err().to_string();
    assert!(!text.contains(" { "), "{text}");
}

/// No credentials at all (the provider says so, as the default chain does
/// when nothing is configured): a configuration error, not retryable, and
/// nothing reaches the server.
#[test]
fn missing_credentials_are_a_config_error_not_a_transient_one() {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};

    #[derive(Debug)]
    struct Nothing;
    impl ProvideCredentials for Nothing {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
                "no credentials in the environment or profile",
            )))
        }
    }

    let server = MockServer::start().unwrap();
    let shared = aws_config::SdkConfig::builder()
        .region(aws_config::Region::new("us-west-2"))
        .endpoint_url(server.endpoint())
        .credentials_provider(SharedCredentialsProvider::new(Nothing))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let converser = bedrock_converse::Converser::builder()
        .sdk_config(shared)
        .build()
        .unwrap();
    for streamed in [false, true] {
        let err = if streamed {
            converser.converse_with(&request(), &mut NoopHandler)
        } else {
            converser.converse(&request())
        }
        .unwrap_err();
        assert!(
            matches!(err, bedrock_converse::Error::Config { .. }),
            "streamed={streamed}: {err:?}"
        );
        assert!(!err.is_retryable(), "{err}");
        assert!(err.to_string().contains("credentials"), "{err}");
    }
    assert_eq!(server.request_count(), 0, "nothing was sent unsigned");
}

#[test]
fn a_missing_region_is_a_config_error_not_a_panic() {
    let err = Converser::builder()
        .config(bedrock_converse::client::SdkClientConfig::builder().build())
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("region"), "{err}");
}

fn check_fault(fault: Fault, retryable: bool, expect: fn(&Error) -> bool) {
    let server = MockServer::start().unwrap();
    let converser = fast_retries(&server, 3);
    server.push(
        Reply::text("abcdefgh")
            .deltas(4)
            .request_id("fault-req")
            .fault(fault.clone()),
    );
    let mut watch = Watch::default();
    let started = Instant::now();
    let err = converser.converse_with(&request(), &mut watch).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{fault:?} hung"
    );
    assert!(expect(&err), "{fault:?}: unexpected {err:?}");
    assert_eq!(err.is_retryable(), retryable, "{fault:?}: {err:?}");
    let partial = err
        .partial_response()
        .unwrap_or_else(|| panic!("{fault:?}: no partial in {err:?}"));
    assert_eq!(partial.text(), watch.text, "{fault:?}");
    assert_eq!(partial.text(), "abcd", "{fault:?}");
    assert_eq!(partial.request_id.as_deref(), Some("fault-req"));
    assert_eq!(watch.stops, 0, "{fault:?}: on_stop must not be called");
    assert_eq!(server.request_count(), 1);
    // The converser is fully usable for the next call.
    let r = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap();
    assert_eq!(r.text(), "You said: hello");
}

#[test]
fn exception_frame_mid_stream() {
    check_fault(
        Fault::Exception {
            after: 3,
            exception_type: "modelStreamErrorException".into(),
            message: "boom".into(),
        },
        true,
        |e| e.service_kind() == Some(ServiceErrorKind::ModelStreamError),
    );
    check_fault(
        Fault::Exception {
            after: 3,
            exception_type: "validationException".into(),
            message: "bad".into(),
        },
        false,
        |e| e.service_kind() == Some(ServiceErrorKind::Validation),
    );
}

#[test]
fn dropped_connection_mid_stream() {
    check_fault(Fault::Drop { after: 3 }, true, |e| {
        matches!(e, Error::Transport { .. })
    });
}

#[test]
fn bad_crc_mid_stream() {
    check_fault(Fault::BadCrc { after: 3 }, true, |e| {
        matches!(e, Error::Transport { .. })
    });
}

#[test]
fn truncated_frame_mid_stream() {
    check_fault(Fault::Truncated { after: 3 }, true, |e| {
        matches!(e, Error::Transport { .. })
    });
}
