use super::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Calls larger than the whole TPM, and the boundary of exactly the TPM.
mod oversized;

const MINUTE: Duration = Duration::from_secs(60);

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn est(input: u32, max_output: u32) -> TokenEstimate {
    TokenEstimate { input, max_output }
}

fn usage(input_tokens: u32, output_tokens: u32) -> Option<TokensUsed> {
    Some(TokensUsed {
        input_tokens,
        output_tokens,
    })
}

/// The most admissions in any half-open window `[t, t + window)`.
fn max_in_window(times: &[Instant], window: Duration) -> usize {
    let mut times = times.to_vec();
    times.sort();
    let mut start = 0;
    let mut best = 0;
    for end in 0..times.len() {
        while times[end] >= times[start] + window {
            start += 1;
        }
        best = best.max(end + 1 - start);
    }
    best
}

#[test]
fn quota_builder_and_weights() {
    let q = Quota::new();
    assert_eq!(
        (
            q.requests_per_minute,
            q.tokens_per_minute,
            q.output_token_weight
        ),
        (None, None, 1.0)
    );
    let q = Quota::new()
        .requests_per_minute(50)
        .tokens_per_minute(1000)
        .output_token_weight(5.0);
    assert_eq!(
        (q.requests_per_minute, q.tokens_per_minute),
        (Some(50), Some(1000))
    );
    assert_eq!(q.weighted_tokens(10, 3), 25);
    assert_eq!(
        Quota::new().output_token_weight(1.5).weighted_tokens(0, 3),
        5,
        "rounded up"
    );
}

#[test]
#[should_panic(expected = "output_token_weight")]
fn negative_weight_panics() {
    let _ = Quota::new().output_token_weight(-1.0);
}

#[test]
fn input_estimate_is_bytes_over_four_rounded_up() {
    assert_eq!(estimate_input_tokens(0), 0);
    assert_eq!(estimate_input_tokens(1), 1);
    assert_eq!(estimate_input_tokens(4), 1);
    assert_eq!(estimate_input_tokens(5), 2);
    assert_eq!(estimate_input_tokens(4000), 1000);
    assert_eq!(estimate_input_tokens(usize::MAX), u32::MAX);
}

#[test]
fn no_quota_admits_everything() {
    let limiter = Limiter::new(Quota::new());
    let t0 = Instant::now();
    for _ in 0..10_000 {
        let r = limiter.try_acquire(est(u32::MAX, u32::MAX), t0).unwrap();
        assert_eq!(r.tokens(), 0);
    }
    assert_eq!(limiter.stats().calls, 10_000);
}

/// Knocks with `callers` calls every `step` for `total`, each admitted call
/// succeeding at once; returns the admission times.
fn knock(
    limiter: &Limiter,
    t0: Instant,
    step: Duration,
    total: Duration,
    callers: usize,
) -> Vec<Instant> {
    let mut admitted = Vec::new();
    let mut now = t0;
    while now <= t0 + total {
        for _ in 0..callers {
            match limiter.try_acquire(est(1, 1), now) {
                Ok(r) => {
                    admitted.push(r.admitted_at());
                    limiter.settle(r, usage(1, 1), now);
                    limiter.on_success(now);
                }
                Err(wait) => assert!(wait > Duration::ZERO),
            }
        }
        now += step;
    }
    admitted
}

#[test]
fn calls_are_paced_evenly_and_no_window_exceeds_the_quota() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(60));
    let t0 = Instant::now();
    // Five callers knocking every 100 ms for two simulated minutes.
    let admitted = knock(&limiter, t0, secs(0.1), secs(120.0), 5);
    assert!(max_in_window(&admitted, MINUTE) <= 60);
    // One a second (the window's 1 s margin makes it a little less), never
    // two within the same second: no minute's quota at once; and no gap
    // longer than the margin's (the 61st call waits for the first to leave).
    assert!((115..=121).contains(&admitted.len()), "{}", admitted.len());
    assert_eq!(max_in_window(&admitted, secs(0.99)), 1);
    let mut gaps = admitted.windows(2).map(|w| w[1] - w[0]);
    assert!(gaps.all(|g| g <= secs(2.05)), "{admitted:?}");
}

