//! The examples as a user runs them: the built binaries (`cargo test` builds
//! every example beside the test binaries), with no AWS credentials in sight
//! (`env_clear`, a fresh `HOME`, `AWS_EC2_METADATA_DISABLED=true`). Each must
//! say on stderr that it uses the bundled local server and succeed, accept the
//! flags its doc comment and the README list, and refuse an unknown flag with
//! a usage message. The GUI example is a package of its own and is checked by
//! `.ci/run` instead.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::support::examples::{
    command, run, run_ok, scratch, shown, stderr, stdout, BUNDLED, CLIENTS, LOCAL_GIVEN,
    NO_CREDENTIALS,
};
use bedrock_converse::ConverseRequest;
use bedrock_converse_mock::{MockServer, Reply};
use serde_json::json;

/// With no credentials and no flags, each example says on stderr that it
/// uses the bundled local server and succeeds with the local reply. (The
/// extract and batch examples run here with all their flags, in
/// `extract_and_batch_accept_their_flags`, so that their heavier paths run
/// once.)
#[test]
fn without_credentials_each_example_uses_the_bundled_local_server() {
    let out = run_ok("playlist", &[], "", NO_CREDENTIALS);
    assert!(
        stdout(&out).contains("\"Blinding Lights\" - The Weeknd"),
        "{}",
        shown(&out)
    );
    let out = run_ok("chat", &[], "Hello there\n/quit\n", NO_CREDENTIALS);
    assert!(
        stdout(&out).contains("You said: Hello there"),
        "{}",
        shown(&out)
    );
    let out = run_ok("tools", &[], "", NO_CREDENTIALS);
    assert!(
        stdout(&out).contains("= 7006742"),
        "the calculator's answer: {}",
        shown(&out)
    );
    let out = run_ok("worker", &[], "", NO_CREDENTIALS);
    assert!(
        stdout(&out).contains("until the story was told"),
        "{}",
        shown(&out)
    );
}

#[test]
fn playlist_accepts_its_documented_flags() {
    let out = run_ok(
        "playlist",
        &[
            "--model",
            "amazon.nova-lite-v1:0",
            "--region",
            "us-west-2",
            "--no-stream",
            "--local",
        ],
        "",
        LOCAL_GIVEN,
    );
    let text = stdout(&out);
    assert!(
        text.contains("Finished conversation with model amazon.nova-lite-v1:0."),
        "{}",
        shown(&out)
    );
    assert!(
        text.contains("\"Levitating\" - Dua Lipa"),
        "{}",
        shown(&out)
    );
}

#[test]
fn chat_accepts_its_documented_flags() {
    let out = run_ok(
        "chat",
        &[
            "--local",
            "--model",
            "amazon.nova-lite-v1:0",
            "--region",
            "us-west-2",
            "--system",
            "You are a pirate.",
        ],
        "Ahoy\n/reset\n/quit\n",
        LOCAL_GIVEN,
    );
    let text = stdout(&out);
    assert!(
        text.contains("Chatting with amazon.nova-lite-v1:0."),
        "{}",
        shown(&out)
    );
    assert!(text.contains("You said: Ahoy"), "{}", shown(&out));
    assert!(text.contains("(conversation reset)"), "{}", shown(&out));
}

/// The tools example with a question of its own and its flags, against a
/// server of the test's own reached as any AWS client reaches one
/// (credentials, Region and `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` in the
/// environment), which plays a model asking the calculator for the
/// question's arithmetic: the question reaches the model, and the
/// calculator's result reaches the answer.
#[test]
fn tools_accepts_its_documented_flags_and_a_question() {
    let server = MockServer::start().unwrap();
    server.push(Reply::empty().tool_use(
        "t1",
        "calculator",
        json!({"expression": "(17.5 - 2) * 4 / 3"}),
    ));
    server.push(Reply::echo("The answer is "));
    let home = scratch();
    let args = [
        "--model",
        "amazon.nova-lite-v1:0",
        "--region",
        "us-west-2",
        "--",
        "What is (17.5 - 2) * 4 / 3?",
    ];
    let mut cmd = command("tools", &args, &home);
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLES")
        .env("AWS_SECRET_ACCESS_KEY", "examples-secret")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.endpoint());
    let out = run(cmd, "");
    assert!(out.status.success(), "{}", shown(&out));
    assert!(!stderr(&out).contains(BUNDLED), "{}", shown(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Q: What is (17.5 - 2) * 4 / 3?"),
        "{}",
        shown(&out)
    );
    // 15.5 * 4 / 3, computed by the example and echoed back by the "model".
    assert!(text.contains("The answer is 20.66666"), "{}", shown(&out));
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{}", shown(&out));
    assert!(requests
        .iter()
        .all(|r| r.model_id == "amazon.nova-lite-v1:0"));
    assert_eq!(
        requests[0].body["messages"][0]["content"][0]["text"],
        "What is (17.5 - 2) * 4 / 3?"
    );
}

