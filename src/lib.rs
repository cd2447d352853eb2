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
//! ([`Converser::converse_with_on_runtime`]).
//!
//! ```no_run
//! use std::ops::ControlFlow;
//! use bedrock_converse::{Converser, ConverseRequest, Delta, StreamHandler};
//!
//! struct Print;
//! impl StreamHandler for Print {
//!     fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
//!         if let Some(text) = delta.text() {
//!             print!("{text}");
//!         }
//!         ControlFlow::Continue(())
//!     }
//! }
//!
//! let converser = Converser::from_env()?;
//! let request = ConverseRequest::new("us.anthropic.claude-haiku-4-5-20251001-v1:0")
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
//! # Conventions
//!
//! Every type here is built and named the same way:
//! - **Required inputs are arguments** of `new` (or `builder`), never
//!   setters checked later: [`ConverseRequest::new`] takes the model,
//!   [`batch::Batch::new`] the `Converser` and the model,
//!   `batch::inference::JobRequest::new` (feature `batch-inference`) the
//!   model, S3 location and role.
//! - **Optional inputs are chained setters** that take `self` and return
//!   it, on `#[must_use]` types, so a forgotten result is a warning.
//! - **Checks happen once, where the value is used**: a builder's `build()`
//!   ([`ConverserBuilder::build`]) or the first call that sends it
//!   ([`Converser::converse`] for a request,
//!   `BatchInference::submit` for a job) checks
//!   everything together and returns a `Result`; a request's or builder's
//!   `new` and setters never fail, so they chain without `?`. Only a type
//!   that is one checked value is checked where it is made
//!   ([`model::S3Uri::parse`], [`model::Image::from_s3`]).
//! - **A runner and what it runs are separate types**: the [`Converser`]
//!   and a [`ConverseRequest`]; `batch::inference::BatchInference` (the
//!   client, which needs only a job's ARN to wait for or collect it) and a
//!   `JobRequest`; [`Converser::extract`] and its
//!   [`client::ExtractOptions`], one type for those settings wherever they
//!   are given.
//! - **One word, one meaning**: `cancel_token(token)` is the setter that
//!   makes a [`CancelToken`] end the work, wherever it applies;
//!   a `*Stats` type holds counters, read during the work and at its end
//!   ([`Converser::limiter_stats`], [`Converser::target_stats`], the
//!   [`batch::BatchStats`] a batch reports and returns); a call of a
//!   `Converser` or a `Conversation` ending in `_with` streams to a
//!   [`StreamHandler`] ([`Converser::converse_with`],
//!   [`Conversation::send_with`]), whose callbacks return std's
//!   [`ControlFlow<()>`](std::ops::ControlFlow), not a type of this crate;
//!   [`Converser::converse_with_on_runtime`] says where its handler runs.
//!
//! # Where things are
//!
//! The crate root holds what almost every program uses. The rest is in
//! modules, one per layer of the crate:
//! - [`model`]: the plain data of a request and a reply: tools
//!   ([`model::Tool`], [`model::ToolResult`]), images and documents (checked
//!   against the API's size limits, [`model::ContentLimits`]), guardrails,
//!   cache points, [`model::Usage`].
//! - [`stream`]: [`StreamHandler`], what it receives, and ready-made
//!   handlers ([`stream::PrintHandler`], [`stream::handler_fn`],
//!   [`stream::NoopHandler`]).
//! - [`client`]: [`Converser`], its builder and defaults, [`CallHandle`],
//!   [`client::credentials_configured`], and typed replies
//!   ([`Converser::extract`] with [`client::ExtractOptions`], `schema`
//!   feature).
//! - [`batch`]: [`batch::Batch`], many independent requests from a JSONL
//!   file in the format of Bedrock batch inference, with bounded
//!   concurrency, retries and a resumable output file.
//! - [`conversation`]: [`Conversation`], which keeps the history between
//!   turns and runs tool loops.
//! - [`error`]: [`Error`], with predicates such as [`Error::is_retryable`]; a
//!   stream that fails part-way keeps what had arrived
//!   ([`Error::partial_response`]).
//! - [`types`]: the SDK's own Converse types (content blocks, roles, stop
//!   reasons). These, and the other SDK types re-exported here
//!   ([`client::RetryConfig`], [`client::SdkConfig`],
//!   [`client::SdkClientConfig`]), follow the SDK's own versioning: a new
//!   major version of `aws-sdk-bedrockruntime` is a new major version of
//!   this crate.
//!
//! Inside, the layers depend one way only: `model` and `stream` know no
//! runtime; `sdk` converts between them and the SDK; the engine runs a call
//! on the runtime thread and decides how it ends, knowing no `Converser`;
//! `client` sits on top. The local Bedrock-compatible server for tests is
//! the separate crate `bedrock-converse-mock`.
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod batch;
mod cancel;
pub mod client;
pub mod conversation;
mod engine;
pub mod error;
pub mod model;
mod recording;
mod sdk;
pub mod stream;

pub use cancel::CancelToken;
pub use client::{CallHandle, Converser, ConverserBuilder};
pub use conversation::Conversation;
pub use error::{Error, Result};
pub use model::{ConverseRequest, Message, Response};
pub use stream::{Delta, StreamEvent, StreamHandler};

/// The SDK's Converse types (content blocks, stop reasons, roles, …), for
/// requests and replies beyond what the helpers here cover.
pub use aws_sdk_bedrockruntime::types;

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
