//! Typed extraction of types with bounds the service's grammar cannot hold
//! (`#[schemars(range)]`, `#[schemars(length)]`): what is sent, how a reply
//! that breaks one is caught on the client and re-asked, the service's
//! complexity limits, and the same for strict tools and conversations.

use bedrock_converse::client::{Extract, ExtractMode, ExtractOptions};
use bedrock_converse::conversation::OnFailure;
use bedrock_converse::model::schema::{complexity, Unsupported};
use bedrock_converse::model::Tool;
use bedrock_converse::stream::handler_fn;
use bedrock_converse::{Conversation, ConverseRequest, Error, StreamEvent};
use bedrock_converse_mock::{MockServer, RecordedRequest, Reply};
use serde::Deserialize;
use serde_json::{json, Value};
use std::ops::ControlFlow;

#[derive(Debug, Deserialize, schemars::JsonSchema, PartialEq)]
struct Review {
    #[schemars(range(min = 1, max = 10))]
    rating: u8,
    #[schemars(length(min = 1, max = 200))]
    summary: String,
    #[schemars(length(max = 3))]
    tags: Vec<String>,
}

fn request() -> ConverseRequest {
    ConverseRequest::new("anthropic.claude-haiku-4-5-20251001-v1:0").user("Review the film.")
}

/// The schema as sent: `outputConfig`'s string, or the forced tool's input schema.
fn sent_schema(recorded: &RecordedRequest) -> Value {
    match recorded.body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"].as_str()
    {
        Some(text) => serde_json::from_str(text).unwrap(),
        None => recorded.body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"].clone(),
    }
}

fn reason(err: Error) -> String {
    match err {
        Error::InvalidOutput { reason, .. } => reason,
        other => panic!("expected InvalidOutput, got {other:?}"),
    }
}

#[test]
fn bounds_are_sent_only_as_descriptions_in_both_modes() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let good = json!({"rating": 8, "summary": "Tense.", "tags": ["noir"]});
    for mode in [ExtractMode::Native, ExtractMode::Tool] {
        server.push(Reply::json(&good));
        let request = request();
        let review = converser
            .extract::<Review>(Extract::new(&request, ExtractOptions::new().mode(mode)))
            .unwrap()
            .value;
        assert_eq!(review.rating, 8);
        let sent = sent_schema(&server.requests().pop().unwrap());
        let props = &sent["properties"];
        assert_eq!(
            props["rating"],
            json!({"type": "integer", "description": "Must be at least 1 and at most 10."})
        );
        assert_eq!(
            props["summary"],
            json!({"type": "string", "description": "Must be at least 1 and at most 200 characters long."})
        );
        assert_eq!(props["tags"]["description"], "Must have at most 3 items.");
        for keyword in ["minimum", "maximum", "minLength", "maxLength", "maxItems"] {
            assert!(!sent.to_string().contains(keyword), "{keyword} in {sent}");
        }
    }
}

#[test]
fn a_reply_breaking_a_bound_is_invalid_output_naming_pointer_and_keyword() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let request = request();
    for mode in [ExtractMode::Native, ExtractMode::Tool] {
        server.push(Reply::json(
            &json!({"rating": 12, "summary": "Loud.", "tags": []}),
        ));
        let err = converser
            .extract::<Review>(Extract::new(&request, ExtractOptions::new().mode(mode)))
            .unwrap_err();
        assert_eq!(reason(err), "/rating: 12 is greater than the maximum of 10");
    }
    server.push(Reply::json(
        &json!({"rating": 5, "summary": "", "tags": ["a", "b", "c", "d"]}),
    ));
    let reason = reason(converser.extract::<Review>(&request).unwrap_err());
    assert!(
        reason.contains("/summary: ") && reason.contains("(minLength)"),
        "{reason}"
    );
    assert!(
        reason.contains("/tags: ") && reason.contains("(maxItems)"),
        "{reason}"
    );
    assert_eq!(server.request_count(), 3, "no re-ask without retries");
}

