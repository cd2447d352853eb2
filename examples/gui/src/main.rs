//! A desktop chat window (egui/eframe) that streams Bedrock replies through
//! `Converser::spawn_with_waker`: the UI thread never blocks; the call runs on
//! the `Converser`'s own thread, wakes the UI with `Context::request_repaint`
//! when events arrive, and each frame drains `CallHandle::events()`.
//!
//! ```text
//! cd examples/gui
//! cargo run                      # real Bedrock if credentials exist, else the local server
//! cargo run -- --local           # always the bundled local server
//! cargo run -- --model amazon.nova-lite-v1:0 --region us-west-2
//! BEDROCK_GUI_SCRIPT="Create a list of 3 pop songs." cargo run -- --local
//! ```
//!
//! Scripted mode (`BEDROCK_GUI_SCRIPT=PROMPT` or `--script PROMPT`) sends the
//! prompt at start; once the whole reply is in the string the reply area
//! displays and a frame showing it has been drawn, it prints that string and
//! the usage to stdout and exits 0. A failed call exits 1, and taking longer
//! than `BEDROCK_GUI_TIMEOUT_SECS` (default 60) exits 3.
//! `BEDROCK_GUI_HOLD_MS` keeps the finished window open that long before
//! exiting (for screenshots).

use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bedrock_converse::model::Usage;
use bedrock_converse::{CallHandle, ConverseRequest, Converser};
use bedrock_converse_mock::{MockServer, Reply};
use eframe::egui;

const DEFAULT_MODEL: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";
const SYSTEM_PROMPT: &str = "You are an app that creates playlists for a radio station that plays rock and pop music. Only return song names and the artist.";
const DEFAULT_PROMPT: &str = "Create a list of 3 pop songs.";

/// What the bundled local server answers to every prompt.
const LOCAL_REPLY: &str = "Here are 3 pop songs:\n\n\
1. \"Blinding Lights\" - The Weeknd\n\
2. \"Shape of You\" - Ed Sheeran\n\
3. \"Levitating\" - Dua Lipa\n\n\
(This reply comes from the bundled local Bedrock-compatible server: \
it streams the same scripted answer to any prompt.)";

const EXIT_OK: u8 = 0;
const EXIT_FAILED: u8 = 1;
const EXIT_TIMEOUT: u8 = 3;

