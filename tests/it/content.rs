//! Issue 13's remainder: stop-reason helpers, cache details, CountTokens,
//! the newer content kinds (audio, video, S3 sources, search results), and
//! every kind a reply can carry assembled identically from Converse and
//! ConverseStream.

use bedrock_converse::model::{
    Audio, CacheDetails, ContentLimits, Document, Image, S3Source, SearchResult, Tool, ToolResult,
    Video,
};
use bedrock_converse::types::{
    AudioFormat, ContentBlock, DocumentFormat, ImageFormat, VideoFormat,
};
use bedrock_converse::{ConverseRequest, Converser, Error, Message, Response};
use bedrock_converse_mock::{MockServer, Operation, Reply};
use serde_json::{json, Value};

use crate::common::{both_ways, setup};

fn request() -> ConverseRequest {
    ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0").user("hello there")
}

/// Serves `reply` to `converse` and to `converse_with`, checks that both
/// give the same content (and the same whole `Response`), and returns the
/// whole one.
fn both(server: &MockServer, converser: &Converser, reply: Reply) -> Response {
    both_ways(server, converser, reply, &request())
}

// ------------------------------------------------------------ stop reasons

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
        let r = both(
            &server,
            &converser,
            Reply::text("cut off here").stop_reason(reason),
        );
        assert_eq!(r.stop_reason.as_ref().map(|s| s.as_str()), Some(reason));
        assert_eq!(r.is_truncated(), truncated, "{reason}");
        assert_eq!(r.stopped_for_tool_use(), tool_use, "{reason}");
        assert_eq!(r.is_blocked(), blocked, "{reason}");
    }
    let r = both(
        &server,
        &converser,
        Reply::text("checking").tool_use("t1", "weather", json!({"city": "Oslo"})),
    );
    assert!(r.stopped_for_tool_use());
    assert_eq!(r.tool_uses()[0].name, "weather");
}

