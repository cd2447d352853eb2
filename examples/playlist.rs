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
//! Offline, the bundled server answers with `examples/local/playlist.json`.
//! Set `RUST_LOG=debug` to see what the SDK does.

mod common;

use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

use bedrock_converse::model::{Metrics, Role, Usage};
use bedrock_converse::stream::{Metadata, Stop};
use bedrock_converse::{ConverseRequest, Delta, Message, Response, StreamHandler};
use clap::Parser;
use serde_json::json;

const DEFAULT_MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

const SYSTEM_PROMPT: &str = "You are an app that creates playlists for a radio station that plays rock and pop music. Only return song names and the artist.";
const INPUT: &str = "Create a list of 3 pop songs.";

/// A playlist from a system prompt, streamed as it is generated.
#[derive(Parser)]
#[command(name = "playlist")]
struct Args {
    /// The model id or inference profile
    #[arg(long, value_name = "ID", default_value = DEFAULT_MODEL)]
    model: String,
    /// Call the Converse API (the whole reply at once) instead of ConverseStream
    #[arg(long)]
    no_stream: bool,
    #[command(flatten)]
    target: common::Target,
}

/// Prints the stream the way the original example's event loop does.
struct Printer;

impl StreamHandler for Printer {
    fn on_message_start(&mut self, role: &Role) -> ControlFlow<()> {
        println!("\nRole: {}", role.as_str());
        ControlFlow::Continue(())
    }
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
        if let Some(text) = delta.text() {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
        ControlFlow::Continue(())
    }
    fn on_stop(&mut self, stop: &Stop) -> ControlFlow<()> {
        println!("\nStop reason: {}", stop.reason.as_str());
        ControlFlow::Continue(())
    }
    fn on_metadata(&mut self, metadata: &Metadata) -> ControlFlow<()> {
        print_metadata(metadata.usage.as_ref(), metadata.metrics.as_ref());
        ControlFlow::Continue(())
    }
}

fn print_metadata(usage: Option<&Usage>, metrics: Option<&Metrics>) {
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

fn main() -> ExitCode {
    env_logger::init();
    let args = Args::parse();
    let Ok(backend) = args
        .target
        .connect()
        .map_err(|e| eprintln!("An error occurred: {e}"))
    else {
        return ExitCode::FAILURE;
    };

    let request = ConverseRequest::new(&args.model)
        .system(SYSTEM_PROMPT)
        .message(Message::user(INPUT))
        .temperature(0.5)
        .additional_model_request_fields(json!({ "top_k": 200 }));
    let result = if args.no_stream {
        backend.converser.converse(&request).inspect(print_whole)
    } else {
        backend.converser.converse_with(&request, &mut Printer)
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
