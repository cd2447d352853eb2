//! Streaming that falls back: `converse_with` on a model that cannot stream
//! (tool use) calls Converse and drives the handler with the whole reply,
//! from the catalogue or learnt from the service's refusal.

use bedrock_converse::model::{StreamFallback, Tool, ToolConfig};
use bedrock_converse::stream::{BlockStart, StreamEvent, StreamHandler};
use bedrock_converse::types::StopReason;
use bedrock_converse::{ConverseRequest, Error};
use bedrock_converse_mock::{Fault, MockServer, Operation, Reply};
use serde_json::json;
use std::ops::ControlFlow;

/// Keeps every event.
#[derive(Default)]
struct Events(Vec<StreamEvent>);

impl StreamHandler for Events {
    fn on_event(&mut self, event: &StreamEvent) -> ControlFlow<()> {
        self.0.push(event.clone());
        ControlFlow::Continue(())
    }
}

impl Events {
    fn text(&self) -> String {
        self.0.iter().filter_map(StreamEvent::text).collect()
    }

    fn tool_input(&self) -> String {
        self.0
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Delta { delta, .. } => delta.tool_input(),
                _ => None,
            })
            .collect()
    }
}

fn with_tools(model: &str) -> ConverseRequest {
    let tool = Tool::new("weather", "The weather.", json!({"type": "object"}));
    ConverseRequest::new(model)
        .user("Weather in Paris?")
        .tool_config(ToolConfig::new().tool(tool))
}

fn tool_reply() -> Reply {
    Reply::text("Checking.")
        .tool_use("tu-1", "weather", json!({"city": "Paris"}))
        .usage(7, 5)
}

fn operations(server: &MockServer) -> Vec<Option<Operation>> {
    server.requests().iter().map(|r| r.operation).collect()
}

/// Asserts the handler saw the whole tool reply, in a stream's order.
fn assert_whole_tool_reply(events: &Events) {
    assert!(matches!(
        events.0.first(),
        Some(StreamEvent::MessageStart { .. })
    ));
    assert!(events.0.iter().any(|e| matches!(e,
        StreamEvent::BlockStart { index: 1, start: BlockStart::ToolUse { tool_use_id, name, .. } }
            if tool_use_id == "tu-1" && name == "weather")));
    assert_eq!(events.text(), "Checking.");
    assert_eq!(events.tool_input(), r#"{"city":"Paris"}"#);
    let n = events.0.len();
    assert!(matches!(&events.0[n - 2], StreamEvent::Stop(s) if s.reason == StopReason::ToolUse));
    assert!(matches!(&events.0[n - 1], StreamEvent::Metadata(m)
        if m.usage.map(|u| (u.input_tokens, u.output_tokens)) == Some((7, 5))));
}

#[test]
fn tools_on_llama_4_and_gpt_oss_go_through_converse_and_reach_the_handler() {
    for (model, why) in [
        (
            "us.meta.llama4-maverick-17b-instruct-v1:0",
            StreamFallback::ModelCannotStreamToolUse,
        ),
        (
            "meta.llama4-scout-17b-instruct-v1:0",
            StreamFallback::ModelCannotStreamToolUse,
        ),
        ("openai.gpt-oss-120b-1:0", StreamFallback::ModelCannotStream),
    ] {
        let server = MockServer::start().unwrap();
        let converser = server.converser().unwrap();
        for call in 0..2 {
            server.push(tool_reply());
            let mut events = Events::default();
            let reply = converser
                .converse_with(&with_tools(model), &mut events)
                .unwrap();
            assert_whole_tool_reply(&events);
            assert_eq!(reply.stream_fallback, Some(why), "{model}");
            assert_eq!(reply.tool_uses()[0].input, json!({"city": "Paris"}));
            // One request per call, through Converse.
            assert_eq!(
                operations(&server),
                vec![Some(Operation::Converse); call + 1],
                "{model}"
            );
        }
        // converse_with_on_runtime takes the same way.
        server.push(tool_reply());
        let mut events = Events::default();
        let reply = converser
            .converse_with_on_runtime(&with_tools(model), &mut events)
            .unwrap();
        assert_whole_tool_reply(&events);
        assert_eq!(reply.stream_fallback, Some(why));
    }
}

#[test]
fn a_model_that_streams_text_still_streams_it() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text("Hello there").deltas(2));
    let request = ConverseRequest::new("us.meta.llama4-maverick-17b-instruct-v1:0").user("Hi");
    let reply = converser
        .converse_with(&request, &mut Events::default())
        .unwrap();
    assert_eq!(reply.stream_fallback, None);
    assert_eq!(operations(&server), [Some(Operation::ConverseStream)]);
}

