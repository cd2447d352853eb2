//! The Python wrapper's own example, in Rust: a playlist from a system prompt,
//! streamed as it is generated.
//!
//! ```text
//! cargo run --example playlist                 # real Bedrock if credentials exist, else local
//! cargo run --example playlist -- --local      # always the bundled local server
//! cargo run --example playlist -- --no-stream  # the Converse API instead of ConverseStream
//! cargo run --example playlist -- --model amazon.nova-lite-v1:0 --region us-west-2
//! ```
//!
//! `--aws` uses the AWS configuration even when no credentials are visible in
//! the environment or profile files (for instance on EC2 with an instance role).
//! Set `RUST_LOG=debug` to see what the SDK does.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use bedrock_converse::mock::{MockServer, Reply};
use bedrock_converse::{
    ConverseRequest, Converser, Delta, Flow, Message, Metadata, Response, Role, Stop, StreamHandler,
};
use serde_json::json;

const DEFAULT_MODEL: &str = "anthropic.claude-3-sonnet-20240229-v1:0";
const SYSTEM_PROMPT: &str = "You are an app that creates playlists for a radio station that plays rock and pop music. Only return song names and the artist.";
const INPUT: &str = "Create a list of 3 pop songs.";

/// Prints the stream the way the original example's event loop does.
struct Printer;

impl StreamHandler for Printer {
    fn on_message_start(&mut self, role: &Role) -> Flow {
        println!("\nRole: {}", role.as_str());
        Flow::Continue
    }
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> Flow {
        if let Some(text) = delta.text() {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
        Flow::Continue
    }
    fn on_stop(&mut self, stop: &Stop) -> Flow {
        println!("\nStop reason: {}", stop.reason.as_str());
        Flow::Continue
    }
    fn on_metadata(&mut self, metadata: &Metadata) -> Flow {
        print_metadata(metadata.usage.as_ref(), metadata.metrics.as_ref());
        Flow::Continue
    }
}

fn print_metadata(
    usage: Option<&bedrock_converse::Usage>,
    metrics: Option<&bedrock_converse::Metrics>,
) {
    if let Some(u) = usage {
        println!("\nToken usage");
        println!("Input tokens: {}", u.input_tokens);
        println!("Output tokens: {}", u.output_tokens);
        println!("Total tokens: {}", u.total_tokens);
    }
    if let Some(m) = metrics {
        println!("Latency: {} milliseconds", m.latency_ms);
    }
}

fn print_whole(r: &Response) {
    println!("\nRole: {}", r.message.role.as_str());
    println!("{}", r.text());
    if let Some(reason) = &r.stop_reason {
        println!("\nStop reason: {}", reason.as_str());
    }
    print_metadata(r.usage.as_ref(), r.metrics.as_ref());
}

struct Args {
    model: String,
    region: Option<String>,
    stream: bool,
    local: bool,
    aws: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        model: DEFAULT_MODEL.into(),
        region: None,
        stream: true,
        local: false,
        aws: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--model" => args.model = it.next().ok_or("--model needs a value")?,
            "--region" => args.region = Some(it.next().ok_or("--region needs a value")?),
            "--no-stream" => args.stream = false,
            "--local" => args.local = true,
            "--aws" => args.aws = true,
            "-h" | "--help" => return Err(
                "usage: playlist [--model ID] [--region REGION] [--no-stream] [--local | --aws]"
                    .into(),
            ),
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    env_logger::init();
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };

    // Without credentials (decided from the environment and profile files,
    // never by probing the network), run against the bundled local server.
    let use_local = args.local || (!args.aws && !bedrock_converse::credentials_configured());
    let mut _server = None;
    let converser = if use_local {
        let server = match MockServer::start() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("could not start the local server: {e}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!(
            "{}; using the bundled local Bedrock-compatible server at {}",
            if args.local {
                "--local given"
            } else {
                "no AWS credentials found"
            },
            server.endpoint()
        );
        server.push(
            Reply::text(
                "Here are 3 pop songs:\n\n1. \"Blinding Lights\" - The Weeknd\n2. \"Shape of You\" - Ed Sheeran\n3. \"Levitating\" - Dua Lipa",
            )
            .deltas(24)
            .frame_delay(Duration::from_millis(25))
            .usage(53, 39)
            .latency_ms(1175),
        );
        let c = server.converser();
        _server = Some(server);
        c
    } else {
        let mut b = Converser::builder();
        if let Some(region) = &args.region {
            b = b.region(region.clone());
        }
        b.build()
    };
    let converser = match converser {
        Ok(c) => c,
        Err(e) => {
            eprintln!("An error occurred: {e}");
            return ExitCode::FAILURE;
        }
    };

    let request = ConverseRequest::new(&args.model)
        .system(SYSTEM_PROMPT)
        .message(Message::user(INPUT))
        .temperature(0.5)
        .additional_model_request_fields(json!({ "top_k": 200 }));

    let result = if args.stream {
        converser.converse_with(&request, &mut Printer)
    } else {
        converser.converse(&request).inspect(print_whole)
    };
    match result {
        Ok(_) => {
            println!("Finished conversation with model {}.", args.model);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("An error occurred: {e}");
            if e.is_retryable() {
                eprintln!("(this error is transient: retrying later may succeed)");
            }
            ExitCode::FAILURE
        }
    }
}