#[test]
fn retries_re_ask_once_with_the_breach() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let request = request();
    server.push(Reply::json(
        &json!({"rating": 12, "summary": "Loud.", "tags": []}),
    ));
    server.push(Reply::json(
        &json!({"rating": 10, "summary": "Loud.", "tags": []}),
    ));
    let review = converser
        .extract::<Review>(Extract::new(&request, ExtractOptions::new().retries(1)))
        .unwrap()
        .value;
    assert_eq!(review.rating, 10);
    assert_eq!(server.request_count(), 2, "exactly one more request");
    let second = server.requests().pop().unwrap().body;
    let complaint = second["messages"][2]["content"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        complaint.contains("/rating: 12 is greater than the maximum of 10"),
        "{complaint}"
    );

    // Tool mode: the breach goes back as an error tool result; out of
    // attempts after one re-ask, the last breach is the error.
    for _ in 0..3 {
        server.push(Reply::json(
            &json!({"rating": 0, "summary": "x", "tags": []}),
        ));
    }
    let extract = Extract::new(
        &request,
        ExtractOptions::new().mode(ExtractMode::Tool).retries(1),
    );
    let err = converser.extract::<Review>(extract).unwrap_err();
    assert_eq!(reason(err), "/rating: 0 is less than the minimum of 1");
    assert_eq!(server.request_count(), 4);
    let body = server.requests().pop().unwrap().body;
    let result = &body["messages"][2]["content"][0]["toolResult"];
    assert_eq!(result["status"], "error");
    assert!(result["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("/rating: 0 is less than the minimum of 1"));
}

#[test]
fn under_refuse_a_bound_is_refused_locally_and_nothing_is_sent() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let request = request();
    let extract = Extract::new(
        &request,
        ExtractOptions::new().unsupported(Unsupported::Refuse),
    );
    match converser.extract::<Review>(extract).unwrap_err() {
        Error::InvalidRequest { field, .. } => assert_eq!(
            field,
            "output_config.text_format.schema/properties/rating/minimum"
        ),
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    assert_eq!(server.request_count(), 0);
}

/// Seventeen `Option` fields: seventeen unions if all were nullable.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
struct Seventeen {
    a01: Option<String>,
    a02: Option<String>,
    a03: Option<String>,
    a04: Option<String>,
    a05: Option<String>,
    a06: Option<String>,
    a07: Option<String>,
    a08: Option<String>,
    a09: Option<String>,
    a10: Option<String>,
    a11: Option<String>,
    a12: Option<String>,
    a13: Option<String>,
    a14: Option<u32>,
    a15: Option<bool>,
    a16: Option<f64>,
    a17: Option<i64>,
}

#[test]
fn seventeen_optional_fields_fit_by_leaving_one_optional() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    // The model leaves out the field made optional, and writes null for the others.
    let mut reply = json!({});
    for i in 2..=17 {
        reply[format!("a{i:02}")] = Value::Null;
    }
    reply["a17"] = json!(7);
    server.push(Reply::json(&reply));
    let request = request();
    let value = converser.extract::<Seventeen>(&request).unwrap().value;
    assert_eq!((value.a01, value.a17), (None, Some(7)));
    let sent = sent_schema(&server.requests()[0]);
    let c = complexity(&sent);
    assert_eq!((c.union_parameters, c.optional_parameters), (16, 1));
    assert_eq!(sent["properties"]["a01"], json!({"type": "string"}));
}

#[test]
fn past_the_complexity_limits_nothing_is_sent() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let field_reason = |err: Error| match err {
        Error::InvalidRequest { field, reason } => (field, reason),
        other => panic!("expected InvalidRequest, got {other:?}"),
    };
    // 41 nullable properties: 24 can become optional, 17 unions remain.
    let props: serde_json::Map<String, Value> = (0..41)
        .map(|i| (format!("p{i}"), json!({"type": ["string", "null"]})))
        .collect();
    let wide = request().output_schema(json!({"type": "object", "properties": props}));
    let (field, reason) = field_reason(converser.converse(&wide).unwrap_err());
    assert_eq!(field, "output_config.text_format.schema");
    assert!(
        reason.contains("17") && reason.contains("at most 16"),
        "{reason}"
    );

    let optional: serde_json::Map<String, Value> = (0..25)
        .map(|i| (format!("p{i}"), json!({"type": "string"})))
        .collect();
    let sparse = request().output_schema(json!({"type": "object", "properties": optional}));
    let (_, reason) = field_reason(converser.converse(&sparse).unwrap_err());
    assert!(
        reason.contains("optional parameters") && reason.contains("25"),
        "{reason}"
    );

    let mut many = request();
    for i in 0..21 {
        many = many.tool(Tool::new(format!("t{i}"), "T.", json!({"type": "object"})).strict(true));
    }
    let (field, reason) = field_reason(converser.converse(&many).unwrap_err());
    assert_eq!(field, "tool_config.tools[20]");
    assert!(reason.contains("at most 20 strict tools"), "{reason}");
    assert_eq!(server.request_count(), 0, "nothing was sent");
}

