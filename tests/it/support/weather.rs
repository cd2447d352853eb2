//! The weather-assistant fixture that the request, streaming, reply-block
//! and conversation tests share: a Claude 3.7 Sonnet request about the
//! weather in Paris, a `get_weather` tool and its implementation, a handler
//! that records every callback, and helpers that read what was sent.

use bedrock_converse::model::{Role, Tool, ToolResult, ToolUse};
use bedrock_converse::stream::{BlockStart, Metadata, NoopHandler, Stop};
use bedrock_converse::{ConverseRequest, Converser, Delta, Response, StreamHandler};
use bedrock_converse_mock::{MockServer, Reply};
use serde_json::{json, Value};
use std::ops::ControlFlow;

/// The model of the weather assistant.
pub const WEATHER_MODEL: &str = "anthropic.claude-3-7-sonnet-20250219-v1:0";

/// A local server and a `Converser` on it that does not retry.
pub fn weather_setup() -> (MockServer, Converser) {
    let server = MockServer::start().expect("mock server starts");
    let converser = server
        .converser_builder()
        .max_attempts(1)
        .build()
        .expect("converser builds");
    (server, converser)
}

/// "What is the weather in Paris?" to [`WEATHER_MODEL`].
pub fn weather_request() -> ConverseRequest {
    ConverseRequest::new(WEATHER_MODEL).user("What is the weather in Paris?")
}

/// A `get_weather` tool taking a city and a number of days.
pub fn weather_tool() -> Tool {
    Tool::new(
        "get_weather",
        "The current weather in a city.",
        json!({
            "type": "object",
            "properties": { "city": { "type": "string" }, "days": { "type": "integer", "maximum": 7 } },
            "required": ["city"]
        }),
    )
}

/// Every callback, with its data.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    Start(Role),
    BlockStart(u32, BlockStart),
    Delta(u32, Delta),
    BlockStop(u32),
    Stop(Stop),
    Meta(Metadata),
}

/// A handler that records every callback.
#[derive(Default)]
pub struct Rec(pub Vec<Ev>);

impl StreamHandler for Rec {
    fn on_message_start(&mut self, role: &Role) -> ControlFlow<()> {
        self.0.push(Ev::Start(role.clone()));
        ControlFlow::Continue(())
    }
    fn on_block_start(&mut self, index: u32, start: &BlockStart) -> ControlFlow<()> {
        self.0.push(Ev::BlockStart(index, start.clone()));
        ControlFlow::Continue(())
    }
    fn on_delta(&mut self, index: u32, delta: &Delta) -> ControlFlow<()> {
        self.0.push(Ev::Delta(index, delta.clone()));
        ControlFlow::Continue(())
    }
    fn on_block_stop(&mut self, index: u32) -> ControlFlow<()> {
        self.0.push(Ev::BlockStop(index));
        ControlFlow::Continue(())
    }
    fn on_stop(&mut self, stop: &Stop) -> ControlFlow<()> {
        self.0.push(Ev::Stop(stop.clone()));
        ControlFlow::Continue(())
    }
    fn on_metadata(&mut self, metadata: &Metadata) -> ControlFlow<()> {
        self.0.push(Ev::Meta(metadata.clone()));
        ControlFlow::Continue(())
    }
}

impl Rec {
    pub fn deltas(&self, index: u32) -> Vec<Delta> {
        self.0
            .iter()
            .filter_map(|e| match e {
                Ev::Delta(i, d) if *i == index => Some(d.clone()),
                _ => None,
            })
            .collect()
    }
    pub fn starts(&self) -> Vec<(u32, BlockStart)> {
        self.0
            .iter()
            .filter_map(|e| match e {
                Ev::BlockStart(i, s) => Some((*i, s.clone())),
                _ => None,
            })
            .collect()
    }
    pub fn stop(&self) -> Stop {
        self.0
            .iter()
            .find_map(|e| match e {
                Ev::Stop(s) => Some(s.clone()),
                _ => None,
            })
            .expect("on_stop was called")
    }
    pub fn metadata(&self) -> Metadata {
        self.0
            .iter()
            .find_map(|e| match e {
                Ev::Meta(m) => Some(m.clone()),
                _ => None,
            })
            .expect("on_metadata was called")
    }
}

/// Serves `reply` to a whole call and to a streamed one, and checks that
/// both give the same `Response`, field by field
/// ([`both_ways_with`](super::both_ways_with)). Returns the streamed
/// response and what the handler saw.
pub fn both_ways_recorded(
    server: &MockServer,
    converser: &Converser,
    reply: Reply,
    req: &ConverseRequest,
) -> (Response, Rec) {
    let mut rec = Rec::default();
    let (_, streamed) = super::both_ways_with(server, converser, reply, req, &mut rec);
    (streamed, rec)
}

/// Three citations of a document, by page, by character and by chunk.
pub fn citations() -> Vec<Value> {
    vec![
        json!({
            "title": "Q3 report",
            "sourceContent": [{ "text": "Revenue grew 12% in the third quarter." }],
            "location": { "documentPage": { "documentIndex": 0, "start": 2, "end": 3 } }
        }),
        json!({
            "title": "Q3 report",
            "source": "q3-report",
            "sourceContent": [{ "text": "Costs were flat." }],
            "location": { "documentChar": { "documentIndex": 0, "start": 120, "end": 136 } }
        }),
        json!({
            "location": { "documentChunk": { "documentIndex": 1, "start": 4, "end": 5 } }
        }),
    ]
}

/// The body of the last request the server received.
pub fn last_body(server: &MockServer) -> Value {
    server
        .requests()
        .pop()
        .expect("a request was recorded")
        .body
}

/// Sends `req` whole and streamed; returns both bodies the server received.
pub fn bodies_both_ways(
    server: &MockServer,
    converser: &Converser,
    req: &ConverseRequest,
) -> [Value; 2] {
    converser.converse(req).expect("whole call");
    let whole = last_body(server);
    converser
        .converse_with(req, &mut NoopHandler)
        .expect("streamed call");
    [whole, last_body(server)]
}

/// Each message of a sent body as (role, its texts joined by `|`).
pub fn texts(body: &Value) -> Vec<(String, String)> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let text: String = m["content"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("|");
            (m["role"].as_str().unwrap().to_owned(), text)
        })
        .collect()
}

/// `(role, text)` pairs as owned strings, to compare with [`texts`].
pub fn turns(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(r, t)| (r.to_string(), t.to_string()))
        .collect()
}

/// The weather tool's implementation: JSON for Paris, text for Oslo, an
/// error for any other city.
pub fn weather(call: &ToolUse) -> ToolResult {
    match call.input["city"].as_str() {
        Some("Paris") => call.json_result(json!({"city": "Paris", "sky": "sunny", "temp_c": 24})),
        Some("Oslo") => call.text_result("Oslo: rain, 9 C"),
        other => call.error_result(format!("unknown city {other:?}")),
    }
}
