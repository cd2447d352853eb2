//! `Converser::count_tokens`: the Converse input sent to CountTokens, the
//! count returned, bad requests refused locally, and a model that cannot
//! count tokens a typed, non-retryable error.

use crate::support::{haiku_request, setup};
use bedrock_converse::{ConverseRequest, Error};
use bedrock_converse_mock::{MockServer, Operation, Reply};
use serde_json::json;

#[test]
fn count_tokens_sends_the_converse_input_and_returns_the_count() {
    let (server, converser) = setup();
    let req = ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0")
        .system("Answer in one word.")
        .user("What colour is the sky on a clear day?")
        .max_tokens(50);
    let n = converser.count_tokens(&req).unwrap();
    // The mock counts words: 4 in the system prompt, 9 in the message.
    assert_eq!(n, 13);
    let recorded = server.requests().pop().unwrap();
    assert_eq!(recorded.operation, Some(Operation::CountTokens));
    assert_eq!(recorded.method, "POST");
    assert_eq!(
        recorded.path,
        "/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/count-tokens"
    );
    assert_eq!(
        recorded.model_id,
        "anthropic.claude-haiku-4-5-20251001-v1:0"
    );
    let converse = &recorded.body["input"]["converse"];
    assert_eq!(
        converse["messages"],
        json!([{"role": "user", "content": [{"text": "What colour is the sky on a clear day?"}]}])
    );
    assert_eq!(converse["system"], json!([{"text": "Answer in one word."}]));
    // Settings that do not change the input count are not sent.
    assert!(converse.get("inferenceConfig").is_none(), "{converse}");
    assert_eq!(recorded.body.as_object().unwrap().len(), 1);
    // A longer prompt counts more; no scripted reply was taken.
    server.push(Reply::text("still queued"));
    // (Claude needs the turns to alternate: one word of answer, seven of question.)
    let more = converser
        .count_tokens(
            &req.clone()
                .assistant("Blue.")
                .user("And at sunset, in a few words?"),
        )
        .unwrap();
    assert_eq!(more, n + 8);
    assert_eq!(
        converser.converse(&haiku_request()).unwrap().text(),
        "still queued"
    );
}

#[test]
fn count_tokens_refuses_bad_requests_locally_and_reports_service_errors() {
    let (server, converser) = setup();
    let before = server.requests().len();
    let err = converser
        .count_tokens(&ConverseRequest::new("m"))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert_eq!(server.requests().len(), before, "nothing was sent");
    // The server's own check: a body without `input.converse`.
    let client = reqwest_like_post(&server, "/model/m/count-tokens", r#"{"input": {}}"#);
    assert!(client.starts_with("400"), "{client}");
    assert!(client.contains("ValidationException"), "{client}");
}

#[test]
fn a_model_that_cannot_count_tokens_is_a_typed_non_retryable_error() {
    let (server, converser) = setup();
    let err = converser
        .count_tokens(&ConverseRequest::new("amazon.nova-lite-v1:0").user("How many?"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::CountTokensUnsupported { model_id, .. } if model_id == "amazon.nova-lite-v1:0"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(
        err.to_string().contains("does not support CountTokens"),
        "{err}"
    );
    let service = err.as_service().unwrap();
    assert_eq!(
        service.message,
        "The provided model doesn't support counting tokens."
    );
    assert!(err.request_id().is_some());
    // One request: the refusal is not retried.
    assert_eq!(server.requests().len(), 1);
}

/// A bare HTTP/1 POST to the mock, returning "STATUS BODY".
fn reqwest_like_post(server: &MockServer, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let addr = server.addr();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap_or("").to_owned();
    let header = out
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("x-amzn-errortype"))
        .unwrap_or("");
    format!(
        "{status} {header} {}",
        out.rsplit("\r\n\r\n").next().unwrap_or("")
    )
}
