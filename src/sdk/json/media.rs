//! Media and search results: images, documents, video and audio from
//! bytes (base64) or S3, and search result blocks.

use aws_sdk_bedrockruntime::types::{
    AudioBlock, AudioSource, CitationsConfig, DocumentBlock, DocumentContentBlock, DocumentSource,
    ErrorBlock, ImageBlock, ImageSource, S3Location, SearchResultBlock, SearchResultContentBlock,
    VideoBlock, VideoSource,
};
use aws_smithy_types::Blob;
use serde_json::Value;

use super::read::{
    blob, boolean, built, enumeration, list, member, not_writable, object, s, string, union,
    unknown_member, write_blob, Obj,
};
use super::JsonError;

fn read_s3(value: &Value, path: &str) -> Result<S3Location, JsonError> {
    let mut o = Obj::new(value, path)?;
    let uri = o.req_str("uri")?;
    let owner = o.opt_str("bucketOwner")?;
    o.finish()?;
    built(
        S3Location::builder()
            .uri(uri)
            .set_bucket_owner(owner)
            .build(),
        path,
    )
}

fn write_s3(s3: &S3Location) -> Value {
    object([
        ("uri", s(&s3.uri)),
        ("bucketOwner", s3.bucket_owner.as_deref().and_then(s)),
    ])
}

fn read_error(value: &Value, path: &str) -> Result<ErrorBlock, JsonError> {
    let mut o = Obj::new(value, path)?;
    let message = o.opt_str("message")?;
    o.finish()?;
    Ok(ErrorBlock::builder().set_message(message).build())
}

fn write_error(e: &ErrorBlock) -> Value {
    object([("message", e.message.as_deref().and_then(s))])
}

/// A media source that is `bytes` or an `s3Location`.
fn bytes_or_s3<S>(
    value: &Value,
    path: &str,
    bytes: fn(Blob) -> S,
    s3: fn(S3Location) -> S,
) -> Result<S, JsonError> {
    read_source(value, path, |k, v, p| match k {
        "bytes" => Some(blob(v, p).map(bytes)),
        "s3Location" => Some(read_s3(v, p).map(s3)),
        _ => None,
    })
}

/// A media source union: `bytes` or `s3Location` (and, for documents,
/// `text` and `content`), as the caller's `make` builds it.
pub(super) fn read_source<T>(
    value: &Value,
    path: &str,
    make: impl FnOnce(&str, &Value, &str) -> Option<Result<T, JsonError>>,
) -> Result<T, JsonError> {
    let (key, v, path) = union(value, path)?;
    make(key, v, &path).unwrap_or_else(|| Err(unknown_member(&path)))
}

pub(super) fn read_image(value: &Value, path: &str) -> Result<ImageBlock, JsonError> {
    let mut o = Obj::new(value, path)?;
    let format = o.req_with("format", enumeration)?;
    let source = o.opt_with("source", |v, p| {
        bytes_or_s3(v, p, ImageSource::Bytes, ImageSource::S3Location)
    })?;
    let error = o.opt_with("error", read_error)?;
    o.finish()?;
    built(
        ImageBlock::builder()
            .format(format)
            .set_source(source)
            .set_error(error)
            .build(),
        path,
    )
}

pub(super) fn write_image(i: &ImageBlock) -> Result<Value, JsonError> {
    let source = i
        .source
        .as_ref()
        .map(|src| match src {
            ImageSource::Bytes(b) => Ok(member("bytes", write_blob(b))),
            ImageSource::S3Location(l) => Ok(member("s3Location", write_s3(l))),
            other => Err(not_writable("image source", other)),
        })
        .transpose()?;
    Ok(object([
        ("format", s(i.format.as_str())),
        ("source", source),
        ("error", i.error.as_ref().map(write_error)),
    ]))
}

pub(super) fn read_video(value: &Value, path: &str) -> Result<VideoBlock, JsonError> {
    let mut o = Obj::new(value, path)?;
    let format = o.req_with("format", enumeration)?;
    let source = o.opt_with("source", |v, p| {
        bytes_or_s3(v, p, VideoSource::Bytes, VideoSource::S3Location)
    })?;
    o.finish()?;
    built(
        VideoBlock::builder()
            .format(format)
            .set_source(source)
            .build(),
        path,
    )
}

pub(super) fn write_video(v: &VideoBlock) -> Result<Value, JsonError> {
    let source = v
        .source
        .as_ref()
        .map(|src| match src {
            VideoSource::Bytes(b) => Ok(member("bytes", write_blob(b))),
            VideoSource::S3Location(l) => Ok(member("s3Location", write_s3(l))),
            other => Err(not_writable("video source", other)),
        })
        .transpose()?;
    Ok(object([
        ("format", s(v.format.as_str())),
        ("source", source),
    ]))
}

