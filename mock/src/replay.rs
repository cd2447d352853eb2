//! Serving recorded exchanges back: [`Replay`], and the readable JSON
//! comparison it reports mismatches with ([`json_diff`]).

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Mutex;

use serde_json::Value;

use super::{error_response, full, Body};

/// Recorded exchanges for a [`MockServer`](super::MockServer) to serve back,
/// in order: the file format written by
/// [`ConverserBuilder::record_to`](bedrock_converse::ConverserBuilder::record_to),
///
/// ```json
/// {"interactions": [
///   {"request":  {"method": "POST", "path": "/model/amazon.nova-lite-v1%3A0/converse", "body": {…}},
///    "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": "{…}"}}
/// ]}
/// ```
///
/// where a response has either `body` (text) or `body_base64` (raw bytes, e.g.
/// a `/converse-stream` event stream, served byte for byte).
///
/// Each request the server receives is answered by the next interaction,
/// whose method and path must match; unless turned off with
/// [`check_request_body`](Replay::check_request_body), the request body must
/// also equal the recorded one as JSON. A mismatch, or a request after the
/// last interaction, is answered with HTTP 400 and an error type of
/// `ReplayMismatchException` (or `ReplayExhaustedException`) whose message
/// lists each JSON path that differs with both values, so the caller gets a
/// [`Error::Service`](bedrock_converse::Error::Service) saying exactly what changed.
///
/// Response headers are served as recorded, except `content-length`,
/// `transfer-encoding` and `connection`, which the server sets itself.
///
/// ```
/// use bedrock_converse_mock::{MockServer, Replay};
/// use bedrock_converse::ConverseRequest;
///
/// let recording = r#"{"interactions": [{
///   "request": {"method": "POST", "path": "/model/amazon.nova-lite-v1%3A0/converse",
///               "body": {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}},
///   "response": {"status": 200, "headers": {"content-type": "application/json", "x-amzn-requestid": "r-1"},
///                "body": "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":[{\"text\":\"Hello!\"}]}},\"stopReason\":\"end_turn\",\"usage\":{\"inputTokens\":1,\"outputTokens\":2,\"totalTokens\":3},\"metrics\":{\"latencyMs\":5}}"}
/// }]}"#;
/// let server = MockServer::replay(Replay::from_json(recording)?)?;
/// let converser = server.converser()?;
///
/// let reply = converser.converse(&ConverseRequest::new("amazon.nova-lite-v1:0").user("Hi"))?;
/// assert_eq!(reply.text(), "Hello!");
/// assert_eq!(reply.request_id.as_deref(), Some("r-1"));
/// assert_eq!(server.replay_remaining(), 0);
///
/// // A different request is refused with a readable difference.
/// let err = converser.converse(&ConverseRequest::new("amazon.nova-lite-v1:0").user("Bye")).unwrap_err();
/// assert!(err.to_string().contains("no recorded interaction left"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    interactions: Vec<Interaction>,
    check_body: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Interaction {
    method: String,
    path: String,
    body: Value,
    status: u16,
    headers: Vec<(String, String)>,
    response_body: Vec<u8>,
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn string_at<'a>(v: &'a Value, field: &str, at: &str) -> io::Result<&'a str> {
    v.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{at}: `{field}` is missing or not a string")))
}

impl Interaction {
    fn parse(v: &Value, index: usize) -> io::Result<Interaction> {
        let at = format!("interaction {index}");
        let request = v
            .get("request")
            .ok_or_else(|| invalid(format!("{at}: no `request`")))?;
        let response = v
            .get("response")
            .ok_or_else(|| invalid(format!("{at}: no `response`")))?;
        let status = response
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| {
                invalid(format!(
                    "{at}: `response.status` is missing or not an HTTP status"
                ))
            })?;
        let headers = match response.get("headers") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v.as_str() {
                    Some(s) => Ok((k.to_ascii_lowercase(), s.to_owned())),
                    None => Err(invalid(format!(
                        "{at}: response header `{k}` is not a string"
                    ))),
                })
                .collect::<io::Result<_>>()?,
            Some(_) => {
                return Err(invalid(format!(
                    "{at}: `response.headers` is not an object"
                )))
            }
        };
        let response_body = match (response.get("body"), response.get("body_base64")) {
            (_, Some(Value::String(b64))) => aws_smithy_types::base64::decode(b64)
                .map_err(|e| invalid(format!("{at}: `response.body_base64` is not base64: {e}")))?,
            (Some(Value::String(text)), None) => text.clone().into_bytes(),
            (None | Some(Value::Null), None) => Vec::new(),
            // A body given as JSON rather than as its text: serve it as JSON.
            (Some(other), None) => other.to_string().into_bytes(),
            (_, Some(_)) => {
                return Err(invalid(format!(
                    "{at}: `response.body_base64` is not a string"
                )))
            }
        };
        Ok(Interaction {
            method: string_at(request, "method", &at)?.to_owned(),
            path: string_at(request, "path", &at)?.to_owned(),
            body: request.get("body").cloned().unwrap_or(Value::Null),
            status,
            headers,
            response_body,
        })
    }
}

