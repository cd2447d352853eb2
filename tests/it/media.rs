//! Media in a request: images, documents, audio and video from bytes, files or
//! S3, in the wire shape on both operations; the documented size and count
//! limits checked before anything is sent; search results and documents
//! inside tool results.

use crate::support::weather::{
    bodies_both_ways, last_body, weather_request, weather_setup, weather_tool, WEATHER_MODEL,
};
use crate::support::TempDir;
use crate::support::{field_of, sent_both_ways, setup, MAX_DOCUMENT_BYTES, MAX_IMAGE_BYTES, OMNI};
use bedrock_converse::model::{
    Audio, ContentLimits, Document, Image, Role, S3Source, SearchResult, Tool, ToolResult, Video,
};
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::types::{
    AudioFormat, ContentBlock, DocumentFormat, ImageBlock, ImageFormat, ImageSource, S3Location,
    ToolResultContentBlock, VideoBlock, VideoFormat, VideoSource,
};
use bedrock_converse::{ConverseRequest, Error, Message};
use serde_json::json;

#[test]
fn images_and_documents_arrive_as_base64_with_format_and_name() {
    let (server, converser) = weather_setup();
    let dir = TempDir::new("media");
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

    let req = ConverseRequest::new(WEATHER_MODEL).message(
        Message::user("Compare these.")
            .with(from_file)
            .with(Image::new(ImageFormat::Jpeg, vec![0xFF, 0xD8, 0xFF]))
            .with(doc.citations(true).context("A quarterly report"))
            .with(csv),
    );
    for body in bodies_both_ways(&server, &converser, &req) {
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
    let req = weather_request()
        .tool(weather_tool())
        .message(Message::assistant("ok"))
        .message(Message::tool_results([ToolResult::new("t1")
            .with_image(Image::new(ImageFormat::Gif, b"GIF89a".to_vec()))
            .with_document(Document::new(
                DocumentFormat::Txt,
                "forecast",
                b"sunny".to_vec(),
            ))]));
    let body = &bodies_both_ways(&server, &converser, &req)[1];
    let result = &body["messages"][2]["content"][0]["toolResult"]["content"];
    assert_eq!(result[0]["image"]["format"], "gif");
    assert_eq!(result[1]["document"]["name"], "forecast");
}

#[test]
fn media_past_the_documented_limits_fails_before_sending() {
    let (server, converser) = weather_setup();
    let img = |n: usize| Image::new(ImageFormat::Png, vec![1u8; n]);
    let doc = |n: usize| Document::new(DocumentFormat::Txt, "doc", vec![b'a'; n]);
    let user = || Message::user("Look.");
    let cases: Vec<(ConverseRequest, &str, &str)> = vec![
        (
            ConverseRequest::new(WEATHER_MODEL).message(user().with(img(MAX_IMAGE_BYTES + 1))),
            "messages[0].content[1]",
            "3.75 MB",
        ),
        (
            ConverseRequest::new(WEATHER_MODEL)
                .message((0..21).fold(user(), |m, _| m.with(img(10)))),
            "messages",
            "21 images",
        ),
        (
            ConverseRequest::new(WEATHER_MODEL).message(user().with(doc(MAX_DOCUMENT_BYTES + 1))),
            "messages[0].content[1]",
            "4.50 MB",
        ),
        (
            ConverseRequest::new(WEATHER_MODEL)
                .message((0..6).fold(user(), |m, _| m.with(doc(10)))),
            "messages",
            "6 documents",
        ),
        (
            ConverseRequest::new(WEATHER_MODEL)
                .message(Message::new(Role::User, vec![doc(10).into()])),
            "messages[0].content",
            "text block",
        ),
        (
            ConverseRequest::new(WEATHER_MODEL)
                .user("hi")
                .message(Message::assistant("see").with(img(10)))
                .user("ok"),
            "messages[1].content[1]",
            "user turns",
        ),
        (
            ConverseRequest::new(WEATHER_MODEL).message(user().with(doc(10).name("bad_name.txt"))),
            "messages[0].content[1].name",
            "'_'",
        ),
        (
            ConverseRequest::new(WEATHER_MODEL).message(user().with(doc(10).name("two  spaces"))),
            "messages[0].content[1].name",
            "whitespace",
        ),
        (
            ConverseRequest::new(WEATHER_MODEL).message(user().with(img(0))),
            "messages[0].content[1]",
            "no bytes",
        ),
        // Images inside tool results count too.
        (
            weather_request()
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
    let at_limit = ConverseRequest::new(WEATHER_MODEL).message(
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
    let ok = ConverseRequest::new(WEATHER_MODEL).message(
        (0..19)
            .fold(user(), |m, _| m.with(img(10)))
            .with(img(MAX_IMAGE_BYTES))
            .with(doc(MAX_DOCUMENT_BYTES)),
    );
    assert!(ok.validate().is_ok());
    let big = ConverseRequest::new(WEATHER_MODEL)
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
    let pdf = ConverseRequest::new(WEATHER_MODEL)
        .message(user().with(doc(MAX_DOCUMENT_BYTES + 1)))
        .content_limits(lifted);
    assert!(pdf.validate().is_ok());
}

#[test]
fn unreadable_files_and_unknown_extensions_are_clear_errors() {
    let dir = TempDir::new("bad-files");
    std::fs::write(dir.join("pic.bmp"), b"BM").unwrap();
    let err = Image::from_path(dir.join("pic.bmp")).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, reason } if field == "format" && reason.contains("pic.bmp")),
        "{err:?}"
    );
    assert_eq!(
        Image::from_path_as(dir.join("pic.bmp"), ImageFormat::Png)
            .unwrap()
            .source
            .bytes(),
        Some(&b"BM"[..])
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
}

fn b64(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(bytes)
}

fn search_tool() -> Tool {
    Tool::new("search", "Searches the web.", json!({"type": "object"}))
}

fn tool_use_block(id: &str) -> ContentBlock {
    ContentBlock::ToolUse(
        bedrock_converse::types::ToolUseBlock::builder()
            .tool_use_id(id)
            .name("search")
            .input(aws_smithy_types::Document::Object(Default::default()))
            .build()
            .unwrap(),
    )
}

#[test]
fn audio_video_and_s3_sources_arrive_in_the_wire_shape() {
    let (server, converser) = setup();
    let user = Message::user("Describe all of these.")
        .with(Audio::new(AudioFormat::Wav, b"RIFFwav".to_vec()))
        .with(Audio::from_s3(AudioFormat::Mp3, "s3://clips/call.mp3").unwrap())
        .with(Video::new(VideoFormat::Mp4, b"mp4bytes".to_vec()))
        .with(Video::new(
            VideoFormat::Mov,
            S3Source::new("s3://shared/clip.mov".parse().unwrap()).bucket_owner("111122223333"),
        ))
        .with(Image::from_s3(ImageFormat::Png, "s3://pics/cat.png").unwrap())
        .with(Document::from_s3(DocumentFormat::Pdf, "q3 report", "s3://docs/q3.pdf").unwrap());
    let req = ConverseRequest::new(OMNI).message(user);
    for body in sent_both_ways(&server, &converser, &req) {
        let c = &body["messages"][0]["content"];
        assert_eq!(
            c[1],
            json!({"audio": {"format": "wav", "source": {"bytes": b64(b"RIFFwav")}}})
        );
        assert_eq!(
            c[2],
            json!({"audio": {"format": "mp3", "source": {"s3Location": {"uri": "s3://clips/call.mp3"}}}})
        );
        assert_eq!(
            c[3],
            json!({"video": {"format": "mp4", "source": {"bytes": b64(b"mp4bytes")}}})
        );
        assert_eq!(
            c[4],
            json!({"video": {"format": "mov", "source": {"s3Location":
                {"uri": "s3://shared/clip.mov", "bucketOwner": "111122223333"}}}})
        );
        assert_eq!(
            c[5],
            json!({"image": {"format": "png", "source": {"s3Location": {"uri": "s3://pics/cat.png"}}}})
        );
        assert_eq!(
            c[6],
            json!({"document": {"format": "pdf", "name": "q3 report",
                "source": {"s3Location": {"uri": "s3://docs/q3.pdf"}}}})
        );
    }
}

#[test]
fn audio_and_video_files_take_their_format_from_the_extension() {
    let dir = TempDir::new("audio-video");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let a = Audio::from_path(write("call.FLAC", b"fLaC")).unwrap();
    assert_eq!(
        (a.format, a.source.bytes()),
        (AudioFormat::Flac, Some(&b"fLaC"[..]))
    );
    let v = Video::from_path(write("clip.webm", b"webm")).unwrap();
    assert_eq!(v.format, VideoFormat::Webm);
    assert_eq!(
        Video::from_path(write("c.3gp", b"x")).unwrap().format,
        VideoFormat::ThreeGp
    );
    let err = Video::from_path(write("clip.avi", b"x")).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, .. } if field == "format"),
        "{err:?}"
    );
    let err = Audio::from_path(dir.join("missing.wav")).unwrap_err();
    assert!(matches!(err, Error::File { .. }), "{err:?}");
}

