//! Memory: resident memory stays flat over many sequential calls.
//! (Its own test binary, so that no other test shares the process.)

use bedrock_converse::stream::NoopHandler;
use bedrock_converse::ConverseRequest;
use bedrock_converse_mock::{MockServer, Reply};

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn ten_thousand_sequential_calls_keep_memory_flat() {
    let server = MockServer::start().unwrap();
    server.set_recording(false);
    server.set_default(Reply::text("a reply of a few words, streamed").deltas(4));
    let converser = server.converser().unwrap();
    let request = ConverseRequest::new("amazon.nova-lite-v1:0").user("hello");
    let call = |i: usize| {
        if i.is_multiple_of(2) {
            converser.converse_with(&request, &mut NoopHandler).unwrap()
        } else {
            converser.converse(&request).unwrap()
        }
    };
    // Warm up: connection pool, allocator arenas, lazy statics.
    for i in 0..500 {
        call(i);
    }
    let Some(start) = rss_kib() else {
        // Linux always has /proc/self/status: its absence there means the
        // check is broken, not that it does not apply.
        if cfg!(target_os = "linux") {
            panic!("no VmRSS in /proc/self/status on Linux; the memory check cannot run");
        }
        println!("no /proc/self/status on this OS; skipping the memory check");
        return;
    };
    for i in 0..10_000 {
        call(i);
    }
    let end = rss_kib().unwrap();
    let growth = end as i64 - start as i64;
    println!(
        "memory: RSS {start} KiB after warm-up, {end} KiB after 10,000 calls ({growth:+} KiB)"
    );
    // Measured growth is within ±100 KiB. The bound leaves room for allocator
    // noise, yet a leak of 1 KiB per call (10,000 KiB) would exceed it twice
    // over, and one of 2 KiB per call almost five times over.
    const BOUND_KIB: i64 = 4 * 1024;
    const _: () = assert!(BOUND_KIB * 2 <= 10_000, "must catch 1 KiB a call");
    assert!(
        growth < BOUND_KIB,
        "RSS grew by {growth} KiB over 10,000 calls"
    );
}
