//! A tool loop end to end: the model is given a calculator tool, asks for it,
//! the calculator here computes, the result goes back, and the model answers.
//!
//! ```text
//! cargo run --example tools                         # real Bedrock if credentials exist, else local
//! cargo run --example tools -- --local              # always the bundled local server
//! cargo run --example tools -- "What is (17.5 - 2) * 4 / 3?"
//! cargo run --example tools -- --model us.anthropic.claude-haiku-4-5-20251001-v1:0
//! ```
//!
//! Offline, the bundled server plays the model from `examples/local/tools.json`:
//! it asks the calculator for the default question's arithmetic (whatever
//! the question), then repeats the tool's result.

mod common;

use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

use bedrock_converse::model::{Tool, ToolResult, ToolUse};
use bedrock_converse::stream::BlockStart;
use bedrock_converse::{Conversation, Delta, StreamHandler};
use clap::Parser;
use serde_json::json;

const DEFAULT_MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

/// A tool loop: the model asks a calculator, this program computes.
#[derive(Parser)]
#[command(name = "tools")]
struct Args {
    /// The model id or inference profile
    #[arg(long, value_name = "ID", default_value = DEFAULT_MODEL)]
    model: String,
    #[command(flatten)]
    target: common::Target,
    /// The question
    #[arg(default_value = "What is 1234 * 5678 + 90?")]
    question: String,
}

fn calculator_tool() -> Tool {
    Tool::new(
        "calculator",
        "Evaluates an arithmetic expression with + - * / and parentheses. Use it for any arithmetic.",
        json!({
            "type": "object",
            "properties": {
                "expression": { "type": "string", "description": "e.g. \"(2 + 3) * 4\"" }
            },
            "required": ["expression"]
        }),
    )
}

/// Runs one tool call: the closure `run_tools` calls for each tool use.
fn run_tool(call: &ToolUse) -> ToolResult {
    let result = match (call.name.as_str(), call.input["expression"].as_str()) {
        ("calculator", Some(expr)) => evaluate(expr).map(|v| format!("{v}")),
        ("calculator", None) => Err("the input has no `expression` string".into()),
        (other, _) => Err(format!("there is no tool named {other:?}")),
    };
    match result {
        Ok(value) => {
            println!("  -> {}({}) = {value}", call.name, call.input);
            call.text_result(value)
        }
        Err(message) => {
            println!("  -> {}({}) failed: {message}", call.name, call.input);
            call.error_result(message)
        }
    }
}

/// Streams the model's text and announces its tool calls.
struct Printer;

impl StreamHandler for Printer {
    fn on_block_start(&mut self, _index: u32, start: &BlockStart) -> ControlFlow<()> {
        if let BlockStart::ToolUse { name, .. } = start {
            println!("\n[the model calls {name}]");
        }
        ControlFlow::Continue(())
    }
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> ControlFlow<()> {
        if let Some(text) = delta.text() {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
        ControlFlow::Continue(())
    }
}

fn main() -> ExitCode {
    env_logger::init();
    let args = Args::parse();
    let backend = args.target.connect_or_exit();

    let mut chat = Conversation::new(&args.model)
        .system("Use the calculator tool for arithmetic; then state the result briefly.")
        .tool(calculator_tool())
        .max_tokens(512)
        .max_tool_rounds(5);
    println!("Q: {}", args.question);
    match chat.run_tools_with(&backend.converser, &args.question, &mut Printer, run_tool) {
        Ok(reply) => {
            println!();
            if let Some(u) = &reply.usage {
                let (i, o) = (u.input_tokens, u.output_tokens);
                println!("[last turn: {i} in, {o} out tokens]");
            }
            let stop = reply.stop_reason.as_ref().map_or("none", |r| r.as_str());
            println!("Done: {} turns, stop reason {stop}.", chat.history().len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nAn error occurred: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Evaluates `+ - * /`, parentheses, unary minus and decimals (spaces are
/// ignored) by recursive descent: a sum of products of factors.
fn evaluate(expression: &str) -> Result<f64, String> {
    let chars: Vec<char> = expression.chars().filter(|c| !c.is_whitespace()).collect();
    let mut pos = 0;
    let value = sum(&chars, &mut pos)?;
    match chars.get(pos) {
        None => Ok(value),
        Some(c) => Err(format!("unexpected {c:?} at position {pos}")),
    }
}

fn sum(chars: &[char], pos: &mut usize) -> Result<f64, String> {
    let mut value = product(chars, pos)?;
    while let Some(&op @ ('+' | '-')) = chars.get(*pos) {
        *pos += 1;
        let rhs = product(chars, pos)?;
        value = if op == '+' { value + rhs } else { value - rhs };
    }
    Ok(value)
}

fn product(chars: &[char], pos: &mut usize) -> Result<f64, String> {
    let mut value = factor(chars, pos)?;
    while let Some(&op @ ('*' | '/')) = chars.get(*pos) {
        *pos += 1;
        let rhs = factor(chars, pos)?;
        if op == '/' && rhs == 0.0 {
            return Err("division by zero".into());
        }
        value = if op == '*' { value * rhs } else { value / rhs };
    }
    Ok(value)
}

fn factor(chars: &[char], pos: &mut usize) -> Result<f64, String> {
    match chars.get(*pos) {
        Some('-') => {
            *pos += 1;
            Ok(-factor(chars, pos)?)
        }
        Some('(') => {
            *pos += 1;
            let value = sum(chars, pos)?;
            if chars.get(*pos) != Some(&')') {
                return Err(format!("expected `)` at position {pos}"));
            }
            *pos += 1;
            Ok(value)
        }
        _ => {
            let start = *pos;
            while chars
                .get(*pos)
                .is_some_and(|c| c.is_ascii_digit() || *c == '.')
            {
                *pos += 1;
            }
            let text: String = chars[start..*pos].iter().collect();
            text.parse()
                .map_err(|_| format!("expected a number at position {start}"))
        }
    }
}
