use super::*;
use crate::model::{ConverseRequest, Message, Role, Tool, ToolConfig, ToolResult};
use crate::types::{ContentBlock, ToolResultStatus, ToolUseBlock};
use crate::Error;
use aws_smithy_types::Document;
use serde_json::json;

const CLAUDE: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA: &str = "amazon.nova-lite-v1:0";

/// The client's refusal of a request: its field and reason.
fn refused(r: &ConverseRequest) -> (String, String) {
    match r.validate() {
        Err(Error::InvalidRequest { field, reason }) => (field, reason),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

/// An assistant turn calling the tool `t`.
fn tool_call() -> Message {
    let block = ToolUseBlock::builder()
        .tool_use_id("t1")
        .name("t")
        .input(Document::Object(Default::default()))
        .build()
        .unwrap();
    Message::new(Role::Assistant, vec![ContentBlock::ToolUse(block)])
}

fn tools() -> ToolConfig {
    ToolConfig::new().tool(Tool::new("t", "T.", json!({"type": "object"})))
}

#[test]
fn every_rule_has_one_row_with_the_services_answer() {
    for rule in RULES.iter().map(|r| r.rule) {
        assert_eq!(
            RULES.iter().filter(|r| r.rule == rule).count(),
            1,
            "{rule:?}"
        );
        let info = rule.info();
        assert_eq!(info.rule, rule);
        assert!(matches!(info.status, 400 | 404));
        assert!(!info.message.is_empty() && !info.source.is_empty());
    }
    assert_eq!(Rule::EndOfLife.info().error_type, NOT_FOUND);
    assert_eq!(Rule::Alternation.info().error_type, VALIDATION);
}

#[test]
fn the_client_refuses_each_structural_rule_naming_the_field_and_quoting_the_service() {
    let ok = ConverseRequest::new(NOVA).user("hi");
    assert!(ok.validate().is_ok());
    let cases: Vec<(ConverseRequest, &str, &str)> = vec![
        (ConverseRequest::new(NOVA), "messages", "at 'messages' failed"),
        (
            ConverseRequest::new(NOVA).assistant("hi"),
            "messages[0].role",
            "A conversation must start with a user message.",
        ),
        (
            ConverseRequest::new(NOVA).message(Message::new(Role::User, vec![])),
            "messages[0].content",
            "at 'messages.1.member.content'",
        ),
        (
            ConverseRequest::new(NOVA).user("a").assistant(""),
            "messages[1].content[0].text",
            "The text field in the ContentBlock object at messages.1.content.0 is blank.",
        ),
        (
            ConverseRequest::new(NOVA).user(" \n\t"),
            "messages[0].content[0].text",
            "at messages.0.content.0 is blank",
        ),
        (
            ConverseRequest::new(CLAUDE).user("  "),
            "messages[0].content[0].text",
            "text content blocks must contain non-whitespace text",
        ),
        (ok.clone().system(""), "system[0]", "at 'system.1.member.text'"),
        (
            ConverseRequest::new(NOVA)
                .user("hi")
                .message(tool_call()),
            "tool_config",
            "The toolConfig field must be defined when using toolUse and toolResult content blocks.",
        ),
        (
            ConverseRequest::new(NOVA)
                .user("hi")
                .message(tool_call())
                .message(Message::tool_results(vec![ToolResult::new("t1").status(ToolResultStatus::Error)]))
                .tool_config(tools()),
            "messages[2].content[0].tool_result.content",
            "The content field at messages.2.content.0.toolResult cannot be empty when status value is error.",
        ),
        (
            ok.clone().temperature(5.0),
            "temperature",
            "Value '5.0' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than or equal to 1",
        ),
        (
            ok.clone().temperature(-0.5),
            "temperature",
            "Value '-0.5' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value greater than or equal to 0",
        ),
        (ok.clone().top_p(1.01), "top_p", "Value '1.01' at 'inferenceConfig.topP'"),
        (
            ok.clone().max_tokens(0),
            "max_tokens",
            "Value '0' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ),
    ];
    for (request, field, quote) in cases {
        let (f, reason) = refused(&request);
        assert_eq!(f, field, "{reason}");
        assert!(reason.contains(quote), "{field}: {reason}");
        assert!(reason.contains("Bedrock answers: \""), "{reason}");
    }
}

#[test]
fn alternation_is_refused_only_for_the_families_that_enforce_it() {
    let two_users = |model: &str| ConverseRequest::new(model).user("a").user("b");
    let (field, reason) = refused(&two_users(CLAUDE));
    assert_eq!(field, "messages[1].role");
    assert!(reason.contains("A conversation must alternate between user and assistant roles."));
    // Nova answers two user turns (a recording shows it); an unknown family
    // is left to the service.
    assert!(two_users(NOVA).validate().is_ok());
    assert!(two_users("example.unknown-v1:0").validate().is_ok());
    assert!(
        refused(
            &ConverseRequest::new(CLAUDE)
                .user("a")
                .assistant("b")
                .assistant("c")
        )
        .0 == "messages[2].role"
    );
    assert!(ConverseRequest::new(CLAUDE)
        .user("a")
        .assistant("b")
        .user("c")
        .validate()
        .is_ok());
}

#[test]
fn system_role_messages_take_no_part_in_the_order() {
    let mut shape = Shape::new(CLAUDE);
    shape.turns = vec![
        Turn::new("system", vec![Block::Text("Be brief.")]),
        Turn::new("user", vec![Block::Text("hi")]),
        Turn::new("system", vec![Block::Text("Now in French.")]),
        Turn::new("assistant", vec![Block::Text("Salut")]),
    ];
    assert_eq!(check(&shape, &Catalogue::bundled(), Call::Client), Ok(()));
}

/// A one-turn request for a model, as the server sees it.
fn served(model: &str, call: Call, tool_config: bool) -> Result<(), Refusal> {
    let mut shape = Shape::new(model);
    shape.turns.push(Turn::new("user", vec![Block::Text("hi")]));
    shape.tool_config = tool_config;
    check(&shape, &Catalogue::bundled(), call)
}

#[test]
fn the_server_side_refuses_model_ids_as_the_recordings_show() {
    let refusal = served("example.unknown-v1:0", Call::Converse, false).unwrap_err();
    assert_eq!((refusal.rule, refusal.status), (Rule::UnknownModel, 400));
    assert_eq!(refusal.message, "The provided model identifier is invalid.");
    // The client never refuses a model it does not know.
    assert_eq!(served("example.unknown-v1:0", Call::Client, false), Ok(()));
    // ARNs of resources the catalogue cannot know pass.
    let arn = "arn:aws:bedrock:us-east-1:123456789012:custom-model/x";
    assert_eq!(served(arn, Call::Converse, false), Ok(()));
    let refusal = served(
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        Call::Converse,
        false,
    )
    .unwrap_err();
    assert_eq!((refusal.status, refusal.error_type), (404, NOT_FOUND));
    let refusal = served("deepseek.r1-v1:0", Call::Converse, false).unwrap_err();
    assert_eq!(
        refusal.message,
        "Invocation of model ID deepseek.r1-v1:0 with on-demand throughput isn\u{2019}t supported. \
         Retry your request with the ID or ARN of an inference profile that contains this model."
    );
    assert_eq!(served("us.deepseek.r1-v1:0", Call::Converse, false), Ok(()));
}

#[test]
fn the_server_side_refuses_streaming_a_model_cannot_do() {
    let maverick = "us.meta.llama4-maverick-17b-instruct-v1:0";
    assert_eq!(served(maverick, Call::ConverseStream, false), Ok(()));
    assert_eq!(served(maverick, Call::Converse, true), Ok(()));
    let refusal = served(maverick, Call::ConverseStream, true).unwrap_err();
    assert_eq!(
        refusal.message,
        "This model doesn't support tool use in streaming mode."
    );
    let refusal = served("openai.gpt-oss-120b-1:0", Call::ConverseStream, false).unwrap_err();
    assert_eq!(refusal.message, "The model is unsupported for streaming.");
    assert_eq!(
        served("openai.gpt-oss-120b-1:0", Call::Converse, true),
        Ok(())
    );
    assert_eq!(served(NOVA, Call::ConverseStream, true), Ok(()));
}

#[test]
fn inference_settings_are_refused_just_outside_their_ranges() {
    let ok = ConverseRequest::new(NOVA).user("hi");
    for r in [
        ok.clone().temperature(0.0).top_p(0.0).max_tokens(1),
        ok.clone().temperature(1.0).top_p(1.0).max_tokens(u32::MAX),
    ] {
        assert!(r.validate().is_ok(), "{r:?}");
    }
    // The value is quoted as the service prints it: whole numbers with `.0`.
    for (r, field, quote) in [
        (
            ok.clone().top_p(-0.01),
            "top_p",
            "Value '-0.01' at 'inferenceConfig.topP'",
        ),
        (
            ok.clone().top_p(2.0),
            "top_p",
            "Value '2.0' at 'inferenceConfig.topP'",
        ),
    ] {
        let (f, reason) = refused(&r);
        assert_eq!(f, field);
        assert!(reason.contains(quote), "{reason}");
    }
}
