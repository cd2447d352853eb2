//! Issue 13's remainder: stop-reason helpers, cache details, CountTokens,
//! the newer content kinds (audio, video, S3 sources, search results), and
//! every kind a reply can carry assembled identically from Converse and
//! ConverseStream.

use bedrock_converse::model::CacheDetails;
use bedrock_converse::{ConverseRequest, Converser, Error, Response};
use bedrock_converse_mock::{MockServer, Operation, Reply};
use serde_json::json;

fn setup() -> (MockServer, Converser) {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    (server, converser)
}

fn request() -> ConverseRequest {
    ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0").user("hello there")
}

/// Serves `reply` to `converse` and to `converse_with`, checks that both
/// give the same content (and the same whole `Response`), and returns the
/// whole one.
fn both(server: &MockServer, converser: &Converser, reply: Reply) -> Response {
    both_for(server, converser, reply, &request())
}

fn both_for(
    server: &MockServer,
    converser: &Converser,
    reply: Reply,
    req: &ConverseRequest,
) -> Response {
    server.push(reply.clone().request_id("same"));
    server.push(reply.request_id("same"));
    let whole = converser.converse(req).expect("whole reply");
    let streamed = converser
        .converse_with(req, &mut bedrock_converse::stream::NoopHandler)
        .expect("streamed reply");
    assert_eq!(streamed.content(), whole.content(), "content");
    assert_eq!(streamed, whole, "whole Response");
    let ops: Vec<_> = server
        .requests()
        .iter()
        .rev()
        .take(2)
        .map(|r| r.operation)
        .collect();
    assert_eq!(
        ops,
        [Some(Operation::ConverseStream), Some(Operation::Converse)]
    );
    whole
}

// ------------------------------------------------------------ stop reasons

#[test]
fn stop_reason_helpers_read_what_the_service_sent() {
    let (server, converser) = setup();
    // (reason, truncated, tool use, blocked)
    let cases = [
        ("end_turn", false, false, false),
        ("max_tokens", true, false, false),
        ("model_context_window_exceeded", true, false, false),
        ("tool_use", false, true, false),
        ("guardrail_intervened", false, false, true),
        ("content_filtered", false, false, true),
        ("stop_sequence", false, false, false),
        ("a_future_reason", false, false, false),
    ];
    for (reason, truncated, tool_use, blocked) in cases {
        let r = both(
            &server,
            &converser,
            Reply::text("cut off here").stop_reason(reason),
        );
        assert_eq!(r.stop_reason.as_ref().map(|s| s.as_str()), Some(reason));
        assert_eq!(r.is_truncated(), truncated, "{reason}");
        assert_eq!(r.stopped_for_tool_use(), tool_use, "{reason}");
        assert_eq!(r.is_blocked(), blocked, "{reason}");
    }
    let r = both(
        &server,
        &converser,
        Reply::text("checking").tool_use("t1", "weather", json!({"city": "Oslo"})),
    );
    assert!(r.stopped_for_tool_use());
    assert_eq!(r.tool_uses()[0].name, "weather");
}

// ------------------------------------------------------------ cache details

#[test]
fn cache_details_arrive_from_converse_and_converse_stream() {
    let (server, converser) = setup();
    let reply = Reply::text("cached")
        .usage(12, 1)
        .cache_tokens(512, 2148)
        .cache_details(&[("1h", 2048), ("5m", 100)]);
    for streamed in [false, true] {
        server.push(reply.clone());
        let r = if streamed {
            converser.converse_with(&request(), &mut bedrock_converse::stream::NoopHandler)
        } else {
            converser.converse(&request())
        }
        .unwrap();
        let usage = r.usage.unwrap();
        assert_eq!(usage.cache_read_input_tokens, Some(512));
        assert_eq!(usage.cache_write_input_tokens, Some(2148));
        let details = usage.cache_details.expect("cache details");
        assert_eq!(
            details,
            CacheDetails::new(100, 2048),
            "streamed: {streamed}"
        );
        assert_eq!(details.total(), 2148);
    }
    // An unknown TTL is counted, not dropped; none sent is `None`.
    let r = both(
        &server,
        &converser,
        Reply::text("x").cache_details(&[("1d", 7), ("5m", 3)]),
    );
    let d = r.usage.unwrap().cache_details.unwrap();
    assert_eq!((d.five_minutes, d.one_hour, d.other), (3, 0, 7));
    let r = both(&server, &converser, Reply::text("x"));
    assert_eq!(r.usage.unwrap().cache_details, None);
}

#[test]
fn cache_details_add_up_over_calls() {
    let mut a = bedrock_converse::model::Usage::new(10, 2, 12);
    a.cache_details = Some(CacheDetails::new(1, 2));
    let b = bedrock_converse::model::Usage::new(1, 1, 2);
    assert_eq!((a + b).cache_details, Some(CacheDetails::new(1, 2)));
    assert_eq!((a + a).cache_details, Some(CacheDetails::new(2, 4)));
    assert_eq!((b + b).cache_details, None);
}

// ------------------------------------------------------------ count tokens

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
    let more = converser
        .count_tokens(&req.clone().user("And at sunset, in a few words?"))
        .unwrap();
    assert_eq!(more, n + 7);
    assert_eq!(
        converser.converse(&request()).unwrap().text(),
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
