//! Typed extraction (`Converser::extract`, `extract_with`): what reaches the
//! server in each mode and operation, local refusals, unreadable replies,
//! re-asks, and the server's own schema checks.

use bedrock_converse::client::{Extract, ExtractMode, ExtractOptions};
use bedrock_converse::model::schema::Unsupported;
use bedrock_converse::model::Usage;
use bedrock_converse::stream::handler_fn;
use bedrock_converse::{ConverseRequest, Delta, Error, StreamEvent};
use bedrock_converse_mock::{MockServer, Operation, RecordedRequest, Reply};
use serde::Deserialize;
use serde_json::{json, Value};
use std::ops::ControlFlow;

#[derive(Debug, Deserialize, schemars::JsonSchema, PartialEq)]
struct Song {
    title: String,
    artist: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema, PartialEq)]
struct Playlist {
    songs: Vec<Song>,
}

fn playlist_json() -> Value {
    json!({"songs": [
        {"title": "Blinding Lights", "artist": "The Weeknd"},
        {"title": "Levitating", "artist": "Dua Lipa"}
    ]})
}

fn request() -> ConverseRequest {
    ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0")
        .user("Create a list of 2 pop songs.")
}

fn expected() -> Playlist {
    serde_json::from_value(playlist_json()).unwrap()
}

/// The schema sent as `outputConfig.textFormat`, parsed back from its string.
fn sent_output_schema(recorded: &RecordedRequest) -> Value {
    let format = &recorded.body["outputConfig"]["textFormat"];
    assert_eq!(format["type"], "json_schema", "{format}");
    let text = format["structure"]["jsonSchema"]["schema"]
        .as_str()
        .unwrap_or_else(|| panic!("the schema is not a string: {format}"));
    serde_json::from_str(text).unwrap()
}

fn assert_is_playlist_schema(schema: &Value) {
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], json!(["songs"]));
    let song = &schema["$defs"]["Song"];
    assert_eq!(song["additionalProperties"], false);
    assert_eq!(song["properties"]["artist"]["type"], "string");
}

/// Calls `extract` (streamed or not) and counts the text deltas the handler saw.
fn extract_both(
    converser: &bedrock_converse::Converser,
    extract: Extract<'_>,
    streamed: bool,
) -> (
    Result<bedrock_converse::client::Extracted<Playlist>, Error>,
    usize,
) {
    if !streamed {
        return (converser.extract::<Playlist>(extract), 0);
    }
    let mut deltas = 0;
    let mut handler = handler_fn(|event: &StreamEvent| {
        if let StreamEvent::Delta {
            delta: Delta::Text(_) | Delta::ToolUseInput(_),
            ..
        } = event
        {
            deltas += 1;
        }
        ControlFlow::Continue(())
    });
    let result = converser.extract_with::<Playlist, _>(extract, &mut handler);
    drop(handler);
    (result, deltas)
}

#[test]
fn native_mode_sends_the_schema_as_a_string_on_both_operations() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    for streamed in [false, true] {
        server.push(Reply::json(&playlist_json()).deltas(5).usage(20, 30));
        let request = request();
        let (result, deltas) = extract_both(&converser, Extract::from(&request), streamed);
        let extracted = result.unwrap();
        assert_eq!(extracted.value, expected());
        assert_eq!(extracted.response.usage, Some(Usage::new(20, 30, 50)));
        if streamed {
            assert_eq!(deltas, 5, "the JSON's text deltas reach the handler");
        }
        let recorded = server.requests().pop().unwrap();
        let operation = if streamed {
            Operation::ConverseStream
        } else {
            Operation::Converse
        };
        assert_eq!(recorded.operation, Some(operation));
        assert_is_playlist_schema(&sent_output_schema(&recorded));
        assert!(recorded.body.get("toolConfig").is_none());
    }
}

