use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ReasoningContentBlock, ReasoningTextBlock, StopReason,
    SystemContentBlock, ToolUseBlock,
};

use super::*;
use crate::batch::RecordResult;
use crate::model::{Message, Metrics, Response, Usage};
use crate::sdk::json::json_to_document;

/// The four bodies of the issue that the old hand parser refused: a cache
/// point after the system prompt, a tool round with `toolConfig`, an image
/// from S3, a guardrail with reasoning in the history.
fn once_refused() -> Vec<Value> {
    let user = |text: &str| json!({"role": "user", "content": [{"text": text}]});
    vec![
        json!({"system": [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}], "messages": [user("Hi")]}),
        json!({
            "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object"}}}}]},
            "messages": [
                user("Call f."),
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t", "name": "f", "input": {}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": [{"json": {"ok": 1}}]}}]}
            ]
        }),
        json!({"messages": [{"role": "user", "content": [
            {"text": "What is this?"},
            {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://bucket/cat.png"}}}}
        ]}]}),
        json!({
            "guardrailConfig": {"guardrailIdentifier": "gr", "guardrailVersion": "1", "trace": "enabled"},
            "messages": [
                user("Why?"),
                {"role": "assistant", "content": [{"reasoningContent": {"reasoningText": {"text": "t", "signature": "s"}}}, {"text": "So."}]},
                user("Sure?")
            ]
        }),
    ]
}

#[test]
fn any_converse_body_becomes_a_request_and_back_unchanged() {
    for input in once_refused() {
        let record = Record::new("r", input.clone());
        let request = record
            .request("m")
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(request.model_id, "m");
        assert_eq!(Record::from_request("r", &request).unwrap(), record);
    }
}

#[test]
fn the_request_holds_what_the_body_says() {
    let record = Record::new("r", once_refused().swap_remove(0));
    let r = record.request("m").unwrap();
    assert_eq!(r.system[0], SystemContentBlock::Text("Be brief.".into()));
    assert!(matches!(r.system[1], SystemContentBlock::CachePoint(_)));
    assert_eq!(r.messages, vec![Message::user("Hi")]);
}

#[test]
fn a_malformed_or_unknown_member_is_a_400_naming_its_path() {
    let cases = [
        (
            json!({"modelId": "x", "messages": []}),
            "modelInput must not contain modelId: the batch's model is used",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"video": {}}]}]}),
            "modelInput.messages[0].content[0].video.format: is required",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"image": {"format": "png", "source": {"s3Location": {}}}}]}]}),
            "modelInput.messages[0].content[0].image.source.s3Location.uri: is required",
        ),
        (
            json!({"messages": [], "inferenceConfig": {"topK": 1}}),
            "modelInput.inferenceConfig.topK: unknown key",
        ),
        (
            json!({"messages": [], "system": [{"guardContent": {}}]}),
            "modelInput.system[0].guardContent: must be an object with exactly one key",
        ),
        (json!([1]), "modelInput must be an object"),
    ];
    for (input, message) in cases {
        let err = Record::new("r", input.clone()).request("m").unwrap_err();
        assert_eq!(err.code, 400, "{input}");
        assert_eq!(err.message, message, "{input}");
    }
}

#[test]
fn a_request_that_does_not_validate_makes_no_record() {
    let err = Record::from_request("r", &ConverseRequest::new("m")).unwrap_err();
    assert_eq!(err.code, 400);
    assert!(err.message.contains("messages"), "{err}");
}

