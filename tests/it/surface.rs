//! The whole Converse surface, end to end: every request feature checked in
//! the body the local server received, every response feature checked in the
//! handler's callbacks and in the assembled `Response`, and every scripted
//! reply streamed and whole giving equal `Response`s. Conversations and tool
//! loops too. The real SDK client talks to the bundled server throughout.

use std::path::PathBuf;

use bedrock_converse::conversation::OnFailure;
use bedrock_converse::model::{
    CachePoint, ContentLimits, Document, GuardrailConfig, Image, Role, StopReason, Tool,
    ToolChoice, ToolConfig, ToolResult, ToolUse, Usage,
};
use bedrock_converse::stream::{BlockStart, Metadata, NoopHandler, Stop};
use bedrock_converse::types::{
    CacheTtl, CitationGeneratedContent, CitationLocation, CitationSourceContent, ContentBlock,
    DocumentFormat, GuardrailStreamProcessingMode, GuardrailTopicPolicyAction, GuardrailTrace,
    ImageFormat, ImageSource, PerformanceConfigLatency, ReasoningContentBlock, ServiceTierType,
    ToolResultBlockDelta, ToolResultContentBlock, ToolResultStatus, ToolUseType,
};
use bedrock_converse::{
    Conversation, ConverseRequest, Converser, Delta, Error, Flow, Message, Response, StreamHandler,
};

/// The documented limits (3.75 MB images, 4.5 MB documents, in binary MB),
/// which `ContentLimits::default()` must enforce.
const MAX_IMAGE_BYTES: usize = 3_932_160;
const MAX_DOCUMENT_BYTES: usize = 4_718_592;
use bedrock_converse_mock::{Fault, MockServer, Reply};
use serde_json::{json, Value};

const MODEL: &str = "anthropic.claude-3-7-sonnet-20250219-v1:0";

fn setup() -> (MockServer, Converser) {
    let server = MockServer::start().expect("mock server starts");
    let converser = server
        .converser_builder()
        .max_attempts(1)
        .build()
        .expect("converser builds");
    (server, converser)
}

fn request() -> ConverseRequest {
    ConverseRequest::new(MODEL).user("What is the weather in Paris?")
}

fn weather_tool() -> Tool {
    Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({
            "type": "object",
            "properties": { "city": { "type": "string" }, "days": { "type": "integer", "maximum": 7 } },
            "required": ["city"]
        }),
    )
}

/// Every callback, with its data.
#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Start(Role),
    BlockStart(u32, BlockStart),
    Delta(u32, Delta),
    BlockStop(u32),
    Stop(Stop),
    Meta(Metadata),
}

#[derive(Default)]
struct Rec(Vec<Ev>);

impl StreamHandler for Rec {
    fn on_message_start(&mut self, role: &Role) -> Flow {
        self.0.push(Ev::Start(role.clone()));
        Flow::Continue
    }
    fn on_block_start(&mut self, index: u32, start: &BlockStart) -> Flow {
        self.0.push(Ev::BlockStart(index, start.clone()));
        Flow::Continue
    }
    fn on_delta(&mut self, index: u32, delta: &Delta) -> Flow {
        self.0.push(Ev::Delta(index, delta.clone()));
        Flow::Continue
    }
    fn on_block_stop(&mut self, index: u32) -> Flow {
        self.0.push(Ev::BlockStop(index));
        Flow::Continue
    }
    fn on_stop(&mut self, stop: &Stop) -> Flow {
        self.0.push(Ev::Stop(stop.clone()));
        Flow::Continue
    }
    fn on_metadata(&mut self, metadata: &Metadata) -> Flow {
        self.0.push(Ev::Meta(metadata.clone()));
        Flow::Continue
    }
}

impl Rec {
    fn deltas(&self, index: u32) -> Vec<Delta> {
        self.0
            .iter()
            .filter_map(|e| match e {
                Ev::Delta(i, d) if *i == index => Some(d.clone()),
                _ => None,
            })
            .collect()
    }
    fn starts(&self) -> Vec<(u32, BlockStart)> {
        self.0
            .iter()
            .filter_map(|e| match e {
                Ev::BlockStart(i, s) => Some((*i, s.clone())),
                _ => None,
            })
            .collect()
    }
    fn stop(&self) -> Stop {
        self.0
            .iter()
            .find_map(|e| match e {
                Ev::Stop(s) => Some(s.clone()),
                _ => None,
            })
            .expect("on_stop was called")
    }
    fn metadata(&self) -> Metadata {
        self.0
            .iter()
            .find_map(|e| match e {
                Ev::Meta(m) => Some(m.clone()),
                _ => None,
            })
            .expect("on_metadata was called")
    }
}

