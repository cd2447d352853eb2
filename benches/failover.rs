//! Failover across models under per-model quotas: N records through
//! `bedrock_converse::batch` (concurrency 16) against the bundled server,
//! which throttles each model id at Q requests per minute (sliding window),
//! once with a second model as a fallback target (each target with its
//! client-side quota of Q) and once without (one target, quota Q). With
//! failover the job can go at 2Q a minute: its floor is an even pace at 2Q,
//! N / 2Q minutes. Prints the wall time against that floor, the requests
//! sent and throttled, the records succeeded and failed, and which target
//! answered how many; writes them to `target/bench-results/failover.json`.
//!
//! `cargo bench --bench failover` runs 400 records at 1,500 RPM per model
//! (the 400 records at 150 RPM, with every rate ten times higher so
//! it takes seconds: floor 8 s with failover, 16 s without).
//! `FAILOVER_RECORDS` and `FAILOVER_RPM` change N and Q; `FAILOVER_RPM=150`
//! is the issue's own scale (floor 80 s).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bedrock_converse::batch::{Batch, Record};
use bedrock_converse::client::{Quota, Target};
use bedrock_converse_mock::{MockServer, ServerQuota};
use serde_json::json;

const FIRST: &str = "amazon.nova-lite-v1:0";
const SECOND: &str = "amazon.nova-pro-v1:0";

struct Outcome {
    wall: Duration,
    requests: u64,
    throttled: u64,
    succeeded: usize,
    failed: usize,
    answered: Vec<u64>,
    unique: usize,
}

fn run(records: usize, rpm: u32, failover: bool) -> Outcome {
    let server = MockServer::start().expect("local server");
    server.set_recording(false);
    server.set_default(bedrock_converse_mock::Reply::echo(""));
    server.set_quota(ServerQuota::new().requests_per_minute(rpm));
    let quota = Quota::new().requests_per_minute(rpm);
    let mut builder = server.converser_builder().quota(quota);
    if failover {
        builder = builder.fallback(Target::new().model_id(SECOND).quota(quota));
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
    let mut ids = std::collections::HashSet::new();
    let started = Instant::now();
    let progress = Batch::new(&converser, FIRST)
        .concurrency(16)
        .sync(false)
        .run(input, |r| {
            ids.insert(r.id.clone());
        })
        .expect("batch");
    Outcome {
        wall: started.elapsed(),
        requests: server.request_count(),
        throttled: server.throttled_count(),
        succeeded: progress.succeeded,
        failed: progress.failed,
        answered: converser
            .target_stats()
            .iter()
            .map(|t| t.answered)
            .collect(),
        unique: ids.len(),
    }
}

fn main() {
    let n: usize = std::env::var("FAILOVER_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let q: u32 = std::env::var("FAILOVER_RPM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let floor = n as f64 / f64::from(2 * q) * 60.0;
    println!(
        "{n} records, server quota {q} requests/min per model; the floor with two models (an even pace at {}/min) is {floor:.1} s",
        2 * q
    );
    let mut rows = Vec::new();
    for (side, failover) in [("failover", true), ("one model", false)] {
        let o = run(n, q, failover);
        let wall = o.wall.as_secs_f64();
        let share = o.throttled as f64 / o.requests.max(1) as f64 * 100.0;
        println!(
            "{side:<9} wall {wall:>6.1} s = {:.2}x the floor; {} requests, {} throttled ({share:.1}%); {} succeeded, {} failed, {} unique ids; answered per target {:?}",
            wall / floor,
            o.requests,
            o.throttled,
            o.succeeded,
            o.failed,
            o.unique,
            o.answered
        );
        rows.push(json!({
            "side": side, "wall_s": wall, "floor_s": floor, "ratio_to_floor": wall / floor,
            "requests": o.requests, "throttled": o.throttled, "throttled_pct": share,
            "succeeded": o.succeeded, "failed": o.failed, "unique_ids": o.unique,
            "answered_per_target": o.answered,
        }));
    }
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let out =
        json!({"records": n, "rpm_per_model": q, "floor_s": floor, "unix_time": at, "runs": rows});
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-results");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("failover.json"),
        serde_json::to_string_pretty(&out).unwrap_or_default(),
    );
}
