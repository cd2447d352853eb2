//! Images and documents for a message ([`Image`], [`Document`]) and the
//! size limits checked before sending ([`ContentLimits`]).

use std::path::Path;

use aws_sdk_bedrockruntime::types::{
    CitationsConfig, ContentBlock, DocumentBlock, DocumentFormat, DocumentSource, ImageBlock,
    ImageFormat, ImageSource, ToolResultContentBlock,
};
use aws_smithy_types::Blob;

use crate::error::Error;
use crate::request::Message;

/// The most images one request may hold, per the Converse API reference
/// (`Message.content`).
pub const MAX_IMAGES: usize = 20;
/// The largest image, in bytes: 3.75 MB, per the Converse API reference.
/// Counted in binary megabytes (3.75 × 1024 × 1024), the generous reading,
/// so that nothing the service accepts is refused here.
pub const MAX_IMAGE_BYTES: usize = 3_932_160;
/// The most documents one request may hold, per the Converse API reference.
pub const MAX_DOCUMENTS: usize = 5;
/// The largest document, in bytes: 4.5 MB (as 4.5 × 1024 × 1024), per the
/// Converse API reference.
pub const MAX_DOCUMENT_BYTES: usize = 4_718_592;
/// The longest document name the API accepts.
const MAX_DOCUMENT_NAME_LEN: usize = 200;

/// Limits on the images and documents of one request, checked by
/// [`ConverseRequest::validate`](crate::ConverseRequest::validate) so that an
/// oversized request fails with a clear [`Error::InvalidRequest`] and nothing
/// is sent.
///
/// The default is what the Converse API reference documents for
/// `Message.content`: at most 20 images of 3.75 MB each and 5 documents of
/// 4.5 MB each. The Bedrock user guide has since relaxed some of these for
/// some models (Claude 4 and later accept larger PDFs; image limits are left to
/// each model), so a limit can be raised or switched off (`None`), and
/// [`ContentLimits::none`] turns every check off.
///
/// ```
/// use bedrock_converse::{ContentLimits, ConverseRequest};
///
/// // A model that takes larger PDFs: lift the document size check only.
/// let limits = ContentLimits { max_document_bytes: None, ..ContentLimits::default() };
/// let request = ConverseRequest::new("model").user("Summarise").content_limits(limits);
/// # let _ = request;
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
}

impl Default for ContentLimits {
    fn default() -> Self {
        ContentLimits {
            max_images: Some(MAX_IMAGES),
            max_image_bytes: Some(MAX_IMAGE_BYTES),
            max_documents: Some(MAX_DOCUMENTS),
            max_document_bytes: Some(MAX_DOCUMENT_BYTES),
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
        }
    }
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::File {
        path: path.to_path_buf(),
        source,
    })
}

/// An image for a user turn or a tool result, sent as bytes.
///
/// ```no_run
/// use bedrock_converse::{ConverseRequest, Image, Message};
///
/// let photo = Image::from_path("photo.jpg")?; // format from the extension
/// let request = ConverseRequest::new("anthropic.claude-3-haiku-20240307-v1:0")
///     .message(Message::user("What is in this picture?").with(photo));
/// # Ok::<(), bedrock_converse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Image {
    /// The image format.
    pub format: ImageFormat,
    /// The raw image bytes (not base64: the SDK encodes them).
    pub bytes: Vec<u8>,
}

impl Image {
    /// An image from bytes in the given format.
    pub fn new(format: ImageFormat, bytes: impl Into<Vec<u8>>) -> Self {
        Image {
            format,
            bytes: bytes.into(),
        }
    }

    /// Reads an image file; the format comes from the extension (`png`,
    /// `jpg`/`jpeg`, `gif`, `webp`, any case).
    ///
    /// Fails with [`Error::File`] if the file cannot be read, and with
    /// [`Error::InvalidRequest`] (field `format`) if the extension is not one
    /// of those.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Image, Error> {
        let path = path.as_ref();
        let format = Image::format_for_extension(&extension(path)).ok_or_else(|| {
            Error::invalid(
                "format",
                format!(
                    "cannot be told from the extension of `{}`: use Image::from_path_as with png, jpeg, gif or webp",
                    path.display()
                ),
            )
        })?;
        Image::from_path_as(path, format)
    }

    /// Reads an image file in the given format, whatever its extension.
    pub fn from_path_as(path: impl AsRef<Path>, format: ImageFormat) -> Result<Image, Error> {
        Ok(Image::new(format, read(path.as_ref())?))
    }

    /// The image format for a file extension (without the dot, any case).
    ///
    /// ```
    /// use bedrock_converse::{Image, types::ImageFormat};
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

    pub(crate) fn to_sdk(&self) -> ImageBlock {
        ImageBlock::builder()
            .format(self.format.clone())
            .source(ImageSource::Bytes(Blob::new(self.bytes.clone())))
            .build()
            // `format` is the only required member and it is set.
            .expect("format is set")
    }
}

