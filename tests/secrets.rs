//! Credentials never appear in `Debug` output or in logs, even at trace level
//! (the SDK's own tracing is forwarded to `log` for this test).

use std::sync::{Mutex, OnceLock};

use bedrock_converse::stream::NoopHandler;
use bedrock_converse::ConverseRequest;
use bedrock_converse_mock::{MockServer, Reply};

const ACCESS_KEY: &str = "AKIDSECRETSTEST";
const SECRET_KEY: &str = "wJalrXUtnFEMI-super-secret-key-value";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEDEaDSESSIONTOKENVALUE";
const BEARER: &str = "ABSKbedrock-api-key-value-0123456789";

static LOGS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!("{} {} {}", record.level(), record.target(), record.args());
        LOGS.get_or_init(Default::default)
            .lock()
            .unwrap()
            .push(line);
    }
    fn flush(&self) {}
}

#[test]
fn credentials_are_never_logged_or_debug_printed() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    let server = MockServer::start().unwrap();
    server.push(Reply::text("streamed").deltas(3));
    server.push(Reply::text("whole"));
    server.push(Reply::throttling());
    let builder = server
        .converser_builder()
        .credentials(ACCESS_KEY, SECRET_KEY, Some(SESSION_TOKEN.to_string()))
        .max_attempts(1);
    let builder_debug = format!("{builder:?}");
    let converser = builder.build().unwrap();
    let request = ConverseRequest::new("amazon.nova-lite-v1:0").user("hello");
    converser.converse_with(&request, &mut NoopHandler).unwrap();
    converser.converse(&request).unwrap();
    let err = converser.converse(&request).unwrap_err();
    let converser_debug = format!("{converser:?}");
    let error_debug = format!("{err:?} {err}");

    // The session token really was sent (so the test can see it if leaked).
    let sent = server.requests();
    assert_eq!(sent[0].header("x-amz-security-token"), Some(SESSION_TOKEN));
    let auth = sent[0].header("authorization").unwrap().to_string();
    let signature = auth.rsplit("Signature=").next().unwrap().to_string();

    let bearer_builder = server.converser_builder().bearer_token(BEARER);
    let bearer_debug = format!("{bearer_builder:?}");
    let bearer = bearer_builder.build().unwrap();
    server.push(Reply::text("bearer"));
    bearer.converse(&request).unwrap();
    assert_eq!(
        server.requests().last().unwrap().header("authorization"),
        Some(format!("Bearer {BEARER}").as_str())
    );

    let logs = LOGS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .join("\n");
    assert!(
        logs.lines().count() > 20,
        "trace logging captured too little to prove anything:\n{logs}"
    );
    for (what, text) in [
        ("logs", &logs),
        ("builder Debug", &builder_debug),
        ("converser Debug", &converser_debug),
        ("error", &error_debug),
        ("bearer builder Debug", &bearer_debug),
    ] {
        for secret in [SECRET_KEY, SESSION_TOKEN, BEARER, signature.as_str()] {
            assert!(!text.contains(secret), "{what} leaks {secret:?}");
        }
    }
}
