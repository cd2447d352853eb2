//! The media checks (images, documents, audio, video): counts, sizes,
//! names, S3 URIs, and where media may go.

use aws_sdk_bedrockruntime::types::{
    AudioBlock, AudioSource, ContentBlock, DocumentBlock, DocumentSource, ImageBlock, ImageSource,
    S3Location, ToolResultContentBlock, VideoBlock, VideoSource,
};
use aws_smithy_types::Blob;

use crate::error::Error;
use crate::model::media::{allowed_name_char, MAX_DOCUMENT_NAME_LEN};
use crate::model::{ContentLimits, Message, S3Uri};

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

/// The S3 location of a media block's source, if it has one.
fn s3_of<'a>(block: &ContentOrResult<'a>) -> Option<&'a S3Location> {
    match block {
        ContentOrResult::Image(b) => match b.source.as_ref()? {
            ImageSource::S3Location(l) => Some(l),
            _ => None,
        },
        ContentOrResult::Document(b) => match b.source.as_ref()? {
            DocumentSource::S3Location(l) => Some(l),
            _ => None,
        },
        ContentOrResult::Audio(b) => match b.source.as_ref()? {
            AudioSource::S3Location(l) => Some(l),
            _ => None,
        },
        ContentOrResult::Video(b) => match b.source.as_ref()? {
            VideoSource::S3Location(l) => Some(l),
            _ => None,
        },
    }
}

/// A media block, wherever it sits (message content or a tool result).
enum ContentOrResult<'a> {
    Image(&'a ImageBlock),
    Document(&'a DocumentBlock),
    Audio(&'a AudioBlock),
    Video(&'a VideoBlock),
}

/// An S3 location must be an `s3://bucket/key` URI ([`S3Uri`], for SDK
/// blocks built without one).
fn check_s3(block: &ContentOrResult<'_>, field: &str) -> Result<(), Error> {
    let Some(location) = s3_of(block) else {
        return Ok(());
    };
    match S3Uri::parse(&location.uri) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::invalid(
            format!("{field}.source.s3Location.uri"),
            format!("is not valid: {e}"),
        )),
    }
}

fn audio_len(block: &AudioBlock) -> Option<usize> {
    blob_len(block.source.as_ref(), |s| match s {
        AudioSource::Bytes(b) => Some(b),
        _ => None,
    })
}

fn video_len(block: &VideoBlock) -> Option<usize> {
    blob_len(block.source.as_ref(), |s| match s {
        VideoSource::Bytes(b) => Some(b),
        _ => None,
    })
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
                ContentBlock::Audio(audio) => {
                    if !user {
                        return Err(media_in_assistant_turn(&field, "an audio clip"));
                    }
                    check_audio(audio, &field, limits)?;
                }
                ContentBlock::Video(video) => {
                    if !user {
                        return Err(media_in_assistant_turn(&field, "a video"));
                    }
                    check_video(video, &field, limits)?;
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
                            ToolResultContentBlock::Video(video) => {
                                check_video(video, &field, limits)?;
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
            "is {what} in an assistant turn: images, documents, audio and video are only allowed in user turns"
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

/// A media block sent as bytes must have some, and no more than `max`.
fn check_len(len: Option<usize>, field: &str, what: &str, max: Option<usize>) -> Result<(), Error> {
    let Some(len) = len else { return Ok(()) };
    if len == 0 {
        return Err(Error::invalid(field, format!("is {what} with no bytes")));
    }
    match max {
        Some(max) if len > max => Err(too_big(field, what, len, max)),
        _ => Ok(()),
    }
}

fn check_audio(audio: &AudioBlock, field: &str, limits: &ContentLimits) -> Result<(), Error> {
    check_s3(&ContentOrResult::Audio(audio), field)?;
    check_len(
        audio_len(audio),
        field,
        "an audio clip",
        limits.max_audio_bytes,
    )
}

fn check_video(video: &VideoBlock, field: &str, limits: &ContentLimits) -> Result<(), Error> {
    check_s3(&ContentOrResult::Video(video), field)?;
    check_len(video_len(video), field, "a video", limits.max_video_bytes)
}

fn check_image(img: &ImageBlock, field: &str, limits: &ContentLimits) -> Result<(), Error> {
    check_s3(&ContentOrResult::Image(img), field)?;
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
    check_s3(&ContentOrResult::Document(doc), field)?;
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
#[path = "media_tests.rs"]
mod tests;
