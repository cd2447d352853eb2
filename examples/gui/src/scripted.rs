//! Scripted mode, for CI and `screenshot.sh`: the window sends the prompt at
//! start; once the whole reply is in the string the reply area displays and
//! a frame showing it has been drawn, it prints that string and the status
//! line to stdout and exits 0 (after `BEDROCK_GUI_HOLD_MS`, for
//! screenshots). A failed or cancelled call exits 1, and no complete reply
//! within `BEDROCK_GUI_TIMEOUT_SECS` exits 3.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;

use crate::app::Status;

const EXIT_OK: u8 = 0;
const EXIT_FAILED: u8 = 1;
const EXIT_TIMEOUT: u8 = 3;

/// The exit status scripted mode decided on (failure until it succeeds).
#[derive(Clone)]
pub struct Exit(Arc<AtomicU8>);

impl Exit {
    pub fn get(&self) -> u8 {
        self.0.load(Ordering::SeqCst)
    }

    fn set(&self, code: u8) {
        self.0.store(code, Ordering::SeqCst);
    }
}

/// Scripted mode's progress.
pub struct Script {
    /// The prompt, until it is sent.
    prompt: Option<String>,
    hold: Duration,
    /// When a frame showing the whole reply was drawn and the reply printed.
    shown_at: Option<Instant>,
    /// The window was told to close (frames may still be drawn meanwhile).
    closing: bool,
    exit: Exit,
}

impl Script {
    /// Scripted mode for `prompt`. The time limit covers everything,
    /// including a window that never opens or an event loop that stops
    /// drawing.
    pub fn start(prompt: String, timeout: Duration, hold: Duration) -> Script {
        std::thread::spawn(move || {
            std::thread::sleep(timeout);
            eprintln!(
                "scripted mode: no complete reply shown within {} s",
                timeout.as_secs()
            );
            std::process::exit(EXIT_TIMEOUT.into());
        });
        Script {
            prompt: Some(prompt),
            hold,
            shown_at: None,
            closing: false,
            exit: Exit(Arc::new(AtomicU8::new(EXIT_FAILED))),
        }
    }

    pub fn exit_code(&self) -> Exit {
        self.exit.clone()
    }

    /// The prompt to send, the first time it is asked for.
    pub fn take_prompt(&mut self) -> Option<String> {
        self.prompt.take()
    }

    fn finish(&mut self, ctx: &egui::Context, code: u8) {
        self.exit.set(code);
        self.closing = true;
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }

    /// After each frame is laid out: `reply` is what the frame displayed,
    /// `partial_frames` how many frames showed part of it.
    pub fn after_frame(
        &mut self,
        ctx: &egui::Context,
        status: &Status,
        reply: &str,
        partial_frames: u32,
        status_line: &str,
    ) {
        if self.closing {
            return;
        }
        if self.shown_at.is_none() {
            match status {
                Status::Done { final_text, .. } => {
                    // This frame displayed `reply`: the whole reply if the
                    // streamed events add up to the assembled response.
                    if reply != final_text {
                        eprintln!("the window shows {reply:?} but the response is {final_text:?}");
                        return self.finish(ctx, EXIT_FAILED);
                    }
                    println!("{reply}");
                    println!("{status_line}");
                    eprintln!(
                        "scripted mode: the reply streamed into {partial_frames} frames before it was complete"
                    );
                    self.exit.set(EXIT_OK);
                    self.shown_at = Some(Instant::now());
                }
                Status::Failed(msg) => {
                    eprintln!("the scripted call failed: {msg}");
                    return self.finish(ctx, EXIT_FAILED);
                }
                Status::Cancelled => {
                    eprintln!("the scripted call was cancelled");
                    return self.finish(ctx, EXIT_FAILED);
                }
                Status::Idle | Status::Streaming => return,
            }
        }
        if let Some(shown) = self.shown_at {
            let left = self.hold.saturating_sub(shown.elapsed());
            if left.is_zero() {
                self.finish(ctx, EXIT_OK);
            } else {
                ctx.request_repaint_after(left);
            }
        }
    }
}
