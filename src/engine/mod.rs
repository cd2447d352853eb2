//! The engine: how a call runs on the runtime thread and how it ends.
//!
//! - [`protocol`]: the messages between a call's task and its waiter, and
//!   the one rule for how a sent call ends (its task alone ends it);
//! - [`pump`]: the tasks that send a request and move its reply to a sink;
//! - [`assemble`]: the pure assembler (SDK events to callbacks and a
//!   [`Response`](crate::Response)), the one place a call's end is decided;
//! - [`spawned`] and [`inline`]: the sinks that assemble on the runtime
//!   thread, for [`spawn`](crate::Converser::spawn) and
//!   [`converse_with_on_runtime`](crate::Converser::converse_with_on_runtime);
//!   `inline` holds the crate's only `unsafe` code;
//! - [`whole`]: a whole reply handed on as a stream's events, where a model
//!   cannot stream.
//!
//! The engine knows the SDK client and the runtime, never the `Converser`.

pub(crate) mod assemble;
pub(crate) mod inline;
pub(crate) mod protocol;
pub(crate) mod pump;
pub(crate) mod spawned;
pub(crate) mod whole;

pub(crate) use assemble::{Assembler, Step};
pub(crate) use protocol::{interrupt, listening, to_caller, Interrupt, Listening, Sink};
pub(crate) use pump::{converse_task, reply_task, stream_task, Gate, Task};
