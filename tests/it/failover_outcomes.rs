//! What a call that failover moved ends with: the error when every target
//! failed or the last one refused it, the cost of its reply (whole or
//! partial) at the model that answered, an extraction priced attempt by
//! attempt, and a fallback model's own ability to stream.

use std::ops::ControlFlow;
use std::time::Duration;

use bedrock_converse::batch::{Batch, Record};
use bedrock_converse::client::Target;
use bedrock_converse::model::{Cost, StreamFallback, Tier, Usage};
use bedrock_converse::stream::handler_fn;
use bedrock_converse::{Error, StreamEvent};
use bedrock_converse_mock::{MockServer, Operation, Reply};

use super::failover::{models, request, two_models, FIRST, SECOND};

#[test]
fn when_every_target_fails_the_last_error_comes_back() {
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    server.push(Reply::error(
        503,
        "ServiceUnavailableException",
        "first is down",
    ));
    server.push(Reply::error(
        503,
        "ServiceUnavailableException",
        "second is down",
    ));
    let err = converser.converse(&request()).unwrap_err();
    assert_eq!(
        err.as_service().map(|e| e.message.as_str()),
        Some("second is down")
    );
    assert_eq!(models(&server), [FIRST, SECOND]);
    // A throttle from the last target is still a throttle for the caller
    // (Batch's own retry looks for it).
    // Both cool down now; the next call still probes each in turn.
    server.push(Reply::throttling());
    server.push(Reply::throttling());
    assert!(converser.converse(&request()).unwrap_err().is_throttling());
    assert_eq!(models(&server), [FIRST, SECOND, FIRST, SECOND]);
}

#[test]
fn the_cost_is_the_answering_models() {
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    server.push(Reply::throttling());
    server.push(Reply::text("priced").usage(1000, 500));
    let reply = converser.converse(&request()).unwrap();
    let usage = Usage::new(1000, 500, 1500);
    let second = Cost::of(&usage, SECOND, &Tier::Standard).unwrap();
    let first = Cost::of(&usage, FIRST, &Tier::Standard).unwrap();
    assert_ne!(first.total(), second.total());
    let cost = reply.cost(FIRST).expect("priced");
    assert!(
        (cost.total() - second.total()).abs() < 1e-12,
        "{cost:?} vs {second:?}"
    );
}

#[test]
fn a_refusal_from_a_later_target_does_not_hide_the_first_target_s_throttle() {
    // The second target refuses outright (its model is not enabled in that
    // account, say): the call ends with the first target's throttle, which
    // a caller retries, not with a refusal it would take as final.
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    let denied = || Reply::error(403, "AccessDeniedException", "not enabled here");
    server.push(Reply::throttling());
    server.push(denied());
    let err = converser.converse(&request()).unwrap_err();
    assert!(err.is_throttling(), "{err:?}");
    assert_eq!(models(&server), [FIRST, SECOND]);
    // A streamed and a spawned call end the same way. (The first target
    // cools down after its throttle; a 500 moves a call without that.)
    for spawned in [false, true] {
        let moved = Reply::error(500, "InternalServerException", "boom");
        server.push(moved);
        server.push(denied());
        let err = if spawned {
            converser.spawn(&request()).unwrap().wait().unwrap_err()
        } else {
            let mut ignore = handler_fn(|_: &StreamEvent| ControlFlow::Continue(()));
            converser
                .converse_with(&request(), &mut ignore)
                .unwrap_err()
        };
        assert_eq!(
            err.as_service().map(|e| e.code.as_str()),
            Some("InternalServerException"),
            "spawned: {spawned}, {err:?}"
        );
    }
    // A refusal with no earlier failure is the caller's to see.
    let lone = server.converser_builder().max_attempts(1).build().unwrap();
    server.push(denied());
    let err = lone.converse(&request()).unwrap_err();
    assert_eq!(
        err.as_service().map(|e| e.code.as_str()),
        Some("AccessDeniedException")
    );
}

#[test]
fn a_batch_retries_a_record_throttled_first_and_refused_by_the_fallback() {
    let server = MockServer::start().unwrap();
    server.set_default(Reply::text("ok"));
    let converser = two_models(&server);
    server.push(Reply::throttling());
    server.push(Reply::error(
        403,
        "AccessDeniedException",
        "not enabled here",
    ));
    let record = Record::new(
        "r0",
        serde_json::json!({"messages": [{"role": "user", "content": [{"text": "hello"}]}]}),
    );
    let mut outcomes = Vec::new();
    let stats = Batch::new(&converser, FIRST)
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .run(vec![record], |r| outcomes.push(r.outcome.is_ok()))
        .unwrap();
    assert_eq!((stats.succeeded, stats.failed), (1, 0));
    assert_eq!(outcomes, [true]);
    assert_eq!(server.requests().len(), 3, "{:?}", models(&server));
}

