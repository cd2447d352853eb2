//! Waiting for the client-side quota: calls wait for it (on the caller's
//! thread, or on the runtime thread for a spawned call), and the wait honours
//! cancel and the deadline.

use crate::support::{assert_timeout, request};
use bedrock_converse::client::Quota;
use bedrock_converse::error::TimeoutKind;
use bedrock_converse::stream::NoopHandler;
use bedrock_converse::{CancelToken, Error};
use bedrock_converse_mock::{MockServer, Reply};
use std::time::{Duration, Instant};

#[test]
fn a_quota_makes_calls_wait_and_the_wait_honours_cancel_and_deadline() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .quota(Quota::new().requests_per_minute(1))
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    converser.converse(&request()).unwrap();
    // The minute's one request is spent: the next call waits, and a
    // deadline reached while waiting ends it with nothing sent.
    let started = Instant::now();
    let err = converser
        .converse_with(&request(), &mut NoopHandler)
        .unwrap_err();
    assert_timeout(&err, TimeoutKind::Deadline);
    assert!(
        started.elapsed() >= Duration::from_millis(390),
        "{:?}",
        started.elapsed()
    );
    // A cancel while waiting ends it too.
    let token = CancelToken::new();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            token.cancel();
        })
    };
    let err = converser
        .converse(&request().cancel_token(token))
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled { partial: None }), "{err:?}");
    canceller.join().unwrap();
    assert_eq!(server.request_count(), 1, "a waiting call sent nothing");
    let stats = converser.limiter_stats().unwrap();
    assert_eq!(stats.calls, 1);
    assert_eq!(stats.waited_calls, 2);
    assert!(stats.total_wait >= Duration::from_millis(450), "{stats:?}");
}

/// A spawned call waits for the quota (and only for it: the service never
/// throttled, so no back-off is involved), on the runtime thread: `spawn`
/// returns at once, the handle's `cancel()` ends the wait, and nothing is
/// sent. The same calls under a quota with room for both do not wait.
#[test]
fn a_spawned_call_waits_for_the_quota_on_the_runtime_thread() {
    let server = MockServer::start().unwrap();
    let quota_of = |requests: u32| {
        server
            .converser_builder()
            .max_attempts(1)
            .quota(Quota::new().requests_per_minute(requests))
            .build()
            .unwrap()
    };
    // A quota of 6000 a minute (one call every 10 ms): the second spawned
    // call goes through well within the 300 ms the other one waits.
    let roomy = quota_of(6000);
    roomy.spawn(&request()).unwrap().wait().unwrap();
    let mut call = roomy.spawn(&request()).unwrap();
    assert!(
        call.wait_timeout(Duration::from_millis(300)).is_some(),
        "a roomy quota made the call wait"
    );
    assert_eq!(server.request_count(), 2);

    // Room for one: the first call succeeds, the second waits.
    let converser = quota_of(1);
    converser.spawn(&request()).unwrap().wait().unwrap();
    let stats = converser.limiter_stats().unwrap();
    assert_eq!((stats.calls, stats.throttled), (1, 0), "{stats:?}");
    let started = Instant::now();
    let mut call = converser.spawn(&request()).unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "spawn returns at once: {:?}",
        started.elapsed()
    );
    assert!(
        call.wait_timeout(Duration::from_millis(300)).is_none(),
        "it did not wait"
    );
    assert_eq!(server.request_count(), 3, "the waiting call sent nothing");
    call.cancel();
    let err = call.wait().unwrap_err();
    assert!(matches!(err, Error::Cancelled { partial: None }), "{err:?}");
    assert_eq!(server.request_count(), 3, "the cancelled call sent nothing");
    let stats = converser.limiter_stats().unwrap();
    assert_eq!((stats.calls, stats.throttled), (1, 0), "{stats:?}");
}

/// A spawned call that the service throttles tells the limiter, as a
/// blocking call does.
#[test]
fn a_throttled_spawned_call_tells_the_limiter() {
    let server = MockServer::start().unwrap();
    let converser = server
        .converser_builder()
        .max_attempts(1)
        .quota(Quota::new().requests_per_minute(10))
        .build()
        .unwrap();
    server.push(Reply::throttling());
    let err = converser.spawn(&request()).unwrap().wait().unwrap_err();
    assert!(err.is_throttling(), "{err:?}");
    assert_eq!(converser.limiter_stats().unwrap().throttled, 1);
}