impl Replay {
    /// Reads a recording file (see the format above). Fails with
    /// [`io::ErrorKind::InvalidData`] naming the interaction and field when
    /// the file is not in that format.
    ///
    /// # Errors
    ///
    /// The file's I/O error, or as [`from_json`](Replay::from_json).
    pub fn from_file(path: impl AsRef<Path>) -> io::Result<Replay> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)?;
        Replay::from_json(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))
    }

    /// Parses a recording from its JSON text.
    ///
    /// # Errors
    ///
    /// An `InvalidData` I/O error if `text` is not a recording in the format `record_to` writes.
    pub fn from_json(text: &str) -> io::Result<Replay> {
        let doc: Value = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let list = doc
            .get("interactions")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("no `interactions` array".into()))?;
        let interactions = list
            .iter()
            .enumerate()
            .map(|(i, v)| Interaction::parse(v, i))
            .collect::<io::Result<_>>()?;
        Ok(Replay {
            interactions,
            check_body: true,
        })
    }

    /// Whether each request body must equal the recorded one as JSON (on by
    /// default). Method and path are always checked.
    pub fn check_request_body(mut self, on: bool) -> Replay {
        self.check_body = on;
        self
    }

    /// How many interactions the recording holds.
    pub fn len(&self) -> usize {
        self.interactions.len()
    }

    /// Whether the recording holds no interaction.
    pub fn is_empty(&self) -> bool {
        self.interactions.is_empty()
    }
}

/// A [`Replay`] being served.
pub(crate) struct Player {
    queue: Mutex<VecDeque<(usize, Interaction)>>,
    total: usize,
    check_body: bool,
}

/// Headers the server computes itself rather than repeating the recording's.
const HOP_HEADERS: &[&str] = &["content-length", "transfer-encoding", "connection"];

impl Player {
    pub(crate) fn new(replay: Replay) -> Player {
        Player {
            total: replay.interactions.len(),
            queue: Mutex::new(replay.interactions.into_iter().enumerate().collect()),
            check_body: replay.check_body,
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Answers one request with the next interaction, or with a 400 that
    /// explains why it does not match.
    pub(crate) fn serve(&self, method: &str, path: &str, body: &Value) -> hyper::Response<Body> {
        let next = self
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        let Some((index, it)) = next else {
            return refuse(
                "ReplayExhaustedException",
                format!(
                    "replay: no recorded interaction left for {method} {path} (all {} were served)",
                    self.total
                ),
            );
        };
        let at = format!(
            "replay: interaction {} of {} (recorded {} {})",
            index + 1,
            self.total,
            it.method,
            it.path
        );
        if it.method != method || it.path != path {
            return refuse(
                "ReplayMismatchException",
                format!("{at}: the request was {method} {path}"),
            );
        }
        if self.check_body {
            let diff = json_diff(&it.body, body);
            if !diff.is_empty() {
                let mut message = format!(
                    "{at}: the request body differs from the recording at {} path(s) (expected = recorded, got = sent):",
                    diff.len()
                );
                for d in &diff {
                    message.push_str("\n  ");
                    message.push_str(&d.to_string());
                }
                return refuse("ReplayMismatchException", message);
            }
        }
        let headers: Vec<(&str, &str)> = it
            .headers
            .iter()
            .filter(|(k, _)| !HOP_HEADERS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        full(it.status, &headers, it.response_body)
    }
}

fn refuse(error_type: &str, message: String) -> hyper::Response<Body> {
    log::warn!("{message}");
    error_response(400, error_type, &message, None)
}

/// One place where two JSON documents differ (see [`json_diff`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JsonDifference {
    /// Where, e.g. `$.messages[0].content[1].text` (`$` is the root).
    pub path: String,
    /// The value in the expected document (`None`: absent there).
    pub expected: Option<Value>,
    /// The value in the actual document (`None`: absent there).
    pub actual: Option<Value>,
}

impl fmt::Display for JsonDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn show(v: &Option<Value>) -> String {
            const MAX: usize = 200;
            match v {
                None => "(absent)".into(),
                Some(v) => {
                    let s = v.to_string();
                    match s.char_indices().nth(MAX) {
                        Some((cut, _)) => format!("{}…", &s[..cut]),
                        None => s,
                    }
                }
            }
        }
        write!(
            f,
            "{}: expected {}, got {}",
            self.path,
            show(&self.expected),
            show(&self.actual)
        )
    }
}

/// The differences between two JSON documents: each deepest path where they
/// differ, with both values. Objects are compared key by key (key order does
/// not matter; differences come in key order), arrays element by element
/// (extra or missing elements are reported one by one), numbers by value
/// (`0` equals `0.0`).
///
/// ```
/// use bedrock_converse_mock::json_diff;
/// use serde_json::json;
///
/// let d = json_diff(
///     &json!({"inferenceConfig": {"temperature": 0.0}, "messages": [1, 2]}),
///     &json!({"inferenceConfig": {"temperature": 0}, "messages": [1, 3], "toolConfig": {}}),
/// );
/// let lines: Vec<String> = d.iter().map(|d| d.to_string()).collect();
/// assert_eq!(lines, [
///     "$.messages[1]: expected 2, got 3",
///     "$.toolConfig: expected (absent), got {}",
/// ]);
/// ```
pub fn json_diff(expected: &Value, actual: &Value) -> Vec<JsonDifference> {
    let mut out = Vec::new();
    diff_into("$".to_owned(), Some(expected), Some(actual), &mut out);
    out
}

fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

fn key_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{parent}.{key}")
    } else {
        format!("{parent}[{}]", Value::String(key.to_owned()))
    }
}

fn diff_into(
    path: String,
    expected: Option<&Value>,
    actual: Option<&Value>,
    out: &mut Vec<JsonDifference>,
) {
    match (expected, actual) {
        (Some(Value::Object(e)), Some(Value::Object(a))) => {
            for (k, ev) in e {
                diff_into(key_path(&path, k), Some(ev), a.get(k), out);
            }
            for (k, av) in a {
                if !e.contains_key(k) {
                    diff_into(key_path(&path, k), None, Some(av), out);
                }
            }
        }
        (Some(Value::Array(e)), Some(Value::Array(a))) => {
            for i in 0..e.len().max(a.len()) {
                diff_into(format!("{path}[{i}]"), e.get(i), a.get(i), out);
            }
        }
        (Some(Value::Number(e)), Some(Value::Number(a))) if numbers_equal(e, a) => {}
        (Some(e), Some(a)) if e == a => {}
        (None, None) => {}
        (e, a) => out.push(JsonDifference {
            path,
            expected: e.cloned(),
            actual: a.cloned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(e: Value, a: Value) -> Vec<String> {
        json_diff(&e, &a).iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn equal_documents_have_no_difference() {
        let v = json!({"a": [1, {"b": null}], "c": "x", "d": 1.5});
        assert!(json_diff(&v, &v.clone()).is_empty());
        assert!(json_diff(&json!({"t": 0.0}), &json!({"t": 0})).is_empty());
        assert!(json_diff(&json!({"a": 1, "b": 2}), &json!({"b": 2, "a": 1})).is_empty());
    }

    #[test]
    fn each_difference_names_its_path_and_both_values() {
        assert_eq!(
            lines(
                json!({"messages": [{"content": [{"text": "hi"}]}], "inferenceConfig": {}}),
                json!({"messages": [{"content": [{"text": "ho"}, {"cachePoint": {}}]}]})
            ),
            [
                "$.inferenceConfig: expected {}, got (absent)",
                r#"$.messages[0].content[0].text: expected "hi", got "ho""#,
                r#"$.messages[0].content[1]: expected (absent), got {"cachePoint":{}}"#,
            ]
        );
        assert_eq!(
            lines(
                json!({"odd key": 1, "9": 2}),
                json!({"odd key": 2, "9": 2.5})
            ),
            [
                r#"$["9"]: expected 2, got 2.5"#,
                r#"$["odd key"]: expected 1, got 2"#,
            ]
        );
        assert_eq!(
            lines(json!([1]), json!({"a": 1})),
            [r#"$: expected [1], got {"a":1}"#]
        );
        assert_eq!(lines(json!(1), json!(-1)), ["$: expected 1, got -1"]);
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(1000);
        let text = lines(json!(long), json!("y"))[0].clone();
        assert!(text.len() < 300, "{text}");
        assert!(text.contains('…'));
    }

    #[test]
    fn malformed_recordings_name_the_interaction_and_field() {
        let err = |text: &str| Replay::from_json(text).unwrap_err().to_string();
        assert!(err("{}").contains("interactions"));
        assert!(
            err(r#"{"interactions":[{"request":{"method":"POST","path":"/x"}}]}"#)
                .contains("interaction 0: no `response`")
        );
        assert!(
            err(r#"{"interactions":[{"request":{"path":"/x"},"response":{"status":200}}]}"#)
                .contains("`method`")
        );
        assert!(err(
            r#"{"interactions":[{"request":{"method":"POST","path":"/x"},"response":{"status":99}}]}"#
        )
        .contains("`response.status`"));
        assert!(err(
            r#"{"interactions":[{"request":{"method":"POST","path":"/x"},"response":{"status":200,"body_base64":"%%"}}]}"#
        )
        .contains("not base64"));
    }

    #[test]
    fn base64_bodies_are_decoded_byte_for_byte() {
        let bytes: Vec<u8> = (0..=255).collect();
        let text = json!({"interactions": [{
            "request": {"method": "POST", "path": "/x", "body": null},
            "response": {"status": 200, "headers": {"Content-Type": "a/b"},
                         "body_base64": aws_smithy_types::base64::encode(&bytes)}
        }]})
        .to_string();
        let replay = Replay::from_json(&text).unwrap();
        assert_eq!(replay.len(), 1);
        assert_eq!(replay.interactions[0].response_body, bytes);
        assert_eq!(
            replay.interactions[0].headers,
            [("content-type".to_owned(), "a/b".to_owned())]
        );
    }
}
