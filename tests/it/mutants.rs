//! Behaviour that the mutation sample (`cargo mutants --shard 0/87
//! --sharding round-robin`) found no test constraining: each test here fails
//! on the mutant named in its doc comment and passes on the real code.

use std::time::Duration;

use bedrock_converse::batch::Batch;
use bedrock_converse::client::Quota;
use bedrock_converse::error::TimeoutKind;
use bedrock_converse::model::{ContentLimits, Document, Image, Tool, ToolResult};
use bedrock_converse::types::{DocumentFormat, ImageFormat};
use bedrock_converse::{ConverseRequest, Error, Message};
use bedrock_converse_mock::{MockServer, Reply};

use crate::common::assert_timeout;

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
/// quota's estimate deleted). With 1,000 tokens a minute and some spent, a
/// call whose tool result holds an image (about 1,600 tokens) waits for the
/// window to empty and meets its deadline there, sending nothing; the same
/// call without the image goes straight through.
#[test]
fn an_image_in_a_tool_result_counts_toward_the_token_quota() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .quota(Quota::new().tokens_per_minute(1_000))
        .timeout(Duration::from_millis(300))
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
    server.push(Reply::text("ok").usage(10, 2));
    converser.converse(&result(false)).unwrap();
    server.push(Reply::text("ok").usage(10, 2));
    converser.converse(&result(false)).unwrap();
    let err = converser.converse(&result(true)).unwrap_err();
    assert_timeout(&err, TimeoutKind::Deadline);
    assert_eq!(server.request_count(), 2, "the waiting call sent nothing");
    assert_eq!(converser.limiter_stats().unwrap().waited_calls, 1);
}