#[test]
fn the_services_refusal_of_a_stream_is_learnt_per_model() {
    // A model the catalogue knows nothing of; the lenient server plays the
    // refusal as scripted.
    let model = "example.streamless-v1:0";
    let server = MockServer::start().unwrap();
    server.set_lenient(true);
    let converser = server.converser_builder().max_attempts(1).build().unwrap();
    let refusal = "This model doesn't support tool use in streaming mode.";
    server.push(Reply::error(400, "ValidationException", refusal));
    server.push(tool_reply());
    let mut events = Events::default();
    let reply = converser
        .converse_with(&with_tools(model), &mut events)
        .unwrap();
    assert_whole_tool_reply(&events);
    assert_eq!(
        reply.stream_fallback,
        Some(StreamFallback::ModelCannotStreamToolUse)
    );
    assert_eq!(
        operations(&server),
        [Some(Operation::ConverseStream), Some(Operation::Converse)]
    );
    // The second call on the same Converser sends one request.
    server.push(tool_reply());
    converser
        .converse_with(&with_tools(model), &mut Events::default())
        .unwrap();
    assert_eq!(operations(&server).len(), 3);
    assert_eq!(operations(&server)[2], Some(Operation::Converse));
    // Without tools the model still streams; another Converser has not learnt it.
    server.push(Reply::text("streamed"));
    let plain = ConverseRequest::new(model).user("Hi");
    assert_eq!(
        converser
            .converse_with(&plain, &mut Events::default())
            .unwrap()
            .stream_fallback,
        None
    );
    let fresh = server.converser_builder().max_attempts(1).build().unwrap();
    server.push(Reply::error(400, "ValidationException", refusal));
    server.push(tool_reply());
    fresh
        .converse_with(&with_tools(model), &mut Events::default())
        .unwrap();
    let ops = operations(&server);
    assert_eq!(
        ops[ops.len() - 2..],
        [Some(Operation::ConverseStream), Some(Operation::Converse)]
    );
}

#[test]
fn other_stream_errors_are_not_taken_for_a_refusal_of_streaming() {
    let server = MockServer::start().unwrap();
    server.set_lenient(true);
    let converser = server.converser_builder().max_attempts(1).build().unwrap();
    server.push(Reply::error(
        400,
        "ValidationException",
        "Something else is wrong.",
    ));
    let err = converser
        .converse_with(&with_tools("example.other-v1:0"), &mut Events::default())
        .unwrap_err();
    assert!(matches!(err, Error::Service(_)), "{err:?}");
    // The streaming refusal without tools in the request is not learnt as
    // "cannot stream tool use" either.
    server.push(Reply::error(
        400,
        "ValidationException",
        "This model doesn't support tool use in streaming mode.",
    ));
    let plain = ConverseRequest::new("example.other-v1:0").user("Hi");
    assert!(converser
        .converse_with(&plain, &mut Events::default())
        .is_err());
    assert_eq!(operations(&server).len(), 2);
}

#[test]
fn a_handler_that_stops_gets_the_whole_reply_in_the_error() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(tool_reply());
    let mut stop = bedrock_converse::stream::handler_fn(|_: &StreamEvent| ControlFlow::Break(()));
    let err = converser
        .converse_with(&with_tools("openai.gpt-oss-20b-1:0"), &mut stop)
        .unwrap_err();
    let partial = err.partial_response().expect("the reply");
    assert!(matches!(err, Error::Stopped { .. }));
    assert_eq!(partial.text(), "Checking.");
}

#[test]
fn reasoning_reaches_the_handler_as_deltas_with_its_signature() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(
        Reply::empty()
            .reasoning("let me think", "sig-1")
            .with_text("42"),
    );
    let mut events = Events::default();
    let request = ConverseRequest::new("openai.gpt-oss-120b-1:0").user("6 x 7?");
    let reply = converser.converse_with(&request, &mut events).unwrap();
    assert_eq!(
        reply.stream_fallback,
        Some(StreamFallback::ModelCannotStream)
    );
    let reasoning: Vec<_> = events
        .0
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta { index: 0, delta } => Some(delta.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasoning,
        [
            bedrock_converse::stream::Delta::ReasoningText("let me think".into()),
            bedrock_converse::stream::Delta::ReasoningSignature("sig-1".into())
        ]
    );
    assert_eq!(events.text(), "42");
}

/// Drains a spawned call: its events, then its result.
fn spawned(
    converser: &bedrock_converse::Converser,
    request: &ConverseRequest,
) -> (Events, Result<bedrock_converse::Response, Error>) {
    let call = converser.spawn(request).unwrap();
    let events = call.events().clone();
    let result = call.wait();
    (Events(events.try_iter().collect()), result)
}

