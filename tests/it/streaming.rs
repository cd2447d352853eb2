//! The handler's callbacks on a stream: every callback in wire order, typed
//! events for each block kind, every scripted reply streamed into the same
//! `Response` as the whole reply, a handler that stops, and a stream that
//! fails midway keeping what arrived.

use crate::support::weather::{
    both_ways_recorded, citations, weather_request, weather_setup, weather_tool, Ev, Rec,
};
use crate::support::{assert_same, setup, songs_request};
use bedrock_converse::error::ServiceErrorKind;
use bedrock_converse::model::{Role, StopReason, ToolUse, Usage};
use bedrock_converse::stream::{BlockStart, Metadata, NoopHandler, Stop};
use bedrock_converse::types::{ContentBlock, PerformanceConfigLatency, ServiceTierType};
use bedrock_converse::{Delta, Error, StreamHandler};
use bedrock_converse_mock::{Fault, Operation, Reply};
use serde_json::{json, Value};
use std::ops::ControlFlow;

/// Records every callback, in order, as text.
#[derive(Default)]
struct Recorder {
    events: Vec<String>,
    stop_after_deltas: Option<usize>,
    deltas: usize,
}

impl StreamHandler for Recorder {
    fn on_message_start(&mut self, role: &Role) -> ControlFlow<()> {
        self.events.push(format!("start:{}", role.as_str()));
        ControlFlow::Continue(())
    }
    fn on_block_start(&mut self, index: u32, start: &BlockStart) -> ControlFlow<()> {
        self.events.push(format!("block_start:{index}:{start:?}"));
        ControlFlow::Continue(())
    }
    fn on_delta(&mut self, index: u32, delta: &Delta) -> ControlFlow<()> {
        self.events
            .push(format!("delta:{index}:{}", delta.text().unwrap_or("?")));
        self.deltas += 1;
        match self.stop_after_deltas {
            Some(n) if self.deltas >= n => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    }
    fn on_block_stop(&mut self, index: u32) -> ControlFlow<()> {
        self.events.push(format!("block_stop:{index}"));
        ControlFlow::Continue(())
    }
    fn on_stop(&mut self, stop: &Stop) -> ControlFlow<()> {
        self.events.push(format!("stop:{}", stop.reason.as_str()));
        ControlFlow::Continue(())
    }
    fn on_metadata(&mut self, m: &Metadata) -> ControlFlow<()> {
        let u = m.usage.expect("usage");
        self.events.push(format!(
            "metadata:{}/{}/{}:{}ms",
            u.input_tokens,
            u.output_tokens,
            u.total_tokens,
            m.metrics.expect("metrics").latency_ms
        ));
        ControlFlow::Continue(())
    }
}

#[test]
fn stream_calls_every_callback_in_wire_order() {
    let (server, converser) = setup();
    server.push(Reply::text("abcdef").deltas(3).usage(7, 3).latency_ms(42));
    let mut rec = Recorder::default();
    let r = converser.converse_with(&songs_request(), &mut rec).unwrap();
    assert_eq!(
        rec.events,
        vec![
            "start:assistant",
            "delta:0:ab",
            "delta:0:cd",
            "delta:0:ef",
            "block_stop:0",
            "stop:end_turn",
            "metadata:7/3/10:42ms",
        ]
    );
    assert_eq!(r.text(), "abcdef");
    assert_eq!(
        server.requests()[0].operation,
        Some(Operation::ConverseStream)
    );
}

#[test]
fn mid_stream_exception_keeps_what_arrived() {
    let (server, converser) = setup();
    // messageStart + 2 deltas, then the exception.
    server.push(
        Reply::text("abcdef")
            .deltas(3)
            .request_id("mid-1")
            .fault(Fault::Exception {
                after: 3,
                exception_type: "modelStreamErrorException".into(),
                message: "the model broke".into(),
            }),
    );
    let mut rec = Recorder::default();
    let err = converser
        .converse_with(&songs_request(), &mut rec)
        .unwrap_err();
    assert_eq!(
        err.service_kind(),
        Some(ServiceErrorKind::ModelStreamError),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(err.as_service().unwrap().message, "the model broke");
    let partial = err.partial_response().expect("partial response");
    assert_eq!(partial.text(), "abcd");
    assert_eq!(partial.stop_reason, None);
    assert_eq!(partial.request_id.as_deref(), Some("mid-1"));
    assert!(!rec.events.iter().any(|e| e.starts_with("stop:")));
    // The converser is fine afterwards.
    assert_eq!(
        converser.converse(&songs_request()).unwrap().text(),
        "You said: Create a list of 3 pop songs."
    );
}

#[test]
fn handler_can_stop_the_stream() {
    let (server, converser) = setup();
    server.push(Reply::text("one two three four").deltas(4));
    let mut rec = Recorder {
        stop_after_deltas: Some(2),
        ..Default::default()
    };
    let err = converser
        .converse_with(&songs_request(), &mut rec)
        .unwrap_err();
    let Error::Stopped { partial } = &err else {
        panic!("expected Stopped, got {err:?}")
    };
    let seen: String = rec
        .events
        .iter()
        .filter_map(|e| e.strip_prefix("delta:0:"))
        .collect();
    assert_eq!(rec.deltas, 2);
    assert_eq!(
        partial.text(),
        seen,
        "the partial holds exactly what the handler saw"
    );
    assert!(partial.text().starts_with("one "));
    assert!(!err.is_retryable());
}

#[test]
fn every_scripted_reply_streams_into_the_same_response() {
    let (server, converser) = weather_setup();
    let scripts = vec![
        // Tool use over several deltas, after some text.
        Reply::empty()
            .with_text("Let me check the weather.")
            .tool_use("tooluse_1", "get_weather", json!({"city": "Paris", "days": 3, "units": {"temp": "C"}}))
            .deltas(6),
        // Two tool uses in one reply.
        Reply::empty()
            .tool_use("t1", "get_weather", json!({"city": "Paris"}))
            .tool_use("t2", "get_weather", json!({"city": "Oslo"}))
            .deltas(3),
        // A tool use with empty input.
        Reply::empty().tool_use("t3", "now", json!({})),
        // Reasoning with a signature, then text.
        Reply::empty()
            .reasoning("The user wants Paris weather; call the tool.", "c2lnbmF0dXJl")
            .with_text("It is sunny.")
            .deltas(4),
        // Redacted reasoning.
        Reply::empty()
            .redacted_reasoning(vec![0u8, 1, 2, 250, 251, 252, 253, 254, 255, 7])
            .with_text("Done.")
            .deltas(3),
        // Citations, with and without surrounding plain text.
        Reply::empty()
            .with_text("According to the report: ")
            .cited_text("revenue grew 12% while costs were flat.", citations())
            .with_text(" That is all.")
            .deltas(4),
        Reply::empty().cited_text("", vec![citations()[0].clone()]),
        // Guardrail intervention with its trace.
        Reply::guardrail_intervened("Sorry, I can't give investment advice."),
        // Cache tokens, latency, performance config and service tier.
        Reply::text("cached").cache_tokens(1024, 0).usage(12, 1).latency_ms(77),
        Reply::text("fast").performance_latency("optimized").service_tier("priority"),
        // Prompt router trace.
        Reply::text("routed").trace(json!({
            "promptRouter": { "invokedModelId": "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0" }
        })),
        // Additional model response fields.
        Reply::text("fields").additional_model_response_fields(json!({"stop_sequence": "END", "n": [1, 2.5]})),
        // A tool the service ran itself, with its result in the same reply.
        Reply::empty()
            .raw_block(
                json!({"toolUse": {"toolUseId": "srv_1", "name": "web_search", "input": {"q": "paris weather"}, "type": "server_tool_use"}}),
                Some(json!({"toolUse": {"toolUseId": "srv_1", "name": "web_search", "type": "server_tool_use"}})),
                vec![json!({"toolUse": {"input": "{\"q\": \"paris"}}), json!({"toolUse": {"input": " weather\"}"}})],
            )
            .raw_block(
                json!({"toolResult": {"toolUseId": "srv_1", "content": [{"text": "Sunny, 24 C"}, {"json": {"temp": 24}}], "status": "success", "type": "web_search_result"}}),
                Some(json!({"toolResult": {"toolUseId": "srv_1", "status": "success", "type": "web_search_result"}})),
                vec![
                    json!({"toolResult": [{"text": "Sunny, "}]}),
                    json!({"toolResult": [{"text": "24 C"}, {"json": {"temp": 24}}]}),
                ],
            )
            .with_text("It is sunny."),
        // A generated image.
        Reply::empty().raw_block(
            json!({"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}),
            Some(json!({"image": {"format": "png"}})),
            vec![json!({"image": {"source": {"bytes": "iVBORw0KGgo="}}})],
        ),
    ];
    let stop_reasons = [
        "end_turn",
        "tool_use",
        "max_tokens",
        "stop_sequence",
        "guardrail_intervened",
        "content_filtered",
        "model_context_window_exceeded",
        "malformed_tool_use",
        "a_future_reason",
    ];
    let scripts = scripts.into_iter().chain(
        stop_reasons
            .iter()
            .map(|r| Reply::text("stopped").stop_reason(*r)),
    );
    for (i, script) in scripts.enumerate() {
        server.push(script.clone().request_id(format!("r{i}")));
        server.push(script.request_id(format!("r{i}")));
        let whole = converser
            .converse(&weather_request())
            .unwrap_or_else(|e| panic!("script {i}: {e:?}"));
        let streamed = converser
            .converse_with(&weather_request(), &mut NoopHandler)
            .unwrap_or_else(|e| panic!("script {i}: {e:?}"));
        assert!(!whole.message.content.is_empty(), "script {i}");
        assert_same(&streamed, &whole);
        assert_eq!(whole.request_id, Some(format!("r{i}")));
    }
}

#[test]
fn tool_use_streams_as_typed_events_and_assembles_into_json() {
    let (server, converser) = weather_setup();
    let input =
        json!({"city": "Paris", "days": 3, "units": {"temp": "C"}, "big": 9007199254740993u64});
    let reply = Reply::empty()
        .with_text("Checking.")
        .tool_use("tooluse_abc", "get_weather", input.clone())
        .deltas(5);
    let req = weather_request().tool(weather_tool());
    let (r, rec) = both_ways_recorded(&server, &converser, reply, &req);

    // on_block_start announces the tool use with its id and name.
    let starts = rec.starts();
    assert_eq!(starts.len(), 1);
    assert_eq!(starts[0].0, 1);
    match &starts[0].1 {
        BlockStart::ToolUse {
            tool_use_id,
            name,
            tool_type,
            ..
        } => {
            assert_eq!(tool_use_id, "tooluse_abc");
            assert_eq!(name, "get_weather");
            assert_eq!(*tool_type, None);
        }
        other => panic!("{other:?}"),
    }
    // The input came in 5 fragments that join into the JSON document.
    let fragments: Vec<String> = rec
        .deltas(1)
        .iter()
        .map(|d| d.tool_input().expect("tool input delta").to_owned())
        .collect();
    assert_eq!(fragments.len(), 5);
    assert_eq!(
        serde_json::from_str::<Value>(&fragments.concat()).unwrap(),
        input
    );
    assert!(rec.0.contains(&Ev::BlockStop(1)));
    assert_eq!(rec.stop().reason, StopReason::ToolUse);

    assert_eq!(r.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(r.text(), "Checking.");
    assert_eq!(
        r.tool_uses(),
        vec![ToolUse::new("tooluse_abc", "get_weather", input.clone())]
    );
    let ContentBlock::ToolUse(block) = &r.message.content[1] else {
        panic!("{:?}", r.message.content)
    };
    assert_eq!(block.tool_use_id, "tooluse_abc");
    // Integers stay integers through the document conversion.
    assert_eq!(
        r.tool_uses()[0].input["big"].as_u64(),
        Some(9007199254740993)
    );
}

#[test]
fn malformed_streamed_tool_input_names_the_tool_use_and_keeps_the_reply() {
    let (server, converser) = weather_setup();
    server.push(
        Reply::empty()
            .with_text("Calling.")
            .raw_block(
                json!({}),
                Some(json!({"toolUse": {"toolUseId": "tooluse_bad", "name": "get_weather"}})),
                vec![
                    json!({"toolUse": {"input": "{\"city\": \"Par"}}),
                    json!({"toolUse": {"input": "is\", }"}}),
                ],
            )
            .stop_reason("tool_use")
            .usage(10, 5)
            .request_id("bad-json"),
    );
    let mut rec = Rec::default();
    let err = converser
        .converse_with(&weather_request(), &mut rec)
        .unwrap_err();
    let Error::InvalidToolInput {
        tool_use_id,
        name,
        input,
        response,
        ..
    } = &err
    else {
        panic!("expected InvalidToolInput, got {err:?}")
    };
    assert_eq!(tool_use_id, "tooluse_bad");
    assert_eq!(name, "get_weather");
    assert_eq!(input, "{\"city\": \"Paris\", }");
    assert!(err.to_string().contains("tooluse_bad"), "{err}");
    assert!(!err.is_retryable());
    // The rest of the response is all there.
    assert_eq!(response.text(), "Calling.");
    assert_eq!(response.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(response.usage, Some(Usage::new(10, 5, 15)));
    assert_eq!(response.request_id.as_deref(), Some("bad-json"));
    assert_eq!(err.partial_response(), Some(&**response));
    let ContentBlock::ToolUse(t) = &response.message.content[1] else {
        panic!()
    };
    assert_eq!(t.input.as_string(), Some("{\"city\": \"Paris\", }"));
    // The handler saw the whole stream.
    assert!(matches!(rec.0.last(), Some(Ev::Meta(_))));
}

#[test]
fn metadata_reports_cache_tokens_latency_performance_tier_and_router() {
    let (server, converser) = weather_setup();
    let reply = Reply::text("cached answer")
        .usage(30, 2)
        .cache_tokens(2048, 512)
        .latency_ms(321)
        .performance_latency("optimized")
        .service_tier("priority")
        .trace(json!({"promptRouter": {"invokedModelId": "anthropic.claude-3-haiku"}}));
    let (r, rec) = both_ways_recorded(&server, &converser, reply, &weather_request());
    let m = rec.metadata();
    let usage = m.usage.unwrap();
    assert_eq!(
        (usage.input_tokens, usage.output_tokens, usage.total_tokens),
        (30, 2, 32)
    );
    assert_eq!(usage.cache_read_input_tokens, Some(2048));
    assert_eq!(usage.cache_write_input_tokens, Some(512));
    assert_eq!(m.metrics.unwrap().latency_ms, 321);
    assert_eq!(
        m.performance_config.as_ref().unwrap().latency,
        PerformanceConfigLatency::Optimized
    );
    assert_eq!(
        m.service_tier.as_ref().unwrap().r#type,
        ServiceTierType::Priority
    );
    assert_eq!(
        m.trace.as_ref().unwrap().invoked_model_id(),
        Some("anthropic.claude-3-haiku")
    );
    assert_eq!(r.usage, m.usage);
    assert_eq!(r.metrics, m.metrics);
    assert_eq!(r.performance_config, m.performance_config);
    assert_eq!(r.service_tier, m.service_tier);
    assert_eq!(r.trace, m.trace);
}

#[test]
fn on_stop_gets_every_stop_reason_and_the_model_fields() {
    let (server, converser) = weather_setup();
    let cases = [
        ("end_turn", StopReason::EndTurn),
        ("tool_use", StopReason::ToolUse),
        ("max_tokens", StopReason::MaxTokens),
        ("stop_sequence", StopReason::StopSequence),
        ("guardrail_intervened", StopReason::GuardrailIntervened),
        ("content_filtered", StopReason::ContentFiltered),
    ];
    for (wire, reason) in cases {
        let (r, rec) = both_ways_recorded(
            &server,
            &converser,
            Reply::text("x").stop_reason(wire),
            &weather_request(),
        );
        assert_eq!(rec.stop().reason, reason);
        assert_eq!(r.stop_reason, Some(reason));
    }
    let (r, rec) = both_ways_recorded(
        &server,
        &converser,
        Reply::text("x")
            .stop_reason("brand_new_reason")
            .additional_model_response_fields(json!({"stop_sequence": "\n\nHuman:"})),
        &weather_request().additional_model_response_field_path("/stop_sequence"),
    );
    assert_eq!(rec.stop().reason.as_str(), "brand_new_reason");
    assert_eq!(
        rec.stop().additional_model_response_fields,
        Some(json!({"stop_sequence": "\n\nHuman:"}))
    );
    assert_eq!(r.stop_reason.unwrap().as_str(), "brand_new_reason");
}

#[test]
fn unknown_deltas_and_block_starts_reach_the_handler() {
    let (server, converser) = weather_setup();
    server.push(
        Reply::empty()
            .with_text("before ")
            .raw_block(
                json!({"text": "unused"}),
                Some(json!({"somethingNew": {"x": 1}})),
                vec![json!({"futureDelta": {"y": 2}})],
            )
            .with_text("after"),
    );
    let mut rec = Rec::default();
    let r = converser
        .converse_with(&weather_request(), &mut rec)
        .unwrap();
    assert!(matches!(&rec.starts()[0], (1, BlockStart::Unknown(_))));
    assert!(matches!(&rec.deltas(1)[..], [Delta::Unknown(_)]));
    // The known blocks around them are intact.
    assert_eq!(r.text(), "before after");
    assert_eq!(r.stop_reason, Some(StopReason::EndTurn));
}
