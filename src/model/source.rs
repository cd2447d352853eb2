//! Where a media block's content comes from ([`Source`]): its bytes, or an
//! object in Amazon S3 ([`S3Source`]); and S3 locations, checked once
//! ([`S3Uri`]).

/// Where an [`Image`](super::Image), [`Document`](super::Document),
/// [`Audio`](super::Audio) clip or [`Video`](super::Video) comes from: its
/// bytes, or an object in Amazon S3. One or the other, never both or neither,
/// as the SDK's `ImageSource`, `DocumentSource`, `AudioSource` and
/// `VideoSource` unions.
///
/// Bytes convert into a source (`Vec<u8>`, `&[u8]`, `&[u8; N]`), and so does
/// an [`S3Source`] or an [`S3Uri`], so a media constructor takes either:
///
/// ```
/// use bedrock_converse::model::{Image, S3Source, Source};
/// use bedrock_converse::types::ImageFormat;
///
/// let inline = Image::new(ImageFormat::Png, vec![0x89, b'P', b'N', b'G']);
/// assert_eq!(inline.source.bytes(), Some(&[0x89, b'P', b'N', b'G'][..]));
/// assert_eq!(inline.source.s3(), None);
///
/// let stored = Image::new(ImageFormat::Png, S3Source::new("s3://my-bucket/cat.png".parse()?));
/// assert!(matches!(&stored.source, Source::S3(s) if s.uri == "s3://my-bucket/cat.png"));
/// assert_eq!(stored.source.bytes(), None);
/// # Ok::<(), bedrock_converse::model::S3UriError>(())
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
    /// let source = Source::from(S3Source::new("s3://b/k".parse()?));
    /// assert_eq!(source.s3().map(|s| s.uri.as_str()), Some("s3://b/k"));
    /// # Ok::<(), bedrock_converse::model::S3UriError>(())
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
///
/// ```
/// use bedrock_converse::model::{Image, S3Source};
/// use bedrock_converse::types::ImageFormat;
/// let image = Image::from_s3(ImageFormat::Png, "s3://my-bucket/cat.png")?;
/// let s3 = image.source.s3().unwrap();
/// assert_eq!((s3.uri.bucket(), s3.uri.key()), ("my-bucket", "cat.png"));
/// let owned = S3Source::new("s3://shared/cat.png".parse()?).bucket_owner("111122223333");
/// assert_eq!(owned.bucket_owner.as_deref(), Some("111122223333"));
/// # Ok::<(), bedrock_converse::model::S3UriError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct S3Source {
    /// The object's URI, `s3://bucket/key`.
    pub uri: S3Uri,
    /// The account that owns the bucket, when it is not the caller's.
    pub bucket_owner: Option<String>,
}

impl S3Source {
    /// An object in one of the caller's buckets.
    pub fn new(uri: S3Uri) -> Self {
        S3Source {
            uri,
            bucket_owner: None,
        }
    }

    /// Names the account that owns the bucket.
    pub fn bucket_owner(mut self, account_id: impl Into<String>) -> Self {
        self.bucket_owner = Some(account_id.into());
        self
    }
}

impl From<S3Uri> for S3Source {
    fn from(uri: S3Uri) -> Self {
        S3Source::new(uri)
    }
}

impl From<S3Uri> for Source {
    fn from(uri: S3Uri) -> Self {
        Source::S3(S3Source::new(uri))
    }
}

/// An Amazon S3 location, `s3://bucket` or `s3://bucket/key`, checked once
/// when it is made: it starts with `s3://` and names a bucket. Made with
/// [`str::parse`] (or `TryFrom`); written back exactly as it was given
/// ([`Display`](std::fmt::Display), [`as_str`](S3Uri::as_str)).
///
/// ```
/// use bedrock_converse::model::{S3Uri, S3UriError};
///
/// let uri: S3Uri = "s3://my-bucket/clips/call.mp3".parse()?;
/// assert_eq!((uri.bucket(), uri.key()), ("my-bucket", "clips/call.mp3"));
/// assert_eq!(uri.to_string(), "s3://my-bucket/clips/call.mp3");
///
/// assert!(matches!(S3Uri::try_from("https://my-bucket/x"), Err(S3UriError::NotS3 { .. })));
/// assert!(matches!("s3:///x".parse::<S3Uri>(), Err(S3UriError::NoBucket { .. })));
/// # Ok::<(), S3UriError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct S3Uri {
    /// The URI as given.
    uri: String,
    /// Where the bucket name ends in `uri`.
    bucket_end: usize,
}

const SCHEME: &str = "s3://";

impl S3Uri {
    /// Parses `s3://bucket[/key]`.
    ///
    /// # Errors
    ///
    /// [`S3UriError::NotS3`] when `uri` does not start with `s3://`;
    /// [`S3UriError::NoBucket`] when it names no bucket (`s3://`,
    /// `s3:///key`).
    ///
    /// ```
    /// use bedrock_converse::model::S3Uri;
    /// assert_eq!(S3Uri::parse("s3://b")?.key(), "");
    /// assert!(S3Uri::parse("bucket/key").is_err());
    /// # Ok::<(), bedrock_converse::model::S3UriError>(())
    /// ```
    pub fn parse(uri: &str) -> Result<S3Uri, S3UriError> {
        let Some(rest) = uri.strip_prefix(SCHEME) else {
            return Err(S3UriError::NotS3 { uri: uri.into() });
        };
        let bucket = rest.split_once('/').map_or(rest, |(bucket, _)| bucket);
        if bucket.is_empty() {
            return Err(S3UriError::NoBucket { uri: uri.into() });
        }
        Ok(S3Uri {
            uri: uri.into(),
            bucket_end: SCHEME.len() + bucket.len(),
        })
    }

