//! Failover across models and Regions (`ConverserBuilder::fallback`): which
//! errors move a call and which never do, cooldown and the return to the
//! first target, routing by quota room, every call path, and the answering
//! target in the response. What a moved call ends with (its error, its
//! cost, a fallback model's own streaming) is in `failover_outcomes.rs`.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use bedrock_converse::client::{Quota, Target};
use bedrock_converse::stream::handler_fn;
use bedrock_converse::{ConverseRequest, Converser, Error, Response, StreamEvent};
use bedrock_converse_mock::{Fault, MockServer, Reply, ServerQuota};

pub(crate) const FIRST: &str = "amazon.nova-lite-v1:0";
pub(crate) const SECOND: &str = "amazon.nova-pro-v1:0";

pub(crate) fn request() -> ConverseRequest {
    ConverseRequest::new(FIRST).user("hello")
}

/// A `Converser` on `server` with no SDK retries, whose second target is
/// the model `SECOND` on the same server.
pub(crate) fn two_models(server: &MockServer) -> Converser {
    server
        .converser_builder()
        .max_attempts(1)
        .fallback(Target::new().model_id(SECOND))
        .build()
        .unwrap()
}

/// As [`two_models`], each target with a quota of one call a minute.
fn two_models_one_call_a_minute(server: &MockServer) -> Converser {
    server
        .converser_builder()
        .max_attempts(1)
        .quota(Quota::new().requests_per_minute(1))
        .fallback(
            Target::new()
                .model_id(SECOND)
                .quota(Quota::new().requests_per_minute(1)),
        )
        .build()
        .unwrap()
}

/// The model ids the server was asked for, in order.
pub(crate) fn models(server: &MockServer) -> Vec<String> {
    server.requests().into_iter().map(|r| r.model_id).collect()
}

/// Calls `converse` or `converse_with`, counting the events the handler saw.
fn call(converser: &Converser, streamed: bool) -> (Result<Response, Error>, usize) {
    if !streamed {
        return (converser.converse(&request()), 0);
    }
    let mut events = 0;
    let mut handler = handler_fn(|_: &StreamEvent| {
        events += 1;
        ControlFlow::Continue(())
    });
    let result = converser.converse_with(&request(), &mut handler);
    drop(handler);
    (result, events)
}

#[test]
fn errors_that_delivered_nothing_move_the_call_to_the_next_model() {
    let moving = [
        Reply::throttling(),
        Reply::error(503, "ServiceUnavailableException", "Service unavailable."),
        Reply::error(429, "ModelNotReadyException", "The model is not ready."),
        Reply::error(500, "InternalServerException", "Internal error."),
    ];
    for streamed in [false, true] {
        for first in moving.clone() {
            let server = MockServer::start().unwrap();
            let converser = two_models(&server);
            server.push(first.clone());
            server.push(Reply::text("from the second").deltas(3));
            let (result, events) = call(&converser, streamed);
            let reply = result.unwrap_or_else(|e| panic!("{first:?} was not moved: {e}"));
            assert_eq!(reply.text(), "from the second");
            assert_eq!(models(&server), [FIRST, SECOND], "{first:?}");
            let by = reply.answered_by.expect("the answering target");
            assert_eq!((by.target, by.model_id.as_str()), (1, SECOND));
            assert_eq!(by.region.as_deref(), Some("us-east-1"));
            let stats = converser.target_stats();
            assert_eq!((stats[0].calls, stats[0].failovers), (1, 1), "{first:?}");
            assert_eq!((stats[1].calls, stats[1].answered), (1, 1), "{first:?}");
            if streamed {
                // MessageStart, three deltas, BlockStop, Stop, Metadata: the
                // second target's events only.
                assert_eq!(events, 7, "{first:?}");
            }
        }
    }
}

#[test]
fn a_stream_whose_first_frame_is_a_throttle_moves() {
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    server.push(Reply::text("never").fault(Fault::Exception {
        after: 0,
        exception_type: "throttlingException".into(),
        message: "Too many requests.".into(),
    }));
    server.push(Reply::text("second"));
    let (result, _) = call(&converser, true);
    assert_eq!(result.unwrap().text(), "second");
    assert_eq!(models(&server), [FIRST, SECOND]);
    assert_eq!(converser.target_stats()[0].throttles, 1);
}

