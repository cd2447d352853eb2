//! Every conversion between this crate's types and the SDK's, in one place:
//! requests to operation inputs, replies and stream events to ours, JSON to
//! and from the SDK's `Document`, and the SDK's errors to [`Error`](crate::Error).
//!
//! Above the model, stream and error layers; below the engine and the client.

mod blocks;
mod content;
mod count;
mod error;
mod event;
pub(crate) mod json;
mod request;
mod response;

pub(crate) use blocks::{Blocks, Problem};
pub(crate) use count::count_tokens;
pub(crate) use event::stream_event;
pub(crate) use request::{fill, SdkParts, SetGuardrail};
