//! The `bedrock-local` binary, run as a process and driven by the real client
//! over HTTP: each mode, and bad command lines.

use std::io::{BufRead, BufReader};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use bedrock_converse::error::ServiceErrorKind;
use bedrock_converse::model::StopReason;
use bedrock_converse::{ConverseRequest, Converser, Delta, StreamHandler};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_bedrock-local");
const DEFAULT_TEXT: &str =
    "Hello from bedrock-local, a local Bedrock-compatible server. This reply is the same for every request.";

/// A running `bedrock-local`, killed when dropped.
struct Local {
    child: Child,
    url: String,
}

impl Local {
    fn start(args: &[&str]) -> Local {
        let mut child = Command::new(BIN)
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .spawn()
            .expect("bedrock-local starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read the first line");
        let url = line.trim_end().to_owned();
        let port = url.strip_prefix("http://127.0.0.1:").unwrap_or_else(|| {
            let _ = child.kill();
            panic!("the first line is not the URL: {line:?}")
        });
        assert!(port.parse::<u16>().is_ok_and(|p| p != 0), "{url}");
        Local { child, url }
    }

    fn converser(&self) -> Converser {
        Converser::builder()
            .endpoint_url(&self.url)
            .region("us-east-1")
            .credentials("AKIDTEST", "secret", None)
            .max_attempts(1)
            .idle_timeout(Duration::from_secs(2))
            .build()
            .unwrap()
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Default)]
struct Deltas(Vec<String>);

impl StreamHandler for Deltas {
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
        if let Some(text) = delta.text() {
            self.0.push(text.to_owned());
        }
        ControlFlow::Continue(())
    }
}

fn request(model: &str, text: &str) -> ConverseRequest {
    ConverseRequest::new(model).user(text)
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("bedrock-local runs")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("bedrock-local-test-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn default_mode_answers_known_models_whole_and_streamed() {
    let local = Local::start(&[]);
    let converser = local.converser();
    for model in [
        "amazon.nova-lite-v1:0",
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    ] {
        let whole = converser.converse(&request(model, "Hi")).unwrap();
        assert_eq!(whole.text(), DEFAULT_TEXT);
        assert_eq!(whole.stop_reason, Some(StopReason::EndTurn));
        let usage = whole.usage.unwrap();
        assert_eq!((usage.input_tokens, usage.output_tokens), (12, 18));
        assert!(whole.metrics.is_some());

        let mut deltas = Deltas::default();
        let streamed = converser
            .converse_with(&request(model, "Hi"), &mut deltas)
            .unwrap();
        assert_eq!(deltas.0.len(), 4, "{:?}", deltas.0);
        assert_eq!(deltas.0.concat(), DEFAULT_TEXT);
        assert_eq!(streamed.text(), DEFAULT_TEXT);
        assert_eq!(streamed.usage, whole.usage);
        assert!(streamed.metrics.is_some());
    }
}

#[test]
fn strict_by_default_and_lenient_on_request() {
    let strict = Local::start(&[]);
    let unknown = request("anything/at all:9", "Hi");
    let err = strict.converser().converse(&unknown).unwrap_err();
    let service = err.as_service().expect("a service error");
    assert_eq!(
        (
            service.status,
            service.code.as_str(),
            service.message.as_str()
        ),
        (
            Some(400),
            "ValidationException",
            "The provided model identifier is invalid."
        )
    );
    let lenient = Local::start(&["--lenient"]);
    let reply = lenient.converser().converse(&unknown).unwrap();
    assert_eq!(reply.text(), DEFAULT_TEXT);
}

#[test]
fn script_mode_serves_the_example_script_in_order_then_the_default() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/script.json");
    let local = Local::start(&["--script", script.to_str().unwrap()]);
    let converser = local.converser();
    let model = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
    let ask = || request(model, "Hi");

    // 0: text in deltas, with usage and latency.
    let mut deltas = Deltas::default();
    let reply = converser.converse_with(&ask(), &mut deltas).unwrap();
    assert_eq!(deltas.0.len(), 3);
    assert_eq!(reply.text(), "Hello from the script.");
    let usage = reply.usage.unwrap();
    assert_eq!((usage.input_tokens, usage.output_tokens), (10, 5));
    assert_eq!(reply.metrics.unwrap().latency_ms, 42);

    // 1: a tool use.
    let reply = converser.converse(&ask()).unwrap();
    assert_eq!(reply.stop_reason, Some(StopReason::ToolUse));
    let tools = reply.tool_uses();
    assert_eq!(tools.len(), 1);
    assert_eq!(
        (tools[0].id.as_str(), tools[0].name.as_str()),
        ("tool-1", "weather")
    );
    assert_eq!(tools[0].input, json!({"city": "Paris", "days": 3}));

    // 2: reasoning, then text.
    let reply = converser
        .converse_with(&ask(), &mut Deltas::default())
        .unwrap();
    assert_eq!(reply.text(), "42");
    assert_eq!(reply.content().len(), 2);

    // 3: an exception part-way through the stream keeps what had arrived.
    let err = converser
        .converse_with(&ask(), &mut Deltas::default())
        .unwrap_err();
    assert_eq!(
        err.service_kind(),
        Some(ServiceErrorKind::ModelStreamError),
        "{err:?}"
    );
    assert!(err.to_string().contains("the model stream broke"), "{err}");
    assert_eq!(err.partial_response().unwrap().text(), "partial answer");

    // 4: HTTP 429 before any stream.
    let err = converser.converse(&ask()).unwrap_err();
    assert!(err.is_throttling(), "{err:?}");
    assert!(err.to_string().contains("slow down"), "{err}");

    // 5: a slow start.
    let started = Instant::now();
    let reply = converser
        .converse_with(&ask(), &mut Deltas::default())
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(reply.text(), "slow to start, then slow to stream");

    // 6: a dropped connection.
    let err = converser
        .converse_with(&ask(), &mut Deltas::default())
        .unwrap_err();
    assert!(!err.is_throttling(), "{err:?}");

    // 7: a stall, caught by the client's idle timeout.
    let err = converser
        .converse_with(&ask(), &mut Deltas::default())
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");

    // 8: explicit blocks, stop reason and request id.
    let reply = converser.converse(&ask()).unwrap();
    assert_eq!(reply.text(), "First block.Second block.");
    assert_eq!(reply.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(reply.request_id.as_deref(), Some("req-scripted"));

    // 9: a JSON reply, as text, with cache writes by TTL.
    let songs = json!({"songs": [{"title": "Levitating", "artist": "Dua Lipa"}]});
    let reply = converser.converse(&ask()).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&reply.text()).unwrap(),
        songs
    );
    let details = reply.usage.unwrap().cache_details.unwrap();
    assert_eq!((details.five_minutes, details.one_hour), (0, 64));

    // 10: the same JSON answers a forced tool with a call of that tool.
    let schema = json!({"type": "object", "properties": {"songs": {"type": "array"}}});
    let forced = ask()
        .tool(bedrock_converse::model::Tool::new(
            "respond", "Answer.", schema,
        ))
        .tool_choice(bedrock_converse::model::ToolChoice::tool("respond"));
    let reply = converser
        .converse_with(&forced, &mut Deltas::default())
        .unwrap();
    assert_eq!(reply.stop_reason, Some(StopReason::ToolUse));
    let calls = reply.tool_uses();
    assert_eq!(
        (calls[0].name.as_str(), &calls[0].input),
        ("respond", &songs)
    );

    // Then the default reply, for as long as it runs.
    for _ in 0..2 {
        assert_eq!(converser.converse(&ask()).unwrap().text(), DEFAULT_TEXT);
    }
}

