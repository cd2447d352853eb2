//! [`ConverserBuilder`]: the settings a [`Converser`] is built with, and
//! the default time limits.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_credential_types::Credentials;

use super::runtime::Runtime;
use super::{Converser, Inner};
use crate::error::Error;

/// How long a stream may stay silent (before its first event or between two
/// events) unless [`ConverserBuilder::idle_timeout`] says otherwise.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How long [`Converser::converse`] waits for a whole reply when no total
/// [`ConverserBuilder::timeout`] is set.
pub const DEFAULT_CONVERSE_TIMEOUT: Duration = Duration::from_secs(600);

/// Where the SDK configuration starts from.
#[derive(Debug, Default)]
pub(crate) enum Base {
    /// The default AWS configuration chain.
    #[default]
    Env,
    Shared(Box<SdkConfig>),
    Service(Box<aws_sdk_bedrockruntime::Config>),
}

/// Settings for a [`Converser`]; start with [`Converser::builder`].
///
/// Anything not set comes from the standard AWS configuration chain (the same
/// environment variables and profile files the AWS CLI reads), or from the
/// configuration given to [`sdk_config`](ConverserBuilder::sdk_config) /
/// [`config`](ConverserBuilder::config).
///
/// ```no_run
/// use std::time::Duration;
/// use bedrock_converse::Converser;
///
/// let converser = Converser::builder()
///     .region("us-west-2")
///     .profile("bedrock")
///     .idle_timeout(Duration::from_secs(30))
///     .max_attempts(5)
///     .build()?;
/// # Ok::<(), bedrock_converse::Error>(())
/// ```
#[derive(Default)]
#[must_use]
pub struct ConverserBuilder {
    pub(super) base: Base,
    pub(super) region: Option<String>,
    pub(super) profile: Option<String>,
    pub(super) endpoint_url: Option<String>,
    pub(super) credentials: Option<Credentials>,
    pub(super) bearer_token: Option<String>,
    pub(super) connect_timeout: Option<Duration>,
    pub(super) timeout: Option<Duration>,
    pub(super) idle_timeout: Option<Duration>,
    pub(super) retry_config: Option<RetryConfig>,
    pub(super) max_attempts: Option<u32>,
    pub(super) record_to: Option<std::path::PathBuf>,
    pub(super) quota: Option<crate::client::limiter::Quota>,
    pub(super) fallbacks: Vec<super::Target>,
}

impl fmt::Debug for ConverserBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConverserBuilder")
            .field("base", &self.base)
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("endpoint_url", &self.endpoint_url)
            // `Credentials`' own Debug redacts the secret parts.
            .field("credentials", &self.credentials)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "** redacted **"),
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("retry_config", &self.retry_config)
            .field("max_attempts", &self.max_attempts)
            .field("record_to", &self.record_to)
            .field("quota", &self.quota)
            .field("fallbacks", &self.fallbacks)
            .finish()
    }
}

