//! A `Conversation` never builds a history the model refuses: the strict
//! local server (which answers as the service does) accepts every turn.

use bedrock_converse::model::{Tool, ToolResult};
use bedrock_converse::types::{ContentBlock, ToolResultContentBlock, ToolResultStatus};
use bedrock_converse::{Conversation, ConverseRequest, Message};
use bedrock_converse_mock::{MockServer, Reply};
use serde_json::json;

const CLAUDE: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA: &str = "amazon.nova-lite-v1:0";

fn roles(server: &MockServer) -> Vec<String> {
    let body = server.requests().pop().unwrap().body;
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn consecutive_turns_are_merged_for_a_model_that_needs_alternation_only() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let history = ConverseRequest::new(CLAUDE).user("first").user("second");
    let mut chat = Conversation::from_request(history);
    chat.send(&converser, "third").unwrap();
    assert_eq!(roles(&server), ["user"]);
    assert_eq!(chat.history()[0].text(), "firstsecondthird");
    assert_eq!(chat.history().len(), 2);
    // Nova takes two user turns (a recording shows it): kept as they are.
    let history = ConverseRequest::new(NOVA).user("first").user("second");
    let mut chat = Conversation::from_request(history);
    chat.send(&converser, "third").unwrap();
    assert_eq!(roles(&server), ["user", "user"]);
}

fn weather() -> Tool {
    Tool::new("weather", "The weather.", json!({"type": "object"}))
}

#[test]
fn an_error_result_always_has_text() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::empty().tool_use("tu-1", "weather", json!({})));
    server.push(Reply::text("Sorry."));
    let mut chat = Conversation::new(CLAUDE).tool(weather());
    let reply = chat
        .run_tools(&converser, "Weather?", |call| {
            ToolResult::new(&call.id).status(ToolResultStatus::Error)
        })
        .unwrap();
    assert_eq!(reply.text(), "Sorry.");
    let body = server.requests().pop().unwrap().body;
    let sent = &body["messages"][2]["content"][0];
    assert_eq!(sent["toolResult"]["status"], "error");
    assert!(
        sent["toolResult"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{sent}"
    );
    // The history holds the mended result.
    let ContentBlock::ToolResult(r) = &chat.history()[2].content[0] else {
        panic!()
    };
    assert!(matches!(&r.content[0], ToolResultContentBlock::Text(t) if !t.is_empty()));
}

#[test]
fn the_tool_configuration_stays_while_the_history_holds_tool_blocks() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::empty().tool_use("tu-1", "weather", json!({})));
    server.push(Reply::text("Sunny."));
    let mut chat = Conversation::new(NOVA).tool(weather());
    chat.run_tools(&converser, "Weather?", |call| call.text_result("sunny"))
        .unwrap();
    // The caller drops the tools; the history still holds tool blocks.
    chat.request_mut().tool_config = None;
    chat.send(&converser, "Thanks!").unwrap();
    let body = server.requests().pop().unwrap().body;
    assert_eq!(
        body["toolConfig"]["tools"][0]["toolSpec"]["name"],
        "weather"
    );
    // Once the history holds none, none is sent.
    chat.reset();
    chat.request_mut().tool_config = None;
    chat.send(&converser, "Hello").unwrap();
    assert!(server
        .requests()
        .last()
        .unwrap()
        .body
        .get("toolConfig")
        .is_none());
}

#[test]
fn a_reply_with_blank_text_is_stored_without_it() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text(" ").with_text("Blue."));
    let mut chat = Conversation::new(CLAUDE);
    let reply = chat.send(&converser, "Sky colour?").unwrap();
    assert_eq!(reply.content().len(), 2, "the reply itself is as it came");
    assert_eq!(chat.history()[1], Message::assistant("Blue."));
    chat.send(&converser, "And at night?").unwrap();
    assert_eq!(roles(&server), ["user", "assistant", "user"]);
}
