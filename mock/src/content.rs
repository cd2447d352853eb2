//! Reply builders for the newer content kinds and usage details: cache
//! writes by TTL, generated images, tool results the service produced
//! (with search results), so that each kind can be served from both
//! `/converse` and `/converse-stream`.

use serde_json::{json, Value};

use crate::reply::{request_words, Reply};
use crate::serve::{error_response, full};
use crate::Body;

/// Answers `POST /model/{modelId}/count-tokens`: `{"inputTokens": N}`,
/// where N is the number of words in the Converse request's messages and
/// system prompts (the estimate an echo reply reports too), at least 1;
/// a body without `input.converse.messages` is a 400 `ValidationException`.
pub(crate) fn count_tokens(body: &Value, request_id: &str) -> hyper::Response<Body> {
    let Some(converse) = body.pointer("/input/converse") else {
        return error_response(
            400,
            "ValidationException",
            "input must hold `converse` (or `invokeModel`, which this server does not count)",
            Some(request_id),
        );
    };
    match converse["messages"].as_array() {
        Some(m) if !m.is_empty() => {}
        _ => {
            return error_response(
                400,
                "ValidationException",
                "input.converse.messages must be a non-empty list",
                Some(request_id),
            )
        }
    }
    let count = request_words(converse).max(1);
    full(
        200,
        &[
            ("content-type", "application/json"),
            ("x-amzn-RequestId", request_id),
        ],
        json!({ "inputTokens": count }).to_string().into_bytes(),
    )
}

impl Reply {
    /// The cache writes by time to live, `usage.cacheDetails` on the wire:
    /// one `{"ttl": …, "inputTokens": …}` per pair, e.g. `[("5m", 100), ("1h", 2048)]`,
    /// in the whole reply and in the stream's `metadata` event.
    ///
    /// ```
    /// use bedrock_converse_mock::{MockServer, Reply};
    /// use bedrock_converse::ConverseRequest;
    /// let server = MockServer::start()?;
    /// server.push(Reply::text("ok").cache_tokens(0, 2148).cache_details(&[("5m", 100), ("1h", 2048)]));
    /// let usage = server.converser()?.converse(&ConverseRequest::new("m").user("hi"))?.usage.unwrap();
    /// let details = usage.cache_details.unwrap();
    /// assert_eq!((details.five_minutes, details.one_hour), (100, 2048));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cache_details(self, details: &[(&str, u32)]) -> Reply {
        let details: Vec<(String, u32)> =
            details.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect();
        self.edit(|s| s.cache_details = details)
    }
}
