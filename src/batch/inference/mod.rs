//! Bedrock Batch Inference (feature `batch-inference`): the same records as
//! a local [`Batch`](crate::batch::Batch) run, sent as one asynchronous job
//! that AWS runs past one machine and one account's on-demand quota, at
//! about half the on-demand price.
//!
//! [`BatchInference`] uploads the records to S3 as JSONL, creates the job
//! with `CreateModelInvocationJob` and `modelInvocationType: "Converse"`,
//! polls `GetModelInvocationJob`, and reads the output back from S3, joined
//! to the inputs by `recordId`. Jobs take up to a day, so
//! [`submit`](BatchInference::submit) returns the job's ARN at once and
//! [`collect`](BatchInference::collect) reads the results later, from any
//! process: everything it needs is in the job's description and in S3.
//!
//! The S3 and Bedrock control-plane clients use the `Converser`'s region,
//! credentials and HTTP client, and run on its runtime thread. Their
//! endpoints are the services' own unless set with
//! [`s3_endpoint`](BatchInference::s3_endpoint) /
//! [`bedrock_endpoint`](BatchInference::bedrock_endpoint) (or
//! [`endpoint`](BatchInference::endpoint) for both) or in the environment
//! (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_BEDROCK`, `AWS_ENDPOINT_URL`);
//! with an S3 endpoint set, S3 is addressed path-style
//! (`http://host/bucket/key`), as local stores expect.
//!
//! # What the service does, and what this module assumes
//!
//! - **Request**
//!   ([CreateModelInvocationJob](https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelInvocationJob.html)):
//!   `POST /model-invocation-job` with `jobName` (1–63 characters, letters,
//!   digits, `-`, `+`, `.`), `roleArn` (a service role that can read the
//!   input and write the output bucket), `modelId`, `modelInvocationType`
//!   (`Converse` here; the default is `InvokeModel`),
//!   `inputDataConfig.s3InputDataConfig` (`s3Uri` of a `.jsonl` file or a
//!   folder of them, `s3InputFormat: "JSONL"`),
//!   `outputDataConfig.s3OutputDataConfig.s3Uri`, and optionally
//!   `timeoutDurationInHours` (24 to 168; 24 by default). The answer is the
//!   job's ARN.
//! - **Records**
//!   ([Format and upload your batch inference data](https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html)):
//!   one `{"recordId": …, "modelInput": …}` per line, where for `Converse`
//!   jobs `modelInput` is a Converse request body; the model is the job's.
//!   The output order is **not** guaranteed to be the input order, so
//!   results are joined by `recordId`.
//! - **Tools**
//!   ([Process multiple prompts with batch inference](https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference.html)):
//!   Converse-type jobs do not support tool calling; records with a
//!   `toolConfig` fail with a 400 error. They are refused here before
//!   anything is uploaded ([`InferenceError::ToolConfig`]). The same page
//!   says batch inference does not support structured output, so a record
//!   with an `outputConfig` is refused too ([`InferenceError::OutputConfig`]).
//!   The local batch runner ([`crate::batch::Batch`]), which calls Converse
//!   itself, takes both.
//! - **Statuses**
//!   ([GetModelInvocationJob](https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetModelInvocationJob.html)):
//!   `Submitted`, `Validating`, `Scheduled`, `InProgress`, then `Completed`,
//!   `PartiallyCompleted` (not every record processed in time), `Failed`,
//!   `Stopping`/`Stopped`, or `Expired` (scheduled but not started before
//!   the timeout). The answer also carries `totalRecordCount`,
//!   `processedRecordCount`, `successRecordCount` and `errorRecordCount`,
//!   which [`wait`](BatchInference::wait) reports as progress.
//! - **Output**
//!   ([View the results of a batch inference job](https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-results.html)):
//!   under `<output s3Uri>/<job id>/` (the job id is the ARN's last path
//!   segment), one `<input file name>.out` per input file, each line the
//!   record with `modelOutput` (a Converse response body) or
//!   `"error": {"errorCode", "errorMessage"}`, and `manifest.json.out`
//!   (`totalRecordCount`, `processedRecordCount`, `successRecordCount`,
//!   `errorRecordCount`, `inputTokenCount`, `outputTokenCount`).
//! - **Quotas** ([Amazon Bedrock endpoints and quotas](https://docs.aws.amazon.com/general/latest/gr/bedrock.html)):
//!   a minimum number of records per job (100 by default), records per
//!   input file and per job (commonly 50,000 by default: check Service
//!   Quotas), input file size (1 GB) and job size (5 GB); several are per
//!   model and adjustable, so
//!   [`Limits`] holds the defaults and can be set to an account's values.
//!   A job below the minimum fails validation; more records or bytes per
//!   file than allowed are split into several input files here.
//!
//! # Layout in S3
//!
//! Given `s3://bucket/prefix` and a job name `NAME`, the records go to
//! `s3://bucket/prefix/NAME/input.jsonl` (or, when they need several files,
//! `…/NAME/input/records-00001.jsonl`, … with the folder as the job's
//! input), and the job writes under `s3://bucket/prefix/NAME/output/`.
//!
//! # Example
//!
//! ```no_run
//! use bedrock_converse::batch::inference::{BatchInference, JobRequest};
//! use bedrock_converse::batch::Record;
//! use bedrock_converse::Converser;
//! use serde_json::json;
//!
//! let converser = Converser::from_env()?;
//! let records = (0..100).map(|i| {
//!     Record::new(
//!         format!("r{i:05}"),
//!         json!({"messages": [{"role": "user", "content": [{"text": format!("Say {i}")}]}]}),
//!     )
//! });
//! let job = JobRequest::new(
//!     "amazon.nova-lite-v1:0",
//!     "s3://my-bucket/batches",
//!     "arn:aws:iam::123456789012:role/BedrockBatch",
//! );
//! let jobs = BatchInference::new(&converser);
//! let arn = jobs.submit(&job, records)?; // returns at once; keep the ARN
//! jobs.wait(&arn, |state| eprintln!("{}: {:?} processed", state.status, state.processed_records))?;
//! let results = jobs.collect(&arn)?;
//! for result in &results.results {
//!     println!("{}", result.to_json_line());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod clients;
mod collect;
mod control;
mod error;
mod job;
mod limits;
mod output;
mod request;
mod s3;
mod wait;

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