#[test]
fn worker_accepts_its_documented_flags() {
    // The story takes 40 deltas 40 ms apart; cancelled after 0.3 s it keeps
    // what had arrived.
    let out = run_ok(
        "worker",
        &[
            "--local",
            "--model",
            "amazon.nova-lite-v1:0",
            "--region",
            "us-west-2",
            "--cancel-after",
            "0.3",
        ],
        "",
        LOCAL_GIVEN,
    );
    let err = stderr(&out);
    assert!(err.contains("cancelled ("), "{}", shown(&out));
    assert!(
        !stdout(&out).contains("until the story was told"),
        "cancelled before the end: {}",
        shown(&out)
    );
}

/// The two heavier examples, once each, with no credentials (the
/// local-server line) and every documented flag; then the batch again with
/// `--resume`, which sends nothing.
#[test]
fn extract_and_batch_accept_their_flags() {
    let out = run_ok(
        "extract",
        &[
            "--mode",
            "tool",
            "--model",
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "--region",
            "us-west-2",
        ],
        "",
        NO_CREDENTIALS,
    );
    let text = stdout(&out);
    assert!(
        text.contains("title: \"Blinding Lights\""),
        "{}",
        shown(&out)
    );
    assert!(text.contains("artist: \"The Weeknd\""), "{}", shown(&out));
    // The local server's first answer breaks the catchiness bound; the re-ask's is kept.
    assert!(text.contains("catchiness: 10,"), "{}", shown(&out));

    let dir = scratch();
    let output = dir.join("out.jsonl");
    let output = output.to_str().unwrap();
    let args = [
        "--input",
        "examples/batch-input.jsonl",
        "--output",
        output,
        "--model",
        "amazon.nova-lite-v1:0",
        "--region",
        "us-west-2",
        "--concurrency",
        "3",
        "--max-attempts",
        "2",
        "--rpm",
        "6000",
        "--tpm",
        "10000000",
    ];
    let out = run_ok("batch", &args, "", NO_CREDENTIALS);
    assert!(
        stderr(&out).contains(
            "5 records from examples/batch-input.jsonl, model amazon.nova-lite-v1:0, 3 at a time\n"
        ),
        "{}",
        shown(&out)
    );
    let written = std::fs::read_to_string(output).unwrap();
    let mut ids: Vec<String> = written
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v["modelOutput"]["stopReason"].is_string(), "{l}");
            v["recordId"].as_str().unwrap().to_owned()
        })
        .collect();
    ids.sort();
    let expected: Vec<String> = (1..=5).map(|i| format!("CALL000000{i}")).collect();
    assert_eq!(ids, expected);

    let mut resumed = args.to_vec();
    resumed.push("--resume");
    let out = run_ok("batch", &resumed, "", NO_CREDENTIALS);
    assert!(
        stderr(&out).contains("3 at a time, resuming"),
        "{}",
        shown(&out)
    );
    assert!(stderr(&out).contains("5 skipped"), "{}", shown(&out));
    assert_eq!(std::fs::read_to_string(output).unwrap(), written);

    // A budget too small for one call starts nothing and says so; a resume
    // with a larger one does them all, and the summary line has the spend.
    let budgeted = dir.join("budget.jsonl");
    let budgeted = budgeted.to_str().unwrap();
    let base = [
        "--input",
        "examples/batch-input.jsonl",
        "--output",
        budgeted,
    ];
    let out = run_ok(
        "batch",
        &[&base[..], &["--budget-usd", "0"]].concat(),
        "",
        NO_CREDENTIALS,
    );
    assert!(stderr(&out).contains("spend $0.000000"), "{}", shown(&out));
    assert!(
        stderr(&out).contains("budget reached: 5 record(s) not started (CALL0000001, "),
        "{}",
        shown(&out)
    );
    let more = [&base[..], &["--budget-usd", "1", "--resume"]].concat();
    let out = run_ok("batch", &more, "", NO_CREDENTIALS);
    assert!(stderr(&out).contains("5 succeeded"), "{}", shown(&out));
    assert!(!stderr(&out).contains("spend $0.000000"), "{}", shown(&out));
    assert!(!stderr(&out).contains("budget reached"), "{}", shown(&out));
    let bad = [&base[..], &["--budget-usd", "lots"]].concat();
    let out = run(command("batch", &bad, &scratch()), "");
    assert!(!out.status.success(), "{}", shown(&out));
    assert!(
        stderr(&out).contains("--budget-usd takes a number of dollars"),
        "{}",
        shown(&out)
    );
}