#[test]
fn media_limits_and_s3_uris_are_checked_before_sending() {
    let (server, converser) = setup();
    let with =
        |block: ContentBlock| ConverseRequest::new(OMNI).message(Message::user("look").with(block));
    let limits = ContentLimits::default();
    let max_video = limits.max_video_bytes.unwrap();
    assert_eq!(max_video, 25 * 1024 * 1024 * 3 / 4, "base64 under 25 MB");
    assert_eq!(limits.max_audio_bytes, None, "no documented audio limit");
    // A video one byte too large as bytes; the same in S3 is not measured.
    let big = with(Video::new(VideoFormat::Mp4, vec![0u8; max_video + 1]).into());
    assert_eq!(field_of(&big), "messages[0].content[1]");
    let before = server.requests().len();
    assert!(matches!(
        converser.converse(&big),
        Err(Error::InvalidRequest { .. })
    ));
    assert_eq!(server.requests().len(), before, "nothing was sent");
    let lifted = big.clone().content_limits(ContentLimits {
        max_video_bytes: None,
        ..ContentLimits::default()
    });
    assert!(lifted.validate().is_ok());
    assert!(with(
        Video::from_s3(VideoFormat::Mp4, "s3://b/k.mp4")
            .unwrap()
            .into()
    )
    .validate()
    .is_ok());
    // An audio limit, when set, is checked like the others.
    let audio = with(Audio::new(AudioFormat::Wav, vec![1u8; 11]).into());
    assert!(audio.validate().is_ok());
    let capped = audio.content_limits(ContentLimits {
        max_audio_bytes: Some(10),
        ..ContentLimits::default()
    });
    assert_eq!(field_of(&capped), "messages[0].content[1]");
    // Empty bytes, a URI that is not s3://bucket/key, media from the assistant.
    assert_eq!(
        field_of(&with(Audio::new(AudioFormat::Wav, Vec::new()).into())),
        "messages[0].content[1]"
    );
    // Our media types refuse a bad URI where it is given...
    for uri in ["https://b/k.png", "s3://", "s3:///k"] {
        let err = Image::from_s3(ImageFormat::Png, uri).unwrap_err();
        assert!(err.to_string().contains("s3://bucket/key"), "{err}");
    }
    assert!(Document::from_s3(DocumentFormat::Pdf, "d", "http://x/d.pdf").is_err());
    // ...and an SDK block built by hand with one is refused before sending.
    let location = |uri: &str| S3Location::builder().uri(uri).build().unwrap();
    for uri in ["https://b/k.png", "s3://", "s3:///k"] {
        let raw = ImageBlock::builder()
            .format(ImageFormat::Png)
            .source(ImageSource::S3Location(location(uri)))
            .build()
            .unwrap();
        assert_eq!(
            field_of(&with(ContentBlock::Image(raw))),
            "messages[0].content[1].source.s3Location.uri",
            "{uri}"
        );
    }
    let assistant = ConverseRequest::new(OMNI)
        .user("hi")
        .message(Message::assistant("here").with(Video::new(VideoFormat::Mp4, b"x".to_vec())))
        .user("thanks");
    assert_eq!(field_of(&assistant), "messages[1].content[1]");
    // In a tool result, a video is checked too.
    let mut result = ToolResult::new("t1");
    result.content.push(ToolResultContentBlock::Video(
        VideoBlock::builder()
            .format(VideoFormat::Mp4)
            .source(VideoSource::S3Location(location("gs://x")))
            .build()
            .unwrap(),
    ));
    let req = ConverseRequest::new(OMNI)
        .user("hi")
        .message(Message::assistant("calling").with(tool_use_block("t1")))
        .message(Message::tool_results([result]))
        .tool(search_tool());
    assert_eq!(
        field_of(&req),
        "messages[2].content[0].content[0].source.s3Location.uri"
    );
}