#[test]
fn echo_mode_repeats_the_last_user_message() {
    let local = Local::start(&["--echo"]);
    let converser = local.converser();
    let mut deltas = Deltas::default();
    let reply = converser
        .converse_with(
            &request("amazon.nova-lite-v1:0", "one two three"),
            &mut deltas,
        )
        .unwrap();
    assert_eq!(reply.text(), "one two three");
    assert_eq!(deltas.0, ["one ", "two ", "three"]);
    assert_eq!(
        converser
            .converse(&request("amazon.nova-lite-v1:0", "again"))
            .unwrap()
            .text(),
        "again"
    );
}

#[test]
fn replay_mode_serves_a_recording() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "Hello!"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3},
        "metrics": {"latencyMs": 5}
    });
    let recording = json!({"interactions": [{
        "request": {"method": "POST", "path": "/model/amazon.nova-lite-v1%3A0/converse",
                    "body": {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}},
        "response": {"status": 200,
                     "headers": {"content-type": "application/json", "x-amzn-requestid": "r-1"},
                     "body": body.to_string()}
    }]});
    let path = temp_file("replay.json", &recording.to_string());
    let local = Local::start(&["--replay", path.to_str().unwrap()]);
    let converser = local.converser();
    let reply = converser
        .converse(&request("amazon.nova-lite-v1:0", "Hi"))
        .unwrap();
    assert_eq!(reply.text(), "Hello!");
    assert_eq!(reply.request_id.as_deref(), Some("r-1"));
    let err = converser
        .converse(&request("amazon.nova-lite-v1:0", "Hi"))
        .unwrap_err();
    assert!(
        err.to_string().contains("no recorded interaction left"),
        "{err}"
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn bad_command_lines_exit_2_with_a_message() {
    for args in [
        &["--bogus"][..],
        &["--port"],
        &["--port", "http"],
        &["--host", "0.0.0.0"],
        &["--replay", "a.json", "--echo"],
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("bedrock-local: "), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let stderr = String::from_utf8_lossy(&run(&["--bogus"]).stderr).into_owned();
    assert!(stderr.contains("unknown argument `--bogus`"), "{stderr}");
}

#[test]
fn help_documents_the_script_format() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--port",
        "--script",
        "--replay",
        "--echo",
        "SCRIPT FORMAT",
        "fault",
    ] {
        assert!(stdout.contains(needle), "{needle} missing from --help");
    }
}

#[test]
fn a_bad_script_exits_1_naming_the_entry() {
    let path = temp_file("bad-script.json", r#"[{"text": "ok"}, {"txt": "typo"}]"#);
    let out = run(&["--port", "0", "--script", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("reply 1: unknown member `txt`"), "{stderr}");
    assert!(out.stdout.is_empty());
    let _ = std::fs::remove_file(path);
}
