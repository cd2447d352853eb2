//! Behaviour that the mutation sample (`cargo mutants --shard 0/87
//! --sharding round-robin`) found no test constraining: each test here fails
//! on the mutant named in its doc comment and passes on the real code.

use std::time::Duration;

use bedrock_converse::batch::Batch;
use bedrock_converse::client::Quota;
use bedrock_converse::model::{ContentLimits, Document, Image, Tool, ToolResult};
use bedrock_converse::types::{DocumentFormat, ImageFormat};
use bedrock_converse::{ConverseRequest, Error, Message};
use bedrock_converse_mock::{MockServer, Reply};

const MODEL: &str = "amazon.nova-lite-v1:0";

/// The tool whose results the requests below send back.
fn tool() -> Tool {
    Tool::new(
        "look",
        "Looks at a file.",
        serde_json::json!({"type": "object"}),
    )
}

/// A `Batch` prints its settings (mutant: `Debug::fmt` writing nothing).
#[test]
fn a_batch_debug_shows_its_settings() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let batch = Batch::new(&converser, "amazon.nova-lite-v1:0")
        .concurrency(3)
        .resume(true);
    let shown = format!("{batch:?}");
    assert!(shown.starts_with("Batch {"), "{shown}");
    for part in [
        "model_id: \"amazon.nova-lite-v1:0\"",
        "concurrency: 3",
        "resume: true",
    ] {
        assert!(shown.contains(part), "{part} missing from {shown}");
    }
}

/// A document inside a tool result is held to the same limits as one in a
/// user turn, and counts toward the documents per request (mutant: the
/// tool-result `Document` arm of the media check deleted).
#[test]
fn documents_inside_tool_results_are_checked_and_counted() {
    let request = |limits: ContentLimits| {
        ConverseRequest::new(MODEL)
            .tool(tool())
            .message(Message::tool_results([ToolResult::text(
                "tooluse_1",
                "the file:",
            )
            .with_document(Document::new(
                DocumentFormat::Txt,
                "notes",
                b"four".to_vec(),
            ))]))
            .content_limits(limits)
    };
    request(ContentLimits::default()).validate().unwrap();

    let err = request(ContentLimits {
        max_document_bytes: Some(3),
        ..ContentLimits::default()
    })
    .validate()
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, .. } if field == "messages[0].content[0].content[1]"),
        "{err:?}"
    );

    let err = request(ContentLimits {
        max_documents: Some(0),
        ..ContentLimits::default()
    })
    .validate()
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, reason } if field == "messages" && reason.contains("1 documents")),
        "{err:?}"
    );
}

/// An image inside a tool result counts toward the tokens a call reserves,
/// as one in a user turn does (mutant: the tool-result `Image` arm of the
/// quota's estimate deleted). While a call is in flight the limiter holds
/// its whole reservation: about 1,600 tokens more with the image.
#[test]
fn an_image_in_a_tool_result_counts_toward_the_token_quota() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .quota(Quota::new().tokens_per_minute(1_000_000))
        .build()
        .unwrap();
    let result = |image: bool| {
        let mut result = ToolResult::text("tooluse_1", "the picture:");
        if image {
            result = result.with_image(Image::new(ImageFormat::Png, vec![0u8; 64]));
        }
        ConverseRequest::new(MODEL)
            .tool(tool())
            .message(Message::tool_results([result]))
            .max_tokens(10)
    };
    // The tokens the window holds while a call of `request` is in flight
    // (its reply is slow), then once it has settled at 12.
    let reserved = |request: ConverseRequest| {
        server.push(
            Reply::text("ok")
                .deltas(2)
                .usage(10, 2)
                .frame_delay(Duration::from_millis(300)),
        );
        let before = converser.limiter_stats().unwrap();
        let call = converser.spawn(&request).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while converser.limiter_stats().unwrap().calls == before.calls {
            assert!(std::time::Instant::now() < deadline, "never admitted");
            std::thread::sleep(Duration::from_millis(5));
        }
        let during = converser.limiter_stats().unwrap().window_tokens;
        call.wait().unwrap();
        during - before.window_tokens
    };
    let without = reserved(result(false));
    let with = reserved(result(true));
    assert!(without < 1_000, "{without}");
    assert!(with >= without + 1_600, "{without} -> {with}");
}
