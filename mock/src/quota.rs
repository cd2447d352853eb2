//! The server's quota mode: requests and tokens per minute per model, as
//! Bedrock enforces its on-demand quotas; past them a request is answered
//! with HTTP 429 `ThrottlingException` and takes no scripted reply.
//!
//! A request counts one request and, like the service's reservation, its
//! input words plus its `inferenceConfig.maxTokens` times the output-token
//! weight as tokens (the mock does not correct the charge by the reply's
//! usage). A throttled request counts nothing.
//!
//! AWS documents the quotas per minute ([Quotas for the bedrock-runtime
//! endpoint](https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-runtime.html),
//! [How tokens are counted](https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-token-burndown.html))
//! but not how the minute is counted, nor how large a burst is accepted, so
//! the mock plays each plausible reading ([`QuotaModel`]).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const MINUTE: Duration = Duration::from_secs(60);

/// How a quota's minute is counted.
///
/// ```
/// use bedrock_converse_mock::{QuotaModel, ServerQuota};
/// use std::time::Duration;
/// let quota = ServerQuota::new()
///     .requests_per_minute(300)
///     .model(QuotaModel::Bucket { capacity: Duration::from_secs(10) });
/// assert_eq!(quota.model, QuotaModel::Bucket { capacity: Duration::from_secs(10) });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuotaModel {
    /// At most the quota in any 60 seconds (the default).
    #[default]
    SlidingWindow,
    /// At most the quota per minute of the wall clock (from :00 to :59).
    FixedMinute,
    /// A token bucket refilled at the quota per minute and holding
    /// `capacity` of quota (10 s of a 300 RPM quota: 50 requests of burst),
    /// full at the start.
    Bucket {
        /// How much of the quota the bucket holds, as time at the quota's
        /// rate.
        capacity: Duration,
    },
}

/// Per-model limits for [`MockServer::set_quota`](crate::MockServer::set_quota).
///
/// ```
/// use bedrock_converse_mock::ServerQuota;
/// let quota = ServerQuota::new().requests_per_minute(300).tokens_per_minute(100_000);
/// assert_eq!(quota.requests_per_minute, Some(300));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerQuota {
    /// Requests per minute per model (`None`: no limit).
    pub requests_per_minute: Option<u32>,
    /// Tokens per minute per model (`None`: no limit).
    pub tokens_per_minute: Option<u32>,
    /// How many tokens of quota one reserved output token burns (1 by
    /// default; 5 for the models AWS lists with a 5x burndown rate).
    pub output_token_weight: u32,
    /// How the minute is counted.
    pub model: QuotaModel,
}

impl Default for ServerQuota {
    fn default() -> Self {
        ServerQuota {
            requests_per_minute: None,
            tokens_per_minute: None,
            output_token_weight: 1,
            model: QuotaModel::default(),
        }
    }
}

impl ServerQuota {
    /// No limits yet; a sliding window; output weight 1.
    pub fn new() -> Self {
        ServerQuota::default()
    }

    /// Sets the requests per minute.
    pub fn requests_per_minute(mut self, rpm: u32) -> Self {
        self.requests_per_minute = Some(rpm);
        self
    }

    /// Sets the tokens per minute.
    pub fn tokens_per_minute(mut self, tpm: u32) -> Self {
        self.tokens_per_minute = Some(tpm);
        self
    }

    /// Sets the output-token weight (burndown rate).
    pub fn output_token_weight(mut self, weight: u32) -> Self {
        self.output_token_weight = weight;
        self
    }

    /// Sets how the minute is counted.
    pub fn model(mut self, model: QuotaModel) -> Self {
        self.model = model;
        self
    }
}

/// What one model has used of its quota.
#[derive(Debug, Default)]
struct Usage {
    /// Sliding window: when each admitted request came, and its tokens.
    log: VecDeque<(Instant, u64)>,
    /// Fixed minute: which minute, and what it has counted.
    minute: u64,
    counted: (u64, u64),
    /// Bucket: the levels (requests, tokens) and when they were refilled.
    levels: Option<(f64, f64, Instant)>,
}

/// What a quota-enforcing server has counted.
#[derive(Debug)]
pub(crate) struct Meter {
    quota: ServerQuota,
    usage: HashMap<String, Usage>,
    /// The start of a wall-clock minute, as an `Instant`.
    minute_origin: Instant,
    pub(crate) throttled: u64,
}

impl Meter {
    pub(crate) fn new(quota: ServerQuota) -> Self {
        let into_minute = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(Duration::ZERO, |d| Duration::from_secs(d.as_secs() % 60));
        let now = Instant::now();
        Meter {
            quota,
            usage: HashMap::new(),
            minute_origin: now.checked_sub(into_minute).unwrap_or(now),
            throttled: 0,
        }
    }

