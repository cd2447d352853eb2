//! What a reply brings back, and that Converse and ConverseStream bring the
//! same: every content kind a reply can carry (text, tool use, reasoning,
//! citations, images, a service's tool results), stop reasons, usage and
//! cache details, served both ways and compared as whole `Response`s. Search
//! results (and images, documents or videos) inside a service's tool result
//! have no delta, so only a whole reply brings them; a test shows that.

use crate::support::{both_ways, haiku_request, setup, songs_request};
use bedrock_converse::model::{CacheDetails, Metrics, Role, StopReason, Usage};
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::types::{
    CitationLocation, ContentBlock, ImageSource, ReasoningContentBlock, ToolResultContentBlock,
    ToolUseType,
};
use bedrock_converse::Message;
use bedrock_converse_mock::{Operation, Reply};
use serde_json::{json, Value};

#[test]
fn text_in_many_deltas_assembles_the_same() {
    let (server, converser) = setup();
    for reply in [
        Reply::text("The quick brown fox jumps over the lazy dog").deltas(7),
        Reply::text("one two  three\nfour").word_deltas(),
        Reply::empty()
            .with_text("first")
            .with_text("second")
            .deltas(3),
    ] {
        let r = both_ways(&server, &converser, reply, &haiku_request());
        assert!(matches!(&r.content()[0], ContentBlock::Text(t) if !t.is_empty()));
    }
}

#[test]
fn tool_use_assembles_the_same() {
    let (server, converser) = setup();
    let input = json!({"city": "Paris", "days": 3, "units": {"temp": "C"}, "tags": ["a", "é"]});
    let r = both_ways(
        &server,
        &converser,
        Reply::text("Checking.")
            .tool_use("tu-1", "weather", input.clone())
            .deltas(9),
        &haiku_request(),
    );
    assert!(r.stopped_for_tool_use());
    let calls = r.tool_uses();
    assert_eq!((calls[0].id.as_str(), &calls[0].input), ("tu-1", &input));
}

#[test]
fn reasoning_and_redacted_reasoning_assemble_the_same() {
    let (server, converser) = setup();
    let r = both_ways(
        &server,
        &converser,
        Reply::empty()
            .reasoning("First, the user wants a number.", "sig-123")
            .redacted_reasoning(vec![0u8, 255, 7, 8, 9, 10])
            .with_text("42")
            .deltas(4),
        &haiku_request(),
    );
    let ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(t)) = &r.content()[0]
    else {
        panic!("{:?}", r.content()[0])
    };
    assert_eq!(t.signature.as_deref(), Some("sig-123"));
    let ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(b)) = &r.content()[1]
    else {
        panic!("{:?}", r.content()[1])
    };
    assert_eq!(b.as_ref(), &[0u8, 255, 7, 8, 9, 10]);
}

fn cited(location: Value) -> Value {
    json!({"title": "Paris weather", "source": "https://example.com/paris",
           "sourceContent": [{"text": "Sunny, 24 C."}], "location": location})
}