#[test]
fn tool_mode_forces_one_strict_tool_on_both_operations() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    for streamed in [false, true] {
        server.push(
            Reply::empty()
                .tool_use("tu-1", "respond", playlist_json())
                .deltas(4),
        );
        let request = request();
        let extract = Extract::new(&request, ExtractOptions::new().mode(ExtractMode::Tool));
        let (result, deltas) = extract_both(&converser, extract, streamed);
        assert_eq!(result.unwrap().value, expected());
        if streamed {
            assert!(deltas >= 2, "the tool input's deltas reach the handler");
        }
        let body = server.requests().pop().unwrap().body;
        let spec = &body["toolConfig"]["tools"][0]["toolSpec"];
        assert_eq!(spec["name"], "respond");
        assert_eq!(spec["strict"], true);
        assert_is_playlist_schema(&spec["inputSchema"]["json"]);
        assert_eq!(body["toolConfig"]["toolChoice"]["tool"]["name"], "respond");
        assert!(body.get("outputConfig").is_none());
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Person {
    name: String,
    #[schemars(range(min = 18))]
    age: u8,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Named {
    #[schemars(length(min = 1, max = 20))]
    name: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Scores {
    scores: std::collections::HashMap<String, u32>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Tags {
    #[schemars(length(min = 2))]
    tags: Vec<String>,
}

#[test]
fn under_refuse_unsupported_keywords_are_refused_locally_with_their_path() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let request = request();
    let field = |err: Error| match err {
        Error::InvalidRequest { field, .. } => field,
        other => panic!("expected InvalidRequest, got {other:?}"),
    };
    let refuse = ExtractOptions::new().unsupported(Unsupported::Refuse);
    let err = converser
        .extract::<Person>(Extract::new(&request, refuse.clone()))
        .unwrap_err();
    assert_eq!(
        field(err),
        "output_config.text_format.schema/properties/age/minimum"
    );
    let err = converser
        .extract::<Named>(Extract::new(&request, refuse.clone()))
        .unwrap_err();
    assert_eq!(
        field(err),
        "output_config.text_format.schema/properties/name/minLength"
    );
    let mut handler = handler_fn(|_: &StreamEvent| ControlFlow::Continue(()));
    let extract = Extract::new(&request, refuse.mode(ExtractMode::Tool));
    let err = converser
        .extract_with::<Tags, _>(extract, &mut handler)
        .unwrap_err();
    assert_eq!(
        field(err),
        "tool_config.tools[0].input_schema/properties/tags/minItems"
    );
    // What no description can stand for is refused either way: a map.
    let err = converser.extract::<Scores>(&request).unwrap_err();
    assert_eq!(
        field(err),
        "output_config.text_format.schema/properties/scores/additionalProperties"
    );
    assert_eq!(server.request_count(), 0, "nothing was sent");
}

#[test]
fn a_raw_schema_is_sent_with_its_bounds_described() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::json(&json!({"code": "ABCD"})));
    let raw = request().output_schema(json!({
        "type": "object",
        "properties": {"code": {"type": "string", "maxLength": 3}}
    }));
    // Nothing checks a raw schema's bounds on the reply: converse returns text.
    assert_eq!(
        converser.converse(&raw).unwrap().text(),
        r#"{"code":"ABCD"}"#
    );
    let sent = sent_output_schema(&server.requests()[0]);
    assert_eq!(
        sent["properties"]["code"],
        json!({"type": "string", "description": "Must be at most 3 characters long."})
    );
}

#[test]
fn a_truncated_reply_is_invalid_output_with_the_raw_text() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let half = r#"{"songs": [{"title": "Blinding Li"#;
    for streamed in [false, true] {
        server.push(Reply::text(half).stop_reason("max_tokens").usage(20, 8));
        let request = request();
        let (result, _) = extract_both(&converser, Extract::from(&request), streamed);
        let err = result.unwrap_err();
        assert!(err.is_invalid_output() && !err.is_retryable());
        let Error::InvalidOutput {
            raw,
            reason,
            response,
        } = err
        else {
            panic!("expected InvalidOutput")
        };
        assert_eq!(raw, half);
        assert!(reason.contains("max_tokens"), "{reason}");
        assert_eq!(
            response.stop_reason.as_ref().unwrap().as_str(),
            "max_tokens"
        );
        assert_eq!(response.usage, Some(Usage::new(20, 8, 28)));
    }
}

#[test]
fn a_streamed_tool_input_that_is_not_json_is_invalid_output() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(Reply::empty().raw_block(
        json!({"toolUse": {"toolUseId": "t", "name": "respond", "input": {}}}),
        Some(json!({"toolUse": {"toolUseId": "t", "name": "respond"}})),
        vec![json!({"toolUse": {"input": "{\"songs\": ["}})],
    ));
    let request = request();
    let mut handler = handler_fn(|_: &StreamEvent| ControlFlow::Continue(()));
    let extract = Extract::new(&request, ExtractOptions::new().mode(ExtractMode::Tool));
    let err = converser
        .extract_with::<Playlist, _>(extract, &mut handler)
        .unwrap_err();
    match err {
        Error::InvalidOutput { raw, .. } => assert_eq!(raw, "{\"songs\": ["),
        other => panic!("expected InvalidOutput, got {other:?}"),
    }
}