#[test]
fn a_strict_tool_sends_bounds_as_descriptions_and_can_check_its_input() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let schema = json!({"type": "object", "required": ["stars"],
        "properties": {"stars": {"type": "integer", "minimum": 1, "maximum": 5}}});
    let tool = Tool::new("rate", "Rates a film.", schema).strict(true);
    let mut chat = Conversation::new("anthropic.claude-haiku-4-5-20251001-v1:0")
        .tool(tool.clone().validate_input(true));
    server.push(Reply::empty().tool_use("tu-1", "rate", json!({"stars": 9})));
    let mut ran = 0;
    let err = chat
        .run_tools(&converser, "Rate it.", |call| {
            ran += 1;
            call.text_result("ok")
        })
        .unwrap_err();
    let sent =
        &server.requests()[0].body["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"];
    assert_eq!(
        sent["properties"]["stars"],
        json!({"type": "integer", "description": "Must be at least 1 and at most 5."})
    );
    match err {
        Error::InvalidToolInput {
            tool_use_id,
            name,
            reason,
            ..
        } => {
            assert_eq!((tool_use_id.as_str(), name.as_str()), ("tu-1", "rate"));
            assert!(
                reason.contains("/stars: 9 is greater than the maximum of 5"),
                "{reason}"
            );
        }
        other => panic!("expected InvalidToolInput, got {other:?}"),
    }
    assert_eq!(ran, 0, "the tool did not run on bad input");
    assert!(
        chat.history().is_empty(),
        "the failed exchange is rolled back"
    );

    // Not asked for: the call reaches the tool as it came.
    let mut chat = Conversation::new("anthropic.claude-haiku-4-5-20251001-v1:0").tool(tool);
    server.push(Reply::empty().tool_use("tu-2", "rate", json!({"stars": 9})));
    server.push(Reply::text("Rated."));
    let reply = chat.run_tools(&converser, "Rate it.", |call| {
        assert_eq!(call.input["stars"], 9);
        call.text_result("ok")
    });
    assert_eq!(reply.unwrap().text(), "Rated.");
}

#[test]
fn a_conversation_reaches_every_option_and_rolls_back_a_breach() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let options = ExtractOptions::new()
        .mode(ExtractMode::Tool)
        .name("review")
        .description("The review.")
        .strict(false);
    let mut chat = Conversation::new("anthropic.claude-haiku-4-5-20251001-v1:0")
        .extract_options(options.clone());
    let good = json!({"rating": 7, "summary": "Fine.", "tags": []});
    server.push(Reply::json(&good));
    assert_eq!(
        chat.extract::<Review>(&converser, "Review A.")
            .unwrap()
            .value
            .rating,
        7
    );
    let spec = server.requests()[0].body["toolConfig"]["tools"][0]["toolSpec"].clone();
    assert_eq!(spec["name"], "review");
    assert_eq!(spec["description"], "The review.");
    assert_eq!(spec["strict"], false);
    let kept: Value = serde_json::from_str(&chat.history()[1].text()).unwrap();
    assert_eq!(kept, good, "the named tool's input is kept as the reply");

    // A breach after every re-ask is rolled back, streamed or not.
    server.push(Reply::json(
        &json!({"rating": 11, "summary": "Wow.", "tags": []}),
    ));
    let err = chat.extract::<Review>(&converser, "Review B.").unwrap_err();
    assert!(err.is_invalid_output(), "{err:?}");
    assert_eq!(chat.history().len(), 2);
    server.push(Reply::json(
        &json!({"rating": 11, "summary": "Wow.", "tags": []}),
    ));
    let mut handler = handler_fn(|_: &StreamEvent| ControlFlow::Continue(()));
    let err = chat
        .extract_with::<Review, _>(&converser, "Review B.", &mut handler)
        .unwrap_err();
    assert!(err.is_invalid_output(), "{err:?}");
    assert_eq!(chat.history().len(), 2);

    // Under OnFailure::Keep the user turn stays, pending, as for any failed turn.
    let mut chat = Conversation::new("anthropic.claude-haiku-4-5-20251001-v1:0")
        .on_failure(OnFailure::Keep)
        .extract_options(options.clone().retries(1));
    server.push(Reply::json(
        &json!({"rating": 11, "summary": "Wow.", "tags": []}),
    ));
    server.push(Reply::json(
        &json!({"rating": 12, "summary": "Wow.", "tags": []}),
    ));
    let err = chat.extract::<Review>(&converser, "Review C.").unwrap_err();
    assert!(reason(err).starts_with("/rating: 12"));
    assert_eq!(chat.history().len(), 1);
    assert!(chat.is_pending());

    // Refusing unsupported keywords reaches the conversation too; a refused
    // request is always rolled back.
    let before = server.request_count();
    let mut chat = Conversation::new("anthropic.claude-haiku-4-5-20251001-v1:0")
        .on_failure(OnFailure::Keep)
        .extract_options(options.unsupported(Unsupported::Refuse));
    let err = chat.extract::<Review>(&converser, "Review D.").unwrap_err();
    assert!(err.is_invalid_request(), "refused locally: {err:?}");
    assert!(chat.history().is_empty());
    assert_eq!(server.request_count(), before, "nothing was sent");
}
