//! Issue 14's benchmark: N records against the local server enforcing a
//! quota of Q requests per minute, run by `bedrock_converse::batch` with the
//! client-side limiter (`ConverserBuilder::quota`), beside the same job with
//! retries only. Prints wall time over the quota's minimum (N / Q minutes),
//! throttled responses and failed records, as one table, and writes them to
//! `target/bench-results/batch_quota.json`.
//!
//! `cargo bench --bench batch_quota` (about three minutes: each side waits
//! for the quota). `BATCH_RECORDS` and `BATCH_RPM` change N and Q.

use std::time::{Duration, Instant};

use bedrock_converse::batch::{Batch, Record};
use bedrock_converse::client::Quota;
use bedrock_converse_mock::{MockServer, ServerQuota};
use serde_json::json;

const MODEL: &str = "amazon.nova-lite-v1:0";

struct Outcome {
    wall: Duration,
    requests: u64,
    throttled: u64,
    failed: usize,
    succeeded: usize,
}

fn run(records: usize, rpm: u32, limiter: bool) -> Outcome {
    let server = MockServer::start().expect("local server");
    server.set_recording(false);
    server.set_quota(ServerQuota::new().requests_per_minute(rpm));
    let mut builder = server.converser_builder();
    if limiter {
        builder = builder.quota(Quota::new().requests_per_minute(rpm));
    }
    let converser = builder.build().expect("converser");
    let input: Vec<Record> = (0..records)
        .map(|i| {
            Record::new(
                format!("R{i:05}"),
                json!({"messages": [{"role": "user", "content": [{"text": format!("record {i}")}]}],
                       "inferenceConfig": {"maxTokens": 64}}),
            )
        })
        .collect();
    let started = Instant::now();
    let progress = Batch::new(&converser, MODEL)
        .concurrency(16)
        .max_attempts(10)
        .sync(false)
        .run(input, |_| {})
        .expect("batch");
    Outcome {
        wall: started.elapsed(),
        requests: server.request_count(),
        throttled: server.throttled_count(),
        failed: progress.failed,
        succeeded: progress.succeeded,
    }
}

fn main() {
    let n: usize = std::env::var("BATCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let q: u32 = std::env::var("BATCH_RPM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let minimum = Duration::from_secs_f64(n as f64 / f64::from(q) * 60.0);
    println!("{n} records, server quota {q} requests/min: the quota's minimum is {minimum:.1?}");
    let mut rows = Vec::new();
    for (name, limiter) in [("limiter + retries", true), ("retries only", false)] {
        let o = run(n, q, limiter);
        let ratio = o.wall.as_secs_f64() / minimum.as_secs_f64();
        let share = o.throttled as f64 / o.requests.max(1) as f64 * 100.0;
        println!(
            "{name:<18} wall {:>6.1} s = {ratio:.2}x the minimum; {} requests, {} throttled ({share:.1}%); {} succeeded, {} failed",
            o.wall.as_secs_f64(),
            o.requests,
            o.throttled,
            o.succeeded,
            o.failed
        );
        rows.push(json!({
            "side": name, "wall_s": o.wall.as_secs_f64(), "ratio_to_minimum": ratio,
            "requests": o.requests, "throttled": o.throttled, "throttled_pct": share,
            "succeeded": o.succeeded, "failed": o.failed,
        }));
    }
    let out = json!({"records": n, "rpm": q, "minimum_s": minimum.as_secs_f64(), "runs": rows});
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-results");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("batch_quota.json"),
        serde_json::to_string_pretty(&out).unwrap_or_default(),
    );
}
