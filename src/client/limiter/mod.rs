//! A client-side, quota-aware rate limiter for Bedrock's per-model on-demand
//! quotas: requests per minute (RPM) and tokens per minute (TPM).
//!
//! Pure and deterministic: every method that depends on time takes `now`
//! explicitly (the `*_now` wrappers pass [`Instant::now`]), so it can be driven
//! by a fake clock in tests and by tokio sleeps or the caller-side wait
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
//!   refilling bucket, nor how large a burst is accepted; hence the design below.
//! - Tokens per day (TPD) default to TPM × 24 × 60, so staying under TPM stays
//!   under TPD; new accounts may get less, which this limiter does not track.
//!
//! # What a server may do, and what that allows
//!
//! AWS documents neither the window nor the burst, so the limiter must hold
//! against every plausible server (the bundled one plays each:
//! `bedrock_converse_mock::QuotaModel`):
//! - a **sliding 60 s window**: at most Q in any 60 s;
//! - a **fixed (calendar) minute**: at most Q per minute on the clock;
//! - a **token bucket** refilled at Q per minute, holding 1 s, 10 s or 60 s
//!   of quota (Q/60, Q/6 or Q calls of burst), starting full.
//!
//! Admissions that no such server throttles must keep every 60 s within Q
//! *and* fit the smallest bucket: go at most about one second of quota
//! ahead of an even pace. Against the 1 s bucket nothing does better than
//! that pace (400 calls at 300 RPM: 79 s), so pacing is within a few percent
//! of the best possible whatever the server; only a server known to allow
//! bursts (a 60 s bucket: 20 s for the same job) could go faster, and
//! finding out costs throttles.
//!
//! # Algorithm: a paced schedule inside a window log
//!
//! A call must pass two checks.
//!
//! **The pacer** (`pace`) is GCRA, the generic cell rate algorithm that
//! [governor](https://docs.rs/governor) implements: a theoretical arrival
//! time advances by `60 / RPM` seconds per call (and by `tokens × 60 / TPM`
//! per call's weighted tokens), and a call may run at most `burst` seconds
//! ahead of it. The rate is the quota times a factor, and adapts as TCP and
//! the AWS SDKs' adaptive retry mode do (`aws-smithy-runtime`'s
//! `client_rate_limiter.rs`: a token bucket whose fill rate is cut to 0.7×
//! on a throttle and grows back on success): AIMD, multiplicative decrease
//! on a throttle ([`THROTTLE_DECREASE`], floor [`MIN_RATE_FACTOR`]),
//! additive increase while calls succeed ([`RECOVERY_PER_SECOND`] of the
//! quota per second, up to the quota). The burst starts at
//! [`INITIAL_BURST`] (half a second of quota, safe against the smallest
//! bucket) and grows by [`BURST_GROWTH`] a second, up to [`MAX_BURST`],
//! only while the pacer is what holds calls back and nothing is throttled
//! (TCP's slow start: a larger burst is only probed for when it would be
//! used). A throttle is blamed on the burst first, if it has grown: it
//! drops back to the start and may then grow to half of what it was; with
//! the burst at its start, the rate is cut. Either way the next call goes
//! one spacing interval after the throttle, with no burst: the server has
//! just said it is empty, and pausing longer (until a window drains) is
//! what stalled the limiter before. A throttle of a call admitted before
//! the last reaction does not compound: the reaction already covers it.
//!
//! **The window** (`window`) logs each admission for [`WINDOW`] (60 s plus
//! a 1 s margin for jitter) and keeps the log within the quota (not scaled
//! by the factor), so no 60 s window, sliding or calendar, ever sees more
//! than Q. It also spreads the room it has left evenly over the time until
//! its oldest entry leaves: a burst early in a minute is paid back by a
//! slightly slower pace over the rest of it, never by a stall at its end.
//!
//! Against each server model, 400 calls at 300 RPM finish in about 81-83 s
//! (1.02-1.03x the 80 s of an even pace) with no throttle; the module's
//! simulator (`sim`, in the tests) checks this for RPM and TPM on a fake
//! clock, and also that a server allowing less than the quota says costs
//! few throttles and no stall.
//!
//! **Learning mode** ([`Limiter::learning`], for a batch run without a
//! quota): no rate is known, so nothing is paced until the first throttle;
//! then the full rate is set to the sending rate measured over the last few
//! seconds (as the SDKs' adaptive mode does) and the rate adapts as above.
//!
//! Reservations follow the service: `input + max_output × weight` is charged at
//! admission; [`Limiter::settle`] gives back the unused part (to the pacer, and
//! on the original log entry, so it frees room at once) or charges any excess
//! as of settle time (conservative: it expires later than the original would).
//!
//! Limits: the number of calls in flight is not bounded (quotas are per
//! minute, not concurrent); only over-sized calls are protected from
//! starvation, so a large call competing with a stream of small ones may wait
//! longer than its turn; tokens per day are not tracked; a server that
//! charges a throttled request, or retries the SDK makes under the limiter's
//! feet (the SDK's own retry policy resends a throttled request before the
//! limiter hears of it), are seen only through their throttles.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod pace;
mod settle;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;
mod types;
mod window;

