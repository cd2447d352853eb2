//! The router: its cooldown (one strike per burst, results of calls sent
//! before a strike ignored, one probe when a cooldown runs out), the
//! claims it leaves on the targets it passes over, and the error a moved
//! call ends with.

use super::*;
use crate::error::{ServiceError, ServiceErrorKind};
use crate::model::Response;

fn throttled() -> Error {
    Error::Service(Box::new(ServiceError {
        kind: ServiceErrorKind::Throttling,
        code: "ThrottlingException".into(),
        message: String::new(),
        request_id: None,
        status: Some(429),
        partial: None,
    }))
}

/// Two targets without quotas: the request's model, then "b".
fn router() -> Router {
    Router::new(None, &[Target::new().model_id("b")])
}

fn go(router: &Router, tried: &[bool]) -> Route {
    match router.choose("a", TokenEstimate::default(), tried, Instant::now()) {
        Choice::Go(route) => route,
        other => panic!("{other:?}"),
    }
}

fn until(router: &Router, index: usize) -> Option<Instant> {
    router.slots[index].health.lock().unwrap().until
}

#[test]
fn a_burst_of_throttles_from_calls_in_flight_together_is_one_strike() {
    let router = router();
    let mut routes: Vec<Route> = (0..8).map(|_| go(&router, &[false, false])).collect();
    assert!(routes.iter().all(|r| r.index == 0));
    let before = Instant::now();
    for route in &mut routes {
        router.finish(route, Err(&throttled()), false, true);
    }
    let until = until(&router, 0).expect("cooling");
    // One strike: the first cooldown (1 s), not 1, 2, 4 ... 60 s.
    assert!(
        until <= Instant::now() + COOLDOWN_START,
        "{:?}",
        until - before
    );
    assert!(until >= before + COOLDOWN_START);
    assert_eq!(router.slots[0].health.lock().unwrap().strikes, 1);
    // Meanwhile calls go to the other target.
    assert_eq!(go(&router, &[false, false]).index, 1);
}

#[test]
fn a_throttle_from_a_call_sent_after_the_strike_doubles_the_cooldown() {
    let router = router();
    let mut first = go(&router, &[false, false]);
    router.finish(&mut first, Err(&throttled()), false, true);
    // A call routed after the strike (the probe) is throttled too.
    let mut probe = Route {
        index: 0,
        model_id: "a".into(),
        reservation: None,
        sent: Instant::now() + Duration::from_millis(1),
    };
    let before = Instant::now();
    router.finish(&mut probe, Err(&throttled()), false, true);
    let until = until(&router, 0).expect("cooling");
    assert!(until >= before + 2 * COOLDOWN_START);
    assert!(until <= Instant::now() + 2 * COOLDOWN_START);
}

#[test]
fn a_success_sent_before_the_strike_does_not_end_the_cooldown_and_one_sent_after_does() {
    let router = router();
    let mut old = go(&router, &[false, false]);
    let mut throttled_call = go(&router, &[false, false]);
    std::thread::sleep(Duration::from_millis(2));
    router.finish(&mut throttled_call, Err(&throttled()), false, true);
    // The old call, sent before the throttle, ends well: still cooling.
    router.finish(&mut old, Ok(&Response::default()), false, true);
    assert!(router.slots[0].cooling(Instant::now()));
    // A call sent after the strike ends well: the target is back.
    let mut fresh = Route {
        index: 0,
        model_id: "a".into(),
        reservation: None,
        sent: Instant::now() + Duration::from_millis(1),
    };
    router.finish(&mut fresh, Ok(&Response::default()), false, true);
    assert_eq!(until(&router, 0), None);
    assert_eq!(go(&router, &[false, false]).index, 0);
}

#[test]
fn when_a_cooldown_runs_out_one_call_probes_and_the_others_wait_for_it() {
    let router = router();
    let mut first = go(&router, &[false, false]);
    router.finish(&mut first, Err(&throttled()), false, true);
    // The cooldown ran out.
    router.slots[0].health.lock().unwrap().until = Some(Instant::now());
    let mut probe = go(&router, &[false, false]);
    assert_eq!(probe.index, 0, "the first call probes the target");
    for _ in 0..5 {
        assert_eq!(go(&router, &[false, false]).index, 1, "the rest go on");
    }
    router.finish(&mut probe, Ok(&Response::default()), false, true);
    assert_eq!(go(&router, &[false, false]).index, 0, "traffic returns");
}

/// Target 0 with a quota of 1,000 tokens a minute, target 1 without one.
fn metered() -> Router {
    let quota = crate::client::Quota::new().tokens_per_minute(1_000);
    Router::new(Some(quota), &[Target::new().model_id("b")])
}

fn tokens(input: u32) -> TokenEstimate {
    TokenEstimate {
        input,
        max_output: 0,
    }
}

#[test]
fn a_call_too_big_for_a_target_it_passes_over_leaves_that_target_free() {
    let router = metered();
    let t0 = Instant::now();
    let at = |secs| t0 + Duration::from_secs(secs);
    let both = [false, false];
    let route = |choice| match choice {
        Choice::Go(route) => route.index,
        other => panic!("{other:?}"),
    };
    // Target 0's window holds a small call.
    assert_eq!(route(router.choose("a", tokens(1), &both, at(0))), 0);
    // A call over target 0's whole minute of tokens fits there only once
    // its window is empty: it goes to target 1 now ...
    assert_eq!(route(router.choose("a", tokens(1_001), &both, at(1))), 1);
    // ... and leaves no claim on target 0: small calls still go there.
    assert_eq!(route(router.choose("a", tokens(1), &both, at(2))), 0);
}

