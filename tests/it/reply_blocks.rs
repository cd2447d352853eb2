//! The richer blocks of a reply, streamed as typed events and assembled into
//! the `Response`: reasoning with its signature (and redacted reasoning),
//! citations, a guardrail's trace, and a service's own tool calls, results
//! and images.

use crate::support::weather::{
    both_ways_recorded, citations, weather_request, weather_setup, weather_tool, WEATHER_MODEL,
};
use bedrock_converse::model::{GuardrailConfig, StopReason};
use bedrock_converse::stream::{BlockStart, NoopHandler};
use bedrock_converse::types::{
    CitationGeneratedContent, CitationLocation, CitationSourceContent, ContentBlock,
    GuardrailTopicPolicyAction, GuardrailTrace, ImageFormat, ImageSource, ReasoningContentBlock,
    ToolResultBlockDelta, ToolResultContentBlock, ToolResultStatus, ToolUseType,
};
use bedrock_converse::{Conversation, Delta};
use bedrock_converse_mock::Reply;
use serde_json::json;

#[test]
fn reasoning_keeps_its_signature_for_the_next_turn() {
    let (server, converser) = weather_setup();
    let reply = Reply::empty()
        .reasoning(
            "Paris is in France; use the tool.",
            "RXh0ZW5kZWQgdGhpbmtpbmc=",
        )
        .tool_use("tooluse_1", "get_weather", json!({"city": "Paris"}))
        .deltas(3);
    let (r, rec) = both_ways_recorded(
        &server,
        &converser,
        reply.clone(),
        &weather_request().tool(weather_tool()),
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
    let mut chat = Conversation::new(WEATHER_MODEL).tool(weather_tool());
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
    let (server, converser) = weather_setup();
    let bytes: Vec<u8> = (0..=255u8).rev().collect();
    let (r, rec) = both_ways_recorded(
        &server,
        &converser,
        Reply::empty()
            .redacted_reasoning(bytes.clone())
            .with_text("ok")
            .deltas(4),
        &weather_request(),
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
    let (server, converser) = weather_setup();
    let reply = Reply::empty()
        .with_text("Per the report, ")
        .cited_text("revenue grew 12% and costs were flat.", citations())
        .deltas(3);
    let (r, rec) = both_ways_recorded(&server, &converser, reply, &weather_request());
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
    let (server, converser) = weather_setup();
    let req = weather_request()
        .guardrail(GuardrailConfig::new("mock-guardrail", "1").trace(GuardrailTrace::Enabled));
    let (r, rec) = both_ways_recorded(
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
fn service_tool_results_and_images_stream_as_typed_blocks() {
    let (server, converser) = weather_setup();
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
    let (r, rec) = both_ways_recorded(&server, &converser, reply, &weather_request());
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
