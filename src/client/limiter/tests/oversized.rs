//! Calls whose weighted tokens exceed a whole minute's TPM: admitted once
//! the window holds no tokens, holding smaller calls back meanwhile (but not
//! for long if abandoned); a call of exactly the TPM is not one of them.

use super::*;

#[test]
fn oversized_request_is_admitted_once_the_window_is_empty() {
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1000));
    let t0 = Instant::now();
    let _small = limiter.try_acquire(est(600, 0), t0).unwrap();
    assert_eq!(limiter.try_acquire(est(5000, 0), t0).unwrap_err(), WINDOW);
    // Small calls are held back meanwhile so they cannot starve it...
    assert!(limiter.try_acquire(est(10, 0), t0 + secs(40.0)).is_err());
    let huge = limiter.try_acquire(est(5000, 0), t0 + WINDOW).unwrap();
    assert_eq!(huge.tokens(), 5000);
    // ...and after it wait for the five minutes of quota it used.
    assert!(limiter.try_acquire(est(10, 0), t0 + WINDOW * 3).is_err());
    assert!(limiter
        .try_acquire(est(10, 0), t0 + WINDOW + secs(300.0))
        .is_ok());
    // Into an idle limiter it goes at once.
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1000));
    assert!(limiter.try_acquire(est(u32::MAX, u32::MAX), t0).is_ok());
}

#[test]
fn only_a_call_larger_than_the_tpm_waits_for_a_window_without_tokens() {
    // A failed call gives back all its tokens but keeps its place in the
    // window: the window holds no tokens, and an over-sized call goes at once.
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1000));
    let t0 = Instant::now();
    let failed = limiter.try_acquire(est(600, 0), t0).unwrap();
    limiter.settle(failed, None, t0);
    assert!(limiter.try_acquire(est(1001, 0), t0 + secs(1.0)).is_ok());
    // A call of exactly the TPM is not over-sized: it is spread over the
    // window like any other, 61 s × 1000 / (1000 + 2 × 1000) after the last.
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1000));
    let failed = limiter.try_acquire(est(600, 0), t0).unwrap();
    limiter.settle(failed, None, t0);
    let wait = limiter
        .try_acquire(est(1000, 0), t0 + secs(1.0))
        .unwrap_err();
    let expected = 61.0 / 3.0 - 1.0;
    assert!((wait.as_secs_f64() - expected).abs() < 1e-3, "{wait:?}");
}

#[test]
fn a_call_of_exactly_the_tpm_does_not_hold_smaller_calls_back() {
    let limiter = Limiter::new(Quota::new().tokens_per_minute(1000));
    let t0 = Instant::now();
    let _a = limiter.try_acquire(est(600, 0), t0).unwrap();
    assert!(limiter.try_acquire(est(1000, 0), t0).is_err());
    // Only a call larger than the TPM holds the others back while it waits.
    assert!(limiter.try_acquire(est(10, 0), t0 + secs(40.0)).is_ok());
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