struct Args {
    model: String,
    region: Option<String>,
    local: bool,
    aws: bool,
    script: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        model: DEFAULT_MODEL.into(),
        region: None,
        local: false,
        aws: false,
        script: std::env::var("BEDROCK_GUI_SCRIPT")
            .ok()
            .filter(|s| !s.is_empty()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--model" => args.model = it.next().ok_or("--model needs a value")?,
            "--region" => args.region = Some(it.next().ok_or("--region needs a value")?),
            "--local" => args.local = true,
            "--aws" => args.aws = true,
            "--script" => args.script = Some(it.next().ok_or("--script needs a prompt")?),
            "-h" | "--help" => {
                return Err(
                    "usage: bedrock-converse-gui [--model ID] [--region REGION] \
                            [--local | --aws] [--script PROMPT]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
}

fn env_number(name: &str, default: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a whole number, not {v:?}")),
        Err(_) => Ok(default),
    }
}

/// Where the state of the current (or last) call stands.
enum Status {
    Idle,
    Streaming,
    Done {
        usage: Option<Usage>,
        stop_reason: String,
        latency_ms: Option<u64>,
        /// The assembled `Response::text()`, to check the streamed model against.
        final_text: String,
    },
    Cancelled,
    Failed(String),
}

/// Scripted mode's progress.
struct Script {
    prompt: String,
    sent: bool,
    hold: Duration,
    /// When a frame showing the whole reply was drawn and the reply printed.
    shown_at: Option<Instant>,
    /// The window was told to close (frames may still be drawn meanwhile).
    closing: bool,
    exit: Arc<AtomicU8>,
}

impl Script {
    fn finish(&mut self, ctx: &egui::Context, code: u8) {
        self.exit.store(code, Ordering::SeqCst);
        self.closing = true;
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }
}

struct ChatApp {
    converser: Converser,
    /// Keeps the local server running while the window is open.
    _server: Option<MockServer>,
    backend: String,
    model: String,
    prompt: String,
    /// The model behind the reply area: exactly the string it displays.
    reply: String,
    asked: String,
    /// Frames drawn while a reply was partly there (shown in scripted mode).
    partial_frames: u32,
    call: Option<CallHandle>,
    status: Status,
    script: Option<Script>,
}

impl ChatApp {
    fn send(&mut self, ctx: &egui::Context) {
        let prompt = self.prompt.trim().to_owned();
        if prompt.is_empty() || self.call.is_some() {
            return;
        }
        let request = ConverseRequest::new(&self.model)
            .system(SYSTEM_PROMPT)
            .user(prompt.clone())
            .temperature(0.5);
        let waker_ctx = ctx.clone();
        // The waker runs on the Converser's thread after each batch of events
        // and once when the call ends; asking egui for a repaint is cheap.
        match self
            .converser
            .spawn_with_waker(&request, move || waker_ctx.request_repaint())
        {
            Ok(call) => {
                self.call = Some(call);
                self.reply.clear();
                self.partial_frames = 0;
                self.asked = prompt;
                self.status = Status::Streaming;
            }
            Err(e) => self.status = Status::Failed(e.to_string()),
        }
    }

    fn cancel(&mut self) {
        if let Some(call) = &self.call {
            call.cancel();
        }
    }

    /// Once per frame: take whatever arrived, and the result when it is there.
    fn poll(&mut self) {
        let Some(call) = &mut self.call else { return };
        let finished = call.try_wait().map(|result| match result {
            Ok(response) => Status::Done {
                usage: response.usage,
                stop_reason: response
                    .stop_reason
                    .as_ref()
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default(),
                latency_ms: response.metrics.map(|m| m.latency_ms),
                final_text: response.text(),
            },
            Err(e) if e.is_cancelled() => Status::Cancelled,
            Err(e) => Status::Failed(e.to_string()),
        });
        // Every event is sent before the result, so draining after
        // `try_wait` returned `Some` takes the last of them too.
        while let Ok(event) = call.events().try_recv() {
            // Text deltas; a real app might also show tool use or reasoning.
            if let Some(text) = event.text() {
                self.reply.push_str(text);
            }
        }
        if let Some(status) = finished {
            self.status = status;
            self.call = None;
        }
    }

    fn status_line(&self) -> String {
        match &self.status {
            Status::Idle => "Ready.".into(),
            Status::Streaming => format!(
                "Streaming… {} characters so far",
                self.reply.chars().count()
            ),
            Status::Done {
                usage,
                stop_reason,
                latency_ms,
                ..
            } => {
                let mut line = format!("Done ({stop_reason}).");
                if let Some(u) = usage {
                    line += &format!(
                        " Usage: {} input + {} output = {} tokens.",
                        u.input_tokens, u.output_tokens, u.total_tokens
                    );
                }
                if let Some(ms) = latency_ms {
                    line += &format!(" Latency: {ms} ms.");
                }
                line
            }
            Status::Cancelled => "Cancelled; the reply so far is kept above.".into(),
            Status::Failed(msg) => format!("Failed: {msg}"),
        }
    }

    /// Scripted mode, after the frame has been laid out.
    fn drive_script(&mut self, ctx: &egui::Context) {
        let status_line = self.status_line();
        let Some(script) = self.script.as_mut().filter(|s| !s.closing) else {
            return;
        };
        if script.shown_at.is_none() {
            match &self.status {
                Status::Done { final_text, .. } => {
                    // This frame displayed `self.reply`: the whole reply if the
                    // streamed events add up to the assembled response.
                    if self.reply != *final_text {
                        eprintln!(
                            "the window shows {:?} but the response is {:?}",
                            self.reply, final_text
                        );
                        script.finish(ctx, EXIT_FAILED);
                        return;
                    }
                    println!("{}", self.reply);
                    println!("{status_line}");
                    eprintln!(
                        "scripted mode: the reply streamed into {} frames before it was complete",
                        self.partial_frames
                    );
                    script.exit.store(EXIT_OK, Ordering::SeqCst);
                    script.shown_at = Some(Instant::now());
                }
                Status::Failed(msg) => {
                    eprintln!("the scripted call failed: {msg}");
                    script.finish(ctx, EXIT_FAILED);
                    return;
                }
                Status::Cancelled => {
                    eprintln!("the scripted call was cancelled");
                    script.finish(ctx, EXIT_FAILED);
                    return;
                }
                Status::Idle | Status::Streaming => return,
            }
        }
        if let Some(shown) = script.shown_at {
            let left = script.hold.saturating_sub(shown.elapsed());
            if left.is_zero() {
                script.finish(ctx, EXIT_OK);
            } else {
                ctx.request_repaint_after(left);
            }
        }
    }
}

impl eframe::App for ChatApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if let Some(script) = &mut self.script {
            if !script.sent {
                script.sent = true;
                self.prompt = script.prompt.clone();
                self.send(&ctx);
            }
        }
        self.poll();
        let streaming = self.call.is_some();
        if streaming && !self.reply.is_empty() {
            self.partial_frames += 1;
        }

        egui::Panel::top("header").show(ui, |ui| {
            ui.add_space(4.0);
            ui.heading("Bedrock Converse");
            ui.label(format!("{} · model {}", self.backend, self.model));
            ui.add_space(4.0);
        });

        egui::Panel::bottom("composer").show(ui, |ui| {
            ui.add_space(6.0);
            ui.add(
                egui::TextEdit::multiline(&mut self.prompt)
                    .hint_text("Ask something…")
                    .desired_rows(3)
                    .desired_width(f32::INFINITY),
            );
            let mut send = ui.input(|i| i.modifiers.command && i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                let can_send = !streaming && !self.prompt.trim().is_empty();
                send |= ui
                    .add_enabled(can_send, egui::Button::new("Send"))
                    .on_hover_text("Ctrl+Enter")
                    .clicked();
                if ui
                    .add_enabled(streaming, egui::Button::new("Cancel"))
                    .clicked()
                {
                    self.cancel();
                }
            });
            if send && !streaming {
                self.send(&ctx);
            }
            ui.label(self.status_line());
            ui.add_space(4.0);
        });

