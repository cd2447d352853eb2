//! Helpers shared by several test modules.

use bedrock_converse::error::TimeoutKind;
use bedrock_converse::{ConverseRequest, Converser, Error, Response};
use bedrock_converse_mock::{MockServer, Operation, Reply};
use serde_json::json;

/// Asserts that `err` is an [`Error::Timeout`] of the given kind.
#[track_caller]
pub fn assert_timeout(err: &Error, kind: TimeoutKind) {
    assert!(
        matches!(err, Error::Timeout { kind: k, .. } if *k == kind),
        "{err:?}"
    );
}

/// A one-turn "hello" request to amazon.nova-lite-v1:0.
pub fn request() -> ConverseRequest {
    ConverseRequest::new("amazon.nova-lite-v1:0").user("hello")
}

/// One reply of each shape: plain text, a max-tokens stop with usage,
/// two text blocks, extra model fields, a tool use, and reasoning.
pub fn scripts() -> Vec<Reply> {
    vec![
        Reply::text("The quick brown fox jumps over the lazy dog").deltas(9),
        Reply::text("cut").stop_reason("max_tokens").usage(3, 1),
        Reply::empty().with_text("a").with_text("b").deltas(2),
        Reply::text("fields").additional_model_response_fields(json!({"x": [1, 2]})),
        Reply::text("Checking.")
            .tool_use("tu-1", "weather", json!({"city": "Paris", "days": 3}))
            .deltas(4),
        Reply::empty()
            .reasoning("let me think", "sig-abc")
            .with_text("42")
            .deltas(3),
    ]
}

/// A loopback port that refuses connections for as long as the returned
/// socket lives: bound (so no other test's server can take the port) but
/// never listening. A port freed by dropping a listener could be reused by
/// another test running at the same time.
pub fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

/// A local server and a `Converser` on it.
pub fn setup() -> (MockServer, Converser) {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    (server, converser)
}

/// Serves `reply` to `converse` and to `converse_with`; asserts that both
/// operations were used and gave equal content and equal `Response`s;
/// returns the whole one.
pub fn both_ways(
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
    let ops: Vec<_> = server.requests().iter().map(|r| r.operation).collect();
    assert_eq!(
        ops[ops.len() - 2..],
        [Some(Operation::Converse), Some(Operation::ConverseStream)]
    );
    assert_eq!(streamed.content(), whole.content(), "content");
    assert_eq!(streamed, whole, "whole Response");
    whole
}
