//! The limiter's value types: quotas, estimates, usage, reservations, errors
//! and stats.

use std::time::{Duration, Instant};

/// Estimates a request's input tokens from the size of its JSON body: bytes / 4,
/// rounded up (saturating at `u32::MAX`).
///
/// About 4 characters of English per token is the usual rule of thumb; the JSON
/// keys and quoting make this an over-estimate for text, which is the safe side,
/// and the limiter corrects it with the real count when the call settles. Exact counts need the
/// service's `CountTokens` API. Base64 media in the body is grossly
/// over-counted (an image costs far fewer tokens than its bytes / 4), so leave
/// binary payloads out of `request_json_bytes`.
pub(crate) fn estimate_input_tokens(request_json_bytes: usize) -> u32 {
    u32::try_from(request_json_bytes.div_ceil(4)).unwrap_or(u32::MAX)
}

/// One model's on-demand quotas; `None` leaves that dimension unlimited.
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct Quota {
    /// Requests per minute (RPM).
    pub requests_per_minute: Option<u32>,
    /// Tokens per minute (TPM), input and output combined.
    pub tokens_per_minute: Option<u32>,
    /// How many quota tokens one output token burns (the burndown rate): 1.0
    /// for most models, 5.0 for the models AWS lists with a 5x rate.
    pub output_token_weight: f64,
}

impl Default for Quota {
    fn default() -> Self {
        Quota {
            requests_per_minute: None,
            tokens_per_minute: None,
            output_token_weight: 1.0,
        }
    }
}

impl Quota {
    /// No limits and an output weight of 1.0; add limits with the setters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the requests-per-minute quota.
    pub fn requests_per_minute(mut self, rpm: u32) -> Self {
        self.requests_per_minute = Some(rpm);
        self
    }

    /// Sets the tokens-per-minute quota.
    pub fn tokens_per_minute(mut self, tpm: u32) -> Self {
        self.tokens_per_minute = Some(tpm);
        self
    }

    /// Sets the output-token burndown rate.
    ///
    /// # Panics
    /// If `weight` is negative or not finite.
    pub fn output_token_weight(mut self, weight: f64) -> Self {
        assert!(
            weight.is_finite() && weight >= 0.0,
            "output_token_weight must be finite and >= 0, got {weight}"
        );
        self.output_token_weight = weight;
        self
    }

    /// The quota tokens `input` and `output` tokens burn: `input + ⌈output × weight⌉`.
    pub fn weighted_tokens(&self, input: u32, output: u32) -> u64 {
        u64::from(input) + (f64::from(output) * self.output_token_weight).ceil() as u64
    }
}

/// What a call is expected to cost before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TokenEstimate {
    /// Estimated input tokens (see [`estimate_input_tokens`]).
    pub(crate) input: u32,
    /// The request's `max_tokens`: the service reserves this much output.
    pub(crate) max_output: u32,
}

/// What a finished call really used, as the quota counts it (named apart
/// from [`crate::model::Usage`], the reply's own usage, from which it is
/// taken).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TokensUsed {
    /// Input tokens the service counted: pass input plus cache-write tokens
    /// (cache reads are not charged at settlement).
    pub(crate) input_tokens: u32,
    /// Output tokens generated (unweighted; the quota's weight is applied).
    pub(crate) output_tokens: u32,
}

/// An admitted call's claim on the quotas, to be handed back to
/// [`Limiter::settle`](super::Limiter::settle). Dropping it unsettled keeps the full estimate charged
/// until it leaves the window, the safe choice when the outcome is unknown.
#[derive(Debug)]
#[must_use = "settle the reservation with the call's usage to give back unused tokens"]
pub(crate) struct Reservation {
    pub(super) owner: u64,
    pub(super) id: u64,
    pub(super) tokens: u64,
    pub(super) admitted_at: Instant,
}

impl Reservation {
    /// The weighted tokens reserved: `input + max_output × weight`, or 0 without a TPM quota.
    #[cfg(test)]
    pub(crate) fn tokens(&self) -> u64 {
        self.tokens
    }

    /// When the limiter admitted the call (its clock never runs backwards).
    pub(crate) fn admitted_at(&self) -> Instant {
        self.admitted_at
    }
}

/// A snapshot of a quota limiter's counters
/// ([`Converser::limiter_stats`](crate::Converser::limiter_stats)).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LimiterStats {
    /// Calls admitted.
    pub calls: u64,
    /// Calls that had to wait for admission (including waits that ended
    /// cancelled or past their deadline).
    pub waited_calls: u64,
    /// The sum of those waits.
    pub total_wait: Duration,
    /// The longest of those waits.
    pub max_wait: Duration,
    /// Calls the service throttled.
    pub throttled: u64,
    /// How many of those lowered the rate (a throttle of a call sent before
    /// the last reaction to one does not, nor does one blamed on the burst).
    pub rate_decreases: u64,
    /// How many throttles were blamed on the burst and shrank it.
    pub burst_decreases: u64,
    /// The fraction of the quota the limiter currently paces calls at, from
    /// 0.05 to 1.
    pub current_rate_factor: f64,
    /// How far ahead of an even pace calls may currently go, in seconds of
    /// quota (0.5 at the start; grows while nothing is throttled).
    pub current_burst_seconds: f64,
    /// A limiter with no requests-per-minute quota that learns one from
    /// throttling (a batch run's, see [`Batch`](crate::batch::Batch)): the
    /// full rate it learned, once it was first throttled; with a quota, the
    /// quota.
    pub learned_requests_per_minute: Option<f64>,
    /// Reservations settled.
    pub settled: u64,
    /// Reserved tokens given back at settlement.
    pub tokens_refunded: u64,
    /// Tokens charged at settlement beyond the reservations.
    pub tokens_overrun: u64,
    /// Requests in the current 61 s window (as of the last call into the
    /// limiter).
    pub window_requests: u64,
    /// Weighted tokens in the current window (as of the last call).
    pub window_tokens: u64,
}
