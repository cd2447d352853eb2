//! `Converser::from_env()` and the builder's escape hatches honour the
//! standard AWS settings as the AWS CLI and SDKs do. The environment is
//! process-wide, so this file holds one test that runs its scenarios in turn,
//! each with its own HOME (no real profile files are read) and with the EC2
//! metadata service disabled (nothing may probe the network).

use std::path::Path;

use bedrock_converse::{ConverseRequest, Converser, Error};
use bedrock_converse_mock::MockServer;

const VARS: &[&str] = &[
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
];

fn clean_env(home: &Path) {
    for v in VARS {
        std::env::remove_var(v);
    }
    std::env::set_var("HOME", home);
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
}

fn request() -> ConverseRequest {
    ConverseRequest::new("amazon.nova-lite-v1:0").user("hello")
}

/// The authorization header of the last request the server received.
fn last_auth(server: &MockServer) -> String {
    server
        .requests()
        .pop()
        .unwrap()
        .header("authorization")
        .unwrap()
        .to_string()
}

/// A scratch HOME with an empty `.aws`, removed when dropped.
struct TempHome(std::path::PathBuf);

impl std::ops::Deref for TempHome {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_home(tag: &str) -> TempHome {
    let dir =
        std::env::temp_dir().join(format!("bedrock-converse-env-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".aws")).unwrap();
    TempHome(dir)
}

#[test]
fn the_standard_aws_settings_are_honoured() {
    let server = MockServer::start().unwrap();

    // 1. Region, static keys with a session token, and the service-specific
    //    endpoint variable, which wins over the global one.
    let home = temp_home("vars");
    clean_env(&home);
    std::env::set_var("AWS_REGION", "eu-west-3");
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDFROMENV");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret-from-env");
    std::env::set_var("AWS_SESSION_TOKEN", "token-from-env");
    std::env::set_var("AWS_ENDPOINT_URL", "http://127.0.0.1:9"); // must lose
    std::env::set_var("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.endpoint());
    let c = Converser::from_env().unwrap();
    c.converse(&request()).unwrap();
    let sent = server.requests().pop().unwrap();
    let auth = sent.header("authorization").unwrap().to_string();
    assert!(auth.contains("Credential=AKIDFROMENV/"), "{auth}");
    assert!(auth.contains("/eu-west-3/bedrock/aws4_request"), "{auth}");
    assert_eq!(sent.header("x-amz-security-token"), Some("token-from-env"));

    // 2. The global endpoint variable alone.
    std::env::remove_var("AWS_ENDPOINT_URL_BEDROCK_RUNTIME");
    std::env::set_var("AWS_ENDPOINT_URL", server.endpoint());
    let before = server.request_count();
    Converser::from_env().unwrap().converse(&request()).unwrap();
    assert_eq!(server.request_count(), before + 1);

    // 3. A Bedrock API key: a bearer token instead of SigV4.
    std::env::set_var("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-123");
    Converser::from_env().unwrap().converse(&request()).unwrap();
    let sent = server.requests().pop().unwrap();
    assert_eq!(
        sent.header("authorization"),
        Some("Bearer bedrock-api-key-123")
    );
    std::env::remove_var("AWS_BEARER_TOKEN_BEDROCK");

    // 4. A named profile from the config and credentials files: region,
    //    keys and a service-specific endpoint all from the profile.
    let home = temp_home("profile");
    clean_env(&home);
    std::fs::write(
        home.join(".aws/config"),
        format!(
            "[default]\nregion = us-east-1\n\n[profile work]\nregion = ap-southeast-2\nservices = local\n\n[services local]\nbedrock_runtime =\n  endpoint_url = {}\n",
            server.endpoint()
        ),
    )
    .unwrap();
    std::fs::write(
        home.join(".aws/credentials"),
        "[work]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = secret-from-profile\n",
    )
    .unwrap();
    std::env::set_var("AWS_PROFILE", "work");
    assert!(bedrock_converse::client::credentials_configured());
    Converser::from_env().unwrap().converse(&request()).unwrap();
    let auth = last_auth(&server);
    assert!(auth.contains("Credential=AKIDFROMPROFILE/"), "{auth}");
    assert!(auth.contains("/ap-southeast-2/"), "{auth}");
    // The builder's `profile` overrides AWS_PROFILE.
    std::env::set_var("AWS_PROFILE", "nonexistent");
    Converser::builder()
        .profile("work")
        .build()
        .unwrap()
        .converse(&request())
        .unwrap();
    let auth = last_auth(&server);
    assert!(auth.contains("Credential=AKIDFROMPROFILE/"), "{auth}");

    // 5. No region anywhere: a clear configuration error, not a panic or a hang.
    let home = temp_home("none");
    clean_env(&home);
    let err = Converser::from_env().unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(!bedrock_converse::client::credentials_configured());

    // 6. The escape hatches: a shared SdkConfig, and a service Config.
    clean_env(&home);
    let shared = aws_config::SdkConfig::builder()
        .region(aws_config::Region::new("us-west-2"))
        .endpoint_url(server.endpoint())
        .credentials_provider(
            aws_sdk_bedrockruntime::config::SharedCredentialsProvider::new(
                aws_sdk_bedrockruntime::config::Credentials::new(
                    "AKIDSHARED",
                    "s",
                    None,
                    None,
                    "test",
                ),
            ),
        )
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    Converser::builder()
        .sdk_config(shared)
        .build()
        .unwrap()
        .converse(&request())
        .unwrap();
    let auth = last_auth(&server);
    assert!(
        auth.contains("Credential=AKIDSHARED/") && auth.contains("/us-west-2/"),
        "{auth}"
    );
    let service = aws_sdk_bedrockruntime::Config::builder()
        .region(aws_config::Region::new("ca-central-1"))
        .endpoint_url(server.endpoint())
        .credentials_provider(aws_sdk_bedrockruntime::config::Credentials::new(
            "AKIDSERVICE",
            "s",
            None,
            None,
            "test",
        ))
        .build();
    // Builder settings still override the base configuration.
    Converser::builder()
        .config(service)
        .region("sa-east-1")
        .build()
        .unwrap()
        .converse(&request())
        .unwrap();
    let auth = last_auth(&server);
    assert!(
        auth.contains("Credential=AKIDSERVICE/") && auth.contains("/sa-east-1/"),
        "{auth}"
    );
}
