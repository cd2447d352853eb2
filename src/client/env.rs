//! Questions about the AWS environment that can be answered without the
//! network.

use aws_runtime::env_config::file::EnvConfigFiles;
use aws_runtime::env_config::property::PropertiesKey;
use aws_types::os_shim_internal::{Env, Fs};

/// Profile keys that make a profile a source of credentials.
const CREDENTIAL_KEYS: &[&str] = &[
    "aws_access_key_id",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "role_arn",
    "web_identity_token_file",
    "login_session",
    "credential_source",
];

/// Whether AWS credentials are configured in this environment, decided the
/// way the AWS CLI's credential chain would, but **without the network**:
/// from the environment variables (`AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY`, `AWS_BEARER_TOKEN_BEDROCK`, web identity, container
/// credentials) and the selected profile (`AWS_PROFILE` or `default`) in
/// `~/.aws/config` / `~/.aws/credentials` (static keys, SSO, a credential
/// process, an assumed role).
///
/// It never asks the EC2 instance metadata service, so it says `false` on an
/// EC2 instance whose only credentials come from an instance role; programs
/// that want those should offer a way to insist (the examples take `--aws`).
///
/// ```
/// // Decides from the environment and profile files only: with static keys
/// // in the environment it says yes at once, without any network.
/// std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
/// std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret");
/// let started = std::time::Instant::now();
/// assert!(bedrock_converse::client::credentials_configured());
/// assert!(started.elapsed() < std::time::Duration::from_secs(1));
/// ```
pub fn credentials_configured() -> bool {
    credentials_configured_in(Env::real(), Fs::real())
}

fn set(env: &Env, name: &str) -> bool {
    env.get(name).map(|v| !v.trim().is_empty()).unwrap_or(false)
}

pub(crate) fn credentials_configured_in(env: Env, fs: Fs) -> bool {
    if set(&env, "AWS_ACCESS_KEY_ID") && set(&env, "AWS_SECRET_ACCESS_KEY") {
        return true;
    }
    if set(&env, "AWS_BEARER_TOKEN_BEDROCK") {
        return true;
    }
    if set(&env, "AWS_WEB_IDENTITY_TOKEN_FILE") && set(&env, "AWS_ROLE_ARN") {
        return true;
    }
    if set(&env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        || set(&env, "AWS_CONTAINER_CREDENTIALS_FULL_URI")
    {
        return true;
    }
    // Profile files are read with aws-config's own loader and parser, so
    // AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE count as
    // they do for the SDK. The loader is async: run it on a scratch runtime
    // on a scratch thread, so this works from inside an async context too.
    let job = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().build().ok()?;
        rt.block_on(aws_config::profile::load(
            &fs,
            &env,
            &EnvConfigFiles::default(),
            None,
        ))
        .ok()
    });
    let Ok(Some(profiles)) = job.join() else {
        return false;
    };
    let Some(profile) = profiles.get_profile(profiles.selected_profile()) else {
        return false;
    };
    CREDENTIAL_KEYS.iter().any(|k| profile.get(k).is_some())
}

/// The endpoint URL for Bedrock Runtime from the selected profile's
/// `services` section, under the documented key `bedrock_runtime`
/// (`[services NAME]` / `bedrock_runtime =` / `  endpoint_url = …`), as the AWS
/// CLI and the other SDKs read it. The Rust SDK itself looks only for
/// `bedrock-runtime`, so without this the documented form would be ignored.
/// `None` when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is set, or when either
/// endpoint environment variable is, since the documented precedence puts
/// environment variables before the shared config file.
pub(crate) async fn profile_services_endpoint(
    env: &Env,
    fs: &Fs,
    profile: Option<&str>,
) -> Option<String> {
    let truthy = |v: Option<String>| v.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if truthy(env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS").ok())
        || env.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME").is_ok()
        || env.get("AWS_ENDPOINT_URL").is_ok()
    {
        return None;
    }
    let profiles = aws_config::profile::load(
        fs,
        env,
        &EnvConfigFiles::default(),
        profile.map(|p| p.to_owned().into()),
    )
    .await
    .ok()?;
    if truthy(
        profiles
            .get("ignore_configured_endpoint_urls")
            .map(str::to_owned),
    ) {
        return None;
    }
    let section = profiles.get("services")?;
    let key = PropertiesKey::builder()
        .section_key("services")
        .section_name(section)
        .property_name("bedrock_runtime")
        .sub_property_name("endpoint_url")
        .build()
        .ok()?;
    profiles.other_sections().get(&key).map(|v| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(vars: &[(&str, &str)], files: &[(&str, &str)]) -> bool {
        credentials_configured_in(Env::from_slice(vars), Fs::from_slice(files))
    }

    #[test]
    fn environment_variables() {
        let home = [("HOME", "/home/u")];
        assert!(!check(&home, &[]));
        assert!(check(
            &[
                ("HOME", "/home/u"),
                ("AWS_ACCESS_KEY_ID", "A"),
                ("AWS_SECRET_ACCESS_KEY", "S")
            ],
            &[]
        ));
        assert!(!check(
            &[("HOME", "/home/u"), ("AWS_ACCESS_KEY_ID", "A")],
            &[]
        ));
        assert!(check(
            &[("HOME", "/home/u"), ("AWS_BEARER_TOKEN_BEDROCK", "tok")],
            &[]
        ));
        assert!(check(
            &[
                ("HOME", "/home/u"),
                ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/x")
            ],
            &[]
        ));
    }

    fn services_endpoint(vars: &[(&str, &str)], config: &str) -> Option<String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(profile_services_endpoint(
            &Env::from_slice(vars),
            &Fs::from_slice(&[("/home/u/.aws/config", config)]),
            None,
        ))
    }

    #[test]
    fn the_documented_services_key_is_read() {
        let config = "[default]\nservices = local\n[services local]\nbedrock_runtime =\n  endpoint_url = http://127.0.0.1:4566\n";
        let home = [("HOME", "/home/u")];
        assert_eq!(
            services_endpoint(&home, config).as_deref(),
            Some("http://127.0.0.1:4566")
        );
        // Environment variables win; the ignore switch turns it off.
        assert_eq!(
            services_endpoint(&[("HOME", "/home/u"), ("AWS_ENDPOINT_URL", "x")], config),
            None
        );
        assert_eq!(
            services_endpoint(
                &[
                    ("HOME", "/home/u"),
                    ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "x")
                ],
                config
            ),
            None
        );
        assert_eq!(
            services_endpoint(
                &[
                    ("HOME", "/home/u"),
                    ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
                ],
                config
            ),
            None
        );
        assert_eq!(
            services_endpoint(&home, "[default]\nregion = us-east-1\n"),
            None
        );
    }

    #[test]
    fn profiles() {
        let creds = "[default]\naws_access_key_id = A\naws_secret_access_key = S\n";
        assert!(check(
            &[("HOME", "/home/u")],
            &[("/home/u/.aws/credentials", creds)]
        ));
        let config = "[profile work]\nsso_session = corp\nregion = us-east-1\n[default]\nregion = us-west-2\n";
        assert!(!check(
            &[("HOME", "/home/u")],
            &[("/home/u/.aws/config", config)]
        ));
        assert!(check(
            &[("HOME", "/home/u"), ("AWS_PROFILE", "work")],
            &[("/home/u/.aws/config", config)]
        ));
    }
}