#[test]
fn retries_re_ask_with_the_error_and_sum_usage() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    // Native: a refusal in prose, then the JSON.
    server.push(Reply::text("I'd rather not.").usage(20, 4));
    server.push(Reply::json(&playlist_json()).usage(40, 30));
    let request = request();
    let extracted = converser
        .extract::<Playlist>(Extract::new(&request, ExtractOptions::new().retries(1)))
        .unwrap();
    assert_eq!(extracted.value, expected());
    assert_eq!(extracted.response.usage, Some(Usage::new(60, 34, 94)));
    let second = server.requests().pop().unwrap().body;
    let messages = second["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1]["content"][0]["text"], "I'd rather not.");
    let complaint = messages[2]["content"][0]["text"].as_str().unwrap();
    assert!(complaint.contains("expected value"), "{complaint}");
    assert_is_playlist_schema(&sent_output_schema(&server.requests()[1]));

    // Tool mode: a wrong-shaped input is answered with an error tool result.
    server.push(
        Reply::empty()
            .tool_use("tu-1", "respond", json!({"songs": "none"}))
            .usage(10, 5),
    );
    server.push(
        Reply::empty()
            .tool_use("tu-2", "respond", playlist_json())
            .usage(30, 20),
    );
    let extract = Extract::new(
        &request,
        ExtractOptions::new().mode(ExtractMode::Tool).retries(2),
    );
    let extracted = converser.extract::<Playlist>(extract).unwrap();
    assert_eq!(extracted.response.usage, Some(Usage::new(40, 25, 65)));
    let body = server.requests().pop().unwrap().body;
    let result = &body["messages"][2]["content"][0]["toolResult"];
    assert_eq!(result["toolUseId"], "tu-1");
    assert_eq!(result["status"], "error");

    // Out of attempts: the error carries the usage of both.
    server.push(Reply::text("no").usage(1, 1));
    server.push(Reply::text("still no").usage(2, 2));
    let err = converser
        .extract::<Playlist>(Extract::new(&request, ExtractOptions::new().retries(1)))
        .unwrap_err();
    let response = err.partial_response().unwrap();
    assert_eq!(response.usage, Some(Usage::new(3, 3, 6)));
    assert_eq!(response.text(), "still no");
}

#[test]
fn the_server_refuses_a_bad_schema_sent_raw() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let base = json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}]});
    let cases = [
        json!("{not json"),
        json!(
            r#"{"type":"object","additionalProperties":false,"properties":{"s":{"type":"string","format":"ipv5"}}}"#
        ),
        json!({"type": "object"}),
        json!(
            r#"{"type":"object","additionalProperties":false,"properties":{"n":{"type":"integer","maximum":3}}}"#
        ),
    ];
    for schema in cases {
        let mut body = base.clone();
        body["outputConfig"] = json!({"textFormat": {"type": "json_schema",
            "structure": {"jsonSchema": {"schema": schema}}}});
        // Sent without the client, which would refuse or fit these first.
        let status = post(&server, &body);
        assert_eq!(status.0, 400, "{schema}");
        assert_eq!(status.1.as_deref(), Some("ValidationException"));
    }
    // A fitted schema passes, through the client.
    server.push(Reply::json(&json!({"n": 1})));
    let request = request().output_schema(json!({"type": "object",
        "properties": {"n": {"type": "integer"}}, "required": ["n"]}));
    assert_eq!(converser.converse(&request).unwrap().text(), r#"{"n":1}"#);
    drop(converser);
}

/// POSTs `body` to the server's `/converse` with a bare HTTP/1.1 client;
/// returns the status and the `x-amzn-ErrorType` header.
fn post(server: &MockServer, body: &Value) -> (u16, Option<String>) {
    use std::io::{Read, Write};
    let body = body.to_string();
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    write!(
        stream,
        "POST /model/amazon.nova-lite-v1%3A0/converse HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let status = reply[9..12].parse().unwrap();
    let error_type = reply.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("x-amzn-errortype")
            .then(|| value.trim().to_owned())
    });
    (status, error_type)
}

#[test]
fn a_conversation_keeps_the_reply_as_json_text() {
    use bedrock_converse::Conversation;
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let mut chat = Conversation::new("us.anthropic.claude-haiku-4-5-20251001-v1:0")
        .extract_options(ExtractOptions::new().mode(ExtractMode::Tool).retries(1));
    server.push(Reply::empty().tool_use("tu-1", "respond", json!({"songs": 3})));
    server.push(Reply::empty().tool_use("tu-2", "respond", playlist_json()));
    let extracted = chat
        .extract::<Playlist>(&converser, "Two pop songs.")
        .unwrap();
    assert_eq!(extracted.value, expected());
    assert_eq!(chat.history().len(), 2, "the re-ask is not kept");
    let kept: Value = serde_json::from_str(&chat.history()[1].text()).unwrap();
    assert_eq!(kept, playlist_json());

    // A later plain turn carries no tool configuration, and its history is plain text.
    server.push(Reply::text("Enjoy!"));
    chat.send(&converser, "Thanks.").unwrap();
    let body = server.requests().pop().unwrap().body;
    assert!(body.get("toolConfig").is_none());
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);

    // A failed extraction is rolled back (streamed this time).
    server.push(Reply::text("cut").stop_reason("max_tokens"));
    let mut handler = handler_fn(|_: &StreamEvent| ControlFlow::Continue(()));
    let err = chat
        .extract_with::<Playlist, _>(&converser, "More?", &mut handler)
        .unwrap_err();
    assert!(err.is_invalid_output(), "{err:?}");
    assert_eq!(chat.history().len(), 4);
}
