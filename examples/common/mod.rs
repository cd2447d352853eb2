//! What the examples share: the `--region`, `--local` and `--aws` flags, and
//! the choice between real Bedrock and the bundled local server.
//!
//! Not an example itself: each example includes it with
//! `#[path = "common/mod.rs"] mod common;`.

use bedrock_converse::{Converser, ConverserBuilder};
use bedrock_converse_mock::MockServer;

/// Where an example sends its requests.
#[derive(Debug, Default)]
pub struct Target {
    /// `--region REGION`: overrides AWS_REGION and the profile.
    pub region: Option<String>,
    /// `--local`: always the bundled local server.
    pub local: bool,
    /// `--aws`: use the AWS configuration even when no credentials are visible.
    pub aws: bool,
}

/// A connected `Converser`, and the local server behind it if there is one
/// (kept alive as long as this value).
pub struct Backend {
    pub converser: Converser,
    _server: Option<MockServer>,
}

impl Target {
    /// Takes `arg` (and its value from `rest`) if it is one of these flags.
    pub fn parse_flag(
        &mut self,
        arg: &str,
        rest: &mut impl Iterator<Item = String>,
    ) -> Result<bool, String> {
        match arg {
            "--region" => self.region = Some(rest.next().ok_or("--region needs a value")?),
            "--local" => self.local = true,
            "--aws" => self.aws = true,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Real Bedrock when credentials are configured (decided from the
    /// environment and profile files, never by probing the network) or with
    /// `--aws`; otherwise, or with `--local`, the bundled local server, which
    /// `script` prepares. Says on stderr which it is.
    #[allow(dead_code)] // not every example uses it
    pub fn connect(&self, script: impl FnOnce(&MockServer)) -> Result<Backend, String> {
        self.connect_with(script, |builder| builder)
    }

    /// [`connect`](Target::connect), with `configure` applied to the
    /// builder either way (a quota, timeouts).
    #[allow(dead_code)] // not every example configures the builder
    pub fn connect_with(
        &self,
        script: impl FnOnce(&MockServer),
        configure: impl FnOnce(ConverserBuilder) -> ConverserBuilder,
    ) -> Result<Backend, String> {
        let local =
            self.local || (!self.aws && !bedrock_converse::client::credentials_configured());
        if !local {
            let mut builder = Converser::builder();
            if let Some(region) = &self.region {
                builder = builder.region(region.clone());
            }
            let converser = configure(builder).build().map_err(|e| e.to_string())?;
            return Ok(Backend {
                converser,
                _server: None,
            });
        }
        let server =
            MockServer::start().map_err(|e| format!("could not start the local server: {e}"))?;
        eprintln!(
            "{}; using the bundled local Bedrock-compatible server at {}",
            if self.local {
                "--local given"
            } else {
                "no AWS credentials found"
            },
            server.endpoint()
        );
        script(&server);
        let converser = configure(server.converser_builder())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Backend {
            converser,
            _server: Some(server),
        })
    }
}
