//! The quota limiter on a [`Converser`]'s calls: each call waits for room
//! under the requests-per-minute and tokens-per-minute quotas before it is
//! sent, at the target it goes to (a blocking call waits on its own
//! thread; a spawned one on the runtime thread, see `attempts`), and its
//! reservation is corrected by the reply's usage.

use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::types::{ContentBlock, SystemContentBlock, ToolResultContentBlock};

use super::Converser;
use crate::cancel::CancelToken;
use crate::client::limiter::{estimate_input_tokens, TokenEstimate, SLEEP_SLICE};
use crate::client::target::{ending_error, Choice, Route, Verdict};
use crate::error::{Error, TimeoutKind};
use crate::model::{ConverseRequest, Response};
use crate::sdk::json::document_to_json;

/// The output a call reserves when its request sets no `max_tokens`. The
/// service itself then reserves the model's maximum (64K for some models),
/// so set `max_tokens` for reservations that match the service's.
pub const DEFAULT_OUTPUT_ESTIMATE: u32 = 4096;

/// Tokens an image is assumed to take (Claude's ceiling for a full-size
/// image is about 1,600).
const IMAGE_TOKENS: u32 = 1_600;

/// What a call will reserve: input estimated from its text (about four bytes
/// a token), output as its `max_tokens`.
pub(crate) fn estimate(request: &ConverseRequest) -> TokenEstimate {
    let mut bytes = 0usize;
    let mut images = 0u32;
    for block in &request.system {
        if let SystemContentBlock::Text(t) = block {
            bytes += t.len();
        }
    }
    for m in &request.messages {
        for block in &m.content {
            match block {
                ContentBlock::Text(t) => bytes += t.len(),
                ContentBlock::Image(_) => images += 1,
                ContentBlock::Document(d) => bytes += d.source.as_ref().map_or(0, doc_len),
                ContentBlock::ToolUse(t) => bytes += json_len(&t.input),
                ContentBlock::ToolResult(r) => {
                    for c in &r.content {
                        match c {
                            ToolResultContentBlock::Text(t) => bytes += t.len(),
                            ToolResultContentBlock::Json(j) => bytes += json_len(j),
                            ToolResultContentBlock::Image(_) => images += 1,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(config) = &request.tool_config {
        for tool in config.tools() {
            bytes += tool.name.len() + tool.description.as_ref().map_or(0, String::len);
            bytes += tool.input_schema.to_string().len();
        }
    }
    let max_output = request
        .inference_config
        .as_ref()
        .and_then(|c| c.max_tokens)
        .unwrap_or(DEFAULT_OUTPUT_ESTIMATE);
    TokenEstimate {
        input: estimate_input_tokens(bytes).saturating_add(images.saturating_mul(IMAGE_TOKENS)),
        max_output,
    }
}

/// The length of a JSON document as it is sent.
fn json_len(doc: &aws_smithy_types::Document) -> usize {
    document_to_json(doc).to_string().len()
}

fn doc_len(source: &aws_sdk_bedrockruntime::types::DocumentSource) -> usize {
    use aws_sdk_bedrockruntime::types::DocumentSource;
    match source {
        DocumentSource::Bytes(b) => b.as_ref().len(),
        DocumentSource::Text(t) => t.len(),
        _ => 0,
    }
}

impl Converser {
    /// Waits until a target the call has not `tried` can take it now (see
    /// [`Router::choose`]), honouring the request's token and `deadline`.
    /// `None` when it has tried them all. Nothing has been sent yet, so this
    /// wait is the caller's own; once sent, the call's task alone ends it
    /// (see `engine::protocol`).
    fn wait_for_route(
        &self,
        request: &ConverseRequest,
        estimate: TokenEstimate,
        tried: &[bool],
        deadline: Option<Instant>,
    ) -> Result<Option<Route>, Error> {
        let router = &self.inner.router;
        let token = request.cancel_token.as_ref();
        let started = Instant::now();
        let mut refused = false;
        loop {
            let now = Instant::now();
            let wait = match router.choose(&request.model_id, estimate, tried, now) {
                Choice::Go(route) => {
                    if refused {
                        let waited = started.elapsed();
                        if let Some(limiter) = router.limiter(route.index) {
                            limiter.record_wait(waited);
                        }
                        if waited >= Duration::from_millis(100) {
                            log::info!(
                                "bedrock-converse: waited {waited:.1?} for room under the quota"
                            );
                        }
                    }
                    return Ok(Some(route));
                }
                Choice::Exhausted => return Ok(None),
                Choice::Wait(wait) => wait,
            };
            refused = true;
            // A wait that ends unadmitted counts as target 0's.
            let gave_up = |error| {
                if let Some(limiter) = router.limiter(0) {
                    limiter.record_wait(started.elapsed());
                }
                Err(error)
            };
            if token.is_some_and(CancelToken::is_cancelled) {
                return gave_up(Error::Cancelled { partial: None });
            }
            let mut slice = wait.min(SLEEP_SLICE);
            if let Some(deadline) = deadline {
                if now >= deadline {
                    return gave_up(Error::Timeout {
                        kind: TimeoutKind::Deadline,
                        partial: None,
                    });
                }
                slice = slice.min(deadline - now);
            }
            std::thread::sleep(slice);
        }
    }

    /// Runs a blocking call through the targets: waits for a target with
    /// room (honouring the request's token and `deadline`), makes the call
    /// there (`call` gets the target's index and the request with its model
    /// id, and says whether anything reached the handler), settles the
    /// target's reservation by what the call used, and moves the call to
    /// the next target when the router says so.
    pub(super) fn routed(
        &self,
        request: &ConverseRequest,
        deadline: Option<Instant>,
        mut call: impl FnMut(usize, &ConverseRequest) -> (Result<Response, Error>, bool),
    ) -> Result<Response, Error> {
        let router = &self.inner.router;
        let estimate = estimate(request);
        let mut tried = vec![false; router.len()];
        let mut last = None;
        loop {
            let Some(mut route) = self.wait_for_route(request, estimate, &tried, deadline)? else {
                return Err(last.unwrap_or(Error::Shutdown { partial: None }));
            };
            tried[route.index] = true;
            let (mut result, delivered) =
                call(route.index, &router.request_for(route.index, request));
            let more = tried.contains(&false);
            let verdict = router.finish(&mut route, result.as_ref(), delivered, more);
            router.name_answerer(&route, &mut result);
            match (verdict, result) {
                (Verdict::Move, Err(e)) => {
                    log::info!(
                        "bedrock-converse: target {} ({}) failed with {e}; moving the call on",
                        route.index,
                        route.model_id
                    );
                    last = Some(e);
                }
                (_, Err(e)) => return Err(ending_error(last, e)),
                (_, ok) => return ok,
            }
        }
    }
}

/// The parts prepared from `request`, when `sent` is still that request
/// (same model); else `sent`'s own, the prepared parts kept for a later
/// attempt with the request's model.
pub(super) fn reuse(
    prepared: &mut Option<crate::sdk::SdkParts>,
    request: &ConverseRequest,
    sent: &ConverseRequest,
) -> Result<crate::sdk::SdkParts, Error> {
    match prepared.take() {
        Some(parts) if sent.model_id == request.model_id => Ok(parts),
        other => {
            *prepared = other;
            sent.to_sdk()
        }
    }
}

/// A handler that notes whether anything reached it, so a failed attempt
/// that delivered nothing can be moved to another target.
pub(super) struct Counted<'a, H: ?Sized> {
    inner: &'a mut H,
    delivered: bool,
}

impl<'a, H: crate::stream::StreamHandler + ?Sized> Counted<'a, H> {
    pub(super) fn new(inner: &'a mut H) -> Self {
        Counted {
            inner,
            delivered: false,
        }
    }

    /// Whether anything reached the handler since the last call.
    pub(super) fn take_delivered(&mut self) -> bool {
        std::mem::take(&mut self.delivered)
    }
}

impl<H: crate::stream::StreamHandler + ?Sized> crate::stream::StreamHandler for Counted<'_, H> {
    fn on_event(&mut self, event: &crate::stream::StreamEvent) -> std::ops::ControlFlow<()> {
        self.delivered = true;
        self.inner.on_event(event)
    }
}

#[cfg(test)]
mod tests;