#[test]
fn search_results_go_in_a_turn_and_in_a_tool_result() {
    let (server, converser) = setup();
    let result = || {
        SearchResult::new("https://example.com/paris", "Paris weather")
            .passage("Sunny, 24 C.")
            .passage("Light wind.")
            .citations(true)
    };
    let wire = json!({"searchResult": {"source": "https://example.com/paris", "title": "Paris weather",
        "content": [{"text": "Sunny, 24 C."}, {"text": "Light wind."}], "citations": {"enabled": true}}});
    let req = ConverseRequest::new(OMNI)
        .message(Message::user("Weather?").with(result()))
        .message(Message::assistant("Searching.").with(tool_use_block("t1")))
        .message(Message::tool_results([
            ToolResult::new("t1").with_search_result(result())
        ]))
        .tool(search_tool());
    for body in sent_both_ways(&server, &converser, &req) {
        assert_eq!(body["messages"][0]["content"][1], wire);
        let tool_result = &body["messages"][2]["content"][0]["toolResult"];
        assert_eq!(tool_result["toolUseId"], "t1");
        assert_eq!(tool_result["content"][0], wire);
    }
    // Without citations set, none are sent.
    let plain = SearchResult::new("s", "t").passage("p");
    let req = ConverseRequest::new(OMNI).message(Message::user("q").with(plain));
    let [body, _] = sent_both_ways(&server, &converser, &req);
    assert!(body["messages"][0]["content"][1]["searchResult"]
        .get("citations")
        .is_none());
}

