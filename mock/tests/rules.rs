//! The bundled server says no where Bedrock says no: each rule of the shared
//! table, sent as wire JSON (the Rust client would refuse these before
//! sending), answered with the service's status, error type and message; the
//! recorded model-id refusals replayed exactly; and a lenient server answering
//! them all.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};

use bedrock_converse_mock::{MockServer, Reply};
use serde_json::{json, Value};

const VALIDATION: &str = "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/";
const CLAUDE: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const NOVA: &str = "amazon.nova-lite-v1:0";

/// An HTTP answer: status, `x-amzn-errortype`, body.
#[derive(Debug)]
struct Answer {
    status: u16,
    error_type: Option<String>,
    body: String,
}

/// POSTs `body` to `/model/{model}/{operation}` over a plain HTTP/1.1
/// connection: no SDK in between, as curl would.
fn post(server: &MockServer, model: &str, operation: &str, body: &Value) -> Answer {
    let path = format!(
        "/model/{}/{operation}",
        model.replace(':', "%3A").replace('/', "%2F")
    );
    let body = body.to_string();
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    let error_type = head.lines().find_map(|l| {
        let (name, value) = l.split_once(": ")?;
        name.eq_ignore_ascii_case("x-amzn-errortype")
            .then(|| value.to_owned())
    });
    Answer {
        status,
        error_type,
        body: body.to_owned(),
    }
}

fn message(answer: &Answer) -> String {
    let v: Value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    v["message"].as_str().unwrap_or_default().to_owned()
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": [{"text": text}]})
}

fn assistant(content: Value) -> Value {
    json!({"role": "assistant", "content": content})
}

fn tool_use() -> Value {
    assistant(json!([{"toolUse": {"toolUseId": "t1", "name": "t", "input": {}}}]))
}

fn tool_config() -> Value {
    json!({"tools": [{"toolSpec": {"name": "t", "inputSchema": {"json": {"type": "object"}}}}]})
}

/// Every rule of the table, as a request the service refuses and the start
/// of its message.
fn refused_requests() -> Vec<(&'static str, &'static str, Value, &'static str)> {
    vec![
        ("no messages", NOVA, json!({"messages": []}), "1 validation error detected: Value '[]' at 'messages'"),
        ("first turn from the assistant", NOVA, json!({"messages": [assistant(json!([{"text": "hi"}]))]}),
            "A conversation must start with a user message. Try again with a conversation that starts with a user message."),
        ("two user turns to Claude", CLAUDE, json!({"messages": [user("a"), user("b")]}),
            "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again."),
        ("empty content", NOVA, json!({"messages": [{"role": "user", "content": []}]}),
            "1 validation error detected: Value '[]' at 'messages.1.member.content'"),
        ("blank text", NOVA, json!({"messages": [user("a"), assistant(json!([{"text": ""}]))]}),
            "The text field in the ContentBlock object at messages.1.content.0 is blank. Add text to the text field, and try again."),
        ("whitespace text to Claude", CLAUDE, json!({"messages": [user(" \n")]}),
            "The model returned the following errors: messages: text content blocks must contain non-whitespace text"),
        ("empty system text", NOVA, json!({"messages": [user("a")], "system": [{"text": ""}]}),
            "1 validation error detected: Value '' at 'system.1.member.text'"),
        ("tool blocks without toolConfig", NOVA, json!({"messages": [user("a"), tool_use()]}),
            "The toolConfig field must be defined when using toolUse and toolResult content blocks."),
        ("an error result without content", NOVA, json!({
            "messages": [user("a"), tool_use(), {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "status": "error", "content": []}}]}],
            "toolConfig": tool_config()}),
            "The content field at messages.2.content.0.toolResult cannot be empty when status value is error."),
        ("temperature 5", NOVA, json!({"messages": [user("a")], "inferenceConfig": {"temperature": 5}}),
            "1 validation error detected: Value '5.0' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than or equal to 1"),
        ("topP -1", NOVA, json!({"messages": [user("a")], "inferenceConfig": {"topP": -1}}),
            "1 validation error detected: Value '-1.0' at 'inferenceConfig.topP' failed to satisfy constraint: Member must have value greater than or equal to 0"),
        ("maxTokens 0", NOVA, json!({"messages": [user("a")], "inferenceConfig": {"maxTokens": 0}}),
            "1 validation error detected: Value '0' at 'inferenceConfig.maxTokens'"),
        ("an unknown model", "example.unknown-v1:0", json!({"messages": [user("a")]}),
            "The provided model identifier is invalid."),
    ]
}

#[test]
fn each_rule_is_answered_with_the_services_status_type_and_message_on_both_operations() {
    let server = MockServer::start().unwrap();
    for operation in ["converse", "converse-stream"] {
        for (what, model, body, want) in refused_requests() {
            let answer = post(&server, model, operation, &body);
            assert_eq!(answer.status, 400, "{what} ({operation}): {answer:?}");
            assert_eq!(answer.error_type.as_deref(), Some(VALIDATION), "{what}");
            assert!(message(&answer).starts_with(want), "{what}: {answer:?}");
        }
    }
    // A refused request takes no reply: the queued one answers the next good request.
    server.push(Reply::text("still queued"));
    let ok = post(&server, NOVA, "converse", &json!({"messages": [user("a")]}));
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(ok.body.contains("still queued"));
}

