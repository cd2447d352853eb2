//! One side of one measurement in a loop, for a profiler:
//!
//! ```text
//! BEDROCK_BENCH_PROFILE=throughput-wrapper perf record -g target/release/deps/converse-*
//! BEDROCK_BENCH_PROFILE=throughput-send perf record -g target/release/deps/converse-*
//! BEDROCK_BENCH_PROFILE=per-call-raw BEDROCK_BENCH_CALLERS=64 perf stat -e context-switches target/release/deps/converse-*
//! ```
//!
//! Kinds: `throughput-raw`, `throughput-wrapper`, `throughput-send`
//! (20,000-delta replies), `per-call-raw`, `per-call-wrapper`, `per-call-send`
//! (tiny replies); `wrapper` is `converse_with` (handler on the calling
//! thread), `send` is `converse_with_on_runtime` (handler on the runtime thread).
//! `BEDROCK_BENCH_ROUNDS` sets how many calls (default 20 and 5,000);
//! `BEDROCK_BENCH_CALLERS` how many callers share them (threads sharing one
//! `Converser` for the wrapper, tasks on a current-thread runtime for the raw
//! SDK; default 1). Prints the wall time
//! and the client's CPU time (the process's, less the local server's thread;
//! 10 ms resolution, so run for seconds) per call and per event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bedrock_converse_mock::MockServer;

use crate::common::*;

pub const PROFILE_VAR: &str = "BEDROCK_BENCH_PROFILE";

fn var(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

pub fn run(kind: &str) {
    let server = MockServer::start().expect("the mock server starts");
    server.set_recording(false);
    let long = kind.starts_with("throughput");
    let reply = if long {
        long_reply(LONG_DELTAS * LONG_DELTA_BYTES, LONG_DELTAS)
    } else {
        tiny_reply()
    };
    server.set_default(reply);
    let callers = var("BEDROCK_BENCH_CALLERS").unwrap_or(1).max(1);
    let per_caller = var("BEDROCK_BENCH_ROUNDS").unwrap_or(if long { 20 } else { 5_000 }) / callers;
    let rounds = per_caller * callers;
    let config = sdk_config_builder(&server.endpoint()).build();
    // `None`: the raw SDK.
    let path = match kind.rsplit('-').next() {
        Some("raw") => None,
        Some("wrapper") => Some(Path::With),
        Some("send") => Some(Path::Send),
        _ => panic!("unknown profile kind {kind}"),
    };
    // Made before the clock starts and dropped after it stops, so that the
    // CPU time of the wrapper's runtime thread is counted.
    let ct = current_thread_runtime();
    let client = raw_client(config.clone());
    let converser = wrapper(config);
    let events = Arc::new(AtomicU64::new(0));
    let client_cpu = || process_cpu_ns() as f64 - server_cpu_ns() as f64;
    let (start, cpu) = (Instant::now(), client_cpu());
    if let Some(path) = path {
        std::thread::scope(|scope| {
            for _ in 0..callers {
                let (converser, events) = (&converser, &events);
                scope.spawn(move || {
                    let req = request();
                    for _ in 0..per_caller {
                        let mut touch = Touch::default();
                        path.stream(converser, &req, &mut touch);
                        events.fetch_add(touch.events, Ordering::Relaxed);
                    }
                });
            }
        });
    } else {
        ct.block_on(async {
            let tasks: Vec<_> = (0..callers)
                .map(|_| {
                    let (client, events) = (client.clone(), events.clone());
                    tokio::spawn(async move {
                        let raw_req = RawRequest::new();
                        for _ in 0..per_caller {
                            let mut touch = Touch::default();
                            raw_stream(&client, &raw_req, &mut touch).await;
                            events.fetch_add(touch.events, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.expect("task");
            }
        });
    }
    // The whole process but the server's thread: the caller threads have ended.
    let (s, cpu) = (start.elapsed().as_secs_f64(), client_cpu() - cpu);
    let events = events.load(Ordering::Relaxed);
    eprintln!(
        "{kind} x{callers}: {rounds} calls, {events} events in {s:.3} s: {:.0} calls/s, {:.0} events/s, \
         client CPU {:.1} µs/call, {:.3} µs/event",
        rounds as f64 / s,
        events as f64 / s,
        cpu / 1e3 / rounds as f64,
        cpu / 1e3 / events as f64,
    );
}
