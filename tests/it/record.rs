//! Recording raw exchanges (`ConverserBuilder::record_to`) and serving them
//! back (`mock::Replay`): the real SDK client against the local server.

use crate::support::TempFile;
use std::ops::ControlFlow;
use std::time::Duration;

use aws_smithy_eventstream::frame::read_message_from;
use aws_smithy_types::event_stream::HeaderValue;
use bedrock_converse::client::RetryConfig;
use bedrock_converse::error::ServiceErrorKind;
use bedrock_converse::model::Role;
use bedrock_converse::stream::{BlockStart, Metadata, Stop};
use bedrock_converse::{ConverseRequest, Converser, Delta, Error, Response, StreamHandler};
use bedrock_converse_mock::{Fault, MockServer, Replay, Reply};
use serde_json::{json, Value};

const MODEL: &str = "amazon.nova-lite-v1:0";
const PATH_CONVERSE: &str = "/model/amazon.nova-lite-v1%3A0/converse";
const PATH_STREAM: &str = "/model/amazon.nova-lite-v1%3A0/converse-stream";

/// Every callback with all its data, in order.
#[derive(Default, Debug, PartialEq)]
struct Calls {
    seen: Vec<String>,
    stop_after_deltas: Option<usize>,
    deltas: usize,
}

impl StreamHandler for Calls {
    fn on_message_start(&mut self, role: &Role) -> ControlFlow<()> {
        self.seen.push(format!("start {role:?}"));
        ControlFlow::Continue(())
    }
    fn on_block_start(&mut self, index: u32, start: &BlockStart) -> ControlFlow<()> {
        self.seen.push(format!("block_start {index} {start:?}"));
        ControlFlow::Continue(())
    }
    fn on_delta(&mut self, index: u32, delta: &Delta) -> ControlFlow<()> {
        self.seen.push(format!("delta {index} {delta:?}"));
        self.deltas += 1;
        match self.stop_after_deltas {
            Some(n) if self.deltas >= n => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    }
    fn on_block_stop(&mut self, index: u32) -> ControlFlow<()> {
        self.seen.push(format!("block_stop {index}"));
        ControlFlow::Continue(())
    }
    fn on_stop(&mut self, stop: &Stop) -> ControlFlow<()> {
        self.seen.push(format!("stop {stop:?}"));
        ControlFlow::Continue(())
    }
    fn on_metadata(&mut self, metadata: &Metadata) -> ControlFlow<()> {
        self.seen.push(format!("metadata {metadata:?}"));
        ControlFlow::Continue(())
    }
}

/// What one call produced, in a comparable form.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok(Response),
    Err {
        kind: Option<ServiceErrorKind>,
        text: String,
        partial: Option<Response>,
    },
}

fn outcome(r: Result<Response, Error>) -> Outcome {
    match r {
        Ok(r) => Outcome::Ok(r),
        Err(e) => Outcome::Err {
            kind: e.service_kind(),
            text: e.to_string(),
            partial: e.partial_response().cloned(),
        },
    }
}

fn request(text: &str) -> ConverseRequest {
    ConverseRequest::new(MODEL)
        .system("Be brief.")
        .user(text)
        .temperature(0.5)
}

/// The scripted conversation: whole replies, streams with text and tool use,
/// an HTTP error and a mid-stream exception.
fn push_script(server: &MockServer) {
    server.push(
        Reply::text("Hello there, friend")
            .usage(3, 4)
            .latency_ms(11)
            .request_id("r-1"),
    );
    server.push(
        Reply::empty()
            .with_text("Let me add.")
            .tool_use("t-1", "add", json!({"x": 20, "y": 22}))
            .deltas(3)
            .usage(9, 8)
            .request_id("r-2"),
    );
    server.push(Reply::error(400, "ValidationException", "bad input").request_id("r-3"));
    server.push(
        Reply::text("streamed words go here")
            .deltas(4)
            .request_id("r-4")
            .fault(Fault::Exception {
                after: 3,
                exception_type: "modelStreamErrorException".into(),
                message: "the model broke".into(),
            }),
    );
}

