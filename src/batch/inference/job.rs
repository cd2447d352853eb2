//! A job's identity and state: [`JobArn`], [`JobStatus`], [`JobState`].

use std::fmt;

/// The ARN of a batch inference job, as `CreateModelInvocationJob` returns
/// it: keep it to [collect](super::BatchInference::collect) the results
/// later, from another process if need be.
///
/// ```
/// use bedrock_converse::batch::inference::JobArn;
/// let arn = JobArn::new("arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123def456");
/// assert_eq!(arn.job_id(), "abc123def456");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobArn(String);

impl JobArn {
    /// A job ARN from its text.
    pub fn new(arn: impl Into<String>) -> Self {
        JobArn(arn.into())
    }

    /// The ARN's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The job id: the ARN's last path segment, which names the job's
    /// output folder in S3 (`<output prefix>/<job id>/`).
    pub fn job_id(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for JobArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The status of a batch inference job, as `GetModelInvocationJob` reports
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobStatus {
    /// Queued for validation.
    Submitted,
    /// Being validated (S3 access, file format, sizes and record counts).
    Validating,
    /// Validated and waiting for its turn.
    Scheduled,
    /// Running: output files start to appear.
    InProgress,
    /// Done: every record has an output line.
    Completed,
    /// Done, but not every record could be processed in time.
    PartiallyCompleted,
    /// Failed: see the job's message.
    Failed,
    /// Being stopped.
    Stopping,
    /// Stopped by `StopModelInvocationJob`.
    Stopped,
    /// Scheduled but not started before its timeout.
    Expired,
    /// A status this crate does not know yet.
    Unknown(String),
}

impl JobStatus {
    /// The status from the service's string.
    pub fn parse(s: &str) -> Self {
        match s {
            "Submitted" => JobStatus::Submitted,
            "Validating" => JobStatus::Validating,
            "Scheduled" => JobStatus::Scheduled,
            "InProgress" => JobStatus::InProgress,
            "Completed" => JobStatus::Completed,
            "PartiallyCompleted" => JobStatus::PartiallyCompleted,
            "Failed" => JobStatus::Failed,
            "Stopping" => JobStatus::Stopping,
            "Stopped" => JobStatus::Stopped,
            "Expired" => JobStatus::Expired,
            other => JobStatus::Unknown(other.to_owned()),
        }
    }

    /// The service's string for the status.
    pub fn as_str(&self) -> &str {
        match self {
            JobStatus::Submitted => "Submitted",
            JobStatus::Validating => "Validating",
            JobStatus::Scheduled => "Scheduled",
            JobStatus::InProgress => "InProgress",
            JobStatus::Completed => "Completed",
            JobStatus::PartiallyCompleted => "PartiallyCompleted",
            JobStatus::Failed => "Failed",
            JobStatus::Stopping => "Stopping",
            JobStatus::Stopped => "Stopped",
            JobStatus::Expired => "Expired",
            JobStatus::Unknown(s) => s,
        }
    }

    /// Whether the job has ended and will not change again.
    ///
    /// ```
    /// use bedrock_converse::batch::inference::JobStatus;
    /// assert!(JobStatus::parse("PartiallyCompleted").is_finished());
    /// assert!(!JobStatus::parse("Scheduled").is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            JobStatus::Completed
                | JobStatus::PartiallyCompleted
                | JobStatus::Failed
                | JobStatus::Stopped
                | JobStatus::Expired
        )
    }

    /// Whether the job's output is worth reading: it ended `Completed`,
    /// `PartiallyCompleted` or `Stopped` (records it did not reach are
    /// reported missing).
    pub fn has_output(&self) -> bool {
        matches!(
            self,
            JobStatus::Completed | JobStatus::PartiallyCompleted | JobStatus::Stopped
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `GetModelInvocationJob` says of a job: its status, the service's
/// message, the record counts (when the service gives them) and where its
/// files are. Passed to the progress callback of
/// [`wait`](super::BatchInference::wait) at every poll.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobState {
    /// The job.
    pub arn: JobArn,
    /// Its name.
    pub name: Option<String>,
    /// Its status.
    pub status: JobStatus,
    /// The service's message (why it failed, for one).
    pub message: Option<String>,
    /// Records in the job.
    pub total_records: Option<u64>,
    /// Records processed so far.
    pub processed_records: Option<u64>,
    /// Records processed successfully so far.
    pub succeeded_records: Option<u64>,
    /// Records that ended in an error so far.
    pub failed_records: Option<u64>,
    /// The input location (`s3://…`, a `.jsonl` file or a folder).
    pub input_uri: String,
    /// The output location (`s3://…/`); the job writes under
    /// `<output_uri>/<job id>/`.
    pub output_uri: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [(&str, bool, bool); 10] = [
        // (status, is_finished, has_output)
        ("Submitted", false, false),
        ("Validating", false, false),
        ("Scheduled", false, false),
        ("InProgress", false, false),
        ("Stopping", false, false),
        ("Completed", true, true),
        ("PartiallyCompleted", true, true),
        ("Stopped", true, true),
        ("Failed", true, false),
        ("Expired", true, false),
    ];

    #[test]
    fn every_status_reads_and_prints_as_the_service_spells_it() {
        for (text, _, _) in ALL {
            let status = JobStatus::parse(text);
            assert!(!matches!(status, JobStatus::Unknown(_)), "{text}");
            assert_eq!(status.as_str(), text);
            assert_eq!(status.to_string(), text);
        }
        let new = JobStatus::parse("Hibernating");
        assert_eq!(new, JobStatus::Unknown("Hibernating".into()));
        assert_eq!(
            (new.as_str(), new.to_string().as_str()),
            ("Hibernating", "Hibernating")
        );
        // Statuses are matched as written.
        assert_eq!(
            JobStatus::parse("completed"),
            JobStatus::Unknown("completed".into())
        );
    }

    #[test]
    fn a_job_is_finished_once_it_cannot_change_and_has_output_unless_it_failed_or_expired() {
        for (text, finished, output) in ALL {
            let status = JobStatus::parse(text);
            assert_eq!(status.is_finished(), finished, "{text}");
            assert_eq!(status.has_output(), output, "{text}");
        }
        let unknown = JobStatus::parse("Hibernating");
        assert!(!unknown.is_finished() && !unknown.has_output());
    }

    #[test]
    fn an_arn_names_its_job_by_its_last_segment() {
        let text = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123def456";
        let arn = JobArn::new(text);
        assert_eq!(arn.as_str(), text);
        assert_eq!(arn.to_string(), text);
        assert_eq!(arn.job_id(), "abc123def456");
        // No `/`: the whole text is the id.
        assert_eq!(JobArn::new("abc").job_id(), "abc");
    }
}