#[test]
fn refused_call_is_told_when_it_may_go() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(60));
    let t0 = Instant::now();
    let _a = limiter.try_acquire(est(0, 0), t0).unwrap();
    let wait = limiter.try_acquire(est(0, 0), t0).unwrap_err();
    // One spacing interval: 1 s (the window spreads its 59 free slots over
    // the 61 s until the first leaves: the same).
    assert!(wait >= secs(0.999) && wait <= secs(1.001), "{wait:?}");
    assert!(limiter
        .try_acquire(est(0, 0), t0 + wait - secs(0.001))
        .is_err());
    assert!(limiter.try_acquire(est(0, 0), t0 + wait).is_ok());
}

#[test]
fn a_full_window_holds_calls_until_its_oldest_entry_leaves() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(2));
    let t0 = Instant::now();
    let _a = limiter.try_acquire(est(0, 0), t0).unwrap();
    let b_wait = limiter.try_acquire(est(0, 0), t0).unwrap_err();
    let _b = limiter.try_acquire(est(0, 0), t0 + b_wait).unwrap();
    // Two in the window: the third goes when the first leaves it, at 61 s.
    assert_eq!(
        limiter.try_acquire(est(0, 0), t0 + secs(40.0)).unwrap_err(),
        WINDOW - secs(40.0)
    );
    assert!(limiter.try_acquire(est(0, 0), t0 + WINDOW).is_ok());
}

#[test]
fn the_window_spreads_its_room_evenly_until_its_oldest_entry_leaves() {
    // 60,000 TPM: the pace alone would let a call of 100 go 0.1 s after
    // the first; the window asks for 61 s × 100 / (59,900 + 2 × 100).
    let limiter = Limiter::new(Quota::new().tokens_per_minute(60_000));
    let t0 = Instant::now();
    let _a = limiter.try_acquire(est(100, 0), t0).unwrap();
    let wait = limiter.try_acquire(est(100, 0), t0).unwrap_err();
    let expected = 61.0 * 100.0 / 60_100.0;
    assert!((wait.as_secs_f64() - expected).abs() < 1e-5, "{wait:?}");
}

#[test]
fn an_entry_leaves_the_window_exactly_61_s_after_its_admission() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(600));
    let t0 = Instant::now();
    let _a = limiter.try_acquire(est(0, 0), t0).unwrap();
    let _b = limiter.try_acquire(est(0, 0), t0 + secs(1.0)).unwrap();
    limiter.on_success(t0 + WINDOW - secs(0.001));
    assert_eq!(limiter.stats().window_requests, 2);
    limiter.on_success(t0 + WINDOW);
    assert_eq!(limiter.stats().window_requests, 1);
}

#[test]
fn a_refund_goes_to_its_own_entry_and_leaves_with_it() {
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1_000_000));
    let t0 = Instant::now();
    let a = limiter.try_acquire(est(500, 0), t0).unwrap();
    let _b = limiter.try_acquire(est(300, 0), t0 + secs(10.0)).unwrap();
    let _c = limiter.try_acquire(est(200, 0), t0 + secs(20.0)).unwrap();
    // `a` used 100 of its 500: its entry keeps 100.
    limiter.settle(a, usage(100, 0), t0 + secs(21.0));
    assert_eq!(limiter.stats().window_tokens, 600);
    // When `a` leaves, its 100 leave with it; then `b`'s 300, `c`'s 200.
    limiter.on_success(t0 + WINDOW);
    assert_eq!(limiter.stats().window_tokens, 500);
    limiter.on_success(t0 + WINDOW + secs(10.0));
    assert_eq!(limiter.stats().window_tokens, 200);
    limiter.on_success(t0 + WINDOW + secs(20.0));
    assert_eq!(limiter.stats().window_tokens, 0);
}

