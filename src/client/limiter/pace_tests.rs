//! The pacer on its own clock (seconds, `f64`): GCRA spacing and burst,
//! the AIMD rate, the burst's growth and blame, and learning mode, each at
//! the values the module documentation states.

use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// 10 calls a second at full rate: an interval of 0.1 s, less than the
/// starting burst of 0.5 s.
fn ten_a_second() -> Pacer {
    Pacer::new(Some(600), None, false)
}

/// Admits calls at `now` until the pacer holds one back (which counts as
/// pressing it); returns how many went.
fn fill(p: &mut Pacer, now: f64) -> usize {
    let mut admitted = 0;
    while p.wait(now, 0) == 0.0 {
        p.admit(now, 0);
        admitted += 1;
    }
    admitted
}

#[test]
fn an_idle_pacer_lets_a_call_go_and_the_next_one_interval_after_it() {
    // One call a second: the interval (1 s) is longer than the burst.
    let mut p = Pacer::new(Some(60), None, false);
    assert_eq!(p.wait(10.0, 0), 0.0);
    p.admit(10.0, 0);
    assert_eq!(p.wait(10.0, 0), 1.0);
    assert_eq!(p.wait(10.25, 0), 0.75);
    assert_eq!(p.wait(11.0, 0), 0.0);
    // After a pause nothing is owed: the schedule restarts from the call.
    p.admit(50.0, 0);
    assert_eq!(p.wait(50.5, 0), 0.5);
}

#[test]
fn calls_may_run_the_burst_ahead_of_an_even_pace() {
    let mut p = ten_a_second();
    assert_eq!(p.burst(), INITIAL_BURST);
    // Half a second of quota at once (the last one within the rounding
    // of a microsecond), then one every 0.1 s.
    assert_eq!(fill(&mut p, 10.0), 5);
    assert!(close(p.wait(10.0, 0), 0.1), "{}", p.wait(10.0, 0));
    assert!(close(p.wait(10.05, 0), 0.05));
    assert_eq!(fill(&mut p, 10.1), 1);
}

#[test]
fn tokens_are_paced_by_the_tpm_and_a_call_larger_than_the_burst_fits_an_idle_pacer() {
    // 6,000 TPM: 100 tokens a second.
    let mut p = Pacer::new(None, Some(6_000), false);
    // 1,000 tokens take 10 s of quota, far more than the burst: alone, they go.
    assert_eq!(p.wait(10.0, 1_000), 0.0);
    p.admit(10.0, 1_000);
    // The next call waits for them: 10 s, less the burst its own 100 may use.
    assert_eq!(p.wait(10.0, 100), 10.0);
    assert_eq!(p.wait(15.0, 25), 4.75);
    // A pacer without a TPM does not count tokens.
    let mut p = Pacer::new(Some(60), None, false);
    p.admit(10.0, u64::from(u32::MAX));
    assert_eq!(p.wait(11.0, u64::from(u32::MAX)), 0.0);
}

#[test]
fn a_refund_gives_back_tokens_and_a_charge_books_them_from_now() {
    let mut p = Pacer::new(None, Some(6_000), false);
    p.admit(10.0, 500); // 5 s of quota
    p.refund(300); // 3 s back
    assert_eq!(p.wait(10.0, 50), 2.0);
    p.charge(10.0, 200); // 2 s more
    assert_eq!(p.wait(10.0, 50), 4.0);
    // A charge after the schedule ran out counts from the charge.
    p.charge(20.0, 100);
    assert_eq!(p.wait(20.0, 50), 1.0);
}

#[test]
fn a_throttle_cuts_the_rate_and_the_next_call_goes_one_interval_later() {
    // 10 calls and 1,000 tokens a second.
    let mut p = Pacer::new(Some(600), Some(60_000), false);
    assert_eq!(p.factor(), 1.0);
    p.admit(10.0, 100);
    assert!(p.throttled(10.0, 10.5));
    assert_eq!(p.factor(), THROTTLE_DECREASE);
    assert_eq!((p.rate_decreases, p.burst_decreases), (1, 0));
    assert_eq!(p.burst(), INITIAL_BURST);
    // No burst: a call goes one interval at the new rate after the
    // throttle, 1 / (10 × 0.7) s for the request...
    let interval = 1.0 / (10.0 * THROTTLE_DECREASE);
    assert!(close(p.wait(10.5, 0), interval), "{}", p.wait(10.5, 0));
    // ...or its tokens' time at the new rate if longer: 140 / 700 s.
    assert!(close(p.wait(10.5, 140), 0.2), "{}", p.wait(10.5, 140));
    // And the pace stays at the new rate.
    p.admit(10.5 + interval, 0);
    assert!(close(p.wait(10.5 + interval, 0), interval));
}