pub use error::InferenceError;
pub use error::Limit;
pub use job::{JobArn, JobState, JobStatus};
pub use limits::Limits;
pub use output::{JobResults, Manifest};
pub use request::JobRequest;

use crate::batch::Record;
use crate::client::Converser;
use crate::CancelToken;
use clients::{Clients, Endpoints};

/// The first wait between two polls of a job by default; waits then double
/// up to [`DEFAULT_MAX_POLL`].
pub const DEFAULT_FIRST_POLL: Duration = Duration::from_secs(15);
/// The longest wait between two polls of a job by default.
pub const DEFAULT_MAX_POLL: Duration = Duration::from_secs(300);

/// The client for Bedrock Batch Inference jobs of `Converse` records,
/// through one [`Converser`]: [`submit`](BatchInference::submit) a
/// [`JobRequest`], then [`wait`](BatchInference::wait) and
/// [`collect`](BatchInference::collect) by the job's ARN (or
/// [`run`](BatchInference::run) for all three). See the
/// [module docs](self) for what the service does.
///
/// The client and a job are separate types: what a job is (model, S3
/// location, role, name, limits) is its [`JobRequest`], given to `submit`
/// only; the client's setters say how to reach the services and how to
/// wait. So [`status`](BatchInference::status),
/// [`wait`](BatchInference::wait), [`collect`](BatchInference::collect)
/// and [`stop`](BatchInference::stop) need only the job's ARN, and a
/// process that did not submit the job collects it the same way.
///
/// ```
/// # use bedrock_converse_mock::MockServer;
/// # let server = MockServer::start()?;
/// # let converser = server.converser()?;
/// use std::time::Duration;
///
/// use bedrock_converse::batch::inference::{BatchInference, JobRequest, JobStatus};
/// use bedrock_converse::batch::Record;
/// use serde_json::json;
///
/// let records = (0..100).map(|i| {
///     Record::new(
///         format!("r{i:03}"),
///         json!({"messages": [{"role": "user", "content": [{"text": format!("Hi {i}")}]}]}),
///     )
/// });
/// let job = JobRequest::new(
///     "amazon.nova-lite-v1:0",
///     "s3://bucket/batches",
///     "arn:aws:iam::123456789012:role/BedrockBatch",
/// );
/// let jobs = BatchInference::new(&converser)
///     .endpoint(server.endpoint()) // the local server's S3 and control plane
///     .poll_interval(Duration::from_millis(10), Duration::from_millis(40));
/// let mut statuses = Vec::new();
/// let results = jobs.run(&job, records, |state| statuses.push(state.status.clone()))?;
/// assert_eq!(statuses.last(), Some(&JobStatus::Completed));
/// assert_eq!(results.succeeded(), 100);
/// assert_eq!(results.results[7].outcome.as_ref().unwrap().text(), "You said: Hi 7");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a BatchInference does nothing until a job is submitted, waited for or collected"]
pub struct BatchInference<'a> {
    converser: &'a Converser,
    endpoints: Endpoints,
    first_poll: Duration,
    max_poll: Duration,
    wait_limit: Option<Duration>,
    cancel: Option<CancelToken>,
    clients: OnceLock<Clients>,
}

impl<'a> BatchInference<'a> {
    /// Jobs run with `converser`'s region, credentials and HTTP client.
    pub fn new(converser: &'a Converser) -> Self {
        BatchInference {
            converser,
            endpoints: Endpoints::default(),
            first_poll: DEFAULT_FIRST_POLL,
            max_poll: DEFAULT_MAX_POLL,
            wait_limit: None,
            cancel: None,
            clients: OnceLock::new(),
        }
    }