/// A tool whose results a request sends back.
fn looking_tool() -> bedrock_converse::model::Tool {
    bedrock_converse::model::Tool::new(
        "look",
        "Looks at a file.",
        serde_json::json!({"type": "object"}),
    )
}

/// A document inside a tool result is held to the same limits as one in a
/// user turn, and counts toward the documents per request.
#[test]
fn documents_inside_tool_results_are_checked_and_counted() {
    let request = |limits: bedrock_converse::model::ContentLimits| {
        ConverseRequest::new("amazon.nova-lite-v1:0")
            .tool(looking_tool())
            .message(Message::tool_results([
                bedrock_converse::model::ToolResult::text("tooluse_1", "the file:").with_document(
                    bedrock_converse::model::Document::new(
                        bedrock_converse::types::DocumentFormat::Txt,
                        "notes",
                        b"four".to_vec(),
                    ),
                ),
            ]))
            .content_limits(limits)
    };
    request(bedrock_converse::model::ContentLimits::default())
        .validate()
        .unwrap();

    let err = request(bedrock_converse::model::ContentLimits {
        max_document_bytes: Some(3),
        ..bedrock_converse::model::ContentLimits::default()
    })
    .validate()
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, .. } if field == "messages[0].content[0].content[1]"),
        "{err:?}"
    );

    let err = request(bedrock_converse::model::ContentLimits {
        max_documents: Some(0),
        ..bedrock_converse::model::ContentLimits::default()
    })
    .validate()
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest { field, reason } if field == "messages" && reason.contains("1 documents")),
        "{err:?}"
    );
}
