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

use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

use bedrock_converse::{Conversation, Delta, Response, StreamHandler};
use clap::Parser;

const DEFAULT_MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const DEFAULT_SYSTEM: &str = "You are a helpful, concise assistant.";

/// Prints text (and reasoning, in brackets) as it arrives.
#[derive(Default)]
struct Printer {
    in_reasoning: bool,
}

impl StreamHandler for Printer {
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
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
        ControlFlow::Continue(())
    }
}

/// The turn's tokens, latency and (if not the usual) stop reason.
fn usage_line(r: &Response) -> String {
    let mut parts = Vec::new();
    if let Some(u) = &r.usage {
        let (i, o, t) = (u.input_tokens, u.output_tokens, u.total_tokens);
        parts.push(format!("{i} in, {o} out, {t} total tokens"));
        if let Some(read) = u.cache_read_input_tokens.filter(|n| *n > 0) {
            parts.push(format!("{read} read from cache"));
        }
    }
    parts.extend(r.metrics.as_ref().map(|m| format!("{} ms", m.latency_ms)));
    let unusual = r.stop_reason.as_ref().filter(|s| s.as_str() != "end_turn");
    parts.extend(unusual.map(|s| format!("stopped: {}", s.as_str())));
    format!("[{}]", parts.join(" | "))
}

/// An interactive chat, streamed as it is generated.
#[derive(Parser)]
#[command(name = "chat")]
struct Args {
    /// The model id or inference profile
    #[arg(long, value_name = "ID", default_value = DEFAULT_MODEL)]
    model: String,
    /// The system prompt of every turn
    #[arg(long, value_name = "TEXT", default_value = DEFAULT_SYSTEM)]
    system: String,
    #[command(flatten)]
    target: common::Target,
}

fn main() -> ExitCode {
    env_logger::init();
    let args = Args::parse();
    let backend = args.target.connect_or_exit();

    let mut chat = Conversation::new(&args.model)
        .system(&args.system)
        .max_tokens(1024);
    println!(
        "Chatting with {}. /reset forgets the conversation, /quit leaves.",
        args.model
    );

    let mut lines = std::io::stdin().lines();
    loop {
        print!("\n> ");
        let _ = std::io::stdout().flush();
        let line = match lines.next() {
            Some(Ok(line)) => line,
            None => break,
            Some(Err(e)) => {
                eprintln!("could not read input: {e}");
                return ExitCode::FAILURE;
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
        match chat.send_with(&backend.converser, input, &mut Printer::default()) {
            Ok(reply) => println!("\n{}", usage_line(&reply)),
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
    let plural = if exchanges == 1 { "" } else { "s" };
    println!("\nBye ({exchanges} exchange{plural}).");
    ExitCode::SUCCESS
}