        egui::CentralPanel::default().show(ui, |ui| {
            if !self.asked.is_empty() {
                ui.label(egui::RichText::new(format!("You: {}", self.asked)).strong());
                ui.separator();
            }
            egui::ScrollArea::vertical()
                .auto_shrink(false)
                .stick_to_bottom(true)
                .show(ui, |ui| {
                    ui.add(egui::Label::new(self.reply.as_str()).selectable(true));
                });
        });

        self.drive_script(&ctx);
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let (timeout, hold) = match (
        env_number("BEDROCK_GUI_TIMEOUT_SECS", 60),
        env_number("BEDROCK_GUI_HOLD_MS", 0),
    ) {
        (Ok(t), Ok(h)) => (Duration::from_secs(t), Duration::from_millis(h)),
        (Err(msg), _) | (_, Err(msg)) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };

    // Without credentials (decided from the environment and profile files,
    // never by probing the network), talk to the bundled local server.
    let use_local =
        args.local || (!args.aws && !bedrock_converse::client::credentials_configured());
    let (converser, server, backend) = if use_local {
        let server = match MockServer::start() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("could not start the local server: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Streamed in small, slightly delayed pieces so streaming is visible.
        server.set_default(
            Reply::text(LOCAL_REPLY)
                .deltas(40)
                .frame_delay(Duration::from_millis(40))
                .usage(53, 39)
                .latency_ms(1175),
        );
        let backend = format!("local server at {}", server.endpoint());
        eprintln!(
            "{}; using the bundled {backend}",
            if args.local {
                "--local given"
            } else {
                "no AWS credentials found"
            }
        );
        (server.converser(), Some(server), backend)
    } else {
        let mut b = Converser::builder();
        if let Some(region) = &args.region {
            b = b.region(region.clone());
        }
        (b.build(), None, "Amazon Bedrock".to_owned())
    };
    let converser = match converser {
        Ok(c) => c,
        Err(e) => {
            eprintln!("could not set up the client: {e}");
            return ExitCode::FAILURE;
        }
    };

    let exit = Arc::new(AtomicU8::new(EXIT_FAILED));
    let script = args.script.map(|prompt| {
        // The bound covers everything, including a window that never opens
        // or an event loop that stops drawing.
        std::thread::spawn(move || {
            std::thread::sleep(timeout);
            eprintln!(
                "scripted mode: no complete reply shown within {} s",
                timeout.as_secs()
            );
            std::process::exit(EXIT_TIMEOUT.into());
        });
        Script {
            prompt,
            sent: false,
            hold,
            shown_at: None,
            closing: false,
            exit: exit.clone(),
        }
    });
    let scripted = script.is_some();

    let app = ChatApp {
        converser,
        _server: server,
        backend,
        model: args.model,
        prompt: DEFAULT_PROMPT.into(),
        reply: String::new(),
        asked: String::new(),
        partial_frames: 0,
        call: None,
        status: Status::Idle,
        script,
    };
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Bedrock Converse")
        .with_inner_size([720.0, 480.0]);
    if scripted {
        // Top left, so that a screenshot of a window-sized virtual screen
        // (see screenshot.sh) is exactly the window.
        viewport = viewport.with_position([0.0, 0.0]);
    }
    let options = eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    if let Err(e) = eframe::run_native(
        "bedrock-converse-gui",
        options,
        Box::new(|_cc| Ok(Box::new(app))),
    ) {
        eprintln!("the window could not run: {e}");
        return ExitCode::FAILURE;
    }
    if scripted {
        ExitCode::from(exit.load(Ordering::SeqCst))
    } else {
        ExitCode::SUCCESS
    }
}
