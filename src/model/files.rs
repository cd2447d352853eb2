//! Reading images, documents, audio and video from files: the format from
//! the extension.

use std::path::Path;

use aws_sdk_bedrockruntime::types::{DocumentFormat, ImageFormat};

use super::av::{Audio, Video};
use super::media::{Document, Image};
use crate::error::Error;

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

impl Image {
    /// Reads an image file; the format comes from the extension (`png`,
    /// `jpg`/`jpeg`, `gif`, `webp`, any case).
    ///
    /// Fails with [`Error::File`] if the file cannot be read, and with
    /// [`Error::InvalidRequest`] (field `format`) if the extension is not one
    /// of those.
    ///
    /// # Errors
    ///
    /// [`Error::File`] if the file cannot be read; [`Error::InvalidRequest`] if its extension names no image format.
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
    ///
    /// # Errors
    ///
    /// [`Error::File`] if the file cannot be read.
    pub fn from_path_as(path: impl AsRef<Path>, format: ImageFormat) -> Result<Image, Error> {
        Ok(Image::new(format, read(path.as_ref())?))
    }
}

impl Document {
    /// Reads a document file. The format comes from the extension (`pdf`,
    /// `csv`, `doc`, `docx`, `xls`, `xlsx`, `html`/`htm`, `txt`, `md`/`markdown`)
    /// and the name from the file name without extension, with characters
    /// the API does not allow in names replaced (see [`Document::name_from`]).
    ///
    /// # Errors
    ///
    /// [`Error::File`] if the file cannot be read; [`Error::InvalidRequest`] if its extension names no document format.
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
    ///
    /// # Errors
    ///
    /// [`Error::File`] if the file cannot be read.
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
}

impl Audio {
    /// Reads an audio file; the format comes from the extension (see
    /// [`format_for_extension`](Audio::format_for_extension)).
    ///
    /// ```no_run
    /// let clip = bedrock_converse::model::Audio::from_path("call.flac")?;
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::File`] if the file cannot be read; [`Error::InvalidRequest`]
    /// (field `format`) if its extension names no audio format.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Audio, Error> {
        let path = path.as_ref();
        let format = Audio::format_for_extension(&extension(path))
            .ok_or_else(|| unknown_extension(path, "Audio", "an audio"))?;
        Ok(Audio::new(format, read(path)?))
    }
}

impl Video {
    /// Reads a video file; the format comes from the extension (see
    /// [`format_for_extension`](Video::format_for_extension)).
    ///
    /// ```no_run
    /// let clip = bedrock_converse::model::Video::from_path("clip.mp4")?;
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::File`] if the file cannot be read; [`Error::InvalidRequest`]
    /// (field `format`) if its extension names no video format.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Video, Error> {
        let path = path.as_ref();
        let format = Video::format_for_extension(&extension(path))
            .ok_or_else(|| unknown_extension(path, "Video", "a video"))?;
        Ok(Video::new(format, read(path)?))
    }
}

fn unknown_extension(path: &Path, ty: &str, what: &str) -> Error {
    Error::invalid(
        "format",
        format!(
            "cannot be told from the extension of `{}`, which names no {what} format: use {ty}::new with the format",
            path.display()
        ),
    )
}
