//! A client-side, quota-aware rate limiter for Bedrock's per-model on-demand
//! quotas: requests per minute (RPM) and tokens per minute (TPM).
//!
//! Pure and deterministic: every method that depends on time takes `now`
//! explicitly (the `*_now` wrappers pass [`Instant::now`]), so it can be driven
//! by a fake clock in tests and by tokio sleeps or [`Limiter::acquire_blocking`]
//! in real use. One [`Limiter`] is meant to be shared (behind an `Arc`) by all
//! clones of a client and all threads; its state sits behind one `Mutex`.
//!
//! # How Bedrock counts against the quotas (research)
//!
//! From the Bedrock user guide, [How tokens are counted in Amazon
//! Bedrock](https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-token-burndown.html)
//! and [Quotas for the bedrock-runtime
//! endpoint](https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-runtime.html):
//! - TPM counts input and output tokens together, per model and Region, and is
//!   shared by InvokeModel, Converse and the other inference APIs.
//! - **At the start** of a request the service reserves the request's input
//!   tokens plus its `max_tokens` (if `max_tokens` is unset, the model's
//!   maximum, e.g. 64K for Claude Sonnet). **During** processing the charge is
//!   adjusted to the output actually generated, and **at the end** it settles
//!   at `InputTokenCount + CacheWriteInputTokens + OutputTokenCount × burndown
//!   rate`; the unused part of the reservation is given back. Cache reads are
//!   reserved but released at settlement (also described in AWS's own
//!   [agent-toolkit quota notes](https://github.com/aws/agent-toolkit-for-aws/blob/main/skills/core-skills/amazon-bedrock/references/quota-health.md)
//!   and the re:Post article [TPM/RPM quota monitoring dashboard for Amazon
//!   Bedrock](https://repost.aws/articles/ARfUsSkaWeSLiWZbv0OVSG1Q)).
//! - **Burndown rate**: for some newer models one output token consumes 5
//!   tokens of quota. The guide's list starts with Anthropic Claude Opus 4 and
//!   Claude Sonnet 4 and goes on with other recent Anthropic models (Claude 3.7
//!   Sonnet is commonly cited too; the list changes, so check it for the model
//!   in use); see also [Why Claude 4 API hits rate
//!   limits](https://community.aws/content/2xVZmCM5E7XXw0yqTEGgXYxRowk/bedrock-claude-4-burndown-rates).
//!   The rate only affects quota, not billing. This module hard-codes no model
//!   table: set [`Quota::output_token_weight`] to the model's rate.
//! - RPM is "the number of requests that you can send in one minute"; the
//!   guide does not say whether the minute is a sliding window, a fixed one or a
//!   refilling bucket, hence the conservative design below.
//! - Tokens per day (TPD) default to TPM × 24 × 60, so staying under TPM stays
//!   under TPD; new accounts may get less, which this limiter does not track.
//!
//! # Algorithm: a sliding-window log
//!
//! Each admission is logged with its time, one request and its reserved
//! (weighted) tokens, and occupies the quota for [`WINDOW`] (60 s plus a 1 s
//! safety margin). A call is admitted when the log, plus this call, stays within
//! the quotas scaled by the current rate factor; otherwise `try_acquire` says
//! exactly when enough entries will have expired.
//!
//! Why not a token bucket of one minute's capacity starting full? Such a bucket
//! admits a full minute's quota at once *and* refills during the next 60 s, so
//! up to twice the quota can land in one 60 s window: a server that enforces a
//! sliding window throttles up to half of that. A steady-rate bucket (capacity
//! ≈ 0) is safe but needlessly delays small jobs. The window log is the largest
//! admission pattern that never puts more than the quota in any 60 s window,
//! and it is also safe against a refilling-bucket server (capacity one minute,
//! refill quota/60 s), which admits every such pattern. With 400 calls at 300
//! RPM it admits 300 at once and the other 100 when the first ones leave the
//! window, at 61 s. The 1 s margin covers network jitter between our admission
//! times and the server's arrival times.
//!
//! Reservations follow the service: `input + max_output × weight` is charged at
//! admission; [`Limiter::settle`] gives back the unused part (on the original
//! log entry, so it frees room at once) or charges any excess as a new entry
//! at settle time (conservative: it expires later than the original would).
//!
//! On throttling the rate factor is multiplied by [`THROTTLE_DECREASE`] (floor
//! [`MIN_RATE_FACTOR`]) and admissions pause for a back-off (1 s, doubling per
//! consecutive throttle up to 20 s). Throttles reported during a pause come
//! from calls sent before it and do not compound. Successes restore the factor
//! linearly, [`RECOVERY_PER_SECOND`] per second since the last change.
//! Against a server that really allows 200 RPM while the quota says 300, the
//! tests' simulation sees 5 throttles in 1000 calls.
//!
//! Limits: the number of calls in flight is not bounded (quotas are per
//! minute, not concurrent); only over-sized calls are protected from
//! starvation, so a large call competing with a stream of small ones may wait
//! longer than its turn; tokens per day are not tracked.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[cfg(test)]
mod tests;
mod types;

