//! A desktop chat window (egui/eframe) that streams Bedrock replies through
//! `Converser::spawn_with_waker`: the UI thread never blocks; the call runs on
//! the `Converser`'s own thread, wakes the UI with `Context::request_repaint`
//! when events arrive, and each frame drains `CallHandle::events()`
//! (`app.rs`).
//!
//! ```text
//! cd examples/gui
//! cargo run                      # real Bedrock if credentials exist, else the local server
//! cargo run -- --local           # always the bundled local server
//! cargo run -- --model amazon.nova-lite-v1:0 --region us-west-2
//! BEDROCK_GUI_SCRIPT="Create a list of 3 pop songs." cargo run -- --local
//! ```
//!
//! Scripted mode (`BEDROCK_GUI_SCRIPT=PROMPT` or `--script PROMPT`, see
//! `scripted.rs`) sends the prompt at start, prints the reply once a frame
//! showing all of it was drawn, and exits: what CI and `screenshot.sh` run.

mod app;
mod scripted;

use std::process::ExitCode;
use std::time::Duration;

use bedrock_converse::Converser;
use bedrock_converse_mock::{MockServer, Reply};
use clap::Parser;
use eframe::egui;

use app::ChatApp;
use scripted::Script;

/// What the bundled local server answers to every prompt.
const LOCAL_REPLY: &str = "Here are 3 pop songs:\n\n\
1. \"Blinding Lights\" - The Weeknd\n\
2. \"Shape of You\" - Ed Sheeran\n\
3. \"Levitating\" - Dua Lipa\n\n\
(This reply comes from the bundled local Bedrock-compatible server: \
it streams the same scripted answer to any prompt.)";

/// A chat window streaming Bedrock replies.
#[derive(Parser)]
#[command(name = "bedrock-converse-gui")]
struct Args {
    /// The model id or inference profile
    #[arg(
        long,
        value_name = "ID",
        default_value = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    )]
    model: String,
    /// The AWS Region (overrides AWS_REGION and the profile's)
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// Always use the bundled local Bedrock-compatible server
    #[arg(long, conflicts_with = "aws")]
    local: bool,
    /// Use the AWS configuration even when no credentials are visible
    #[arg(long)]
    aws: bool,
    /// Scripted mode: send PROMPT at start, print the reply and exit
    #[arg(long, value_name = "PROMPT", env = "BEDROCK_GUI_SCRIPT")]
    script: Option<String>,
    /// Scripted mode: exit 3 when no complete reply is shown by then
    #[arg(
        long,
        value_name = "SECS",
        env = "BEDROCK_GUI_TIMEOUT_SECS",
        default_value_t = 60
    )]
    timeout_secs: u64,
    /// Scripted mode: keep the finished window open this long (screenshots)
    #[arg(
        long,
        value_name = "MS",
        env = "BEDROCK_GUI_HOLD_MS",
        default_value_t = 0
    )]
    hold_ms: u64,
}

/// The bundled server, answering every prompt with [`LOCAL_REPLY`] in
/// small, slightly delayed pieces, so streaming is visible.
fn local_server() -> std::io::Result<MockServer> {
    let server = MockServer::start()?;
    let reply = Reply::text(LOCAL_REPLY)
        .deltas(40)
        .frame_delay(Duration::from_millis(40));
    server.set_default(reply.usage(53, 39).latency_ms(1175));
    Ok(server)
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Without credentials (decided from the environment and profile files,
    // never by probing the network), talk to the bundled local server.
    let use_local =
        args.local || (!args.aws && !bedrock_converse::client::credentials_configured());
    let (server, backend) = if use_local {
        let server = match local_server() {
            Ok(server) => server,
            Err(e) => {
                eprintln!("could not start the local server: {e}");
                return ExitCode::FAILURE;
            }
        };
        let backend = format!("local server at {}", server.endpoint());
        let why = if args.local {
            "--local given"
        } else {
            "no AWS credentials found"
        };
        eprintln!("{why}; using the bundled {backend}");
        (Some(server), backend)
    } else {
        (None, "Amazon Bedrock".to_owned())
    };
    let mut builder = match &server {
        Some(server) => server.converser_builder(),
        None => Converser::builder(),
    };
    if let Some(region) = &args.region {
        builder = builder.region(region.clone());
    }
    let converser = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("could not set up the client: {e}");
            return ExitCode::FAILURE;
        }
    };

    let script = args
        .script
        .filter(|prompt| !prompt.is_empty())
        .map(|prompt| {
            let timeout = Duration::from_secs(args.timeout_secs);
            Script::start(prompt, timeout, Duration::from_millis(args.hold_ms))
        });
    let exit = script.as_ref().map(Script::exit_code);
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Bedrock Converse")
        .with_inner_size([720.0, 480.0]);
    if script.is_some() {
        // Top left, so that a screenshot of a window-sized virtual screen
        // (see screenshot.sh) is exactly the window.
        viewport = viewport.with_position([0.0, 0.0]);
    }
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    let app = ChatApp::new(converser, server, backend, args.model, script);
    if let Err(e) = eframe::run_native(
        "bedrock-converse-gui",
        options,
        Box::new(|_cc| Ok(Box::new(app))),
    ) {
        eprintln!("the window could not run: {e}");
        return ExitCode::FAILURE;
    }
    match exit {
        Some(code) => ExitCode::from(code.get()),
        None => ExitCode::SUCCESS,
    }
}
