//! What a batch run does after a failed attempt, and how it paces its calls
//! when the `Converser` has no quota.
//!
//! Throttling is not a record's failure: a throttled record is sent again
//! (with no back-off of its own: the pacing spaces the calls), for as long
//! as the user allows ([`Limits`]). Other retryable errors are retried with
//! an exponential back-off, a bounded number of times.

use std::time::{Duration, Instant};

use crate::client::limiter::{Limiter, Reservation, TokenEstimate};
use crate::client::Converser;
use crate::error::Error;
use crate::model::Response;

/// The attempts other than throttled ones a record gets by default.
pub(super) const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// The limits a user set on a record's attempts.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Limits {
    /// Attempts in all, throttled or not (`None`: unlimited for throttles,
    /// [`DEFAULT_MAX_ATTEMPTS`] for other retryable errors).
    pub(super) max_attempts: Option<u32>,
    /// How long after its first attempt a record may still be sent again.
    pub(super) give_up_after: Option<Duration>,
    /// The back-off before a retry of a non-throttle error: base and cap.
    pub(super) backoff: (Duration, Duration),
}

/// A record's attempts so far.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Tries {
    /// Attempts made, throttled or not.
    pub(super) attempts: u32,
    /// Of which failed with an error other than throttling.
    pub(super) failures: u32,
    /// When the first attempt was sent.
    pub(super) first: Option<Instant>,
}

/// What to do with a record whose attempt failed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Send it again after this long.
    Retry(Duration),
    /// Give up: the error is the record's.
    Fail,
}

impl Limits {
    /// What to do after `tries` ended in `error` (the attempt counted).
    pub(super) fn next(&self, error: &Error, tries: &Tries, jitter: &mut Jitter) -> Next {
        if !error.is_retryable() {
            return Next::Fail;
        }
        if self.max_attempts.is_some_and(|max| tries.attempts >= max) {
            return Next::Fail;
        }
        if let (Some(limit), Some(first)) = (self.give_up_after, tries.first) {
            if first.elapsed() >= limit {
                return Next::Fail;
            }
        }
        if error.is_throttling() {
            return Next::Retry(Duration::ZERO);
        }
        if tries.failures >= self.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS) {
            return Next::Fail;
        }
        Next::Retry(jitter.backoff(self.backoff, tries.failures))
    }
}

/// The pacing of a run's calls when its `Converser` has no quota: a
/// limiter that learns a rate from throttling (see
/// [`Limiter::learning`]). With a quota, the `Converser`'s own limiter
/// paces every call and this does nothing.
pub(super) struct Pacing(Option<Limiter>);

impl Pacing {
    pub(super) fn new(converser: &Converser) -> Self {
        Pacing(converser.limiter_stats().is_none().then(Limiter::learning))
    }

    /// A reservation for a call to send now, or how long to wait first.
    pub(super) fn admit(&self) -> Result<Option<Reservation>, Duration> {
        match &self.0 {
            Some(limiter) => limiter.try_acquire_now(TokenEstimate::default()).map(Some),
            None => Ok(None),
        }
    }

    /// Tells the pacing how a call it admitted ended.
    pub(super) fn ended(
        &self,
        reservation: Option<Reservation>,
        outcome: &Result<Response, Error>,
    ) {
        let (Some(limiter), Some(reservation)) = (&self.0, reservation) else {
            return;
        };
        crate::client::settle_quota(limiter, reservation, outcome);
    }

    /// The rate learned so far, in requests a minute.
    pub(super) fn learned_rpm(&self) -> Option<f64> {
        self.0
            .as_ref()
            .and_then(|l| l.stats().learned_requests_per_minute)
    }
}

/// Back-off delays with jitter, from a xorshift generator seeded by the
/// standard library's random hasher keys (no dependency for a coin toss).
pub(super) struct Jitter(u64);

