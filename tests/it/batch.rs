//! Batch runs (`bedrock_converse::batch`) against the local server: bounded
//! concurrency without a thread per record, every record exactly once,
//! retries, error lines, and resuming after a kill.

use crate::support::TempDir;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bedrock_converse::batch::{Batch, BatchStats, Record, RecordResult};
use bedrock_converse::client::RetryConfig;
use bedrock_converse::{Converser, Error};
use bedrock_converse_mock::{MockServer, Reply};
use serde_json::{json, Value};

const MODEL: &str = "amazon.nova-lite-v1:0";

fn record(i: usize) -> Record {
    Record::new(
        format!("rec-{i:03}"),
        json!({"messages": [{"role": "user", "content": [{"text": format!("record {i}")}]}]}),
    )
}

fn records(n: usize) -> Vec<Record> {
    (0..n).map(record).collect()
}

/// A `Converser` on `server` whose SDK does not retry: the batch's own
/// retries are what is tested.
fn converser(server: &MockServer) -> Converser {
    server
        .converser_builder()
        .retry_config(RetryConfig::disabled())
        .build()
        .unwrap()
}

/// A temporary directory (removed when dropped) and its `out.jsonl`.
fn temp_path(name: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new(&format!("batch-{name}"));
    let path = dir.join("out.jsonl");
    (dir, path)
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

const CHILD: &str = "BEDROCK_CONVERSE_BATCH_THREADS_CHILD";

/// "64 in flight use one thread, the runtime's": runs
/// `batch::sixty_four_in_flight_child` alone in a process of its own, so
/// that other tests' threads do not count.
#[test]
fn sixty_four_in_flight_use_one_thread() {
    if !Path::new("/proc/self/task").exists() {
        eprintln!("no /proc/self/task here; skipped");
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "batch::sixty_four_in_flight_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "{stdout}\n{stderr}");
    eprintln!(
        "{}",
        stderr
            .lines()
            .filter(|l| l.starts_with("threads:"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
#[ignore = "run by sixty_four_in_flight_use_one_thread in a process of its own"]
fn sixty_four_in_flight_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let server = MockServer::start().unwrap();
    server.set_default(
        Reply::echo("echo: ")
            .deltas(5)
            .frame_delay(Duration::from_millis(60)),
    );
    let before = threads();
    let converser = converser(&server);
    let (mut max_threads, mut max_in_flight) = (0, 0);
    let mut results: Vec<RecordResult> = Vec::new();
    let stats = Batch::new(&converser, MODEL)
        .concurrency(64)
        .on_progress(Duration::ZERO, |p: &BatchStats| {
            max_threads = max_threads.max(threads());
            max_in_flight = max_in_flight.max(p.in_flight);
        })
        .run(records(64), |r| results.push(r))
        .unwrap();
    eprintln!("threads: {before} before the Converser, at most {max_threads} with up to {max_in_flight} calls in flight");
    assert_eq!(max_in_flight, 64);
    assert_eq!(
        max_threads - before,
        1,
        "the Converser's runtime thread and no other: {before} -> {max_threads}"
    );
    assert_eq!((stats.succeeded, stats.failed, stats.retries), (64, 0, 0));
    assert_eq!(results.len(), 64);
    let ids: HashSet<&str> = results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 64);
    for r in &results {
        let n: usize = r.id["rec-".len()..].parse().unwrap();
        let reply = r.outcome.as_ref().unwrap();
        assert_eq!(reply.text(), format!("echo: record {n}"), "{}", r.id);
        assert_eq!(r.attempts, 1);
    }
    assert_eq!(server.request_count(), 64);
}

/// "progress (done, failed, tokens, records/s, ETA) to a callback": each
/// field seen moving while the run goes on, and consistent with the others.
#[test]
fn progress_reports_done_failed_tokens_rate_and_eta() {
    let server = MockServer::start().unwrap();
    server.set_default(
        Reply::text("fine")
            .usage(3, 5)
            .frame_delay(Duration::from_millis(30)),
    );
    // Ten records, two of them refused before sending (a toolConfig without
    // a tool): those fail at once, the others take 30 ms each, two at a time.
    let mut input = records(10);
    for i in [1, 6] {
        input[i] = Record::new(
            format!("bad-{i}"),
            json!({"toolConfig": {"tools": []}, "messages": record(i).model_input["messages"]}),
        );
    }
    let mut seen: Vec<BatchStats> = Vec::new();
    let stats = Batch::new(&converser(&server), MODEL)
        .concurrency(2)
        .on_progress(Duration::ZERO, |p: &BatchStats| seen.push(p.clone()))
        .run(input, |_| {})
        .unwrap();
    assert_eq!((stats.succeeded, stats.failed), (8, 2));
    assert_eq!((stats.input_tokens, stats.output_tokens), (8 * 3, 8 * 5));
    assert!(seen.len() >= 3, "{seen:?}");
    for p in &seen {
        assert_eq!(p.total, 10);
        // Tokens are those of the replies so far.
        assert_eq!(p.input_tokens, 3 * p.succeeded as u64, "{p:?}");
        assert_eq!(p.output_tokens, 5 * p.succeeded as u64, "{p:?}");
        // Records per second: done over the time since the start.
        if p.done() > 0 {
            let rate = p.done() as f64 / p.elapsed.as_secs_f64();
            assert!((p.rate() - rate).abs() <= rate * 1e-9, "{p:?}");
            // The ETA: what remains at that rate.
            let eta = p.eta().expect("an ETA once a record finished");
            let expected = p.remaining() as f64 / rate;
            assert!((eta.as_secs_f64() - expected).abs() < 1e-6, "{p:?}");
        } else {
            assert_eq!(p.eta(), None, "no ETA before a record finished");
        }
    }
    for pair in seen.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            b.done() >= a.done() && b.failed >= a.failed,
            "{a:?} then {b:?}"
        );
        assert!(b.elapsed >= a.elapsed);
    }
    // Seen during the run, not only at its end: a failure, tokens, a rate
    // and an ETA with records still to go.
    let mid = seen
        .iter()
        .find(|p| p.failed > 0 && p.succeeded > 0 && p.remaining() > 0)
        .unwrap_or_else(|| panic!("no progress mid-run with a failure and a reply: {seen:?}"));
    assert!(mid.input_tokens > 0 && mid.rate() > 0.0, "{mid:?}");
    assert!(mid.eta().unwrap() > Duration::ZERO, "{mid:?}");
    // The last report is the end of the run: nothing left, so no time left.
    let last = seen.last().unwrap();
    assert_eq!((last.done(), last.remaining()), (10, 0), "{last:?}");
    assert_eq!(last.eta(), Some(Duration::ZERO));
    // The one-line form shows each of them.
    let line = mid.to_string();
    for part in ["done", "failed", "tokens", "rec/s", "ETA"] {
        assert!(line.contains(part), "{part} missing from {line:?}");
    }
}

#[test]
fn every_record_once_in_the_journal_in_bedrock_format() {
    let server = MockServer::start().unwrap();
    server.set_default(Reply::echo("").usage(3, 2).deltas(2));
    let (_dir, path) = temp_path("format");
    let mut seen = Vec::new();
    let stats = Batch::new(&converser(&server), MODEL)
        .concurrency(4)
        .journal(&path)
        .run(records(10), |r| seen.push(r.id))
        .unwrap();
    assert_eq!(
        (stats.succeeded, stats.input_tokens, stats.output_tokens),
        (10, 30, 20)
    );
    let lines = lines(&path);
    assert_eq!(lines.len(), 10);
    let ids: HashSet<&str> = lines
        .iter()
        .map(|l| l["recordId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 10);
    let first = lines.iter().find(|l| l["recordId"] == "rec-003").unwrap();
    assert_eq!(first["modelInput"], record(3).model_input);
    let output = &first["modelOutput"];
    assert_eq!(output["output"]["message"]["role"], "assistant");
    assert_eq!(
        output["output"]["message"]["content"][0]["text"],
        "record 3"
    );
    assert_eq!(output["usage"]["totalTokens"], 5);
    assert!(output["stopReason"].is_string());
}

#[test]
fn a_throttled_record_is_retried_and_succeeds() {
    let server = MockServer::start().unwrap();
    server.push(Reply::throttling());
    server.push(Reply::error(503, "ServiceUnavailableException", "busy"));
    server.set_default(Reply::text("ok"));
    let mut results = Vec::new();
    let stats = Batch::new(&converser(&server), MODEL)
        .concurrency(1)
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .run(records(1), |r| results.push(r))
        .unwrap();
    assert_eq!((stats.succeeded, stats.failed, stats.retries), (1, 0, 2));
    assert_eq!(results[0].attempts, 3);
    assert_eq!(results[0].outcome.as_ref().unwrap().text(), "ok");
    assert_eq!(server.request_count(), 3);
}

#[test]
fn retries_stop_at_max_attempts() {
    let server = MockServer::start().unwrap();
    server.set_default(Reply::throttling());
    let mut results = Vec::new();
    let stats = Batch::new(&converser(&server), MODEL)
        .max_attempts(3)
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
        .run(records(2), |r| results.push(r))
        .unwrap();
    assert_eq!((stats.succeeded, stats.failed, stats.retries), (0, 2, 4));
    assert_eq!(server.request_count(), 6);
    let error = results[0].outcome.as_ref().unwrap_err();
    assert_eq!(error.code, 429);
}

#[test]
fn a_permanent_error_is_an_error_line_not_a_crash() {
    let server = MockServer::start().unwrap();
    server.push(Reply::error(
        400,
        "ValidationException",
        "The model said no",
    ));
    server.set_default(Reply::text("fine"));
    let (_dir, path) = temp_path("permanent");
    let mut bad = json!({"toolConfig": {"tools": []}, "messages": []});
    bad["messages"] = record(9).model_input["messages"].clone();
    let mut input = records(3);
    input.push(Record::new("unsupported", bad));
    let stats = Batch::new(&converser(&server), MODEL)
        .concurrency(1)
        .journal(&path)
        .run(input, |_| {})
        .unwrap();
    assert_eq!((stats.succeeded, stats.failed, stats.retries), (2, 2, 0));
    assert_eq!(
        server.request_count(),
        3,
        "the unsupported record is never sent"
    );
    let lines = lines(&path);
    let errors: Vec<&Value> = lines.iter().filter(|l| l.get("error").is_some()).collect();
    assert_eq!(errors.len(), 2);
    let validation = errors.iter().find(|l| l["recordId"] == "rec-000").unwrap();
    assert_eq!(validation["error"]["errorCode"], 400);
    assert!(validation["error"]["errorMessage"]
        .as_str()
        .unwrap()
        .contains("The model said no"));
    assert!(validation.get("modelOutput").is_none());
    let unsupported = errors
        .iter()
        .find(|l| l["recordId"] == "unsupported")
        .unwrap();
    // Refused by validation, before sending: a toolConfig with no tool.
    assert_eq!(unsupported["error"]["errorCode"], 400);
    assert!(unsupported["error"]["errorMessage"]
        .as_str()
        .unwrap()
        .contains("tool_config.tools"));
}

#[test]
fn duplicate_ids_are_refused_before_anything_is_sent() {
    let server = MockServer::start().unwrap();
    let mut input = records(3);
    input.push(record(1));
    let err = Batch::new(&converser(&server), MODEL)
        .run(input, |_| panic!("nothing runs"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateRecordId { record } if record == "rec-001"),
        "{err:?}"
    );
    assert!(err.is_invalid_request(), "{err}");
    assert_eq!(
        err.to_string(),
        "record id \"rec-001\" appears more than once"
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn resume_after_a_kill_runs_every_record_exactly_once() {
    const N: usize = 20;
    const CONCURRENCY: usize = 4;
    let server = MockServer::start().unwrap();
    server.set_default(
        Reply::echo("")
            .deltas(2)
            .frame_delay(Duration::from_millis(5)),
    );
    let converser = converser(&server);
    let (_dir, path) = temp_path("resume");
    let all = records(N);

    // The first run gets through half of the records …
    let first = Batch::new(&converser, MODEL)
        .concurrency(CONCURRENCY)
        .journal(&path)
        .run(all[..N / 2].to_vec(), |_| {})
        .unwrap();
    assert_eq!(first.succeeded, N / 2);
    // … and is killed while writing its last line.
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 12)
        .unwrap();

    let mut rerun = HashSet::new();
    let second = Batch::new(&converser, MODEL)
        .concurrency(CONCURRENCY)
        .journal(&path)
        .resume(true)
        .run(all.clone(), |r| assert!(rerun.insert(r.id)))
        .unwrap();
    assert_eq!(second.skipped, N / 2 - 1);
    assert_eq!(second.succeeded, N / 2 + 1);
    assert_eq!(rerun.len(), N / 2 + 1);

    let lines = lines(&path);
    assert_eq!(lines.len(), N, "every record exactly once");
    let ids: HashSet<&str> = lines
        .iter()
        .map(|l| l["recordId"].as_str().unwrap())
        .collect();
    let expected: HashSet<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, expected);
    assert!(lines.iter().all(|l| l.get("modelOutput").is_some()));
    let sent = server.request_count() as usize;
    assert!(sent <= N + CONCURRENCY, "{sent} requests for {N} records");
    assert_eq!(sent, N + 1, "only the torn record is sent twice");
}

#[test]
fn a_quota_on_the_converser_applies_to_every_batch_call() {
    use bedrock_converse::client::Quota;
    let server = MockServer::start().unwrap();
    server.set_default(Reply::text("ok").usage(5, 5));
    let converser = server
        .converser_builder()
        .quota(Quota::new().requests_per_minute(6000))
        .build()
        .unwrap();
    let stats = Batch::new(&converser, MODEL)
        .concurrency(8)
        .run(records(12), |_| {})
        .unwrap();
    assert_eq!(stats.succeeded, 12);
    assert_eq!(converser.limiter_stats().unwrap().calls, 12);
}

/// Without a quota on the `Converser`, throttling is not a failure: a run
/// against a server that allows a burst of 10 and then 10 a second sends
/// every record again until it succeeds, learns a rate from the 429s, and
/// paces its calls by it, so few requests are wasted on refusals.
#[test]
fn a_throttled_batch_without_a_quota_learns_a_rate_and_fails_nothing() {
    use bedrock_converse_mock::{QuotaModel, ServerQuota};
    let server = MockServer::start().unwrap();
    server.set_recording(false);
    server.set_quota(
        ServerQuota::new()
            .requests_per_minute(600)
            .model(QuotaModel::Bucket {
                capacity: Duration::from_secs(1),
            }),
    );
    server.set_default(Reply::text("ok"));
    let started = std::time::Instant::now();
    let stats = Batch::new(&converser(&server), MODEL)
        .concurrency(16)
        .run(records(80), |_| {})
        .unwrap();
    let took = started.elapsed();
    assert_eq!((stats.succeeded, stats.failed), (80, 0));
    let throttled = server.throttled_count();
    assert!(throttled > 0, "the server did throttle");
    assert_eq!(stats.throttled as u64, throttled);
    assert!(stats.learned_rpm.is_some_and(|r| r > 0.0), "{stats:?}");
    // 80 records at 10 a second after a burst of 10: 7 s at best.
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(
        throttled < 80,
        "{throttled} throttled requests for 80 records: paced, not hammering"
    );
}

/// A limit the user set still holds: a record throttled for longer than
/// `give_up_after` fails with the throttle, and `max_attempts` counts
/// throttled attempts too.
#[test]
fn throttled_records_fail_only_at_a_limit_the_user_set() {
    let server = MockServer::start().unwrap();
    server.set_default(Reply::throttling());
    let started = std::time::Instant::now();
    let mut results = Vec::new();
    let stats = Batch::new(&converser(&server), MODEL)
        .give_up_after(Duration::from_millis(300))
        .run(records(2), |r| results.push(r))
        .unwrap();
    assert_eq!((stats.succeeded, stats.failed), (0, 2));
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(
        results.iter().all(|r| r.attempts >= 2),
        "sent again meanwhile"
    );
    assert_eq!(results[0].outcome.as_ref().unwrap_err().code, 429);
}

/// A `Batch` prints its settings in its `Debug` output.
#[test]
fn a_batch_debug_shows_its_settings() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    let batch = bedrock_converse::batch::Batch::new(&converser, "amazon.nova-lite-v1:0")
        .concurrency(3)
        .resume(true);
    let shown = format!("{batch:?}");
    assert!(shown.starts_with("Batch {"), "{shown}");
    for part in [
        "model_id: \"amazon.nova-lite-v1:0\"",
        "concurrency: 3",
        "resume: true",
    ] {
        assert!(shown.contains(part), "{part} missing from {shown}");
    }
}