    /// The bucket's name.
    ///
    /// ```
    /// # use bedrock_converse::model::S3Uri;
    /// assert_eq!(S3Uri::parse("s3://b/k")?.bucket(), "b");
    /// # Ok::<(), bedrock_converse::model::S3UriError>(())
    /// ```
    pub fn bucket(&self) -> &str {
        &self.uri[SCHEME.len()..self.bucket_end]
    }

    /// The object's key (or a prefix): what follows the bucket and its `/`;
    /// empty for `s3://bucket`.
    ///
    /// ```
    /// # use bedrock_converse::model::S3Uri;
    /// assert_eq!(S3Uri::parse("s3://b/dir/k")?.key(), "dir/k");
    /// # Ok::<(), bedrock_converse::model::S3UriError>(())
    /// ```
    pub fn key(&self) -> &str {
        self.uri.get(self.bucket_end + 1..).unwrap_or_default()
    }

    /// The URI as given.
    ///
    /// ```
    /// # use bedrock_converse::model::S3Uri;
    /// assert_eq!(S3Uri::parse("s3://b/k")?.as_str(), "s3://b/k");
    /// # Ok::<(), bedrock_converse::model::S3UriError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.uri
    }

    /// The object `key` in `bucket`.
    #[cfg(feature = "batch-inference")]
    pub(crate) fn from_parts(bucket: &str, key: &str) -> S3Uri {
        S3Uri {
            uri: format!("{SCHEME}{bucket}/{key}"),
            bucket_end: SCHEME.len() + bucket.len(),
        }
    }

    /// The location `name` under this one, as a folder.
    #[cfg(feature = "batch-inference")]
    pub(crate) fn join(&self, name: &str) -> S3Uri {
        let key = self.key();
        let key = if key.is_empty() || key.ends_with('/') {
            format!("{key}{name}")
        } else {
            format!("{key}/{name}")
        };
        S3Uri::from_parts(self.bucket(), &key)
    }

    /// The same location with a trailing `/`: a folder.
    #[cfg(feature = "batch-inference")]
    pub(crate) fn folder(&self) -> S3Uri {
        self.join("")
    }
}

impl std::str::FromStr for S3Uri {
    type Err = S3UriError;

    fn from_str(uri: &str) -> Result<Self, Self::Err> {
        S3Uri::parse(uri)
    }
}

impl TryFrom<&str> for S3Uri {
    type Error = S3UriError;

    fn try_from(uri: &str) -> Result<Self, Self::Error> {
        S3Uri::parse(uri)
    }
}

impl TryFrom<String> for S3Uri {
    type Error = S3UriError;

    fn try_from(uri: String) -> Result<Self, Self::Error> {
        S3Uri::parse(&uri)
    }
}

impl std::fmt::Display for S3Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.uri)
    }
}

impl AsRef<str> for S3Uri {
    fn as_ref(&self) -> &str {
        &self.uri
    }
}

impl PartialEq<str> for S3Uri {
    fn eq(&self, other: &str) -> bool {
        self.uri == other
    }
}

impl PartialEq<&str> for S3Uri {
    fn eq(&self, other: &&str) -> bool {
        self.uri == *other
    }
}

/// Why a text is not an [`S3Uri`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum S3UriError {
    /// It does not start with `s3://`.
    #[error("{uri:?} is not an S3 URI: it must have the form s3://bucket/key")]
    NotS3 {
        /// The text given.
        uri: String,
    },
    /// It starts with `s3://` but names no bucket.
    #[error("{uri:?} names no bucket: an S3 URI has the form s3://bucket/key")]
    NoBucket {
        /// The text given.
        uri: String,
    },
}

/// What an S3 location may be given as: an [`S3Uri`], or text parsed into
/// one (`&str`, `String`, `&String`), as `reqwest`'s `IntoUrl`. Text that is
/// not an S3 URI is an [`S3UriError`], returned where the method taking it
/// says (at once for [`Image::from_s3`](super::Image::from_s3) and the other
/// media, at `submit` for Batch Inference's `s3`).
///
/// This trait is sealed: it is implemented only for the types above.
///
/// ```
/// use bedrock_converse::model::{IntoS3Uri, S3Uri};
/// let typed: S3Uri = "s3://b/k".parse()?;
/// assert_eq!(typed.clone().into_s3_uri()?, typed);
/// assert_eq!("s3://b/k".into_s3_uri()?, typed);
/// assert!(String::from("b/k").into_s3_uri().is_err());
/// # Ok::<(), bedrock_converse::model::S3UriError>(())
/// ```
pub trait IntoS3Uri: sealed::Sealed {
    /// The location, or why the text is not one.
    ///
    /// # Errors
    ///
    /// [`S3UriError`] for text that is not `s3://bucket[/key]`.
    fn into_s3_uri(self) -> Result<S3Uri, S3UriError>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::S3Uri {}
    impl Sealed for &str {}
    impl Sealed for String {}
    impl Sealed for &String {}
}

impl IntoS3Uri for S3Uri {
    fn into_s3_uri(self) -> Result<S3Uri, S3UriError> {
        Ok(self)
    }
}

impl IntoS3Uri for &str {
    fn into_s3_uri(self) -> Result<S3Uri, S3UriError> {
        S3Uri::parse(self)
    }
}

impl IntoS3Uri for String {
    fn into_s3_uri(self) -> Result<S3Uri, S3UriError> {
        S3Uri::parse(&self)
    }
}

impl IntoS3Uri for &String {
    fn into_s3_uri(self) -> Result<S3Uri, S3UriError> {
        S3Uri::parse(self)
    }
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
