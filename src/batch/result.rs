//! [`RecordResult`]: a finished record, and its output line.

use serde_json::Value;

use super::record::RecordError;
use crate::model::Response;

/// A finished record: its id and input, and the reply or the error.
#[derive(Debug)]
pub struct RecordResult {
    /// The record's id.
    pub id: String,
    /// The record's `modelInput`, as read.
    pub model_input: Value,
    /// The reply, or why there is none.
    pub outcome: Result<Response, RecordError>,
    /// How many times the request was sent (0 when it could not be built).
    pub attempts: u32,
}

impl RecordResult {
    /// The output JSONL line (no newline), in the format of Bedrock batch
    /// inference results: `recordId`, `modelInput`, and `modelOutput` or
    /// `error`.
    ///
    /// The fields come in that order, as in Bedrock's own output files.
    /// `modelOutput` is the whole Converse response body
    /// ([`Response::to_json`]). A reply with no JSON form (a block the SDK
    /// kept as `Unknown`) gets an `error` line with code 0 saying so.
    pub fn to_json_line(&self) -> String {
        let (key, value) = match &self.outcome {
            Ok(response) => match response.to_json() {
                Ok(body) => ("modelOutput", body),
                Err(e) => ("error", RecordError::from_error(&e).to_json()),
            },
            Err(error) => ("error", error.to_json()),
        };
        format!(
            "{{\"recordId\":{},\"modelInput\":{},\"{key}\":{value}}}",
            Value::from(self.id.as_str()),
            self.model_input,
        )
    }
}
