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
//! stops after `--seconds` (default 3600) or on Ctrl-C.

use std::time::Duration;

use bedrock_converse_mock::{MockServer, Reply};

fn usage() -> ! {
    eprintln!("usage: mock_server [--deltas N] [--text-bytes N] [--seconds N]");
    std::process::exit(2);
}

fn main() {
    let mut deltas = 4usize;
    let mut text_bytes: Option<usize> = None;
    let mut seconds = 3600u64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage())
        };
        match flag.as_str() {
            "--deltas" => deltas = value() as usize,
            "--text-bytes" => text_bytes = Some(value() as usize),
            "--seconds" => seconds = value(),
            _ => usage(),
        }
    }
    let text = match text_bytes {
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
            std::process::exit(1);
        }
    };
    server.set_recording(false);
    server.set_default(Reply::text(text).deltas(deltas).usage(25, deltas as u32));
    println!("{}", server.endpoint());
    eprintln!("serving {deltas} deltas per reply for {seconds} s (Ctrl-C stops)");
    std::thread::sleep(Duration::from_secs(seconds));
}