#[test]
fn tpm_overestimate_is_refunded() {
    // 1,000 TPM: a call of 500 takes 30 s of the pace.
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1000));
    let t0 = Instant::now();
    let a = limiter.try_acquire(est(100, 400), t0).unwrap();
    assert_eq!(a.tokens(), 500);
    let before = limiter.try_acquire(est(100, 400), t0).unwrap_err();
    assert!(before >= secs(29.9), "{before:?}");
    // `a` used 200 of its 500: the other 300 (18 s of the pace) are free at once.
    limiter.settle(a, usage(100, 100), t0);
    let after = limiter.try_acquire(est(100, 400), t0).unwrap_err();
    assert!(after + secs(10.0) <= before, "{before:?} -> {after:?}");
    let stats = limiter.stats();
    assert_eq!(
        (stats.settled, stats.tokens_refunded, stats.window_tokens),
        (1, 300, 200)
    );
}

#[test]
fn tpm_underestimate_is_charged_from_settlement() {
    // 6,000 TPM: 100 tokens a second.
    let limiter = Limiter::new(Quota::new().tokens_per_minute(6_000));
    let t0 = Instant::now();
    let a = limiter.try_acquire(est(100, 0), t0).unwrap();
    let before = limiter.try_acquire(est(100, 0), t0).unwrap_err();
    limiter.settle(a, usage(100, 600), t0);
    assert_eq!(limiter.stats().tokens_overrun, 600);
    assert_eq!(limiter.stats().window_tokens, 700);
    // The 600 extra tokens take 6 s of the pace.
    let after = limiter.try_acquire(est(100, 0), t0).unwrap_err();
    assert!(after >= before + secs(5.9), "{before:?} -> {after:?}");
}

#[test]
fn output_weight_applies_to_reservation_and_settlement() {
    let limiter = Limiter::new(
        Quota::new()
            .tokens_per_minute(600_000)
            .output_token_weight(5.0),
    );
    let t0 = Instant::now();
    let a = limiter.try_acquire(est(1000, 1000), t0).unwrap();
    assert_eq!(a.tokens(), 6000);
    limiter.settle(a, usage(1000, 100), t0); // 1000 + 5 × 100 = 1500
    assert_eq!(limiter.stats().tokens_refunded, 4500);
    assert_eq!(limiter.stats().window_tokens, 1500);
}

#[test]
fn failed_call_gives_back_tokens_but_not_its_request() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(1).tokens_per_minute(1000));
    let t0 = Instant::now();
    let a = limiter.try_acquire(est(500, 500), t0).unwrap();
    limiter.settle(a, None, t0);
    let stats = limiter.stats();
    assert_eq!((stats.window_tokens, stats.window_requests), (0, 1));
    assert!(
        limiter.try_acquire(est(1, 1), t0 + secs(30.0)).is_err(),
        "the request slot stays used"
    );
}

#[test]
fn late_settlement_and_foreign_reservations_change_nothing() {
    let quota = Quota::new().tokens_per_minute(60_000);
    let (limiter, other) = (Limiter::new(quota), Limiter::new(quota));
    let t0 = Instant::now();
    let a = limiter.try_acquire(est(500, 0), t0).unwrap();
    let b = limiter.try_acquire(est(500, 0), t0 + secs(1.0)).unwrap();
    other.settle(a, None, t0);
    assert_eq!(limiter.stats().window_tokens, 1000);
    assert_eq!(other.stats().settled, 0);
    limiter.settle(b, None, t0 + WINDOW * 2); // b already left the window
    assert_eq!(limiter.stats().tokens_refunded, 0);
    assert_eq!(limiter.stats().window_tokens, 0);
}

#[test]
fn a_throttle_cuts_the_rate_and_the_next_call_comes_one_interval_later() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(60));
    let t0 = Instant::now();
    let a = limiter.try_acquire(est(1, 1), t0).unwrap();
    let at = t0 + secs(0.5);
    limiter.on_throttled(a.admitted_at(), at);
    let stats = limiter.stats();
    assert_eq!((stats.throttled, stats.rate_decreases), (1, 1));
    assert!((stats.current_rate_factor - THROTTLE_DECREASE).abs() < 1e-9);
    // One interval at the new rate (1 / 0.7 s) after the throttle: no pause
    // until a window drains.
    let wait = limiter.try_acquire(est(1, 1), at).unwrap_err();
    let interval = secs(1.0 / THROTTLE_DECREASE);
    assert!(wait >= interval && wait < interval + secs(0.01), "{wait:?}");
    assert!(limiter.try_acquire(est(1, 1), at + wait).is_ok());
}