#[test]
fn a_validation_error_is_never_moved() {
    for streamed in [false, true] {
        let server = MockServer::start().unwrap();
        let converser = two_models(&server);
        server.push(Reply::error(400, "ValidationException", "Bad input."));
        let (result, _) = call(&converser, streamed);
        let err = result.unwrap_err();
        assert_eq!(
            err.as_service().map(|e| e.message.as_str()),
            Some("Bad input.")
        );
        assert_eq!(models(&server), [FIRST]);
        assert_eq!(converser.target_stats()[0].failovers, 0);
    }
}

#[test]
fn a_stream_that_failed_part_way_is_not_moved_and_keeps_its_partial() {
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    server.push(
        Reply::text("one two three four")
            .word_deltas()
            .fault(Fault::Exception {
                after: 3,
                exception_type: "throttlingException".into(),
                message: "Too many requests.".into(),
            }),
    );
    let (result, events) = call(&converser, true);
    let err = result.unwrap_err();
    assert!(err.is_throttling(), "{err:?}");
    assert!(events > 0);
    let partial = err.partial_response().expect("the partial reply");
    assert!(!partial.text().is_empty(), "{partial:?}");
    assert_eq!(
        models(&server),
        [FIRST],
        "a stream that delivered is never moved"
    );
    assert_eq!(converser.target_stats()[0].failovers, 0);
}

#[test]
fn a_throttled_target_cools_down_and_traffic_returns_to_it_when_it_answers() {
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    server.set_default(Reply::text("ok"));
    server.push(Reply::throttling());
    converser.converse(&request()).unwrap();
    assert_eq!(models(&server), [FIRST, SECOND]);
    assert!(converser.target_stats()[0].cooling_down);
    // While it cools down, calls skip it.
    let reply = converser.converse(&request()).unwrap();
    assert_eq!(reply.answered_by.map(|a| a.target), Some(1));
    assert_eq!(models(&server), [FIRST, SECOND, SECOND]);
    // After the cooldown (1 s) it is probed again, and answers.
    std::thread::sleep(Duration::from_millis(1100));
    assert!(!converser.target_stats()[0].cooling_down);
    for _ in 0..2 {
        let reply = converser.converse(&request()).unwrap();
        assert_eq!(reply.answered_by.map(|a| a.target), Some(0));
    }
    assert_eq!(models(&server), [FIRST, SECOND, SECOND, FIRST, FIRST]);
    let stats = converser.target_stats();
    assert_eq!((stats[0].calls, stats[0].throttles), (3, 1));
    assert_eq!(stats[1].calls, 2);
}

#[test]
fn a_target_without_room_under_its_quota_is_passed_over_without_waiting() {
    let server = MockServer::start().unwrap();
    server.set_default(Reply::text("ok"));
    let converser = two_models_one_call_a_minute(&server);
    let started = Instant::now();
    let targets: Vec<usize> = (0..2)
        .map(|_| {
            converser
                .converse(&request())
                .unwrap()
                .answered_by
                .unwrap()
                .target
        })
        .collect();
    assert_eq!(targets, [0, 1]);
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(models(&server), [FIRST, SECOND]);
    // Both full: the next call waits where room comes first, and a
    // cancelled wait ends at once with nothing sent.
    let token = bedrock_converse::CancelToken::new();
    let cancel = token.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        cancel.cancel();
    });
    let err = converser
        .converse(&request().cancel_token(token))
        .unwrap_err();
    canceller.join().unwrap();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert_eq!(server.request_count(), 2);
}

