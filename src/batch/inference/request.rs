//! [`JobRequest`]: what one job is (model, S3 location, role, and the
//! optional name, timeout and limits), checked when it is submitted.

use std::time::{SystemTime, UNIX_EPOCH};

use super::control::NewJob;
use super::error::InferenceError;
use super::limits::Limits;
use crate::batch::Record;
use crate::model::{IntoS3Uri, S3Uri, S3UriError};

/// An object to upload before the job is created: where, and its bytes.
pub(super) type Upload = (S3Uri, Vec<u8>);

/// One Bedrock Batch Inference job to submit with
/// [`BatchInference::submit`](super::BatchInference::submit) (or
/// [`run`](super::BatchInference::run)): the three things every job needs
/// are the arguments of [`new`](JobRequest::new); the rest are optional
/// setters. Like a [`ConverseRequest`](crate::ConverseRequest), it is
/// checked when it is sent, all at once, before anything is uploaded.
///
/// ```
/// use bedrock_converse::batch::inference::{JobRequest, Limits};
///
/// let job = JobRequest::new(
///     "amazon.nova-lite-v1:0",
///     "s3://my-bucket/batches",
///     "arn:aws:iam::123456789012:role/BedrockBatch",
/// )
/// .job_name("nightly-2027-01-01")
/// .timeout_hours(48)
/// .limits(Limits { records_per_job: 10_000, ..Limits::default() });
/// assert_eq!(job.model_id(), "amazon.nova-lite-v1:0");
/// ```
#[derive(Debug, Clone)]
#[must_use = "a JobRequest does nothing until passed to BatchInference::submit"]
pub struct JobRequest {
    model_id: String,
    location: Result<S3Uri, S3UriError>,
    role_arn: String,
    job_name: Option<String>,
    timeout_hours: Option<u32>,
    limits: Limits,
    check_limits: bool,
}

impl JobRequest {
    /// A job of `model_id` (a model or inference profile, which every
    /// record is sent to), keeping its files under `s3`
    /// (`s3://bucket/prefix`: an [`S3Uri`] or text, as `reqwest`'s
    /// `IntoUrl`; each job gets a folder named after it there), run as the
    /// service role `role_arn` (which must be able to read and write that
    /// location).
    ///
    /// Nothing is checked here: text that is not an S3 URI, an empty model
    /// id or a role that is not an IAM role ARN are reported by
    /// [`submit`](super::BatchInference::submit), before anything is sent.
    pub fn new(
        model_id: impl Into<String>,
        s3: impl IntoS3Uri,
        role_arn: impl Into<String>,
    ) -> Self {
        JobRequest {
            model_id: model_id.into(),
            location: s3.into_s3_uri(),
            role_arn: role_arn.into(),
            job_name: None,
            timeout_hours: None,
            limits: Limits::default(),
            check_limits: true,
        }
    }

    /// The job's name (also its folder in S3): 1 to 63 letters, digits,
    /// `-`, `+` or `.`, starting with a letter or digit. By default
    /// `bedrock-converse-<time>`, different for each submit.
    pub fn job_name(mut self, name: impl Into<String>) -> Self {
        self.job_name = Some(name.into());
        self
    }

    /// `timeoutDurationInHours`: how long the job may take (the service's
    /// default, 24, when not set).
    pub fn timeout_hours(mut self, hours: u32) -> Self {
        self.timeout_hours = Some(hours);
        self
    }

    /// The quotas checked before submitting ([`Limits::default`] unless set).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Submit without checking the records first (all in one input file):
    /// the service is then the one to refuse what breaks its rules.
    pub fn skip_checks(mut self) -> Self {
        self.check_limits = false;
        self
    }

    /// The model (or inference profile) every record is sent to.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The job's name: the one set, or a new default one.
    pub(super) fn name_for_submit(&self) -> Result<String, InferenceError> {
        let name = match &self.job_name {
            Some(name) => name.clone(),
            None => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                format!(
                    "bedrock-converse-{}-{:09}",
                    now.as_secs(),
                    now.subsec_nanos()
                )
            }
        };
        let ok_chars = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | '.'));
        if name.is_empty()
            || name.len() > 63
            || !ok_chars
            || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        {
            return Err(InferenceError::config(format!(
                "job name {name:?}: 1 to 63 letters, digits, '-', '+' or '.', starting with a letter or digit"
            )));
        }
        Ok(name)
    }

    /// Checks the request and the records, and lays them out in S3: the
    /// job to create and the objects to upload first.
    pub(super) fn plan(&self, records: &[Record]) -> Result<(NewJob, Vec<Upload>), InferenceError> {
        if self.model_id.trim().is_empty() {
            return Err(InferenceError::config("the model id is empty"));
        }
        if !is_role_arn(&self.role_arn) {
            return Err(InferenceError::config(format!(
                "role {:?} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)",
                self.role_arn
            )));
        }
        let location = self.location.clone()?;
        let name = self.name_for_submit()?;
        let files = if self.check_limits {
            self.limits.plan(records)?
        } else {
            vec![records
                .iter()
                .flat_map(|r| (r.to_json_line() + "\n").into_bytes())
                .collect()]
        };
        let base = location.join(&name);
        let (input_uri, objects) = if files.len() == 1 {
            let uri = base.join("input.jsonl");
            (
                uri.clone(),
                vec![(uri, files.into_iter().next().unwrap_or_default())],
            )
        } else {
            let folder = base.join("input/");
            let objects = files
                .into_iter()
                .enumerate()
                .map(|(i, f)| (folder.join(&format!("records-{:05}.jsonl", i + 1)), f))
                .collect();
            (folder, objects)
        };
        let job = NewJob {
            name,
            role_arn: self.role_arn.clone(),
            model_id: self.model_id.clone(),
            input_uri: input_uri.to_string(),
            output_uri: base.join("output/").to_string(),
            timeout_hours: self.timeout_hours,
        };
        Ok((job, objects))
    }
}

/// `arn:<partition>:iam::<account>:role/<name>`, the shape the service
/// checks `roleArn` against.
fn is_role_arn(arn: &str) -> bool {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    partition.starts_with("aws")
        && (account.is_empty()
            || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())))
        && resource
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty())
}