#[test]
fn a_spawned_call_falls_back_too_and_its_handle_gets_the_whole_reply() {
    for (model, why) in [
        (
            "us.meta.llama4-maverick-17b-instruct-v1:0",
            StreamFallback::ModelCannotStreamToolUse,
        ),
        ("openai.gpt-oss-120b-1:0", StreamFallback::ModelCannotStream),
    ] {
        let server = MockServer::start().unwrap();
        let converser = server.converser().unwrap();
        server.push(tool_reply());
        let (events, reply) = spawned(&converser, &with_tools(model));
        let reply = reply.unwrap();
        assert_whole_tool_reply(&events);
        assert_eq!(reply.stream_fallback, Some(why), "{model}");
        assert_eq!(reply.tool_uses()[0].input, json!({"city": "Paris"}));
        assert_eq!(operations(&server), [Some(Operation::Converse)], "{model}");
    }
    // Without tools, a model that streams text streams it when spawned.
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::text("Hello there").deltas(2));
    let plain = ConverseRequest::new("us.meta.llama4-maverick-17b-instruct-v1:0").user("Hi");
    let (events, reply) = spawned(&converser, &plain);
    assert_eq!(reply.unwrap().stream_fallback, None);
    assert_eq!(events.text(), "Hello there");
    assert_eq!(operations(&server), [Some(Operation::ConverseStream)]);
}

#[test]
fn a_spawned_call_learns_the_refusal_and_the_next_call_sends_one_request() {
    let model = "example.spawned-streamless-v1:0";
    let server = MockServer::start().unwrap();
    server.set_lenient(true);
    let converser = server.converser_builder().max_attempts(1).build().unwrap();
    server.push(Reply::error(
        400,
        "ValidationException",
        "The model is unsupported for streaming.",
    ));
    server.push(tool_reply());
    let (events, reply) = spawned(&converser, &with_tools(model));
    assert_whole_tool_reply(&events);
    assert_eq!(
        reply.unwrap().stream_fallback,
        Some(StreamFallback::ModelCannotStream)
    );
    assert_eq!(
        operations(&server),
        [Some(Operation::ConverseStream), Some(Operation::Converse)]
    );
    // Learnt for the Converser: the next spawned call, and the next
    // `converse_with`, go straight to Converse, with or without tools.
    server.push(Reply::text("once"));
    let (events, reply) = spawned(&converser, &ConverseRequest::new(model).user("Hi"));
    assert_eq!(events.text(), "once");
    assert_eq!(
        reply.unwrap().stream_fallback,
        Some(StreamFallback::ModelCannotStream)
    );
    server.push(Reply::text("twice"));
    converser
        .converse_with(
            &ConverseRequest::new(model).user("Hi"),
            &mut Events::default(),
        )
        .unwrap();
    assert_eq!(
        operations(&server)[2..],
        [Some(Operation::Converse), Some(Operation::Converse)]
    );
}

#[test]
fn a_spawned_call_passes_on_errors_that_are_not_a_refusal_of_streaming() {
    let server = MockServer::start().unwrap();
    server.set_lenient(true);
    let converser = server.converser_builder().max_attempts(1).build().unwrap();
    server.push(Reply::error(
        400,
        "ValidationException",
        "Something else is wrong.",
    ));
    let (events, reply) = spawned(&converser, &with_tools("example.other-v1:0"));
    let err = reply.unwrap_err();
    assert!(
        matches!(&err, Error::Service(s) if s.message == "Something else is wrong."),
        "{err:?}"
    );
    assert!(events.0.is_empty());
    // The refusal of tool use without tools in the request is no refusal.
    server.push(Reply::error(
        400,
        "ValidationException",
        "This model doesn't support tool use in streaming mode.",
    ));
    let (_, reply) = spawned(
        &converser,
        &ConverseRequest::new("example.other-v1:0").user("Hi"),
    );
    assert!(reply.is_err());
    assert_eq!(operations(&server).len(), 2);
}

#[test]
fn a_spawned_fallback_can_be_cancelled_and_fails_as_converse_fails() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    // Cancelled while Converse is under way: the call ends cancelled, promptly.
    server.push(tool_reply().frame_delay(std::time::Duration::from_secs(5)));
    let call = converser
        .spawn(&with_tools("openai.gpt-oss-20b-1:0"))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let started = std::time::Instant::now();
    call.cancel();
    let err = call.wait().unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    // Converse's own error reaches the handle, with no events before it.
    server.push(Reply::error(400, "ValidationException", "Bad input."));
    let (events, reply) = spawned(&converser, &with_tools("openai.gpt-oss-20b-1:0"));
    assert!(matches!(reply, Err(Error::Service(_))), "{reply:?}");
    assert!(events.0.is_empty());
}

