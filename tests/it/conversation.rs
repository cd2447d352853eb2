//! `Conversation`: the history and settings sent each turn, a failed turn
//! rolled back (or kept, then retried or extended), a cancelled turn leaving
//! the conversation usable, and `run_tools` looping until the model stops
//! asking or the rounds run out.

use crate::support::weather::{
    last_body, texts, turns, weather, weather_setup, weather_tool, Ev, Rec, WEATHER_MODEL,
};
use crate::support::MAX_IMAGE_BYTES;
use bedrock_converse::conversation::OnFailure;
use bedrock_converse::model::{Image, StopReason};
use bedrock_converse::stream::{handler_fn, BlockStart, NoopHandler};
use bedrock_converse::types::{ContentBlock, ImageFormat, ToolResultStatus};
use bedrock_converse::{CancelToken, Conversation, Error, Message, StreamEvent};
use bedrock_converse_mock::{Fault, MockServer, Reply};
use serde_json::json;

#[test]
fn a_conversation_sends_its_history_and_settings_each_turn() {
    let (server, converser) = weather_setup();
    let mut chat = Conversation::new(WEATHER_MODEL)
        .system("Be brief.")
        .max_tokens(200)
        .temperature(0.2);
    let r1 = chat.send(&converser, "Hello").unwrap();
    assert_eq!(r1.text(), "You said: Hello");
    let mut rec = Rec::default();
    let r2 = chat
        .send_with(&converser, "How are you?", &mut rec)
        .unwrap();
    assert_eq!(r2.text(), "You said: How are you?");
    // The default local reply streams word by word.
    assert_eq!(rec.deltas(0).len(), 5);
    assert_eq!(chat.history().len(), 4);
    assert_eq!(
        chat.history()[3],
        Message::assistant("You said: How are you?")
    );
    let reqs = server.requests();
    assert_eq!(
        texts(&reqs[1].body),
        turns(&[
            ("user", "Hello"),
            ("assistant", "You said: Hello"),
            ("user", "How are you?")
        ])
    );
    assert_eq!(reqs[1].body["system"], json!([{"text": "Be brief."}]));
    assert_eq!(reqs[1].body["inferenceConfig"]["maxTokens"], 200);
    // The local echo counts the growing history as input tokens.
    assert!(r2.usage.unwrap().input_tokens > r1.usage.unwrap().input_tokens);
    chat.reset();
    assert!(chat.history().is_empty());
    assert_eq!(chat.request().system.len(), 1, "settings survive a reset");
}

#[test]
fn a_failed_turn_is_rolled_back_by_default() {
    let (server, converser) = weather_setup();
    let mut chat = Conversation::new(WEATHER_MODEL);
    chat.send(&converser, "one").unwrap();
    let before = chat.history().to_vec();
    server.push(Reply::error(400, "ValidationException", "nope"));
    assert!(chat.send(&converser, "two").is_err());
    assert_eq!(chat.history(), &before[..]);
    assert!(!chat.is_pending());
    // Mid-stream failures too, keeping nothing of the partial reply.
    server.push(Reply::text("a b c d").deltas(4).fault(Fault::Exception {
        after: 3,
        exception_type: "modelStreamErrorException".into(),
        message: "broke".into(),
    }));
    let err = chat
        .send_with(&converser, "three", &mut NoopHandler)
        .unwrap_err();
    assert!(err.partial_response().is_some());
    assert_eq!(chat.history(), &before[..]);
    // And the conversation carries on from where it was.
    chat.send(&converser, "four").unwrap();
    assert_eq!(
        texts(&server.requests().pop().unwrap().body),
        turns(&[
            ("user", "one"),
            ("assistant", "You said: one"),
            ("user", "four")
        ])
    );
}

#[test]
fn a_failed_turn_can_be_kept_then_retried_or_extended() {
    let (server, converser) = weather_setup();
    let mut chat = Conversation::new(WEATHER_MODEL).on_failure(OnFailure::Keep);
    chat.send(&converser, "one").unwrap();
    server.push(Reply::throttling());
    let err = chat.send(&converser, "two").unwrap_err();
    assert!(err.is_throttling());
    assert!(chat.is_pending());
    assert_eq!(chat.history().len(), 3);
    assert_eq!(chat.history()[2], Message::user("two"));
    // retry sends the kept turn as it is.
    let r = chat.retry(&converser).unwrap();
    assert_eq!(r.text(), "You said: two");
    assert!(!chat.is_pending());
    assert!(
        chat.retry(&converser).unwrap_err().is_invalid_request(),
        "nothing to retry"
    );

    // Or a new send adds to the kept user turn, so turns still alternate.
    server.push(Reply::error(503, "ServiceUnavailableException", "later"));
    chat.send(&converser, "three").unwrap_err();
    let r = chat
        .send_with(&converser, "four", &mut NoopHandler)
        .unwrap();
    assert_eq!(r.text(), "You said: threefour");
    assert_eq!(
        texts(&server.requests().pop().unwrap().body),
        turns(&[
            ("user", "one"),
            ("assistant", "You said: one"),
            ("user", "two"),
            ("assistant", "You said: two"),
            ("user", "three|four"),
        ])
    );
    assert_eq!(chat.history().len(), 6);
}