impl From<Image> for ContentBlock {
    fn from(image: Image) -> Self {
        ContentBlock::Image(image.to_sdk())
    }
}

impl From<Image> for ToolResultContentBlock {
    fn from(image: Image) -> Self {
        ToolResultContentBlock::Image(image.to_sdk())
    }
}

/// A document for a user turn or a tool result, sent as bytes, with a name
/// the model sees.
///
/// ```no_run
/// use bedrock_converse::{ConverseRequest, Document, Message};
///
/// let report = Document::from_path("reports/q3_summary.pdf")?; // name "q3-summary", format pdf
/// let request = ConverseRequest::new("anthropic.claude-3-haiku-20240307-v1:0")
///     .message(Message::user("Summarise this report.").with(report.citations(true)));
/// # Ok::<(), bedrock_converse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Document {
    /// The document format.
    pub format: DocumentFormat,
    /// The name the model sees: letters, digits, single spaces, `-`, `(`,
    /// `)`, `[` and `]`, 1 to 200 characters.
    pub name: String,
    /// The raw bytes.
    pub bytes: Vec<u8>,
    /// Whether the model should cite this document (`None`: not sent).
    pub citations: Option<bool>,
    /// How the model should read the document, for citations.
    pub context: Option<String>,
}

impl Document {
    /// A document from bytes, with a format and a name.
    pub fn new(format: DocumentFormat, name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Document {
            format,
            name: name.into(),
            bytes: bytes.into(),
            citations: None,
            context: None,
        }
    }

    /// Reads a document file. The format comes from the extension (`pdf`,
    /// `csv`, `doc`, `docx`, `xls`, `xlsx`, `html`/`htm`, `txt`, `md`/`markdown`)
    /// and the name from the file name without extension, with characters
    /// the API does not allow in names replaced (see [`Document::name_from`]).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Document, Error> {
        let path = path.as_ref();
        let format = Document::format_for_extension(&extension(path)).ok_or_else(|| {
            Error::invalid(
                "format",
                format!(
                    "cannot be told from the extension of `{}`: use Document::from_path_as with pdf, csv, doc, docx, xls, xlsx, html, txt or md",
                    path.display()
                ),
            )
        })?;
        Document::from_path_as(path, format)
    }

    /// Reads a document file in the given format, whatever its extension.
    pub fn from_path_as(path: impl AsRef<Path>, format: DocumentFormat) -> Result<Document, Error> {
        let path = path.as_ref();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Document::new(
            format,
            Document::name_from(&stem),
            read(path)?,
        ))
    }

    /// The document format for a file extension (without the dot, any case).
    ///
    /// ```
    /// use bedrock_converse::{Document, types::DocumentFormat};
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
    /// use bedrock_converse::Document;
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

    pub(crate) fn to_sdk(&self) -> DocumentBlock {
        DocumentBlock::builder()
            .format(self.format.clone())
            .name(&self.name)
            .source(DocumentSource::Bytes(Blob::new(self.bytes.clone())))
            .set_context(self.context.clone())
            .set_citations(self.citations.map(|enabled| {
                CitationsConfig::builder()
                    .enabled(enabled)
                    .build()
                    .expect("enabled is set")
            }))
            .build()
            // `name` is the only required member and it is set.
            .expect("name is set")
    }
}

impl From<Document> for ContentBlock {
    fn from(document: Document) -> Self {
        ContentBlock::Document(document.to_sdk())
    }
}

impl From<Document> for ToolResultContentBlock {
    fn from(document: Document) -> Self {
        ToolResultContentBlock::Document(document.to_sdk())
    }
}

fn allowed_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '(' | ')' | '[' | ']')
}