// The module documentation and the tests name them.
#[allow(unused_imports)]
pub(crate) use pace::{
    BURST_GROWTH, INITIAL_BURST, MAX_BURST, MIN_RATE_FACTOR, RECOVERY_PER_SECOND, THROTTLE_DECREASE,
};
pub(crate) use settle::{settle, settle_ref};
pub(crate) use types::{estimate_input_tokens, Reservation, TokenEstimate, TokensUsed};
pub use types::{LimiterStats, Quota};
#[allow(unused_imports)]
pub(crate) use window::WINDOW;

use pace::Pacer;
use window::Window;

/// The longest single sleep of a wait for admission between checks.
pub(crate) const SLEEP_SLICE: Duration = Duration::from_millis(50);
/// How long small calls stay held back after the window should have emptied
/// for a waiting over-sized call, so that call gets its turn (see
/// [`Limiter::try_acquire`]).
const DRAIN_GRACE: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct State {
    window: Window,
    pacer: Pacer,
    clock: Option<Instant>,
    drain_until: Option<Instant>,
    stats: LimiterStats,
}

impl State {
    /// Moves the clock to `now`, or keeps it if `now` is earlier (threads may
    /// read `Instant::now()` and take the lock in different orders), then drops
    /// expired log entries. Returns the clock.
    fn advance(&mut self, now: Instant) -> Instant {
        let now = self.clock.map_or(now, |c| c.max(now));
        self.clock = Some(now);
        self.window.expire(now);
        now
    }
}

/// The shared limiter; see the [module documentation](self) for the algorithm.
#[derive(Debug)]
pub(crate) struct Limiter {
    quota: Quota,
    owner: u64,
    /// Time zero of the pacer's clock.
    origin: Instant,
    state: Mutex<State>,
}

impl Limiter {
    /// A limiter for `quota`, with an empty window and the full rate.
    pub(crate) fn new(quota: Quota) -> Self {
        Self::build(quota, false)
    }

    /// A limiter that knows no quota and learns a rate from throttling: it
    /// admits everything until the first throttle, then paces calls at
    /// [`THROTTLE_DECREASE`] times the rate it measured over the last few
    /// seconds, and adapts that rate as a limiter with a quota does.
    pub(crate) fn learning() -> Self {
        Self::build(Quota::new(), true)
    }