/// Serves `reply` to a whole call and to a streamed one, and checks that
/// both give the same `Response`, field by field. Returns the streamed
/// response and what the handler saw.
fn both(
    server: &MockServer,
    converser: &Converser,
    reply: Reply,
    req: &ConverseRequest,
) -> (Response, Rec) {
    server.push(reply.clone().request_id("same-id"));
    server.push(reply.request_id("same-id"));
    let whole = converser.converse(req).expect("whole reply");
    let mut rec = Rec::default();
    let streamed = converser
        .converse_with(req, &mut rec)
        .expect("streamed reply");
    assert_same(&streamed, &whole);
    (streamed, rec)
}

fn assert_same(streamed: &Response, whole: &Response) {
    assert_eq!(streamed.message, whole.message, "message");
    assert_eq!(streamed.stop_reason, whole.stop_reason, "stop_reason");
    assert_eq!(streamed.usage, whole.usage, "usage");
    assert_eq!(streamed.metrics, whole.metrics, "metrics");
    assert_eq!(
        streamed.additional_model_response_fields, whole.additional_model_response_fields,
        "additional_model_response_fields"
    );
    assert_eq!(streamed.request_id, whole.request_id, "request_id");
    assert_eq!(streamed.trace, whole.trace, "trace");
    assert_eq!(
        streamed.performance_config, whole.performance_config,
        "performance_config"
    );
    assert_eq!(streamed.service_tier, whole.service_tier, "service_tier");
    assert_eq!(streamed, whole, "whole Response");
}

fn citations() -> Vec<Value> {
    vec![
        json!({
            "title": "Q3 report",
            "sourceContent": [{ "text": "Revenue grew 12% in the third quarter." }],
            "location": { "documentPage": { "documentIndex": 0, "start": 2, "end": 3 } }
        }),
        json!({
            "title": "Q3 report",
            "source": "q3-report",
            "sourceContent": [{ "text": "Costs were flat." }],
            "location": { "documentChar": { "documentIndex": 0, "start": 120, "end": 136 } }
        }),
        json!({
            "location": { "documentChunk": { "documentIndex": 1, "start": 4, "end": 5 } }
        }),
    ]
}

// ---------------------------------------------------------------- replies

#[test]
fn every_scripted_reply_streams_into_the_same_response() {
    let (server, converser) = setup();
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
            .converse(&request())
            .unwrap_or_else(|e| panic!("script {i}: {e:?}"));
        let streamed = converser
            .converse_with(&request(), &mut NoopHandler)
            .unwrap_or_else(|e| panic!("script {i}: {e:?}"));
        assert!(!whole.message.content.is_empty(), "script {i}");
        assert_same(&streamed, &whole);
        assert_eq!(whole.request_id, Some(format!("r{i}")));
    }
}

#[test]
fn tool_use_streams_as_typed_events_and_assembles_into_json() {
    let (server, converser) = setup();
    let input =
        json!({"city": "Paris", "days": 3, "units": {"temp": "C"}, "big": 9007199254740993u64});
    let reply = Reply::empty()
        .with_text("Checking.")
        .tool_use("tooluse_abc", "get_weather", input.clone())
        .deltas(5);
    let req = request().tool(weather_tool());
    let (r, rec) = both(&server, &converser, reply, &req);

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
    let (server, converser) = setup();
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
    let err = converser.converse_with(&request(), &mut rec).unwrap_err();
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
fn reasoning_keeps_its_signature_for_the_next_turn() {
    let (server, converser) = setup();
    let reply = Reply::empty()
        .reasoning(
            "Paris is in France; use the tool.",
            "RXh0ZW5kZWQgdGhpbmtpbmc=",
        )
        .tool_use("tooluse_1", "get_weather", json!({"city": "Paris"}))
        .deltas(3);
    let (r, rec) = both(
        &server,
        &converser,
        reply.clone(),
        &request().tool(weather_tool()),
    );
    let texts: String = rec
        .deltas(0)
        .iter()
        .filter_map(|d| d.reasoning_text())
        .collect();
    assert_eq!(texts, "Paris is in France; use the tool.");
    assert_eq!(
        rec.deltas(0).last(),
        Some(&Delta::ReasoningSignature(
            "RXh0ZW5kZWQgdGhpbmtpbmc=".into()
        ))
    );
    let ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(block)) =
        &r.message.content[0]
    else {
        panic!("{:?}", r.message.content)
    };
    assert_eq!(block.text, "Paris is in France; use the tool.");
    assert_eq!(block.signature.as_deref(), Some("RXh0ZW5kZWQgdGhpbmtpbmc="));

    // In a tool loop the reasoning block goes back with its signature.
    let mut chat = Conversation::new(MODEL).tool(weather_tool());
    server.push(reply);
    server.push(Reply::text("Sunny."));
    chat.run_tools_with(&converser, "Weather in Paris?", &mut NoopHandler, |call| {
        call.text_result("sunny")
    })
    .unwrap();
    let sent = server.requests().pop().unwrap().body;
    assert_eq!(
        sent["messages"][1]["content"][0],
        json!({"reasoningContent": {"reasoningText": {
            "text": "Paris is in France; use the tool.",
            "signature": "RXh0ZW5kZWQgdGhpbmtpbmc="
        }}})
    );
}