/// Why a document name is refused, if it is.
fn bad_document_name(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if name.chars().count() > MAX_DOCUMENT_NAME_LEN {
        return Some(format!("is longer than {MAX_DOCUMENT_NAME_LEN} characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(allowed_name_char(c) || c.is_whitespace()))
    {
        return Some(format!(
            "is {name:?}, which holds {c:?}: a document name may only hold letters, digits, single spaces, `-`, `(`, `)`, `[` and `]` (Document::name_from makes a valid one)"
        ));
    }
    let chars: Vec<char> = name.chars().collect();
    if chars
        .windows(2)
        .any(|w| w[0].is_whitespace() && w[1].is_whitespace())
    {
        return Some(format!(
            "is {name:?}, which has consecutive whitespace characters (at most one in a row)"
        ));
    }
    None
}

fn blob_len<T>(source: Option<&T>, bytes: impl Fn(&T) -> Option<&Blob>) -> Option<usize> {
    source.and_then(bytes).map(|b| b.as_ref().len())
}

fn image_len(block: &ImageBlock) -> Option<usize> {
    blob_len(block.source.as_ref(), |s| match s {
        ImageSource::Bytes(b) => Some(b),
        _ => None,
    })
}

fn document_len(block: &DocumentBlock) -> Option<usize> {
    block.source.as_ref().and_then(|s| match s {
        DocumentSource::Bytes(b) => Some(b.as_ref().len()),
        DocumentSource::Text(t) => Some(t.len()),
        _ => None,
    })
}

/// Counts and checks the images and documents of all messages.
pub(crate) fn check_content(messages: &[Message], limits: &ContentLimits) -> Result<(), Error> {
    let mut images = 0usize;
    let mut documents = 0usize;
    for (i, m) in messages.iter().enumerate() {
        let user = m.role == aws_sdk_bedrockruntime::types::ConversationRole::User;
        let mut has_document = false;
        let mut has_text = false;
        for (j, block) in m.content.iter().enumerate() {
            let field = format!("messages[{i}].content[{j}]");
            match block {
                ContentBlock::Text(_) => has_text = true,
                ContentBlock::Image(img) => {
                    if !user {
                        return Err(media_in_assistant_turn(&field, "an image"));
                    }
                    images += 1;
                    check_image(img, &field, limits)?;
                }
                ContentBlock::Document(doc) => {
                    if !user {
                        return Err(media_in_assistant_turn(&field, "a document"));
                    }
                    has_document = true;
                    documents += 1;
                    check_document(doc, &field, limits)?;
                }
                ContentBlock::ToolResult(r) => {
                    for (k, c) in r.content.iter().enumerate() {
                        let field = format!("{field}.content[{k}]");
                        match c {
                            ToolResultContentBlock::Image(img) => {
                                images += 1;
                                check_image(img, &field, limits)?;
                            }
                            ToolResultContentBlock::Document(doc) => {
                                documents += 1;
                                check_document(doc, &field, limits)?;
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if has_document && !has_text {
            return Err(Error::invalid(
                format!("messages[{i}].content"),
                "has a document but no text block: the API requires a text block alongside documents",
            ));
        }
    }
    if let Some(max) = limits.max_images {
        if images > max {
            return Err(Error::invalid(
                "messages",
                format!("hold {images} images; the API accepts at most {max} per request (see ContentLimits)"),
            ));
        }
    }
    if let Some(max) = limits.max_documents {
        if documents > max {
            return Err(Error::invalid(
                "messages",
                format!("hold {documents} documents; the API accepts at most {max} per request (see ContentLimits)"),
            ));
        }
    }
    Ok(())
}

fn media_in_assistant_turn(field: &str, what: &str) -> Error {
    Error::invalid(
        field,
        format!(
            "is {what} in an assistant turn: images and documents are only allowed in user turns"
        ),
    )
}

fn too_big(field: &str, what: &str, len: usize, max: usize) -> Error {
    Error::invalid(
        field,
        format!(
            "is {what} of {len} bytes; the API accepts at most {max} bytes ({:.2} MB) per {what_short} (see ContentLimits)",
            max as f64 / (1024.0 * 1024.0),
            what_short = what.trim_start_matches("an ").trim_start_matches("a "),
        ),
    )
}

fn check_image(img: &ImageBlock, field: &str, limits: &ContentLimits) -> Result<(), Error> {
    if let Some(len) = image_len(img) {
        if len == 0 {
            return Err(Error::invalid(field, "is an image with no bytes"));
        }
        if let Some(max) = limits.max_image_bytes {
            if len > max {
                return Err(too_big(field, "an image", len, max));
            }
        }
    }
    Ok(())
}

fn check_document(doc: &DocumentBlock, field: &str, limits: &ContentLimits) -> Result<(), Error> {
    if let Some(reason) = bad_document_name(&doc.name) {
        return Err(Error::invalid(format!("{field}.name"), reason));
    }
    if let Some(len) = document_len(doc) {
        if len == 0 {
            return Err(Error::invalid(field, "is a document with no content"));
        }
        if let Some(max) = limits.max_document_bytes {
            if len > max {
                return Err(too_big(field, "a document", len, max));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_names_are_checked_as_documented() {
        assert_eq!(bad_document_name("Q3 report (final) [v2]-x"), None);
        assert!(bad_document_name("").is_some());
        assert!(bad_document_name("a_b").is_some());
        assert!(bad_document_name("a.pdf").is_some());
        assert!(bad_document_name("two  spaces").is_some());
        assert!(bad_document_name(&"a".repeat(201)).is_some());
        assert_eq!(bad_document_name(&"a".repeat(200)), None);
    }

    #[test]
    fn names_made_from_text_are_valid() {
        for text in [
            "a_b.c",
            "  lead",
            "x\t\ty",
            "ünïcode—dash",
            "",
            "___",
            "Report 2024 (Q3)",
        ] {
            let name = Document::name_from(text);
            assert_eq!(bad_document_name(&name), None, "{text:?} -> {name:?}");
        }
        assert_eq!(Document::name_from("Report 2024 (Q3)"), "Report 2024 (Q3)");
        assert_eq!(Document::name_from(&"x".repeat(300)).len(), 200);
    }
}
