//! Reading a job's files back: the output lines (`modelOutput` or `error`)
//! joined to the input records by `recordId`, and the manifest.

use std::collections::HashMap;

use serde_json::Value;

use super::error::InferenceError;
use super::job::JobState;
use crate::batch::{Record, RecordError, RecordResult};
use crate::model::Response;

/// The summary the job writes beside its output (`manifest.json.out`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Manifest {
    /// Records submitted.
    pub total_records: Option<u64>,
    /// Records processed.
    pub processed_records: Option<u64>,
    /// Records processed successfully.
    pub succeeded_records: Option<u64>,
    /// Records that ended in an error.
    pub failed_records: Option<u64>,
    /// Input tokens of the job.
    pub input_tokens: Option<u64>,
    /// Output tokens of the job.
    pub output_tokens: Option<u64>,
}

impl Manifest {
    pub(super) fn parse(bytes: &[u8]) -> Option<Manifest> {
        let v: Value = serde_json::from_slice(bytes).ok()?;
        let n = |k: &str| v.get(k).and_then(Value::as_u64);
        Some(Manifest {
            total_records: n("totalRecordCount"),
            processed_records: n("processedRecordCount"),
            succeeded_records: n("successRecordCount"),
            failed_records: n("errorRecordCount"),
            input_tokens: n("inputTokenCount"),
            output_tokens: n("outputTokenCount"),
        })
    }
}

/// A job's results, read back from S3: one [`RecordResult`] per input
/// record, in input order whatever the order of the output files.
#[derive(Debug)]
#[non_exhaustive]
pub struct JobResults {
    /// The job's state when its output was read.
    pub state: JobState,
    /// Every input record with its reply or its error. A record the job
    /// wrote no output line for has an error with code 0 and
    /// `attempts == 0`; its id is also in [`missing`](JobResults::missing).
    pub results: Vec<RecordResult>,
    /// Ids of the records with no output line.
    pub missing: Vec<String>,
    /// Output lines whose `recordId` is not among the inputs (ignored).
    pub unexpected: usize,
    /// The job's manifest, if it wrote one.
    pub manifest: Option<Manifest>,
}

impl JobResults {
    /// Records with a reply.
    pub fn succeeded(&self) -> usize {
        self.results.iter().filter(|r| r.outcome.is_ok()).count()
    }

    /// Records with an error (missing ones included).
    pub fn failed(&self) -> usize {
        self.results.len() - self.succeeded()
    }
}

/// A `modelOutput` (a Converse response body) as a [`Response`], read
/// whole by the crate's Converse codec ([`Response::from_json`]).
pub(super) fn response_from_model_output(output: &Value) -> Result<Response, RecordError> {
    Response::from_json(output).map_err(|e| RecordError {
        code: 0,
        message: format!("modelOutput could not be read: {e}"),
    })
}

/// One output line's outcome, by record id.
pub(super) type Outcomes = HashMap<String, Result<Response, RecordError>>;

/// Reads the output lines of one `.jsonl.out` file into `outcomes` (the
/// first line of an id wins).
///
/// # Errors
///
/// [`InferenceError::Malformed`] for a line that is not a JSON object with a
/// string `recordId`.
pub(super) fn read_output(
    uri: &str,
    bytes: &[u8],
    outcomes: &mut Outcomes,
) -> Result<(), InferenceError> {
    let text = String::from_utf8_lossy(bytes);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let malformed = |message: String| InferenceError::Malformed {
            uri: uri.to_owned(),
            line: i + 1,
            message,
        };
        let value: Value = serde_json::from_str(line).map_err(|e| malformed(e.to_string()))?;
        let id = value
            .get("recordId")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("no string recordId".into()))?;
        let outcome = if let Some(output) = value.get("modelOutput") {
            response_from_model_output(output)
        } else if let Some(error) = value.get("error") {
            Err(RecordError {
                code: error
                    .get("errorCode")
                    .and_then(Value::as_u64)
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(0),
                message: error
                    .get("errorMessage")
                    .and_then(Value::as_str)
                    .unwrap_or("(no errorMessage)")
                    .to_owned(),
            })
        } else {
            Err(RecordError {
                code: 0,
                message: "the output line has neither modelOutput nor error".into(),
            })
        };
        outcomes.entry(id.to_owned()).or_insert(outcome);
    }
    Ok(())
}

