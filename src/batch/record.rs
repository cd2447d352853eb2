//! The record format of Bedrock batch inference jobs with the `Converse`
//! model invocation type, read and written here so that a local batch run
//! and a Bedrock batch job use the same files.
//!
//! An input line is `{"recordId": "...", "modelInput": {...}}`, where
//! `modelInput` is a Converse request body without `modelId`. An output line
//! repeats both and adds either `"modelOutput"` (a Converse response body:
//! `output.message`, `stopReason`, `usage`, `metrics`) or
//! `"error": {"errorCode": <HTTP status, or 0>, "errorMessage": "..."}`, as
//! the [batch inference results](https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-results.html)
//! are.
//!
//! Both bodies go through the crate's one Converse codec
//! ([`ConverseRequest::from_json`], [`Response::to_json`]): any body the
//! Converse API takes is a record, and every block of a reply is in its
//! output line.

use std::fmt;

use serde_json::{json, Value};

use crate::error::{Error, ServiceErrorKind};
use crate::model::ConverseRequest;
#[cfg(doc)]
use crate::model::Response;

/// One input record: its id and its Converse request body (without
/// `modelId`), kept as JSON so the output line can repeat it unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record's id, unique within a batch.
    pub id: String,
    /// The Converse request body.
    pub model_input: Value,
}

impl Record {
    /// A record from its id and Converse request body.
    pub fn new(id: impl Into<String>, model_input: Value) -> Self {
        Record {
            id: id.into(),
            model_input,
        }
    }

    /// Parses one input JSONL line. A line without `recordId` gets one made
    /// from `line_number` (Bedrock, too, adds ids where they are missing).
    ///
    /// ```
    /// use bedrock_converse::batch::Record;
    /// let r = Record::from_json_line(
    ///     r#"{"recordId": "r1", "modelInput": {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}}"#,
    ///     1,
    /// )?;
    /// assert_eq!(r.id, "r1");
    /// # Ok::<(), bedrock_converse::batch::RecordError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`RecordError`] when the line is not a JSON object with a
    /// `modelInput` object.
    pub fn from_json_line(line: &str, line_number: usize) -> Result<Record, RecordError> {
        let value: Value = serde_json::from_str(line)
            .map_err(|e| RecordError::new(format!("line {line_number} is not JSON: {e}")))?;
        let Value::Object(mut object) = value else {
            return Err(RecordError::new(format!(
                "line {line_number} is not a JSON object"
            )));
        };
        let id = match object.remove("recordId") {
            Some(Value::String(id)) => id,
            None | Some(Value::Null) => format!("RECORD{line_number:011}"),
            Some(other) => {
                return Err(RecordError::new(format!(
                    "line {line_number}: recordId must be a string, not {other}"
                )))
            }
        };
        match object.remove("modelInput") {
            Some(input @ Value::Object(_)) => Ok(Record::new(id, input)),
            _ => Err(RecordError::new(format!(
                "line {line_number}: modelInput must be a JSON object"
            ))),
        }
    }

    /// The record as an input JSONL line (no newline).
    pub fn to_json_line(&self) -> String {
        json!({"recordId": self.id, "modelInput": self.model_input}).to_string()
    }

    /// A record for a typed request: its body (without `modelId`) as the
    /// SDK would send it.
    ///
    /// ```
    /// use bedrock_converse::batch::Record;
    /// use bedrock_converse::ConverseRequest;
    ///
    /// let request = ConverseRequest::new("model").system("Be brief.").user("Hi").max_tokens(50);
    /// let record = Record::from_request("r1", &request)?;
    /// assert_eq!(record.model_input["inferenceConfig"]["maxTokens"], 50);
    /// assert_eq!(record.request("model")?, request);
    /// # Ok::<(), bedrock_converse::batch::RecordError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A 400 [`RecordError`] when the request does not
    /// [`validate`](ConverseRequest::validate).
    pub fn from_request(
        id: impl Into<String>,
        request: &ConverseRequest,
    ) -> Result<Record, RecordError> {
        let model_input = request.to_json().map_err(|e| RecordError::from_error(&e))?;
        Ok(Record::new(id, model_input))
    }

    /// The [`ConverseRequest`] for this record, sent to `model_id`: its
    /// `modelInput` read by [`ConverseRequest::from_json`], whole.
    ///
    /// # Errors
    ///
    /// A 400 [`RecordError`] naming the `modelInput` member at fault: one of
    /// the wrong shape, a missing required one, a key the Converse API does
    /// not have, or a `modelId` (the batch's model is used).
    pub fn request(&self, model_id: &str) -> Result<ConverseRequest, RecordError> {
        if self.model_input.get("modelId").is_some() {
            return Err(RecordError::new(
                "modelInput must not contain modelId: the batch's model is used",
            ));
        }
        ConverseRequest::from_json(model_id, &self.model_input).map_err(|e| match e {
            Error::InvalidRequest { field, reason } if field.is_empty() => {
                RecordError::new(format!("modelInput {reason}"))
            }
            Error::InvalidRequest { field, reason } => {
                RecordError::new(format!("modelInput.{field}: {reason}"))
            }
            other => RecordError::from_error(&other),
        })
    }
}

/// Why a record could not be turned into a request, or why its call failed:
/// what goes in the output line's `error` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// The HTTP status of the failure, or 0 when there was none (a
    /// transport failure, a timeout).
    pub code: u16,
    /// What went wrong.
    pub message: String,
}

impl RecordError {
    /// A 400 error: the record itself is at fault.
    pub fn new(message: impl Into<String>) -> Self {
        RecordError {
            code: 400,
            message: message.into(),
        }
    }

    /// The error of a failed call: the service's HTTP status when there is
    /// one, else the usual status of the exception, else 0.
    pub fn from_error(error: &Error) -> Self {
        let code = match error {
            Error::InvalidRequest { .. } => 400,
            Error::Service(e) => e.status.unwrap_or(match e.kind {
                ServiceErrorKind::Validation | ServiceErrorKind::ServiceQuotaExceeded => 400,
                ServiceErrorKind::AccessDenied => 403,
                ServiceErrorKind::ResourceNotFound => 404,
                ServiceErrorKind::ModelTimeout => 408,
                ServiceErrorKind::ModelError | ServiceErrorKind::ModelStreamError => 424,
                ServiceErrorKind::Throttling | ServiceErrorKind::ModelNotReady => 429,
                ServiceErrorKind::InternalServer => 500,
                ServiceErrorKind::ServiceUnavailable => 503,
                _ => 0,
            }),
            _ => 0,
        };
        RecordError {
            code,
            message: error.to_string(),
        }
    }

    /// The output line's `error` object.
    pub fn to_json(&self) -> Value {
        json!({"errorCode": self.code, "errorMessage": self.message})
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for RecordError {}

#[cfg(test)]
mod tests;
