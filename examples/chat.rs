//! An interactive, multi-turn chat on stdin/stdout, streamed as it is generated.
//!
//! ```text
//! cargo run --example chat                    # real Bedrock if credentials exist, else local
//! cargo run --example chat -- --local         # always the bundled local server
//! cargo run --example chat -- --model amazon.nova-lite-v1:0 --region us-west-2
//! cargo run --example chat -- --system "You are a pirate."
//! ```
//!
//! Type a message and press Enter. `/reset` forgets the conversation, `/quit`
//! (or end of input) leaves. After each reply the token usage and latency of
//! that turn are shown. A failed turn is rolled back, so the conversation
//! carries on as if it had not been sent.
//!
//! Without credentials the bundled local server answers: it echoes what you
//! said, streamed a word at a time, and counts the conversation so far as
//! input tokens, the way a model's usage grows with the history.

#[path = "common/mod.rs"]
mod common;

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use bedrock_converse::{Conversation, Delta, Flow, Response, StreamHandler};
use bedrock_converse_mock::Reply;

const DEFAULT_MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const DEFAULT_SYSTEM: &str = "You are a helpful, concise assistant.";

/// Prints text (and reasoning, dimmed in brackets) as it arrives.
struct Printer {
    in_reasoning: bool,
}

impl StreamHandler for Printer {
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> Flow {
        let mut out = std::io::stdout().lock();
        match delta {
            Delta::ReasoningText(t) => {
                if !self.in_reasoning {
                    let _ = write!(out, "[thinking: ");
                    self.in_reasoning = true;
                }
                let _ = write!(out, "{t}");
            }
            Delta::Text(t) => {
                if self.in_reasoning {
                    let _ = writeln!(out, "]");
                    self.in_reasoning = false;
                }
                let _ = write!(out, "{t}");
            }
            _ => {}
        }
        let _ = out.flush();
        Flow::Continue
    }
}

fn usage_line(r: &Response) -> String {
    let mut parts = Vec::new();
    if let Some(u) = &r.usage {
        parts.push(format!(
            "{} in, {} out, {} total tokens",
            u.input_tokens, u.output_tokens, u.total_tokens
        ));
        if let Some(read) = u.cache_read_input_tokens.filter(|n| *n > 0) {
            parts.push(format!("{read} read from cache"));
        }
    }
    if let Some(m) = &r.metrics {
        parts.push(format!("{} ms", m.latency_ms));
    }
    if let Some(reason) = &r.stop_reason {
        if reason.as_str() != "end_turn" {
            parts.push(format!("stopped: {}", reason.as_str()));
        }
    }
    format!("[{}]", parts.join(" | "))
}

struct Args {
    model: String,
    system: String,
    target: common::Target,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        model: DEFAULT_MODEL.into(),
        system: DEFAULT_SYSTEM.into(),
        target: common::Target::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--model" => args.model = it.next().ok_or("--model needs a value")?,
            "--system" => args.system = it.next().ok_or("--system needs a value")?,
            "-h" | "--help" => {
                return Err(
                    "usage: chat [--model ID] [--region REGION] [--system TEXT] [--local | --aws]"
                        .into(),
                )
            }
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

    // The local server echoes you, word by word.
    let backend = args.target.connect(|server| {
        server.set_default(
            Reply::echo("You said: ")
                .word_deltas()
                .frame_delay(Duration::from_millis(40)),
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

    let mut chat = Conversation::new(&args.model)
        .system(&args.system)
        .max_tokens(1024);
    println!(
        "Chatting with {}. /reset forgets the conversation, /quit leaves.",
        args.model
    );

    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        print!("\n> ");
        let _ = std::io::stdout().flush();
        let line = match lines.next() {
            Some(Ok(line)) => line,
            Some(Err(e)) => {
                eprintln!("could not read input: {e}");
                return ExitCode::FAILURE;
            }
            None => {
                println!();
                break;
            }
        };
        let input = line.trim();
        match input {
            "" => continue,
            "/quit" | "/exit" => break,
            "/reset" => {
                chat.reset();
                println!("(conversation reset)");
                continue;
            }
            cmd if cmd.starts_with('/') => {
                println!("unknown command {cmd}: try /reset or /quit");
                continue;
            }
            _ => {}
        }
        let mut printer = Printer {
            in_reasoning: false,
        };
        match chat.send_with(converser, input, &mut printer) {
            Ok(reply) => {
                println!("\n{}", usage_line(&reply));
            }
            Err(e) => {
                println!();
                eprintln!("error: {e}");
                if e.is_retryable() {
                    eprintln!("(transient: send it again to retry)");
                }
                eprintln!("(that turn was not added to the conversation)");
            }
        }
    }
    let exchanges = chat.history().len() / 2;
    println!(
        "Bye ({exchanges} exchange{}).",
        if exchanges == 1 { "" } else { "s" }
    );
    ExitCode::SUCCESS
}