#[test]
fn a_region_target_is_a_client_of_its_own() {
    let east = MockServer::start().unwrap();
    let west = MockServer::start().unwrap();
    east.push(Reply::throttling());
    west.push(Reply::text("from the west"));
    let converser = east
        .converser_builder()
        .max_attempts(1)
        .fallback(
            Target::new()
                .region("us-west-2")
                .endpoint_url(west.endpoint()),
        )
        .build()
        .unwrap();
    let reply = converser.converse(&request()).unwrap();
    assert_eq!(reply.text(), "from the west");
    let by = reply.answered_by.unwrap();
    assert_eq!((by.target, by.model_id.as_str()), (1, FIRST));
    assert_eq!(by.region.as_deref(), Some("us-west-2"));
    assert_eq!(east.request_count(), 1);
    let sent = west.requests().pop().unwrap();
    assert_eq!(
        sent.model_id, FIRST,
        "the request's own model, in the other Region"
    );
    let auth = sent.header("authorization").unwrap_or_default();
    assert!(
        auth.contains("/us-west-2/bedrock/"),
        "signed for its Region: {auth}"
    );
    let stats = converser.target_stats();
    assert_eq!(stats[1].region.as_deref(), Some("us-west-2"));
}

#[test]
fn the_server_throttles_per_model_so_the_other_model_has_room() {
    let server = MockServer::start().unwrap();
    server.set_default(Reply::text("ok"));
    server.set_quota(ServerQuota::new().requests_per_minute(2));
    let converser = two_models(&server);
    let targets: Vec<usize> = (0..4)
        .map(|_| {
            converser
                .converse(&request())
                .unwrap()
                .answered_by
                .unwrap()
                .target
        })
        .collect();
    assert_eq!(targets, [0, 0, 1, 1]);
    assert_eq!(server.throttled_count(), 1);
    assert!(converser.converse(&request()).unwrap_err().is_throttling());
}

#[test]
fn converse_with_on_runtime_and_extract_fail_over_too() {
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    server.push(Reply::throttling());
    server.push(Reply::text("inline").deltas(2));
    let mut events = 0;
    let mut handler = handler_fn(|_: &StreamEvent| {
        events += 1;
        ControlFlow::Continue(())
    });
    let reply = converser
        .converse_with_on_runtime(&request(), &mut handler)
        .unwrap();
    drop(handler);
    assert_eq!((reply.text().as_str(), events), ("inline", 6));
    assert_eq!(reply.answered_by.map(|a| a.target), Some(1));
    assert_eq!(models(&server), [FIRST, SECOND]);
}

#[cfg(feature = "schema")]
#[test]
fn extract_fails_over() {
    #[derive(Debug, serde::Deserialize, schemars::JsonSchema, PartialEq)]
    struct City {
        name: String,
    }
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    server.push(Reply::error(503, "ServiceUnavailableException", "down"));
    server.push(Reply::json(&serde_json::json!({"name": "Paris"})));
    let extracted = converser.extract::<City>(&request()).unwrap();
    assert_eq!(
        extracted.value,
        City {
            name: "Paris".into()
        }
    );
    assert_eq!(extracted.response.answered_by.map(|a| a.target), Some(1));
    assert_eq!(models(&server), [FIRST, SECOND]);
}

#[test]
fn spawn_fails_over_before_any_event_and_never_after() {
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    server.push(Reply::throttling());
    server.push(Reply::text("spawned second").deltas(2));
    let call = converser.spawn(&request()).unwrap();
    let reply = call.wait().unwrap();
    assert_eq!(reply.text(), "spawned second");
    assert_eq!(reply.answered_by.map(|a| a.target), Some(1));
    assert_eq!(models(&server), [FIRST, SECOND]);
    let stats = converser.target_stats();
    assert_eq!((stats[0].failovers, stats[0].throttles), (1, 1));
    assert_eq!(stats[1].answered, 1);

    // A stream that failed part-way stays where it was, with its partial.
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    server.push(
        Reply::text("one two three")
            .word_deltas()
            .fault(Fault::Exception {
                after: 3,
                exception_type: "serviceUnavailableException".into(),
                message: "gone".into(),
            }),
    );
    let call = converser.spawn(&request()).unwrap();
    let events = call.events().clone();
    let err = call.wait().unwrap_err();
    assert!(events.try_iter().count() > 0);
    assert!(
        err.partial_response().is_some_and(|p| !p.text().is_empty()),
        "{err:?}"
    );
    assert_eq!(models(&server), [FIRST]);
}

