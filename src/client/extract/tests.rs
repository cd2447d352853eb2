//! The attempts of an extraction, with scripted replies in place of calls:
//! what is sent, when a reply is re-asked and how, and what ends it.

use std::cell::RefCell;

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, StopReason, ToolResultContentBlock, ToolResultStatus,
    ToolUseBlock,
};
use serde::Deserialize;
use serde_json::json;

use super::*;
use crate::model::{ToolEntry, Usage};
use crate::sdk::json::json_to_document;

#[derive(Debug, Deserialize, schemars::JsonSchema, PartialEq)]
struct City {
    name: String,
}

fn request() -> ConverseRequest {
    ConverseRequest::new("m").user("Name a city.")
}

fn text(text: &str, usage: Option<(u32, u32)>) -> Response {
    Response {
        message: Message::assistant(text),
        stop_reason: Some(StopReason::EndTurn),
        usage: usage.map(|(i, o)| Usage::new(i, o, i + o)),
        ..Response::default()
    }
}

fn tool_call(id: &str, name: &str, input: Value) -> Response {
    let block = ToolUseBlock::builder()
        .tool_use_id(id)
        .name(name)
        .input(json_to_document(&input))
        .build()
        .unwrap();
    Response {
        message: Message::new(
            ConversationRole::Assistant,
            vec![ContentBlock::ToolUse(block)],
        ),
        stop_reason: Some(StopReason::ToolUse),
        ..Response::default()
    }
}

/// Runs `extract` against `replies`, one a call; returns the outcome and
/// the requests sent.
fn script(
    extract: &Extract<'_>,
    replies: Vec<Result<Response, Error>>,
) -> (Result<Extracted<City>, Error>, Vec<ConverseRequest>) {
    let sent = RefCell::new(Vec::new());
    let mut replies = replies.into_iter();
    let outcome = run::<City>(extract, |request| {
        sent.borrow_mut().push(request.clone());
        replies.next().expect("no more replies scripted")
    });
    (outcome, sent.into_inner())
}

fn invalid_output(outcome: Result<Extracted<City>, Error>) -> (String, String, Response) {
    match outcome {
        Err(Error::InvalidOutput {
            raw,
            reason,
            response,
        }) => (raw, reason, *response),
        other => panic!("not InvalidOutput: {other:?}"),
    }
}

