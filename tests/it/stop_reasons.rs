//! The stop reasons `malformed_model_output` and `malformed_tool_use`, from
//! the local server: read as such (not as unknown reasons), reported by
//! `Response::is_malformed`, and invalid output for `extract` even when the
//! text happens to parse.

use bedrock_converse::types::StopReason;
use bedrock_converse::{ConverseRequest, Error};
use bedrock_converse_mock::{MockServer, Reply};
use serde::Deserialize;
use std::ops::ControlFlow;

const MODEL: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Answer {
    city: String,
}

#[test]
fn a_malformed_stop_is_read_and_reported_on_both_operations() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let request = ConverseRequest::new(MODEL).user("Where?");
    for (wire, reason) in [
        ("malformed_model_output", StopReason::MalformedModelOutput),
        ("malformed_tool_use", StopReason::MalformedToolUse),
    ] {
        server.push(Reply::text("x").stop_reason(wire));
        let whole = converser.converse(&request).unwrap();
        server.push(Reply::text("x").stop_reason(wire));
        let streamed = converser
            .converse_with(
                &request,
                &mut bedrock_converse::stream::handler_fn(|_| ControlFlow::Continue(())),
            )
            .unwrap();
        for r in [whole, streamed] {
            assert_eq!(r.stop_reason.as_ref(), Some(&reason));
            assert!(r.is_malformed() && !r.is_truncated() && !r.is_blocked());
        }
    }
    server.push(Reply::text("x").stop_reason("end_turn"));
    assert!(!converser.converse(&request).unwrap().is_malformed());
}

#[test]
fn extract_refuses_a_reply_the_service_calls_malformed() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let request = ConverseRequest::new(MODEL).user("Where?");
    for wire in ["malformed_model_output", "malformed_tool_use"] {
        // Text that parses: the stop reason alone makes it invalid.
        server.push(Reply::text(r#"{"city": "Paris"}"#).stop_reason(wire));
        let err = converser.extract::<Answer>(&request).unwrap_err();
        let Error::InvalidOutput { raw, reason, .. } = err else {
            panic!("expected InvalidOutput, got {err:?}")
        };
        assert_eq!(raw, r#"{"city": "Paris"}"#);
        assert!(
            reason.contains(wire) && reason.contains("malformed"),
            "{reason}"
        );
    }
    server.push(Reply::text(r#"{"city": "Paris"}"#).stop_reason("end_turn"));
    assert_eq!(
        converser.extract::<Answer>(&request).unwrap().value.city,
        "Paris"
    );
}
