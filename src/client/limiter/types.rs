//! The limiter's value types: quotas, estimates, usage, reservations, errors
//! and stats.

use std::fmt;
use std::time::{Duration, Instant};

/// Estimates a request's input tokens from the size of its JSON body: bytes / 4,
/// rounded up (saturating at `u32::MAX`).
///
/// About 4 characters of English per token is the usual rule of thumb; the JSON
/// keys and quoting make this an over-estimate for text, which is the safe side,
/// and [`Limiter::settle`](super::Limiter::settle) corrects it with the real count. Exact counts need the
/// service's `CountTokens` API. Base64 media in the body is grossly
/// over-counted (an image costs far fewer tokens than its bytes / 4), so leave
/// binary payloads out of `request_json_bytes`.
pub fn estimate_input_tokens(request_json_bytes: usize) -> u32 {
    u32::try_from(request_json_bytes.div_ceil(4)).unwrap_or(u32::MAX)
}

/// One model's on-demand quotas; `None` leaves that dimension unlimited.
#[derive(Debug, Clone, Copy, PartialEq)]
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
pub struct TokenEstimate {
    /// Estimated input tokens (see [`estimate_input_tokens`]).
    pub input: u32,
    /// The request's `max_tokens`: the service reserves this much output.
    pub max_output: u32,
}

/// What a finished call really used, as reported in the reply's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Input tokens the service counted: pass input plus cache-write tokens
    /// (cache reads are not charged at settlement).
    pub input_tokens: u32,
    /// Output tokens generated (unweighted; the quota's weight is applied).
    pub output_tokens: u32,
}

/// An admitted call's claim on the quotas, to be handed back to
/// [`Limiter::settle`](super::Limiter::settle). Dropping it unsettled keeps the full estimate charged
/// until it leaves the window, the safe choice when the outcome is unknown.
#[derive(Debug)]
#[must_use = "settle the reservation with the call's usage to give back unused tokens"]
pub struct Reservation {
    pub(super) owner: u64,
    pub(super) id: u64,
    pub(super) tokens: u64,
    pub(super) admitted_at: Instant,
}

impl Reservation {
    /// The weighted tokens reserved: `input + max_output × weight`, or 0 without a TPM quota.
    pub fn tokens(&self) -> u64 {
        self.tokens
    }

    /// When the limiter admitted the call (its clock never runs backwards).
    pub fn admitted_at(&self) -> Instant {
        self.admitted_at
    }
}

/// Why [`Limiter::acquire_blocking`](super::Limiter::acquire_blocking) gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcquireError {
    /// `should_stop` returned true while waiting.
    Cancelled,
    /// The deadline passed while waiting.
    DeadlineExceeded,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AcquireError::Cancelled => "cancelled while waiting for the rate limiter",
            AcquireError::DeadlineExceeded => "deadline passed while waiting for the rate limiter",
        })
    }
}

impl std::error::Error for AcquireError {}

/// A snapshot of a limiter's counters.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LimiterStats {
    /// Calls admitted.
    pub calls: u64,
    /// Waits recorded with [`Limiter::record_wait`](super::Limiter::record_wait) that were longer than zero
    /// (including waits that ended cancelled or past their deadline).
    pub waited_calls: u64,
    /// The sum of the recorded waits.
    pub total_wait: Duration,
    /// The longest recorded wait.
    pub max_wait: Duration,
    /// Throttles reported with [`Limiter::on_throttled`](super::Limiter::on_throttled).
    pub throttled: u64,
    /// How many of those lowered the rate (the others fell within a pause).
    pub rate_decreases: u64,
    /// The fraction of the quotas currently allowed, from [`MIN_RATE_FACTOR`](super::MIN_RATE_FACTOR) to 1.
    pub current_rate_factor: f64,
    /// Reservations settled.
    pub settled: u64,
    /// Reserved tokens given back at settlement.
    pub tokens_refunded: u64,
    /// Tokens charged at settlement beyond the reservations.
    pub tokens_overrun: u64,
    /// Requests in the current window (as of the last call into the limiter).
    pub window_requests: u64,
    /// Weighted tokens in the current window (as of the last call).
    pub window_tokens: u64,
}