#[test]
fn a_partial_reply_is_priced_at_the_model_that_answered_it() {
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    server.push(Reply::throttling());
    server.push(Reply::text("partly priced").usage(1000, 500));
    // The handler stops at the last event: the error carries the reply.
    let mut stop_at_metadata = handler_fn(|event: &StreamEvent| {
        if matches!(event, StreamEvent::Metadata(_)) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    let err = converser
        .converse_with(&request(), &mut stop_at_metadata)
        .unwrap_err();
    assert!(matches!(err, Error::Stopped { .. }), "{err:?}");
    let partial = err.partial_response().expect("the reply so far");
    assert_eq!(partial.answered_by.as_ref().map(|a| a.target), Some(1));
    let second = Cost::of(&Usage::new(1000, 500, 1500), SECOND, &Tier::Standard).unwrap();
    let cost = partial.cost(FIRST).expect("priced");
    assert!((cost.total() - second.total()).abs() < 1e-12, "{cost:?}");
}

#[cfg(feature = "schema")]
#[test]
fn an_extraction_re_asked_on_another_target_is_priced_attempt_by_attempt() {
    #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
    struct City {
        #[allow(dead_code)]
        name: String,
    }
    let server = MockServer::start().unwrap();
    let converser = two_models(&server);
    // The first target's reply is not JSON; the re-ask finds it throttled
    // and goes to the second.
    server.push(Reply::text("Paris, I think").usage(1000, 0));
    server.push(Reply::throttling());
    server.push(Reply::json(&serde_json::json!({"name": "Paris"})).usage(0, 1000));
    let request = request();
    let extract = bedrock_converse::client::Extract::new(
        &request,
        bedrock_converse::client::ExtractOptions::new().retries(1),
    );
    let extracted = converser.extract::<City>(extract).unwrap();
    assert_eq!(models(&server), [FIRST, FIRST, SECOND]);
    let first = Cost::of(&Usage::new(1000, 0, 1000), FIRST, &Tier::Standard).unwrap();
    let second = Cost::of(&Usage::new(0, 1000, 1000), SECOND, &Tier::Standard).unwrap();
    let cost = extracted.cost.expect("both attempts priced");
    assert!(
        (cost.total() - (first.total() + second.total())).abs() < 1e-12,
        "{cost:?} vs {first:?} + {second:?}"
    );
    // Priced as one model, the summed usage would say something else.
    let summed = extracted.response.cost(FIRST).unwrap();
    assert!((summed.total() - cost.total()).abs() > 1e-9);
}

/// A `Converser` whose second target is a model the catalogue does not
/// know, on a lenient server that plays what is scripted for it.
fn with_streamless_fallback(server: &MockServer, model: &str) -> bedrock_converse::Converser {
    server.set_lenient(true);
    server
        .converser_builder()
        .max_attempts(1)
        .fallback(Target::new().model_id(model))
        .build()
        .unwrap()
}

fn operations(server: &MockServer) -> Vec<(String, Option<Operation>)> {
    let requests = server.requests().into_iter();
    requests.map(|r| (r.model_id, r.operation)).collect()
}

#[test]
fn a_fallback_model_that_refuses_to_stream_answers_through_converse_and_is_learnt_as_itself() {
    for spawned in [false, true] {
        let streamless = "example.streamless-fallback-v1:0";
        let server = MockServer::start().unwrap();
        let converser = with_streamless_fallback(&server, streamless);
        // A 500 moves the call without cooling the first target down.
        let moved = || Reply::error(500, "InternalServerException", "boom");
        let refusal = "The model is unsupported for streaming.";
        server.push(moved());
        server.push(Reply::error(400, "ValidationException", refusal));
        server.push(Reply::text("whole").usage(3, 1));
        let call = |converser: &bedrock_converse::Converser| {
            if spawned {
                let call = converser.spawn(&request()).unwrap();
                let events = call.events().clone();
                let reply = call.wait().unwrap();
                (reply, events.try_iter().count())
            } else {
                let mut events = 0;
                let mut count = handler_fn(|_: &StreamEvent| {
                    events += 1;
                    ControlFlow::Continue(())
                });
                let reply = converser.converse_with(&request(), &mut count).unwrap();
                drop(count);
                (reply, events)
            }
        };
        let (reply, events) = call(&converser);
        assert_eq!(reply.text(), "whole");
        assert!(events > 0, "the handler got the whole reply");
        assert_eq!(
            reply.stream_fallback,
            Some(StreamFallback::ModelCannotStream)
        );
        assert_eq!(reply.answered_by.map(|a| a.target), Some(1));
        use Operation::{Converse, ConverseStream};
        let stream = |m: &str| (m.to_owned(), Some(ConverseStream));
        let whole = |m: &str| (m.to_owned(), Some(Converse));
        assert_eq!(
            operations(&server),
            [stream(FIRST), stream(streamless), whole(streamless)],
            "spawned: {spawned}"
        );
        // Learnt for the fallback model, not for the request's own: the
        // next call streams from the first target ...
        server.push(Reply::text("streamed"));
        let (reply, _) = call(&converser);
        assert_eq!(reply.stream_fallback, None);
        // ... and one moved to the fallback goes straight to Converse there.
        server.push(moved());
        server.push(Reply::text("whole again"));
        let (reply, _) = call(&converser);
        assert_eq!(reply.text(), "whole again");
        assert_eq!(
            operations(&server)[3..],
            [stream(FIRST), stream(FIRST), whole(streamless)],
            "spawned: {spawned}"
        );
    }
}
