//! Questions about the AWS environment that can be answered without the
//! network.

use aws_runtime::env_config::file::EnvConfigFiles;
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
/// // Decides quickly and never probes 169.254.169.254.
/// let _configured: bool = bedrock_converse::credentials_configured();
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
