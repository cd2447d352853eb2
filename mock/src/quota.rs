//! The server's quota mode: requests and tokens per minute per model, as
//! Bedrock enforces its on-demand quotas; past them a request is answered
//! with HTTP 429 `ThrottlingException` and takes no scripted reply.
//!
//! Each model has a sliding 60-second window. A request counts one request
//! and, like the service's reservation, its input words plus its
//! `inferenceConfig.maxTokens` as tokens (the mock does not correct the
//! charge by the reply's usage). A throttled request counts nothing.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The window a quota is counted over.
const WINDOW: Duration = Duration::from_secs(60);

/// Per-model limits for [`MockServer::set_quota`](crate::MockServer::set_quota).
///
/// ```
/// use bedrock_converse_mock::ServerQuota;
/// let quota = ServerQuota::new().requests_per_minute(300).tokens_per_minute(100_000);
/// assert_eq!(quota.requests_per_minute, Some(300));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerQuota {
    /// Requests per minute per model (`None`: no limit).
    pub requests_per_minute: Option<u32>,
    /// Tokens per minute per model (`None`: no limit).
    pub tokens_per_minute: Option<u32>,
}

impl ServerQuota {
    /// No limits yet.
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
}

/// What a quota-enforcing server has counted.
#[derive(Debug)]
pub(crate) struct Meter {
    quota: ServerQuota,
    /// Per model: when each admitted request came, and its tokens.
    windows: HashMap<String, VecDeque<(Instant, u64)>>,
    pub(crate) throttled: u64,
}

impl Meter {
    pub(crate) fn new(quota: ServerQuota) -> Self {
        Meter {
            quota,
            windows: HashMap::new(),
            throttled: 0,
        }
    }

    /// Whether `body`, a request for `model`, fits the quota now; counts it
    /// if it does.
    pub(crate) fn admit(&mut self, model: &str, body: &Value, now: Instant) -> bool {
        let tokens = tokens(body);
        let window = self.windows.entry(model.to_owned()).or_default();
        while window
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) >= WINDOW)
        {
            window.pop_front();
        }
        let requests = window.len() as u64;
        let used: u64 = window.iter().map(|(_, t)| t).sum();
        let over_requests = self
            .quota
            .requests_per_minute
            .is_some_and(|rpm| requests >= u64::from(rpm));
        let over_tokens = self
            .quota
            .tokens_per_minute
            .is_some_and(|tpm| used + tokens > u64::from(tpm));
        if over_requests || over_tokens {
            self.throttled += 1;
            return false;
        }
        window.push_back((now, tokens));
        true
    }
}

/// The tokens the service would reserve for `body`: its input words plus
/// its `maxTokens`.
fn tokens(body: &Value) -> u64 {
    let max_tokens = body["inferenceConfig"]["maxTokens"].as_u64().unwrap_or(0);
    u64::from(crate::reply::request_words(body)) + max_tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_per_minute_are_counted_per_model_over_a_sliding_window() {
        let mut meter = Meter::new(ServerQuota::new().requests_per_minute(2));
        let t0 = Instant::now();
        let body = json!({});
        assert!(meter.admit("a", &body, t0));
        assert!(meter.admit("a", &body, t0 + Duration::from_secs(30)));
        assert!(!meter.admit("a", &body, t0 + Duration::from_secs(59)));
        assert!(meter.admit("b", &body, t0 + Duration::from_secs(59)));
        assert!(meter.admit("a", &body, t0 + Duration::from_secs(60)));
        assert_eq!(meter.throttled, 1);
    }

    #[test]
    fn tokens_count_input_words_and_max_tokens() {
        let mut meter = Meter::new(ServerQuota::new().tokens_per_minute(100));
        let t0 = Instant::now();
        let body = json!({
            "messages": [{"role": "user", "content": [{"text": "one two three"}]}],
            "inferenceConfig": {"maxTokens": 60}
        });
        assert!(meter.admit("m", &body, t0));
        assert!(!meter.admit("m", &body, t0), "63 + 63 > 100");
    }
}
