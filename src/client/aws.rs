//! AWS configuration assembly: the standard chain (environment, profiles,
//! credentials, endpoints, bearer tokens) the way the AWS CLI reads it, with
//! the builder's settings on top, into one SDK client.

use std::sync::{Arc, OnceLock};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_bedrockruntime::Client;

use super::builder::{Base, ConverserBuilder};
use crate::error::Error;

impl ConverserBuilder {
    /// Loads the configuration (on the runtime thread: the chain is async)
    /// and builds the clients: the builder's own, then one per
    /// [fallback](ConverserBuilder::fallback) target (the same
    /// configuration, credentials included, with the target's Region and
    /// endpoint). Fails with [`Error::Config`] without a region.
    /// The credentials provider the client ends up with, when it is known
    /// (not for a service config given whole), is left in `credentials_seen`
    /// for the other AWS clients a `Converser` may make.
    pub(super) async fn make_clients(
        self,
        credentials_seen: Arc<OnceLock<SharedCredentialsProvider>>,
    ) -> Result<Vec<Client>, Error> {
        let fallbacks = self.fallbacks;
        let mut seen = None;
        let mut conf = match self.base {
            Base::Service(config) => config.to_builder(),
            Base::Shared(shared) => {
                seen = shared.credentials_provider();
                aws_sdk_bedrockruntime::config::Builder::from(&*shared)
            }
            Base::Env => {
                let mut loader = aws_config::defaults(BehaviorVersion::latest());
                if let Some(profile) = &self.profile {
                    loader = loader.profile_name(profile);
                }
                if let Some(region) = &self.region {
                    loader = loader.region(Region::new(region.clone()));
                }
                if let Some(credentials) = &self.credentials {
                    loader = loader.credentials_provider(credentials.clone());
                }
                let sdk = loader.load().await;
                seen = sdk.credentials_provider();
                let mut conf = aws_sdk_bedrockruntime::config::Builder::from(&sdk);
                if self.endpoint_url.is_none() {
                    let (env, fs) = (
                        aws_types::os_shim_internal::Env::real(),
                        aws_types::os_shim_internal::Fs::real(),
                    );
                    if let Some(url) =
                        super::env::profile_services_endpoint(&env, &fs, self.profile.as_deref())
                            .await
                    {
                        conf = conf.endpoint_url(url);
                    }
                }
                conf
            }
        };
        if let Some(region) = self.region {
            conf = conf.region(Region::new(region));
        }
        if let Some(url) = self.endpoint_url {
            conf = conf.endpoint_url(url);
        }
        if let Some(credentials) = self.credentials {
            seen = Some(SharedCredentialsProvider::new(credentials.clone()));
            conf = conf.credentials_provider(credentials);
        }
        if let Some(credentials) = seen {
            let _ = credentials_seen.set(credentials);
        }
        if let Some(token) = self.bearer_token {
            conf = conf
                .bearer_token(aws_sdk_bedrockruntime::config::Token::new(token, None))
                .auth_scheme_preference([
                    aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID,
                ]);
        }
        if let Some(connect) = self.connect_timeout {
            conf = conf.timeout_config(TimeoutConfig::builder().connect_timeout(connect).build());
        }
        let retry = match (self.retry_config, self.max_attempts) {
            (Some(rc), Some(n)) => Some(rc.with_max_attempts(n)),
            (Some(rc), None) => Some(rc),
            (None, Some(n)) => Some(RetryConfig::standard().with_max_attempts(n)),
            (None, None) => None,
        };
        if let Some(retry) = retry {
            conf = conf.retry_config(retry);
        }
        if let Some(path) = self.record_to {
            conf = conf.interceptor(crate::recording::Recorder::create(path)?);
        }
        let conf = conf.build();
        if conf.region().is_none() {
            return Err(Error::config(
                "no AWS region: set AWS_REGION, a `region` in the profile, or ConverserBuilder::region",
            ));
        }
        let mut clients = vec![Client::from_conf(conf.clone())];
        for target in &fallbacks {
            let mut each = conf.to_builder();
            if let Some(region) = target.get_region() {
                // The builder's endpoint belongs to the builder's Region.
                each = each.region(Region::new(region.to_owned()));
                each.set_endpoint_url(None);
            }
            if let Some(url) = target.get_endpoint_url() {
                each = each.endpoint_url(url);
            }
            clients.push(Client::from_conf(each.build()));
        }
        Ok(clients)
    }
}
