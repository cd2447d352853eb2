//! `examples/batch.rs` killed with SIGKILL mid-run, then run again with
//! `--resume`: every record ends up in the output exactly once, and no
//! record whose result had reached the output file is sent again.
//!
//! This runs the real example binary (cargo builds the examples before the
//! integration tests) against a local server of the test's own, reached the
//! way a user reaches any Bedrock-compatible endpoint: static credentials and
//! `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` in the environment, and `--aws`.

use crate::support::TempDir;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bedrock_converse_mock::{MockServer, Reply};
use serde_json::{json, Value};

const RECORDS: usize = 40;

/// `target/debug/examples/<name>`, next to the `deps` folder this test runs from.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().join("examples");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: `cargo test` builds the examples first",
        path.display()
    );
    path
}

fn batch(server: &MockServer, dir: &Path, extra: &[&str]) -> Child {
    let input = dir.join("in.jsonl");
    let output = dir.join("out.jsonl");
    Command::new(example("batch"))
        .args(["--aws", "--region", "us-east-1", "--concurrency", "4"])
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .args(extra)
        .env_clear()
        .env("HOME", dir)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.endpoint())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The record ids of the complete lines of `path` (a torn last line has no
/// newline and is not counted, as the resume does not count it).
fn finished_ids(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    complete
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            value["recordId"].as_str().unwrap().to_string()
        })
        .collect()
}

/// How many times the server was sent each record (its prompt names it).
fn sent_per_record(server: &MockServer) -> HashMap<String, usize> {
    let mut sent = HashMap::new();
    for request in server.requests() {
        let prompt = request.body["messages"][0]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let id = prompt.trim_start_matches("prompt of ").to_string();
        *sent.entry(id).or_insert(0) += 1;
    }
    sent
}

#[test]
#[cfg(unix)]
fn the_batch_example_killed_with_sigkill_resumes_without_loss_or_resend() {
    let server = MockServer::start().unwrap();
    server.set_recording(true);
    // Slow enough that the kill lands mid-run: each reply streams over
    // ~250 ms, four at a time, so 40 records take ~2.5 s.
    server.set_default(
        Reply::echo("reply to: ")
            .word_deltas()
            .frame_delay(Duration::from_millis(40)),
    );
    let dir = TempDir::new("batch-kill");
    let mut input = std::fs::File::create(dir.join("in.jsonl")).unwrap();
    for i in 0..RECORDS {
        let line = json!({
            "recordId": format!("r{i:02}"),
            "modelInput": {"messages": [{"role": "user", "content": [{"text": format!("prompt of r{i:02}")}]}]},
        });
        writeln!(input, "{line}").unwrap();
    }
    drop(input);
    let output = dir.join("out.jsonl");

    // First run: SIGKILL once a quarter of the records are in the output.
    let mut first = batch(&server, &dir, &[]);
    let started = Instant::now();
    while finished_ids(&output).len() < RECORDS / 4 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first run wrote no results in 60 s"
        );
        if let Some(status) = first.try_wait().unwrap() {
            panic!("the first run ended before the kill: {status}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    first.kill().unwrap(); // SIGKILL on Unix: no destructor, no flush runs
    first.wait().unwrap();
    let before_kill: HashSet<String> = finished_ids(&output).into_iter().collect();
    assert!(
        before_kill.len() >= RECORDS / 4 && before_kill.len() < RECORDS,
        "killed mid-run: {} of {RECORDS} finished",
        before_kill.len()
    );

    // Second run: resume to the end.
    let second = batch(&server, &dir, &["--resume"]);
    let out = second.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the resumed run failed:\n{stderr}");
    assert!(
        stderr.contains(&format!("{} skipped", before_kill.len())),
        "the resumed run says it skipped what the first run finished:\n{stderr}"
    );

    // Every record exactly once, each a reply to its own prompt.
    let text = std::fs::read_to_string(&output).unwrap();
    let mut seen = HashSet::new();
    for line in text.lines() {
        let value: Value = serde_json::from_str(line).expect("every line is whole JSON");
        let id = value["recordId"].as_str().unwrap().to_string();
        let reply = value["modelOutput"]["output"]["message"]["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{id} has no reply: {value}"));
        assert_eq!(reply, format!("reply to: prompt of {id}"));
        assert!(seen.insert(id.clone()), "{id} appears twice");
    }
    assert_eq!(seen.len(), RECORDS, "every record is in the output");

    // Nothing that had reached the output before the kill was sent again;
    // only records in flight at the kill may have been sent twice.
    let sent = sent_per_record(&server);
    for id in &before_kill {
        assert_eq!(sent.get(id), Some(&1), "{id} was finished before the kill");
    }
    for i in 0..RECORDS {
        let id = format!("r{i:02}");
        let n = sent.get(&id).copied().unwrap_or(0);
        assert!((1..=2).contains(&n), "{id} was sent {n} times");
    }
}