/// `--fallback-model` and `--fallback-region` add targets (locally, a
/// Region is a server of its own), each with the `--rpm` quota: at 60 a
/// minute each target takes one call at once, so all three answer, and the
/// line after the summary says so.
#[test]
fn batch_fails_over_with_its_fallback_flags() {
    let dir = scratch();
    let output = dir.join("failover.jsonl");
    let args = [
        "--input",
        "examples/batch-input.jsonl",
        "--output",
        output.to_str().unwrap(),
        "--rpm",
        "60",
        "--fallback-model",
        "amazon.nova-pro-v1:0",
        "--fallback-region",
        "us-west-2",
    ];
    let out = run_ok("batch", &args, "", NO_CREDENTIALS);
    let err = stderr(&out);
    assert!(err.contains("5 succeeded, 0 failed"), "{}", shown(&out));
    let line = err
        .lines()
        .find(|l| l.starts_with("targets: "))
        .unwrap_or_else(|| panic!("no targets line: {}", shown(&out)));
    let targets: Vec<&str> = line["targets: ".len()..].split("; ").collect();
    assert_eq!(targets.len(), 3, "{line}");
    assert!(
        targets[0].starts_with("amazon.nova-lite-v1:0 in us-east-1: "),
        "{line}"
    );
    assert!(
        targets[1].starts_with("amazon.nova-pro-v1:0 in us-east-1: "),
        "{line}"
    );
    assert!(
        targets[2].starts_with("amazon.nova-lite-v1:0 in us-west-2: "),
        "{line}"
    );
    let answered: u64 = targets
        .iter()
        .map(|t| {
            let n = t.split(": ").nth(1).unwrap().split(' ').next().unwrap();
            let n: u64 = n.parse().unwrap();
            assert!(n >= 1, "every target takes one call at once: {line}");
            n
        })
        .sum();
    assert_eq!(answered, 5, "{line}");
}

/// `--aws` uses the AWS configuration although no credentials are visible:
/// no local server, and without a region that is a configuration error.
#[test]
fn aws_skips_the_local_server_and_region_sets_the_region() {
    for name in CLIENTS {
        let home = scratch();
        let args: &[&str] = if name == "batch" {
            &["--aws", "--input", "examples/batch-input.jsonl", "--output"]
        } else {
            &["--aws"]
        };
        let mut cmd = command(name, args, &home);
        if name == "batch" {
            cmd.arg(home.join("out.jsonl"));
        }
        let out = run(cmd, "");
        assert!(!out.status.success(), "{name}: {}", shown(&out));
        assert!(!stderr(&out).contains(BUNDLED), "{name}: {}", shown(&out));
        assert!(
            stderr(&out).contains("no AWS region"),
            "{name}: {}",
            shown(&out)
        );
    }
    // With `--region` that error is gone: the call is made (here to a local
    // server named by the standard endpoint variable) and fails for want of
    // credentials, before anything is sent.
    let server = MockServer::start().unwrap();
    let home = scratch();
    let mut cmd = command("playlist", &["--aws", "--region", "us-west-2"], &home);
    cmd.env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.endpoint());
    let out = run(cmd, "");
    assert!(!out.status.success(), "{}", shown(&out));
    let err = stderr(&out);
    assert!(!err.contains(BUNDLED), "{}", shown(&out));
    assert!(!err.contains("no AWS region"), "{}", shown(&out));
    assert!(err.contains("An error occurred"), "{}", shown(&out));
    assert_eq!(server.request_count(), 0, "unsigned requests were sent");
}

