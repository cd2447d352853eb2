//! The window: a prompt box, Send and Cancel, the reply streaming into a
//! scroll area, and a status line with the usage once the reply ends.

use bedrock_converse::model::Usage;
use bedrock_converse::{CallHandle, ConverseRequest, Converser};
use bedrock_converse_mock::MockServer;
use eframe::egui;

use crate::scripted::Script;

const SYSTEM_PROMPT: &str = "You are an app that creates playlists for a radio station that plays rock and pop music. Only return song names and the artist.";
const DEFAULT_PROMPT: &str = "Create a list of 3 pop songs.";

/// Where the state of the current (or last) call stands.
pub enum Status {
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

pub struct ChatApp {
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
    pub fn new(
        converser: Converser,
        server: Option<MockServer>,
        backend: String,
        model: String,
        script: Option<Script>,
    ) -> ChatApp {
        ChatApp {
            converser,
            _server: server,
            backend,
            model,
            prompt: DEFAULT_PROMPT.into(),
            reply: String::new(),
            asked: String::new(),
            partial_frames: 0,
            call: None,
            status: Status::Idle,
            script,
        }
    }

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
}

impl eframe::App for ChatApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if let Some(prompt) = self.script.as_mut().and_then(Script::take_prompt) {
            self.prompt = prompt;
            self.send(&ctx);
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

        let line = self.status_line();
        if let Some(script) = &mut self.script {
            script.after_frame(&ctx, &self.status, &self.reply, self.partial_frames, &line);
        }
    }
}
