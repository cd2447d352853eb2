//! Images and documents for a message ([`Image`], [`Document`]), and the
//! size limits checked before sending ([`ContentLimits`]).

use aws_sdk_bedrockruntime::types::{DocumentFormat, ImageFormat};

use super::source::{IntoS3Uri, S3Source, S3UriError, Source};

/// The most images one request may hold, per the Converse API reference
/// (`Message.content`).
const MAX_IMAGES: usize = 20;
/// The largest image, in bytes: 3.75 MB, per the Converse API reference.
/// Counted in binary megabytes (3.75 × 1024 × 1024), the generous reading,
/// so that nothing the service accepts is refused here.
const MAX_IMAGE_BYTES: usize = 3_932_160;
/// The most documents one request may hold, per the Converse API reference.
const MAX_DOCUMENTS: usize = 5;
/// The largest document, in bytes: 4.5 MB (as 4.5 × 1024 × 1024), per the
/// Converse API reference.
const MAX_DOCUMENT_BYTES: usize = 4_718_592;

/// The largest video sent as bytes: the API takes base64 "less than 25MB"
/// (`VideoSource`), which is 25 × 1024 × 1024 × 3 / 4 raw bytes; larger
/// videos (up to 1 GB) go through S3.
const MAX_VIDEO_BYTES: usize = 19_660_800;

/// The longest document name the API accepts.
pub(crate) const MAX_DOCUMENT_NAME_LEN: usize = 200;

/// Whether a document name may hold `c` (whitespace aside).
pub(crate) fn allowed_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '(' | ')' | '[' | ']')
}

/// Limits on the images and documents of one request, checked by
/// [`ConverseRequest::validate`](crate::ConverseRequest::validate) so that an
/// oversized request fails with a clear [`Error::InvalidRequest`](crate::Error::InvalidRequest) and nothing
/// is sent.
///
/// The default is what the Converse API reference documents for
/// `Message.content`: at most 20 images of 3.75 MB each and 5 documents of
/// 4.5 MB each; videos as bytes under 25 MB once base64-encoded
/// (`VideoSource`); no limit on audio. Media in S3 is not measured. The Bedrock user guide has since relaxed some of these for
/// some models (Claude 4 and later accept larger PDFs; image limits are left to
/// each model), so a limit can be raised or switched off (`None`), and
/// [`ContentLimits::none`] turns every check off.
///
/// ```
/// use bedrock_converse::model::ContentLimits;
/// use bedrock_converse::ConverseRequest;
///
/// // A model that takes larger PDFs: lift the document size check only.
/// let limits = ContentLimits { max_document_bytes: None, ..ContentLimits::default() };
/// let request = ConverseRequest::new("model").user("Summarise").content_limits(limits);
/// assert_eq!(request.content_limits.max_document_bytes, None);
/// assert_eq!(request.content_limits.max_images, Some(20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentLimits {
    /// The most images per request (`None`: no limit).
    pub max_images: Option<usize>,
    /// The largest image in bytes (`None`: no limit).
    pub max_image_bytes: Option<usize>,
    /// The most documents per request (`None`: no limit).
    pub max_documents: Option<usize>,
    /// The largest document in bytes (`None`: no limit).
    pub max_document_bytes: Option<usize>,
    /// The largest video sent as bytes (`None`: no limit). Videos in S3 are
    /// not measured.
    pub max_video_bytes: Option<usize>,
    /// The largest audio clip sent as bytes (`None`, the default: the API
    /// reference documents no limit).
    pub max_audio_bytes: Option<usize>,
}

impl Default for ContentLimits {
    fn default() -> Self {
        ContentLimits {
            max_images: Some(MAX_IMAGES),
            max_image_bytes: Some(MAX_IMAGE_BYTES),
            max_documents: Some(MAX_DOCUMENTS),
            max_document_bytes: Some(MAX_DOCUMENT_BYTES),
            max_video_bytes: Some(MAX_VIDEO_BYTES),
            max_audio_bytes: None,
        }
    }
}

