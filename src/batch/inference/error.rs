//! [`InferenceError`]: why a Batch Inference job could not be submitted,
//! followed or read back, and [`Limit`], the limit a job broke.

use std::fmt;

use super::job::{JobArn, JobState, JobStatus};
use crate::error::Error;
use crate::model::S3UriError;

/// One of the limits [`Limits`](super::Limits) holds, named in [`InferenceError::Limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// Records per batch inference job (the maximum).
    RecordsPerJob,
    /// Bytes of one input file: a single record larger than this can never
    /// be sent.
    FileBytes,
    /// Bytes of all the input files of a job.
    JobBytes,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::RecordsPerJob => "records per job",
            Limit::FileBytes => "input file size (bytes)",
            Limit::JobBytes => "job size (bytes)",
        })
    }
}

/// What went wrong with a Batch Inference job. Per-record failures are not
/// errors of this kind: they come back in
/// [`JobResults::results`](super::JobResults::results), each with its
/// [`RecordError`](crate::batch::RecordError).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InferenceError {
    /// A [`JobRequest`](super::JobRequest) is malformed (an empty model
    /// id, a role that is not an IAM role ARN, a bad job name).
    #[error("batch inference is not configured: {message}")]
    Config {
        /// What is missing or wrong.
        message: String,
    },

    /// An S3 location given as text is not `s3://bucket/prefix`: the one
    /// given to [`JobRequest::new`](super::JobRequest::new), reported by
    /// [`submit`](super::BatchInference::submit), or one the service
    /// reported for a job.
    #[error("batch inference S3 location: {0}")]
    InvalidS3Uri(#[from] S3UriError),

    /// Fewer records than a job needs: the service would refuse the job.
    #[error("{count} record(s) given, but a batch inference job needs at least {min}")]
    TooFewRecords {
        /// Records given.
        count: usize,
        /// The minimum ([`Limits::min_records`](super::Limits::min_records)).
        min: usize,
    },

    /// A limit of the service was checked before submitting and exceeded.
    #[error("{} exceeds the batch inference limit {limit}: {value} > {max}", record.as_deref().map_or_else(|| "the job".to_owned(), |r| format!("record {r:?}")))]
    Limit {
        /// Which limit.
        limit: Limit,
        /// The record at fault, when one is.
        record: Option<String>,
        /// The value found.
        value: u64,
        /// The limit's value.
        max: u64,
    },

    /// A record uses `toolConfig`, which jobs of the `Converse` type refuse.
    #[error("record {record:?} has a toolConfig: Converse batch inference jobs refuse tool use")]
    ToolConfig {
        /// The record's id.
        record: String,
    },

    /// A record uses `outputConfig` (structured output), which batch
    /// inference does not support.
    #[error(
        "record {record:?} has an outputConfig: batch inference does not support structured output"
    )]
    OutputConfig {
        /// The record's id.
        record: String,
    },

    /// Two records share an id: their outputs could not be told apart.
    /// Refused before anything is sent, as a [`Batch`](crate::batch::Batch)
    /// refuses it with [`Error::DuplicateRecordId`], of the same name and
    /// shape.
    #[error("record id {record:?} appears more than once")]
    DuplicateRecordId {
        /// The id.
        record: String,
    },

    /// An S3 call failed.
    #[error("S3 {operation} of {uri} failed: {message}")]
    S3 {
        /// The S3 operation, e.g. `"PutObject"`.
        operation: &'static str,
        /// The object or prefix, as `s3://bucket/key`.
        uri: String,
        /// The service's error code (e.g. `"NoSuchKey"`), when there was one.
        code: Option<String>,
        /// What went wrong.
        message: String,
    },

    /// A Bedrock control-plane call (`CreateModelInvocationJob`,
    /// `GetModelInvocationJob`, `StopModelInvocationJob`) failed.
    #[error("Bedrock {operation} failed: {message}")]
    Control {
        /// The operation.
        operation: &'static str,
        /// The service's error code (e.g. `"ValidationException"`), when there was one.
        code: Option<String>,
        /// What went wrong.
        message: String,
    },

    /// The job ended without output to read: `Failed` or `Expired`, or it is
    /// not finished yet when its results were asked for.
    #[error("job {job} is {status}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    NoOutput {
        /// The job.
        job: JobArn,
        /// Its status.
        status: JobStatus,
        /// The service's message about it, if any.
        message: Option<String>,
    },

    /// An output or input file in S3 could not be read as JSONL records.
    #[error("{uri} line {line}: {message}")]
    Malformed {
        /// The object.
        uri: String,
        /// The line number (from 1).
        line: usize,
        /// What is wrong with it.
        message: String,
    },

    /// [`wait`](super::BatchInference::wait) gave up before the job ended:
    /// its [cancel token](super::BatchInference::cancel_token) was cancelled
    /// or its [wait limit](super::BatchInference::wait_limit) passed. The job
    /// goes on in the service: wait again or collect it later with its ARN.
    #[error("stopped waiting for job {} ({}): {}; the job goes on, collect it later by its ARN", last.arn, last.status, if *cancelled { "cancelled" } else { "the wait limit passed" })]
    WaitEnded {
        /// The job's state at the last poll.
        last: Box<JobState>,
        /// `true` when cancelled, `false` when the wait limit passed.
        cancelled: bool,
    },

    /// The `Converser`'s runtime could not run the calls.
    #[error("the Converser could not run the call")]
    Runtime {
        /// Why ([`Error::Shutdown`] when the runtime is gone).
        #[source]
        source: Error,
    },
}

impl InferenceError {
    pub(super) fn config(message: impl Into<String>) -> Self {
        InferenceError::Config {
            message: message.into(),
        }
    }
}

impl From<Error> for InferenceError {
    fn from(source: Error) -> Self {
        InferenceError::Runtime { source }
    }
}