/// Reads input JSONL records (for the ids and inputs to join to).
pub(super) fn read_input(
    uri: &str,
    bytes: &[u8],
    records: &mut Vec<Record>,
) -> Result<(), InferenceError> {
    let text = String::from_utf8_lossy(bytes);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record =
            Record::from_json_line(line, i + 1).map_err(|e| InferenceError::Malformed {
                uri: uri.to_owned(),
                line: i + 1,
                message: e.message,
            })?;
        records.push(record);
    }
    Ok(())
}

/// Joins outputs to inputs by record id, in input order.
pub(super) fn join(
    state: JobState,
    inputs: Vec<Record>,
    mut outcomes: Outcomes,
    manifest: Option<Manifest>,
) -> JobResults {
    let mut missing = Vec::new();
    let results = inputs
        .into_iter()
        .map(|record| {
            let (outcome, attempts) = match outcomes.remove(&record.id) {
                Some(outcome) => (outcome, 1),
                None => {
                    missing.push(record.id.clone());
                    let message = format!(
                        "the job ({}) wrote no output line for this record",
                        state.status
                    );
                    (Err(RecordError { code: 0, message }), 0)
                }
            };
            RecordResult {
                id: record.id,
                model_input: record.model_input,
                outcome,
                attempts,
            }
        })
        .collect();
    JobResults {
        state,
        results,
        missing,
        unexpected: outcomes.len(),
        manifest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> JobState {
        JobState {
            arn: super::super::JobArn::new("arn/x"),
            name: None,
            status: super::super::JobStatus::Completed,
            message: None,
            total_records: None,
            processed_records: None,
            succeeded_records: None,
            failed_records: None,
            input_uri: String::new(),
            output_uri: String::new(),
        }
    }

    #[test]
    fn a_model_output_reads_back_as_the_response_it_was_written_from() {
        let out = json!({
            "output": {"message": {"role": "assistant", "content": [
                {"text": "Hello"},
                {"toolUse": {"toolUseId": "t1", "name": "f", "input": {"a": 1}}},
                {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "s"}}},
            ]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 3, "outputTokens": 2, "totalTokens": 5},
            "metrics": {"latencyMs": 42},
        });
        let response = response_from_model_output(&out).unwrap();
        assert_eq!(response.text(), "Hello");
        assert_eq!(response.usage, Some(crate::model::Usage::new(3, 2, 5)));
        assert_eq!(response.metrics, Some(crate::model::Metrics::new(42)));
        assert_eq!(response.tool_uses().len(), 1);
        assert_eq!(response.to_json().unwrap(), out);
    }

    #[test]
    fn a_model_output_this_version_cannot_read_is_the_records_error_naming_the_key() {
        let out =
            json!({"output": {"message": {"role": "assistant", "content": [{"hologram": {}}]}}});
        let err = response_from_model_output(&out).unwrap_err();
        assert_eq!(err.code, 0);
        assert!(
            err.message
                .ends_with("output.message.content[0].hologram: unknown key"),
            "{err}"
        );
    }

    #[test]
    fn errors_and_missing_lines_are_per_record() {
        let mut outcomes = Outcomes::new();
        let lines = concat!(
            r#"{"recordId":"b","modelInput":{},"error":{"errorCode":400,"errorMessage":"bad"}}"#,
            "\n",
            r#"{"recordId":"a","modelInput":{},"modelOutput":{"output":{"message":{"role":"assistant","content":[{"text":"A"}]}},"stopReason":"end_turn"}}"#,
            "\n",
            r#"{"recordId":"zzz","modelInput":{},"error":{"errorCode":500,"errorMessage":"x"}}"#,
        );
        read_output("s3://b/o", lines.as_bytes(), &mut outcomes).unwrap();
        let inputs = ["a", "b", "c"]
            .map(|id| Record::new(id, json!({})))
            .to_vec();
        let results = join(state(), inputs, outcomes, None);
        let ids: Vec<&str> = results.results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(results.results[0].outcome.as_ref().unwrap().text(), "A");
        assert_eq!(
            results.results[1].outcome.as_ref().unwrap_err(),
            &RecordError {
                code: 400,
                message: "bad".into()
            }
        );
        assert_eq!(results.missing, ["c"]);
        assert_eq!(results.unexpected, 1);
        assert_eq!((results.succeeded(), results.failed()), (1, 2));
        let err = read_output("s3://b/o", b"{\"nope\":1}", &mut Outcomes::new()).unwrap_err();
        assert!(
            matches!(err, InferenceError::Malformed { line: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn the_manifest_reads_the_job_s_counts_and_tokens() {
        let m = Manifest::parse(
            br#"{"totalRecordCount": 100, "processedRecordCount": 99, "successRecordCount": 97,
                 "errorRecordCount": 2, "inputTokenCount": 1234, "outputTokenCount": 567}"#,
        )
        .unwrap();
        assert_eq!(
            m,
            Manifest {
                total_records: Some(100),
                processed_records: Some(99),
                succeeded_records: Some(97),
                failed_records: Some(2),
                input_tokens: Some(1234),
                output_tokens: Some(567),
            }
        );
        // Counts it does not give, or gives as something else, are unknown.
        assert_eq!(
            Manifest::parse(br#"{"totalRecordCount": "100"}"#),
            Some(Manifest::default())
        );
        assert_eq!(Manifest::parse(b"{\"totalRecordCount\": 1"), None);
    }

    #[test]
    fn a_malformed_line_is_named_by_its_number_in_the_file() {
        let out = concat!(
            r#"{"recordId":"a","modelInput":{},"error":{"errorCode":400,"errorMessage":"bad"}}"#,
            "\n\n",
            r#"{"modelInput":{}}"#,
        );
        let err =
            read_output("s3://b/o.jsonl.out", out.as_bytes(), &mut Outcomes::new()).unwrap_err();
        assert!(
            matches!(&err, InferenceError::Malformed { uri, line: 3, message }
                if uri == "s3://b/o.jsonl.out" && message == "no string recordId"),
            "{err}"
        );
        let err = read_output("u", b"\nnot json", &mut Outcomes::new()).unwrap_err();
        assert!(
            matches!(err, InferenceError::Malformed { line: 2, .. }),
            "{err}"
        );

        let mut records = Vec::new();
        let input = concat!(
            r#"{"recordId":"a","modelInput":{}}"#,
            "\n",
            r#"{"modelInput":{"messages":[]}}"#,
            "\n \n",
            r#"{"recordId":"c"}"#,
        );
        let err = read_input("s3://b/in.jsonl", input.as_bytes(), &mut records).unwrap_err();
        assert!(
            matches!(&err, InferenceError::Malformed { uri, line: 4, message }
                if uri == "s3://b/in.jsonl" && message == "line 4: modelInput must be a JSON object"),
            "{err}"
        );
        // A record without an id is named after its line, as Bedrock does.
        assert_eq!(
            records,
            [
                Record::new("a", json!({})),
                Record::new("RECORD00000000002", json!({"messages": []}))
            ]
        );
    }

    #[test]
    fn an_output_line_s_error_keeps_what_it_can_and_the_first_line_of_an_id_wins() {
        let out = concat!(
            r#"{"recordId":"a","error":{"errorCode":70000,"errorMessage":"huge"}}"#,
            "\n",
            r#"{"recordId":"b","error":{}}"#,
            "\n",
            r#"{"recordId":"c"}"#,
            "\n",
            r#"{"recordId":"a","error":{"errorCode":400,"errorMessage":"second"}}"#,
        );
        let mut outcomes = Outcomes::new();
        read_output("u", out.as_bytes(), &mut outcomes).unwrap();
        let error = |id: &str| outcomes[id].as_ref().unwrap_err().clone();
        assert_eq!(
            error("a"),
            RecordError {
                code: 0,
                message: "huge".into()
            }
        );
        assert_eq!(
            error("b"),
            RecordError {
                code: 0,
                message: "(no errorMessage)".into()
            }
        );
        assert_eq!(
            error("c"),
            RecordError {
                code: 0,
                message: "the output line has neither modelOutput nor error".into()
            }
        );
        // No reply among them: every record failed.
        let inputs = ["a", "b", "c"]
            .map(|id| Record::new(id, json!({})))
            .to_vec();
        let results = join(state(), inputs, outcomes, None);
        assert_eq!((results.succeeded(), results.failed()), (0, 3));
    }
}