impl ContentLimits {
    /// No limits: leave every check to the service.
    pub fn none() -> Self {
        ContentLimits {
            max_images: None,
            max_image_bytes: None,
            max_documents: None,
            max_document_bytes: None,
            max_video_bytes: None,
            max_audio_bytes: None,
        }
    }
}

/// An image for a user turn or a tool result, sent as bytes or as an S3
/// location ([`Image::from_s3`]).
///
/// ```no_run
/// use bedrock_converse::{ConverseRequest, Message};
/// use bedrock_converse::model::Image;
///
/// let photo = Image::from_path("photo.jpg")?; // format from the extension
/// let request = ConverseRequest::new("us.anthropic.claude-haiku-4-5-20251001-v1:0")
///     .message(Message::user("What is in this picture?").with(photo));
/// # Ok::<(), bedrock_converse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Image {
    /// The image format.
    pub format: ImageFormat,
    /// The image: its bytes or where it is in S3.
    pub source: Source,
}

impl Image {
    /// An image in the given format from its bytes (`Vec<u8>`, `&[u8]`) or
    /// an [`S3Source`].
    pub fn new(format: ImageFormat, source: impl Into<Source>) -> Self {
        Image {
            format,
            source: source.into(),
        }
    }

    /// An image stored in S3 (`s3://bucket/key`), sent by reference. For a
    /// bucket another account owns, pass an [`S3Source`] with its
    /// [`bucket_owner`](S3Source::bucket_owner) to [`Image::new`].
    ///
    /// # Errors
    ///
    /// [`S3UriError`] when `uri` is text that is not an S3 URI.
    ///
    /// ```
    /// use bedrock_converse::model::Image;
    /// use bedrock_converse::types::ImageFormat;
    /// let image = Image::from_s3(ImageFormat::Png, "s3://pics/cat.png")?;
    /// assert_eq!(image.source.s3().unwrap().uri, "s3://pics/cat.png");
    /// assert!(Image::from_s3(ImageFormat::Png, "pics/cat.png").is_err());
    /// # Ok::<(), bedrock_converse::model::S3UriError>(())
    /// ```
    pub fn from_s3(format: ImageFormat, uri: impl IntoS3Uri) -> Result<Self, S3UriError> {
        Ok(Image::new(format, S3Source::new(uri.into_s3_uri()?)))
    }

    /// The image format for a file extension (without the dot, any case).
    ///
    /// ```
    /// use bedrock_converse::model::Image;
    /// use bedrock_converse::types::ImageFormat;
    /// assert_eq!(Image::format_for_extension("JPG"), Some(ImageFormat::Jpeg));
    /// assert_eq!(Image::format_for_extension("bmp"), None);
    /// ```
    pub fn format_for_extension(ext: &str) -> Option<ImageFormat> {
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(ImageFormat::Png),
            "jpg" | "jpeg" => Some(ImageFormat::Jpeg),
            "gif" => Some(ImageFormat::Gif),
            "webp" => Some(ImageFormat::Webp),
            _ => None,
        }
    }
}

/// A document for a user turn or a tool result, sent as bytes or as an S3
/// location ([`Document::from_s3`]), with a name the model sees.
///
/// ```no_run
/// use bedrock_converse::{ConverseRequest, Message};
/// use bedrock_converse::model::Document;
///
/// let report = Document::from_path("reports/q3_summary.pdf")?; // name "q3-summary", format pdf
/// let request = ConverseRequest::new("us.anthropic.claude-haiku-4-5-20251001-v1:0")
///     .message(Message::user("Summarise this report.").with(report.citations(true)));
/// # Ok::<(), bedrock_converse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[must_use]
pub struct Document {
    /// The document format.
    pub format: DocumentFormat,
    /// The name the model sees: letters, digits, single spaces, `-`, `(`,
    /// `)`, `[` and `]`, 1 to 200 characters.
    pub name: String,
    /// The document: its bytes or where it is in S3.
    pub source: Source,
    /// Whether the model should cite this document (`None`: not sent).
    pub citations: Option<bool>,
    /// How the model should read the document, for citations.
    pub context: Option<String>,
}

