use super::*;
use crate::model::{Audio, Document, Image, Role, ToolResult, Video};
use crate::types::{AudioFormat, DocumentFormat, ImageFormat, VideoFormat};

/// The field and reason of a refused set of messages.
fn refused(messages: &[Message], limits: &ContentLimits) -> (String, String) {
    match check_content(messages, limits) {
        Err(Error::InvalidRequest { field, reason }) => (field, reason),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

fn png(len: usize) -> Image {
    Image::new(ImageFormat::Png, vec![1u8; len])
}

fn pdf(len: usize) -> Document {
    Document::new(DocumentFormat::Pdf, "report", vec![1u8; len])
}

fn wav(len: usize) -> Audio {
    Audio::new(AudioFormat::Wav, vec![1u8; len])
}

fn mp4(len: usize) -> Video {
    Video::new(VideoFormat::Mp4, vec![1u8; len])
}

/// A user turn with a text block and the given media blocks.
fn user(blocks: impl IntoIterator<Item = ContentBlock>) -> Message {
    blocks
        .into_iter()
        .fold(Message::user("look"), |m, block| m.with(block))
}

/// A user turn of tool results, one holding the given blocks.
fn results(blocks: impl IntoIterator<Item = ToolResultContentBlock>) -> Message {
    let mut result = ToolResult::new("t1");
    result.content.extend(blocks);
    Message::tool_results([result])
}

/// A document whose content is text, not bytes.
fn text_document(text: &str) -> ContentBlock {
    ContentBlock::Document(
        DocumentBlock::builder()
            .format(DocumentFormat::Txt)
            .name("notes")
            .source(DocumentSource::Text(text.into()))
            .build()
            .unwrap(),
    )
}

fn limits(f: impl FnOnce(&mut ContentLimits)) -> ContentLimits {
    let mut limits = ContentLimits::none();
    f(&mut limits);
    limits
}

#[test]
fn document_names_are_checked_as_documented() {
    assert_eq!(bad_document_name("Q3 report (final) [v2]-x"), None);
    assert!(bad_document_name("").is_some());
    assert!(bad_document_name("a_b").is_some());
    assert!(bad_document_name("a.pdf").is_some());
    assert!(bad_document_name("two  spaces").is_some());
    assert!(bad_document_name(&"a".repeat(201)).is_some());
    assert_eq!(bad_document_name(&"a".repeat(200)), None);
}

#[test]
fn names_made_from_text_are_valid() {
    for text in [
        "a_b.c",
        "  lead",
        "x\t\ty",
        "ünïcode—dash",
        "",
        "___",
        "Report 2024 (Q3)",
    ] {
        let name = Document::name_from(text);
        assert_eq!(bad_document_name(&name), None, "{text:?} -> {name:?}");
    }
    assert_eq!(Document::name_from("Report 2024 (Q3)"), "Report 2024 (Q3)");
    assert_eq!(Document::name_from(&"x".repeat(300)).len(), 200);
}

#[test]
fn a_refused_document_name_names_the_name_field() {
    let doc = Document::new(DocumentFormat::Pdf, "q3_report", vec![1u8]);
    let (field, reason) = refused(&[user([doc.into()])], &ContentLimits::none());
    assert_eq!(field, "messages[0].content[1].name");
    assert!(reason.contains("'_'"), "{reason}");
}

#[test]
fn media_of_every_kind_is_accepted_in_a_user_turn_and_refused_in_an_assistant_turn() {
    let blocks: [(ContentBlock, &str); 4] = [
        (png(1).into(), "an image"),
        (pdf(1).into(), "a document"),
        (wav(1).into(), "an audio clip"),
        (mp4(1).into(), "a video"),
    ];
    for (block, what) in blocks {
        let limits = ContentLimits::default();
        assert_eq!(
            check_content(&[user([block.clone()])], &limits).ok(),
            Some(()),
            "{what}"
        );
        let turn = Message::assistant("here").with(block);
        let (field, reason) = refused(&[Message::user("hi"), turn], &limits);
        assert_eq!(field, "messages[1].content[1]", "{what}");
        assert!(
            reason.starts_with(&format!("is {what} in an assistant turn")),
            "{reason}"
        );
    }
}

#[test]
fn a_document_needs_a_text_block_in_its_turn_but_not_in_a_tool_result() {
    let none = ContentLimits::none();
    let alone = Message::new(Role::User, vec![pdf(1).into()]);
    let (field, reason) = refused(&[alone], &none);
    assert_eq!(field, "messages[0].content");
    assert!(reason.contains("no text block"), "{reason}");
    // Text after the document counts as well as text before it.
    let after = Message::new(Role::User, vec![pdf(1).into()]).with(ContentBlock::Text("x".into()));
    assert!(check_content(&[after], &none).is_ok());
    assert!(check_content(&[results([pdf(1).into()])], &none).is_ok());
    // A turn with no document needs no text.
    let image_only = Message::new(Role::User, vec![png(1).into()]);
    assert!(check_content(&[image_only], &none).is_ok());
}

#[test]
fn images_are_counted_across_turns_and_tool_results_up_to_the_limit() {
    let two = limits(|l| l.max_images = Some(2));
    let at_limit = [user([png(1).into()]), results([png(1).into()])];
    assert!(check_content(&at_limit, &two).is_ok());
    let over = [
        user([png(1).into()]),
        results([png(1).into()]),
        user([png(1).into()]),
    ];
    let (field, reason) = refused(&over, &two);
    assert_eq!(field, "messages");
    assert!(reason.starts_with("hold 3 images"), "{reason}");
    assert!(reason.contains("at most 2"), "{reason}");
    // Tool results alone count too.
    let in_results = [results([png(1).into(), png(1).into(), png(1).into()])];
    assert_eq!(refused(&in_results, &two).0, "messages");
    // No limit: any number.
    assert!(check_content(&over, &ContentLimits::none()).is_ok());
    // The default is the API's 20.
    let twenty: Vec<ContentBlock> = (0..20).map(|_| png(1).into()).collect();
    assert!(check_content(&[user(twenty.clone())], &ContentLimits::default()).is_ok());
    let twenty_one = user(twenty.into_iter().chain([png(1).into()]));
    assert!(check_content(&[twenty_one], &ContentLimits::default()).is_err());
}

#[test]
fn documents_are_counted_across_turns_and_tool_results_up_to_the_limit() {
    let two = limits(|l| l.max_documents = Some(2));
    let at_limit = [user([pdf(1).into()]), results([pdf(1).into()])];
    assert!(check_content(&at_limit, &two).is_ok());
    let over = [
        user([pdf(1).into()]),
        results([pdf(1).into()]),
        user([pdf(1).into()]),
    ];
    let (field, reason) = refused(&over, &two);
    assert_eq!(field, "messages");
    assert!(reason.starts_with("hold 3 documents"), "{reason}");
    assert!(reason.contains("at most 2"), "{reason}");
    let in_results = [results([pdf(1).into(), pdf(1).into(), pdf(1).into()])];
    assert_eq!(refused(&in_results, &two).0, "messages");
    assert!(check_content(&over, &ContentLimits::none()).is_ok());
    // The default is the API's 5; images do not count as documents.
    let five: Vec<ContentBlock> = (0..5).map(|_| pdf(1).into()).collect();
    let with_images = user(five.clone().into_iter().chain([png(1).into()]));
    assert!(check_content(&[with_images], &ContentLimits::default()).is_ok());
    let six = user(five.into_iter().chain([pdf(1).into()]));
    assert!(check_content(&[six], &ContentLimits::default()).is_err());
}

/// Each media kind's size limit: `max` bytes pass, `max + 1` are refused
/// with the sizes in the reason, no bytes at all are refused, and no limit
/// lets any size through.
#[test]
fn media_sizes_are_checked_at_their_limits() {
    type Make = fn(usize) -> ContentBlock;
    type Set = fn(&mut ContentLimits, Option<usize>);
    let kinds: [(&str, Make, Set); 4] = [
        ("an image", |n| png(n).into(), |l, m| l.max_image_bytes = m),
        (
            "a document",
            |n| pdf(n).into(),
            |l, m| l.max_document_bytes = m,
        ),
        (
            "an audio clip",
            |n| wav(n).into(),
            |l, m| l.max_audio_bytes = m,
        ),
        ("a video", |n| mp4(n).into(), |l, m| l.max_video_bytes = m),
    ];
    for (what, make, set) in kinds {
        let ten = limits(|l| set(l, Some(10)));
        assert!(check_content(&[user([make(10)])], &ten).is_ok(), "{what}");
        assert!(check_content(&[user([make(1)])], &ten).is_ok(), "{what}");
        let (field, reason) = refused(&[user([make(11)])], &ten);
        assert_eq!(field, "messages[0].content[1]", "{what}");
        assert!(
            reason.starts_with(&format!("is {what} of 11 bytes")),
            "{reason}"
        );
        assert!(reason.contains("at most 10 bytes"), "{reason}");
        let (field, reason) = refused(&[user([make(0)])], &ten);
        assert_eq!(field, "messages[0].content[1]", "{what}");
        assert!(reason.contains("no "), "{what}: {reason}");
        let unlimited = limits(|l| set(l, None));
        assert!(
            check_content(&[user([make(1000)])], &unlimited).is_ok(),
            "{what}"
        );
        assert!(
            check_content(&[user([make(0)])], &unlimited).is_err(),
            "{what}"
        );
    }
}

#[test]
fn media_in_tool_results_is_measured_like_media_in_a_turn() {
    let ten = limits(|l| {
        l.max_image_bytes = Some(10);
        l.max_document_bytes = Some(10);
        l.max_video_bytes = Some(10);
    });
    let kinds: [fn(usize) -> ToolResultContentBlock; 3] =
        [|n| png(n).into(), |n| pdf(n).into(), |n| mp4(n).into()];
    for make in kinds {
        assert!(check_content(&[results([make(10)])], &ten).is_ok());
        let (field, _) = refused(&[results([make(11)])], &ten);
        assert_eq!(field, "messages[0].content[0].content[0]");
        assert!(check_content(&[results([make(0)])], &ten).is_err());
    }
}

#[test]
fn the_default_limits_are_the_api_reference_figures() {
    let d = ContentLimits::default();
    let at = |block: ContentBlock| check_content(&[user([block])], &d).is_ok();
    assert!(at(png(3_932_160).into()));
    assert!(!at(png(3_932_161).into()));
    assert!(at(pdf(4_718_592).into()));
    assert!(!at(pdf(4_718_593).into()));
    assert!(at(mp4(19_660_800).into()));
    assert!(!at(mp4(19_660_801).into()));
    assert!(at(wav(30_000_000).into()));
}

#[test]
fn a_text_document_is_measured_by_its_text() {
    let ten = limits(|l| l.max_document_bytes = Some(10));
    assert!(check_content(&[user([text_document("0123456789")])], &ten).is_ok());
    let (field, reason) = refused(&[user([text_document("0123456789a")])], &ten);
    assert_eq!(field, "messages[0].content[1]");
    assert!(reason.contains("11 bytes"), "{reason}");
    let (_, reason) = refused(&[user([text_document("")])], &ten);
    assert!(reason.contains("no content"), "{reason}");
}

#[test]
fn media_in_s3_is_not_measured_but_its_uri_must_name_a_bucket_and_key() {
    let tiny = limits(|l| {
        l.max_image_bytes = Some(1);
        l.max_document_bytes = Some(1);
        l.max_video_bytes = Some(1);
        l.max_audio_bytes = Some(1);
    });
    // Our media types hold only parsed URIs, so the bad ones come in SDK
    // blocks built directly (as a caller or a batch record may).
    fn at(uri: &str) -> S3Location {
        S3Location::builder().uri(uri).build().unwrap()
    }
    type Make = fn(&str) -> ContentBlock;
    let kinds: [Make; 4] = [
        |uri| {
            let source = ImageSource::S3Location(at(uri));
            ContentBlock::Image(
                ImageBlock::builder()
                    .format(ImageFormat::Png)
                    .source(source)
                    .build()
                    .unwrap(),
            )
        },
        |uri| {
            let source = DocumentSource::S3Location(at(uri));
            ContentBlock::Document(
                DocumentBlock::builder()
                    .format(DocumentFormat::Pdf)
                    .name("report")
                    .source(source)
                    .build()
                    .unwrap(),
            )
        },
        |uri| {
            let source = AudioSource::S3Location(at(uri));
            ContentBlock::Audio(
                AudioBlock::builder()
                    .format(AudioFormat::Wav)
                    .source(source)
                    .build()
                    .unwrap(),
            )
        },
        |uri| {
            let source = VideoSource::S3Location(at(uri));
            ContentBlock::Video(
                VideoBlock::builder()
                    .format(VideoFormat::Mp4)
                    .source(source)
                    .build()
                    .unwrap(),
            )
        },
    ];
    // The ones our types make pass.
    let typed: [ContentBlock; 4] = [
        Image::from_s3(ImageFormat::Png, "s3://b/k").unwrap().into(),
        Document::from_s3(DocumentFormat::Pdf, "report", "s3://b/k")
            .unwrap()
            .into(),
        Audio::from_s3(AudioFormat::Wav, "s3://b/k").unwrap().into(),
        Video::from_s3(VideoFormat::Mp4, "s3://b/k").unwrap().into(),
    ];
    for block in typed {
        assert!(check_content(&[user([block])], &tiny).is_ok());
    }
    for make in kinds {
        assert!(check_content(&[user([make("s3://bucket/key.bin")])], &tiny).is_ok());
        assert!(check_content(&[user([make("s3://b")])], &tiny).is_ok());
        for bad in ["", "s3://", "s3:///key", "https://bucket/key", "bucket/key"] {
            let (field, reason) = refused(&[user([make(bad)])], &tiny);
            assert_eq!(
                field, "messages[0].content[1].source.s3Location.uri",
                "{bad:?}"
            );
            assert!(reason.contains("s3://bucket/key"), "{reason}");
        }
    }
    // In a tool result too.
    let (field, _) = refused(
        &[results([ToolResultContentBlock::Image(
            ImageBlock::builder()
                .format(ImageFormat::Png)
                .source(ImageSource::S3Location(at("s3://")))
                .build()
                .unwrap(),
        )])],
        &tiny,
    );
    assert_eq!(
        field,
        "messages[0].content[0].content[0].source.s3Location.uri"
    );
}
