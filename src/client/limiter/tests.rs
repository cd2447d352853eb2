use super::*;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

const MINUTE: Duration = Duration::from_secs(60);

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn est(input: u32, max_output: u32) -> TokenEstimate {
    TokenEstimate { input, max_output }
}

fn usage(input_tokens: u32, output_tokens: u32) -> Option<Usage> {
    Some(Usage {
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

#[test]
fn rpm_never_exceeded_in_any_window_over_two_minutes() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(60));
    let t0 = Instant::now();
    let mut admitted = Vec::new();
    // Five callers knocking every 100 ms for two simulated minutes.
    for step in 0..=1200 {
        let now = t0 + Duration::from_millis(100 * step);
        for _ in 0..5 {
            match limiter.try_acquire(est(1, 1), now) {
                Ok(r) => admitted.push(r.admitted_at()),
                Err(wait) => assert!(wait > Duration::ZERO),
            }
        }
    }
    assert!(max_in_window(&admitted, MINUTE) <= 60);
    // A full minute's quota at once, then again once it leaves the window.
    assert_eq!(admitted.len(), 120);
    assert_eq!(admitted[60], t0 + WINDOW);
}

#[test]
fn refused_call_is_told_when_a_slot_frees() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(2));
    let t0 = Instant::now();
    let _a = limiter.try_acquire(est(0, 0), t0).unwrap();
    let _b = limiter.try_acquire(est(0, 0), t0 + secs(10.0)).unwrap();
    let wait = limiter.try_acquire(est(0, 0), t0 + secs(20.0)).unwrap_err();
    assert_eq!(wait, WINDOW - secs(20.0));
    assert!(limiter
        .try_acquire(est(0, 0), t0 + wait + secs(20.0))
        .is_ok());
}

#[test]
fn tpm_overestimate_is_refunded() {
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1000));
    let t0 = Instant::now();
    let a = limiter.try_acquire(est(100, 400), t0).unwrap();
    assert_eq!(a.tokens(), 500);
    let _b = limiter.try_acquire(est(100, 400), t0).unwrap();
    assert_eq!(
        limiter
            .try_acquire(est(100, 200), t0 + secs(1.0))
            .unwrap_err(),
        WINDOW - secs(1.0)
    );
    // `a` used 200 of its 500: the other 300 are free at once.
    limiter.settle(a, usage(100, 100), t0 + secs(2.0));
    assert!(limiter.try_acquire(est(100, 200), t0 + secs(2.0)).is_ok());
    let stats = limiter.stats();
    assert_eq!(
        (stats.settled, stats.tokens_refunded, stats.window_tokens),
        (1, 300, 1000)
    );
}

#[test]
fn tpm_underestimate_is_charged_from_settlement() {
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1000));
    let t0 = Instant::now();
    let a = limiter.try_acquire(est(100, 0), t0).unwrap();
    limiter.settle(a, usage(100, 600), t0 + secs(30.0));
    assert_eq!(limiter.stats().tokens_overrun, 600);
    assert_eq!(limiter.stats().window_tokens, 700);
    // The 100 reserved at t0 leave at t0 + WINDOW; the 600 overrun only at t0 + 30 s + WINDOW.
    assert!(limiter.try_acquire(est(400, 0), t0 + secs(31.0)).is_err());
    assert!(limiter.try_acquire(est(400, 0), t0 + WINDOW).is_ok());
    assert_eq!(
        limiter.try_acquire(est(400, 0), t0 + WINDOW).unwrap_err(),
        secs(30.0)
    );
    assert!(limiter
        .try_acquire(est(400, 0), t0 + WINDOW + secs(30.0))
        .is_ok());
}

#[test]
fn output_weight_applies_to_reservation_and_settlement() {
    let limiter = Limiter::new(
        Quota::new()
            .tokens_per_minute(10_000)
            .output_token_weight(5.0),
    );
    let t0 = Instant::now();
    let a = limiter.try_acquire(est(1000, 1000), t0).unwrap();
    assert_eq!(a.tokens(), 6000);
    assert!(limiter.try_acquire(est(1000, 1000), t0).is_err());
    limiter.settle(a, usage(1000, 100), t0); // 1000 + 5 × 100 = 1500
    assert_eq!(limiter.stats().tokens_refunded, 4500);
    assert!(limiter.try_acquire(est(1000, 1000), t0).is_ok());
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
        limiter.try_acquire(est(1, 1), t0).is_err(),
        "the request slot stays used"
    );
}

#[test]
fn late_settlement_and_foreign_reservations_change_nothing() {
    let quota = Quota::new().tokens_per_minute(1000);
    let (limiter, other) = (Limiter::new(quota), Limiter::new(quota));
    let t0 = Instant::now();
    let a = limiter.try_acquire(est(500, 0), t0).unwrap();
    let b = limiter.try_acquire(est(500, 0), t0).unwrap();
    other.settle(a, None, t0);
    assert_eq!(limiter.stats().window_tokens, 1000);
    limiter.settle(b, None, t0 + WINDOW); // b already left the window
    assert_eq!(limiter.stats().tokens_refunded, 0);
    assert_eq!(limiter.stats().window_tokens, 0);
}

