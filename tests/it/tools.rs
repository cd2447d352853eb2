//! Tools in a request: the tool configuration and choice as sent, tool
//! results going back as text, JSON or an error, and strict tools fitted to
//! the service's schema subset (or refused locally outside it).

use crate::support::weather::{bodies_both_ways, weather_request, weather_setup, weather_tool};
use crate::support::{field_of, sent_both_ways, setup, OMNI};
use bedrock_converse::model::{Role, Tool, ToolChoice, ToolConfig, ToolResult};
use bedrock_converse::types::{ContentBlock, ToolResultStatus};
use bedrock_converse::{ConverseRequest, Message};
use serde_json::json;
use std::ops::ControlFlow;

#[test]
fn tool_config_and_tool_choice_arrive_as_sent() {
    let (server, converser) = weather_setup();
    let config = ToolConfig::new()
        .tool(weather_tool())
        .tool(
            Tool::new(
                "now",
                "The time.",
                // closed, as the service (and the mock) require of a strict tool
                json!({"type": "object", "properties": {}, "additionalProperties": false}),
            )
            .strict(true),
        )
        .cache_point();
    let choices = [
        (None, None),
        (Some(ToolChoice::Auto), Some(json!({"auto": {}}))),
        (Some(ToolChoice::Any), Some(json!({"any": {}}))),
        (
            Some(ToolChoice::tool("get_weather")),
            Some(json!({"tool": {"name": "get_weather"}})),
        ),
    ];
    for (choice, wire) in choices {
        let mut c = config.clone();
        c.choice = choice;
        for body in bodies_both_ways(&server, &converser, &weather_request().tool_config(c)) {
            let tc = &body["toolConfig"];
            assert_eq!(
                tc["tools"],
                json!([
                    {"toolSpec": {
                        "name": "get_weather",
                        "description": "The current weather in a city.",
                        "inputSchema": {"json": {
                            "type": "object",
                            "properties": {"city": {"type": "string"}, "days": {"type": "integer", "maximum": 7}},
                            "required": ["city"]
                        }}
                    }},
                    {"toolSpec": {"name": "now", "description": "The time.", "inputSchema": {"json": {"type": "object", "properties": {}, "additionalProperties": false}}, "strict": true}},
                    {"cachePoint": {"type": "default"}}
                ])
            );
            assert_eq!(
                tc["tools"][0]["toolSpec"]["inputSchema"]["json"]["properties"]["days"]["maximum"]
                    .as_u64(),
                Some(7)
            );
            assert_eq!(tc.get("toolChoice"), wire.as_ref());
        }
    }
}

#[test]
fn tool_results_go_back_as_text_json_and_error() {
    let (server, converser) = weather_setup();
    let assistant = Message::new(
        Role::Assistant,
        vec![
            ContentBlock::Text("Checking both.".into()),
            ContentBlock::ToolUse(
                bedrock_converse::types::ToolUseBlock::builder()
                    .tool_use_id("t1")
                    .name("get_weather")
                    .input(aws_smithy_types::Document::Object(Default::default()))
                    .build()
                    .unwrap(),
            ),
        ],
    );
    let req = weather_request()
        .tool(weather_tool())
        .message(assistant)
        .message(Message::tool_results([
            ToolResult::text("t1", "Sunny, 24 C"),
            ToolResult::json("t2", json!({"temp": 24, "wind": [3, 4.5]})),
            ToolResult::error("t3", "no such city"),
            ToolResult::new("t4")
                .with_text("two parts")
                .with_json(json!({"n": 1}))
                .status(ToolResultStatus::Success),
        ]));
    for body in bodies_both_ways(&server, &converser, &req) {
        assert_eq!(
            body["messages"][2],
            json!({"role": "user", "content": [
                {"toolResult": {"toolUseId": "t1", "content": [{"text": "Sunny, 24 C"}]}},
                {"toolResult": {"toolUseId": "t2", "content": [{"json": {"temp": 24, "wind": [3, 4.5]}}]}},
                {"toolResult": {"toolUseId": "t3", "content": [{"text": "no such city"}], "status": "error"}},
                {"toolResult": {"toolUseId": "t4", "content": [{"text": "two parts"}, {"json": {"n": 1}}], "status": "success"}},
            ]})
        );
        assert_eq!(
            body["messages"][1]["content"][1]["toolUse"]["toolUseId"],
            "t1"
        );
    }
}