/// `--help` prints a usage naming every documented flag and exits 0; an
/// unknown flag exits with status 2, names the flag and points at
/// `--help`, before anything starts.
#[test]
fn unknown_flags_are_refused_with_a_usage_message() {
    let documented: [(&str, &[&str]); 7] = [
        (
            "playlist",
            &["--model", "--region", "--no-stream", "--local", "--aws"],
        ),
        (
            "chat",
            &["--model", "--region", "--system", "--local", "--aws"],
        ),
        ("tools", &["--model", "--region", "--local", "--aws"]),
        (
            "worker",
            &["--model", "--region", "--local", "--aws", "--cancel-after"],
        ),
        (
            "extract",
            &["--model", "--region", "--mode", "--local", "--aws"],
        ),
        (
            "batch",
            &[
                "--input",
                "--output",
                "--model",
                "--region",
                "--local",
                "--aws",
                "--concurrency",
                "--max-attempts",
                "--rpm",
                "--tpm",
                "--resume",
                "--budget-usd",
                "--fallback-model",
                "--fallback-region",
            ],
        ),
        ("mock_server", &["--deltas", "--text-bytes", "--seconds"]),
    ];
    for (name, flags) in documented {
        let home = scratch();
        let out = run(command(name, &["--help"], &home), "");
        assert_eq!(out.status.code(), Some(0), "{name}: {}", shown(&out));
        let usage = stdout(&out);
        assert!(
            usage.contains(&format!("Usage: {name} ")),
            "{name}: {usage}"
        );
        for flag in flags {
            assert!(usage.contains(flag), "{name}: {flag} missing from {usage}");
        }
    }
    for name in CLIENTS.into_iter().chain(["mock_server"]) {
        let home = scratch();
        let args: &[&str] = match name {
            "mock_server" => &["--no-such-flag"],
            _ => &["--local", "--no-such-flag"],
        };
        let out = run(command(name, args, &home), "");
        assert_eq!(out.status.code(), Some(2), "{name}: {}", shown(&out));
        let err = stderr(&out);
        assert!(
            err.contains("'--no-such-flag'") && err.contains("try '--help'"),
            "{name}: {}",
            shown(&out)
        );
        assert!(!err.contains(BUNDLED), "{name}: {}", shown(&out));
        assert!(out.stdout.is_empty(), "{name}: {}", shown(&out));
    }
}

/// `mock_server --deltas N --text-bytes N --seconds N` serves a reply of
/// that many bytes in that many deltas, then exits.
#[test]
fn mock_server_serves_what_its_flags_say() {
    let home = scratch();
    let mut cmd = command(
        "mock_server",
        &["--deltas", "3", "--text-bytes", "30", "--seconds", "2"],
        &home,
    );
    cmd.stdin(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let endpoint = first.trim();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint:?}");
    let converser = bedrock_converse::Converser::builder()
        .region("us-east-1")
        .endpoint_url(endpoint)
        .credentials("AKIDEXAMPLE", "secret", None)
        .build()
        .unwrap();
    let request = ConverseRequest::new("amazon.nova-lite-v1:0").user("hi");
    let mut deltas = 0;
    let reply = converser
        .converse_with(
            &request,
            &mut bedrock_converse::stream::handler_fn(|e: &bedrock_converse::StreamEvent| {
                deltas += usize::from(e.text().is_some());
            }),
        )
        .unwrap();
    assert_eq!(reply.text().len(), 30);
    assert_eq!(deltas, 3);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