#[test]
fn what_the_service_accepts_is_answered() {
    let server = MockServer::start().unwrap();
    let accepted = [
        // Nova answers two user turns in a row (a recording shows it).
        (NOVA, json!({"messages": [user("a"), user("b")]})),
        (
            CLAUDE,
            json!({"messages": [user("a"), tool_use()], "toolConfig": tool_config()}),
        ),
        ("us.deepseek.r1-v1:0", json!({"messages": [user("a")]})),
        (
            "arn:aws:bedrock:us-east-1:123456789012:custom-model/m",
            json!({"messages": [user("a")]}),
        ),
        (
            NOVA,
            json!({"messages": [user("a")], "inferenceConfig": {"temperature": 1, "topP": 0, "maxTokens": 1}}),
        ),
    ];
    for (model, body) in accepted {
        let answer = post(&server, model, "converse", &body);
        assert_eq!(answer.status, 200, "{model} {body}: {answer:?}");
    }
}

#[test]
fn models_that_cannot_stream_tools_or_at_all_are_refused_on_converse_stream_only() {
    let server = MockServer::start().unwrap();
    let with_tools = json!({"messages": [user("a")], "toolConfig": tool_config()});
    for model in [
        "meta.llama4-maverick-17b-instruct-v1:0",
        "us.meta.llama4-scout-17b-instruct-v1:0",
    ] {
        let answer = post(&server, model, "converse-stream", &with_tools);
        assert_eq!(
            (answer.status, message(&answer).as_str()),
            (
                400,
                "This model doesn't support tool use in streaming mode."
            )
        );
        assert_eq!(post(&server, model, "converse", &with_tools).status, 200);
        let plain = json!({"messages": [user("a")]});
        assert_eq!(post(&server, model, "converse-stream", &plain).status, 200);
    }
    let gpt = "openai.gpt-oss-120b-1:0";
    let answer = post(
        &server,
        gpt,
        "converse-stream",
        &json!({"messages": [user("a")]}),
    );
    assert_eq!(
        (answer.status, message(&answer).as_str()),
        (400, "The model is unsupported for streaming.")
    );
    assert_eq!(post(&server, gpt, "converse", &with_tools).status, 200);
}

#[test]
fn a_lenient_server_answers_everything() {
    let server = MockServer::start().unwrap();
    server.set_lenient(true);
    for (what, model, body, _) in refused_requests() {
        for operation in ["converse", "converse-stream"] {
            let answer = post(&server, model, operation, &body);
            assert_eq!(answer.status, 200, "{what} ({operation}): {answer:?}");
        }
    }
    let with_tools = json!({"messages": [user("a")], "toolConfig": tool_config()});
    let answer = post(
        &server,
        "openai.gpt-oss-20b-1:0",
        "converse-stream",
        &with_tools,
    );
    assert_eq!(answer.status, 200);
    server.set_lenient(false);
    assert_eq!(
        post(&server, "example.unknown-v1:0", "converse", &with_tools).status,
        400
    );
}

/// The recordings folder beside the checkout (or beside the worktrees'
/// folder), if there.
fn recordings() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    [
        "../shared/recordings/bedrock",
        "../../shared/recordings/bedrock",
    ]
    .iter()
    .map(|p| root.join(p))
    .find(|p| p.is_dir())
}

#[test]
fn the_recorded_model_id_refusals_replay_exactly() {
    let Some(dir) = recordings() else {
        eprintln!(
            "skipping: no recorded Bedrock traffic beside the checkout (shared/recordings/bedrock)"
        );
        return;
    };
    let server = MockServer::start().unwrap();
    let mut refusals = 0;
    for name in [
        "model_ids__bare_profile_only_model_id_is_rejected.json",
        "model_ids__retired_model_id_preserves_provider_error.json",
        "model_ids__claude_profile_constant_completes.json",
        "model_ids__cross_region_profile_id_completes.json",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let recording: Value = serde_json::from_str(&text).unwrap();
        for i in recording["interactions"].as_array().unwrap() {
            let (request, response) = (&i["request"], &i["response"]);
            let path = request["path"].as_str().unwrap();
            let (model, operation) = path["/model/".len()..].rsplit_once('/').unwrap();
            let model = model.replace("%3A", ":");
            let answer = post(&server, &model, operation, &request["body"]);
            let status = response["status"].as_u64().unwrap() as u16;
            assert_eq!(answer.status, status, "{name}: {answer:?}");
            if status != 200 {
                refusals += 1;
                assert_eq!(
                    answer.error_type.as_deref(),
                    response["headers"]["x-amzn-errortype"].as_str(),
                    "{name}"
                );
                assert_eq!(answer.body, response["body"].as_str().unwrap(), "{name}");
            }
        }
    }
    assert_eq!(refusals, 2);
}

/// Claude 3 Haiku reached its end of life on 2026-09-10 (its model card,
/// `card-claude-3-haiku` in data/models.json): refused on both operations,
/// through its profiles too, as a retired model is, and not by the rules
/// table's validation (the request itself is good).
#[test]
fn an_ended_model_is_refused_as_retired_whatever_the_request() {
    let server = MockServer::start().unwrap();
    for model in [
        "anthropic.claude-3-haiku-20240307-v1:0",
        "us.anthropic.claude-3-haiku-20240307-v1:0",
    ] {
        for operation in ["converse", "converse-stream"] {
            let answer = post(&server, model, operation, &json!({"messages": [user("a")]}));
            assert_eq!(answer.status, 404, "{model} {operation}: {answer:?}");
            assert!(
                answer
                    .error_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with("ResourceNotFoundException")),
                "{model} {operation}: {answer:?}"
            );
            assert!(
                message(&answer).starts_with("This model version has reached the end of its life."),
                "{model} {operation}: {answer:?}"
            );
        }
    }
    // Its successor answers the same request.
    let ok = post(
        &server,
        CLAUDE,
        "converse",
        &json!({"messages": [user("a")]}),
    );
    assert_eq!(ok.status, 200, "{ok:?}");
}
