//! The Bedrock control plane of Batch Inference: CreateModelInvocationJob,
//! GetModelInvocationJob and StopModelInvocationJob (`/model-invocation-job`,
//! JSON). A job's records are run through the server's replies, as
//! `/converse` would answer them, and its output is written to the server's
//! S3 in the service's layout: `<output s3Uri>/<job id>/<input file>.out`
//! (lines in a scrambled order, since the service does not promise the
//! input's) and `manifest.json.out`.
//!
//! Like the service, a job goes `Submitted`, then `InProgress`, then
//! `Completed`, over [`MockServer::set_batch_job_polls`] polls of
//! `GetModelInvocationJob`; fewer records than
//! [`MockServer::set_batch_min_records`] (100 by default) are refused with a
//! `ValidationException`, and a record with a `toolConfig` or an
//! `outputConfig` gets a 400 error line instead of a reply.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{json, Value};

use crate::reply::Kind;
use crate::s3::Answer;
use crate::{MockServer, State};

/// A Bedrock error: the status, `x-amzn-ErrorType`, and `{"message"}`.
fn error_response(status: u16, error_type: &str, message: &str) -> Answer {
    Answer {
        status,
        content_type: "application/json",
        error_type: Some(error_type.to_owned()),
        body: json!({ "message": message }).to_string().into_bytes(),
    }
}

fn ok(body: &Value) -> Answer {
    Answer::new(200, "application/json", body.to_string().into_bytes())
}

/// The jobs, and how they behave.
#[derive(Debug)]
pub(crate) struct Jobs {
    jobs: Vec<Job>,
    /// Polls of GetModelInvocationJob before a job is `Completed`.
    polls: u32,
    /// The fewest records a job takes.
    min_records: usize,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            jobs: Vec::new(),
            polls: 3,
            min_records: 100,
        }
    }
}

#[derive(Debug)]
struct Job {
    id: String,
    arn: String,
    request: Value,
    /// Input files: bucket and key.
    inputs: Vec<(String, String)>,
    status: &'static str,
    polls: u32,
    stop: bool,
    total: u64,
    processed: u64,
    succeeded: u64,
    failed: u64,
}

/// Whether this is a control-plane request.
pub(crate) fn is_control(path: &str) -> bool {
    path == "/model-invocation-job" || path.starts_with("/model-invocation-job/")
}

fn validation(message: &str) -> Answer {
    error_response(400, "ValidationException", message)
}

fn split_s3(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    Some((bucket.to_owned(), key.to_owned()))
}

/// Answers a control-plane request.
pub(crate) fn serve(method: &str, path: &str, body: &Value, state: &mut State) -> Answer {
    let rest = path
        .trim_start_matches("/model-invocation-job")
        .trim_start_matches('/');
    let (identifier, stop) = match rest.strip_suffix("/stop") {
        Some(id) => (id, true),
        None => (rest, false),
    };
    let identifier = percent_encoding::percent_decode_str(identifier)
        .decode_utf8_lossy()
        .into_owned();
    match (method, identifier.is_empty(), stop) {
        ("POST", true, false) => create(body, state),
        ("GET", false, false) | ("POST", false, true) => {
            let Some(index) = state
                .jobs
                .jobs
                .iter()
                .position(|j| j.arn == identifier || j.id == identifier)
            else {
                return error_response(
                    404,
                    "ResourceNotFoundException",
                    &format!("no model invocation job {identifier:?}"),
                );
            };
            if stop {
                state.jobs.jobs[index].stop = true;
                return ok(&json!({}));
            }
            poll(index, state)
        }
        _ => error_response(
            404,
            "UnknownOperationException",
            &format!("no such operation: {method} {path}"),
        ),
    }
}

