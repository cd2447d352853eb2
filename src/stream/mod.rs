//! Streaming: the [`StreamHandler`] callbacks, what they receive, and
//! ready-made handlers.
//!
//! This layer knows no runtime and no client: it is what a handler sees.

mod event;
mod handler;
mod ready;

pub use event::{BlockStart, Delta, Metadata, Stop};
pub use handler::{NoopHandler, StreamEvent, StreamHandler};
pub use ready::{handler_fn, IntoControlFlow, PrintHandler};