#[test]
fn throttles_of_calls_sent_before_a_reaction_do_not_compound() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(600));
    let t0 = Instant::now();
    let calls: Vec<_> = (0..3)
        .map(|i| {
            limiter
                .try_acquire(est(1, 1), t0 + secs(0.2 * f64::from(i)))
                .unwrap()
        })
        .collect();
    let at = t0 + secs(1.0);
    for c in &calls {
        limiter.on_throttled(c.admitted_at(), at + secs(0.1));
    }
    let stats = limiter.stats();
    assert_eq!((stats.throttled, stats.rate_decreases), (3, 1));
    // A call sent after the reaction and throttled too: that compounds.
    let d = limiter.try_acquire(est(1, 1), at + secs(1.0)).unwrap();
    limiter.on_throttled(d.admitted_at(), at + secs(1.5));
    let factor = limiter.stats().current_rate_factor;
    assert!((factor - THROTTLE_DECREASE * THROTTLE_DECREASE).abs() < 1e-9);
}

#[test]
fn the_rate_recovers_while_calls_succeed_and_has_a_floor() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(100));
    let mut now = Instant::now();
    for _ in 0..100 {
        let r = limiter.try_acquire(est(1, 1), now).unwrap_or_else(|w| {
            now += w;
            limiter.try_acquire(est(1, 1), now).unwrap()
        });
        limiter.on_throttled(r.admitted_at(), now);
    }
    assert_eq!(limiter.stats().current_rate_factor, MIN_RATE_FACTOR);
    // Even at the floor the next call is a spacing interval away, not more.
    let wait = limiter.try_acquire(est(1, 1), now).unwrap_err();
    assert!(wait <= secs(60.0 / (100.0 * MIN_RATE_FACTOR)) + secs(0.01));
    // Successes restore it linearly over time, up to the quota.
    limiter.on_success(now + secs(10.0));
    let expected = MIN_RATE_FACTOR + 10.0 * RECOVERY_PER_SECOND;
    assert!((limiter.stats().current_rate_factor - expected).abs() < 1e-9);
    limiter.on_success(now + secs(100.0));
    assert_eq!(limiter.stats().current_rate_factor, 1.0);
}

#[test]
fn the_burst_grows_only_while_it_holds_calls_back_and_a_throttle_blames_it_first() {
    // A learning limiter paces nothing until it is first throttled.
    let limiter = Limiter::learning();
    let t0 = Instant::now();
    let admitted = knock(&limiter, t0, secs(0.1), secs(5.0), 2);
    assert_eq!(admitted.len(), 102, "not paced yet");
    assert_eq!(limiter.stats().current_burst_seconds, INITIAL_BURST);
    // The first throttle: the full rate is what it measured (20 a second),
    // the burst is at its start, so the rate is cut.
    let now = t0 + secs(5.1);
    let a = limiter.try_acquire(est(1, 1), now).unwrap();
    limiter.on_throttled(a.admitted_at(), now);
    let stats = limiter.stats();
    let learned = stats.learned_requests_per_minute.unwrap();
    assert!((1150.0..=1300.0).contains(&learned), "{learned}");
    assert_eq!((stats.rate_decreases, stats.burst_decreases), (1, 0));
    // Callers faster than the pace for 10 s, all succeeding: the pacer
    // holds them back, and its burst grows.
    let later = now + secs(1.0);
    knock(&limiter, later, secs(0.01), secs(10.0), 10);
    let grown = limiter.stats().current_burst_seconds;
    assert!(grown > 2.0 * INITIAL_BURST && grown <= MAX_BURST, "{grown}");
    // A throttle now is the burst's: it drops back, the rate stays.
    let now = later + secs(11.0);
    let b = limiter
        .try_acquire(est(1, 1), now)
        .unwrap_or_else(|w| limiter.try_acquire(est(1, 1), now + w).unwrap());
    limiter.on_throttled(b.admitted_at(), now + secs(1.0));
    let stats = limiter.stats();
    assert_eq!((stats.burst_decreases, stats.rate_decreases), (1, 1));
    assert_eq!(stats.current_burst_seconds, INITIAL_BURST);
    // It grows back to at most half of what it was.
    knock(&limiter, now + secs(2.0), secs(0.01), secs(30.0), 10);
    let regrown = limiter.stats().current_burst_seconds;
    assert!(
        regrown > INITIAL_BURST && regrown <= grown / 2.0 + 1e-9,
        "{grown} -> {regrown}"
    );
    // With the burst grown again, the next throttle is the burst's again,
    // and the one after it the rate's.
    let now = now + secs(33.0);
    for (i, decreases) in [(0.0, (2, 1)), (1.0, (2, 2))] {
        let at = now + secs(i);
        let c = limiter
            .try_acquire(est(1, 1), at)
            .unwrap_or_else(|w| limiter.try_acquire(est(1, 1), at + w).unwrap());
        limiter.on_throttled(c.admitted_at(), c.admitted_at() + secs(0.1));
        let stats = limiter.stats();
        assert_eq!((stats.burst_decreases, stats.rate_decreases), decreases);
    }
}

