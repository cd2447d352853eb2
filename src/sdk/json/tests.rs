//! The codec over every content kind and field: JSON to typed to JSON is
//! the identity, and what it does not know is an error naming its path.

use serde_json::{json, Value};

use super::JsonError;
use crate::error::Error;
use crate::model::{ConverseRequest, Response};

/// The table of bodies (`tests/data/converse_bodies.json`, shared with the
/// integration tests that send them through the local server): request
/// bodies, one per subject, together covering every member of the service
/// model's `ConverseRequest`, and response bodies covering every member a
/// reply can carry.
const BODIES: &str = include_str!("../../../tests/data/converse_bodies.json");

fn bodies(kind: &str) -> Vec<(String, Value)> {
    let all: Value = serde_json::from_str(BODIES).expect("the table is JSON");
    all[kind]
        .as_array()
        .expect("a list")
        .iter()
        .map(|e| {
            (
                e["subject"].as_str().expect("a subject").to_owned(),
                e["body"].clone(),
            )
        })
        .collect()
}

fn request_bodies() -> Vec<(String, Value)> {
    bodies("requests")
}

fn response_bodies() -> Vec<(String, Value)> {
    bodies("responses")
}

#[test]
fn every_request_body_reads_and_writes_back_unchanged() {
    for (subject, body) in request_bodies() {
        let request = ConverseRequest::from_json("model", &body)
            .unwrap_or_else(|e| panic!("{subject}: not read: {e}"));
        let back = request
            .to_json()
            .unwrap_or_else(|e| panic!("{subject}: not written: {e}"));
        assert_eq!(back, body, "{subject}");
    }
}

#[test]
fn every_response_body_reads_and_writes_back_unchanged() {
    for (subject, body) in response_bodies() {
        let response =
            Response::from_json(&body).unwrap_or_else(|e| panic!("{subject}: not read: {e}"));
        let back = response
            .to_json()
            .unwrap_or_else(|e| panic!("{subject}: not written: {e}"));
        assert_eq!(back, body, "{subject}");
    }
}

#[test]
fn the_request_body_is_what_the_model_types_hold() {
    let (_, body) = request_bodies()
        .into_iter()
        .find(|(s, _)| s == "every setting")
        .expect("every setting");
    let r = ConverseRequest::from_json("m", &body).unwrap();
    let config = r.inference_config.as_ref().unwrap();
    assert_eq!(config.max_tokens, Some(512));
    assert_eq!(config.temperature, Some(0.7));
    assert_eq!(r.prompt_variables["genre"], "pop");
    assert_eq!(r.request_metadata["run"], "7");
    let format = r.output_config.unwrap().text_format.unwrap();
    assert_eq!(format.schema["required"], json!(["a"]));
    assert_eq!(format.name.as_deref(), Some("answer"));
}

fn request_error(body: Value) -> (String, String) {
    match ConverseRequest::from_json("m", &body) {
        Err(Error::InvalidRequest { field, reason }) => (field, reason),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn an_unknown_key_is_an_error_naming_its_path() {
    let cases = [
        (json!({"messages": [], "temprature": 1}), "temprature"),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a"}, {"toolUse": {"toolUseId": "t", "name": "n", "input": {}, "extra": 1}}]}]}),
            "messages[0].content[1].toolUse.extra",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"image": {"format": "png", "source": {"url": "x"}}}]}]}),
            "messages[0].content[0].image.source.url",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"hologram": {}}]}]}),
            "messages[0].content[0].hologram",
        ),
        (
            json!({"messages": [], "inferenceConfig": {"maxTokens": 1, "topK": 5}}),
            "inferenceConfig.topK",
        ),
        (
            json!({"messages": [], "toolConfig": {"tools": [], "toolChoice": {"none": {}}}}),
            "toolConfig.toolChoice.none",
        ),
        (
            json!({"messages": [], "guardrailConfig": {"guardrailIdentifier": "g", "guardrailVersion": "1", "streamProcessingMode": "sync"}}),
            "guardrailConfig.streamProcessingMode",
        ),
        (json!({"messages": [], "modelId": "m"}), "modelId"),
    ];
    for (body, path) in cases {
        let (field, reason) = request_error(body);
        assert_eq!((field.as_str(), reason.as_str()), (path, "unknown key"));
    }
}