#[test]
fn a_call_too_big_for_the_only_target_left_holds_it_until_the_call_fits() {
    let router = metered();
    let t0 = Instant::now();
    let at = |secs| t0 + Duration::from_secs(secs);
    let only_0 = [false, true];
    let Choice::Go(_) = router.choose("a", tokens(1), &only_0, at(0)) else {
        panic!("room for a small call");
    };
    // Target 1 tried: the big call waits for target 0 ...
    let Choice::Wait(wait) = router.choose("a", tokens(1_001), &only_0, at(1)) else {
        panic!("the big call waits");
    };
    assert!(wait > Duration::ZERO);
    // ... which holds smaller calls back meanwhile, so they cannot starve it.
    assert!(matches!(
        router.choose("a", tokens(1), &only_0, at(2)),
        Choice::Wait(_)
    ));
}

fn service(kind: ServiceErrorKind, code: &str, status: u16) -> Error {
    Error::Service(Box::new(ServiceError {
        kind,
        code: code.into(),
        message: String::new(),
        request_id: None,
        status: Some(status),
        partial: None,
    }))
}

fn code(error: &Error) -> Option<&str> {
    error.as_service().map(|e| e.code.as_str())
}

#[test]
fn a_moved_call_refused_by_its_last_target_ends_with_the_earlier_error() {
    let denied = || service(ServiceErrorKind::AccessDenied, "AccessDeniedException", 403);
    let invalid = || Error::invalid("messages", "cannot be sent with this model");
    // A refusal (a client error, or a request the target cannot take)
    // after a move keeps the earlier error.
    assert!(ending_error(Some(throttled()), denied()).is_throttling());
    assert!(ending_error(Some(throttled()), invalid()).is_throttling());
    // With no earlier error, the refusal is the call's.
    assert_eq!(
        code(&ending_error(None, denied())),
        Some("AccessDeniedException")
    );
    // An error that would itself move a call (a throttle, a 5xx) is the
    // latest word on the service's state: it is kept.
    let unavailable = service(
        ServiceErrorKind::InternalServer,
        "InternalServerException",
        500,
    );
    let last = ending_error(Some(throttled()), unavailable);
    assert_eq!(code(&last), Some("InternalServerException"));
    // So is an error of the call itself (cancelled, timed out) or one
    // after something was delivered.
    let cancelled = ending_error(Some(throttled()), Error::Cancelled { partial: None });
    assert!(matches!(cancelled, Error::Cancelled { .. }));
    let partial = Box::new(Response::default());
    let stopped = ending_error(Some(throttled()), Error::Stopped { partial });
    assert!(matches!(stopped, Error::Stopped { .. }));
}

#[test]
fn a_target_keeps_what_it_was_given_and_leaves_the_rest_to_the_builder() {
    let quota = crate::client::Quota::new().requests_per_minute(150);
    let target = Target::new()
        .model_id("us.amazon.nova-pro-v1:0")
        .region("us-west-2")
        .endpoint_url("http://127.0.0.1:9")
        .quota(quota);
    assert_eq!(target.get_model_id(), Some("us.amazon.nova-pro-v1:0"));
    assert_eq!(target.get_region(), Some("us-west-2"));
    assert_eq!(target.get_endpoint_url(), Some("http://127.0.0.1:9"));
    assert_eq!(target.get_quota(), Some(quota));
    let own = Target::new();
    assert_eq!(
        (own.get_model_id(), own.get_region(), own.get_endpoint_url()),
        (None, None, None)
    );
    assert_eq!(own.get_quota(), None);
    // Each setter sets only its own part.
    let only_region = Target::new().region("eu-west-1");
    assert_eq!(only_region.get_model_id(), None);
    assert_eq!(only_region, Target::new().region("eu-west-1"));
}

#[test]
fn a_router_knows_its_targets_models_regions_and_cooldowns() {
    let mut router = Router::new(
        None,
        &[
            Target::new().model_id("b"),
            Target::new().region("us-west-2"),
            Target::new().model_id("b"),
        ],
    );
    assert_eq!(router.len(), 4);
    // Each model once, in target order; targets without one use the request's.
    assert_eq!(router.model_ids("a"), ["a", "b"]);
    router.set_regions(vec![
        Some("us-east-1".into()),
        None,
        Some("us-west-2".into()),
    ]);
    let stats = router.stats();
    assert_eq!(stats[0].region.as_deref(), Some("us-east-1"));
    assert_eq!(stats[2].region.as_deref(), Some("us-west-2"));
    assert_eq!(stats[1].model_id.as_deref(), Some("b"));
    assert!(stats.iter().all(|s| !s.cooling_down));
    // A throttled target shows as cooling down until its cooldown ends.
    let mut first = go(&router, &[false; 4]);
    router.finish(&mut first, Err(&throttled()), false, true);
    let now = Instant::now();
    assert!(router.slots[0].cooling(now));
    assert!(router.stats()[0].cooling_down);
    let until = until(&router, 0).unwrap();
    assert!(!router.slots[0].cooling(until), "over at its end");
    assert!(router.slots[0].cooling(until - Duration::from_millis(1)));
}
