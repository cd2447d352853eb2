//! Reading a finished job back: [`BatchInference::collect`], and
//! [`BatchInference::run`] for submit, wait and collect in one call.

use super::error::InferenceError;
use super::job::{JobArn, JobState};
use super::output::{self, JobResults, Manifest};
use super::s3;
use super::{BatchInference, JobRequest};
use crate::batch::Record;
use crate::model::S3Uri;

impl BatchInference<'_> {
    /// Reads a finished job's results from S3: its input records (for the
    /// ids and inputs), every `.jsonl.out` output file and the manifest,
    /// joined by record id in input order. Needs only the ARN: a job
    /// submitted by another process, or days ago, is collected the same way.
    ///
    /// # Errors
    ///
    /// [`InferenceError::NoOutput`] when the job has not finished, or ended
    /// `Failed` or `Expired`; [`InferenceError::S3`] or
    /// [`InferenceError::Control`] when a call fails;
    /// [`InferenceError::Malformed`] for a file that is not JSONL records.
    pub fn collect(&self, job: &JobArn) -> Result<JobResults, InferenceError> {
        let state = self.status(job)?;
        if !state.status.has_output() {
            return Err(InferenceError::NoOutput {
                job: job.clone(),
                status: state.status,
                message: state.message,
            });
        }
        let input = S3Uri::parse(&state.input_uri)?;
        let output = S3Uri::parse(&state.output_uri)?
            .folder()
            .join(&format!("{}/", job.job_id()));
        self.run_on_runtime("BatchInference::collect", move |clients| async move {
            let input_keys = if input.key().ends_with(".jsonl") {
                vec![input.key().to_owned()]
            } else {
                let mut keys = s3::list(&clients.s3, &input.folder()).await?;
                keys.retain(|k| k.ends_with(".jsonl"));
                keys
            };
            let mut records = Vec::new();
            for key in input_keys {
                let uri = S3Uri::from_parts(input.bucket(), &key);
                output::read_input(
                    uri.as_str(),
                    &s3::get(&clients.s3, &uri).await?,
                    &mut records,
                )?;
            }
            let mut outcomes = output::Outcomes::new();
            let mut manifest = None;
            for key in s3::list(&clients.s3, &output).await? {
                let uri = S3Uri::from_parts(output.bucket(), &key);
                if uri.key().ends_with(".jsonl.out") {
                    let bytes = s3::get(&clients.s3, &uri).await?;
                    output::read_output(uri.as_str(), &bytes, &mut outcomes)?;
                } else if uri.key().ends_with("manifest.json.out") {
                    manifest = Manifest::parse(&s3::get(&clients.s3, &uri).await?);
                }
            }
            Ok(output::join(state, records, outcomes, manifest))
        })
    }

    /// [`submit`](BatchInference::submit), [`wait`](BatchInference::wait)
    /// and [`collect`](BatchInference::collect) in one call.
    ///
    /// # Errors
    ///
    /// Those of the three.
    pub fn run(
        &self,
        job: &JobRequest,
        records: impl IntoIterator<Item = Record>,
        progress: impl FnMut(&JobState),
    ) -> Result<JobResults, InferenceError> {
        let job = self.submit(job, records)?;
        self.wait(&job, progress)?;
        self.collect(&job)
    }
}
