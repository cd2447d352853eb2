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
//! On the local server the model's side is scripted: a first reply asking for
//! the calculator, then a reply built from the tool result it receives, so
//! the answer shown is the number this program computed.

#[path = "common/mod.rs"]
mod common;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use bedrock_converse::model::{Tool, ToolResult, ToolUse};
use bedrock_converse::stream::BlockStart;
use bedrock_converse::{Conversation, Delta, Flow, Response, StreamHandler};
use bedrock_converse_mock::Reply;
use serde_json::json;

const DEFAULT_MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const DEFAULT_QUESTION: &str = "What is 1234 * 5678 + 90?";

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

/// Evaluates `+ - * /`, parentheses, unary minus and decimals.
fn evaluate(expression: &str) -> Result<f64, String> {
    struct Parser<'a> {
        s: &'a [u8],
        pos: usize,
    }
    impl Parser<'_> {
        fn peek(&mut self) -> Option<u8> {
            while self
                .s
                .get(self.pos)
                .is_some_and(|c| c.is_ascii_whitespace())
            {
                self.pos += 1;
            }
            self.s.get(self.pos).copied()
        }
        fn expr(&mut self) -> Result<f64, String> {
            let mut v = self.term()?;
            while let Some(op @ (b'+' | b'-')) = self.peek() {
                self.pos += 1;
                let rhs = self.term()?;
                v = if op == b'+' { v + rhs } else { v - rhs };
            }
            Ok(v)
        }
        fn term(&mut self) -> Result<f64, String> {
            let mut v = self.factor()?;
            while let Some(op @ (b'*' | b'/')) = self.peek() {
                self.pos += 1;
                let rhs = self.factor()?;
                if op == b'/' && rhs == 0.0 {
                    return Err("division by zero".into());
                }
                v = if op == b'*' { v * rhs } else { v / rhs };
            }
            Ok(v)
        }
        fn factor(&mut self) -> Result<f64, String> {
            match self.peek() {
                Some(b'-') => {
                    self.pos += 1;
                    Ok(-self.factor()?)
                }
                Some(b'(') => {
                    self.pos += 1;
                    let v = self.expr()?;
                    if self.peek() != Some(b')') {
                        return Err(format!("expected `)` at position {}", self.pos));
                    }
                    self.pos += 1;
                    Ok(v)
                }
                Some(c) if c.is_ascii_digit() || c == b'.' => {
                    let start = self.pos;
                    while self
                        .s
                        .get(self.pos)
                        .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
                    {
                        self.pos += 1;
                    }
                    let text = std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("");
                    text.parse()
                        .map_err(|_| format!("bad number {text:?} at position {start}"))
                }
                Some(c) => Err(format!(
                    "unexpected {:?} at position {}",
                    c as char, self.pos
                )),
                None => Err("unexpected end of expression".into()),
            }
        }
    }
    let mut p = Parser {
        s: expression.as_bytes(),
        pos: 0,
    };
    let v = p.expr()?;
    match p.peek() {
        None => Ok(v),
        Some(c) => Err(format!("unexpected {:?} at position {}", c as char, p.pos)),
    }
}

/// Runs one tool call: the closure `run_tools` calls for each tool use.
fn run_tool(call: &ToolUse) -> ToolResult {
    let result = match call.name.as_str() {
        "calculator" => match call.input["expression"].as_str() {
            Some(expr) => evaluate(expr).map(|v| {
                // Whole numbers without a trailing ".0".
                if v.fract() == 0.0 && v.abs() < 1e15 {
                    format!("{}", v as i64)
                } else {
                    format!("{v}")
                }
            }),
            None => Err("the input has no `expression` string".into()),
        },
        other => Err(format!("there is no tool named {other:?}")),
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
    fn on_block_start(&mut self, _index: u32, start: &BlockStart) -> Flow {
        if let BlockStart::ToolUse { name, .. } = start {
            println!("\n[the model calls {name}]");
        }
        Flow::Continue
    }
    fn on_delta(&mut self, _index: u32, delta: &Delta) -> Flow {
        if let Some(text) = delta.text() {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
        Flow::Continue
    }
}

struct Args {
    model: String,
    question: String,
    target: common::Target,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        model: DEFAULT_MODEL.into(),
        question: DEFAULT_QUESTION.into(),
        target: common::Target::default(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--model" => args.model = it.next().ok_or("--model needs a value")?,
            "--" => {}
            "-h" | "--help" => {
                return Err(
                    "usage: tools [--model ID] [--region REGION] [--local | --aws] [QUESTION]"
                        .into(),
                )
            }
            other if args.target.parse_flag(other, &mut it)? => {}
            other if other.starts_with("--") => {
                return Err(format!("unknown argument {other:?} (try --help)"))
            }
            question => args.question = question.into(),
        }
    }
    Ok(args)
}

fn print_usage(r: &Response) {
    if let Some(u) = &r.usage {
        println!(
            "[last turn: {} in, {} out tokens]",
            u.input_tokens, u.output_tokens
        );
    }
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

    // On the local server the model's side is scripted as a model would
    // behave: ask for the tool with the arithmetic in the question, then
    // answer from the tool's result.
    let expression = args
        .question
        .trim_start_matches("What is")
        .trim_end_matches('?')
        .trim()
        .to_owned();
    let backend = args.target.connect(|server| {
        server.push(
            Reply::empty()
                .with_text("I'll work that out with the calculator.")
                .tool_use(
                    "tooluse_calc_1",
                    "calculator",
                    json!({ "expression": expression }),
                )
                .deltas(4)
                .frame_delay(Duration::from_millis(30))
                .usage(420, 64),
        );
        server.push(
            Reply::echo(format!("{expression} = "))
                .word_deltas()
                .frame_delay(Duration::from_millis(30)),
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
        .system("Use the calculator tool for arithmetic; then state the result briefly.")
        .tool(calculator_tool())
        .max_tokens(512)
        .max_tool_rounds(5);
    println!("Q: {}", args.question);
    match chat.run_tools_with(converser, &args.question, &mut Printer, run_tool) {
        Ok(reply) => {
            println!();
            print_usage(&reply);
            println!(
                "Done: {} turns, stop reason {}.",
                chat.history().len(),
                reply
                    .stop_reason
                    .as_ref()
                    .map(|r| r.as_str())
                    .unwrap_or("none")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nAn error occurred: {e}");
            ExitCode::FAILURE
        }
    }
}
