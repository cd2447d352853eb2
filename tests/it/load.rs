//! Load: many threads on one `Converser`; every reply reaches the thread that
//! asked for it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bedrock_converse::stream::NoopHandler;
use bedrock_converse::ConverseRequest;
use bedrock_converse_mock::{MockServer, Reply};

#[test]
fn sixty_four_threads_times_one_hundred_calls_none_lost_or_crossed() {
    const THREADS: usize = 64;
    const CALLS: usize = 100;
    let server = MockServer::start().unwrap();
    server.set_recording(false);
    server.set_default(Reply::echo("echo:").deltas(2));
    let converser = server.converser().unwrap();
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let converser = &converser;
            let seen = seen.clone();
            s.spawn(move || {
                for i in 0..CALLS {
                    let nonce = format!("nonce-{t}-{i}");
                    let request = ConverseRequest::new("amazon.nova-lite-v1:0").user(&nonce);
                    let reply = if i % 4 == 0 {
                        converser.converse(&request)
                    } else {
                        converser.converse_with(&request, &mut NoopHandler)
                    }
                    .unwrap_or_else(|e| panic!("{nonce}: {e}"));
                    assert_eq!(reply.text(), format!("echo:{nonce}"), "crossed reply");
                    assert!(seen.lock().unwrap().insert(nonce), "duplicate reply");
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let total = THREADS * CALLS;
    assert_eq!(seen.lock().unwrap().len(), total, "lost replies");
    assert_eq!(server.request_count(), total as u64, "one request per call");
    println!(
        "load: {total} calls on {THREADS} threads in {elapsed:?} ({:.0} calls/s, debug build)",
        total as f64 / elapsed.as_secs_f64()
    );
}
