use aws_sdk_bedrockruntime::types::{
    ReasoningContentBlock, ReasoningTextBlock, StopReason, ToolUseBlock,
};

use super::*;
use crate::model::{Metrics, Usage};
use crate::sdk::json::json_to_document;

fn input() -> Value {
    json!({
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [
                {"text": "What is in these?"},
                {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}},
                {"document": {"format": "txt", "name": "notes", "source": {"bytes": "aGVsbG8="}}},
            ]},
            {"role": "assistant", "content": [{"text": "A picture"}]},
            {"role": "user", "content": [{"text": "And?"}]},
        ],
        "inferenceConfig": {"maxTokens": 100, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]},
        "additionalModelRequestFields": {"top_k": 5},
    })
}

#[test]
fn model_input_becomes_a_request() {
    let r = request_from_model_input("m", &input()).unwrap();
    assert_eq!(r.model_id, "m");
    assert_eq!(r.system, vec![SystemContentBlock::Text("Be brief.".into())]);
    assert_eq!(r.messages.len(), 3);
    assert_eq!(r.messages[0].role, ConversationRole::User);
    assert_eq!(r.messages[1].role, ConversationRole::Assistant);
    let content = &r.messages[0].content;
    assert_eq!(content[0], ContentBlock::Text("What is in these?".into()));
    let ContentBlock::Image(image) = &content[1] else {
        panic!("{content:?}")
    };
    assert_eq!(image.format(), &ImageFormat::Png);
    let ContentBlock::Document(doc) = &content[2] else {
        panic!("{content:?}")
    };
    assert_eq!((doc.format(), doc.name()), (&DocumentFormat::Txt, "notes"));
    let config = r.inference_config.clone().unwrap();
    assert_eq!(config.max_tokens, Some(100));
    assert_eq!(config.temperature, Some(0.5));
    assert_eq!(config.top_p, Some(0.9));
    assert_eq!(config.stop_sequences, vec!["END".to_string()]);
    assert_eq!(r.additional_model_request_fields, Some(json!({"top_k": 5})));
    r.to_sdk().expect("valid");
}

#[test]
fn unsupported_or_malformed_input_is_a_400_naming_the_field() {
    let cases = [
        (json!({"toolConfig": {}}), "toolConfig"),
        (json!({"modelId": "x"}), "modelId"),
        (
            json!({"messages": [{"role": "user", "content": [{"video": {}}]}]}),
            "messages[0].content[0].video",
        ),
        (
            json!({"messages": [{"role": "system", "content": []}]}),
            "messages[0].role",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"image": {"format": "png", "source": {"s3Location": {}}}}]}]}),
            "source",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": "***"}}}]}]}),
            "base64",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"image": {"format": "bmp", "source": {"bytes": ""}}}]}]}),
            "format",
        ),
        (json!({"inferenceConfig": {"maxTokens": -1}}), "maxTokens"),
        (json!({"inferenceConfig": {"topK": 1}}), "topK"),
        (json!({"system": [{"guardContent": {}}]}), "system[0]"),
        (json!([1]), "object"),
    ];
    for (input, needle) in cases {
        let err = request_from_model_input("m", &input).unwrap_err();
        assert_eq!(err.code, 400, "{input}");
        assert!(err.message.contains(needle), "{input}: {err}");
    }
}

#[test]
fn input_lines_parse_and_round_trip() {
    let r = Record::new("a", input());
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
fn response_becomes_model_output() {
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
    let out = model_output(&response);
    assert_eq!(
        out,
        json!({
            "output": {"message": {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}},
                {"text": "Hello"},
                {"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Paris"}}},
            ]}},
            "stopReason": "tool_use",
            "usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7},
            "metrics": {"latencyMs": 12},
            "note": "1 content block(s) of other kinds were left out",
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