#[test]
fn a_refusal_after_the_stream_has_begun_is_an_error_with_the_partial_not_a_fallback() {
    // The refusal's words as an exception in the stream: before any event
    // (after 0 frames) nothing reached the caller, so the call falls back;
    // after the first event it is an ordinary stream error, never moved.
    let model = "example.refuses-late-v1:0";
    let refusal = |after| {
        Reply::text("Hello there")
            .deltas(2)
            .fault(Fault::Exception {
                after,
                exception_type: "validationException".into(),
                message: "The model is unsupported for streaming.".into(),
            })
    };
    for after in [1, 2, 3] {
        let server = MockServer::start().unwrap();
        server.set_lenient(true);
        let converser = server.converser_builder().max_attempts(1).build().unwrap();
        server.push(refusal(after));
        let (events, reply) = spawned(&converser, &ConverseRequest::new(model).user("Hi"));
        let err = reply.unwrap_err();
        assert!(matches!(err, Error::Service(_)), "after {after}: {err:?}");
        assert!(!events.0.is_empty(), "after {after}");
        assert_eq!(operations(&server), [Some(Operation::ConverseStream)]);
        server.push(refusal(after));
        let mut handled = Events::default();
        let err = converser
            .converse_with(&ConverseRequest::new(model).user("Hi"), &mut handled)
            .unwrap_err();
        assert!(err.partial_response().is_some(), "after {after}: {err:?}");
        assert!(!handled.0.is_empty(), "after {after}");
        // Nothing was learnt: the next call streams.
        server.push(Reply::text("streamed"));
        let (events, reply) = spawned(&converser, &ConverseRequest::new(model).user("Hi"));
        assert_eq!(reply.unwrap().stream_fallback, None);
        assert_eq!(events.text(), "streamed");
        assert_eq!(
            operations(&server),
            [Some(Operation::ConverseStream); 3],
            "after {after}"
        );
    }
    // As the stream's very first frame it is the refusal: the call falls back.
    let server = MockServer::start().unwrap();
    server.set_lenient(true);
    let converser = server.converser_builder().max_attempts(1).build().unwrap();
    server.push(refusal(0));
    server.push(Reply::text("whole"));
    let (events, reply) = spawned(&converser, &ConverseRequest::new(model).user("Hi"));
    assert_eq!(
        reply.unwrap().stream_fallback,
        Some(StreamFallback::ModelCannotStream)
    );
    assert_eq!(events.text(), "whole");
    assert_eq!(
        operations(&server),
        [Some(Operation::ConverseStream), Some(Operation::Converse)]
    );
}

#[test]
fn redacted_reasoning_reaches_the_handler_as_its_bytes() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let opaque = b"\x00opaque\xff".to_vec();
    let reply = || {
        Reply::empty()
            .redacted_reasoning(b"\x00opaque\xff".to_vec())
            .with_text("42")
    };
    let request = ConverseRequest::new("openai.gpt-oss-20b-1:0").user("6 x 7?");
    server.push(reply());
    let mut handled = Events::default();
    converser.converse_with(&request, &mut handled).unwrap();
    server.push(reply());
    let (spawned_events, result) = spawned(&converser, &request);
    assert!(result.is_ok(), "{result:?}");
    for events in [handled, spawned_events] {
        let redacted: Vec<_> = events
            .0
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Delta {
                    index: 0,
                    delta: bedrock_converse::stream::Delta::RedactedReasoning(bytes),
                } => Some(bytes.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(redacted, std::slice::from_ref(&opaque));
        assert_eq!(events.text(), "42");
    }
}

#[test]
fn cited_text_reaches_the_handler_as_text_and_the_reply_keeps_its_citations() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let citation = json!({
        "location": {"web": {"url": "https://example.com/paris", "domain": "example.com"}},
        "sourceContent": [{"text": "Paris is sunny."}]
    });
    server.push(
        Reply::empty()
            .with_text("It is ")
            .cited_text("sunny.", vec![citation]),
    );
    let request = ConverseRequest::new("openai.gpt-oss-20b-1:0").user("Weather?");
    let mut events = Events::default();
    let reply = converser.converse_with(&request, &mut events).unwrap();
    assert_eq!(events.text(), "It is sunny.");
    assert_eq!(reply.text(), "It is sunny.");
    assert!(matches!(
        reply.message.content[1],
        bedrock_converse::types::ContentBlock::CitationsContent(_)
    ));
}
