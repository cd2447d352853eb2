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
mod tests {
    use std::time::Duration;

    use aws_sdk_bedrockruntime::types::{
        ContentBlock, ConversationRole, DocumentBlock, DocumentFormat, DocumentSource,
        ImageFormat, ToolUseBlock,
    };
    use serde_json::json;

    use super::*;
    use crate::client::limiter::Quota;
    use crate::error::{ServiceError, ServiceErrorKind};
    use crate::model::{Document, Image, Message, Tool, ToolResult, Usage};
    use crate::Converser;
    use crate::sdk::json::json_to_document;

    /// A request holding one user turn of `blocks`, with `max_tokens` set.
    fn turn(blocks: Vec<ContentBlock>) -> ConverseRequest {
        ConverseRequest::new("m")
            .message(Message::new(ConversationRole::User, blocks))
            .max_tokens(7)
    }

    fn text_of(bytes: usize) -> String {
        "x".repeat(bytes)
    }

    fn text_document(text: &str) -> ContentBlock {
        ContentBlock::Document(
            DocumentBlock::builder()
                .format(DocumentFormat::Txt)
                .name("d")
                .source(DocumentSource::Text(text.into()))
                .build()
                .unwrap(),
        )
    }

    #[test]
    fn the_input_is_a_token_for_every_four_bytes_of_text_rounded_up() {
        // Each kind of text counts alone, at the boundaries of a token.
        for bytes in [0usize, 1, 4, 5, 8] {
            let tokens = u32::try_from(bytes.div_ceil(4)).unwrap();
            let kinds: Vec<(&str, ConverseRequest)> = vec![
                ("system", ConverseRequest::new("m").system(text_of(bytes))),
                ("text", turn(vec![ContentBlock::Text(text_of(bytes))])),
                ("text document", turn(vec![text_document(&text_of(bytes))])),
                (
                    "document bytes",
                    turn(vec![Document::new(DocumentFormat::Txt, "d", vec![b'x'; bytes]).into()]),
                ),
                (
                    "tool result text",
                    ConverseRequest::new("m")
                        .message(Message::tool_results([ToolResult::text("t", text_of(bytes))])),
                ),
            ];
            for (what, request) in kinds {
                assert_eq!(estimate(&request).input, tokens, "{what}, {bytes} bytes");
            }
        }
    }

    #[test]
    fn every_part_of_a_request_adds_to_the_input() {
        // JSON is counted as sent: `{"k":"vv"}` is 10 bytes, `[1,2]` 5.
        let tool_use = ContentBlock::ToolUse(
            ToolUseBlock::builder()
                .tool_use_id("t")
                .name("n")
                .input(json_to_document(&json!({"k": "vv"})))
                .build()
                .unwrap(),
        );
        let json_result = ToolResult::json("t", json!([1, 2]));
        // A tool: its name (4), description (6) and schema as sent (2: `{}`).
        let tool = Tool::new("look", "looks.", json!({}));
        let request = ConverseRequest::new("m")
            .system(text_of(3))
            .message(Message::new(
                ConversationRole::User,
                vec![
                    ContentBlock::Text(text_of(5)),
                    text_document(&text_of(7)),
                    tool_use,
                ],
            ))
            .message(Message::tool_results([
                json_result.with_text(text_of(11))
            ]))
            .tool(tool);
        let bytes = 3 + 5 + 7 + 10 + 5 + 11 + (4 + 6 + 2);
        assert_eq!(bytes, 53);
        assert_eq!(estimate(&request).input, 14, "⌈53 / 4⌉");
        // Each part alone, so none is counted twice or left out.
        let tool_only = ConverseRequest::new("m").tool(Tool::new("look", "looks.", json!({})));
        assert_eq!(estimate(&tool_only).input, 3, "⌈12 / 4⌉");
        let json_only = ConverseRequest::new("m")
            .message(Message::tool_results([ToolResult::json("t", json!([1, 2]))]));
        assert_eq!(estimate(&json_only).input, 2, "⌈5 / 4⌉");
    }

    #[test]
    fn an_image_counts_its_fixed_tokens_wherever_it_stands() {
        let image = || Image::new(ImageFormat::Png, vec![0u8; 4000]);
        let in_turn = turn(vec![image().into(), image().into()]);
        assert_eq!(estimate(&in_turn).input, 2 * IMAGE_TOKENS, "not its bytes");
        let in_result = ConverseRequest::new("m").message(Message::tool_results([
            ToolResult::text("t", text_of(8)).with_image(image()),
        ]));
        assert_eq!(estimate(&in_result).input, 2 + IMAGE_TOKENS);
    }

    #[test]
    fn the_output_reserved_is_max_tokens_or_the_default() {
        let request = ConverseRequest::new("m").user("hi");
        assert_eq!(estimate(&request).max_output, DEFAULT_OUTPUT_ESTIMATE);
        assert_eq!(estimate(&request.max_tokens(1)).max_output, 1);
        // Other settings alone leave the default.
        let request = ConverseRequest::new("m").user("hi").temperature(0.5);
        assert_eq!(estimate(&request).max_output, DEFAULT_OUTPUT_ESTIMATE);
    }

    fn reply(input: u32, output: u32, cache_write: Option<u32>) -> Response {
        Response {
            usage: Some(Usage {
                input_tokens: input,
                output_tokens: output,
                cache_write_input_tokens: cache_write,
                cache_read_input_tokens: Some(1000),
                ..Usage::default()
            }),
            ..Response::default()
        }
    }

