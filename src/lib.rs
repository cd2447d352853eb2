//! A blocking, callback-driven client for Amazon Bedrock's
//! [Converse](https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html)
//! and [ConverseStream](https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html)
//! APIs, for programs that are not async.
//!
//! Three types do the work:
//! - [`Converser`]: the client. Build it with [`Converser::from_env`] (the AWS
//!   CLI's configuration chain) or [`Converser::builder`]. It runs the official
//!   `aws-sdk-bedrockruntime` client on a private runtime thread; every method
//!   blocks the calling thread only.
//! - [`ConverseRequest`]: what to send (model, messages, system prompts,
//!   inference settings, model-specific fields), checked before sending.
//! - [`Response`]: what came back, the same type for streamed and whole replies.
//!
//! Streaming calls report each event to a [`StreamHandler`] on the calling
//! thread as it arrives, then return the assembled [`Response`]
//! ([`Converser::converse_with`]); a quick `Send` handler can instead run on
//! the runtime thread, skipping a thread hand-off per event
//! ([`Converser::converse_with_send`]).
//!
//! ```no_run
//! use bedrock_converse::{Converser, ConverseRequest, Delta, Flow, StreamHandler};
//!
//! struct Print;
//! impl StreamHandler for Print {
//!     fn on_delta(&mut self, _index: u32, delta: &Delta) -> Flow {
//!         if let Some(text) = delta.text() {
//!             print!("{text}");
//!         }
//!         Flow::Continue
//!     }
//! }
//!
//! let converser = Converser::from_env()?;
//! let request = ConverseRequest::new("anthropic.claude-3-sonnet-20240229-v1:0")
//!     .system("Only return song names and the artist.")
//!     .user("Create a list of 3 pop songs.")
//!     .temperature(0.5);
//! let reply = converser.converse_with(&request, &mut Print)?;
//! if let Some(usage) = reply.usage {
//!     println!("\n{} tokens", usage.total_tokens);
//! }
//! # Ok::<(), bedrock_converse::Error>(())
//! ```
//!
//! Beyond text: [`Tool`]s and [`ToolResult`]s, [`Image`]s and [`Document`]s
//! (checked against the API's size limits, [`ContentLimits`]), guardrails
//! ([`GuardrailConfig`]), prompt caching ([`CachePoint`]) and the rest of the
//! Converse request are settings of [`ConverseRequest`]. A [`Conversation`]
//! keeps the history between turns and runs tool loops
//! ([`Conversation::run_tools`]).
//!
//! Errors are one enum, [`Error`], with predicates such as
//! [`Error::is_retryable`]; a stream that fails part-way keeps what had arrived
//! ([`Error::partial_response`]).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod call;
mod cancel;
mod conversation;
mod converser;
mod document;
mod env;
mod error;
mod handler;
mod handlers;
mod inline;
mod media;
mod record;
mod request;
mod response;
mod stream;
mod tools;

pub use call::{CallHandle, StreamEvent};
pub use cancel::CancelToken;
pub use conversation::{Conversation, OnFailure, DEFAULT_MAX_TOOL_ROUNDS};
pub use converser::{Converser, ConverserBuilder, DEFAULT_CONVERSE_TIMEOUT, DEFAULT_IDLE_TIMEOUT};
pub use env::credentials_configured;
pub use error::{Error, ServiceError, ServiceErrorKind, TimeoutKind};
pub use handler::{BlockStart, Delta, Flow, Metadata, NoopHandler, Stop, StreamHandler};
pub use handlers::{handler_fn, IntoFlow, PrintHandler};
pub use media::{
    ContentLimits, Document, Image, MAX_DOCUMENTS, MAX_DOCUMENT_BYTES, MAX_IMAGES, MAX_IMAGE_BYTES,
};
pub use request::{CachePoint, ConverseRequest, GuardrailConfig, InferenceConfig, Message};
pub use response::{Metrics, Response, Trace, Usage};
pub use tools::{Tool, ToolChoice, ToolConfig, ToolEntry, ToolResult, ToolUse};

/// The SDK's retry policy, for [`ConverserBuilder::retry_config`].
pub use aws_config::retry::{RetryConfig, RetryMode};
/// The SDK's Converse types (content blocks, stop reasons, roles, …), for
/// requests and replies beyond what the helpers here cover.
pub use aws_sdk_bedrockruntime::types;
/// The conversation role of a [`Message`].
pub use aws_sdk_bedrockruntime::types::ConversationRole as Role;
/// Why a model stopped generating.
pub use aws_sdk_bedrockruntime::types::StopReason;
/// The SDK's own configuration type, for [`ConverserBuilder::config`].
pub use aws_sdk_bedrockruntime::Config as SdkClientConfig;

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