#[test]
fn citations_of_documents_search_results_and_the_web_assemble_the_same() {
    let (server, converser) = setup();
    let citations = vec![
        cited(json!({"documentChar": {"documentIndex": 0, "start": 3, "end": 9}})),
        cited(json!({"searchResultLocation": {"searchResultIndex": 1, "start": 0, "end": 1}})),
        cited(json!({"web": {"url": "https://example.com/paris", "domain": "example.com"}})),
    ];
    let r = both_ways(
        &server,
        &converser,
        Reply::empty()
            .with_text("It is ")
            .cited_text("sunny and 24 C.", citations)
            .deltas(3),
        &haiku_request(),
    );
    assert_eq!(r.text(), "It is sunny and 24 C.");
    let ContentBlock::CitationsContent(c) = &r.content()[1] else {
        panic!("{:?}", r.content()[1])
    };
    let kinds: Vec<_> = c
        .citations()
        .iter()
        .map(|c| match c.location.as_ref().unwrap() {
            CitationLocation::DocumentChar(_) => "documentChar",
            CitationLocation::SearchResultLocation(l) => {
                assert_eq!(l.search_result_index, Some(1));
                "searchResultLocation"
            }
            CitationLocation::Web(_) => "web",
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["documentChar", "searchResultLocation", "web"]);
}

#[test]
fn generated_images_assemble_the_same() {
    let (server, converser) = setup();
    let png: Vec<u8> = (0u8..=200).collect();
    let r = both_ways(
        &server,
        &converser,
        Reply::empty().with_text("Here:").image("png", &png),
        &haiku_request(),
    );
    let ContentBlock::Image(image) = &r.content()[1] else {
        panic!("{:?}", r.content()[1])
    };
    assert_eq!(image.format.as_str(), "png");
    assert!(matches!(&image.source, Some(ImageSource::Bytes(b)) if b.as_ref() == png.as_slice()));
}

#[test]
fn service_tool_calls_and_their_text_and_json_results_assemble_the_same() {
    let (server, converser) = setup();
    let r = both_ways(
        &server,
        &converser,
        Reply::empty()
            .server_tool_use("srv-1", "web_search", json!({"query": "paris weather"}))
            .tool_result(
                "srv-1",
                vec![
                    json!({"text": "Sunny, 24 C"}),
                    json!({"json": {"temp": 24}}),
                ],
            )
            .with_text("It is sunny."),
        &haiku_request(),
    );
    let ContentBlock::ToolUse(call) = &r.content()[0] else {
        panic!("{:?}", r.content()[0])
    };
    assert_eq!(call.r#type, Some(ToolUseType::ServerToolUse));
    assert!(r.tool_uses().is_empty(), "the service ran it");
    let ContentBlock::ToolResult(result) = &r.content()[1] else {
        panic!("{:?}", r.content()[1])
    };
    assert_eq!(result.tool_use_id, "srv-1");
    assert_eq!(
        result.content.len(),
        2,
        "text pieces join: {:?}",
        result.content
    );
    assert_eq!(
        result.content[0],
        ToolResultContentBlock::Text("Sunny, 24 C".into())
    );
    assert!(result.content[1].is_json());
}

#[test]
fn search_results_in_a_service_tool_result_come_only_in_a_whole_reply() {
    let (server, converser) = setup();
    let search = json!({"searchResult": {"source": "https://example.com/paris", "title": "Paris",
        "content": [{"text": "Sunny, 24 C."}]}});
    let reply = Reply::empty()
        .server_tool_use("srv-1", "web_search", json!({"query": "paris"}))
        .tool_result("srv-1", vec![search]);
    server.push(reply.clone());
    let whole = converser.converse(&haiku_request()).unwrap();
    let ContentBlock::ToolResult(result) = &whole.content()[1] else {
        panic!("{:?}", whole.content())
    };
    let found = result.content[0].as_search_result().unwrap();
    assert_eq!(
        (found.title(), found.content()[0].text()),
        ("Paris", "Sunny, 24 C.")
    );
    // ConverseStream has no delta for it: the streamed block is empty.
    server.push(reply);
    let streamed = converser
        .converse_with(&haiku_request(), &mut NoopHandler)
        .unwrap();
    let ContentBlock::ToolResult(result) = &streamed.content()[1] else {
        panic!("{:?}", streamed.content())
    };
    assert!(result.content.is_empty());
}

#[test]
fn a_json_reply_assembles_the_same_as_text_and_as_a_forced_tool() {
    let (server, converser) = setup();
    let songs = json!({"songs": [{"title": "Levitating", "artist": "Dua Lipa"}]});
    let r = both_ways(
        &server,
        &converser,
        Reply::json(&songs).deltas(5),
        &haiku_request(),
    );
    assert_eq!(serde_json::from_str::<Value>(&r.text()).unwrap(), songs);
    // The same reply to a request forcing a tool is a call of that tool.
    let forced = haiku_request()
        .tool(bedrock_converse::model::Tool::new(
            "respond",
            "Answer.",
            json!({"type": "object"}),
        ))
        .tool_choice(bedrock_converse::model::ToolChoice::tool("respond"));
    let r = both_ways(&server, &converser, Reply::json(&songs).deltas(5), &forced);
    assert!(r.stopped_for_tool_use());
    let calls = r.tool_uses();
    assert_eq!(
        (calls[0].name.as_str(), &calls[0].input),
        ("respond", &songs)
    );
    assert_eq!(r.text(), "");
}

#[test]
fn converse_returns_the_whole_reply() {
    let (server, converser) = setup();
    server.push(
        Reply::text("1. Shake It Off - Taylor Swift")
            .usage(25, 9)
            .latency_ms(321)
            .request_id("req-1"),
    );
    let r = converser.converse(&songs_request()).unwrap();
    assert_eq!(r.text(), "1. Shake It Off - Taylor Swift");
    assert_eq!(r.message.role, Role::Assistant);
    assert_eq!(r.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(r.usage, Some(Usage::new(25, 9, 34)));
    assert_eq!(r.metrics, Some(Metrics::new(321)));
    assert_eq!(r.request_id.as_deref(), Some("req-1"));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].operation, Some(Operation::Converse));
}

#[test]
fn streamed_response_equals_whole_response() {
    let (server, converser) = setup();
    let scripts = [
        Reply::text("The quick brown fox jumps over the lazy dog").deltas(7),
        Reply::text("cut short")
            .stop_reason("max_tokens")
            .usage(3, 2),
        Reply::text("fields")
            .additional_model_response_fields(json!({"stop_sequence": "\n\nHuman:", "n": 3})),
        Reply::text("ünïcödé ✓ text").deltas(5).latency_ms(9),
        Reply::empty()
            .with_text("two")
            .with_text(" blocks")
            .deltas(2)
            .stop_reason("stop_sequence"),
        Reply::text("odd").stop_reason("some_future_reason"),
    ];
    for (i, script) in scripts.into_iter().enumerate() {
        let id = format!("same-{i}");
        server.push(script.clone().request_id(&id));
        server.push(script.request_id(&id));
        let whole = converser.converse(&songs_request()).unwrap();
        let streamed = converser
            .converse_with(&songs_request(), &mut NoopHandler)
            .unwrap();
        assert_eq!(streamed, whole, "script {i}");
        assert_eq!(whole.request_id.as_deref(), Some(id.as_str()));
    }
}

#[test]
fn unknown_stop_reason_is_kept_as_its_string() {
    let (server, converser) = setup();
    server.push(Reply::text("x").stop_reason("some_future_reason"));
    let r = converser
        .converse_with(&songs_request(), &mut NoopHandler)
        .unwrap();
    assert_eq!(r.stop_reason.unwrap().as_str(), "some_future_reason");
}

#[test]
fn reply_content_blocks_are_the_sdk_types() {
    let (server, converser) = setup();
    server.push(Reply::text("hi"));
    let r = converser.converse(&songs_request()).unwrap();
    assert_eq!(r.content(), &[ContentBlock::Text("hi".into())]);
    assert_eq!(r.message, Message::assistant("hi"));
}

#[test]
fn stop_reason_helpers_read_what_the_service_sent() {
    let (server, converser) = setup();
    // (reason, truncated, tool use, blocked)
    let cases = [
        ("end_turn", false, false, false),
        ("max_tokens", true, false, false),
        ("model_context_window_exceeded", true, false, false),
        ("tool_use", false, true, false),
        ("guardrail_intervened", false, false, true),
        ("content_filtered", false, false, true),
        ("stop_sequence", false, false, false),
        ("a_future_reason", false, false, false),
    ];
    for (reason, truncated, tool_use, blocked) in cases {
        let r = both_ways(
            &server,
            &converser,
            Reply::text("cut off here").stop_reason(reason),
            &haiku_request(),
        );
        assert_eq!(r.stop_reason.as_ref().map(|s| s.as_str()), Some(reason));
        assert_eq!(r.is_truncated(), truncated, "{reason}");
        assert_eq!(r.stopped_for_tool_use(), tool_use, "{reason}");
        assert_eq!(r.is_blocked(), blocked, "{reason}");
    }
    let r = both_ways(
        &server,
        &converser,
        Reply::text("checking").tool_use("t1", "weather", json!({"city": "Oslo"})),
        &haiku_request(),
    );
    assert!(r.stopped_for_tool_use());
    assert_eq!(r.tool_uses()[0].name, "weather");
}

#[test]
fn cache_details_arrive_from_converse_and_converse_stream() {
    let (server, converser) = setup();
    let reply = Reply::text("cached")
        .usage(12, 1)
        .cache_tokens(512, 2148)
        .cache_details(&[("1h", 2048), ("5m", 100)]);
    for streamed in [false, true] {
        server.push(reply.clone());
        let r = if streamed {
            converser.converse_with(&haiku_request(), &mut bedrock_converse::stream::NoopHandler)
        } else {
            converser.converse(&haiku_request())
        }
        .unwrap();
        let usage = r.usage.unwrap();
        assert_eq!(usage.cache_read_input_tokens, Some(512));
        assert_eq!(usage.cache_write_input_tokens, Some(2148));
        let details = usage.cache_details.expect("cache details");
        assert_eq!(
            details,
            CacheDetails::new(100, 2048),
            "streamed: {streamed}"
        );
        assert_eq!(details.total(), 2148);
    }
    // An unknown TTL is counted, not dropped; none sent is `None`.
    let r = both_ways(
        &server,
        &converser,
        Reply::text("x").cache_details(&[("1d", 7), ("5m", 3)]),
        &haiku_request(),
    );
    let d = r.usage.unwrap().cache_details.unwrap();
    assert_eq!((d.five_minutes, d.one_hour, d.other), (3, 0, 7));
    let r = both_ways(&server, &converser, Reply::text("x"), &haiku_request());
    assert_eq!(r.usage.unwrap().cache_details, None);
}

#[test]
fn cache_details_add_up_over_calls() {
    let mut a = bedrock_converse::model::Usage::new(10, 2, 12);
    a.cache_details = Some(CacheDetails::new(1, 2));
    let b = bedrock_converse::model::Usage::new(1, 1, 2);
    assert_eq!((a + b).cache_details, Some(CacheDetails::new(1, 2)));
    assert_eq!((a + a).cache_details, Some(CacheDetails::new(2, 4)));
    assert_eq!((b + b).cache_details, None);
}