#[test]
fn throttles_of_calls_sent_before_the_last_reaction_do_not_compound() {
    let mut p = Pacer::new(Some(60), None, false);
    assert!(p.throttled(4.0, 5.0));
    assert!(!p.throttled(4.9, 5.2), "sent before the reaction");
    assert_eq!((p.factor(), p.rate_decreases), (THROTTLE_DECREASE, 1));
    assert!(p.throttled(5.1, 5.5), "sent after it");
    assert!(close(p.factor(), THROTTLE_DECREASE * THROTTLE_DECREASE));
    assert_eq!(p.rate_decreases, 2);
}

#[test]
fn the_rate_recovers_by_its_share_of_the_quota_a_second_since_it_last_changed() {
    let mut p = Pacer::new(Some(60), None, false);
    p.throttled(10.0, 10.0);
    p.succeeded(15.0);
    assert!(close(
        p.factor(),
        THROTTLE_DECREASE + 5.0 * RECOVERY_PER_SECOND
    ));
    // Counted from the last change, not from the throttle.
    p.succeeded(16.0);
    assert!(close(
        p.factor(),
        THROTTLE_DECREASE + 6.0 * RECOVERY_PER_SECOND
    ));
    // The rate paces calls: 1 / 0.82 s apart now.
    p.admit(16.0, 0);
    let wait = p.wait(16.0, 0);
    assert!(close(wait, 1.0 / p.factor()), "{wait}");
    // Up to the quota, not beyond.
    p.succeeded(100.0);
    assert_eq!(p.factor(), 1.0);
}

#[test]
fn the_burst_grows_while_the_pacer_holds_calls_back_and_only_then() {
    let mut p = ten_a_second();
    fill(&mut p, 10.0); // held back at 10 s
                        // Up to a second later it still counts as holding calls back; the
                        // burst grows by 15 % for a second since it last grew (at most one).
    p.succeeded(10.5);
    let grown = INITIAL_BURST * (1.0 + BURST_GROWTH);
    assert!(close(p.burst(), grown), "{}", p.burst());
    p.succeeded(11.0);
    let grown = grown * (1.0 + BURST_GROWTH * 0.5);
    assert!(close(p.burst(), grown), "{}", p.burst());
    // Past a second it does not.
    p.succeeded(11.5);
    assert!(close(p.burst(), grown));
    // Nor does it while calls go as they come.
    let mut p = ten_a_second();
    for i in 0..20 {
        let now = 10.0 + f64::from(i);
        assert_eq!(p.wait(now, 0), 0.0);
        p.admit(now, 0);
        p.succeeded(now);
    }
    assert_eq!(p.burst(), INITIAL_BURST);
}

#[test]
fn a_throttle_blames_a_grown_burst_first_which_then_grows_to_half_of_what_it_was() {
    let mut p = ten_a_second();
    // Held back every second, the burst grows to its largest, a minute.
    let mut now = 10.0;
    for _ in 0..40 {
        fill(&mut p, now);
        p.succeeded(now);
        now += 1.0;
    }
    assert_eq!(p.burst(), MAX_BURST);
    // A throttle (once the calls sent ahead are paid for) is the burst's:
    // it drops back to the start, the rate stays, and the next call goes
    // one interval later.
    now += 100.0;
    assert!(p.throttled(now, now));
    assert_eq!((p.burst(), p.factor()), (INITIAL_BURST, 1.0));
    assert_eq!((p.burst_decreases, p.rate_decreases), (1, 0));
    assert!(close(p.wait(now, 0), 0.1), "{}", p.wait(now, 0));
    // Held back again, it grows back to half of what it was.
    for _ in 0..40 {
        now += 1.0;
        fill(&mut p, now);
        p.succeeded(now);
    }
    assert_eq!(p.burst(), MAX_BURST / 2.0);
    // The next throttle is the burst's again, and with the burst at its
    // start the one after is the rate's.
    assert!(p.throttled(now, now));
    assert_eq!((p.burst_decreases, p.rate_decreases), (2, 0));
    assert!(p.throttled(now + 1.0, now + 1.0));
    assert_eq!((p.burst_decreases, p.rate_decreases), (2, 1));
    assert_eq!(p.factor(), THROTTLE_DECREASE);
}

