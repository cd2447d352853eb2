//! `bedrock-local`: a local Amazon Bedrock Runtime-compatible server for any
//! client (boto3, the AWS CLI, the JavaScript SDK, curl). See `--help`.

use std::io::Write;
use std::process::ExitCode;

use std::time::Duration;

use bedrock_converse_mock::{MockServer, QuotaModel, Replay, Reply, ServerQuota};

const USAGE: &str = r#"bedrock-local: a local Amazon Bedrock Runtime-compatible server

USAGE:
    bedrock-local [--port PORT] [--script FILE] [--echo] [--lenient]
    bedrock-local [--port PORT] --replay FILE
    ... [--rpm N] [--tpm N] [--output-weight W] [--quota-model window|fixed|bucket]
        [--burst-seconds S]

Listens on 127.0.0.1 only, prints its URL (http://127.0.0.1:PORT) as the first
line of standard output, and serves POST /model/{modelId}/converse and
/model/{modelId}/converse-stream until killed. Any credentials are accepted
(signatures are not checked), e.g.

    aws bedrock-runtime converse --endpoint-url URL --region us-east-1 \
        --model-id amazon.nova-lite-v1:0 --messages '[{"role":"user","content":[{"text":"Hi"}]}]'

It says no where Bedrock says no, with the service's status, error type and
message: an unknown model id, a retired model, a profile-only model called on
demand, a request that breaks the service's rules (no messages, a first turn
from the assistant, blank text, tool blocks without toolConfig, temperature
outside 0-1, two user turns to a Claude model, ...), and streaming a model
cannot do. --lenient answers every request instead.

OPTIONS:
    --port PORT      the port to listen on (default 0: any free port)
    --script FILE    serve the replies of a JSON script in order, then the
                     default reply
    --echo           the default reply repeats the last user message
    --lenient        answer every request, even those Bedrock refuses
    --replay FILE    serve a recording's exchanges in order (the format written
                     by bedrock_converse's ConverserBuilder::record_to); a
                     request that does not match gets HTTP 400
    --rpm N          enforce N requests per minute per model: past it, HTTP 429
                     ThrottlingException (counts go to stderr every 5 s)
    --tpm N          enforce N tokens per minute per model (a request counts
                     its input words plus maxTokens times the output weight)
    --output-weight W  tokens of quota one reserved output token burns
                     (default 1; 5 for models with a 5x burndown rate)
    --quota-model M  how the minute is counted: window (any 60 s, the
                     default), fixed (the wall clock's minute) or bucket (a
                     token bucket refilled at the quota; see --burst-seconds)
    --burst-seconds S  a bucket holds S seconds of quota (default 60)
    -h, --help       print this help

Without --script, --echo or --replay every request gets the default reply: a
short fixed text streamed in a few deltas, with usage and metrics.

SCRIPT FORMAT: a JSON array of replies, one per request, e.g.

    [
      {"text": "Hi", "deltas": 3, "usage": [10, 5]},
      {"text": "Let me check.", "tool_use": {"id": "t1", "name": "weather", "input": {"city": "Paris"}}},
      {"reasoning": {"text": "thinking...", "signature": "sig"}, "text": "42"},
      {"error": {"status": 429, "type": "ThrottlingException", "message": "slow down"}},
      {"text": "partial answer", "deltas": 3,
       "fault": {"kind": "exception", "after": 4, "type": "modelStreamErrorException", "message": "boom"}},
      {"text": "slow", "delay_ms": 2000, "frame_delay_ms": 100},
      {"text": "cut off", "deltas": 4, "fault": {"kind": "drop", "after": 2}}
    ]

Members of a reply (all optional):
    text, reasoning {text, signature}, tool_use {id, name, input}
                     content blocks, in the order reasoning, text, tool_use;
                     a tool use sets the stop reason to tool_use
    blocks           [{"text": ...}, {"reasoning": {...}}, {"tool_use": {...}},
                     {"raw": {"converse": ..., "start": ..., "deltas": [...]}}]:
                     blocks in any order (instead of the three above)
    echo             "prefix": repeat the last user message after the prefix
    deltas           stream each block in this many pieces (default 1)
    word_deltas      true: stream text a word at a time
    stop_reason      e.g. "max_tokens" (default "end_turn")
    usage            [input tokens, output tokens]
    cache_tokens     [cache read tokens, cache write tokens]
    latency_ms       the reported latency (default 100)
    additional_model_response_fields, trace
                     wire JSON, copied into the reply
    request_id       the x-amzn-RequestId header
    delay_ms         wait before the response starts (a stall before any byte)
    frame_delay_ms   wait before each stream frame
    fault            {"kind": K, "after": N, ...}: after N stream events
                     (messageStart, each block's start (tool use only), deltas
                     and stop, messageStop, metadata) K happens: "exception"
                     (an exception frame; "type" default
                     modelStreamErrorException, "message"), "stall" (nothing
                     more, connection kept open), "drop" (connection closed),
                     "bad_crc" or "truncated" (a corrupt next frame)
    error            {"status": 429, "type": "ThrottlingException", "message":
                     "..."}: an HTTP error in Bedrock's shape instead of a reply

