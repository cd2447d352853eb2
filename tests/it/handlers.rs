//! A handler's `ControlFlow::Break`, from each of its callbacks, stops the stream:
//! through a trait implementation (so through `StreamEvent::dispatch`), a
//! borrowed handler, and `handler_fn`, on `converse_with` and
//! `converse_with_on_runtime`.

use crate::support::request;
use std::ops::ControlFlow;

use bedrock_converse::model::Role;
use bedrock_converse::stream::{handler_fn, BlockStart, Metadata, Stop};
use bedrock_converse::{Converser, Delta, Error, StreamEvent, StreamHandler};
use bedrock_converse_mock::{MockServer, Reply};
use serde_json::json;

/// Every callback, in the order the reply below sends them.
const KINDS: [&str; 6] = [
    "start",
    "block_start",
    "delta",
    "block_stop",
    "stop",
    "metadata",
];

/// Text, then a tool use (the only block that gets a block start), then the
/// stop and metadata.
fn reply() -> Reply {
    Reply::text("ab")
        .tool_use("tu-1", "calc", json!({"x": 1}))
        .deltas(2)
        .usage(3, 4)
}

fn kind(event: &StreamEvent) -> &'static str {
    match event {
        StreamEvent::MessageStart { .. } => "start",
        StreamEvent::BlockStart { .. } => "block_start",
        StreamEvent::Delta { .. } => "delta",
        StreamEvent::BlockStop { .. } => "block_stop",
        StreamEvent::Stop(_) => "stop",
        StreamEvent::Metadata(_) => "metadata",
        _ => "other",
    }
}

/// Records each callback by kind; returns `ControlFlow::Break` at the first `stop_at`.
struct StopAt {
    stop_at: &'static str,
    seen: Vec<&'static str>,
}

impl StopAt {
    fn see(&mut self, kind: &'static str) -> ControlFlow<()> {
        self.seen.push(kind);
        if kind == self.stop_at {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

impl StreamHandler for StopAt {
    fn on_message_start(&mut self, _: &Role) -> ControlFlow<()> {
        self.see("start")
    }
    fn on_block_start(&mut self, _: u32, _: &BlockStart) -> ControlFlow<()> {
        self.see("block_start")
    }
    fn on_delta(&mut self, _: u32, _: &Delta) -> ControlFlow<()> {
        self.see("delta")
    }
    fn on_block_stop(&mut self, _: u32) -> ControlFlow<()> {
        self.see("block_stop")
    }
    fn on_stop(&mut self, _: &Stop) -> ControlFlow<()> {
        self.see("stop")
    }
    fn on_metadata(&mut self, _: &Metadata) -> ControlFlow<()> {
        self.see("metadata")
    }
}

/// The callbacks of the whole reply, in order.
fn all_callbacks(server: &MockServer, converser: &Converser) -> Vec<&'static str> {
    server.push(reply());
    let mut all = StopAt {
        stop_at: "never",
        seen: Vec::new(),
    };
    converser.converse_with(&request(), &mut all).unwrap();
    for k in KINDS {
        assert!(
            all.seen.contains(&k),
            "the reply has no {k}: {:?}",
            all.seen
        );
    }
    all.seen
}

/// Checks that a call stopped at the first `stop_at` saw exactly the
/// callbacks up to it, and ended with `Error::Stopped`.
#[track_caller]
fn check(
    how: &str,
    stop_at: &str,
    all: &[&str],
    seen: &[&str],
    result: Result<bedrock_converse::Response, Error>,
) {
    let first = all.iter().position(|k| *k == stop_at).unwrap();
    assert_eq!(seen, &all[..=first], "{how}, stop at {stop_at}");
    let err = result.expect_err(how);
    assert!(
        matches!(err, Error::Stopped { .. }),
        "{how}, stop at {stop_at}: {err:?}"
    );
    let partial = err.partial_response().unwrap();
    // What had arrived, the stopping event included: the stop reason once
    // the stop came, the usage only when the metadata was what stopped.
    assert_eq!(
        partial.stop_reason.is_some(),
        first >= all.iter().position(|k| *k == "stop").unwrap(),
        "{how}, stop at {stop_at}: {partial:?}"
    );
    assert_eq!(
        partial.usage.is_some(),
        stop_at == "metadata",
        "{how}, stop at {stop_at}: {partial:?}"
    );
}

#[test]
fn flow_stop_from_each_callback_stops_the_stream() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let all = all_callbacks(&server, &converser);
    for stop_at in KINDS {
        // A trait implementation: events reach it through `dispatch`.
        server.push(reply());
        let mut h = StopAt {
            stop_at,
            seen: Vec::new(),
        };
        let r = converser.converse_with(&request(), &mut h);
        check("converse_with", stop_at, &all, &h.seen, r);

        // The same, borrowed (the `&mut H` forwarding impl).
        server.push(reply());
        let mut h = StopAt {
            stop_at,
            seen: Vec::new(),
        };
        let r = converser.converse_with(&request(), &mut &mut h);
        check("converse_with(&mut &mut h)", stop_at, &all, &h.seen, r);

        // On the runtime thread.
        server.push(reply());
        let mut h = StopAt {
            stop_at,
            seen: Vec::new(),
        };
        let r = converser.converse_with_on_runtime(&request(), &mut h);
        check("converse_with_on_runtime", stop_at, &all, &h.seen, r);

        // A closure.
        for send in [false, true] {
            server.push(reply());
            let mut seen = Vec::new();
            let mut h = handler_fn(|event: &StreamEvent| {
                let k = kind(event);
                seen.push(k);
                if k == stop_at {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            let r = if send {
                converser.converse_with_on_runtime(&request(), &mut h)
            } else {
                converser.converse_with(&request(), &mut h)
            };
            drop(h);
            check(&format!("handler_fn, send={send}"), stop_at, &all, &seen, r);
        }
    }
}

/// `StreamEvent::dispatch` on a borrowed handler goes through the `&mut H`
/// impl's per-callback methods, each of which must forward the handler's
/// `ControlFlow`. The events are real ones, from a spawned call's channel.
#[test]
fn dispatch_through_a_borrowed_handler_forwards_every_flow() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.push(reply());
    let call = converser.spawn(&request()).unwrap();
    let events: Vec<StreamEvent> = {
        let rx = call.events().clone();
        call.wait().unwrap();
        rx.try_iter().collect()
    };
    for stop_at in KINDS {
        let stopping = events.iter().find(|e| kind(e) == stop_at).unwrap();
        let mut h = StopAt {
            stop_at,
            seen: Vec::new(),
        };
        assert_eq!(
            stopping.dispatch(&mut &mut h),
            ControlFlow::Break(()),
            "{stop_at}"
        );
        assert_eq!(h.seen, [stop_at]);
        let other = events.iter().find(|e| kind(e) != stop_at).unwrap();
        assert_eq!(
            other.dispatch(&mut &mut h),
            ControlFlow::Continue(()),
            "{stop_at}"
        );
    }
}