#[test]
fn a_request_refused_before_sending_is_rolled_back_even_when_keeping() {
    let (server, converser) = weather_setup();
    let mut chat = Conversation::new(WEATHER_MODEL).on_failure(OnFailure::Keep);
    chat.send(&converser, "one").unwrap();
    let huge =
        Message::user("look").with(Image::new(ImageFormat::Png, vec![0u8; MAX_IMAGE_BYTES + 1]));
    let err = chat.send_message(&converser, huge).unwrap_err();
    assert!(err.is_invalid_request());
    assert_eq!(chat.history().len(), 2);
    assert!(!chat.is_pending());
    assert_eq!(server.request_count(), 1);
    let err = chat
        .send_message(&converser, Message::assistant("not mine"))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { ref field, .. } if field == "message.role"));
}

#[test]
fn run_tools_loops_until_the_model_stops_asking() {
    let (server, converser) = weather_setup();
    server.push(
        Reply::empty()
            .with_text("Checking two cities.")
            .tool_use("t1", "get_weather", json!({"city": "Paris"}))
            .tool_use("t2", "get_weather", json!({"city": "Oslo"}))
            .deltas(3),
    );
    server.push(Reply::empty().tool_use("t3", "get_weather", json!({"city": "Atlantis"})));
    server.push(Reply::echo("Tools said: "));
    let mut chat = Conversation::new(WEATHER_MODEL).tool(weather_tool());
    let mut calls = Vec::new();
    let r = chat
        .run_tools(&converser, "Weather in Paris and Oslo?", |call| {
            calls.push((call.id.clone(), call.input.clone()));
            weather(call)
        })
        .unwrap();
    assert_eq!(
        calls,
        vec![
            ("t1".to_string(), json!({"city": "Paris"})),
            ("t2".to_string(), json!({"city": "Oslo"})),
            ("t3".to_string(), json!({"city": "Atlantis"})),
        ]
    );
    assert_eq!(r.text(), "Tools said: unknown city Some(\"Atlantis\")");
    assert_eq!(r.stop_reason, Some(StopReason::EndTurn));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        reqs[1].body["messages"][2],
        json!({"role": "user", "content": [
            {"toolResult": {"toolUseId": "t1", "content": [{"json": {"city": "Paris", "sky": "sunny", "temp_c": 24}}]}},
            {"toolResult": {"toolUseId": "t2", "content": [{"text": "Oslo: rain, 9 C"}]}},
        ]})
    );
    assert_eq!(
        reqs[2].body["messages"][4]["content"][0]["toolResult"]["status"],
        "error"
    );
    assert!(reqs
        .iter()
        .all(|r| r.body["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"));
    // user, assistant(tools), user(results), assistant(tool), user(result), assistant.
    let roles: Vec<_> = chat
        .history()
        .iter()
        .map(|m| m.role.as_str().to_owned())
        .collect();
    assert_eq!(
        roles,
        [
            "user",
            "assistant",
            "user",
            "assistant",
            "user",
            "assistant"
        ]
    );
    // The conversation goes on normally afterwards.
    chat.send(&converser, "Thanks").unwrap();
    assert_eq!(chat.history().len(), 8);
}

