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
//! Offline, the bundled local server echoes what you said, streamed a word
//! at a time, and counts the conversation so far as input tokens, the way a
//! model's usage grows with the history.

mod common;

use std::io::{BufRead, Write};
use std::process::ExitCode;

use bedrock_converse::{Conversation, Delta, Flow, Response, StreamHandler};
use clap::Parser;

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

/// An interactive chat, streamed as it is generated.
#[derive(Parser)]
#[command(name = "chat")]
struct Args {
    /// The model id or inference profile
    #[arg(
        long,
        value_name = "ID",
        default_value = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    )]
    model: String,
    /// The system prompt of every turn
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "You are a helpful, concise assistant."
    )]
    system: String,
    #[command(flatten)]
    target: common::Target,
}

fn main() -> ExitCode {
    env_logger::init();
    let args = Args::parse();
    let backend = match args.target.connect() {
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
