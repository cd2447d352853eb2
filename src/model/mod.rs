//! The plain data of a call: what to send ([`ConverseRequest`], [`Message`],
//! tools, images, documents, audio, video, search results, guardrails,
//! cache points) and what comes back
//! ([`Response`], [`Usage`], [`Metrics`], [`Trace`]).
//!
//! No runtime and no SDK builders here: content blocks are the SDK's own
//! data types (re-exported as [`crate::types`]), and every conversion to
//! the SDK's inputs lives in the crate's `sdk` layer. `validate` checks a
//! request the way the service would ([`rules`] holds the service's rules,
//! shared with the bundled server), [`catalogue`] says what each model can
//! do, and `files` reads media files.

mod av;
mod cache;
pub mod catalogue;
mod cost;
mod files;
pub(crate) mod media;
mod message;
mod output;
mod request;
mod response;
pub mod schema;
mod search;
mod source;
mod tools;
mod validate;

pub use av::{Audio, Video};
pub use cache::CachePoint;
pub use cost::{Cost, Tier};
pub use media::{ContentLimits, Document, Image};
pub use message::Message;
pub use output::{Effort, JsonSchemaFormat, OutputConfig};
pub use request::{ConverseRequest, GuardrailConfig, InferenceConfig};
pub use response::{AnsweredBy, CacheDetails, Metrics, Response, StreamFallback, Trace, Usage};
pub use search::SearchResult;
pub use source::{IntoS3Uri, S3Source, S3Uri, S3UriError, Source};
pub use tools::{Tool, ToolChoice, ToolConfig, ToolEntry, ToolResult, ToolUse};
pub use validate::rules;

/// The conversation role of a [`Message`].
pub use aws_sdk_bedrockruntime::types::ConversationRole as Role;
/// Why a model stopped generating.
pub use aws_sdk_bedrockruntime::types::StopReason;