#[test]
fn run_tools_gives_up_after_the_maximum_rounds() {
    let (server, converser) = weather_setup();
    let ask = || Reply::empty().tool_use("t", "get_weather", json!({"city": "Paris"}));
    for on_failure in [OnFailure::RollBack, OnFailure::Keep] {
        let mut chat = Conversation::new(WEATHER_MODEL)
            .tool(weather_tool())
            .max_tool_rounds(2)
            .on_failure(on_failure);
        chat.send(&converser, "hi").unwrap();
        for _ in 0..3 {
            server.push(ask());
        }
        let mut runs = 0;
        let err = chat
            .run_tools(&converser, "Weather?", |call| {
                runs += 1;
                weather(call)
            })
            .unwrap_err();
        let Error::ToolRoundsExceeded {
            max_rounds,
            response,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(*max_rounds, 2);
        assert_eq!(runs, 2);
        assert_eq!(response.tool_uses().len(), 1);
        assert!(err.partial_response().is_some());
        match on_failure {
            OnFailure::RollBack => assert_eq!(chat.history().len(), 2),
            _ => {
                // Everything kept, the open call answered with an error result.
                assert_eq!(chat.history().len(), 2 + 6 + 1);
                assert!(chat.is_pending());
                let ContentBlock::ToolResult(last) = &chat.history()[8].content[0] else {
                    panic!()
                };
                assert_eq!(last.status, Some(ToolResultStatus::Error));
                // The next turn joins that pending turn and is accepted.
                chat.send(&converser, "Never mind.").unwrap();
                let body = last_body(&server);
                let last_user = &body["messages"][8]["content"];
                assert_eq!(last_user[0]["toolResult"]["status"], "error");
                assert_eq!(last_user[1]["text"], "Never mind.");
            }
        }
    }
}

#[test]
fn run_tools_rolls_back_a_loop_that_fails_half_way() {
    let (server, converser) = weather_setup();
    let mut chat = Conversation::new(WEATHER_MODEL).tool(weather_tool());
    server.push(Reply::empty().tool_use("t1", "get_weather", json!({"city": "Paris"})));
    server.push(Reply::error(500, "InternalServerException", "boom"));
    let mut rec = Rec::default();
    let err = chat
        .run_tools_with(&converser, "Weather?", &mut rec, weather)
        .unwrap_err();
    assert_eq!(
        err.service_kind(),
        Some(bedrock_converse::error::ServiceErrorKind::InternalServer)
    );
    assert!(chat.history().is_empty());
    // The handler saw the first round stream.
    assert!(rec
        .0
        .iter()
        .any(|e| matches!(e, Ev::BlockStart(0, BlockStart::ToolUse { .. }))));
}

#[test]
fn a_loop_failing_half_way_can_be_kept_and_retried() {
    let (server, converser) = weather_setup();
    let mut chat = Conversation::new(WEATHER_MODEL)
        .tool(weather_tool())
        .on_failure(OnFailure::Keep);
    server.push(Reply::empty().tool_use("t1", "get_weather", json!({"city": "Oslo"})));
    server.push(Reply::throttling());
    let err = chat.run_tools(&converser, "Weather?", weather).unwrap_err();
    assert!(err.is_throttling());
    // The tool results are kept, pending, so the loop's work is not lost.
    assert_eq!(chat.history().len(), 3);
    assert!(chat.is_pending());
    let ContentBlock::ToolResult(kept) = &chat.history()[2].content[0] else {
        panic!("{:?}", chat.history())
    };
    assert_eq!(kept.tool_use_id, "t1");
    server.push(Reply::echo("Answer: "));
    let r = chat.retry(&converser).unwrap();
    assert_eq!(r.text(), "Answer: Oslo: rain, 9 C");
    assert_eq!(chat.history().len(), 4);
}

#[test]
fn a_reply_without_content_leaves_the_user_turn_pending() {
    let (server, converser) = weather_setup();
    let mut chat = Conversation::new(WEATHER_MODEL);
    server.push(Reply::empty().stop_reason("content_filtered"));
    let r = chat.send(&converser, "first").unwrap();
    assert_eq!(r.stop_reason, Some(StopReason::ContentFiltered));
    assert!(r.message.content.is_empty());
    // An empty assistant turn could not be sent back; the user turn waits.
    assert_eq!(chat.history(), &[Message::user("first")]);
    assert!(chat.is_pending());
    chat.send(&converser, "second").unwrap();
    assert_eq!(
        texts(&last_body(&server)),
        turns(&[("user", "first|second")])
    );
    assert_eq!(chat.history().len(), 2);
}

#[test]
fn a_cancelled_turn_does_not_poison_the_conversation() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(
        Reply::text("a long answer")
            .deltas(3)
            .fault(Fault::Stall { after: 1 }),
    );
    server.push(Reply::text("Second answer"));
    let mut chat = Conversation::new("amazon.nova-lite-v1:0");
    // The Cancel button holds this turn's token.
    let button = chat.turn_cancel_token();
    let err = chat
        .send_with(
            &converser,
            "First question",
            &mut handler_fn(|_: &StreamEvent| button.cancel()),
        )
        .unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    assert!(
        chat.history().is_empty(),
        "the cancelled turn is rolled back"
    );
    // The next turn runs normally, with a fresh token, without rebuilding.
    let next = chat.turn_cancel_token();
    assert!(!next.is_cancelled());
    assert_ne!(next, button);
    let reply = chat.send(&converser, "Second question").unwrap();
    assert_eq!(reply.text(), "Second answer");
    assert_eq!(chat.history().len(), 2);
    assert_eq!(server.request_count(), 2);
}

#[test]
fn a_token_set_on_the_conversation_cancels_its_turn_and_is_then_renewed() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(
        Reply::text("a long answer")
            .deltas(3)
            .fault(Fault::Stall { after: 1 }),
    );
    server.push(Reply::text("Second answer"));
    let button = CancelToken::new();
    let mut chat = Conversation::new("amazon.nova-lite-v1:0").cancel_token(button.clone());
    assert_eq!(chat.turn_cancel_token(), button);
    assert_eq!(chat.request().cancel_token.as_ref(), Some(&button));
    let err = chat
        .send_with(
            &converser,
            "First question",
            &mut handler_fn(|_: &StreamEvent| button.cancel()),
        )
        .unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    let next = chat.turn_cancel_token();
    assert!(!next.is_cancelled());
    assert_ne!(next, button);
    assert_eq!(
        chat.send(&converser, "Second question").unwrap().text(),
        "Second answer"
    );
}