fn create(body: &Value, state: &mut State) -> Answer {
    for field in ["jobName", "roleArn", "modelId"] {
        if !body[field].is_string() {
            return validation(&format!("{field} is required"));
        }
    }
    if body["modelInvocationType"] != "Converse" {
        return validation("the local server runs batch jobs of modelInvocationType Converse only");
    }
    let input = &body["inputDataConfig"]["s3InputDataConfig"];
    let Some((bucket, key)) = input["s3Uri"].as_str().and_then(split_s3) else {
        return validation("inputDataConfig.s3InputDataConfig.s3Uri must be an s3:// URI");
    };
    if body["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
        .as_str()
        .and_then(split_s3)
        .is_none()
    {
        return validation("outputDataConfig.s3OutputDataConfig.s3Uri must be an s3:// URI");
    }
    let inputs: Vec<(String, String)> = if key.ends_with(".jsonl") {
        vec![(bucket.clone(), key.clone())]
    } else {
        state
            .s3
            .list(&bucket, &key)
            .into_iter()
            .filter(|k| k.ends_with(".jsonl"))
            .map(|k| (bucket.clone(), k))
            .collect()
    };
    let mut total = 0;
    for (b, k) in &inputs {
        let Some(bytes) = state.s3.get(b, k) else {
            return validation(&format!("no input file s3://{b}/{k}"));
        };
        total += String::from_utf8_lossy(bytes)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count();
    }
    if inputs.is_empty() {
        return validation(&format!("no .jsonl input under s3://{bucket}/{key}"));
    }
    if total < state.jobs.min_records {
        return validation(&format!(
            "the job has {total} records, fewer than the minimum of {} records per batch inference job",
            state.jobs.min_records
        ));
    }
    let id = format!("mockjob{:05}", state.jobs.jobs.len() + 1);
    let arn = format!("arn:aws:bedrock:us-east-1:000000000000:model-invocation-job/{id}");
    state.jobs.jobs.push(Job {
        id,
        arn: arn.clone(),
        request: body.clone(),
        inputs,
        status: "Submitted",
        polls: 0,
        stop: false,
        total: total as u64,
        processed: 0,
        succeeded: 0,
        failed: 0,
    });
    ok(&json!({ "jobArn": arn }))
}

fn poll(index: usize, state: &mut State) -> Answer {
    let polls = state.jobs.polls;
    let job = &mut state.jobs.jobs[index];
    job.polls += 1;
    let finished = matches!(job.status, "Completed" | "Stopped");
    if !finished {
        if job.stop {
            job.status = "Stopped";
        } else if job.polls >= polls {
            run(index, state);
            state.jobs.jobs[index].status = "Completed";
        } else if job.polls >= 2 {
            job.status = "InProgress";
        }
    }
    let job = &state.jobs.jobs[index];
    let r = &job.request;
    let mut answer = json!({
        "jobArn": job.arn,
        "jobName": r["jobName"],
        "modelId": r["modelId"],
        "roleArn": r["roleArn"],
        "modelInvocationType": r["modelInvocationType"],
        "status": job.status,
        "submitTime": "2026-01-01T00:00:00Z",
        "lastModifiedTime": "2026-01-01T00:00:00Z",
        "inputDataConfig": r["inputDataConfig"],
        "outputDataConfig": r["outputDataConfig"],
        "totalRecordCount": job.total,
        "processedRecordCount": job.processed,
        "successRecordCount": job.succeeded,
        "errorRecordCount": job.failed,
    });
    if let Some(hours) = r["timeoutDurationInHours"].as_i64() {
        answer["timeoutDurationInHours"] = json!(hours);
    }
    if job.status == "Stopped" {
        answer["message"] = json!("stopped by StopModelInvocationJob");
    }
    ok(&answer)
}

/// One record's output line, from the next reply.
fn answer(line: &str, state: &mut State) -> (Value, bool, u64, u64) {
    let Ok(record) = serde_json::from_str::<Value>(line) else {
        let error =
            json!({"errorCode": 400, "errorMessage": "ValidationException: the line is not JSON"});
        return (json!({ "error": error }), false, 0, 0);
    };
    let input = record["modelInput"].clone();
    let mut out = json!({ "recordId": record["recordId"], "modelInput": input });
    if input.get("toolConfig").is_some() {
        out["error"] = json!({
            "errorCode": 400,
            "errorMessage": "ValidationException: toolConfig is not supported in batch inference jobs of the Converse type",
        });
        return (out, false, 0, 0);
    }
    // The user guide's batch inference page: no structured output either
    // (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference.html).
    // Its wording is not documented; this one names the field.
    if input.get("outputConfig").is_some() {
        out["error"] = json!({
            "errorCode": 400,
            "errorMessage": "ValidationException: outputConfig is not supported in batch inference jobs",
        });
        return (out, false, 0, 0);
    }
    let reply = state
        .queue
        .pop_front()
        .unwrap_or_else(|| state.default.clone());
    match reply.resolve(&input).kind {
        Kind::Success(script) | Kind::Echo(script, _) => {
            let body = script.converse_body();
            let tokens = |k: &str| body["usage"][k].as_u64().unwrap_or(0);
            let (i, o) = (tokens("inputTokens"), tokens("outputTokens"));
            out["modelOutput"] = body;
            (out, true, i, o)
        }
        Kind::Error {
            status,
            error_type,
            message,
        } => {
            out["error"] =
                json!({ "errorCode": status, "errorMessage": format!("{error_type}: {message}") });
            (out, false, 0, 0)
        }
        Kind::Raw { status, .. } => {
            out["error"] = json!({ "errorCode": status, "errorMessage": "the model's answer could not be read" });
            (out, false, 0, 0)
        }
    }
}

/// Runs a job's records and writes its output files.
fn run(index: usize, state: &mut State) {
    let job = &state.jobs.jobs[index];
    let (id, inputs) = (job.id.clone(), job.inputs.clone());
    let out_uri = job.request["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (bucket, prefix) = split_s3(&out_uri).unwrap_or_default();
    let folder = if prefix.is_empty() || prefix.ends_with('/') {
        format!("{prefix}{id}/")
    } else {
        format!("{prefix}/{id}/")
    };
    let (mut succeeded, mut failed, mut input_tokens, mut output_tokens) = (0u64, 0u64, 0u64, 0u64);
    for (b, k) in inputs {
        let text = state
            .s3
            .get(&b, &k)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default();
        let mut lines: Vec<(u64, String)> = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (out, ok, i, o) = answer(line, state);
            if ok {
                succeeded += 1
            } else {
                failed += 1
            }
            input_tokens += i;
            output_tokens += o;
            let mut h = DefaultHasher::new();
            out["recordId"].to_string().hash(&mut h);
            lines.push((h.finish(), out.to_string()));
        }
        // The service does not keep the input order; neither does this.
        lines.sort();
        let name = k.rsplit('/').next().unwrap_or(&k);
        let body: String = lines.into_iter().map(|(_, l)| l + "\n").collect();
        state
            .s3
            .put(&bucket, &format!("{folder}{name}.out"), body.into_bytes());
    }
    let manifest = json!({
        "totalRecordCount": succeeded + failed,
        "processedRecordCount": succeeded + failed,
        "successRecordCount": succeeded,
        "errorRecordCount": failed,
        "inputTokenCount": input_tokens,
        "outputTokenCount": output_tokens,
    });
    state.s3.put(
        &bucket,
        &format!("{folder}manifest.json.out"),
        manifest.to_string().into_bytes(),
    );
    let job = &mut state.jobs.jobs[index];
    job.processed = succeeded + failed;
    job.succeeded = succeeded;
    job.failed = failed;
}

impl MockServer {
    /// How many `GetModelInvocationJob` polls a batch job takes to finish
    /// (default 3: `Submitted`, `InProgress`, then `Completed`; at least 1).
    /// Its records are run, and its output written, at the last one.
    pub fn set_batch_job_polls(&self, polls: u32) {
        self.shared.lock().jobs.polls = polls.max(1);
    }

    /// The fewest records a batch job takes (default 100, the service's
    /// default quota); fewer are refused with a `ValidationException`.
    pub fn set_batch_min_records(&self, min: usize) {
        self.shared.lock().jobs.min_records = min;
    }
}
