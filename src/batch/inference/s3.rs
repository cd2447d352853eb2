//! The three S3 calls a job needs: put, get, list (locations are
//! [`S3Uri`]s).

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;

use super::error::InferenceError;
use crate::model::S3Uri;

fn s3_error<E>(
    operation: &'static str,
    uri: &S3Uri,
    e: aws_sdk_s3::error::SdkError<E>,
) -> InferenceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    InferenceError::S3 {
        operation,
        uri: uri.to_string(),
        code: e.code().map(str::to_owned),
        message: DisplayErrorContext(&e).to_string(),
    }
}

pub(super) async fn put(
    client: &aws_sdk_s3::Client,
    uri: &S3Uri,
    body: Vec<u8>,
) -> Result<(), InferenceError> {
    client
        .put_object()
        .bucket(uri.bucket())
        .key(uri.key())
        .content_type("application/jsonl")
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| s3_error("PutObject", uri, e))?;
    Ok(())
}

pub(super) async fn get(
    client: &aws_sdk_s3::Client,
    uri: &S3Uri,
) -> Result<Vec<u8>, InferenceError> {
    let output = client
        .get_object()
        .bucket(uri.bucket())
        .key(uri.key())
        .send()
        .await
        .map_err(|e| s3_error("GetObject", uri, e))?;
    let bytes = output
        .body
        .collect()
        .await
        .map_err(|e| InferenceError::S3 {
            operation: "GetObject",
            uri: uri.to_string(),
            code: None,
            message: e.to_string(),
        })?;
    Ok(bytes.into_bytes().to_vec())
}

/// Every key under the folder `uri`, in S3's order (by key).
pub(super) async fn list(
    client: &aws_sdk_s3::Client,
    uri: &S3Uri,
) -> Result<Vec<String>, InferenceError> {
    // The SDK's paginator follows the continuation tokens (S3 returns at
    // most 1,000 keys a page).
    let pages = client
        .list_objects_v2()
        .bucket(uri.bucket())
        .prefix(uri.key())
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| s3_error("ListObjectsV2", uri, e))?;
    Ok(pages
        .iter()
        .flat_map(|page| page.contents())
        .filter_map(|o| o.key().map(str::to_owned))
        .collect())
}
