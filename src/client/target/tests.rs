//! The router's cooldown: one strike per burst, results of calls sent
//! before a strike ignored, one probe when a cooldown runs out.

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