impl Document {
    /// A document with a format and a name, from its bytes (`Vec<u8>`,
    /// `&[u8]`) or an [`S3Source`].
    pub fn new(format: DocumentFormat, name: impl Into<String>, source: impl Into<Source>) -> Self {
        Document {
            format,
            name: name.into(),
            source: source.into(),
            citations: None,
            context: None,
        }
    }

    /// A document stored in S3 (`s3://bucket/key`), sent by reference.
    ///
    /// # Errors
    ///
    /// [`S3UriError`] when `uri` is text that is not an S3 URI.
    ///
    /// ```
    /// use bedrock_converse::model::Document;
    /// use bedrock_converse::types::DocumentFormat;
    /// let d = Document::from_s3(DocumentFormat::Pdf, "q3 report", "s3://reports/q3.pdf")?;
    /// assert_eq!(d.source.bytes(), None);
    /// assert_eq!(d.source.s3().unwrap().uri, "s3://reports/q3.pdf");
    /// # Ok::<(), bedrock_converse::model::S3UriError>(())
    /// ```
    pub fn from_s3(
        format: DocumentFormat,
        name: impl Into<String>,
        uri: impl IntoS3Uri,
    ) -> Result<Self, S3UriError> {
        Ok(Document::new(
            format,
            name,
            S3Source::new(uri.into_s3_uri()?),
        ))
    }

    /// The document format for a file extension (without the dot, any case).
    ///
    /// ```
    /// use bedrock_converse::model::Document;
    /// use bedrock_converse::types::DocumentFormat;
    /// assert_eq!(Document::format_for_extension("PDF"), Some(DocumentFormat::Pdf));
    /// assert_eq!(Document::format_for_extension("markdown"), Some(DocumentFormat::Md));
    /// assert_eq!(Document::format_for_extension("exe"), None);
    /// ```
    pub fn format_for_extension(ext: &str) -> Option<DocumentFormat> {
        match ext.to_ascii_lowercase().as_str() {
            "pdf" => Some(DocumentFormat::Pdf),
            "csv" => Some(DocumentFormat::Csv),
            "doc" => Some(DocumentFormat::Doc),
            "docx" => Some(DocumentFormat::Docx),
            "xls" => Some(DocumentFormat::Xls),
            "xlsx" => Some(DocumentFormat::Xlsx),
            "html" | "htm" => Some(DocumentFormat::Html),
            "txt" | "text" => Some(DocumentFormat::Txt),
            "md" | "markdown" => Some(DocumentFormat::Md),
            _ => None,
        }
    }

    /// A valid document name made from any text: characters the API does not
    /// allow become `-`, runs of spaces become one, and the result is cut to
    /// 200 characters (`"document"` if nothing is left).
    ///
    /// ```
    /// use bedrock_converse::model::Document;
    /// assert_eq!(Document::name_from("q3_summary.v2  (final)"), "q3-summary-v2 (final)");
    /// assert_eq!(Document::name_from("..."), "document");
    /// ```
    pub fn name_from(text: &str) -> String {
        let mut name = String::new();
        for c in text.chars() {
            let c = if c.is_whitespace() {
                ' '
            } else if allowed_name_char(c) {
                c
            } else {
                '-'
            };
            if c == ' ' && (name.is_empty() || name.ends_with(' ')) {
                continue;
            }
            if c == '-' && name.ends_with('-') {
                continue;
            }
            name.push(c);
        }
        let name: String = name.chars().take(MAX_DOCUMENT_NAME_LEN).collect();
        let name = name.trim_matches(|c| c == ' ' || c == '-');
        if name.is_empty() {
            "document".into()
        } else {
            name.to_owned()
        }
    }

    /// Sets the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Asks the model to cite this document (models that support citations).
    pub fn citations(mut self, enabled: bool) -> Self {
        self.citations = Some(enabled);
        self
    }

    /// Tells the model how to read the document, for citations.
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.context = Some(context.into());
        self
    }
}

#[cfg(test)]
#[path = "media_tests.rs"]
mod tests;
