//! The S3 and Bedrock control-plane clients, made from the `Converser`'s own
//! client configuration (region, HTTP client, retry and timeout settings)
//! and credentials provider, with their own endpoints.

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_bedrock::config::BehaviorVersion;
use aws_sdk_s3::config::RequestChecksumCalculation;

/// Endpoint overrides for the two services.
#[derive(Debug, Clone, Default)]
pub(super) struct Endpoints {
    pub(super) s3: Option<String>,
    pub(super) bedrock: Option<String>,
    /// Path-style S3 addressing; `None`: on when S3 has an endpoint override.
    pub(super) s3_path_style: Option<bool>,
}

/// The clients a job's operations use; cheap to clone.
#[derive(Debug, Clone)]
pub(super) struct Clients {
    pub(super) s3: aws_sdk_s3::Client,
    pub(super) bedrock: aws_sdk_bedrock::Client,
}

/// The endpoint of `service` from the environment, the way the AWS SDKs read
/// it: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, unless
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is `true`.
fn env_endpoint(service: &str) -> Option<String> {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return None;
    }
    set(&format!("AWS_ENDPOINT_URL_{service}")).or_else(|| set("AWS_ENDPOINT_URL"))
}

impl Clients {
    /// Both clients, sharing what the runtime's client has.
    pub(super) fn new(
        conf: &aws_sdk_bedrockruntime::Config,
        credentials: Option<SharedCredentialsProvider>,
        endpoints: &Endpoints,
    ) -> Clients {
        let mut s3 = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(conf.region().cloned())
            // A checksum only where S3 requires one: a plain PutObject body,
            // which every S3-compatible store takes.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired);
        let mut bedrock = aws_sdk_bedrock::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(conf.region().cloned());
        if let Some(credentials) = credentials {
            s3.set_credentials_provider(Some(credentials.clone()));
            bedrock.set_credentials_provider(Some(credentials));
        }
        if let Some(http) = conf.http_client() {
            s3.set_http_client(Some(http.clone()));
            bedrock.set_http_client(Some(http));
        }
        if let Some(sleep) = conf.sleep_impl() {
            s3.set_sleep_impl(Some(sleep.clone()));
            bedrock.set_sleep_impl(Some(sleep));
        }
        if let Some(time) = conf.time_source() {
            s3.set_time_source(Some(time.clone()));
            bedrock.set_time_source(Some(time));
        }
        if let Some(retry) = conf.retry_config() {
            s3.set_retry_config(Some(retry.clone()));
            bedrock.set_retry_config(Some(retry.clone()));
        }
        if let Some(timeouts) = conf.timeout_config() {
            s3.set_timeout_config(Some(timeouts.clone()));
            bedrock.set_timeout_config(Some(timeouts.clone()));
        }
        let s3_endpoint = endpoints.s3.clone().or_else(|| env_endpoint("S3"));
        let path_style = endpoints.s3_path_style.unwrap_or(s3_endpoint.is_some());
        if let Some(url) = s3_endpoint {
            s3 = s3.endpoint_url(url);
        }
        s3 = s3.force_path_style(path_style);
        if let Some(url) = endpoints
            .bedrock
            .clone()
            .or_else(|| env_endpoint("BEDROCK"))
        {
            bedrock = bedrock.endpoint_url(url);
        }
        Clients {
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            bedrock: aws_sdk_bedrock::Client::from_conf(bedrock.build()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_s_own_endpoint_variable_is_read_when_it_is_not_empty() {
        // A made-up service: no other test reads its variable. The shared
        // variables are read, not set (tests may share the process).
        let read = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let ignored = read("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let shared = read("AWS_ENDPOINT_URL").filter(|_| !ignored);
        let name = "AWS_ENDPOINT_URL_BEDROCK_CONVERSE_TEST";
        std::env::set_var(name, "http://127.0.0.1:4566");
        let own = Some("http://127.0.0.1:4566".to_owned()).filter(|_| !ignored);
        assert_eq!(env_endpoint("BEDROCK_CONVERSE_TEST"), own);
        // Set but empty: as if unset.
        std::env::set_var(name, "");
        assert_eq!(env_endpoint("BEDROCK_CONVERSE_TEST"), shared);
        std::env::remove_var(name);
        assert_eq!(env_endpoint("BEDROCK_CONVERSE_TEST"), shared);
    }
}
