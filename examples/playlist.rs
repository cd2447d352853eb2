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

#[path = "common/mod.rs"]
mod common;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use bedrock_converse::model::Role;
use bedrock_converse::stream::{Metadata, Stop};
use bedrock_converse::{ConverseRequest, Delta, Flow, Message, Response, StreamHandler};
use bedrock_converse_mock::Reply;
use serde_json::json;

const DEFAULT_MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
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
    usage: Option<&bedrock_converse::model::Usage>,
    metrics: Option<&bedrock_converse::model::Metrics>,
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
    stream: bool,
    target: common::Target,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        model: DEFAULT_MODEL.into(),
        stream: true,
        target: common::Target::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--model" => args.model = it.next().ok_or("--model needs a value")?,
            "--no-stream" => args.stream = false,
            "-h" | "--help" => return Err(
                "usage: playlist [--model ID] [--region REGION] [--no-stream] [--local | --aws]"
                    .into(),
            ),
            other if args.target.parse_flag(other, &mut it)? => {}
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

    let backend = args.target.connect(|server| {
        server.push(
            Reply::text(
                "Here are 3 pop songs:\n\n1. \"Blinding Lights\" - The Weeknd\n2. \"Shape of You\" - Ed Sheeran\n3. \"Levitating\" - Dua Lipa",
            )
            .deltas(24)
            .frame_delay(Duration::from_millis(25))
            .usage(53, 39)
            .latency_ms(1175),
        );
    });
    let backend = match backend {
        Ok(b) => b,
        Err(e) => {
            eprintln!("An error occurred: {e}");
            return ExitCode::FAILURE;
        }
    };
    let converser = &backend.converser;

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