/// Runs the script's four calls; returns each outcome and the callbacks of
/// the two streamed ones.
fn run_script(converser: &Converser) -> (Vec<Outcome>, Vec<Calls>) {
    let mut outcomes = Vec::new();
    let mut calls = Vec::new();
    outcomes.push(outcome(converser.converse(&request("Say hello."))));
    let mut c = Calls::default();
    outcomes.push(outcome(
        converser.converse_with(&request("Add 20 and 22."), &mut c),
    ));
    calls.push(c);
    outcomes.push(outcome(converser.converse(&request("Invalid."))));
    let mut c = Calls::default();
    outcomes.push(outcome(
        converser.converse_with(&request("Stream, then fail."), &mut c),
    ));
    calls.push(c);
    (outcomes, calls)
}

#[test]
fn record_then_replay_gives_the_same_responses_and_callbacks() {
    let file = TempFile::new("round-trip");
    let server = MockServer::start().unwrap();
    push_script(&server);
    let converser = server
        .converser_builder()
        .max_attempts(1)
        .record_to(&file.0)
        .build()
        .unwrap();
    let (original, original_calls) = run_script(&converser);
    drop(converser);

    // The original run is what the script says, so the comparison below is
    // between two meaningful runs.
    let Outcome::Ok(first) = &original[0] else {
        panic!("{:?}", original[0])
    };
    assert_eq!(first.text(), "Hello there, friend");
    let Outcome::Ok(second) = &original[1] else {
        panic!("{:?}", original[1])
    };
    assert_eq!(second.content().len(), 2);
    assert!(original_calls[0]
        .seen
        .iter()
        .any(|c| c.starts_with("block_start 1 ToolUse")));
    assert!(matches!(
        &original[2],
        Outcome::Err { kind: Some(ServiceErrorKind::Validation), text, .. } if text.contains("bad input")
    ));
    assert!(matches!(
        &original[3],
        Outcome::Err { kind: Some(ServiceErrorKind::ModelStreamError), partial: Some(p), .. } if !p.text().is_empty()
    ));

    let replay = Replay::from_file(&file.0).unwrap();
    assert_eq!(replay.len(), 4);
    let replayer = MockServer::replay(replay).unwrap();
    let converser = replayer
        .converser_builder()
        .max_attempts(1)
        .build()
        .unwrap();
    let (replayed, replayed_calls) = run_script(&converser);

    assert_eq!(replayed, original, "same responses and errors");
    assert_eq!(replayed_calls, original_calls, "same callbacks, in order");
    assert_eq!(replayer.replay_remaining(), 0);
    // The replay checked each body against the recording; the recording
    // holds exactly what the SDK sent the first time.
    let sent: Vec<Value> = server.requests().into_iter().map(|r| r.body).collect();
    let resent: Vec<Value> = replayer.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(resent, sent);
}

/// Decodes an event stream with aws-smithy-eventstream: (event type, JSON payload).
fn frames(mut bytes: &[u8]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let message = read_message_from(&mut bytes).expect("a valid frame");
        let kind = message
            .headers()
            .iter()
            .find(|h| h.name().as_str() == ":event-type")
            .and_then(|h| match h.value() {
                HeaderValue::String(s) => Some(s.as_str().to_owned()),
                _ => None,
            })
            .unwrap_or_default();
        out.push((kind, serde_json::from_slice(message.payload()).unwrap()));
    }
    out
}