#[test]
fn redacted_reasoning_bytes_arrive_intact() {
    let (server, converser) = setup();
    let bytes: Vec<u8> = (0..=255u8).rev().collect();
    let (r, rec) = both(
        &server,
        &converser,
        Reply::empty()
            .redacted_reasoning(bytes.clone())
            .with_text("ok")
            .deltas(4),
        &request(),
    );
    let streamed: Vec<u8> = rec
        .deltas(0)
        .iter()
        .flat_map(|d| match d {
            Delta::RedactedReasoning(b) => b.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(rec.deltas(0).len(), 4);
    assert_eq!(streamed, bytes);
    let ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(blob)) =
        &r.message.content[0]
    else {
        panic!()
    };
    assert_eq!(blob.as_ref(), bytes.as_slice());
}

#[test]
fn citations_stream_as_deltas_and_assemble_into_a_citations_block() {
    let (server, converser) = setup();
    let reply = Reply::empty()
        .with_text("Per the report, ")
        .cited_text("revenue grew 12% and costs were flat.", citations())
        .deltas(3);
    let (r, rec) = both(&server, &converser, reply, &request());
    let deltas = rec.deltas(1);
    let cited: Vec<_> = deltas
        .iter()
        .filter_map(|d| match d {
            Delta::Citation(c) => Some(c.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(cited.len(), 3);
    assert_eq!(cited[0].title.as_deref(), Some("Q3 report"));
    assert_eq!(cited[1].source.as_deref(), Some("q3-report"));
    assert_eq!(
        cited[0].source_content.as_ref().unwrap()[0].text.as_deref(),
        Some("Revenue grew 12% in the third quarter.")
    );
    let text: String = deltas.iter().filter_map(|d| d.text()).collect();
    assert_eq!(text, "revenue grew 12% and costs were flat.");

    let ContentBlock::CitationsContent(block) = &r.message.content[1] else {
        panic!("{:?}", r.message.content)
    };
    assert_eq!(
        block.content(),
        &[CitationGeneratedContent::Text(
            "revenue grew 12% and costs were flat.".into()
        )]
    );
    let c = block.citations();
    assert_eq!(c.len(), 3);
    assert_eq!(
        c[1].source_content(),
        &[CitationSourceContent::Text("Costs were flat.".into())]
    );
    match c[1].location.as_ref().unwrap() {
        CitationLocation::DocumentChar(l) => {
            assert_eq!(
                (l.document_index, l.start, l.end),
                (Some(0), Some(120), Some(136))
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        c[2].location,
        Some(CitationLocation::DocumentChunk(_))
    ));
    // Cited text is part of the reply's text.
    assert_eq!(
        r.text(),
        "Per the report, revenue grew 12% and costs were flat."
    );
}

#[test]
fn guardrail_intervention_reports_its_trace() {
    let (server, converser) = setup();
    let req = request()
        .guardrail(GuardrailConfig::new("mock-guardrail", "1").trace(GuardrailTrace::Enabled));
    let (r, rec) = both(
        &server,
        &converser,
        Reply::guardrail_intervened("Sorry, I can't give investment advice."),
        &req,
    );
    assert_eq!(rec.stop().reason, StopReason::GuardrailIntervened);
    let trace = rec.metadata().trace.expect("trace in the metadata");
    let assessment = &trace
        .guardrail
        .as_ref()
        .unwrap()
        .input_assessment
        .as_ref()
        .unwrap()["mock-guardrail"];
    let topic = &assessment.topic_policy.as_ref().unwrap().topics[0];
    assert_eq!(topic.name, "Investment advice");
    assert_eq!(topic.action, GuardrailTopicPolicyAction::Blocked);
    assert_eq!(
        assessment
            .invocation_metrics
            .as_ref()
            .unwrap()
            .guardrail_processing_latency,
        Some(87)
    );
    assert_eq!(
        trace.guardrail.as_ref().unwrap().action_reason.as_deref(),
        Some("Guardrail blocked.")
    );
    assert_eq!(r.trace.as_ref(), Some(&trace));
    assert_eq!(r.stop_reason, Some(StopReason::GuardrailIntervened));
    assert_eq!(r.text(), "Sorry, I can't give investment advice.");
}

#[test]
fn metadata_reports_cache_tokens_latency_performance_tier_and_router() {
    let (server, converser) = setup();
    let reply = Reply::text("cached answer")
        .usage(30, 2)
        .cache_tokens(2048, 512)
        .latency_ms(321)
        .performance_latency("optimized")
        .service_tier("priority")
        .trace(json!({"promptRouter": {"invokedModelId": "anthropic.claude-3-haiku"}}));
    let (r, rec) = both(&server, &converser, reply, &request());
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
    let (server, converser) = setup();
    let cases = [
        ("end_turn", StopReason::EndTurn),
        ("tool_use", StopReason::ToolUse),
        ("max_tokens", StopReason::MaxTokens),
        ("stop_sequence", StopReason::StopSequence),
        ("guardrail_intervened", StopReason::GuardrailIntervened),
        ("content_filtered", StopReason::ContentFiltered),
    ];
    for (wire, reason) in cases {
        let (r, rec) = both(
            &server,
            &converser,
            Reply::text("x").stop_reason(wire),
            &request(),
        );
        assert_eq!(rec.stop().reason, reason);
        assert_eq!(r.stop_reason, Some(reason));
    }
    let (r, rec) = both(
        &server,
        &converser,
        Reply::text("x")
            .stop_reason("brand_new_reason")
            .additional_model_response_fields(json!({"stop_sequence": "\n\nHuman:"})),
        &request().additional_model_response_field_path("/stop_sequence"),
    );
    assert_eq!(rec.stop().reason.as_str(), "brand_new_reason");
    assert_eq!(
        rec.stop().additional_model_response_fields,
        Some(json!({"stop_sequence": "\n\nHuman:"}))
    );
    assert_eq!(r.stop_reason.unwrap().as_str(), "brand_new_reason");
}

#[test]
fn service_tool_results_and_images_stream_as_typed_blocks() {
    let (server, converser) = setup();
    let reply = Reply::empty()
        .raw_block(
            json!({"toolUse": {"toolUseId": "srv_1", "name": "web_search", "input": {"q": "x"}, "type": "server_tool_use"}}),
            Some(json!({"toolUse": {"toolUseId": "srv_1", "name": "web_search", "type": "server_tool_use"}})),
            vec![json!({"toolUse": {"input": "{\"q\": \"x\"}"}})],
        )
        .raw_block(
            json!({"toolResult": {"toolUseId": "srv_1", "content": [{"text": "found it"}], "status": "success"}}),
            Some(json!({"toolResult": {"toolUseId": "srv_1", "status": "success"}})),
            vec![json!({"toolResult": [{"text": "found "}]}), json!({"toolResult": [{"text": "it"}]})],
        )
        .raw_block(
            json!({"image": {"format": "webp", "source": {"bytes": "UklGRg=="}}}),
            Some(json!({"image": {"format": "webp"}})),
            vec![json!({"image": {"source": {"bytes": "UklGRg=="}}})],
        );
    let (r, rec) = both(&server, &converser, reply, &request());
    let starts = rec.starts();
    assert!(matches!(
        &starts[0].1,
        BlockStart::ToolUse {
            tool_type: Some(ToolUseType::ServerToolUse),
            ..
        }
    ));
    assert!(
        matches!(&starts[1].1, BlockStart::ToolResult { tool_use_id, status: Some(ToolResultStatus::Success), .. } if tool_use_id == "srv_1")
    );
    assert!(matches!(
        &starts[2].1,
        BlockStart::Image {
            format: ImageFormat::Webp,
            ..
        }
    ));
    assert_eq!(
        rec.deltas(1)[0],
        Delta::ToolResult(vec![ToolResultBlockDelta::Text("found ".into())])
    );
    assert!(matches!(&rec.deltas(2)[0], Delta::Image(_)));
    // The service ran that tool: it is not one for you to answer.
    assert!(r.tool_uses().is_empty());
    let ContentBlock::ToolResult(result) = &r.message.content[1] else {
        panic!()
    };
    assert_eq!(
        result.content,
        vec![ToolResultContentBlock::Text("found it".into())]
    );
    let ContentBlock::Image(image) = &r.message.content[2] else {
        panic!()
    };
    assert!(matches!(&image.source, Some(ImageSource::Bytes(b)) if b.as_ref() == b"RIFF"));
}

#[test]
fn unknown_deltas_and_block_starts_reach_the_handler() {
    let (server, converser) = setup();
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
    let r = converser.converse_with(&request(), &mut rec).unwrap();
    assert!(matches!(&rec.starts()[0], (1, BlockStart::Unknown(_))));
    assert!(matches!(&rec.deltas(1)[..], [Delta::Unknown(_)]));
    // The known blocks around them are intact.
    assert_eq!(r.text(), "before after");
    assert_eq!(r.stop_reason, Some(StopReason::EndTurn));
}

// ---------------------------------------------------------------- requests

fn last_body(server: &MockServer) -> Value {
    server
        .requests()
        .pop()
        .expect("a request was recorded")
        .body
}

/// Sends `req` whole and streamed; returns both bodies the server received.
fn sent(server: &MockServer, converser: &Converser, req: &ConverseRequest) -> [Value; 2] {
    converser.converse(req).expect("whole call");
    let whole = last_body(server);
    converser
        .converse_with(req, &mut NoopHandler)
        .expect("streamed call");
    [whole, last_body(server)]
}

#[test]
fn tool_config_and_tool_choice_arrive_as_sent() {
    let (server, converser) = setup();
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
        for body in sent(&server, &converser, &request().tool_config(c)) {
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
    let (server, converser) = setup();
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
    let req = request()
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
    for body in sent(&server, &converser, &req) {
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

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bedrock-converse-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn images_and_documents_arrive_as_base64_with_format_and_name() {
    let (server, converser) = setup();
    let dir = temp_dir("media");
    let png = [0x89u8, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0, 0, 13];
    std::fs::write(dir.join("chart.PNG"), png).unwrap();
    std::fs::write(dir.join("q3_report.v2.pdf"), b"%PDF-1.7 fake").unwrap();
    std::fs::write(dir.join("notes.data"), b"a,b\n1,2\n").unwrap();

    let from_file = Image::from_path(dir.join("chart.PNG")).unwrap();
    assert_eq!(from_file.format, ImageFormat::Png);
    let doc = Document::from_path(dir.join("q3_report.v2.pdf")).unwrap();
    assert_eq!(
        (doc.format.clone(), doc.name.as_str()),
        (DocumentFormat::Pdf, "q3-report-v2")
    );
    let csv = Document::from_path_as(dir.join("notes.data"), DocumentFormat::Csv)
        .unwrap()
        .name("Notes (raw)");

    let req = ConverseRequest::new(MODEL).message(
        Message::user("Compare these.")
            .with(from_file)
            .with(Image::new(ImageFormat::Jpeg, vec![0xFF, 0xD8, 0xFF]))
            .with(doc.citations(true).context("A quarterly report"))
            .with(csv),
    );
    for body in sent(&server, &converser, &req) {
        let content = &body["messages"][0]["content"];
        assert_eq!(content[0], json!({"text": "Compare these."}));
        assert_eq!(
            content[1],
            json!({"image": {"format": "png", "source": {"bytes": aws_smithy_types::base64::encode(png)}}})
        );
        assert_eq!(
            content[2],
            json!({"image": {"format": "jpeg", "source": {"bytes": "/9j/"}}})
        );
        assert_eq!(
            content[3],
            json!({"document": {
                "format": "pdf",
                "name": "q3-report-v2",
                "source": {"bytes": aws_smithy_types::base64::encode(b"%PDF-1.7 fake")},
                "context": "A quarterly report",
                "citations": {"enabled": true}
            }})
        );
        assert_eq!(content[4]["document"]["format"], "csv");
        assert_eq!(content[4]["document"]["name"], "Notes (raw)");
    }
    // An image and a document can also be a tool's result.
    let req = request()
        .tool(weather_tool())
        .message(Message::assistant("ok"))
        .message(Message::tool_results([ToolResult::new("t1")
            .with_image(Image::new(ImageFormat::Gif, b"GIF89a".to_vec()))
            .with_document(Document::new(
                DocumentFormat::Txt,
                "forecast",
                b"sunny".to_vec(),
            ))]));
    let body = &sent(&server, &converser, &req)[1];
    let result = &body["messages"][2]["content"][0]["toolResult"]["content"];
    assert_eq!(result[0]["image"]["format"], "gif");
    assert_eq!(result[1]["document"]["name"], "forecast");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn media_past_the_documented_limits_fails_before_sending() {
    let (server, converser) = setup();
    let img = |n: usize| Image::new(ImageFormat::Png, vec![1u8; n]);
    let doc = |n: usize| Document::new(DocumentFormat::Txt, "doc", vec![b'a'; n]);
    let user = || Message::user("Look.");
    let cases: Vec<(ConverseRequest, &str, &str)> = vec![
        (
            ConverseRequest::new(MODEL).message(user().with(img(MAX_IMAGE_BYTES + 1))),
            "messages[0].content[1]",
            "3.75 MB",
        ),
        (
            ConverseRequest::new(MODEL).message((0..21).fold(user(), |m, _| m.with(img(10)))),
            "messages",
            "21 images",
        ),
        (
            ConverseRequest::new(MODEL).message(user().with(doc(MAX_DOCUMENT_BYTES + 1))),
            "messages[0].content[1]",
            "4.50 MB",
        ),
        (
            ConverseRequest::new(MODEL).message((0..6).fold(user(), |m, _| m.with(doc(10)))),
            "messages",
            "6 documents",
        ),
        (
            ConverseRequest::new(MODEL).message(Message::new(Role::User, vec![doc(10).into()])),
            "messages[0].content",
            "text block",
        ),
        (
            ConverseRequest::new(MODEL)
                .user("hi")
                .message(Message::assistant("see").with(img(10)))
                .user("ok"),
            "messages[1].content[1]",
            "user turns",
        ),
        (
            ConverseRequest::new(MODEL).message(user().with(doc(10).name("bad_name.txt"))),
            "messages[0].content[1].name",
            "'_'",
        ),
        (
            ConverseRequest::new(MODEL).message(user().with(doc(10).name("two  spaces"))),
            "messages[0].content[1].name",
            "whitespace",
        ),
        (
            ConverseRequest::new(MODEL).message(user().with(img(0))),
            "messages[0].content[1]",
            "no bytes",
        ),
        // Images inside tool results count too.
        (
            request()
                .tool(weather_tool())
                .message(Message::assistant("ok"))
                .message(Message::tool_results([
                    ToolResult::new("t1").with_image(img(MAX_IMAGE_BYTES + 1))
                ])),
            "messages[2].content[0].content[0]",
            "bytes",
        ),
    ];
    for (req, field, words) in cases {
        for streaming in [false, true] {
            let err = if streaming {
                converser.converse_with(&req, &mut NoopHandler).unwrap_err()
            } else {
                converser.converse(&req).unwrap_err()
            };
            match &err {
                Error::InvalidRequest { field: f, reason } => {
                    assert_eq!(f, field, "{reason}");
                    assert!(
                        reason.contains(words),
                        "{field}: {reason:?} should mention {words:?}"
                    );
                }
                other => panic!("{field}: expected InvalidRequest, got {other:?}"),
            }
        }
    }
    assert_eq!(server.request_count(), 0, "nothing may reach the server");

    // Exactly at the limits is fine, and the limits can be lifted.
    let at_limit = ConverseRequest::new(MODEL).message(
        (0..20)
            .fold(user(), |m, _| m.with(img(10)))
            .with(img(MAX_IMAGE_BYTES))
            .with(doc(MAX_DOCUMENT_BYTES)),
    );
    assert!(at_limit
        .validate()
        .unwrap_err()
        .to_string()
        .contains("21 images"));
    let ok = ConverseRequest::new(MODEL).message(
        (0..19)
            .fold(user(), |m, _| m.with(img(10)))
            .with(img(MAX_IMAGE_BYTES))
            .with(doc(MAX_DOCUMENT_BYTES)),
    );
    assert!(ok.validate().is_ok());
    let big = ConverseRequest::new(MODEL)
        .message(
            user()
                .with(img(MAX_IMAGE_BYTES + 1))
                .with(doc(MAX_DOCUMENT_BYTES + 1)),
        )
        .content_limits(ContentLimits::none());
    converser.converse(&big).unwrap();
    let got = last_body(&server);
    let b64 = got["messages"][0]["content"][1]["image"]["source"]["bytes"]
        .as_str()
        .unwrap();
    assert_eq!(
        aws_smithy_types::base64::decode(b64).unwrap().len(),
        MAX_IMAGE_BYTES + 1
    );
    let lifted = ContentLimits {
        max_document_bytes: None,
        ..ContentLimits::default()
    };
    let pdf = ConverseRequest::new(MODEL)
        .message(user().with(doc(MAX_DOCUMENT_BYTES + 1)))
        .content_limits(lifted);
    assert!(pdf.validate().is_ok());
}

#[test]
fn unreadable_files_and_unknown_extensions_are_clear_errors() {
    let dir = temp_dir("bad-files");
    std::fs::write(dir.join("pic.bmp"), b"BM").unwrap();
    let err = Image::from_path(dir.join("pic.bmp")).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, reason } if field == "format" && reason.contains("pic.bmp")),
        "{err:?}"
    );
    assert_eq!(
        Image::from_path_as(dir.join("pic.bmp"), ImageFormat::Png)
            .unwrap()
            .bytes,
        b"BM"
    );
    let err = Document::from_path(dir.join("pic.bmp")).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, .. } if field == "format"),
        "{err:?}"
    );
    let missing = dir.join("missing.png");
    let err = Image::from_path(&missing).unwrap_err();
    match &err {
        Error::File { path, source } => {
            assert_eq!(path, &missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("missing.png"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn guardrail_config_is_sent_in_each_operation_s_own_shape() {
    let (server, converser) = setup();
    let req = request().guardrail(
        GuardrailConfig::new("gr-abc123", "DRAFT")
            .trace(GuardrailTrace::EnabledFull)
            .stream_processing_mode(GuardrailStreamProcessingMode::Async),
    );
    let [whole, streamed] = sent(&server, &converser, &req);
    assert_eq!(
        whole["guardrailConfig"],
        json!({"guardrailIdentifier": "gr-abc123", "guardrailVersion": "DRAFT", "trace": "enabled_full"})
    );
    assert_eq!(
        streamed["guardrailConfig"],
        json!({"guardrailIdentifier": "gr-abc123", "guardrailVersion": "DRAFT", "trace": "enabled_full", "streamProcessingMode": "async"})
    );
    // The service default for trace (disabled) is sent when none is given.
    let [whole, _] = sent(
        &server,
        &converser,
        &request().guardrail(GuardrailConfig::new("gr-1", "7")),
    );
    assert_eq!(whole["guardrailConfig"]["trace"], "disabled");
    assert_eq!(whole["guardrailConfig"]["guardrailVersion"], "7");
}

#[test]
fn cache_points_go_where_they_were_put() {
    let (server, converser) = setup();
    let req = ConverseRequest::new(MODEL)
        .system("A long system prompt.")
        .system_cache_point()
        .message(
            Message::user("A long document.")
                .with_cache_point()
                .with(ContentBlock::Text("The question.".into())),
        )
        .message(Message::assistant("An answer.").with(CachePoint::with_ttl(CacheTtl::OneHour)))
        .user("Next.")
        .tool(weather_tool())
        .tool_cache_point();
    for body in sent(&server, &converser, &req) {
        assert_eq!(
            body["system"],
            json!([{"text": "A long system prompt."}, {"cachePoint": {"type": "default"}}])
        );
        assert_eq!(
            body["messages"][0]["content"],
            json!([{"text": "A long document."}, {"cachePoint": {"type": "default"}}, {"text": "The question."}])
        );
        assert_eq!(
            body["messages"][1]["content"][1],
            json!({"cachePoint": {"type": "default", "ttl": "1h"}})
        );
        assert_eq!(
            body["toolConfig"]["tools"][1],
            json!({"cachePoint": {"type": "default"}})
        );
    }
}

#[test]
fn metadata_latency_tier_field_paths_and_prompt_variables_arrive() {
    let (server, converser) = setup();
    let req = ConverseRequest::new("arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT12345:1")
        .user("hi")
        .request_metadata("team", "search")
        .request_metadata("ticket", "ABC-123")
        .performance_latency(PerformanceConfigLatency::Optimized)
        .service_tier(ServiceTierType::Flex)
        .additional_model_response_field_path("/stop_sequence")
        .additional_model_response_field_path("/amazon-bedrock-trace/x~1y")
        .prompt_variable("genre", "pop")
        .prompt_variable("count", "3");
    for body in sent(&server, &converser, &req) {
        assert_eq!(
            body["requestMetadata"],
            json!({"team": "search", "ticket": "ABC-123"})
        );
        assert_eq!(body["performanceConfig"], json!({"latency": "optimized"}));
        assert_eq!(body["serviceTier"], json!({"type": "flex"}));
        assert_eq!(
            body["additionalModelResponseFieldPaths"],
            json!(["/stop_sequence", "/amazon-bedrock-trace/x~1y"])
        );
        assert_eq!(
            body["promptVariables"],
            json!({"genre": {"text": "pop"}, "count": {"text": "3"}})
        );
    }
}

#[test]
fn a_minimal_request_sends_none_of_the_optional_sections() {
    let (server, converser) = setup();
    for body in sent(&server, &converser, &request()) {
        for key in [
            "toolConfig",
            "guardrailConfig",
            "requestMetadata",
            "performanceConfig",
            "serviceTier",
            "additionalModelResponseFieldPaths",
            "promptVariables",
        ] {
            assert!(body.get(key).is_none(), "{key} should be absent: {body}");
        }
    }
}

#[test]
fn each_new_request_rule_names_its_field_and_sends_nothing() {
    let (server, converser) = setup();
    let tool_use_turn = Message::new(
        Role::Assistant,
        vec![ContentBlock::ToolUse(
            bedrock_converse::types::ToolUseBlock::builder()
                .tool_use_id("t1")
                .name("get_weather")
                .input(aws_smithy_types::Document::Object(Default::default()))
                .build()
                .unwrap(),
        )],
    );
    let cases: Vec<(ConverseRequest, &str)> = vec![
        (
            request().tool(Tool::new("get weather", "x", json!({"type": "object"}))),
            "tool_config.tools[0].name",
        ),
        (
            request().tool(Tool::new("t", "x", json!(["not", "an", "object"]))),
            "tool_config.tools[0].input_schema",
        ),
        (
            request().tool(weather_tool()).tool(weather_tool()),
            "tool_config.tools[1].name",
        ),
        (
            request()
                .tool(weather_tool())
                .tool_choice(ToolChoice::tool("other")),
            "tool_config.choice",
        ),
        (request().tool_choice(ToolChoice::Any), "tool_config.tools"),
        (
            request()
                .message(tool_use_turn)
                .message(Message::tool_results([ToolResult::text("t1", "x")])),
            "tool_config",
        ),
        (
            request().guardrail(GuardrailConfig::new("", "1")),
            "guardrail.identifier",
        ),
        (
            request().guardrail(GuardrailConfig::new("gr", "v1")),
            "guardrail.version",
        ),
        (
            request().guardrail(GuardrailConfig::new("gr", "01")),
            "guardrail.version",
        ),
        (
            request().additional_model_response_field_path("stop_sequence"),
            "additional_model_response_field_paths[0]",
        ),
        (
            request().additional_model_response_field_path(""),
            "additional_model_response_field_paths[0]",
        ),
        (
            request().additional_model_response_field_path("/a~2"),
            "additional_model_response_field_paths[0]",
        ),
        (
            request().request_metadata("", "v"),
            "request_metadata[\"\"]",
        ),
        (
            request().request_metadata("k", "v".repeat(257)),
            "request_metadata[\"k\"]",
        ),
        (request().prompt_variable("", "v"), "prompt_variables"),
    ];
    for (req, field) in cases {
        for streaming in [false, true] {
            let err = if streaming {
                converser.converse_with(&req, &mut NoopHandler).unwrap_err()
            } else {
                converser.converse(&req).unwrap_err()
            };
            match &err {
                Error::InvalidRequest { field: f, .. } => assert_eq!(f, field, "{err}"),
                other => panic!("expected InvalidRequest for {field}, got {other:?}"),
            }
        }
    }
    assert_eq!(server.request_count(), 0);
}

// ---------------------------------------------------------------- conversations

fn texts(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let text: String = m["content"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("|");
            (m["role"].as_str().unwrap().to_owned(), text)
        })
        .collect()
}

fn turns(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(r, t)| (r.to_string(), t.to_string()))
        .collect()
}

#[test]
fn a_conversation_sends_its_history_and_settings_each_turn() {
    let (server, converser) = setup();
    let mut chat = Conversation::new(MODEL)
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
    let (server, converser) = setup();
    let mut chat = Conversation::new(MODEL);
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
    let (server, converser) = setup();
    let mut chat = Conversation::new(MODEL).on_failure(OnFailure::Keep);
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
    let (server, converser) = setup();
    let mut chat = Conversation::new(MODEL).on_failure(OnFailure::Keep);
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

fn weather(call: &ToolUse) -> ToolResult {
    match call.input["city"].as_str() {
        Some("Paris") => call.json_result(json!({"city": "Paris", "sky": "sunny", "temp_c": 24})),
        Some("Oslo") => call.text_result("Oslo: rain, 9 C"),
        other => call.error_result(format!("unknown city {other:?}")),
    }
}

#[test]
fn run_tools_loops_until_the_model_stops_asking() {
    let (server, converser) = setup();
    server.push(
        Reply::empty()
            .with_text("Checking two cities.")
            .tool_use("t1", "get_weather", json!({"city": "Paris"}))
            .tool_use("t2", "get_weather", json!({"city": "Oslo"}))
            .deltas(3),
    );
    server.push(Reply::empty().tool_use("t3", "get_weather", json!({"city": "Atlantis"})));
    server.push(Reply::echo("Tools said: "));
    let mut chat = Conversation::new(MODEL).tool(weather_tool());
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
    let (server, converser) = setup();
    let ask = || Reply::empty().tool_use("t", "get_weather", json!({"city": "Paris"}));
    for on_failure in [OnFailure::RollBack, OnFailure::Keep] {
        let mut chat = Conversation::new(MODEL)
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
    let (server, converser) = setup();
    let mut chat = Conversation::new(MODEL).tool(weather_tool());
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
    let (server, converser) = setup();
    let mut chat = Conversation::new(MODEL)
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
    let (server, converser) = setup();
    let mut chat = Conversation::new(MODEL);
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
