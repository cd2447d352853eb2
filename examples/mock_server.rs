//! Runs the bundled local Bedrock-compatible server on 127.0.0.1 and prints
//! its endpoint, for clients outside this process (the Python baseline of
//! `cargo bench`, curl, another SDK).
//!
//! ```text
//! cargo run --release --example mock_server -- [--deltas N] [--text-bytes N] [--seconds N]
//! ```
//!
//! Every request gets the same reply: `--text-bytes` bytes of text (default:
//! a short sentence) streamed in `--deltas` deltas (default 4). The server
//! stops after `--seconds` (default 3600) or on Ctrl-C. (`bedrock-local`,
//! the mock package's binary, is the full-featured server.)

use std::process::ExitCode;
use std::time::Duration;

use bedrock_converse_mock::{MockServer, Reply};
use clap::Parser;

/// The bundled local server, answering every request with the same reply.
#[derive(Parser)]
#[command(name = "mock_server")]
struct Args {
    /// Stream each reply in this many deltas
    #[arg(long, value_name = "N", default_value_t = 4)]
    deltas: u32,
    /// Reply with this many bytes of text instead of a short sentence
    #[arg(long, value_name = "N")]
    text_bytes: Option<usize>,
    /// Stop after this many seconds
    #[arg(long, value_name = "N", default_value_t = 3600)]
    seconds: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let text = match args.text_bytes {
        Some(n) => {
            "the quick brown fox jumps over the lazy dog while a band plays rock and pop all night "
                .chars()
                .cycle()
                .take(n)
                .collect()
        }
        None => "1. Shake It Off - Taylor Swift".to_owned(),
    };
    let server = match MockServer::start() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("could not start the server: {e}");
            return ExitCode::FAILURE;
        }
    };
    server.set_recording(false);
    let deltas = args.deltas;
    server.set_default(Reply::text(text).deltas(deltas as usize).usage(25, deltas));
    println!("{}", server.endpoint());
    eprintln!(
        "serving {deltas} deltas per reply for {} s (Ctrl-C stops)",
        args.seconds
    );
    std::thread::sleep(Duration::from_secs(args.seconds));
    ExitCode::SUCCESS
}