impl ConverserBuilder {
    /// The AWS region, e.g. `"us-east-1"` (overrides `AWS_REGION` and profiles).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The named profile to read from `~/.aws/config` and `~/.aws/credentials`
    /// (overrides `AWS_PROFILE`).
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// A custom endpoint, e.g. a VPC endpoint or a local test server
    /// (overrides `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` and `AWS_ENDPOINT_URL`).
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    /// Static credentials, instead of the default credential chain.
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        self.credentials = Some(Credentials::new(
            access_key_id,
            secret_access_key,
            session_token,
            None,
            "bedrock-converse",
        ));
        self
    }

    /// A Bedrock API key, sent as a bearer token instead of SigV4 signing
    /// (what `AWS_BEARER_TOKEN_BEDROCK` does from the environment).
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

    /// Start from a shared `SdkConfig` (e.g. one your program already loaded
    /// with `aws_config`) instead of the default chain. Settings given to this
    /// builder still override it.
    pub fn sdk_config(mut self, config: SdkConfig) -> Self {
        self.base = Base::Shared(Box::new(config));
        self
    }

    /// Start from a complete Bedrock Runtime client configuration. Settings
    /// given to this builder still override it.
    pub fn config(mut self, config: aws_sdk_bedrockruntime::Config) -> Self {
        self.base = Base::Service(Box::new(config));
        self
    }

    /// The longest to wait for a TCP/TLS connection (the SDK's default is 3.1 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// A total deadline for each call, from the call to its last event
    /// (default: none for streams, [`DEFAULT_CONVERSE_TIMEOUT`] for
    /// [`Converser::converse`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The longest a stream may stay silent, before its first event or between
    /// two events, before the call fails with a timeout (default
    /// [`DEFAULT_IDLE_TIMEOUT`]). Long replies are fine: only silence counts.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// The SDK's retry policy (standard or adaptive mode, attempts, back-off).
    /// Retries happen only before a stream's first event, never after.
    pub fn retry_config(mut self, config: RetryConfig) -> Self {
        self.retry_config = Some(config);
        self
    }

    /// The most attempts per call, including the first (the SDK default is 3;
    /// 1 disables retries).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Records every HTTP exchange (request path and body, response status,
    /// headers and body; for streams the raw event-stream bytes, teed as they
    /// arrive) to a JSON file that `bedrock_converse_mock::Replay` (the `bedrock-converse-mock` crate) can serve
    /// back. The file is created (or truncated) by
    /// [`build`](ConverserBuilder::build) and rewritten as each exchange ends.
    /// Credentials never reach it: request headers (`authorization`,
    /// `x-amz-security-token`, …) are not written. Recording changes nothing
    /// the caller sees, and adds no latency to streams.
    ///
    /// ```no_run
    /// use bedrock_converse::Converser;
    /// let converser = Converser::builder()
    ///     .region("us-east-1")
    ///     .record_to("tests/recordings/haiku.json")
    ///     .build()?;
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    pub fn record_to(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.record_to = Some(path.into());
        self
    }

    /// Keeps this `Converser`'s calls (all clones, all threads) within your
    /// Bedrock on-demand quotas for the model: requests and tokens per
    /// minute. A call waits for room before it is sent, reserving its input
    /// (estimated from its text) and its `max_tokens` as the service does;
    /// the reply's usage then corrects the reservation. A throttled call
    /// lowers the rate, which recovers gradually. The wait honours the
    /// request's [`CancelToken`](crate::CancelToken) and the total
    /// [`timeout`](ConverserBuilder::timeout); see
    /// [`Converser::limiter_stats`]. Applies to every call; a spawned call
    /// waits on the runtime thread, so [`spawn`](Converser::spawn) still
    /// returns at once (and its handle's cancel ends the wait).
    ///
    /// ```no_run
    /// use bedrock_converse::{client::Quota, Converser};
    /// let converser = Converser::builder()
    ///     .quota(Quota::new().requests_per_minute(300).tokens_per_minute(200_000))
    ///     .build()?;
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    pub fn quota(mut self, quota: crate::client::limiter::Quota) -> Self {
        self.quota = Some(quota);
        self
    }

    /// Adds a target to fail over to, after the builder's own (whose Region,
    /// endpoint and [`quota`](ConverserBuilder::quota) with the request's
    /// model id are target 0) and the fallbacks added before it. Each
    /// target has an SDK client of its own (on the same runtime thread, with
    /// the same credentials) and a quota limiter of its own.
    ///
    /// A call goes to the first target that is not cooling down and has room
    /// under its quota now (if none has room now, to the one where room
    /// comes soonest). A throttle, `ServiceUnavailableException`,
    /// `ModelNotReadyException` or other 5xx that arrives before anything
    /// reached the handler (after the SDK's own retries at that target: with
    /// [`max_attempts(1)`](ConverserBuilder::max_attempts) a call moves on
    /// its first throttle) moves the call to
    /// the next target, with that target's model id; a stream that delivered
    /// anything, and a 400, are never moved. A target that answered with a
    /// capacity error is skipped for a while (from 1 s, doubling on repeats,
    /// up to 60 s), then probed again; traffic returns to the first target as
    /// soon as it answers. When every target fails, the call ends with the
    /// last error, except that a refusal from the last target (a 4xx, or a
    /// request its model cannot take) after an earlier target's throttle
    /// ends it with that throttle, which a caller may retry.
    /// [`Response::answered_by`](crate::Response::answered_by)
    /// names the target that answered, and [`Converser::target_stats`]
    /// counts calls, failovers and throttles per target.
    ///
    /// ```no_run
    /// use bedrock_converse::client::{Quota, Target};
    /// use bedrock_converse::Converser;
    /// let converser = Converser::builder()
    ///     .region("us-east-1")
    ///     .quota(Quota::new().requests_per_minute(150))
    ///     .fallback(Target::new().model_id("us.amazon.nova-pro-v1:0").quota(Quota::new().requests_per_minute(150)))
    ///     .fallback(Target::new().region("us-west-2"))
    ///     .build()?;
    /// # Ok::<(), bedrock_converse::Error>(())
    /// ```
    pub fn fallback(mut self, target: super::Target) -> Self {
        self.fallbacks.push(target);
        self
    }

    /// Starts the runtime thread, loads the configuration there and builds the
    /// SDK clients.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if no region is configured, a setting is unusable
    /// (e.g. the [`record_to`](ConverserBuilder::record_to) file cannot be
    /// created), or the thread cannot start.
    pub fn build(self) -> Result<Converser, Error> {
        let timeout = self.timeout;
        let idle_timeout = self.idle_timeout.unwrap_or(DEFAULT_IDLE_TIMEOUT);
        let mut router = super::target::Router::new(self.quota, &self.fallbacks);
        let credentials = Arc::new(std::sync::OnceLock::new());
        let seen = credentials.clone();
        let runtime = Runtime::start(move || self.make_clients(seen))?;
        router.set_regions(runtime.regions().to_vec());
        Ok(Converser {
            inner: Arc::new(Inner {
                runtime,
                credentials,
                router: Arc::new(router),
                timeout,
                idle_timeout,
                fallback: Default::default(),
            }),
        })
    }
}