    #[test]
    fn a_reply_settles_at_its_input_plus_cache_writes_and_its_weighted_output() {
        let limiter = Limiter::new(Quota::new().tokens_per_minute(600_000).output_token_weight(5.0));
        let reservation = limiter
            .try_acquire_now(TokenEstimate {
                input: 1000,
                max_output: 1000,
            })
            .unwrap();
        assert_eq!(reservation.tokens(), 6000);
        // 100 + 20 cache writes + 5 × 10; cache reads are not charged.
        settle(&limiter, reservation, &Ok(reply(100, 10, Some(20))));
        let stats = limiter.stats();
        assert_eq!((stats.settled, stats.window_tokens), (1, 170));
        assert_eq!(stats.tokens_refunded, 6000 - 170);
        assert_eq!(stats.throttled, 0);
        // No cache writes: the input alone.
        let reservation = limiter.try_acquire_now(TokenEstimate::default()).unwrap();
        settle(&limiter, reservation, &Ok(reply(3, 0, None)));
        assert_eq!(limiter.stats().tokens_overrun, 3);
    }

    fn throttled(partial: Option<Response>) -> Error {
        Error::Service(Box::new(ServiceError {
            kind: ServiceErrorKind::Throttling,
            code: "ThrottlingException".into(),
            message: String::new(),
            request_id: None,
            status: Some(429),
            partial: partial.map(Box::new),
        }))
    }

    #[test]
    fn a_throttled_call_slows_the_pace_and_gives_back_what_it_did_not_use() {
        let limiter = Limiter::new(Quota::new().requests_per_minute(60).tokens_per_minute(60_000));
        let estimate = TokenEstimate {
            input: 100,
            max_output: 100,
        };
        let reservation = limiter.try_acquire_now(estimate).unwrap();
        settle(&limiter, reservation, &Err(throttled(None)));
        let stats = limiter.stats();
        assert_eq!((stats.throttled, stats.rate_decreases), (1, 1));
        assert_eq!((stats.window_tokens, stats.tokens_refunded), (0, 200));
        // A throttle that came mid-stream settles at what had been used.
        let later = Instant::now() + Duration::from_secs(10);
        let reservation = limiter.try_acquire(estimate, later).unwrap();
        settle(&limiter, reservation, &Err(throttled(Some(reply(100, 30, None)))));
        let stats = limiter.stats();
        assert_eq!((stats.throttled, stats.window_tokens), (2, 130));
        // Any other failure is no throttle, and gives everything back.
        let reservation = limiter
            .try_acquire(estimate, later + Duration::from_secs(10))
            .unwrap();
        let failed = Error::Cancelled { partial: None };
        settle(&limiter, reservation, &Err(failed));
        let stats = limiter.stats();
        assert_eq!((stats.throttled, stats.settled, stats.window_tokens), (2, 3, 130));
    }

    /// A `Converser` with `quota` whose calls, in these tests, are closures:
    /// its endpoint is never reached.
    fn converser(quota: Quota) -> Converser {
        Converser::builder()
            .region("us-east-1")
            .endpoint_url("http://127.0.0.1:9")
            .credentials("AKIDMOCKEXAMPLE", "mock-secret-key", None)
            .quota(quota)
            .build()
            .unwrap()
    }

    #[test]
    fn a_blocking_call_is_admitted_then_settled_by_its_usage() {
        let converser = converser(Quota::new().requests_per_minute(1).tokens_per_minute(60_000));
        let request = ConverseRequest::new("m").user("hi").max_tokens(100);
        let response = converser
            .metered(&request, None, || Ok(reply(40, 2, None)))
            .unwrap();
        assert_eq!(response, reply(40, 2, None), "the call's own result");
        let stats = converser.limiter_stats().unwrap();
        assert_eq!((stats.calls, stats.settled, stats.window_tokens), (1, 1, 42));
        // The minute's one request is spent: a call past its deadline, or
        // cancelled, ends while waiting, and is never made.
        let past = Some(Instant::now());
        let never = || -> Result<Response, Error> { panic!("the call was made") };
        let err = converser.metered(&request, past, never).unwrap_err();
        assert!(
            matches!(err, Error::Timeout { kind: TimeoutKind::Deadline, partial: None }),
            "{err:?}"
        );
        let token = CancelToken::new();
        token.cancel();
        let cancelled = request.clone().cancel_token(token);
        let err = converser.metered(&cancelled, None, never).unwrap_err();
        assert!(matches!(err, Error::Cancelled { partial: None }), "{err:?}");
        assert_eq!(converser.limiter_stats().unwrap().calls, 1);
    }

    #[test]
    fn a_spawned_call_is_admitted_by_its_gate_and_settled_when_it_ends() {
        let converser = converser(Quota::new().tokens_per_minute(60_000));
        let request = ConverseRequest::new("m").user("hi").max_tokens(100);
        let (Some(gate), Some(on_end)) = converser.spawn_admission(&request) else {
            panic!("a quota gives a gate and a hook");
        };
        assert_eq!(converser.limiter_stats().unwrap().calls, 0, "not before the gate");
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(gate);
        let stats = converser.limiter_stats().unwrap();
        assert_eq!(stats.calls, 1);
        assert!(stats.window_tokens >= 100, "{stats:?}");
        on_end(&Ok(reply(40, 2, None)));
        let stats = converser.limiter_stats().unwrap();
        assert_eq!((stats.settled, stats.window_tokens), (1, 42));
        // Without a quota there is nothing to wait for.
        let free = Converser::builder()
            .region("us-east-1")
            .endpoint_url("http://127.0.0.1:9")
            .credentials("AKIDMOCKEXAMPLE", "mock-secret-key", None)
            .build()
            .unwrap();
        assert!(matches!(free.spawn_admission(&request), (None, None)));
        let response = free.metered(&request, None, || Ok(reply(1, 1, None))).unwrap();
        assert_eq!(response, reply(1, 1, None));
    }
}