#[test]
fn throttle_lowers_rate_pauses_and_recovers() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(100));
    let t0 = Instant::now();
    limiter.on_throttled(t0);
    assert_eq!(
        limiter.try_acquire(est(1, 1), t0).unwrap_err(),
        BASE_BACKOFF
    );
    // Throttles of calls sent before the pause do not compound.
    limiter.on_throttled(t0 + secs(0.5));
    let stats = limiter.stats();
    assert_eq!(
        (
            stats.throttled,
            stats.rate_decreases,
            stats.current_rate_factor
        ),
        (2, 1, 0.7)
    );
    let t1 = t0 + BASE_BACKOFF;
    let admitted = (0..100)
        .filter(|_| limiter.try_acquire(est(1, 1), t1).is_ok())
        .count();
    assert_eq!(admitted, 70);
    // Another throttle after the pause: lower again, and a doubled pause.
    limiter.on_throttled(t1 + secs(0.5));
    assert!((limiter.stats().current_rate_factor - 0.49).abs() < 1e-9);
    assert!(limiter.try_acquire(est(1, 1), t1 + secs(2.0)).is_err());
    // Successes restore the rate linearly over time: 0.49 + 0.005/s.
    limiter.on_success(t1 + secs(20.5));
    assert!((limiter.stats().current_rate_factor - 0.59).abs() < 1e-9);
    limiter.on_success(t1 + secs(200.0));
    assert_eq!(limiter.stats().current_rate_factor, 1.0);
    // And the back-off starts over from the base.
    limiter.on_throttled(t1 + secs(300.0));
    assert_eq!(
        limiter
            .try_acquire(est(1, 1), t1 + secs(300.0))
            .unwrap_err(),
        BASE_BACKOFF
    );
}

#[test]
fn rate_and_backoff_have_floors_and_ceilings() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(100));
    let mut now = Instant::now();
    for _ in 0..50 {
        limiter.on_throttled(now);
        now += MAX_BACKOFF;
    }
    assert_eq!(limiter.stats().current_rate_factor, MIN_RATE_FACTOR);
    limiter.on_throttled(now);
    assert_eq!(
        limiter.try_acquire(est(1, 1), now).unwrap_err(),
        MAX_BACKOFF
    );
}

#[test]
fn oversized_request_is_admitted_once_the_window_is_empty() {
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1000));
    let t0 = Instant::now();
    let _small = limiter.try_acquire(est(600, 0), t0).unwrap();
    assert_eq!(limiter.try_acquire(est(5000, 0), t0).unwrap_err(), WINDOW);
    // Small calls are held back meanwhile so they cannot starve it...
    assert!(limiter.try_acquire(est(10, 0), t0 + secs(1.0)).is_err());
    let huge = limiter.try_acquire(est(5000, 0), t0 + WINDOW).unwrap();
    assert_eq!(huge.tokens(), 5000);
    // ...and wait for it to leave the window afterwards.
    assert_eq!(
        limiter.try_acquire(est(10, 0), t0 + WINDOW).unwrap_err(),
        WINDOW
    );
    assert!(limiter.try_acquire(est(10, 0), t0 + WINDOW * 2).is_ok());
    // Into an empty window it goes at once.
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1000));
    assert!(limiter.try_acquire(est(u32::MAX, u32::MAX), t0).is_ok());
}

#[test]
fn abandoned_oversized_request_holds_others_back_only_briefly() {
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1000));
    let t0 = Instant::now();
    let _small = limiter.try_acquire(est(600, 0), t0).unwrap();
    assert!(limiter.try_acquire(est(5000, 0), t0).is_err());
    assert!(limiter.try_acquire(est(10, 0), t0 + WINDOW).is_err());
    assert!(limiter
        .try_acquire(est(10, 0), t0 + WINDOW + secs(1.0))
        .is_ok());
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
    // 30 tokens each: TPM allows 33 per window, RPM 50.
    assert_eq!(max_in_window(&admitted, MINUTE), 33);
    assert_eq!(admitted.len(), 33 * 3);
    assert_eq!(limiter.stats().calls, 99);
}

#[test]
fn acquire_blocking_admits_and_records_the_wait() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(1));
    let _first = limiter.acquire_blocking(est(1, 1), || false, None).unwrap();
    assert_eq!(limiter.stats().waited_calls, 0, "no wait, nothing recorded");
    // A limiter whose only slot was taken long enough ago to free up in 80 ms.
    let limiter = Limiter::new(Quota::new().requests_per_minute(1));
    let _old = limiter
        .try_acquire(est(1, 1), Instant::now() - WINDOW + secs(0.08))
        .unwrap();
    let started = Instant::now();
    let _second = limiter.acquire_blocking(est(1, 1), || false, None).unwrap();
    let waited = started.elapsed();
    assert!(waited >= secs(0.07) && waited < secs(1.0), "{waited:?}");
    let stats = limiter.stats();
    assert_eq!(stats.waited_calls, 1);
    assert!(stats.total_wait >= secs(0.07) && stats.max_wait == stats.total_wait);
}