fn last_text(message: &Message) -> String {
    match message.content.last() {
        Some(ContentBlock::Text(t)) => t.clone(),
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn a_readable_reply_is_the_value_and_nothing_is_re_asked() {
    let request = request();
    let (outcome, sent) = script(
        &Extract::new(&request, ExtractOptions::new().retries(3)),
        vec![Ok(text(r#"{"name": "Oslo"}"#, Some((5, 2))))],
    );
    let extracted = outcome.unwrap();
    assert_eq!(
        extracted.value,
        City {
            name: "Oslo".into()
        }
    );
    assert_eq!(extracted.response.usage, Some(Usage::new(5, 2, 7)));
    assert_eq!(sent.len(), 1);
    // Native mode: the schema is the output format, the messages the caller's.
    let format = sent[0]
        .output_config
        .as_ref()
        .unwrap()
        .text_format
        .as_ref()
        .unwrap();
    assert_eq!(format.schema["type"], "object");
    assert_eq!(sent[0].messages, request.messages);
}

#[test]
fn a_reply_is_re_asked_as_many_times_as_allowed_and_no_more() {
    let request = request();
    for retries in [0u32, 1, 3] {
        let replies = (0..=retries)
            .map(|i| Ok(text(&format!("no {i}"), Some((1, 1)))))
            .collect();
        let (outcome, sent) = script(
            &Extract::new(&request, ExtractOptions::new().retries(retries)),
            replies,
        );
        assert_eq!(sent.len() as u32, retries + 1, "retries {retries}");
        let (raw, reason, response) = invalid_output(outcome);
        assert_eq!(raw, format!("no {retries}"));
        assert!(reason.starts_with("expected"), "{reason}");
        // The error carries the last reply, with the usage of every attempt.
        assert_eq!(response.text(), format!("no {retries}"));
        let n = retries + 1;
        assert_eq!(response.usage, Some(Usage::new(n, n, 2 * n)));
    }
    // Re-asked once, then read.
    let (outcome, sent) = script(
        &Extract::new(&request, ExtractOptions::new().retries(5)),
        vec![Ok(text("no", None)), Ok(text(r#"{"name": "Rome"}"#, None))],
    );
    assert_eq!(outcome.unwrap().value.name, "Rome");
    assert_eq!(sent.len(), 2);
}

#[test]
fn usage_is_summed_over_the_attempts_that_report_it() {
    let request = request();
    let cases = [
        ((Some((3, 4)), Some((10, 20))), Some(Usage::new(13, 24, 37))),
        ((None, Some((10, 20))), Some(Usage::new(10, 20, 30))),
        ((Some((3, 4)), None), Some(Usage::new(3, 4, 7))),
        ((None, None), None),
    ];
    for ((first, second), total) in cases {
        let (outcome, _) = script(
            &Extract::new(&request, ExtractOptions::new().retries(1)),
            vec![
                Ok(text("no", first)),
                Ok(text(r#"{"name": "Rome"}"#, second)),
            ],
        );
        assert_eq!(
            outcome.unwrap().response.usage,
            total,
            "{first:?} {second:?}"
        );
    }
}

#[test]
fn in_text_the_bad_reply_and_the_complaint_are_appended() {
    let request = request();
    let (_, sent) = script(
        &Extract::new(&request, ExtractOptions::new().retries(2)),
        vec![
            Ok(text("Sorry.", None)),
            Ok(text("", None)),
            Ok(text("{}", None)),
        ],
    );
    let second = &sent[1].messages;
    assert_eq!(second.len(), 3);
    assert_eq!(second[1], Message::assistant("Sorry."));
    let complaint = last_text(&second[2]);
    assert_eq!(second[2].role, ConversationRole::User);
    assert!(
        complaint.starts_with("That reply could not be used (expected")
            && complaint
                .ends_with("). Answer again, following the schema and its descriptions exactly."),
        "{complaint}"
    );
    // An empty reply is quoted as no reply; each re-ask builds on the last.
    let third = &sent[2].messages;
    assert_eq!(third.len(), 5);
    assert_eq!(third[..3], second[..]);
    assert_eq!(third[3], Message::assistant("(no reply)"));
}

#[test]
fn in_tool_mode_a_call_of_the_tool_is_answered_by_an_error_result() {
    let request = request();
    let extract = Extract::new(
        &request,
        ExtractOptions::new().mode(ExtractMode::Tool).retries(1),
    );
    let (outcome, sent) = script(
        &extract,
        vec![
            Ok(tool_call("t1", "respond", json!({"name": 7}))),
            Ok(tool_call("t2", "respond", json!({"name": "Lima"}))),
        ],
    );
    assert_eq!(outcome.unwrap().value.name, "Lima");
    // The tool is forced and named `respond`.
    let config = sent[0].tool_config.as_ref().unwrap();
    assert!(
        matches!(&config.entries[..], [ToolEntry::Tool(t)] if t.name == DEFAULT_TOOL_NAME && t.strict == Some(true))
    );
    assert_eq!(config.choice, Some(ToolChoice::Tool("respond".into())));
    let messages = &sent[1].messages;
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1].tool_uses()[0].id, "t1");
    let [ContentBlock::ToolResult(result)] = &messages[2].content[..] else {
        panic!("{:?}", messages[2]);
    };
    assert_eq!(result.tool_use_id, "t1");
    assert_eq!(result.status, Some(ToolResultStatus::Error));
    assert!(
        matches!(&result.content[..], [ToolResultContentBlock::Text(t)] if t.starts_with("That reply could not be used (")),
        "{result:?}"
    );
}

#[test]
fn in_tool_mode_no_call_of_the_tool_is_re_asked_in_text() {
    let request = request();
    let extract = Extract::new(
        &request,
        ExtractOptions::new()
            .mode(ExtractMode::Tool)
            .name("answer")
            .retries(3),
    );
    let (outcome, sent) = script(
        &extract,
        vec![
            // Another tool; the tool with an input that is not an object;
            // prose: none is an answer to quote a result to.
            Ok(tool_call("t1", "respond", json!({"name": "Oslo"}))),
            Ok(tool_call("t2", "answer", json!("Oslo"))),
            Ok(text("Oslo", None)),
            Ok(tool_call("t3", "answer", json!({"name": "Oslo"}))),
        ],
    );
    assert_eq!(outcome.unwrap().value.name, "Oslo");
    assert_eq!(sent.len(), 4);
    for (attempt, raw) in [(1, "(no reply)"), (2, "\"Oslo\""), (3, "Oslo")] {
        let messages = &sent[attempt].messages;
        assert_eq!(messages.len(), 1 + 2 * attempt, "attempt {attempt}");
        assert_eq!(
            messages[2 * attempt - 1],
            Message::assistant(raw),
            "attempt {attempt}"
        );
        let complaint = last_text(&messages[2 * attempt]);
        assert!(
            complaint.starts_with("That reply could not be used ("),
            "{complaint}"
        );
    }
    assert!(last_text(&sent[1].messages[2]).contains("the model did not call the `answer` tool"));
}

#[test]
fn the_service_s_malformed_verdict_and_a_cut_reply_are_named_in_the_reason() {
    let request = request();
    let mut malformed = text(r#"{"name": "Oslo"}"#, None);
    malformed.stop_reason = Some(StopReason::MalformedModelOutput);
    let (outcome, _) = script(&Extract::from(&request), vec![Ok(malformed)]);
    let (raw, reason, _) = invalid_output(outcome);
    assert_eq!(raw, r#"{"name": "Oslo"}"#);
    assert_eq!(
        reason,
        "the reply stopped with `malformed_model_output`: the service found the model's output malformed"
    );

    let mut cut = text(r#"{"name": "Os"#, None);
    cut.stop_reason = Some(StopReason::MaxTokens);
    let (outcome, _) = script(&Extract::from(&request), vec![Ok(cut)]);
    let (_, reason, _) = invalid_output(outcome);
    assert!(
        reason.starts_with("the reply stopped with `max_tokens`: EOF"),
        "{reason}"
    );

    for stop in [
        StopReason::EndTurn,
        StopReason::ToolUse,
        StopReason::StopSequence,
    ] {
        let mut reply = text("{", None);
        reply.stop_reason = Some(stop);
        let (outcome, _) = script(&Extract::from(&request), vec![Ok(reply)]);
        let (_, reason, _) = invalid_output(outcome);
        assert!(reason.starts_with("EOF"), "{reason}");
    }
}

#[test]
fn a_tool_input_that_is_not_json_is_re_asked_other_errors_end_at_once() {
    let request = request();
    let bad_input = || Error::InvalidToolInput {
        tool_use_id: "t1".into(),
        name: "respond".into(),
        input: "{\"name\": ".into(),
        reason: "EOF while parsing".into(),
        response: Box::new(text("", Some((2, 3)))),
    };
    let extract = Extract::new(
        &request,
        ExtractOptions::new().mode(ExtractMode::Tool).retries(1),
    );
    let (outcome, sent) = script(&extract, vec![Err(bad_input()), Err(bad_input())]);
    assert_eq!(sent.len(), 2);
    let (raw, reason, response) = invalid_output(outcome);
    assert_eq!(raw, "{\"name\": ");
    assert_eq!(reason, "the tool input is not JSON: EOF while parsing");
    assert_eq!(response.usage, Some(Usage::new(4, 6, 10)));
    assert_eq!(sent[1].messages[1], Message::assistant("{\"name\": "));

    let (outcome, sent) = script(
        &Extract::new(&request, ExtractOptions::new().retries(3)),
        vec![Err(Error::invalid("messages", "bad"))],
    );
    assert!(matches!(outcome, Err(Error::InvalidRequest { .. })));
    assert_eq!(sent.len(), 1);
}

#[test]
fn a_type_that_is_not_an_object_is_refused_naming_where_its_schema_goes() {
    let request = request();
    let run_list =
        |extract: &Extract<'_>| run::<Vec<String>>(extract, |_| panic!("nothing is sent"));
    let err = run_list(&Extract::from(&request)).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, reason }
            if field == "output_config.text_format.schema" && reason.starts_with("must describe a JSON object")),
        "{err}"
    );
    let err = run_list(&Extract::new(
        &request,
        ExtractOptions::new().mode(ExtractMode::Tool),
    ))
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, .. } if field == "tool_config.tools[0].input_schema"),
        "{err}"
    );
    let with_tools = request
        .clone()
        .tool(Tool::new("a", "A", json!({"type": "object"})));
    let err = run_list(&Extract::new(
        &with_tools,
        ExtractOptions::new().mode(ExtractMode::Tool),
    ))
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, .. } if field == "tool_config.tools[1].input_schema"),
        "{err}"
    );
}

#[test]
fn options_name_and_describe_the_format_or_the_tool() {
    let request = request();
    let options = ExtractOptions::new()
        .name("city")
        .description("A city.")
        .strict(false)
        .retries(2);
    assert_eq!(options.tool_name(), "city");
    assert_eq!(ExtractOptions::default().tool_name(), DEFAULT_TOOL_NAME);
    assert_eq!(ExtractOptions::default(), ExtractOptions::new());
    let reply = || Ok(text(r#"{"name": "Oslo"}"#, None));
    let (_, sent) = script(&Extract::new(&request, options.clone()), vec![reply()]);
    let format = sent[0]
        .output_config
        .as_ref()
        .unwrap()
        .text_format
        .as_ref()
        .unwrap();
    assert_eq!(
        (format.name.as_deref(), format.description.as_deref()),
        (Some("city"), Some("A city."))
    );
    let extract = Extract::new(&request, options.mode(ExtractMode::Tool));
    let (_, sent) = script(
        &extract,
        vec![Ok(tool_call("t", "city", json!({"name": "Oslo"})))],
    );
    let config = sent[0].tool_config.as_ref().unwrap();
    assert!(
        matches!(&config.entries[..], [ToolEntry::Tool(t)]
            if t.name == "city" && t.description.as_deref() == Some("A city.") && t.strict == Some(false)),
        "{config:?}"
    );
    assert_eq!(config.choice, Some(ToolChoice::Tool("city".into())));
}

#[test]
fn the_cost_is_every_attempt_s_at_the_model_that_answered_it() {
    // Nova Lite: $0.06 in, $0.24 out per million; Nova Pro: $0.80 and $3.20.
    let request = ConverseRequest::new("us.amazon.nova-lite-v1:0").user("Name a city.");
    let million = |input: bool| {
        let usage = if input {
            (1_000_000, 0)
        } else {
            (0, 1_000_000)
        };
        text("no", Some(usage))
    };
    let mut answer = text(r#"{"name": "Oslo"}"#, Some((0, 1_000_000)));
    let (outcome, _) = script(
        &Extract::new(&request, ExtractOptions::new().retries(2)),
        vec![Ok(million(true)), Ok(million(false)), Ok(answer.clone())],
    );
    let cost = outcome.unwrap().cost.unwrap().total();
    assert!((cost - (0.06 + 0.24 + 0.24)).abs() < 1e-9, "{cost}");

    answer.answered_by = Some(crate::model::AnsweredBy {
        target: 1,
        model_id: "amazon.nova-pro-v1:0".into(),
        region: None,
    });
    let (outcome, _) = script(
        &Extract::new(&request, ExtractOptions::new().retries(1)),
        vec![Ok(million(true)), Ok(answer.clone())],
    );
    let cost = outcome.unwrap().cost.unwrap().total();
    assert!((cost - (0.06 + 3.2)).abs() < 1e-9, "{cost}");

    // One attempt that cannot be priced (no usage) leaves the sum unknown.
    let (outcome, _) = script(
        &Extract::new(&request, ExtractOptions::new().retries(1)),
        vec![Ok(text("no", None)), Ok(answer)],
    );
    assert_eq!(outcome.unwrap().cost, None);
}

#[test]
fn each_option_sets_its_own_and_keeps_the_others() {
    let all = ExtractOptions::new()
        .mode(ExtractMode::Tool)
        .retries(4)
        .name("city")
        .description("A city.")
        .strict(false)
        .unsupported(Unsupported::Refuse);
    let expected = ExtractOptions {
        mode: ExtractMode::Tool,
        retries: 4,
        name: Some("city".into()),
        description: Some("A city.".into()),
        strict: false,
        unsupported: Unsupported::Refuse,
    };
    assert_eq!(all, expected);
    // In another order, the same, and an `Extract` keeps them whole.
    let other_order = ExtractOptions::new()
        .unsupported(Unsupported::Refuse)
        .strict(false)
        .description("A city.")
        .name("city")
        .retries(4)
        .mode(ExtractMode::Tool);
    let request = request();
    let extract = Extract::new(&request, other_order);
    assert_eq!(extract.options, expected);
    assert_eq!(extract.tool_name(), "city");
    assert_eq!(Extract::from(&request).options, ExtractOptions::new());
}