#[test]
fn strict_tools_are_sent_fitted_and_refused_locally_outside_the_subset() {
    let (server, converser) = setup();
    let schema = json!({"type": "object", "properties": {
        "city": {"type": "string"},
        "units": {"type": "object", "properties": {"c": {"type": "boolean"}}}}});
    let req = ConverseRequest::new(OMNI)
        .user("weather?")
        .tool(Tool::new("weather", "Weather in a city.", schema.clone()).strict(true))
        .tool(Tool::new("loose", "Not strict.", schema.clone()));
    for body in sent_both_ways(&server, &converser, &req) {
        let strict = &body["toolConfig"]["tools"][0]["toolSpec"];
        assert_eq!(strict["strict"], true);
        let sent_schema = &strict["inputSchema"]["json"];
        assert_eq!(sent_schema["additionalProperties"], false);
        assert_eq!(
            sent_schema["properties"]["units"]["additionalProperties"],
            false
        );
        // A tool that is not strict goes as written.
        assert_eq!(
            body["toolConfig"]["tools"][1]["toolSpec"]["inputSchema"]["json"],
            schema
        );
    }
    // A bound the grammar cannot hold is sent as a description.
    let bounded = json!({"type": "object", "properties": {"n": {"type": "integer", "maximum": 9}}});
    let req = ConverseRequest::new(OMNI)
        .user("pick")
        .tool(Tool::new("pick", "Picks.", bounded).strict(true));
    for body in sent_both_ways(&server, &converser, &req) {
        let sent_schema = &body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"];
        assert_eq!(
            sent_schema["properties"]["n"],
            json!({"type": "integer", "description": "Must be at most 9."})
        );
    }
    // What no description can stand for is refused locally.
    let bad = json!({"type": "object", "properties": {"n": {"type": "object",
        "additionalProperties": {"type": "integer"}}}});
    let req = ConverseRequest::new(OMNI)
        .user("pick")
        .tool(Tool::new("pick", "Picks.", bad.clone()).strict(true));
    assert_eq!(
        field_of(&req),
        "tool_config.tools[0].input_schema/properties/n/additionalProperties"
    );
    let before = server.requests().len();
    assert!(converser.converse(&req).is_err());
    assert_eq!(server.requests().len(), before);
    // The same schema on a tool that is not strict is the service's business.
    let loose = ConverseRequest::new(OMNI)
        .user("pick")
        .tool(Tool::new("pick", "Picks.", bad));
    assert!(loose.validate().is_ok());
}

#[cfg(feature = "schema")]
#[test]
fn a_tool_that_asks_for_its_input_checked_is_checked_on_every_call_path() {
    use bedrock_converse::stream::handler_fn;
    use bedrock_converse::{Error, StreamEvent};
    use bedrock_converse_mock::Reply;
    let (server, converser) = setup();
    let schema = json!({"type": "object", "required": ["stars"],
        "properties": {"stars": {"type": "integer", "maximum": 5}}});
    let tool = Tool::new("rate", "Rates a film.", schema).validate_input(true);
    let request = ConverseRequest::new(OMNI).user("Rate it.").tool(tool);
    let bad = || Reply::empty().tool_use("tu-1", "rate", json!({"stars": 9}));
    let check = |result: Result<bedrock_converse::Response, Error>, path: &str| match result {
        Err(Error::InvalidToolInput { name, reason, .. }) => {
            assert_eq!(name, "rate", "{path}");
            assert!(reason.contains("maximum"), "{path}: {reason}");
        }
        other => panic!("{path}: expected InvalidToolInput, got {other:?}"),
    };
    server.push(bad());
    check(converser.converse(&request), "converse");
    server.push(bad());
    let mut ignore = handler_fn(|_: &StreamEvent| ControlFlow::Continue(()));
    check(
        converser.converse_with(&request, &mut ignore),
        "converse_with",
    );
    server.push(bad());
    check(converser.spawn(&request).unwrap().wait(), "spawn");
    // An input within the schema passes on every path.
    let good = || Reply::empty().tool_use("tu-2", "rate", json!({"stars": 4}));
    server.push(good());
    assert!(converser.spawn(&request).unwrap().wait().is_ok());
    server.push(good());
    assert!(converser.converse(&request).is_ok());
}