EXIT STATUS: 2 for a bad command line, 1 when a file cannot be read or the
server cannot start."#;

const DEFAULT_TEXT: &str =
    "Hello from bedrock-local, a local Bedrock-compatible server. This reply is the same for every request.";

#[derive(Debug, Default)]
struct Options {
    port: u16,
    script: Option<String>,
    replay: Option<String>,
    echo: bool,
    /// `--rpm`, `--tpm`, `--output-weight`, `--quota-model`, `--burst-seconds`.
    quota: Option<ServerQuota>,
    lenient: bool,
}

#[derive(Debug)]
enum Parsed {
    Run(Options),
    Help,
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{flag}: `{v}` is not a valid number"))
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut o = Options::default();
    let mut quota = ServerQuota::new();
    let (mut model, mut burst, mut limited) = (None, None::<f64>, false);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--port" => {
                let v = value("--port")?;
                o.port = v
                    .parse()
                    .map_err(|_| format!("--port: `{v}` is not a port number (0-65535)"))?;
            }
            "--script" => o.script = Some(value("--script")?),
            "--replay" => o.replay = Some(value("--replay")?),
            "--echo" if inline.is_none() => o.echo = true,
            "--rpm" => {
                quota = quota.requests_per_minute(number("--rpm", &value("--rpm")?)?);
                limited = true;
            }
            "--tpm" => {
                quota = quota.tokens_per_minute(number("--tpm", &value("--tpm")?)?);
                limited = true;
            }
            "--output-weight" => {
                quota = quota
                    .output_token_weight(number("--output-weight", &value("--output-weight")?)?)
            }
            "--quota-model" => model = Some(value("--quota-model")?),
            "--burst-seconds" => {
                let s: f64 = number("--burst-seconds", &value("--burst-seconds")?)?;
                if !(s.is_finite() && s > 0.0) {
                    return Err(format!("--burst-seconds: `{s}` is not a positive number"));
                }
                burst = Some(s);
            }
            "--lenient" if inline.is_none() => o.lenient = true,
            "--host" => {
                return Err(
                    "--host is not supported: bedrock-local listens on 127.0.0.1 only".into(),
                )
            }
            _ => return Err(format!("unknown argument `{arg}`")),
        }
    }
    if o.replay.is_some() && (o.script.is_some() || o.echo) {
        return Err("--replay cannot go with --script or --echo".into());
    }
    quota = quota.model(match model.as_deref() {
        None | Some("window") => QuotaModel::SlidingWindow,
        Some("fixed") => QuotaModel::FixedMinute,
        Some("bucket") => QuotaModel::Bucket {
            capacity: Duration::from_secs_f64(burst.unwrap_or(60.0)),
        },
        Some(other) => {
            return Err(format!(
                "--quota-model: `{other}` is not one of window, fixed, bucket"
            ))
        }
    });
    if burst.is_some() && !matches!(quota.model, QuotaModel::Bucket { .. }) {
        return Err("--burst-seconds goes with --quota-model bucket".into());
    }
    if !limited && (model.is_some() || quota.output_token_weight != 1) {
        return Err("--quota-model and --output-weight need --rpm or --tpm".into());
    }
    o.quota = limited.then_some(quota);
    Ok(Parsed::Run(o))
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bedrock-local: {e}\nTry `bedrock-local --help`.");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bedrock-local: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(o: Options) -> Result<(), String> {
    let (server, mut what) = if let Some(path) = &o.replay {
        let replay = Replay::from_file(path).map_err(|e| format!("--replay: {e}"))?;
        let n = replay.len();
        let server = MockServer::replay_on_port(replay, o.port)
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", o.port))?;
        (
            server,
            format!("replaying {n} recorded exchange(s) from {path}"),
        )
    } else {
        let script = match &o.script {
            Some(path) => Reply::script_from_file(path).map_err(|e| format!("--script: {e}"))?,
            None => Vec::new(),
        };
        let server = MockServer::start_on_port(o.port)
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", o.port))?;
        let default = if o.echo {
            Reply::echo("").word_deltas()
        } else {
            Reply::text(DEFAULT_TEXT).deltas(4).usage(12, 18)
        };
        server.set_default(default);
        let mut what = String::new();
        if let Some(path) = &o.script {
            what = format!("{} scripted repl(ies) from {path}, then ", script.len());
        }
        what.push_str(if o.echo {
            "an echo of the last user message"
        } else {
            "a fixed text reply"
        });
        for reply in script {
            server.push(reply);
        }
        (server, what)
    };
    // A long-running server keeps no copy of the requests it serves.
    server.set_recording(false);
    if let Some(quota) = o.quota {
        server.set_quota(quota);
        what.push_str(&format!(", under the quota {quota:?}"));
    }
    server.set_lenient(o.lenient);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", server.endpoint())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))?;
    drop(out);
    eprintln!("bedrock-local: serving {what}; stop with Ctrl-C");
    let mut reported = (0, 0);
    loop {
        if o.quota.is_none() {
            std::thread::park();
            continue;
        }
        std::thread::sleep(Duration::from_secs(5));
        let counts = (server.request_count(), server.throttled_count());
        if counts != reported {
            reported = counts;
            eprintln!(
                "bedrock-local: {} requests, {} throttled",
                counts.0, counts.1
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Parsed, String> {
        parse(a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_parse() {
        let Ok(Parsed::Run(o)) = args(&["--port", "0", "--script=s.json", "--echo"]) else {
            panic!()
        };
        assert_eq!(
            (o.port, o.script.as_deref(), o.echo),
            (0, Some("s.json"), true)
        );
        let Ok(Parsed::Run(o)) = args(&["--lenient"]) else {
            panic!()
        };
        assert!(o.lenient && !o.echo);
        let Ok(Parsed::Run(o)) = args(&[]) else {
            panic!()
        };
        assert!(!o.lenient, "strict by default");
        assert!(matches!(args(&["--help"]), Ok(Parsed::Help)));
        assert!(args(&["--port"]).unwrap_err().contains("needs a value"));
        assert!(args(&["--port", "x"]).unwrap_err().contains("not a port"));
        assert!(args(&["--bogus"])
            .unwrap_err()
            .contains("unknown argument `--bogus`"));
        assert!(args(&["--replay", "r", "--echo"]).is_err());
        let Ok(Parsed::Run(o)) = args(&[
            "--rpm",
            "300",
            "--tpm=1000",
            "--quota-model",
            "bucket",
            "--burst-seconds",
            "10",
            "--output-weight",
            "5",
        ]) else {
            panic!()
        };
        let q = o.quota.unwrap();
        assert_eq!(
            (
                q.requests_per_minute,
                q.tokens_per_minute,
                q.output_token_weight
            ),
            (Some(300), Some(1000), 5)
        );
        assert_eq!(
            q.model,
            QuotaModel::Bucket {
                capacity: Duration::from_secs(10)
            }
        );
        let Ok(Parsed::Run(o)) = args(&["--rpm", "5", "--quota-model", "fixed"]) else {
            panic!()
        };
        assert_eq!(o.quota.unwrap().model, QuotaModel::FixedMinute);
        let Ok(Parsed::Run(o)) = args(&["--echo"]) else {
            panic!()
        };
        assert!(o.quota.is_none());
        assert!(args(&["--rpm", "x"])
            .unwrap_err()
            .contains("not a valid number"));
        assert!(args(&["--rpm", "5", "--quota-model", "leaky"])
            .unwrap_err()
            .contains("not one of"));
        assert!(args(&["--rpm", "5", "--burst-seconds", "10"])
            .unwrap_err()
            .contains("goes with --quota-model bucket"));
        assert!(args(&[
            "--rpm",
            "5",
            "--quota-model",
            "bucket",
            "--burst-seconds",
            "-1"
        ])
        .unwrap_err()
        .contains("not a positive number"));
        assert!(args(&["--quota-model", "fixed"])
            .unwrap_err()
            .contains("need --rpm or --tpm"));
        assert!(args(&["--host", "0.0.0.0"])
            .unwrap_err()
            .contains("127.0.0.1 only"));
    }
}