pub use types::{
    estimate_input_tokens, AcquireError, LimiterStats, Quota, Reservation, TokenEstimate, Usage,
};

/// How long an admission counts against the quotas: Bedrock's one-minute
/// quota window plus a one-second safety margin for network jitter.
pub const WINDOW: Duration = Duration::from_secs(61);
/// Factor applied to the effective rate on each (non-overlapping) throttle.
pub const THROTTLE_DECREASE: f64 = 0.7;
/// The effective rate never drops below this fraction of the quota.
pub const MIN_RATE_FACTOR: f64 = 0.1;
/// How fast the rate factor recovers after a throttle, per second, applied
/// when a success is reported (0.7 → 1.0 in 60 s).
pub const RECOVERY_PER_SECOND: f64 = 0.005;
/// The first back-off pause after a throttle; it doubles per consecutive one.
pub const BASE_BACKOFF: Duration = Duration::from_secs(1);
/// The longest back-off pause.
pub const MAX_BACKOFF: Duration = Duration::from_secs(20);
/// The longest single sleep of [`Limiter::acquire_blocking`] between checks.
pub const SLEEP_SLICE: Duration = Duration::from_millis(50);
/// How long small calls stay held back after the window should have emptied
/// for a waiting over-sized call, so that call gets its turn (see
/// [`Limiter::try_acquire`]).
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// One admission (or settlement overrun) in the window log.
#[derive(Debug)]
struct Entry {
    id: u64,
    at: Instant,
    request: bool,
    tokens: u64,
}

#[derive(Debug)]
struct State {
    log: VecDeque<Entry>,
    requests: u64,
    tokens: u64,
    next_id: u64,
    clock: Option<Instant>,
    factor: f64,
    factor_changed: Option<Instant>,
    paused_until: Option<Instant>,
    backoff: Duration,
    drain_until: Option<Instant>,
    stats: LimiterStats,
}

impl State {
    /// Appends an entry to the window (a request, or tokens only) and counts
    /// it in the window's totals; returns its id.
    fn log_entry(&mut self, at: Instant, request: bool, tokens: u64) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.log.push_back(Entry {
            id,
            at,
            request,
            tokens,
        });
        self.requests += u64::from(request);
        self.tokens += tokens;
        id
    }

    /// Moves the clock to `now`, or keeps it if `now` is earlier (threads may
    /// read `Instant::now()` and take the lock in different orders), then drops
    /// expired log entries. Returns the clock.
    fn advance(&mut self, now: Instant) -> Instant {
        let now = self.clock.map_or(now, |c| c.max(now));
        self.clock = Some(now);
        while let Some(e) = self.log.front() {
            if e.at + WINDOW > now {
                break;
            }
            self.requests -= u64::from(e.request);
            self.tokens -= e.tokens;
            self.log.pop_front();
        }
        now
    }

    /// When the window will hold at most `keep` requests (`count` reads one
    /// entry's share), `now` if it already does.
    fn free_at(
        &self,
        now: Instant,
        used: u64,
        keep: u64,
        count: impl Fn(&Entry) -> u64,
    ) -> Instant {
        let mut remaining = used;
        for e in &self.log {
            if remaining <= keep {
                break;
            }
            remaining -= count(e);
            if remaining <= keep {
                return e.at + WINDOW;
            }
        }
        now
    }
}

/// Scales a quota by the rate factor, never below 1.
fn cap(quota: u32, factor: f64) -> u64 {
    ((f64::from(quota) * factor).floor() as u64).max(1)
}

/// The shared limiter; see the [module documentation](self) for the algorithm.
#[derive(Debug)]
pub struct Limiter {
    quota: Quota,
    owner: u64,
    state: Mutex<State>,
}