impl Jitter {
    pub(super) fn new() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        Jitter(seed | 1)
    }

    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// After `attempt` attempts: half of `base * 2^(attempt-1)` (capped at
    /// `max`) plus a random part of the other half.
    pub(super) fn backoff(&mut self, (base, max): (Duration, Duration), attempt: u32) -> Duration {
        let full = base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(max);
        full / 2 + (full / 2).mul_f64(self.next_unit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ServiceError, ServiceErrorKind};
    use std::collections::HashSet;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let mut j = Jitter::new();
        let b = (Duration::from_millis(100), Duration::from_secs(1));
        for _ in 0..100 {
            let first = j.backoff(b, 1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let third = j.backoff(b, 3);
            assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
            assert!(j.backoff(b, 30) <= Duration::from_secs(1));
        }
        let spread: HashSet<_> = (0..20).map(|_| j.backoff(b, 2)).collect();
        assert!(spread.len() > 10, "jittered");
    }

    #[test]
    fn the_random_half_of_a_backoff_is_spread_evenly() {
        // Over 20,000 draws, the part above the fixed half falls in each
        // quarter of its range about as often (25% +- 2; the standard error
        // is 0.3%) and averages the middle.
        let mut j = Jitter::new();
        let b = (Duration::from_millis(400), Duration::from_secs(1));
        let n = 20_000;
        let mut quarters = [0usize; 4];
        let mut sum = 0.0;
        for _ in 0..n {
            let d = j.backoff(b, 1);
            assert!(d >= Duration::from_millis(200) && d <= Duration::from_millis(400));
            let unit = (d - Duration::from_millis(200)).as_secs_f64() / 0.2;
            sum += unit;
            quarters[((unit * 4.0) as usize).min(3)] += 1;
        }
        let mean = sum / f64::from(n);
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
        for q in quarters {
            let share = q as f64 / f64::from(n);
            assert!((share - 0.25).abs() < 0.02, "{quarters:?}");
        }
    }

    fn service(kind: ServiceErrorKind) -> Error {
        Error::Service(Box::new(ServiceError {
            kind,
            code: format!("{kind:?}Exception"),
            message: "test".into(),
            request_id: None,
            status: None,
            partial: None,
        }))
    }

    fn converser(quota: Option<crate::client::Quota>) -> Converser {
        let builder = Converser::builder()
            .region("us-east-1")
            .endpoint_url("http://127.0.0.1:9")
            .credentials("AKIDMOCKEXAMPLE", "mock-secret-key", None);
        match quota {
            Some(q) => builder.quota(q),
            None => builder,
        }
        .build()
        .unwrap()
    }

    #[test]
    fn without_a_quota_calls_go_at_once_until_a_throttle_teaches_a_rate() {
        let pacing = Pacing::new(&converser(None));
        assert_eq!(pacing.learned_rpm(), None, "nothing learned yet");
        let mut admitted = Vec::new();
        for _ in 0..20 {
            let reservation = pacing.admit().expect("not paced before a throttle");
            admitted.push(reservation.expect("the pacing holds a reservation"));
        }
        // Successes teach nothing.
        let ok: Result<Response, Error> = Ok(Response::default());
        for reservation in admitted.drain(..10) {
            pacing.ended(Some(reservation), &ok);
        }
        assert_eq!(pacing.learned_rpm(), None);
        // The first throttle: the rate it measured, 20 calls in well under a
        // second, is more than 20 a minute.
        let throttled = Err(service(ServiceErrorKind::Throttling));
        pacing.ended(admitted.pop(), &throttled);
        let learned = pacing
            .learned_rpm()
            .expect("a rate learned from the throttle");
        assert!(learned.is_finite() && learned > 20.0, "{learned}");
    }

    #[test]
    fn with_a_quota_the_converser_paces_and_the_run_learns_nothing() {
        let quota = crate::client::Quota::new().requests_per_minute(1);
        let pacing = Pacing::new(&converser(Some(quota)));
        for _ in 0..3 {
            assert!(matches!(pacing.admit(), Ok(None)));
        }
        pacing.ended(None, &Err(service(ServiceErrorKind::Throttling)));
        assert_eq!(pacing.learned_rpm(), None);
    }

    #[test]
    fn throttling_is_retried_at_once_until_a_limit_the_user_set() {
        let mut j = Jitter::new();
        let throttled = service(ServiceErrorKind::Throttling);
        let many = Tries {
            attempts: 1000,
            failures: 0,
            first: Some(Instant::now()),
        };
        let limits = Limits::default();
        assert_eq!(
            limits.next(&throttled, &many, &mut j),
            Next::Retry(Duration::ZERO)
        );
        let capped = Limits {
            max_attempts: Some(1000),
            ..limits
        };
        assert_eq!(capped.next(&throttled, &many, &mut j), Next::Fail);
        let old = Tries {
            first: Instant::now().checked_sub(Duration::from_secs(60)),
            ..many
        };
        let timed = Limits {
            give_up_after: Some(Duration::from_secs(30)),
            ..limits
        };
        assert_eq!(timed.next(&throttled, &old, &mut j), Next::Fail);
        assert_eq!(
            timed.next(&throttled, &many, &mut j),
            Next::Retry(Duration::ZERO)
        );
    }

    #[test]
    fn other_errors_back_off_and_stop_after_five_failures_or_fail_at_once() {
        let mut j = Jitter::new();
        let limits = Limits {
            backoff: (Duration::from_millis(100), Duration::from_secs(1)),
            ..Limits::default()
        };
        let busy = service(ServiceErrorKind::ServiceUnavailable);
        let tries = |failures| Tries {
            attempts: failures,
            failures,
            first: Some(Instant::now()),
        };
        let Next::Retry(wait) = limits.next(&busy, &tries(2), &mut j) else {
            panic!("retried")
        };
        assert!(wait >= Duration::from_millis(100) && wait <= Duration::from_millis(200));
        assert_eq!(
            limits.next(&busy, &tries(DEFAULT_MAX_ATTEMPTS), &mut j),
            Next::Fail
        );
        let invalid = service(ServiceErrorKind::Validation);
        assert_eq!(limits.next(&invalid, &tries(1), &mut j), Next::Fail);
    }
}