#[test]
fn the_file_holds_the_raw_exchange() {
    let file = TempFile::new("raw");
    let server = MockServer::start().unwrap();
    server.push(Reply::text("whole reply").usage(2, 2).request_id("w-1"));
    server.push(Reply::text("a streamed reply").deltas(3).request_id("s-1"));
    let converser = server
        .converser_builder()
        .record_to(&file.0)
        .build()
        .unwrap();
    // The file exists, empty, as soon as the converser is built.
    assert_eq!(file.json(), json!({"interactions": []}));

    converser.converse(&request("One.")).unwrap();
    converser
        .converse_with(&request("Two."), &mut Calls::default())
        .unwrap();
    drop(converser);

    let doc = file.json();
    let list = doc["interactions"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let sent = server.requests();

    let whole = &list[0];
    assert_eq!(whole["request"]["method"], "POST");
    assert_eq!(whole["request"]["path"], PATH_CONVERSE);
    assert_eq!(whole["request"]["body"], sent[0].body);
    assert_eq!(whole["response"]["status"], 200);
    assert_eq!(
        whole["response"]["headers"]["content-type"],
        "application/json"
    );
    assert_eq!(whole["response"]["headers"]["x-amzn-requestid"], "w-1");
    assert!(whole["response"].get("body_base64").is_none());
    let body: Value = serde_json::from_str(whole["response"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body["output"]["message"]["content"][0]["text"],
        "whole reply"
    );

    let stream = &list[1];
    assert_eq!(stream["request"]["path"], PATH_STREAM);
    assert_eq!(stream["request"]["body"], sent[1].body);
    assert_eq!(
        stream["response"]["headers"]["content-type"],
        "application/vnd.amazon.eventstream"
    );
    assert!(stream["response"].get("body").is_none());
    let bytes =
        aws_smithy_types::base64::decode(stream["response"]["body_base64"].as_str().unwrap())
            .unwrap();
    let events = frames(&bytes);
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
    let text: String = events
        .iter()
        .filter_map(|(_, p)| p["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "a streamed reply");
}

#[test]
fn recording_tees_the_stream_and_keeps_what_arrived_when_stopped() {
    let file = TempFile::new("stopped");
    let server = MockServer::start().unwrap();
    // messageStart and three deltas, then the server goes silent with the
    // response still open. Had the recorder buffered the body until its end,
    // no event would reach the handler and the call would end in an idle
    // timeout instead.
    server.push(
        Reply::text("one two three four five six")
            .deltas(6)
            .fault(Fault::Stall { after: 4 }),
    );
    let converser = server
        .converser_builder()
        .idle_timeout(Duration::from_secs(20))
        .record_to(&file.0)
        .build()
        .unwrap();
    let mut calls = Calls {
        stop_after_deltas: Some(3),
        ..Default::default()
    };
    let err = converser
        .converse_with(&request("Go."), &mut calls)
        .unwrap_err();
    let Error::Stopped { partial } = &err else {
        panic!("expected Stopped, got {err:?}")
    };
    assert_eq!(calls.deltas, 3);
    assert_eq!(partial.text(), "one two three");
    // Dropping the converser ends the cancelled call's connection; the
    // recording then holds the four frames that had arrived.
    drop(converser);
    let doc = file.json();
    let b64 = doc["interactions"][0]["response"]["body_base64"]
        .as_str()
        .unwrap();
    let events = frames(&aws_smithy_types::base64::decode(b64).unwrap());
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockDelta",
            "contentBlockDelta"
        ]
    );
}

/// Asserts that `text` contains none of `secrets` (case-insensitively).
fn assert_absent(text: &str, secrets: &[&str]) {
    let lower = text.to_ascii_lowercase();
    for s in secrets {
        assert!(!s.is_empty());
        assert!(
            !lower.contains(&s.to_ascii_lowercase()),
            "the recording contains {s:?}:\n{text}"
        );
    }
}

#[test]
fn recordings_never_hold_credentials_or_signatures() {
    const KEY_ID: &str = "AKIDRECORDINGTEST";
    const SECRET: &str = "SECRET-sk-9f8e7d6c5b4a";
    const TOKEN: &str = "SESSION-token-1a2b3c4d";
    let file = TempFile::new("secrets");
    let server = MockServer::start().unwrap();
    server.push(Reply::text("fine"));
    server.push(Reply::text("streamed").deltas(2));
    server.push(Reply::error(403, "AccessDeniedException", "no"));
    let converser = server
        .converser_builder()
        .credentials(KEY_ID, SECRET, Some(TOKEN.to_owned()))
        .max_attempts(1)
        .record_to(&file.0)
        .build()
        .unwrap();
    converser.converse(&request("a")).unwrap();
    converser
        .converse_with(&request("b"), &mut Calls::default())
        .unwrap();
    converser.converse(&request("c")).unwrap_err();
    drop(converser);

    // The requests really were signed with these credentials.
    let sent = server.requests();
    assert_eq!(sent.len(), 3);
    let mut signatures = Vec::new();
    for r in &sent {
        let auth = r.header("authorization").expect("signed");
        assert!(auth.contains(KEY_ID), "{auth}");
        assert_eq!(r.header("x-amz-security-token"), Some(TOKEN));
        let sig = auth.rsplit("Signature=").next().unwrap().to_owned();
        assert!(sig.len() >= 64, "{auth}");
        signatures.push(sig);
    }
    let text = std::fs::read_to_string(&file.0).unwrap();
    assert_eq!(file.json()["interactions"].as_array().unwrap().len(), 3);
    let mut secrets = vec![
        KEY_ID,
        SECRET,
        TOKEN,
        "authorization",
        "x-amz-security-token",
        "AWS4-HMAC-SHA256",
    ];
    secrets.extend(signatures.iter().map(String::as_str));
    assert_absent(&text, &secrets);
}

#[test]
fn recordings_never_hold_a_bearer_token() {
    const BEARER: &str = "BEARER-api-key-77e1d0";
    let file = TempFile::new("bearer");
    let server = MockServer::start().unwrap();
    server.push(Reply::text("fine"));
    let converser = server
        .converser_builder()
        .bearer_token(BEARER)
        .record_to(&file.0)
        .build()
        .unwrap();
    converser.converse(&request("a")).unwrap();
    drop(converser);
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Bearer {BEARER}").as_str())
    );
    let text = std::fs::read_to_string(&file.0).unwrap();
    assert_eq!(file.json()["interactions"].as_array().unwrap().len(), 1);
    assert_absent(&text, &[BEARER, "authorization", "bearer"]);
}

#[test]
fn retried_attempts_are_recorded_and_replayed_in_order() {
    let file = TempFile::new("retries");
    let server = MockServer::start().unwrap();
    server.push(Reply::throttling());
    server.push(Reply::text("after a retry").request_id("ok-1"));
    let retries = || {
        RetryConfig::standard()
            .with_max_attempts(2)
            .with_initial_backoff(Duration::from_millis(1))
    };
    let converser = server
        .converser_builder()
        .retry_config(retries())
        .record_to(&file.0)
        .build()
        .unwrap();
    let original = converser.converse(&request("Hi")).unwrap();
    drop(converser);
    assert_eq!(original.text(), "after a retry");
    let doc = file.json();
    let statuses: Vec<&Value> = doc["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["response"]["status"])
        .collect();
    assert_eq!(statuses, [&json!(429), &json!(200)]);

    let replayer = MockServer::replay(Replay::from_file(&file.0).unwrap()).unwrap();
    let converser = replayer
        .converser_builder()
        .retry_config(retries())
        .build()
        .unwrap();
    assert_eq!(converser.converse(&request("Hi")).unwrap(), original);
    assert_eq!(replayer.replay_remaining(), 0);
}

fn recording_of(request: &ConverseRequest, stream: bool) -> TempFile {
    let file = TempFile::new("one");
    let server = MockServer::start().unwrap();
    server.push(Reply::text("recorded answer").deltas(2));
    let converser = server
        .converser_builder()
        .record_to(&file.0)
        .build()
        .unwrap();
    if stream {
        converser
            .converse_with(request, &mut Calls::default())
            .unwrap();
    } else {
        converser.converse(request).unwrap();
    }
    file
}

fn mismatch(err: Error) -> String {
    let service = err.as_service().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(service.code, "ReplayMismatchException", "{err}");
    assert_eq!(service.status, Some(400));
    service.message.clone()
}

#[test]
fn replay_refuses_a_changed_request_with_a_readable_diff() {
    let file = recording_of(&request("Hi"), false);

    // The same request is served.
    let replayer = MockServer::replay(Replay::from_file(&file.0).unwrap()).unwrap();
    let converser = replayer
        .converser_builder()
        .max_attempts(1)
        .build()
        .unwrap();
    assert_eq!(
        converser.converse(&request("Hi")).unwrap().text(),
        "recorded answer"
    );

    // A changed body: every differing path, with both values.
    let replayer = MockServer::replay(Replay::from_file(&file.0).unwrap()).unwrap();
    let converser = replayer
        .converser_builder()
        .max_attempts(1)
        .build()
        .unwrap();
    let changed = request("Ho").temperature(0.25).max_tokens(9);
    let message = mismatch(converser.converse(&changed).unwrap_err());
    assert!(message.starts_with(&format!(
        "replay: interaction 1 of 1 (recorded POST {PATH_CONVERSE}): the request body differs from the recording at 3 path(s)"
    )), "{message}");
    for line in [
        r#"$.messages[0].content[0].text: expected "Hi", got "Ho""#,
        "$.inferenceConfig.temperature: expected 0.5, got 0.25",
        "$.inferenceConfig.maxTokens: expected (absent), got 9",
    ] {
        assert!(message.contains(line), "missing {line:?} in:\n{message}");
    }

    // The other operation: the path differs.
    let replayer = MockServer::replay(Replay::from_file(&file.0).unwrap()).unwrap();
    let converser = replayer
        .converser_builder()
        .max_attempts(1)
        .build()
        .unwrap();
    let message = mismatch(
        converser
            .converse_with(&request("Hi"), &mut Calls::default())
            .unwrap_err(),
    );
    assert!(
        message.ends_with(&format!("the request was POST {PATH_STREAM}")),
        "{message}"
    );

    // With the body check off, the changed request is served.
    let replay = Replay::from_file(&file.0)
        .unwrap()
        .check_request_body(false);
    let replayer = MockServer::replay(replay).unwrap();
    let converser = replayer
        .converser_builder()
        .max_attempts(1)
        .build()
        .unwrap();
    assert_eq!(
        converser.converse(&changed).unwrap().text(),
        "recorded answer"
    );

    // Past the end of the recording.
    let err = converser.converse(&changed).unwrap_err();
    assert_eq!(
        err.as_service().map(|s| s.code.as_str()),
        Some("ReplayExhaustedException"),
        "{err}"
    );
}

#[test]
fn a_replayed_stream_serves_the_recorded_bytes() {
    let file = recording_of(&request("Hi"), true);
    let recorded = file.json();
    let b64 = recorded["interactions"][0]["response"]["body_base64"]
        .as_str()
        .unwrap()
        .to_owned();
    let replayer = MockServer::replay(Replay::from_file(&file.0).unwrap()).unwrap();
    // Record the replay itself: the bytes that come back are the bytes of
    // the first recording, exactly.
    let again = TempFile::new("again");
    let converser = replayer
        .converser_builder()
        .record_to(&again.0)
        .build()
        .unwrap();
    let r = converser
        .converse_with(&request("Hi"), &mut Calls::default())
        .unwrap();
    assert_eq!(r.text(), "recorded answer");
    drop(converser);
    assert_eq!(
        again.json()["interactions"][0]["response"]["body_base64"],
        json!(b64)
    );
}

#[test]
fn an_unwritable_recording_path_fails_the_build() {
    let server = MockServer::start().unwrap();
    let missing_dir = std::env::temp_dir().join(format!(
        "bedrock-converse-missing-{}/sub/file.json",
        std::process::id()
    ));
    let err = server
        .converser_builder()
        .record_to(&missing_dir)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("recording file"), "{err}");
}
