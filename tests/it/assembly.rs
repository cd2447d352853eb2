//! Every content kind a reply can carry, served the same way to Converse
//! and ConverseStream: `converse` and `converse_with` must return equal
//! content (and equal whole `Response`s). What a stream can carry is what
//! the SDK's `ContentBlockStart`/`ContentBlockDelta` have: text, tool use,
//! reasoning (text, signature, redacted), citations, images, and the
//! text/JSON pieces of a tool result the service produced. Search results
//! (and images, documents or videos) inside a service's tool result have
//! no delta, so only a whole reply brings them; a test shows that.

use bedrock_converse::stream::NoopHandler;
use bedrock_converse::types::{
    CitationLocation, ContentBlock, ImageSource, ReasoningContentBlock, ToolResultContentBlock,
    ToolUseType,
};
use bedrock_converse::{ConverseRequest, Converser, Response};
use bedrock_converse_mock::{MockServer, Reply};
use serde_json::{json, Value};

use crate::common::{both_ways, setup};

fn request() -> ConverseRequest {
    ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0").user("hello")
}

/// Serves `reply` to `converse` and to `converse_with`; asserts that both
/// operations were used and gave equal content and equal `Response`s;
/// returns the whole one.
fn same_both_ways(server: &MockServer, converser: &Converser, reply: Reply) -> Response {
    both_ways(server, converser, reply, &request())
}

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
        let r = same_both_ways(&server, &converser, reply);
        assert!(matches!(&r.content()[0], ContentBlock::Text(t) if !t.is_empty()));
    }
}

#[test]
fn tool_use_assembles_the_same() {
    let (server, converser) = setup();
    let input = json!({"city": "Paris", "days": 3, "units": {"temp": "C"}, "tags": ["a", "é"]});
    let r = same_both_ways(
        &server,
        &converser,
        Reply::text("Checking.")
            .tool_use("tu-1", "weather", input.clone())
            .deltas(9),
    );
    assert!(r.stopped_for_tool_use());
    let calls = r.tool_uses();
    assert_eq!((calls[0].id.as_str(), &calls[0].input), ("tu-1", &input));
}

#[test]
fn reasoning_and_redacted_reasoning_assemble_the_same() {
    let (server, converser) = setup();
    let r = same_both_ways(
        &server,
        &converser,
        Reply::empty()
            .reasoning("First, the user wants a number.", "sig-123")
            .redacted_reasoning(vec![0u8, 255, 7, 8, 9, 10])
            .with_text("42")
            .deltas(4),
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
    let r = same_both_ways(
        &server,
        &converser,
        Reply::empty()
            .with_text("It is ")
            .cited_text("sunny and 24 C.", citations)
            .deltas(3),
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
    let r = same_both_ways(
        &server,
        &converser,
        Reply::empty().with_text("Here:").image("png", &png),
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
    let r = same_both_ways(
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
    let whole = converser.converse(&request()).unwrap();
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
        .converse_with(&request(), &mut NoopHandler)
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
    let r = same_both_ways(&server, &converser, Reply::json(&songs).deltas(5));
    assert_eq!(serde_json::from_str::<Value>(&r.text()).unwrap(), songs);
    // The same reply to a request forcing a tool is a call of that tool.
    let forced = request()
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
