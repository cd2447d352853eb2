//! The Bedrock control-plane calls: `CreateModelInvocationJob` (type
//! `Converse`), `GetModelInvocationJob`, `StopModelInvocationJob`.

use aws_sdk_bedrock::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_bedrock::types::{
    ModelInvocationJobInputDataConfig, ModelInvocationJobOutputDataConfig,
    ModelInvocationJobS3InputDataConfig, ModelInvocationJobS3OutputDataConfig, ModelInvocationType,
    S3InputFormat,
};

use super::error::InferenceError;
use super::job::{JobArn, JobState, JobStatus};

/// What `CreateModelInvocationJob` is given.
pub(super) struct NewJob {
    pub(super) name: String,
    pub(super) role_arn: String,
    pub(super) model_id: String,
    pub(super) input_uri: String,
    pub(super) output_uri: String,
    pub(super) timeout_hours: Option<u32>,
}

fn control_error<E>(operation: &'static str, e: SdkError<E>) -> InferenceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    InferenceError::Control {
        operation,
        code: e.code().map(str::to_owned),
        message: e
            .message()
            .map(str::to_owned)
            .unwrap_or_else(|| DisplayErrorContext(&e).to_string()),
    }
}

pub(super) async fn create(
    client: &aws_sdk_bedrock::Client,
    job: NewJob,
) -> Result<JobArn, InferenceError> {
    let input = ModelInvocationJobS3InputDataConfig::builder()
        .s3_uri(job.input_uri)
        .s3_input_format(S3InputFormat::Jsonl)
        .build()
        .map_err(|e| InferenceError::config(e.to_string()))?;
    let output = ModelInvocationJobS3OutputDataConfig::builder()
        .s3_uri(job.output_uri)
        .build()
        .map_err(|e| InferenceError::config(e.to_string()))?;
    let out = client
        .create_model_invocation_job()
        .job_name(job.name)
        .role_arn(job.role_arn)
        .model_id(job.model_id)
        .model_invocation_type(ModelInvocationType::Converse)
        .input_data_config(ModelInvocationJobInputDataConfig::S3InputDataConfig(input))
        .output_data_config(ModelInvocationJobOutputDataConfig::S3OutputDataConfig(
            output,
        ))
        .set_timeout_duration_in_hours(job.timeout_hours.map(|h| h.min(i32::MAX as u32) as i32))
        .send()
        .await
        .map_err(|e| control_error("CreateModelInvocationJob", e))?;
    Ok(JobArn::new(out.job_arn()))
}

pub(super) async fn get(
    client: &aws_sdk_bedrock::Client,
    job: &JobArn,
) -> Result<JobState, InferenceError> {
    let out = client
        .get_model_invocation_job()
        .job_identifier(job.as_str())
        .send()
        .await
        .map_err(|e| control_error("GetModelInvocationJob", e))?;
    let count = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok());
    Ok(JobState {
        arn: JobArn::new(out.job_arn()),
        name: out.job_name().map(str::to_owned),
        status: out.status().map_or(JobStatus::Unknown(String::new()), |s| {
            JobStatus::parse(s.as_str())
        }),
        message: out.message().map(str::to_owned),
        total_records: count(out.total_record_count()),
        processed_records: count(out.processed_record_count()),
        succeeded_records: count(out.success_record_count()),
        failed_records: count(out.error_record_count()),
        input_uri: out
            .input_data_config()
            .and_then(|c| c.as_s3_input_data_config().ok())
            .map(|c| c.s3_uri().to_owned())
            .unwrap_or_default(),
        output_uri: out
            .output_data_config()
            .and_then(|c| c.as_s3_output_data_config().ok())
            .map(|c| c.s3_uri().to_owned())
            .unwrap_or_default(),
    })
}

pub(super) async fn stop(
    client: &aws_sdk_bedrock::Client,
    job: &JobArn,
) -> Result<(), InferenceError> {
    client
        .stop_model_invocation_job()
        .job_identifier(job.as_str())
        .send()
        .await
        .map_err(|e| control_error("StopModelInvocationJob", e))?;
    Ok(())
}
