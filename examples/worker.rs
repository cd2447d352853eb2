//! A UI-style frame loop on the main thread, streaming a reply in the
//! background with `Converser::spawn`: the pattern a GUI app uses, in a
//! terminal. About 60 frames per second; each frame drains the events that
//! arrived, redraws a progress line and checks for the end. Press Enter to
//! cancel, or let `--cancel-after SECS` do it.
//!
//! ```text
//! cargo run --example worker                  # real Bedrock if credentials exist, else local
//! cargo run --example worker -- --local --cancel-after 1
//! ```
//!
//! Offline, the bundled server streams the story in
//! `examples/local/worker.json`, 40 pieces 40 ms apart.

mod common;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bedrock_converse::{ConverseRequest, Error, StreamEvent};
use clap::Parser;

const DEFAULT_MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

const FRAME: Duration = Duration::from_millis(16);
const SPINNER: [char; 4] = ['|', '/', '-', '\\'];

/// A UI-style frame loop streaming a reply in the background.
#[derive(Parser)]
#[command(name = "worker")]
struct Args {
    /// The model id or inference profile
    #[arg(long, value_name = "ID", default_value = DEFAULT_MODEL)]
    model: String,
    #[command(flatten)]
    target: common::Target,
    /// Cancel the call after this many seconds
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = common::seconds)]
    cancel_after: Duration,
}

fn main() -> ExitCode {
    env_logger::init();
    let args = Args::parse();
    let backend = args.target.connect_or_exit();

    // Enter on stdin is the "cancel button". End of input is not a press.
    let (key_tx, key_rx) = crossbeam_channel::bounded::<()>(1);
    std::thread::spawn(move || {
        let mut line = String::new();
        if matches!(std::io::stdin().lock().read_line(&mut line), Ok(n) if n > 0) {
            let _ = key_tx.send(());
        }
    });

    let request = ConverseRequest::new(&args.model)
        .user("Tell me a very short story about a responsive user interface.")
        .max_tokens(300);
    let spawned = backend.converser.spawn(&request);
    let Ok(mut call) = spawned.map_err(|e| eprintln!("could not start the call: {e}")) else {
        return ExitCode::FAILURE;
    };

    let interactive = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut text = String::new();
    let mut events = 0usize;
    let mut frame = 0usize;
    let mut cancel_reason = None;
    let result = loop {
        // 1. Drain what arrived since the last frame; never block.
        for event in call.events().try_iter() {
            events += 1;
            if let StreamEvent::Delta { delta, .. } = &event {
                text.push_str(delta.text().unwrap_or_default());
            }
        }
        // 2. Draw (on a terminal; piped output gets the summary only).
        if interactive {
            let tail: String = {
                let flat = text.replace('\n', " ");
                let chars: Vec<char> = flat.chars().collect();
                chars[chars.len().saturating_sub(40)..].iter().collect()
            };
            eprint!(
                "\r\x1b[K{} frame {frame:4} | {events:3} events | {:4} chars | {:5.1}s | …{tail}",
                SPINNER[frame % SPINNER.len()],
                text.chars().count(),
                started.elapsed().as_secs_f64()
            );
            let _ = std::io::stderr().flush();
        }
        // 3. Input: the cancel button, or the time limit.
        if cancel_reason.is_none() {
            if key_rx.try_recv().is_ok() {
                cancel_reason = Some("Enter pressed");
            } else if started.elapsed() >= args.cancel_after {
                cancel_reason = Some("time limit reached");
            }
            if cancel_reason.is_some() {
                call.cancel();
            }
        }
        // 4. Done?
        if call.try_wait().is_some() {
            break call.wait();
        }
        frame += 1;
        std::thread::sleep(FRAME);
    };
    if interactive {
        eprintln!();
    }
    match result {
        Ok(response) => {
            println!("{}", response.text());
            if let Some(u) = response.usage {
                eprintln!(
                    "done in {:.1}s over {frame} frames: {} input + {} output tokens",
                    started.elapsed().as_secs_f64(),
                    u.input_tokens,
                    u.output_tokens
                );
            }
            ExitCode::SUCCESS
        }
        Err(Error::Cancelled { partial }) => {
            let kept = partial.map(|p| p.text()).unwrap_or_default();
            println!("{kept}");
            eprintln!(
                "cancelled ({}) after {:.1}s; kept the {} chars that had arrived",
                cancel_reason.unwrap_or("cancelled"),
                started.elapsed().as_secs_f64(),
                kept.chars().count()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("the call failed: {e}");
            ExitCode::FAILURE
        }
    }
}