    /// Whether `body`, a request for `model`, fits the quota now; counts it
    /// if it does.
    pub(crate) fn admit(&mut self, model: &str, body: &Value, now: Instant) -> bool {
        let tokens = tokens(body, self.quota.output_token_weight);
        let (rpm, tpm) = (
            self.quota.requests_per_minute.map(u64::from),
            self.quota.tokens_per_minute.map(u64::from),
        );
        let usage = self.usage.entry(model.to_owned()).or_default();
        let fits = match self.quota.model {
            QuotaModel::SlidingWindow => {
                let log = &mut usage.log;
                while log
                    .front()
                    .is_some_and(|(at, _)| now.duration_since(*at) >= MINUTE)
                {
                    log.pop_front();
                }
                let used: u64 = log.iter().map(|(_, t)| t).sum();
                let fits = rpm.is_none_or(|r| (log.len() as u64) < r)
                    && tpm.is_none_or(|t| used + tokens <= t);
                if fits {
                    log.push_back((now, tokens));
                }
                fits
            }
            QuotaModel::FixedMinute => {
                let minute = now.saturating_duration_since(self.minute_origin).as_secs() / 60;
                if minute != usage.minute {
                    usage.minute = minute;
                    usage.counted = (0, 0);
                }
                let (requests, used) = usage.counted;
                let fits =
                    rpm.is_none_or(|r| requests < r) && tpm.is_none_or(|t| used + tokens <= t);
                if fits {
                    usage.counted = (requests + 1, used + tokens);
                }
                fits
            }
            QuotaModel::Bucket { capacity } => {
                let share = capacity.as_secs_f64() / 60.0;
                let cap = (
                    rpm.map_or(0.0, |r| r as f64 * share),
                    tpm.map_or(0.0, |t| t as f64 * share),
                );
                let (mut r, mut t, last) = usage.levels.unwrap_or((cap.0, cap.1, now));
                let dt = now.saturating_duration_since(last).as_secs_f64() / 60.0;
                r = (r + dt * rpm.unwrap_or(0) as f64).min(cap.0);
                t = (t + dt * tpm.unwrap_or(0) as f64).min(cap.1);
                // A request larger than the whole bucket fits a full one.
                let fits = rpm.is_none_or(|_| r >= 1.0)
                    && tpm.is_none_or(|_| t >= (tokens as f64).min(cap.1) && t > 0.0);
                if fits {
                    r -= 1.0;
                    t -= tokens as f64;
                }
                usage.levels = Some((r, t, now));
                fits
            }
        };
        if !fits {
            self.throttled += 1;
        }
        fits
    }
}

/// The tokens the service would reserve for `body`: its input words plus
/// its `maxTokens` times the output weight.
fn tokens(body: &Value, weight: u32) -> u64 {
    let max_tokens = body["inferenceConfig"]["maxTokens"].as_u64().unwrap_or(0);
    u64::from(crate::reply::request_words(body)) + max_tokens * u64::from(weight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn requests_per_minute_are_counted_per_model_over_a_sliding_window() {
        let mut meter = Meter::new(ServerQuota::new().requests_per_minute(2));
        let t0 = Instant::now();
        let body = json!({});
        assert!(meter.admit("a", &body, t0));
        assert!(meter.admit("a", &body, t0 + secs(30.0)));
        assert!(!meter.admit("a", &body, t0 + secs(59.0)));
        assert!(meter.admit("b", &body, t0 + secs(59.0)));
        assert!(meter.admit("a", &body, t0 + secs(60.0)));
        assert_eq!(meter.throttled, 1);
    }

    #[test]
    fn tokens_count_input_words_and_weighted_max_tokens() {
        let body = json!({
            "messages": [{"role": "user", "content": [{"text": "one two three"}]}],
            "inferenceConfig": {"maxTokens": 60}
        });
        let t0 = Instant::now();
        let mut meter = Meter::new(ServerQuota::new().tokens_per_minute(100));
        assert!(meter.admit("m", &body, t0));
        assert!(!meter.admit("m", &body, t0), "63 + 63 > 100");
        let quota = ServerQuota::new()
            .tokens_per_minute(400)
            .output_token_weight(5);
        let mut meter = Meter::new(quota);
        assert!(meter.admit("m", &body, t0), "3 + 5 × 60 = 303");
        assert!(!meter.admit("m", &body, t0 + secs(1.0)));
    }

    #[test]
    fn a_fixed_minute_starts_afresh_on_the_minute() {
        let quota = ServerQuota::new()
            .requests_per_minute(2)
            .model(QuotaModel::FixedMinute);
        let mut meter = Meter::new(quota);
        let t0 = Instant::now();
        meter.minute_origin = t0;
        let body = json!({});
        assert!(meter.admit("a", &body, t0 + secs(58.0)));
        assert!(meter.admit("a", &body, t0 + secs(59.0)));
        assert!(!meter.admit("a", &body, t0 + secs(59.9)));
        // A sliding window would refuse these two: both are within 60 s of
        // the first two.
        assert!(meter.admit("a", &body, t0 + secs(60.0)));
        assert!(meter.admit("a", &body, t0 + secs(61.0)));
        assert!(!meter.admit("a", &body, t0 + secs(119.0)));
        assert_eq!(meter.throttled, 2);
    }

    #[test]
    fn a_bucket_allows_its_capacity_at_once_then_its_refill_rate() {
        // 300 RPM, 10 s of capacity: 50 at once, then 5 a second.
        let quota = ServerQuota::new()
            .requests_per_minute(300)
            .model(QuotaModel::Bucket {
                capacity: Duration::from_secs(10),
            });
        let mut meter = Meter::new(quota);
        let t0 = Instant::now();
        let body = json!({});
        let burst = (0..100).filter(|_| meter.admit("a", &body, t0)).count();
        assert_eq!(burst, 50);
        assert!(!meter.admit("a", &body, t0 + secs(0.1)));
        assert!(meter.admit("a", &body, t0 + secs(0.2)));
        // A long pause refills it to its capacity, no more.
        let later = t0 + secs(600.0);
        let burst = (0..100).filter(|_| meter.admit("a", &body, later)).count();
        assert_eq!(burst, 50);
        // Another model has a bucket of its own.
        assert!(meter.admit("b", &body, t0 + secs(0.1)));
    }
}
