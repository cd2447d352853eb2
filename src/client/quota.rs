//! The quota limiter on a [`Converser`]'s calls: each call waits for room
//! under the requests-per-minute and tokens-per-minute quotas before it is
//! sent (a blocking call on its own thread, a spawned one on the runtime
//! thread), and its reservation is corrected by the reply's usage.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_bedrockruntime::types::{ContentBlock, SystemContentBlock, ToolResultContentBlock};

use super::Converser;
use crate::cancel::CancelToken;
use crate::client::limiter::{
    estimate_input_tokens, AcquireError, Limiter, Reservation, TokenEstimate, TokensUsed,
    SLEEP_SLICE,
};
use crate::engine::spawned::OnEnd;
use crate::engine::Gate;
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

/// The tokens a reply used, as the quota counts them (input plus cache
/// writes; output unweighted, the limiter weighs it).
fn usage_of(response: &Response) -> Option<TokensUsed> {
    response.usage.map(|u| TokensUsed {
        input_tokens: u
            .input_tokens
            .saturating_add(u.cache_write_input_tokens.unwrap_or(0)),
        output_tokens: u.output_tokens,
    })
}

impl Converser {
    /// Waits for room under the quota, if there is one, honouring the
    /// request's token and `deadline`.
    fn admit(
        &self,
        request: &ConverseRequest,
        deadline: Option<Instant>,
    ) -> Result<Option<Reservation>, Error> {
        let Some(limiter) = &self.inner.limiter else {
            return Ok(None);
        };
        let token = request.cancel_token.as_ref();
        let stop = || token.is_some_and(CancelToken::is_cancelled);
        let started = Instant::now();
        let acquired = limiter.acquire_blocking(estimate(request), stop, deadline);
        let waited = started.elapsed();
        if waited >= std::time::Duration::from_millis(100) {
            log::info!("bedrock-converse: waited {waited:.1?} for room under the quota");
        }
        match acquired {
            Ok(reservation) => Ok(Some(reservation)),
            Err(AcquireError::Cancelled) => Err(Error::Cancelled { partial: None }),
            Err(AcquireError::DeadlineExceeded) => Err(Error::Timeout {
                kind: TimeoutKind::Deadline,
                partial: None,
            }),
        }
    }

    /// Runs a blocking call within the quota, if there is one: waits for
    /// room (honouring the request's token and `deadline`), makes the call,
    /// then corrects the reservation by what the call used.
    pub(super) fn metered(
        &self,
        request: &ConverseRequest,
        deadline: Option<Instant>,
        call: impl FnOnce() -> Result<Response, Error>,
    ) -> Result<Response, Error> {
        let reservation = self.admit(request, deadline)?;
        let result = call();
        if let (Some(limiter), Some(reservation)) = (&self.inner.limiter, reservation) {
            settle(limiter, reservation, &result);
        }
        result
    }

    /// For a spawned call, which must not block its caller: a gate that
    /// waits on the runtime thread for room under the quota, and the hook
    /// that settles the reservation when the call ends. `(None, None)`
    /// without a quota.
    pub(super) fn spawn_admission(
        &self,
        request: &ConverseRequest,
    ) -> (Option<Gate>, Option<OnEnd>) {
        let Some(limiter) = self.inner.limiter.clone() else {
            return (None, None);
        };
        let estimate = estimate(request);
        let held: Arc<Mutex<Option<Reservation>>> = Arc::default();
        let gate = {
            let (limiter, held) = (limiter.clone(), held.clone());
            Box::pin(async move {
                let started = Instant::now();
                let mut refused = false;
                loop {
                    match limiter.try_acquire_now(estimate) {
                        Ok(reservation) => {
                            *held.lock().unwrap_or_else(|p| p.into_inner()) = Some(reservation);
                            break;
                        }
                        Err(wait) => {
                            refused = true;
                            tokio::time::sleep(wait.min(SLEEP_SLICE)).await;
                        }
                    }
                }
                if refused {
                    limiter.record_wait(started.elapsed());
                }
            }) as Gate
        };
        let on_end: OnEnd = Box::new(move |result| {
            let reservation = held.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(reservation) = reservation {
                settle(&limiter, reservation, result);
            }
        });
        (Some(gate), Some(on_end))
    }
}

/// Corrects `reservation` by what the call used, and tells the limiter
/// whether the service throttled it.
pub(crate) fn settle(
    limiter: &Limiter,
    reservation: Reservation,
    result: &Result<Response, Error>,
) {
    match result {
        Ok(response) => {
            limiter.settle_now(reservation, usage_of(response));
            limiter.on_success_now();
        }
        Err(e) => {
            if e.is_throttling() {
                log::info!("bedrock-converse: throttled; pacing calls more slowly");
                limiter.on_throttled_now(reservation.admitted_at());
            }
            limiter.settle_now(reservation, e.partial_response().and_then(usage_of));
        }
    }
}

#[cfg(test)]
mod tests;