    fn build(quota: Quota, learn: bool) -> Self {
        static OWNERS: AtomicU64 = AtomicU64::new(0);
        // `stats()` fills in the rate factor, the burst and the window from
        // the pacer and the window; only the counters live here.
        let stats = LimiterStats::default();
        let state = State {
            window: Window::default(),
            pacer: Pacer::new(quota.requests_per_minute, quota.tokens_per_minute, learn),
            clock: None,
            drain_until: None,
            stats,
        };
        Limiter {
            quota,
            owner: OWNERS.fetch_add(1, Ordering::Relaxed),
            origin: Instant::now(),
            state: Mutex::new(state),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No method leaves the state half-updated before a possible panic.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `at` on the pacer's clock: seconds since `origin` (negative before).
    fn secs(&self, at: Instant) -> f64 {
        match at.checked_duration_since(self.origin) {
            Some(d) => d.as_secs_f64(),
            None => -(self.origin - at).as_secs_f64(),
        }
    }

    /// Admits a call costing `estimate` at `now`, or returns how long to wait
    /// before trying again (always more than zero; other threads' settlements
    /// may make room sooner).
    ///
    /// A call must fit both halves: the pacer's schedule and the window's
    /// room (see the module documentation). A call whose weighted tokens
    /// exceed a whole minute's TPM could never fit beside anything else: it
    /// is admitted once the window holds no tokens at all. While such a call
    /// waits, smaller calls are held back too (until it is admitted, or at
    /// most a second past the time the window should have emptied), so a
    /// stream of small calls cannot starve it.
    ///
    /// # Errors
    ///
    /// `Err(wait)`: the call does not fit now; try again after `wait`.
    pub(crate) fn try_acquire(
        &self,
        estimate: TokenEstimate,
        now: Instant,
    ) -> Result<Reservation, Duration> {
        self.acquire(estimate, now, true)
    }

    /// [`try_acquire`](Self::try_acquire) for a call that may go elsewhere
    /// when it does not fit here (failover across targets): it leaves no
    /// claim behind, so an over-sized call that goes to another target does
    /// not hold this one's smaller calls back.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    pub(crate) fn try_acquire_passing(
        &self,
        estimate: TokenEstimate,
        now: Instant,
    ) -> Result<Reservation, Duration> {
        self.acquire(estimate, now, false)
    }

    /// Admits the call or says how long to wait; `claim`: an over-sized
    /// call that must wait holds smaller calls back meanwhile.
    fn acquire(
        &self,
        estimate: TokenEstimate,
        now: Instant,
        claim: bool,
    ) -> Result<Reservation, Duration> {
        let mut st = self.lock();
        let now = st.advance(now);
        let cost = match self.quota.tokens_per_minute {
            Some(_) => self
                .quota
                .weighted_tokens(estimate.input, estimate.max_output),
            None => 0,
        };
        let (rpm, tpm) = (self.quota.requests_per_minute, self.quota.tokens_per_minute);
        let mut ready = st.window.ready(now, rpm, tpm, cost);
        let pace = st.pacer.wait(self.secs(now), cost);
        ready = ready.max(now + Duration::from_secs_f64(pace));
        let oversized = tpm.is_some_and(|tpm| cost > u64::from(tpm));
        match st.drain_until {
            Some(until) if now >= until => st.drain_until = None,
            Some(until) if !oversized => ready = ready.max(until),
            _ => {}
        }
        // Less than a microsecond is rounding, not a wait.
        if ready > now + Duration::from_micros(1) {
            if oversized && claim {
                let until = ready + DRAIN_GRACE;
                st.drain_until = Some(st.drain_until.map_or(until, |d| d.max(until)));
            }
            return Err(ready - now);
        }
        if oversized {
            st.drain_until = None;
        }
        let id = st.window.push(now, true, cost);
        st.pacer.admit(self.secs(now), cost);
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
    pub(crate) fn try_acquire_now(&self, estimate: TokenEstimate) -> Result<Reservation, Duration> {
        self.try_acquire(estimate, Instant::now())
    }

    /// Corrects `reservation` with what the call really used, as the service
    /// does at the end of a request.
    ///
    /// `Some(usage)`: unused reserved tokens are given back at once (to the
    /// pacer, and to the window if the admission is still in it); tokens
    /// beyond the reservation are charged as of `now`. `None` means the call
    /// failed before the service counted any tokens (refused, throttled,
    /// never sent): all its tokens are given back, but its request slot
    /// stays used, since the server may have counted the request. A call
    /// that failed after the model began answering did burn tokens: report
    /// an estimate, or drop the reservation unsettled.
    ///
    /// A reservation from another limiter is ignored (with a warning).
    pub(crate) fn settle(
        &self,
        reservation: Reservation,
        actual: Option<TokensUsed>,
        now: Instant,
    ) {
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
            let refund = reservation.tokens - used;
            st.pacer.refund(refund);
            let refunded = st.window.refund(reservation.id, refund);
            st.stats.tokens_refunded += refunded;
        } else if used > reservation.tokens {
            let extra = used - reservation.tokens;
            st.window.push(now, false, extra);
            st.pacer.charge(self.secs(now), extra);
            st.stats.tokens_overrun += extra;
        }
    }

    /// [`settle`](Self::settle) at [`Instant::now`].
    pub(crate) fn settle_now(&self, reservation: Reservation, actual: Option<TokensUsed>) {
        self.settle(reservation, actual, Instant::now())
    }

    /// Reports that the service throttled a call admitted at `admitted`:
    /// the pacer blames its burst first, then its rate (see the module
    /// documentation), and the next call goes one spacing interval from
    /// `now`. A throttle of a call admitted before the last reaction is
    /// counted but changes nothing: the reaction already covers it.
    pub(crate) fn on_throttled(&self, admitted: Instant, now: Instant) {
        let mut st = self.lock();
        let now = st.advance(now);
        st.stats.throttled += 1;
        if st.pacer.throttled(self.secs(admitted), self.secs(now)) {
            log::debug!(
                "limiter: throttled; rate factor {:.2}, burst {:.2} s",
                st.pacer.factor(),
                st.pacer.burst()
            );
        }
    }

    /// [`on_throttled`](Self::on_throttled) at [`Instant::now`].
    pub(crate) fn on_throttled_now(&self, admitted: Instant) {
        self.on_throttled(admitted, Instant::now())
    }

    /// Reports a call the service accepted: the rate recovers by
    /// [`RECOVERY_PER_SECOND`] for each second since it last changed, up to
    /// the quota, and a burst that has been holding calls back grows.
    pub(crate) fn on_success(&self, now: Instant) {
        let mut st = self.lock();
        let now = st.advance(now);
        st.pacer.succeeded(self.secs(now));
    }

    /// [`on_success`](Self::on_success) at [`Instant::now`].
    pub(crate) fn on_success_now(&self) {
        self.on_success(Instant::now())
    }

    /// Records how long a call waited for admission; zero is not counted.
    pub(crate) fn record_wait(&self, waited: Duration) {
        if waited.is_zero() {
            return;
        }
        let mut st = self.lock();
        st.stats.waited_calls += 1;
        st.stats.total_wait += waited;
        st.stats.max_wait = st.stats.max_wait.max(waited);
    }

    /// The counters so far.
    pub(crate) fn stats(&self) -> LimiterStats {
        let st = self.lock();
        LimiterStats {
            rate_decreases: st.pacer.rate_decreases,
            burst_decreases: st.pacer.burst_decreases,
            current_rate_factor: st.pacer.factor(),
            current_burst_seconds: st.pacer.burst(),
            learned_requests_per_minute: st.pacer.full_rate().map(|r| r * 60.0),
            window_requests: st.window.requests,
            window_tokens: st.window.tokens,
            ..st.stats
        }
    }
}
