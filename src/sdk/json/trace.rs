//! The guardrail's assessment in a reply's `trace` (the service model's
//! `GuardrailTraceAssessment`).

use aws_sdk_bedrockruntime::types::GuardrailTraceAssessment;
use serde_json::Value;

use super::JsonError;

pub(super) fn read_guardrail_trace(
    _value: &Value,
    path: &str,
) -> Result<GuardrailTraceAssessment, JsonError> {
    Err(JsonError::new(
        path,
        "a guardrail assessment is not read by this version",
    ))
}

pub(super) fn write_guardrail_trace(_t: &GuardrailTraceAssessment) -> Result<Value, JsonError> {
    Err(JsonError::new(
        "trace.guardrail",
        "a guardrail assessment is not written by this version",
    ))
}
