//! The integration tests, as one test binary: one link instead of one per
//! file, which is most of what `cargo test` spends building after a change.
//! Each module was a `tests/*.rs` file of its own.
//!
//! Three files stay binaries of their own, because they need their process
//! to themselves: `tests/memory.rs` measures the process's resident memory,
//! `tests/from_env.rs` rewrites process-wide environment variables (which
//! the other tests' clients could read mid-test), and `tests/secrets.rs`
//! installs the process's one global logger at trace level.

mod batch;
mod batch_bodies;
#[cfg(feature = "batch-inference")]
mod batch_inference;
mod batch_kill;
mod budget;
mod cancel;
mod conversation;
mod conversation_rules;
mod converse_with_on_runtime;
mod cost;
mod count_tokens;
mod errors;
mod example_requests;
mod examples;
mod extract;
mod extract_bounds;
mod failover;
mod failover_outcomes;
mod handlers;
mod load;
mod malformed_replies;
mod media;
mod mock_chunking;
mod paths;
mod quota;
mod quota_wait;
mod record;
mod recorded;
mod replies;
mod reply_blocks;
mod requests;
mod retries;
mod sharing;
mod spawn;
mod stop_reasons;
mod stream_fallback;
mod streaming;
mod support;
mod timeouts;
mod tools;