#[test]
fn calls_dated_before_the_limiter_was_made_are_paced_like_any_other() {
    // Threads may read the clock before the limiter exists.
    let t0 = Instant::now() - secs(100.0);
    let limiter = Limiter::new(Quota::new().requests_per_minute(60));
    let _a = limiter.try_acquire(est(0, 0), t0).unwrap();
    let wait = limiter.try_acquire(est(0, 0), t0).unwrap_err();
    assert!(wait >= secs(0.999) && wait <= secs(1.001), "{wait:?}");
    assert!(limiter.try_acquire(est(0, 0), t0 + wait).is_ok());
}

#[test]
fn threads_never_over_admit() {
    let limiter = Arc::new(Limiter::new(
        Quota::new().requests_per_minute(50).tokens_per_minute(1000),
    ));
    let t0 = Instant::now();
    let clock_ms = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (limiter, clock_ms) = (limiter.clone(), clock_ms.clone());
            std::thread::spawn(move || {
                let mut admitted = Vec::new();
                for _ in 0..5000 {
                    // A shared fake clock that runs 3 simulated minutes in all.
                    let now = t0 + Duration::from_millis(clock_ms.fetch_add(4, Ordering::Relaxed));
                    if let Ok(r) = limiter.try_acquire(est(20, 10), now) {
                        admitted.push(r.admitted_at());
                    }
                }
                admitted
            })
        })
        .collect();
    let admitted: Vec<Instant> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    // 30 tokens each: TPM allows 33 per window, RPM 50; paced, about 33 a
    // minute for three minutes.
    assert!(max_in_window(&admitted, MINUTE) <= 33);
    assert!((80..=100).contains(&admitted.len()), "{}", admitted.len());
    assert_eq!(limiter.stats().calls, admitted.len() as u64);
}

#[test]
fn a_reply_lets_the_rate_recover_from_a_throttle_as_time_passes() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(60));
    // Throttled ten seconds ago...
    let then = Instant::now() - secs(10.0);
    let a = limiter.try_acquire(est(1, 1), then).unwrap();
    limiter.on_throttled(a.admitted_at(), then);
    assert!((limiter.stats().current_rate_factor - THROTTLE_DECREASE).abs() < 1e-9);
    // ...and a call answered now, settled as a client settles it: the rate
    // has recovered by ten seconds' worth (and the moments this test took).
    let b = limiter.try_acquire_now(est(1, 1)).unwrap();
    settle_ref(&limiter, b, Ok(&crate::model::Response::default()));
    let factor = limiter.stats().current_rate_factor;
    let expected = THROTTLE_DECREASE + 10.0 * RECOVERY_PER_SECOND;
    assert!(factor >= expected && factor < expected + 0.02, "{factor}");
}
