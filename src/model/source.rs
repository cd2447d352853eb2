//! Where a media block's content comes from ([`Source`]): its bytes, or an
//! object in Amazon S3 ([`S3Source`]).

/// Where an [`Image`](super::Image), [`Document`](super::Document),
/// [`Audio`](super::Audio) clip or [`Video`](super::Video) comes from: its
/// bytes, or an object in Amazon S3. One or the other, never both or neither,
/// as the SDK's `ImageSource`, `DocumentSource`, `AudioSource` and
/// `VideoSource` unions.
///
/// Bytes convert into a source (`Vec<u8>`, `&[u8]`, `&[u8; N]`), and so does
/// an [`S3Source`], so a media constructor takes either:
///
/// ```
/// use bedrock_converse::model::{Image, S3Source, Source};
/// use bedrock_converse::types::ImageFormat;
///
/// let inline = Image::new(ImageFormat::Png, vec![0x89, b'P', b'N', b'G']);
/// assert_eq!(inline.source.bytes(), Some(&[0x89, b'P', b'N', b'G'][..]));
/// assert_eq!(inline.source.s3(), None);
///
/// let stored = Image::new(ImageFormat::Png, S3Source::new("s3://my-bucket/cat.png"));
/// assert!(matches!(&stored.source, Source::S3(s) if s.uri == "s3://my-bucket/cat.png"));
/// assert_eq!(stored.source.bytes(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// The raw bytes (not base64: the SDK encodes them).
    Bytes(Vec<u8>),
    /// An object in Amazon S3, sent by reference (for models that read S3).
    S3(S3Source),
}

impl Source {
    /// The bytes, when the content is sent as bytes.
    ///
    /// ```
    /// use bedrock_converse::model::Source;
    /// assert_eq!(Source::from(vec![1u8, 2]).bytes(), Some(&[1u8, 2][..]));
    /// ```
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Source::Bytes(bytes) => Some(bytes),
            Source::S3(_) => None,
        }
    }

    /// The S3 object, when the content is in S3.
    ///
    /// ```
    /// use bedrock_converse::model::{S3Source, Source};
    /// let source = Source::from(S3Source::new("s3://b/k"));
    /// assert_eq!(source.s3().map(|s| s.uri.as_str()), Some("s3://b/k"));
    /// ```
    pub fn s3(&self) -> Option<&S3Source> {
        match self {
            Source::S3(s3) => Some(s3),
            Source::Bytes(_) => None,
        }
    }
}

impl From<Vec<u8>> for Source {
    fn from(bytes: Vec<u8>) -> Self {
        Source::Bytes(bytes)
    }
}

impl From<&[u8]> for Source {
    fn from(bytes: &[u8]) -> Self {
        Source::Bytes(bytes.to_vec())
    }
}

impl<const N: usize> From<&[u8; N]> for Source {
    fn from(bytes: &[u8; N]) -> Self {
        Source::Bytes(bytes.to_vec())
    }
}

impl From<S3Source> for Source {
    fn from(s3: S3Source) -> Self {
        Source::S3(s3)
    }
}

/// Media stored in Amazon S3, sent by reference instead of as bytes (for
/// models that read S3; see "Supported models and features for Converse").
/// The URI must start with `s3://`, which
/// [`validate`](crate::ConverseRequest::validate) checks.
///
/// ```
/// use bedrock_converse::model::{Image, S3Source};
/// use bedrock_converse::types::ImageFormat;
/// let image = Image::from_s3(ImageFormat::Png, "s3://my-bucket/cat.png");
/// assert_eq!(image.source.s3(), Some(&S3Source::new("s3://my-bucket/cat.png")));
/// let owned = S3Source::new("s3://shared/cat.png").bucket_owner("111122223333");
/// assert_eq!(owned.bucket_owner.as_deref(), Some("111122223333"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct S3Source {
    /// The object's URI, `s3://bucket/key`.
    pub uri: String,
    /// The account that owns the bucket, when it is not the caller's.
    pub bucket_owner: Option<String>,
}

impl S3Source {
    /// An object in one of the caller's buckets.
    pub fn new(uri: impl Into<String>) -> Self {
        S3Source {
            uri: uri.into(),
            bucket_owner: None,
        }
    }

    /// Names the account that owns the bucket.
    pub fn bucket_owner(mut self, account_id: impl Into<String>) -> Self {
        self.bucket_owner = Some(account_id.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_bytes_becomes_a_bytes_source() {
        let want = Source::Bytes(vec![1, 2, 3]);
        assert_eq!(Source::from(vec![1u8, 2, 3]), want);
        assert_eq!(Source::from(&[1u8, 2, 3][..]), want);
        assert_eq!(Source::from(&[1u8, 2, 3]), want);
        assert_eq!(want.bytes(), Some(&[1u8, 2, 3][..]));
        assert_eq!(want.s3(), None);
    }

    #[test]
    fn an_s3_source_is_a_source_with_no_bytes() {
        let s3 = S3Source::new("s3://b/k").bucket_owner("111122223333");
        let source = Source::from(s3.clone());
        assert_eq!(source, Source::S3(s3.clone()));
        assert_eq!(source.s3(), Some(&s3));
        assert_eq!(source.bytes(), None);
    }
}