// ------------------------------------------------------------ cache details

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
            converser.converse_with(&request(), &mut bedrock_converse::stream::NoopHandler)
        } else {
            converser.converse(&request())
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
    let r = both(
        &server,
        &converser,
        Reply::text("x").cache_details(&[("1d", 7), ("5m", 3)]),
    );
    let d = r.usage.unwrap().cache_details.unwrap();
    assert_eq!((d.five_minutes, d.one_hour, d.other), (3, 0, 7));
    let r = both(&server, &converser, Reply::text("x"));
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

// ------------------------------------------------------------ count tokens

#[test]
fn count_tokens_sends_the_converse_input_and_returns_the_count() {
    let (server, converser) = setup();
    let req = ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0")
        .system("Answer in one word.")
        .user("What colour is the sky on a clear day?")
        .max_tokens(50);
    let n = converser.count_tokens(&req).unwrap();
    // The mock counts words: 4 in the system prompt, 9 in the message.
    assert_eq!(n, 13);
    let recorded = server.requests().pop().unwrap();
    assert_eq!(recorded.operation, Some(Operation::CountTokens));
    assert_eq!(recorded.method, "POST");
    assert_eq!(
        recorded.path,
        "/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/count-tokens"
    );
    assert_eq!(
        recorded.model_id,
        "anthropic.claude-haiku-4-5-20251001-v1:0"
    );
    let converse = &recorded.body["input"]["converse"];
    assert_eq!(
        converse["messages"],
        json!([{"role": "user", "content": [{"text": "What colour is the sky on a clear day?"}]}])
    );
    assert_eq!(converse["system"], json!([{"text": "Answer in one word."}]));
    // Settings that do not change the input count are not sent.
    assert!(converse.get("inferenceConfig").is_none(), "{converse}");
    assert_eq!(recorded.body.as_object().unwrap().len(), 1);
    // A longer prompt counts more; no scripted reply was taken.
    server.push(Reply::text("still queued"));
    // (Claude needs the turns to alternate: one word of answer, seven of question.)
    let more = converser
        .count_tokens(
            &req.clone()
                .assistant("Blue.")
                .user("And at sunset, in a few words?"),
        )
        .unwrap();
    assert_eq!(more, n + 8);
    assert_eq!(
        converser.converse(&request()).unwrap().text(),
        "still queued"
    );
}

#[test]
fn count_tokens_refuses_bad_requests_locally_and_reports_service_errors() {
    let (server, converser) = setup();
    let before = server.requests().len();
    let err = converser
        .count_tokens(&ConverseRequest::new("m"))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert_eq!(server.requests().len(), before, "nothing was sent");
    // The server's own check: a body without `input.converse`.
    let client = reqwest_like_post(&server, "/model/m/count-tokens", r#"{"input": {}}"#);
    assert!(client.starts_with("400"), "{client}");
    assert!(client.contains("ValidationException"), "{client}");
}

#[test]
fn a_model_that_cannot_count_tokens_is_a_typed_non_retryable_error() {
    let (server, converser) = setup();
    let err = converser
        .count_tokens(&ConverseRequest::new("amazon.nova-lite-v1:0").user("How many?"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::CountTokensUnsupported { model_id, .. } if model_id == "amazon.nova-lite-v1:0"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(
        err.to_string().contains("does not support CountTokens"),
        "{err}"
    );
    let service = err.as_service().unwrap();
    assert_eq!(
        service.message,
        "The provided model doesn't support counting tokens."
    );
    assert!(err.request_id().is_some());
    // One request: the refusal is not retried.
    assert_eq!(server.requests().len(), 1);
}

/// A bare HTTP/1 POST to the mock, returning "STATUS BODY".
fn reqwest_like_post(server: &MockServer, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let addr = server.addr();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split_whitespace().nth(1).unwrap_or("").to_owned();
    let header = out
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("x-amzn-errortype"))
        .unwrap_or("");
    format!(
        "{status} {header} {}",
        out.rsplit("\r\n\r\n").next().unwrap_or("")
    )
}

// ------------------------------------------------------------ media

const MODEL: &str = "us.amazon.nova-2-omni-v1:0";

fn b64(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(bytes)
}

/// Sends `req` through both operations; returns the two bodies received.
fn sent(server: &MockServer, converser: &Converser, req: &ConverseRequest) -> [Value; 2] {
    server.push(Reply::text("ok"));
    server.push(Reply::text("ok"));
    converser.converse(req).unwrap();
    converser
        .converse_with(req, &mut bedrock_converse::stream::NoopHandler)
        .unwrap();
    let mut r = server.requests();
    let streamed = r.pop().unwrap();
    let whole = r.pop().unwrap();
    assert_eq!(whole.operation, Some(Operation::Converse));
    assert_eq!(streamed.operation, Some(Operation::ConverseStream));
    [whole.body, streamed.body]
}

#[test]
fn audio_video_and_s3_sources_arrive_in_the_wire_shape() {
    let (server, converser) = setup();
    let user = Message::user("Describe all of these.")
        .with(Audio::new(AudioFormat::Wav, b"RIFFwav".to_vec()))
        .with(Audio::from_s3(AudioFormat::Mp3, "s3://clips/call.mp3"))
        .with(Video::new(VideoFormat::Mp4, b"mp4bytes".to_vec()))
        .with({
            let mut v = Video::from_s3(VideoFormat::Mov, "s3://shared/clip.mov");
            v.s3 = Some(S3Source::new("s3://shared/clip.mov").bucket_owner("111122223333"));
            v
        })
        .with(Image::from_s3(ImageFormat::Png, "s3://pics/cat.png"))
        .with(Document::from_s3(
            DocumentFormat::Pdf,
            "q3 report",
            "s3://docs/q3.pdf",
        ));
    let req = ConverseRequest::new(MODEL).message(user);
    for body in sent(&server, &converser, &req) {
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
    let dir = std::env::temp_dir().join(format!("bc-content-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let a = Audio::from_path(write("call.FLAC", b"fLaC")).unwrap();
    assert_eq!(
        (a.format, a.bytes.as_slice()),
        (AudioFormat::Flac, &b"fLaC"[..])
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
    std::fs::remove_dir_all(&dir).ok();
}

fn field_of(req: &ConverseRequest) -> String {
    match req.validate() {
        Err(Error::InvalidRequest { field, .. }) => field,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn media_limits_and_s3_uris_are_checked_before_sending() {
    let (server, converser) = setup();
    let with = |block: ContentBlock| {
        ConverseRequest::new(MODEL).message(Message::user("look").with(block))
    };
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
    assert!(
        with(Video::from_s3(VideoFormat::Mp4, "s3://b/k.mp4").into())
            .validate()
            .is_ok()
    );
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
    for uri in ["https://b/k.png", "s3://", "s3:///k"] {
        assert_eq!(
            field_of(&with(Image::from_s3(ImageFormat::Png, uri).into())),
            "messages[0].content[1].source.s3Location.uri",
            "{uri}"
        );
    }
    let doc = with(Document::from_s3(DocumentFormat::Pdf, "d", "http://x/d.pdf").into());
    assert_eq!(
        field_of(&doc),
        "messages[0].content[1].source.s3Location.uri"
    );
    let assistant = ConverseRequest::new(MODEL)
        .user("hi")
        .message(Message::assistant("here").with(Video::new(VideoFormat::Mp4, b"x".to_vec())))
        .user("thanks");
    assert_eq!(field_of(&assistant), "messages[1].content[1]");
    // In a tool result, a video is checked too.
    let result = ToolResult::new("t1").with_video(Video::from_s3(VideoFormat::Mp4, "gs://x"));
    let req = ConverseRequest::new(MODEL)
        .user("hi")
        .message(Message::assistant("calling").with(tool_use_block("t1")))
        .message(Message::tool_results([result]))
        .tool(search_tool());
    assert_eq!(
        field_of(&req),
        "messages[2].content[0].content[0].source.s3Location.uri"
    );
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
    let req = ConverseRequest::new(MODEL)
        .message(Message::user("Weather?").with(result()))
        .message(Message::assistant("Searching.").with(tool_use_block("t1")))
        .message(Message::tool_results([
            ToolResult::new("t1").with_search_result(result())
        ]))
        .tool(search_tool());
    for body in sent(&server, &converser, &req) {
        assert_eq!(body["messages"][0]["content"][1], wire);
        let tool_result = &body["messages"][2]["content"][0]["toolResult"];
        assert_eq!(tool_result["toolUseId"], "t1");
        assert_eq!(tool_result["content"][0], wire);
    }
    // Without citations set, none are sent.
    let plain = SearchResult::new("s", "t").passage("p");
    let req = ConverseRequest::new(MODEL).message(Message::user("q").with(plain));
    let [body, _] = sent(&server, &converser, &req);
    assert!(body["messages"][0]["content"][1]["searchResult"]
        .get("citations")
        .is_none());
}

#[test]
fn strict_tools_are_sent_fitted_and_refused_locally_outside_the_subset() {
    let (server, converser) = setup();
    let schema = json!({"type": "object", "properties": {
        "city": {"type": "string"},
        "units": {"type": "object", "properties": {"c": {"type": "boolean"}}}}});
    let req = ConverseRequest::new(MODEL)
        .user("weather?")
        .tool(Tool::new("weather", "Weather in a city.", schema.clone()).strict(true))
        .tool(Tool::new("loose", "Not strict.", schema.clone()));
    for body in sent(&server, &converser, &req) {
        let strict = &body["toolConfig"]["tools"][0]["toolSpec"];
        assert_eq!(strict["strict"], true);
        let sent_schema = &strict["inputSchema"]["json"];
        assert_eq!(sent_schema["additionalProperties"], false);
        assert_eq!(
            sent_schema["properties"]["units"]["additionalProperties"],
            false
        );
        // A tool that is not strict goes as written.
        assert_eq!(
            body["toolConfig"]["tools"][1]["toolSpec"]["inputSchema"]["json"],
            schema
        );
    }
    // A bound the grammar cannot hold is sent as a description.
    let bounded = json!({"type": "object", "properties": {"n": {"type": "integer", "maximum": 9}}});
    let req = ConverseRequest::new(MODEL)
        .user("pick")
        .tool(Tool::new("pick", "Picks.", bounded).strict(true));
    for body in sent(&server, &converser, &req) {
        let sent_schema = &body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"];
        assert_eq!(
            sent_schema["properties"]["n"],
            json!({"type": "integer", "description": "Must be at most 9."})
        );
    }
    // What no description can stand for is refused locally.
    let bad = json!({"type": "object", "properties": {"n": {"type": "object",
        "additionalProperties": {"type": "integer"}}}});
    let req = ConverseRequest::new(MODEL)
        .user("pick")
        .tool(Tool::new("pick", "Picks.", bad.clone()).strict(true));
    assert_eq!(
        field_of(&req),
        "tool_config.tools[0].input_schema/properties/n/additionalProperties"
    );
    let before = server.requests().len();
    assert!(converser.converse(&req).is_err());
    assert_eq!(server.requests().len(), before);
    // The same schema on a tool that is not strict is the service's business.
    let loose = ConverseRequest::new(MODEL)
        .user("pick")
        .tool(Tool::new("pick", "Picks.", bad));
    assert!(loose.validate().is_ok());
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