#[test]
fn input_lines_parse_and_round_trip() {
    let r = Record::new("a", once_refused().swap_remove(1));
    assert_eq!(Record::from_json_line(&r.to_json_line(), 1).unwrap(), r);
    let anonymous = Record::from_json_line(r#"{"modelInput": {}}"#, 7).unwrap();
    assert_eq!(anonymous.id, "RECORD00000000007");
    for bad in [
        "{",
        "[]",
        r#"{"recordId": 1, "modelInput": {}}"#,
        r#"{"recordId": "a"}"#,
    ] {
        assert!(Record::from_json_line(bad, 1).is_err(), "{bad}");
    }
}

#[test]
fn the_output_line_carries_every_block_of_the_reply() {
    let tool = ToolUseBlock::builder()
        .tool_use_id("t1")
        .name("weather")
        .input(json_to_document(&json!({"city": "Paris"})))
        .build()
        .unwrap();
    let reasoning = ReasoningTextBlock::builder()
        .text("hmm")
        .signature("sig")
        .build()
        .unwrap();
    let response = Response {
        message: Message::new(
            ConversationRole::Assistant,
            vec![
                ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(reasoning)),
                ContentBlock::Text("Hello".into()),
                ContentBlock::ToolUse(tool),
                ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(
                    aws_smithy_types::Blob::new(vec![1]),
                )),
            ],
        ),
        stop_reason: Some(StopReason::ToolUse),
        usage: Some(Usage::new(3, 4, 7)),
        metrics: Some(Metrics::new(12)),
        ..Response::default()
    };
    let result = RecordResult {
        id: "r1".into(),
        model_input: json!({"messages": []}),
        outcome: Ok(response),
        attempts: 1,
    };
    let line: Value = serde_json::from_str(&result.to_json_line()).unwrap();
    assert_eq!(
        line,
        json!({
            "recordId": "r1",
            "modelInput": {"messages": []},
            "modelOutput": {
                "output": {"message": {"role": "assistant", "content": [
                    {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}},
                    {"text": "Hello"},
                    {"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Paris"}}},
                    {"reasoningContent": {"redactedContent": "AQ=="}},
                ]}},
                "stopReason": "tool_use",
                "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7},
                "metrics": {"latencyMs": 12},
            }
        })
    );
}

#[test]
fn errors_carry_a_status() {
    let e = RecordError::from_error(&Error::invalid("x", "bad"));
    assert_eq!(e.code, 400);
    assert_eq!(e.to_json()["errorCode"], 400);
    let timeout = Error::Timeout {
        kind: crate::error::TimeoutKind::Deadline,
        partial: None,
    };
    assert_eq!(RecordError::from_error(&timeout).code, 0);
}

fn service_error(kind: ServiceErrorKind, status: Option<u16>) -> Error {
    Error::Service(Box::new(crate::error::ServiceError {
        kind,
        code: kind.code().into(),
        message: "no".into(),
        request_id: None,
        status,
        partial: None,
    }))
}

#[test]
fn a_service_error_without_a_status_gets_its_exception_s_usual_one() {
    use ServiceErrorKind as K;
    let usual = [
        (K::Validation, 400),
        (K::ServiceQuotaExceeded, 400),
        (K::AccessDenied, 403),
        (K::ResourceNotFound, 404),
        (K::ModelTimeout, 408),
        (K::ModelError, 424),
        (K::ModelStreamError, 424),
        (K::Throttling, 429),
        (K::ModelNotReady, 429),
        (K::InternalServer, 500),
        (K::ServiceUnavailable, 503),
        (K::Other, 0),
    ];
    for (kind, code) in usual {
        let error = service_error(kind, None);
        let record = RecordError::from_error(&error);
        assert_eq!(record.code, code, "{kind:?}");
        assert_eq!(record.message, error.to_string());
    }
    // The status the service sent wins over the usual one.
    assert_eq!(
        RecordError::from_error(&service_error(K::Throttling, Some(503))).code,
        503
    );
    assert_eq!(
        RecordError::from_error(&service_error(K::Other, Some(418))).code,
        418
    );
}

#[test]
fn an_error_shows_its_message_and_code_and_becomes_the_error_object() {
    let e = RecordError {
        code: 429,
        message: "slow down".into(),
    };
    assert_eq!(e.to_string(), "slow down (code 429)");
    assert_eq!(
        e.to_json(),
        json!({"errorCode": 429, "errorMessage": "slow down"})
    );
    let result = RecordResult {
        id: "r\"2".into(),
        model_input: json!({"messages": []}),
        outcome: Err(e),
        attempts: 3,
    };
    assert_eq!(
        result.to_json_line(),
        r#"{"recordId":"r\"2","modelInput":{"messages":[]},"error":{"errorCode":429,"errorMessage":"slow down"}}"#
    );
}
