//! The one JSON codec for Converse bodies: the request body
//! (`ConverseRequest` in the service model, without the URI's `modelId`)
//! and the response body (`ConverseResponse`), read and written with their
//! JSON path in hand, plus exact conversion between JSON and the SDK's
//! `Document`.
//!
//! Batch records, batch output lines, Batch Inference results and tests all
//! read and write Converse JSON here; nothing else in the crate parses it.
//!
//! # Why JSON to and from the SDK's types
//!
//! Message content, system blocks, tool results and traces are the SDK's
//! own types in this crate's model ([`Message`](crate::Message) holds
//! `types::ContentBlock`s), and a [`ConverseRequest`](crate::ConverseRequest)
//! becomes the SDK's input in one place (`SdkParts`). So the codec maps
//! JSON to and from the SDK's types, shape for shape as the service model
//! names them (the field names are those of the SDK's private
//! `protocol_serde`), and the request's own settings (tool config,
//! guardrail, inference and output config) are read into the model's types
//! and written from the `SdkParts` the SDK sends. The JSON written for a
//! request is therefore what the SDK puts on the wire (for instance
//! `guardrailConfig.trace` is always there, `"disabled"` by default, and a
//! strict tool's schema is the fitted one), and one reader serves every
//! caller.
//!
//! Every object is read to its end: a key the codec does not know is an
//! error naming its JSON path (`messages[1].content[0].toolUse.extra`),
//! never dropped. Enum values the codec does not know are kept, as the SDK
//! keeps them.

mod body;
mod cite;
mod content;
mod document;
mod media;
mod read;
mod request;
mod response;
mod trace;
mod trace_write;

use std::fmt;

pub(crate) use document::{document_to_json, json_to_document};
pub(crate) use request::{read_request, write_request};
pub(crate) use response::{read_response, write_response};

/// Where a body is wrong and why: `path` is the JSON path
/// (`messages[0].content[1].image.source`), empty for the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError {
    pub(crate) path: String,
    pub(crate) reason: String,
}

impl JsonError {
    pub(crate) fn new(path: &str, reason: impl Into<String>) -> Self {
        JsonError {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    /// The same error, its path under `parent`.
    pub(crate) fn under(mut self, parent: &str) -> Self {
        self.path = match self.path.as_str() {
            "" => parent.to_owned(),
            p => format!("{parent}.{p}"),
        };
        self
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

#[cfg(test)]
mod tests;
