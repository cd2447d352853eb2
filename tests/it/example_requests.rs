//! What the examples' flags change in what is sent. Each example runs with
//! `--aws` against a local server of the test's own, reached as a user
//! points any AWS client at a Bedrock-compatible endpoint (static
//! credentials and `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` in the environment);
//! the test then reads the requests that server received.

use std::process::Output;

use bedrock_converse_mock::{MockServer, Operation, RecordedRequest};

use crate::support::examples::{command, run, scratch, shown, CLIENTS};

/// Runs example `name` with `--aws` and `args` against `server`.
fn against(server: &MockServer, name: &str, args: &[&str], input: &str) -> Output {
    let home = scratch();
    let mut all = vec!["--aws"];
    all.extend_from_slice(args);
    let output = home.join("out.jsonl");
    if name == "batch" {
        all.extend(["--input", "examples/batch-input.jsonl", "--output"]);
        all.push(output.to_str().unwrap());
    }
    let mut cmd = command(name, &all, &home);
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLES")
        .env("AWS_SECRET_ACCESS_KEY", "examples-secret")
        .env("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.endpoint());
    run(cmd, input)
}

/// The region a request was signed for: the third part of its SigV4
/// credential scope (`Credential=AKID/DATE/REGION/bedrock/aws4_request`).
fn signed_region(request: &RecordedRequest) -> String {
    let auth = request.header("authorization").expect("a signed request");
    let scope = auth
        .split("Credential=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or_else(|| panic!("no credential scope in {auth}"));
    let parts: Vec<&str> = scope.split('/').collect();
    assert_eq!(parts.get(3), Some(&"bedrock"), "{scope}");
    parts[2].to_owned()
}

/// `--region` is the region every request is signed for, in each example
/// (without it, `--aws` finds no region at all and fails: see
/// `examples::aws_skips_the_local_server_and_region_sets_the_region`).
#[test]
fn region_is_the_region_every_request_is_signed_for() {
    for name in CLIENTS {
        let server = MockServer::start().unwrap();
        // The chat reads turns from stdin; the worker takes a line there
        // as the user cancelling.
        let input = if name == "chat" { "Ahoy\n/quit\n" } else { "" };
        let out = against(&server, name, &["--region", "eu-west-3"], input);
        let requests = server.requests();
        assert!(!requests.is_empty(), "{name} sent nothing: {}", shown(&out));
        for r in &requests {
            assert_eq!(signed_region(r), "eu-west-3", "{name}: {}", shown(&out));
        }
    }
}

/// `--no-stream` makes the playlist example call Converse instead of
/// ConverseStream.
#[test]
fn no_stream_calls_converse_instead_of_converse_stream() {
    let operations = |args: &[&str]| {
        let server = MockServer::start().unwrap();
        let out = against(&server, "playlist", args, "");
        let ops: Vec<Option<Operation>> = server.requests().iter().map(|r| r.operation).collect();
        assert!(!ops.is_empty(), "{}", shown(&out));
        ops
    };
    let streamed = operations(&["--region", "us-west-2"]);
    assert!(
        streamed
            .iter()
            .all(|o| *o == Some(Operation::ConverseStream)),
        "{streamed:?}"
    );
    let whole = operations(&["--region", "us-west-2", "--no-stream"]);
    assert!(
        whole.iter().all(|o| *o == Some(Operation::Converse)),
        "{whole:?}"
    );
}

/// `--system` is the system prompt of every turn the chat example sends, in
/// place of its default one.
#[test]
fn system_is_sent_as_the_system_prompt_of_every_chat_turn() {
    let systems = |args: &[&str]| {
        let server = MockServer::start().unwrap();
        let out = against(&server, "chat", args, "Ahoy\nAnd again\n/quit\n");
        let requests = server.requests();
        assert_eq!(requests.len(), 2, "{}", shown(&out));
        requests
            .iter()
            .map(|r| r.body.get("system").cloned())
            .collect::<Vec<_>>()
    };
    let pirate = serde_json::json!([{"text": "You are a pirate."}]);
    assert_eq!(
        systems(&["--region", "us-west-2", "--system", "You are a pirate."]),
        [Some(pirate.clone()), Some(pirate.clone())]
    );
    let default = systems(&["--region", "us-west-2"]);
    assert!(default[0].is_some(), "the chat has a default system prompt");
    assert_eq!(default[0], default[1]);
    assert_ne!(default[0], Some(pirate));
}
