//! Batch jobs under a quota, against every server model the bundled server
//! plays: N records at Q requests per minute through `bedrock_converse::batch`
//! (concurrency 16), once with the client-side limiter
//! (`ConverserBuilder::quota`) and once without it (the batch run then
//! learns a rate from the server's 429s). For each server model it prints
//! the wall time as a ratio to that model's true floor (the least time any
//! client could take), the requests sent and the share throttled, and writes
//! them to `target/bench-results/batch_quota.json`.
//!
//! `cargo bench --bench batch_quota` runs 400 records at 300 RPM (80 s of
//! even pace per run; about 15 minutes in all). `BATCH_RECORDS`,
//! `BATCH_RPM` and `BATCH_MODELS` (a comma-separated subset of
//! `window,fixed,bucket1,bucket10,bucket60`) change N, Q and the models.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bedrock_converse::batch::{Batch, Record};
use bedrock_converse::client::Quota;
use bedrock_converse_mock::{MockServer, QuotaModel, ServerQuota};
use serde_json::json;

const MODEL: &str = "amazon.nova-lite-v1:0";

struct Outcome {
    wall: Duration,
    requests: u64,
    throttled: u64,
    failed: usize,
    succeeded: usize,
}

fn bucket(seconds: u64) -> QuotaModel {
    QuotaModel::Bucket {
        capacity: Duration::from_secs(seconds),
    }
}

/// The least time any client could take for `n` records under `q` RPM
/// with `model`, calls taking no time; `into_minute` is how far into a
/// wall-clock minute the run starts.
fn floor(model: QuotaModel, n: usize, q: u32, into_minute: f64) -> f64 {
    let (n, q) = (n as f64, f64::from(q));
    let minutes_after_first = ((n - 1.0) / q).floor();
    match model {
        // The last batch of Q goes when the first leaves the window.
        QuotaModel::SlidingWindow => minutes_after_first * 60.0,
        // ... or at the start of the minute it belongs to.
        QuotaModel::FixedMinute if minutes_after_first >= 1.0 => {
            (60.0 - into_minute) + (minutes_after_first - 1.0) * 60.0
        }
        QuotaModel::FixedMinute => 0.0,
        // The bucket's content at once, the rest at its refill rate.
        QuotaModel::Bucket { capacity } => {
            let burst = q * capacity.as_secs_f64() / 60.0;
            (n - burst).max(0.0) / (q / 60.0)
        }
        _ => unreachable!("every model is listed"),
    }
}

fn run(model: QuotaModel, records: usize, rpm: u32, limiter: bool) -> Outcome {
    let server = MockServer::start().expect("local server");
    server.set_recording(false);
    server.set_quota(ServerQuota::new().requests_per_minute(rpm).model(model));
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
    let wanted = std::env::var("BATCH_MODELS")
        .unwrap_or_else(|_| "window,fixed,bucket1,bucket10,bucket60".into());
    let models: Vec<(&str, QuotaModel)> = [
        ("window", QuotaModel::SlidingWindow),
        ("fixed", QuotaModel::FixedMinute),
        ("bucket1", bucket(1)),
        ("bucket10", bucket(10)),
        ("bucket60", bucket(60)),
    ]
    .into_iter()
    .filter(|(name, _)| wanted.split(',').any(|w| w.trim() == *name))
    .collect();
    let paced = n as f64 / f64::from(q) * 60.0;
    println!("{n} records, server quota {q} requests/min; an even pace takes {paced:.1} s");
    let mut rows = Vec::new();
    for (name, model) in models {
        for (side, limiter) in [("limiter", true), ("no quota set", false)] {
            let into_minute = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64() % 60.0);
            let floor = floor(model, n, q, into_minute);
            let o = run(model, n, q, limiter);
            let wall = o.wall.as_secs_f64();
            let share = o.throttled as f64 / o.requests.max(1) as f64 * 100.0;
            // Under a second the floor is the calls' own latency: no ratio.
            let ratio = (floor >= 1.0).then(|| wall / floor);
            println!(
                "{name:<9} {side:<13} wall {wall:>6.1} s = {} the floor ({floor:.1} s), {:.2}x the pace; {} requests, {} throttled ({share:.1}%); {} succeeded, {} failed",
                ratio.map_or("n/a x".to_owned(), |r| format!("{r:.2}x")),
                wall / paced,
                o.requests,
                o.throttled,
                o.succeeded,
                o.failed
            );
            rows.push(json!({
                "server_model": name, "side": side, "wall_s": wall, "floor_s": floor,
                "ratio_to_floor": ratio, "ratio_to_pace": wall / paced,
                "requests": o.requests, "throttled": o.throttled, "throttled_pct": share,
                "succeeded": o.succeeded, "failed": o.failed,
            }));
        }
    }
    let out = json!({"records": n, "rpm": q, "paced_s": paced, "runs": rows});
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-results");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("batch_quota.json"),
        serde_json::to_string_pretty(&out).unwrap_or_default(),
    );
}
