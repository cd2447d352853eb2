//! What a call reserves against the quota and how it settles: the estimate
//! of each part of a request, and the admission and settlement of blocking
//! and spawned calls (their calls are closures: no server is reached).

use std::time::Duration;

use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, DocumentBlock, DocumentFormat, DocumentSource, ImageFormat,
    ToolUseBlock,
};
use serde_json::json;

use super::*;
use crate::client::limiter::{settle, Limiter, Quota};

use crate::error::{ServiceError, ServiceErrorKind};
use crate::model::{Document, Image, Message, Tool, ToolResult, Usage};
use crate::sdk::json::json_to_document;
use crate::Converser;

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
                turn(vec![Document::new(
                    DocumentFormat::Txt,
                    "d",
                    vec![b'x'; bytes],
                )
                .into()]),
            ),
            (
                "tool result text",
                ConverseRequest::new("m").message(Message::tool_results([ToolResult::text(
                    "t",
                    text_of(bytes),
                )])),
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
        .message(Message::tool_results([json_result.with_text(text_of(11))]))
        .tool(tool);
    let bytes = 3 + 5 + 7 + 10 + 5 + 11 + (4 + 6 + 2);
    assert_eq!(bytes, 53);
    assert_eq!(estimate(&request).input, 14, "⌈53 / 4⌉");
    // Each part alone, so none is counted twice or left out.
    let tool_only = ConverseRequest::new("m").tool(Tool::new("look", "looks.", json!({})));
    assert_eq!(estimate(&tool_only).input, 3, "⌈12 / 4⌉");
    let json_only = ConverseRequest::new("m").message(Message::tool_results([ToolResult::json(
        "t",
        json!([1, 2]),
    )]));
    assert_eq!(estimate(&json_only).input, 2, "⌈5 / 4⌉");
}

#[test]
fn an_image_counts_its_fixed_tokens_wherever_it_stands() {
    let image = || Image::new(ImageFormat::Png, vec![0u8; 4000]);
    let in_turn = turn(vec![image().into(), image().into()]);
    assert_eq!(estimate(&in_turn).input, 2 * IMAGE_TOKENS, "not its bytes");
    let in_result = ConverseRequest::new("m").message(Message::tool_results([ToolResult::text(
        "t",
        text_of(8),
    )
    .with_image(image())]));
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
    let limiter = Limiter::new(
        Quota::new()
            .tokens_per_minute(600_000)
            .output_token_weight(5.0),
    );
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
    let limiter = Limiter::new(
        Quota::new()
            .requests_per_minute(60)
            .tokens_per_minute(60_000),
    );
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
    settle(
        &limiter,
        reservation,
        &Err(throttled(Some(reply(100, 30, None)))),
    );
    let stats = limiter.stats();
    assert_eq!((stats.throttled, stats.window_tokens), (2, 130));
    // Any other failure is no throttle, and gives everything back.
    let reservation = limiter
        .try_acquire(estimate, later + Duration::from_secs(10))
        .unwrap();
    let failed = Error::Cancelled { partial: None };
    settle(&limiter, reservation, &Err(failed));
    let stats = limiter.stats();
    assert_eq!(
        (stats.throttled, stats.settled, stats.window_tokens),
        (2, 3, 130)
    );
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
    let converser = converser(
        Quota::new()
            .requests_per_minute(1)
            .tokens_per_minute(60_000),
    );
    let request = ConverseRequest::new("m").user("hi").max_tokens(100);
    let response = converser
        .routed(&request, None, |_, _| (Ok(reply(40, 2, None)), false))
        .unwrap();
    assert_eq!(response, reply(40, 2, None), "the call's own result");
    let stats = converser.limiter_stats().unwrap();
    assert_eq!(
        (stats.calls, stats.settled, stats.window_tokens),
        (1, 1, 42)
    );
    // The minute's one request is spent: a call past its deadline, or
    // cancelled, ends while waiting, and is never made.
    let past = Some(Instant::now());
    let never = |_: usize, _: &ConverseRequest| -> (Result<Response, Error>, bool) {
        panic!("the call was made")
    };
    let err = converser.routed(&request, past, never).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::Deadline,
                partial: None
            }
        ),
        "{err:?}"
    );
    let token = CancelToken::new();
    token.cancel();
    let cancelled = request.clone().cancel_token(token);
    let err = converser.routed(&cancelled, None, never).unwrap_err();
    assert!(matches!(err, Error::Cancelled { partial: None }), "{err:?}");
    assert_eq!(converser.limiter_stats().unwrap().calls, 1);
}

#[test]
fn a_spawned_call_is_admitted_by_its_attempts_and_settled_when_it_ends() {
    let converser = converser(Quota::new().tokens_per_minute(60_000));
    let request = ConverseRequest::new("m").user("hi").max_tokens(100);
    let parts = request.to_sdk().unwrap();
    let (mut attempts, on_end) = converser.spawn_attempts(&request, parts);
    assert_eq!(
        converser.limiter_stats().unwrap().calls,
        0,
        "not before the attempt is admitted"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let Some(Ok((index, _))) = runtime.block_on(attempts.next()) else {
        panic!("a target");
    };
    assert_eq!(index, 0);
    let stats = converser.limiter_stats().unwrap();
    assert_eq!(stats.calls, 1);
    assert!(stats.window_tokens >= 100, "{stats:?}");
    let mut result = Ok(reply(40, 2, None));
    on_end(&mut result);
    let stats = converser.limiter_stats().unwrap();
    assert_eq!((stats.settled, stats.window_tokens), (1, 42));
    // With one target, no target is named, and none is left to try.
    assert_eq!(result.unwrap().answered_by, None);
    assert!(runtime.block_on(attempts.next()).is_none());
    // Without a quota there is nothing to wait for.
    let free = Converser::builder()
        .region("us-east-1")
        .endpoint_url("http://127.0.0.1:9")
        .credentials("AKIDMOCKEXAMPLE", "mock-secret-key", None)
        .build()
        .unwrap();
    assert!(free.limiter_stats().is_none());
    let response = free
        .routed(&request, None, |_, _| (Ok(reply(1, 1, None)), false))
        .unwrap();
    assert_eq!(response, reply(1, 1, None));
}