#[test]
fn a_malformed_member_is_an_error_naming_its_path() {
    let cases = [
        (json!([]), "", "must be an object"),
        (json!({}), "messages", "is required"),
        (
            json!({"messages": [{"role": "user", "content": [{"text": 1}]}]}),
            "messages[0].content[0].text",
            "must be a string",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a", "image": {}}]}]}),
            "messages[0].content[0]",
            "must be an object with exactly one key",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": "%%"}}}]}]}),
            "messages[0].content[0].image.source.bytes",
            "is not base64",
        ),
        (
            json!({"messages": [], "inferenceConfig": {"maxTokens": -1}}),
            "inferenceConfig.maxTokens",
            "must not be negative",
        ),
        (
            json!({"messages": [], "outputConfig": {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": "{"}}}}}),
            "outputConfig.textFormat.structure.jsonSchema.schema",
            "is not JSON",
        ),
        (
            json!({"messages": [], "outputConfig": {"effort": "ultra"}}),
            "outputConfig.effort",
            "is \"ultra\": one of low, medium, high, xhigh or max",
        ),
        (
            json!({"messages": [], "outputConfig": {"effort": 3}}),
            "outputConfig.effort",
            "must be a string",
        ),
    ];
    for (body, path, reason) in cases {
        let (field, why) = request_error(body);
        assert_eq!(field, path);
        assert!(why.starts_with(reason), "{path}: {why}");
    }
}

#[test]
fn a_response_with_an_unknown_key_is_a_protocol_error_naming_it() {
    let body = json!({"output": {"message": {"role": "assistant", "content": [{"text": "x"}]}}, "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2, "bonusTokens": 1}});
    let err = Response::from_json(&body).unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { message, .. } if message.ends_with("usage.bonusTokens: unknown key")),
        "{err}"
    );
}

#[test]
fn writing_a_request_validates_it_first() {
    let err = ConverseRequest::new("m").to_json().unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { ref field, .. } if field == "messages"));
}

#[test]
fn a_system_turn_round_trips_and_takes_no_part_in_the_turn_order() {
    use crate::model::{Message, Role};
    use aws_sdk_bedrockruntime::types::{ContentBlock, ToolAdditionBlock, ToolReference};
    let add = ContentBlock::ToolAddition(
        ToolAdditionBlock::builder()
            .tool(ToolReference::builder().name("late").build())
            .build(),
    );
    let system = Message::new(
        Role::System,
        vec![ContentBlock::Text("Now terse.".into()), add],
    );
    let ok = ConverseRequest::new("m")
        .user("Hi")
        .assistant("Hello")
        .message(system.clone())
        .user("Go");
    assert!(ok.validate().is_ok());
    assert_eq!(
        ConverseRequest::from_json("m", &ok.to_json().unwrap()).unwrap(),
        ok
    );
    // Where a `system` turn may stand is not documented: the client leaves it
    // to the service (model::validate::rules), so one before the first user
    // turn is sent, while an assistant turn there is refused.
    let first = ConverseRequest::new("m").message(system).user("Go");
    assert!(first.validate().is_ok());
    let err = ConverseRequest::new("m")
        .assistant("Hello")
        .user("Go")
        .validate()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { ref field, .. } if field == "messages[0].role"));
}

#[test]
fn an_automated_reasoning_finding_is_an_error_naming_it_not_dropped() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": []}},
        "stopReason": "guardrail_intervened",
        "trace": {"guardrail": {"inputAssessment": {"g": {"automatedReasoningPolicy": {"findings": []}}}}}
    });
    let err = Response::from_json(&body).unwrap_err();
    assert!(
        err.to_string()
            .contains("trace.guardrail.inputAssessment.g.automatedReasoningPolicy: automated reasoning findings are not read"),
        "{err}"
    );
}

#[test]
fn only_the_two_malformed_stop_reasons_are_malformed() {
    for (subject, body) in response_bodies() {
        let response = Response::from_json(&body).unwrap();
        let wire = body["stopReason"].as_str().unwrap_or_default();
        assert_eq!(
            response.is_malformed(),
            wire.starts_with("malformed_"),
            "{subject}"
        );
    }
}

#[test]
fn an_error_under_a_parent_names_both() {
    let err = JsonError::new("", "no JSON form").under("messages[0].content[1]");
    assert_eq!(err.to_string(), "messages[0].content[1]: no JSON form");
    let err = JsonError::new("automatedReasoningPolicy", "x").under("trace.guardrail");
    assert_eq!(err.path, "trace.guardrail.automatedReasoningPolicy");
    assert_eq!(JsonError::new("", "bare").to_string(), "bare");
}

#[test]
fn every_effort_is_sent_as_its_wire_value_and_read_back() {
    use crate::model::Effort;
    for (effort, wire) in [
        (Effort::Low, "low"),
        (Effort::Medium, "medium"),
        (Effort::High, "high"),
        (Effort::XHigh, "xhigh"),
        (Effort::Max, "max"),
    ] {
        let request = ConverseRequest::new("m").user("Hi").effort(effort);
        let body = request.to_json().unwrap();
        assert_eq!(body["outputConfig"], json!({"effort": wire}));
        assert_eq!(ConverseRequest::from_json("m", &body).unwrap(), request);
    }
}