impl Limiter {
    /// A limiter for `quota`, with an empty window and the full rate.
    pub fn new(quota: Quota) -> Self {
        static OWNERS: AtomicU64 = AtomicU64::new(0);
        let stats = LimiterStats {
            current_rate_factor: 1.0,
            ..LimiterStats::default()
        };
        let state = State {
            log: VecDeque::new(),
            requests: 0,
            tokens: 0,
            next_id: 0,
            clock: None,
            factor: 1.0,
            factor_changed: None,
            paused_until: None,
            backoff: Duration::ZERO,
            drain_until: None,
            stats,
        };
        Limiter {
            quota,
            owner: OWNERS.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(state),
        }
    }

    /// The quota this limiter enforces.
    pub fn quota(&self) -> &Quota {
        &self.quota
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No method leaves the state half-updated before a possible panic.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Admits a call costing `estimate` at `now`, or returns how long to wait
    /// before trying again (always more than zero; other threads' settlements
    /// may make room sooner).
    ///
    /// A call whose weighted tokens exceed a whole minute's (rate-scaled) TPM
    /// could never fit beside anything else: it is admitted once the window
    /// holds no tokens at all. While such a call waits, smaller calls are held
    /// back too (until it is admitted, or at most a second past the time the
    /// window should have emptied), so a stream of small calls cannot starve it.
    ///
    /// # Errors
    ///
    /// `Err(wait)`: the call does not fit now; try again after `wait`.
    pub fn try_acquire(
        &self,
        estimate: TokenEstimate,
        now: Instant,
    ) -> Result<Reservation, Duration> {
        let mut st = self.lock();
        let now = st.advance(now);
        let factor = st.factor;
        let cost = match self.quota.tokens_per_minute {
            Some(_) => self
                .quota
                .weighted_tokens(estimate.input, estimate.max_output),
            None => 0,
        };
        let mut ready = now;
        if let Some(until) = st.paused_until {
            ready = ready.max(until);
        }
        if let Some(rpm) = self.quota.requests_per_minute {
            let keep = cap(rpm, factor) - 1;
            ready = ready.max(st.free_at(now, st.requests, keep, |e| u64::from(e.request)));
        }
        let mut oversized = false;
        if let Some(tpm) = self.quota.tokens_per_minute {
            let cap = cap(tpm, factor);
            oversized = cost > cap;
            let keep = if oversized { 0 } else { cap - cost };
            ready = ready.max(st.free_at(now, st.tokens, keep, |e| e.tokens));
        }
        match st.drain_until {
            Some(until) if now >= until => st.drain_until = None,
            Some(until) if !oversized => ready = ready.max(until),
            _ => {}
        }
        if ready > now {
            if oversized {
                let until = ready + DRAIN_GRACE;
                st.drain_until = Some(st.drain_until.map_or(until, |d| d.max(until)));
            }
            return Err(ready - now);
        }
        if oversized {
            st.drain_until = None;
        }
        let id = st.log_entry(now, true, cost);
        st.stats.calls += 1;
        Ok(Reservation {
            owner: self.owner,
            id,
            tokens: cost,
            admitted_at: now,
        })
    }

    /// [`try_acquire`](Self::try_acquire) at [`Instant::now`].
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    pub fn try_acquire_now(&self, estimate: TokenEstimate) -> Result<Reservation, Duration> {
        self.try_acquire(estimate, Instant::now())
    }

    /// Corrects `reservation` with what the call really used, as the service
    /// does at the end of a request.
    ///
    /// `Some(usage)`: unused reserved tokens are given back at once (if the
    /// admission is still in the window); tokens beyond the reservation are
    /// charged as of `now`. `None` means the call failed before the service
    /// counted any tokens (refused, throttled, never sent): all its tokens are
    /// given back, but its request slot stays used, since the server may have
    /// counted the request. A call that failed after the model began answering
    /// did burn tokens: report an estimate, or drop the reservation unsettled.
    ///
    /// A reservation from another limiter is ignored (with a warning).
    pub fn settle(&self, reservation: Reservation, actual: Option<Usage>, now: Instant) {
        if reservation.owner != self.owner {
            log::warn!("limiter: ignoring a reservation from another limiter");
            return;
        }
        let mut st = self.lock();
        let now = st.advance(now);
        st.stats.settled += 1;
        if self.quota.tokens_per_minute.is_none() {
            return;
        }
        let used = actual.map_or(0, |u| {
            self.quota.weighted_tokens(u.input_tokens, u.output_tokens)
        });
        if used < reservation.tokens {
            if let Ok(i) = st.log.binary_search_by_key(&reservation.id, |e| e.id) {
                let refund = (reservation.tokens - used).min(st.log[i].tokens);
                st.log[i].tokens -= refund;
                st.tokens -= refund;
                st.stats.tokens_refunded += refund;
            }
        } else if used > reservation.tokens {
            let extra = used - reservation.tokens;
            st.log_entry(now, false, extra);
            st.stats.tokens_overrun += extra;
        }
    }

    /// [`settle`](Self::settle) at [`Instant::now`].
    pub fn settle_now(&self, reservation: Reservation, actual: Option<Usage>) {
        self.settle(reservation, actual, Instant::now())
    }

    /// Reports that the service throttled a call: unless a back-off pause is
    /// already running, lowers the rate factor (× [`THROTTLE_DECREASE`], not
    /// below [`MIN_RATE_FACTOR`]) and pauses admissions for the next back-off.
    pub fn on_throttled(&self, now: Instant) {
        let mut st = self.lock();
        let now = st.advance(now);
        st.stats.throttled += 1;
        if st.paused_until.is_some_and(|until| now < until) {
            return;
        }
        st.factor = (st.factor * THROTTLE_DECREASE).max(MIN_RATE_FACTOR);
        st.factor_changed = Some(now);
        st.backoff = if st.backoff.is_zero() {
            BASE_BACKOFF
        } else {
            (st.backoff * 2).min(MAX_BACKOFF)
        };
        st.paused_until = Some(now + st.backoff);
        st.stats.rate_decreases += 1;
        log::debug!(
            "limiter: throttled; rate factor {:.2}, pausing {:?}",
            st.factor,
            st.backoff
        );
    }

    /// [`on_throttled`](Self::on_throttled) at [`Instant::now`].
    pub fn on_throttled_now(&self) {
        self.on_throttled(Instant::now())
    }

    /// Reports a call the service accepted: resets the back-off and restores
    /// the rate factor by [`RECOVERY_PER_SECOND`] for each second since it last
    /// changed, up to 1.
    pub fn on_success(&self, now: Instant) {
        let mut st = self.lock();
        let now = st.advance(now);
        st.backoff = Duration::ZERO;
        if let Some(since) = st.factor_changed {
            let gained = (now - since).as_secs_f64() * RECOVERY_PER_SECOND;
            st.factor = (st.factor + gained).min(1.0);
            st.factor_changed = (st.factor < 1.0).then_some(now);
        }
    }

    /// [`on_success`](Self::on_success) at [`Instant::now`].
    pub fn on_success_now(&self) {
        self.on_success(Instant::now())
    }

    /// Records how long a call waited for admission; zero is not counted.
    pub fn record_wait(&self, waited: Duration) {
        if waited.is_zero() {
            return;
        }
        let mut st = self.lock();
        st.stats.waited_calls += 1;
        st.stats.total_wait += waited;
        st.stats.max_wait = st.stats.max_wait.max(waited);
    }

    /// The counters so far.
    pub fn stats(&self) -> LimiterStats {
        let st = self.lock();
        LimiterStats {
            current_rate_factor: st.factor,
            window_requests: st.requests,
            window_tokens: st.tokens,
            ..st.stats
        }
    }

    /// Waits on the calling thread until the call is admitted, checking again
    /// at least every [`SLEEP_SLICE`]. Gives up when `should_stop` returns true
    /// or when `deadline` has passed while the call is still refused (a call
    /// that can be admitted is, even past its deadline). If the call was
    /// refused at least once, the wait is recorded with
    /// [`record_wait`](Self::record_wait), whatever the outcome.
    ///
    /// # Errors
    ///
    /// [`AcquireError::Cancelled`] when `should_stop` says so, [`AcquireError::DeadlineExceeded`] when `deadline` passes while the call is still refused.
    pub fn acquire_blocking(
        &self,
        estimate: TokenEstimate,
        should_stop: impl Fn() -> bool,
        deadline: Option<Instant>,
    ) -> Result<Reservation, AcquireError> {
        let start = Instant::now();
        // Only a call that was refused at least once counts as having waited.
        let mut refused = false;
        let record = |refused: bool| {
            if refused {
                self.record_wait(start.elapsed());
            }
        };
        loop {
            if should_stop() {
                record(refused);
                return Err(AcquireError::Cancelled);
            }
            let now = Instant::now();
            let wait = match self.try_acquire(estimate, now) {
                Ok(reservation) => {
                    record(refused);
                    return Ok(reservation);
                }
                Err(wait) => wait,
            };
            refused = true;
            let mut slice = wait.min(SLEEP_SLICE);
            if let Some(deadline) = deadline {
                if now >= deadline {
                    record(refused);
                    return Err(AcquireError::DeadlineExceeded);
                }
                slice = slice.min(deadline - now);
            }
            std::thread::sleep(slice);
        }
    }
}