#[test]
fn a_throttle_while_a_grown_burst_is_in_use_paces_the_next_call_from_now() {
    let mut p = ten_a_second();
    let mut now = 10.0;
    for _ in 0..40 {
        fill(&mut p, now);
        p.succeeded(now);
        now += 1.0;
    }
    // The whole minute of burst in use: calls sent a minute ahead.
    fill(&mut p, now);
    assert!(p.wait(now, 0) > 0.0);
    // A throttle now restarts the schedule: the next call goes one
    // interval from now, not once the minute sent ahead is paid for.
    assert!(p.throttled(now, now));
    assert!(close(p.wait(now, 0), 0.1), "{}", p.wait(now, 0));
    assert_eq!(fill(&mut p, now + 0.1), 1);
}

#[test]
fn a_burst_grown_for_a_second_is_blamed_before_the_rate() {
    let mut p = ten_a_second();
    fill(&mut p, 10.0);
    p.succeeded(10.5);
    assert!(close(p.burst(), INITIAL_BURST * (1.0 + BURST_GROWTH)));
    assert!(p.throttled(10.5, 10.5));
    assert_eq!((p.burst_decreases, p.rate_decreases), (1, 0));
    assert_eq!((p.burst(), p.factor()), (INITIAL_BURST, 1.0));
}

#[test]
fn only_a_learning_pacer_without_a_quota_learns_a_rate() {
    // With a quota, a throttle cuts the rate it has; an RPM is not learned.
    for learn in [false, true] {
        let mut p = Pacer::new(None, Some(6_000), learn);
        p.admit(10.0, 0);
        p.throttled(10.0, 10.0);
        assert_eq!(p.full_rate(), None);
        assert_eq!(p.wait(10.0, 0), 0.0, "calls are not counted");
    }
    // Without a quota and not learning, nothing is ever held back.
    let mut p = Pacer::new(None, None, false);
    p.admit(10.0, 0);
    p.throttled(10.0, 10.0);
    assert_eq!((p.full_rate(), p.wait(10.0, 0)), (None, 0.0));
}

#[test]
fn a_learning_pacer_sets_its_rate_from_the_calls_of_the_last_five_seconds() {
    let mut p = Pacer::new(None, None, true);
    // Two a second for ten seconds: only what the last five held counts,
    // and nothing is held back before the first throttle.
    for i in 0..20 {
        let now = 10.0 + 0.5 * f64::from(i);
        assert_eq!(p.wait(now, 0), 0.0);
        p.admit(now, 0);
    }
    assert_eq!(p.full_rate(), None);
    assert!(p.throttled(19.5, 19.5));
    assert_eq!(p.full_rate(), Some(2.0));
    // Paced at once, at the learned rate cut by the throttle: one interval
    // after the throttle.
    let interval = 1.0 / (2.0 * THROTTLE_DECREASE);
    assert!(close(p.wait(19.5, 0), interval), "{}", p.wait(19.5, 0));
    // Later throttles adapt that rate; they do not measure again.
    for i in 0..5 {
        p.admit(21.0 + f64::from(i), 0);
    }
    assert!(p.throttled(25.0, 25.5));
    assert_eq!(p.full_rate(), Some(2.0));
}

#[test]
fn a_learning_pacer_measures_over_at_least_a_second_since_its_first_call() {
    // Four calls in two seconds: two a second.
    let mut p = Pacer::new(None, None, true);
    for t in [10.0, 10.5, 11.0, 11.5] {
        p.admit(t, 0);
    }
    p.throttled(11.5, 12.0);
    assert_eq!(p.full_rate(), Some(2.0));
    // Three calls within 0.2 s: three a second, not fifteen.
    let mut p = Pacer::new(None, None, true);
    for t in [10.0, 10.1, 10.2] {
        p.admit(t, 0);
    }
    p.throttled(10.2, 10.2);
    assert_eq!(p.full_rate(), Some(3.0));
    // No call at all: the slowest rate it settles on, 0.1 a second.
    let mut p = Pacer::new(None, None, true);
    p.throttled(0.0, 3.0);
    assert_eq!(p.full_rate(), Some(MIN_LEARNED_RATE));
}

#[test]
fn a_burst_grown_by_less_than_one_percent_is_not_blamed() {
    let mut p = ten_a_second();
    p.succeeded(10.0); // nothing held back: no growth, but counted from here
    fill(&mut p, 10.0);
    p.succeeded(10.05); // 0.05 s of growth: 0.75 %
    assert!(p.burst() > INITIAL_BURST && p.burst() < INITIAL_BURST * 1.01);
    assert!(p.throttled(10.05, 10.05));
    assert_eq!((p.burst_decreases, p.rate_decreases), (0, 1));
}