pub(super) fn read_audio(value: &Value, path: &str) -> Result<AudioBlock, JsonError> {
    let mut o = Obj::new(value, path)?;
    let format = o.req_with("format", enumeration)?;
    let source = o.opt_with("source", |v, p| {
        bytes_or_s3(v, p, AudioSource::Bytes, AudioSource::S3Location)
    })?;
    let error = o.opt_with("error", read_error)?;
    o.finish()?;
    built(
        AudioBlock::builder()
            .format(format)
            .set_source(source)
            .set_error(error)
            .build(),
        path,
    )
}

pub(super) fn write_audio(a: &AudioBlock) -> Result<Value, JsonError> {
    let source = a
        .source
        .as_ref()
        .map(|src| match src {
            AudioSource::Bytes(b) => Ok(member("bytes", write_blob(b))),
            AudioSource::S3Location(l) => Ok(member("s3Location", write_s3(l))),
            other => Err(not_writable("audio source", other)),
        })
        .transpose()?;
    Ok(object([
        ("format", s(a.format.as_str())),
        ("source", source),
        ("error", a.error.as_ref().map(write_error)),
    ]))
}

fn read_citations_config(value: &Value, path: &str) -> Result<CitationsConfig, JsonError> {
    let mut o = Obj::new(value, path)?;
    let enabled = o.req_with("enabled", boolean)?;
    o.finish()?;
    built(CitationsConfig::builder().enabled(enabled).build(), path)
}

fn write_citations_config(c: &CitationsConfig) -> Value {
    object([("enabled", Some(Value::Bool(c.enabled)))])
}

pub(super) fn read_document(value: &Value, path: &str) -> Result<DocumentBlock, JsonError> {
    let mut o = Obj::new(value, path)?;
    let format = o.opt_with("format", enumeration)?;
    let name = o.req_str("name")?;
    let source = o.opt_with("source", |v, p| {
        read_source(v, p, |k, v, p| match k {
            "bytes" => Some(blob(v, p).map(DocumentSource::Bytes)),
            "s3Location" => Some(read_s3(v, p).map(DocumentSource::S3Location)),
            "text" => Some(string(v, p).map(DocumentSource::Text)),
            "content" => Some(
                list(v, p, |v, p| {
                    let (key, v, p) = union(v, p)?;
                    match key {
                        "text" => string(v, &p).map(DocumentContentBlock::Text),
                        _ => Err(unknown_member(&p)),
                    }
                })
                .map(DocumentSource::Content),
            ),
            _ => None,
        })
    })?;
    let context = o.opt_str("context")?;
    let citations = o.opt_with("citations", read_citations_config)?;
    o.finish()?;
    built(
        DocumentBlock::builder()
            .set_format(format)
            .name(name)
            .set_source(source)
            .set_context(context)
            .set_citations(citations)
            .build(),
        path,
    )
}

pub(super) fn write_document(d: &DocumentBlock) -> Result<Value, JsonError> {
    let source = d
        .source
        .as_ref()
        .map(|src| match src {
            DocumentSource::Bytes(b) => Ok(member("bytes", write_blob(b))),
            DocumentSource::S3Location(l) => Ok(member("s3Location", write_s3(l))),
            DocumentSource::Text(t) => Ok(member("text", Value::String(t.clone()))),
            DocumentSource::Content(blocks) => Ok(member(
                "content",
                blocks
                    .iter()
                    .map(|b| match b {
                        DocumentContentBlock::Text(t) => {
                            Ok(member("text", Value::String(t.clone())))
                        }
                        other => Err(not_writable("document content block", other)),
                    })
                    .collect::<Result<_, _>>()?,
            )),
            other => Err(not_writable("document source", other)),
        })
        .transpose()?;
    Ok(object([
        ("format", s(d.format.as_str())),
        ("name", s(&d.name)),
        ("source", source),
        ("context", d.context.as_deref().and_then(s)),
        (
            "citations",
            d.citations.as_ref().map(write_citations_config),
        ),
    ]))
}

pub(super) fn read_search_result(
    value: &Value,
    path: &str,
) -> Result<SearchResultBlock, JsonError> {
    let mut o = Obj::new(value, path)?;
    let source = o.req_str("source")?;
    let title = o.req_str("title")?;
    let content = o.req_with("content", |v, p| {
        list(v, p, |v, p| {
            let mut o = Obj::new(v, p)?;
            let text = o.req_str("text")?;
            o.finish()?;
            built(SearchResultContentBlock::builder().text(text).build(), p)
        })
    })?;
    let citations = o.opt_with("citations", read_citations_config)?;
    o.finish()?;
    built(
        SearchResultBlock::builder()
            .source(source)
            .title(title)
            .set_content(Some(content))
            .set_citations(citations)
            .build(),
        path,
    )
}

pub(super) fn write_search_result(r: &SearchResultBlock) -> Value {
    object([
        ("source", s(&r.source)),
        ("title", s(&r.title)),
        (
            "content",
            Some(
                r.content
                    .iter()
                    .map(|c| object([("text", s(&c.text))]))
                    .collect(),
            ),
        ),
        (
            "citations",
            r.citations.as_ref().map(write_citations_config),
        ),
    ])
}