#[test]
fn spawn_waits_where_room_comes_first_and_a_cancel_ends_the_wait() {
    let server = MockServer::start().unwrap();
    server.set_default(Reply::text("ok"));
    let converser = two_models_one_call_a_minute(&server);
    let targets: Vec<usize> = (0..2)
        .map(|_| {
            let call = converser.spawn(&request()).unwrap();
            call.wait().unwrap().answered_by.unwrap().target
        })
        .collect();
    assert_eq!(targets, [0, 1]);
    let mut call = converser.spawn(&request()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(call.try_wait().is_none(), "both targets are full: it waits");
    call.cancel();
    assert!(matches!(call.wait(), Err(Error::Cancelled { .. })));
    assert_eq!(server.request_count(), 2);
}

#[test]
fn a_batch_spreads_over_both_models_when_the_first_is_full() {
    use bedrock_converse::batch::{Batch, Record};
    let server = MockServer::start().unwrap();
    server.set_default(Reply::echo(""));
    server.set_quota(ServerQuota::new().requests_per_minute(3));
    let converser = two_models(&server);
    let records: Vec<Record> = (0..6)
        .map(|i| {
            Record::new(
                format!("r{i}"),
                serde_json::json!({"messages": [{"role": "user", "content": [{"text": format!("record {i}")}]}]}),
            )
        })
        .collect();
    let mut answered = [0usize; 2];
    let stats = Batch::new(&converser, FIRST)
        .concurrency(6)
        .run(records, |r| {
            let reply = r.outcome.as_ref().expect("every record answered");
            answered[reply.answered_by.as_ref().unwrap().target] += 1;
        })
        .unwrap();
    assert_eq!((stats.succeeded, stats.failed), (6, 0));
    assert_eq!(answered, [3, 3]);
    assert!(server.throttled_count() >= 1);
    let stats = converser.target_stats();
    assert_eq!(stats[0].answered + stats[1].answered, 6);
    assert!(stats[0].failovers >= 1);
}

#[test]
fn a_spawned_call_skips_a_cooling_target_and_sends_the_fallback_s_model() {
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    server.set_default(Reply::text("ok"));
    server.push(Reply::throttling());
    converser.converse(&request()).unwrap();
    let reply = converser.spawn(&request()).unwrap().wait().unwrap();
    let by = reply.answered_by.unwrap();
    assert_eq!((by.target, by.model_id.as_str()), (1, SECOND));
    assert_eq!(models(&server), [FIRST, SECOND, SECOND]);
}

#[test]
fn with_one_target_no_target_is_named() {
    let server = MockServer::start().unwrap();
    let converser = server.converser().unwrap();
    server.set_default(Reply::text("ok"));
    assert!(converser
        .converse(&request())
        .unwrap()
        .answered_by
        .is_none());
    let spawned = converser.spawn(&request()).unwrap().wait().unwrap();
    assert!(spawned.answered_by.is_none());
    assert_eq!(converser.target_stats().len(), 1);
    assert_eq!(converser.target_stats()[0].answered, 2);
}

#[test]
fn a_spawned_call_that_goes_through_converse_fails_over_too() {
    // gpt-oss cannot stream: a spawned call to it goes through Converse,
    // and a throttle there moves it as a stream's first-frame throttle does.
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .max_attempts(1)
        .fallback(Target::new().model_id("openai.gpt-oss-120b-1:0"))
        .build()
        .unwrap();
    server.push(Reply::throttling());
    server.push(Reply::text("from the second"));
    let request = ConverseRequest::new("openai.gpt-oss-20b-1:0").user("hello");
    let call = converser.spawn(&request).unwrap();
    let events = call.events().clone();
    let reply = call.wait().unwrap();
    assert_eq!(reply.text(), "from the second");
    assert_eq!(reply.answered_by.map(|a| a.target), Some(1));
    assert!(reply.stream_fallback.is_some());
    assert!(events.try_iter().count() > 0);
    assert_eq!(
        models(&server),
        ["openai.gpt-oss-20b-1:0", "openai.gpt-oss-120b-1:0"]
    );
    // A 400 from Converse is not moved.
    server.push(Reply::error(400, "ValidationException", "Bad input."));
    let err = converser.spawn(&request).unwrap().wait().unwrap_err();
    assert!(matches!(err, Error::Service(_)), "{err:?}");
    assert_eq!(server.requests().len(), 3);
}
