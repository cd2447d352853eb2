//! The integration tests, as one test binary: one link instead of one per
//! file, which is most of what `cargo test` spends building after a change.
//! Each module was a `tests/*.rs` file of its own.
//!
//! Three files stay binaries of their own, because they need their process
//! to themselves: `tests/memory.rs` measures the process's resident memory,
//! `tests/from_env.rs` rewrites process-wide environment variables (which
//! the other tests' clients could read mid-test), and `tests/secrets.rs`
//! installs the process's one global logger at trace level.

mod assembly;
mod batch;
mod batch_bodies;
#[cfg(feature = "batch-inference")]
mod batch_inference;
mod batch_kill;
mod budget;
mod common;
mod content;
mod conversation_rules;
mod cost;
mod examples;
mod extract;
mod extract_bounds;
mod failover;
mod foundation;
mod garbage;
mod handlers;
mod inline;
mod load;
mod mock_chunking;
mod new_user;
mod paths;
mod promises;
mod quota;
mod record;
mod recorded;
mod reliability;
mod spawn;
mod stop_reasons;
mod stream_fallback;
mod surface;