#[test]
fn acquire_blocking_honours_cancel() {
    let limiter = Arc::new(Limiter::new(Quota::new().requests_per_minute(1)));
    let _taken = limiter.try_acquire_now(est(1, 1)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(secs(0.1));
            stop.store(true, Ordering::Relaxed);
        })
    };
    let started = Instant::now();
    let result = limiter.acquire_blocking(est(1, 1), || stop.load(Ordering::Relaxed), None);
    let waited = started.elapsed();
    stopper.join().unwrap();
    assert_eq!(result.unwrap_err(), AcquireError::Cancelled);
    assert!(waited >= secs(0.1) && waited < secs(1.0), "{waited:?}");
    assert_eq!(limiter.stats().waited_calls, 1);
}

#[test]
fn acquire_blocking_honours_deadline() {
    let limiter = Limiter::new(Quota::new().requests_per_minute(1));
    let _taken = limiter.try_acquire_now(est(1, 1)).unwrap();
    let started = Instant::now();
    let result = limiter.acquire_blocking(est(1, 1), || false, Some(started + secs(0.1)));
    let waited = started.elapsed();
    assert_eq!(result.unwrap_err(), AcquireError::DeadlineExceeded);
    assert!(waited >= secs(0.1) && waited < secs(1.0), "{waited:?}");
    assert_eq!(
        AcquireError::DeadlineExceeded.to_string(),
        "deadline passed while waiting for the rate limiter"
    );
}

/// A server that allows `quota` requests in any sliding 60 s window.
struct SlidingServer {
    quota: usize,
    accepted: VecDeque<Instant>,
}

impl SlidingServer {
    fn accept(&mut self, at: Instant) -> bool {
        while self.accepted.front().is_some_and(|&t| t + MINUTE <= at) {
            self.accepted.pop_front();
        }
        let ok = self.accepted.len() < self.quota;
        if ok {
            self.accepted.push_back(at);
        }
        ok
    }
}

/// A server with a token bucket: capacity `quota`, refilled at `quota` per 60 s, starting full.
struct BucketServer {
    quota: f64,
    level: f64,
    last: Instant,
}

impl BucketServer {
    fn accept(&mut self, at: Instant) -> bool {
        let refill = (at - self.last).as_secs_f64() * self.quota / 60.0;
        self.level = (self.level + refill).min(self.quota);
        self.last = at;
        let ok = self.level >= 1.0;
        if ok {
            self.level -= 1.0;
        }
        ok
    }
}

/// Runs `calls` zero-duration calls through a limiter with `rpm`, moving a fake
/// clock by the waits it returns; each call is sent to a sliding-window server
/// allowing `server_rpm`, and throttles are reported back and retried.
/// Returns (admission times, throttles, time the last call succeeded).
fn simulate(calls: usize, rpm: u32, server_rpm: usize) -> (Vec<Instant>, usize, Duration) {
    let limiter = Limiter::new(Quota::new().requests_per_minute(rpm));
    let mut server = SlidingServer {
        quota: server_rpm,
        accepted: VecDeque::new(),
    };
    let t0 = Instant::now();
    let (mut now, mut done, mut throttles, mut admitted) = (t0, 0, 0, Vec::new());
    while done < calls {
        match limiter.try_acquire(est(0, 0), now) {
            Ok(r) => {
                admitted.push(r.admitted_at());
                if server.accept(now) {
                    limiter.settle(r, usage(0, 0), now);
                    limiter.on_success(now);
                    done += 1;
                } else {
                    limiter.settle(r, None, now);
                    limiter.on_throttled(now);
                    throttles += 1;
                }
            }
            Err(wait) => now += wait,
        }
        assert!(now - t0 < Duration::from_secs(3600), "stuck");
    }
    (admitted, throttles, now - t0)
}

#[test]
fn four_hundred_calls_at_300_rpm() {
    let (admitted, throttles, took) = simulate(400, 300, 300);
    assert_eq!(throttles, 0);
    assert!(took <= Duration::from_secs(88), "{took:?}");
    assert_eq!(
        took, WINDOW,
        "300 at once, the other 100 when the first leave the window"
    );
    assert!(max_in_window(&admitted, MINUTE) <= 300);
    // The same admissions pass a refilling-bucket server untouched too.
    let mut bucket = BucketServer {
        quota: 300.0,
        level: 300.0,
        last: admitted[0],
    };
    assert!(admitted.iter().all(|&t| bucket.accept(t)));
}

#[test]
fn adapts_when_the_real_quota_is_lower() {
    // The client believes 300 RPM; the server allows 200.
    let (admitted, throttles, took) = simulate(1000, 300, 200);
    assert!(
        throttles * 100 < 1000 * 5,
        "{throttles} throttles for 1000 calls"
    );
    // Near the server's real rate: 1000 calls at 200 per minute take 4-6 minutes.
    assert!(took < Duration::from_secs(6 * 60 + 30), "{took:?}");
    assert_eq!(admitted.len(), 1000 + throttles);
}
