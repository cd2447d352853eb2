//! Cited text: the service model's `CitationsContentBlock`, `Citation` and
//! `CitationLocation` shapes.

use aws_sdk_bedrockruntime::types::{
    Citation, CitationGeneratedContent, CitationLocation, CitationSourceContent,
    CitationsContentBlock, DocumentCharLocation, DocumentChunkLocation, DocumentPageLocation,
    SearchResultLocation, WebLocation,
};
use serde_json::Value;

use super::read::{int, list, member, not_writable, object, s, string, union, unknown_member, Obj};
use super::JsonError;

/// A `{"text": ...}` union list (generated and source content of citations).
fn text_union(v: &Value, p: &str) -> Result<String, JsonError> {
    let (key, v, p) = union(v, p)?;
    match key {
        "text" => string(v, &p),
        _ => Err(unknown_member(&p)),
    }
}

pub(super) fn read_cited(value: &Value, path: &str) -> Result<CitationsContentBlock, JsonError> {
    let mut o = Obj::new(value, path)?;
    let content = o.opt_with("content", |v, p| {
        list(v, p, |v, p| {
            text_union(v, p).map(CitationGeneratedContent::Text)
        })
    })?;
    let citations = o.opt_with("citations", |v, p| list(v, p, read_citation))?;
    o.finish()?;
    Ok(CitationsContentBlock::builder()
        .set_content(content)
        .set_citations(citations)
        .build())
}

pub(super) fn write_cited(c: &CitationsContentBlock) -> Result<Value, JsonError> {
    let content = c
        .content
        .as_ref()
        .map(|items| {
            items
                .iter()
                .map(|item| match item {
                    CitationGeneratedContent::Text(t) => {
                        Ok(member("text", Value::String(t.clone())))
                    }
                    other => Err(not_writable("generated content", other)),
                })
                .collect::<Result<_, _>>()
        })
        .transpose()?;
    let citations = c
        .citations
        .as_ref()
        .map(|items| items.iter().map(write_citation).collect::<Result<_, _>>())
        .transpose()?;
    Ok(object([("content", content), ("citations", citations)]))
}

fn read_citation(value: &Value, path: &str) -> Result<Citation, JsonError> {
    let mut o = Obj::new(value, path)?;
    let title = o.opt_str("title")?;
    let source = o.opt_str("source")?;
    let source_content = o.opt_with("sourceContent", |v, p| {
        list(v, p, |v, p| {
            text_union(v, p).map(CitationSourceContent::Text)
        })
    })?;
    let location = o.opt_with("location", read_location)?;
    o.finish()?;
    Ok(Citation::builder()
        .set_title(title)
        .set_source(source)
        .set_source_content(source_content)
        .set_location(location)
        .build())
}

fn write_citation(c: &Citation) -> Result<Value, JsonError> {
    let source_content = c
        .source_content
        .as_ref()
        .map(|items| {
            items
                .iter()
                .map(|item| match item {
                    CitationSourceContent::Text(t) => Ok(member("text", Value::String(t.clone()))),
                    other => Err(not_writable("source content", other)),
                })
                .collect::<Result<_, _>>()
        })
        .transpose()?;
    Ok(object([
        ("title", c.title.as_deref().and_then(s)),
        ("source", c.source.as_deref().and_then(s)),
        ("sourceContent", source_content),
        (
            "location",
            c.location.as_ref().map(write_location).transpose()?,
        ),
    ]))
}

/// `documentIndex`/`searchResultIndex`, `start` and `end` of a location.
fn span(value: &Value, path: &str, index_key: &'static str) -> Result<[Option<i32>; 3], JsonError> {
    let mut o = Obj::new(value, path)?;
    let index = o.opt_with(index_key, int)?;
    let start = o.opt_with("start", int)?;
    let end = o.opt_with("end", int)?;
    o.finish()?;
    Ok([index, start, end])
}

fn write_span(index_key: &str, [index, start, end]: [Option<i32>; 3]) -> Value {
    object([
        (index_key, index.map(Value::from)),
        ("start", start.map(Value::from)),
        ("end", end.map(Value::from)),
    ])
}

fn read_location(value: &Value, path: &str) -> Result<CitationLocation, JsonError> {
    let (key, v, path) = union(value, path)?;
    let path = path.as_str();
    Ok(match key {
        "web" => {
            let mut o = Obj::new(v, path)?;
            let url = o.opt_str("url")?;
            let domain = o.opt_str("domain")?;
            o.finish()?;
            CitationLocation::Web(
                WebLocation::builder()
                    .set_url(url)
                    .set_domain(domain)
                    .build(),
            )
        }
        "documentChar" => {
            let [i, s, e] = span(v, path, "documentIndex")?;
            CitationLocation::DocumentChar(
                DocumentCharLocation::builder()
                    .set_document_index(i)
                    .set_start(s)
                    .set_end(e)
                    .build(),
            )
        }
        "documentPage" => {
            let [i, s, e] = span(v, path, "documentIndex")?;
            CitationLocation::DocumentPage(
                DocumentPageLocation::builder()
                    .set_document_index(i)
                    .set_start(s)
                    .set_end(e)
                    .build(),
            )
        }
        "documentChunk" => {
            let [i, s, e] = span(v, path, "documentIndex")?;
            CitationLocation::DocumentChunk(
                DocumentChunkLocation::builder()
                    .set_document_index(i)
                    .set_start(s)
                    .set_end(e)
                    .build(),
            )
        }
        "searchResultLocation" => {
            let [i, s, e] = span(v, path, "searchResultIndex")?;
            CitationLocation::SearchResultLocation(
                SearchResultLocation::builder()
                    .set_search_result_index(i)
                    .set_start(s)
                    .set_end(e)
                    .build(),
            )
        }
        _ => return Err(unknown_member(path)),
    })
}

fn write_location(l: &CitationLocation) -> Result<Value, JsonError> {
    Ok(match l {
        CitationLocation::Web(w) => member(
            "web",
            object([
                ("url", w.url.as_deref().and_then(s)),
                ("domain", w.domain.as_deref().and_then(s)),
            ]),
        ),
        CitationLocation::DocumentChar(d) => member(
            "documentChar",
            write_span("documentIndex", [d.document_index, d.start, d.end]),
        ),
        CitationLocation::DocumentPage(d) => member(
            "documentPage",
            write_span("documentIndex", [d.document_index, d.start, d.end]),
        ),
        CitationLocation::DocumentChunk(d) => member(
            "documentChunk",
            write_span("documentIndex", [d.document_index, d.start, d.end]),
        ),
        CitationLocation::SearchResultLocation(d) => member(
            "searchResultLocation",
            write_span("searchResultIndex", [d.search_result_index, d.start, d.end]),
        ),
        other => return Err(not_writable("citation location", other)),
    })
}
