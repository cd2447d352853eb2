//! S3 locations and the three S3 calls a job needs: put, get, list.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;

use super::error::InferenceError;

/// An `s3://bucket/key` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct S3Uri {
    pub(super) bucket: String,
    pub(super) key: String,
}

impl S3Uri {
    /// Parses `s3://bucket[/key]`.
    pub(super) fn parse(uri: &str) -> Result<S3Uri, InferenceError> {
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| InferenceError::config(format!("{uri:?} is not an s3:// URI")))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(InferenceError::config(format!("{uri:?} names no bucket")));
        }
        Ok(S3Uri {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    /// The location `name` under this one, as a folder.
    pub(super) fn join(&self, name: &str) -> S3Uri {
        let key = if self.key.is_empty() || self.key.ends_with('/') {
            format!("{}{name}", self.key)
        } else {
            format!("{}/{name}", self.key)
        };
        S3Uri {
            bucket: self.bucket.clone(),
            key,
        }
    }

    /// The same location with a trailing `/`: a folder.
    pub(super) fn folder(&self) -> S3Uri {
        self.join("")
    }
}

impl std::fmt::Display for S3Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

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
        .bucket(&uri.bucket)
        .key(&uri.key)
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
        .bucket(&uri.bucket)
        .key(&uri.key)
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
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let output = client
            .list_objects_v2()
            .bucket(&uri.bucket)
            .prefix(&uri.key)
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| s3_error("ListObjectsV2", uri, e))?;
        keys.extend(
            output
                .contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        match output.next_continuation_token() {
            Some(next) if output.is_truncated() == Some(true) => token = Some(next.to_owned()),
            _ => return Ok(keys),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_and_join() {
        let uri = S3Uri::parse("s3://bucket/some/prefix").unwrap();
        assert_eq!(
            (uri.bucket.as_str(), uri.key.as_str()),
            ("bucket", "some/prefix")
        );
        assert_eq!(
            uri.join("job/input.jsonl").to_string(),
            "s3://bucket/some/prefix/job/input.jsonl"
        );
        assert_eq!(S3Uri::parse("s3://b").unwrap().join("x").key, "x");
        assert_eq!(S3Uri::parse("s3://b/p/").unwrap().folder().key, "p/");
        assert!(matches!(
            S3Uri::parse("https://b/p"),
            Err(InferenceError::Config { .. })
        ));
        assert!(matches!(
            S3Uri::parse("s3:///p"),
            Err(InferenceError::Config { .. })
        ));
    }
}
