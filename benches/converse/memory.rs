//! Memory, each figure from a fresh child process (this bench binary run
//! again with `BEDROCK_BENCH_CHILD` set) that talks to the server in the
//! parent, so that neither the server nor another measurement is counted.

use std::process::{Command, Stdio};

use bedrock_converse_mock::{MockServer, Reply};
use serde_json::{json, Value};

use crate::common::*;

pub const CHILD_VAR: &str = "BEDROCK_BENCH_CHILD";
const ENDPOINT_VAR: &str = "BEDROCK_BENCH_ENDPOINT";
const CALLS_VAR: &str = "BEDROCK_BENCH_CALLS";

/// Runs the memory measurements: RSS after `calls` tiny calls, and peak RSS
/// while streaming a 10 MiB reply; for the raw SDK and for the wrapper
/// through `converse_with` and through `converse_with_on_runtime`.
pub fn measure(server: &MockServer, tiny: &Reply, full: bool) -> Value {
    let calls = if full { 10_000 } else { 300 };
    server.set_default(tiny.clone());
    let endpoint = server.endpoint();
    let calls_raw = spawn("calls-raw", &endpoint, calls);
    let calls_wrapper = spawn("calls-wrapper", &endpoint, calls);
    let calls_send = spawn("calls-send", &endpoint, calls);
    let big = long_reply(BIG_TEXT_BYTES, LONG_DELTAS);
    let mut streams = Vec::new();
    for kind in ["stream-raw", "stream-wrapper", "stream-send"] {
        // The child's first call (a warm-up) gets the tiny reply, its second the big one.
        server.push(tiny.clone());
        server.push(big.clone());
        streams.push(spawn(kind, &endpoint, 0));
    }
    json!({
        "calls": calls,
        "reply_bytes": BIG_TEXT_BYTES,
        "calls_raw": calls_raw,
        "calls_wrapper": calls_wrapper,
        "calls_wrapper_send": calls_send,
        "stream_raw": streams[0],
        "stream_wrapper": streams[1],
        "stream_wrapper_send": streams[2],
    })
}

fn spawn(kind: &str, endpoint: &str, calls: usize) -> Value {
    let exe = std::env::current_exe().expect("the bench binary's path");
    let output = Command::new(exe)
        .env(CHILD_VAR, kind)
        .env(ENDPOINT_VAR, endpoint)
        .env(CALLS_VAR, calls.to_string())
        .stderr(Stdio::inherit())
        .output()
        .expect("the memory child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    match stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
    {
        Some(v) if output.status.success() => v,
        _ => {
            eprintln!("memory child {kind} failed: {}", output.status);
            Value::Null
        }
    }
}

/// The child's side: one measurement, printed as one JSON line.
pub fn child(kind: &str) {
    let endpoint = std::env::var(ENDPOINT_VAR).expect("endpoint");
    let calls: usize = std::env::var(CALLS_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let config = sdk_config_builder(&endpoint).build();
    let req = request();
    let raw_req = RawRequest::new();
    let warm_calls = 100.min(calls);
    let out = match kind {
        "calls-wrapper" | "calls-send" => {
            let path = if kind == "calls-send" {
                Path::Send
            } else {
                Path::With
            };
            let converser = wrapper(config);
            let mut warm = (0, 0);
            for i in 0..calls {
                if i == warm_calls {
                    warm = rss_hwm_kib();
                }
                path.stream(&converser, &req, &mut Touch::default());
            }
            let (rss, hwm) = rss_hwm_kib();
            json!({ "rss_after_warmup_kib": warm.0, "rss_kib": rss, "hwm_kib": hwm })
        }
        "calls-raw" => {
            let rt = current_thread_runtime();
            let client = raw_client(config);
            let mut warm = (0, 0);
            for i in 0..calls {
                if i == warm_calls {
                    warm = rss_hwm_kib();
                }
                rt.block_on(raw_stream(&client, &raw_req, &mut Touch::default()));
            }
            let (rss, hwm) = rss_hwm_kib();
            json!({ "rss_after_warmup_kib": warm.0, "rss_kib": rss, "hwm_kib": hwm })
        }
        "stream-wrapper" | "stream-send" => {
            let path = if kind == "stream-send" {
                Path::Send
            } else {
                Path::With
            };
            let converser = wrapper(config);
            // The warm-up call goes through the path measured, as in the
            // calls children.
            path.stream(&converser, &req, &mut Touch::default());
            let (rss0, _) = rss_hwm_kib();
            let mut noop = bedrock_converse::stream::NoopHandler;
            let reply = path.call(&converser, &req, &mut noop).expect("big reply");
            let (rss1, hwm) = rss_hwm_kib();
            assert_eq!(reply.text().len(), BIG_TEXT_BYTES);
            drop(reply);
            json!({ "rss_before_kib": rss0, "rss_holding_reply_kib": rss1, "hwm_kib": hwm })
        }
        "stream-raw" => {
            let rt = current_thread_runtime();
            let client = raw_client(config);
            rt.block_on(raw_stream(&client, &raw_req, &mut Touch::default()));
            let (rss0, _) = rss_hwm_kib();
            let text = rt.block_on(raw_stream_keep(&client, &raw_req));
            let (rss1, hwm) = rss_hwm_kib();
            assert_eq!(text.len(), BIG_TEXT_BYTES);
            drop(text);
            json!({ "rss_before_kib": rss0, "rss_holding_reply_kib": rss1, "hwm_kib": hwm })
        }
        other => panic!("unknown memory child {other}"),
    };
    println!("{out}");
}
