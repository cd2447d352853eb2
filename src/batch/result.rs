//! [`RecordResult`]: a finished record, and its output line.

use serde_json::{json, Value};

use super::record::{model_output, RecordError};
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
    pub fn to_json_line(&self) -> String {
        let mut line = json!({"recordId": self.id, "modelInput": self.model_input});
        match &self.outcome {
            Ok(response) => line["modelOutput"] = model_output(response),
            Err(error) => line["error"] = error.to_json(),
        }
        line.to_string()
    }
}