    /// The S3 endpoint (for an S3-compatible store or a local server);
    /// addressing becomes path-style.
    pub fn s3_endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoints.s3 = Some(url.into());
        self
    }

    /// The Bedrock control-plane endpoint.
    pub fn bedrock_endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoints.bedrock = Some(url.into());
        self
    }

    /// One endpoint for both S3 and the Bedrock control plane, as the
    /// bundled local server offers.
    pub fn endpoint(self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.s3_endpoint(url.clone()).bedrock_endpoint(url)
    }

    /// Path-style S3 addressing on or off (by default on exactly when an
    /// S3 endpoint is set).
    pub fn s3_path_style(mut self, on: bool) -> Self {
        self.endpoints.s3_path_style = Some(on);
        self
    }

    /// The first wait between two polls in [`wait`](BatchInference::wait),
    /// and the longest it doubles to.
    pub fn poll_interval(mut self, first: Duration, max: Duration) -> Self {
        self.first_poll = first;
        self.max_poll = max.max(first);
        self
    }

    /// The longest [`wait`](BatchInference::wait) (and so
    /// [`run`](BatchInference::run)) polls before it gives up with
    /// [`InferenceError::WaitEnded`]; the job itself goes on. No limit by
    /// default: jobs take up to a day.
    pub fn wait_limit(mut self, limit: Duration) -> Self {
        self.wait_limit = Some(limit);
        self
    }

    /// A token that, once cancelled, ends [`wait`](BatchInference::wait)
    /// (and so [`run`](BatchInference::run)) at once with
    /// [`InferenceError::WaitEnded`]; the job itself goes on (see
    /// [`stop`](BatchInference::stop)).
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    fn clients(&self, method: &'static str) -> Result<Clients, InferenceError> {
        if let Some(clients) = self.clients.get() {
            return Ok(clients.clone());
        }
        let endpoints = self.endpoints.clone();
        let credentials = self.converser.credentials_provider();
        let clients = self.converser.block_on_runtime(method, move |client| {
            let clients = Clients::new(client.config(), credentials, &endpoints);
            async move { clients }
        })?;
        Ok(self.clients.get_or_init(|| clients).clone())
    }

    /// Runs `f` on the `Converser`'s runtime thread and waits for it (for
    /// the public `method`, which a deadlock error names).
    fn run_on_runtime<T, F>(
        &self,
        method: &'static str,
        f: impl FnOnce(Clients) -> F + Send + 'static,
    ) -> Result<T, InferenceError>
    where
        F: Future<Output = Result<T, InferenceError>> + Send + 'static,
        T: Send + 'static,
    {
        let clients = self.clients(method)?;
        self.converser
            .block_on_runtime(method, move |_| f(clients))?
    }

    /// Checks `job` and the records against its [`Limits`] and the rules
    /// of Converse jobs, uploads the records to S3 and creates the job;
    /// returns its ARN without waiting for it.
    ///
    /// # Errors
    ///
    /// [`InferenceError::Config`] for an empty model id, a role that is not
    /// an IAM role ARN, or a bad [job name](JobRequest::job_name);
    /// [`InferenceError::InvalidS3Uri`] when the S3 location given is not
    /// an S3 URI;
    /// a limit error ([`TooFewRecords`](InferenceError::TooFewRecords),
    /// [`Limit`](InferenceError::Limit),
    /// [`ToolConfig`](InferenceError::ToolConfig),
    /// [`DuplicateRecordId`](InferenceError::DuplicateRecordId)) before
    /// anything is sent; [`InferenceError::S3`] or
    /// [`InferenceError::Control`] when a call fails.
    pub fn submit(
        &self,
        job: &JobRequest,
        records: impl IntoIterator<Item = Record>,
    ) -> Result<JobArn, InferenceError> {
        let records: Vec<Record> = records.into_iter().collect();
        let (job, objects) = job.plan(&records)?;
        self.run_on_runtime("BatchInference::submit", move |clients| async move {
            for (uri, body) in objects {
                s3::put(&clients.s3, &uri, body).await?;
            }
            control::create(&clients.bedrock, job).await
        })
    }

    /// The job's state now (one `GetModelInvocationJob`).
    ///
    /// # Errors
    ///
    /// [`InferenceError::Control`] when the call fails (an unknown job is
    /// `ResourceNotFoundException`).
    pub fn status(&self, job: &JobArn) -> Result<JobState, InferenceError> {
        let job = job.clone();
        self.run_on_runtime("BatchInference::status", move |clients| async move {
            control::get(&clients.bedrock, &job).await
        })
    }

    /// Asks the service to stop the job (`StopModelInvocationJob`); it goes
    /// `Stopping`, then `Stopped`, and what it finished can be collected.
    ///
    /// # Errors
    ///
    /// [`InferenceError::Control`] when the call fails.
    pub fn stop(&self, job: &JobArn) -> Result<(), InferenceError> {
        let job = job.clone();
        self.run_on_runtime("BatchInference::stop", move |clients| async move {
            control::stop(&clients.bedrock, &job).await
        })
    }
}

#[cfg(test)]
mod tests;
