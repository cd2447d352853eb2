//! Any Converse body through the local batch runner, both ways: each record
//! of the shared table (`tests/data/converse_bodies.json`) reaches the
//! server as written, and every block of a reply is in its output line.

use crate::support::TempDir;

use bedrock_converse::batch::{Batch, Record};
use bedrock_converse::client::RetryConfig;
use bedrock_converse_mock::{MockServer, Reply};
use serde_json::{json, Value};

const MODEL: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

fn table(kind: &str) -> Vec<(String, Value)> {
    let text = include_str!("../data/converse_bodies.json");
    let all: Value = serde_json::from_str(text).unwrap();
    all[kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["subject"].as_str().unwrap().to_owned(), e["body"].clone()))
        .collect()
}

/// JSON equality, except that numbers are compared as the 32-bit floats
/// the service model types `temperature` and `topP` as: the SDK writes an
/// `f32` widened to `f64` (`0.7` goes out as `0.699999988079071`).
fn equivalent(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || x.as_f64().map(|f| f as f32) == y.as_f64().map(|f| f as f32)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equivalent(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| equivalent(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn every_converse_body_reaches_the_server_as_written() {
    let server = MockServer::start().unwrap();
    server.set_default(Reply::echo(""));
    let converser = server
        .converser_builder()
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap();
    let bodies = table("requests");
    let records: Vec<Record> = bodies
        .iter()
        .enumerate()
        .map(|(i, (_, body))| Record::new(format!("r{i}"), body.clone()))
        .collect();
    let mut results = Vec::new();
    Batch::new(&converser, MODEL)
        .concurrency(1)
        .run(records, |r| results.push(r))
        .unwrap();
    for r in &results {
        assert!(r.outcome.is_ok(), "{}: {:?}", r.id, r.outcome);
    }
    let received = server.requests();
    assert_eq!(received.len(), bodies.len());
    for ((subject, body), request) in bodies.iter().zip(&received) {
        // The batch runner calls ConverseStream, whose guardrail the SDK
        // always sends with `streamProcessingMode` (its default, and the
        // service's, is `sync`): the one member the SDK adds.
        let mut body = body.clone();
        if let Some(guardrail) = body.get_mut("guardrailConfig") {
            guardrail["streamProcessingMode"] = json!("sync");
        }
        assert!(
            equivalent(&request.body, &body),
            "{subject}:\nsent     {body}\nreceived {}",
            request.body
        );
    }
}

#[test]
fn the_equivalence_is_not_loose() {
    assert!(equivalent(
        &json!({"t": 0.7}),
        &json!({"t": 0.699999988079071})
    ));
    assert!(!equivalent(&json!({"t": 0.7}), &json!({"t": 0.71})));
    assert!(!equivalent(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    assert!(!equivalent(&json!([1, 2]), &json!([2, 1])));
}

/// The table's guardrail assessment, with every policy.
fn guardrail_trace() -> Value {
    table("responses")
        .into_iter()
        .find_map(|(_, body)| body.pointer("/trace/guardrail").cloned())
        .expect("a guardrail trace in the table")
}

/// A reply with every kind of block a reply carries, and every member
/// beside the message.
fn full_reply() -> Reply {
    Reply::text("Here.")
        .reasoning("Think first.", "c2ln")
        .redacted_reasoning(vec![1, 2, 3])
        .cited_text(
            "Cited.",
            vec![json!({"title": "Doc", "sourceContent": [{"text": "q"}],
                        "location": {"documentPage": {"documentIndex": 0, "start": 1, "end": 2}}})],
        )
        .tool_use("t1", "lookup", json!({"q": "x", "n": [1, 2]}))
        .usage(11, 7)
        .cache_tokens(5, 3)
        .latency_ms(42)
        .additional_model_response_fields(json!({"stop_sequence": null}))
        .trace(json!({
            "guardrail": guardrail_trace(),
            "promptRouter": {"invokedModelId": "arn:aws:bedrock:us-east-1::foundation-model/m"}
        }))
        .performance_latency("optimized")
        .service_tier("priority")
}

#[test]
fn every_block_of_the_reply_is_in_the_output_line() {
    let server = MockServer::start().unwrap();
    server.set_default(full_reply());
    // What the server sends as a whole Converse reply, as recorded raw.
    let dir = TempDir::new("bodies-reply");
    let recording = dir.join("rec.json");
    let recorder = server
        .converser_builder()
        .record_to(&recording)
        .build()
        .unwrap();
    let request = bedrock_converse::ConverseRequest::new(MODEL).user("Hi");
    recorder.converse(&request).unwrap();
    drop(recorder);
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(&recording).unwrap()).unwrap();
    let sent: Value = serde_json::from_str(
        recorded["interactions"][0]["response"]["body"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        sent["output"]["message"]["content"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    // The same reply, streamed to the batch runner, is its output line's
    // `modelOutput`, whole.
    let converser = server.converser().unwrap();
    let journal = dir.join("out.jsonl");
    Batch::new(&converser, MODEL)
        .journal(&journal)
        .run(vec![Record::from_request("r", &request).unwrap()], |_| {})
        .unwrap();
    let line: Value = serde_json::from_str(
        std::fs::read_to_string(&journal)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(line["modelOutput"], sent);
}
