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

#[path = "common/mod.rs"]
mod common;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bedrock_converse::{ConverseRequest, Error, StreamEvent};
use bedrock_converse_mock::Reply;

const FRAME: Duration = Duration::from_millis(16);
const SPINNER: [char; 4] = ['|', '/', '-', '\\'];

struct Args {
    model: String,
    target: common::Target,
    cancel_after: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        model: "us.anthropic.claude-haiku-4-5-20251001-v1:0".into(),
        target: common::Target::default(),
        cancel_after: Duration::from_secs(60),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--model" => a.model = it.next().ok_or("--model needs a value")?,
            "--cancel-after" => {
                let secs: f64 = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--cancel-after needs a number of seconds")?;
                a.cancel_after = Duration::from_secs_f64(secs);
            }
            other if a.target.parse_flag(other, &mut it)? => {}
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: worker [--model ID] [--region REGION] [--local | --aws] [--cancel-after SECS]"
                ))
            }
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    env_logger::init();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let backend = args.target.connect(|server| {
        let story = "Once upon a time, a small program wanted to talk to a large language model \
                     without freezing its user interface. It handed the call to a worker, kept \
                     drawing frames, and read the reply as it arrived, word by word, until the \
                     story was told.";
        server.push(
            Reply::text(story)
                .deltas(40)
                .frame_delay(Duration::from_millis(40)),
        );
    });
    let backend = match backend {
        Ok(b) => b,
        Err(e) => {
            eprintln!("could not set up: {e}");
            return ExitCode::FAILURE;
        }
    };
    let converser = &backend.converser;

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
    let mut call = match converser.spawn(&request) {
        Ok(call) => call,
        Err(e) => {
            eprintln!("could not start the call: {e}");
            return ExitCode::FAILURE;
        }
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
